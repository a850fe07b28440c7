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


# ---------------------------------------------------------------- notebook 07

def _nadam_variant(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3,
                   *, product="chain", next_mu=True, update_product=True, precedence=False):
    g, t, mu_product = _a(g), float(t), float(mu_product)

    def mu_at(k):
        power = 0.96 ** k * momentum_decay if precedence else 0.96 ** (k * momentum_decay)
        return beta1 * (1.0 - 0.5 * power)

    mu, mu_next = mu_at(t), mu_at(t + 1)
    if not next_mu:
        mu_next = mu
    big_p = {"chain": mu_product * mu, "mu": mu, "beta1": beta1 ** t}[product]
    big_p_next = big_p * mu_next if product != "beta1" else beta1 ** (t + 1)
    m_new = beta1 * _a(m) + (1 - beta1) * g
    v_new = beta2 * _a(v) + (1 - beta2) * g * g
    with np.errstate(divide="ignore", invalid="ignore"):
        denom = np.sqrt(v_new / (1 - beta2 ** t)) + eps
        x_new = (_a(x) - lr * (1 - mu) / (1 - big_p) * g / denom
                 - lr * mu_next / (1 - big_p_next) * m_new / denom)
    return x_new, m_new, v_new, (mu_product * mu if update_product else mu_product)


_NADAM_FORMS = {
    "the bias correction uses mu_t alone (1 - mu_t); NAdam divides by 1 - mu_product * mu_t, "
    "the running product mu_1 mu_2 ... mu_t": dict(product="mu"),
    "the bias correction uses beta1^t, as Adam does; NAdam's uses the running product of the "
    "momentum coefficients, mu_product * mu_t = mu_1 mu_2 ... mu_t": dict(product="beta1"),
    "the momentum term uses mu_t; NAdam's look-ahead weights m_new with the next coefficient, "
    "mu_{t+1} / (1 - mu_product * mu_t * mu_{t+1})": dict(next_mu=False),
    "the running product is not updated: return mu_product_new = mu_product * mu_t": dict(update_product=False),
    "the exponent of 0.96 is t * momentum_decay: mu_t = beta1 (1 - 0.5 * 0.96 ** (t * momentum_decay)); "
    "without the parentheses 0.96 ** t * momentum_decay multiplies after the power": dict(precedence=True),
}

STEP_MISTAKES["nadam_step"] = {
    label: (lambda x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3,
            _kw=kw: _nadam_variant(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay, **_kw))
    for label, kw in _NADAM_FORMS.items()
}


def _radam_variant(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, *, threshold=5.0, t_shift=0,
                   rectify=True, fallback_hat=True, v_correct=True):
    g, t = _a(g), float(t)
    m_new = beta1 * _a(m) + (1 - beta1) * g
    v_new = beta2 * _a(v) + (1 - beta2) * g * g
    m_hat = m_new / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    tt = t + t_shift
    with np.errstate(divide="ignore", invalid="ignore"):
        rho_t = rho_inf - 2 * tt * np.float64(beta2) ** tt / (1 - np.float64(beta2) ** tt)
        if rho_t > threshold:
            rect = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            correction = np.sqrt(1 - beta2 ** t) if v_correct else 1.0
            return _a(x) - lr * m_hat * correction / (np.sqrt(v_new) + eps) * (rect if rectify else 1.0), m_new, v_new
    return _a(x) - lr * (m_hat if fallback_hat else m_new), m_new, v_new


_RADAM_FORMS = {
    "the switch comes one step early (rho_t > 4): torch takes the adapted step only while rho_t > 5, "
    "for beta2 near 1 from t = 6 on": dict(threshold=4.0),
    "rho_t is computed with t + 1; use the 1-based t as given": dict(t_shift=1),
    "rho_t is computed with t - 1; use the 1-based t as given": dict(t_shift=-1),
    "the rectification term is missing: the adapted step is multiplied by "
    "r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))": dict(rectify=False),
    "the unadapted step (while rho_t <= 5) uses the raw m_new; it takes the bias-corrected "
    "m_hat = m_new / (1 - beta1^t)": dict(fallback_hat=False),
    "the adapted step forgets the second-moment correction: it is multiplied by sqrt(1 - beta2^t)":
        dict(v_correct=False),
}

STEP_MISTAKES["radam_step"] = {
    label: (lambda x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, _kw=kw:
            _radam_variant(x, g, m, v, t, lr, beta1, beta2, eps, **_kw))
    for label, kw in _RADAM_FORMS.items()
}


def _lion_variant(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0, *, momentum_first=False,
                  swap=False, decay="lr", sign_zero=0.0, weights_swapped=False):
    x, g, m = _a(x), _a(g), _a(m)
    b1, b2 = (beta2, beta1) if swap else (beta1, beta2)
    if decay == "coupled":
        g = g + weight_decay * x
    m_new = b2 * m + (1 - b2) * g
    mix = m_new if momentum_first else m
    u = (1 - b1) * mix + b1 * g if weights_swapped else b1 * mix + (1 - b1) * g
    direction = np.where(u == 0, sign_zero, np.sign(u))
    if decay == "after":
        return (x - lr * direction) * (1 - lr * weight_decay), m_new
    shrink = {"lr": 1 - lr * weight_decay, "no lr": 1 - weight_decay, "coupled": 1.0}[decay]
    return x * shrink - lr * direction, m_new


_LION_FORMS = {
    "the momentum is updated before the sign: Lion takes sign(beta1 m + (1 - beta1) g) with the old m, "
    "then updates m": dict(momentum_first=True),
    "beta1 and beta2 are swapped: beta1 interpolates for the sign, beta2 updates the momentum": dict(swap=True),
    "the interpolation's weights are swapped: the sign is of beta1 m + (1 - beta1) g": dict(weights_swapped=True),
    "the decay is not scaled by the learning rate: x (1 - lr weight_decay), not x (1 - weight_decay)":
        dict(decay="no lr"),
    "the decay shrinks the already updated x; decay x first: x (1 - lr weight_decay) - lr sign(...)":
        dict(decay="after"),
    "the weight decay is added to the gradient (L2); Lion decays x directly: x (1 - lr weight_decay)":
        dict(decay="coupled"),
    "sign(0) must be 0 (np.sign): where beta1 m + (1 - beta1) g is 0 the coordinate does not move":
        dict(sign_zero=1.0),
}

STEP_MISTAKES["lion_step"] = {
    label: (lambda x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0, _kw=kw:
            _lion_variant(x, g, m, lr, beta1, beta2, weight_decay, **_kw))
    for label, kw in _LION_FORMS.items()
}


_NS_ABC = (3.4445, -4.7750, 2.0315)


def _ns_variant(G, steps=5, eps=1e-7, *, norm="fro", abc=_NS_ABC, eps_rule="max", extra_steps=0):
    G = _a(G)
    a, b, c = abc
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    with np.errstate(all="ignore"):
        size = {"fro": np.linalg.norm(X), "spectral": np.linalg.norm(X, 2) if X.size else 0.0, "none": 1.0}[norm]
        if norm != "none":
            X = X / {"max": max(size, eps), "add": size + eps, "none": size}[eps_rule]
        for _ in range(int(steps) + extra_steps):
            A = X @ X.T
            X = a * X + (b * A + c * (A @ A)) @ X
    return X.T if tall else X


_NS_FORMS = {
    "G is not normalised first: the iteration starts from X = G / max(||G||_F, eps), whose singular values "
    "are at most 1": dict(norm="none"),
    "the coefficients are in the wrong order: X <- a X + (b A + c A A) X with (a, b, c) = (3.4445, -4.775, 2.0315)":
        dict(abc=_NS_ABC[::-1]),
    "G is divided by its spectral norm (the largest singular value); torch divides by the Frobenius norm "
    "||G||_F = sqrt(sum of G**2)": dict(norm="spectral"),
    "eps is added to the norm; torch's eps is a floor: X = G / max(||G||_F, eps)": dict(eps_rule="add"),
    "the norm has no floor: X = G / max(||G||_F, eps), so that a zero or tiny G stays finite": dict(eps_rule="none"),
    "the iteration runs steps + 1 times; run it exactly steps times": dict(extra_steps=1),
    "the iteration runs steps - 1 times; run it exactly steps times": dict(extra_steps=-1),
}

STEP_MISTAKES["newton_schulz"] = {
    label: (lambda G, steps=5, eps=1e-7, _kw=kw: _ns_variant(G, steps, eps, **_kw)) for label, kw in _NS_FORMS.items()
}


def _muon_variant(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7,
                  *, lookahead="new", adjust="original", decay="first", buffer="lerp", ns=None):
    x, g, buf = _a(x), _a(g), _a(buf)
    if buffer == "lerp":
        buf_new = momentum * buf + (1 - momentum) * g
        update = (1 - momentum) * g + momentum * buf_new if nesterov and lookahead != "none" else buf_new
    else:   # SGD's momentum and look-ahead
        buf_new = momentum * buf + g
        update = g + momentum * buf_new if nesterov else buf_new
    rows, cols = x.shape
    scale = {"original": math.sqrt(max(1, rows / cols)), "none": 1.0,
             "inverted": math.sqrt(max(1, cols / rows)), "no max": math.sqrt(rows / cols)}[adjust]
    orth = (ns or _ns_variant)(update, ns_steps, eps)
    with np.errstate(all="ignore"):
        if decay == "after":
            return (x - lr * scale * orth) * (1 - lr * weight_decay), buf_new
        shrink = 1 - (lr * weight_decay if decay == "first" else weight_decay)
        return x * shrink - lr * scale * orth, buf_new


_MUON_FORMS = {
    # (1 - momentum) g + momentum buf, the look-ahead on the old buffer, is buf_new itself
    "there is no Nesterov look-ahead (the update is buf_new, which is also what the look-ahead on the old "
    "buffer gives); with nesterov=True the update is (1 - momentum) g + momentum buf_new":
        dict(lookahead="none"),
    "the learning rate is not adjusted for the shape: torch scales it by sqrt(max(1, rows / cols))":
        dict(adjust="none"),
    "the shape adjustment is inverted: it is sqrt(max(1, rows / cols)), rows over columns":
        dict(adjust="inverted"),
    "the shape adjustment must never shrink the rate: sqrt(max(1, rows / cols)), not sqrt(rows / cols)":
        dict(adjust="no max"),
    "the decay shrinks the already updated x; decay x first: x (1 - lr weight_decay) - lr ...":
        dict(decay="after"),
    "the decay is not scaled by the learning rate: x (1 - lr weight_decay), not x (1 - weight_decay)":
        dict(decay="no lr"),
    "the buffer adds the raw gradient (momentum buf + g, as torch's SGD does); torch's Muon averages it in: "
    "buf_new = momentum buf + (1 - momentum) g, and the look-ahead is (1 - momentum) g + momentum buf_new":
        dict(buffer="sum"),
    "the update is not normalised before the Newton-Schulz iteration: it starts from "
    "update / max(||update||_F, eps)": dict(ns=lambda G, steps, eps: _ns_variant(G, steps, eps, norm="none")),
}

STEP_MISTAKES["muon_step"] = {
    label: (lambda x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7, _kw=kw:
            _muon_variant(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, **_kw))
    for label, kw in _MUON_FORMS.items()
}
