"""Checks for the numpy step functions: seeded random cases against the reference.

Every call is checked for exceptions, inputs modified in place, the shape of what
came back, and its values; the first failure raises one AssertionError saying which
inputs, what was expected, what came back, and (when a known mistake reproduces the
result) what the mistake is.
"""
from dataclasses import dataclass, field

import numpy as np

from grader import reference as ref
from grader.checks import seeds
from grader.checks.mistakes import STEP_MISTAKES
from grader.checks.tolerance import TOLERANCES, rel_error, worst_index

SHAPES = [(), (1,), (5,), (3, 4), (2, 3, 4)]


def _loguniform(rng, lo, hi):
    return float(np.exp(rng.uniform(np.log(lo), np.log(hi))))


@dataclass
class StepSpec:
    name: str
    reference: object
    state: tuple                 # state arguments after (x, g), e.g. ("m", "v")
    nonneg: tuple = ()           # state arguments that are accumulators of squares
    takes_t: bool = False
    hyper: object = None         # rng -> dict of hyperparameters
    defaults: dict = field(default_factory=dict)  # optional hyperparameters and their contract values
    lr_range: tuple = (1e-4, 10.0)       # where hyper draws lr from
    decay_range: tuple = (1e-4, 1.0)     # where hyper draws weight_decay from (if it does)
    # Notebook 07 needs the following; their defaults leave the earlier specs' cases as they were.
    scalars: tuple = ()          # Python-float state after the arrays (NAdam's mu_product), returned after them
    scalar_state: object = None  # (hyper, t) -> [floats]: the scalar state a run has before update t
    shapes: tuple = None         # the shapes random cases draw from (None: SHAPES)
    t_range: tuple = (1, 1000)   # where random cases draw t from
    basic_t: tuple = (2, 20)     # where "basic" draws t for its steps from non-zero state
    diagnose_shape: tuple = (4,)
    trajectory_shapes: tuple = None   # (None: SHAPES[2:5])
    trajectory_fixed: dict = field(default_factory=dict)  # hyperparameters every run keeps
    # Compare each update with the reference on the student's own inputs, not with a run of
    # the reference's own: where a run amplifies rounding (Muon's orthogonalisation, NAdam
    # near its minimum), two correct runs drift apart by more than the tolerance.
    trajectory_own_inputs: bool = False

    @property
    def outputs(self):
        return ("x_new",) + tuple(f"{s}_new" for s in self.state) + tuple(f"{s}_new" for s in self.scalars)


def _lr(rng, lo=1e-4, hi=10.0):
    return _loguniform(rng, lo, hi)


SPECS = {s.name: s for s in [
    StepSpec("sgd_step", ref.sgd_step, (), hyper=lambda r: dict(lr=_lr(r))),
    StepSpec("momentum_step", ref.momentum_step, ("v",),
             hyper=lambda r: dict(lr=_lr(r), beta=float(r.uniform(0, 0.999)))),
    StepSpec("nesterov_step", ref.nesterov_step, ("v",),
             hyper=lambda r: dict(lr=_lr(r), beta=float(r.uniform(0, 0.999)))),
    StepSpec("adagrad_step", ref.adagrad_step, ("G",), nonneg=("G",),
             hyper=lambda r: dict(lr=_lr(r), eps=_loguniform(r, 1e-12, 1e-3)),
             defaults=dict(eps=1e-10)),
    StepSpec("rmsprop_step", ref.rmsprop_step, ("s",), nonneg=("s",),
             hyper=lambda r: dict(lr=_lr(r), alpha=float(r.uniform(0.5, 0.9999)),
                                  eps=_loguniform(r, 1e-12, 1e-3)),
             defaults=dict(alpha=0.99, eps=1e-8)),
    StepSpec("adam_step", ref.adam_step, ("m", "v"), nonneg=("v",), takes_t=True,
             hyper=lambda r: dict(lr=_lr(r, 1e-5, 1.0), beta1=float(r.uniform(0, 0.99)),
                                  beta2=float(r.uniform(0.9, 0.99999)),
                                  eps=_loguniform(r, 1e-12, 1e-4)),
             defaults=dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8), lr_range=(1e-5, 1.0)),
    StepSpec("adamw_step", ref.adamw_step, ("m", "v"), nonneg=("v",), takes_t=True,
             hyper=lambda r: dict(lr=_lr(r, 1e-5, 1.0), beta1=float(r.uniform(0, 0.99)),
                                  beta2=float(r.uniform(0.9, 0.99999)),
                                  eps=_loguniform(r, 1e-12, 1e-4),
                                  weight_decay=_loguniform(r, 1e-4, 1.0)),
             defaults=dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2),
             lr_range=(1e-5, 1.0)),
]}


def _mu_product(hyper, t):
    """NAdam's running product mu_1 ... mu_{t-1}: the state a run has before update t
    (torch's own expression for each mu_k, multiplied in torch's order)."""
    beta1, decay = hyper.get("beta1", 0.9), hyper.get("momentum_decay", 4e-3)
    product = 1.0
    for k in range(1, t):
        product *= beta1 * (1.0 - 0.5 * (0.96 ** (float(k) * decay)))
    return [product]


# Notebook 07. These are graded through grader/checks/extras/modern.py, which gives each
# function parts of its own (RAdam's switch, Muon's shapes) from the parts below and its own.
MODERN_SPECS = {s.name: s for s in [
    StepSpec("nadam_step", ref.nadam_step, ("m", "v"), nonneg=("v",), takes_t=True,
             scalars=("mu_product",), scalar_state=_mu_product,
             hyper=lambda r: dict(lr=_lr(r, 1e-5, 1.0), beta1=float(r.uniform(0, 0.99)),
                                  beta2=float(r.uniform(0.9, 0.99999)),
                                  eps=_loguniform(r, 1e-12, 1e-4),
                                  momentum_decay=_loguniform(r, 1e-3, 5e-2)),
             defaults=dict(lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=4e-3),
             lr_range=(1e-5, 1.0), trajectory_own_inputs=True),
    # t from 6 on: random cases all take the adapted step for every beta2 from 0.9 (rho_6 > 5.38);
    # the switch has a part of its own, and "basic" steps from t = 1 and from t = 10 to 30.
    StepSpec("radam_step", ref.radam_step, ("m", "v"), nonneg=("v",), takes_t=True,
             hyper=lambda r: dict(lr=_lr(r, 1e-5, 1.0), beta1=float(r.uniform(0, 0.99)),
                                  beta2=float(r.uniform(0.9, 0.99999)),
                                  eps=_loguniform(r, 1e-12, 1e-4)),
             defaults=dict(lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8), lr_range=(1e-5, 1.0),
             t_range=(6, 1000), basic_t=(10, 31), trajectory_own_inputs=True),
    # lr from 1e-3: a Lion step moves every coordinate by lr, and lr / |x| must stay well
    # above the tolerance for a wrong sign to show. Betas as Lion is used (beta1 = 0 is an
    # edge case): the gradients for which the order of sign and momentum update matters
    # fill a share of about (1 - beta2) / (1 - beta1 beta2) of the ratios g / m.
    StepSpec("lion_step", ref.lion_step, ("m",),
             hyper=lambda r: dict(lr=_lr(r, 1e-3, 1.0), beta1=float(r.uniform(0.5, 0.99)),
                                  beta2=float(r.uniform(0.9, 0.99)),
                                  weight_decay=_loguniform(r, 1e-4, 1.0)),
             defaults=dict(lr=1e-4, beta1=0.9, beta2=0.99, weight_decay=0.0), lr_range=(1e-3, 1.0),
             diagnose_shape=(16,), trajectory_own_inputs=True),
    StepSpec("muon_step", ref.muon_step, ("buf",),
             hyper=lambda r: dict(lr=_lr(r, 1e-4, 0.5), weight_decay=_loguniform(r, 1e-4, 1.0),
                                  momentum=float(r.uniform(0, 0.99)), nesterov=bool(r.random() < 0.75),
                                  ns_steps=int(r.integers(1, 7)), eps=1e-7),
             defaults=dict(lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5, eps=1e-7),
             lr_range=(1e-4, 0.5),
             shapes=((1, 4), (4, 1), (3, 3), (2, 5), (5, 2), (4, 7), (7, 3), (1, 1)),
             diagnose_shape=(3, 4),
             trajectory_shapes=((4, 3), (3, 5), (4, 4), (6, 2), (2, 6)),
             trajectory_fixed=dict(nesterov=True, ns_steps=5), trajectory_own_inputs=True),
]}


@dataclass
class Case:
    x: np.ndarray
    g: np.ndarray
    state: list
    hyper: dict
    t: int = None
    label: str = ""
    scalars: list = field(default_factory=list)

    def args(self):
        return [self.x, self.g, *self.state, *self.scalars] + ([self.t] if self.t is not None else [])

    def describe(self, spec):
        names = ["x", "g", *spec.state]
        shape = self.x.shape
        hyper = ", ".join(f"{k}={_hyper_text(v)}" for k, v in self.hyper.items())
        t = f"t={self.t}, " if self.t is not None else ""
        scalars = "".join(f"{n}={float(v):.6g}, " for n, v in zip(spec.scalars, self.scalars, strict=True))
        small = self.x.size <= 3
        if small:
            vals = ", ".join(f"{n}={_short(a)}" for n, a in zip(names, [self.x, self.g, *self.state], strict=True))
            return f"{spec.name}({vals}, {scalars}{t}{hyper})" + (f" [{self.label}]" if self.label else "")
        return (f"{spec.name}(x, g{''.join(', ' + s for s in spec.state)}, {scalars}{t}{hyper}) with arrays of shape "
                f"{shape} ({self.x.dtype.name})" + (f" [{self.label}]" if self.label else ""))


def _hyper_text(v):
    return str(v) if isinstance(v, bool) else f"{v:.3g}"


def random_case(spec, rng, shape=None, dtype=np.float64, g_range=(1e-9, 1e2), **overrides):
    shapes = spec.shapes or SHAPES
    shape = shapes[rng.integers(len(shapes))] if shape is None else shape
    x_scale = _loguniform(rng, 1e-2, 1e2)
    g_scale = _loguniform(rng, *g_range)

    def draw(scale):
        return np.asarray(rng.normal(size=shape) * scale, dtype=dtype)

    state = []
    for s in spec.state:
        arr = draw(g_scale)
        state.append(np.asarray(np.abs(arr) * g_scale, dtype=dtype) if s in spec.nonneg else arr)
    hyper = spec.hyper(rng)
    hyper.update({k: v for k, v in overrides.items() if k not in ("t", "state", "g", "scalars")})
    t = overrides.get("t", int(rng.integers(*spec.t_range))) if spec.takes_t else None
    g = overrides.get("g")
    g = draw(g_scale) if g is None else np.asarray(g, dtype=dtype)
    if "state" in overrides:
        state = [np.asarray(s, dtype=dtype) for s in overrides["state"]]
    case = Case(draw(x_scale), g, state, hyper, t)
    if spec.scalars:
        case.scalars = list(overrides.get("scalars") or spec.scalar_state(hyper, t))
    return case


class CheckFailed(AssertionError):
    pass


def _short(a):
    """Six significant digits, so tiny gradients do not print as 0.0."""
    a = np.asarray(a, dtype=np.float64)
    if a.ndim == 0:
        return f"{float(a):.6g}"
    return "[" + ", ".join(f"{float(v):.6g}" for v in a.ravel()) + "]"


def _normalise(spec, out, case):
    """Turn what the student returned into a list of float64 arrays, or fail."""
    n = len(spec.outputs)
    if n == 1:
        if isinstance(out, (tuple, list)) and len(out) != np.size(case.x):
            raise CheckFailed(f"{case.describe(spec)} returned a {type(out).__name__} of "
                              f"{len(out)} items; it should return the array x_new alone.")
        outs = [out]
    else:
        if not isinstance(out, (tuple, list)) or len(out) != n:
            got = f"a {type(out).__name__}" + (f" of {len(out)} items" if isinstance(out, (tuple, list)) else "")
            raise CheckFailed(f"{case.describe(spec)} returned {got}; it should return "
                              f"the pair ({', '.join(spec.outputs)}).")
        outs = list(out)
    arrays = []
    first_scalar = 1 + len(spec.state)
    for i, (name, o) in enumerate(zip(spec.outputs, outs, strict=True)):
        if o is None:
            raise CheckFailed(f"{case.describe(spec)} returned None for {name}: did you forget a return value?")
        try:
            a = np.asarray(o, dtype=np.float64)
        except (TypeError, ValueError) as e:
            raise CheckFailed(f"{case.describe(spec)}: {name} is not an array of numbers ({e}).") from None
        if i >= first_scalar:
            if a.shape != ():
                raise CheckFailed(f"{case.describe(spec)}: {name} has shape {a.shape}; it should be one "
                                  f"number (a Python float), like {spec.scalars[i - first_scalar]}.")
        elif a.shape != case.x.shape:
            raise CheckFailed(f"{case.describe(spec)}: {name} has shape {a.shape}, expected "
                              f"{case.x.shape}, the shape of x.")
        arrays.append(a)
    return arrays


def call(spec, fn, case, **kwargs):
    """Call the student's function on copies, check the inputs were left alone,
    and return the normalised outputs."""
    args = [a.copy() for a in case.args()[:2 + len(spec.state)]] + [float(s) for s in case.scalars]
    if spec.takes_t:
        args.append(case.t)
    before = [a.copy() for a in args[:2 + len(spec.state)]]
    hyper = case.hyper if not kwargs.get("omit_defaults") else {
        k: v for k, v in case.hyper.items() if k not in spec.defaults}
    try:
        out = fn(*args, **hyper)
    except NotImplementedError:
        raise CheckFailed(f"{spec.name} is not implemented yet (it raises NotImplementedError).") from None
    except Exception as e:  # the student's error, reported with the inputs that caused it
        raise CheckFailed(f"{case.describe(spec)} raised {type(e).__name__}: {e}") from None
    names = ["x", "g", *spec.state]
    for name, a, b in zip(names, args[:len(before)], before, strict=True):  # the arrays, not t
        # the same bytes: unchanged (the common case, twenty times faster to see than with
        # array_equal, which then only decides between -0.0 and 0.0 or two NaNs' payloads)
        if a.tobytes() == b.tobytes():
            continue
        if not np.array_equal(a, b, equal_nan=True):
            raise CheckFailed(f"{case.describe(spec)} changed its input {name} in place "
                              f"(for example {name} *= ... or {name}[...] = ...); return new arrays "
                              f"and leave the inputs unchanged.")
    return _normalise(spec, out, case)


def expected(spec, case, omit_defaults=False):
    args = [np.asarray(a, dtype=np.float64) for a in case.args()[:2 + len(spec.state)]]
    args += [float(s) for s in case.scalars]
    if spec.takes_t:
        args.append(case.t)
    hyper = dict(case.hyper)
    if omit_defaults:
        hyper.update(spec.defaults)
    out = spec.reference(*args, **hyper)
    return [np.asarray(o, dtype=np.float64) for o in (out if len(spec.outputs) > 1 else [out])]


def _mismatch(spec, wrong, case, got, floor):
    """How far a known mistake is from what the student's function returned (inf when
    the mistake cannot even run on the case)."""
    args = [np.asarray(a, dtype=np.float64) for a in case.args()]
    try:
        with np.errstate(all="ignore"):
            out = wrong(*args, **case.hyper)
        outs = out if len(spec.outputs) > 1 else [out]
        return max(gap(g, np.asarray(o, dtype=np.float64), floor) for g, o in zip(got, outs, strict=True))
    except Exception:
        return np.inf


def gap(got, want, floor):
    """rel_error, where an overflow the mistake reproduces (inf where it has the same inf)
    counts as agreement, as nan beside nan already does."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        same = np.isinf(got) & (got == want)
    return rel_error(np.where(same, 0.0, got), np.where(same, 0.0, want), floor)


def diagnose(spec, fn, case, got, floor, tol):
    """Name the known mistake that reproduces ``got``, if any. A first step from zero
    state cannot tell some mistakes apart, so a candidate must also reproduce the
    student's function on two more random cases with non-zero state; of the candidates
    that do, the closest one is named (on a case where the mistake barely shows, such as
    a tiny learning rate, several come within the tolerance, and the one the student made
    reproduces the result exactly)."""
    exp = expected(spec, case)
    if len(got) > 1 and all(rel_error(g, e, floor) <= tol for g, e in zip(got, reversed(exp), strict=True)):
        return "the outputs are in the wrong order: return (" + ", ".join(spec.outputs) + ")"
    rng = seeds.rng(spec.name, "diagnose")
    extra = []
    for _ in range(2):
        c = _moderate(spec, rng, shape=spec.diagnose_shape)
        try:
            extra.append((c, call(spec, fn, c)))
        except AssertionError:
            pass
    f64_floor, f64_tol = TOLERANCES[np.dtype(np.float64)]
    best, best_gap = None, np.inf
    for label, wrong in STEP_MISTAKES.get(spec.name, {}).items():
        gap = _mismatch(spec, wrong, case, got, floor)
        if not gap <= tol:
            continue
        gaps = [_mismatch(spec, wrong, c, g, f64_floor) for c, g in extra]
        if all(x <= f64_tol for x in gaps) and max([gap, *gaps]) < best_gap:
            best, best_gap = label, max([gap, *gaps])
    return best


def compare(spec, fn, case, got, exp, context=""):
    floor, tol = TOLERANCES[np.dtype(case.x.dtype)]
    for name, g, e in zip(spec.outputs, got, exp, strict=True):
        err = rel_error(g, e, floor)
        if err <= tol:
            continue
        idx = worst_index(g, e, floor)
        at = f" at index {tuple(int(i) for i in idx)}" if idx else ""
        msg = (f"{case.describe(spec)}{context}: {name} is wrong{at}: expected {e[idx]:.6g}, "
               f"got {g[idx]:.6g} (relative error {err:.1e}, tolerance {tol:.0e}).")
        cause = diagnose(spec, fn, case, got, floor, tol)
        if cause:
            msg += f" This matches a known mistake: {cause}."
        raise CheckFailed(msg)


def check_case(spec, fn, case, context="", omit_defaults=False):
    got = call(spec, fn, case, omit_defaults=omit_defaults)
    compare(spec, fn, case, got, expected(spec, case, omit_defaults=omit_defaults), context)
    return got


# ---------------------------------------------------------------- the parts

def _contract_eps(spec):
    return {"eps": spec.defaults["eps"]} if "eps" in spec.defaults else {}


def _basic_hyper(spec, rng):
    """Readable hyperparameters for "basic": two-digit lr and weight decay, eps at its
    contract value (its placement is a subtle slip, graded in "edge" and "random"; only
    RMSprop's first step, with alpha near 1 as in practice, makes it show here: s_new
    is then ~1e-4 g^2)."""
    hyper = spec.hyper(rng)
    hyper["lr"] = round(float(rng.uniform(0.05, 0.5)), 2)
    if "alpha" in hyper:
        hyper["alpha"] = round(float(rng.uniform(0.9995, 0.9999)), 4)
    if "weight_decay" in hyper:
        hyper["weight_decay"] = round(float(rng.uniform(0.01, 0.1)), 2)
    return {**hyper, **_contract_eps(spec)}


def _signed(rng, lo, hi, size):
    return np.round(rng.uniform(lo, hi, size=size), 2) * rng.choice([-1.0, 1.0], size=size)


def part_basic(spec, fn, rng):
    """A few small float64 cases: a first step from zero state, then one from a
    non-zero state; the simplest behaviour, so messages show every number. Every
    number has two decimals, |x| and |x_new| at least 0.25 and |g| from 0.2 to 0.95
    (no cancellation, no gradient so small that eps decides)."""
    for k in range(4):
        for _ in range(1000):   # (a few draws at most)
            t = 1 if k < 2 else int(rng.integers(*spec.basic_t))
            case = Case(_signed(rng, 0.25, 2.0, 3), _signed(rng, 0.2, 0.95, 3), [], _basic_hyper(spec, rng),
                        t if spec.takes_t else None)
            if k < 2:
                case.state = [np.zeros(3) for _ in spec.state]
                case.label = "first step, state starts at zero"
            else:
                case.state = [np.round(np.abs(rng.normal(size=3)) + 0.1, 2) for _ in spec.state]
            if spec.scalars:
                case.scalars = spec.scalar_state(case.hyper, case.t)
            if np.all(np.abs(expected(spec, case)[0]) >= 0.25):
                break
        check_case(spec, fn, case)


def part_random(spec, fn, rng, n=200):
    """Full agreement on many random cases: every shape, hyperparameters across their
    useful ranges, gradients from 1e-9 to 1e2."""
    for i in range(n):
        check_case(spec, fn, random_case(spec, rng), context=f" (random case {i + 1} of {n})")


def _moderate(spec, rng, shape=None, dtype=np.float64, **overrides):
    """A random case with gradients and state of order one."""
    return random_case(spec, rng, shape, dtype, g_range=(0.1, 10.0), **overrides)


def part_edge(spec, fn, rng):
    """Edge values: lr = 0 leaves x unchanged, beta = 0 is plain SGD, tiny gradients
    where eps matters, float32 inputs, zero gradients, scalars, the contract defaults.
    Apart from the tiny ones, gradients and state are of order one (0.1 to 10), so that
    the edge value is what the case is about."""
    cases = []
    c = _moderate(spec, rng, shape=(4,), lr=0.0)
    c.label = "lr = 0 must leave x unchanged"
    cases.append(c)
    for b in ("beta", "beta1"):
        if b in spec.hyper(rng):
            c = _moderate(spec, rng, shape=(4,), **{b: 0.0})
            c.label = f"{b} = 0"
            cases.append(c)
    for dtype in (np.float32,):
        c = _moderate(spec, rng, shape=(3, 2), dtype=dtype)
        c.label = "float32 inputs"
        cases.append(c)
    c = _moderate(spec, rng, shape=(), g=rng.normal())
    c.label = "0-d arrays (scalars)"
    cases.append(c)
    c = _moderate(spec, rng, shape=(5,), g=np.zeros(5))
    c.label = "zero gradient"
    cases.append(c)
    if spec.nonneg or "eps" in spec.defaults:
        for scale in (1e-9, 1e-7, 1e-5):
            c = _moderate(spec, rng, shape=(6,), g=rng.normal(size=6) * scale,
                          state=[np.zeros(6) for _ in spec.state], t=1)
            c.hyper["eps"] = spec.defaults.get("eps", 1e-8)
            c.label = f"tiny gradients (~{scale:g}) where the position of eps matters"
            cases.append(c)
    if "weight_decay" in spec.defaults:
        c = _moderate(spec, rng, shape=(5,), lr=0.5, weight_decay=1.0)
        c.label = "large lr and weight decay"
        cases.append(c)
    for c in cases:
        check_case(spec, fn, c)
    if spec.defaults:
        c = _moderate(spec, rng, shape=(4,))
        c.label = "optional hyperparameters left at their defaults " + str(spec.defaults)
        if spec.scalars:   # the state a run with the default hyperparameters has
            c.scalars = spec.scalar_state({**c.hyper, **spec.defaults}, c.t)
        check_case(spec, fn, c, omit_defaults=True)


def _strata(rng, lo, hi, n):
    """n log-uniform draws from [lo, hi], one from each n-th of its logarithmic range."""
    u = (rng.permutation(n) + rng.uniform(size=n)) / n
    return np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo)))


def _trajectory_rates(spec, rng, runs):
    """Learning rates (up to 0.5) and weight decays for the runs: three rates spread over
    the whole range, one from each third of it, and two from 0.15 to 0.5, large enough to
    converge within the updates (where the gradients become small and eps matters); the
    larger the rate, the larger the decay (each also from its own share of the range)."""
    lo, hi = spec.lr_range[0], min(spec.lr_range[1], 0.5)
    lrs = np.sort(np.concatenate([_strata(rng, lo, hi, runs - 2), _strata(rng, 0.15, hi, 2)]))
    decays = np.sort(_strata(rng, *spec.decay_range, runs))
    order = rng.permutation(runs)
    return lrs[order], decays[order]


def part_trajectory(spec, fn, rng, runs=5, steps=100):
    """Multi-step runs on random separable quadratics, the outputs fed back as the next
    inputs, compared with the reference at every step. The starts are of order one
    (|x0| from 1 to 3 in every coordinate), so every run is a descent."""
    lrs, decays = _trajectory_rates(spec, rng, runs)
    for r in range(runs):
        shape = SHAPES[2 + r % 3] if spec.trajectory_shapes is None else \
            spec.trajectory_shapes[r % len(spec.trajectory_shapes)]
        curv = rng.uniform(0.1, 2.0, size=shape)
        hyper = spec.hyper(rng)
        hyper.update(lr=float(lrs[r]), **_contract_eps(spec))
        if "weight_decay" in hyper:
            hyper["weight_decay"] = float(decays[r])
        hyper.update(spec.trajectory_fixed)
        x = rng.uniform(1.0, 3.0, size=shape) * rng.choice([-1.0, 1.0], size=shape)
        n = 1 + len(spec.state)
        start = spec.scalar_state(hyper, 1) if spec.scalars else []
        mine = [x.copy()] + [np.zeros(shape) for _ in spec.state] + list(start)
        theirs = [x.copy()] + [np.zeros(shape) for _ in spec.state] + list(start)
        for t in range(1, steps + 1):
            case = Case(mine[0], curv * mine[0], mine[1:n], hyper, t if spec.takes_t else None,
                        label=f"trajectory {r + 1}, update {t} of {steps}", scalars=mine[n:])
            got = call(spec, fn, case)
            ref_case = case if spec.trajectory_own_inputs else \
                Case(theirs[0], curv * theirs[0], theirs[1:n], hyper, case.t, scalars=theirs[n:])
            exp = expected(spec, ref_case)
            compare(spec, fn, case, got, exp,
                    context=" (on f(x) = sum(c x^2) / 2, every earlier update agreed)")
            mine, theirs = got, exp


PARTS = {"basic": part_basic, "random": part_random, "edge": part_edge,
         "trajectory": part_trajectory}


def check_step(name, fn, part):
    run_part(SPECS[name], fn, part, PARTS[part])


def run_part(spec, fn, part, part_fn):
    """``part_fn(spec, fn, rng)`` on the student's ``fn``, its cases drawn for (name, part)."""
    name = spec.name
    if not fn.callable:
        raise CheckFailed(f"{name} is not a function.")
    params = fn.params   # None when the kernel could not say: the calls will tell
    if params is not None and len(params) < 2 + len(spec.state) + len(spec.scalars):
        raise CheckFailed(f"{name} takes too few arguments; keep the signature given in the TODO cell.")
    part_fn(spec, fn, seeds.rng(name, part))
