"""The trust boundary, piece by piece: what a graded kernel can import, what the
verdict server accepts and records, and what a sandbox lets a process see and do.
(The whole path, with crafted submissions, is tests/test_red_team.py.)"""
import ast
import os
import pathlib
import socket
import subprocess
import sys
import tempfile
import threading
import time

import numpy as np
import pytest

import gradeclient
from gradeclient import wire
from grader.executor import sandbox as sandboxing
from grader.executor.verdicts import VerdictServer, plan

ROOT = pathlib.Path(__file__).resolve().parents[1]


# ------------------------------------------------------------------ the client

def test_the_client_imports_nothing_of_the_trusted_side():
    for path in sorted((ROOT / "gradeclient").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not any(n == "grader" or n.startswith("grader.") for n in names), f"{path} imports {names}"
    code = ("import gradeclient, gradeclient.wire, gradeclient.programs, sys; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'grader'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_wire_values_round_trip_and_hostile_ones_stay_data():
    values = [None, True, 3, 2.5, float("nan"), "s", (1, [2.0, {"a": np.arange(3)}]),
              np.float32(1.5), np.zeros((2, 0)), np.array(7.0), np.ones((2, 3), dtype=np.int16)]
    back = wire.decode(wire.encode(values))
    assert back[:4] == values[:4] and np.isnan(back[4]) and back[5] == "s"
    assert isinstance(back[6], tuple) and np.array_equal(back[6][1][1]["a"], np.arange(3))
    assert back[8].shape == (2, 0) and back[9].shape == () and back[10].dtype == np.int16
    assert isinstance(wire.decode(wire.encode(object())), wire.Opaque)
    for bad in ({"$nd": ["|O", [1], ""]}, {"$nd": ["<f8", [3], "AAAA"]}, {"$code": "import os"},
                {"$nd": ["<f8", [-1], ""]}, {"a": 1, "b": 2, "c": 3}):
        with pytest.raises((wire.ProtocolError, ValueError, TypeError)):
            wire.decode(bad)


# ------------------------------------------------------------------ the verdict server

def _ask(path, first, serve=None):
    """A kernel stand-in: connect, send ``first``, answer calls with ``serve``."""
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(path))
        wire.send(s, first)
        while True:
            msg = wire.recv(s)
            if msg["op"] in ("done", "refused"):
                return msg
            args, kwargs = wire.decode(msg["args"]), wire.decode(msg["kwargs"])
            wire.send(s, {"op": "result", "value": wire.encode(serve(*args, **kwargs)), "args_after": []})


def _begin(name="sgd_step", part="basic", **answer):
    return {"op": "begin", "kind": "check", "name": name, "part": part,
            "answer": {"callable": True, "params": [["x", "P", False], ["g", "P", False], ["lr", "P", False]],
                       **answer}}


@pytest.fixture
def server(tmp_path):
    srv = VerdictServer(tmp_path / "grader.sock", check_timeout=30)
    yield srv
    srv.close()


def test_plans_come_from_the_instructors_source():
    src = ("import gradeclient\ngradeclient.check('sgd_step', sgd_step, 'basic')\n"
           "gradeclient.check_answer('stable_lr', stable_lr)\ncheck(name, f, 'x')\n")
    assert plan(src) == [("check", "sgd_step", "basic"), ("answer", "stable_lr")]
    assert plan("this is not python(") == []


def test_a_right_answer_passes_and_the_verdict_cannot_change(server):
    server.begin_cell("sgd_step_basic", [("check", "sgd_step", "basic")])
    assert _ask(server.path, _begin(), lambda x, g, lr: x - lr * g)["op"] == "done"
    again = _ask(server.path, _begin(), lambda x, g, lr: x)
    server.end_cell()
    assert again["op"] == "refused"
    assert server.record.cells["sgd_step_basic"].outcome() == (True, "")
    assert any("second time" in f for f in server.record.flags)


def test_fail_closed_a_cell_that_asks_nothing_or_answers_wrong_scores_nothing(server):
    server.begin_cell("sgd_step_basic", [("check", "sgd_step", "basic")])
    server.end_cell()
    passed, message = server.record.cells["sgd_step_basic"].outcome()
    assert not passed and "never asked" in message
    server.begin_cell("sgd_step_random", [("check", "sgd_step", "random")])
    _ask(server.path, _begin(part="random"), lambda x, g, lr: x + lr * g)
    server.end_cell()
    passed, message = server.record.cells["sgd_step_random"].outcome()
    assert not passed and "expected" in message


def test_requests_outside_a_test_cell_or_for_another_item_are_refused(server):
    assert _ask(server.path, _begin(), lambda *a: 0)["op"] == "refused"            # no cell running
    server.begin_cell("sgd_step_basic", [("check", "sgd_step", "basic")])
    assert _ask(server.path, _begin(part="random"), lambda *a: 0)["op"] == "refused"
    assert _ask(server.path, _begin(name="momentum_step"), lambda *a: 0)["op"] == "refused"
    server.end_cell()
    assert len(server.record.flags) == 3, server.record.flags
    assert not server.record.cells["sgd_step_basic"].outcome()[0]


def test_garbage_on_the_socket_is_flagged_and_changes_nothing(server):
    server.begin_cell("sgd_step_basic", [("check", "sgd_step", "basic")])
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(server.path)
        s.sendall(b"\x00\x00\x00\x05hello")
        time.sleep(0.2)
    with socket.socket(socket.AF_UNIX) as s:     # an endless message is cut off
        s.connect(server.path)
        s.sendall(b"\xff\xff\xff\xff")
        time.sleep(0.2)
    server.end_cell()
    assert server.record.flags and not server.record.cells["sgd_step_basic"].verdicts


def test_forged_replies_cannot_pass_a_check(server):
    """The kernel may send anything back; only right outputs pass."""
    server.begin_cell("sgd_step_basic", [("check", "sgd_step", "basic")])
    for forged in (None, "passed", {"$opaque": "x"}, [0.0] * 3, float("nan")):
        server.record.cells["sgd_step_basic"].asked.clear()
        _ask(server.path, _begin(), lambda *a, f=forged, **k: f)
        assert not server.record.cells["sgd_step_basic"].verdicts.popitem()[1].passed
    server.end_cell()


# ------------------------------------------------------------------ the sandbox

needs_sandbox = pytest.mark.skipif(bool(sandboxing.probe()) and not os.environ.get("CI"),
                                   reason=f"no sandbox here: {sandboxing.probe()}")


def _in_sandbox(code, **limits):
    with tempfile.TemporaryDirectory() as work:
        box = sandboxing.Sandbox(workdir=work, limits=sandboxing.Limits(**limits))
        try:
            out = subprocess.run(box.wrap([sys.executable, "-c", code]), capture_output=True, text=True,
                                 timeout=120, pass_fds=box.fds, env={"PATH": "/usr/bin:/bin", "SECRET": "s3"})
            return out, box.uid
        finally:
            box.close()


@needs_sandbox
def test_a_sandbox_sees_only_the_python_environment():
    code = ("import os, json, sys\n"
            f"root = {str(ROOT)!r}\n"
            "seen = {p: os.path.exists(os.path.join(root, p)) for p in "
            "('grader', 'solutions', 'nbgrader_config.py', 'toolkit', 'gradeclient', 'course')}\n"
            "import descentlab, gradeclient\n"
            "try:\n    import grader; seen['import grader'] = True\n"
            "except ImportError:\n    seen['import grader'] = False\n"
            "seen['home'] = os.path.exists(os.path.expanduser('~root/.bashrc')) or os.path.isdir('/root/.cache')\n"
            "seen['env'] = sorted(k for k in os.environ if 'SECRET' in k)\n"
            "seen['procs'] = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
            "seen['uid'] = os.getuid()\n"
            "print(json.dumps(seen))\n")
    out, uid = _in_sandbox(code)
    assert out.returncode == 0, out.stderr
    import json
    seen = json.loads(out.stdout)
    assert not seen["grader"] and not seen["solutions"] and not seen["nbgrader_config.py"] and not seen["course"]
    assert not seen["import grader"] and not seen["home"] and seen["env"] == []
    assert len(seen["procs"]) <= 3, seen["procs"]        # bubblewrap's init, the process, maybe one more
    if os.geteuid() == 0:
        assert seen["uid"] == uid and uid >= sandboxing.UID_BASE


@needs_sandbox
def test_a_sandbox_has_no_network_and_its_processes_end_with_it():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    port = listener.getsockname()[1]
    hits = []
    threading.Thread(target=lambda: hits.append(listener.accept()), daemon=True).start()
    code = ("import socket, subprocess, os\n"
            "subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
            "try:\n"
            f"    socket.create_connection(('127.0.0.1', {port}), timeout=2); print('connected')\n"
            "except OSError as e:\n    print('no network', e)\n")
    out, uid = _in_sandbox(code)
    listener.close()
    assert "no network" in out.stdout and not hits, out.stdout + out.stderr
    time.sleep(0.5)
    if uid is not None:
        left = [p for p in os.listdir("/proc") if p.isdigit() and _uid_of(p) == uid]
        assert not left, f"processes of the sandbox's user outlived it: {left}"


def _uid_of(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except FileNotFoundError:
        return None


@needs_sandbox
def test_a_sandbox_limits_what_it_writes_and_how_many_processes_it_runs():
    code = ("import os\n"
            "written = 0\n"
            "try:\n"
            "    with open('/tmp/fill', 'wb') as f:\n"
            "        for _ in range(400):\n"
            "            f.write(b'x' * (1 << 20)); written += 1\n"
            "except OSError as e:\n    pass\n"
            "print('written', written)\n"
            "kids = 0\n"
            "try:\n"
            "    for _ in range(400):\n"
            "        if os.fork() == 0:\n"
            "            import time; time.sleep(3); os._exit(0)\n"
            "        kids += 1\n"
            "except OSError:\n    pass\n"
            "print('kids', kids)\n")
    out, uid = _in_sandbox(code, disk_mb=64, file_mb=256, processes=32)
    lines = dict(line.split() for line in out.stdout.splitlines() if line.split()[0] in ("written", "kids"))
    assert int(lines["written"]) <= 64, out.stdout
    if uid is not None:
        assert int(lines["kids"]) < 32, out.stdout


@needs_sandbox
def test_two_sandboxes_never_share_a_user():
    if os.geteuid() != 0:
        pytest.skip("distinct users need root; an ordinary user gets user namespaces")
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        one, two = sandboxing.Sandbox(workdir=a), sandboxing.Sandbox(workdir=b)
        try:
            assert one.uid != two.uid
        finally:
            one.close()
            two.close()


def test_outside_grading_hidden_tests_run_on_a_local_grader_and_say_what_they_found(monkeypatch):
    """An instructor running a solution notebook sees its hidden tests pass or fail."""
    monkeypatch.delenv(gradeclient.SOCKET_ENV, raising=False)
    gradeclient.check("sgd_step", lambda x, g, lr: x - lr * g, "basic")
    with pytest.raises(gradeclient.CheckFailed, match="expected"):
        gradeclient.check("sgd_step", lambda x, g, lr: x + lr * g, "basic")


@needs_sandbox
def test_inside_a_sandbox_there_is_no_grader_to_fall_back_on():
    code = ("import gradeclient\n"
            "try:\n    gradeclient.check('sgd_step', lambda x, g, lr: x, 'basic')\n"
            "except gradeclient.NotGrading as e:\n    print('not grading:', e)\n")
    out, _ = _in_sandbox(code)
    assert "not grading" in out.stdout, out.stdout + out.stderr
