"""Notebook 04: minibatches, the least-squares gradient, minibatch SGD, gradient noise."""
import numpy as np


def minibatch_indices(n, batch_size, rng, drop_last=False):
    order = rng.permutation(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if drop_last and batches and len(batches[-1]) < batch_size:
        batches.pop()
    return batches


def mse_gradient(w, X, y):
    residual = X @ w - y
    return 2.0 * (X.T @ residual) / len(y)


def mse_loss(w, X, y):
    return float(np.mean((X @ w - y) ** 2))


def train_minibatch_sgd(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    for _ in range(epochs):
        for idx in minibatch_indices(len(y), batch_size, rng):
            w = w - lr * mse_gradient(w, X[idx], y[idx])
        losses.append(mse_loss(w, X, y))
    return w, np.array(losses)


def gradient_noise(w, X, y, batch_size, rng, n_draws):
    g_full = mse_gradient(w, X, y)
    total = 0.0
    for _ in range(n_draws):
        idx = rng.choice(len(y), batch_size, replace=False)
        diff = mse_gradient(w, X[idx], y[idx]) - g_full
        total += float(diff @ diff)
    return total / n_draws
