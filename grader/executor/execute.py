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
import tempfile
import time

from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader import utils
from nbgrader.preprocessors import Execute, LimitOutput
from traitlets import Bool, Integer, Unicode

from gradeclient import SOCKET_ENV
from grader import timings
from grader.executor import sandbox as sandboxing
from grader.executor import warm
from grader.executor.verdicts import VerdictServer, clean, plan

NOTICE_UNSANDBOXED = "notice: no sandbox here ({why}); the notebook runs unprotected, as your own user."


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def is_test_cell(cell):
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _socket_friendly_tmp():
    """Where the kernel's and the verdicts' Unix sockets can live: a Unix socket's path has
    at most 107 bytes, so a long temporary folder (a Dask worker's TMPDIR deep in its
    working folder, say) gives way to /tmp."""
    tmp = tempfile.gettempdir()
    return tmp if len(tmp) <= 48 else "/tmp"


class SandboxedKernelManager(AsyncKernelManager):
    """A kernel manager whose kernel runs in ``self.box`` (a sandbox.Sandbox, or None
    for an unsandboxed kernel limited by prlimit alone). With a ``template``
    (grader/executor/warm.py) the sandbox starts with a stub and the kernel is forked
    into it from the template, its imports done; else the kernel starts cold in it."""

    box = None
    limits = None
    template = None
    _info = None

    def format_kernel_cmd(self, extra_arguments=None):
        cmd = super().format_kernel_cmd(extra_arguments)
        if self.box is not None:
            if self.template is not None:
                self._info = os.pipe()   # bubblewrap tells the sandbox's pid on it
                return self.box.wrap(warm.STUB, info_fd=self._info[1])
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
            if self.template is not None and self._info is not None:
                return await self._launch_warm(kernel_cmd, kw)
        return await super()._async_launch_kernel(kernel_cmd, **kw)

    async def _launch_warm(self, stub_cmd, kw):
        info_r, info_w = self._info
        self._info = None
        alive_r, alive_w = os.pipe()   # the kernel holds the only writer: the stub ends with it
        ready_r, ready_w = os.pipe()   # the stub says it runs: the sandbox is all set up
        stderr, stdout = kw.get("stderr"), kw.get("stdout")
        err_fd = stderr.fileno() if hasattr(stderr, "fileno") else None
        kw.update(stdin=alive_r, stdout=ready_w, pass_fds=(*kw["pass_fds"], info_w))
        try:
            await super()._async_launch_kernel(stub_cmd, **kw)
        finally:
            for fd in (alive_r, info_w, ready_w):
                os.close(fd)
        try:
            warm.enter(self.box, self.template, self.connection_file, info_r, ready_r, alive_w, err_fd)
        except warm.TemplateFailed as e:
            self.log.warning("%s: this kernel starts cold", e)
            warm.failed(self.template)
            self.template = None
            with contextlib.suppress(Exception):
                self.provisioner.process.kill()
                self.provisioner.process.wait(10)
            cmd = self.box.wrap(super().format_kernel_cmd())
            kw.update(stdin=subprocess.DEVNULL, stdout=stdout)
            kw["pass_fds"] = tuple(self.box.fds)
            await super()._async_launch_kernel(cmd, **kw)
        finally:
            os.close(alive_w)


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
    warm = Bool(True, help="Fork each kernel from a template that has done the imports (grader/executor/warm.py); "
                           "False: every kernel starts cold.").tag(config=True)

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
        self._setup_seen = False
        self._scratch = tempfile.mkdtemp(prefix="grade-", dir=_socket_friendly_tmp())
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
                    message += f" (the cell stopped with {clean(e.get('ename'), 40)}: {clean(e.get('evalue'), 200)})"
            cell.outputs = [_error("GradingFailed", message)]

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
        if self.warm and km.box is not None and km.box.uid is not None:
            km.template = warm.template()
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
        files = self._scratch_copy(limits)
        box = sandboxing.Sandbox(workdir=str(self._sockets), files=files, limits=limits,
                                 env={SOCKET_ENV: str(self._sockets / "grader.sock")})
        self._box = box
        return box

    def _scratch_copy(self, limits):
        """The files the kernel gets in its working directory: what the assignment's
        release holds besides notebooks (students had it anyway) and the student's own
        files, from the worker's private copy of the submission (no links followed).
        Never the folder nbgrader grades in: it holds the notebook with its hidden tests
        and the instructor's source files."""
        from nbgrader.coursedir import CourseDirectory
        info = self.resources.get("nbgrader", {})
        if not info.get("assignment"):
            return {}
        cd = CourseDirectory(config=self.config)
        folders = [cd.format_path(cd.release_directory, ".", info["assignment"]),
                   cd.format_path(cd.submitted_directory, info.get("student", "."), info["assignment"])]
        files, total = {}, 0
        for folder in folders:
            if not os.path.isdir(folder) or os.path.islink(folder):
                continue
            for p in sorted(pathlib.Path(folder).iterdir()):
                if p.is_symlink() or not p.is_file() or p.suffix == ".ipynb":
                    continue
                size = p.stat().st_size
                if size > (16 << 20) or total + size > (limits.disk_mb << 19):
                    continue
                total += size
                files[f"/tmp/work/{p.name}"] = str(p)
        return files

    async def async_start_new_kernel(self, **kwargs):
        self._kernel_started = time.perf_counter()
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
        timings.add("the kernel: sandbox and start" + (" (warm: forked)" if self.km.template is not None else
                                                       " (cold)"), time.perf_counter() - self._kernel_started)
        return kc

    start_new_kernel_client = run_sync(async_start_new_kernel_client)

    async def _async_cleanup_kernel(self):
        """Before the kernel (and with it its sandbox) ends: say what it left running."""
        box = getattr(self.km, "box", None) if self.km is not None else None
        if box is not None and box.uid is not None:
            left = sandboxing.processes_of(box.uid)
            own = 2 if self.km.template is not None else 1   # the kernel (and a warm kernel's stub)
            if len(left) > own:
                from grader.executor.rebuild import NOTES
                NOTES.append(("note", f"the notebook left {len(left) - own} process"
                                      f"{'es' * (len(left) > own + 1)} running: ended with its sandbox"))
        await super()._async_cleanup_kernel()

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()) + 1)
        return min(timeout, remaining) if timeout else remaining

    # ---------------------------------------------------------- one cell
    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        where = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {index + 1}"
        if self._dead_from is not None:
            cell.outputs = [_error("KernelDied", f"not run: the kernel died in cell {self._dead_from + 1} "
                                                 f"and could not be restarted {self.max_restarts} times")]
            self._problem(f"some cells were not run: the kernel died in cell {self._dead_from + 1} and could "
                          f"not be restarted {self.max_restarts} times")
            return cell, resources
        if time.monotonic() >= self._deadline:
            cell.outputs = [_error("NotebookTimeout", f"not run: the notebook used up its "
                                                      f"{self.notebook_timeout} s time limit before this cell")]
            self._problem(f"some cells were not run: the notebook used up its {self.notebook_timeout} s time limit")
            return cell, resources
        self._where = where
        test = is_test_cell(cell)
        kind = "test cells" if test else "answer cells" if utils.is_solution(cell) else \
            "other cells" if self._setup_seen else "the setup cell"
        self._setup_seen = True
        with timings.timed(kind):
            return self._run_cell(cell, resources, index, where, test)

    def _run_cell(self, cell, resources, index, where, test):
        if test:
            gid = cell.metadata["nbgrader"]["grade_id"]
            self.server.begin_cell(gid, self._plans.get(gid, []), timeout=self._get_timeout(cell))
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error(
                "KernelDied", "the kernel died while running this cell (os._exit, a crash, or out of "
                              "memory); it was restarted and the cells above were run again"))
            self._problem(f"{where}: a cell killed the kernel (it was restarted)")
            self._restart(index)
            return cell, resources
        except CellTimeoutError:
            # the kernel ignored the interrupt (or never went idle): a fresh one takes over
            self._problem(f"{where}: a cell ran past the {self.timeout} s limit and did not stop when "
                          f"interrupted (the kernel was restarted)")
            cell.outputs.append(_error(
                "CellTimeoutError", "the cell did not stop when interrupted at its time limit; the kernel "
                                    "was restarted and the cells above were run again"))
            self._restart(index)   # restart_kernel(now=True) kills it first
            return cell, resources
        finally:
            if test:
                self.server.end_cell()

    def _problem(self, text):
        from grader.executor.rebuild import NOTES
        if ("problem", text) not in NOTES:
            NOTES.append(("problem", text))

    async def _async_handle_timeout(self, timeout, cell=None):
        self._problem(f"{getattr(self, '_where', 'a cell')}: a cell ran past the {timeout} s limit and was interrupted")
        return await super()._async_handle_timeout(timeout, cell)

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
        kept = [copy.deepcopy(c.get("outputs")) for c in self.nb.cells[:index]]
        try:
            self._replay(index)
        finally:   # nbclient writes a replayed cell back into the notebook: keep what it showed first
            for c, outputs in zip(self.nb.cells[:index], kept, strict=True):
                if outputs is not None:
                    c.outputs = outputs

    def _replay(self, index):
        with self.server.replaying():
            for i, earlier in enumerate(self.nb.cells[:index]):
                if earlier.cell_type != "code" or time.monotonic() >= self._deadline:
                    continue
                try:
                    self.execute_cell(copy.deepcopy(earlier), i, store_history=False)
                except DeadKernelError:   # the replay itself killed it: give up on the rest
                    self._dead_from = index
                    return



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
