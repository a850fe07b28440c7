"""Grading skips the experiments an instructor tagged ``skip-when-grading`` (grader/skipping.py):
no untagged cell of any lesson uses a name only a tagged cell defines; the check sees such
a use (in a cell, in a function defined in a cell, not a local of the same name); the
rebuilt notebook runs tagged cells as a comment; and a solution graded with the skipping
gets every point (tests/test_autograde.py grades every catalogue submission that way)."""
import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader import skipping
from tests.course import ASSIGNMENTS, notebook_of


def _tagged(source):
    cell = new_code_cell(source)
    cell.metadata["tags"] = [skipping.SKIP_TAG]
    return cell


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_graded_cell_depends_on_a_skipped_one(assignment):
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    assert skipping.problems(nb) == []


def test_the_practice_lesson_skips_its_experiments():
    nb = nbformat.read(notebook_of("06_practice"), as_version=4)
    tagged = [c for c in nb.cells if skipping.skipped(c)]
    assert len(tagged) >= 10
    for cell in tagged:       # an answer or a test is never skipped
        assert "nbgrader" not in cell.metadata, cell.source[:80]


def test_the_check_sees_a_use_of_a_skipped_name():
    nb = new_notebook(cells=[
        new_code_cell("import numpy as np\nseeds = (0, 1, 2)"),
        _tagged("race = {s: np.zeros(3) for s in seeds}\ndef helper(x):\n    return x + 1"),
        new_markdown_cell("race is used below"),
        new_code_cell("def f(model):\n    lr = 1\n    return model, lr, seeds\n"),   # seeds is kept: fine
        new_code_cell("total = sum(race[s].sum() for s in seeds)"),                   # race: only skipped
        new_code_cell("def g():\n    return helper(2)"),                                # inside a function
        new_code_cell("def h(race):\n    return race"),                                  # a parameter: fine
        new_code_cell("race = 1\nprint(race)"),                                          # bound here: fine
    ])
    found = skipping.problems(nb)
    assert len(found) == 2, found
    assert "cell 4" in found[0] and "'race'" in found[0] and "cell(s) 1" in found[0]
    assert "cell 5" in found[1] and "'helper'" in found[1]


def test_magics_do_not_break_the_check():
    nb = new_notebook(cells=[new_code_cell("%matplotlib inline\nx = 1"), new_code_cell("!ls\nprint(x)")])
    assert skipping.problems(nb) == []


def test_the_rebuilt_notebook_runs_a_tagged_cell_as_a_comment():
    from grader.executor.rebuild import RebuildFromSource
    source = new_notebook(cells=[new_code_cell("x = 1"), _tagged("slow_sweep()")])
    source.cells[1]["id"] = "sweep"
    submitted = new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("slow_sweep()")])
    submitted.cells[1]["id"] = "sweep"
    cells = RebuildFromSource()._rebuild(submitted, source, {})
    assert cells[0].source == "x = 1"
    assert cells[1].source == skipping.SKIPPED_SOURCE
