"""The self-check's speed: `python -m grader check` on a complete notebook of each
lesson (the reference answers in the released notebook), graded by the course's warm
check server (the default: grader/checkserver.py) against a check in its own process
(--no-server) and against every cell (--full, on the server), in turns, in one run; and
the first check of a session, which starts the server.

    .venv/bin/python benchmarks/check_speed.py [--rounds 3] [--assignments 01_momentum ...]

Before timing, each lesson's structure is built (.grader/build/, once per version of
the sources), as a self-learner's first check builds it. The servers run in a private
runtime folder and are stopped at the end. Prints the median wall seconds of each, the
ratio per lesson (server / --no-server) and the score of every check (full marks
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


def check(runtime, *args):
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "grader", "check", *map(str, args)], cwd=ROOT,
                         env=env() | {"GRADER_CHECK_SERVER": "on", "XDG_RUNTIME_DIR": str(runtime)},
                         capture_output=True, text=True)
    seconds = time.perf_counter() - start
    total = next((ln for ln in out.stdout.splitlines() if ln.startswith("total:")), f"exit {out.returncode}")
    if out.returncode != 0 and args and args[0] != "--stop":   # a complete notebook lost points: say where
        lost = [ln for ln in out.stdout.splitlines() if ln[:1].isalpha() and len(ln.split()) > 2
                and not ln.startswith("question ") and ln.split()[1] != ln.split()[2]]
        print(f"  {' '.join(map(str, args))}: {total}\n    " + "\n    ".join(lost + out.stderr.splitlines()[-5:]),
              flush=True)
    return seconds, total


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--assignments", nargs="+", choices=ASSIGNMENTS, default=ASSIGNMENTS)
    args = parser.parse_args()
    from grader import pipeline
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="bench-check-") as tmp:
        runtime = pathlib.Path(tmp) / "runtime"
        runtime.mkdir(mode=0o700)
        notebooks = {}
        for a in args.assignments:
            pipeline.structure(ROOT, a)
            released = next((ROOT / "course" / a).glob("*.ipynb"))
            notebooks[a] = pathlib.Path(tmp) / a / released.name
            fill(released, solution_code(a), notebooks[a])
        try:
            first = []
            for _ in range(args.rounds):
                check(runtime, "--stop")
                seconds, total = check(runtime, notebooks[args.assignments[0]])
                first.append(seconds)
            print(f"first check of a session ({args.assignments[0]}, starts the server): "
                  f"{statistics.median(first):5.1f} s (max {max(first):5.1f}) {total}", flush=True)
            rows = []
            for a in args.assignments:
                times = {"served": [], "here": [], "full": []}
                totals = set()
                for _ in range(args.rounds):
                    for kind, extra in (("served", ()), ("here", ("--no-server",)), ("full", ("--full",))):
                        seconds, total = check(runtime, notebooks[a], *extra)
                        times[kind].append(seconds)
                        totals.add(total)
                served, here, full = (statistics.median(times[k]) for k in ("served", "here", "full"))
                rows.append((a, served, max(times["served"])))
                print(f"{a:14s} check {served:5.1f} s (max {max(times['served']):5.1f})   --no-server {here:5.1f} s "
                      f"(ratio {served / here:.2f})   --full {full:5.1f} s   {' / '.join(sorted(totals))}", flush=True)
            worst = max(rows, key=lambda r: r[1])
            print(f"slowest check (median): {worst[1]:.1f} s, {worst[0]} (goal: at most 5 s); "
                  f"slowest single check {max(r[2] for r in rows):.1f} s")
        finally:
            check(runtime, "--stop")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
