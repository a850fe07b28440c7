"""The warm check server (grader/checkserver.py), run for real: the first check starts
it, later checks are graded by it exactly as a check in its own process grades them, it
ends when asked, when idle, when the software changes and when its check is interrupted,
only its user can reach it, and a graded kernel cannot see it."""
import contextlib
import json
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest

from grader import checkserver
from tests.course import ROOT, env, fill, solution_code

A = "01_momentum"
pytestmark = pytest.mark.xdist_group("check-server")   # one worker: the servers are few and heavy

# an answer cell that fails (sgd_step is then never defined) if the kernel can see the
# server's folder or reach its socket
PROBE = """import os as _os, socket as _socket
_s = _socket.socket(_socket.AF_UNIX)
try:
    _s.connect({socket!r})
    _reached = True
except OSError:
    _reached = False
assert not _reached and not _os.path.exists({folder!r}), "the kernel can reach the check server"
"""


@pytest.fixture(scope="module")
def runtime(tmp_path_factory):
    """A private runtime folder ($XDG_RUNTIME_DIR) for this module's servers; every
    server started in it is ended afterwards."""
    folder = tmp_path_factory.mktemp("runtime")
    os.chmod(folder, 0o700)
    yield folder
    for pid in _pids(folder):
        os.kill(pid, signal.SIGKILL)


def _env(runtime, **extra):
    return env() | {"GRADER_CHECK_SERVER": "on", "XDG_RUNTIME_DIR": str(runtime)} | extra


def _check(runtime, *args, **extra):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(ROOT), "check", *args], cwd=ROOT,
                          env=_env(runtime, **extra), capture_output=True, text=True, timeout=600)


def _pids(runtime):
    """The live servers started in ``runtime`` (their logs' 'ready' lines)."""
    pids = []
    for log in (runtime / "grader-check").glob("*.log"):
        for line in log.read_text().splitlines():
            if line.startswith("check server "):
                pid = int(line.split()[2])
                if pathlib.Path(f"/proc/{pid}").exists() and b"checkserver" in pathlib.Path(
                        f"/proc/{pid}/cmdline").read_bytes():
                    pids.append(pid)
    return pids


def _socket_path(runtime):
    [path] = (runtime / "grader-check").glob("*.sock")
    return path


def _gone(pid, seconds=20):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not pathlib.Path(f"/proc/{pid}").exists():
            return True
        status = pathlib.Path(f"/proc/{pid}/status").read_text()
        if "State:\tZ" in status:
            return True
        time.sleep(0.1)
    return False


def _scores(stdout):
    """The score table: (question, points, max) per line, without the messages (their
    inputs are drawn at random per check)."""
    rows = [ln.split()[:3] for ln in stdout.splitlines() if ln[:1].isalpha() and len(ln.split()) >= 3
            and ln.split()[1].replace(".", "").isdigit()]
    total = [ln for ln in stdout.splitlines() if ln.startswith("total:")]
    return rows, total


@pytest.fixture(scope="module")
def notebooks(tmp_path_factory, runtime):
    released = ROOT / "course" / A / "momentum.ipynb"
    folder = runtime / "grader-check"
    answers = solution_code(A)
    first = next(iter(answers))
    # the socket's name is known before the server starts: one per course root and interpreter
    key = checkserver._key(ROOT)
    answers[first] = PROBE.format(socket=str(folder / f"{key}.sock"), folder=str(folder)) + answers[first]
    right = tmp_path_factory.mktemp("right") / A / "momentum.ipynb"
    fill(released, answers, right)
    stub = tmp_path_factory.mktemp("stub") / A / "momentum.ipynb"
    stub.parent.mkdir(parents=True)
    shutil.copy(released, stub)
    return right, stub


def test_later_checks_are_served_warm_and_grade_as_a_check_in_its_own_process(runtime, notebooks):
    right, stub = notebooks
    first = _check(runtime, str(right))
    assert first.returncode == 0, first.stdout + first.stderr
    assert "starting a warm check server" in first.stdout
    # full marks: the probe in the first answer cell found neither the folder nor the socket
    assert "total: 18 / 18" in first.stdout
    [pid] = _pids(runtime)
    assert oct(os.stat(runtime / "grader-check").st_mode & 0o777) == "0o700"
    assert oct(os.stat(_socket_path(runtime)).st_mode & 0o777) == "0o600"

    served = _check(runtime, str(stub))
    here = _check(runtime, str(stub), "--no-server")
    assert served.returncode == here.returncode == 1, served.stdout + served.stderr
    assert "starting" not in served.stdout
    assert _scores(served.stdout) == _scores(here.stdout), (served.stdout, here.stdout)
    assert "total: 0 / 18" in served.stdout and "sgd_step is not implemented yet" in served.stdout
    # the check's own options are served as well
    full = _check(runtime, str(right), "--full")
    assert full.returncode == 0 and "total: 18 / 18" in full.stdout, full.stdout + full.stderr
    assert _pids(runtime) == [pid]   # the same server, warm


def test_only_its_user_reaches_the_server(runtime, notebooks, tmp_path):
    right, stub = notebooks
    if not _pids(runtime):
        assert _check(runtime, str(right)).returncode == 0
    path = str(_socket_path(runtime))
    if os.geteuid() == 0:   # another user cannot even enter the folder
        child = subprocess.run([sys.executable, "-c", f"""
import os, socket
os.setgid(65534); os.setuid(65534)
s = socket.socket(socket.AF_UNIX)
try:
    s.connect({path!r}); print("reached")
except OSError as e:
    print(type(e).__name__)
"""], capture_output=True, text=True)
        assert child.stdout.strip() == "PermissionError", child.stdout + child.stderr
    # a folder that others may enter is no place for the socket: the check grades in its
    # own process instead
    open_folder = tmp_path / "open"
    open_folder.mkdir()
    os.chmod(open_folder, 0o755)
    (open_folder / "grader-check").mkdir(mode=0o755)
    os.chmod(open_folder / "grader-check", 0o755)
    out = _check(open_folder, str(stub))
    assert out.returncode == 1 and "starting" not in out.stdout and "total: 0 / 18" in out.stdout, out.stdout
    assert not list((open_folder / "grader-check").iterdir())


def _descendants(pid):
    children = {}
    for p in pathlib.Path("/proc").iterdir():
        if p.name.isdigit():
            try:
                ppid = int(next(ln for ln in (p / "status").read_text().splitlines()
                                if ln.startswith("PPid:")).split()[1])
            except (OSError, StopIteration):
                continue
            children.setdefault(ppid, []).append(int(p.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _kernel_among(pids):
    """A graded kernel among ``pids``: as root, a process of a sandbox user (the template,
    the sandboxes' bubblewrap and their stubs run as root); otherwise the fifth process."""
    if os.geteuid() != 0:
        return len(pids) >= 5
    for p in pids:
        with contextlib.suppress(OSError, StopIteration):
            uid = next(ln for ln in pathlib.Path(f"/proc/{p}/status").read_text().splitlines()
                       if ln.startswith("Uid:")).split()[1]
            if int(uid) != 0:
                return True
    return False


def test_an_interrupted_check_ends_its_kernel_and_the_server(runtime, notebooks, tmp_path):
    right, _ = notebooks
    answers = solution_code(A)
    first = next(iter(answers))
    answers[first] = "import time\ntime.sleep(600)\n" + answers[first]
    slow = tmp_path / A / "momentum.ipynb"
    fill(ROOT / "course" / A / "momentum.ipynb", answers, slow)
    if not _pids(runtime):
        assert _check(runtime, str(right)).returncode == 0
    [pid] = _pids(runtime)
    client = subprocess.Popen([sys.executable, "-m", "grader", "--root", str(ROOT), "check", str(slow)], cwd=ROOT,
                              env=_env(runtime), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert client.stdout.readline().startswith("grading momentum.ipynb")
    deadline = time.monotonic() + 60
    while not _kernel_among(_descendants(pid)) and time.monotonic() < deadline:
        time.sleep(0.2)
    processes = _descendants(pid)
    assert _kernel_among(processes), "the slow check's kernel did not start"
    time.sleep(1)
    client.send_signal(signal.SIGINT)
    _, err = client.communicate(timeout=60)
    assert client.returncode == 130 and "interrupted" in err, err
    assert _gone(pid)
    assert all(_gone(p, seconds=10) for p in processes), "a process of the interrupted check lived on"


def test_a_check_of_other_software_ends_the_server_and_starts_its_own(runtime, notebooks):
    right, _ = notebooks
    if not _pids(runtime):
        assert _check(runtime, str(right)).returncode == 0
    [pid] = _pids(runtime)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(_socket_path(runtime)))
        s.sendall(json.dumps({"version": "another", "check": {}}).encode() + b"\n")
        answer = json.loads(s.makefile().readline())
    assert "stale" in answer
    assert _gone(pid)
    again = _check(runtime, str(right))
    assert again.returncode == 0 and "starting a warm check server" in again.stdout, again.stdout + again.stderr
    assert _pids(runtime) and _pids(runtime) != [pid]


def test_stop_and_idle_end_the_server(runtime, notebooks):
    right, _ = notebooks
    if not _pids(runtime):
        assert _check(runtime, str(right)).returncode == 0
    [pid] = _pids(runtime)
    stopped = _check(runtime, "--stop")
    assert stopped.returncode == 0 and "has ended" in stopped.stdout
    assert _gone(pid) and not list((runtime / "grader-check").glob("*.sock"))
    assert "no check server runs" in _check(runtime, "--stop").stdout

    assert _check(runtime, str(right), GRADER_CHECK_IDLE="3").returncode == 0
    [pid] = _pids(runtime)
    assert _gone(pid, seconds=30), "an idle server did not end"
    assert not list((runtime / "grader-check").glob("*.sock"))
