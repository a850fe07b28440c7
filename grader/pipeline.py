"""The grading pipeline on nbgrader's own API: release, autograde, feedback, export.

Autograde turns each submission into one task (grader/task.py: one submission's files and
what nbgrader needs of its assignment in, its result and autograded notebooks out) and
runs the tasks on an engine (grader/engines.py): N local worker processes, or a Dask
cluster. A worker grades in a private course folder against a fresh SQLite copy of the
course structure, and never sees the course's own folders or gradebook. The parent, the
command, reads each submission, writes each outcome as it arrives to the course's
``autograded/`` folder and is the only writer to the real gradebook (SQLite or any
SQLAlchemy URL): for each graded submission it replays nbgrader's own SaveAutoGrades
preprocessor on the autograded notebooks. Grades therefore come from nbgrader's code and
are identical for any N and any engine; a re-run grades only what is new or changed
(grader/records.py).
"""
import contextlib
import hashlib
import os
import pathlib
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field

from grader import leaks, skipping, task

# nbformat (0.2 s, with jsonschema) is imported in the functions that read notebooks: a
# check's command, which only hands its notebook to the check server, does without it

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _bin_on_path():
    # nbgrader runs `alembic` as a command: the venv's bin folder must be on PATH
    bindir = str(pathlib.Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(root, db_url=None, **overrides):
    from traitlets.config.loader import PyFileConfigLoader
    _bin_on_path()   # a new gradebook, opened by any caller of the config, runs alembic
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    if db_url:
        config.CourseDirectory.db_url = db_url
    for dotted, value in overrides.items():
        section, key = dotted.split(".")
        setattr(getattr(config, section), key, value)
    return config


def make_api(config):
    from nbgrader.apps import NbGraderAPI
    _bin_on_path()
    return NbGraderAPI(config=config)


def source_assignments(root):
    return sorted(p.name for p in (pathlib.Path(root) / "solutions").iterdir()
                  if p.is_dir() and not p.name.startswith("."))


# ------------------------------------------------------------------ release

def markers_left(path):
    """Markers of solutions or hidden tests left in a released notebook."""
    import nbformat
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    return [m for m in MARKERS if m in text] + (["import grader"] if re.search(r"\bgrader\b", text) else [])


def release(root, assignments=None, db_url=None):
    """Generate course/ from solutions/ and check nothing leaked. Returns problems."""
    import nbformat
    api = make_api(load_config(root, db_url))
    problems = []
    for a in assignments or source_assignments(root):
        # grading skips the experiments tagged skip-when-grading: nothing graded may need them
        for source in sorted((pathlib.Path(root) / "solutions" / a).glob("*.ipynb")):
            problems += [f"{source}: {p}" for p in skipping.problems(nbformat.read(source, as_version=4))]
        result = api.generate_assignment(a, force=True, create=True)
        if not result["success"]:
            problems.append(f"{a}: generate_assignment failed:\n{result.get('error') or result.get('log')}")
            continue
        for nb in sorted((pathlib.Path(root) / "course" / a).glob("*.ipynb")):
            found = markers_left(nb)
            if found:
                problems.append(f"{nb}: released notebook still holds {found}")
        # a lesson's text twin holds its solutions (nbgrader_config.py keeps *.py out)
        for twin in sorted((pathlib.Path(root) / "course" / a).glob("*.py")):
            problems.append(f"{twin}: a text twin was copied into the release")
    # no released notebook, and not the toolkit, may hand out another assignment's answers
    problems += leaks.find(root)
    return problems


# ------------------------------------------------------------------ autograde

@dataclass
class Result:
    """One submission's outcome. ``ok``: graded. ``problems``: limits it hit (time,
    memory, a dead kernel); ``flags``: tampering (grader code, replaced libraries, edited
    or deleted tests); ``notes``: things fixed quietly (a duplicated cell)."""
    student: str
    assignment: str
    ok: bool
    seconds: float = 0.0
    reason: str = ""
    scores: dict = field(default_factory=dict)   # grade_id -> (score, max)
    problems: list = field(default_factory=list)
    flags: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    unchanged: bool = False   # graded by an earlier run, nothing changed since: not graded again

    @property
    def clean(self):
        return self.ok and not self.problems and not self.flags

    @property
    def score(self):
        return sum(s or 0 for s, _ in self.scores.values())

    @property
    def max_score(self):
        return sum(m for _, m in self.scores.values())


def find_submissions(submitted):
    """(student, assignment) pairs laid out as submitted/{student_id}/{assignment_id}/."""
    submitted = pathlib.Path(submitted)
    return sorted((s.name, a.name) for s in submitted.iterdir() if s.is_dir() and not s.name.startswith(".")
                  for a in s.iterdir() if a.is_dir() and not a.name.startswith("."))


BUILDS = pathlib.Path(".grader") / "build"


def _build_key(root, assignment):
    """A hash of what an assignment's structure is built from: the configuration, its
    source folder, nbgrader's version."""
    from importlib.metadata import version
    root = pathlib.Path(root)
    h = hashlib.sha256(f"{assignment}\0nbgrader=={version('nbgrader')}\0".encode())
    h.update(hashlib.sha256((root / "nbgrader_config.py").read_bytes()).digest())
    for path in sorted((root / "solutions" / assignment).rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and ".ipynb_checkpoints" not in path.parts:
            h.update(path.relative_to(root).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()[:20]


def structure(root, assignment):
    """The bytes of an SQLite gradebook holding only ``assignment``'s notebooks and cells.
    nbgrader's generate_assignment builds it once per version of the sources; it is kept
    in .grader/build/ under the course root and built again when they change."""
    folder = pathlib.Path(root) / BUILDS
    path = folder / f"{assignment}-{_build_key(root, assignment)}.db"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="build-", dir=folder) as tmp:
            db = pathlib.Path(tmp) / "structure.db"
            _structure_db(root, [assignment], db)
            for old in folder.glob(f"{assignment}-*.db"):   # earlier versions of the sources
                if old.name != path.name:
                    old.unlink(missing_ok=True)
            os.replace(db, path)   # whole or not at all (two builds at once: the last one stays)
    return path.read_bytes()


def _structure_db(root, assignments, path):
    """A scratch SQLite gradebook holding the assignments' notebooks and cells, built by
    nbgrader's generate_assignment into a throwaway release folder."""
    scratch_release = pathlib.Path(path).parent / "release"
    config = load_config(root, f"sqlite:///{path}",
                         **{"CourseDirectory.release_directory": str(scratch_release)})
    api = make_api(config)
    for a in assignments:
        result = api.generate_assignment(a, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(f"cannot build the gradebook structure of {a}:\n{result.get('error')}")


def _init_worker(scratch, sandboxed=True, ahead=True):
    task.use_scratch(scratch)   # (task.grade quiets nbgrader's SQLAlchemy warnings itself)
    if sandboxed:
        from grader.executor import warm
        warm.prestart()   # the warm-kernel template imports while the worker reads its first task
    import_for_grading(ahead)


def import_for_grading(dynamo=True):
    """What grading uses, imported before the first task rather than during it (a worker,
    and the check server, which also starts the template meanwhile): nbgrader, the
    executor, the checks with torch; with ``dynamo``, torch._dynamo too, which the first
    step of a torch.optim optimizer imports (1.5 s). A worker grades many submissions; a
    check in its own process of 01-04 would wait for it for nothing."""
    from grader import checks  # noqa: F401
    from grader.executor import execute, rebuild  # noqa: F401
    if dynamo:
        import torch._dynamo  # noqa: F401


def expected_notebooks(root, assignment):
    return sorted(p.name for p in (pathlib.Path(root) / "solutions" / assignment).glob("*.ipynb"))


def unreadable(root, submitted, assignment):
    """Why the submission cannot be graded at all (missing or broken notebooks), or ''."""
    import nbformat
    folder = pathlib.Path(submitted)
    for name in expected_notebooks(root, assignment):
        path = folder / name
        if not path.exists():
            present = sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []
            return f"no {name} in the submission (found: {', '.join(present) or 'nothing'})"
        try:
            nb = nbformat.read(path, as_version=4)
            nbformat.validate(nb)
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            return f"{name} is not a valid notebook ({type(e).__name__}: {first[:200]})"
    return ""


# what a cell's uncaught error says when it ran into its sandbox (grader/executor/sandbox.py)
SANDBOX_LIMITS = [
    (r"No space left on device|File too large|Disk quota", "a cell filled the disk it may write (the sandbox's limit)"),
    (r"BlockingIOError: \[Errno 11\]|Resource temporarily unavailable", "a cell hit the sandbox's process limit"),
    (r"Network is unreachable|Temporary failure in name resolution|Name or service not known",
     "a cell tried to reach the network (a graded kernel has none)"),
]


def _read_outputs(result, folder, memory_mb):
    """Problems visible in the graded notebooks' outputs. Only fixed texts: an output is
    the kernel's, and whatever it says is never copied into the summary. (The limits the
    executor enforces itself, time and kernel deaths, it records directly.)"""
    import nbformat
    for path in sorted(folder.glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            where = cell.metadata.get("nbgrader", {}).get("grade_id") or f"cell {i + 1}"
            for o in cell.get("outputs", []):
                if o.output_type != "error":
                    continue
                found = [text for pattern, text in SANDBOX_LIMITS
                         if re.search(pattern, f"{o.ename}: {o.get('evalue', '')}")]
                if o.ename == "MemoryError":
                    found.append(f"a cell ran out of memory (limit {memory_mb} MB)")
                for text in found:
                    if f"{where}: {text}" not in result.problems:
                        result.problems.append(f"{where}: {text}")


def _short_error(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    interesting = [ln for ln in lines if re.search(r"Error|error|Exception|Timeout|timed out|dead", ln)]
    return (interesting[-1] if interesting else lines[-1] if lines else "unknown error")[:300]


def _save_grades(root, submitted, config, result):
    """Write one submission's grades to the real gradebook with nbgrader's own code
    (the submission time from ``submitted``/student/assignment/timestamp.txt)."""
    import nbformat
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades
    db_url = config.CourseDirectory.db_url
    course_id = config.CourseDirectory.course_id
    autograded = pathlib.Path(root) / "autograded" / result.student / result.assignment
    submitted = pathlib.Path(submitted) / result.student / result.assignment
    with Gradebook(db_url, course_id) as gb:
        gb.update_or_create_student(result.student)
        timestamp = _timestamp(submitted)
        gb.update_or_create_submission(result.assignment, result.student,
                                       **({"timestamp": timestamp} if timestamp else {}))
        notebooks = [nb.name for nb in gb.find_assignment(result.assignment).notebooks]
    for name in notebooks:
        path = autograded / f"{name}.ipynb"
        if result.ok and path.exists():
            nb = nbformat.read(path, as_version=4)
            SaveAutoGrades().preprocess(nb, {"nbgrader": {"db_url": db_url, "assignment": result.assignment,
                                                          "notebook": name, "student": result.student}})
        else:
            with Gradebook(db_url, course_id) as gb:
                sub = gb.find_submission_notebook(name, result.assignment, result.student)
                for grade in sub.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = False
                gb.db.commit()
    with Gradebook(db_url, course_id) as gb:
        sub = gb.find_submission(result.assignment, result.student)
        result.scores = {g.name: (g.score, g.max_score) for nb in sub.notebooks for g in nb.grades}


def _timestamp(submitted):
    """The submission time handed in with it: a regular file only, never a link."""
    import stat
    path = submitted / "timestamp.txt"
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode) or st.st_size > 200:
        return None
    text = path.read_text(errors="replace").strip()
    try:
        from dateutil.parser import parse
        parse(text)
    except (ValueError, OverflowError):
        return None
    return text


def _roster(config):
    from nbgrader.api import Gradebook
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        return {s.id for s in gb.students}


def autograde(root, submitted=None, jobs=None, timeout=60, memory_mb=4096, db_url=None,
              progress=None, notebook_timeout=600, new_students=True, sandbox="require",
              cluster=None, force=False, cluster_timeout=30, full=False, warm=True, inline=False):
    """Grade every submission under ``submitted`` (default: root/submitted). Returns Results.

    ``new_students=False``: only students already in the gradebook (a roster imported
    with ``nbgrader db student import``) are graded; others are reported as unknown.
    ``cluster``: a Dask scheduler's address; the tasks run there instead of in ``jobs``
    local processes (grader/engines.py). A submission graded by an earlier run, with
    nothing it depends on changed since, is not graded again unless ``force``
    (grader/records.py). ``full``: run every cell of each notebook, not only those grading
    needs (grader/skipping.py). ``warm=False``: every kernel starts cold, not forked from a
    template that did the imports (grader/executor/warm.py). ``inline``: grade in this
    process, one submission after another, with no worker process to start (``check``).
    When the cluster's scheduler cannot be reached or goes away, ``engines.ClusterError``
    is raised with ``.results``, what was finished (and saved)."""
    from grader import engines
    client = engines.connect(cluster, cluster_timeout) if cluster else None
    try:
        return _autograde(root, submitted, jobs, timeout, memory_mb, db_url, progress, notebook_timeout,
                          new_students, sandbox, client, force, full, warm, inline)
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=5)


def _autograde(root, submitted, jobs, timeout, memory_mb, db_url, progress, notebook_timeout, new_students,
               sandbox, client, force, full=False, warm=True, inline=False):
    from grader import engines, records
    root = pathlib.Path(root).resolve()
    submitted = pathlib.Path(submitted or root / "submitted").resolve()
    config = load_config(root, db_url, **({"CourseDirectory.submitted_directory": str(submitted)}
                                          if submitted != root / "submitted" else {}))
    tasks = find_submissions(submitted)
    known = set(source_assignments(root))
    results = [Result(s, a, False, reason=f"unknown assignment {a!r} (assignments: {', '.join(sorted(known))})")
               for s, a in tasks if a not in known]
    tasks = [(s, a) for s, a in tasks if a in known]
    if not new_students:
        roster = _roster(config)
        results += [Result(s, a, False, reason=f"unknown student {s!r}: not in the gradebook's roster "
                                               f"(add with: nbgrader db student add {s})")
                    for s, a in tasks if s not in roster]
        tasks = [(s, a) for s, a in tasks if s in roster]

    def done(result):
        results.append(result)
        if progress:
            progress(result)

    for r in list(results):
        if progress:
            progress(r)
    if not tasks:
        return sorted(results, key=lambda r: (r.assignment, r.student))
    with tempfile.TemporaryDirectory(prefix="grader-") as scratch:
        _ensure_structure(root, config, sorted({a for _, a in tasks}), scratch)
        settings = task.Settings(timeout, memory_mb, notebook_timeout, sandbox, full, warm)
        courses = {a: task.course_of(root, a, structure(root, a)) for a in sorted({a for _, a in tasks})}
        work, keys, ungradable = [], {}, []
        from nbgrader.api import Gradebook
        with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
            for s, a in tasks:
                job = _task_of(submitted, s, a, courses[a], settings)
                if isinstance(job, Result):   # not gradable: no worker needed
                    ungradable.append(job)
                    continue
                keys[(s, a)] = records.key_of(job, config.CourseDirectory.db_url)
                earlier = None if force else records.finished(root, gb, s, a, keys[(s, a)])
                if earlier:
                    earlier.unchanged = True
                    done(earlier)
                else:
                    work.append(job)
        for result in ungradable:   # written once the gradebook above is closed (SQLite locks)
            _write_outcome(root, submitted, config, task.Outcome(result, None))
            done(result)
        if not work:
            return sorted(results, key=lambda r: (r.assignment, r.student))
        if client is not None:
            outcomes = engines.cluster(work, client)
        elif inline:
            outcomes = engines.inline(work, _init_worker, (scratch, warm and sandbox != "off", False))
        else:
            # a worker process that dies takes its task with it: after a long silence the
            # parent gives up on the rest instead of waiting forever
            outcomes = engines.local(work, max(1, min(jobs or os.cpu_count() or 1, len(work))),
                                     _init_worker, (scratch, warm and sandbox != "off"),
                                     stall=notebook_timeout * 1.5 + 300)
        try:
            for outcome in outcomes:
                result = outcome.result
                records.forget(root, result.student, result.assignment)
                if _write_outcome(root, submitted, config, outcome):
                    records.save(root, result, keys[(result.student, result.assignment)])
                done(result)
        except engines.ClusterError as e:
            e.results = sorted(results, key=lambda r: (r.assignment, r.student))
            raise
    return sorted(results, key=lambda r: (r.assignment, r.student))


def _write_outcome(root, submitted, config, outcome):
    """One outcome into the course: its autograded folder and its grades (nbgrader's own
    SaveAutoGrades). Nothing for a refused or lost one: the gradebook stays as it was.
    True when the grades were saved."""
    if not outcome.final:
        return False
    result = outcome.result
    from grader import timings
    try:
        with timings.timed("the gradebook write (the command)"):
            _write_autograded(root, result, outcome.autograded)
            _save_grades(root, submitted, config, result)
        timings.flush(result.student, result.assignment)
    except Exception as e:
        result.ok, result.reason = False, f"saving grades failed: {type(e).__name__}: {e}"
        return False
    return True


def _task_of(submitted, student, assignment, course, settings):
    """The grading task of one submission (its files read here, by the command), or the
    ``Result`` of one that cannot be graded (a linked folder)."""
    real = pathlib.Path(submitted) / student / assignment
    if os.path.islink(real) or os.path.islink(real.parent):
        return Result(student, assignment, False, 0.0, "the submission folder is a symbolic link: not graded",
                      flags=["the submission folder is a symbolic link"])
    files, skipped = task.read_submission(real)
    return task.Task(student, assignment, files, tuple(skipped), course, settings, task.software_version())


def _write_autograded(root, result, files):
    """A task's autograded folder into the course's autograded/ (nothing when nbgrader never ran)."""
    if files is None:
        return
    folder = pathlib.Path(root) / "autograded" / result.student / result.assignment
    shutil.rmtree(folder, ignore_errors=True)
    task.write_files(files, folder)


def _ensure_structure(root, config, assignments, scratch):
    """The real gradebook must know the assignments' cells; build them there (through a
    throwaway release folder) when it does not."""
    from nbgrader.api import Gradebook, MissingEntry
    missing = []
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        for a in assignments:
            try:
                gb.find_assignment(a)
            except MissingEntry:
                missing.append(a)
    if missing:
        cfg = load_config(root, config.CourseDirectory.db_url,
                          **{"CourseDirectory.release_directory": str(pathlib.Path(scratch) / "release-main")})
        api = make_api(cfg)
        for a in missing:
            result = api.generate_assignment(a, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"cannot add {a} to the gradebook:\n{result.get('error')}")


# ------------------------------------------------------------------ feedback and export

def feedback(root, db_url=None):
    """nbgrader's HTML feedback for every autograded submission, then a leak check."""
    api = make_api(load_config(root, db_url))
    problems = []
    autograded = pathlib.Path(root) / "autograded"
    for a in source_assignments(root):
        if not any(autograded.glob(f"*/{a}/*.ipynb")):
            continue   # nobody's submission of it is graded yet: nothing to give back
        result = api.generate_feedback(a, force=True)
        if not result["success"]:
            problems.append(f"{a}: generate_feedback failed: {_short_error(result.get('error') or '')}")
    for html in sorted((pathlib.Path(root) / "feedback").rglob("*.html")):
        text = html.read_text()
        found = [m for m in MARKERS + ("grader.check(", "grader.check_answer(", "import grader",
                                       "gradeclient") if m in text]
        if found:
            problems.append(f"{html}: feedback shows {found}")
    return problems


def export_rows(root, db_url=None):
    """One row per student: a column per assignment, per graded cell, and the total."""
    from nbgrader.api import Gradebook
    config = load_config(root, db_url)
    rows, columns = [], ["student"]
    with Gradebook(config.CourseDirectory.db_url, config.CourseDirectory.course_id) as gb:
        assignments = sorted(gb.assignments, key=lambda a: a.name)
        for a in assignments:
            columns.append(a.name)
            for nb in a.notebooks:
                columns += [f"{a.name}/{c.name}" for c in sorted(nb.grade_cells, key=lambda c: c.name)]
        columns.append("total")
        for student in sorted(gb.students, key=lambda s: s.id):
            row = {"student": student.id}
            total = 0.0
            for a in assignments:
                try:
                    sub = gb.find_submission(a.name, student.id)
                except Exception:
                    row[a.name] = ""
                    continue
                row[a.name] = sub.score
                total += sub.score
                for nb in sub.notebooks:
                    for g in nb.grades:
                        row[f"{a.name}/{g.name}"] = g.score
            row["total"] = total
            rows.append(row)
    return columns, rows


@contextlib.contextmanager
def temporary_course(root, assignment):
    """A throwaway copy of one assignment's course, for checking one notebook: its
    sources, its release's other files, its structure (built once, ``structure``) as the
    gradebook and as the copy's own build, so that nothing is generated again."""
    root = pathlib.Path(root)
    built = structure(root, assignment)
    with tempfile.TemporaryDirectory(prefix="check-") as tmp:
        tmp = pathlib.Path(tmp)
        shutil.copy(root / "nbgrader_config.py", tmp / "nbgrader_config.py")
        shutil.copytree(root / "solutions" / assignment, tmp / "solutions" / assignment)
        if (root / "course" / assignment).is_dir():
            shutil.copytree(root / "course" / assignment, tmp / "course" / assignment)
        (tmp / BUILDS).mkdir(parents=True)
        (tmp / BUILDS / f"{assignment}-{_build_key(tmp, assignment)}.db").write_bytes(built)
        (tmp / "gradebook.db").write_bytes(built)
        yield tmp
