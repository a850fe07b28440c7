"""Implementations of the numpy step functions written the way students write them.

WRONG maps each graded function to realistic mistakes: (label, function, the parts
it must fail, a phrase the failure message must contain). RIGHT maps it to correct
implementations written differently from the reference (loops, float32 arithmetic,
lists instead of tuples, other but equivalent formulas): each must get full marks.
"""
import math

import numpy as np

# ----------------------------------------------------------------- wrong

def sgd_plus(x, g, lr):
    return x + lr * g


def sgd_inplace(x, g, lr):
    x -= lr * g
    return x


def momentum_ema(x, g, v, lr, beta):
    v = beta * v + (1 - beta) * g
    return x - lr * v, v


def momentum_old_velocity(x, g, v, lr, beta):
    return x - lr * v, beta * v + g


def momentum_inplace(x, g, v, lr, beta):
    v *= beta
    v += g
    return x - lr * v, v


def momentum_sign(x, g, v, lr, beta):
    v_new = beta * v + g
    return x + lr * v_new, v_new


def momentum_swapped(x, g, v, lr, beta):
    v_new = beta * v + g
    return v_new, x - lr * v_new


def momentum_cs231n(x, g, v, lr, beta):
    v_new = beta * v - lr * g
    return x + v_new, v_new


def nesterov_no_lookahead(x, g, v, lr, beta):
    v_new = beta * v + g
    return x - lr * v_new, v_new


def nesterov_sign(x, g, v, lr, beta):
    v_new = beta * v + g
    return x + lr * (g + beta * v_new), v_new


def adagrad_eps_inside(x, g, G, lr, eps=1e-10):
    G = G + g * g
    return x - lr * g / np.sqrt(G + eps), G


def adagrad_not_squared(x, g, G, lr, eps=1e-10):
    G = G + np.abs(g)
    return x - lr * g / (np.sqrt(G) + eps), G


def adagrad_old_accumulator(x, g, G, lr, eps=1e-10):
    return x - lr * g / (np.sqrt(G) + eps), G + g * g


def adagrad_inplace(x, g, G, lr, eps=1e-10):
    G += g * g
    return x - lr * g / (np.sqrt(G) + eps), G


def rmsprop_eps_inside(x, g, s, lr, alpha=0.99, eps=1e-8):
    s = alpha * s + (1 - alpha) * g ** 2
    return x - lr * g / np.sqrt(s + eps), s


def rmsprop_swapped_alpha(x, g, s, lr, alpha=0.99, eps=1e-8):
    s = (1 - alpha) * s + alpha * g ** 2
    return x - lr * g / (np.sqrt(s) + eps), s


def rmsprop_old_average(x, g, s, lr, alpha=0.99, eps=1e-8):
    return x - lr * g / (np.sqrt(s) + eps), alpha * s + (1 - alpha) * g ** 2


def adagrad_adds_g(x, g, G, lr, eps=1e-10):
    G = G + g   # negative sums give nan under the square root
    return x - lr * g / (np.sqrt(G) + eps), G


def rmsprop_not_squared(x, g, s, lr, alpha=0.99, eps=1e-8):
    s = alpha * s + (1 - alpha) * np.abs(g)
    return x - lr * g / (np.sqrt(s) + eps), s


def rmsprop_inplace(x, g, s, lr, alpha=0.99, eps=1e-8):
    s *= alpha
    s += (1 - alpha) * g * g
    return x - lr * g / (np.sqrt(s) + eps), s


def rmsprop_wrong_default(x, g, s, lr, alpha=0.9, eps=1e-8):
    s = alpha * s + (1 - alpha) * g ** 2
    return x - lr * g / (np.sqrt(s) + eps), s


def adam_no_bias_correction(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return x - lr * m / (np.sqrt(v) + eps), m, v


def adam_t_off_by_one(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    t = t + 1
    return x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def adam_store_hat(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = (beta1 * m + (1 - beta1) * g) / (1 - beta1 ** t)
    v = (beta2 * v + (1 - beta2) * g * g) / (1 - beta2 ** t)
    return x - lr * m / (np.sqrt(v) + eps), m, v


def adam_eps_inside(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return x - lr * (m / (1 - beta1 ** t)) / np.sqrt(v / (1 - beta2 ** t) + eps), m, v


def adam_not_squared(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * np.abs(g)
    return x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def adam_g_not_squared(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g
    with np.errstate(invalid="ignore"):  # v < 0 gives nan, as in the student's notebook
        return x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def _adam(x, g, m, v, t, lr, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    return x - lr * (m / (1 - beta1 ** t)) / (np.sqrt(v / (1 - beta2 ** t)) + eps), m, v


def adamw_decay_after(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    x, m, v = _adam(x, g, m, v, t, lr, beta1, beta2, eps)
    return x * (1 - lr * weight_decay), m, v


def adamw_coupled(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return _adam(x, g + weight_decay * x, m, v, t, lr, beta1, beta2, eps)


def adamw_no_lr(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return _adam(x * (1 - weight_decay), g, m, v, t, lr, beta1, beta2, eps)


WRONG = {
    "sgd_step": [
        ("sign error", sgd_plus, {"basic", "random", "edge", "trajectory"}, "goes up the gradient"),
        ("input mutated", sgd_inplace, {"basic", "random", "edge", "trajectory"}, "changed its input x in place"),
    ],
    "momentum_step": [
        ("EMA convention", momentum_ema, {"basic", "random", "edge", "trajectory"}, "EMA form"),
        ("old velocity for the step", momentum_old_velocity, {"basic", "random", "edge", "trajectory"},
         "old velocity"),
        ("velocity mutated in place", momentum_inplace, {"basic", "random", "edge", "trajectory"},
         "changed its input v in place"),
        ("sign error", momentum_sign, {"basic", "random", "edge", "trajectory"}, "sign is flipped"),
        ("swapped return order", momentum_swapped, {"basic", "random", "edge", "trajectory"}, "wrong order"),
        ("CS231n convention", momentum_cs231n, {"basic", "random", "edge", "trajectory"}, "CS231n form"),
    ],
    "nesterov_step": [
        ("no look-ahead", nesterov_no_lookahead, {"basic", "random", "edge", "trajectory"}, "no look-ahead"),
        ("sign error", nesterov_sign, {"basic", "random", "edge", "trajectory"}, "sign is flipped"),
    ],
    "adagrad_step": [
        ("eps inside the sqrt", adagrad_eps_inside, {"random", "edge"}, "eps is inside the square root"),
        ("accumulator not squared", adagrad_not_squared, {"basic", "random", "edge", "trajectory"},
         "instead of g squared"),
        ("old accumulator for the step", adagrad_old_accumulator, {"basic", "random", "edge", "trajectory"},
         "old accumulator"),
        ("accumulator mutated in place", adagrad_inplace, {"basic", "random", "edge", "trajectory"},
         "changed its input G in place"),
        ("accumulator adds g", adagrad_adds_g, {"basic", "random", "edge", "trajectory"},
         "adds g instead of g squared"),
    ],
    "rmsprop_step": [
        # with alpha near 1 a first step's s_new is ~1e-5, so eps = 1e-8 shows even in "basic"
        ("eps inside the sqrt", rmsprop_eps_inside, {"basic", "random", "edge", "trajectory"},
         "eps is inside the square root"),
        ("alpha and 1 - alpha swapped", rmsprop_swapped_alpha, {"basic", "random", "edge", "trajectory"},
         "swapped"),
        ("old average for the step", rmsprop_old_average, {"basic", "random", "edge", "trajectory"},
         "old average"),
        ("average not squared", rmsprop_not_squared, {"basic", "random", "edge", "trajectory"},
         "instead of g squared"),
        ("average mutated in place", rmsprop_inplace, {"basic", "random", "edge", "trajectory"},
         "changed its input s in place"),
        ("wrong default alpha", rmsprop_wrong_default, {"edge"}, "defaults"),
    ],
    "adam_step": [
        ("no bias correction", adam_no_bias_correction, {"basic", "random", "edge", "trajectory"},
         "no bias correction"),
        ("t off by one", adam_t_off_by_one, {"basic", "random", "edge", "trajectory"}, "off by one"),
        ("bias-corrected moments stored", adam_store_hat, {"basic", "random", "edge", "trajectory"},
         "returned as state"),
        # a converging trajectory reaches gradients small enough for eps to matter
        ("eps inside the sqrt", adam_eps_inside, {"random", "edge", "trajectory"},
         "eps is inside the square root"),
        ("gradient not squared", adam_not_squared, {"basic", "random", "edge", "trajectory"}, "v_new"),
        ("plain g in the second moment", adam_g_not_squared, {"basic", "random", "edge", "trajectory"},
         "instead of g squared"),
    ],
    "adamw_step": [
        ("decay after the update", adamw_decay_after, {"basic", "random", "edge", "trajectory"},
         "already updated x"),
        ("decay coupled to the gradient", adamw_coupled, {"basic", "random", "edge", "trajectory"},
         "coupled to the gradient"),
        ("decay without lr", adamw_no_lr, {"basic", "random", "edge", "trajectory"}, "not scaled by the learning rate"),
        ("no bias correction", lambda x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2:
         adam_no_bias_correction(x * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps),
         {"basic", "random", "edge", "trajectory"}, "no bias correction"),
    ],
}


# ----------------------------------------------------------------- right

def sgd_loop(x, g, lr):
    out = np.array(x, dtype=float, copy=True)
    for i in np.ndindex(out.shape):
        out[i] = x[i] - lr * g[i]
    return out


def momentum_list(x, g, v, lr, beta):
    v_new = np.multiply(beta, v) + g
    return [x - lr * v_new, v_new]


def momentum_loop(x, g, v, lr, beta):
    x_new, v_new = np.empty_like(x), np.empty_like(v)
    for i in np.ndindex(x.shape):
        v_new[i] = beta * v[i] + g[i]
        x_new[i] = x[i] - lr * v_new[i]
    return x_new, v_new


def momentum_copy_then_inplace(x, g, v, lr, beta):
    v = v.copy()
    v *= beta
    v += g
    x = x.copy()
    x -= lr * v
    return x, v


def nesterov_expanded(x, g, v, lr, beta):
    # the same step written as x - lr((1 + beta) g + beta^2 v)
    return x - lr * ((1 + beta) * g + beta * beta * v), beta * v + g


def adagrad_list(x, g, G, lr, eps=1e-10):
    G_new = G + np.square(g)
    return [x - lr * g / (np.sqrt(G_new) + eps), G_new]


def rmsprop_lerp(x, g, s, lr, alpha=0.99, eps=1e-8):
    s_new = s + (1 - alpha) * (g * g - s)   # torch's lerp form: the same average
    return x - lr * g / (np.sqrt(s_new) + eps), s_new


def adam_torch_form(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g ** 2
    step_size = lr / (1 - beta1 ** t)
    denom = np.sqrt(v_new) / math.sqrt(1 - beta2 ** t) + eps
    return x - step_size * m_new / denom, m_new, v_new


def adam_loop(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    x_new, m_new, v_new = (np.empty_like(a) for a in (x, m, v))
    for i in np.ndindex(x.shape):
        m_new[i] = beta1 * m[i] + (1 - beta1) * g[i]
        v_new[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
        m_hat = m_new[i] / (1 - beta1 ** t)
        v_hat = v_new[i] / (1 - beta2 ** t)
        x_new[i] = x[i] - lr * m_hat / (math.sqrt(v_hat) + eps)
    return [x_new, m_new, v_new]


def adamw_decay_term(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    # decay written as a separate term subtracted alongside the Adam step: the same AdamW
    _, m_new, v_new = _adam(x, g, m, v, t, lr, beta1, beta2, eps)
    adam_delta = lr * (m_new / (1 - beta1 ** t)) / (np.sqrt(v_new / (1 - beta2 ** t)) + eps)
    return x - lr * weight_decay * x - adam_delta, m_new, v_new


RIGHT = {
    "sgd_step": [sgd_loop],
    "momentum_step": [momentum_list, momentum_loop, momentum_copy_then_inplace],
    "nesterov_step": [nesterov_expanded],
    "adagrad_step": [adagrad_list],
    "rmsprop_step": [rmsprop_lerp],
    "adam_step": [adam_torch_form, adam_loop],
    "adamw_step": [adamw_decay_term],
}
