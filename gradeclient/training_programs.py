"""Kernel-side programs for answers that train a torch model (notebook 06's training loop,
range test, checkpoints and recipe).

Every number a program uses comes from the grader's spec: the architecture and every
weight (gradeclient.nets), the data, the batch size, the seed of each epoch's loader, the
optimizer, the scheduler and their hyperparameters. A program runs the student's function
and reports what happened as plain data (parameters and buffers by name, returned values,
the scheduler's step count, errors); the grader replays the same run with its reference
and decides. ``build`` is shared with the grader's replays, so both sides construct the
very same objects.

spec of a run: {"arch": nets arch, "weights": [arrays], "X": (n, d), "y": (n,) labels,
"batch_size": int, "seeds": [the loader's seed for each epoch], "optimizer": {"name":
"sgd" | "adam" | "adamw", "kwargs": {...}}, "scheduler": None | {"name": "onecycle" |
"step", "kwargs": {...}} (stepped once per batch: total_steps and step_size count batches)}
"""
from gradeclient import nets
from gradeclient.programs import program

OPTIMIZERS = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW"}
SCHEDULERS = {"onecycle": "OneCycleLR", "step": "StepLR"}
MAX_MESSAGE = 500


def _torch():
    import torch
    return torch


def build(spec, weights=None, dtype=None):
    """(model, optimizer, scheduler or None) of ``spec``; ``weights`` instead of the spec's."""
    torch = _torch()
    model = nets.mlp(spec["arch"], spec["weights"] if weights is None else weights)
    if dtype is not None:
        model = model.to(dtype)
    o = spec["optimizer"]
    opt = getattr(torch.optim, OPTIMIZERS[o["name"]])(model.parameters(), **dict(o.get("kwargs") or {}))
    s = spec.get("scheduler")
    sched = None
    if s:
        sched = getattr(torch.optim.lr_scheduler, SCHEDULERS[s["name"]])(opt, **dict(s.get("kwargs") or {}))
    return model, opt, sched


def epoch_loader(spec, epoch, dtype=None):
    """The loader of epoch ``epoch`` (0-based): seeded with spec["seeds"][epoch]."""
    if dtype is None:
        return nets.loader(spec["X"], spec["y"], spec["batch_size"], spec["seeds"][epoch])
    return loader(spec["X"], spec["y"], spec["batch_size"], spec["seeds"][epoch], dtype)


def loader(X, y, batch_size, seed, dtype):
    """nets.loader with inputs of ``dtype`` (float32 for the recipe)."""
    torch = _torch()
    import numpy as np
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset
    data = TensorDataset(torch.as_tensor(np.asarray(X), dtype=dtype), torch.as_tensor(np.asarray(y), dtype=torch.int64))
    gen = torch.Generator().manual_seed(int(seed))
    return DataLoader(data, sampler=BatchSampler(RandomSampler(data, generator=gen), int(batch_size), drop_last=False),
                      batch_size=None)


def own_epoch(model, loader_, optimizer, scheduler=None):
    """gradeclient's own training loop (the contract's train_one_epoch, without clipping):
    the runs around a student's save_checkpoint use it, never the student's loop."""
    torch = _torch()
    model.train()
    for x, y in loader_:
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        optimizer.step()
        if scheduler is not None:
            scheduler.step()


def _error(at, e, **where):
    try:
        message = str(e)[:MAX_MESSAGE]
    except Exception:   # noqa: BLE001 (a hostile __str__)
        message = "(no message)"
    return {"at": at, "type": type(e).__name__[:80], "message": message,
            "not_implemented": isinstance(e, NotImplementedError), **where}


def _kind(value):
    try:
        return type(value).__name__[:60]
    except Exception:   # noqa: BLE001
        return "object"


def number(value):
    """(a float, None) for a returned number (int, float, a numpy scalar, a one-element
    tensor or array), else (None, the name of its type)."""
    torch = _torch()
    import numpy as np
    try:
        if isinstance(value, bool) or value is None:
            return None, _kind(value)
        if isinstance(value, (int, float)):
            return float(value), None
        if isinstance(value, (np.generic, np.ndarray)) and np.asarray(value).size == 1 \
                and np.asarray(value).dtype.kind in "iuf":
            return float(np.asarray(value).reshape(())), None
        if torch.is_tensor(value) and value.numel() == 1 and not value.dtype.is_complex \
                and value.dtype != torch.bool:
            return float(value.detach().reshape(()).item()), None
    except Exception:   # noqa: BLE001 (a hostile number)
        pass
    return None, _kind(value)


def _state(model):
    try:
        return nets.state(model)
    except Exception:   # noqa: BLE001 (a model the student's code broke)
        return None


def _one_thread():
    torch = _torch()
    before = torch.get_num_threads()
    torch.set_num_threads(1)   # tiny models: one thread is the fastest, and the same on every machine
    return before


# ------------------------------------------------------------------ train_one_epoch

def _set_grads(model, grads):
    torch = _torch()
    import numpy as np
    for p, g in zip(model.parameters(), grads, strict=True):
        p.grad = torch.from_numpy(np.array(g, dtype=np.float64)).reshape(p.shape).to(p.dtype)


def call_epoch(fn, model, loader_, opt, sched, clip):
    """The student's function called as the notebook calls it: the scheduler and the clip
    only when there is one (so that their defaults are used otherwise)."""
    if not callable(fn):
        raise TypeError("the answer is not callable")
    kwargs = {}
    if sched is not None:
        kwargs["scheduler"] = sched
    if clip is not None:
        kwargs["clip"] = clip
    return fn(model, loader_, opt, **kwargs)


@program
def train_epochs(fn, spec):
    """Train the network of ``spec`` for spec["epochs"] epochs, one call of the student's
    train_one_epoch per epoch on that epoch's loader.

    spec: a run (see the module's docstring) and "epochs", "clip": None or max_norm,
    "eval_before": put the model in eval mode before each call (as after a validation
    pass), "stale": None or [arrays] set as the parameters' gradients before the first call.
    report: {"error": None or {"at": "call", "epoch", "type", "message", "not_implemented"}
    (a run stops at its first error), per epoch: "returned" (float or None), "returned_kind"
    (None, or the type of what came back when it is not a number), "states" (nets.state),
    "last_epoch" (the scheduler's, or None), "training" (model.training afterwards)}
    """
    torch = _torch()
    report = {"error": None, "returned": [], "returned_kind": [], "states": [], "last_epoch": [], "training": []}
    threads = _one_thread()
    try:
        model, opt, sched = build(spec)
        if spec.get("stale") is not None:
            _set_grads(model, spec["stale"])
        for epoch in range(int(spec["epochs"])):
            ld = epoch_loader(spec, epoch)
            if spec.get("eval_before"):
                model.eval()
            try:
                value = call_epoch(fn, model, ld, opt, sched, spec.get("clip"))
            except KeyboardInterrupt:
                raise
            except BaseException as e:   # noqa: BLE001 (the student's error, reported)
                report["error"] = _error("call", e, epoch=epoch)
                break
            got, kind = number(value)
            report["returned"].append(got)
            report["returned_kind"].append(kind)
            report["states"].append(_state(model))
            report["last_epoch"].append(int(sched.last_epoch) if sched is not None else None)
            try:
                report["training"].append(bool(model.training))
            except Exception:   # noqa: BLE001
                report["training"].append(None)
        return report
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ save_checkpoint

CHECKPOINT_KEYS = ("model", "optimizer", "scheduler")


def _tensors(obj, depth=0):
    """The tensors inside a (nested) state dict: dicts, lists and tuples walked."""
    torch = _torch()
    if depth > 6:
        return []
    if torch.is_tensor(obj):
        return [obj]
    out = []
    if isinstance(obj, dict):
        for v in list(obj.values())[:10000]:
            out += _tensors(v, depth + 1)
    elif isinstance(obj, (list, tuple)):
        for v in list(obj)[:10000]:
            out += _tensors(v, depth + 1)
    return out


def _shares(checkpoint, model, opt):
    """Which entries of the checkpoint hold the live run's own tensors ("model": those of
    model.state_dict(), "optimizer": the optimizer's state)."""
    found = []
    live = {"model": _tensors(model.state_dict()), "optimizer": _tensors(list(opt.state.values()))}
    for key, tensors in live.items():
        try:
            mine = _tensors(checkpoint[key])
        except Exception:   # noqa: BLE001 (no such entry, a hostile mapping)
            continue
        pointers = {t.untyped_storage().data_ptr() for t in tensors if t.numel()}
        if any(t.numel() and t.untyped_storage().data_ptr() in pointers for t in mine):
            found.append(key)
    return found


def _keys(checkpoint):
    try:
        if not isinstance(checkpoint, dict):
            return None
        return sorted(str(k)[:60] for k in list(checkpoint)[:20])
    except Exception:   # noqa: BLE001
        return None


def _saved_model(checkpoint):
    """checkpoint["model"] as arrays by name (read when the resumed model loads it)."""
    import numpy as np
    torch = _torch()
    try:
        entry = checkpoint["model"]
        return {str(k)[:100]: np.array(v.detach().cpu().numpy(), dtype=np.float64)
                for k, v in list(entry.items())[:200] if torch.is_tensor(v)}
    except Exception:   # noqa: BLE001
        return None


@program
def checkpoint_resume(fn, spec):
    """Save a checkpoint mid-run with the student's save_checkpoint and resume from it.

    The run of ``spec`` is trained for spec["before"] epochs with gradeclient's own loop
    (own_epoch), save_checkpoint(model, optimizer, scheduler) is called (without the
    scheduler when there is none), and the run goes on for spec["after"] epochs. Then a
    fresh model (spec["fresh_weights"]), optimizer and scheduler are built as the spec
    says, the checkpoint is loaded into them with plain torch (model.load_state_dict(c["model"]),
    optimizer.load_state_dict(c["optimizer"]), scheduler.load_state_dict(c["scheduler"])),
    and they train for the same spec["after"] epochs on the same epochs' loaders.

    report: {"error": None or {"at": "save", ...}, "kind": the type of what came back,
    "keys": its keys (None when not a dict), "shares": entries holding the live run's own
    tensors, "continued": nets.state of the run that went on ("continued_error": an error it
    raised), "saved_model": checkpoint
    ["model"] as arrays when it is loaded, "load": {entry: "ok" | "missing" | "none" |
    "skipped" | an error dict}, "resumed": nets.state of the resumed run, "resumed_error":
    an error of the resumed training}
    """
    torch = _torch()
    report = {"error": None, "kind": None, "keys": None, "shares": [], "continued": None, "saved_model": None,
              "load": {}, "resumed": None, "resumed_error": None, "continued_error": None}
    threads = _one_thread()
    try:
        before, after = int(spec["before"]), int(spec["after"])
        model, opt, sched = build(spec)
        for epoch in range(before):
            own_epoch(model, epoch_loader(spec, epoch), opt, sched)
        try:
            if not callable(fn):
                raise TypeError("the answer is not callable")
            checkpoint = fn(model, opt, sched) if sched is not None else fn(model, opt)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (the student's error, reported)
            report["error"] = _error("save", e)
            return report
        report["kind"] = _kind(checkpoint)
        report["keys"] = _keys(checkpoint)
        try:
            report["shares"] = _shares(checkpoint, model, opt)
        except Exception:   # noqa: BLE001
            report["shares"] = []
        try:
            for epoch in range(before, before + after):
                own_epoch(model, epoch_loader(spec, epoch), opt, sched)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (save_checkpoint broke the live run)
            report["continued_error"] = _error("continue", e)
        report["continued"] = _state(model)

        fresh, fresh_opt, fresh_sched = build(spec, weights=spec["fresh_weights"])
        report["saved_model"] = _saved_model(checkpoint)
        for key, target in zip(CHECKPOINT_KEYS, (fresh, fresh_opt, fresh_sched), strict=True):
            if target is None:
                report["load"][key] = "skipped"
                continue
            try:
                entry = checkpoint[key]
            except KeyboardInterrupt:
                raise
            except BaseException:   # noqa: BLE001 (no such key, or not a mapping)
                report["load"][key] = "missing"
                continue
            if entry is None:
                report["load"][key] = "none"
                continue
            try:
                target.load_state_dict(entry)
                report["load"][key] = "ok"
            except KeyboardInterrupt:
                raise
            except BaseException as e:   # noqa: BLE001
                report["load"][key] = _error("load", e)
        try:
            for epoch in range(before, before + after):
                own_epoch(fresh, epoch_loader(spec, epoch), fresh_opt, fresh_sched)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (a state that loaded but does not work)
            report["resumed_error"] = _error("resume", e)
        report["resumed"] = _state(fresh)
        return report
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ the recipe

@program
def recipe_runs(fn, spec):
    """Train the recipe with the student's train_one_epoch from several seeds and predict
    the held-out images (whose labels the kernel never sees).

    spec: {"arch", "X_train", "y_train", "X_eval", "epochs", "batch_size", "lr",
    "weight_decay", "runs": [{"weights": [arrays], "seed": the loader's seed}]}. Each run:
    nets.mlp(arch, weights) in float32, AdamW(lr, weight_decay) on all parameters,
    OneCycleLR(max_lr=lr, total_steps=epochs * len(loader)) handed to train_one_epoch to
    step per batch, one loader (batch_size, reshuffled every epoch) for all epochs.
    report: {"runs": [{"error", "losses": [what each epoch returned, as floats or None],
    "predictions": int64 array or None}]}
    """
    torch = _torch()
    threads = _one_thread()
    out = []
    try:
        for run in spec["runs"]:
            entry = {"error": None, "losses": [], "predictions": None}
            out.append(entry)
            model = nets.mlp(spec["arch"], run["weights"]).to(torch.float32)
            ld = loader(spec["X_train"], spec["y_train"], spec["batch_size"], run["seed"], torch.float32)
            opt = torch.optim.AdamW(model.parameters(), lr=spec["lr"], weight_decay=spec["weight_decay"])
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=spec["lr"],
                                                        total_steps=int(spec["epochs"]) * len(ld))
            try:
                for _ in range(int(spec["epochs"])):
                    entry["losses"].append(number(call_epoch(fn, model, ld, opt, sched, None))[0])
            except KeyboardInterrupt:
                raise
            except BaseException as e:   # noqa: BLE001 (the student's error, reported)
                entry["error"] = _error("call", e, epoch=len(entry["losses"]))
                continue
            try:
                model.eval()
                with torch.no_grad():
                    scores = model(torch.as_tensor(spec["X_eval"], dtype=torch.float32))
                entry["predictions"] = scores.argmax(dim=1).numpy().astype("int64")
            except Exception as e:   # noqa: BLE001 (a model the student's code broke)
                entry["error"] = _error("predict", e)
        return {"runs": out}
    finally:
        torch.set_num_threads(threads)
