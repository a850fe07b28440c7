"""Common wrong implementations, used only to name the problem in a failure message.

When a student's result disagrees with the reference, the checks evaluate each
mistake listed here on the same inputs; if one reproduces the student's result, the
message says which. The wording addresses the student.
"""
import math

import numpy as np

from grader.reference import adam as _adam
from grader.reference import schedules as _sched


def _a(z):
    return np.asarray(z, dtype=np.float64)


STEP_MISTAKES = {
    "sgd_step": {
        "the sign is flipped: the step goes up the gradient (x + lr g)":
            lambda x, g, lr: _a(x) + lr * _a(g),
    },
    "momentum_step": {
        "this is the EMA form v_new = beta v + (1 - beta) g; the course uses torch's form v_new = beta v + g":
            lambda x, g, v, lr, beta: (_a(x) - lr * (beta * _a(v) + (1 - beta) * _a(g)),
                                       beta * _a(v) + (1 - beta) * _a(g)),
        "the step uses the old velocity v instead of v_new":
            lambda x, g, v, lr, beta: (_a(x) - lr * _a(v), beta * _a(v) + _a(g)),
        "the sign is flipped: the step goes up the velocity (x + lr v_new)":
            lambda x, g, v, lr, beta: (_a(x) + lr * (beta * _a(v) + _a(g)), beta * _a(v) + _a(g)),
        "this is the CS231n form (v_new = beta v - lr g, x_new = x + v_new); "
        "torch's buffer holds the sum of raw gradients, v_new = beta v + g":
            lambda x, g, v, lr, beta: (_a(x) + beta * _a(v) - lr * _a(g), beta * _a(v) - lr * _a(g)),
        "this is Nesterov's update, not plain momentum":
            lambda x, g, v, lr, beta: (_a(x) - lr * (_a(g) + beta * (beta * _a(v) + _a(g))),
                                       beta * _a(v) + _a(g)),
    },
    "nesterov_step": {
        "there is no look-ahead: x_new = x - lr v_new is plain momentum; Nesterov steps along g + beta v_new":
            lambda x, g, v, lr, beta: (_a(x) - lr * (beta * _a(v) + _a(g)), beta * _a(v) + _a(g)),
        "this is the EMA form v_new = beta v + (1 - beta) g; the course uses torch's form v_new = beta v + g":
            lambda x, g, v, lr, beta: (_a(x) - lr * (_a(g) + beta * (beta * _a(v) + (1 - beta) * _a(g))),
                                       beta * _a(v) + (1 - beta) * _a(g)),
        "the sign is flipped: the step goes up the gradient":
            lambda x, g, v, lr, beta: (_a(x) + lr * (_a(g) + beta * (beta * _a(v) + _a(g))),
                                       beta * _a(v) + _a(g)),
    },
    "adagrad_step": {
        "eps is inside the square root (sqrt(G_new + eps)); torch adds it outside: sqrt(G_new) + eps":
            lambda x, g, G, lr, eps=1e-10: (_a(x) - lr * _a(g) / np.sqrt(_a(G) + _a(g) ** 2 + eps),
                                            _a(G) + _a(g) ** 2),
        "the accumulator adds g instead of g squared":
            lambda x, g, G, lr, eps=1e-10: (_a(x) - lr * _a(g) / (np.sqrt(_a(G) + _a(g)) + eps),
                                            _a(G) + _a(g)),
        "the accumulator adds |g| instead of g squared":
            lambda x, g, G, lr, eps=1e-10: (_a(x) - lr * _a(g) / (np.sqrt(_a(G) + np.abs(_a(g))) + eps),
                                            _a(G) + np.abs(_a(g))),
        "the step divides by the old accumulator G instead of G_new":
            lambda x, g, G, lr, eps=1e-10: (_a(x) - lr * _a(g) / (np.sqrt(_a(G)) + eps),
                                            _a(G) + _a(g) ** 2),
        "the step forgets the square root: it divides by G_new, not sqrt(G_new)":
            lambda x, g, G, lr, eps=1e-10: (_a(x) - lr * _a(g) / (_a(G) + _a(g) ** 2 + eps),
                                            _a(G) + _a(g) ** 2),
    },
    "rmsprop_step": {
        "eps is inside the square root (sqrt(s_new + eps)); torch adds it outside: sqrt(s_new) + eps":
            lambda x, g, s, lr, alpha=0.99, eps=1e-8: (
                _a(x) - lr * _a(g) / np.sqrt(alpha * _a(s) + (1 - alpha) * _a(g) ** 2 + eps),
                alpha * _a(s) + (1 - alpha) * _a(g) ** 2),
        "alpha and 1 - alpha are swapped: s_new = (1 - alpha) s + alpha g^2":
            lambda x, g, s, lr, alpha=0.99, eps=1e-8: (
                _a(x) - lr * _a(g) / (np.sqrt((1 - alpha) * _a(s) + alpha * _a(g) ** 2) + eps),
                (1 - alpha) * _a(s) + alpha * _a(g) ** 2),
        "the step divides by the old average s instead of s_new":
            lambda x, g, s, lr, alpha=0.99, eps=1e-8: (
                _a(x) - lr * _a(g) / (np.sqrt(_a(s)) + eps),
                alpha * _a(s) + (1 - alpha) * _a(g) ** 2),
        "the average takes g instead of g squared":
            lambda x, g, s, lr, alpha=0.99, eps=1e-8: (
                _a(x) - lr * _a(g) / (np.sqrt(alpha * _a(s) + (1 - alpha) * _a(g)) + eps),
                alpha * _a(s) + (1 - alpha) * _a(g)),
        "the average takes |g| instead of g squared":
            lambda x, g, s, lr, alpha=0.99, eps=1e-8: (
                _a(x) - lr * _a(g) / (np.sqrt(alpha * _a(s) + (1 - alpha) * np.abs(_a(g))) + eps),
                alpha * _a(s) + (1 - alpha) * np.abs(_a(g))),
    },
}


def _adam_variant(x, g, m, v, t, lr, beta1, beta2, eps, *, correct=True, t_shift=0,
                  store_hat=False, eps_inside=False, square=True, root_correction=True):
    g = _a(g)
    m_new = beta1 * _a(m) + (1 - beta1) * g
    v_new = beta2 * _a(v) + (1 - beta2) * (g * g if square is True else np.abs(g) if square == "abs" else g)
    tt = t + t_shift
    with np.errstate(divide="ignore", invalid="ignore"):
        m_hat = m_new / (1 - beta1 ** tt) if correct else m_new
        v_hat = v_new / (1 - beta2 ** tt) if correct else v_new
        denom = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
        if not root_correction:  # sqrt(v_new) / (1 - beta2^t): the correction outside the root
            denom = np.sqrt(v_new) / (1 - beta2 ** tt) + eps
        x_new = _a(x) - lr * m_hat / denom
    if store_hat:
        return x_new, m_hat, v_hat
    return x_new, m_new, v_new


_ADAM_FORMS = {
    "there is no bias correction: divide m_new by (1 - beta1^t) and v_new by (1 - beta2^t)":
        dict(correct=False),
    "the step counter is off by one: use t as given (1 on the first update) in the bias correction":
        dict(t_shift=1),
    "the step counter is off by one (t - 1 used in the bias correction)":
        dict(t_shift=-1),
    "the bias-corrected moments are returned as state; keep the raw m_new, v_new and correct only for the step":
        dict(store_hat=True),
    "eps is inside the square root (sqrt(v_hat + eps)); torch adds it outside: sqrt(v_hat) + eps":
        dict(eps_inside=True),
    "the second moment averages g instead of g squared":
        dict(square=False),
    "the second moment v_new averages |g| instead of g squared":
        dict(square="abs"),
    "the second-moment correction is outside the square root: use sqrt(v_new / (1 - beta2^t)), "
    "that is sqrt(v_new) / sqrt(1 - beta2^t)":
        dict(root_correction=False),
}

STEP_MISTAKES["adam_step"] = {
    label: (lambda x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, _kw=kw:
            _adam_variant(x, g, m, v, t, lr, beta1, beta2, eps, **_kw))
    for label, kw in _ADAM_FORMS.items()
}


def _adamw_coupled(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return _adam.adam_step(x, _a(g) + weight_decay * _a(x), m, v, t, lr, beta1, beta2, eps)


def _adamw_no_lr(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return _adam.adam_step(_a(x) * (1 - weight_decay), g, m, v, t, lr, beta1, beta2, eps)


def _adamw_decay_updated(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    x_new, m_new, v_new = _adam.adam_step(x, g, m, v, t, lr, beta1, beta2, eps)
    return x_new * (1 - lr * weight_decay), m_new, v_new


STEP_MISTAKES["adamw_step"] = {
    "the weight decay is coupled to the gradient (g + weight_decay x, Adam with L2); AdamW decays x directly":
        _adamw_coupled,
    "the decay shrinks the already updated x; decay x first, then take the Adam step":
        _adamw_decay_updated,
    "the decay is not scaled by the learning rate: x (1 - lr weight_decay), not x (1 - weight_decay)":
        _adamw_no_lr,
}
STEP_MISTAKES["adamw_step"].update({
    label: (lambda x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2, _kw=kw:
            _adam_variant(_a(x) * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps, **_kw))
    for label, kw in _ADAM_FORMS.items()
})


def _cos(progress, lr0, lr_min):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2


SCHEDULE_MISTAKES = {
    "step_decay": {
        "the decay counts from step + 1: use step // step_size with the 0-based step":
            lambda step, lr0, step_size, gamma: lr0 * gamma ** ((step + 1) // step_size),
        "the decay happens every step, not once every step_size steps":
            lambda step, lr0, step_size, gamma: lr0 * gamma ** step,
        "the exponent uses step / step_size without rounding down":
            lambda step, lr0, step_size, gamma: lr0 * gamma ** (step / step_size),
    },
    "exponential_decay": {
        "the decay counts from step + 1: at step 0 the rate must be lr0":
            lambda step, lr0, gamma: lr0 * gamma ** (step + 1),
    },
    "cosine_annealing": {
        "the cosine runs over T_max + 1 steps: it must reach lr_min exactly at step T_max":
            lambda step, lr0, T_max, lr_min=0.0: lr_min if step > T_max else _cos(step / (T_max + 1), lr0, lr_min),
        "there is no clamp after T_max: from step T_max on the rate stays at lr_min":
            lambda step, lr0, T_max, lr_min=0.0: _cos(step / T_max, lr0, lr_min),
        "the cosine uses (step + 1): at step 0 the rate must be lr0":
            lambda step, lr0, T_max, lr_min=0.0: lr_min if step >= T_max else _cos((step + 1) / T_max, lr0, lr_min),
        "lr_min is ignored: the cosine goes from lr0 to 0":
            lambda step, lr0, T_max, lr_min=0.0: 0.0 if step >= T_max else _cos(step / T_max, lr0, 0.0),
        "the factor is cos(pi step / T_max), which goes from 1 to -1; use (1 + cos(pi step / T_max)) / 2, from 1 to 0":
            lambda step, lr0, T_max, lr_min=0.0: (
                lr_min if step >= T_max else lr_min + (lr0 - lr_min) * math.cos(math.pi * step / T_max)),
        "the factor 1/2 is missing: (1 + cos(pi step / T_max)) / 2 goes from 1 to 0":
            lambda step, lr0, T_max, lr_min=0.0: (
                lr_min if step >= T_max else lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * step / T_max))),
    },
    "warmup_cosine": {
        "the warmup starts at zero (lr0 step / warmup_steps); "
        "at step 0 the rate is already lr0 / warmup_steps: lr0 (step + 1) / warmup_steps":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * step / warmup_steps if step < warmup_steps
                else _sched.warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min)),
        "the cosine's progress is measured from step 0 instead of from the end of the warmup":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step < warmup_steps
                else lr_min if step >= total_steps else _cos(step / total_steps, lr0, lr_min)),
        "there is no clamp after total_steps: from step total_steps on the rate stays at lr_min":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step < warmup_steps
                else _cos((step - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min)),
        "the cosine runs one step too long (total_steps + 1)":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step < warmup_steps
                else lr_min if step > total_steps
                else _cos((step - warmup_steps) / (total_steps + 1 - warmup_steps), lr0, lr_min)),
        "the warmup runs one step too long (step <= warmup_steps): at step warmup_steps the cosine starts, at lr0":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step <= warmup_steps
                else _sched.warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min)),
        "the cosine uses (step + 1): at step warmup_steps the rate must be lr0":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step < warmup_steps
                else lr_min if step >= total_steps
                else _cos((step + 1 - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min)),
        "the cosine lasts total_steps steps after the warmup; total_steps counts the warmup too, "
        "so the cosine ends at step total_steps":
            lambda step, lr0, warmup_steps, total_steps, lr_min=0.0: (
                lr0 * (step + 1) / warmup_steps if step < warmup_steps
                else lr_min if step >= warmup_steps + total_steps
                else _cos((step - warmup_steps) / total_steps, lr0, lr_min)),
    },
}
