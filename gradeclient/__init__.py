"""The only grading code a graded notebook's kernel ever runs.

Hidden-test cells call ``check(name, your_function, part)`` or ``check_answer(key,
value)``. Neither decides anything: the call connects to the trusted grader (the Unix
socket named by ``GRADER_SOCKET``, set by the grading executor), names what the cell
grades, and then only serves the grader's requests: "call your function on these
inputs", "run your optimizer on this problem", sending back what came out. The grader,
in its own process, holds the reference implementations, draws the inputs from a
secret seed, compares, and records the verdict against the test cell it saw running.

So nothing here is worth forging: no expected value, tolerance or verdict ever reaches
the kernel. This package imports nothing from ``grader`` (a test enforces it).
"""
import inspect
import os
import socket
import sys
import types

from gradeclient import wire

__all__ = ["check", "check_answer"]
SOCKET_ENV = "GRADER_SOCKET"


class NotGrading(RuntimeError):
    """Raised when there is no grader to talk to (the notebook is not being graded)."""


class Refused(RuntimeError):
    """The grader refused the request (for example: this cell does not grade that)."""


def check(name, obj, part):
    """Let the grader check ``obj`` (the student's function or class) for ``part``."""
    _session({"op": "begin", "kind": "check", "name": str(name), "part": str(part),
              "answer": describe(obj)}, obj)


def check_answer(key, value):
    """Let the grader check the numeric answer ``value`` to question ``key``."""
    _session({"op": "begin", "kind": "answer", "key": str(key), "value": wire.encode(value)}, None)


class CheckFailed(AssertionError):
    """Outside grading only: the local grader's verdict, shown in the cell."""


_local = {}


def _local_server():
    """Outside grading (an instructor running a solution notebook): a grader process of
    its own, started from the installed ``grader`` package (never imported here), told
    to end when this process does. Where no grader is installed (a student's machine, a
    grading sandbox) there is none, and the hidden tests say so."""
    import importlib.util
    import subprocess
    import tempfile
    import time
    if _local.get("path"):
        return _local["path"]
    try:
        found = importlib.util.find_spec("grader") is not None   # found, not imported
    except (ImportError, ValueError):
        found = False
    if not found:
        raise NotGrading("hidden tests run only where the course's grader is installed "
                         "(python -m grader check NOTEBOOK grades a notebook)")
    path = os.path.join(tempfile.mkdtemp(prefix="grader-local-"), "grader.sock")
    _local["process"] = subprocess.Popen([sys.executable, "-m", "grader.executor.local", path, str(os.getpid())],
                                         stdin=subprocess.DEVNULL, start_new_session=True)
    for _ in range(600):
        if os.path.exists(path):
            _local["path"] = path
            return path
        if _local["process"].poll() is not None:
            break
        time.sleep(0.05)
    raise NotGrading("the local grader did not start")


def _connect():
    path = os.environ.get(SOCKET_ENV) or _local_server()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    return sock


def _session(first, obj):
    with _connect() as sock:
        wire.send(sock, first)
        while True:
            msg = wire.recv(sock)
            op = msg["op"]
            if op == "done":
                if msg.get("passed") is False:    # told only outside grading
                    raise CheckFailed(str(msg.get("message", "")))
                return
            if op == "refused":
                raise Refused(str(msg.get("why", "the grader refused this request")))
            if op == "call":
                wire.send(sock, _call(obj, msg))
            elif op == "run":
                from gradeclient import programs
                wire.send(sock, programs.run(str(msg.get("program")), obj, wire.decode(msg.get("spec"),
                                                                                      tensors=True)))
            else:
                raise wire.ProtocolError(f"unknown request {op!r}")


def _namespace():
    try:
        return get_ipython().user_ns  # noqa: F821 (inside IPython)
    except NameError:
        return vars(sys.modules["__main__"])


def _target(obj, name):
    if name is None:
        return obj
    value = _namespace().get(str(name))
    return value


def _call(obj, msg):
    fn = _target(obj, msg.get("target"))
    args = wire.decode(msg.get("args", []))
    kwargs = wire.decode(msg.get("kwargs", {"$dict": []}))
    try:
        if not callable(fn):
            raise TypeError(f"{msg.get('target') or 'the answer'} is not callable")
        out = fn(*args, **kwargs)
        reply = {"op": "result", "value": wire.encode(out)}
    except BaseException as e:   # noqa: BLE001 (the student's error, reported to the grader)
        if isinstance(e, KeyboardInterrupt):
            raise
        reply = {"op": "raised", "type": type(e).__name__, "message": _text(e),
                 "not_implemented": isinstance(e, NotImplementedError)}
    # what the call did to its inputs: the grader checks they were left alone
    reply["args_after"] = [wire.encode(a) if _is_array(a) else None for a in args]
    if isinstance(kwargs, dict):
        reply["kwargs_after"] = {"$dict": [[k, wire.encode(v)] for k, v in kwargs.items() if _is_array(v)]}
    return reply


def _is_array(a):
    import numpy as np
    return isinstance(a, np.ndarray)


def _text(e):
    try:
        return str(e)[:2000]
    except Exception:   # noqa: BLE001 (a hostile __str__)
        return "(no message)"


# ------------------------------------------------------------------ describing an answer

def code_names(code):
    """Global names a code object refers to, nested functions and lambdas included."""
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def describe(obj):
    """What the grader may want to know about an answer before calling it: whether it is
    callable, its parameters, and which global names its code uses (for hints such as
    "your mse_gradient, which this calls, is broken")."""
    out = {"callable": callable(obj), "kind": "class" if isinstance(obj, type) else type(obj).__name__,
           "params": None, "names": []}
    try:
        out["params"] = [[p.name, p.kind.name, p.default is not p.empty]
                         for p in inspect.signature(obj).parameters.values()]
    except (TypeError, ValueError):
        pass
    code = getattr(obj, "__code__", None)
    if isinstance(code, types.CodeType):
        out["names"] = sorted(code_names(code))[:200]
    return out
