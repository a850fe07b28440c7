"""Drive the course in a real JupyterLab and a real browser (Debian's chromium through
Playwright): start the server, open a notebook, run it from the menus, find the
interactive plots, move their sliders and check that the figure follows.

Used by tests/e2e/test_browser.py and by benchmarks/plot_speed.py. Everything here
waits generously: the tests must hold on a loaded 2-core machine.
"""
import base64
import hashlib
import json
import os
import pathlib
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

from descentlab import lab_server

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = pathlib.Path(sys.executable).parent
CHROMIUM = pathlib.Path(os.environ.get("COURSE_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]
SCREENSHOTS = ROOT / "build" / "e2e-screenshots"
# a laptop-sized window: every output must fit its notebook column with the file browser
# open (NotebookPage.overflowing)
VIEWPORT = {"width": 1280, "height": 900}

# Settings of the throwaway JupyterLab user: no news pop-up, no update check, and no
# autosave (the tests run the committed notebooks in place and must never write them).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                        "checkForUpdates": False},
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
}

STDERR_OUTPUTS = ".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']"
# prints, as JSON, EXPRESSION of the LiveFigure ``fig`` whose canvas is MODEL_ID (null if none)
FIGURE_QUERY = """
def _e2e_query(model_id):
    import gc, json, warnings
    from descentlab.live import LiveFigure
    with warnings.catch_warnings():  # isinstance on some of torch's objects warns of their deprecation
        warnings.simplefilter("ignore")
        figures = [o for o in gc.get_objects() if isinstance(o, LiveFigure) and o.canvas.model_id == model_id]
    print(json.dumps([EXPRESSION for fig in figures[:1]] or None))
_e2e_query(MODEL_ID)
del _e2e_query
"""
NOTEBOOK_TIMEOUT = 900  # seconds for a whole notebook (a loaded machine runs 01 in ~45 s)
UPDATE_TIMEOUT = 120    # seconds for a figure to follow a slider


def chromium_missing_reason():
    """None when the browser tests can run, else why not (for a skip or a failure)."""
    if not CHROMIUM.exists():
        return (f"Debian's chromium is not installed at {CHROMIUM}: the browser tests (tests/e2e) need it. "
                f"Install it with `bash .ci/install-browser` (root: apt-get install chromium)")
    return None


# ---------------------------------------------------------------- the server
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server from the course's venv on a loopback port with a random token,
    serving the repository, with its own settings, workspaces, runtime and checkpoint
    folders under ``home`` so that nothing leaks between runs or into the repository."""

    # what ``make lab`` adds (tests/test_lab_server.py checks the Makefile passes the same)
    COURSE_FLAGS = (lab_server.SERVER_FLAG,)

    def __init__(self, home, root=ROOT, flags=COURSE_FLAGS):
        self.home, self.root = pathlib.Path(home), pathlib.Path(root)
        self.flags = tuple(flags)
        self.token = secrets.token_hex(16)
        self.port = None
        self.proc = None
        self.log_path = self.home / "jupyter-lab.log"

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        e = dict(os.environ)
        dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data", "JUPYTER_RUNTIME_DIR": "runtime",
                "JUPYTERLAB_SETTINGS_DIR": "settings", "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
                "IPYTHONDIR": "ipython"}
        for var, name in dirs.items():
            (self.home / name).mkdir(parents=True, exist_ok=True)
            e[var] = str(self.home / name)
        for name, value in LAB_SETTINGS.items():
            path = self.home / "settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(value))
        e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"
        for var in ("MPLBACKEND", "NBGRADER_DB_URL", "JUPYTER_TOKEN", "JUPYTER_PATH"):
            e.pop(var, None)  # as a student's environment: matplotlib picks its own backend
        return e

    def start(self, timeout=180):
        self.port = free_port()
        cmd = [str(BIN / "jupyter"), "lab", "--no-browser", "--allow-root",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={self.port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
               f"--FileCheckpoints.checkpoint_dir={self.home / 'checkpoints'}",
               "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: kernel state, cell outputs
               "--LabApp.extension_manager=readonly",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               *self.flags]  # as `make lab`: frames without Nagle's delay
        self._log = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.env(), stdout=self._log,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"jupyter lab exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                status = self.api("GET", "/api/status", timeout=5)
                if "started" in status:
                    return self
            except (OSError, urllib.error.URLError, ValueError):
                pass
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"jupyter lab did not answer /api/status within {timeout} s:\n{self.log_tail()}")
            time.sleep(0.5)

    def api(self, method, path, timeout=30):
        req = urllib.request.Request(self.base + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as r:
            body = r.read()
        return json.loads(body) if body else None

    def url(self, relpath):
        """The URL a student would open for a file, with a fresh workspace."""
        where = f"/lab/tree/{relpath}" if relpath else "/lab"
        return f"{self.base}{where}?reset&token={self.token}"

    def shutdown_kernels(self):
        try:
            for s in self.api("GET", "/api/sessions"):
                self.api("DELETE", f"/api/sessions/{s['id']}")
        except (OSError, urllib.error.URLError):
            pass

    def log_size(self):
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def saves(self, since=0):
        """The files JupyterLab saved (through its contents API) since log offset ``since``:
        the tests run the committed notebooks in place and must never write them. (Read
        from the server's log, not from the files, which other people may be editing.)"""
        with open(self.log_path, "rb") as f:
            f.seek(since)
            text = f.read().decode(errors="replace")
        return re.findall(r"(?:Saving file at|Uploading file to) /?(\S+)", text)

    def log_tail(self, n=60):
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.shutdown_kernels()
            os.killpg(self.proc.pid, signal.SIGTERM)  # its own session: the server and its kernels
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)
        self._log.close()
        self.proc = None


def launch_chromium(playwright):
    return playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
                                      timeout=120_000)


# ---------------------------------------------------------------- one notebook in the page
JS_PANEL = "window.jupyterapp && window.jupyterapp.shell.currentWidget"

JS_STATE = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const cells = panel.content.model.cells;
  let running = 0;
  for (let i = 0; i < cells.length; i++) {
    const c = cells.get(i);
    if (c.type === 'code' && c.executionState === 'running') running++;
  }
  const prompts = [...panel.node.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]
    .filter(p => p.textContent.includes('*')).length;
  return {kernel: panel.sessionContext.session?.kernel?.status ?? 'none', running, prompts,
          rendered: panel.node.querySelectorAll('.jp-Notebook .jp-Cell').length, cells: cells.length};
}"""


class NotebookPage:
    """A notebook opened in JupyterLab in a Playwright page."""

    def __init__(self, page, lab, relpath):
        self.page, self.lab, self.relpath = page, lab, str(relpath)
        self.console_errors, self.page_errors = [], []
        page.on("console", lambda m: self.console_errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: self.page_errors.append(str(e)))

    # -- opening
    def open(self, timeout=NOTEBOOK_TIMEOUT):
        self.page.goto(self.lab.url(self.relpath), timeout=timeout * 1000)
        self.page.wait_for_function(
            f"() => {JS_PANEL} && window.jupyterapp.shell.currentWidget.context?.path === {json.dumps(self.relpath)}"
            " && window.jupyterapp.shell.currentWidget.context.isReady", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)
        # JupyterLab attaches cells in batches after opening: wait until all are in the page
        self.page.wait_for_function(
            "() => { const p = window.jupyterapp.shell.currentWidget;"
            " return p.node.querySelectorAll('.jp-Notebook .jp-Cell').length === p.content.model.cells.length; }",
            timeout=timeout * 1000)
        self.check_no_dialog("after opening the notebook")
        return self

    def wait_kernel_idle(self, timeout=NOTEBOOK_TIMEOUT):
        self.page.wait_for_function(
            f"() => {JS_PANEL} && "
            "window.jupyterapp.shell.currentWidget.sessionContext?.session?.kernel?.status === 'idle'",
            timeout=timeout * 1000)

    def dialogs(self):
        return [t.strip() for t in self.page.locator(".jp-Dialog").all_inner_texts()]

    def check_no_dialog(self, when):
        shown = self.dialogs()
        assert not shown, f"a dialog blocks the notebook {when} ({self.relpath}): {shown}"

    def state(self):
        return self.page.evaluate(JS_STATE)

    # -- running, as a student does: from the Run menu
    def menu(self, top, item):
        self.page.locator(".lm-MenuBar").get_by_role("menuitem", name=top, exact=True).click()
        self.page.locator(".lm-Menu").get_by_role("menuitem", name=item, exact=True).click()

    def run_all(self, timeout=NOTEBOOK_TIMEOUT):
        """Run > Run All Cells; returns when the run is over (JupyterLab stops at the first error)."""
        self._run(lambda: self.menu("Run", "Run All Cells"), timeout)

    def _run(self, start, timeout):
        before = self.execution_counts()
        start()
        deadline = time.monotonic() + timeout
        # started: some execution count changed or some cell is running
        while True:
            st = self.state()
            if st["running"] or st["prompts"] or self.execution_counts() != before:
                break
            self._check_time(deadline, "the run to start")
            time.sleep(0.2)
        quiet = 0
        while quiet < 3:  # idle, nothing running, three polls in a row
            st = self.state()
            quiet = quiet + 1 if (st["kernel"] == "idle" and not st["running"] and not st["prompts"]) else 0
            self._check_time(deadline, f"the run to finish (state {st})")
            time.sleep(0.4)
        self.check_no_dialog("after running cells")

    def _check_time(self, deadline, what):
        if time.monotonic() > deadline:
            raise AssertionError(f"{self.relpath}: timed out waiting for {what}")

    def execution_counts(self):
        """Per cell: its execution count, None for a code cell not run, "-" for other cells."""
        return self.page.evaluate(
            "() => { const cells = window.jupyterapp.shell.currentWidget.content.model.cells; const out = [];"
            " for (let i = 0; i < cells.length; i++) { const c = cells.get(i);"
            " out.push(c.type === 'code' ? c.executionCount : '-'); } return out; }")

    def notebook_json(self):
        """The notebook as JupyterLab holds it now (outputs included), as nbformat JSON."""
        return self.page.evaluate("() => window.jupyterapp.shell.currentWidget.content.model.toJSON()")

    def restart_and_run_each_cell(self, timeout=NOTEBOOK_TIMEOUT):
        """Clear the outputs, restart the kernel, and run the code cells one at a time in
        order (Run > Run Selected Cell and Do not Advance on each), carrying on after
        errors, as a student stepping through the notebook. (Run All Cells cannot be used
        for this: after an error, ipykernel aborts only the requests already queued, so
        on a loaded machine some later cells run and others do not.) Returns the notebook JSON."""
        deadline = time.monotonic() + timeout
        self.command("notebook:clear-all-cell-outputs")
        self.page.evaluate(
            "async () => { await window.jupyterapp.shell.currentWidget.sessionContext.restartKernel(); }")
        self.wait_kernel_idle(timeout)
        self.check_no_dialog("after restarting the kernel")
        code = [i for i, c in enumerate(self.execution_counts()) if c != "-"]
        for i in code:
            self._check_time(deadline, f"cell {i} to run")
            # the command's promise settles once the kernel has replied and gone idle, so
            # one round trip per cell suffices; a cell still unfinished after it is waited for
            state = self.page.evaluate(f"""async () => {{
                const p = window.jupyterapp.shell.currentWidget;
                p.content.activeCellIndex = {i};
                await window.jupyterapp.commands.execute("notebook:run-cell");
                const c = p.content.model.cells.get({i});
                return [c.executionCount, c.executionState, p.sessionContext.session?.kernel?.status]; }}""")
            while not (state[0] is not None and state[1] != "running" and state[2] == "idle"):
                self._check_time(deadline, f"cell {i} to run (state {state})")
                time.sleep(0.1)
                state = self.page.evaluate(f"""() => {{
                    const p = window.jupyterapp.shell.currentWidget, c = p.content.model.cells.get({i});
                    return [c.executionCount, c.executionState, p.sessionContext.session?.kernel?.status]; }}""")
        self.check_no_dialog("after running the cells")
        return self.notebook_json()

    def command(self, name):
        self.page.evaluate(f"async () => {{ await window.jupyterapp.commands.execute({json.dumps(name)}); }}")

    # -- what the page shows
    def error_outputs(self, nb=None):
        """[(cell index, ename, evalue)] of the error outputs in the notebook model."""
        nb = nb or self.notebook_json()
        return [(i, o.get("ename"), o.get("evalue", "")) for i, c in enumerate(nb["cells"])
                for o in c.get("outputs", []) if o.get("output_type") == "error"]

    def shown_errors(self):
        """[(cell index, text)] of the red (stderr or error) output boxes the page shows."""
        return self.page.evaluate(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].flatMap((cell, i) =>"
            " [...cell.querySelectorAll(\".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']\")]"
            "   .map(o => [i, o.textContent.slice(0, 400)]))")

    def open_file_browser(self):
        """The left sidebar with the file browser, as a student usually has it."""
        self.page.evaluate("() => window.jupyterapp.commands.execute('filebrowser:activate')")
        self.page.wait_for_function("() => { const s = document.querySelector('.jp-FileBrowser');"
                                    " return s && s.getBoundingClientRect().width > 100; }", timeout=30_000)
        self.page.wait_for_timeout(500)   # let the notebook column settle to its new width

    def overflowing(self):
        """[(cell index, what, pixels)] of outputs that reach past the right edge of their
        output area (cut off, or a horizontal scroll bar) in the window as it is."""
        return self.page.evaluate("""() => {
          const panel = window.jupyterapp.shell.currentWidget;
          const out = [];
          [...panel.node.querySelectorAll('.jp-Notebook .jp-Cell')].forEach((cell, i) => {
            const area = cell.querySelector('.jp-OutputArea');
            if (!area || !area.offsetParent) return;
            const edge = Math.min(area.getBoundingClientRect().right, panel.node.getBoundingClientRect().right);
            for (const el of area.querySelectorAll('canvas, img, .widget-box, .widget-slider, pre')) {
              const r = el.getBoundingClientRect();
              if (r.width > 0 && r.right > edge + 1) { out.push([i, el.tagName + '.' + el.className.split(' ')[0],
                                                                  Math.round(r.right - edge)]); return; }
            }
            for (const o of area.querySelectorAll('.jp-OutputArea-output')) {
              if (o.scrollWidth > o.clientWidth + 1) {
                out.push([i, 'scrolls', o.scrollWidth - o.clientWidth]);
                return;
              }
            }
          });
          return out;
        }""")

    def broken_widgets(self):
        """Outputs where a widget failed to render."""
        texts = self.page.locator(".jp-OutputArea-output").all_text_contents()
        return [t[:200] for t in texts if re.search(r"Error displaying widget|Error rendering|Loading widget", t)]

    @staticmethod
    def _is_canvas(output):
        """An output (nbformat dict) that displays an ipympl canvas widget."""
        d = output.get("data", {})
        text = d.get("text/plain", "")
        text = "".join(text) if isinstance(text, list) else text
        # ipympl's Canvas, or the toolkit's subclass of it (LiveCanvas)
        return "application/vnd.jupyter.widget-view+json" in d and re.match(r"\w*Canvas\(", text) is not None

    @staticmethod
    def canvas_cells(nb):
        """Indices of the cells whose outputs (nbformat dict) hold an ipympl canvas
        widget: where the kernel displayed an interactive plot (other widgets, such as
        progress bars, do not count)."""
        return [i for i, c in enumerate(nb["cells"])
                if any(NotebookPage._is_canvas(o) for o in c.get("outputs", []))]

    def canvas_model_id(self, cell_index):
        """The widget model id of the canvas displayed in cell ``cell_index`` (the kernel's
        ``canvas.model_id``), from the notebook as JupyterLab holds it."""
        outputs = self.notebook_json()["cells"][cell_index].get("outputs", [])
        ids = [o["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] for o in outputs if self._is_canvas(o)]
        assert ids, f"cell {cell_index} of {self.relpath} displays no canvas"
        return ids[0]

    def kernel_print(self, code):
        """Run ``code`` in the notebook's kernel (not in a cell: no output, no execution
        count) and return what it printed on stdout; an error in it fails the test."""
        out = self.page.evaluate("""async (code) => {
          const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
          const future = kernel.requestExecute({code, silent: false, store_history: false, allow_stdin: false});
          let out = '', err = '';
          future.onIOPub = msg => {
            if (msg.header.msg_type === 'stream' && msg.content.name === 'stdout') out += msg.content.text;
            if (msg.header.msg_type === 'error') err += msg.content.ename + ': ' + msg.content.evalue;
          };
          await future.done;
          return {out, err};
        }""", code)
        assert not out["err"], f"{self.relpath}: code run in the kernel failed: {out['err']}\n{code}"
        return out["out"]

    def plots(self):
        """The interactive plots: one per code cell whose outputs hold an ipympl canvas and a slider."""
        index = self.page.evaluate(
            "() => [...document.querySelectorAll('.jp-Notebook .jp-Cell')].map((c, i) =>"
            " c.querySelector('.jupyter-matplotlib') ? i : -1).filter(i => i >= 0)")
        out = []
        for k, i in enumerate(index):
            cell = self.page.locator(".jp-Notebook .jp-Cell").nth(i)
            out.append(Plot(self, cell, i, k + 1))
        return out


class Plot:
    """One interactive plot: a cell with sliders above an ipympl canvas."""

    def __init__(self, nbpage, cell, cell_index, number):
        self.nbpage, self.page = nbpage, nbpage.page
        self.cell, self.cell_index, self.number = cell, cell_index, number
        self.canvas = cell.locator(".jupyter-matplotlib-canvas-div canvas").first
        self.figure = cell.locator(".jupyter-matplotlib").first
        self.handles = cell.locator(".widget-slider .noUi-handle")
        self.errors = cell.locator(".widget-output")

    def __repr__(self):
        return f"plot {self.number} (cell {self.cell_index} of {self.nbpage.relpath})"

    def error_text(self):
        return "\n".join(t.strip() for t in self.errors.all_text_contents() if t.strip())

    def canvas_stats(self):
        """Size of the canvas and the share of its pixels that are not background."""
        return self.canvas.evaluate("""c => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let ink = 0;
            for (let i = 0; i < d.length; i += 4) {
              if (d[i + 3] > 0 && (d[i] < 250 || d[i + 1] < 250 || d[i + 2] < 250)) ink++;
            }
            return {width: c.width, height: c.height, ink: ink / Math.max(1, c.width * c.height)};
        }""")

    def check_rendered(self, timeout=UPDATE_TIMEOUT):
        """The canvas is there, has a size, and the figure has been painted on it."""
        assert self.canvas.count() == 1, f"{self}: no ipympl canvas in the cell's outputs"
        deadline = time.monotonic() + timeout
        while True:
            stats = self.canvas_stats()
            if stats["width"] > 100 and stats["height"] > 100 and stats["ink"] > 0.005:
                return stats
            if time.monotonic() > deadline:
                raise AssertionError(f"{self}: the canvas was never painted ({stats}); {self.error_text()}")
            time.sleep(0.5)

    # -- paints: count the canvas's drawImage calls (ipympl paints each frame with one)
    def watch_paints(self):
        self.canvas.evaluate("""c => {
            const ctx = c.getContext('2d');
            if (!ctx.__paints) {
              ctx.__paints = [];
              const draw = CanvasRenderingContext2D.prototype.drawImage;
              ctx.drawImage = function () { ctx.__paints.push(performance.now()); return draw.apply(this, arguments); };
            }
        }""")

    def paints(self):
        return self.canvas.evaluate("c => c.getContext('2d').__paints || []")

    def png(self):
        """The whole figure as painted on the canvas (also the parts scrolled out of view)."""
        data = self.canvas.evaluate("c => c.toDataURL('image/png')")
        return base64.b64decode(data.split(",", 1)[1])

    def settle(self, timeout=UPDATE_TIMEOUT, quiet=1.5, each=None):
        """Wait until the kernel is idle and no new frame has been painted for ``quiet`` s
        (calling ``each()`` at every poll)."""
        deadline = time.monotonic() + timeout
        last, since = len(self.paints()), time.monotonic()
        while True:
            if each is not None:
                each()
            n = len(self.paints())
            idle = self.nbpage.state()["kernel"] == "idle"
            if n != last or not idle:
                last, since = n, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return n
            if time.monotonic() > deadline:
                raise AssertionError(f"{self}: the figure did not settle within {timeout} s")
            time.sleep(0.1)

    def movable_handle(self):
        """The first slider handle the page shows that can move right (not at its maximum)."""
        for k in range(self.handles.count()):
            h = self.handles.nth(k)
            if not h.is_visible():  # a plot may hide the sliders that do not matter now
                continue
            now, top = h.get_attribute("aria-valuenow"), h.get_attribute("aria-valuemax")
            if now is None or top is None or float(now) < float(top):
                return h
        if not self.handles.count():
            raise AssertionError(
                f"{self}: an ipympl canvas without sliders: a figure meant to be static became a widget "
                f"(did something switch pyplot's backend to ipympl?), or the sliders failed to render")
        raise AssertionError(f"{self}: no slider that can move (found {self.handles.count()}, all at their maximum)")

    def readouts(self):
        """{label: readout} of the plot's sliders."""
        return dict(self.cell.locator(".widget-hslider").evaluate_all(
            "els => els.map(e => [e.querySelector('.widget-label')?.textContent.trim() ?? '',"
            " e.querySelector('.widget-readout')?.textContent.trim() ?? ''])"))

    def start_readouts(self):
        """{label: readout} of the plot's start-point sliders (labels "start ..."), {} if none."""
        return {k: v for k, v in self.readouts().items() if k.startswith("start")}

    def query(self, expression):
        """``expression`` (of ``fig``, the LiveFigure drawn on this canvas), evaluated in the
        kernel and passed back as JSON."""
        code = FIGURE_QUERY.replace("MODEL_ID", json.dumps(self.nbpage.canvas_model_id(self.cell_index)))
        found = json.loads(self.nbpage.kernel_print(code.replace("EXPRESSION", expression)))
        assert found is not None, f"{self}: the kernel holds no LiveFigure with this canvas"
        return found[0]

    def click_points(self):
        """The figure's own ``click_points()`` (descentlab.live.LiveFigure): {label: [x, y]}
        as fractions of the canvas from its top left."""
        return self.query('{k: [float(v) for v in p] for k, p in getattr(fig, "click_points", dict)().items()}')

    def updates(self):
        """How many times the figure has been updated (frames sent, LiveFigure.frames)."""
        return self.query("sum(fig.frames.values())")

    def readout_of(self, handle):
        return handle.locator("xpath=ancestor::div[contains(@class, 'widget-slider')][1]")

    def slider_label_and_readout(self, handle):
        box = self.readout_of(handle)
        return (box.locator(".widget-label").first.text_content().strip(),
                box.locator(".widget-readout").first.text_content().strip())


def move_slider_and_check(page, plot, presses=3, shots=None, timeout=UPDATE_TIMEOUT):
    """Move a slider of ``plot`` with the keyboard (focus its handle, ArrowRight ``presses``
    times) and check that the figure follows: the readout changes, the canvas is repainted
    with different pixels, and no error shows up (the plot's error area below the
    controls, or a new red output in the cell). Raises AssertionError with the error text
    the student would see. ``shots``: a folder for ``plot-<k>-before.png`` and
    ``-after.png`` (the figure's pixels) and ``-cell.png`` (the cell as the page shows it).
    Returns a dict of what was seen."""
    assert plot.page is page
    plot.cell.scroll_into_view_if_needed(timeout=60_000)
    plot.check_rendered(timeout)
    plot.watch_paints()
    plot.settle(timeout)
    errors_before = plot.error_text()
    assert not errors_before, f"{plot} shows an error before any slider moved:\n{errors_before}"
    red_before = len(plot.cell.locator(STDERR_OUTPUTS).all())
    handle = plot.movable_handle()
    label, readout_before = plot.slider_label_and_readout(handle)
    before = plot.png()
    painted = len(plot.paints())
    handle.focus()
    for _ in range(presses):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(60)
    error = _follow(plot, painted, timeout)
    after = plot.png()
    _, readout_after = plot.slider_label_and_readout(handle)
    where = _save_shots(plot, shots, "", before, after)
    red = plot.cell.locator(STDERR_OUTPUTS).all_text_contents()
    if error or len(red) > red_before:
        raise AssertionError(f"{plot}: moving slider {label!r} ({readout_before} -> {readout_after}) "
                             f"showed an error{where}:\n{error or red[-1]}")
    assert readout_after != readout_before, (
        f"{plot}: slider {label!r} did not move with the keyboard (readout stays {readout_before}){where}")
    assert len(plot.paints()) > painted, (
        f"{plot}: the canvas was not repainted within {timeout} s after slider {label!r} moved "
        f"({readout_before} -> {readout_after}){where}")
    assert hashlib.sha256(before).digest() != hashlib.sha256(after).digest(), (
        f"{plot}: the figure looks the same after slider {label!r} moved ({readout_before} -> {readout_after}){where}")
    return {"slider": label, "before": readout_before, "after": readout_after, "shots": shots}


def click_and_check(page, plot, label="start", shots=None, timeout=UPDATE_TIMEOUT):
    """Click ``plot``'s canvas with the mouse at its click point ``label`` (the figure's
    ``click_points()``, asked from the kernel) and check that the figure follows: slider
    readouts change (for "start", every start readout), the canvas is repainted with
    different pixels, no error shows up, and the kernel updated the figure once (not
    again when the page's sliders took the new values). ``shots``: a folder for
    ``plot-<k>-click-before.png``, ``-after.png``, ``-cell.png``. Returns a dict of what
    was seen."""
    assert plot.page is page
    points = plot.click_points()
    assert label in points, f"{plot}: the figure offers no click point {label!r} (click_points() gives {points})"
    fx, fy = points[label]
    plot.canvas.scroll_into_view_if_needed(timeout=60_000)
    plot.check_rendered(timeout)
    plot.watch_paints()
    plot.settle(timeout)
    red_before = len(plot.cell.locator(STDERR_OUTPUTS).all())
    readouts_before, before, painted, updates = plot.readouts(), plot.png(), len(plot.paints()), plot.updates()
    box = plot.canvas.bounding_box()
    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
    error = _follow(plot, painted, timeout)
    after, readouts_after = plot.png(), plot.readouts()
    where = _save_shots(plot, shots, "-click", before, after)
    red = plot.cell.locator(STDERR_OUTPUTS).all_text_contents()
    what = f"clicking the canvas at ({fx:.2f}, {fy:.2f}) of it for {label!r}"
    if error or len(red) > red_before:
        raise AssertionError(f"{plot}: {what} showed an error{where}:\n{error or red[-1]}")
    changed = {k: (v, readouts_after.get(k)) for k, v in readouts_before.items() if readouts_after.get(k) != v}
    expected = [k for k in readouts_before if k.startswith("start")] if label == "start" else list(changed)
    unchanged = [k for k in expected if k not in changed]
    assert changed and not unchanged, f"{plot}: {what} left the readouts {unchanged or expected} as they were{where}"
    assert len(plot.paints()) > painted, f"{plot}: the canvas was not repainted within {timeout} s after {what}{where}"
    assert hashlib.sha256(before).digest() != hashlib.sha256(after).digest(), (
        f"{plot}: the figure looks the same after {what}{where}")
    updated = plot.updates() - updates
    assert updated == 1, f"{plot}: {what} updated the figure {updated} times, not once{where}"
    return {"point": (fx, fy), "changed": changed, "shots": shots, "updates": updated}


def _follow(plot, painted, timeout):
    """After an action: wait for the first repaint (or an error), then for the figure to
    settle. Returns the error the plot showed below its controls ("" if none): shown at
    any moment, it counts even if a later update wiped it out."""
    seen = []

    def watch_errors():
        text = plot.error_text()
        if text and text not in seen:
            seen.append(text)
        return text

    deadline = time.monotonic() + timeout
    while len(plot.paints()) == painted and not watch_errors() and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        plot.settle(max(10, deadline - time.monotonic()), each=watch_errors)
    except AssertionError:
        pass  # the caller reports what was seen
    return watch_errors() or (seen[-1] if seen else "")


def _save_shots(plot, shots, suffix, before, after):
    """Keep the figure's pixels before and after, and the cell as the student sees it, in
    ``shots`` (if given); returns the words that tell a failure message where they are."""
    if shots is None:
        return ""
    shots = pathlib.Path(shots)
    shots.mkdir(parents=True, exist_ok=True)
    (shots / f"plot-{plot.number}{suffix}-before.png").write_bytes(before)
    (shots / f"plot-{plot.number}{suffix}-after.png").write_bytes(after)
    plot.cell.screenshot(path=shots / f"plot-{plot.number}{suffix}-cell.png", timeout=60_000)
    return f" (screenshots in {shots})"


# ---------------------------------------------------------------- which errors a released notebook may show
def cells_needing_student_code(nb, source_nb):
    """Indices of the cells of the released notebook ``nb`` (nbformat dict, outputs
    included) whose errors are expected, and the list of unexpected ones
    [(index, ename, evalue)]. Same rule as tests/test_notebooks.py: a cell needs the
    student's code if it is an answer cell, uses a name an answer cell defines, or uses
    a name that a failing cell needing student code failed to define (transitively);
    its error must be NotImplementedError, NameError or KeyError."""
    def gid(c):
        return c.get("metadata", {}).get("nbgrader", {}).get("grade_id")
    answers = {gid(c) for c in nb["cells"] if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    names = set()
    for c in source_nb["cells"]:
        if gid(c) in answers:
            src = _source(c)
            names |= set(re.findall(r"^def (\w+)", src, re.M)) | set(re.findall(r"^(\w+) =", src, re.M))
    tainted, expected, unexpected = set(names), [], []
    for i, c in enumerate(nb["cells"]):
        errors = [o for o in c.get("outputs", []) if o.get("output_type") == "error"]
        if not errors:
            continue
        src = _source(c)
        needs = gid(c) in answers or any(re.search(rf"\b{n}\b", src) for n in tainted)
        if needs:
            tainted |= set(re.findall(r"^(\w+)\s*=", src, re.M))
        if needs and errors[0].get("ename") in ("NotImplementedError", "NameError", "KeyError"):
            expected.append(i)
        else:
            unexpected.append((i, errors[0].get("ename"), errors[0].get("evalue", "")[:200]))
    return expected, unexpected


def _source(cell):
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else s


def shots_dir(relpath):
    """build/e2e-screenshots/<folder>/<notebook name>/ for a notebook path relative to the
    root, e.g. build/e2e-screenshots/solutions/01_momentum/momentum/."""
    p = pathlib.PurePosixPath(relpath)
    return SCREENSHOTS.joinpath(*p.parts[:-1], p.stem)


def remove_tree(path):
    shutil.rmtree(path, ignore_errors=True)
