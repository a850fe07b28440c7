"""The grading checks discriminate: every realistic wrong implementation in the
catalogue loses the points of the right parts with a message naming the problem;
every correct implementation, however written, gets full marks."""
import pytest

import grader
import grader.checks
import grader.checks.extras
from grader import reference as ref
from tests.catalogue import batch as batch_catalogue
from tests.catalogue import optimizers as optimizer_catalogue
from tests.catalogue import schedules as schedule_catalogue
from tests.catalogue import steps as step_catalogue

CATALOGUES = [step_catalogue, schedule_catalogue, batch_catalogue, optimizer_catalogue]

ALL = (grader.checks.STEP_FUNCTIONS + grader.checks.SCHEDULES + grader.checks.BATCH_FUNCTIONS
       + grader.checks.OPTIMIZERS)


def outcome(name, fn):
    """part -> None when the part passes, else the failure message."""
    result = {}
    for part in grader.parts(name):
        try:
            grader.check(name, fn, part)
            result[part] = None
        except AssertionError as e:
            result[part] = str(e)
    return result


@pytest.mark.parametrize("name", ALL)
def test_reference_gets_full_marks(name):
    assert outcome(name, getattr(ref, name)) == {p: None for p in grader.parts(name)}


def _wrong_cases(catalogue):
    return [pytest.param(name, fn, parts, phrase, id=f"{name}: {label}")
            for name, rows in catalogue.WRONG.items() for label, fn, parts, phrase in rows]


def _right_cases(catalogue):
    return [pytest.param(name, fn, id=f"{name}: {getattr(fn, '__name__', 'lambda')}")
            for name, fns in catalogue.RIGHT.items() for fn in fns]


def assert_loses_right_points(name, fn, failing, phrase):
    result = outcome(name, fn)
    lost = {p for p, msg in result.items() if msg}
    assert lost == failing, f"{name}: expected to lose {sorted(failing)}, lost {sorted(lost)}: {result}"
    messages = [m for m in result.values() if m]
    assert any(phrase in m for m in messages), f"no message names the problem ({phrase!r}): {messages}"
    for m in messages:  # readable: names the function and says what came back
        assert name in m and len(m) < 900, m


@pytest.mark.parametrize("name, fn, failing, phrase", [c for cat in CATALOGUES for c in _wrong_cases(cat)])
def test_wrong_implementation_loses_the_right_points(name, fn, failing, phrase):
    assert_loses_right_points(name, fn, failing, phrase)


@pytest.mark.parametrize("name, fn", [c for cat in CATALOGUES for c in _right_cases(cat)])
def test_correct_variant_gets_full_marks(name, fn):
    assert outcome(name, fn) == {p: None for p in grader.parts(name)}


def test_float32_arithmetic_gets_full_marks():
    """A student who keeps every value in the inputs' dtype (hyperparameters cast too)
    passes: float32 inputs are compared at float32 tolerance."""
    def momentum_f32(x, g, v, lr, beta):
        lr, beta = x.dtype.type(lr), x.dtype.type(beta)
        v_new = (beta * v + g).astype(x.dtype)
        return (x - lr * v_new).astype(x.dtype), v_new
    assert outcome("momentum_step", momentum_f32) == {p: None for p in grader.parts("momentum_step")}


def test_messages_show_inputs_expected_and_got():
    msg = outcome("sgd_step", step_catalogue.sgd_plus)["basic"]
    assert "sgd_step(x=" in msg and "expected" in msg and "got" in msg and "lr=" in msg


def test_exception_in_student_code_is_reported_with_inputs():
    def broken(x, g, v, lr, beta):
        raise ValueError("shapes do not match")
    msg = outcome("momentum_step", broken)["basic"]
    assert "raised ValueError: shapes do not match" in msg and "momentum_step(" in msg


def test_not_a_function():
    assert "is not a function" in outcome("sgd_step", None)["basic"]


def test_every_graded_function_has_a_catalogue():
    """No graded function goes without wrong and right implementations to test against."""
    wrong = {n for cat in CATALOGUES for n in cat.WRONG}
    right = {n for cat in CATALOGUES for n in cat.RIGHT}
    assert wrong == right == set(ALL)


@pytest.mark.parametrize("bug", ["eps inside the sqrt", "no bias correction", "t off by one"])
def test_deliberately_wrong_reference_is_flagged(bug):
    """The acceptance case of the foundation issue: a reference with one of these bugs
    fails the checks with a message that names it."""
    fn = {row[0]: row[1] for row in step_catalogue.WRONG["adam_step"]}[bug]
    messages = [m for m in outcome("adam_step", fn).values() if m]
    assert messages
    phrase = {"eps inside the sqrt": "eps is inside the square root",
              "no bias correction": "no bias correction", "t off by one": "off by one"}[bug]
    assert any(phrase in m for m in messages), messages


@pytest.mark.parametrize("name", sorted(grader.checks.extras.checks()))
def test_extra_graded_functions_accept_their_reference(name):
    entry = grader.checks.extras.checks()[name]
    reference = getattr(ref, entry[2] if len(entry) > 2 else name)
    assert outcome(name, reference) == {p: None for p in grader.parts(name)}


def test_answers_accept_the_expected_value_and_reject_others():
    for key, (value, tol, _hint) in grader.checks.extras.answers().items():
        grader.check_answer(key, value * (1 + tol / 2))
        with pytest.raises(AssertionError, match="Hint"):
            grader.check_answer(key, value * (1 + 10 * tol) + 1e-3)
        with pytest.raises(AssertionError, match="should be a number"):
            grader.check_answer(key, "forty")


@pytest.mark.parametrize("secret", [f"another class {i}".encode() for i in range(6)])
def test_step_catalogue_holds_under_other_secrets(secret):
    """Cases are drawn from a secret new for every graded notebook: under any of them each
    wrong step function loses exactly its parts, and every lost part names the mistake
    (a first-match diagnosis once named "no bias correction" for an off-by-one t on a
    case with a tiny learning rate, where both come within the tolerance)."""
    from grader.checks import seeds
    seeds.use(secret)
    try:
        for name, rows in step_catalogue.WRONG.items():
            for label, fn, failing, phrase in rows:
                result = outcome(name, fn)
                lost = {p for p, msg in result.items() if msg}
                assert lost == failing, f"{name} ({label}): lost {sorted(lost)}, expected {sorted(failing)}"
                unnamed = {p: m for p, m in result.items() if m and phrase not in m}
                assert not unnamed, f"{name} ({label}): parts whose message does not say {phrase!r}: {unnamed}"
    finally:
        seeds.use(seeds.DEFAULT)


@pytest.mark.parametrize("secret", [f"another class {i}".encode() for i in range(6)])
def test_long_runs_catch_eps_inside_the_root_under_other_secrets(secret):
    """The long runs of 02 decide where eps sits on every secret, not only on lucky ones
    (a fresh-clone run once drew a secret where AdaGrad's eps inside the root passed)."""
    from grader.checks import seeds
    seeds.use(secret)
    try:
        for name, wrong in (("adagrad_step", step_catalogue.adagrad_eps_inside),
                            ("rmsprop_step", step_catalogue.rmsprop_eps_inside)):
            with pytest.raises(AssertionError, match="eps is inside the square root"):
                grader.check(f"{name}_long_run", wrong, "long")
            grader.check(f"{name}_long_run", getattr(ref, name), "long")
    finally:
        seeds.use(seeds.DEFAULT)
