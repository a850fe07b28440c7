"""The command line, run for real: release, autograde in parallel, feedback, export,
and check, on a throwaway copy of the course."""
import csv
import io
import shutil
import subprocess
import sys

import pytest

from tests.course import ROOT, env, fill, solution_code
from tests.submissions.momentum import STUDENTS

A = "01_momentum"


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


def test_instructor_loop_release_autograde_feedback_export(course):
    grader_cmd(course, "release", check=True)
    released = course / "course" / A / "momentum.ipynb"
    assert released.exists()
    reference = solution_code(A)
    wrong = STUDENTS["sgd-sign-momentum-ema"]["code"]
    fill(released, reference, course / "submitted" / "ada" / A / "momentum.ipynb")
    fill(released, {**reference, **wrong}, course / "submitted" / "bob" / A / "momentum.ipynb")
    fill(released, {}, course / "submitted" / "cy" / A / "momentum.ipynb")   # handed in untouched

    out = grader_cmd(course, "autograde", "--jobs", "2", check=True)
    assert "3 graded, 0 failed" in out.stdout, out.stdout

    csv_text = grader_cmd(course, "export", check=True).stdout
    rows = {r["student"]: r for r in csv.DictReader(io.StringIO(csv_text))}
    assert float(rows["ada"][A]) == 18 and float(rows["ada"]["total"]) == 18
    assert float(rows["bob"][A]) == 18 - 4 - 5          # every sgd_step and momentum_step cell lost
    assert float(rows["bob"][f"{A}/nesterov_step_basic"]) == 2
    assert float(rows["cy"][A]) == 0

    out = grader_cmd(course, "feedback", check=True)
    html = (course / "feedback" / "bob" / A / "momentum.html").read_text()
    assert "EMA form" in html                          # the failure message reaches the student
    assert "grader.check" not in html and "BEGIN HIDDEN" not in html

    # serial grading gives the same grades, and re-running is idempotent
    grader_cmd(course, "autograde", "--jobs", "1", check=True)
    assert grader_cmd(course, "export", check=True).stdout == csv_text


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
