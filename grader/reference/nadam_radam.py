"""Notebook 07: NAdam and RAdam as numpy steps, written to follow torch.optim bit for bit.

The oracles are ``torch.optim.NAdam`` and ``torch.optim.RAdam`` with weight_decay=0
(torch 2.13: ``_single_tensor_nadam`` in torch/optim/nadam.py, lines 329-378, and
``_single_tensor_radam`` in torch/optim/radam.py, lines 300-358). The scalar factors
(mu_t, the mu product, rho_t, the rectification term) are Python floats computed with
torch's expressions in torch's order, so that RAdam's test ``rho_t > 5`` takes the same
branch as torch's even where rho_t rounds badly (beta2 within 1e-8 of 1).

NAdam keeps one scalar of state besides m and v: the running product of the momentum
coefficients, mu_product = mu_1 mu_2 ... mu_t (1.0 before the first update). It is
passed in and returned as a Python float, like a hyperparameter.
"""

import numpy as np


def nadam_step(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
               momentum_decay=4e-3):
    """One NAdam update (torch.optim.NAdam, weight_decay=0); t is the 1-based index of this update.

    mu_t = beta1 (1 - 0.5 * 0.96 ** (t * momentum_decay)), mu_{t+1} likewise with t + 1;
    P_t = mu_product * mu_t (returned as mu_product_new); m and v are Adam's moments;
    x_new = x - lr (1 - mu_t) / (1 - P_t) * g / d - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m_new / d
    with d = sqrt(v_new / (1 - beta2 ** t)) + eps. Returns (x_new, m_new, v_new, mu_product_new).
    """
    g = np.asarray(g)
    step = float(t)
    mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
    mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
    mu_product_new = float(mu_product) * mu
    mu_product_next = mu_product_new * mu_next
    m_new = beta1 * np.asarray(m) + (1 - beta1) * g
    v_new = beta2 * np.asarray(v) + (1 - beta2) * g * g
    denom = np.sqrt(v_new / (1 - beta2 ** step)) + eps
    # Nesterov's look-ahead: the current gradient with weight 1 - mu_t, the momentum with
    # the next step's mu_{t+1}, each bias-corrected by its own product of mus.
    x_new = (np.asarray(x) + (-lr * (1.0 - mu) / (1.0 - mu_product_new)) * (g / denom)
             + (-lr * mu_next / (1.0 - mu_product_next)) * (m_new / denom))
    return x_new, m_new, v_new, mu_product_new


def radam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One RAdam update (torch.optim.RAdam, weight_decay=0); t is the 1-based index of this update.

    rho_inf = 2 / (1 - beta2) - 1 is the longest simple moving average the EMA v
    approximates, rho_t = rho_inf - 2 t beta2 ** t / (1 - beta2 ** t) its length after t
    steps. While rho_t <= 5 the variance of the adaptive rate is not defined, and the step
    is the bias-corrected momentum, unadapted: x_new = x - lr m_hat. Otherwise
    x_new = x - lr m_hat sqrt(1 - beta2 ** t) / (sqrt(v_new) + eps) r_t, with the
    rectification r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t)).
    Returns (x_new, m_new, v_new).
    """
    g = np.asarray(g)
    step = float(t)
    m_new = beta1 * np.asarray(m) + (1 - beta1) * g
    v_new = beta2 * np.asarray(v) + (1 - beta2) * g * g
    bias_correction1 = 1 - beta1 ** step
    bias_correction2 = 1 - beta2 ** step
    m_hat = m_new / bias_correction1
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * step * (beta2 ** step) / bias_correction2
    if rho_t > 5.0:
        rect = ((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
        adaptive = (bias_correction2 ** 0.5) / (np.sqrt(v_new) + eps)
        x_new = np.asarray(x) - m_hat * lr * adaptive * rect
    else:
        x_new = np.asarray(x) - m_hat * lr
    return x_new, m_new, v_new
