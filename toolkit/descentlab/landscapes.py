"""Loss landscapes in one or two dimensions, each with its exact gradient and known minima.

A point is an array of shape ``(dim,)``. ``f`` also accepts a stack of points
``(..., dim)`` (a contour grid), and is written with arithmetic only, so the same
formula runs on torch tensors: the tests check every ``grad`` against autograd.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass
class Landscape:
    name: str
    dim: int
    minima: list = field(default_factory=list)  # global minimum first
    bounds: tuple = ((-2.0, 2.0), (-2.0, 2.0))  # plotting window, one (lo, hi) per axis

    def f(self, x):
        raise NotImplementedError

    def grad(self, x):
        raise NotImplementedError

    @property
    def global_min(self):
        return np.asarray(self.minima[0], dtype=float)

    @property
    def f_min(self):
        return float(self.f(self.global_min))

    def value(self, x):
        return float(self.f(np.asarray(x, dtype=float)))

    def __repr__(self):
        return f"{self.name} (dim {self.dim}, global minimum at {np.round(self.global_min, 4).tolist()})"


class Quadratic(Landscape):
    """f(x) = 1/2 x^T A x with eigenvalues (mu, L) = (1, kappa) * curvature,
    the steep axis rotated by ``angle`` degrees from the y axis."""

    def __init__(self, kappa=10.0, angle=0.0, curvature=1.0, name=None):
        self.kappa, self.angle = float(kappa), float(angle)
        self.mu, self.L = float(curvature), float(curvature * kappa)
        c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))
        R = np.array([[c, -s], [s, c]])
        A = R @ np.diag([self.mu, self.L]) @ R.T
        self.A = (A + A.T) / 2  # exactly symmetric, so f and grad use the same entries
        span = 2.0
        super().__init__(name or f"quadratic (kappa={kappa:g}, angle={angle:g} deg)", 2,
                         [np.zeros(2)], ((-span, span), (-span, span)))

    def f(self, x):
        a, b, c = self.A[0, 0], self.A[0, 1], self.A[1, 1]
        x0, x1 = x[..., 0], x[..., 1]
        return 0.5 * (a * x0 * x0 + 2 * b * x0 * x1 + c * x1 * x1)

    def grad(self, x):
        return self.A @ np.asarray(x, dtype=float)

    @property
    def max_stable_lr(self):
        """Plain gradient descent diverges for any lr above 2 / L."""
        return 2.0 / self.L

    @property
    def best_gd(self):
        """(lr, rate) of the best constant-step gradient descent: 2/(mu+L), (k-1)/(k+1)."""
        k = self.kappa
        return 2.0 / (self.mu + self.L), (k - 1) / (k + 1)

    @property
    def best_momentum(self):
        """(lr, beta, rate) of the best heavy ball in torch's form (Polyak's tuning)."""
        rk = np.sqrt(self.kappa)
        beta = ((rk - 1) / (rk + 1)) ** 2
        lr = 4.0 / (np.sqrt(self.mu) + np.sqrt(self.L)) ** 2
        return lr, beta, (rk - 1) / (rk + 1)


class Rosenbrock(Landscape):
    """(a - x)^2 + b (y - x^2)^2: a curved, flat-bottomed valley; minimum at (a, a^2)."""

    def __init__(self, a=1.0, b=100.0):
        self.a, self.b = float(a), float(b)
        super().__init__(f"Rosenbrock (a={a:g}, b={b:g})", 2,
                         [np.array([a, a * a])], ((-2.0, 2.0), (-1.0, 3.0)))

    def f(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return (self.a - x0) ** 2 + self.b * (x1 - x0 * x0) ** 2

    def grad(self, x):
        x0, x1 = np.asarray(x, dtype=float)
        inner = x1 - x0 * x0
        return np.array([-2 * (self.a - x0) - 4 * self.b * x0 * inner, 2 * self.b * inner])


class DoubleWell(Landscape):
    """1-D tilted double well f(x) = x^4/4 - x^2/2 + tilt * x.

    For 0 < tilt < 2/(3 sqrt 3) it has two minima: the global one on the left and a
    shallower local one on the right, separated by a barrier. They are the real roots
    of f'(x) = x^3 - x + tilt, found exactly by ``np.roots``.
    """

    def __init__(self, tilt=0.25):
        if not 0 < tilt < 2 / (3 * np.sqrt(3)):
            raise ValueError("tilt must lie in (0, 0.385) for two distinct minima")
        self.tilt = float(tilt)
        roots = np.sort(np.roots([1.0, 0.0, -1.0, self.tilt]).real)
        self.barrier = np.array([roots[1]])
        super().__init__(f"tilted double well (tilt={tilt:g})", 1,
                         [np.array([roots[0]]), np.array([roots[2]])], ((-2.0, 2.0),))

    @property
    def local_min(self):
        return self.minima[1]

    def f(self, x):
        x0 = x[..., 0]
        return 0.25 * x0 ** 4 - 0.5 * x0 ** 2 + self.tilt * x0

    def grad(self, x):
        x0 = np.asarray(x, dtype=float)
        return x0 ** 3 - x0 + self.tilt


class Saddle(Landscape):
    """x^2/2 + y^4/4 - y^2/2: a saddle point at the origin, minima at (0, +1) and (0, -1)."""

    def __init__(self):
        super().__init__("saddle", 2, [np.array([0.0, 1.0]), np.array([0.0, -1.0])],
                         ((-1.5, 1.5), (-1.5, 1.5)))
        self.saddle_point = np.zeros(2)

    def f(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return 0.5 * x0 ** 2 + 0.25 * x1 ** 4 - 0.5 * x1 ** 2

    def grad(self, x):
        x0, x1 = np.asarray(x, dtype=float)
        return np.array([x0, x1 ** 3 - x1])


class Himmelblau(Landscape):
    """(x^2 + y - 11)^2 + (x + y^2 - 7)^2: four global minima, all with f = 0."""

    def __init__(self):
        minima = [np.array([3.0, 2.0]), np.array([-2.805118086952745, 3.131312518250573]),
                  np.array([-3.779310253377747, -3.283185991286170]),
                  np.array([3.584428340330492, -1.848126526964404])]
        super().__init__("Himmelblau", 2, minima, ((-5.0, 5.0), (-5.0, 5.0)))

    def f(self, x):
        x0, x1 = x[..., 0], x[..., 1]
        return (x0 * x0 + x1 - 11) ** 2 + (x0 + x1 * x1 - 7) ** 2

    def grad(self, x):
        x0, x1 = np.asarray(x, dtype=float)
        a, b = x0 * x0 + x1 - 11, x0 + x1 * x1 - 7
        return np.array([4 * x0 * a + 2 * b, 2 * a + 4 * x1 * b])


def quadratic(kappa=10.0, angle=0.0, curvature=1.0):
    return Quadratic(kappa, angle, curvature)


def ravine(kappa=50.0, angle=0.0):
    """A narrow valley: a quadratic whose steep direction is kappa times the flat one."""
    return Quadratic(kappa, angle, name=f"ravine (kappa={kappa:g}, angle={angle:g} deg)")


def rosenbrock(a=1.0, b=100.0):
    return Rosenbrock(a, b)


def double_well(tilt=0.25):
    return DoubleWell(tilt)


def saddle():
    return Saddle()


def himmelblau():
    return Himmelblau()
