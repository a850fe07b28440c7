"""train_one_epoch and save_checkpoint written the way students write them (notebook 06).

Each implementation is kept as the source of a notebook answer cell (``CELLS``) and
made into a function from it, so the catalogue proves exactly the code the autograde
tests submit. WRONG and RIGHT have the format of tests/catalogue/steps.py; SOURCES =
{label: answer-cell source} holds three wrong and two right variants of each function.
"""
import textwrap

# ----------------------------------------------------------------- train_one_epoch

_EPOCH = '''\
import torch


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    {train}
    total, count = 0.0, 0
    {before}for x, y in loader:
        {zero}
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        {clip_before}
        {sched_before}optimizer.step()
        {clip_after}
        {sched_after}
        {zero_after}total += loss.item() * len(y)
        count += len(y)
    {sched_epoch}return {result}
'''

_DEFAULTS = {
    "train": "model.train()",
    "before": "",
    "zero": "optimizer.zero_grad()",
    "clip_before": "if clip is not None:\n            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)",
    "sched_before": "",
    "clip_after": "",
    "sched_after": "if scheduler is not None:\n            scheduler.step()",
    "zero_after": "",
    "sched_epoch": "",
    "result": "total / count",
}


def _loop(**changes):
    """The contract's loop with some of its lines changed."""
    parts = {**_DEFAULTS, **changes}
    lines = _EPOCH.format(**parts).split("\n")
    return "\n".join(line for line in lines if line.strip() or not line)


EPOCH_CELLS = {
    # wrong
    "scheduler per epoch": _loop(
        sched_after="", sched_epoch="if scheduler is not None:\n        scheduler.step()\n    "),
    "scheduler before optimizer.step()": _loop(
        sched_after="", sched_before="if scheduler is not None:\n            scheduler.step()\n        "),
    "clip after optimizer.step()": _loop(
        clip_before="", clip_after="if clip is not None:\n            "
                                   "torch.nn.utils.clip_grad_norm_(model.parameters(), clip)"),
    "clip per tensor": _loop(clip_before="if clip is not None:\n            for p in model.parameters():\n"
                                         "                torch.nn.utils.clip_grad_norm_([p], clip)"),
    "zero_grad forgotten": _loop(zero=""),
    "zero_grad only after the step": _loop(zero="", zero_after="optimizer.zero_grad()\n        "),
    "model.train() never called": _loop(train=""),
    "mean of the batch means": '''\
import torch


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    model.train()
    losses = []
    for x, y in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.item())
    return sum(losses) / len(losses)
''',
    "the last batch's loss": _loop(result="loss.item()"),
    "the sum, not the mean": _loop(result="total"),
    # right
    "zero_grad at the end, and set_to_none before the loop": _loop(
        zero="", before="optimizer.zero_grad(set_to_none=True)\n    ", zero_after="optimizer.zero_grad()\n        "),
    "model.zero_grad() and nn.CrossEntropyLoss": '''\
import torch
from torch import nn


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    criterion = nn.CrossEntropyLoss()
    model.train()
    total, count = 0.0, 0
    for inputs, targets in loader:
        model.zero_grad()
        loss = criterion(model(inputs), targets)
        total += loss.item() * targets.shape[0]
        count += targets.shape[0]
        loss.backward()
        if clip is not None:
            nn.utils.clip_grad_norm_(model.parameters(), max_norm=clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
    return total / count
''',
    "a summed loss divided by the batch size, a running mean": '''\
import torch
import torch.nn.functional as F


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    model.train()
    mean, seen = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x), y, reduction="sum") / len(y)
        loss.backward()
        if clip is not None:
            params = [p for p in model.parameters() if p.grad is not None]
            torch.nn.utils.clip_grad_norm_(params, clip)
        optimizer.step()
        if scheduler:
            scheduler.step()
        seen += len(y)
        mean += (loss.item() - mean) * len(y) / seen
    return mean
''',
    "the batch losses kept in a tensor": '''\
import torch


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    model.train()
    losses, sizes = [], []
    for x, y in loader:
        optimizer.zero_grad(set_to_none=False)
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip, norm_type=2.0)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        losses.append(loss.detach())
        sizes.append(len(y))
    sizes = torch.tensor(sizes, dtype=losses[0].dtype)
    return float((torch.stack(losses) * sizes).sum() / sizes.sum())
''',
}

# ----------------------------------------------------------------- save_checkpoint

CHECKPOINT_CELLS = {
    # wrong
    "only the model saved": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": copy.deepcopy(model.state_dict())}
''',
    "the optimizer's state left out": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": copy.deepcopy(model.state_dict()), "optimizer": None,
            "scheduler": copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None}
''',
    "no deep copy": '''\
def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None}
''',
    "the model cloned, the optimizer's state live": '''\
def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": {k: v.clone() for k, v in model.state_dict().items()},
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None}
''',
    "the scheduler not saved": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": copy.deepcopy(model.state_dict()), "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scheduler": None}
''',
    "the tutorial's keys": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    return {"model_state_dict": copy.deepcopy(model.state_dict()),
            "optimizer_state_dict": copy.deepcopy(optimizer.state_dict()),
            "scheduler_state_dict": copy.deepcopy(scheduler.state_dict()) if scheduler else None}
''',
    "scheduler=None not handled": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    return {"model": copy.deepcopy(model.state_dict()), "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scheduler": copy.deepcopy(scheduler.state_dict())}
''',
    # right
    "the whole dict deep-copied": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    checkpoint = {"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scheduler": None}
    if scheduler is not None:
        checkpoint["scheduler"] = scheduler.state_dict()
    return copy.deepcopy(checkpoint)
''',
    "the model's tensors cloned": '''\
import copy


def save_checkpoint(model, optimizer, scheduler=None):
    weights = {name: tensor.detach().clone() for name, tensor in model.state_dict().items()}
    return {"model": weights, "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scheduler": None if scheduler is None else copy.deepcopy(scheduler.state_dict())}
''',
    "through torch.save into memory": '''\
import io

import torch


def save_checkpoint(model, optimizer, scheduler=None):
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict() if scheduler is not None else None}, buffer)
    buffer.seek(0)
    return torch.load(buffer)
''',
}


def _function(source, name):
    namespace = {"__name__": f"catalogue_{name}"}
    exec(compile(textwrap.dedent(source), f"<{name} answer cell>", "exec"), namespace)   # noqa: S102
    return namespace[name]


def _make(cells, name):
    out = {}
    for label, source in cells.items():
        fn = _function(source, name)
        fn.__qualname__ = fn.__name__ = "_".join("".join(ch for ch in label if ch.isalnum() or ch == " ").split())
        out[label] = fn
    return out


EPOCH = _make(EPOCH_CELLS, "train_one_epoch")
CHECKPOINT = _make(CHECKPOINT_CELLS, "save_checkpoint")

ALL_EPOCH = {"basic", "scheduler", "clip", "train_mode"}

WRONG = {
    "train_one_epoch": [
        ("scheduler per epoch", EPOCH["scheduler per epoch"], {"scheduler", "recipe"}, "stepped once per epoch"),
        ("scheduler before optimizer.step()", EPOCH["scheduler before optimizer.step()"], {"scheduler"},
         "comes before optimizer.step()"),
        ("clip after optimizer.step()", EPOCH["clip after optimizer.step()"], {"clip"},
         "clipped after optimizer.step()"),
        ("clip per tensor", EPOCH["clip per tensor"], {"clip"}, "clipped by its own norm"),
        ("zero_grad forgotten", EPOCH["zero_grad forgotten"], ALL_EPOCH | {"recipe"}, "never zeroed"),
        ("zero_grad only after the step", EPOCH["zero_grad only after the step"], {"basic"},
         "zeroed only after the step"),
        ("model.train() never called", EPOCH["model.train() never called"], {"train_mode"},
         "model.train() is never called"),
        ("mean of the batch means", EPOCH["mean of the batch means"], {"basic"}, "mean of the batch means"),
        ("the last batch's loss", EPOCH["the last batch's loss"], {"basic"}, "loss of the last batch only"),
        ("the sum, not the mean", EPOCH["the sum, not the mean"], {"basic"}, "not the mean"),
    ],
    "save_checkpoint": [
        ("only the model saved", CHECKPOINT["only the model saved"], {"resume"}, "optimizer's state was not saved"),
        ("the optimizer's state left out", CHECKPOINT["the optimizer's state left out"], {"resume"},
         "optimizer's state was not saved"),
        ("no deep copy", CHECKPOINT["no deep copy"], {"resume"}, "follows the live model"),
        ("the model cloned, the optimizer's state live", CHECKPOINT["the model cloned, the optimizer's state live"],
         {"resume"}, "optimizer state is the live one"),
        ("the scheduler not saved", CHECKPOINT["the scheduler not saved"], {"resume"},
         "scheduler's state was not saved"),
        ("the tutorial's keys", CHECKPOINT["the tutorial's keys"], {"resume"}, "the contract's keys"),
        ("scheduler=None not handled", CHECKPOINT["scheduler=None not handled"], {"resume"},
         "raised AttributeError"),
    ],
}

RIGHT = {
    "train_one_epoch": [EPOCH[k] for k in (
        "zero_grad at the end, and set_to_none before the loop", "model.zero_grad() and nn.CrossEntropyLoss",
        "a summed loss divided by the batch size, a running mean", "the batch losses kept in a tensor")],
    "save_checkpoint": [CHECKPOINT[k] for k in (
        "the whole dict deep-copied", "the model's tensors cloned", "through torch.save into memory")],
}

# answer cells for the autograde tests: three wrong and two right of each function
SOURCES = {
    "train_one_epoch: scheduler per epoch": EPOCH_CELLS["scheduler per epoch"],
    "train_one_epoch: clip per tensor": EPOCH_CELLS["clip per tensor"],
    "train_one_epoch: model.train() never called": EPOCH_CELLS["model.train() never called"],
    "train_one_epoch: zero_grad at the end, and set_to_none before the loop":
        EPOCH_CELLS["zero_grad at the end, and set_to_none before the loop"],
    "train_one_epoch: a summed loss divided by the batch size, a running mean":
        EPOCH_CELLS["a summed loss divided by the batch size, a running mean"],
    "save_checkpoint: only the model saved": CHECKPOINT_CELLS["only the model saved"],
    "save_checkpoint: no deep copy": CHECKPOINT_CELLS["no deep copy"],
    "save_checkpoint: the scheduler not saved": CHECKPOINT_CELLS["the scheduler not saved"],
    "save_checkpoint: the model's tensors cloned": CHECKPOINT_CELLS["the model's tensors cloned"],
    "save_checkpoint: through torch.save into memory": CHECKPOINT_CELLS["through torch.save into memory"],
}
