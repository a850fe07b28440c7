"""One grading task is bytes in, bytes out (grader/task.py): a submission is read without
following links, a task grades with the course's folders gone (no shared filesystem),
and nothing of one task is left for the next in the same process."""
import dataclasses
import os
import shutil

import nbformat
import pytest

from grader import pipeline, task
from tests.course import fill, make_tiny_course

A, NB = "01_tiny", "tiny.ipynb"
SGD = "def sgd_step(x, g, lr):\n    return x - lr * g\n"
MOMENTUM = "def momentum_step(x, g, v, lr, beta):\n    v_new = beta * v + g\n    return x - lr * v_new, v_new\n"


def test_reading_a_submission_keeps_regular_files_and_folders_only(tmp_path, monkeypatch):
    real = tmp_path / "sub"
    (real / "data" / "empty").mkdir(parents=True)
    (real / "a.ipynb").write_bytes(b"{}")
    (real / "data" / "x.csv").write_bytes(b"1,2\n")
    (real / "big.bin").write_bytes(b"0" * 101)
    secret = tmp_path / "secret.txt"
    secret.write_text("the instructor's")
    (real / "link.txt").symlink_to(secret)
    (real / "linked-dir").symlink_to(tmp_path)
    os.mkfifo(real / "pipe")
    monkeypatch.setattr(task, "MAX_FILE", 100)
    files, skipped = task.read_submission(real)
    assert files == {"a.ipynb": b"{}", "data/": b"", "data/empty/": b"", "data/x.csv": b"1,2\n"}
    assert sorted(skipped) == ["big.bin", "link.txt", "linked-dir", "pipe"]
    out = tmp_path / "out"
    task.write_files(files, out)
    assert task.read_files(out) == {"a.ipynb": b"{}", "data/x.csv": b"1,2\n"}
    assert (out / "data" / "empty").is_dir()


def test_writing_files_never_leaves_the_folder(tmp_path):
    with pytest.raises(ValueError, match="outside"):
        task.write_files({"../escaped.txt": b"x"}, tmp_path / "folder")
    assert not (tmp_path / "escaped.txt").exists()


def test_a_course_key_changes_with_anything_in_it():
    course = task.Course(A, {"nbgrader_config.py": b"c = 1", f"solutions/{A}/{NB}": b"{}"}, b"db")
    same = task.Course(A, dict(reversed(list(course.files.items()))), b"db")
    assert course.key == same.key
    others = [task.Course(A, {**course.files, "nbgrader_config.py": b"c = 2"}, b"db"),
              task.Course(A, {**course.files, f"course/{A}/data.csv": b""}, b"db"),
              task.Course(A, course.files, b"db2"), task.Course("02_other", course.files, b"db")]
    assert len({course.key, *(o.key for o in others)}) == 5


@pytest.fixture(scope="module")
def tiny_course(tmp_path_factory):
    return make_tiny_course(tmp_path_factory.mktemp("taskcourse"), A, NB)


def _task(root, tmp_path, student, answers):
    real = tmp_path / "submitted" / student / A
    fill(root / "course" / A / NB, answers, real / NB)
    structure = tmp_path / "structure" / "structure.db"
    structure.parent.mkdir(exist_ok=True)
    if not structure.exists():
        pipeline._structure_db(root, [A], structure)
    files, skipped = task.read_submission(real)
    settings = task.Settings(timeout=60, memory_mb=2048, notebook_timeout=300)
    return task.Task(student, A, files, tuple(skipped), task.course_of(root, A, structure.read_bytes()), settings,
                     version=task.software_version())


def _scores(notebook_bytes):
    nb = nbformat.reads(notebook_bytes.decode(), as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: [o for o in c.outputs if o.output_type == "error"]
            for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")}


def test_a_task_grades_with_the_course_folders_gone_and_leaves_nothing_behind(tiny_course, tmp_path):
    # the tasks are made while the course is there, then it goes: the grading needs only them
    right = _task(tiny_course, tmp_path, "alice", {"sgd_step": SGD, "momentum_step": MOMENTUM})
    wrong = _task(tiny_course, tmp_path, "bob", {"sgd_step": SGD.replace("x - lr", "x + lr"),
                                                 "momentum_step": MOMENTUM})
    moved = tmp_path / "course-gone"
    shutil.move(tiny_course, moved)
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    task.use_scratch(scratch)
    try:
        first, second = task.grade(right), task.grade(wrong)
    finally:
        shutil.move(moved, tiny_course)
        task._process.clear()
    for outcome, student in ((first, "alice"), (second, "bob")):
        assert outcome.result.ok, outcome.result.reason
        assert outcome.result.student == student and not outcome.result.flags
        assert NB in outcome.autograded, sorted(outcome.autograded)
    assert not any(_scores(first.autograded[NB]).values()), "alice's right answers failed a check"
    failed = {gid for gid, errors in _scores(second.autograded[NB]).items() if errors}
    assert failed == {"sgd_step_basic", "sgd_step_random"}, failed
    # nothing of a task stays in the process's scratch folder but the course it built and the kernels' log
    left = sorted(p.name for p in scratch.iterdir())
    assert [n for n in left if not n.startswith(("course-", "kernels-"))] == [], left


def test_a_process_with_other_grading_software_refuses_the_task(tiny_course, tmp_path):
    job = _task(tiny_course, tmp_path, "carol", {"sgd_step": SGD, "momentum_step": MOMENTUM})
    assert job.version == task.software_version() and len(job.version) == 16
    for version in ("", "0" * 16):
        other = dataclasses.replace(job, version=version)
        outcome = task.grade(other)
        assert outcome.refused and outcome.autograded is None and not outcome.result.ok
        assert "another version of the grading software" in outcome.result.reason
        assert task.software_version() in outcome.result.reason
    assert task.grade(dataclasses.replace(job, version=task.software_version())).result.ok


def test_an_assignments_structure_is_built_once_per_version_of_its_sources(tiny_course, monkeypatch):
    """check and autograde take the structure from .grader/build/: generate_assignment
    runs when the sources change, not on every call."""
    built = []
    real = pipeline._structure_db
    monkeypatch.setattr(pipeline, "_structure_db", lambda *a: (built.append(a[1]), real(*a))[1])
    first = pipeline.structure(tiny_course, A)
    assert pipeline.structure(tiny_course, A) == first and built == [[A]]
    source = tiny_course / "solutions" / A / NB
    nb = nbformat.read(source, as_version=4)
    nb.cells[0].source += "\n\nEdited."
    nbformat.write(nb, source)
    pipeline.structure(tiny_course, A)
    assert built == [[A], [A]]
    assert len(list((tiny_course / pipeline.BUILDS).glob(f"{A}-*.db"))) == 1, "the old build was not removed"
    with pipeline.temporary_course(tiny_course, A) as tmp:   # a check's course: built already
        assert pipeline.structure(tmp, A) and built == [[A], [A]]
        assert (tmp / "gradebook.db").read_bytes() == pipeline.structure(tiny_course, A)
