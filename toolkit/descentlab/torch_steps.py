"""Step functions that apply torch.optim, for lessons that need a method another
notebook grades.

Notebook 05 races Adam against momentum, notebook 02 compares RMSprop with gradient
descent; neither may hand out a working ``momentum_step`` or ``sgd_step``, since those
are graded in 01 (and students can read this toolkit too). These functions have the
course's step signature, ``step(x, g, *state, **hyper) -> (x_new, *state_new)``, so
``dl.run`` and the explorers take them like the student's own, but the update is
torch's: one step of the torch.optim optimizer on a float64 copy of ``x``, with the state
loaded into the optimizer and read back out. Nothing here restates an update rule.
"""
import numpy as np
import torch


def _step(cls, x, g, state, **options):
    """One update of ``cls`` on a copy of x with gradient g; ``state`` maps torch's
    per-parameter state keys to their values before the step. Returns (x_new, state after)."""
    x = np.asarray(x, dtype=np.float64)
    p = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
    p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
    opt = cls([p], foreach=False, **options)
    if state:
        opt.state[p] = {k: (v if isinstance(v, torch.Tensor) else torch.tensor(np.array(v, dtype=np.float64)))
                        for k, v in state.items()}
    opt.step()
    after = {k: v.detach().numpy().copy() for k, v in opt.state[p].items() if isinstance(v, torch.Tensor)}
    return p.detach().numpy().copy().reshape(x.shape), after


def torch_sgd_step(x, g, lr):
    """One step of torch.optim.SGD (no momentum)."""
    return _step(torch.optim.SGD, x, g, {}, lr=lr)[0]


def torch_momentum_step(x, g, v, lr, beta):
    """One step of torch.optim.SGD(momentum=beta); v is its momentum buffer."""
    x_new, after = _step(torch.optim.SGD, x, g, {"momentum_buffer": v}, lr=lr, momentum=beta)
    return x_new, after["momentum_buffer"]


def torch_nesterov_step(x, g, v, lr, beta):
    """One step of torch.optim.SGD(momentum=beta, nesterov=True); v is its momentum buffer."""
    x_new, after = _step(torch.optim.SGD, x, g, {"momentum_buffer": v}, lr=lr, momentum=beta, nesterov=True)
    return x_new, after["momentum_buffer"]


def torch_adagrad_step(x, g, G, lr, eps=1e-10):
    """One step of torch.optim.Adagrad; G is its running sum of squared gradients."""
    x_new, after = _step(torch.optim.Adagrad, x, g, {"sum": G, "step": torch.tensor(0.0)}, lr=lr, eps=eps)
    return x_new, after["sum"]


def torch_rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    """One step of torch.optim.RMSprop; s is its running average of squared gradients."""
    x_new, after = _step(torch.optim.RMSprop, x, g, {"square_avg": s, "step": torch.tensor(0.0)},
                         lr=lr, alpha=alpha, eps=eps)
    return x_new, after["square_avg"]


def torch_adam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    """One step of torch.optim.Adam (torch.optim.AdamW when decoupled); t is the 1-based
    index of this update, m and v its first and second moment estimates."""
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    state = {"exp_avg": m, "exp_avg_sq": v, "step": torch.tensor(float(t - 1))}
    x_new, after = _step(cls, x, g, state, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    return x_new, after["exp_avg"], after["exp_avg_sq"]
