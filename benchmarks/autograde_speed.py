"""Autograding speed: plain sequential `nbgrader autograde` against `python -m grader
autograde --jobs N`, on the same synthetic class, with the grades compared.

    .venv/bin/python benchmarks/autograde_speed.py [--students 40] [--jobs 2] [--assignments 06_practice ...]
    .venv/bin/python benchmarks/autograde_speed.py --baseline REV [--rounds 2]
    .venv/bin/python benchmarks/autograde_speed.py --versus-full [--rounds 2]
    .venv/bin/python benchmarks/autograde_speed.py --versus-cold [--rounds 2]
    .venv/bin/python benchmarks/autograde_speed.py --split

``--versus-full``: `grader autograde --jobs N` running only the cells grading needs (the
default, grader/skipping.py) against the same with ``--full`` (every cell), in turns, on
the same submissions; prints seconds per submission, the ratio and whether the grades
are the same. Plain nbgrader is not run then. ``--versus-cold``: the same race, warm
kernels (the default, grader/executor/warm.py) against ``--cold``. ``--split``: one
run with GRADER_TIMINGS set (grader/timings.py): the mean seconds per submission of each
phase (staging, the rebuild, the kernel's start, the setup cell, the answer cells, the
test cells and the verdicts inside them, the other cells, nbgrader's own work, reading
the outputs, and the command's gradebook write).

The class: ``--students`` submissions spread evenly over every released assignment,
cycling through each assignment's catalogue of submissions in tests/submissions/
(the reference, realistic wrong implementations, correct variants). Prints seconds
per submission for both ways, the speed-up, whether every graded cell got the same
score, and, per assignment, the fixed cost of a notebook (kernel start, imports,
imports) against the time spent in the hidden tests and the rest of the notebook.

``--baseline REV`` instead measures what a change costs: the same submissions graded
by `grader autograde --jobs N` of this tree and of REV (a git worktree, run with this
environment), in turns (REV, this, REV, this...), each on a course built from its own
tree's solutions/, and prints seconds per submission for both and the ratio this/REV
per round (the figure to quote: the median ratio), and which graded cells differ.
Plain nbgrader is not run then. (Known problem, 2026-12-02: the worktree's graded
kernels cannot import descentlab in their sandbox, so REV's side scores 0 everywhere
and its time is not a grading's; compare by checking REV's grader/ out in place.)
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

SELECTED = list(ASSIGNMENTS)   # --assignments narrows it


def build_class(root, n_students, tree=ROOT, pythonpath=None):
    shutil.copy(tree / "nbgrader_config.py", root / "nbgrader_config.py")
    for a in SELECTED:
        shutil.copytree(tree / "solutions" / a, root / "solutions" / a)
    run([sys.executable, "-m", "grader", "--root", str(root), "release"], cwd=tree, pythonpath=pythonpath)
    per = {a: n_students // len(SELECTED) + (i < n_students % len(SELECTED))
           for i, a in enumerate(SELECTED)}
    for a in SELECTED:
        students = importlib.import_module(f"tests.submissions.{a.split('_', 1)[1]}").STUDENTS
        names = sorted(students)
        reference = solution_code(a)
        released = next((root / "course" / a).glob("*.ipynb"))
        for k in range(per[a]):
            spec = students[names[k % len(names)]]
            fill(released, {**reference, **spec["code"]},
                 root / "submitted" / f"s{a[:2]}-{k:02d}" / a / released.name)
    # each assignment's structure (grader/pipeline.structure, kept in .grader/build/), built
    # now: otherwise the first timed run of a race would pay for it and the second not
    run([sys.executable, "-c", "import sys; from grader import pipeline\n"
                               "for a in sys.argv[2:]: pipeline.structure(sys.argv[1], a)", str(root), *SELECTED],
        cwd=tree, pythonpath=pythonpath)
    return per


def run(cmd, pythonpath=None, **kw):
    e = env()
    if pythonpath:
        e["PYTHONPATH"] = os.pathsep.join(map(str, pythonpath))
    out = subprocess.run(cmd, env=e, capture_output=True, text=True, **kw)
    if out.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(map(str, cmd))} exited {out.returncode}:\n"
                           f"{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
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
    for a in SELECTED:
        run([str(BIN / "nbgrader"), "autograde", a, "--force"], cwd=root)
    return time.perf_counter() - start


def parallel(root, jobs, db, tree=ROOT, pythonpath=None, extra=()):
    shutil.rmtree(root / "autograded", ignore_errors=True)
    with_db = pathlib.Path(db.replace("sqlite:///", ""))
    if with_db.exists():
        with_db.unlink()
    start = time.perf_counter()
    run([sys.executable, "-m", "grader", "--root", str(root), "autograde", "--jobs", str(jobs), "--db", db,
         *extra], cwd=tree, pythonpath=pythonpath)
    return time.perf_counter() - start


def against_baseline(args):
    """This tree's autograde against REV's, in turns, on the same submissions."""
    import statistics
    with tempfile.TemporaryDirectory(prefix="bench-baseline-") as tmp:
        tmp = pathlib.Path(tmp)
        wt = tmp / "baseline"
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(wt), args.baseline],
                       check=True, capture_output=True)
        try:
            old_path = [wt, wt / "toolkit"]
            (tmp / "old").mkdir()
            (tmp / "new").mkdir()
            per = build_class(tmp / "old", args.students, tree=wt, pythonpath=old_path)
            build_class(tmp / "new", args.students)
            n = args.students
            print(f"{n} submissions: " + ", ".join(f"{a} x{k}" for a, k in per.items()))
            rows = []
            for r in range(args.rounds):
                old = parallel(tmp / "old", args.jobs, f"sqlite:///{tmp / 'old.db'}", tree=wt, pythonpath=old_path)
                new = parallel(tmp / "new", args.jobs, f"sqlite:///{tmp / 'new.db'}")
                before, after = scores(f"sqlite:///{tmp / 'old.db'}"), scores(f"sqlite:///{tmp / 'new.db'}")
                same = before == after
                if not same:
                    cells = sorted(set(before) | set(after))
                    differ = [(c, before.get(c), after.get(c)) for c in cells if before.get(c) != after.get(c)]
                    print(f"  {len(differ)} of {len(cells)} graded cells differ (student, assignment, cell: "
                          f"{args.baseline}, this tree): {differ[:8]}", flush=True)
                rows.append(new / old)
                print(f"round {r + 1}: {args.baseline}: {old / n:5.2f} s per submission   this tree: "
                      f"{new / n:5.2f} s per submission   ratio {new / old:.3f}   identical grades: {same}",
                      flush=True)
            print(f"median ratio this/{args.baseline}: {statistics.median(rows):.3f} "
                  f"(min {min(rows):.3f}, max {max(rows):.3f}) over {len(rows)} rounds")
        finally:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(wt)], capture_output=True)


def versus(args, flag, theirs, ours):
    """The default against the same with ``flag`` (--full, --cold), in turns."""
    import statistics
    with tempfile.TemporaryDirectory(prefix="bench-versus-") as tmp:
        root = pathlib.Path(tmp)
        per = build_class(root, args.students)
        n = args.students
        print(f"{n} submissions: " + ", ".join(f"{a} x{k}" for a, k in per.items()))
        ratios = []
        for r in range(args.rounds):
            other = parallel(root, args.jobs, f"sqlite:///{root / 'other.db'}", extra=(flag,))
            default = parallel(root, args.jobs, f"sqlite:///{root / 'default.db'}")
            a, b = scores(f"sqlite:///{root / 'other.db'}"), scores(f"sqlite:///{root / 'default.db'}")
            ratios.append(default / other)
            if a != b:
                differ = [(c, a.get(c), b.get(c)) for c in sorted(set(a) | set(b)) if a.get(c) != b.get(c)]
                print(f"  {len(differ)} graded cells differ (student, assignment, cell: {flag}, default): "
                      f"{differ[:10]}", flush=True)
            print(f"round {r + 1}: {theirs} ({flag}) {other / n:5.2f} s per submission   {ours} (the default) "
                  f"{default / n:5.2f} s per submission   ratio {default / other:.3f}   identical grades: "
                  f"{a == b and len(a) > 0} ({len(a)} graded cells)", flush=True)
        print(f"median ratio default/{flag}: {statistics.median(ratios):.3f} over {len(ratios)} rounds")


def time_split(args):
    """One `grader autograde --jobs N` of the class with GRADER_TIMINGS set: per phase of
    a submission's grading, the mean seconds per submission (grader/timings.py)."""
    import json
    with tempfile.TemporaryDirectory(prefix="bench-split-") as tmp:
        root = pathlib.Path(tmp)
        per = build_class(root, args.students)
        n = args.students
        print(f"{n} submissions: " + ", ".join(f"{a} x{k}" for a, k in per.items()))
        log = root / "timings.jsonl"
        os.environ["GRADER_TIMINGS"] = str(log)
        try:
            wall = parallel(root, args.jobs, f"sqlite:///{root / 'split.db'}")
        finally:
            del os.environ["GRADER_TIMINGS"]
        lines = [json.loads(line) for line in log.read_text().splitlines()]
    totals = {}
    for line in lines:
        for phase, seconds in line["phases"].items():
            totals[phase] = totals.get(phase, 0.0) + seconds
    task_total = totals.get("the task, in all", 0.0)
    print(f"\n{n} submissions in {wall:.1f} s wall with --jobs {args.jobs}: {wall / n:.2f} s per submission")
    print(f"{'phase (a grading worker, then the command)':<72}{'s per submission':>18}{'share':>8}")
    for phase, seconds in sorted(totals.items(), key=lambda kv: -kv[1]):
        share = f"{seconds / task_total:7.0%}" if task_total and "command" not in phase else ""
        print(f"{phase:<72}{seconds / n:18.2f}{share:>8}")


def cost_split(assignment):
    """Seconds of one graded run of the solution notebook (hidden tests included):
    kernel start, the first (imports) cell, the graded test cells, the rest. (A plain
    kernel here: its hidden tests use the local grader, gradeclient's fallback.)"""
    path = notebook_of(assignment)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    split = {"kernel start": 0.0, "imports cell": 0.0, "hidden tests": 0.0, "rest": 0.0}
    t0 = time.perf_counter()
    with client.setup_kernel():
        split["kernel start"] = time.perf_counter() - t0
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
    parser.add_argument("--baseline", help="a git revision to compare this tree's autograde with")
    parser.add_argument("--rounds", type=int, default=2, help="with --baseline or --versus-full: turns of each")
    parser.add_argument("--versus-full", action="store_true",
                        help="time the default (only the cells grading needs) against --full")
    parser.add_argument("--split", action="store_true",
                        help="where a submission's time goes, phase by phase (grader/timings.py)")
    parser.add_argument("--versus-cold", action="store_true",
                        help="time the default (warm kernels) against --cold")
    parser.add_argument("--assignments", nargs="+", choices=ASSIGNMENTS, help="only these (default: all)")
    args = parser.parse_args()
    if args.assignments:
        SELECTED[:] = args.assignments
    os.environ["PATH"] = f"{BIN}{os.pathsep}{os.environ['PATH']}"
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    if args.split:
        time_split(args)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return
    if args.versus_full or args.versus_cold:
        if args.versus_full:
            versus(args, "--full", "every cell", "the cells grading needs")
        if args.versus_cold:
            versus(args, "--cold", "cold kernels", "warm kernels")
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return
    if args.baseline:
        against_baseline(args)
        print(f"load average after: {os.getloadavg()[0]:.2f}")
        return
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
    print(f"{'assignment':<16}{'kernel':>13}{'imports':>9}{'hidden tests':>14}{'rest':>8}{'fixed share':>13}")
    for a in SELECTED:
        s = cost_split(a)
        fixed = s["kernel start"] + s["imports cell"]
        total = sum(s.values())
        print(f"{a:<16}{s['kernel start']:13.2f}{s['imports cell']:9.2f}{s['hidden tests']:14.2f}"
              f"{s['rest']:8.2f}{fixed / total:12.0%}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
