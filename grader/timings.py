"""Where a grading's time goes, phase by phase, for benchmarks/autograde_speed.py --split.

With ``GRADER_TIMINGS`` set to a file, every grading process appends one JSON line per
submission it grades ({"student", "assignment", "phases": {phase: seconds}}), and the
command one per gradebook write. Unset (always, outside the benchmark), ``add`` only
adds to a dict that nobody reads. A kernel never sees the variable (its environment is
the sandbox's).
"""
import contextlib
import json
import os
import time

ENV = "GRADER_TIMINGS"
_phases = {}


def add(phase, seconds):
    _phases[phase] = _phases.get(phase, 0.0) + seconds


@contextlib.contextmanager
def timed(phase):
    start = time.perf_counter()
    try:
        yield
    finally:
        add(phase, time.perf_counter() - start)


def reset():
    _phases.clear()


def flush(student, assignment):
    """This submission's phases to the file (when asked for), and a fresh start."""
    path = os.environ.get(ENV)
    if path and _phases:
        with open(path, "a") as f:
            f.write(json.dumps({"student": student, "assignment": assignment, "pid": os.getpid(),
                                "phases": dict(_phases)}) + "\n")
    reset()
