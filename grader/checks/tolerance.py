"""The one place where grading tolerances live.

Relative error is measured elementwise as |a - b| / max(floor, |a| + |b|) and the
largest one counts. Student results are compared with a reference evaluated in
float64 on the very same input values, so float32 work loses only float32 rounding.
"""
import numpy as np

# dtype of the inputs -> (floor, largest accepted relative error)
TOLERANCES = {
    np.dtype(np.float64): (1e-8, 1e-6),
    np.dtype(np.float32): (1e-4, 2e-4),
}
# Schedules return Python floats computed from a closed form: no room for drift.
SCHEDULE_TOL = 1e-9
# Reference against torch, both in float64.
REFERENCE_TOL = 1e-10


def rel_error(a, b, floor=1e-8):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b))
    err = np.where(np.isnan(a) & np.isnan(b), 0.0, err)
    err = np.where(np.isnan(err), np.inf, err)
    return float(np.max(err, initial=0.0))


def worst_index(a, b, floor=1e-8):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.nan_to_num(np.abs(a - b) / np.maximum(floor, np.abs(a) + np.abs(b)), nan=np.inf)
    return np.unravel_index(int(np.argmax(err)), a.shape) if a.shape else ()


def close(a, b, dtype=np.float64):
    floor, tol = TOLERANCES[np.dtype(dtype)]
    return rel_error(a, b, floor) <= tol
