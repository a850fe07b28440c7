"""descentlab: the student toolkit of the course.

Landscapes with exact gradients, a runner that applies any step function of the
course, and small helpers for the visible tests. It never imports ``grader``.
"""
from descentlab.checks import assert_close, assert_number, claim, rel_error
from descentlab.claims import robust_claim
from descentlab.landscapes import (
    DoubleWell,
    Himmelblau,
    Landscape,
    Quadratic,
    Rosenbrock,
    Saddle,
    double_well,
    himmelblau,
    quadratic,
    ravine,
    rosenbrock,
    saddle,
)
from descentlab.runner import Trajectory, run, step_per_lr

__all__ = [
    "Landscape", "Quadratic", "Rosenbrock", "DoubleWell", "Saddle", "Himmelblau",
    "quadratic", "ravine", "rosenbrock", "double_well", "saddle", "himmelblau",
    "Trajectory", "run", "assert_close", "assert_number", "claim", "rel_error",
    "robust_claim", "step_per_lr",
]
