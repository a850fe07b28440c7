"""Small problems for notebook 05 (Adam): a rescaled landscape, rotations of a bowl,
a stopping rule on the loss, and the two-moons classification data set."""
import numpy as np

from descentlab.landscapes import Landscape


class Scaled(Landscape):
    """``c * f`` for a landscape ``f``: the same minima and picture, every gradient times c."""

    def __init__(self, base, c):
        self.base, self.c = base, float(c)
        super().__init__(f"{c:g} x {base.name}", base.dim, list(base.minima), base.bounds)

    def f(self, x):
        return self.c * self.base.f(x)

    def grad(self, x):
        return self.c * self.base.grad(x)


def scaled(landscape, c):
    """The landscape multiplied by ``c`` (a loss measured in other units)."""
    return Scaled(landscape, c)


def rotation(angle):
    """The 2 x 2 rotation by ``angle`` degrees, the one ``Quadratic(angle=...)`` applies to
    its axes: ``rotation(a) @ x0`` is the start that sits on a rotated bowl exactly
    where ``x0`` sits on the unrotated one."""
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
    return np.array([[c, -s], [s, c]])


def steps_to_loss(trajectory, landscape, tol):
    """First update index after which f(x) - f* stays below ``tol`` (None if the path
    does not stay there by its last step)."""
    with np.errstate(invalid="ignore"):
        gap = trajectory.losses - landscape.f_min
    above = np.nonzero(~(gap < tol))[0]
    if len(above) == 0:
        return 0
    return None if above[-1] == len(gap) - 1 else int(above[-1] + 1)


def two_moons(n, noise, rng):
    """Two interleaved half circles in the plane, ``n`` points, label 0 or 1.

    Returns X of shape (n, 2) and y of shape (n,), both float64; ``noise`` is the
    standard deviation of the Gaussian jitter added to every coordinate."""
    n_top = n // 2
    angle = np.concatenate([rng.uniform(0, np.pi, n_top), rng.uniform(0, np.pi, n - n_top)])
    top = np.stack([np.cos(angle[:n_top]), np.sin(angle[:n_top])], axis=1)
    bottom = np.stack([1 - np.cos(angle[n_top:]), 0.5 - np.sin(angle[n_top:])], axis=1)
    X = np.concatenate([top, bottom]) + noise * rng.normal(size=(n, 2))
    y = np.concatenate([np.zeros(n_top), np.ones(n - n_top)])
    order = rng.permutation(n)
    return X[order].astype(np.float64), y[order].astype(np.float64)


def settled(losses, tol, window):
    """For losses of shape (steps + 1, ...): the first update index t such that the loss
    stays below ``tol`` at t, t + 1, ..., t + window; -1 where no such t exists in the run.

    Unlike "below tol from t to the end of the run", the answer does not change when the
    run gets longer (once the run is long enough to contain the window), and unlike "first
    below tol" it does not reward an oscillating path that dips below tol for one step."""
    below = np.asarray(losses) < tol
    n = len(below)
    if n <= window:
        return np.full(below.shape[1:], -1)
    counts = np.concatenate([np.zeros((1,) + below.shape[1:], dtype=int), np.cumsum(below, axis=0)])
    inside = (counts[window + 1:] - counts[:n - window]) == window + 1     # inside[t]: below at t..t+window
    return np.where(inside.any(axis=0), np.argmax(inside, axis=0), -1)
