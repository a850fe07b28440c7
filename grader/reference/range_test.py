"""06_practice: the learning-rate range test (Smith 2017, "Cyclical learning rates for
training neural networks", section 3.3; fast.ai's ``lr_find``).

Train one model for ``steps`` updates while the learning rate grows geometrically from
lr_min to lr_max, recording the loss of every batch before its update; stop at the first
loss that is not finite or exceeds 4 times the smallest loss so far (fast.ai's rule).
Proven against a plain torch loop in tests/test_practice_range.py.
"""
import math

import numpy as np

STOP_FACTOR = 4.0


def geometric_lrs(lr_min, lr_max, steps):
    """lr_min * (lr_max / lr_min) ** (i / (steps - 1)) for i = 0 .. steps - 1, as floats."""
    steps = int(steps)
    if steps < 2:
        raise ValueError("a range test needs at least 2 steps")
    ratio = lr_max / lr_min
    return [lr_min * ratio ** (i / (steps - 1)) for i in range(steps)]


def stops(losses, factor=STOP_FACTOR):
    """Whether the run ends after the last of ``losses``: it is not finite, or it exceeds
    ``factor`` times the smallest loss recorded so far (itself included)."""
    last = losses[-1]
    return not math.isfinite(last) or last > factor * min(losses)


def batches(loader):
    """The batches of ``loader`` without end: a new iteration (which reshuffles) every
    time the previous one runs out."""
    while True:
        empty = True
        for batch in loader:
            empty = False
            yield batch
        if empty:
            raise ValueError("the loader yields no batches")


def run(model_fn, loader, lrs, opt_fn=None, stop=True):
    """One range-test run at the learning rates ``lrs`` (one per update): (lrs, losses)
    as float64 arrays, cut after the stopping loss when ``stop``."""
    import torch
    import torch.nn.functional as F
    model = model_fn()
    lr0 = float(lrs[0])
    if opt_fn is None:
        opt = torch.optim.SGD(model.parameters(), lr=lr0, momentum=0.9)
    else:
        opt = opt_fn(model.parameters(), lr0)
    seen, losses = [], []
    source = batches(loader)
    for lr in lrs:
        lr = float(lr)
        for group in opt.param_groups:
            group["lr"] = lr
        x, y = next(source)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        seen.append(lr)
        losses.append(loss.item())
        if stop and stops(losses):
            break
    return np.array(seen, dtype=np.float64), np.array(losses, dtype=np.float64)


def lr_range_test(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """The learning-rate range test. Returns (lrs, losses), two float64 arrays of length
    ``steps``, or shorter when the loss exploded.

    model = model_fn() (called once); the optimizer is opt_fn(model.parameters(), lr_min),
    or torch.optim.SGD(model.parameters(), lr=lr_min, momentum=0.9) when opt_fn is None.
    At update i the lr is lr_min * (lr_max / lr_min) ** (i / (steps - 1)), set in every
    param group before the update; the batch is the loader's next one (the loader starts
    again when it runs out); the loss is cross_entropy(model(x), y), recorded before the
    update. The run stops right after recording a loss that is not finite or exceeds
    4 times the smallest loss recorded so far.
    """
    return run(model_fn, loader, geometric_lrs(lr_min, lr_max, steps), opt_fn)
