"""Notebook 06's training loop and checkpoints (instructor side), and the runs the checks
replay with them.

``train_one_epoch`` and ``save_checkpoint`` are the contract's, word for word. ``replay``
makes the run that gradeclient.training_programs' ``train_epochs`` makes in the kernel
(the same ``build``, the same loaders), with any epoch function: the reference, or a
known mistake the checks want to name. ``uninterrupted`` is the run a checkpoint must
resume exactly. tests/test_practice_training.py proves them against a torch loop
written out in full.
"""
import copy

import torch

from gradeclient import nets
from gradeclient import training_programs as tp


def train_one_epoch(model, loader, optimizer, scheduler=None, clip=None):
    """One pass over ``loader``; the mean loss over the epoch's examples."""
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        if clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
        optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count


def save_checkpoint(model, optimizer, scheduler=None):
    """Deep copies of the three state dicts: training on does not change them."""
    return {"model": copy.deepcopy(model.state_dict()),
            "optimizer": copy.deepcopy(optimizer.state_dict()),
            "scheduler": copy.deepcopy(scheduler.state_dict()) if scheduler is not None else None}


def replay(spec, epoch=train_one_epoch):
    """The kernel's ``train_epochs`` run of ``spec`` made here with ``epoch`` (called as
    epoch(model, loader, optimizer, scheduler=..., clip=...)): per epoch, what it returned,
    nets.state of the model, the scheduler's last_epoch and model.training."""
    out = {"returned": [], "states": [], "last_epoch": [], "training": []}
    model, opt, sched = tp.build(spec)
    if spec.get("stale") is not None:
        tp._set_grads(model, spec["stale"])
    for e in range(int(spec["epochs"])):
        ld = tp.epoch_loader(spec, e)
        if spec.get("eval_before"):
            model.eval()
        out["returned"].append(float(tp.call_epoch(epoch, model, ld, opt, sched, spec.get("clip"))))
        out["states"].append(nets.state(model))
        out["last_epoch"].append(int(sched.last_epoch) if sched is not None else None)
        out["training"].append(model.training)
    return out


def uninterrupted(spec, weights=None):
    """nets.state after the checkpoint spec's before + after epochs without a break,
    trained with the reference loop."""
    model, opt, sched = tp.build(spec, weights=weights)
    for e in range(int(spec["before"]) + int(spec["after"])):
        train_one_epoch(model, tp.epoch_loader(spec, e), opt, sched)
    return nets.state(model)


def state_after(spec, epochs):
    """nets.state after the first ``epochs`` epochs of the checkpoint spec's run."""
    model, opt, sched = tp.build(spec)
    for e in range(epochs):
        train_one_epoch(model, tp.epoch_loader(spec, e), opt, sched)
    return nets.state(model)
