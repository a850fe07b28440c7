"""Notebook 06: parameter groups for torch.optim with no weight decay on biases and
normalisation weights.

A trainable parameter with p.ndim >= 2 (a Linear weight matrix, a convolution kernel)
gets weight decay; every other trainable parameter (biases, the weights and biases of
BatchNorm/LayerNorm/GroupNorm, any 1-D or 0-d parameter) gets none. model.parameters()
yields a parameter shared by two layers (tied) once; frozen parameters are left out.
"""


def decay_param_groups(model, weight_decay):
    decay, no_decay = [], []
    for p in model.parameters():
        if not p.requires_grad:
            continue
        (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay},
            {"params": no_decay, "weight_decay": 0.0}]
