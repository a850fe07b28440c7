"""Helpers for the visible tests: readable comparisons a student can act on."""
import numpy as np


def rel_error(a, b):
    """Largest elementwise relative error, max |a - b| / max(1e-8, |a| + |b|)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return np.inf
    with np.errstate(invalid="ignore"):
        err = np.abs(a - b) / np.maximum(1e-8, np.abs(a) + np.abs(b))
    return float(np.max(err, initial=0.0)) if not np.isnan(err).any() else np.inf


def assert_close(actual, expected, what, tol=1e-7, inputs=None):
    """Raise an AssertionError that says what was expected, what came back, and for
    which inputs, when ``actual`` is not ``expected`` within relative error ``tol``."""
    actual_arr = np.asarray(actual, dtype=float)
    expected_arr = np.asarray(expected, dtype=float)
    where = f" for {inputs}" if inputs else ""
    if actual_arr.shape != expected_arr.shape:
        raise AssertionError(f"{what}{where}: expected shape {expected_arr.shape}, "
                             f"got shape {actual_arr.shape} ({actual!r}).")
    err = rel_error(actual_arr, expected_arr)
    if not err <= tol:
        raise AssertionError(f"{what}{where}: expected {np.round(expected_arr, 6).tolist()}, "
                             f"got {np.round(actual_arr, 6).tolist()} "
                             f"(relative error {err:.1e}).")


def claim(statement, holds, evidence=""):
    """Guard a sentence of the notebook's text with the experiment that supports it:
    the notebook cannot run while the statement is false."""
    if not holds:
        raise AssertionError(f"The text says: {statement}. This run shows otherwise"
                             + (f": {evidence}" if evidence else "") + ".")


def assert_number(value, name):
    """Visible check for a numeric answer: a finite number, without revealing it."""
    try:
        ok = np.isfinite(float(value))
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise AssertionError(f"{name} should be a finite number, got {value!r}.")
