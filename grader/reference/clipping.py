"""Notebook 06: gradient clipping by global norm, as torch.nn.utils.clip_grad_norm_.

One scale for every array, computed from the 2-norm of all gradients taken together:
total = sqrt(sum over arrays of sum(g**2)); scale = min(1, max_norm / (total + 1e-6))
(torch's formula, eps included). A non-finite total raises ValueError, as torch does
with error_if_nonfinite=True; the training loop then skips that batch.
"""
import math

import numpy as np

EPS = 1e-6   # torch's clip_coef = max_norm / (total_norm + 1e-6)


def global_norm(grads):
    """sqrt(sum over arrays of sum(g**2)), in float64, as a Python float."""
    return math.sqrt(sum(float(np.sum(np.square(np.asarray(g, dtype=np.float64)))) for g in grads))


def clip_grad_norm(grads, max_norm):
    """(clipped, total_norm): new arrays (same shapes and dtypes), the inputs left alone."""
    arrays = [np.asarray(g) for g in grads]
    total = global_norm(arrays)
    if not math.isfinite(total):
        raise ValueError(f"the total gradient norm is {total}: a gradient holds nan or inf")
    scale = min(1.0, max_norm / (total + EPS))
    return [(g * scale).astype(g.dtype, copy=False) for g in arrays], total
