"""nbgrader's Execute step, run so that the student's kernel decides nothing.

- Each kernel starts in its own sandbox (grader/executor/sandbox.py) and talks to this
  process only over Unix sockets: Jupyter's channels (ZMQ ``ipc`` transport) and the
  grading socket of a ``VerdictServer`` (grader/executor/verdicts.py).
- Before each graded test cell runs, the server is told which cell it is and what the
  instructor's source of that cell grades; requests are attributed to it. After the
  cell, its outputs are replaced by the server's verdict: nothing when every planned
  check passed, else one error saying why. So nbgrader's own scoring (an error output
  scores zero) scores the trusted verdict, never what the kernel printed.
- Each cell keeps nbgrader's time limit (``Execute.timeout``); the whole notebook gets
  ``notebook_timeout``; a cell that kills its kernel gets an error output, the kernel
  is restarted (a fresh sandbox), the cells above are replayed (nothing they ask is
  graded again) and the rest of the notebook is graded.
- The secret seed the checks draw their cases from is new for every notebook graded.
"""
import contextlib
import copy
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from traitlets import Integer, Unicode

from nbgrader import utils
from nbgrader.preprocessors import Execute, LimitOutput

from gradeclient import SOCKET_ENV
from grader.executor import sandbox as sandboxing
from grader.executor.verdicts import VerdictServer, plan

LIMIT_ERRORS = {"CellTimeoutError", "KeyboardInterrupt", "KernelDied", "NotebookTimeout", "MemoryError"}
EXECUTOR_ERRORS = {"KernelDied", "NotebookTimeout"}   # written by this module, not by the kernel
NOTICE_UNSANDBOXED = "notice: no sandbox here ({why}); the notebook runs unprotected, as your own user."


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def is_test_cell(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in ``self.box`` (a sandbox.Sandbox, or None
    for an unsandboxed kernel limited by prlimit alone)."""

    box = None
    limits = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.box is not None:
            return self.box.wrap(cmd)
        lim = self.limits or sandboxing.Limits()
        return ["/usr/bin/prlimit", f"--as={lim.memory_mb << 20}", f"--cpu={lim.cpu_seconds}", "--core=0",
                *cmd] if os.path.exists("/usr/bin/prlimit") else cmd

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self.box is not None:
            # bubblewrap itself needs nothing of the instructor's environment
            kw["env"] = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
            kw["pass_fds"] = tuple(self.box.fds)
            self.box.unseal()   # the connection file exists now: the kernel must read it
            kw.pop("cwd", None)
        return await super()._async_launch_kernel(kernel_cmd, **kw)


class TrustedExecute(Execute):

    notebook_timeout = Integer(
        600, help="Seconds for a whole notebook; cells left after that are not run.").tag(config=True)
    max_restarts = Integer(
        3, help="Kernel restarts allowed per notebook after a cell kills its kernel.").tag(config=True)
    kernel_log = Unicode(
        "", help="File receiving the kernel processes' stderr (empty: inherit).").tag(config=True)
    sandbox = Unicode(
        "require", help="'require': every kernel in a sandbox, refuse to grade without one; "
                        "'try': a sandbox where one can start, else unprotected with a notice; "
                        "'off': no sandbox (grades are not protected).").tag(config=True)
    memory_mb = Integer(4096, help="Address space per kernel process, MB.").tag(config=True)
    disk_mb = Integer(512, help="All a kernel may write, MB (its tmpfs).").tag(config=True)
    processes = Integer(128, help="Processes and threads a kernel may run at once.").tag(config=True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("kernel_manager_class", SandboxedKernelManager)
        super().__init__(*args, **kwargs)
        self.kernel_manager_class = SandboxedKernelManager

    # ---------------------------------------------------------- one notebook
    def preprocess(self, nb, resources=None, km=None):
        from grader.checks import seeds
        seeds.use(os.urandom(16))   # the checks' cases: new and secret for every notebook
        self._deadline = time.monotonic() + self.notebook_timeout
        self._restarts = 0
        self._dead_from = None
        self._scratch = tempfile.mkdtemp(prefix="grade-")
        os.chmod(self._scratch, 0o711)
        self._sockets = pathlib.Path(self._scratch) / "k"
        self._sockets.mkdir()
        self.server = VerdictServer(self._sockets / "grader.sock", check_timeout=self.timeout or 120)
        self._plans = {c.metadata["nbgrader"]["grade_id"]: plan(c.source)
                       for c in nb.cells if is_test_cell(c)}
        self._box = None
        self.notices = []
        try:
            nb, resources = super().preprocess(nb, resources, km)
        finally:
            self.server.close()
            if self._box is not None:
                self._box.close()
            shutil.rmtree(self._scratch, ignore_errors=True)
        self._apply_verdicts(nb)
        from grader.executor.rebuild import NOTES
        NOTES.extend(("flag", f) for f in self.server.record.flags)
        return nb, resources

    def _apply_verdicts(self, nb):
        for cell in nb.cells:
            if not is_test_cell(cell):
                continue
            gid = cell.metadata["nbgrader"]["grade_id"]
            rec = self.server.record.cells.get(gid)
            passed, message = rec.outcome() if rec else (False, "this test cell did not run")
            if passed:
                cell.outputs = []
                continue
            if rec is None or not rec.verdicts:
                # why the cell never asked: its own error, if it had one (the student's code)
                errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
                if errors:
                    e = errors[-1]
                    message += f" (the cell stopped with {e.get('ename')}: {str(e.get('evalue'))[:200]})"
            # the limits the executor itself enforced stay visible (the summary reports them)
            limits = [_error(o.get("ename"), o.get("evalue", "") if o.get("ename") in EXECUTOR_ERRORS else "")
                      for o in cell.get("outputs", []) if o.get("output_type") == "error"
                      and o.get("ename") in LIMIT_ERRORS]
            cell.outputs = [_error("GradingFailed", message)] + limits

    # ---------------------------------------------------------- the kernel
    def create_kernel_manager(self):
        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.ip = str(self._sockets / "kernel")
        km.connection_file = str(self._sockets / "kernel.json")
        with contextlib.suppress(Exception):
            km.kernel_spec.interrupt_mode = "message"   # signals cannot cross the sandbox
        km.limits = sandboxing.Limits(memory_mb=self.memory_mb, cpu_seconds=self.notebook_timeout + 60,
                                      processes=self.processes, disk_mb=self.disk_mb)
        km.box = self._make_box(km.limits)
        return km

    def _make_box(self, limits):
        if self.sandbox == "off":
            return None
        why = sandboxing.probe()
        if why:
            if self.sandbox == "require":
                raise sandboxing.SandboxUnavailable(
                    f"cannot grade without a sandbox: {why}. (autograde --no-sandbox grades anyway, unprotected)")
            self.notices.append(NOTICE_UNSANDBOXED.format(why=why))
            return None
        path = self.resources.get("metadata", {}).get("path") or ""
        files = {}
        if path and os.path.isdir(path):
            total = 0
            for p in sorted(pathlib.Path(path).iterdir()):
                if p.is_file() and not p.is_symlink() and p.stat().st_size <= (16 << 20):
                    total += p.stat().st_size
                    if total > (limits.disk_mb << 19):
                        break
                    files[f"/tmp/work/{p.name}"] = str(p)
        box = sandboxing.Sandbox(workdir=str(self._sockets), files=files, limits=limits,
                                 env={SOCKET_ENV: str(self._sockets / "grader.sock")})
        self._box = box
        return box

    async def async_start_new_kernel(self, **kwargs):
        if self.kernel_log and "stderr" not in kwargs:
            kwargs["stderr"] = open(self.kernel_log, "ab")
            kwargs.setdefault("stdout", subprocess.DEVNULL)
        if self.km.box is None:
            kwargs["env"] = {**os.environ, SOCKET_ENV: str(self._sockets / "grader.sock")}
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)   # nbclient binds the sync twin by name

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        if self.km.box is not None:
            self.km.box.seal()
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()) + 1)
        return min(timeout, remaining) if timeout else remaining

    # ---------------------------------------------------------- one cell
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        if self._dead_from is not None:
            cell.outputs = [_error("KernelDied", f"not run: the kernel died in cell {self._dead_from + 1} "
                                                 f"and could not be restarted {self.max_restarts} times")]
            return cell, resources
        if time.monotonic() >= self._deadline:
            cell.outputs = [_error("NotebookTimeout", f"not run: the notebook used up its "
                                                      f"{self.notebook_timeout} s time limit before this cell")]
            return cell, resources
        test = is_test_cell(cell)
        if test:
            gid = cell.metadata["nbgrader"]["grade_id"]
            self.server.begin_cell(gid, self._plans.get(gid, []), timeout=self._get_timeout(cell))
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error(
                "KernelDied", "the kernel died while running this cell (os._exit, a crash, or out of "
                              "memory); it was restarted and the cells above were run again"))
            self._restart(index)
            return cell, resources
        except CellTimeoutError:
            # the kernel ignored the interrupt (or never went idle): a fresh one takes over
            cell.outputs.append(_error(
                "CellTimeoutError", "the cell did not stop when interrupted at its time limit; the kernel "
                                    "was restarted and the cells above were run again"))
            self._restart(index)   # restart_kernel(now=True) kills it first
            return cell, resources
        finally:
            if test:
                self.server.end_cell()

    def _restart(self, index):
        """A fresh kernel that has run every code cell above ``index`` again."""
        if self._restarts >= self.max_restarts:
            self._dead_from = index
            return
        self._restarts += 1
        self.log.warning("cell %d killed the kernel: restarting and replaying the cells above it", index + 1)
        if self.km.box is not None:
            self.km.box.unseal()
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
        if self.km.box is not None:
            self.km.box.seal()
        with self.server.replaying():
            for i, earlier in enumerate(self.nb.cells[:index]):
                if earlier.cell_type != "code" or time.monotonic() >= self._deadline:
                    continue
                try:
                    self.execute_cell(copy.deepcopy(earlier), i, store_history=False)
                except DeadKernelError:   # the replay itself killed it: give up on the rest
                    self._dead_from = index
                    return


# the name nbgrader_config.py used before the verdict moved out of the kernel
GuardedExecute = TrustedExecute


class LimitOutputSize(LimitOutput):
    """nbgrader's LimitOutput caps lines; this also caps characters, so one huge line
    (``print('x' * 10**8)``) cannot bloat the graded notebook and its feedback."""

    max_chars = Integer(20_000, help="Characters kept per text output.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        cell, resources = super().preprocess_cell(cell, resources, index)
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and len(out.get("text", "")) > self.max_chars:
                cut = len(out.text) - self.max_chars
                out.text = out.text[:self.max_chars] + f"\n... [{cut} more characters not shown]\n"
            for mime in ("text/plain", "text/html"):
                data = out.get("data", {})
                if isinstance(data.get(mime), str) and len(data[mime]) > self.max_chars:
                    data[mime] = data[mime][:self.max_chars] + "\n... [output cut]"
        return cell, resources
