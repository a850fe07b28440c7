"""Notebook 07: Lion (Chen et al. 2023) and Muon (torch.optim.Muon) as numpy steps.

Oracles: ``lion_pytorch.Lion`` (lion-pytorch 0.2.5, decoupled_weight_decay=False) and
``torch.optim.Muon`` (torch 2.13). Both are proven in ``tests/test_reference_lion_muon.py``.
"""

import math

import numpy as np

# torch.optim._muon: DEFAULT_A, DEFAULT_B, DEFAULT_C (Keller Jordan's quintic) and EPS.
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_EPS = 1e-7


def lion_step(x, g, m, lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0):
    """One Lion step; returns (x_new, m_new).

    x_new = x (1 - lr weight_decay) - lr sign(beta1 m + (1 - beta1) g), with sign(0) = 0;
    m_new = beta2 m + (1 - beta2) g. The sign uses the old m: momentum is updated after it.
    """
    x, g, m = np.asarray(x), np.asarray(g), np.asarray(m)
    direction = np.sign(beta1 * m + (1 - beta1) * g)
    x_new = x * (1 - lr * weight_decay) - lr * direction
    m_new = beta2 * m + (1 - beta2) * g
    return x_new, m_new


def newton_schulz(G, steps=5, eps=NS_EPS):
    """Approximate orthogonalisation U V^T of a 2-D G = U S V^T (torch.optim.Muon's iteration).

    X = G / max(||G||_F, eps), transposed first when G is tall (more rows than columns) so
    that X X^T is the small Gram matrix; then ``steps`` times
    X <- a X + (b A + c A A) X with A = X X^T and (a, b, c) = (3.4445, -4.775, 2.0315);
    transposed back. Each singular value s of X goes to a s + b s^3 + c s^5.
    """
    G = np.asarray(G)
    if G.ndim != 2:
        raise ValueError(f"newton_schulz needs a 2-D array, got shape {G.shape}")
    a, b, c = NS_COEFFICIENTS
    tall = G.shape[0] > G.shape[1]
    X = G.T if tall else G
    X = X / max(float(np.linalg.norm(X)), eps)
    for _ in range(steps):
        A = X @ X.T
        X = a * X + (b * A + c * (A @ A)) @ X
    return X.T if tall else X


def muon_step(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,
              eps=NS_EPS):
    """One torch.optim.Muon step (adjust_lr_fn=None, i.e. "original") on a 2-D x.

    buf_new = momentum buf + (1 - momentum) g                 (torch: buf.lerp_(g, 1 - momentum))
    update = (1 - momentum) g + momentum buf_new if nesterov else buf_new   (g.lerp(buf_new, momentum))
    x_new = x (1 - lr weight_decay) - lr sqrt(max(1, rows / cols)) newton_schulz(update)
    Returns (x_new, buf_new).
    """
    x, g, buf = np.asarray(x), np.asarray(g), np.asarray(buf)
    if x.ndim != 2:
        raise ValueError(f"muon_step only supports 2-D parameters, got shape {x.shape}")
    if g.shape != x.shape or buf.shape != x.shape:
        raise ValueError(f"shapes differ: x {x.shape}, g {g.shape}, buf {buf.shape}")
    buf_new = momentum * buf + (1 - momentum) * g
    update = (1 - momentum) * g + momentum * buf_new if nesterov else buf_new
    rows, cols = x.shape
    adjusted_lr = lr * math.sqrt(max(1, rows / cols))
    x_new = x * (1 - lr * weight_decay) - adjusted_lr * newton_schulz(update, ns_steps, eps)
    return x_new, buf_new
