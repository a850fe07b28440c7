"""How long each solution notebook takes to run headless (goal: under 20 s on 2 cores;
06_practice, which trains about 500 small networks, under 45 s).

    .venv/bin/python benchmarks/notebook_runtime.py [--repeat 3] [ASSIGNMENT ...]

Prints, per notebook, the wall time of a full nbclient run (kernel start included)
and the time of the slowest cells.
"""
import argparse
import pathlib
import statistics
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]


def run_once(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    cell_times = []
    start = time.perf_counter()
    with client.setup_kernel():
        kernel_ready = time.perf_counter()
        for i, cell in enumerate(nb.cells):
            t = time.perf_counter()
            client.execute_cell(cell, i)
            cell_times.append((time.perf_counter() - t, i))
    return time.perf_counter() - start, kernel_ready - start, sorted(cell_times, reverse=True)[:3]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("assignments", nargs="*", help="e.g. 06_practice (default: all)")
    args = parser.parse_args()
    for path in sorted((ROOT / "solutions").glob("*/*.ipynb")):
        if args.assignments and path.parent.name not in args.assignments:
            continue
        runs = [run_once(path) for _ in range(args.repeat)]
        totals = [r[0] for r in runs]
        slow = ", ".join(f"cell {i}: {t:.2f} s" for t, i in runs[-1][2])
        print(f"{path.relative_to(ROOT)}: median {statistics.median(totals):.1f} s, "
              f"max {max(totals):.1f} s over {args.repeat} runs "
              f"(kernel start {runs[-1][1]:.1f} s; slowest {slow})")


if __name__ == "__main__":
    main()
