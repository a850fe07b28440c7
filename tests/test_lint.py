"""Lint as a habit: ruff (pinned in requirements.txt, configured in pyproject.toml) over
the grader, the client, the toolkit, the tests, the benchmarks and the lessons' code
(through their text twins), and the lessons' code lines checked for length on the
notebooks' code cells, which jupytext's long cell headers keep out of the twins' check."""
import subprocess
import sys

from tests.course import ROOT

PACKAGES = ["grader", "gradeclient", "toolkit", "tests", "benchmarks", "solutions"]


def ruff(*args):
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def test_ruff_finds_nothing():
    run = ruff(*PACKAGES)
    assert run.returncode == 0, (f"ruff check {' '.join(PACKAGES)} (fix it, `ruff check --fix` for the "
                                 f"safe fixes):\n{run.stdout}{run.stderr}")


def test_lesson_code_lines_fit_the_line_length():
    notebooks = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "solutions").glob("[0-9]*/*.ipynb"))
    assert notebooks
    run = ruff("--select", "E501", *notebooks)
    assert run.returncode == 0, f"lesson code lines longer than the line length:\n{run.stdout}{run.stderr}"
