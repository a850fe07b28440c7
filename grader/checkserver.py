"""A warm server for ``check``: the second check of a session starts grading at once.

Before a check can run its first cell it imports nbgrader, the executor and the checks
with torch (about 3 s), and it starts the warm-kernel template, which imports numpy,
torch, matplotlib and ipykernel (about 4 s, on the other core). A self-learner checks
again and again, so the first ``check`` of a course starts a server that has done all of
that once: a process of the same user, which grades each later check of that course in
turn, with the same code as a check in its own process (``grader.cli.check_here``) and
the same trusted side, sandboxes and fresh kernels (one forked from its template per
check, as a grading worker forks one per submission). It ends

- after ``GRADER_CHECK_IDLE`` seconds (default 600) without a check;
- when a check comes from another version of the grading software (task.software_version:
  the grader, the client, the toolkit, the libraries): it says so and ends, and that
  check starts a server of its own;
- with ``python -m grader check --stop``, or when a check it runs is interrupted
  (Ctrl-C in the command ends the check's kernel and the server with it).

``--no-server`` or ``GRADER_CHECK_SERVER=off`` grades in the command's own process.
autograde never uses the server: grades of record come from its own fresh workers.

Reaching it: a Unix socket in a folder that only the user can open
(``$XDG_RUNTIME_DIR/grader-check``, else ``/tmp/grader-check-UID``, mode 0700, refused
when it is not the user's), one per course root and interpreter; the server serves only
peers of its own uid (SO_PEERCRED), one check at a time. A graded kernel sees neither
folder: its sandbox has a /tmp of its own and no /run (grader/executor/sandbox.py).

Protocol: the command sends one JSON line (``{"version", "check": options}`` or
``{"version", "stop": true}``); the server answers with JSON lines ``{"out": text}``,
``{"err": text}``, then ``{"exit": code}`` or ``{"stale": its version}``.
"""
import contextlib
import hashlib
import io
import json
import os
import pathlib
import signal
import socket
import stat
import struct
import subprocess
import sys
import threading
import time

IDLE_ENV, SWITCH_ENV = "GRADER_CHECK_IDLE", "GRADER_CHECK_SERVER"
IDLE = 600
CONNECT_SECONDS = 20   # a server just started binds its socket in well under a second
MAX_CHECKS = 100


def enabled():
    return os.environ.get(SWITCH_ENV, "on").lower() not in ("off", "0", "no", "false")


def folder():
    """The user's private folder for the servers' sockets, or None (then no server)."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    path = pathlib.Path(runtime) / "grader-check" if runtime else pathlib.Path(f"/tmp/grader-check-{os.geteuid()}")
    try:
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
        st = os.lstat(path)
    except OSError:   # no such runtime folder, or not ours to write
        return None
    # another user's folder, a link, or one others can enter: not a place for our socket
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid() or st.st_mode & 0o077:
        return None
    return path


def _key(root):
    return hashlib.sha256(f"{pathlib.Path(root).resolve()}\0{sys.executable}".encode()).hexdigest()[:16]


def _paths(root):
    base = folder()
    if base is None:
        return None
    key = _key(root)
    return {"socket": base / f"{key}.sock", "lock": base / f"{key}.lock", "log": base / f"{key}.log"}


def _version():
    from grader import task
    return task.software_version()


# ------------------------------------------------------------------ the command's side

def _connect(path, wait=0.0):
    deadline = time.monotonic() + wait
    while True:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(str(path))
            return s
        except (FileNotFoundError, ConnectionRefusedError):
            s.close()
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)


def _spawn(root, paths):
    with open(paths["log"], "wb") as log:
        subprocess.Popen([sys.executable, "-m", "grader.checkserver", str(root)], cwd=root, stdin=subprocess.DEVNULL,
                         stdout=log, stderr=subprocess.STDOUT, start_new_session=True, close_fds=True)


def _exchange(conn, request):
    """Send ``request``; relay the answer's output. ('exit', code) or ('stale', version)."""
    conn.sendall(json.dumps(request).encode() + b"\n")
    reader = conn.makefile("rb")
    for line in reader:
        msg = json.loads(line)
        if "out" in msg:
            sys.stdout.write(msg["out"])
            sys.stdout.flush()
        elif "err" in msg:
            sys.stderr.write(msg["err"])
            sys.stderr.flush()
        elif "exit" in msg:
            return "exit", msg["exit"]
        elif "stale" in msg:
            return "stale", msg["stale"]
    return "gone", None


def check(root, options):
    """Run a check with ``options`` (cli.check_here's) on this course's server, starting
    one when there is none: its exit code, or None when no server can be used (the
    caller then checks in its own process)."""
    paths = _paths(root)
    if paths is None:
        return None
    version = _version()
    for _ in range(2):   # a second time after a server of another version has ended
        conn = _connect(paths["socket"])
        if conn is None:
            seconds = _idle()
            idle = f"{seconds // 60} idle minutes" if seconds >= 120 else f"{seconds} idle seconds"
            print("starting a warm check server for this course: the next checks start at once "
                  f"(it ends after {idle}, or with `python -m grader check --stop`)")
            sys.stdout.flush()
            _spawn(root, paths)
            conn = _connect(paths["socket"], CONNECT_SECONDS)
            if conn is None:
                print(f"notice: the check server did not start (see {paths['log']}); checking here instead")
                return None
        try:
            with conn:
                kind, value = _exchange(conn, {"version": version, "check": options})
        except OSError:   # a server that was ending as we connected
            kind, value = "gone", None
        except KeyboardInterrupt:
            print("\ninterrupted: the check, its kernel and the check server have ended", file=sys.stderr)
            return 130
        if kind == "exit":
            return value
        if kind == "gone":
            print(f"notice: the check server ended during the check (see {paths['log']}); checking here instead")
            return None
    return None


def stop(root):
    """End this course's server, if one runs. 0 either way."""
    paths = _paths(root)
    conn = _connect(paths["socket"]) if paths else None
    if conn is None:
        print("no check server runs for this course")
        return 0
    with conn:
        _exchange(conn, {"version": _version(), "stop": True})
    print("the check server has ended")
    return 0


def _idle():
    try:
        return max(1, int(os.environ.get(IDLE_ENV, IDLE)))
    except ValueError:
        return IDLE


# ------------------------------------------------------------------ the server

class _Frames(io.TextIOBase):
    """A text stream whose writes go to the command as {kind: text} lines."""

    def __init__(self, conn, kind):
        self._conn, self._kind = conn, kind

    def writable(self):
        return True

    def write(self, text):
        if text:
            self._conn.sendall(json.dumps({self._kind: text}).encode() + b"\n")
        return len(text)


def _peer_uid(conn):
    _, uid, _ = struct.unpack("3i", conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i")))
    return uid


def _read_request(conn):
    """The command's one line, or None (nothing within 10 s, too long, not JSON)."""
    data = b""
    conn.settimeout(10)
    try:
        while not data.endswith(b"\n") and len(data) < 1 << 16:
            chunk = conn.recv(4096)
            if not chunk:
                return None
            data += chunk
        return json.loads(data)
    except (OSError, ValueError):
        return None
    finally:
        conn.settimeout(None)


def _warm_up():
    """What every check needs, done once: the warm-kernel template, and the imports
    (torch._dynamo among them: the template imports it too, and takes as long)."""
    from grader import cli, pipeline  # noqa: F401
    from grader.executor import sandbox
    if not sandbox.probe():
        from grader.executor import warm
        warm.prestart()
        sandbox.matplotlib_cache()
    import nbgrader.api  # noqa: F401
    import nbgrader.apps  # noqa: F401
    pipeline.import_for_grading(dynamo=True)


def _serve_one(conn, version, root, retire):
    """One request. True when the server is to go on; before it says it will end, it
    calls ``retire`` (no new command can reach it after that)."""
    from grader import cli
    if _peer_uid(conn) != os.geteuid():
        return True
    request = _read_request(conn)
    if not isinstance(request, dict):
        return True
    if request.get("version") != version or request.get("stop"):
        retire()
        conn.sendall(json.dumps({"stale": version} if request.get("version") != version else {"exit": 0}).encode()
                     + b"\n")
        return False
    options = request.get("check")
    if not isinstance(options, dict) or set(options) != set(cli.CHECK_OPTIONS) \
            or pathlib.Path(str(options["root"])).resolve() != root:
        conn.sendall(json.dumps({"err": "the check server cannot run this request\n"}).encode() + b"\n"
                     + json.dumps({"exit": 2}).encode() + b"\n")
        return True
    done = threading.Event()

    def watch():
        # the command went away (Ctrl-C): the check is interrupted, as it would be in the
        # command's own process, and the server ends with it
        with contextlib.suppress(OSError):
            conn.recv(1)
        if not done.is_set():
            os.kill(os.getpid(), signal.SIGINT)
    threading.Thread(target=watch, name="check-client", daemon=True).start()
    out, err = _Frames(conn, "out"), _Frames(conn, "err")
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.check_here(cli.check_options(options))
    except KeyboardInterrupt:
        return False
    done.set()
    conn.sendall(json.dumps({"exit": code}).encode() + b"\n")
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_RDWR)   # wakes the watching thread
    return True


def serve(root):
    paths = _paths(root)
    if paths is None:
        return 2
    lock = os.open(paths["lock"], os.O_RDWR | os.O_CREAT, 0o600)
    import fcntl
    deadline = time.monotonic() + 15   # a server of another version may still be ending
    while True:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            break
        except BlockingIOError:
            if time.monotonic() > deadline:
                return 0   # another server serves this course
            time.sleep(0.05)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(paths["socket"])   # a dead server's: the lock is ours
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(paths["socket"]))
    os.chmod(paths["socket"], 0o600)
    listener.listen(16)
    version = _version()
    _warm_up()
    print(f"check server {os.getpid()} for {root} (software {version}) ready", flush=True)
    listener.settimeout(_idle())
    served = 0

    def retire():
        with contextlib.suppress(OSError):
            os.unlink(paths["socket"])

    try:
        while True:
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                return 0
            with conn:
                try:
                    if not _serve_one(conn, version, root, retire):
                        return 0
                except (BrokenPipeError, ConnectionResetError):
                    return 0   # the command went away mid-answer
            served += 1
            if served >= MAX_CHECKS:
                return 0   # a fresh server for the next hundred: nothing piles up in a long session
    except KeyboardInterrupt:
        return 0
    finally:
        retire()
        listener.close()


def main():
    import atexit
    import logging
    code = serve(pathlib.Path(sys.argv[1]).resolve())
    atexit._run_exitfuncs()   # the template's close among them
    logging.shutdown()
    sys.stdout.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
