"""lr_range_test written the way students write it (notebook 06).

WRONG: (label, function, the parts it must lose, a phrase the failure message must
contain); RIGHT: correct implementations written differently from the reference; SOURCES:
answer-cell sources (label -> code) for the autograde tests, three wrong and two right.
Each function is written out in full, as a notebook cell would hold it.
"""
import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

from tests.submissions import as_cell

NAME = "lr_range_test"


# ----------------------------------------------------------------- wrong

def linear_spacing(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses, best = [], [], math.inf
    it = iter(loader)
    for lr in np.linspace(lr_min, lr_max, steps):
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        best = min(best, loss.item())
        if not math.isfinite(loss.item()) or loss.item() > 4 * best:
            break
    return np.array(lrs), np.array(losses)


def _loop(model_fn, loader, lrs_wanted, opt_fn):
    """Shared by the variants whose only mistake is the schedule."""
    model = model_fn()
    opt = opt_fn(model.parameters(), lrs_wanted[0]) if opt_fn else torch.optim.SGD(
        model.parameters(), lr=lrs_wanted[0], momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for lr in lrs_wanted:
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def exponent_over_steps(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    return _loop(model_fn, loader, [lr_min * (lr_max / lr_min) ** (i / steps) for i in range(steps)], opt_fn)


def lr_set_after_step(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        for g in opt.param_groups:   # too late: this update already used the previous lr
            g["lr"] = lr
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def never_restarts(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = next(it)   # StopIteration once the loader runs out
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def one_epoch_only(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    for i, (x, y) in zip(range(steps), loader, strict=False):   # ends with the loader's first epoch
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def cycles_the_loader(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    batches = itertools.cycle(loader)   # replays the first epoch's batches in the same order
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = next(batches)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def _stop_variant(model_fn, loader, lr_min, lr_max, steps, opt_fn, rule):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    best = None
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        value = loss.item()
        best = value if best is None else min(best, value)
        if rule == "before recording" and (not math.isfinite(value) or value > 4 * best):
            break
        lrs.append(lr)
        losses.append(value)
        if rule == "first" and (not math.isfinite(value) or value > 4 * losses[0]):
            break
        if rule == "nan ignored" and value > 4 * best:
            break
    return np.array(lrs), np.array(losses)


def no_early_stop(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    return _stop_variant(model_fn, loader, lr_min, lr_max, steps, opt_fn, "never")


def stops_before_recording(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    return _stop_variant(model_fn, loader, lr_min, lr_max, steps, opt_fn, "before recording")


def four_times_first(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    return _stop_variant(model_fn, loader, lr_min, lr_max, steps, opt_fn, "first")


def nan_not_caught(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    return _stop_variant(model_fn, loader, lr_min, lr_max, steps, opt_fn, "nan ignored")


def no_zero_grad(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def zero_grad_after_backward(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.zero_grad()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def new_model_every_step(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        model = model_fn()
        opt = opt_fn(model.parameters(), lr) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr,
                                                                             momentum=0.9)
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def ignores_opt_fn(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model = model_fn()
    opt = torch.optim.SGD(model.parameters(), lr=lr_min, momentum=0.9)
    lrs, losses = [], []
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def smoothed_losses(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """fast.ai's lr_find records a debiased moving average of the losses."""
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses, avg, best = [], [], 0.0, math.inf
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        avg = 0.98 * avg + 0.02 * loss.item()
        smooth = avg / (1 - 0.98 ** (i + 1))
        best = min(best, smooth)
        lrs.append(lr)
        losses.append(smooth)
        if not math.isfinite(smooth) or smooth > 4 * best:
            break
    return np.array(lrs), np.array(losses)


def stops_on_smoothed_loss(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """Records each batch's loss but stops as fast.ai does, on the smoothed loss."""
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    lrs, losses, avg, best = [], [], 0.0, math.inf
    it = iter(loader)
    for i in range(steps):
        lr = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        for g in opt.param_groups:
            g["lr"] = lr
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        lrs.append(lr)
        losses.append(loss.item())
        avg = 0.98 * avg + 0.02 * loss.item()
        smooth = avg / (1 - 0.98 ** (i + 1))
        best = min(best, smooth)
        if not math.isfinite(smooth) or smooth > 4 * best:
            break
    return np.array(lrs), np.array(losses)


WRONG = {
    NAME: [
        ("linear spacing (np.linspace)", linear_spacing, {"schedule"}, "spaced linearly"),
        ("i / steps in the exponent", exponent_over_steps, {"schedule"}, "i / (steps - 1)"),
        ("lr set after the step", lr_set_after_step, {"losses", "divergence"}, "after optimizer.step()"),
        ("loader never restarted (StopIteration)", never_restarts, {"schedule", "losses"},
         "start the loader again"),
        ("loader never restarted (zip stops early)", one_epoch_only, {"schedule", "losses"},
         "start the loader again"),
        ("itertools.cycle over the loader", cycles_the_loader, {"losses"}, "itertools.cycle"),
        ("no early stop", no_early_stop, {"divergence"}, "never stops early"),
        ("stops before recording the exploding loss", stops_before_recording, {"divergence"},
         "before recording it"),
        ("4 times the first loss", four_times_first, {"divergence"}, "4 times the first loss"),
        ("nan not caught by the stop", nan_not_caught, {"divergence"}, "math.isfinite"),
        ("zero_grad forgotten", no_zero_grad, {"losses", "divergence"}, "never zeroed"),
        ("zero_grad between backward and step", zero_grad_after_backward, {"losses", "divergence"},
         "between backward() and step()"),
        ("a new model per step", new_model_every_step, {"losses", "divergence"}, "model_fn was called"),
        ("opt_fn ignored", ignores_opt_fn, {"losses"}, "opt_fn is ignored"),
        ("smoothed losses (fast.ai's plot)", smoothed_losses, {"losses", "divergence"}, "smoothed"),
        ("stop tested on the smoothed loss", stops_on_smoothed_loss, {"divergence"}, "smoothed loss"),
    ],
}


# ----------------------------------------------------------------- right

def geomspace_epochs(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """np.geomspace, epochs as nested for loops, the lr set with a loop over param groups."""
    model = model_fn()
    if opt_fn is None:
        opt = torch.optim.SGD(model.parameters(), lr=lr_min, momentum=0.9)
    else:
        opt = opt_fn(model.parameters(), lr_min)
    schedule = np.geomspace(lr_min, lr_max, steps)
    lrs, losses, best = [], [], float("inf")
    i = 0
    while i < steps:
        for x, y in loader:   # a new pass over the loader each time: reshuffled
            if i == steps:
                break
            for g in opt.param_groups:
                g["lr"] = schedule[i]
            opt.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            lrs.append(schedule[i])
            losses.append(float(loss))
            best = min(best, losses[-1])
            i += 1
            if not np.isfinite(losses[-1]) or losses[-1] > 4 * best:
                return np.array(lrs), np.array(losses)
    return np.array(lrs), np.array(losses)


def exponential_lr(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """torch.optim.lr_scheduler.ExponentialLR stepped after each update; lists returned."""
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(lr_max / lr_min) ** (1 / (steps - 1)))
    lrs, losses = [], []
    batches = iter(loader)
    for _ in range(steps):
        try:
            x, y = next(batches)
        except StopIteration:
            batches = iter(loader)
            x, y = next(batches)
        lrs.append(opt.param_groups[0]["lr"])
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.item())
        if math.isnan(losses[-1]) or math.isinf(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return lrs, losses


def lambda_lr_tensors(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    """LambdaLR, a generator that restarts the loader, losses kept as tensors."""
    def forever():
        while True:
            yield from loader

    model = model_fn()
    opt = (opt_fn or (lambda params, lr: torch.optim.SGD(params, lr=lr, momentum=0.9)))(model.parameters(), lr_min)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: (lr_max / lr_min) ** (i / (steps - 1)))
    lrs, losses = [], []
    for _, (x, y) in zip(range(steps), forever(), strict=False):
        lrs.append(sched.get_last_lr()[0])
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        sched.step()
        losses.append(loss.detach())
        if not torch.isfinite(loss) or loss.item() > 4 * min(v.item() for v in losses):
            break
    return torch.tensor(lrs), torch.stack(losses)


RIGHT = {NAME: [geomspace_epochs, exponential_lr, lambda_lr_tensors]}


# ----------------------------------------------------------------- answer cells

_IMPORTS = "import itertools\nimport math\n\nimport numpy as np\nimport torch\nimport torch.nn.functional as F\n\n\n"


def _cell(fn, helpers=()):
    return _IMPORTS + "".join(as_cell(h, h.__name__) + "\n\n" for h in helpers) + as_cell(fn, NAME)


# label -> answer-cell source; LOSES: label -> {graded cell: phrase its feedback must contain}
SOURCES = {
    "cycle": _cell(cycles_the_loader),
    "no early stop": _cell(no_early_stop, helpers=[_stop_variant]),
    "zero_grad forgotten": _cell(no_zero_grad),
    "geomspace epochs": _cell(geomspace_epochs),
    "ExponentialLR": _cell(exponential_lr),
}
LOSES = {
    "cycle": {f"{NAME}_losses": "itertools.cycle"},
    "no early stop": {f"{NAME}_divergence": "never stops early"},
    "zero_grad forgotten": {f"{NAME}_losses": "never zeroed", f"{NAME}_divergence": "never zeroed"},
    "geomspace epochs": {},
    "ExponentialLR": {},
}
