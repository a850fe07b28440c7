"""Per-notebook graded extras: short numeric answers and small functions beyond the
contract's optimizers. Each module here (one per notebook, named after its topic)
defines

    ANSWERS = {key: (expected value, relative tolerance, hint shown when wrong)}
    CHECKS = {check name: (check(fn, part), [part names], reference name (optional,
              default: the check name))}

and is found automatically. Expected values stay on the instructor's side."""
import importlib
import math
import pkgutil


class CheckFailed(AssertionError):
    pass


def _modules():
    return [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]


def answers():
    out = {}
    for mod in _modules():
        out.update(getattr(mod, "ANSWERS", {}))
    return out


def checks():
    out = {}
    for mod in _modules():
        out.update(getattr(mod, "CHECKS", {}))
    return out


def check_answer(key, value):
    expected, tol, hint = answers()[key]
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise CheckFailed(f"{key}: the answer should be a number, got {value!r}.") from None
    if not math.isfinite(value) or abs(value - expected) > tol * abs(expected):
        raise CheckFailed(f"{key}: {value:g} is not right. Hint: {hint}.")
