"""The one entry point hidden tests call: ``check(name, student_object, part)``.

Each graded function's checks are split into parts worth their own points, so one
slip does not zero a whole function. A failing part raises one AssertionError whose
message is meant for the student: the inputs, what was expected, what came back, and
the likely mistake. No reference code or hidden-test source reaches the message.
"""
from grader.checks import batch as batch_checks
from grader.checks import extras
from grader.checks import optimizer as optimizer_checks
from grader.checks import schedules as schedule_checks
from grader.checks import steps as step_checks
from grader.checks.answer import as_answer
from grader.checks.extras import CheckFailed  # noqa: F401 (re-exported)

STEP_FUNCTIONS = list(step_checks.SPECS)
SCHEDULES = ["step_decay", "exponential_decay", "cosine_annealing", "warmup_cosine"]
BATCH_FUNCTIONS = list(batch_checks.PARTS)
OPTIMIZERS = ["ScratchAdam"]


def parts(name):
    """The names of the parts graded for ``name``, in the order they are worth doing."""
    if name in STEP_FUNCTIONS:
        return list(step_checks.PARTS)
    if name in SCHEDULES:
        return list(schedule_checks.PARTS) if name in ("cosine_annealing", "warmup_cosine") \
            else ["basic", "boundaries", "random"]
    if name in BATCH_FUNCTIONS:
        return list(batch_checks.PARTS[name])
    if name in OPTIMIZERS:
        return list(optimizer_checks.PARTS)
    if name in extras.checks():
        return list(extras.checks()[name][1])
    raise KeyError(f"no checks for {name!r}")


def check(name, obj, part):
    if part not in parts(name):
        raise KeyError(f"{name} has no part {part!r}; parts are {parts(name)}")
    obj = as_answer(obj)
    if name in STEP_FUNCTIONS:
        step_checks.check_step(name, obj, part)
    elif name in SCHEDULES:
        schedule_checks.check_schedule(name, obj, part)
    elif name in BATCH_FUNCTIONS:
        batch_checks.check_batch(name, obj, part)
    elif name in extras.checks():
        extras.checks()[name][0](obj, part)
    else:
        optimizer_checks.check_optimizer(name, obj, part)


def check_answer(key, value):
    """A numeric question: ``value`` against the instructor's answer for ``key``."""
    extras.check_answer(key, value)
