"""How fast momentum converges on a quadratic: the theory, and a measurement to hold it against.

On f(x) = 1/2 x^T A x, write the error in A's eigenbasis. Each eigen-direction with
eigenvalue lam is then a separate two-term recurrence: for PyTorch's heavy ball
(v <- beta v + g, x <- x - lr v), with a = lr lam,

    e_{t+1} = (1 + beta - a) e_t - beta e_{t-1},

a damped oscillator whose characteristic polynomial is z^2 - (1 + beta - a) z + beta.
PyTorch's Nesterov (x <- x - lr (g + beta v_new)) gives z^2 - (1 + beta)(1 - a) z + beta (1 - a).
The error in that direction shrinks like rho^t, where rho is the larger modulus of the
two roots (the spectral radius of the 2x2 iteration matrix). Two complex roots have
modulus sqrt(det): then the direction rings, and decays at sqrt(beta) for the heavy ball
whatever lr is. A repeated root is critical damping.

Everything here is closed form and vectorised: ``rates`` takes arrays of lr, beta and
lam that broadcast. ``measured_rate`` runs any step function and fits the rate on its
tail, with nothing of the theory in it: the tests hold the two against each other.
"""
import inspect

import numpy as np

from descentlab.runner import STEP_COUNTER, state_names

METHODS = ("heavy ball", "Nesterov")


def _char_poly(method, a, beta):
    """(trace, det) of the 2x2 iteration matrix of one eigen-direction, a = lr * lam."""
    if method == "heavy ball":
        return 1.0 + beta - a, beta + 0.0 * a
    if method == "Nesterov":
        return (1.0 + beta) * (1.0 - a), beta * (1.0 - a)
    raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def spectral_radius(trace, det):
    """The larger modulus of the roots of z^2 - trace z + det (arrays, elementwise)."""
    trace, det = np.asarray(trace, dtype=float), np.asarray(det, dtype=float)
    disc = trace * trace - 4.0 * det
    real = 0.5 * (np.abs(trace) + np.sqrt(np.maximum(disc, 0.0)))
    return np.where(disc < 0, np.sqrt(np.abs(det)), real)


def rates(method, lr, beta, lam):
    """The linear rate of ``method`` in the direction of eigenvalue ``lam`` (broadcasting)."""
    lr, beta, lam = (np.asarray(v, dtype=float) for v in (lr, beta, lam))
    return spectral_radius(*_char_poly(method, lr * lam, beta))


def worst_rate(method, lr, beta, eigenvalues):
    """The worst rate over ``eigenvalues`` (a 1-D array): what an error from a generic start
    shows in the long run. lr and beta broadcast with each other."""
    lam = np.asarray(eigenvalues, dtype=float)
    lr, beta = np.broadcast_arrays(np.asarray(lr, dtype=float), np.asarray(beta, dtype=float))
    return rates(method, lr[..., None], beta[..., None], lam).max(axis=-1)


def rate_grid(method, lrs, betas, eigenvalues):
    """The worst rate on the grid: shape (len(betas), len(lrs)), rows are beta (an image)."""
    return worst_rate(method, np.asarray(lrs)[None, :], np.asarray(betas)[:, None], eigenvalues)


def stable_lr(method, beta, L):
    """The largest stable lr at ``beta``: rates are below 1 for every eigenvalue up to L
    exactly when lr is below it. Heavy ball 2 (1 + beta) / L; Nesterov 2 (1 + beta) / ((1 + 2 beta) L)."""
    beta = np.asarray(beta, dtype=float)
    if method == "heavy ball":
        return 2.0 * (1.0 + beta) / L
    if method == "Nesterov":
        return 2.0 * (1.0 + beta) / ((1.0 + 2.0 * beta) * L)
    raise ValueError(f"method must be one of {METHODS}, not {method!r}")


def critical_beta(method, lr, lam):
    """The beta at which the direction of eigenvalue ``lam`` is critically damped (a repeated
    root): heavy ball (1 - sqrt(lr lam))^2, Nesterov (1 - sqrt(lr lam)) / (1 + sqrt(lr lam)).
    NaN where no beta in [0, 1) damps it critically."""
    s = np.sqrt(np.asarray(lr, dtype=float) * lam)
    with np.errstate(invalid="ignore", divide="ignore"):
        beta = (1.0 - s) ** 2 if method == "heavy ball" else (1.0 - s) / (1.0 + s)
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, not {method!r}")
    return np.where((beta >= 0) & (beta < 1), beta, np.nan)


def best_gd(mu, L):
    """(lr, rate) of the best constant-step gradient descent: 2 / (mu + L), (L - mu) / (L + mu)."""
    return 2.0 / (mu + L), (L - mu) / (L + mu)


def polyak(mu, L):
    """(lr, beta, rate) of Polyak's heavy ball, where the two extreme directions are both
    critically damped: 4 / (sqrt L + sqrt mu)^2, ((sqrt k - 1) / (sqrt k + 1))^2, sqrt(beta)."""
    rk = np.sqrt(L / mu)
    return 4.0 / (np.sqrt(mu) + np.sqrt(L)) ** 2, ((rk - 1) / (rk + 1)) ** 2, (rk - 1) / (rk + 1)


def nesterov_best(mu, L):
    """(lr, beta, rate) of the best Nesterov on a quadratic (Lessard, Recht and Packard 2016):
    4 / (3 L + mu), (sqrt(3k + 1) - 2) / (sqrt(3k + 1) + 2), 1 - 2 / sqrt(3k + 1)."""
    r = np.sqrt(3.0 * L / mu + 1.0)
    return 4.0 / (3.0 * L + mu), (r - 2.0) / (r + 2.0), 1.0 - 2.0 / r


# -- measured
def _norms_of_state(errors):
    """||(e_t, e_{t-1})|| for t >= 1: the state of a two-term recurrence. The norm of e_t
    alone passes near zero twice a period when a direction rings; the pair does not."""
    e = np.asarray(errors, dtype=float).reshape(len(errors), -1)
    return np.sqrt((e[1:] ** 2).sum(axis=1) + (e[:-1] ** 2).sum(axis=1))


def tail_rate(log_norms, tail=0.5):
    """The rate per step fitted (least squares on the log) over the last ``tail`` of a run's
    log norms; NaN when fewer than 10 finite points are left."""
    y = np.asarray(log_norms, dtype=float)
    keep = np.isfinite(y)
    y, t = y[keep], np.nonzero(keep)[0]
    start = int(len(y) * (1.0 - tail))
    y, t = y[start:], t[start:]
    if len(y) < 10:
        return float("nan")
    slope = np.polyfit(t.astype(float), y, 1)[0]
    return float(np.exp(slope))


def path_rate(xs, minimum, tail=0.5, floor=1e-280):
    """The rate fitted on the tail of a path ``xs`` (steps + 1, dim) that converges to
    ``minimum``: points whose error is below ``floor`` (underflow) or not finite are left out."""
    e = np.asarray(xs, dtype=float) - np.asarray(minimum, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        n = _norms_of_state(e)
        log_n = np.where((n > floor) & np.isfinite(n), np.log(np.where(n > 0, n, 1.0)), np.nan)
    return tail_rate(log_n, tail)


def measured_rate(step, quadratic, x0, steps=2000, tail=0.5, chunk=50, **hyper):
    """Run ``step`` (the course's contract: step(x, g, *state, **hyper)) on ``quadratic`` from
    ``x0`` for ``steps`` updates and fit its rate per step on the last ``tail`` of the run.

    The problem is linear (gradient A (x - x*), a momentum buffer that is a sum of them), so
    every ``chunk`` steps the error and the state are scaled back to norm 1 and the scale is
    kept in a log: runs of any length neither underflow nor overflow, and unstable settings
    measure their growth. Only for steps whose state is linear in the error (momentum,
    Nesterov; not Adam)."""
    x_star = quadratic.global_min
    names = state_names(step, hyper)
    takes_t = STEP_COUNTER in inspect.signature(step).parameters
    x = np.array(x0, dtype=float).reshape(quadratic.dim)
    state = [np.zeros_like(x) for _ in names]
    prev = x - x_star
    log_scale, log_n = 0.0, []
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            extra = {STEP_COUNTER: t} if takes_t else {}
            out = step(x, quadratic.grad(x), *state, **extra, **hyper)
            x, *state = out if names else (out,)
            x = np.asarray(x, dtype=float)
            e = x - x_star
            n = float(np.sqrt(e @ e + prev @ prev))
            log_n.append(log_scale + np.log(n) if n > 0 and np.isfinite(n) else np.nan)
            prev = e
            if t % chunk == 0 and n > 0 and np.isfinite(n):
                x, prev = x_star + e / n, prev / n
                state = [np.asarray(s, dtype=float) / n for s in state]
                log_scale += np.log(n)
    return tail_rate(np.array(log_n), tail)


def eigen_errors(xs, quadratic):
    """The error of a path in the eigenbasis of the quadratic: (steps + 1, 2), column 0 the
    flat direction (eigenvalue mu), column 1 the steep one (L)."""
    lam, vecs = np.linalg.eigh(quadratic.A)
    order = np.argsort(lam)
    return (np.asarray(xs, dtype=float) - quadratic.global_min) @ vecs[:, order]


def direction_rates(xs, quadratic, tail=0.5):
    """The rate fitted on the tail of a path separately in each eigen-direction (flat first):
    on a quadratic the directions do not mix, so each has its own."""
    e = eigen_errors(xs, quadratic)
    return np.array([path_rate(e[:, [k]], [0.0], tail) for k in range(e.shape[1])])


def eigenvalues(quadratic):
    """The quadratic's eigenvalues, smallest first."""
    return np.sort(np.linalg.eigvalsh(quadratic.A))
