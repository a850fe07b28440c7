"""The grading pipeline on nbgrader's own API: release, autograde, feedback, export.

Autograde runs in N long-lived worker processes. Each worker grades with nbgrader's
Autograde converter against a scratch SQLite copy of the course structure (so workers
never contend for a database), writing the autograded notebooks to the course's
``autograded/`` folder. The parent is the only writer to the real gradebook (SQLite or
any SQLAlchemy URL): for each graded submission it replays nbgrader's own
SaveAutoGrades preprocessor on the autograded notebooks. Grades therefore come from
nbgrader's code, are identical for any N, and re-running is idempotent.
"""
import contextlib
import multiprocessing as mp
import os
import pathlib
import re
import resource
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass, field

import nbformat

MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")


def _bin_on_path():
    # nbgrader runs `alembic` as a command: the venv's bin folder must be on PATH
    bindir = str(pathlib.Path(sys.executable).parent)
    if bindir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bindir + os.pathsep + os.environ.get("PATH", "")


def load_config(root, db_url=None, **overrides):
    from traitlets.config.loader import PyFileConfigLoader
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

def leaks(path):
    """Markers of solutions or hidden tests left in a released notebook."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells)
    return [m for m in MARKERS if m in text] + (["import grader"] if re.search(r"\bgrader\b", text) else [])


def release(root, assignments=None, db_url=None):
    """Generate course/ from solutions/ and check nothing leaked. Returns problems."""
    api = make_api(load_config(root, db_url))
    problems = []
    for a in assignments or source_assignments(root):
        result = api.generate_assignment(a, force=True, create=True)
        if not result["success"]:
            problems.append(f"{a}: generate_assignment failed:\n{result.get('error') or result.get('log')}")
            continue
        for nb in sorted((pathlib.Path(root) / "course" / a).glob("*.ipynb")):
            found = leaks(nb)
            if found:
                problems.append(f"{nb}: released notebook still holds {found}")
    return problems


# ------------------------------------------------------------------ autograde

@dataclass
class Result:
    student: str
    assignment: str
    ok: bool
    seconds: float = 0.0
    reason: str = ""
    scores: dict = field(default_factory=dict)   # grade_id -> (score, max)

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


_worker = {}


def _init_worker(root, template_db, scratch, timeout, memory_mb):
    db = pathlib.Path(scratch) / f"worker-{os.getpid()}.db"
    shutil.copy(template_db, db)
    if memory_mb:
        # inherited by every kernel this worker starts: a memory bomb fails inside its kernel
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    config = load_config(root, f"sqlite:///{db}", **{"Execute.timeout": timeout})
    _worker["api"] = make_api(config)


def _grade_one(task):
    student, assignment = task
    start = time.perf_counter()
    try:
        result = _worker["api"].autograde(assignment, student, force=True, create=True)
        ok = bool(result["success"])
        reason = "" if ok else _short_error(result.get("error") or result.get("log") or "")
    except Exception as e:  # one submission never stops the batch
        ok, reason = False, f"{type(e).__name__}: {e}"
    return Result(student, assignment, ok, time.perf_counter() - start, reason)


def _short_error(text):
    lines = [ln for ln in text.strip().splitlines() if ln.strip()]
    interesting = [ln for ln in lines if re.search(r"Error|error|Exception|Timeout|timed out|dead", ln)]
    return (interesting[-1] if interesting else lines[-1] if lines else "unknown error")[:300]


def _save_grades(root, config, result):
    """Write one submission's grades to the real gradebook with nbgrader's own code."""
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import SaveAutoGrades
    db_url = config.CourseDirectory.db_url
    course_id = config.CourseDirectory.course_id
    autograded = pathlib.Path(root) / "autograded" / result.student / result.assignment
    submitted = pathlib.Path(root) / "submitted" / result.student / result.assignment
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
    path = submitted / "timestamp.txt"
    return path.read_text().strip() if path.exists() else None


def autograde(root, submitted=None, jobs=None, timeout=60, memory_mb=4096, db_url=None,
              progress=None):
    """Grade every submission under ``submitted`` (default: root/submitted). Returns Results."""
    root = pathlib.Path(root).resolve()
    submitted = pathlib.Path(submitted or root / "submitted").resolve()
    config = load_config(root, db_url, **({"CourseDirectory.submitted_directory": str(submitted)}
                                          if submitted != root / "submitted" else {}))
    tasks = find_submissions(submitted)
    known = set(source_assignments(root))
    results = [Result(s, a, False, reason=f"unknown assignment {a!r}") for s, a in tasks if a not in known]
    tasks = [(s, a) for s, a in tasks if a in known]
    if not tasks:
        return results
    with tempfile.TemporaryDirectory(prefix="grader-") as scratch:
        template = pathlib.Path(scratch) / "template.db"
        _structure_db(root, sorted({a for _, a in tasks}), template)
        _ensure_structure(root, config, sorted({a for _, a in tasks}), scratch)
        jobs = max(1, min(jobs or os.cpu_count() or 1, len(tasks)))
        ctx = mp.get_context("spawn")
        with ctx.Pool(jobs, initializer=_init_worker,
                      initargs=(str(root), str(template), scratch, timeout, memory_mb)) as pool:
            for result in pool.imap_unordered(_grade_one, tasks):
                try:
                    _save_grades(root, config, result)
                except Exception as e:
                    result.ok, result.reason = False, f"saving grades failed: {type(e).__name__}: {e}"
                results.append(result)
                if progress:
                    progress(result)
    return sorted(results, key=lambda r: (r.assignment, r.student))


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
    for a in source_assignments(root):
        if not (pathlib.Path(root) / "autograded").exists():
            break
        result = api.generate_feedback(a, force=True)
        if not result["success"]:
            problems.append(f"{a}: generate_feedback failed: {_short_error(result.get('error') or '')}")
    for html in sorted((pathlib.Path(root) / "feedback").rglob("*.html")):
        text = html.read_text()
        found = [m for m in MARKERS + ("grader.check", "import grader") if m in text]
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
    """A throwaway copy of one assignment's course, for checking one notebook."""
    with tempfile.TemporaryDirectory(prefix="check-") as tmp:
        tmp = pathlib.Path(tmp)
        shutil.copy(pathlib.Path(root) / "nbgrader_config.py", tmp / "nbgrader_config.py")
        shutil.copytree(pathlib.Path(root) / "solutions" / assignment, tmp / "solutions" / assignment)
        yield tmp
