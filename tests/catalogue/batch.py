"""Batch-size functions written the way students write them."""
import numpy as np


def indices_no_shuffle(n, batch_size, rng, drop_last=False):
    order = np.arange(n)
    out = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return out[:-1] if drop_last and len(out[-1]) < batch_size else out


def indices_with_replacement(n, batch_size, rng, drop_last=False):
    sizes = [batch_size] * (n // batch_size) + ([] if drop_last or n % batch_size == 0 else [n % batch_size])
    return [rng.choice(n, s, replace=True) for s in sizes]


def indices_drop_ignored(n, batch_size, rng, drop_last=False):
    order = rng.permutation(n)
    return [order[i:i + batch_size] for i in range(0, n, batch_size)]


def indices_loop(n, batch_size, rng, drop_last=False):
    order = list(rng.permutation(n))
    batches, current = [], []
    for i in order:
        current.append(i)
        if len(current) == batch_size:
            batches.append(np.array(current))
            current = []
    if current and not drop_last:
        batches.append(np.array(current))
    return batches


def indices_array_split(n, batch_size, rng, drop_last=False):
    order = rng.permutation(n)
    cuts = np.arange(batch_size, n, batch_size)
    batches = np.split(order, cuts)
    if drop_last and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    return batches


def grad_no_two(w, X, y):
    return X.T @ (X @ w - y) / len(y)


n = 4000  # a global of the notebook (its number of rows), which grad_global_n divides by


def grad_global_n(w, X, y):
    return 2 * X.T @ (X @ w - y) / n


def grad_loop(w, X, y):
    g = np.zeros_like(w, dtype=float)
    for xi, yi in zip(X, y, strict=True):
        g += 2 * (xi @ w - yi) * xi
    return g / len(y)


def grad_einsum(w, X, y):
    return 2 * np.einsum("ij,i->j", X, X @ w - y) / X.shape[0]


def _mb(n, B, rng):
    order = rng.permutation(n)
    return [order[i:i + B] for i in range(0, n, B)]


def _grad(w, X, y):
    return 2 * X.T @ (X @ w - y) / len(y)


def train_no_shuffle(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    losses = []
    for _ in range(epochs):
        for i in range(0, len(y), batch_size):
            w = w - lr * _grad(w, X[i:i + batch_size], y[i:i + batch_size])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, losses


def train_one_shuffle(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    batches, losses = _mb(len(y), batch_size, rng), []
    for _ in range(epochs):
        for idx in batches:
            w = w - lr * _grad(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, losses


def train_with_replacement(X, y, batch_size, lr, epochs, rng, w0=None):
    n = len(y)
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    losses = []
    for _ in range(epochs):
        for start in range(0, n, batch_size):
            idx = rng.choice(n, min(batch_size, n - start))  # replace=True is choice's default
            w = w - lr * _grad(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, losses


def train_divide_by_n(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    losses = []
    for _ in range(epochs):
        for idx in _mb(len(y), batch_size, rng):
            w = w - lr * 2 * X[idx].T @ (X[idx] @ w - y[idx]) / len(y)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, losses


def train_last_batch_loss(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else w0.copy()
    losses = []
    for _ in range(epochs):
        for idx in _mb(len(y), batch_size, rng):
            w = w - lr * _grad(w, X[idx], y[idx])
        losses.append(np.mean((X[idx] @ w - y[idx]) ** 2))
    return w, losses


def train_inplace_w0(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else w0
    losses = []
    for _ in range(epochs):
        for idx in _mb(len(y), batch_size, rng):
            w -= lr * _grad(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, losses


def train_list_losses_tuple(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else np.asarray(w0, dtype=float).copy()
    losses = []
    for _ in range(epochs):
        for idx in _mb(len(y), batch_size, rng):
            w -= lr * _grad(w, X[idx], y[idx])   # in place on our own copy: fine
        losses.append(float(np.mean((X @ w - y) ** 2)))
    return [w, tuple(losses)]


def noise_norm_variance(w, X, y, batch_size, rng, n_draws):
    norms = []
    for _ in range(n_draws):
        idx = rng.choice(len(y), batch_size, replace=False)
        norms.append(np.linalg.norm(_grad(w, X[idx], y[idx])))
    return np.var(norms)


def noise_with_replacement(w, X, y, batch_size, rng, n_draws):
    g = _grad(w, X, y)
    return np.mean([np.sum((_grad(w, X[i], y[i]) - g) ** 2)
                    for i in (rng.choice(len(y), batch_size, replace=True) for _ in range(n_draws))])


def noise_no_two(w, X, y, batch_size, rng, n_draws):
    g = X.T @ (X @ w - y) / len(y)
    total = 0.0
    for _ in range(n_draws):
        idx = rng.choice(len(y), batch_size, replace=False)
        diff = X[idx].T @ (X[idx] @ w - y[idx]) / batch_size - g
        total += diff @ diff
    return total / n_draws


def noise_loop(w, X, y, batch_size, rng, n_draws):
    g = _grad(w, X, y)
    total = 0.0
    for _ in range(n_draws):
        idx = rng.choice(len(y), batch_size, replace=False)
        d = _grad(w, X[idx], y[idx]) - g
        total += np.dot(d, d)
    return np.float64(total / n_draws)


WRONG = {
    "minibatch_indices": [
        ("no shuffle", indices_no_shuffle, {"basic", "random", "edge"}, "not shuffled"),
        ("sampling with replacement", indices_with_replacement, {"basic", "random", "edge"}, "exactly once"),
        ("drop_last ignored", indices_drop_ignored, {"basic", "random", "edge"}, "drop a short last batch"),
    ],
    "mse_gradient": [
        ("missing factor 2", grad_no_two, {"basic", "random", "edge"}, "factor 2"),
        ("divides by the notebook's n", grad_global_n, {"basic", "random", "edge"}, "instead of by the number of rows"),
    ],
    "train_minibatch_sgd": [
        ("no shuffle", train_no_shuffle, {"basic", "random", "edge"}, "not shuffled"),
        ("one shuffle reused", train_one_shuffle, {"basic", "random", "edge"}, "one shuffle is reused"),
        ("sampling with replacement", train_with_replacement, {"basic", "random", "edge"}, "with replacement"),
        ("divides by n", train_divide_by_n, {"basic", "random", "edge"}, "divided by n"),
        ("losses on the last batch", train_last_batch_loss, {"basic", "random", "edge"}, "last batch"),
        ("w0 modified in place", train_inplace_w0, {"edge"}, "changed w0 in place"),
    ],
    "gradient_noise": [
        ("variance of the norms", noise_norm_variance, {"basic", "random", "edge"}, "variance of the gradient norms"),
        ("with replacement", noise_with_replacement, {"basic", "random", "edge"}, "with replacement"),
        ("missing factor 2", noise_no_two, {"basic", "random", "edge"}, "factor 2"),
    ],
}

RIGHT = {
    "minibatch_indices": [indices_loop, indices_array_split],
    "mse_gradient": [grad_loop, grad_einsum],
    "train_minibatch_sgd": [train_list_losses_tuple],
    "gradient_noise": [noise_loop],
}
