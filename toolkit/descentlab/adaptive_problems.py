"""Problems for notebook 02 (AdaGrad and RMSprop), each with its exact gradient.

- :class:`SparseRegression`: least squares on features that are present only in some
  examples (like words in documents). Drawn one example at a time through
  :meth:`SparseRegression.stream`, a rare feature's coordinate gets a gradient only
  now and then.
- :class:`Cliff`: a steep cliff, then a long gentle slope down to the minimum: early
  gradients are large, later ones small, which is what AdaGrad's accumulator
  remembers for ever.
- :func:`run_with_state`: :func:`descentlab.run` that also keeps the optimizer's
  state (AdaGrad's G, RMSprop's s) after every update, to plot per-coordinate
  effective learning rates.
- :func:`run_stacked`: many runs of one step function at once on quadratics
  f(x) = x^T H x / 2 (one H per run), optionally with Gaussian gradient noise, and
  :func:`settle_steps`, the first step after which each path stays near the minimum;
  :func:`run_torch_stacked` does the same with one ``torch.optim`` optimizer kept for
  the whole run (for methods graded in another notebook, and fast).

Like every landscape of the toolkit, ``f`` accepts a stack of points ``(..., dim)``
(a contour grid) and ``grad`` a single point.
"""
import numpy as np

from descentlab.landscapes import Landscape
from descentlab.runner import STEP_COUNTER, Trajectory, state_names

__all__ = ["SparseRegression", "GradientStream", "Cliff", "sparse_regression", "cliff",
           "run_with_state", "run_stacked", "run_torch_stacked", "settle_steps"]


class SparseRegression(Landscape):
    """f(w) = 1/(2n) sum_i (a_i . w - b_i)^2 over n examples with sparse features.

    Feature j is present in an example with probability ``freqs[j]`` and then has the
    value ``scales[j]``; absent, it is 0. The targets are b = A w_star exactly, so the
    minimum is w_star with f = 0, and every example's gradient vanishes there.

    ``A`` (n, dim), ``b`` (n,) and the Hessian ``H`` = A^T A / n are attributes; ``grad``
    is the full-data gradient, ``example_grad`` the gradient of one example or of a
    batch of examples.
    """

    def __init__(self, freqs=(1.0, 0.02), scales=1.0, n=400, w_star=None, seed=0,
                 bounds=None):
        freqs = np.asarray(freqs, dtype=float)
        scales = np.broadcast_to(np.asarray(scales, dtype=float), freqs.shape).copy()
        if freqs.ndim != 1 or not np.all((freqs > 0) & (freqs <= 1)):
            raise ValueError("freqs must be a list of probabilities in (0, 1]")
        dim = len(freqs)
        rng = np.random.default_rng(seed)
        present = rng.random((n, dim)) < freqs
        for j in range(dim):  # every feature appears at least once
            if not present[:, j].any():
                present[rng.integers(n), j] = True
        self.A = present * scales
        if np.linalg.matrix_rank(self.A) < dim:
            raise ValueError("these examples do not determine w: raise n or the frequencies")
        self.freqs, self.scales, self.n = freqs, scales, int(n)
        self.w_star = np.ones(dim) if w_star is None else np.asarray(w_star, dtype=float).reshape(dim)
        self.b = self.A @ self.w_star
        self.H = self.A.T @ self.A / self.n
        if bounds is None:
            bounds = tuple((float(w) - 1.5, float(w) + 1.5) for w in self.w_star)
        super().__init__(f"sparse regression (feature frequencies {np.round(freqs, 3).tolist()})",
                         dim, [self.w_star.copy()], bounds)

    def f(self, x):
        # = 1/(2n) ||A x - b||^2, written with the Hessian H = A^T A / n since b = A w_star
        # (broadcast products, not d @ H: a matrix product rounds differently for one point
        # and for a stack of points, and a path's losses must be the points' values)
        d = x - self.w_star
        return 0.5 * ((d[..., :, None] * self.H).sum(axis=-2) * d).sum(axis=-1)

    def grad(self, x):
        x = np.asarray(x, dtype=float)
        return self.A.T @ (self.A @ x - self.b) / self.n

    def example_grad(self, x, idx):
        """Gradient of the mean loss over the examples ``idx`` (an int or an array)."""
        x = np.asarray(x, dtype=float)
        if np.ndim(idx) == 0 or len(idx) == 1:
            a = self.A[int(np.ravel(idx)[0])]
            return a * (a @ x - self.b[int(np.ravel(idx)[0])])
        A, b = self.A[idx], self.b[idx]
        return A.T @ (A @ x - b) / len(b)

    def stream(self, batch_size=1, seed=0):
        """A fresh stream of minibatch gradients: pass it to ``descentlab.run`` in
        place of the problem. Use a new stream for every run."""
        return GradientStream(self, batch_size, seed)


class GradientStream(Landscape):
    """The same loss as its problem, but ``grad`` returns the gradient of the next
    minibatch: epochs of a seeded random permutation of the examples, cut into
    consecutive batches (an epoch's short tail is joined to the next epoch's start).
    ``batches`` records the examples behind every gradient handed out."""

    def __init__(self, problem, batch_size=1, seed=0):
        self.problem, self.batch_size = problem, int(batch_size)
        self._rng = np.random.default_rng(seed)
        self._queue = np.array([], dtype=int)
        self.batches = []
        super().__init__(problem.name + f", minibatches of {batch_size}", problem.dim,
                         problem.minima, problem.bounds)

    def f(self, x):
        return self.problem.f(x)

    def next_batch(self):
        while len(self._queue) < self.batch_size:
            self._queue = np.concatenate([self._queue, self._rng.permutation(self.problem.n)])
        idx, self._queue = self._queue[:self.batch_size], self._queue[self.batch_size:]
        self.batches.append(idx)
        return idx

    def grad(self, x):
        return self.problem.example_grad(x, self.next_batch())

    def present(self):
        """(gradients handed out, dim) boolean: which features were in each batch, i.e.
        which coordinates could get a non-zero gradient at that step."""
        return np.array([(self.problem.A[idx] != 0).any(axis=0) for idx in self.batches])


def _softplus(z):
    """log(1 + e^z), computed stably; works on numpy arrays and torch tensors."""
    if type(z).__module__.startswith("torch"):
        import torch
        return torch.nn.functional.softplus(z)
    return np.logaddexp(0.0, z)


def _sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


class Cliff(Landscape):
    """1-D: a gentle slope with a steep cliff beyond ``edge``:

        f(x) = slope (sqrt(1 + x^2) - 1) + cliff_slope softplus(sharpness (x - edge)) / sharpness

    For x well above ``edge`` the gradient is about slope + cliff_slope, on the
    plateau below it about ``slope``, and near 0 the bowl is quadratic. The minimum
    (slightly left of 0, where the cliff's tail still pulls) is found by Newton's method.
    """

    def __init__(self, slope=0.1, cliff_slope=5.0, edge=3.0, sharpness=4.0, bounds=((-1.0, 6.5),)):
        self.slope, self.cliff_slope = float(slope), float(cliff_slope)
        self.edge, self.sharpness = float(edge), float(sharpness)
        x = 0.0
        for _ in range(50):
            x -= float(self.grad(np.array([x]))[0]) / self.curvature(x)
        super().__init__(f"cliff (slope {slope:g}, cliff slope {cliff_slope:g} beyond x = {edge:g})",
                         1, [np.array([x])], bounds)

    def f(self, x):
        x0 = x[..., 0]
        k = self.sharpness
        return (self.slope * ((1 + x0 * x0) ** 0.5 - 1)
                + self.cliff_slope * _softplus(k * (x0 - self.edge)) / k)

    def grad(self, x):
        x0 = np.asarray(x, dtype=float)
        return (self.slope * x0 / np.sqrt(1 + x0 * x0)
                + self.cliff_slope * _sigmoid(self.sharpness * (x0 - self.edge)))

    def curvature(self, x):
        """f''(x) at a float x."""
        s = _sigmoid(self.sharpness * (x - self.edge))
        return self.slope / (1 + x * x) ** 1.5 + self.cliff_slope * self.sharpness * s * (1 - s)


def sparse_regression(freqs=(1.0, 0.02), scales=1.0, n=400, w_star=None, seed=0):
    return SparseRegression(freqs, scales, n, w_star, seed)


def cliff(slope=0.1, cliff_slope=5.0, edge=3.0, sharpness=4.0):
    return Cliff(slope, cliff_slope, edge, sharpness)


def run_with_state(step, landscape, x0, steps, **hyper):
    """:func:`descentlab.run` that also returns the state after every update.

    Returns ``(trajectory, states)``: ``states[name]`` has shape (steps + 1, dim), the
    zeros the state starts at, then its value after each update (for AdaGrad,
    ``states["G"]``; for RMSprop, ``states["s"]``).
    """
    import inspect
    x = np.array(x0, dtype=float).reshape(landscape.dim)
    names = state_names(step, hyper)
    takes_t = STEP_COUNTER in inspect.signature(step).parameters
    state = [np.zeros_like(x) for _ in names]
    xs, losses = [x.copy()], [landscape.value(x)]
    kept = [[s.copy()] for s in state]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            extra = {STEP_COUNTER: t} if takes_t else {}
            out = step(x, landscape.grad(x), *state, **extra, **hyper)
            if names:
                x, *state = out
                state = [np.asarray(s, dtype=float) for s in state]
            else:
                x = out
            x = np.asarray(x, dtype=float)
            xs.append(x.copy())
            losses.append(landscape.value(x))
            for k, s in zip(kept, state, strict=True):
                k.append(s.copy())
    return Trajectory(np.array(xs), np.array(losses)), {n: np.array(k) for n, k in zip(names, kept, strict=True)}


def _stack(hessians, x0s, noise, seed):
    """The starting points of a stack of quadratics, and its gradient: H_k x plus, when
    ``noise`` is not zero, noise * N(0, 1) drawn from ``numpy.random.default_rng(seed)``
    (one draw per call, so two runners of one stack and seed see the same noise)."""
    H = np.asarray(hessians, dtype=float)
    x = np.array(np.broadcast_to(x0s, np.broadcast_shapes(H.shape[:-1], np.shape(x0s))), dtype=float)
    sigma = np.asarray(noise, dtype=float)
    sigma = sigma.reshape(sigma.shape + (1,) * (x.ndim - sigma.ndim)) if sigma.ndim else sigma
    rng = np.random.default_rng(seed)

    def grad(x):
        g = np.einsum("...ij,...j->...i", H, x)
        return g + sigma * rng.standard_normal(x.shape) if np.any(sigma) else g
    return x, grad


def run_stacked(step, hessians, x0s, steps, noise=0.0, seed=0, **hyper):
    """Run ``step`` on a stack of quadratics at once: run k minimises x^T H_k x / 2.

    hessians: (..., dim, dim); x0s: (..., dim), broadcast together. Step functions of
    the course work elementwise, so one call advances every run. ``noise`` (a float, or
    an array broadcast against the runs' leading shape) adds noise * N(0, 1) to every
    coordinate of every gradient, drawn from ``numpy.random.default_rng(seed)``.
    Returns the points, shape (steps + 1, ..., dim).
    """
    x, grad = _stack(hessians, x0s, noise, seed)
    names = state_names(step, hyper)
    state = [np.zeros_like(x) for _ in names]
    xs = [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            out = step(x, grad(x), *state, **hyper)
            if names:
                x, *state = out
                state = [np.asarray(s, dtype=float) for s in state]
            else:
                x = out
            x = np.asarray(x, dtype=float)
            xs.append(x.copy())
    return np.array(xs)


def run_torch_stacked(optimizer, hessians, x0s, steps, noise=0.0, seed=0, **options):
    """:func:`run_stacked` for a ``torch.optim`` optimizer class (``torch.optim.SGD``,
    with ``options`` such as lr and momentum): one optimizer, built once, updates the
    whole stack as one float64 tensor, so the update is torch's own. The noise is drawn
    exactly as in :func:`run_stacked`. Returns the points, shape (steps + 1, ..., dim)."""
    import torch
    x, grad = _stack(hessians, x0s, noise, seed)
    p = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
    opt = optimizer([p], **options)
    xs = [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            p.grad = torch.from_numpy(grad(xs[-1]))
            opt.step()
            xs.append(p.detach().numpy().copy())
    return np.array(xs)


def settle_steps(xs, tol, target=0.0):
    """For points ``xs`` (steps + 1, ..., dim): the first step after which each path
    stays within ``tol`` (Euclidean) of ``target``; inf where the path is still (or
    again) further away at its last step. Shape (...)."""
    with np.errstate(over="ignore", invalid="ignore"):
        far = ~(np.linalg.norm(np.asarray(xs) - target, axis=-1) <= tol)
    last = far.shape[0] - 1 - np.argmax(far[::-1], axis=0)
    out = np.where(far.any(axis=0), last + 1, 0).astype(float)
    out[far[-1]] = np.inf
    return out
