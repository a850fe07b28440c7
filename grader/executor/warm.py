"""Warm kernels: the heavy imports paid once per grading process, not per submission.

A ``Template`` is a process (grader/executor/zygote.py) in a sandbox of its own that has
imported numpy, torch, matplotlib, ipykernel, the toolkit and the grading client, and
forks each graded kernel into that submission's fresh sandbox (zygote.py says how the
fork enters it). The executor starts the sandbox itself, as for a cold kernel, with a
stub process (``cat``) that holds its namespaces and lives exactly as long as the
kernel: the stub reads a pipe whose only writer is the kernel, so when the kernel ends,
however it ends, the stub and with it the sandbox end, and jupyter_client sees the
process it launched (the sandbox) exit as it would see a cold kernel exit.

Warm kernels need root (entering a sandbox's namespaces needs CAP_SYS_ADMIN over them,
and each kernel its own uid); elsewhere, or with ``TrustedExecute.warm = False``, every
kernel starts cold, as before. A template that fails is replaced once and then given up
for that process: kernels start cold, with a warning.
"""
import atexit
import contextlib
import json
import logging
import os
import pathlib
import select
import socket
import subprocess
import sys
import tempfile
import threading
import time

from grader.executor import sandbox as sandboxing

log = logging.getLogger(__name__)

# what a graded kernel imports (the lessons' setup cells, ipykernel and the inline backend),
# and torch._dynamo, which the first step of any torch.optim optimizer imports (1.5 s)
PRELOAD = ("numpy", "torch", "torch.nn.functional", "torch._dynamo", "matplotlib", "matplotlib.pyplot",
           "matplotlib.patches", "matplotlib_inline.backend_inline", "ipykernel.kernelapp", "ipykernel.ipkernel",
           "ipywidgets", "IPython.display", "tqdm.auto", "descentlab", "gradeclient")
NAMESPACES = ("cgroup", "mnt", "net", "ipc", "uts", "pid")
CAPABILITIES = ("CAP_SYS_ADMIN", "CAP_SYS_CHROOT", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP")
SOURCE = pathlib.Path(__file__).with_name("zygote.py")
# the stub: says it runs (the sandbox is set up), then lives as long as its input is open
STUB = ["/bin/sh", "-c", "echo ready; exec cat >/dev/null"]
INLINE = "module://matplotlib_inline.backend_inline"   # what ipykernel sets before a kernel's first cell


def kernel_environment(box):
    """A warm kernel's environment, the template's too: the sandbox's, with the backend
    ipykernel would set before the first cell (matplotlib reads it at import)."""
    env = box.environment()
    env.setdefault("MPLBACKEND", INLINE)
    return env


class TemplateFailed(RuntimeError):
    pass


def available():
    """'' when warm kernels can start here, else why not."""
    if os.geteuid() != 0:
        return "warm kernels need root (each kernel enters its sandbox's namespaces as its own user)"
    return sandboxing.probe()


class Template:
    """One template process and its control socket."""

    def __init__(self, preload=PRELOAD, timeout=180):
        self._lock = threading.Lock()
        self._folder = tempfile.mkdtemp(prefix="grader-warm-")
        self._box = sandboxing.Sandbox(workdir=self._folder, uid=None,
                                       files={"/tmp/zygote.py": str(SOURCE)})
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock = ours
        env = kernel_environment(self._box)
        args = [sandboxing.BWRAP, "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try",
                "--die-with-parent", "--new-session"]
        # not its own PID namespace: a process can join only a PID namespace below its own
        args += self._box.filesystem() + ["--chdir", self._box.cwd, "--clearenv"]
        for k, v in env.items():
            args += ["--setenv", k, str(v)]
        for cap in CAPABILITIES:
            args += ["--cap-add", cap]
        args += ["--", sys.executable, "/tmp/zygote.py", str(theirs.fileno()), *preload]
        self._started = time.monotonic()
        self._timeout = timeout
        self.imported = None
        # bubblewrap dies with the thread that starts it (--die-with-parent): a long-lived one
        self.process = subprocess.Popen(args, pass_fds=[theirs.fileno(), *self._box.fds],
                                        env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")},
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
        theirs.close()
        self._box.close()

    def ready(self):
        """Wait until the template has done its imports (once)."""
        with self._lock:
            if self.imported is None:
                answer = self._answer(self._timeout)
                if "ready" not in answer:
                    raise TemplateFailed(f"the warm-kernel template did not start: {answer.get('error')}")
                self.imported = answer["ready"]
                self.start_seconds = time.monotonic() - self._started

    def _answer(self, timeout):
        readable, _, _ = select.select([self._sock], [], [], timeout)
        if not readable:
            return {"error": f"no answer in {timeout} s"}
        data = self._sock.recv(1 << 20)
        if not data:
            return {"error": "the template ended"}
        return json.loads(data)

    def alive(self):
        return self.process.poll() is None

    def fork(self, namespaces, keepalive, stderr=None, **request):
        """A kernel in the sandbox whose namespace descriptors are ``namespaces``; its
        host pid."""
        fds = [*namespaces, keepalive] + ([stderr] if stderr is not None else [])
        self.ready()
        with self._lock:
            try:
                socket.send_fds(self._sock, [json.dumps({"ns": list(NAMESPACES), **request}).encode()], fds)
            except OSError as e:
                raise TemplateFailed(f"the warm-kernel template is gone ({e})") from e
            answer = self._answer(60)
        if "pid" not in answer:
            raise TemplateFailed(f"the warm-kernel template could not start a kernel: {answer.get('error')}")
        return answer["pid"]

    def close(self):
        with contextlib.suppress(OSError):
            self._sock.close()
        if self.process.poll() is None:
            self.process.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(10)
        with contextlib.suppress(OSError):
            os.rmdir(self._folder)


_template = None
_failures = 0
_prestarted = False
_guard = threading.Lock()


def template():
    """This process's template (started on first use, replaced if it died), or None
    when warm kernels are not to be had here."""
    global _template, _failures
    with _guard:
        if _template is not None and _template.alive():
            return _template
        if _failures >= 2 or available():
            return None
        try:
            _template = Template()
            atexit.register(_template.close)
            return _template
        except (OSError, TemplateFailed) as e:
            _failures += 1
            log.warning("warm kernels are off in this process: %s", e)
            _template = None
            return None


def failed(broken):
    """A template that could not fork a kernel: replaced on the next call of
    ``template()``, after two failures warm kernels are off in this process."""
    global _template, _failures
    with _guard:
        _failures += 1
        if _template is broken:
            _template = None
    broken.close()


def prestart():
    """Start this process's template now, without waiting for it, so that its start
    (matplotlib's cache, then its imports, each in a process of its own) overlaps the
    caller's own work: a grading worker's imports, ``check``'s reading of the course.
    From a thread that lives as long as the process: bubblewrap dies with the thread
    that started it."""
    global _prestarted
    with _guard:
        if _prestarted:
            return
        _prestarted = True

    def keep():
        template()
        threading.Event().wait()
    threading.Thread(target=keep, name="warm-template", daemon=True).start()


def _read_until(fd, end, timeout, what):
    data, deadline = b"", time.monotonic() + timeout
    try:
        while end not in data:
            readable, _, _ = select.select([fd], [], [], max(0, deadline - time.monotonic()))
            chunk = os.read(fd, 4096) if readable else b""
            if not chunk:
                raise TemplateFailed(f"the sandbox did not start ({what}: {data[:200]!r})")
            data += chunk
    finally:
        os.close(fd)
    return data


def enter(box, template_, connection_file, info_fd, ready_fd, keepalive, stderr=None, timeout=30):
    """Fork a kernel from the template into ``box``'s freshly started sandbox: its pid
    from bubblewrap's --info-fd, and once the stub runs (bubblewrap has set up the
    sandbox's file system by then), the fork."""
    try:
        info = _read_until(info_fd, b"}", timeout, "bubblewrap's information")
    finally:
        _read_until(ready_fd, b"ready\n", timeout, "the stub")
    pid = json.loads(info[:info.index(b"}") + 1])["child-pid"]
    ns = []
    try:
        ns = [os.open(f"/proc/{pid}/ns/{name}", os.O_RDONLY) for name in NAMESPACES]
        env = kernel_environment(box)
        return template_.fork(ns, keepalive, stderr, uid=box.uid, cwd=box.cwd, env=env,
                              limits=box.rlimits(), connection_file=connection_file)
    finally:
        for fd in ns:
            os.close(fd)
