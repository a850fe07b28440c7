"""Instructor side of the course: reference implementations, grading checks, command line.

Hidden tests call ``grader.check(name, student_object, part)``. Students never get
this package; it imports the student toolkit, never the other way round.

The checks (and torch with them) load on first use, so that the command line
(``python -m grader``) and the grading workers start quickly.
"""
__all__ = ["check", "check_answer", "parts"]


def __getattr__(name):
    if name in __all__:
        from grader import checks
        value = globals()[name] = getattr(checks, name)   # found directly from now on
        return value
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
