"""Warm kernels (grader/executor/warm.py): each graded kernel is forked from a template
that did the imports, into its own fresh sandbox, and nothing passes from one kernel to
the next. Run through the executor that grades (TrustedExecute), two notebooks after
one another in one process, as a grading worker runs them."""
import json

import pytest
from nbformat.v4 import new_code_cell, new_notebook

from grader.executor import sandbox as sandboxing
from grader.executor import warm
from grader.executor.execute import TrustedExecute

needs_warm = pytest.mark.skipif(bool(warm.available()), reason=warm.available() or "")

# what the first notebook does to whatever it can reach
SPOIL = """
import builtins, os, sys, numpy, torch
numpy.zeros = None
torch.tensor = None
builtins.spoiled = True
sys.modules["descentlab"].spoiled = True
for path in ("/tmp/spoil", "/tmp/work/spoil", "/tmp/home/spoil"):   # all it may write
    open(path, "w").write("x")
"""

LOOK = """
import builtins, json, os, sys, numpy
print(json.dumps({
    "warm": [m for m in ("numpy", "torch", "matplotlib.pyplot", "descentlab") if m in sys.modules],
    "uid": os.getuid(), "pid": os.getpid(),
    "caps": [line.split()[1] for line in open("/proc/self/status") if line.startswith(("CapEff", "CapBnd", "CapPrm"))],
    "no_new_privs": [line.split()[1] for line in open("/proc/self/status") if line.startswith("NoNewPrivs")][0],
    "processes": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
    "spoiled": [hasattr(builtins, "spoiled"), numpy.zeros is None, hasattr(sys.modules.get("descentlab"), "spoiled"),
                *[os.path.exists(p) for p in ("/tmp/spoil", "/tmp/work/spoil", "/tmp/home/spoil")]],
    "random": float(numpy.random.rand()),
    "torch": [__import__("torch").initial_seed(), float(__import__("torch").rand(1))],
    "cwd": os.getcwd(), "home": os.environ.get("HOME"), "grader": "GRADER_SOCKET" in os.environ,
    "limits": open("/proc/self/limits").read().splitlines()[1:],
}))
"""


def _run(cells, warm_on=True):
    nb = new_notebook(cells=[new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    ex = TrustedExecute(timeout=60, warm=warm_on)
    nb, _ = ex.preprocess(nb, {})
    return nb


def _looked(nb, index=-1):
    outs = nb.cells[index].outputs
    text = "".join(o.get("text", "") for o in outs if o.output_type == "stream")
    assert text, f"no output: {outs}"
    return json.loads(text)


@needs_warm
def test_a_warm_kernel_is_forked_ready_into_a_sandbox_of_its_own():
    seen = _looked(_run([LOOK]))
    assert seen["warm"] == ["numpy", "torch", "matplotlib.pyplot", "descentlab"], seen["warm"]
    assert seen["uid"] >= sandboxing.UID_BASE
    assert set(seen["caps"]) == {"0000000000000000"} and seen["no_new_privs"] == "1"
    # its PID namespace holds bubblewrap, the stub and the kernel: never the template
    assert seen["pid"] == 3 and seen["processes"] == [1, 2, 3], seen["processes"]
    assert seen["cwd"] == "/tmp/work" and seen["home"] == "/tmp/home" and seen["grader"]
    # it is reaped as it ends, and its sandbox with it: nothing of its user is left
    assert not sandboxing.processes_of(seen["uid"])


@needs_warm
def test_nothing_passes_from_one_warm_kernel_to_the_next():
    first = _looked(_run([SPOIL, LOOK]))
    assert first["spoiled"] == [True] * 6, repr(first["spoiled"])
    second = _looked(_run([LOOK]))
    assert second["spoiled"] == [False] * 6, second["spoiled"]
    # each kernel draws its own numbers, as a freshly started one does (numpy and torch
    # seed themselves from the system's entropy at import; the template imported them once)
    assert second["random"] != first["random"] and second["torch"] != first["torch"]


@needs_warm
def test_a_warm_kernel_keeps_the_limits_of_a_cold_one():
    warm_seen, cold_seen = _looked(_run([LOOK])), _looked(_run([LOOK], warm_on=False))
    assert warm_seen["limits"] == cold_seen["limits"]
    assert "torch" not in cold_seen["warm"] and cold_seen["uid"] >= sandboxing.UID_BASE


@needs_warm
def test_a_warm_kernel_that_dies_is_replaced_and_the_notebook_goes_on():
    nb = _run(["import os; x = 1", "os._exit(3)", "print(x + 1)"])
    assert any(o.get("ename") == "KernelDied" for o in nb.cells[1].outputs), nb.cells[1].outputs
    assert "2" in "".join(o.get("text", "") for o in nb.cells[2].outputs)


def test_the_template_source_imports_nothing_of_the_trusted_side():
    source = warm.SOURCE.read_text()
    assert "grader" not in "".join(line for line in source.splitlines() if line.startswith(("import", "from")))



@needs_warm
def test_a_template_that_fails_leaves_a_cold_kernel_in_its_place(monkeypatch):
    def broken(self, *args, **kwargs):
        raise warm.TemplateFailed("the template is broken (a test)")
    monkeypatch.setattr(warm.Template, "fork", broken)
    monkeypatch.setattr(warm, "_failures", 0)
    seen = _looked(_run([LOOK]))
    assert "torch" not in seen["warm"] and seen["uid"] >= sandboxing.UID_BASE and seen["processes"] == [1, 2]
