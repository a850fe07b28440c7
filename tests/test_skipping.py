"""Grading skips the experiments an instructor tagged ``skip-when-grading`` (grader/skipping.py):
no untagged cell of any lesson uses a name only a tagged cell defines; the check sees such
a use (in a cell, in a function defined in a cell, not a local of the same name); the
rebuilt notebook runs tagged cells as a comment; and a solution graded with the skipping
gets every point (tests/test_autograde.py grades every catalogue submission that way)."""
import copy

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


# ------------------------------------------------------------------ the grading plan

def _answer(source, gid):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": True, "grade": False, "grade_id": gid, "locked": False}
    return cell


def _test(source, gid):
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"solution": False, "grade": True, "grade_id": gid, "points": 1, "locked": True}
    return cell


def _lesson(answer="def f(x):\n    return np.sign(x) * x"):
    return new_notebook(cells=[
        new_code_cell("import numpy as np\nfrom slow import sweep"),        # 0 setup
        new_code_cell("grid = np.linspace(0, 1, 5)"),                       # 1 used by an experiment only
        new_code_cell("results = sweep(grid)"),                             # 2 experiment
        new_markdown_cell("Write f."),
        _answer(answer, "f"),                                               # 4
        new_code_cell("assert f(1) == 1"),                                  # 5 visible check
        new_code_cell("scale = 3\nconfig = {}"),                            # 6 defines scale, config
        new_code_cell("config['mode'] = 'fast'"),                           # 7 changes config in place
        _test("import gradeclient\ngradeclient.check('f', f)", "test_f"),  # 8
        new_code_cell("plot(results)"),                                     # 9 after the last test
    ])


def test_the_plan_runs_the_setup_the_answers_and_the_tests_only():
    assert skipping.plan(_lesson().cells) == {0, 4, 8}


def test_a_name_an_answer_uses_pulls_in_the_cells_that_define_or_change_it():
    nb = _lesson("def f(x):\n    return x * scale if config else x")
    assert skipping.plan(nb.cells) == {0, 4, 6, 7, 8}
    # transitively: the answer reads results, which reads grid
    nb = _lesson("def f(x):\n    return x + 0 * len(results)")
    assert skipping.plan(nb.cells) == {0, 1, 2, 4, 8}


@pytest.mark.parametrize("reach", ["globals()['scale']", "eval('scale')", "vars()['scale']",
                                   "sys.modules['__main__'].scale", "__import__('__main__').scale",
                                   "get_ipython().user_ns['scale']"])
def test_an_answer_that_reaches_globals_dynamically_runs_the_whole_notebook(reach):
    nb = _lesson(f"def f(x):\n    return x * {reach}")
    assert skipping.plan(nb.cells) == set(range(10)) - {3}


def test_a_star_import_is_always_run():
    nb = _lesson()
    nb.cells[1].source = "from helpers import *"
    assert skipping.plan(nb.cells) == {0, 1, 4, 8}


def test_the_instructors_tag_still_skips():
    nb = _lesson("def f(x):\n    return x * scale")
    nb.cells[6].metadata["tags"] = [skipping.SKIP_TAG]
    # scale is defined only in a tagged cell: skipped with and without --full (a lesson
    # cell that needed it would be refused at release: problems())
    assert skipping.plan(nb.cells) == {0, 4, 8}


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_each_lesson_grades_its_setup_answers_and_tests_only(assignment):
    """The lessons keep their experiments out of the answers and the tests: grading runs
    the first code cell and the graded cells, nothing else."""
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    graded = {i for i in code if nb.cells[i].metadata.get("nbgrader", {}).get("grade")
              or nb.cells[i].metadata.get("nbgrader", {}).get("solution")}
    assert skipping.plan(nb.cells) == graded | {code[0]}


def test_the_rebuilt_notebook_runs_only_the_plan_unless_full():
    from grader.executor.rebuild import RebuildFromSource
    source = _lesson()
    for i, cell in enumerate(source.cells):
        cell["id"] = f"c{i}"
    submitted = copy.deepcopy(source)
    cells = RebuildFromSource()._rebuild(submitted, source, {})
    ran = {i for i, c in enumerate(cells) if c.cell_type == "code" and c.source != skipping.SKIPPED_SOURCE}
    assert ran == {0, 4, 8}
    cells = RebuildFromSource(full=True)._rebuild(copy.deepcopy(source), source, {})
    assert all(c.source == s.source for c, s in zip(cells, source.cells, strict=True))
