"""Per-assignment submissions for the autograde tests: which answer cells get which
code, and which graded cells each submission must lose (with a phrase the feedback
must contain)."""
import inspect
import re


def as_cell(fn, name):
    """Source of a catalogue function, renamed to the graded name."""
    src = inspect.getsource(fn)
    return re.sub(r"^def \w+\(", f"def {name}(", src, count=1, flags=re.M)
