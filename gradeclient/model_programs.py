"""Kernel-side programs for notebook 06's gradient clipping and parameter groups.

``clip_calls`` calls the student's clip_grad_norm on the grader's lists of arrays and
reports what came back and what each input array holds afterwards (a list of arrays
is not an argument the plain "call" request can watch for changes in place).

``param_groups`` builds the model the grader describes (a spec of layers, some tied,
some frozen), calls the student's decay_param_groups on it and reports the groups it
returned by the *names* of their parameters (found by identity), their keys and their
numeric options, then what torch.optim.AdamW makes of them. The grader builds the same
model from the same spec with ``build`` to know the names; it decides everything.

Nothing here compares or judges: every report is plain data, errors included.
"""
from gradeclient.programs import _error, _number, program

MAX_ITEMS = 1000   # groups, or parameters in a group, read from the student's answer


def _exception(e):
    """An exception as data: its type, message, the names of the built-in classes it
    derives from (the grader decides which count), whether it is NotImplementedError."""
    out = _error("call", e)
    try:
        out["bases"] = [c.__name__ for c in type(e).__mro__ if c.__module__ == "builtins"][:20]
    except Exception:   # noqa: BLE001
        out["bases"] = []
    out["not_implemented"] = isinstance(e, NotImplementedError)
    return out


def _type_name(value):
    try:
        return type(value).__name__[:60]
    except Exception:   # noqa: BLE001
        return "object"


# ------------------------------------------------------------------ clip_grad_norm

@program
def clip_calls(fn, spec):
    """Call ``fn(grads, max_norm)`` for each case, each on arrays of its own.

    spec: {"cases": [{"grads": [arrays], "max_norm": float}, ...]}
    report: {"results": [{"value": what the call returned (None after an error),
    "error": None or {"type", "message", "bases", "not_implemented"}, "after": [each
    input array after the call]}, ...]}
    """
    import numpy as np
    results = []
    for case in spec["cases"]:
        grads = [np.array(g) for g in case["grads"]]   # the arrays the student gets (and may change)
        entry = {"value": None, "error": None, "after": None}
        try:
            if not callable(fn):
                raise TypeError("the answer is not callable")
            entry["value"] = fn(grads, float(case["max_norm"]))
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (the student's error, reported)
            entry["error"] = _exception(e)
        entry["after"] = [g.copy() if isinstance(g, np.ndarray) else None for g in grads]
        results.append(entry)
    return {"results": results}


# ------------------------------------------------------------------ decay_param_groups
# A model spec: {"layers": [layer, ...], "tied": [[later, earlier, "weight" | "bias"], ...],
# "frozen": [layer index, ...]}, each layer one of
#   {"kind": "Linear", "in": a, "out": b, "bias": bool}
#   {"kind": "Conv2d", "in": c_in, "out": c_out, "kernel": k, "bias": bool}
#   {"kind": "BatchNorm1d" | "BatchNorm2d", "num": n}   {"kind": "LayerNorm", "num": n}
#   {"kind": "ReLU"}   {"kind": "Flatten"}
# in a torch.nn.Sequential (parameter names "0.weight", "1.bias", ...), float64. A tied
# layer's parameter is the earlier layer's Parameter object itself.

def _layer(layer):
    import torch
    from torch.nn.utils import skip_init
    kind, f64 = layer["kind"], torch.float64
    if kind == "Linear":
        return skip_init(torch.nn.Linear, int(layer["in"]), int(layer["out"]), bias=bool(layer["bias"]), dtype=f64)
    if kind == "Conv2d":
        return skip_init(torch.nn.Conv2d, int(layer["in"]), int(layer["out"]), int(layer["kernel"]),
                         bias=bool(layer["bias"]), dtype=f64)
    if kind in ("BatchNorm1d", "BatchNorm2d"):
        return getattr(torch.nn, kind)(int(layer["num"]), dtype=f64)
    if kind == "LayerNorm":
        return torch.nn.LayerNorm(int(layer["num"]), dtype=f64)
    if kind in ("ReLU", "Flatten"):
        return getattr(torch.nn, kind)()
    raise ValueError(f"no layer kind {kind!r}")


def build(spec):
    """The model of ``spec``; its values are zeros (nothing is drawn at random)."""
    import torch
    model = torch.nn.Sequential(*[_layer(layer) for layer in spec["layers"]])
    with torch.no_grad():
        for p in model.parameters():
            p.zero_()
    for later, earlier, attr in spec.get("tied") or []:
        setattr(model[int(later)], str(attr), getattr(model[int(earlier)], str(attr)))
    for index in spec.get("frozen") or []:
        model[int(index)].requires_grad_(False)
    return model


def names(model):
    """id(parameter) -> its name: the first of model.named_parameters(remove_duplicate=False)
    (a tied parameter has two names; this is the one model.named_parameters() gives)."""
    out = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        out.setdefault(id(p), name)
    return out


def _items(value, limit=MAX_ITEMS):
    """A list of what ``value`` holds, for a list, a tuple or another iterable (a
    generator); None for what is not iterable. A set keeps its items and is flagged."""
    import itertools
    if isinstance(value, (list, tuple)):
        return list(value[:limit])
    if isinstance(value, (str, bytes, dict)):
        return None
    try:
        return list(itertools.islice(iter(value), limit))
    except Exception:   # noqa: BLE001 (not iterable, or a hostile __iter__)
        return None


def _entry(value, known):
    """A parameter by its name, or a description of what else it is."""
    import torch
    try:
        if isinstance(value, torch.Tensor):
            name = known.get(id(value))
            if name is not None:
                return {"name": name}
            return {"other": f"{_type_name(value)} of shape {tuple(value.shape)}"}
    except Exception:   # noqa: BLE001
        pass
    return {"other": _type_name(value)}


def _group(item, known):
    """One returned group as data; its params materialised (a generator is read once)."""
    import torch
    if isinstance(item, torch.Tensor):
        return {"type": "tensor", **_entry(item, known)}, item
    if not isinstance(item, dict):
        return {"type": _type_name(item)}, item
    copy = dict(item)
    report = {"type": "dict", "keys": [str(k)[:60] for k in list(copy)[:50]], "params": None,
              "options": {}, "params_kind": None}
    params = copy.get("params")
    if isinstance(params, torch.Tensor):
        listed, report["params_kind"] = [params], "tensor"
    else:
        listed, report["params_kind"] = _items(params), _type_name(params)
        if listed is not None and not isinstance(params, (list, tuple, set)):
            copy["params"] = listed   # a generator: what the optimizer gets is what was read
    if listed is not None:
        report["params"] = [_entry(p, known) for p in listed]
    for k, v in list(copy.items())[:50]:
        if k != "params":
            report["options"][str(k)[:60]] = _number(v)
    return report, copy


@program
def param_groups(fn, spec):
    """Build the model of ``spec["model"]``, call ``fn(model, spec["weight_decay"])``.

    report: {"error": None or the student's exception, "type": the type of what came
    back, "groups": None or [{"type": "dict", "keys", "params": [{"name"} or {"other":
    a description}], "params_kind", "options": {key: number}} or {"type": "tensor",
    "name" | "other"} or {"type": other type}, ...], "adamw": None or {"error": None or
    {"type", "message"}, "warnings": [messages], "groups": [{"params": [names], "lr",
    "weight_decay"}]} (torch.optim.AdamW(groups, lr=spec["lr"]) built on them)}
    """
    import warnings

    import torch
    report = {"error": None, "type": None, "groups": None, "adamw": None}
    model = build(spec["model"])
    known = names(model)
    try:
        if not callable(fn):
            raise TypeError("the answer is not callable")
        result = fn(model, float(spec["weight_decay"]))
    except KeyboardInterrupt:
        raise
    except BaseException as e:   # noqa: BLE001 (the student's error, reported)
        report["error"] = _exception(e)
        return report
    report["type"] = _type_name(result)
    items = _items(result)
    if items is None:
        return report
    groups, given = [], []
    for item in items:
        try:
            entry, copy = _group(item, known)
        except Exception:   # noqa: BLE001
            entry, copy = {"type": _type_name(item)}, item
        groups.append(entry)
        given.append(copy)
    report["groups"] = groups
    adamw = {"error": None, "warnings": [], "groups": []}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            opt = torch.optim.AdamW(given, lr=float(spec["lr"]))
            for group in opt.param_groups:
                adamw["groups"].append({"params": [known.get(id(p), "?")[:80] for p in group["params"]],
                                        "lr": _number(group.get("lr")),
                                        "weight_decay": _number(group.get("weight_decay"))})
        except Exception as e:   # noqa: BLE001 (torch's verdict on the groups, as data)
            adamw["error"] = {"type": _type_name(e), "message": _error("adamw", e)["message"][:500]}
    adamw["warnings"] = [str(w.message)[:300] for w in caught[:10]]
    report["adamw"] = adamw
    return report
