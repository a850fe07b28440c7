"""Notebook 01: plain SGD, heavy-ball momentum and Nesterov, in PyTorch's convention."""
import numpy as np


def sgd_step(x, g, lr):
    return np.asarray(x) - lr * np.asarray(g)


def momentum_step(x, g, v, lr, beta):
    # torch.optim.SGD(momentum=beta, dampening=0): the buffer sums raw gradients.
    v_new = beta * np.asarray(v) + np.asarray(g)
    return np.asarray(x) - lr * v_new, v_new


def nesterov_step(x, g, v, lr, beta):
    # torch's Nesterov form: step along g + beta * v_new, using only the current gradient.
    g = np.asarray(g)
    v_new = beta * np.asarray(v) + g
    return np.asarray(x) - lr * (g + beta * v_new), v_new


def ema_to_torch_lr(lr_ema, beta):
    # EMA form: v' = beta v' + (1 - beta) g, x -= lr_ema v'. Since v' = (1 - beta) v,
    # it is torch's form with lr = lr_ema (1 - beta).
    return lr_ema * (1 - beta)
