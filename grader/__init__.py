"""The trusted side of the course: it decides grades, and no student's process ever
imports it (a graded kernel sees only ``gradeclient`` and the toolkit).

    grader/checks/     the checks hidden tests ask for, known mistakes, tolerances,
                       numeric answers, the secret seeds of the cases
    grader/reference/  reference implementations, proven against torch.optim
    grader/executor/   the executor: each kernel's sandbox, the verdict server, nbgrader's
                       Execute step, the notebook rebuilt from the instructor's source
    grader/pipeline.py, cli.py, feedback.py: release, autograde, feedback, export, check

``grader.check(name, obj, part)`` runs a check in this process on a local object (the
course's own tests use it); graded notebooks reach the same checks through
gradeclient and grader/executor/verdicts.py. The checks (and torch with them) load on
first use, so that the command line and the grading workers start quickly.
"""
__all__ = ["check", "check_answer", "parts"]


def __getattr__(name):
    if name in __all__:
        from grader import checks
        value = globals()[name] = getattr(checks, name)   # found directly from now on
        return value
    raise AttributeError(f"module 'grader' has no attribute {name!r}")
