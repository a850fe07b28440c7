"""Step functions that apply torch.optim, for lessons that need a method another
notebook grades.

Notebook 05 races Adam against momentum, notebook 02 compares RMSprop with gradient
descent; neither may hand out a working ``momentum_step`` or ``sgd_step``, since those
are graded in 01 (and students can read this toolkit too). These functions have the
course's step signature, ``step(x, g, *state, **hyper) -> (x_new, *state_new)``, so
``dl.run`` and the explorers take them like the student's own, but the update is
torch's: one step of the torch.optim optimizer on a float64 copy of ``x``, with the state
loaded into the optimizer and read back out. Nothing here restates an update rule.

A whole path (``dl.run``) goes faster through the step's entry in ``runner.WHOLE_PATHS``: one optimizer kept for
all the steps, so that its state stays in it instead of going out to numpy and back at
every step (half of the time of a path, which the explorers of 02, 05 and 07 recompute
as a slider moves). It takes the same steps, bit for bit (tests/test_torch_steps.py).
"""
import numpy as np
import torch

from descentlab.runner import WHOLE_PATHS


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


def _bare_step(opt):
    """``opt.step`` without the wrappers torch puts around it (step hooks, the profiler's
    record_function, the grad mode switch: none of them in use here, and together as long
    as the update itself on a 2-vector), to be called under ``torch.no_grad()``. The same
    arithmetic: tests/test_torch_steps.py compares the paths with ``opt.step()``'s bit for bit."""
    step = type(opt).step
    while hasattr(step, "__wrapped__"):
        step = step.__wrapped__
    return lambda: step(opt)


def _whole_path(opt, p, landscape, x, steps):
    """The path of optimizer ``opt`` of the one parameter ``p`` (at ``x``), kept for every step."""
    step_of = _bare_step(opt)
    xs = np.empty((steps + 1, x.size))
    xs[0] = x
    with np.errstate(over="ignore", invalid="ignore"), torch.no_grad():
        for t in range(1, steps + 1):
            p.grad = torch.tensor(np.asarray(landscape.grad(xs[t - 1].reshape(x.shape)), dtype=np.float64))
            step_of()
            xs[t] = p.detach().numpy().ravel()
    return xs


def _path_of(cls, options):
    """Register for a step function (``runner.WHOLE_PATHS``) the path of one ``cls``
    optimizer, built with ``options(**hyper)``: run_path(landscape, x0, steps, **hyper) -> xs."""
    def attach(step):
        def run_path(landscape, x0, steps, **hyper):
            x = np.array(x0, dtype=np.float64).reshape(landscape.dim)
            p = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
            return _whole_path(cls([p], foreach=False, **options(**hyper)), p, landscape, x, steps)
        WHOLE_PATHS[step] = run_path
        return step
    return attach


@_path_of(torch.optim.SGD, lambda lr: dict(lr=lr))
def torch_sgd_step(x, g, lr):
    """One step of torch.optim.SGD (no momentum)."""
    return _step(torch.optim.SGD, x, g, {}, lr=lr)[0]


@_path_of(torch.optim.SGD, lambda lr, beta: dict(lr=lr, momentum=beta))
def torch_momentum_step(x, g, v, lr, beta):
    """One step of torch.optim.SGD(momentum=beta); v is its momentum buffer."""
    x_new, after = _step(torch.optim.SGD, x, g, {"momentum_buffer": v}, lr=lr, momentum=beta)
    return x_new, after["momentum_buffer"]


@_path_of(torch.optim.SGD, lambda lr, beta: dict(lr=lr, momentum=beta, nesterov=True))
def torch_nesterov_step(x, g, v, lr, beta):
    """One step of torch.optim.SGD(momentum=beta, nesterov=True); v is its momentum buffer."""
    x_new, after = _step(torch.optim.SGD, x, g, {"momentum_buffer": v}, lr=lr, momentum=beta, nesterov=True)
    return x_new, after["momentum_buffer"]


@_path_of(torch.optim.Adagrad, lambda lr, eps=1e-10: dict(lr=lr, eps=eps))
def torch_adagrad_step(x, g, G, lr, eps=1e-10):
    """One step of torch.optim.Adagrad; G is its running sum of squared gradients."""
    x_new, after = _step(torch.optim.Adagrad, x, g, {"sum": G, "step": torch.tensor(0.0)}, lr=lr, eps=eps)
    return x_new, after["sum"]


@_path_of(torch.optim.RMSprop, lambda lr, alpha=0.99, eps=1e-8: dict(lr=lr, alpha=alpha, eps=eps))
def torch_rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    """One step of torch.optim.RMSprop; s is its running average of squared gradients."""
    x_new, after = _step(torch.optim.RMSprop, x, g, {"square_avg": s, "step": torch.tensor(0.0)},
                         lr=lr, alpha=alpha, eps=eps)
    return x_new, after["square_avg"]


def _adam_path(landscape, x0, steps, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    x = np.array(x0, dtype=np.float64).reshape(landscape.dim)
    p = torch.nn.Parameter(torch.tensor(x, dtype=torch.float64))
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    opt = cls([p], foreach=False, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    return _whole_path(opt, p, landscape, x, steps)


def torch_adam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0, decoupled=False):
    """One step of torch.optim.Adam (torch.optim.AdamW when decoupled); t is the 1-based
    index of this update, m and v its first and second moment estimates."""
    cls = torch.optim.AdamW if decoupled else torch.optim.Adam
    state = {"exp_avg": m, "exp_avg_sq": v, "step": torch.tensor(float(t - 1))}
    x_new, after = _step(cls, x, g, state, lr=lr, betas=(beta1, beta2), eps=eps, weight_decay=weight_decay)
    return x_new, after["exp_avg"], after["exp_avg_sq"]


WHOLE_PATHS[torch_adam_step] = _adam_path
