"""The command line, run for real: release, autograde in parallel, feedback, export,
and check, on a throwaway copy of the course."""
import csv
import io
import os
import shutil
import subprocess
import sys

import pytest

from tests import postgres
from tests.course import ROOT, env, fill, same_summary, solution_code
from tests.dask_cluster import cluster
from tests.submissions.momentum import STUDENTS

A = "01_momentum"
pytestmark = pytest.mark.xdist_group("cli")   # one worker: the class is graded once


def grader_cmd(root, *args, check=False):
    out = subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args],
                         cwd=ROOT, env=env(), capture_output=True, text=True, timeout=1800)
    if check and out.returncode != 0:
        raise AssertionError(f"grader {' '.join(args)} exited {out.returncode}:\n{out.stdout}\n{out.stderr}")
    return out


@pytest.fixture
def course(tmp_path):
    shutil.copy(ROOT / "nbgrader_config.py", tmp_path / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / A, tmp_path / "solutions" / A)
    return tmp_path


@pytest.mark.parametrize("command", ["release", "autograde", "feedback", "export", "check"])
def test_every_command_has_help(command):
    out = subprocess.run([sys.executable, "-m", "grader", command, "--help"], capture_output=True, text=True)
    assert out.returncode == 0 and "usage:" in out.stdout


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The instructor's loop on a copy of the course: release, three submissions
    (right, wrong, untouched), autograde with 2 workers into SQLite, export."""
    root = tmp_path_factory.mktemp("class")
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    shutil.copytree(ROOT / "solutions" / A, root / "solutions" / A)
    grader_cmd(root, "release", check=True)
    released = root / "course" / A / "momentum.ipynb"
    assert released.exists()
    reference = solution_code(A)
    wrong = STUDENTS["sgd-sign-momentum-ema"]["code"]
    fill(released, reference, root / "submitted" / "ada" / A / "momentum.ipynb")
    fill(released, {**reference, **wrong}, root / "submitted" / "bob" / A / "momentum.ipynb")
    fill(released, {}, root / "submitted" / "cy" / A / "momentum.ipynb")   # handed in untouched
    out = grader_cmd(root, "autograde", "--jobs", "2", check=True)
    csv_text = grader_cmd(root, "export", check=True).stdout
    return root, out, csv_text


def test_instructor_loop_release_autograde_feedback_export(graded_class):
    course, out, csv_text = graded_class
    assert "3 graded, 0 failed" in out.stdout, out.stdout
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert float(rows["ada"][A]) == 18 and float(rows["ada"]["total"]) == 18
    assert float(rows["bob"][A]) == 18 - 4 - 5          # every sgd_step and momentum_step cell lost
    assert float(rows["bob"][f"{A}/nesterov_step_basic"]) == 2
    assert float(rows["cy"][A]) == 0

    out = grader_cmd(course, "feedback", check=True)
    html = (course / "feedback" / "bob" / A / "momentum.html").read_text()
    assert "EMA form" in html                          # the failure message reaches the student
    assert "grader.check(" not in html and "BEGIN HIDDEN" not in html


def test_serial_regrading_gives_the_same_grades(graded_class, tmp_path):
    """Re-grading a submission with one worker (from a folder of its own) changes nothing:
    one worker grades like two, and re-running is idempotent. (The PostgreSQL test
    below re-grades the whole class.)"""
    course, _, csv_text = graded_class
    again = tmp_path / "again"
    shutil.copytree(course / "submitted" / "bob", again / "bob")
    grader_cmd(course, "autograde", str(again), "--jobs", "1", "--force", check=True)
    assert grader_cmd(course, "export", check=True).stdout == csv_text


def test_the_class_on_a_dask_cluster_gets_the_same_grades_and_summary(graded_class, tmp_path):
    """Two `dask worker` processes on loopback, folders of their own (tests/dask_cluster.py)."""
    course, out, csv_text = graded_class
    again = tmp_path / "course"
    shutil.copytree(course, again, ignore=shutil.ignore_patterns("autograded", "feedback", ".grader", "*.db"))
    with cluster(tmp_path / "cluster", env()) as c:
        run = grader_cmd(again, "autograde", "--cluster", c.address, check=True)
    assert same_summary(run.stdout) == same_summary(out.stdout)
    assert grader_cmd(again, "export", check=True).stdout == csv_text


def test_a_postgresql_gradebook_gives_the_same_grades(graded_class):
    reason = postgres.missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; in CI the PostgreSQL test must run")
        pytest.skip(reason)
    course, _, csv_text = graded_class
    with postgres.server() as url:
        out = grader_cmd(course, "autograde", "--jobs", "2", "--db", url, check=True)
        assert "3 graded, 0 failed" in out.stdout, out.stdout
        assert grader_cmd(course, "export", "--db", url, check=True).stdout == csv_text
        grader_cmd(course, "feedback", "--db", url, check=True)


def test_check_gives_full_marks_to_the_reference_and_zero_to_the_stub(course, tmp_path_factory):
    released = ROOT / "course" / A / "momentum.ipynb"
    filled = tmp_path_factory.mktemp("me") / A / "momentum.ipynb"
    fill(released, solution_code(A), filled)
    out = grader_cmd(ROOT, "check", str(filled))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "total: 18 / 18" in out.stdout

    stub = tmp_path_factory.mktemp("stub") / A / "momentum.ipynb"
    stub.parent.mkdir(parents=True)
    shutil.copy(released, stub)
    out = grader_cmd(ROOT, "check", str(stub))
    assert out.returncode == 1
    assert "total: 0 / 18" in out.stdout
    assert "sgd_step is not implemented yet" in out.stdout
    assert "name 'stable_lr' is not defined" in out.stdout


def test_feedback_with_an_assignment_nobody_handed_in(graded_class, tmp_path):
    """An assignment nobody has handed in yet is no error: feedback exits 0."""
    course = tmp_path / "course"
    shutil.copytree(graded_class[0], course, ignore=shutil.ignore_patterns("feedback"))
    shutil.copytree(ROOT / "solutions" / "02_adaptive", course / "solutions" / "02_adaptive")
    out = grader_cmd(course, "feedback", check=True)
    assert (course / "feedback" / "bob" / A / "momentum.html").exists()
    assert not list((course / "feedback").glob("*/02_adaptive")), out.stdout


def test_without_a_sandbox_autograde_refuses_unless_told_and_then_says_so(graded_class, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(graded_class[0], course, ignore=shutil.ignore_patterns("feedback", "autograded"))
    only_ada = tmp_path / "inbox"
    shutil.copytree(course / "submitted" / "ada", only_ada / "ada")
    no_bwrap = {**env(), "GRADER_BWRAP": str(tmp_path / "no-such-bwrap")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "grader", "--root", str(course), *args], cwd=ROOT,
                              env=no_bwrap, capture_output=True, text=True, timeout=900)
    refused = run("autograde", str(only_ada), "--jobs", "1")
    assert refused.returncode == 2 and "needs a sandbox" in refused.stderr, refused.stdout + refused.stderr
    unprotected = run("autograde", str(only_ada), "--jobs", "1", "--no-sandbox")
    assert "1 graded, 0 failed" in unprotected.stdout, unprotected.stdout + unprotected.stderr
    assert unprotected.stdout.count("these grades are not protected") == 2, unprotected.stdout
    checked = run("check", str(course / "submitted" / "ada" / A / "momentum.ipynb"))
    assert checked.returncode == 0 and "total: 18 / 18" in checked.stdout, checked.stdout + checked.stderr
    assert checked.stdout.splitlines()[0].startswith("notice: no sandbox here"), checked.stdout
