"""The race of notebook 07 on the 2-D landscapes: every runner tuned on the same grid.

A runner is a step function of the course (the student's own, or one from
``descentlab.torch_steps``), the name of its one momentum-like knob, and the
hyperparameters it keeps fixed. :func:`race` runs every (landscape, start, lr) of the grid
as one stack of points, so each update is one call of the step function for the whole
grid (and one per value of the knob), and scores each run like notebook 05: the first
update after which f - f* stays below ``tol`` for ``window`` updates in a row.
"""
import inspect
from dataclasses import dataclass, field

import numpy as np

from descentlab.adam_problems import settled
from descentlab.landscapes import Quadratic, Rosenbrock
from descentlab.runner import STEP_COUNTER, state_names


@dataclass
class Runner:
    """One optimizer in the race.

    knob: the hyperparameter tuned beside lr (``"beta"``, ``"beta1"``); fixed: the others;
    init: start values of state arguments that must not start at zero (NAdam's
    ``mu_product`` starts at 1.0, the empty product)."""
    name: str
    step: object
    knob: str
    fixed: dict = field(default_factory=dict)
    init: dict = field(default_factory=dict)


def stacked_grad(land, X):
    """Exact gradient of ``land`` at every point of a stack ``X`` of shape (..., 2).

    ``Landscape.grad`` takes one point; the race needs a whole grid at once."""
    X = np.asarray(X, dtype=float)
    if isinstance(land, Quadratic):
        return X @ land.A  # A is symmetric
    if isinstance(land, Rosenbrock):
        x0, x1 = X[..., 0], X[..., 1]
        inner = x1 - x0 * x0
        return np.stack([-2 * (land.a - x0) - 4 * land.b * x0 * inner, 2 * land.b * inner], axis=-1)
    base = getattr(land, "base", None)  # adam_problems.Scaled
    if base is not None:
        return land.c * stacked_grad(base, X)
    raise TypeError(f"no stacked gradient for {land.name}")


def _call(step, takes_t, x, g, state, t, lr, hyper):
    """One update of every run of the stack, each with its own lr (an array that broadcasts
    against x): the step is called once at lr = 1 and each run's move scaled by its lr, exact
    for the course's steps without weight decay, whose move is lr times a direction and
    whose state does not depend on lr (``runner.step_per_lr``)."""
    extra = {STEP_COUNTER: t} if takes_t else {}
    out = step(x, g, *state, **extra, lr=1.0, **hyper)
    x1, *rest = out if state else (out,)
    return x - lr * (x - np.asarray(x1, dtype=float)), rest


def race(runners, landscapes, starts, lrs, knobs, steps, tol=1e-6, window=100):
    """{runner name: scores of shape (landscapes, starts, lrs, knobs)}: the first update
    after which f - f* stays below ``tol`` for ``window`` updates, -1 where it does not.

    ``starts`` has shape (landscapes, n_starts, 2): one set of starts per landscape."""
    starts = np.asarray(starts, dtype=float)
    lrs, knobs = np.asarray(lrs, dtype=float), np.asarray(knobs, dtype=float)
    n_land, n_start = starts.shape[:2]
    X0 = np.broadcast_to(starts[:, :, None, :], (n_land, n_start, len(lrs), 2)).copy()
    lr = lrs[None, None, :, None]
    f_min = np.array([land.f_min for land in landscapes])[:, None, None]

    def grad(X):
        out = np.empty_like(X)
        for k, land in enumerate(landscapes):
            out[k] = stacked_grad(land, X[k])
        return out

    def gap(X):
        out = np.empty(X.shape[:-1])
        for k, land in enumerate(landscapes):
            out[k] = land.f(X[k])
        return out - f_min

    scores = {}
    with np.errstate(over="ignore", invalid="ignore"):
        for r in runners:
            names = state_names(r.step, {**r.fixed, r.knob: 0.0, "lr": 1.0})
            takes_t = STEP_COUNTER in inspect.signature(r.step).parameters
            per_knob = []
            for k in knobs:
                X = X0
                state = [r.init[n] if n in r.init else np.zeros_like(X0) for n in names]
                gaps = [gap(X)]
                for t in range(1, steps + 1):
                    X, state = _call(r.step, takes_t, X, grad(X), state, t, lr, {**r.fixed, r.knob: float(k)})
                    gaps.append(gap(X))
                per_knob.append(settled(np.array(gaps), tol, window))
            scores[r.name] = np.stack(per_knob, axis=-1)
    return scores


def worst_start(scores):
    """Scores over the starts combined: the slowest start's, -1 if any start does not settle.
    Input (..., starts, lrs, knobs), output (..., lrs, knobs)."""
    s = np.asarray(scores)
    return np.where((s < 0).any(axis=-3), -1, s.max(axis=-3))


def best_setting(score):
    """(score, lr index, knob index) of the best run of a (lrs, knobs) grid, None if none settles."""
    s = np.where(score < 0, np.iinfo(int).max, score)
    i, j = np.unravel_index(np.argmin(s), s.shape)
    return None if score[i, j] < 0 else (int(score[i, j]), int(i), int(j))


def inside(found, n_lrs, n_knobs):
    """True when a best setting lies strictly inside both grids."""
    return found is not None and 0 < found[1] < n_lrs - 1 and 0 < found[2] < n_knobs - 1
