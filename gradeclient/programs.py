"""Kernel-side programs the grader can ask for by name, for answers that are not
plain functions of arrays (a torch optimizer class): "build this model with these
weights, train it with your optimizer on these data for N steps, report the
parameters after every step". The grader sends every number the program uses (weights,
data, hyperparameters) and compares the report with its own reference run; a program
only runs the student's code and reports what happened, errors included, as plain data.
"""
from gradeclient import wire

PROGRAMS = {}


def program(fn):
    PROGRAMS[fn.__name__] = fn
    return fn


def run(name, obj, spec):
    """The reply to a "run" request: {"op": "result", "value": <encoded report>}."""
    fn = PROGRAMS.get(name)
    if fn is None:
        report = {"error": f"no program {name!r}"}
    else:
        try:
            report = fn(obj, spec)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (reported to the grader as data)
            report = {"error": f"{type(e).__name__}: {str(e)[:500]}"}
    return {"op": "result", "value": wire.encode(report)}
