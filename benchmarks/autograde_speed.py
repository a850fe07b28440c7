"""Autograding speed: plain sequential `nbgrader autograde` against `python -m grader
autograde --jobs N`, on the same synthetic class, with the grades compared.

    .venv/bin/python benchmarks/autograde_speed.py [--students 40] [--jobs 2]

The class: ``--students`` submissions spread evenly over every released assignment,
cycling through each assignment's catalogue of submissions in tests/submissions/
(the reference, realistic wrong implementations, correct variants). Prints seconds
per submission for both ways, the speed-up, whether every graded cell got the same
score, and, per assignment, the fixed cost of a notebook (kernel start, imports,
the guard) against the time spent in the hidden tests and the rest of the notebook.
"""
import argparse
import importlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.course import ASSIGNMENTS, BIN, env, fill, notebook_of, solution_code  # noqa: E402


def build_class(root, n_students):
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    for a in ASSIGNMENTS:
        shutil.copytree(ROOT / "solutions" / a, root / "solutions" / a)
    run([sys.executable, "-m", "grader", "--root", str(root), "release"])
    per = {a: n_students // len(ASSIGNMENTS) + (i < n_students % len(ASSIGNMENTS))
           for i, a in enumerate(ASSIGNMENTS)}
    for a in ASSIGNMENTS:
        students = importlib.import_module(f"tests.submissions.{a.split('_', 1)[1]}").STUDENTS
        names = sorted(students)
        reference = solution_code(a)
        released = next((root / "course" / a).glob("*.ipynb"))
        for k in range(per[a]):
            spec = students[names[k % len(names)]]
            fill(released, {**reference, **spec["code"]},
                 root / "submitted" / f"s{a[:2]}-{k:02d}" / a / released.name)
    return per


def run(cmd, **kw):
    out = subprocess.run(cmd, env=env(), capture_output=True, text=True, **kw)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {out.returncode}:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return out


def scores(db_url):
    from nbgrader.api import Gradebook
    out = {}
    with Gradebook(db_url) as gb:
        for a in gb.assignments:
            for sub in gb.assignment_submissions(a.name):
                for nb in sub.notebooks:
                    for g in nb.grades:
                        out[(sub.student.id, a.name, g.name)] = g.score
    return out


def plain_nbgrader(root):
    """nbgrader's own command, one assignment after the other (it grades students in turn)."""
    start = time.perf_counter()
    for a in ASSIGNMENTS:
        run([str(BIN / "nbgrader"), "autograde", a, "--force"], cwd=root)
    return time.perf_counter() - start


def parallel(root, jobs, db):
    shutil.rmtree(root / "autograded", ignore_errors=True)
    start = time.perf_counter()
    run([sys.executable, "-m", "grader", "--root", str(root), "autograde", "--jobs", str(jobs), "--db", db])
    return time.perf_counter() - start


def cost_split(assignment):
    """Seconds of one graded run of the solution notebook (hidden tests included):
    kernel start with the guard, the first (imports) cell, the graded test cells, the rest."""
    path = notebook_of(assignment)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            extra_arguments=["--IPKernelApp.exec_lines=__import__('grader.guard').guard.install()"],
                            resources={"metadata": {"path": str(path.parent)}})
    split = {"kernel start + guard": 0.0, "imports cell": 0.0, "hidden tests": 0.0, "rest": 0.0}
    t0 = time.perf_counter()
    with client.setup_kernel():
        split["kernel start + guard"] = time.perf_counter() - t0
        first = True
        for i, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            t = time.perf_counter()
            client.execute_cell(cell, i)
            dt = time.perf_counter() - t
            key = "imports cell" if first else \
                "hidden tests" if cell.metadata.get("nbgrader", {}).get("grade") else "rest"
            split[key] += dt
            first = False
    return split


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=40)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-autograde-") as tmp:
        root = pathlib.Path(tmp)
        per = build_class(root, args.students)
        print(f"{args.students} submissions: " + ", ".join(f"{a} x{n}" for a, n in per.items()))

        plain = plain_nbgrader(root)
        plain_scores = scores(f"sqlite:///{root / 'gradebook.db'}")
        ours_db = f"sqlite:///{root / 'parallel.db'}"
        ours = parallel(root, args.jobs, ours_db)
        ours_scores = scores(ours_db)
        same = plain_scores == ours_scores and len(plain_scores) > 0
        diff = sorted(k for k in set(plain_scores) | set(ours_scores)
                      if plain_scores.get(k) != ours_scores.get(k))

        n = args.students
        print(f"\nplain nbgrader autograde (sequential): {plain:7.1f} s  {plain / n:5.2f} s per submission")
        print(f"grader autograde --jobs {args.jobs}:            {ours:7.1f} s  {ours / n:5.2f} s per submission")
        print(f"speed-up: {plain / ours:.2f}x   identical grades: {same} ({len(plain_scores)} graded cells"
              + (f"; differing: {diff[:5]}" if diff else "") + ")")

    print("\nper notebook, one graded run of the solution (seconds):")
    print(f"{'assignment':<16}{'kernel+guard':>13}{'imports':>9}{'hidden tests':>14}{'rest':>8}{'fixed share':>13}")
    for a in ASSIGNMENTS:
        s = cost_split(a)
        fixed = s["kernel start + guard"] + s["imports cell"]
        total = sum(s.values())
        print(f"{a:<16}{s['kernel start + guard']:13.2f}{s['imports cell']:9.2f}{s['hidden tests']:14.2f}"
              f"{s['rest']:8.2f}{fixed / total:12.0%}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
