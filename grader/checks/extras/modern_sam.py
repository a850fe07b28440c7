"""07_modern: SAM, the student's torch.optim.Optimizer wrapper (sharpness-aware minimization).

The student's class never runs here. The grader draws a small classification problem
from the secret seeds (the network's weights, the data, rho, the base optimizer and its
hyperparameters) and sends it to the kernel, where gradeclient.sam_programs' ``sam_race``
trains the network with the student's class and reports every step: the weights the
closure saw, the gradients left when it began, the weights after the step, what step()
returned.

Each step is then replayed here with the reference (grader/reference/sam.py) in float64,
starting from the student's own weights before that step: its first_step gives the point
the closure should have seen; its second_step, with the gradients at the point the
student's closure did see, gives the weights after the step (the base optimizer's state
carried along the run). So a wrong perturbation costs the parts that look at the
perturbation, and not again the parts that look at the base step. Tolerance: 1e-10
relative, per tensor with the tensor's scale as floor (the same operations agree bit for
bit; the tolerance admits a norm of stacked gradients, foreach ops, or restoring by
subtracting e_w). When a step differs, it is replayed with known mistakes to name one.

Parts: "perturb" (the closure sees w + rho g / (||g|| + 1e-12), one global norm, once
per step), "restore" (with lr = 0 a step leaves the weights where they were: the base
step starts from the remembered weights), "base" (the step of torch.optim.SGD with
Nesterov momentum and weight decay, and of torch.optim.Adam, from w with the gradient at
w + e_w, their state kept across steps), "groups" (two param groups with their own rho
and lr, one with rho = 0, a parameter without grad, step returning the closure's loss,
rho < 0 raising ValueError).
"""
import numpy as np
import torch

from gradeclient import nets
from gradeclient import sam_programs as sp
from grader.checks import seeds
from grader.checks.optimizer import _one_thread
from grader.checks.tolerance import rel_error
from grader.reference.sam import PERTURB_EPS
from grader.reference.sam import SAM as ReferenceSAM

TOL = 1e-10
MATCH = 1e-8    # a replayed known mistake reproduces the student's run


class CheckFailed(AssertionError):
    pass


def _text(value, n=300):
    return str(value)[:n] if isinstance(value, str) else "(no message)"


def _err(a, b):
    """Relative error with the tensor's own scale as floor."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        return np.inf
    scale = float(np.max(np.abs(a) + np.abs(b), initial=0.0)) if np.all(np.isfinite(a)) else 0.0
    return rel_error(a, b, floor=max(1e-8, scale))


# ------------------------------------------------------------ known mistakes

SEEN_MISTAKES = {
    "per tensor": "each tensor's gradient is normalised by its own norm; SAM uses one global norm over all "
                  "parameters: ||g|| = sqrt(sum over every p of ||p.grad||^2)",
    "per group": "the gradient norm is taken per param group; SAM uses one global norm over the parameters "
                 "of all groups (each group only scales it by its own rho)",
    "unnormalised": "the ascent step is rho * g, without dividing by the gradient norm: "
                    "e_w = rho * g / (||g|| + 1e-12)",
    "sign": "the perturbation goes down the gradient (w - e_w); SAM climbs to w + e_w, the worst point nearby",
    "rho squared": "the perturbation is scaled by rho squared; e_w = rho * g / (||g|| + 1e-12)",
    "norm squared": "the gradient is divided by its squared norm; e_w = rho * g / (||g|| + 1e-12), the plain norm",
    "defaults rho": "every group uses the constructor's rho (self.defaults) instead of its own group['rho']",
    "at w": "the closure saw the weights before the step, not w + e_w: call the closure after first_step() "
            "and before second_step() restores the weights",
}
AFTER_MISTAKES = {
    "no restore": "stepping from the perturbed weights: the base step started at w + e_w; second_step() must "
                  "copy back the weights remembered in first_step() before calling base_optimizer.step()",
    "accumulate": "the gradients are not zeroed before the closure, so the base step used the gradient at w plus "
                  "the gradient at w + e_w; zero the grads between first_step() and the closure",
    "gradient at w": "the base step used the gradient at w, not the one the closure computed at w + e_w",
    "fresh base": "the base optimizer is built anew in every step, so its state (momentum, Adam's moments) is "
                  "lost; build it once in __init__ on self.param_groups",
}


def _perturbation(mistake, groups, grads, kwargs):
    """e_w for each parameter (None where there is no grad) under ``mistake`` (a key of
    SEEN_MISTAKES, not "at w")."""
    norms = [float(torch.linalg.vector_norm(g)) if g is not None else None for g in grads]
    total = float(np.sqrt(sum(n * n for n in norms if n is not None)))
    out = [None] * len(grads)
    for indices, rho in groups:
        if mistake == "defaults rho":
            rho = kwargs["rho"]
        group_norm = float(np.sqrt(sum(norms[i] ** 2 for i in indices if norms[i] is not None)))
        for i in indices:
            g = grads[i]
            if g is None:
                continue
            norm = {"per tensor": norms[i], "per group": group_norm, "norm squared": total ** 2}.get(mistake, total)
            scale = {"unnormalised": rho, "sign": -rho / (norm + PERTURB_EPS),
                     "rho squared": rho * rho / (norm + PERTURB_EPS)}.get(mistake, rho / (norm + PERTURB_EPS))
            out[i] = g * scale
    return out


# ------------------------------------------------------------ problems

def _problem(rng, hidden=(6, 5)):
    """Labels from a random linear map plus noise, an MLP with two hidden layers (six
    tensors of different sizes, so a per-tensor norm shows)."""
    d, k, n = int(rng.integers(4, 7)), int(rng.integers(3, 5)), int(rng.integers(24, 41))
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)) + 0.5 * rng.normal(size=(n, k)), axis=1).astype(np.int64)
    arch = {"sizes": [d, *hidden, k], "norm": None, "bias": True}
    return {"arch": arch, "weights": nets.draw_weights(arch, rng), "X": X, "y": y}


def _sgd(rng, lr=None, nesterov=False):
    kw = {"lr": float(rng.uniform(0.05, 0.2)) if lr is None else lr, "momentum": 0.9}
    if nesterov:
        kw.update(nesterov=True, weight_decay=float(rng.choice([1e-3, 1e-2])))
    return "sgd", kw


def _adam(rng, lr=None):
    return "adam", {"lr": float(rng.uniform(5e-3, 2e-2)) if lr is None else lr, "betas": (0.8, 0.99)}


def _spec(rng, base, steps, rho=None, groups=None, idle=False):
    name, kw = base
    spec = _problem(rng)
    rho = float(rng.uniform(0.02, 0.2)) if rho is None else rho
    spec.update(base=name, kwargs={"rho": rho, **kw}, groups=groups, idle=idle, steps=steps)
    return spec


def _label(spec):
    base = {"sgd": "torch.optim.SGD", "adam": "torch.optim.Adam"}[spec["base"]]
    args = ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in spec["kwargs"].items())
    text = f"SAM(params, {base}, {args})"
    if spec.get("groups"):
        text += " with param groups " + " and ".join(
            "(" + (", ".join(f"{k}={v:.3g}" for k, v in (g.get("options") or {}).items()) or "defaults") + ")"
            for g in spec["groups"])
    if spec.get("idle"):
        text += " and a parameter without grad"
    if not spec["steps"]:
        return text
    sizes = "-".join(str(s) for s in spec["arch"]["sizes"])
    return f"{text} on an MLP {sizes} ({len(spec['y'])} examples, full batch)"


def _names(spec):
    model = nets.mlp(spec["arch"])
    return [n for n, _ in model.named_parameters()] + (["idle"] if spec.get("idle") else [])


def _group_indices(spec):
    """[(indices into the reporting order, rho)] for each param group."""
    n = len(spec["weights"])
    idle = [n] if spec.get("idle") else []
    rho = spec["kwargs"]["rho"]
    if spec.get("groups") is None:
        return [(list(range(n)) + idle, rho)]
    return [([int(i) for i in g["params"]] + (idle if k == 0 else []), (g.get("options") or {}).get("rho", rho))
            for k, g in enumerate(spec["groups"])]


# ------------------------------------------------------------ reading the kernel's report

def _kernel_run(answer, spec, label):
    report = answer.run("sam_race", spec)
    if not isinstance(report, dict):
        raise CheckFailed(f"{label}: the run sent back nothing readable.")
    err = report.get("error")
    if isinstance(err, str):
        raise CheckFailed(f"{label}: the optimizer could not be run ({err[:300]}).")
    if isinstance(err, dict):
        if err.get("at") == "class":
            raise CheckFailed(f"SAM should be a class derived from torch.optim.Optimizer, got "
                              f"{_text(report.get('got'), 200)}.")
        if err.get("not_implemented"):
            raise CheckFailed("SAM is not implemented yet (it raises NotImplementedError).")
        what = f"{_text(err.get('type'), 80)}: {_text(err.get('message')).rstrip('.')}"
        if err.get("at") == "constructor":
            raise CheckFailed(f"{label}: the constructor raised {what}.")
        message = _text(err.get("message"))
        hint = ""
        if "does not require grad" in message or "does not have a grad_fn" in message:
            hint = (" Hint: step() runs under torch.no_grad(); call the closure inside `with torch.enable_grad():` "
                    "so that it can compute gradients.")
        elif "leaf Variable" in message or "in-place" in message:
            hint = " Hint: change the weights inside torch.no_grad() (decorate the methods with @torch.no_grad())."
        elif "NoneType" in message:
            hint = " Hint: a parameter's grad is None when it took no part in the loss; skip such parameters."
        elif "closure" in message.lower() or "not callable" in message:
            hint = " Hint: step(closure) must call closure() exactly once, between the two steps."
        raise CheckFailed(f"{label}: step {err.get('step')} raised {what}.{hint}")
    return report


def _arrays(report, key, k, n, label):
    try:
        got = report[key][k]
        arrays = [np.asarray(a, dtype=np.float64) for a in got]
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckFailed(f"{label}: the run reported no weights for step {k + 1}.") from None
    if len(arrays) != n:
        raise CheckFailed(f"{label}: the run reported {len(arrays)} tensors for step {k + 1}, expected {n}.")
    return arrays


def _calls(report, k, label):
    try:
        calls = int(report["calls"][k])
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckFailed(f"{label}: the run reported nothing for step {k + 1}.") from None
    if calls != 1:
        what = "never called the closure" if calls == 0 else f"called the closure {calls} times"
        raise CheckFailed(f"{label}: step {k + 1} {what}; step(closure) must call it exactly once, at w + e_w "
                          f"(after first_step(), before second_step()).")
    try:
        seen = [np.asarray(a, dtype=np.float64) for a in report["seen"][k][0]]
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckFailed(f"{label}: the run reported no weights seen by the closure in step {k + 1}.") from None
    return seen


# ------------------------------------------------------------ the replay

class _Replay:
    """The grader's model, the reference SAM on it, and the means to set the weights to
    the student's and take the gradients there."""

    def __init__(self, spec):
        self.spec = spec
        self.model, given, self.params, self.X, self.y = sp.build(spec)
        self.sam = ReferenceSAM(given, sp.base_class(spec), **spec["kwargs"])
        self.groups = _group_indices(spec)

    def set(self, arrays):
        with torch.no_grad():
            for p, a in zip(self.params, arrays, strict=True):
                p.copy_(torch.from_numpy(np.array(a, dtype=np.float64)).reshape(p.shape))

    def grads_at(self, arrays):
        """The gradients (None for the idle parameter) and the loss at ``arrays``."""
        self.set(arrays)
        for p in self.params:
            p.grad = None
        value = sp.loss(self.model, self.X, self.y)
        value.backward()
        return [None if p.grad is None else p.grad.clone() for p in self.params], float(value.detach())

    def weights(self):
        return [p.detach().numpy().copy() for p in self.params]


def _fresh_base(spec, params):
    """A base optimizer of ``spec`` on ``params`` grouped as the spec says."""
    base_kwargs = {k: v for k, v in spec["kwargs"].items() if k != "rho"}
    if spec.get("groups") is None:
        return sp.base_class(spec)(list(params), **base_kwargs)
    given, n = [], len(spec["weights"])
    for k, g in enumerate(spec["groups"]):
        ps = [params[int(i)] for i in g["params"]] + (params[n:] if k == 0 else [])
        given.append({"params": ps, **{o: v for o, v in (g.get("options") or {}).items() if o != "rho"}})
    return sp.base_class(spec)(given, **base_kwargs)


class _AfterVariant:
    """The base step with one known mistake, replayed on the student's seen points."""

    def __init__(self, spec, mistake):
        self.spec, self.mistake = spec, mistake
        self.model, _, self.params, self.X, self.y = sp.build(spec)
        self.base = _fresh_base(spec, self.params)

    def step(self, before, g_before, seen, g_seen):
        if self.mistake == "fresh base":
            self.base = _fresh_base(self.spec, self.params)
        start = seen if self.mistake == "no restore" else before
        with torch.no_grad():
            for p, a in zip(self.params, start, strict=True):
                p.copy_(torch.from_numpy(np.array(a, dtype=np.float64)).reshape(p.shape))
        for p, g0, g1 in zip(self.params, g_before, g_seen, strict=True):
            if g1 is None:
                p.grad = None
            elif self.mistake == "accumulate":
                p.grad = g0 + g1
            elif self.mistake == "gradient at w":
                p.grad = g0.clone()
            else:
                p.grad = g1.clone()
        self.base.step()
        return [p.detach().numpy().copy() for p in self.params]


def _first_bad(got, want, names, tol=TOL):
    for name, a, b in zip(names, got, want, strict=True):
        err = _err(a, b)
        if not err <= tol:
            return name, err
    return None


def _race(answer, spec, check_seen=True, check_after=True, check_loss=False):
    """Run the student's class in the kernel and replay every step with the reference from
    the student's own weights before it."""
    label = _label(spec)
    names = _names(spec)
    report = _kernel_run(answer, spec, label)
    replay = _Replay(spec)
    variants = {key: _AfterVariant(spec, key) for key in AFTER_MISTAKES}
    alive = set(AFTER_MISTAKES)
    before = [np.asarray(w, dtype=np.float64) for w in spec["weights"]]
    if spec.get("idle"):
        before.append(np.ones(sp.IDLE_SHAPE))
    idle = len(names) - 1 if spec.get("idle") else None
    with np.errstate(all="ignore"):
        for k in range(int(spec["steps"])):
            seen = _calls(report, k, label)
            after = _arrays(report, "after", k, len(names), label)
            shapes = [np.shape(w) for w in before]
            for what, arrays in (("the closure saw", seen), ("after the step", after)):
                if [a.shape for a in arrays] != shapes:
                    raise CheckFailed(f"{label}: the weights {what} in step {k + 1} came back as "
                                      f"{len(arrays)} tensors of other shapes than the model's.")
            g_before, _ = replay.grads_at(before)
            replay.sam.first_step()
            want_seen = replay.weights()
            if idle is not None and not (np.array_equal(seen[idle], before[idle])
                                         and np.array_equal(after[idle], before[idle])):
                raise CheckFailed(f"{label}: in step {k + 1} the parameter whose grad is None was changed; "
                                  f"skip parameters without grad in both steps.")
            if check_seen:
                bad = _first_bad(seen, want_seen, names)
                if bad is not None:
                    raise CheckFailed(_seen_message(label, k, bad, spec, before, g_before, seen))
            g_seen, loss_seen = replay.grads_at(seen)
            replay.sam.second_step()      # restores the remembered weights (the student's), then the base step
            want_after = replay.weights()
            candidates = {key: v.step(before, g_before, seen, g_seen) for key, v in variants.items() if key in alive}
            alive = {key for key, w in candidates.items() if _first_bad(after, w, names, MATCH) is None}
            if check_after:
                bad = _first_bad(after, want_after, names)
                if bad is not None:
                    raise CheckFailed(_after_message(label, k, bad, alive, report, spec, g_before))
            if check_loss:
                _check_loss(report, k, loss_seen, label)
            before = after


def _seen_message(label, k, bad, spec, before, g_before, seen):
    name, err = bad
    msg = (f"{label}: in step {k + 1} the closure saw '{name}' away from w + e_w = w + rho g / (||g|| + 1e-12), "
           f"g the gradients at w (relative error {err:.1e})" + ("; earlier steps agreed." if k else "."))
    names = _names(spec)
    if all(np.array_equal(a, b) for a, b in zip(seen, before, strict=True)):
        return msg + f" This matches a known mistake: {SEEN_MISTAKES['at w']}."
    for key, text in SEEN_MISTAKES.items():
        if key == "at w":
            continue
        e = _perturbation(key, _group_indices(spec), g_before, spec["kwargs"])
        want = [b if d is None else b + d.numpy() for b, d in zip(before, e, strict=True)]
        if _first_bad(seen, want, names, MATCH) is None:
            return msg + f" This matches a known mistake: {text}."
    return msg


def _after_message(label, k, bad, alive, report, spec, g_before):
    name, err = bad
    msg = (f"{label}: after step {k + 1} '{name}' differs from the base optimizer's step from w with the "
           f"gradients at the point the closure saw (relative error {err:.1e})"
           + ("; earlier steps agreed." if k else "."))
    try:
        entry = float(report["grads_on_entry"][k][0])
    except (KeyError, IndexError, TypeError, ValueError):
        entry = 0.0
    if entry > 0 and "accumulate" in alive:
        return msg + f" This matches a known mistake: {AFTER_MISTAKES['accumulate']}."
    for key in AFTER_MISTAKES:
        if key in alive:
            return msg + f" This matches a known mistake: {AFTER_MISTAKES[key]}."
    if entry > 0:
        return msg + " The closure began with the gradients of the first pass still there: zero them first."
    return msg


def _check_loss(report, k, want, label):
    try:
        got, kind = report["returned"][k], report["returned_kind"][k]
    except (KeyError, IndexError, TypeError):
        got, kind = None, None
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        kind = {"NoneType": "None"}.get(kind, kind) if isinstance(kind, str) else "nothing"
        raise CheckFailed(f"{label}: step(closure) returned {kind[:60]} in step {k + 1}; it should return what the "
                          f"closure returned, the loss at w + e_w ({want:.6g} here).")
    if not rel_error(got, want) <= TOL:
        raise CheckFailed(f"{label}: step(closure) returned {got:.6g} in step {k + 1}, expected the loss the closure "
                          f"returned at w + e_w, {want:.6g}.")


# ------------------------------------------------------------ the parts

def part_perturb(answer, rng):
    """The closure sees w + rho g / (||g|| + 1e-12), one global norm over all tensors, once per step."""
    _race(answer, _spec(rng, _sgd(rng), steps=8), check_after=False)
    _race(answer, _spec(rng, _adam(rng), steps=4, rho=float(rng.uniform(0.3, 1.0))), check_after=False)


def part_restore(answer, rng):
    """With lr = 0 the base step changes nothing, so a step must end exactly where it began."""
    _race(answer, _spec(rng, _sgd(rng, lr=0.0), steps=3), check_seen=False)
    _race(answer, _spec(rng, _adam(rng, lr=0.0), steps=3), check_seen=False)


def part_base(answer, rng):
    """SGD with Nesterov momentum and weight decay, and Adam: the base step from w with the
    gradient at w + e_w, its state kept from step to step."""
    _race(answer, _spec(rng, _sgd(rng, nesterov=True), steps=10), check_seen=False)
    _race(answer, _spec(rng, _adam(rng), steps=10), check_seen=False)


def part_groups(answer, rng):
    """Two param groups with their own rho (one 0) and lr, one global norm over both, a
    parameter without grad; step returns the closure's loss; rho < 0 raises ValueError."""
    base = _sgd(rng)
    groups = [{"params": [0, 1, 2, 3], "options": {"rho": float(rng.uniform(0.2, 0.5))}},
              {"params": [4, 5], "options": {"rho": 0.0, "lr": float(base[1]["lr"] / 4)}}]
    spec = _spec(rng, base, steps=6, rho=float(rng.uniform(0.02, 0.1)), groups=groups, idle=True)
    _race(answer, spec, check_loss=True)
    groups = [{"params": [0, 1], "options": {"rho": float(rng.uniform(0.05, 0.2))}},
              {"params": [2, 3, 4, 5], "options": {}}]
    _race(answer, _spec(rng, _adam(rng), steps=4, rho=float(rng.uniform(0.3, 0.8)), groups=groups))
    bad = _spec(rng, _sgd(rng), steps=0, rho=-0.05)
    label = _label(bad)
    report = answer.run("sam_race", bad)
    err = report.get("error") if isinstance(report, dict) else None
    if isinstance(err, dict) and err.get("at") == "class":
        _kernel_run(answer, bad, label)
    if not (isinstance(err, dict) and err.get("at") == "constructor" and "ValueError" in (err.get("bases") or [])):
        got = "returned an optimizer" if err is None else f"raised {_text(err.get('type'), 80)}"
        raise CheckFailed(f"{label} should raise ValueError (rho must be >= 0); it {got}.")


PARTS = {"perturb": part_perturb, "restore": part_restore, "base": part_base, "groups": part_groups}


def check_sam(answer, part):
    with _one_thread():
        PARTS[part](answer, seeds.rng("SAM", part))


CHECKS = {"SAM": (check_sam, list(PARTS))}
