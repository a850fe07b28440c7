"""Notebook 07's SAM checks: the reference gets full marks, every wrong implementation of
the catalogue loses exactly its parts with a message naming the mistake, every right one
gets full marks, under the course's secret and two others; the kernel's program reports
errors as data."""
import pytest
import torch

import grader
from gradeclient import sam_programs
from grader.checks import seeds
from grader.reference.sam import SAM
from tests.catalogue import modern_sam as catalogue
from tests.test_grading_helpers import assert_loses_right_points, outcome

SECRETS = [seeds.DEFAULT, b"another class 0", b"another class 1"]


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(params=SECRETS, ids=["default", "secret 0", "secret 1"])
def secret(request):
    seeds.use(request.param)
    yield request.param
    seeds.use(seeds.DEFAULT)


def test_parts():
    assert grader.parts("SAM") == ["perturb", "restore", "base", "groups"]


def test_reference_gets_full_marks(secret):
    assert outcome("SAM", SAM) == {p: None for p in grader.parts("SAM")}


@pytest.mark.parametrize("label, cls, failing, phrase", catalogue.WRONG["SAM"],
                         ids=[r[0] for r in catalogue.WRONG["SAM"]])
def test_wrong_implementation_loses_its_parts(secret, label, cls, failing, phrase):
    assert_loses_right_points("SAM", cls, failing, phrase)


@pytest.mark.parametrize("cls", catalogue.RIGHT["SAM"], ids=lambda c: c.__name__)
def test_right_implementation_gets_full_marks(secret, cls):
    assert outcome("SAM", cls) == {p: None for p in grader.parts("SAM")}


def test_not_a_class_and_not_implemented():
    assert all("derived from torch.optim.Optimizer" in m for m in outcome("SAM", lambda p: p).values())

    class Todo(torch.optim.Optimizer):
        def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
            raise NotImplementedError()

    assert all("not implemented yet" in m for m in outcome("SAM", Todo).values())


def test_program_reports_a_hostile_step_as_data():
    class Hostile(catalogue.Student):
        def step(self, closure):
            raise KeyError("x" * 5000)

    spec = {"arch": {"sizes": [2, 3, 2]}, "weights": [[[0.1, 0.2]] * 3, [0.0] * 3, [[0.1] * 3] * 2, [0.0] * 2],
            "X": [[1.0, 2.0], [0.5, -1.0]], "y": [0, 1], "base": "sgd", "kwargs": {"rho": 0.1, "lr": 0.1},
            "steps": 2}
    report = sam_programs.sam_race(Hostile, spec)
    assert report["error"]["at"] == "step" and report["error"]["type"] == "KeyError"
    assert len(report["error"]["message"]) <= 1000 and report["after"] == []
