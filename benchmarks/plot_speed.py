"""How fast the interactive plots follow their sliders. Goals, with 3 optimizers and 300
steps: median update at most 50 ms in the kernel, at most 100 ms from key press to the
repainted canvas in the browser.

    .venv/bin/python benchmarks/plot_speed.py [--moves 50] [--presses 20] [--no-browser] [--baseline] [NOTEBOOK ...]

NOTEBOOK: paths of solution notebooks (default: every solutions/*/*.ipynb).

Kernel side: runs the notebook headless (nbclient), then in the same kernel finds every
LiveFigure it made (every interactive plot, whatever helper built it), sets its "steps"
slider to 300 where it has one, and moves its first hyperparameter slider one keyboard
step at a time, ``--moves`` times. Each move is timed as the kernel does it under
ipympl: the slider callback (``update``: recompute the paths, update the artists, and
either blit the foreground over the kept background and send the changed pixels, or,
when the background changed, ``draw_idle``) and, after a ``draw_idle``, the full render
the page then asks for (``canvas.draw``: Agg render of everything, PNG, send).
Wall time and CPU time (the CPU time is less disturbed by a busy machine).

Browser side: opens the notebook in JupyterLab with Debian's chromium (the machinery of
tests/e2e/browser.py), runs it, types 300 into the "steps" readout, then presses
ArrowRight on the same slider ``--presses`` times, one at a time, and measures from the
keydown event to the next paint of the canvas (ipympl paints each frame with one
drawImage on it).
"""
import argparse
import json
import pathlib
import sys
import tempfile
import time

import nbformat
import numpy as np
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
STEPS = 300

KERNEL_BENCH = r'''
import gc, json, math, time
import ipywidgets as _W
from descentlab.live import LiveFigure as _LiveFigure

def _keyboard_step(w, direction):
    """The value one ArrowRight (or ArrowLeft) press gives the slider."""
    if isinstance(w, _W.FloatLogSlider):
        e = min(max(math.log(w.value, w.base) + direction * w.step, w.min), w.max)
        return w.base ** e
    return min(max(w.value + direction * w.step, w.min), w.max)

def _moving_slider(fig):
    for name, w in fig.sliders.items():
        if name != "steps" and not name.startswith("start") and isinstance(
                w, (_W.FloatSlider, _W.FloatLogSlider, _W.IntSlider)):
            return name
    return next(iter(fig.sliders))

def _timed(fn, part, spent):
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[part] = spent.get(part, 0.0) + time.perf_counter() - t
    return timed

def _bench(moves, steps):
    out = []
    for fig in [o for o in gc.get_objects() if isinstance(o, _LiveFigure)]:
        fig.canvas.syncing_data_url = False  # as with a browser attached: frames go out as PNG data
        if "steps" in fig.sliders:
            fig.set(steps=steps)
        name = _moving_slider(fig)
        w = fig.sliders[name]
        asked = []
        fig.canvas.draw_idle = lambda: asked.append(1)  # the page would now ask for a full render
        spent = {}
        for owner, attr, part in ((fig, "draw", "compute"), (fig, "_draw_foreground", "foreground"),
                                  (fig.canvas, "get_diff_image", "encode")):
            setattr(owner, attr, _timed(getattr(owner, attr), part, spent))
        fig.canvas.draw()                               # the first frame the page asks for
        rows, errors = [], []
        for k in range(moves):  # half the moves to the right, then back: around the notebook's setting
            direction = 1 if k < moves // 2 else -1
            new = _keyboard_step(w, direction)
            n = len(asked)
            spent.clear()
            t0, c0 = time.perf_counter(), time.process_time()
            try:
                w.value = new                  # the slider callback: update() and a blit, or draw_idle()
                t1 = time.perf_counter()
                full = len(asked) > n
                if full:
                    fig.canvas.draw()          # the full render ipympl asks for after draw_idle
            except Exception as e:
                errors.append(f"{name}={w.value:.4g}: {type(e).__name__}: {e}")
                continue
            t2, c2 = time.perf_counter(), time.process_time()
            rows.append((t1 - t0, (t2 - t1) if full else float("nan"), t2 - t0, c2 - c0, full,
                         *(float("nan") if full else spent.get(k, 0.0) for k in ("compute", "foreground", "encode"))))
        out.append({"model_id": fig.canvas.model_id, "kind": type(fig).__name__, "slider": name,
                    "paths": len(getattr(fig, "paths", [])) or None,
                    "steps": fig.sliders["steps"].value if "steps" in fig.sliders else None,
                    "title": fig.title, "rows": rows, "errors": errors})
    return out

print("BENCH" + json.dumps(_bench(MOVES, STEPS)))
'''


def q(values, p):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.percentile(values * 1000, p)) if values.size else float("nan")


def kernel_side(path, moves):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    code = KERNEL_BENCH.replace("MOVES", str(moves)).replace("STEPS", str(STEPS))
    with client.setup_kernel():
        for i, cell in enumerate(nb.cells):
            client.execute_cell(cell, i)
        nb.cells.append(nbformat.v4.new_code_cell(code))
        client.execute_cell(nb.cells[-1], len(nb.cells) - 1)
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    results = json.loads(text.split("BENCH", 1)[1])
    cell_of = {}
    for i, cell in enumerate(nb.cells[:-1]):
        for o in cell.get("outputs", []):
            view = o.get("data", {}).get("application/vnd.jupyter.widget-view+json")
            if view:
                cell_of[view["model_id"]] = i
    for r in results:
        r["cell"] = cell_of.get(r["model_id"])
    return sorted(results, key=lambda r: (r["cell"] is None, r["cell"]))


def browser_side(path, presses):
    sys.path.insert(0, str(ROOT))
    from playwright.sync_api import sync_playwright

    from tests.e2e.browser import VIEWPORT, Lab, NotebookPage, chromium_missing_reason, launch_chromium
    reason = chromium_missing_reason()
    if reason:
        print(f"browser side skipped: {reason}")
        return []
    rel = path.resolve().relative_to(ROOT).as_posix()
    out = []
    with tempfile.TemporaryDirectory() as home:
        lab = Lab(home).start()
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                page = browser.new_context(viewport=VIEWPORT).new_page()
                nb = NotebookPage(page, lab, rel).open()
                nb.run_all()
                for plot in nb.plots():
                    out.append({"cell": plot.cell_index, **time_presses(page, plot, presses)})
                browser.close()
        finally:
            lab.stop()
    return out


def time_presses(page, plot, presses):
    plot.cell.scroll_into_view_if_needed()
    plot.check_rendered()
    plot.watch_paints()
    plot.settle()
    boxes = plot.cell.locator(".widget-slider")
    labels = [t.strip() for t in boxes.locator(".widget-label").all_text_contents()]
    if "steps" in labels:  # through the readout, as a student can
        readout = boxes.nth(labels.index("steps")).locator(".widget-readout")
        readout.click()
        page.keyboard.press("Control+A")
        page.keyboard.type(str(STEPS))
        page.keyboard.press("Enter")
        plot.settle()
    handle = plot.movable_handle()
    name, _ = plot.slider_label_and_readout(handle)
    handle.evaluate("h => { window.__keys = []; "
                    "h.addEventListener('keydown', () => window.__keys.push(performance.now()), true); }")
    handle.focus()
    lat, key = [], "ArrowRight"
    for _ in range(presses):
        if handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax"):
            key = "ArrowLeft"
        elif handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin"):
            key = "ArrowRight"
        n = len(plot.paints())
        page.keyboard.press(key)
        deadline = time.monotonic() + 120
        while len(plot.paints()) <= n and time.monotonic() < deadline:
            time.sleep(0.005)
        paints, keys = plot.paints(), page.evaluate("() => window.__keys")
        if len(paints) > n and keys:
            lat.append((paints[n] - keys[-1]) / 1000)
        plot.settle(quiet=0.3)
    return {"slider": name, "rows": lat}


BASELINE = """import numpy as np
from descentlab.live import LiveFigure

class Baseline(LiveFigure):
    # what the platform costs: an update that draws one 50-point line and nothing else
    def setup(self, figure):
        self.ax = figure.subplots()
        self.ax.set_xlim(0, 1)
        self.ax.set_ylim(-1, 1)
        self.line, = self.ax.plot([], [])

    def draw(self, values):
        x = np.linspace(0, 1, 50)
        self.line.set_data(x, np.sin(2 * np.pi * x * values["lr"]))

Baseline({"lr": (0.0, 2.0, 1.0)}, title="baseline")"""


def baseline_notebook():
    """build/plot-speed-baseline.ipynb: a LiveFigure of the explorers' size that does almost nothing."""
    path = ROOT / "build" / "plot-speed-baseline.ipynb"
    path.parent.mkdir(exist_ok=True)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(BASELINE)], metadata={
        "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
    nbformat.write(nb, path)
    return path


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--baseline", action="store_true",
                        help="also time a figure whose update does almost nothing (what the platform costs)")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if args.baseline:
        paths = [*paths, baseline_notebook()]
    print(f"goals: median <= 50 ms in the kernel, <= 100 ms key to paint; {STEPS} steps; "
          f"load average now {open('/proc/loadavg').read().split()[:3]}")
    print(f"\nkernel side, {args.moves} slider moves per plot (ms: median / p95; CPU ms: median); "
          "update = the slider callback (a blitted frame included), full = moves that needed a full render")
    print(f"{'notebook':34s} {'cell':>4s} {'plot':16s} {'paths':>5s} {'steps':>5s} {'slider':>10s} "
          f"{'update':>13s} {'full':>5s} {'full render':>13s} {'total':>13s} {'total CPU':>9s}"
          f"   blitted frames: {'compute':>7s} {'fg':>4s} {'encode':>6s}")
    for path in paths:
        rel = path.resolve().relative_to(ROOT).as_posix()
        for r in kernel_side(path.resolve(), args.moves):
            rows = list(zip(*r["rows"], strict=True)) or [[float("nan")]] * 8
            cols = [f"{q(v, 50):6.0f}/{q(v, 95):6.0f}" for v in rows[:3]]
            full = f"{sum(rows[4])}" if r["rows"] else "-"
            print(f"{rel:34s} {str(r['cell']):>4s} {r['kind']:16s} {str(r['paths'] or '-'):>5s} "
                  f"{str(r['steps'] or '-'):>5s} {r['slider']:>10s} {cols[0]} {full:>5s} {cols[1]} {cols[2]} "
                  f"{q(rows[3], 50):9.0f}   {'':16s}{q(rows[5], 50):7.0f} {q(rows[6], 50):4.0f} {q(rows[7], 50):6.0f}")
            if r["errors"]:
                print(f"    {len(r['errors'])} of {args.moves} moves failed, first: {r['errors'][0][:200]}")
    if args.no_browser:
        print(f"\nload average at the end {open('/proc/loadavg').read().split()[:3]}")
        return
    print(f"\nbrowser side, {args.presses} key presses per plot (ms from keydown to the repainted canvas); "
          f"load average now {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'notebook':34s} {'cell':>4s} {'slider':>10s} {'median':>7s} {'p95':>7s} {'n':>3s}")
    for path in paths:
        rel = path.resolve().relative_to(ROOT).as_posix()
        for r in browser_side(path, args.presses):
            v = r["rows"]
            med, p95 = (q(v, 50), q(v, 95)) if v else (float("nan"), float("nan"))
            print(f"{rel:34s} {r['cell']:>4d} {r['slider']:>10s} {med:7.0f} {p95:7.0f} {len(v):>3d}")
    print(f"\nload average at the end {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
