"""Kernel-side program for notebook 07's SAM (a torch.optim.Optimizer wrapper that takes
a closure): train a small network with the student's class and report, for every step,
the weights the closure saw (the perturbed point), the weights after the step, the
gradients that were left when the closure began, and what step() returned.

Every number comes from the grader's spec: the architecture and every weight
(gradeclient.nets), the data, the base optimizer and all hyperparameters. Nothing here
compares or judges; errors are reported as data. ``loss``, ``build`` and ``BASES`` are
shared with the grader's replays, so both sides compute the very same gradients.

spec: {"arch": nets arch, "weights": [arrays], "X": (n, d), "y": (n,) labels,
"base": "sgd" | "adam", "kwargs": SAM's keyword arguments (rho and the base's options),
"groups": None or [{"params": [indices into model.parameters()], "options": {...}}, ...],
"idle": add a parameter (shape IDLE_SHAPE, ones) that never gets a gradient (last, or in
the first group), "steps": how many (0: only construct)}
"""
from gradeclient import nets
from gradeclient.model_programs import _exception
from gradeclient.programs import not_an_optimizer, program

BASES = {"sgd": "SGD", "adam": "Adam"}
IDLE_SHAPE = (3,)
MAX_CALLS = 5   # closure calls recorded per step (a student's loop may call it again and again)


def loss(model, X, y):
    """Full-batch cross-entropy: the loss every gradient in this program is taken of."""
    import torch
    return torch.nn.functional.cross_entropy(model(X), y)


def build(spec):
    """(model, what the optimizer is given, all parameters in reporting order, X, y)."""
    import numpy as np
    import torch
    model = nets.mlp(spec["arch"], spec["weights"])
    params = list(model.parameters())
    idle = torch.nn.Parameter(torch.ones(IDLE_SHAPE, dtype=torch.float64)) if spec.get("idle") else None
    if spec.get("groups") is None:
        given = params + ([idle] if idle is not None else [])
    else:
        given = []
        for k, group in enumerate(spec["groups"]):
            ps = [params[int(i)] for i in group["params"]] + ([idle] if idle is not None and k == 0 else [])
            given.append({"params": ps, **dict(group.get("options") or {})})
    everything = params + ([idle] if idle is not None else [])
    X = torch.from_numpy(np.array(spec["X"], dtype=np.float64))
    y = torch.from_numpy(np.array(spec["y"], dtype=np.int64))
    return model, given, everything, X, y


def base_class(spec):
    import torch
    return getattr(torch.optim, BASES[spec["base"]])


def _arrays(params):
    return [p.detach().cpu().numpy().copy() for p in params]


def _grad_norm(params):
    """The norm of the gradients present (0.0 when every one is None or zero)."""
    total = 0.0
    for p in params:
        if p.grad is not None:
            total += float(p.grad.detach().double().square().sum())
    return total ** 0.5


@program
def sam_race(cls, spec):
    """Train the network of ``spec`` with ``cls(params, base, **kwargs)``.

    Each step: every gradient set to None, the loss at the current weights backpropagated
    (the gradients SAM's first step needs), then ``opt.step(closure)`` with a closure that
    records the weights and the gradients it finds, computes the loss, calls backward()
    and returns the loss (it does not zero the gradients: step() must).

    report: {"error": None or {"at": "class" | "constructor" | "step", "step", "type",
    "message", "bases", "not_implemented"} (a run stops at its first error), "got": repr
    of the answer when it is not an optimizer class, per step: "calls" (how many times
    the closure ran), "seen" ([[arrays] the closure saw, for each of the first MAX_CALLS
    calls]), "grads_on_entry" ([norm of the gradients present when each call began]),
    "after" ([arrays] after the step), "returned" (float or None), "returned_kind"}.
    Arrays are every parameter of the model in order, then the idle one.
    """
    import torch

    # imported here: training_programs imports programs, which imports this module
    from gradeclient.training_programs import number
    report = {"error": None, "calls": [], "seen": [], "grads_on_entry": [], "after": [], "returned": [],
              "returned_kind": []}
    if not_an_optimizer(cls, report):
        return report
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny model: one thread is the fastest, and the same everywhere
    try:
        model, given, everything, X, y = build(spec)
        try:
            opt = cls(given, base_class(spec), **dict(spec.get("kwargs") or {}))
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (the student's error, reported)
            report["error"] = {**_exception(e), "at": "constructor"}
            return report
        for step in range(1, int(spec["steps"]) + 1):
            seen, entry = [], []

            def closure(seen=seen, entry=entry):
                if len(seen) < MAX_CALLS:
                    seen.append(_arrays(everything))
                    entry.append(_grad_norm(everything))
                value = loss(model, X, y)
                value.backward()
                return value

            calls = [0]

            def counted(calls=calls, closure=closure):
                calls[0] += 1
                return closure()

            try:
                for p in everything:
                    p.grad = None
                with torch.enable_grad():
                    loss(model, X, y).backward()
                returned = opt.step(counted)
            except KeyboardInterrupt:
                raise
            except BaseException as e:   # noqa: BLE001
                report["error"] = {**_exception(e), "at": "step", "step": step}
                break
            value, kind = number(returned)
            report["calls"].append(calls[0])
            report["seen"].append(seen)
            report["grads_on_entry"].append(entry)
            report["after"].append(_arrays(everything))
            report["returned"].append(value)
            report["returned_kind"].append(kind)
        return report
    finally:
        torch.set_num_threads(threads)
