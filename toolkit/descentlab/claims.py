"""Claims about what an experiment shows, checked where they are made and around it.

A sentence of a lesson that reports an experiment ("momentum arrives first", "the ball
escapes for every beta from 0.66 on") must hold at the setting the notebook shows *and*
in a neighbourhood of it: other seeds, longer runs, other starts, each hyperparameter the
sentence does not name moved by about 20%. Otherwise the words must say where it holds.

    def escapes(lr, beta, steps, x0):
        end = dl.run(momentum_step, well, [x0], steps, lr=lr, beta=beta).final[0]
        return end < well.barrier[0], f"ends at {end:.3f}"

    dl.robust_claim("with beta = 0.9 the ball escapes the shallow well", escapes,
                    setting=dict(lr=0.1, beta=0.9, steps=500, x0=1.8), fixed=["beta"])

In a notebook only the setting shown runs, so the lesson stays fast. With the
environment variable ``DESCENTLAB_SWEEP=1`` (``tests/test_claims.py`` sets it and runs
every solution notebook) the experiment also runs at every neighbour, one change at a
time, and the cell fails with the neighbours where the sentence is false.

The neighbourhood of a setting, unless ``vary`` gives it (name -> values to try):
  seed                -> seed + 1, seed + 2, seed + 3
  steps, epochs       -> 3 times as many (the claim must not be a snapshot of a run)
  any other float     -> 0.8 and 1.2 times the value (zero stays zero)
  x0, start (arrays)  -> 0.9 and 1.1 times the start, and the start turned by +-10 degrees
                         (2-D)
Names in ``fixed`` (those the sentence names, or that define the problem) are not moved.
Integers, strings and booleans other than these move only when ``vary`` names them.
"""
import math
import os

import numpy as np

SWEEP_ENV = "DESCENTLAB_SWEEP"
LONGER = ("steps", "epochs", "n_steps", "iters")
STARTS = ("x0", "start")
SEEDS = ("seed",)


def sweeping():
    """True when claims are checked in their neighbourhood (tests), not only as shown."""
    return os.environ.get(SWEEP_ENV, "") not in ("", "0")


def _turn(x, degrees):
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([c * x[0] - s * x[1], s * x[0] + c * x[1]])


def neighbourhood(setting, fixed=(), vary=None):
    """[(label, setting)] for each neighbour of ``setting``, one change at a time."""
    vary = dict(vary or {})
    out = []
    for name, value in setting.items():
        if name in fixed:
            continue
        if name in vary:
            alternatives = list(vary[name])
        elif name in SEEDS and isinstance(value, int):
            alternatives = [value + 1, value + 2, value + 3]
        elif name in LONGER and isinstance(value, int):
            alternatives = [3 * value]
        elif name in STARTS and np.ndim(value) >= 1:
            x = np.asarray(value, dtype=float)
            alternatives = [0.9 * x, 1.1 * x]
            if x.shape == (2,):
                alternatives += [_turn(x, 10), _turn(x, -10)]
        elif isinstance(value, float) and not isinstance(value, bool) and value != 0.0:
            alternatives = [0.8 * value, 1.2 * value]
        else:
            continue
        for alt in alternatives:
            shown = np.round(alt, 4).tolist() if np.ndim(alt) else (f"{alt:.4g}" if isinstance(alt, float) else alt)
            out.append((f"{name}={shown}", {**setting, name: alt}))
    for name in vary:
        if name not in setting:
            raise KeyError(f"vary names {name!r}, which is not in the setting {sorted(setting)}")
    return out


def _verdict(result):
    holds, evidence = result if isinstance(result, tuple) else (result, "")
    return bool(holds), str(evidence)


def robust_claim(statement, experiment, setting, fixed=(), vary=None):
    """Guard ``statement`` with ``experiment(**setting)`` (a bool, or (bool, evidence)),
    and, when sweeping, with the experiment at every neighbour of the setting.

    Returns what the experiment returned at the setting shown."""
    for name in fixed:
        if name not in setting:
            raise KeyError(f"fixed names {name!r}, which is not in the setting {sorted(setting)}")
    result = experiment(**setting)
    holds, evidence = _verdict(result)
    if not holds:
        raise AssertionError(f"The text says: {statement}. This run shows otherwise"
                             + (f": {evidence}" if evidence else "") + ".")
    if sweeping():
        failed = []
        for label, neighbour in neighbourhood(setting, fixed, vary):
            ok, why = _verdict(experiment(**neighbour))
            if not ok:
                failed.append(f"{label}" + (f" ({why})" if why else ""))
        if failed:
            raise AssertionError(f"The text says: {statement}. It holds at the setting shown but not at "
                                 f"{len(failed)} neighbour(s): {'; '.join(failed)}. Narrow the words to where "
                                 f"it holds, or change the experiment.")
    return result
