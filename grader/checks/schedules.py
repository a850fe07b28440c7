"""Checks for the learning-rate schedules: every step from 0 to past the end, against
the reference, reporting the first step where the student's schedule goes wrong."""

import numpy as np

from grader import reference as ref
from grader.checks import seeds
from grader.checks.mistakes import SCHEDULE_MISTAKES
from grader.checks.tolerance import SCHEDULE_TOL


class CheckFailed(AssertionError):
    pass


def _params(name, rng):
    lr0 = float(np.exp(rng.uniform(np.log(1e-4), np.log(2.0))))
    if name == "step_decay":
        return dict(lr0=lr0, step_size=int(rng.integers(1, 40)), gamma=float(rng.uniform(0.05, 0.99)))
    if name == "exponential_decay":
        return dict(lr0=lr0, gamma=float(rng.uniform(0.8, 0.9999)))
    lr_min = float(lr0 * rng.uniform(0, 0.2)) if rng.random() < 0.7 else 0.0
    if name == "cosine_annealing":
        return dict(lr0=lr0, T_max=int(rng.integers(1, 300)), lr_min=lr_min)
    warm = int(rng.integers(1, 50))
    return dict(lr0=lr0, warmup_steps=warm, total_steps=warm + int(rng.integers(1, 300)), lr_min=lr_min)


def _phase_steps(name, p):
    """Steps where a phase changes, with their neighbours: where off-by-one bugs live."""
    if name == "step_decay":
        edges = [k * p["step_size"] for k in range(4)]
    elif name == "exponential_decay":
        edges = [0, 1]
    elif name == "cosine_annealing":
        edges = [0, p["T_max"] // 2, p["T_max"]]
    else:
        edges = [0, p["warmup_steps"], p["total_steps"]]
    return sorted({s for e in edges for s in (e - 1, e, e + 1) if s >= 0})


def _horizon(name, p):
    if name == "step_decay":
        return 5 * p["step_size"] + 20
    if name == "exponential_decay":
        return 220
    return (p["T_max"] if name == "cosine_annealing" else p["total_steps"]) + 20


def _describe(name, p):
    return f"{name}(step, " + ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                                        for k, v in p.items()) + ")"


def _diagnose(name, steps, p, got):
    for label, wrong in SCHEDULE_MISTAKES.get(name, {}).items():
        try:
            vals = [wrong(s, **p) for s in steps]
        except Exception:
            continue
        if all(abs(v - g) <= SCHEDULE_TOL * max(1e-12, abs(v) + abs(g)) for v, g in zip(vals, got, strict=True)):
            return label
    return None


def _pair(expected, got):
    """Both numbers with just enough digits to tell them apart (6 to 12 significant)."""
    for digits in range(6, 13):
        a, b = f"{expected:.{digits}g}", f"{got:.{digits}g}"
        if a != b:
            return a, b
    return a, b


def _right_before(steps, s):
    """Which of the checked steps before ``s`` were right, without claiming unchecked ones."""
    right = [t for t in steps if t < s]
    if not right:
        return ""
    if len(right) == 1:
        return f" Step {right[0]} was right."
    if len(right) == 2:
        return f" Steps {right[0]} and {right[1]} were right."
    if right == list(range(right[0], right[-1] + 1)):
        return f" Steps {right[0]} to {right[-1]} were right."
    shown = ", ".join(map(str, right)) if len(right) <= 8 else \
        ", ".join(map(str, right[:3])) + ", ..., " + ", ".join(map(str, right[-3:]))
    return f" The checked steps before it ({shown}) were right."


def _values(name, fn, p, steps):
    """The student's schedule at every step of ``steps`` (one request for all of them),
    as floats; fail at the first step that raises or returns something else."""
    report = fn.run("calls", {"each": np.asarray(steps, dtype=np.int64), "kwargs": p})
    results = report.get("results") if isinstance(report, dict) else None
    if isinstance(report, dict) and isinstance(report.get("numbers"), np.ndarray):
        results = [float(v) for v in report["numbers"].ravel()]
    if not isinstance(results, list):
        why = report.get("error") if isinstance(report, dict) else None
        raise CheckFailed(f"{_describe(name, p)} could not be called"
                          + (f" ({why[:300]})." if isinstance(why, str) else "."))
    error = report.get("error") if isinstance(report.get("error"), dict) else {}
    got = []
    for i, s in enumerate(steps):
        if i >= len(results):
            if error.get("index") == i and error.get("not_implemented"):
                raise CheckFailed(f"{name} is not implemented yet (it raises NotImplementedError).")
            if error.get("index") == i:
                raise CheckFailed(f"{_describe(name, p)} raised {str(error.get('type'))[:80]}: "
                                  f"{str(error.get('message'))[:1000]} at step {s}.")
            raise CheckFailed(f"{_describe(name, p)} returned nothing at step {s}.")
        value = results[i]
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise CheckFailed(f"{_describe(name, p)} returned {_shown(value)} at step {s}; "
                              f"it should return one number (a float).") from None
        got.append(value)
    return got


def _shown(value):
    text = repr(value)
    return text if len(text) <= 200 else text[:200] + "..."


def check_steps(name, fn, p, steps, what=""):
    reference = getattr(ref, name)
    got = _values(name, fn, p, steps)
    for s, g in zip(steps, got, strict=True):
        e = reference(s, **p)
        if not (abs(g - e) <= SCHEDULE_TOL * max(1e-12, abs(g) + abs(e))):
            want, have = _pair(e, g)
            msg = (f"{_describe(name, p)}{what} first goes wrong at step {s}: expected {want}, "
                   f"got {have}.{_right_before(steps, s)}")
            cause = _diagnose(name, steps, p, got)
            if cause:
                msg += f" This matches a known mistake: {cause}."
            raise CheckFailed(msg)


def _examples(name, rng):
    """Worked examples like the notebook's: round numbers, short horizons. The second
    cosine example has a small T_max and lr_min > 0; the second warmup one a single
    warmup step."""
    def lr(lo, hi):
        return round(float(rng.uniform(lo, hi)), 2)

    if name == "step_decay":
        return [dict(lr0=lr(0.05, 1.0), step_size=int(rng.integers(8, 13)), gamma=lr(0.3, 0.8))]
    if name == "exponential_decay":
        return [dict(lr0=lr(0.05, 1.0), gamma=lr(0.8, 0.95))]
    if name == "cosine_annealing":
        return [dict(lr0=lr(0.05, 0.5), T_max=int(rng.integers(8, 13)), lr_min=0.0),
                dict(lr0=lr(0.5, 2.0), T_max=int(rng.integers(3, 6)), lr_min=lr(0.05, 0.3))]
    warm = int(rng.integers(3, 8))
    return [dict(lr0=lr(0.05, 0.5), warmup_steps=warm, total_steps=warm + int(rng.integers(10, 20)), lr_min=0.0),
            dict(lr0=lr(0.5, 2.0), warmup_steps=1, total_steps=int(rng.integers(3, 6)), lr_min=lr(0.05, 0.3))]


def part_basic(name, fn, rng):
    """Worked examples like the notebook's: short horizons, every step."""
    for p in _examples(name, rng):
        check_steps(name, fn, p, list(range(_horizon(name, p) if name != "exponential_decay" else 30)))


def part_boundaries(name, fn, rng, n=50):
    """Step 0, the steps where a phase changes and their neighbours, steps past the end."""
    for _ in range(n):
        p = _params(name, rng)
        far = _horizon(name, p) + int(rng.integers(0, 1000))
        check_steps(name, fn, p, sorted(set(_phase_steps(name, p)) | {far}),
                    what=" (phase boundaries)")


def part_random(name, fn, rng, n=200):
    """Random hyperparameters, every step from 0 to past the end."""
    for _ in range(n):
        p = _params(name, rng)
        check_steps(name, fn, p, list(range(_horizon(name, p))))


def part_defaults(name, fn, rng):
    """lr_min left out means 0."""
    p = _params(name, rng)
    p.pop("lr_min", None)
    check_steps(name, fn, p, list(range(_horizon(name, p))), what=" (lr_min left at its default)")


PARTS = {"basic": part_basic, "boundaries": part_boundaries, "random": part_random,
         "defaults": part_defaults}


def check_schedule(name, fn, part):
    if not fn.callable:
        raise CheckFailed(f"{name} is not a function.")
    PARTS[part](name, fn, seeds.rng(name, part))
