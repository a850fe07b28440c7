"""Bad submissions through the real command line: each one gets a result, none stops
the batch, and the grades are the ones the student's code deserves.

A small assignment (two graded functions, 5 points) keeps this fast; it is released
and graded by the same `python -m grader` commands as the course. One autograde run
covers every case; the tests below read its summary, the gradebook export and the
feedback.
"""
import copy
import csv
import io
import shutil
import subprocess
import sys

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.course import BIN, ROOT, env, fill, make_tiny_course, same_summary, summary_details
from tests.dask_cluster import cluster

# one worker runs the whole module: its fixture grades the class once
pytestmark = pytest.mark.xdist_group("bad_submissions")

A = "00_tiny"
NB = "tiny.ipynb"
SGD = "def sgd_step(x, g, lr):\n    return x - lr * g\n"
MOMENTUM = "def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + g\n    return x - lr * v_new, v_new\n"
WRONG_MOMENTUM = ("def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + (1 - beta) * g\n"
                  "    return x - lr * v_new, v_new\n")
LOOP = "while True:\n    pass\n"
TIMEOUT, NOTEBOOK_TIMEOUT, MEMORY_MB = 8, 30, 2048


def grader_cmd(root, *args):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args],
                          cwd=ROOT, env=env(), capture_output=True, text=True, timeout=1800)


def _edit(path, change):
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _insert_after(gid, *sources):
    def change(nb):
        i = next(i for i, c in enumerate(nb.cells) if _gid(c) == gid)
        nb.cells[i + 1:i + 1] = [new_code_cell(s) for s in sources]
    return change


# student -> (answers, notebook change or raw file text, expected score or None for a failure)
CASES = {
    "reference": ({}, None, 5),
    "loop-after-def": ({"momentum_step": MOMENTUM + LOOP}, None, 5),
    # an answer that ignores the interrupt: the cells after it wait until the notebook's budget is gone
    "ignores-interrupt": ({"momentum_step": MOMENTUM + "import signal\nsignal.signal(signal.SIGINT, "
                                              "signal.SIG_IGN)\n" + LOOP}, None, 2),
    # the kernel dies in the momentum answer: restarted, the cells above replayed, the rest graded
    "kills-kernel": ({"momentum_step": "import os\nos._exit(1)\n" + MOMENTUM}, None, 2),
    "memory-bomb": ({"momentum_step": MOMENTUM + "blocks = []\nwhile True:\n"
                                      "    blocks.append(bytearray(10**8))\n"}, None, 5),
    # cells of one's own are not graded: nothing they do counts
    "extra-cells": ({}, _insert_after("sgd_step_random", LOOP, "import os\nos._exit(1)"), 5),
    "duplicated-cell": ({}, lambda nb: nb.cells.insert(
        3, copy.deepcopy(next(c for c in nb.cells if _gid(c) == "sgd_step"))), 5),
    "tests-deleted": ({}, lambda nb: setattr(nb, "cells", [
        c for c in nb.cells if _gid(c) not in ("sgd_step_random", "momentum_step_basic")]), 5),
    "tests-edited": ({"momentum_step": WRONG_MOMENTUM}, lambda nb: [
        setattr(c, "source", "pass  # nothing to see") for c in nb.cells
        if _gid(c) in ("momentum_step_basic", "momentum_step_random")], 2),
    "writes-stderr": ({"sgd_step": SGD + "import sys, warnings\nprint('debugging', file=sys.stderr)\n"
                                         "warnings.warn('careful')\n"}, None, 5),
    "huge-output": ({"sgd_step": SGD + "print('x' * 20_000_000)\nfor i in range(5000):\n    print(i)\n"},
                    None, 5),
    "imports-reference": ({"sgd_step": "from grader.reference import sgd_step\n"}, None, 3),
    "finds-reference": ({"sgd_step": "import gc\nsgd_step = next(f for f in gc.get_objects() if callable(f) "
                                     "and getattr(f, '__qualname__', '') == 'sgd_step' "
                                     "and 'reference' in str(getattr(f, '__module__', '')))\n"}, None, 3),
    "patches-numpy": ({"momentum_step": WRONG_MOMENTUM + "np.abs = lambda a: 0 * np.asarray(a)\n"
                                                         "np.max = lambda *a, **k: 0.0\n"
                                                         "np.allclose = lambda *a, **k: True\n"}, None, 2),
    "patches-checks": ({"momentum_step": WRONG_MOMENTUM + "import gc\nfor m in gc.get_objects():\n"
                                                          "    if type(m).__name__ == 'module' and "
                                                          "m.__name__.endswith('der'):\n"
                                                          "        vars(m)['check'] = lambda *a, **k: None\n"},
                       None, 2),
    "invalid-json": ({}, '{"cells": [ this is not json', None),
    "not-a-notebook": ({}, '{"hello": "world"}', None),
    "missing-notebook": ({}, "", None),
}
UNKNOWN = "mallory"   # hands in a perfect notebook but is not on the roster


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = make_tiny_course(tmp_path_factory.mktemp("badcourse"), A, NB)
    released = root / "course" / A / NB
    for student, (answers, change, _) in CASES.items():
        dest = root / "submitted" / student / A / NB
        if isinstance(change, str):
            dest.parent.mkdir(parents=True)
            if change:
                dest.write_text(change)
            continue
        fill(released, {"sgd_step": SGD, "momentum_step": MOMENTUM, **answers}, dest)
        if change:
            _edit(dest, change)
    fill(released, {"sgd_step": SGD, "momentum_step": MOMENTUM}, root / "submitted" / UNKNOWN / A / NB)
    roster = root / "students.csv"
    roster.write_text("id\n" + "\n".join(CASES) + "\n")
    subprocess.run([str(BIN / "nbgrader"), "db", "student", "import", str(roster)],
                   cwd=root, env=env(), check=True, capture_output=True)
    run = grader_cmd(root, "autograde", "--jobs", "2", "--timeout", str(TIMEOUT), "--notebook-timeout",
                     str(NOTEBOOK_TIMEOUT), "--memory", str(MEMORY_MB), "--roster-only")
    export = grader_cmd(root, "export")
    assert export.returncode == 0, export.stderr
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(export.stdout))}
    return root, run, rows


def _details(run, student):
    return "\n".join(summary_details(run.stdout, student))


@pytest.mark.parametrize("student", list(CASES))
def test_each_submission_gets_the_points_it_deserves(graded, student):
    _, run, rows = graded
    expected = CASES[student][2]
    assert student in run.stdout, run.stdout
    got = float(rows[student][A] or 0)
    assert got == (expected or 0), f"{student}: {got} points, expected {expected}\n{run.stdout}"


def test_the_batch_reports_every_failure_and_exits_non_zero(graded):
    _, run, _ = graded
    assert run.returncode == 1, run.stdout + run.stderr
    expect = {
        "invalid-json": "not a valid notebook (NotJSONError",
        "not-a-notebook": "not a valid notebook",
        "missing-notebook": f"no {NB} in the submission",
        UNKNOWN: f"unknown student '{UNKNOWN}'",
        "loop-after-def": f"ran past the {TIMEOUT} s limit",
        "ignores-interrupt": f"ran past the {TIMEOUT} s limit",
        "kills-kernel": "killed the kernel",
        "memory-bomb": f"ran out of memory (limit {MEMORY_MB} MB)",
        "duplicated-cell": "note: cell sgd_step appears more than once",
        "tests-deleted": "FLAG: cell sgd_step_random was deleted",
        "tests-edited": "FLAG: cell momentum_step_basic was edited",
        "imports-reference": "FLAG: sgd_step refers to grader",
        "extra-cells": "note: 2 code cells added: not graded",
    }
    for student, phrase in expect.items():
        assert phrase in _details(run, student), f"{student}: {phrase!r} not in\n{_details(run, student)}"
    for student in ("reference", "writes-stderr", "huge-output"):
        assert not _details(run, student), f"{student} should be clean:\n{_details(run, student)}"
    assert UNKNOWN not in graded[2], "an unknown student must not enter the gradebook"
    assert "Kernel is running over TCP" not in run.stderr   # the kernels' own chatter stays in a log


def test_huge_output_is_cut_in_the_graded_notebook(graded):
    root = graded[0]
    path = root / "autograded" / "huge-output" / A / NB
    assert path.stat().st_size < 200_000
    nb = nbformat.read(path, as_version=4)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "more characters not shown" in text


def test_feedback_shows_messages_but_no_hidden_tests_or_guard(graded):
    root = graded[0]
    out = grader_cmd(root, "feedback")
    assert out.returncode == 0, out.stdout + out.stderr
    pages = {p.parts[-3]: p.read_text() for p in (root / "feedback").rglob("*.html")}
    assert "reference" in pages and "tests-edited" in pages
    for student, html in pages.items():
        for secret in ("BEGIN HIDDEN", "grader.check(", "import grader", "gradeclient"):
            assert secret not in html, f"{student}'s feedback shows {secret!r}"
    assert "EMA" in pages["tests-edited"] or "momentum_step" in pages["tests-edited"]


def test_the_class_on_a_dask_cluster_with_every_cell_gets_the_same_grades_and_summary(graded, tmp_path):
    """Every bad submission again, on two `dask worker` processes (tests/dask_cluster.py),
    and with ``--full``: every cell runs, not only those grading needs (grader/skipping.py).
    One run proves both (the cluster and one machine agree in test_cli and test_cluster
    with the same cells run; here a difference from either would show)."""
    root, run, rows = graded
    again = tmp_path / "course"
    shutil.copytree(root, again, ignore=shutil.ignore_patterns("autograded", "feedback", ".grader", "*.db"))
    subprocess.run([str(BIN / "nbgrader"), "db", "student", "import", str(again / "students.csv")],
                   cwd=again, env=env(), check=True, capture_output=True)
    with cluster(tmp_path / "cluster", env()) as c:
        on_cluster = grader_cmd(again, "autograde", "--cluster", c.address, "--timeout", str(TIMEOUT),
                                "--notebook-timeout", str(NOTEBOOK_TIMEOUT), "--memory", str(MEMORY_MB),
                                "--roster-only", "--full")
    assert on_cluster.returncode == run.returncode, on_cluster.stdout + on_cluster.stderr
    assert same_summary(on_cluster.stdout) == same_summary(run.stdout)
    export = grader_cmd(again, "export")
    assert {r["student"]: r for r in csv.DictReader(io.StringIO(export.stdout))} == rows


def test_a_submissions_folder_elsewhere_keeps_its_timestamps(graded, tmp_path):
    """`autograde SUBMISSIONS` with a folder other than root/submitted: the submission
    time recorded in the gradebook is the one handed in with it (timestamp.txt)."""
    from nbgrader.api import Gradebook

    from grader import pipeline
    root = tmp_path / "course"  # a copy: the graded class's folders stay as they are
    shutil.copytree(graded[0], root, ignore=shutil.ignore_patterns("autograded", "feedback", "*.db"))
    elsewhere = tmp_path / "inbox"
    shutil.copytree(root / "submitted" / "reference" / A, elsewhere / "late-lou" / A)
    (elsewhere / "late-lou" / A / "timestamp.txt").write_text("2026-11-20 09:30:00.000000 UTC\n")
    db = f"sqlite:///{tmp_path / 'elsewhere.db'}"
    results = pipeline.autograde(root, submitted=elsewhere, jobs=1, db_url=db)
    assert [(r.student, r.ok, r.score) for r in results] == [("late-lou", True, 5)], results
    with Gradebook(db) as gb:
        stamp = gb.find_submission(A, "late-lou").timestamp
    assert (stamp.year, stamp.month, stamp.day, stamp.hour, stamp.minute) == (2026, 11, 20, 9, 30)
