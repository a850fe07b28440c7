"""A matrix problem for notebook 07's Muon experiment, and the figures that go with it.

Least squares for a weight matrix W (rows x dim) on inputs A (dim x n) whose singular
values span decades:

    f(W) = ||W A - B||_F^2 / (2 n),   B = W* A,   so f* = 0 at W = W*.

Its Hessian acts on every row of W as A A^T / n, with eigenvalues s_j^2 (the input's
singular values s_j, scaled by sqrt(n)). A direction u_j of the input with a small s_j
has a gradient s_j^2 times smaller than a strong one, so gradient descent learns it
last: the loss barely notices (it weighs that direction by s_j^2), but W stays far from
W* there. Orthogonalising the update gives every singular direction of the gradient a
step of the same size.

Step functions have the course's form ``step(x, g, *state, **hyper)`` with x a 2-D
array; :func:`run_matrix` starts every state at zero and passes t to steps that take it,
as ``descentlab.run`` does on the landscapes.
"""
import inspect
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from descentlab.colors import marker, style
from descentlab.display import show_figure
from descentlab.runner import STEP_COUNTER, state_names


class LeastSquares:
    """f(W) = ||W A - B||_F^2 / (2n) with B = W* A, exact gradient (W A - B) A^T / n.

    The input's singular values are ``s = geomspace(1, s_min, dim)`` (times sqrt(n),
    so that the Hessian's eigenvalues are s^2): ``s_min = 1e-3`` spans three decades
    (a Hessian condition number of 1e6), ``s_min`` near 1 is a well-conditioned control.
    ``seed`` draws the input's singular vectors and W*."""

    def __init__(self, rows=10, dim=20, n=200, s_min=1e-3, seed=0):
        if n < dim:
            raise ValueError(f"n = {n} examples cannot give {dim} independent input directions")
        rng = np.random.default_rng(seed)
        self.rows, self.dim, self.n, self.s_min, self.seed = rows, dim, n, float(s_min), seed
        U, _ = np.linalg.qr(rng.normal(size=(dim, dim)))
        V, _ = np.linalg.qr(rng.normal(size=(n, dim)))
        self.s = np.geomspace(1.0, self.s_min, dim)
        self.U = U  # column j: the input direction u_j, with singular value s[j]
        self.A = np.sqrt(n) * (U * self.s) @ V.T
        self.W_star = rng.normal(size=(rows, dim))
        self.B = self.W_star @ self.A
        self.H = self.A @ self.A.T / n   # the Hessian acting on each row of W: U diag(s^2) U^T
        self._norm_star = float(np.linalg.norm(self.W_star))
        self.name = f"least squares {rows}x{dim}, input singular values 1 to {self.s_min:g}"

    def f(self, W):
        return self.loss_and_grad(W)[0]

    def grad(self, W):
        return self.loss_and_grad(W)[1]

    def loss_and_grad(self, W):
        """(f(W), grad f(W)), both from E = W - W*: f = tr(E H E^T) / 2 and grad = E H with
        H = A A^T / n. Written in E, f keeps its accuracy down to 1e-30 near the minimum,
        where ||W A - B||^2 would lose it to cancellation no sooner (and costs rows x n x dim)."""
        E = np.asarray(W, dtype=float) - self.W_star
        G = E @ self.H
        return float(np.sum(G * E) / 2), G

    def error(self, W):
        """||W - W*||_F / ||W*||_F: how far the weights are from the solution (0 there, 1 at W = 0)."""
        return float(np.linalg.norm(np.asarray(W, dtype=float) - self.W_star) / self._norm_star)

    def direction_errors(self, W):
        """For each input direction u_j (strongest first): ||(W - W*) u_j|| / ||W* u_j||."""
        E = (np.asarray(W, dtype=float) - self.W_star) @ self.U
        return np.linalg.norm(E, axis=0) / np.linalg.norm(self.W_star @ self.U, axis=0)

    def __repr__(self):
        return self.name


def least_squares(rows=10, dim=20, n=200, s_min=1e-3, seed=0):
    return LeastSquares(rows, dim, n, s_min, seed)


@dataclass
class MatrixRun:
    losses: np.ndarray   # (steps + 1,): f at the start and after each update
    errors: np.ndarray   # (steps + 1,): ||W - W*||_F / ||W*||_F likewise
    W: np.ndarray        # the weights after the last update
    state: list          # the step's state after the last update (Muon's momentum buffer, ...)

    @property
    def diverged(self):
        return not np.all(np.isfinite(self.losses))


def run_matrix(step, problem, steps, W0=None, **hyper):
    """Apply ``step`` for ``steps`` updates from ``W0`` (zeros unless given) on ``problem``.

    A run that overflows is kept as it is (inf and nan included), like ``descentlab.run``."""
    W = np.zeros((problem.rows, problem.dim)) if W0 is None else np.array(W0, dtype=float)
    names = state_names(step, hyper)
    takes_t = STEP_COUNTER in inspect.signature(step).parameters
    state = [np.zeros_like(W) for _ in names]
    losses, errors = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 2):
            loss, g = problem.loss_and_grad(W)
            losses.append(loss)
            errors.append(problem.error(W))
            if t > steps:
                break
            extra = {STEP_COUNTER: t} if takes_t else {}
            out = step(W, g, *state, **extra, **hyper)
            if names:
                W, *state = out
            else:
                W = out
            W = np.asarray(W, dtype=float)
    return MatrixRun(np.array(losses), np.array(errors), W, state)


def tune(step, problems, steps, lrs, knob=None, knob_values=(None,), score="error", stacked=False, **fixed):
    """Every (lr, knob value) of the grid on every problem: an array (problems, lrs, knobs) of
    the final ``score`` ("error": ||W - W*||_F / ||W*||_F, "loss": f), inf where a run diverges
    (overflows, or ends with a loss above its start).

    stacked: run all the learning rates at once, as one stack of weights, calling ``step``
    once per update at lr = 1 and scaling each run's move by its own lr. That is the same
    run for an elementwise step whose move is lr times a direction and whose state does not
    depend on lr (momentum, Adam, without weight decay; ``descentlab.step_per_lr``), and it
    makes a torch-backed step (``descentlab.torch_steps``) one call per update instead of
    one per learning rate. Not for Muon: its Newton-Schulz works on one matrix at a time."""
    out = np.full((len(problems), len(lrs), len(knob_values)), np.inf)
    for p, problem in enumerate(problems):
        for j, k in enumerate(knob_values):
            hyper = {**fixed, **({} if knob is None else {knob: float(k)})}
            if stacked:
                losses, errors = _stacked_runs(step, problem, steps, np.asarray(lrs, dtype=float), **hyper)
                runs = [(losses[:, i], errors[:, i]) for i in range(len(lrs))]
            else:
                runs = []
                for lr in lrs:
                    r = run_matrix(step, problem, steps, lr=float(lr), **hyper)
                    runs.append((r.losses, r.errors))
            for i, (rl, re) in enumerate(runs):
                value = (re if score == "error" else rl)[-1]
                if np.all(np.isfinite(rl)) and np.isfinite(value) and rl[-1] <= rl[0]:
                    out[p, i, j] = value
    return out


def _stacked_runs(step, problem, steps, lrs, **hyper):
    """Losses and errors (steps + 1, len(lrs)) of one run per learning rate, run as a stack."""
    W = np.zeros((len(lrs), problem.rows, problem.dim))
    names = state_names(step, {**hyper, "lr": 1.0})
    takes_t = STEP_COUNTER in inspect.signature(step).parameters
    state = [np.zeros_like(W) for _ in names]
    scale = lrs[:, None, None]
    losses, errors = [], []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 2):
            E = W - problem.W_star
            G = E @ problem.H
            losses.append(np.sum(G * E, axis=(1, 2)) / 2)
            errors.append(np.linalg.norm(E, axis=(1, 2)) / problem._norm_star)
            if t > steps:
                break
            extra = {STEP_COUNTER: t} if takes_t else {}
            out = step(W, G, *state, **extra, lr=1.0, **hyper)
            W1, *state = out if names else (out,)
            W = W - scale * (W - np.asarray(W1, dtype=float))
    return np.array(losses), np.array(errors)


def best_on_grid(scores):
    """(worst score over the problems, lr index, knob index) of the grid point whose worst
    problem does best: one setting for all seeds, as a practitioner would pick it."""
    worst = np.max(scores, axis=0)
    i, j = np.unravel_index(np.argmin(worst), worst.shape)
    return float(worst[i, j]), int(i), int(j)


def singular_values(M):
    """Singular values of a 2-D array, largest first."""
    return np.linalg.svd(np.asarray(M, dtype=float), compute_uv=False)


def singular_values_figure(updates, title=None, figsize=(6.5, 3.6)):
    """Singular values (largest first) of each update in ``{label: 2-D array}``, on a log axis,
    with the value 1 drawn: a raw gradient spans decades, an orthogonalised one sits near 1."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.subplots()
    shapes = ["o", "s", "^", "D", "v"]
    colors = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#555555"]
    for k, (label, M) in enumerate(updates.items()):
        s = singular_values(M)
        ax.semilogy(np.arange(1, len(s) + 1), s, marker=shapes[k % 5], color=colors[k % 5], lw=1.2, ms=5,
                    label=label)
    ax.axhline(1.0, color="0.5", lw=0.8, ls=":")
    ax.set_xlabel("index of the singular value (largest first)")
    ax.set_ylabel("singular value")
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def show_singular_values(updates, title=None, figsize=(6.5, 3.6)):
    return show_figure(singular_values_figure(updates, title, figsize))


def runs_figure(runs, problem=None, title=None, figsize=(11, 3.6)):
    """Loss and weight error against the update for each run in ``{optimizer name: MatrixRun}``;
    with ``problem``, a third panel: the error left along each input direction at the end."""
    fig = Figure(figsize=figsize, layout="constrained")
    axes = fig.subplots(1, 3 if problem is not None else 2)
    for name, r in runs.items():
        st = style(name)
        every = max(1, len(r.losses) // 10)
        axes[0].semilogy(r.losses, lw=1.5, marker=marker(name), ms=4, markevery=every, label=name, **st)
        axes[1].semilogy(r.errors, lw=1.5, marker=marker(name), ms=4, markevery=every, label=name, **st)
        if problem is not None:
            axes[2].loglog(problem.s, problem.direction_errors(r.W), lw=1.2, marker=marker(name), ms=4,
                           label=name, **st)
    axes[0].set_ylabel("loss f(W)  (f* = 0)")
    axes[1].set_ylabel("||W - W*|| / ||W*||")
    for ax in axes[:2]:
        ax.set_xlabel("update")
    if problem is not None:
        axes[2].set_xlabel("singular value s_j of the input direction")
        axes[2].set_ylabel("error left along u_j")
        axes[2].invert_xaxis()
    for ax in axes:
        ax.grid(True, which="major", alpha=0.3)
    axes[0].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def show_runs(runs, problem=None, title=None, figsize=(11, 3.6)):
    return show_figure(runs_figure(runs, problem, title, figsize))
