"""The warm-kernel template: run by grader/executor/warm.py, never imported by it.

One process per grading process, in a sandbox of its own (the kernels' file system and
environment, no network, nothing writable but its own tmpfs), that imports what every
graded kernel needs (numpy, torch, matplotlib, ipykernel, the toolkit, the grading
client) once, runs nothing else, and forks a kernel for each submission:

- the fork enters the submission's own sandbox, started fresh by the executor
  (bubblewrap, a stub process holding its namespaces): its mount, network, IPC, UTS and
  PID namespaces, so it sees that sandbox's tmpfs and files and no other;
- it becomes the submission's sandbox user (a uid of its own), with every capability
  and the bounding set dropped, no new privileges, and the sandbox's limits;
- it starts ipykernel in the already imported interpreter.

Nothing passes from one submission to the next: each kernel is a fresh copy-on-write
copy of this template, which never runs a student's code; what a kernel changes (a
global, a monkeypatched numpy, a file) lives in its own memory and its own sandbox, and
ends with them. Only stdlib at the top: this file's own code is in every kernel's
memory, and it holds nothing secret.

Protocol (a SOCK_SEQPACKET socket, its descriptor in argv[1]): the executor sends a
JSON request with descriptors (the namespaces, then the sandbox's keep-alive pipe, then
optionally the kernel's stderr); the template answers ``{"pid": host pid}`` or
``{"error": text}``.
"""
import ctypes
import json
import os
import resource
import signal
import socket
import sys

CLONE = {"cgroup": 0x02000000, "mnt": 0x00020000, "uts": 0x04000000, "ipc": 0x08000000, "net": 0x40000000,
         "pid": 0x20000000}
PR_CAPBSET_DROP, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 24, 36, 38
_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _preload(names):
    for name in names:
        try:
            __import__(name)
        except Exception as e:   # noqa: BLE001 (a kernel imports it again and shows the error)
            sys.stderr.write(f"warm kernels: {name} could not be imported ahead: {e!r}\n")


def _become_kernel(req, keep, report):
    """In the submission's namespaces: the sandbox's user, limits and environment, then
    ipykernel. Errors before the kernel starts go to ``report``."""
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)   # the template's reaping is not the kernel's
    os.setsid()
    devnull = os.open("/dev/null", os.O_RDWR)
    err = keep.get("stderr", devnull)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    os.dup2(err, 2)
    for name, value in req["limits"]:
        resource.setrlimit(getattr(resource, name), (value, value))
    for cap in range(64):   # the bounding set: no capability can ever come back
        if _libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            break
    uid = req["uid"]
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)   # from root to another uid: every capability is dropped
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("the kernel did not become its sandbox's user")
    os.chdir(req["cwd"])
    os.environ.clear()
    os.environ.update(req["env"])
    held = {0, 1, 2, report, keep["alive"]}
    for fd in [int(f) for f in os.listdir("/proc/self/fd")]:
        if fd not in held:
            try:
                os.close(fd)
            except OSError:
                pass
    sys.path[0] = req["cwd"]   # as `python -m ipykernel_launcher` run in the working directory
    sys.argv = ["ipykernel_launcher", "-f", req["connection_file"]]
    _reseed()
    os.close(report)   # the template's wait ends: the kernel is on its own


def _reseed():
    """Random numbers as in a freshly started kernel: numpy's global generator and
    torch's default one seeded from the system's entropy, as each is at a fresh import
    (``random`` reseeds itself after a fork)."""
    if "numpy" in sys.modules:
        sys.modules["numpy"].random.seed()
    if "torch" in sys.modules:
        sys.modules["torch"].seed()


def _run_kernel():
    from ipykernel import kernelapp
    try:
        kernelapp.launch_new_instance()
    finally:
        os._exit(0)


def spawn(req, fds):
    names = req["ns"]
    keep = {"alive": fds[len(names)]}
    if len(fds) > len(names) + 1:
        keep["stderr"] = fds[len(names) + 1]
    r, w = os.pipe()
    child = os.fork()
    if child == 0:
        try:
            os.close(r)
            for name, fd in zip(names, fds, strict=False):
                _check(_libc.setns(fd, CLONE[name]), f"entering the sandbox's {name} namespace")
            kernel = os.fork()   # the PID namespace applies to children only
            if kernel:
                os.write(w, json.dumps({"pid": kernel}).encode() + b"\n")
                os._exit(0)
            try:
                _become_kernel(req, keep, w)
            except BaseException as e:   # noqa: BLE001
                os.write(w, json.dumps({"error": f"{type(e).__name__}: {e}"}).encode() + b"\n")
                os._exit(1)
            _run_kernel()
        except BaseException as e:   # noqa: BLE001
            os.write(w, json.dumps({"error": f"{type(e).__name__}: {e}"}).encode() + b"\n")
        os._exit(1)
    os.close(w)
    data = b""
    while chunk := os.read(r, 4096):
        data += chunk
    os.close(r)
    try:
        os.waitpid(child, 0)
    except ChildProcessError:   # reaped already (SIGCHLD is ignored)
        pass
    answers = [json.loads(line) for line in data.splitlines() if line.strip()]
    errors = [a["error"] for a in answers if "error" in a]
    if errors or not answers:
        return {"error": "; ".join(errors) or "the kernel's process ended before it started"}
    return answers[0]


def main():
    # A kernel's parent (the fork that entered its sandbox) exits at once: the kernel is
    # then this process's child, and is reaped the moment it ends, so that its sandbox's
    # PID namespace (which waits for all its processes) ends at once too.
    _check(_libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), "child subreaper")
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    sock = socket.socket(fileno=int(sys.argv[1]))
    _preload(sys.argv[2:])
    sock.send(json.dumps({"ready": sorted(m for m in sys.argv[2:] if m in sys.modules)}).encode())
    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 16)
        except OSError:
            return
        if not msg:
            return
        try:
            answer = spawn(json.loads(msg), fds)
        except Exception as e:   # noqa: BLE001
            answer = {"error": f"{type(e).__name__}: {e}"}
        finally:
            for fd in fds:
                try:
                    os.close(fd)
                except OSError:
                    pass
        sock.send(json.dumps(answer).encode())


if __name__ == "__main__":
    main()
