"""06_practice: the training loop (train_one_epoch) and checkpoints (save_checkpoint).

The student's functions never run here. The grader draws small classification problems
from the secret seeds (the data, every weight, each epoch's loader seed, the optimizer's
and the scheduler's hyperparameters) and sends them to the kernel, where
gradeclient.training_programs trains the network with the student's function and reports
the parameters and buffers after each epoch. Here the same run is replayed with the
reference (grader/reference/training.py) in float64 and compared to 1e-10 relative: the
same operations agree bit for bit, the tolerance admits a loss written as a sum divided by
the batch size. When a run differs, it is replayed with known mistakes (the scheduler
stepped per epoch, clipping after the step, zero_grad forgotten...) to name the one the
student made.

The recipe part grades a real training run instead: the student's train_one_epoch trains
the stated recipe on the digits from three seeds; the kernel returns its predictions on
the held-out images, whose labels never leave this process, and the part passes when at
least 2 of the 3 runs reach RECIPE_ACCURACY.
"""
import functools
import warnings

import numpy as np
import torch

from gradeclient import nets
from gradeclient import training_programs as tp
from grader.checks import seeds
from grader.checks.optimizer import _one_thread  # one thread for tiny torch models
from grader.checks.tolerance import rel_error
from grader.reference import training as ref

TOL = 1e-10     # float64, the same operations: bit for bit, up to a sum divided by the batch size
MATCH = 1e-8    # a replayed known mistake reproduces the student's run


class CheckFailed(AssertionError):
    pass


def _text(value, n=300):
    return str(value)[:n] if isinstance(value, str) else "(no message)"


# ------------------------------------------------------------ known mistakes

MISTAKES = {
    "no zero_grad": "the gradients are never zeroed (optimizer.zero_grad() is missing), so each backward() "
                    "adds to the gradients of all earlier batches; call it before every backward()",
    "zero at end": "the gradients are zeroed only after the step, so the first batch's backward() added to "
                   "gradients the model arrived with (as after a range test); zero them before every "
                   "backward(), or before the loop too",
    "no train": "model.train() is never called: the model arrived in eval mode (after a validation pass), "
                "so BatchNorm normalised with its running statistics and never updated them; call "
                "model.train() first",
    "scheduler per epoch": "the scheduler is stepped once per epoch, but it was built per step (its "
                           "total_steps and step_size count batches); call scheduler.step() after every "
                           "optimizer.step()",
    "scheduler before step": "scheduler.step() comes before optimizer.step(), so every batch uses the next "
                             "batch's learning rate; step the optimizer first, then the scheduler",
    "clip after step": "the gradients are clipped after optimizer.step() (or not at all), so the step used "
                       "the unclipped gradients; clip between loss.backward() and optimizer.step()",
    "clip per tensor": "each parameter's gradient is clipped by its own norm; clip_grad_norm_ scales all "
                       "gradients together by one factor, from their global norm "
                       "(torch.nn.utils.clip_grad_norm_(model.parameters(), clip))",
}
RETURN_MISTAKES = {
    "mean of batch means": "it is the mean of the batch means, in which a short last batch counts as much "
                           "as a full one; sum loss.item() * len(y) over the batches and divide by the "
                           "number of examples",
    "last batch": "it is the loss of the last batch only; return the mean over all the epoch's examples",
    "sum": "it is the sum over the examples, not the mean: divide by the number of examples",
}


def _variant(mistake):
    """The contract's train_one_epoch with one known mistake."""
    F = torch.nn.functional

    def epoch(model, loader, optimizer, scheduler=None, clip=None):
        if mistake != "no train":
            model.train()
        total, count, means = 0.0, 0, []
        for x, y in loader:
            if mistake not in ("no zero_grad", "zero at end"):
                optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            if clip is not None and mistake == "clip per tensor":
                for p in model.parameters():
                    if p.grad is not None:
                        torch.nn.utils.clip_grad_norm_([p], clip)
            elif clip is not None and mistake != "clip after step":
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if scheduler is not None and mistake == "scheduler before step":
                scheduler.step()
            optimizer.step()
            if clip is not None and mistake == "clip after step":
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            if scheduler is not None and mistake not in ("scheduler per epoch", "scheduler before step"):
                scheduler.step()
            if mistake == "zero at end":
                optimizer.zero_grad()
            total += loss.item() * len(y)
            count += len(y)
            means.append(loss.item())
        if scheduler is not None and mistake == "scheduler per epoch":
            scheduler.step()
        if mistake == "mean of batch means":
            return sum(means) / len(means)
        if mistake == "last batch":
            return means[-1]
        if mistake == "sum":
            return total
        return total / count

    return epoch


def _replay(spec, mistake=None):
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")   # "lr_scheduler.step() before optimizer.step()", replayed on purpose
        return ref.replay(spec, ref.train_one_epoch if mistake is None else _variant(mistake))


# ------------------------------------------------------------ problems

def _problem(rng, hidden, norm=None):
    """A classification problem the network can partly fit: d inputs, k classes, labels from
    a random linear map plus noise; n examples in batches with a short last batch (at
    least 2 examples, so that BatchNorm can train on it)."""
    d, k = int(rng.integers(4, 8)), int(rng.integers(3, 6))
    batch_size, batches = int(rng.integers(10, 17)), int(rng.integers(5, 8))
    n = batch_size * (batches - 1) + int(rng.integers(2, batch_size - 1))
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)) + 0.5 * rng.normal(size=(n, k)), axis=1)
    arch = {"sizes": [d, *hidden, k], "norm": norm, "bias": True}
    return {"arch": arch, "weights": nets.draw_weights(arch, rng), "X": X, "y": y.astype(np.int64),
            "batch_size": batch_size}


def _batches(spec):
    return -(-len(spec["y"]) // spec["batch_size"])


def _sgd(rng):
    return {"name": "sgd", "kwargs": {"lr": float(rng.uniform(0.05, 0.2)), "momentum": 0.9,
                                      "weight_decay": float(rng.choice([0.0, 1e-3]))}}


def _adamw(rng):
    return {"name": "adamw", "kwargs": {"lr": float(rng.uniform(5e-3, 2e-2)), "weight_decay": 0.05}}


def _run_spec(rng, hidden, norm, optimizer, epochs, scheduler=None, **extra):
    spec = _problem(rng, hidden, norm)
    spec.update(optimizer=optimizer(rng), epochs=epochs, seeds=[seeds.draw(rng) for _ in range(epochs)])
    if scheduler is not None:
        spec["scheduler"] = scheduler(rng, _batches(spec) * epochs)
    spec.update(extra)
    return spec


def _onecycle(rng, total):
    return {"name": "onecycle", "kwargs": {"max_lr": float(rng.uniform(0.05, 0.2)), "total_steps": int(total),
                                           "pct_start": float(rng.uniform(0.2, 0.4))}}


def _steplr(rng, total):
    return {"name": "step", "kwargs": {"step_size": int(rng.integers(2, max(3, total // 3))),
                                       "gamma": float(rng.uniform(0.3, 0.7))}}


def _clip_for(spec, fraction=0.3):
    """A max_norm active on every batch: a fraction of the smallest global gradient norm
    of the first epoch's batches at the initial weights (the clipped run moves slowly, so
    its norms stay near those)."""
    model, _, _ = tp.build(spec)
    norms = []
    for x, y in tp.epoch_loader(spec, 0):
        model.zero_grad()
        torch.nn.functional.cross_entropy(model(x), y).backward()
        norms.append(float(torch.linalg.vector_norm(torch.stack([p.grad.norm() for p in model.parameters()]))))
    return float(fraction * min(norms))


def _describe(spec):
    sizes = "-".join(str(s) for s in spec["arch"]["sizes"])
    norm = {"batch": " with BatchNorm1d", "layer": " with LayerNorm"}.get(spec["arch"].get("norm"), "")
    o = spec["optimizer"]
    opt = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}[o["name"]] + "(" + \
        ", ".join(f"{k}={v:.3g}" for k, v in o["kwargs"].items()) + ")"
    s = spec.get("scheduler")
    sched = ""
    if s:
        sched = {"onecycle": ", OneCycleLR", "step": ", StepLR"}[s["name"]] + "(" + \
            ", ".join(f"{k}={v:.3g}" for k, v in s["kwargs"].items()) + ") stepped per batch"
    n, b = len(spec["y"]), spec["batch_size"]
    return (f"an MLP {sizes}{norm}, {opt}{sched}, {n} examples in batches of {b} (the last of {n % b}), "
            f"{spec['epochs']} epoch{'s' if spec['epochs'] > 1 else ''}")


def _label(spec):
    args = "model, loader, optimizer" + (", scheduler" if spec.get("scheduler") else "") + \
        (f", clip={spec['clip']:.3g}" if spec.get("clip") is not None else "")
    extra = ""
    if spec.get("eval_before"):
        extra += ", the model in eval mode before each epoch"
    if spec.get("stale") is not None:
        extra += ", the model arriving with gradients left from before"
    return f"train_one_epoch({args}) on {_describe(spec)}{extra}"


# ------------------------------------------------------------ reading the kernel's report

def _error_message(name, label, err):
    if err.get("not_implemented"):
        return f"{name} is not implemented yet (it raises NotImplementedError)."
    message = _text(err.get("message"))
    hint = ""
    if "Tried to step" in message:
        hint = " The scheduler is stepped more often than once per batch."
    return f"{label} raised {_text(err.get('type'), 80)}: {message.rstrip('.')}.{hint}"


def _kernel_run(fn, spec, label):
    report = fn.run("train_epochs", spec)
    if not isinstance(report, dict):
        raise CheckFailed(f"{label}: the run sent back nothing readable.")
    err = report.get("error")
    if isinstance(err, str):
        raise CheckFailed(f"{label}: the run could not be made ({err[:300]}).")
    if isinstance(err, dict):
        where = f" (epoch {err['epoch'] + 1})" if isinstance(err.get("epoch"), int) and spec["epochs"] > 1 else ""
        raise CheckFailed(_error_message("train_one_epoch", label + where, err))
    return report


def _arrays(states, e):
    try:
        state = states[e]
        return {str(k): np.asarray(v, dtype=np.float64) for k, v in state.items()}
    except (KeyError, IndexError, TypeError, ValueError, AttributeError):
        return None


def _first_difference(states, reference):
    """(epoch, name, relative error) of the first parameter or buffer that differs from
    ``reference`` (a list of nets.state per epoch), or None."""
    for e, want in enumerate(reference):
        got = _arrays(states, e)
        if got is None:
            return e, None, np.inf
        for name, w in want.items():
            g = got.get(name)
            if g is None or g.shape != w.shape:
                return e, name, np.inf
            err = rel_error(g, w)
            if not err <= TOL:
                return e, name, err
    return None


def _same_states(states, reference, tol=MATCH):
    for e, want in enumerate(reference):
        got = _arrays(states, e)
        if got is None:
            return False
        for name, w in want.items():
            g = got.get(name)
            if g is None or g.shape != w.shape or not rel_error(g, w) <= tol:
                return False
    return True


def _diagnose(spec, states, candidates):
    for key in candidates:
        try:
            replay = _replay(spec, key)
        except Exception:
            continue
        if _same_states(states, replay["states"]):
            return key
    return None


def _what(name):
    return "buffer" if name and name.rsplit(".", 1)[-1] in ("running_mean", "running_var", "num_batches_tracked") \
        else "parameter"


def _run_and_compare(fn, spec, candidates, returned=False, last_epoch=False, forgive=()):
    """Run the student's loop on ``spec`` in the kernel and compare it with the reference
    run, epoch by epoch: parameters and buffers, and the returned losses and the
    scheduler's last_epoch when asked. A run that a mistake in ``forgive`` reproduces
    passes (another part charges that mistake)."""
    label = _label(spec)
    report = _kernel_run(fn, spec, label)
    want = _replay(spec)
    diff = _first_difference(report.get("states"), want["states"])
    if diff is not None:
        if any(_same_states(report.get("states"), _replay(spec, key)["states"]) for key in forgive):
            return
        e, name, err = diff
        where = f"after epoch {e + 1} " if spec["epochs"] > 1 else "after the epoch "
        if name is None:
            raise CheckFailed(f"{label}: the run reported no parameters {where.strip()}.")
        msg = (f"{label}: {where}{_what(name)} '{name}' differs from the reference run (relative error "
               f"{err:.1e})" + ("; the first epoch agreed." if e > 0 else "."))
        cause = _diagnose(spec, report.get("states"), candidates)
        if cause:
            msg += f" This matches a known mistake: {MISTAKES[cause]}."
        raise CheckFailed(msg)
    if last_epoch:
        got = report.get("last_epoch")
        for e, w in enumerate(want["last_epoch"]):
            g = got[e] if isinstance(got, list) and e < len(got) else None
            if g != w:
                raise CheckFailed(f"{label}: after epoch {e + 1} the scheduler's last_epoch is {g!r:.40}, expected "
                                  f"{w} (one scheduler.step() per batch, {_batches(spec)} batches per epoch).")
    if returned:
        _check_returned(spec, label, report, want)


def _check_returned(spec, label, report, want):
    values, kinds = report.get("returned"), report.get("returned_kind")
    for e, w in enumerate(want["returned"]):
        g = values[e] if isinstance(values, list) and e < len(values) else None
        which = f" for epoch {e + 1}" if spec["epochs"] > 1 else ""
        if isinstance(g, bool) or not isinstance(g, (int, float)):
            kind = kinds[e] if isinstance(kinds, list) and e < len(kinds) and isinstance(kinds[e], str) else "nothing"
            raise CheckFailed(f"{label} returned {kind[:60]}{which}; it should return the epoch's mean loss "
                              f"as a float ({w:.6g} here).")
        if rel_error(g, w) <= TOL:
            continue
        msg = (f"{label} returned {g:.6g}{which}, expected the mean loss over the epoch's examples {w:.6g}.")
        for key, text in RETURN_MISTAKES.items():
            other = _replay(spec, key)["returned"][e]
            if rel_error(g, other) <= MATCH:
                msg += f" This matches a known mistake: {text}."
                break
        raise CheckFailed(msg)


# ------------------------------------------------------------ the parts of train_one_epoch

STATE_MISTAKES = list(MISTAKES)


def part_basic(fn, rng):
    """SGD with momentum and AdamW, no scheduler, no clip, the model in train mode, a short
    last batch: parameters, buffers and the returned mean loss after each epoch; in the
    second run the model has BatchNorm and arrives with gradients left from before."""
    first = _run_spec(rng, [12], None, _sgd, epochs=1)
    _run_and_compare(fn, first, STATE_MISTAKES, returned=True)
    second = _run_spec(rng, [10, 10], "batch", _adamw, epochs=2)
    second["stale"] = [rng.normal(size=s) for s in nets.shapes(second["arch"])]
    _run_and_compare(fn, second, STATE_MISTAKES, returned=True)


def part_scheduler(fn, rng):
    """OneCycleLR built for epochs * len(loader) steps (with SGD) and StepLR with a
    step_size counted in batches (with AdamW), 2 epochs each: parameters after each epoch
    and the scheduler's last_epoch."""
    for optimizer, scheduler in ((_sgd, _onecycle), (_adamw, _steplr)):
        spec = _run_spec(rng, [12], None, optimizer, epochs=2, scheduler=scheduler)
        _run_and_compare(fn, spec, STATE_MISTAKES, last_epoch=True)


def part_clip(fn, rng):
    """Clipping by the global norm, with max_norm active on every batch: with SGD and no
    scheduler, and with AdamW and OneCycleLR (a scheduler mistake alone is charged by the
    scheduler part, not here)."""
    spec = _run_spec(rng, [12], None, _sgd, epochs=1)
    spec["clip"] = _clip_for(spec)
    _run_and_compare(fn, spec, STATE_MISTAKES)

    spec = _run_spec(rng, [10, 10], "layer", _adamw, epochs=2, scheduler=_onecycle_adam)
    spec["clip"] = _clip_for(spec)
    _run_and_compare(fn, spec, STATE_MISTAKES, forgive=("scheduler per epoch", "scheduler before step"))


def part_train_mode(fn, rng):
    """The model arrives in eval mode before each epoch (as after a validation pass) and
    has BatchNorm1d: train_one_epoch must put it back in train mode."""
    for optimizer in (_sgd, _adamw):
        spec = _run_spec(rng, [10, 10], "batch", optimizer, epochs=2, eval_before=True)
        _run_and_compare(fn, spec, STATE_MISTAKES)


# ------------------------------------------------------------ the recipe

RECIPE = {"arch": {"sizes": [64, 64, 10], "norm": None, "bias": True}, "epochs": 10, "batch_size": 64,
          "lr": 3e-3, "weight_decay": 1e-2}
# Measured (tests/test_practice_training.py keeps it true): with the reference loop the runs reach
# 0.883-0.911 on the 360 test digits (mean 0.898 over 60 runs under 20 secrets; the median of three
# at least 0.891 under 10); with zero_grad forgotten 0.68-0.86 (mean 0.78), with a OneCycleLR built
# per step but stepped per epoch 0.47-0.77.
RECIPE_ACCURACY = 0.87
RECIPE_SEEDS = 3
RECIPE_NEEDED = 2
RECIPE_TEXT = ("an MLP 64-64-10 in float32, AdamW(lr=3e-3, weight_decay=1e-2) on all parameters, OneCycleLR "
               "(max_lr=3e-3) stepped per batch, batches of 64, 10 epochs")


@functools.cache
def _digits():
    from descentlab import digits
    data = digits.split()
    return (np.asarray(data.X_train, dtype=np.float64), np.asarray(data.y_train, dtype=np.int64),
            np.asarray(data.X_test, dtype=np.float64), np.asarray(data.y_test, dtype=np.int64))


def recipe_spec(rng):
    X_train, y_train, X_eval, _ = _digits()
    runs = [{"weights": nets.draw_weights(RECIPE["arch"], rng), "seed": seeds.draw(rng)} for _ in range(RECIPE_SEEDS)]
    return {**RECIPE, "X_train": X_train, "y_train": y_train, "X_eval": X_eval, "runs": runs}


def recipe_accuracies(report):
    """The held-out accuracy of each run (None for a run that failed), and the first error."""
    _, _, _, y_eval = _digits()
    runs = report.get("runs") if isinstance(report, dict) else None
    if not isinstance(runs, list):
        return [None] * RECIPE_SEEDS, None
    accs, first_error = [], None
    for entry in runs[:RECIPE_SEEDS]:
        entry = entry if isinstance(entry, dict) else {}
        pred = entry.get("predictions")
        if isinstance(entry.get("error"), dict):
            first_error = first_error or entry["error"]
            accs.append(None)
        elif isinstance(pred, np.ndarray) and pred.shape == y_eval.shape:
            accs.append(float(np.mean(pred == y_eval)))
        else:
            accs.append(None)
    return accs + [None] * (RECIPE_SEEDS - len(accs)), first_error


def part_recipe(fn, rng):
    """The recipe reaches RECIPE_ACCURACY on the held-out digits on at least 2 of 3 seeds."""
    report = fn.run("recipe_runs", recipe_spec(rng))
    accs, err = recipe_accuracies(report)
    label = f"train_one_epoch training {RECIPE_TEXT}"
    if all(a is None for a in accs) and err:
        raise CheckFailed(_error_message("train_one_epoch", label, err))
    passed = sum(a is not None and a >= RECIPE_ACCURACY for a in accs)
    if passed >= RECIPE_NEEDED:
        return
    shown = ", ".join("failed" if a is None else f"{100 * a:.1f}%" for a in accs)
    msg = (f"{label}: held-out accuracy {shown} on {RECIPE_SEEDS} seeds; at least {100 * RECIPE_ACCURACY:.0f}% "
           f"is needed on {RECIPE_NEEDED} of them. A correct loop reaches it on every seed: check the other "
           f"parts first (zero_grad, the scheduler stepped per batch).")
    if err:
        msg += " " + _error_message("train_one_epoch", "One run", err)
    raise CheckFailed(msg)


# ------------------------------------------------------------ save_checkpoint

def _resume_spec(rng, hidden, norm, optimizer, before, after, scheduler=None):
    spec = _problem(rng, hidden, norm)
    total = before + after
    spec.update(optimizer=optimizer(rng), before=before, after=after, seeds=[seeds.draw(rng) for _ in range(total)],
                fresh_weights=nets.draw_weights(spec["arch"], rng))
    if scheduler is not None:
        spec["scheduler"] = scheduler(rng, _batches(spec) * total)
    return spec


def _resume_label(spec):
    args = "model, optimizer" + (", scheduler" if spec.get("scheduler") else "")
    return (f"save_checkpoint({args}) after {spec['before']} of {spec['before'] + spec['after']} epochs "
            f"({_describe({**spec, 'epochs': spec['before'] + spec['after']})})")


def _state_difference(got, want):
    return _first_difference([got], [want])


def _check_resume(fn, spec):
    label = _resume_label(spec)
    report = fn.run("checkpoint_resume", spec)
    if not isinstance(report, dict):
        raise CheckFailed(f"{label}: the run sent back nothing readable.")
    err = report.get("error")
    if isinstance(err, str):
        raise CheckFailed(f"{label}: the run could not be made ({err[:300]}).")
    if isinstance(err, dict):
        raise CheckFailed(_error_message("save_checkpoint", label, err))
    keys = report.get("keys")
    if not isinstance(keys, list):
        raise CheckFailed(f"{label} returned {_text(report.get('kind'), 60)}; it should return a dict "
                          f"{{'model': ..., 'optimizer': ..., 'scheduler': ...}}.")
    keys = [str(k)[:60] for k in keys[:20]]
    missing = [k for k in tp.CHECKPOINT_KEYS if k not in keys]
    if missing:
        shown = keys[:8] + (["..."] if len(keys) > 8 else [])
        msg = (f"{label} returned a dict with keys {shown}; the contract's keys are 'model', 'optimizer' and "
               f"'scheduler' (resuming reads checkpoint['model'], checkpoint['optimizer'], checkpoint['scheduler']).")
        if "optimizer" in missing and not any("optim" in k for k in keys):
            msg += (" The optimizer's state was not saved: Adam's moments and step counts would restart at "
                    "zero on resume.")
        raise CheckFailed(msg)
    load = report.get("load") if isinstance(report.get("load"), dict) else {}
    for key, what in (("model", "model"), ("optimizer", "optimizer"), ("scheduler", "scheduler")):
        status = load.get(key)
        if status == "none":
            if key == "model":
                raise CheckFailed(f"{label}: checkpoint['model'] is None; save model.state_dict().")
            text = ("Adam's moments and step counts restart at zero on resume (the bump after a restart)"
                    if key == "optimizer" else "the learning-rate schedule restarts from its first step on resume")
            raise CheckFailed(f"{label}: the {what}'s state was not saved (checkpoint['{key}'] is None): {text}; "
                              f"save {what}.state_dict().")
        if isinstance(status, dict):
            raise CheckFailed(f"{label}: {what}.load_state_dict(checkpoint['{key}']) raised "
                              f"{_text(status.get('type'), 80)}: {_text(status.get('message'))} (save "
                              f"{what}.state_dict(), copied).")
    if isinstance(report.get("resumed_error"), dict):
        e = report["resumed_error"]
        raise CheckFailed(f"{label}: training on after loading the checkpoint raised {_text(e.get('type'), 80)}: "
                          f"{_text(e.get('message'))}.")
    if isinstance(report.get("continued_error"), dict):
        e = report["continued_error"]
        raise CheckFailed(f"{label}: save_checkpoint changed the run it saved: training on after the call raised "
                          f"{_text(e.get('type'), 80)}: {_text(e.get('message'))} (save copies; do not step, zero "
                          f"or load anything).")
    want = ref.uninterrupted(spec)
    if _state_difference(report.get("continued"), want) is not None:
        raise CheckFailed(f"{label}: save_checkpoint changed the run it saved: the epochs trained on after the "
                          f"call differ from the uninterrupted run (save copies; do not step, zero or load anything).")
    diff = _state_difference(report.get("resumed"), want)
    if diff is None:
        return
    _, name, err = diff
    shares = report.get("shares") if isinstance(report.get("shares"), list) else []
    msg = (f"{label}: resuming from the checkpoint does not reproduce the uninterrupted run ({_what(name)} "
           f"'{name}' after epoch {spec['before'] + spec['after']}, relative error {err:.1e}).")
    later = _state_difference(report.get("saved_model"), ref.state_after(spec, spec["before"] + spec["after"]))
    if "model" in shares or (later is None and report.get("saved_model")):
        msg += (" This matches a known mistake: the checkpoint follows the live model (state_dict() returns the "
                "model's own tensors, so the epochs trained after saving changed it: the run resumed from the "
                "later weights); save copy.deepcopy(model.state_dict()).")
    elif "optimizer" in shares:
        msg += (" This matches a known mistake: the checkpoint's optimizer state is the live one "
                "(optimizer.state_dict() holds the optimizer's own moment tensors, which went on changing after "
                "saving); save copy.deepcopy(optimizer.state_dict()).")
    raise CheckFailed(msg)


def part_resume(fn, rng):
    """AdamW with OneCycleLR and BatchNorm (saved after 2 of 4 epochs), and SGD with
    momentum without a scheduler (after 1 of 3): the resumed run, loaded into a fresh
    model, optimizer and scheduler with plain torch, equals the uninterrupted run."""
    _check_resume(fn, _resume_spec(rng, [10, 10], "batch", _adamw, 2, 2, scheduler=_onecycle_adam))
    _check_resume(fn, _resume_spec(rng, [12], None, _sgd, 1, 2))


def _onecycle_adam(rng, total):
    s = _onecycle(rng, total)
    s["kwargs"]["max_lr"] = float(rng.uniform(5e-3, 2e-2))
    return s


# ------------------------------------------------------------ registration

TRAIN_PARTS = {"basic": part_basic, "scheduler": part_scheduler, "clip": part_clip, "train_mode": part_train_mode,
               "recipe": part_recipe}
CHECKPOINT_PARTS = {"resume": part_resume}


def check_train_one_epoch(fn, part):
    with _one_thread():
        TRAIN_PARTS[part](fn, seeds.rng("train_one_epoch", part))


def check_save_checkpoint(fn, part):
    with _one_thread():
        CHECKPOINT_PARTS[part](fn, seeds.rng("save_checkpoint", part))


CHECKS = {
    "train_one_epoch": (check_train_one_epoch, list(TRAIN_PARTS), "train_one_epoch"),
    "save_checkpoint": (check_save_checkpoint, list(CHECKPOINT_PARTS), "save_checkpoint"),
}
