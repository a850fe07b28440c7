"""Grading on a Dask cluster (grader/engines.py), with real processes on loopback: a
``dask scheduler`` and ``dask worker`` processes, each worker in folders of its own.

A class on the cluster gets the grades each answer deserves and the summary's problems;
a re-run grades nothing again; a worker killed mid-task has its task graded by another;
a scheduler that goes away ends the run with a clear error, non-zero, the finished
grades saved, and a re-run grades the rest; a worker of another grading version refuses.
The comparisons with one machine (same grades and summary as ``--jobs``) are in
tests/test_cli.py (the course's three-student class) and tests/test_bad_submissions.py
(every bad submission); here each grade is known in advance, which saves a run."""
import csv
import io
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from tests.course import ROOT, env, fill, make_tiny_course, same_summary, summary_details
from tests.dask_cluster import cluster

pytestmark = pytest.mark.xdist_group("cluster")   # one worker: the class is released and graded once

A, NB = "01_tiny", "tiny.ipynb"
SGD = "def sgd_step(x, g, lr):\n    return x - lr * g\n"
MOMENTUM = "def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + g\n    return x - lr * v_new, v_new\n"
STUDENTS = {   # student -> answers (None: not a notebook)
    "ada": {"sgd_step": SGD, "momentum_step": MOMENTUM},
    "bob": {"sgd_step": SGD},
    "cy": {},
    "dee": {"sgd_step": SGD, "momentum_step": "import os\nos._exit(1)\n" + MOMENTUM},
    "eve": None,
}
POINTS = {"ada": 5, "bob": 2, "cy": 0, "dee": 2, "eve": 0}   # sgd_step: 2 points, momentum_step: 3


def grader(root, *args, environ=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args], cwd=ROOT,
                          env=environ or env(), capture_output=True, text=True, timeout=timeout)


def export(root):
    out = grader(root, "export")
    assert out.returncode == 0, out.stderr
    return {r["student"]: r for r in csv.DictReader(io.StringIO(out.stdout))}


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    root = make_tiny_course(tmp_path_factory.mktemp("clustercourse"), A, NB)
    for student, answers in STUDENTS.items():
        dest = root / "submitted" / student / A / NB
        if answers is None:
            dest.parent.mkdir(parents=True)
            dest.write_text('{"cells": [ this is not json')
        else:
            fill(root / "course" / A / NB, answers, dest)
    return root


def fresh_copy(released, dest, students=None):
    """The released course with its submissions (or some of them), nothing graded yet."""
    shutil.copytree(released, dest, ignore=shutil.ignore_patterns("autograded", ".grader", "gradebook.db"))
    for student in set(STUDENTS) - set(students or STUDENTS):
        shutil.rmtree(dest / "submitted" / student)
    return dest


def points(root):
    return {s: float(row[A]) for s, row in export(root).items() if row[A] != ""}


def test_a_class_on_a_cluster_is_graded_and_a_rerun_grades_nothing_again(released, tmp_path):
    root = fresh_copy(released, tmp_path / "course")
    with cluster(tmp_path / "cluster", env()) as c:
        run = grader(root, "autograde", "--cluster", c.address)
        assert run.returncode == 1, run.stdout + run.stderr
        assert "4 graded, 1 failed, 1 graded with problems or flags" in run.stdout, run.stdout
        assert "killed the kernel" in "\n".join(summary_details(run.stdout, "dee")), run.stdout
        assert "not a valid notebook" in "\n".join(summary_details(run.stdout, "eve")), run.stdout
        graded = export(root)
        assert points(root) == POINTS
        # the address from the environment; nothing changed since: nothing is graded again
        start = time.monotonic()
        again = grader(root, "autograde", environ={**env(), "GRADER_CLUSTER": c.address})
        assert "4 graded, 1 failed, 1 graded with problems or flags (4 unchanged since an earlier run" in \
            again.stdout, again.stdout + again.stderr
        assert same_summary(again.stdout)[:-1] == same_summary(run.stdout)[:-1]
        assert export(root) == graded
        # a new hand-in is graded again, the others are not
        fill(root / "course" / A / NB, STUDENTS["ada"], root / "submitted" / "bob" / A / NB)
        third = grader(root, "autograde", "--cluster", c.address)
        assert "(3 unchanged since an earlier run" in third.stdout, third.stdout
        assert float(export(root)["bob"][A]) == 5
    assert time.monotonic() - start < 600


def _busy(pid):
    """Whether the worker process ``pid`` has a child (a kernel's sandbox: it is grading)."""
    children = []
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            children += open(f"/proc/{pid}/task/{task}/children").read().split()
        except OSError:
            pass
    return bool(children)


def test_a_worker_killed_mid_task_has_its_task_graded_by_another(released, tmp_path):
    root = fresh_copy(released, tmp_path / "course", ["ada", "bob", "cy"])
    with cluster(tmp_path / "cluster", env()) as c:
        proc = subprocess.Popen([sys.executable, "-m", "grader", "--root", str(root), "autograde", "--cluster",
                                 c.address], cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 300
        while not (busy := [w for w in c.workers if _busy(w.pid)]):
            assert proc.poll() is None and time.monotonic() < deadline, "no worker started grading"
            time.sleep(0.05)
        os.kill(busy[0].pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=900)
    assert proc.returncode == 0, out + err
    assert "3 graded, 0 failed, 0 graded with problems or flags" in out, out
    retried = [s for s in ("ada", "bob", "cy")
               if "note: graded again: 1 grading worker it was sent to died first" in summary_details(out, s)]
    # the task it was running, and any the scheduler had already handed it to hold
    assert retried, out
    assert points(root) == {s: POINTS[s] for s in ("ada", "bob", "cy")}


def test_a_scheduler_that_goes_away_ends_the_run_and_a_rerun_grades_the_rest(released, tmp_path):
    root = fresh_copy(released, tmp_path / "course", ["ada", "bob"])
    records = root / ".grader" / "graded"
    with cluster(tmp_path / "cluster", env(), workers=1) as c:
        proc = subprocess.Popen([sys.executable, "-m", "grader", "--root", str(root), "autograde", "--cluster",
                                 c.address], cwd=ROOT, env=env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
        deadline = time.monotonic() + 300
        while not list(records.rglob("*.json")):
            assert proc.poll() is None and time.monotonic() < deadline, "nothing was graded"
            time.sleep(0.05)
        os.killpg(c.scheduler.pid, signal.SIGKILL)
        out, err = proc.communicate(timeout=300)
    assert proc.returncode == 3, out + err
    assert "error: lost the Dask scheduler at" in err and "run the same command again" in err, err
    assert "Traceback" not in err, err
    finished = [p.parent.name for p in records.rglob("*.json")]
    assert len(finished) == 1
    assert points(root) == {s: POINTS[s] for s in finished}
    with cluster(tmp_path / "cluster2", env(), workers=1) as c:
        run = grader(root, "autograde", "--cluster", c.address)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "(1 unchanged since an earlier run" in run.stdout, run.stdout
    assert points(root) == {s: POINTS[s] for s in ("ada", "bob")}


def test_an_unreachable_scheduler_is_a_clear_error(released, tmp_path):
    root = fresh_copy(released, tmp_path / "course", ["ada"])
    run = grader(root, "autograde", "--cluster", "tcp://127.0.0.1:9", "--cluster-timeout", "2")
    assert run.returncode == 3, run.stdout + run.stderr
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr, run.stderr


def test_a_worker_of_another_grading_version_refuses_and_changes_nothing(released, tmp_path):
    root = fresh_copy(released, tmp_path / "course", ["ada"])
    other = tmp_path / "other-version"
    shutil.copytree(ROOT / "grader", other / "grader", ignore=shutil.ignore_patterns("__pycache__"))
    with open(other / "grader" / "reference" / "__init__.py", "a") as f:
        f.write("\n# an edit: another version of the references\n")
    with cluster(tmp_path / "cluster", env(), workers=0) as c:
        c.start_worker("elsewhere", env={**env(), "PYTHONPATH": str(other)})
        c.wait_for_workers(1)
        run = grader(root, "autograde", "--cluster", c.address)
    assert run.returncode == 1, run.stdout + run.stderr
    [reason] = summary_details(run.stdout, "ada")
    assert re.fullmatch(r"FAILED: not graded: this grading process runs another version of the grading software "
                        r"\(\w+\) than the command \(\w+\); install the same version of the course on every "
                        r"machine that grades", reason), reason
    assert not (root / "autograded").exists() and not list(root.glob(".grader/graded/*/*.json"))
    assert export(root).get("ada", {}).get(A, "") == ""


def test_without_a_cluster_no_dask_is_imported():
    """The single-machine user's autograde never imports Dask (engines.connect alone
    does), so no Dask process can start."""
    probe = ("import sys\nimport grader.cli, grader.pipeline, grader.engines, grader.records, grader.task\n"
             "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask imported'\n")
    out = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=env(), capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
