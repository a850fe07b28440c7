"""The self-check's speed: `python -m grader check` on a complete notebook of each
lesson (the reference answers in the released notebook), running only the cells grading
needs with warm kernels (the default) against every cell (--full) and against kernels
started cold (--cold), in turns, in one run.

    .venv/bin/python benchmarks/check_speed.py [--rounds 3] [--assignments 01_momentum ...]

Before timing, one check per lesson builds its structure (.grader/build/, once per
version of the sources); the figures are the checks after that, as a self-learner who
checks again and again gets them. Prints the median wall seconds of each and the ratio
per lesson (default/--full, default/--cold), and the score of every check (full marks
expected).
"""
import argparse
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.course import ASSIGNMENTS, env, fill, solution_code  # noqa: E402


def check(notebook, *extra):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "grader", "check", str(notebook), *extra], cwd=ROOT, env=env(),
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    total = next((ln for ln in out.stdout.splitlines() if ln.startswith("total:")), f"exit {out.returncode}")
    return seconds, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assignments", nargs="+", choices=ASSIGNMENTS, default=ASSIGNMENTS)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        rows = []
        for a in args.assignments:
            released = next((ROOT / "course" / a).glob("*.ipynb"))
            nb = pathlib.Path(tmp) / a / released.name
            fill(released, solution_code(a), nb)
            first, _ = check(nb)
            times = {"needed": [], "full": [], "cold": []}
            totals = set()
            for _ in range(args.rounds):
                for kind, extra in (("needed", ()), ("full", ("--full",)), ("cold", ("--cold",))):
                    seconds, total = check(nb, *extra)
                    times[kind].append(seconds)
                    totals.add(total)
            needed, full, cold = (statistics.median(times[k]) for k in ("needed", "full", "cold"))
            rows.append((a, first, needed, full))
            print(f"{a:14s} first check {first:5.1f} s   then {needed:5.1f} s (max {max(times['needed']):5.1f})"
                  f"   --full {full:5.1f} s (ratio {needed / full:.2f})   --cold {cold:5.1f} s (ratio "
                  f"{needed / cold:.2f})   {' / '.join(sorted(totals))}", flush=True)
        worst = max(r[2] for r in rows)
        print(f"slowest check (median): {worst:.1f} s (goal: at most 5 s)")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
