"""Claims that survive a second look (descentlab.claims): every solution notebook runs
with DESCENTLAB_SWEEP=1, so that each ``dl.robust_claim`` is also checked at every
neighbour of the setting it shows (other seeds, longer runs, other starts, +-20% on the
hyperparameters its words do not name), and the mechanism itself is shown to catch a
claim that holds only where it was tried. The same run is the solution notebook's
headless run: every plot must leave a PNG and no cell may write to stderr."""
import numpy as np
import pytest

import descentlab as dl
from descentlab import claims
from tests.course import ASSIGNMENTS, execute, notebook_of
from tests.test_notebooks import assert_every_plot_leaves_a_png_and_nothing_goes_to_stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_runs_headless_and_every_claim_holds_around_its_setting(assignment, monkeypatch):
    monkeypatch.setenv(claims.SWEEP_ENV, "1")
    nb = execute(notebook_of(assignment), timeout=900)   # a failing claim fails its cell
    assert_every_plot_leaves_a_png_and_nothing_goes_to_stderr(nb)


def test_the_default_neighbourhood():
    setting = dict(lr=0.1, beta=0.9, steps=500, seed=0, x0=np.array([1.0, 0.0]), name="ravine", n=10)
    labels = [label for label, _ in claims.neighbourhood(setting, fixed=["beta"])]
    assert labels == ["lr=0.08", "lr=0.12", "steps=1500", "seed=1", "seed=2", "seed=3",
                      "x0=[0.9, 0.0]", "x0=[1.1, 0.0]", "x0=[0.9848, 0.1736]", "x0=[0.9848, -0.1736]"]
    assert [label for label, _ in claims.neighbourhood(setting, vary={"n": [20]})][-1] == "n=20"
    with pytest.raises(KeyError):
        claims.neighbourhood(setting, vary={"gamma": [1]})


def threshold_claim(beta, lr):
    """True only on a knife's edge: the kind of finding the sweep exists to catch."""
    return abs(lr - 0.1) < 1e-9, f"lr = {lr}"


def test_a_claim_true_only_where_it_was_tried_fails_the_sweep(monkeypatch):
    setting = dict(beta=0.9, lr=0.1)
    monkeypatch.delenv(claims.SWEEP_ENV, raising=False)
    dl.robust_claim("the knife's edge", threshold_claim, setting)       # as a notebook runs it
    monkeypatch.setenv(claims.SWEEP_ENV, "1")
    with pytest.raises(AssertionError, match=r"not at 2 neighbour\(s\): lr=0.08 \(lr = 0.08.*lr=0.12"):
        dl.robust_claim("the knife's edge", threshold_claim, setting)
    dl.robust_claim("the knife's edge, at lr = 0.1", threshold_claim, setting, fixed=["lr"])


def test_a_claim_false_where_it_is_shown_fails_in_the_notebook_too(monkeypatch):
    monkeypatch.delenv(claims.SWEEP_ENV, raising=False)
    with pytest.raises(AssertionError, match="The text says: wrong. This run shows otherwise: lr = 0.2"):
        dl.robust_claim("wrong", threshold_claim, dict(beta=0.9, lr=0.2))
