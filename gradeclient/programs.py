"""Kernel-side programs the grader can ask for by name, for answers that are not
plain functions of arrays (a torch optimizer class): "build this model with these
weights, train it with your optimizer on these data for N steps, report the
parameters after every step". The grader sends every number the program uses (weights,
data, hyperparameters) and compares the report with its own reference run; a program
only runs the student's code and reports what happened, errors included, as plain data.
"""
from gradeclient import wire

PROGRAMS = {}


def program(fn):
    PROGRAMS[fn.__name__] = fn
    return fn


def run(name, obj, spec):
    """The reply to a "run" request: {"op": "result", "value": <encoded report>}."""
    fn = PROGRAMS.get(name)
    if fn is None:
        report = {"error": f"no program {name!r}"}
    else:
        try:
            report = fn(obj, spec)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (reported to the grader as data)
            report = {"error": f"{type(e).__name__}: {str(e)[:500]}"}
    return {"op": "result", "value": wire.encode(report)}


# ------------------------------------------------------------------ torch optimizers
# The problem the grader trains on: a Linear(3, 8) - Tanh - Linear(8, 1) network in
# float64, its weights sent by the grader, the mean squared error on the grader's data.
# The grader builds its own reference runs with these same functions.

PARAM_NAMES = ("0.weight", "0.bias", "2.weight", "2.bias")
PARAM_SHAPES = ((8, 3), (8,), (1, 8), (1,))
IDLE_SHAPE = (4,)


def _tensor(a):
    import numpy as np
    import torch
    if torch.is_tensor(a):
        return a.detach().clone()
    return torch.from_numpy(np.array(a, dtype=np.float64))


def mlp(weights):
    """The network with its parameters set to ``weights`` (arrays of PARAM_SHAPES, in
    the order of PARAM_NAMES). Nothing is drawn at random."""
    import torch
    from torch.nn.utils import skip_init
    model = torch.nn.Sequential(skip_init(torch.nn.Linear, 3, 8, dtype=torch.float64), torch.nn.Tanh(),
                                skip_init(torch.nn.Linear, 8, 1, dtype=torch.float64))
    with torch.no_grad():
        for p, w, shape in zip(model.parameters(), weights, PARAM_SHAPES, strict=True):
            p.copy_(_tensor(w).reshape(shape))
    return model


def loss(model, X, y):
    import torch
    return torch.mean((model(X) - y) ** 2)


def optimizer_params(model, groups=None, idle=None):
    """What the optimizer is given: every parameter of ``model`` (``groups`` None) or one
    dict per group, {"params": the parameters of its layers, **its options}, with
    ``groups`` = [{"layers": [0 or 1, ...], "options": {...}}, ...] (layer 0 is the
    first Linear, 1 the second). ``idle``, a parameter that never gets a gradient, goes
    last, or into the first group."""
    layers = [model[0], model[2]]
    if groups is None:
        return list(model.parameters()) + ([idle] if idle is not None else [])
    out = []
    for k, group in enumerate(groups):
        params = [p for i in group["layers"] for p in layers[int(i)].parameters()]
        if idle is not None and k == 0:
            params.append(idle)
        out.append({"params": params, **dict(group.get("options") or {})})
    return out


def _error(at, e, step=None):
    try:
        message = str(e)[:1000]
    except Exception:   # noqa: BLE001 (a hostile __str__)
        message = "(no message)"
    return {"at": at, "step": step, "type": type(e).__name__, "message": message}


def _number(value):
    """A param group's lr or weight_decay as plain data (a tensor becomes its value)."""
    import torch
    if torch.is_tensor(value) and value.numel() == 1:
        return float(value.item())
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, float)):
        return value
    return f"<{type(value).__name__[:40]} object>"


def _aliasing(opt, params):
    """[[index of the parameter, "moments" | "grad" | "param", state key or None], ...]:
    state tensors that share memory with the other moment, the gradient or the parameter."""
    import torch
    found = []
    for i, p in enumerate(params):
        st = opt.state.get(p) or {}
        tensors = {k: st[k] for k in ("exp_avg", "exp_avg_sq") if torch.is_tensor(st.get(k))}
        if len(tensors) == 2 and tensors["exp_avg"].data_ptr() == tensors["exp_avg_sq"].data_ptr():
            found.append([i, "moments", None])
        for k, s in tensors.items():
            if p.grad is not None and s.data_ptr() == p.grad.data_ptr():
                found.append([i, "grad", k])
            if s.data_ptr() == p.data_ptr():
                found.append([i, "param", k])
    return found


def _step_value(step):
    """state['step'] as plain data, and its kind: "int", "float" or "tensor:<dtype>"."""
    import torch
    if torch.is_tensor(step):
        value = float(step.item()) if step.numel() == 1 else None
        return value, "tensor:" + str(step.dtype).replace("torch.", "")
    if isinstance(step, bool):
        return None, type(step).__name__
    if isinstance(step, int):
        return int(step), "int"
    if isinstance(step, float):
        return float(step), "float"
    return None, type(step).__name__[:40]


def _state(opt, params):
    """For each parameter: the keys of its state, its step counter and its moments."""
    import torch
    out = []
    for p in params:
        st = opt.state.get(p) or {}
        entry = {"keys": sorted(str(k) for k in st)[:20], "step": None, "step_kind": None}
        if "step" in st:
            entry["step"], entry["step_kind"] = _step_value(st["step"])
        for k in ("exp_avg", "exp_avg_sq"):
            v = st.get(k)
            entry[k] = v.detach().cpu().numpy().copy() if torch.is_tensor(v) else None
        out.append(entry)
    return out


def _saved_state(saved, opt):
    """The grader's state_dict, made ready for ``opt.load_state_dict``: its arrays as
    tensors, and any option of the optimizer's own groups that it does not mention kept."""
    import numpy as np
    import torch
    state = {}
    for index, entry in dict(saved["state"]).items():
        state[int(index)] = {k: torch.from_numpy(np.array(v)) if isinstance(v, np.ndarray) else v
                             for k, v in dict(entry).items()}
    groups = []
    # strict=False: a student's optimizer may hold another number of groups; load_state_dict
    # then rejects the dict with its own message
    for group, own in zip(saved["param_groups"], opt.param_groups, strict=False):
        group = dict(group)
        for k, v in own.items():
            if k != "params":
                group.setdefault(k, v)
        groups.append(group)
    return {"state": state, "param_groups": groups}


def not_an_optimizer(cls, report):
    """True (and ``report`` says what came instead) when ``cls`` is not a torch.optim.Optimizer
    class: the programs that train with the student's optimizer stop there."""
    import torch
    if isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer):
        return False
    try:
        report["got"] = repr(cls)[:200]
    except Exception:   # noqa: BLE001 (a hostile __repr__)
        report["got"] = f"a {type(cls).__name__}"
    report["error"] = {"at": "class"}
    return True


@program
def optimizer_race(cls, spec):
    """Train the network with the student's optimizer class.

    spec: {"weights": [4 arrays], "X": (n, 3), "y": (n, 1), "kwargs": constructor keyword
    arguments, "groups": None or [{"layers": [...], "options": {...}}, ...], "idle": add a
    parameter that never gets a gradient, "steps": how many, "load": None or a state_dict
    to load into the fresh optimizer before the first step, "state": report the state}

    report: {"error": None or {"at": "class" | "constructor" | "load_state_dict" | "step",
    "step", "type", "message"} (a run stops at its first error), "got": repr of the
    answer when it is not an optimizer class, "param_groups": [(lr, weight_decay)] after
    construction, "params": [[4 arrays] after each step], "aliasing": [[findings] after
    each step] (see _aliasing), "idle": the idle parameter after the run, "idle_state":
    whether it got state, "state": None or (see _state) after the last step}
    """
    import torch
    report = {"error": None, "param_groups": None, "params": [], "aliasing": [],
              "idle": None, "idle_state": None, "state": None}
    if not_an_optimizer(cls, report):
        return report
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny model: one thread is the fastest
    try:
        model = mlp(spec["weights"])
        X, y = _tensor(spec["X"]), _tensor(spec["y"])
        idle = torch.nn.Parameter(torch.ones(IDLE_SHAPE, dtype=torch.float64)) if spec.get("idle") else None
        params = optimizer_params(model, spec.get("groups"), idle)
        try:
            opt = cls(params, **dict(spec.get("kwargs") or {}))
        except Exception as e:   # noqa: BLE001 (the student's error, reported)
            report["error"] = _error("constructor", e)
            return report
        try:
            report["param_groups"] = [(_number(g.get("lr")), _number(g.get("weight_decay")))
                                      for g in opt.param_groups]
        except Exception:   # noqa: BLE001
            report["param_groups"] = None
        if spec.get("load") is not None:
            try:
                opt.load_state_dict(_saved_state(spec["load"], opt))
            except Exception as e:   # noqa: BLE001
                report["error"] = _error("load_state_dict", e)
                return report
        mine = list(model.parameters())
        for step in range(1, int(spec["steps"]) + 1):
            try:
                opt.zero_grad()
                loss(model, X, y).backward()
                opt.step()
            except Exception as e:   # noqa: BLE001
                report["error"] = _error("step", e, step)
                break
            report["params"].append([p.detach().cpu().numpy().copy() for p in mine])
            try:
                report["aliasing"].append(_aliasing(opt, mine))
            except Exception:   # noqa: BLE001 (state that is not a dict of tensors)
                report["aliasing"].append([])
        if idle is not None:
            report["idle"] = idle.detach().cpu().numpy().copy()
            try:
                report["idle_state"] = bool(opt.state.get(idle))
            except Exception:   # noqa: BLE001
                report["idle_state"] = None
        if spec.get("state"):
            try:
                report["state"] = _state(opt, mine)
            except Exception:   # noqa: BLE001
                report["state"] = None
        return report
    finally:
        torch.set_num_threads(threads)


# ------------------------------------------------------------------ many calls at once

@program
def calls(fn, spec):
    """Call the answer on many small inputs in one request (a learning-rate schedule
    at every step of a run), in order, stopping at the first call that raises.

    spec: {"args": [[positional arguments of one call], ...]} or {"each": [the one
    positional argument of each call]} (a list or an array, whose items are passed as
    Python numbers), and "kwargs": keyword arguments of every call.
    report: {"results": [what each call returned]}, or {"numbers": float64 array} when
    every call returned a plain number (int or float), and "error": None or {"index":
    the call that raised, "type", "message", "not_implemented"}.
    """
    import numpy as np
    kwargs = dict(spec.get("kwargs") or {})
    if "each" in spec:
        each = spec["each"]
        calls_ = [[v] for v in (each.tolist() if isinstance(each, np.ndarray) else each)]
    else:
        calls_ = spec["args"]
    results, error = [], None
    for i, args in enumerate(calls_):
        try:
            if not callable(fn):
                raise TypeError("the answer is not callable")
            results.append(fn(*args, **kwargs))
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (the student's error, reported)
            error = _error("call", e)
            error.update(index=i, not_implemented=isinstance(e, NotImplementedError))
            break
    if all(isinstance(r, (int, float)) and not isinstance(r, bool) for r in results):
        try:
            return {"numbers": np.array([float(r) for r in results], dtype=np.float64), "error": error}
        except (OverflowError, ValueError):
            pass
    return {"results": results, "error": error}


# programs of other modules register themselves here when imported
from gradeclient import model_programs, range_programs, sam_programs, training_programs  # noqa: E402, F401
