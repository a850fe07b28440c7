"""06_practice: clip_grad_norm (gradient clipping by global norm) and decay_param_groups
(param groups without weight decay on biases and normalisation weights).

clip_grad_norm runs in the kernel through gradeclient.model_programs' ``clip_calls``,
which reports what each call returned and what the input arrays hold afterwards; here
every case is compared with the reference (float64, the very same input values). The
scale may be torch's min(1, max_norm / (total + 1e-6)) or the exact min(1, max_norm /
total), or anything between (an eps from 0 to 1e-6): the clipped arrays must be the
inputs times one such scale. A failing case is replayed with known wrong versions (a
norm per array, the squared norm, the norm after clipping...) to name the mistake.

decay_param_groups runs in the kernel through ``param_groups``: the kernel builds the
model this side describes, calls the student's function and reports the groups by the
names of their parameters, and what torch.optim.AdamW made of them. Here the same model
is built from the same spec to know which parameter should get which weight decay.
"""
import collections
import math

import numpy as np

from gradeclient import model_programs
from grader.checks import seeds
from grader.checks.extras import CheckFailed
from grader.checks.optimizer import _one_thread  # one thread for tiny torch models
from grader.checks.tolerance import rel_error
from grader.reference.clipping import EPS, global_norm

CLIP = "clip_grad_norm"
GROUPS = "decay_param_groups"
CLIP_TOL = {"float64": 1e-9, "float32": 1e-4}   # relative, elementwise
ACCEPTED_ERRORS = ("ValueError", "ArithmeticError", "RuntimeError")


def _text(value, n=300):
    return str(value)[:n] if isinstance(value, str) else "(no message)"


# ================================================================== clip_grad_norm

class ClipCase:
    def __init__(self, grads, max_norm, label="", finite=True):
        self.grads = [np.asarray(g) for g in grads]
        self.max_norm = float(max_norm)
        self.label = label
        self.finite = finite

    @property
    def dtype(self):
        kinds = {g.dtype.name for g in self.grads}
        return "float32" if kinds == {"float32"} else "float64"

    @property
    def f64(self):
        return [np.asarray(g, dtype=np.float64) for g in self.grads]

    def total(self):
        return global_norm(self.grads)

    def interval(self):
        """The accepted scales: from torch's min(1, M / (T + 1e-6)) to the exact min(1, M / T)."""
        return _interval(self.total(), self.max_norm)

    def describe(self):
        label = f" [{self.label}]" if self.label else ""
        if sum(g.size for g in self.grads) <= 8:
            shown = ", ".join(_show(g) for g in self.grads)
            return f"{CLIP}([{shown}], max_norm={self.max_norm:.6g}){label}"
        shapes = ", ".join(str(g.shape) for g in self.grads)
        with np.errstate(all="ignore"):
            total = f"; their total norm {self.total():.3g}" if self.finite else ""
        return (f"{CLIP}(grads, max_norm={self.max_norm:.3g}) with {len(self.grads)} array"
                f"{'s' if len(self.grads) != 1 else ''} of shape{'s' if len(self.grads) != 1 else ''} "
                f"{shapes} ({self.dtype}{total}){label}")


def _interval(total, max_norm):
    lo = min(1.0, max_norm / (total + EPS))
    hi = 1.0 if total == 0 else min(1.0, max_norm / total)
    return lo, hi


def _show(a):
    a = np.asarray(a)
    body = np.array2string(a, separator=", ", precision=6, floatmode="maxprec", max_line_width=10**6)
    body = body.replace("\n", "")
    return f"array({body}" + (", dtype=float32)" if a.dtype == np.float32 else ")")


def _floor(arrays):
    biggest = max([float(np.max(np.abs(a), initial=0.0)) for a in arrays] + [0.0])
    return max(1e-300, 1e-8 * biggest)


def _fit(got, grads, lo, hi, tol):
    """Whether ``got`` is ``grads`` times one scale from [lo, hi] (the best such scale)."""
    with np.errstate(all="ignore"):
        num = sum(float(np.sum(c * g)) for c, g in zip(got, grads, strict=True))
        den = sum(float(np.sum(g * g)) for g in grads)
        s = num / den if den > 0 and math.isfinite(num) else 1.0
        s = min(max(s, lo), hi)
        want = [g * s for g in grads]
        err = max([rel_error(c, w, _floor(want)) for c, w in zip(got, want, strict=True)] + [0.0])
    return err <= tol, s, err


# ---------------------------------------------------------- known mistakes

def _norms(grads):
    """The norms students compute instead of the global 2-norm: key -> (value, noun, text)."""
    flat = np.concatenate([g.ravel() for g in grads] + [np.zeros(0)])
    with np.errstate(all="ignore"):
        return {
            "squared": (float(np.sum(flat ** 2)), "the sum of squares (no square root)",
                        "total_norm is the sum of squares, without the square root: the 2-norm is "
                        "sqrt(sum of g**2)"),
            "inf": (float(np.max(np.abs(flat), initial=0.0)), "the largest absolute value (the inf norm)",
                    "total_norm is the largest absolute value (the max or inf norm); clip_grad_norm uses "
                    "the 2-norm, sqrt(sum of g**2)"),
            "l1": (float(np.sum(np.abs(flat))), "the sum of absolute values (the L1 norm)",
                   "total_norm is the sum of absolute values (the L1 norm); clip_grad_norm uses the "
                   "2-norm, sqrt(sum of g**2)"),
            "mean": (float(np.sqrt(np.mean(flat ** 2))) if flat.size else 0.0,
                     "the mean of the squares instead of their sum",
                     "total_norm takes the mean of the squares instead of their sum: sqrt(sum of g**2) "
                     "over every element of every array"),
            "mean per array": (math.sqrt(sum(float(np.mean(g ** 2)) for g in grads if g.size)),
                               "the mean of the squares instead of their sum",
                               "total_norm takes the mean of the squares instead of their sum: sqrt(sum "
                               "of g**2) over every element of every array"),
            "sum of norms": (sum(float(np.linalg.norm(g.ravel())) for g in grads),
                             "the sum of the arrays' own norms",
                             "total_norm adds up the arrays' own norms; add up the squares of all "
                             "elements and take one square root"),
        }


def _total_mistake(case, got, got_total, tol):
    for value, _noun, text in _norms(case.f64).values():
        if rel_error(got_total, value, 1e-300) <= tol:
            return text
    after = global_norm(got)
    if rel_error(after, case.total(), 1e-300) > tol and rel_error(got_total, after, 1e-300) <= tol:
        return ("total_norm is the norm after clipping; return the norm before clipping (what "
                "torch.nn.utils.clip_grad_norm_ returns)")
    return None


def _clipped_mistake(case, got, tol):
    grads, total, M = case.f64, case.total(), case.max_norm
    lo, hi = case.interval()
    up_lo, up_hi = (M / (total + EPS), M / total) if total > 0 else (1.0, 1.0)
    if up_lo > 1 and _fit(got, grads, up_lo, up_hi, tol)[0]:
        return ("the gradients were scaled up although total_norm is below max_norm: the scale is "
                "min(1, max_norm / (total_norm + 1e-6)), never above 1")
    if len(grads) > 1 and all(_fit([c], [g], *_interval(global_norm([g]), M), tol)[0]
                              for c, g in zip(got, grads, strict=True)):
        return ("each array is clipped by its own norm (per tensor); clip_grad_norm clips by the global "
                "norm of all the arrays together: one scale, min(1, max_norm / (total_norm + 1e-6)), for "
                "every array")
    if hi < 1 and _fit(got, grads, 1.0, 1.0, tol)[0]:
        return (f"the arrays came back unchanged although total_norm ({total:.4g}) is above max_norm "
                f"({M:.4g}): multiply every array by min(1, max_norm / (total_norm + 1e-6))")
    for value, noun, _ in _norms(grads).values():
        if value > 0 and _fit(got, grads, *_interval(value, M), tol)[0]:
            return f"the scale is computed from {noun} instead of the 2-norm sqrt(sum of g**2)"
    return None


# ---------------------------------------------------------- reading the kernel's report

def _results(answer, cases):
    spec = {"cases": [{"grads": list(c.grads), "max_norm": c.max_norm} for c in cases]}
    report = answer.run("clip_calls", spec)
    try:
        results = report["results"]
        if isinstance(results, list) and len(results) == len(cases) and all(isinstance(r, dict) for r in results):
            return results
    except (KeyError, TypeError):
        pass
    error = report.get("error") if isinstance(report, dict) else None
    raise CheckFailed(f"{CLIP} could not be run" + (f" ({_text(error)})." if error else ": the report is unreadable."))


def _accepted(error):
    bases = error.get("bases")
    return isinstance(bases, list) and any(b in ACCEPTED_ERRORS for b in bases) and not error.get("not_implemented")


def _number(value):
    try:
        a = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return float(a) if a.shape == () else None


def _parse(case, value):
    """(clipped as float64 arrays, total_norm as a float), or fail saying what is wrong."""
    where = case.describe()
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        got = f"a {type(value).__name__}" + (f" of {len(value)} items" if isinstance(value, (list, tuple)) else "")
        raise CheckFailed(f"{where} returned {got}; it should return the pair (clipped, total_norm).")
    clipped, total = value
    if _number(clipped) is not None and isinstance(total, (list, tuple)):
        raise CheckFailed(f"{where}: the outputs are in the wrong order: return (clipped, total_norm).")
    if not isinstance(clipped, (list, tuple)):
        raise CheckFailed(f"{where}: clipped should be a list of {len(case.grads)} arrays, got a "
                          f"{type(clipped).__name__}.")
    if len(clipped) != len(case.grads):
        raise CheckFailed(f"{where}: clipped holds {len(clipped)} arrays; it should hold one per gradient "
                          f"({len(case.grads)}).")
    arrays = []
    for k, (c, g) in enumerate(zip(clipped, case.grads, strict=True)):
        try:
            a = np.asarray(c, dtype=np.float64)
        except (TypeError, ValueError):
            raise CheckFailed(f"{where}: clipped[{k}] is not an array of numbers (a {type(c).__name__}).") from None
        if a.shape != g.shape:
            raise CheckFailed(f"{where}: clipped[{k}] has shape {a.shape}, expected {g.shape}, the shape of "
                              f"grads[{k}].")
        arrays.append(a)
    number = _number(total)
    if number is None:
        shape = f" of shape {np.shape(total)}" if isinstance(total, np.ndarray) else ""
        raise CheckFailed(f"{where}: total_norm should be a number, got a {type(total).__name__}{shape}.")
    return arrays, number


def _judge(case, result):
    where = case.describe()
    error = result.get("error")
    if error is not None and not isinstance(error, dict):
        raise CheckFailed(f"{where}: the call's report is unreadable.")
    if error and error.get("not_implemented"):
        raise CheckFailed(f"{CLIP} is not implemented yet (it raises NotImplementedError).")
    after = result.get("after")
    if isinstance(after, list) and len(after) == len(case.grads):
        for k, (a, g) in enumerate(zip(after, case.grads, strict=True)):
            if isinstance(a, np.ndarray) and a.shape == g.shape and not np.array_equal(a, g, equal_nan=True):
                raise CheckFailed(f"{where} changed its input grads[{k}] in place (for example g *= scale); "
                                  f"return new arrays and leave the inputs unchanged.")
    if not case.finite:
        if error is None:
            raise CheckFailed(f"{where} returned instead of raising: when total_norm is nan or inf, raise a "
                              f"ValueError (as torch.nn.utils.clip_grad_norm_ with error_if_nonfinite=True "
                              f"does); the training loop then skips that batch.")
        if not _accepted(error):
            raise CheckFailed(f"{where} raised {_text(error.get('type'), 80)}: {_text(error.get('message'))}; "
                              f"for a non-finite total_norm raise a ValueError.")
        return
    if error:
        hint = (" With all-zero gradients total_norm is 0.0: the scale must not divide by it."
                if case.total() == 0 and case.grads else "")
        raise CheckFailed(f"{where} raised {_text(error.get('type'), 80)}: {_text(error.get('message'))}.{hint}")
    got, got_total = _parse(case, result.get("value"))
    tol = CLIP_TOL[case.dtype]
    total = case.total()
    if rel_error(got_total, total, 1e-300) > tol:
        msg = (f"{where}: total_norm is wrong: expected {total:.6g}, got {got_total:.6g} (relative error "
               f"{rel_error(got_total, total, 1e-300):.1e}).")
        cause = _total_mistake(case, got, got_total, tol)
        raise CheckFailed(msg + (f" This matches a known mistake: {cause}." if cause else ""))
    lo, hi = case.interval()
    ok, s, err = _fit(got, case.f64, lo, hi, tol)
    if not ok:
        shown = "" if not case.grads else _first_difference(got, case.f64, s)
        scale = f"{lo:.6g}" if hi - lo <= 1e-6 * hi else (f"min(1, max_norm / (total_norm + 1e-6)) = {lo:.6g} "
                                                          f"(or {hi:.6g} without the 1e-6)")
        msg = (f"{where}: clipped is wrong{shown} (relative error {err:.1e}); with total_norm {total:.4g} "
               f"and max_norm {case.max_norm:.4g} every array is multiplied by {scale}.")
        if case.total() == 0 and not all(np.all(np.isfinite(c)) for c in got):
            msg += " With all-zero gradients the scale must not divide by total_norm (0.0)."
        cause = _clipped_mistake(case, got, tol)
        raise CheckFailed(msg + (f" This matches a known mistake: {cause}." if cause else ""))


def _first_difference(got, grads, s):
    worst, where = -1.0, None
    for k, (c, g) in enumerate(zip(got, grads, strict=True)):
        with np.errstate(all="ignore"):
            err = np.nan_to_num(np.abs(c - g * s), nan=np.inf).ravel()
        if err.size and float(err.max()) > worst:
            i = int(err.argmax())
            worst, where = float(err.max()), (k, i, float(g.ravel()[i] * s), float(c.ravel()[i]))
    if where is None:
        return ""
    k, i, want, have = where
    return f": clipped[{k}] (flat index {i}) should be {want:.6g}, got {have:.6g}"


def _check_cases(answer, cases):
    for case, result in zip(cases, _results(answer, cases), strict=True):
        _judge(case, result)


# ---------------------------------------------------------- the cases

def _round(rng, lo, hi, size, digits=1):
    return np.round(rng.uniform(lo, hi, size=size), digits) * rng.choice([-1.0, 1.0], size=size)


def _basic_cases(rng):
    """Three small float64 cases a student can redo by hand: below max_norm (unchanged),
    one array above it, and three arrays above it (one scale for all of them)."""
    below = [_round(rng, 0.1, 0.9, 2), _round(rng, 0.1, 0.9, 3)]
    t = global_norm(below)
    cases = [ClipCase(below, round(t * rng.uniform(1.5, 3.0), 1), "total norm below max_norm: unchanged")]
    for shapes in ([(2,)], [(2,), (2, 2), (1,)]):
        grads = [_round(rng, 0.5, 3.0, s) for s in shapes]
        t = global_norm(grads)
        cases.append(ClipCase(grads, max(0.1, round(t * rng.uniform(0.2, 0.6), 1)),
                              "total norm above max_norm: scaled to norm max_norm"))
    return cases


RANDOM_SHAPES = [(), (1,), (3,), (7,), (2, 3), (4, 5), (2, 3, 4), (3, 1, 2, 2)]


def _random_cases(rng, n=200):
    """Many seeded cases: 1 to 6 arrays of every shape, gradients from 1e-8 to 1e3 (each
    array within a factor 10 of its case's scale), max_norm from 1e-3 to 10 times the
    total norm or anywhere from 1e-4 to 1e2, float32 in about a third of them."""
    cases = []
    for i in range(n):
        count = int(rng.integers(1, 7))
        dtype = np.float32 if rng.uniform() < 0.3 else np.float64
        scale = 10 ** rng.uniform(-8, 3)
        grads = [(rng.normal(size=RANDOM_SHAPES[rng.integers(len(RANDOM_SHAPES))]) * scale
                  * 10 ** rng.uniform(-1, 1)).astype(dtype) for _ in range(count)]
        t = global_norm(grads)
        max_norm = t * 10 ** rng.uniform(-3, 1) if rng.uniform() < 0.7 and t > 0 else 10 ** rng.uniform(-4, 2)
        cases.append(ClipCase(grads, float(max_norm), f"random case {i + 1} of {n}"))
    return cases


def _edge_cases(rng):
    cases = [
        ClipCase([np.zeros(4), np.zeros((2, 3))], round(rng.uniform(0.5, 2.0), 1),
                 "all gradients zero: unchanged, total_norm 0.0"),
        ClipCase([], round(rng.uniform(0.5, 2.0), 1), "no gradients at all: ([], 0.0)"),
    ]
    scalars = [np.array(v) for v in _round(rng, 1.0, 5.0, 3)]
    cases.append(ClipCase(scalars, round(global_norm(scalars) * rng.uniform(0.2, 0.5), 2),
                          "0-d arrays, above max_norm"))
    one = [_round(rng, 1.0, 5.0, (1,))]
    cases.append(ClipCase(one, round(global_norm(one) * rng.uniform(0.2, 0.5), 2), "one element, above max_norm"))
    f32 = [rng.normal(size=(3, 4)).astype(np.float32), rng.normal(size=5).astype(np.float32)]
    cases.append(ClipCase(f32, global_norm(f32) * rng.uniform(0.2, 0.5),
                          "float32 arrays, above max_norm: the inputs must stay unchanged"))
    for factor, label in ((1 + 1e-3, "total norm just below max_norm (by 0.1%): unchanged"),
                          (1 - 1e-3, "total norm just above max_norm (by 0.1%): scaled by about 0.999"),
                          (1.0, "total norm equal to max_norm")):
        g = [rng.normal(size=6) * rng.uniform(1.0, 3.0)]
        cases.append(ClipCase(g, global_norm(g) * factor, label))
    for bad, dtype in ((np.nan, np.float64), (np.inf, np.float64), (-np.inf, np.float32)):
        grads = [rng.normal(size=5).astype(dtype), rng.normal(size=(2, 2)).astype(dtype)]
        grads[int(rng.integers(2))].flat[int(rng.integers(4))] = bad
        cases.append(ClipCase(grads, 1.0, f"a gradient holds {bad}: raise ValueError", finite=False))
    return cases


CLIP_PARTS = {"basic": _basic_cases, "random": _random_cases, "edge": _edge_cases}


def check_clip_grad_norm(answer, part):
    if not answer.callable:
        raise CheckFailed(f"{CLIP} is not a function.")
    _check_cases(answer, CLIP_PARTS[part](seeds.rng(CLIP, part)))


# ================================================================== decay_param_groups

def _linear(a, b, bias=True):
    return {"kind": "Linear", "in": int(a), "out": int(b), "bias": bool(bias)}


def _relu():
    return {"kind": "ReLU"}


def _basic_models(rng):
    """Two MLPs of Linear layers, each with its own weight_decay."""
    h1, h2, h3 = (int(v) for v in rng.integers(4, 33, size=3))
    wd1 = float(f"{10 ** rng.uniform(-3, -1):.2g}")
    wd2 = round(float(rng.uniform(0.1, 0.5)), 2)
    return [({"layers": [_linear(64, h1), _relu(), _linear(h1, h2), _relu(), _linear(h2, 10)]}, wd1),
            ({"layers": [_linear(64, h3), _relu(), _linear(h3, 10)]}, wd2)]


def _norm_models(rng):
    """A CNN with Conv2d and BatchNorm2d, and an MLP with LayerNorm, BatchNorm1d and a
    Linear layer without bias."""
    c1, c2 = (int(v) for v in rng.integers(2, 9, size=2))
    h1, h2 = (int(v) for v in rng.integers(4, 33, size=2))
    cnn = {"layers": [{"kind": "Conv2d", "in": 1, "out": c1, "kernel": 3, "bias": True},
                      {"kind": "BatchNorm2d", "num": c1}, _relu(),
                      {"kind": "Conv2d", "in": c1, "out": c2, "kernel": 3, "bias": False},
                      {"kind": "BatchNorm2d", "num": c2}, _relu(), {"kind": "Flatten"}, _linear(16 * c2, 10)]}
    mlp = {"layers": [_linear(64, h1), {"kind": "LayerNorm", "num": h1}, _relu(), _linear(h1, h2, bias=False),
                      {"kind": "BatchNorm1d", "num": h2}, _relu(), _linear(h2, 10)]}
    return [(cnn, round(float(rng.uniform(0.01, 0.2)), 3)), (mlp, round(float(rng.uniform(0.01, 0.2)), 3))]


def _shared_models(rng):
    """Tied weights (a later layer's weight is an earlier layer's Parameter) and frozen
    layers (requires_grad False)."""
    h1, h2 = (int(v) for v in rng.integers(4, 33, size=2))
    tied = {"layers": [_linear(64, h1), _relu(), _linear(h1, h1), _relu(), _linear(h1, h1), _relu(),
                       _linear(h1, 10)],
            "tied": [[4, 2, "weight"]], "frozen": [0]}
    both = {"layers": [_linear(64, h2), {"kind": "LayerNorm", "num": h2}, _relu(), _linear(h2, h2), _relu(),
                       _linear(h2, h2), _relu(), _linear(h2, 10, bias=False)],
            "tied": [[5, 3, "weight"], [5, 3, "bias"]], "frozen": [1, 7]}
    return [(tied, round(float(rng.uniform(0.01, 0.2)), 3)), (both, round(float(rng.uniform(0.01, 0.2)), 3))]


GROUP_PARTS = {"basic": _basic_models, "norm": _norm_models, "shared": _shared_models}


class _Model:
    """What this side knows of the model of ``spec``: each parameter by its name."""

    def __init__(self, spec):
        self.spec = spec
        model = model_programs.build(spec)
        self.params = {}            # name -> (ndim, shape, trainable, description)
        self.aliases = collections.defaultdict(list)   # name -> every name it has (tied)
        known = model_programs.names(model)
        for name, p in model.named_parameters(remove_duplicate=False):
            self.aliases[known[id(p)]].append(name)
        for name, p in model.named_parameters():
            layer, attr = name.split(".")
            self.params[name] = (p.ndim, tuple(p.shape), p.requires_grad,
                                 f"{_layer_text(spec['layers'][int(layer)])}.{attr}")

    def describe(self):
        out = []
        for i, layer in enumerate(self.spec["layers"]):
            text = _layer_text(layer)
            tied = [f"{attr} = layer {e}'s" for later, e, attr in self.spec.get("tied") or [] if later == i]
            if tied:
                text += " [" + ", ".join(tied) + "]"
            if i in (self.spec.get("frozen") or []):
                text += " [frozen]"
            out.append(text)
        return " - ".join(out)

    def what(self, name):
        ndim, shape, _, text = self.params[name]
        return f"'{name}' ({text}, shape {shape})"

    def expected(self, name, wd):
        return wd if self.params[name][0] >= 2 else 0.0

    @property
    def trainable(self):
        return [n for n, (_, _, t, _) in self.params.items() if t]


def _layer_text(layer):
    kind = layer["kind"]
    if kind == "Linear":
        return f"Linear({layer['in']}, {layer['out']}" + (")" if layer["bias"] else ", bias=False)")
    if kind == "Conv2d":
        return f"Conv2d({layer['in']}, {layer['out']}, {layer['kernel']}" + (")" if layer["bias"] else ", bias=False)")
    if kind in ("BatchNorm1d", "BatchNorm2d", "LayerNorm"):
        return f"{kind}({layer['num']})"
    return f"{kind}()"


def _names_of(entries, model):
    """The parameter names of a reported group, and descriptions of everything else."""
    names, others = [], []
    for e in entries if isinstance(entries, list) else []:
        if isinstance(e, dict) and e.get("name") in model.params:
            names.append(e["name"])
        else:
            others.append(_text(e.get("other") if isinstance(e, dict) else None, 80))
    return names, others


def _is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _judge_groups(model, wd, lr, report):
    where = f"{GROUPS}(model, weight_decay={wd:g}) on {model.describe()}"
    if not isinstance(report, dict):
        raise CheckFailed(f"{where}: the run sent back nothing readable.")
    error = report.get("error")
    if isinstance(error, dict):
        if error.get("not_implemented"):
            raise CheckFailed(f"{GROUPS} is not implemented yet (it raises NotImplementedError).")
        raise CheckFailed(f"{where} raised {_text(error.get('type'), 80)}: {_text(error.get('message'))}")
    groups = report.get("groups")
    if not isinstance(groups, list):
        raise CheckFailed(f"{where} returned a {_text(report.get('type'), 60)}; it should return a list of "
                          f"param-group dicts.")
    if groups and all(isinstance(g, dict) and g.get("type") == "tensor" for g in groups):
        raise CheckFailed(f"{where} returned a flat list of parameters (torch.optim would put them all in one "
                          f"group, with one weight decay); return a list of param-group dicts: "
                          f"[{{'params': [...], 'weight_decay': weight_decay}}, {{'params': [...], "
                          f"'weight_decay': 0.0}}].")
    seen = collections.Counter()
    decays = {}                 # name -> the weight decay of its group
    for k, g in enumerate(groups):
        if not isinstance(g, dict) or g.get("type") != "dict":
            kind = _text(g.get("type"), 60) if isinstance(g, dict) else "?"
            raise CheckFailed(f"{where}: group {k} is a {kind}, not a dict; each group is a dict "
                              f"{{'params': [...], 'weight_decay': ...}}.")
        keys = [str(x) for x in g.get("keys") or []]
        options = g.get("options") if isinstance(g.get("options"), dict) else {}
        if "params" not in keys:
            raise CheckFailed(f"{where}: group {k} has no 'params' key (its keys: {keys[:6]}).")
        extra = [x for x in keys if x not in ("params", "weight_decay")]
        if extra:
            shown = ", ".join(f"'{x}' (= {options.get(x)!r:.40})" for x in extra[:3])
            raise CheckFailed(f"{where}: group {k} sets {shown} besides 'params' and 'weight_decay'; leave "
                              f"the learning rate and every other option to the optimizer.")
        if g.get("params") is None:
            raise CheckFailed(f"{where}: group {k}'s 'params' is a {_text(g.get('params_kind'), 60)}, not a list "
                              f"of parameters.")
        if g.get("params_kind") == "set":
            raise CheckFailed(f"{where}: group {k}'s 'params' is a set; torch.optim needs a list (the order of "
                              f"a set changes from run to run).")
        names, others = _names_of(g.get("params"), model)
        if others:
            raise CheckFailed(f"{where}: group {k} holds a {others[0]} that is not a parameter of the model "
                              f"(p.data, p.detach() or a copy?); list the parameters themselves.")
        if "weight_decay" not in keys:
            shown = ", ".join(f"'{n}'" for n in names[:3]) + (", ..." if len(names) > 3 else "")
            raise CheckFailed(f"{where}: group {k} ({shown or 'empty'}) has no 'weight_decay' key: the "
                              f"optimizer's own weight_decay would apply to it (AdamW's default is 0.01, not 0); "
                              f"give every group its 'weight_decay' (0.0 for the group without decay).")
        value = options.get("weight_decay")
        if not _is_number(value):
            raise CheckFailed(f"{where}: group {k}'s weight_decay is {value!r:.40}, not a number.")
        for n in names:
            seen[n] += 1
            decays[n] = float(value)
    twice = [n for n, c in seen.items() if c > 1]
    if twice:
        n = twice[0]
        shared = model.aliases.get(n, [n])
        why = (f" (it is shared by {' and '.join(repr(a) for a in shared)}: tied)" if len(shared) > 1 else "")
        raise CheckFailed(f"{where}: {model.what(n)} is listed more than once ({seen[n]} times){why}; list "
                          f"every parameter once (model.parameters() yields a shared parameter once).")
    missing = [n for n in model.trainable if n not in seen]
    if missing:
        raise CheckFailed(f"{where}: {model.what(missing[0])} is in no group"
                          + (f" (nor are {len(missing) - 1} more)" if len(missing) > 1 else "")
                          + "; every trainable parameter must be in exactly one group.")
    wrong = [n for n in model.trainable if not _same(decays[n], model.expected(n, wd))]
    if wrong:
        n = wrong[0]
        ndim = model.params[n][0]
        rule = ("biases and normalisation weights (every parameter with p.ndim < 2) get weight_decay 0.0"
                if ndim < 2 else f"every parameter with p.ndim >= 2 gets weight_decay={wd:g}")
        msg = (f"{where}: {model.what(n)} is in a group with weight_decay {decays[n]:g}"
               + (f" (and {len(wrong) - 1} more parameter{'s are' if len(wrong) > 2 else ' is'} in the wrong "
                  f"group)" if len(wrong) > 1 else "")
               + f"; {rule}.")
        cause = _group_mistake(model, wd, decays, wrong)
        raise CheckFailed(msg + (f" This matches a known mistake: {cause}." if cause else ""))
    _judge_adamw(model, wd, lr, report.get("adamw"), where)


def _same(a, b):
    return abs(a - b) <= 1e-12 * max(abs(a), abs(b))


def _group_mistake(model, wd, decays, wrong):
    trainable = model.trainable
    small = [n for n in trainable if model.params[n][0] < 2]
    big = [n for n in trainable if model.params[n][0] >= 2]
    wrong = set(wrong)
    if all(_same(decays[n], wd) for n in trainable):
        return ("weight decay on every parameter; biases and normalisation weights (p.ndim < 2) go into a "
                "group with weight_decay 0.0")
    if small and big and all(_same(decays[n], wd) for n in small) and all(decays[n] == 0 for n in big):
        return "the two groups are swapped: the decay goes to the p.ndim >= 2 parameters, not to the 1-D ones"
    norm_weights = {n for n in small if not n.endswith("bias")}
    if norm_weights and wrong == norm_weights:
        example = sorted(norm_weights)[0]
        return (f"the groups are chosen by name ('bias' in name); a normalisation layer's weight is called "
                f"'{example}' inside a Sequential and is 1-D: choose by p.ndim (>= 2 gets weight decay)")
    kernels = {n for n in big if model.params[n][0] > 2}
    if kernels and wrong == kernels:
        return ("p.ndim == 2 leaves out the 4-D convolution kernels: every parameter with p.ndim >= 2 gets "
                "weight decay")
    if wrong == set(big) and len({decays[n] for n in big}) == 1 and decays[big[0]] > 0:
        return f"the decay group's weight_decay is {decays[big[0]]:g}, not the weight_decay argument ({wd:g})"
    return None


def _judge_adamw(model, wd, lr, adamw, where):
    if not isinstance(adamw, dict):
        raise CheckFailed(f"{where}: the groups could not be given to torch.optim.AdamW.")
    error = adamw.get("error")
    if isinstance(error, dict):
        raise CheckFailed(f"{where}: torch.optim.AdamW(groups) raised {_text(error.get('type'), 80)}: "
                          f"{_text(error.get('message'))}")
    got = {}
    for g in adamw.get("groups") or []:
        if isinstance(g, dict):
            for n in g.get("params") or []:
                got[str(n)] = (g.get("lr"), g.get("weight_decay"))
    for n in model.trainable:
        lr_n, wd_n = got.get(n, (None, None))
        if not (_is_number(lr_n) and _same(float(lr_n), lr)):
            raise CheckFailed(f"{where}: in torch.optim.AdamW(groups, lr={lr:g}) {model.what(n)} gets lr {lr_n!r:.40}; "
                              f"leave the learning rate to the optimizer.")
        if not (_is_number(wd_n) and _same(float(wd_n), model.expected(n, wd))):
            raise CheckFailed(f"{where}: in torch.optim.AdamW(groups) {model.what(n)} gets weight_decay "
                              f"{wd_n!r:.40}, expected {model.expected(n, wd):g}.")


def check_decay_param_groups(answer, part):
    if not answer.callable:
        raise CheckFailed(f"{GROUPS} is not a function.")
    rng = seeds.rng(GROUPS, part)
    with _one_thread():
        for spec, wd in GROUP_PARTS[part](rng):
            lr = float(f"{10 ** rng.uniform(-4, -2):.2g}")
            report = answer.run("param_groups", {"model": spec, "weight_decay": wd, "lr": lr})
            _judge_groups(_Model(spec), wd, lr, report)


CHECKS = {
    CLIP: (check_clip_grad_norm, ["basic", "random", "edge"], "clip_grad_norm"),
    GROUPS: (check_decay_param_groups, ["basic", "norm", "shared"], "decay_param_groups"),
}
