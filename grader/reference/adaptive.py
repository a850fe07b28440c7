"""Notebook 02: AdaGrad and RMSprop, eps outside the square root as in torch.optim."""
import numpy as np


def adagrad_step(x, g, G, lr, eps=1e-10):
    g = np.asarray(g)
    G_new = np.asarray(G) + g * g
    return np.asarray(x) - lr * g / (np.sqrt(G_new) + eps), G_new


def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    g = np.asarray(g)
    s_new = alpha * np.asarray(s) + (1 - alpha) * g * g
    return np.asarray(x) - lr * g / (np.sqrt(s_new) + eps), s_new
