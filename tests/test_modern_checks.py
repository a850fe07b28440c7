"""Notebook 07's checks discriminate: the reference gets full marks, every wrong
implementation in tests/catalogue/modern.py loses exactly its parts with a message naming
the mistake, every correct variant gets full marks, on the course's secret and on others
(a graded notebook draws its cases from a secret of its own)."""
import numpy as np
import pytest

import grader
from grader import reference as ref
from grader.checks import seeds
from tests.catalogue import modern as catalogue
from tests.test_grading_helpers import outcome

# The part names the notebook's hidden-test cells call: a contract with solutions/07_modern.
PARTS = {
    "nadam_step": ["basic", "random", "edge", "trajectory"],
    "radam_step": ["basic", "switch", "random", "trajectory"],
    "lion_step": ["basic", "random", "edge", "trajectory"],
    "muon_step": ["basic", "shapes", "random", "trajectory"],
    "newton_schulz": ["basic", "shapes", "random"],
}
OTHER_SECRETS = [b"another class 0", b"another class 7"]


def test_parts_are_the_ones_the_notebook_calls():
    assert {name: grader.parts(name) for name in PARTS} == PARTS


def test_every_function_has_a_catalogue():
    assert set(catalogue.WRONG) == set(catalogue.RIGHT) == set(PARTS)


@pytest.mark.parametrize("name", list(PARTS))
def test_reference_gets_full_marks(name):
    assert outcome(name, getattr(ref, name)) == {p: None for p in PARTS[name]}


def _loses_its_parts(name, label, fn, failing, phrase):
    """None when ``fn`` loses exactly ``failing`` and every lost part names the mistake."""
    result = outcome(name, fn)
    lost = {p for p, msg in result.items() if msg}
    if lost != failing:
        return f"{name} ({label}): lost {sorted(lost)}, expected {sorted(failing)}: {result}"
    unnamed = {p: m for p, m in result.items() if m and phrase not in m}
    if unnamed:
        return f"{name} ({label}): parts whose message does not say {phrase!r}: {unnamed}"
    too_long = [m for m in result.values() if m and (name not in m or len(m) >= 900)]
    return f"{name} ({label}): unreadable messages {too_long}" if too_long else None


@pytest.mark.parametrize("name, label, fn, failing, phrase", [
    pytest.param(name, label, fn, failing, phrase, id=f"{name}: {label}")
    for name, rows in catalogue.WRONG.items() for label, fn, failing, phrase in rows])
def test_wrong_implementation_loses_the_right_points(name, label, fn, failing, phrase):
    problem = _loses_its_parts(name, label, fn, failing, phrase)
    assert problem is None, problem


@pytest.mark.parametrize("name, fn", [pytest.param(name, fn, id=f"{name}: {fn.__name__}")
                                      for name, fns in catalogue.RIGHT.items() for fn in fns])
def test_correct_variant_gets_full_marks(name, fn):
    assert outcome(name, fn) == {p: None for p in PARTS[name]}


@pytest.mark.parametrize("secret", OTHER_SECRETS)
def test_catalogue_holds_under_other_secrets(secret):
    seeds.use(secret)
    try:
        problems = [_loses_its_parts(name, label, fn, failing, phrase)
                    for name, rows in catalogue.WRONG.items() for label, fn, failing, phrase in rows]
        problems += [f"{name} ({fn.__name__}) is correct but lost {r}"
                     for name, fns in catalogue.RIGHT.items() for fn in fns
                     if any((r := outcome(name, fn)).values())]
        problems += [f"the reference lost {name}" for name in PARTS if any(outcome(name, getattr(ref, name)).values())]
    finally:
        seeds.use(seeds.DEFAULT)
    problems = [p for p in problems if p]
    assert not problems, "\n".join(problems)


def test_nadam_messages_show_the_mu_product():
    msg = outcome("nadam_step", catalogue.nadam_beta1_power)["basic"]
    assert "mu_product=" in msg and "t=" in msg and "expected" in msg and "got" in msg, msg


def test_mu_product_must_come_back_as_one_number():
    def array_product(x, g, m, v, mu_product, t, **hyper):
        x_new, m_new, v_new, p = ref.nadam_step(x, g, m, v, mu_product, t, **hyper)
        return x_new, m_new, v_new, np.full(np.shape(x), p)
    assert "it should be one number" in outcome("nadam_step", array_product)["basic"]


def test_newton_schulz_rejects_inputs_changed_in_place():
    def in_place(G, steps=5, eps=1e-7):
        G /= max(np.linalg.norm(G), eps)
        return ref.newton_schulz(G, steps, eps)
    msg = outcome("newton_schulz", in_place)["basic"]
    assert "changed its input G in place" in msg, msg


def test_muon_reports_the_student_error_with_the_shape():
    def only_square(x, g, buf, **hyper):
        if x.shape[0] != x.shape[1]:
            raise ValueError("expected a square matrix")
        return ref.muon_step(x, g, buf, **hyper)
    msg = outcome("muon_step", only_square)["shapes"]
    assert "raised ValueError: expected a square matrix" in msg and "shape (1, 5)" in msg, msg
