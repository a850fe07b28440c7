"""07_modern: nadam_step, radam_step, lion_step, muon_step and newton_schulz.

The four step functions are StepSpecs (grader/checks/steps.py, MODERN_SPECS) and reuse
its machinery (calls on copies, inputs left alone, messages, known mistakes); they are
dispatched from here so that each has parts of its own: RAdam's switch between its two
steps, Muon's shapes (2-D parameters only). newton_schulz is not a step and has its own
check below, built the same way.

Why "the transpose forgotten for tall matrices" is not graded: iterating on the large
Gram matrix X^T X instead of X X^T applies the same odd polynomial to the same singular
values, so its result equals torch's up to rounding (measured 6.5e-15 relative); it
costs time and memory on a tall matrix, which values cannot show. The catalogue keeps it
among the correct variants (tests/catalogue/modern.py). Likewise RAdam's switch written
``rho_t >= 5``: it differs from ``rho_t > 5`` only where rho_t is exactly 5.0, which no
case reaches. The off-by-one slips that values show are graded: ``rho_t > 4`` (in
"switch" and "trajectory", the parts that reach t = 5), t + 1 or t - 1 in rho_t (every part).
"""
import math

import numpy as np

from grader import reference as ref
from grader.checks import seeds
from grader.checks import steps as S
from grader.checks.mistakes import STEP_MISTAKES
from grader.checks.tolerance import TOLERANCES, rel_error, worst_index

SPECS = S.MODERN_SPECS
CheckFailed = S.CheckFailed


def _two(rng, lo, hi):
    return round(float(rng.uniform(lo, hi)), 2)


# ================================================================== NAdam

def nadam_basic(spec, fn, rng):
    """The common small cases, then one with a fast momentum schedule (momentum_decay =
    0.2), where mu_t and mu_{t+1} differ enough to show which one weighs m_new."""
    S.part_basic(spec, fn, rng)
    hyper = dict(lr=_two(rng, 0.1, 0.5), beta1=0.9, beta2=0.999, eps=1e-8, momentum_decay=0.2)
    state = [np.round(np.abs(rng.normal(size=3)) + 0.1, 2) for _ in spec.state]
    case = S.Case(S._signed(rng, 0.5, 2.0, 3), S._signed(rng, 0.2, 0.95, 3), state, hyper, 2,
                  label="momentum_decay = 0.2: mu_t changes quickly", scalars=spec.scalar_state(hyper, 2))
    S.check_case(spec, fn, case)


def nadam_edge(spec, fn, rng):
    """momentum_decay = 0.5 on the first updates, where the schedule's mu_t, mu_{t+1} and
    their running product each decide the step; then the common edge cases. (First, so
    that a slip there is named: the defaults case, last, cannot name one.)"""
    for t in (1, 2, 3):
        c = S._moderate(spec, rng, shape=(4,), t=t, momentum_decay=0.5, lr=0.3)
        c.label = f"momentum_decay = 0.5, update {t}"
        S.check_case(spec, fn, c)
    S.part_edge(spec, fn, rng)


# ================================================================== RAdam

def _rho(t, beta2):
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)


def radam_switch(spec, fn, rng):
    """Both sides of the switch between the unadapted step (rho_t <= 5) and the rectified
    one: every t from 1 to 8 with beta2 = 0.999, t = 5 and 6 with beta2 from 0.9 to
    0.99999, beta2 = 0.75 (the switch comes at t = 8), beta2 = 0.5 (rho_inf = 3: never
    adapted), float32 inputs on either side, and the defaults. No rho_t used is within
    4e-5 of 5 (beta2 = 0.99999, t = 5), far above its rounding (1e-11): no rounding
    decides the branch."""
    cases = []

    def add(t, label, **kw):
        c = S._moderate(spec, rng, shape=(4,), t=t, **kw)
        c.label = f"{label}; rho_t = {_rho(t, c.hyper['beta2']):.4f}, adapted step once rho_t > 5"
        cases.append(c)

    for t in range(1, 9):
        add(t, f"beta2 = 0.999, update {t}", beta2=0.999)
    for t in (5, 6, 5, 6):
        add(t, "beta2 near 1", beta2=float(rng.uniform(0.9, 0.99999)))
    for t in (6, 7, 8, 9, 50):
        add(t, "beta2 = 0.75", beta2=0.75)
    for t in (3, 100):
        add(t, "beta2 = 0.5", beta2=0.5)
    for t in (5, 6):
        c = S._moderate(spec, rng, shape=(3, 2), dtype=np.float32, t=t, beta2=0.999)
        c.label = f"float32 inputs, update {t}, beta2 = 0.999"
        cases.append(c)
    for c in cases:
        S.check_case(spec, fn, c)
    for t in (4, 20):
        c = S._moderate(spec, rng, shape=(4,), t=t)
        c.label = f"update {t}, optional hyperparameters left at their defaults {spec.defaults}"
        S.check_case(spec, fn, c, omit_defaults=True)


# ================================================================== Lion

def lion_basic(spec, fn, rng):
    """Small readable cases with the contract's betas (0.9, 0.99): two first steps from
    zero momentum, then two from non-zero momentum in which one coordinate's gradient
    opposes its momentum just enough that the order of the two updates decides the sign
    (g / m between -9 and -8.17: sign(0.9 m + 0.1 g) and sign(0.9 m_new + 0.1 g) differ),
    and another's opposes it weakly (g / m from -0.7 to -0.3), where the weights of the
    interpolation decide it."""
    for k in range(4):
        hyper = dict(lr=_two(rng, 0.05, 0.3), beta1=0.9, beta2=0.99, weight_decay=_two(rng, 0.01, 0.1))
        x = S._signed(rng, 0.5, 2.0, 3)
        g = S._signed(rng, 0.2, 0.95, 3)
        case = S.Case(x, g, [np.zeros(3)], hyper)
        case.label = "first step, momentum starts at zero"
        if k >= 2:
            m = S._signed(rng, 0.2, 0.95, 3)
            m[0] = round(float(rng.uniform(0.1, 0.2)), 2) * np.sign(m[0])
            g[0] = -np.sign(m[0]) * round(abs(m[0]) * float(rng.uniform(8.4, 8.8)), 2)
            m[1] = round(float(rng.uniform(0.5, 0.95)), 2) * np.sign(m[1])
            g[1] = -np.sign(m[1]) * round(abs(m[1]) * float(rng.uniform(0.3, 0.7)), 2)
            case = S.Case(x, g, [m], hyper)
            case.label = "momentum from earlier steps"
        S.check_case(spec, fn, case)


def lion_edge(spec, fn, rng):
    """Gradients that overturn the momentum's sign, where the old m decides; then the
    common edge cases (lr = 0, beta1 = 0 is signSGD, float32, scalars, zero gradient,
    large decay, defaults); then Lion's own: where beta1 m + (1 - beta1) g is exactly 0
    the sign is 0 and x only decays; no decay at all."""
    m = S._signed(rng, 0.2, 0.95, 4)
    g = -m * np.concatenate([rng.uniform(8.4, 8.8, size=2), rng.uniform(0.3, 0.7, size=2)])
    c = S._moderate(spec, rng, shape=(4,), g=g, state=[m], beta1=0.9, beta2=0.99)
    c.label = ("gradients against the momentum, g / m from -8.8 to -8.4 and from -0.7 to -0.3: the sign "
               "of 0.9 m + 0.1 g is the momentum's, and only the old m gives it")
    S.check_case(spec, fn, c)
    S.part_edge(spec, fn, rng)
    c = S._moderate(spec, rng, shape=(5,), g=np.zeros(5), state=[np.zeros(5)], lr=0.1, weight_decay=0.5)
    c.label = "zero gradient and zero momentum: sign(0) = 0, so x only decays"
    S.check_case(spec, fn, c)
    g, m = rng.normal(size=6), rng.normal(size=6)
    g[::2], m[::2] = 0.0, 0.0
    c = S._moderate(spec, rng, shape=(6,), g=g, state=[m], lr=0.1, weight_decay=0.0)
    c.label = "g and m zero in every other coordinate, no decay: those coordinates stay where they are"
    S.check_case(spec, fn, c)
    c = S._moderate(spec, rng, shape=(4,), weight_decay=0.0)
    c.label = "weight_decay = 0"
    S.check_case(spec, fn, c)


# ================================================================== Muon

def _muon_case(spec, rng, shape, label, *, buf=True, **overrides):
    hyper = dict(lr=_two(rng, 0.05, 0.5), weight_decay=_two(rng, 0.05, 0.5), momentum=_two(rng, 0.8, 0.95),
                 nesterov=True, ns_steps=5, eps=1e-7)
    hyper.update({k: v for k, v in overrides.items() if k in hyper})
    x = S._signed(rng, 0.5, 2.0, shape)
    g = overrides.get("g", S._signed(rng, 0.2, 0.95, shape))
    state = [S._signed(rng, 0.1, 0.95, shape) if buf else np.zeros(shape)]
    dtype = overrides.get("dtype", np.float64)
    return S.Case(x.astype(dtype), np.asarray(g, dtype=dtype), [state[0].astype(dtype)], hyper, label=label)


def muon_basic(spec, fn, rng):
    """Small matrices with two-decimal numbers: a wide and a tall first step (buffer at
    zero), then a square, a tall and a wide step from a non-zero buffer, all with
    Nesterov momentum, five Newton-Schulz steps, and a visible lr and decay."""
    for shape, buf in (((2, 3), False), ((3, 2), False), ((3, 3), True), ((3, 2), True), ((2, 3), True)):
        label = "momentum buffer from earlier steps" if buf else "first step, buffer starts at zero"
        S.check_case(spec, fn, _muon_case(spec, rng, shape, f"{shape[0]}x{shape[1]}, {label}", buf=buf))


def muon_shapes(spec, fn, rng):
    """A row (1 x n), a column (n x 1), square, tall and wide matrices; ns_steps from 0
    to 6; no weight decay; nesterov=False; lr = 0; float32; a gradient so small that the
    eps in the normalisation decides; a zero gradient and buffer; the defaults."""
    cases = [_muon_case(spec, rng, shape, f"{name} ({shape[0]}x{shape[1]})")
             for name, shape in (("a row", (1, 5)), ("a column", (5, 1)), ("square", (4, 4)),
                                 ("tall", (6, 3)), ("wide", (3, 6)))]
    cases += [_muon_case(spec, rng, (3, 4), f"ns_steps = {k}", ns_steps=k) for k in range(7)]
    cases.append(_muon_case(spec, rng, (4, 3), "weight_decay = 0", weight_decay=0.0))
    cases.append(_muon_case(spec, rng, (4, 3), "nesterov = False", nesterov=False))
    cases.append(_muon_case(spec, rng, (3, 4), "lr = 0 must leave x unchanged", lr=0.0))
    cases.append(_muon_case(spec, rng, (4, 3), "float32 inputs", dtype=np.float32))
    cases.append(_muon_case(spec, rng, (2, 3), "a tiny gradient: its norm is below eps = 1e-7", buf=False,
                            g=rng.normal(size=(2, 3)) * 1e-8))
    cases.append(_muon_case(spec, rng, (3, 2), "zero gradient and zero buffer: x only decays", buf=False,
                            g=np.zeros((3, 2))))
    for c in cases:
        S.check_case(spec, fn, c)
    c = _muon_case(spec, rng, (5, 3), "optional hyperparameters left at their defaults " + str(spec.defaults))
    S.check_case(spec, fn, c, omit_defaults=True)


# ================================================================== newton_schulz

NS = "newton_schulz"
NS_EPS = 1e-7


class NSCase:
    def __init__(self, G, steps=None, eps=None, label=""):
        self.G, self.steps, self.eps, self.label = np.asarray(G), steps, eps, label

    def args(self):
        return [self.G] + ([self.steps] if self.steps is not None else [])

    def kwargs(self):
        return {} if self.eps is None else {"eps": self.eps}

    def describe(self):
        rest = (f", steps={self.steps}" if self.steps is not None else "") + \
               (f", eps={self.eps:g}" if self.eps is not None else "")
        label = f" [{self.label}]" if self.label else ""
        if self.G.size <= 12:
            rows = "; ".join(" ".join(f"{float(v):.4g}" for v in row) for row in np.atleast_2d(self.G))
            return f"{NS}(G=[{rows}] ({self.G.dtype.name}){rest}){label}"
        return f"{NS}(G of shape {self.G.shape} ({self.G.dtype.name}){rest}){label}"

    def expected(self):
        return ref.newton_schulz(np.asarray(self.G, dtype=np.float64), 5 if self.steps is None else self.steps,
                                 NS_EPS if self.eps is None else self.eps)


def _ns_call(fn, case):
    G = case.G.copy()
    try:
        out = fn(G, *case.args()[1:], **case.kwargs())
    except NotImplementedError:
        raise CheckFailed(f"{NS} is not implemented yet (it raises NotImplementedError).") from None
    except Exception as e:  # the student's error, reported with the inputs that caused it
        raise CheckFailed(f"{case.describe()} raised {type(e).__name__}: {e}") from None
    if not np.array_equal(G, case.G, equal_nan=True):
        raise CheckFailed(f"{case.describe()} changed its input G in place (for example G /= ...); "
                          f"return a new array and leave G unchanged.")
    if out is None:
        raise CheckFailed(f"{case.describe()} returned None: did you forget the return?")
    try:
        X = np.asarray(out, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise CheckFailed(f"{case.describe()}: the result is not an array of numbers ({e}).") from None
    if X.shape != case.G.shape:
        hint = (" A tall G is transposed for the iteration and the result transposed back."
                if X.shape == case.G.shape[::-1] else "")
        raise CheckFailed(f"{case.describe()} returned shape {X.shape}, expected {case.G.shape}, "
                          f"the shape of G.{hint}")
    return X


def _ns_mismatch(wrong, case, got, floor):
    try:
        with np.errstate(all="ignore"):
            out = wrong(np.asarray(case.G, dtype=np.float64), 5 if case.steps is None else case.steps,
                        NS_EPS if case.eps is None else case.eps)
        return S.gap(got, out, floor)
    except Exception:
        return np.inf


def _ns_diagnose(fn, case, got, floor, tol):
    """The known mistake that reproduces ``got`` here and on two more random cases."""
    rng = seeds.rng(NS, "diagnose")
    extra = []
    for shape in ((3, 4), (4, 2)):
        c = NSCase(rng.normal(size=shape) * _loguniform(rng, 1e-2, 10.0), int(rng.integers(1, 6)))
        try:
            extra.append((c, _ns_call(fn, c)))
        except AssertionError:
            pass
    f64_floor, f64_tol = TOLERANCES[np.dtype(np.float64)]
    best, best_gap = None, np.inf
    for label, wrong in STEP_MISTAKES[NS].items():
        gap = _ns_mismatch(wrong, case, got, floor)
        if not gap <= tol:
            continue
        gaps = [_ns_mismatch(wrong, c, g, f64_floor) for c, g in extra]
        if all(x <= f64_tol for x in gaps) and max([gap, *gaps]) < best_gap:
            best, best_gap = label, max([gap, *gaps])
    return best


def _ns_tolerance(case, exp):
    """Errors count relative to the largest entry of X (whose singular values are near 1),
    not entry by entry: float32 work leaves an error of ~1e-6 on every entry, which
    is large beside the smallest ones."""
    floor, tol = TOLERANCES[np.dtype(case.G.dtype)]
    return max(floor, float(np.max(np.abs(exp), initial=0.0))), tol


def _ns_check(fn, case):
    got = _ns_call(fn, case)
    exp = case.expected()
    floor, tol = _ns_tolerance(case, exp)
    err = rel_error(got, exp, floor)
    if err <= tol:
        return
    idx = worst_index(got, exp, floor)
    at = f" at index {tuple(int(i) for i in idx)}" if idx else ""
    msg = (f"{case.describe()}: X is wrong{at}: expected {exp[idx]:.6g}, got {got[idx]:.6g} "
           f"(relative error {err:.1e}, tolerance {tol:.0e}).")
    cause = _ns_diagnose(fn, case, got, floor, tol)
    if cause:
        msg += f" This matches a known mistake: {cause}."
    raise CheckFailed(msg)


def _loguniform(rng, lo, hi):
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def ns_basic(rng):
    """Small wide and square matrices with two-decimal entries from 0.5 to 3 in size, one
    to five steps: every number is shown in a message."""
    for k, shape in enumerate(((2, 3), (3, 3), (2, 2), (3, 4), (2, 3))):
        yield NSCase(S._signed(rng, 0.5, 3.0, shape), k + 1)


def ns_shapes(rng):
    """Tall matrices (transposed for the iteration, transposed back), a row, a column, a
    1 x 1, steps = 0 (the normalised G), a G so small that eps is the divisor, a zero G,
    another eps, float32, and the defaults."""
    for shape, steps in (((4, 2), 5), ((5, 3), 3), ((6, 1), 5), ((1, 6), 5), ((1, 1), 4), ((3, 5), 0), ((5, 2), 0)):
        yield NSCase(rng.normal(size=shape), steps, label=f"{shape[0]}x{shape[1]}, steps = {steps}")
    yield NSCase(rng.normal(size=(3, 4)) * 1e-10, 5, label="||G|| below eps = 1e-7: X = G / eps")
    yield NSCase(rng.normal(size=(4, 3)) * 2e-8, 3, label="tall, ||G|| below eps = 1e-7")
    yield NSCase(np.zeros((3, 2)), 5, label="a zero G stays zero")
    yield NSCase(rng.normal(size=(2, 4)) * 1e-4, 5, eps=1e-3, label="eps = 1e-3, above ||G||")
    yield NSCase(rng.normal(size=(4, 3)).astype(np.float32), 5, label="float32")
    yield NSCase(rng.normal(size=(3, 5)).astype(np.float32), 5, label="float32")
    yield NSCase(rng.normal(size=(4, 6)), label="steps and eps left at their defaults (5, 1e-7)")


def ns_random(rng, n=100):
    """Random shapes from 1 x 1 to 8 x 8, scales from 1e-3 to 1e3, 0 to 7 steps."""
    for i in range(n):
        shape = (int(rng.integers(1, 9)), int(rng.integers(1, 9)))
        G = rng.normal(size=shape) * _loguniform(rng, 1e-3, 1e3)
        yield NSCase(G, int(rng.integers(0, 8)), label=f"random case {i + 1} of {n}")


NS_PARTS = {"basic": ns_basic, "shapes": ns_shapes, "random": ns_random}


def check_newton_schulz(fn, part):
    if not fn.callable:
        raise CheckFailed(f"{NS} is not a function.")
    for case in NS_PARTS[part](seeds.rng(NS, part)):
        _ns_check(fn, case)


# ================================================================== the parts

STEP_PARTS = {
    "nadam_step": {"basic": nadam_basic, "random": S.part_random, "edge": nadam_edge,
                   "trajectory": S.part_trajectory},
    "radam_step": {"basic": S.part_basic, "switch": radam_switch, "random": S.part_random,
                   "trajectory": S.part_trajectory},
    "lion_step": {"basic": lion_basic, "random": S.part_random, "edge": lion_edge,
                  "trajectory": S.part_trajectory},
    "muon_step": {"basic": muon_basic, "shapes": muon_shapes, "random": S.part_random,
                  "trajectory": S.part_trajectory},
}


def _step_check(name):
    def check(fn, part):
        S.run_part(SPECS[name], fn, part, STEP_PARTS[name][part])
    check.__name__ = f"check_{name}"
    return check


CHECKS = {name: (_step_check(name), list(parts)) for name, parts in STEP_PARTS.items()}
CHECKS[NS] = (check_newton_schulz, list(NS_PARTS))
