"""Problems where the learning-rate schedule matters: the gradient is noisy.

On a noiseless quadratic a well-chosen constant step converges geometrically and no
schedule can do much better. Real training sees a *stochastic* gradient, and then a
constant learning rate stops improving at a noise floor proportional to the rate.

- :class:`NoisyQuadratic`: f(x) = 1/2 sum_i h_i x_i^2 (any dimension, 2-D for the
  contour plots), whose stochastic gradient adds Gaussian noise of standard deviation
  ``noise`` to every coordinate. Its noise floor under constant-rate SGD is known in
  closed form (:meth:`NoisyQuadratic.noise_floor`), and :meth:`NoisyQuadratic.sgd`
  runs many independent SGD runs at once for any sequence of learning rates.
- :class:`MLPTask`: a small tanh network fitting a smooth function of two inputs from
  minibatches, with several independent copies of the network held in one set of
  torch tensors, so that one ``torch.optim`` optimizer trains them all side by side.
- :func:`schedule_values`: the learning rates a schedule function gives for steps
  0, 1, ..., steps - 1.
- :func:`remembered`: an experiment that runs each setting once, so that several
  claims (``dl.robust_claim``) can read the same run without repeating it.
"""
import functools
import math
from dataclasses import dataclass

import numpy as np

from descentlab.landscapes import Landscape
from descentlab.runner import Trajectory


def schedule_values(schedule, steps, **hyper):
    """``[schedule(0, **hyper), ..., schedule(steps - 1, **hyper)]`` as a float array."""
    return np.array([float(schedule(k, **hyper)) for k in range(int(steps))], dtype=float)


def _key(value):
    if isinstance(value, (np.ndarray, list, tuple)):
        a = np.asarray(value, dtype=float)
        return ("array", a.shape, a.tobytes())
    return value


def remembered(experiment, size=12):
    """``experiment(**setting)`` computed once per setting (keyword arguments only; the
    ``size`` most recent settings are kept). A notebook states several claims about one
    run; each ``dl.robust_claim`` calls the experiment at the setting shown, and when
    sweeping at the same neighbours, so without this every claim would redo the run."""
    cache = {}

    @functools.wraps(experiment)
    def run(**setting):
        key = tuple(sorted((name, _key(value)) for name, value in setting.items()))
        if key not in cache:
            if len(cache) >= size:
                cache.pop(next(iter(cache)))
            cache[key] = experiment(**setting)
        return cache[key]

    run.cache = cache
    return run


@dataclass
class NoisyRun:
    """Independent SGD runs on a noisy problem, all with the same learning rates."""
    lrs: np.ndarray     # (steps,): the learning rate of each update
    xs: np.ndarray      # (runs, steps + 1, dim): the start, then the point after each update
    losses: np.ndarray  # (runs, steps + 1): f(x) - f* along each run

    @property
    def runs(self):
        return self.losses.shape[0]

    @property
    def mean_loss(self):
        """f(x) - f* averaged over the runs, at every step: shape (steps + 1,)."""
        return self.losses.mean(axis=0)

    @property
    def final_loss(self):
        """f(x) - f* after the last update, averaged over the runs."""
        return float(self.losses[:, -1].mean())

    def tail_loss(self, last):
        """f(x) - f* averaged over the runs and the last ``last`` steps."""
        return float(self.losses[:, -int(last):].mean())

    def path(self, run=0):
        """One run as a :class:`descentlab.Trajectory`, for ``show_paths``."""
        return Trajectory(self.xs[run], self.losses[run])


class NoisyQuadratic(Landscape):
    """f(x) = 1/2 sum_i h_i x_i^2 with a noisy gradient h * x + noise * xi, xi ~ N(0, I).

    curvatures: the h_i (the Hessian's eigenvalues, along the axes); the minimum is 0
    at the origin. noise: standard deviation of the gradient noise per coordinate.
    """

    def __init__(self, curvatures=(1.0, 10.0), noise=1.0, span=2.0):
        self.h = np.asarray(curvatures, dtype=float).reshape(-1)
        if self.h.size == 0 or np.any(self.h <= 0):
            raise ValueError("curvatures must be positive numbers")
        if not noise >= 0:
            raise ValueError("noise must be >= 0")
        self.noise = float(noise)
        dim = self.h.size
        name = (f"noisy quadratic (h={np.round(self.h, 3).tolist()}, noise={self.noise:g})" if dim <= 3
                else f"noisy quadratic (dim {dim}, h from {self.h.min():g} to {self.h.max():g}, noise={self.noise:g})")
        super().__init__(name, dim, [np.zeros(dim)], tuple((-span, span) for _ in range(dim)))

    def with_noise(self, noise):
        """The same quadratic with another noise level."""
        return NoisyQuadratic(self.h, noise, span=self.bounds[0][1])

    # -- the landscape (f works on stacks of points, for contour grids)
    def f(self, x):
        x = np.asarray(x, dtype=float)
        return 0.5 * np.sum(self.h * x * x, axis=-1)

    def grad(self, x):
        """The exact gradient h * x."""
        return self.h * np.asarray(x, dtype=float)

    def stochastic_grad(self, x, rng):
        """h * x plus Gaussian noise of standard deviation ``noise`` in every coordinate
        (x may be a stack of points, shape (..., dim))."""
        x = np.asarray(x, dtype=float)
        return self.h * x + self.noise * rng.standard_normal(x.shape)

    # -- theory
    @property
    def max_stable_lr(self):
        """Constant-rate SGD blows up for lr >= 2 / max(h), noise or not."""
        return 2.0 / float(self.h.max())

    def noise_floor(self, lr):
        """Long-run mean of f(x) - f* under SGD with constant rate ``lr``.

        Per coordinate x <- (1 - lr h) x - lr noise xi, so the variance settles at
        s = lr noise^2 / (h (2 - lr h)) and the mean of h x^2 / 2 at
        lr noise^2 / (2 (2 - lr h)): proportional to lr while lr h is small.
        """
        lr = float(lr)
        if lr < 0:
            raise ValueError("lr must be >= 0")
        if lr >= self.max_stable_lr:
            return math.inf
        return float(np.sum(lr * self.noise ** 2 / (2.0 * (2.0 - lr * self.h))))

    # -- experiments
    def sgd(self, lrs, x0, runs=1, seed=0):
        """``runs`` independent SGD runs from ``x0``: update k uses rate ``lrs[k]``.

        The noise comes from ``np.random.default_rng(seed)``: calls with the same seed
        and number of runs see the same noise, so two schedules are compared on the
        same draws. Runs that blow up are kept (inf and nan included).
        """
        lrs = np.asarray(lrs, dtype=float).reshape(-1)
        x = np.broadcast_to(np.asarray(x0, dtype=float).reshape(self.dim), (int(runs), self.dim)).copy()
        rng = np.random.default_rng(seed)
        xs = np.empty((int(runs), lrs.size + 1, self.dim))
        xs[:, 0] = x
        with np.errstate(over="ignore", invalid="ignore"):
            for k, lr in enumerate(lrs):
                x = x - lr * self.stochastic_grad(x, rng)
                xs[:, k + 1] = x
            losses = self.f(xs)
        return NoisyRun(lrs, xs, losses)


class MLPTask:
    """Fit y = sin(2 x0) cos(x1) + noise (x uniform on [-2, 2]^2) with a tanh network
    2 -> width -> width -> 1, trained on minibatches of squared error.

    ``init(runs, seed)`` makes ``runs`` independent networks whose weights live in one
    list of torch tensors (the first axis is the run), and ``minibatch_loss`` returns one
    loss per network. Summing those before ``backward()`` gives every network its own
    gradient, and an element-wise optimizer such as ``torch.optim.Adam`` then trains
    the networks exactly as if each had its own optimizer.
    """

    def __init__(self, n=256, width=64, batch_size=32, label_noise=0.05, seed=0):
        import torch
        self.width, self.batch_size = int(width), int(batch_size)
        g = torch.Generator().manual_seed(seed)
        self.x = torch.rand(n, 2, generator=g) * 4 - 2
        self.y = torch.sin(2 * self.x[:, 0]) * torch.cos(self.x[:, 1]) + label_noise * torch.randn(n, generator=g)
        self._sizes = [2, self.width, self.width, 1]

    def init(self, runs, seed=0):
        """Weights and biases of ``runs`` networks (fan-in scaled normal weights, zero
        biases): a list of leaf tensors with requires_grad, ready for an optimizer."""
        import torch
        g = torch.Generator().manual_seed(seed)
        self._batch_rng = torch.Generator().manual_seed(seed + 1)
        weights = [(torch.randn(runs, a, b, generator=g) / math.sqrt(a)).requires_grad_()
                   for a, b in zip(self._sizes[:-1], self._sizes[1:], strict=True)]
        biases = [torch.zeros(runs, 1, b, requires_grad=True) for b in self._sizes[1:]]
        return weights + biases

    def _forward(self, params, x):
        import torch
        n = len(self._sizes) - 1
        weights, biases = params[:n], params[n:]
        h = x
        for i in range(n):
            h = torch.baddbmm(biases[i], h, weights[i])
            if i < n - 1:
                h = torch.tanh(h)
        return h[..., 0]

    def minibatch_loss(self, params):
        """Mean squared error of each network on its own random minibatch: shape (runs,)."""
        import torch
        runs = params[0].shape[0]
        idx = torch.randint(0, len(self.x), (runs, self.batch_size), generator=self._batch_rng)
        return ((self._forward(params, self.x[idx]) - self.y[idx]) ** 2).mean(dim=1)

    def full_loss(self, params):
        """Mean squared error of each network on all the data, as a numpy array (runs,)."""
        import torch
        with torch.no_grad():
            runs = params[0].shape[0]
            out = self._forward(params, self.x.expand(runs, -1, -1))
            return ((out - self.y) ** 2).mean(dim=1).numpy().astype(float)
