"""nbgrader's Execute step, bounded so that one submission cannot spoil a grading run.

- Each cell keeps nbgrader's own time limit (``Execute.timeout``: the cell is
  interrupted and the notebook goes on); the whole notebook also gets a budget
  (``notebook_timeout``): cells left when it is used up are not run and say so.
- A cell that kills its kernel (``os._exit``, a crash, the kernel OOM-killed) gets an
  error output saying so; the kernel is restarted, the cells before it are run again
  so that the student's definitions exist, and the rest of the notebook is graded.
  Tests that passed before keep their points.
- Every kernel first runs ``grader.guard.install()`` (see grader/guard.py).
- The kernel's own stderr (ipykernel's start-up warnings) goes to a log file instead
  of the instructor's terminal; what the student's code prints still reaches the
  notebook through IOPub as usual.
"""
import copy
import subprocess
import time

from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat.v4 import new_output
from traitlets import Integer, Unicode

from nbgrader.preprocessors import Execute, LimitOutput

GUARD_LINE = "__import__('grader.guard').guard.install()"


def _error(ename, evalue):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


class GuardedExecute(Execute):

    notebook_timeout = Integer(
        600, help="Seconds for a whole notebook; cells left after that are not run.").tag(config=True)
    max_restarts = Integer(
        3, help="Kernel restarts allowed per notebook after a cell kills its kernel.").tag(config=True)
    kernel_log = Unicode(
        "", help="File receiving the kernel processes' stderr (empty: inherit).").tag(config=True)

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._restarts = 0
        self._dead_from = None
        if GUARD_LINE not in " ".join(self.extra_arguments):
            self.extra_arguments = [*self.extra_arguments, f"--IPKernelApp.exec_lines={GUARD_LINE}"]
        return super().preprocess(nb, resources, km)

    async def async_start_new_kernel(self, **kwargs):
        if self.kernel_log and "stderr" not in kwargs:
            kwargs["stderr"] = open(self.kernel_log, "ab")
            kwargs.setdefault("stdout", subprocess.DEVNULL)
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)   # nbclient binds the sync twin by name

    def _get_timeout(self, cell):
        timeout = super()._get_timeout(cell)
        remaining = max(1, int(self._deadline - time.monotonic()) + 1)
        return min(timeout, remaining) if timeout else remaining

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
        try:
            return super().preprocess_cell(cell, resources, index)
        except DeadKernelError:
            cell.outputs.append(_error(
                "KernelDied", "the kernel died while running this cell (os._exit, a crash, or out of "
                              "memory); it was restarted and the cells above were run again"))
            self._restart(index)
            return cell, resources

    def _restart(self, index):
        """A fresh kernel that has run every code cell above ``index`` again."""
        if self._restarts >= self.max_restarts:
            self._dead_from = index
            return
        self._restarts += 1
        self.log.warning("cell %d killed the kernel: restarting and replaying the cells above it", index + 1)
        # same launch arguments and connection: the guard runs again, the client reconnects
        run_sync(self.km.restart_kernel)(now=True)
        run_sync(self.kc.wait_for_ready)(timeout=self.startup_timeout)
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
