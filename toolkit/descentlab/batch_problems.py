"""Linear regression with a known answer, for the batch-size notebook.

``make_regression`` builds rows ``X`` (n, d) and targets ``y = X w_true + e`` such that,
in this very sample (not only on average):

- the feature covariance ``X^T X / n`` is exactly the matrix ``C`` asked for: weights 0
  and 1 are correlated (a tilted, elongated valley in their plane), the others are
  independent of them and of each other;
- the noise ``e`` is uncorrelated with every feature, ``X^T e = 0``, and
  ``mean(e^2) = noise^2``. So the least-squares fit is exactly ``w_true`` and the
  smallest mean squared error is exactly ``noise^2``.

The loss is L(w) = mean((X w - y)^2), with Hessian H = 2 C. Everything the notebook's
theory quotes (the stability limit 2 / L_max, the per-example gradient variance, the
predicted noise and noise floor) is computed here in closed form, so the experiments
can be held against it.
"""
from dataclasses import dataclass
from functools import cached_property

import numpy as np


@dataclass
class Regression:
    X: np.ndarray        # (n, d) rows
    y: np.ndarray        # (n,) targets
    w_true: np.ndarray   # (d,) the weights the data were made with (= the least-squares fit)
    noise: float         # standard deviation of e: the best loss is noise**2
    name: str = "linear regression"

    @property
    def n(self):
        return self.X.shape[0]

    @property
    def d(self):
        return self.X.shape[1]

    @cached_property
    def w_star(self):
        """The least-squares solution (equal to w_true by construction)."""
        return np.linalg.lstsq(self.X, self.y, rcond=None)[0]

    @cached_property
    def loss_min(self):
        return self.loss(self.w_star)

    @cached_property
    def covariance(self):
        """C = X^T X / n, the feature covariance (the loss's Hessian is 2 C)."""
        return self.X.T @ self.X / self.n

    @property
    def hessian(self):
        return 2.0 * self.covariance

    @cached_property
    def L(self):
        """Largest eigenvalue of the Hessian: full-batch gradient descent needs lr < 2 / L."""
        return float(np.linalg.eigvalsh(self.hessian)[-1])

    @cached_property
    def mu(self):
        return float(np.linalg.eigvalsh(self.hessian)[0])

    @property
    def max_stable_lr(self):
        return 2.0 / self.L

    def loss(self, w):
        """Mean squared error; ``w`` may be a stack of weight vectors (..., d)."""
        w = np.asarray(w, dtype=float)
        r = w @ self.X.T - self.y          # (..., n)
        return np.mean(r * r, axis=-1) if r.ndim > 1 else float(np.mean(r * r))

    def excess(self, w):
        """L(w) - L(w*): zero at the best fit."""
        return self.loss(w) - self.loss_min

    def per_example_gradients(self, w):
        """(n, d): the gradient of (x_i . w - y_i)^2 for each row i."""
        r = self.X @ np.asarray(w, dtype=float) - self.y
        return 2.0 * self.X * r[:, None]

    def gradient_variance(self, w):
        """sigma^2(w) = mean_i ||g_i - g||^2, the spread of the per-example gradients."""
        G = self.per_example_gradients(w)
        return float(np.mean(np.sum((G - G.mean(axis=0)) ** 2, axis=1)))

    def predicted_noise(self, w, batch_size):
        """E ||g_B - g||^2 for a batch of ``batch_size`` rows drawn without replacement:
        sigma^2 / B * (n - B) / (n - 1), exactly."""
        B = np.asarray(batch_size, dtype=float)
        return self.gradient_variance(w) / B * (self.n - B) / (self.n - 1)

    def predicted_floor(self, lr, batch_size, small_lr=True):
        """Where constant-lr SGD settles: the expected excess loss L(w) - L(w*) once the
        pull of the curvature balances the push of the gradient noise.

        small_lr=True: lr / 4 times the gradient noise at the best fit,
        lr sigma^2(w*) / (4 B) (n - B) / (n - 1). small_lr=False: the stationary value of
        the linearised dynamics w <- w - lr (H (w - w*) + noise) for any stable lr,
        (lr / 2) sum_k S_kk / (2 - lr h_k), with h_k the Hessian's eigenvalues and S the
        batch-gradient noise covariance in its eigenbasis; it grows without bound as lr
        approaches 2 / L. Both treat successive batches as independent draws."""
        if small_lr:
            return lr * self.predicted_noise(self.w_star, batch_size) / 4.0
        h, V = np.linalg.eigh(self.hessian)
        G = self.per_example_gradients(self.w_star) @ V
        S = np.mean((G - G.mean(axis=0)) ** 2, axis=0) / batch_size * (self.n - batch_size) / (self.n - 1)
        with np.errstate(divide="ignore"):
            terms = np.where(lr * h < 2, S / (2 - lr * h), np.inf)
        return float(lr / 2 * np.sum(terms))

    def slice_loss(self, a, b, weights=(0, 1)):
        """The loss over the plane of two weights, the others held at w*: contour data."""
        i, j = weights
        a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
        W = np.broadcast_to(self.w_star, a.shape + (self.d,)).copy()
        W[..., i], W[..., j] = a, b
        C = self.covariance
        D = W - self.w_star
        # exact for least squares: L(w) = L* + (w - w*)^T C (w - w*)
        return self.loss_min + np.einsum("...i,ij,...j->...", D, C, D)

    def __repr__(self):
        return (f"{self.name}: n={self.n} rows, d={self.d} weights, noise={self.noise:g}, "
                f"w_true={np.round(self.w_true, 3).tolist()}")


def make_regression(n=4000, d=8, noise=0.5, corr=0.8, scales=None, w_true=None, seed=0):
    """Synthetic regression data with a known answer (see the module docstring).

    n, d: rows and weights. noise: the residual's standard deviation at the best fit.
    corr: the correlation of features 0 and 1 (their valley's tilt and elongation).
    scales: standard deviation of each feature (default all 1).
    w_true: the true weights (default: a fixed draw, rounded to one decimal).
    """
    if n <= d:
        raise ValueError(f"need more rows than weights, got n={n}, d={d}")
    rng = np.random.default_rng(seed)
    scales = np.ones(d) if scales is None else np.asarray(scales, dtype=float)
    R = np.eye(d)
    if d >= 2:
        R[0, 1] = R[1, 0] = corr
    C = R * np.outer(scales, scales)                  # the covariance we want
    A = np.linalg.cholesky(C).T                        # C = A^T A
    Q, _ = np.linalg.qr(rng.normal(size=(n, d)))       # orthonormal columns
    Q = Q * np.sign(np.diag(_))                        # a fixed sign convention
    X = np.sqrt(n) * Q @ A                             # X^T X / n = A^T A = C exactly
    if w_true is None:
        w_true = np.round(rng.uniform(-2, 2, size=d), 1)
    w_true = np.asarray(w_true, dtype=float)
    e = rng.normal(size=n)
    e -= Q @ (Q.T @ e)                                 # uncorrelated with every feature
    e *= noise / np.sqrt(np.mean(e * e))               # mean(e^2) = noise^2 exactly
    y = X @ w_true + e
    return Regression(X, y, w_true, float(noise), name=f"linear regression (n={n}, d={d})")
