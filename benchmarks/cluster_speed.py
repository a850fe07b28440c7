"""Grading on a Dask cluster against the local pool, on the same cores.

    .venv/bin/python benchmarks/cluster_speed.py [--students 40] [--rounds 2] [--assignments ...]

The class of benchmarks/autograde_speed.py (``--students`` submissions over the released
assignments), graded in turns by `grader autograde --jobs 2` and by `grader autograde
--cluster` against a local Dask cluster of two single-threaded worker processes (a real
`dask scheduler` and two `dask worker`s, tests/dask_cluster.py), each from scratch
(``--force``, a fresh gradebook). Prints seconds per submission for both, the ratio
cluster/local per round (goal: within 1.10), and whether the grades are identical. Then:

- the scheduler's overhead per task: the command's own engine (grader.engines.cluster)
  through the same cluster, on one real grading task's bytes, with grading replaced by
  a stand-in that returns at once (submit, run, the retry note, result back), per task;
- the command's gradebook write rate: the class's autograded notebooks written again
  into a fresh gradebook with the command's own code (grader.pipeline._write_outcome),
  submissions per second: the ceiling of one command, however many workers grade; into
  SQLite, and into PostgreSQL when a server can be started (tests/postgres.py).
"""
import argparse
import os
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import autograde_speed as bench  # noqa: E402

from tests import postgres  # noqa: E402
from tests.course import ASSIGNMENTS, BIN, env  # noqa: E402
from tests.dask_cluster import cluster  # noqa: E402


def grade(root, db, *how):
    shutil.rmtree(root / "autograded", ignore_errors=True)
    pathlib.Path(db.replace("sqlite:///", "")).unlink(missing_ok=True)
    start = time.perf_counter()
    bench.run([sys.executable, "-m", "grader", "--root", str(root), "autograde", "--force", "--db", db, *how],
              cwd=ROOT)
    return time.perf_counter() - start


def _no_grading(job):
    """A grading task's stand-in on the workers (pickled by value): no kernel, an outcome
    the size of the submission back, as a real one brings its autograded notebook."""
    from grader.pipeline import Result
    from grader.task import Outcome
    return Outcome(Result(job.student, job.assignment, True), dict(job.submission))


def overhead(address, root, n=200):
    """Seconds per task of the cluster's own work: the command's engine (grader.engines.cluster:
    submit, the scheduler's note of retries, the result back) on real task bytes, no grading."""
    from grader import engines, pipeline, task
    with tempfile.TemporaryDirectory() as tmp:
        a = sorted(p.name for p in (root / "course").iterdir())[0]
        pipeline._structure_db(root, [a], pathlib.Path(tmp) / "t.db")
        course = task.course_of(root, a, (pathlib.Path(tmp) / "t.db").read_bytes())
    student = next(p.parent.name for p in (root / "submitted").glob(f"*/{a}"))
    job = pipeline._task_of(root / "submitted", student, a, course, task.Settings())
    size = len(course.gradebook) + sum(map(len, course.files.values())) + sum(map(len, job.submission.values()))
    real, engines.grading.grade = engines.grading.grade, _no_grading
    client = engines.connect(address)
    try:
        assert len(list(engines.cluster([job] * 4, client))) == 4   # warm: the function and the connection
        start = time.perf_counter()
        assert len(list(engines.cluster([job] * n, client))) == n
        seconds = time.perf_counter() - start
    finally:
        engines.grading.grade = real
        client.close()
    return seconds / n, size


def write_rate(root, db):
    """Submissions per second the command writes (autograded folder + gradebook)."""
    import warnings

    from grader import pipeline, task
    warnings.filterwarnings("ignore", message=".*not in session.*")   # nbgrader's, as the command quiets them
    config = pipeline.load_config(root, db)
    if db.startswith("sqlite:///"):
        pathlib.Path(db.replace("sqlite:///", "")).unlink(missing_ok=True)
    pipeline._ensure_structure(root, config, sorted(p.name for p in (root / "course").iterdir()),
                               tempfile.mkdtemp())
    outcomes = []
    for folder in sorted((root / "autograded").glob("*/*")):
        files = task.read_files(folder)
        outcomes.append(task.Outcome(pipeline.Result(folder.parent.name, folder.name, True), files))
    start = time.perf_counter()
    for outcome in outcomes:
        assert pipeline._write_outcome(root, root / "submitted", config, outcome)
    return len(outcomes) / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--assignments", nargs="+", choices=ASSIGNMENTS, help="only these (default: all)")
    args = parser.parse_args()
    if args.assignments:
        bench.SELECTED[:] = args.assignments
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores", flush=True)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        tmp = pathlib.Path(tmp)
        root = tmp / "course"
        root.mkdir()
        per = bench.build_class(root, args.students)
        n = args.students
        print(f"{n} submissions: " + ", ".join(f"{a} x{k}" for a, k in per.items()), flush=True)
        with cluster(tmp / "cluster", env(), workers=2) as c:
            ratios = []
            for r in range(args.rounds):
                local = grade(root, f"sqlite:///{tmp / 'local.db'}", "--jobs", "2")
                local_scores = bench.scores(f"sqlite:///{tmp / 'local.db'}")
                remote = grade(root, f"sqlite:///{tmp / 'cluster.db'}", "--cluster", c.address)
                same = bench.scores(f"sqlite:///{tmp / 'cluster.db'}") == local_scores and bool(local_scores)
                ratios.append(remote / local)
                print(f"round {r + 1}: --jobs 2: {local / n:5.2f} s per submission   --cluster (2 workers): "
                      f"{remote / n:5.2f} s per submission   ratio {remote / local:.3f}   identical grades: {same}",
                      flush=True)
            print(f"median ratio cluster/local: {statistics.median(ratios):.3f} "
                  f"(min {min(ratios):.3f}, max {max(ratios):.3f}) over {len(ratios)} rounds")
            per_task, size = overhead(c.address, root)
            print(f"scheduler overhead: {per_task * 1000:.1f} ms per task ({size / 1e6:.2f} MB of task bytes, "
                  f"no grading, 2 workers)")
        rate = write_rate(root, f"sqlite:///{tmp / 'rewrite.db'}")
        print(f"gradebook writes by the command: {rate:.1f} submissions per second (SQLite)", flush=True)
        if reason := postgres.missing_reason():
            print(f"no PostgreSQL write rate: {reason}")
        else:
            with postgres.server() as url:
                rate = write_rate(root, url)
            print(f"gradebook writes by the command: {rate:.1f} submissions per second (PostgreSQL, local socket)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
