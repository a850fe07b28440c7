"""One grading task, bytes in and bytes out: grade one (student, assignment).

A ``Task`` carries everything grading needs, as bytes: the submission's files (read by
the command, which alone touches the course's folders), and a ``Course``, what nbgrader
needs of the assignment: the nbgrader configuration, the instructor's source notebooks,
the release's other files, and a gradebook holding the assignment's structure. ``grade``
builds a private course folder from them (kept per process and reused while the course
is the same), grades there with nbgrader's Autograde converter, every kernel in its
sandbox (grader/executor), and returns an ``Outcome``: the submission's ``Result`` and
the files of its autograded folder. No shared filesystem, no access to the real
gradebook: the command writes the outcome (grader.pipeline). The local process pool
runs this function; so can any other engine that moves pickled objects.
"""
import hashlib
import os
import pathlib
import shutil
import stat
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

MAX_FILE = 64 << 20   # bytes: a submitted file larger than this is not graded with it


@dataclass(frozen=True)
class Course:
    """What nbgrader needs of one assignment. ``files``: paths under the course root
    (nbgrader_config.py, solutions/A/*.ipynb, the release's other files in course/A/)
    to their bytes; ``gradebook``: an SQLite gradebook with the assignment's structure."""
    assignment: str
    files: dict
    gradebook: bytes

    @property
    def key(self):
        """A hash of everything in it: a process keeps one folder per course."""
        h = hashlib.sha256(self.assignment.encode())
        for name in sorted(self.files):
            h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(self.files[name]).digest())
        h.update(hashlib.sha256(self.gradebook).digest())
        return h.hexdigest()


@dataclass(frozen=True)
class Settings:
    timeout: float = 60            # seconds per cell
    memory_mb: int = 4096          # per kernel
    notebook_timeout: float = 600  # seconds for a whole notebook
    sandbox: str = "require"
    full: bool = False             # run every cell, not only those grading needs (grader/skipping.py)
    warm: bool = True              # kernels forked from a template that did the imports (grader/executor/warm.py)


@dataclass(frozen=True)
class Task:
    student: str
    assignment: str
    submission: dict               # path in the submission folder -> bytes (regular files only)
    skipped: tuple                 # what reading the submission left out (links, special or huge files)
    course: Course
    settings: Settings = field(default_factory=Settings)
    version: str = ""              # the command's software_version()


@dataclass
class Outcome:
    result: object                 # grader.pipeline.Result
    autograded: dict | None        # path in the autograded folder -> bytes; None: nbgrader never ran
    refused: bool = False          # not graded here: the gradebook must not change (see software_version)
    lost: bool = False             # not graded: its grading process died or its scheduler went away

    @property
    def final(self):
        """Graded (or found ungradable) here: the gradebook takes it; a re-run keeps it."""
        return not (self.refused or self.lost)


def software_version():
    """What grades, as a hash: the grader (checks, references, executor), the client a
    graded kernel imports, the student toolkit, and the versions of the libraries the
    references and the kernels compute with. A task carries its command's; a process
    whose own differs refuses it, rather than grade with other references."""
    if "version" not in _process:
        import importlib.util
        from importlib.metadata import version
        h = hashlib.sha256()
        for name in ("grader", "gradeclient", "descentlab"):   # found, not imported (the toolkit is heavy)
            base = pathlib.Path(importlib.util.find_spec(name).origin).parent
            for path in sorted(base.rglob("*.py")):
                if "__pycache__" not in path.parts:
                    h.update(f"{name}/{path.relative_to(base).as_posix()}".encode() + b"\0"
                             + hashlib.sha256(path.read_bytes()).digest())
        for dist in ("numpy", "torch", "nbgrader", "nbclient", "ipykernel"):
            h.update(f"{dist}=={version(dist)}".encode())
        _process["version"] = h.hexdigest()[:16]
    return _process["version"]


def course_of(root, assignment, gradebook):
    """The ``Course`` of ``assignment`` in the course at ``root`` (``gradebook``: the bytes
    of a structure gradebook, grader.pipeline._structure_db)."""
    root = pathlib.Path(root)
    files = {"nbgrader_config.py": (root / "nbgrader_config.py").read_bytes()}
    for path in sorted((root / "solutions" / assignment).glob("*.ipynb")):
        files[f"solutions/{assignment}/{path.name}"] = path.read_bytes()
    release = root / "course" / assignment
    if release.is_dir():   # the files the kernel gets besides notebooks (grader/executor/execute.py)
        for path in sorted(release.iterdir()):
            if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
                files[f"course/{assignment}/{path.name}"] = path.read_bytes()
    return Course(assignment, files, gradebook)


def read_submission(real):
    """The submission folder ``real`` as {relative path: bytes}: regular files and folders
    only. Grading runs as the instructor (often root): a symbolic link in a submission must
    never make it read or grade a file the student could not give. Returns (files,
    skipped), ``skipped`` what was left out."""
    files, skipped = {}, []
    for dirpath, dirnames, filenames in os.walk(real, followlinks=False):
        rel = pathlib.Path(dirpath).relative_to(real)
        for name in list(dirnames):
            if os.path.islink(os.path.join(dirpath, name)):
                skipped.append(str(rel / name))
                dirnames.remove(name)
            else:
                files.setdefault((rel / name).as_posix() + "/", b"")   # a folder, kept even when empty
        for name in filenames:
            src = os.path.join(dirpath, name)
            st = os.lstat(src)
            if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_FILE:
                skipped.append(str(rel / name))
                continue
            fd = os.open(src, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                files[(rel / name).as_posix()] = f.read()
    return files, skipped


def write_files(files, folder):
    """``files`` ({relative path: bytes}, folders ending in /) into the empty ``folder``."""
    folder = pathlib.Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()):
            raise ValueError(f"a file outside its folder: {name!r}")
        if name.endswith("/"):
            path.mkdir(parents=True, exist_ok=True)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)


def read_files(folder):
    folder = pathlib.Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


# ------------------------------------------------------------------ in the grading process

_process = {}   # this process's scratch folder, the course folders built in it, its software_version
REFUSED = ("not graded: this grading process runs another version of the grading software ({mine}) than the "
           "command ({theirs}); install the same version of the course on every machine that grades")

NO_SANDBOX = ("not graded: this grading process cannot start a sandbox ({why}); install bubblewrap on every "
              "machine that grades (docs/scaling.md)")


def _sandbox_missing():
    if "sandbox" not in _process:
        from grader.executor import sandbox
        _process["sandbox"] = sandbox.probe()
    return _process["sandbox"]


def use_scratch(folder):
    """Grade in ``folder`` (a pool worker's initializer, or each of a check server's
    checks); by default a temporary folder. The courses built in another folder are
    forgotten: that folder may be gone."""
    if _process.get("scratch") != pathlib.Path(folder):
        _process.pop("courses", None)
    _process["scratch"] = pathlib.Path(folder)


def _scratch():
    if "scratch" not in _process:
        _process["scratch"] = pathlib.Path(tempfile.mkdtemp(prefix="grader-task-"))
    return _process["scratch"]


def _course_folder(course):
    """This process's folder of ``course``, built on first use."""
    courses = _process.setdefault("courses", {})
    key = course.key
    if key not in courses:
        folder = _scratch() / f"course-{os.getpid()}-{key[:16]}"
        shutil.rmtree(folder, ignore_errors=True)
        write_files(course.files, folder)
        (folder / "structure.db").write_bytes(course.gradebook)
        courses[key] = folder
    return courses[key]


_one_at_a_time = threading.Lock()


def grade(task):
    """Grade one submission: a ``Task`` in, an ``Outcome`` out (see the module's text).
    One at a time per process: an engine that runs tasks in threads (a Dask worker with
    several threads) still grades them one after another, each in its own work folder."""
    with _one_at_a_time:
        return _grade(task)


def _grade(task):
    import warnings
    warnings.filterwarnings("ignore", module="nbgrader")   # SQLAlchemy 2 warnings inside nbgrader
    warnings.filterwarnings("ignore", message=".*not in session.*")
    from grader import pipeline, timings
    from grader.executor import rebuild
    start = time.perf_counter()
    timings.reset()
    student, assignment, settings = task.student, task.assignment, task.settings
    if task.version != software_version():
        return Outcome(pipeline.Result(student, assignment, False, 0.0, REFUSED.format(
            mine=software_version(), theirs=task.version or "none")), None, refused=True)
    if settings.sandbox == "require" and (why := _sandbox_missing()):
        return Outcome(pipeline.Result(student, assignment, False, 0.0, NO_SANDBOX.format(why=why)), None,
                       refused=True)
    root = _course_folder(task.course)
    work = _scratch() / f"task-{os.getpid()}"
    shutil.rmtree(work, ignore_errors=True)
    stage = work / "submitted"
    folder = stage / student / assignment
    write_files(task.submission, folder)
    skipped = list(task.skipped)
    stamp = folder / "timestamp.txt"
    if stamp.exists() and pipeline._timestamp(folder) is None:   # nbgrader would stop on it
        stamp.unlink()
        skipped.append("timestamp.txt (not a date)")
    try:
        why = pipeline.unreadable(root, folder, assignment)
        if why:
            return Outcome(pipeline.Result(student, assignment, False, time.perf_counter() - start, why, flags=[
                f"{len(skipped)} symbolic links or special files in the submission were ignored"] if skipped else []),
                None)
        rebuild.NOTES.clear()
        if skipped:
            rebuild.NOTES.append(("flag", f"{len(skipped)} symbolic link{'s' * (len(skipped) != 1)}, special or "
                                          f"oversized file{'s' * (len(skipped) != 1)} in the submission "
                                          f"{'were' if len(skipped) != 1 else 'was'} ignored"))
        db = work / "gradebook.db"   # a fresh copy for every task: nothing passes from one to the next
        shutil.copy(root / "structure.db", db)
        config = pipeline.load_config(root, f"sqlite:///{db}", **{
            "Execute.timeout": settings.timeout,
            "TrustedExecute.notebook_timeout": settings.notebook_timeout,
            "TrustedExecute.memory_mb": settings.memory_mb,
            "TrustedExecute.sandbox": settings.sandbox,
            "RebuildFromSource.full": settings.full,
            "TrustedExecute.warm": settings.warm,
            "TrustedExecute.kernel_log": str(_scratch() / f"kernels-{os.getpid()}.log"),
            "CourseDirectory.submitted_directory": str(stage),
            "CourseDirectory.autograded_directory": str(work / "autograded")})
        timings.add("staging the submission and the course", time.perf_counter() - start)
        try:
            with timings.timed("nbgrader autograde, in all"):
                result = pipeline.make_api(config).autograde(assignment, student, force=True, create=True)
            ok = bool(result["success"])
            reason = "" if ok else pipeline._short_error(result.get("error") or result.get("log") or "")
            if not ok:   # the whole story goes to this process's log (a worker's, the operator's)
                print(f"grading {student}/{assignment} failed:\n{result.get('log') or ''}\n{result.get('error') or ''}",
                      file=sys.stderr, flush=True)
        except Exception as e:  # one submission never stops the batch
            ok, reason = False, f"{type(e).__name__}: {e}"
        out = pipeline.Result(student, assignment, ok, time.perf_counter() - start, reason)
        out.flags = [text for kind, text in rebuild.NOTES if kind == "flag"]
        out.notes = [text for kind, text in rebuild.NOTES if kind == "note"]
        out.problems = [text for kind, text in rebuild.NOTES if kind == "problem"]
        graded = work / "autograded" / student / assignment
        with timings.timed("reading the outputs"):
            if ok:
                pipeline._read_outputs(out, graded, settings.memory_mb)
            files = read_files(graded) if graded.is_dir() else {}
        timings.add("the task, in all", time.perf_counter() - start)
        timings.flush(student, assignment)
        return Outcome(out, files)
    finally:
        shutil.rmtree(work, ignore_errors=True)
