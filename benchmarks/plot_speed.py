"""How fast the interactive plots follow their sliders. Goals, with 3 optimizers and 300
steps: median update at most 50 ms in the kernel, at most 100 ms from key press to the
repainted canvas in the browser.

    .venv/bin/python benchmarks/plot_speed.py [--moves 50] [--presses 20] [--no-browser] [--no-kernel]
                                              [--before] [--baseline] [NOTEBOOK ...]

NOTEBOOK: paths of solution notebooks (default: every solutions/*/*.ipynb).

Kernel side: runs the notebook headless (nbclient), then in the same kernel finds every
LiveFigure it made (every interactive plot, whatever helper built it), sets its "steps"
slider to 300 where it has one, and moves its first hyperparameter slider one keyboard
step at a time, ``--moves`` times (back at an end of the slider). Each move is timed as
the kernel does it under ipympl: the slider callback (``update``: recompute the paths,
update the artists, and either blit the foreground over the kept background and send
the frame, or, when the background changed, render everything and send it, ``full
render``). Then it clicks each of the figure's ``click_points()`` ``--moves`` times, a
little apart each time, as the page sends a click (button_press, button_release), with
the moved slider back at the notebook's setting.
Wall time and CPU time (the CPU time is less disturbed by a busy machine). ``--before``
times each plot first as designed on 2026-11-23 (layout at every full render, every
path computed again at every move), then as now, in the same kernel.

Browser side: opens the notebook in JupyterLab with Debian's chromium (the machinery of
tests/e2e/browser.py), runs it, types 300 into the "steps" readout, then presses
ArrowRight on the same slider ``--presses`` times, one at a time, and measures from the
keydown event to the next paint of the canvas (ipympl paints each frame with one
drawImage on it); then presses the slider back to the notebook's setting, clicks each of
the figure's click points ``--presses`` times (a little apart each time) and measures
from mousedown to the next paint.
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
import numpy as np
from descentlab.live import LiveFigure as _LiveFigure

def _keyboard_step(w, direction):
    """The value one ArrowRight (or ArrowLeft) press gives the slider."""
    if isinstance(w, _W.FloatLogSlider):
        e = min(max(math.log(w.value, w.base) + direction * w.step, w.min), w.max)
        return w.base ** e
    if isinstance(w, _W.SelectionSlider):  # the next option (the batch explorer's batch sizes)
        values = [v for _, v in w._options_full] if hasattr(w, "_options_full") else list(w.options)
        k = min(max(values.index(w.value) + direction, 0), len(values) - 1)
        return values[k]
    return min(max(w.value + direction * w.step, w.min), w.max)

def _moving_slider(fig):
    for name, w in fig.sliders.items():
        if name != "steps" and not name.startswith("start") and isinstance(
                w, (_W.FloatSlider, _W.FloatLogSlider, _W.IntSlider, _W.SelectionSlider)):
            return name  # the first slider, as the browser side moves
    return next(iter(fig.sliders))

def _timed(fn, part, spent):
    def timed(*args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            spent[part] = spent.get(part, 0.0) + time.perf_counter() - t
    return timed

def _timed_move(fig, action, asked, spent):
    """One slider move or click: (update, full render, total, total CPU, full?, compute, fg, encode).
    A full render is made in the callback (LiveFigure.refresh), or asked of the page (draw_idle)."""
    n, full_before = len(asked), fig.frames["full"]
    spent.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    action()                           # the callback: update(), then a blit or a full render
    t1 = time.perf_counter()
    if len(asked) > n:
        fig.canvas.draw()              # the full render ipympl's page asks for after draw_idle
    t2, c2 = time.perf_counter(), time.process_time()
    full = fig.frames["full"] > full_before
    render = spent.get("render", float("nan")) if full else float("nan")
    return (t1 - t0, render, t2 - t0, c2 - c0, full,
            *(float("nan") if full else spent.get(k, 0.0) for k in ("compute", "foreground", "encode")))

def _click(fig, fx, fy):
    """What the page sends for a left click at (fx, fy) of the canvas (from its top left)."""
    w, h = fig.canvas.get_width_height()
    for kind, buttons in (("button_press", 1), ("button_release", 0)):
        fig.canvas.manager.handle_json({"type": kind, "x": fx * w, "y": fy * h, "button": 0, "buttons": buttons,
                                        "modifiers": [], "guiEvent": {}})

def _bench_figure(fig, moves, steps):
    fig.canvas.syncing_data_url = False  # as with a browser attached: frames go out as PNG data
    if "steps" in fig.sliders:
        fig.set(steps=steps)
    name = _moving_slider(fig)
    asked = []
    fig.canvas.draw_idle = lambda: asked.append(1)  # the page would now ask for a full render
    spent = {}
    timed = ((fig, "draw", "compute"), (fig, "_draw_foreground", "foreground"),
             (fig.canvas, "get_diff_image", "encode"), (fig.canvas, "draw", "render"))
    for owner, attr, part in timed:
        setattr(owner, attr, _timed(getattr(owner, attr), part, spent))
    try:
        return _moves_and_clicks(fig, moves, name, asked, spent)
    finally:
        for owner, attr, _part in timed:  # the methods as they were (another design may be timed next)
            vars(owner).pop(attr)
        vars(fig.canvas).pop("draw_idle")

def _moves_and_clicks(fig, moves, name, asked, spent):
    w = fig.sliders[name]
    start = w.value
    fig.canvas.draw()                               # the first frame the page asks for
    rows, errors, direction = [], [], 1
    for k in range(moves):  # half the moves to the right, then back: around the notebook's setting
        direction = 1 if k < moves // 2 else -1
        new = _keyboard_step(w, direction)
        if new == w.value:  # at an end of the slider: back the other way
            new = _keyboard_step(w, -direction)
        try:
            rows.append(_timed_move(fig, lambda: setattr(w, "value", new), asked, spent))
        except Exception as e:
            errors.append(f"{name}={w.value:.4g}: {type(e).__name__}: {e}")
    if w.value != start:  # the clicks at the notebook's settings, as a student first sees them
        fig.set(**{name: start})
    clicks = {}
    points = {k: tuple(map(float, v)) for k, v in fig.click_points().items()}
    jitter = np.random.default_rng(0)
    for label, (fx, fy) in points.items():
        clicks[label] = []
        for k in range(moves):  # a little apart each time, so that each click moves something
            dx, dy = jitter.uniform(-0.02, 0.02, 2)
            try:
                clicks[label].append(_timed_move(fig, lambda: _click(fig, fx + dx, fy + dy), asked, spent))
            except Exception as e:
                errors.append(f"click {label}: {type(e).__name__}: {e}")
    return {"model_id": fig.canvas.model_id, "kind": type(fig).__name__, "slider": name,
            "paths": len(getattr(fig, "paths", [])) or None,
            "steps": fig.sliders["steps"].value if "steps" in fig.sliders else None,
            "title": fig.title, "rows": rows, "errors": errors, "click_points": points, "clicks": clicks}

def _as_before(fig):
    """The design of 2026-11-23, for a comparison in the same kernel: the layout runs at
    every full render, every path and the full-batch run are computed again at every move."""
    from descentlab.batch_plot import record_run
    from descentlab.runner import run
    fig.render = lambda agg_draw: (fig._thaw(), agg_draw())
    if hasattr(fig, "_run"):
        fig._run = lambda p, land, x0, steps, values: run(p.step, land, x0, steps, **p.hyper(values))
    if hasattr(fig, "_full_batch_run"):
        fig._full_batch_run = lambda lr, epochs, w0: record_run(
            fig.problem, fig.train_minibatch_sgd, fig.problem.n, lr, epochs, np.random.default_rng(fig.seed), w0=w0)

def _bench(moves, steps, before):
    import warnings
    with warnings.catch_warnings():  # isinstance on some of torch's objects warns of their deprecation
        warnings.simplefilter("ignore")
        figures = [o for o in gc.get_objects() if isinstance(o, _LiveFigure)]
    out = []
    for fig in figures:
        if before:
            _as_before(fig)
            out.append({**_bench_figure(fig, moves, steps), "design": "before"})
            for name in ("render", "_run", "_full_batch_run"):
                vars(fig).pop(name, None)
        out.append(_bench_figure(fig, moves, steps))
    return out

print("BENCH" + json.dumps(_bench(MOVES, STEPS, BEFORE)))
'''


def q(values, p):
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    return float(np.percentile(values * 1000, p)) if values.size else float("nan")


def kernel_side(path, moves, before=False):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=900, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    code = KERNEL_BENCH.replace("MOVES", str(moves)).replace("STEPS", str(STEPS)).replace("BEFORE", str(before))
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


# the page's websocket traffic, timed on the clock the kernel's time.time() reads (epoch ms)
WS_LOG = """(() => {
  window.__ws = [];
  const Native = window.WebSocket;
  const now = () => performance.timeOrigin + performance.now();
  window.WebSocket = function (...args) {
    const ws = new Native(...args);
    ws.addEventListener('message', e => window.__ws.push(['in', now(), e.data.byteLength ?? e.data.length ?? 0]));
    const send = ws.send.bind(ws);
    ws.send = d => { window.__ws.push(['out', now()]); return send(d); };
    return ws;
  };
  window.WebSocket.prototype = Native.prototype;
  Object.assign(window.WebSocket, Native);
})();"""

# in the kernel: when the figure of canvas MODEL_ID takes a slider's change, and when its frame is sent
KERNEL_LOG = r"""
def _legs_install(model_id):
    import gc, time, warnings
    from descentlab.live import LiveFigure
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = next(o for o in gc.get_objects() if isinstance(o, LiveFigure) and o.canvas.model_id == model_id)
    log, changed, refresh_all = [], fig._on_change, fig.canvas.manager.refresh_all
    def on_change(change):
        log.append(("in", time.time() * 1000))
        changed(change)
    def sent():
        log.append(("send", time.time() * 1000))
        refresh_all()
        log.append(("sent", time.time() * 1000))
    for w in fig.sliders.values():
        w.unobserve(changed, names="value")
        w.observe(on_change, names="value")
    fig.canvas.manager.refresh_all = sent
    globals()["_legs_log"] = log
_legs_install(MODEL_ID)
del _legs_install
"""
LEGS = ("page to kernel", "kernel: update", "kernel: send", "kernel to page", "page: decode, paint")


def browser_side(path, presses, legs=False, nagle=False):
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
        lab = Lab(home, flags=() if nagle else Lab.COURSE_FLAGS).start()
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw)
                context = browser.new_context(viewport=VIEWPORT)
                if legs:
                    context.add_init_script(WS_LOG)
                page = context.new_page()
                nb = NotebookPage(page, lab, rel).open()
                nb.run_all()
                for plot in nb.plots():
                    if legs:
                        model = json.dumps(nb.canvas_model_id(plot.cell_index))
                        nb.kernel_print(KERNEL_LOG.replace("MODEL_ID", model))
                    out.append({"cell": plot.cell_index, **time_presses(page, plot, presses, nb if legs else None),
                                "clicks": time_clicks(page, plot, presses)})
                browser.close()
        finally:
            lab.stop()
    return out


def press_legs(page, nb, key_at, paint_at):
    """One press's legs (ms): keydown to the kernel taking the change, the update, sending
    the frame, the frame's way to the page, and from there to the paint."""
    kernel = dict(reversed(json.loads(nb.kernel_print("import json; print(json.dumps(_legs_log))"))))
    origin = page.evaluate("performance.timeOrigin")
    key, paint = origin + key_at, origin + paint_at
    frames = [t for d, t, *size in page.evaluate("window.__ws") if d == "in" and t >= key and size[0] > 10_000]
    if not frames or "in" not in kernel or "sent" not in kernel:
        return [float("nan")] * len(LEGS)
    return [kernel["in"] - key, kernel["send"] - kernel["in"], kernel["sent"] - kernel["send"],
            frames[0] - kernel["sent"], paint - frames[0]]


def time_presses(page, plot, presses, legs_of=None):
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
    lat, key, moved, legs = [], "ArrowRight", 0, []
    for _ in range(presses):
        if handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemax"):
            key = "ArrowLeft"
        elif handle.get_attribute("aria-valuenow") == handle.get_attribute("aria-valuemin"):
            key = "ArrowRight"
        if legs_of is not None:  # each press's own records (kept out of the timed part)
            legs_of.kernel_print("_legs_log.clear()")
            page.evaluate("window.__ws = []")
        n = len(plot.paints())
        page.keyboard.press(key)
        moved += 1 if key == "ArrowRight" else -1
        deadline = time.monotonic() + 120
        while len(plot.paints()) <= n and time.monotonic() < deadline:
            time.sleep(0.005)
        paints, keys = plot.paints(), page.evaluate("() => window.__keys")
        if len(paints) > n and keys:
            lat.append((paints[n] - keys[-1]) / 1000)
        plot.settle(quiet=0.3)
        if legs_of is not None and len(paints) > n and keys:
            legs.append(press_legs(page, legs_of, keys[-1], paints[n]))
    for _ in range(abs(moved)):  # back to the notebook's setting, where the clicks are timed
        page.keyboard.press("ArrowLeft" if moved > 0 else "ArrowRight")
        page.wait_for_timeout(50)
    plot.settle(quiet=0.3)
    return {"slider": name, "rows": lat, "legs": legs}


def time_clicks(page, plot, presses):
    """Click each of the figure's click points (its ``click_points()``) ``presses`` times, a
    little apart each time (so that each click changes something), from mousedown to the
    next paint of the canvas. Returns {label: [seconds, ...]}."""
    points = plot.click_points()
    if not points:
        return {}
    plot.canvas.scroll_into_view_if_needed()
    page.evaluate("() => { window.__downs = []; window.addEventListener('mousedown', "
                  "() => window.__downs.push(performance.now()), true); }")
    jitter, out = np.random.default_rng(0), {}
    for label, (fx, fy) in points.items():
        out[label] = []
        for _ in range(presses):
            dx, dy = jitter.uniform(-0.02, 0.02, 2)
            box = plot.canvas.bounding_box()
            n = len(plot.paints())
            page.mouse.click(box["x"] + (fx + dx) * box["width"], box["y"] + (fy + dy) * box["height"])
            deadline = time.monotonic() + 120
            while len(plot.paints()) <= n and time.monotonic() < deadline:
                time.sleep(0.005)
            paints, downs = plot.paints(), page.evaluate("() => window.__downs")
            if len(paints) > n and downs:
                out[label].append((paints[n] - downs[-1]) / 1000)
            plot.settle(quiet=0.3)
    return out


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


def print_kernel_row(rel, r, what, moves):
    rows = list(zip(*moves, strict=True)) or [[float("nan")]] * 8
    cols = [f"{q(v, 50):6.0f}/{q(v, 95):6.0f}" for v in rows[:3]]
    full = f"{sum(rows[4])}" if moves else "-"
    kind = r["kind"] + (" (before)" if r.get("design") == "before" else "")
    print(f"{rel:34s} {str(r['cell']):>4s} {kind:16s} {str(r['paths'] or '-'):>5s} "
          f"{str(r['steps'] or '-'):>5s} {what:>10s} {cols[0]} {full:>5s} {cols[1]} {cols[2]} "
          f"{q(rows[3], 50):9.0f}   {'':16s}{q(rows[5], 50):7.0f} {q(rows[6], 50):4.0f} {q(rows[7], 50):6.0f}")


def rate_map_time(repeat=20):
    """Median ms to compute the rate maps of notebook 01's explorer (both methods, the grid
    MomentumExplorer draws): once per landscape, then only the markers move (goal < 30 ms)."""
    from descentlab import momentum_map, momentum_rates
    lrs = np.geomspace(1e-3, 0.1, momentum_map.MAP_GRID[0])
    betas = np.linspace(0.0, 0.99, momentum_map.MAP_GRID[1])
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        for method in momentum_rates.METHODS:
            momentum_rates.rate_grid(method, lrs, betas, [1.0, 50.0])
        times.append(time.perf_counter() - t)
    return 1000 * float(np.median(times))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    parser.add_argument("--moves", type=int, default=50)
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-kernel", action="store_true", help="the browser side only")
    parser.add_argument("--before", action="store_true",
                        help="kernel side: time each plot first as designed on 2026-11-23 (layout at every full "
                             "render, every run again at every move), then as now, in the same kernel")
    parser.add_argument("--legs", action="store_true",
                        help="browser side: split each key press into its legs (page to kernel, update, send, "
                             "kernel to page, decode and paint), from timestamps in the page and the kernel")
    parser.add_argument("--nagle", action="store_true",
                        help="browser side: a plain JupyterLab server (Nagle's algorithm on its kernel websockets), "
                             "not the course's (descentlab.lab_server)")
    parser.add_argument("--baseline", action="store_true",
                        help="also time a figure whose update does almost nothing (what the platform costs)")
    args = parser.parse_args()
    paths = args.notebooks or sorted((ROOT / "solutions").glob("*/*.ipynb"))
    if args.baseline:
        paths = [*paths, baseline_notebook()]
    print(f"goals: median <= 50 ms in the kernel, <= 100 ms key to paint; {STEPS} steps; "
          f"load average now {open('/proc/loadavg').read().split()[:3]}")
    print(f"rate maps of notebook 01 (both methods): {rate_map_time():.1f} ms median, computed once per "
          "landscape (goal < 30 ms)")
    print(f"\nkernel side, {args.moves} slider moves per plot (ms: median / p95; CPU ms: median); "
          "update = the slider callback (a blitted frame included), full = moves that needed a full render")
    print(f"{'notebook':34s} {'cell':>4s} {'plot':16s} {'paths':>5s} {'steps':>5s} {'slider':>10s} "
          f"{'update':>13s} {'full':>5s} {'full render':>13s} {'total':>13s} {'total CPU':>9s}"
          f"   blitted frames: {'compute':>7s} {'fg':>4s} {'encode':>6s}")
    for path in [] if args.no_kernel else paths:
        rel = path.resolve().relative_to(ROOT).as_posix()
        for r in kernel_side(path.resolve(), args.moves, args.before):
            print_kernel_row(rel, r, r["slider"], r["rows"])
            for label, rows in r.get("clicks", {}).items():
                print_kernel_row(rel, r, f"click {label}", rows)
            if r["errors"]:
                print(f"    {len(r['errors'])} of {args.moves} moves failed, first: {r['errors'][0][:200]}")
    if args.no_browser:
        print(f"\nload average at the end {open('/proc/loadavg').read().split()[:3]}")
        return
    print(f"\nbrowser side, {args.presses} key presses (and clicks at each click point) per plot "
          "(ms from keydown, or mousedown, to the repainted canvas); "
          f"load average now {open('/proc/loadavg').read().split()[:3]}")
    print(f"{'notebook':34s} {'cell':>4s} {'slider':>10s} {'median':>7s} {'p95':>7s} {'n':>3s}")
    for path in paths:
        rel = path.resolve().relative_to(ROOT).as_posix()
        for r in browser_side(path, args.presses, args.legs, args.nagle):
            v = r["rows"]
            med, p95 = (q(v, 50), q(v, 95)) if v else (float("nan"), float("nan"))
            legs = ""
            if r["legs"]:
                columns = np.array(r["legs"]).T
                legs = "   legs (median ms): " + ", ".join(
                    f"{name} {np.nanmedian(column):.0f}" for name, column in zip(LEGS, columns, strict=True))
            print(f"{rel:34s} {r['cell']:>4d} {r['slider']:>10s} {med:7.0f} {p95:7.0f} {len(v):>3d}{legs}")
            for label, v in r.get("clicks", {}).items():
                med, p95 = (q(v, 50), q(v, 95)) if v else (float("nan"), float("nan"))
                print(f"{rel:34s} {r['cell']:>4d} {'click ' + label:>10s} {med:7.0f} {p95:7.0f} {len(v):>3d}")
    print(f"\nload average at the end {open('/proc/loadavg').read().split()[:3]}")


if __name__ == "__main__":
    main()
