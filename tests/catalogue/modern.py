"""Notebook 07's graded functions written the way students write them.

WRONG maps each graded function to realistic mistakes: (label, function, the parts it
must fail, a phrase the failure message must contain). RIGHT maps it to correct
implementations written differently from the reference: each must get full marks.

Two slips look wrong but cannot be graded by values, so they stand among the correct
variants, with the reason:
- Newton-Schulz with the transpose forgotten for a tall G iterates on the large Gram
  matrix X^T X; the polynomial acts on the same singular values, so the result equals
  torch's up to rounding (6.5e-15). Only its cost differs.
- RAdam's switch written ``rho_t >= 5`` differs from torch's ``rho_t > 5`` only where
  rho_t is exactly 5.0, which no beta2 and t give in floating point (rho_t is 1 at t = 1
  for every beta2 and never lands on 5 for the betas students use); the off-by-one
  switches that values do show are ``rho_t > 4`` and t + 1 or t - 1 in rho_t.
"""
import math

import numpy as np

A, B, C = 3.4445, -4.7750, 2.0315

# ================================================================== NAdam


def _mu(t, beta1, momentum_decay):
    return beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))


def _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay, *, p_t=None, p_next=None,
           mu=None, mu_next=None, new_product=None):
    mu = _mu(t, beta1, momentum_decay) if mu is None else mu
    mu_next = _mu(t + 1, beta1, momentum_decay) if mu_next is None else mu_next
    p_t = mu_product * mu if p_t is None else p_t
    p_next = p_t * mu_next if p_next is None else p_next
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    denom = np.sqrt(v / (1 - beta2 ** t)) + eps
    x = x - lr * (1 - mu) / (1 - p_t) * g / denom - lr * mu_next / (1 - p_next) * m / denom
    return x, m, v, (mu_product * mu if new_product is None else new_product)


def nadam_mu_alone(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    mu, mu_next = _mu(t, beta1, momentum_decay), _mu(t + 1, beta1, momentum_decay)
    return _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay, p_t=mu, p_next=mu * mu_next)


def nadam_beta1_power(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    return _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay,
                  p_t=beta1 ** t, p_next=beta1 ** (t + 1))


def nadam_mu_t_for_momentum(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                            momentum_decay=4e-3):
    return _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay,
                  mu_next=_mu(t, beta1, momentum_decay))


def nadam_product_not_updated(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                              momentum_decay=4e-3):
    return _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay, new_product=mu_product)


def nadam_precedence(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    mu = beta1 * (1 - 0.5 * 0.96 ** t * momentum_decay)
    mu_next = beta1 * (1 - 0.5 * 0.96 ** (t + 1) * momentum_decay)
    return _nadam(x, g, m, v, mu_product, t, lr, beta1, beta2, eps, momentum_decay, mu=mu, mu_next=mu_next)


def nadam_inplace(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    m *= beta1
    m += (1 - beta1) * g
    v *= beta2
    v += (1 - beta2) * g * g
    mu, mu_next = _mu(t, beta1, momentum_decay), _mu(t + 1, beta1, momentum_decay)
    p = mu_product * mu
    denom = np.sqrt(v / (1 - beta2 ** t)) + eps
    return x - lr * (1 - mu) / (1 - p) * g / denom - lr * mu_next / (1 - p * mu_next) * m / denom, m, v, p


# ----------------------------------------------------------------- right

def nadam_loop(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3):
    mu = beta1 * (1 - 0.5 * math.pow(0.96, t * momentum_decay))
    mu_next = beta1 * (1 - 0.5 * math.pow(0.96, (t + 1) * momentum_decay))
    p = mu_product * mu
    x_new, m_new, v_new = np.empty_like(x), np.empty_like(m), np.empty_like(v)
    for i in np.ndindex(x.shape):
        m_new[i] = beta1 * m[i] + (1 - beta1) * g[i]
        v_new[i] = beta2 * v[i] + (1 - beta2) * g[i] ** 2
        d = math.sqrt(v_new[i] / (1 - beta2 ** t)) + eps
        x_new[i] = x[i] - lr * ((1 - mu) / (1 - p) * g[i] + mu_next / (1 - p * mu_next) * m_new[i]) / d
    return [x_new, m_new, v_new, p]


def nadam_recomputed_product(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,
                             momentum_decay=4e-3):
    """Ignores the mu_product passed in and multiplies the mus from 1 to t again: the same
    number in every run that starts from 1.0 (the checks pass the state a run has)."""
    p = 1.0
    for k in range(1, t + 1):
        p *= _mu(k, beta1, momentum_decay)
    mu, mu_next = _mu(t, beta1, momentum_decay), _mu(t + 1, beta1, momentum_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    step = np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps
    return x - lr * ((1 - mu) / (1 - p)) * g / step - lr * (mu_next / (1 - p * mu_next)) * m / step, m, v, p


# ================================================================== RAdam


def _radam(x, g, m, v, t, lr, beta1, beta2, eps, *, switch=lambda rho: rho > 5, rho_t_of=None, rect_on=True,
           fallback_raw=False, v_correct=True):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat = m / (1 - beta1 ** t)
    rho_inf = 2 / (1 - beta2) - 1
    tr = t if rho_t_of is None else rho_t_of(t)
    rho_t = rho_inf - 2 * tr * beta2 ** tr / (1 - beta2 ** tr)
    if switch(rho_t):
        rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
        corr = math.sqrt(1 - beta2 ** t) if v_correct else 1.0
        return x - lr * m_hat * corr / (np.sqrt(v) + eps) * (rect if rect_on else 1.0), m, v
    return x - lr * (m if fallback_raw else m_hat), m, v


def radam_threshold_4(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, switch=lambda rho: rho > 4)


def radam_t_plus_1(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, rho_t_of=lambda t: t + 1)


def radam_t_minus_1(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    # 0-based step count in rho_t; at t = 1 the 0 / 0 is caught and taken as "not yet"
    if t == 1:
        m_new = beta1 * m + (1 - beta1) * g
        return x - lr * m_new / (1 - beta1), m_new, beta2 * v + (1 - beta2) * g * g
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, rho_t_of=lambda t: t - 1)


def radam_no_rectification(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, rect_on=False)


def radam_fallback_raw_m(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, fallback_raw=True)


def radam_no_v_correction(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, v_correct=False)


# ----------------------------------------------------------------- right

def radam_greater_equal(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """``rho_t >= 5``: see the module's docstring."""
    return _radam(x, g, m, v, t, lr, beta1, beta2, eps, switch=lambda rho: rho >= 5)


def radam_where(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """Both steps computed with numpy, one chosen with np.where (the rejected branch's nan
    from a negative square root never reaches the result)."""
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * np.square(g)
    m_hat = m_new / (1 - beta1 ** t)
    rho_inf = 2.0 / (1.0 - beta2) - 1.0
    rho_t = rho_inf - 2.0 * t * beta2 ** t / (1.0 - beta2 ** t)
    with np.errstate(invalid="ignore"):
        r = np.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
    adaptive = x - lr * m_hat * r * np.sqrt(1 - beta2 ** t) / (np.sqrt(v_new) + eps)
    return [np.where(rho_t > 5, adaptive, x - lr * m_hat), m_new, v_new]


def radam_loop(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    x_new, m_new, v_new = np.empty_like(x), np.empty_like(m), np.empty_like(v)
    rho_inf = 2 / (1 - beta2) - 1
    rho_t = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)
    for i in np.ndindex(x.shape):
        m_new[i] = beta1 * m[i] + (1 - beta1) * g[i]
        v_new[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
        m_hat = m_new[i] / (1 - beta1 ** t)
        if rho_t > 5:
            l_t = math.sqrt(1 - beta2 ** t) / (math.sqrt(v_new[i]) + eps)
            r_t = math.sqrt(((rho_t - 4) * (rho_t - 2) * rho_inf) / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            x_new[i] = x[i] - lr * m_hat * l_t * r_t
        else:
            x_new[i] = x[i] - lr * m_hat
    return x_new, m_new, v_new


# ================================================================== Lion


def lion_momentum_first(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    m = beta2 * m + (1 - beta2) * g
    return x * (1 - lr * weight_decay) - lr * np.sign(beta1 * m + (1 - beta1) * g), m


def lion_swapped_betas(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    update = np.sign(beta2 * m + (1 - beta2) * g)
    return x * (1 - lr * weight_decay) - lr * update, beta1 * m + (1 - beta1) * g


def lion_decay_without_lr(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    update = np.sign(beta1 * m + (1 - beta1) * g)
    return x * (1 - weight_decay) - lr * update, beta2 * m + (1 - beta2) * g


def lion_decay_after(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    x = x - lr * np.sign(beta1 * m + (1 - beta1) * g)
    return x * (1 - lr * weight_decay), beta2 * m + (1 - beta2) * g


def lion_coupled_decay(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    g = g + weight_decay * x
    return x - lr * np.sign(beta1 * m + (1 - beta1) * g), beta2 * m + (1 - beta2) * g


def lion_sign_zero_is_one(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = beta1 * m + (1 - beta1) * g
    return x * (1 - lr * weight_decay) - lr * np.where(c >= 0, 1.0, -1.0), beta2 * m + (1 - beta2) * g


def lion_interpolation_swapped(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = (1 - beta1) * m + beta1 * g
    return x * (1 - lr * weight_decay) - lr * np.sign(c), beta2 * m + (1 - beta2) * g


# ----------------------------------------------------------------- right

def lion_where_sign(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = beta1 * m + (1 - beta1) * g
    direction = np.where(c > 0, 1.0, np.where(c < 0, -1.0, 0.0))
    return [x - lr * weight_decay * x - lr * direction, beta2 * m + (1 - beta2) * g]


def lion_lerp(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    # lion-pytorch's form: update = m.lerp(g, 1 - beta1), m.lerp_(g, 1 - beta2)
    update = np.sign(m + (1 - beta1) * (g - m))
    return x * (1 - lr * weight_decay) - lr * update, m + (1 - beta2) * (g - m)


def lion_loop(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    x_new, m_new = np.empty_like(x), np.empty_like(m)
    for i in np.ndindex(x.shape):
        c = beta1 * m[i] + (1 - beta1) * g[i]
        s = int(c > 0) - int(c < 0)
        x_new[i] = x[i] * (1 - lr * weight_decay) - lr * s
        m_new[i] = beta2 * m[i] + (1 - beta2) * g[i]
    return x_new, m_new


def lion_float32(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    f = x.dtype.type
    lr, beta1, beta2, weight_decay = f(lr), f(beta1), f(beta2), f(weight_decay)
    one = f(1)
    c = beta1 * m + (one - beta1) * g
    return ((x * (one - lr * weight_decay) - lr * np.sign(c)).astype(x.dtype),
            (beta2 * m + (one - beta2) * g).astype(x.dtype))


# ================================================================== newton_schulz


def _ns(G, steps, eps, *, normalise=lambda X, eps: X / max(np.linalg.norm(X), eps), abc=(A, B, C), iters=None,
        transpose_back=True, tall_transpose=True):
    a, b, c = abc
    tall = G.shape[0] > G.shape[1] and tall_transpose
    X = G.T if tall else G
    X = normalise(X, eps)
    for _ in range(steps if iters is None else iters(steps)):
        A_ = X @ X.T
        X = a * X + (b * A_ + c * A_ @ A_) @ X
    return X.T if tall and transpose_back else X


def ns_not_normalised(G, steps=5, eps=1e-7):
    with np.errstate(all="ignore"):
        return _ns(G, steps, eps, normalise=lambda X, eps: X)


def ns_coefficients_reversed(G, steps=5, eps=1e-7):
    return _ns(G, steps, eps, abc=(C, B, A))


def ns_spectral_norm(G, steps=5, eps=1e-7):
    return _ns(G, steps, eps, normalise=lambda X, eps: X / max(np.linalg.norm(X, ord=2), eps))


def ns_eps_added(G, steps=5, eps=1e-7):
    return _ns(G, steps, eps, normalise=lambda X, eps: X / (np.linalg.norm(X) + eps))


def ns_no_eps(G, steps=5, eps=1e-7):
    with np.errstate(all="ignore"):
        return _ns(G, steps, eps, normalise=lambda X, eps: X / np.linalg.norm(X))


def ns_one_step_too_many(G, steps=5, eps=1e-7):
    return _ns(G, steps, eps, iters=lambda s: s + 1)


def ns_not_transposed_back(G, steps=5, eps=1e-7):
    return _ns(G, steps, eps, transpose_back=False)


# ----------------------------------------------------------------- right

def ns_transpose_forgotten(G, steps=5, eps=1e-7):
    """The Gram matrix X X^T is n x n for a tall G: the same result, at a larger cost."""
    return _ns(G, steps, eps, tall_transpose=False)


def ns_right_multiplied(G, steps=5, eps=1e-7):
    # X (b A + c A^2) with A = X^T X: the same polynomial in X, multiplied from the right
    X = G / max(np.sqrt(np.sum(G * G)), eps)
    for _ in range(steps):
        A_ = X.T @ X
        X = A * X + X @ (B * A_ + C * A_ @ A_)
    return X


def ns_float32(G, steps=5, eps=1e-7):
    f = G.dtype.type
    tall = G.shape[0] > G.shape[1]
    X = (G.T if tall else G).copy()
    X /= max(f(np.linalg.norm(X)), f(eps))
    for _ in range(steps):
        A_ = X @ X.T
        B_ = f(B) * A_ + f(C) * (A_ @ A_)
        X = f(A) * X + B_ @ X
    return (X.T if tall else X).astype(G.dtype)


def ns_expanded(G, steps=5, eps=1e-7):
    tall = G.shape[0] > G.shape[1]
    X = np.array(G.T if tall else G, dtype=float)
    X = X / max(math.sqrt(float((X ** 2).sum())), eps)
    for _ in range(steps):
        A_ = X @ X.T
        X = A * X + B * (A_ @ X) + C * (A_ @ (A_ @ X))
    return np.ascontiguousarray(X.T) if tall else X


# ================================================================== Muon


def _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, *, ns=None, lookahead="new",
          adjust=lambda r, c: math.sqrt(max(1, r / c)), decay="first", raw_sum=False):
    ns = ns or (lambda G, s, e: _ns(G, s, e))
    buf = momentum * buf + (g if raw_sum else (1 - momentum) * g)
    update = (1 - momentum) * g + momentum * buf if nesterov and lookahead == "new" else buf
    rows, cols = x.shape
    step = lr * adjust(rows, cols) * ns(update, ns_steps, eps)
    if decay == "after":
        return (x - step) * (1 - lr * weight_decay), buf
    shrink = 1 - lr * weight_decay if decay == "first" else 1 - weight_decay
    return x * shrink - step, buf


def muon_no_nesterov(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, lookahead="none")


def muon_nesterov_old_buffer(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                             eps=1e-7):
    buf_new = momentum * buf + (1 - momentum) * g
    update = (1 - momentum) * g + momentum * buf if nesterov else buf_new
    rows, cols = x.shape
    return x * (1 - lr * weight_decay) - lr * math.sqrt(max(1, rows / cols)) * _ns(update, ns_steps, eps), buf_new


def muon_no_lr_adjustment(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                          eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, adjust=lambda r, c: 1.0)


def muon_inverted_adjustment(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                             eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps,
                 adjust=lambda r, c: math.sqrt(max(1, c / r)))


def muon_adjustment_without_max(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                                eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, adjust=lambda r, c: math.sqrt(r / c))


def muon_decay_after(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, decay="after")


def muon_decay_without_lr(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                          eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps, decay="no lr")


def muon_raw_sum_buffer(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                        eps=1e-7):
    buf_new = momentum * buf + g
    update = g + momentum * buf_new if nesterov else buf_new      # SGD's Nesterov form
    rows, cols = x.shape
    return x * (1 - lr * weight_decay) - lr * math.sqrt(max(1, rows / cols)) * _ns(update, ns_steps, eps), buf_new


def muon_unnormalised_ns(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                         eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps,
                 ns=lambda G, s, e: ns_not_normalised(G, s, e))


# ----------------------------------------------------------------- right

def muon_transpose_forgotten(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
                             eps=1e-7):
    return _muon(x, g, buf, lr, weight_decay, momentum, nesterov, ns_steps, eps,
                 ns=lambda G, s, e: ns_transpose_forgotten(G, s, e))


def muon_lerp(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7):
    # torch's own form: buf.lerp_(g, 1 - momentum); update = g.lerp(buf, momentum)
    buf_new = buf + (1 - momentum) * (g - buf)
    update = g + momentum * (buf_new - g) if nesterov else buf_new
    A_, B_ = x.shape
    x_new = x.copy()
    x_new *= 1 - lr * weight_decay
    x_new -= lr * max(1, A_ / B_) ** 0.5 * ns_right_multiplied(update, ns_steps, eps)
    return [x_new, buf_new]


def muon_float32(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7):
    f = x.dtype.type
    mom = f(momentum)
    buf_new = (mom * buf + (f(1) - mom) * g).astype(x.dtype)
    update = ((f(1) - mom) * g + mom * buf_new if nesterov else buf_new).astype(x.dtype)
    rows, cols = x.shape
    step = f(lr) * f(math.sqrt(max(1, rows / cols))) * ns_float32(update, ns_steps, eps)
    return (x * (f(1) - f(lr) * f(weight_decay)) - step).astype(x.dtype), buf_new


# ================================================================== the tables

WRONG = {
    "nadam_step": [
        ("mu_t alone in the bias correction", nadam_mu_alone, {"basic", "random", "edge", "trajectory"},
         "mu_t alone"),
        ("beta1^t in the bias correction", nadam_beta1_power, {"basic", "random", "edge", "trajectory"},
         "beta1^t"),
        ("mu_t for the momentum term", nadam_mu_t_for_momentum, {"basic", "random", "edge", "trajectory"},
         "next coefficient"),
        ("product not updated", nadam_product_not_updated, {"basic", "random", "edge", "trajectory"},
         "not updated"),
        ("0.96 ** t * momentum_decay", nadam_precedence, {"basic", "random", "edge", "trajectory"},
         "parentheses"),
        ("moments mutated in place", nadam_inplace, {"basic", "random", "edge", "trajectory"},
         "in place"),
    ],
    "radam_step": [
        ("switch at rho_t > 4", radam_threshold_4, {"switch", "trajectory"}, "one step early"),
        ("t + 1 in rho_t", radam_t_plus_1, {"basic", "switch", "random", "trajectory"}, "t + 1"),
        ("t - 1 in rho_t", radam_t_minus_1, {"basic", "switch", "random", "trajectory"}, "t - 1"),
        ("no rectification", radam_no_rectification, {"basic", "switch", "random", "trajectory"},
         "rectification term is missing"),
        ("unadapted step with the raw m", radam_fallback_raw_m, {"basic", "switch", "trajectory"}, "raw m_new"),
        ("no sqrt(1 - beta2^t)", radam_no_v_correction, {"basic", "switch", "random", "trajectory"},
         "second-moment correction"),
    ],
    "lion_step": [
        ("momentum updated before the sign", lion_momentum_first, {"basic", "random", "edge", "trajectory"},
         "updated before the sign"),
        ("beta1 and beta2 swapped", lion_swapped_betas, {"basic", "random", "edge", "trajectory"},
         "beta1 and beta2 are swapped"),
        ("decay not scaled by lr", lion_decay_without_lr, {"basic", "random", "edge", "trajectory"},
         "not scaled by the learning rate"),
        ("decay after the update", lion_decay_after, {"basic", "random", "edge", "trajectory"},
         "already updated x"),
        ("decay added to the gradient", lion_coupled_decay, {"basic", "random", "edge", "trajectory"},
         "added to the gradient"),
        ("sign(0) = 1", lion_sign_zero_is_one, {"edge"}, "sign(0) must be 0"),
        ("interpolation weights swapped", lion_interpolation_swapped, {"basic", "random", "edge", "trajectory"},
         "weights are swapped"),
    ],
    "newton_schulz": [
        ("G not normalised", ns_not_normalised, {"basic", "shapes", "random"}, "not normalised"),
        ("coefficients reversed", ns_coefficients_reversed, {"basic", "shapes", "random"}, "wrong order"),
        ("spectral norm", ns_spectral_norm, {"basic", "shapes", "random"}, "spectral norm"),
        ("eps added to the norm", ns_eps_added, {"shapes", "random"}, "eps is a floor"),
        ("no eps", ns_no_eps, {"shapes"}, "no floor"),
        ("one step too many", ns_one_step_too_many, {"basic", "shapes", "random"}, "steps + 1"),
        ("tall result not transposed back", ns_not_transposed_back, {"shapes", "random"}, "transposed back"),
    ],
    "muon_step": [
        ("no Nesterov look-ahead", muon_no_nesterov, {"basic", "shapes", "random", "trajectory"},
         "no Nesterov look-ahead"),
        # the look-ahead on the old buffer, (1 - momentum) g + momentum buf, is buf_new itself
        ("Nesterov on the old buffer", muon_nesterov_old_buffer, {"basic", "shapes", "random", "trajectory"},
         "no Nesterov look-ahead"),
        ("no lr adjustment", muon_no_lr_adjustment, {"basic", "shapes", "random", "trajectory"},
         "not adjusted for the shape"),
        ("adjustment inverted", muon_inverted_adjustment, {"basic", "shapes", "random", "trajectory"},
         "inverted"),
        ("adjustment without max", muon_adjustment_without_max, {"basic", "shapes", "random", "trajectory"},
         "never shrink"),
        ("decay after the update", muon_decay_after, {"basic", "shapes", "random", "trajectory"},
         "already updated x"),
        ("decay not scaled by lr", muon_decay_without_lr, {"basic", "shapes", "random", "trajectory"},
         "not scaled by the learning rate"),
        ("buffer sums raw gradients", muon_raw_sum_buffer, {"basic", "shapes", "random", "trajectory"},
         "raw gradient"),
        ("update not normalised", muon_unnormalised_ns, {"basic", "shapes", "random", "trajectory"},
         "not normalised"),
    ],
}

RIGHT = {
    "nadam_step": [nadam_loop, nadam_recomputed_product],
    "radam_step": [radam_greater_equal, radam_where, radam_loop],
    "lion_step": [lion_where_sign, lion_lerp, lion_loop, lion_float32],
    "newton_schulz": [ns_transpose_forgotten, ns_right_multiplied, ns_float32, ns_expanded],
    "muon_step": [muon_transpose_forgotten, muon_lerp, muon_float32],
}
