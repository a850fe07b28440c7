"""What autograde has finished, so that a re-run grades only what is missing.

After the command has written a submission's grades to the gradebook it keeps a record
in ``.grader/graded/STUDENT/ASSIGNMENT.json`` under the course root: the submission's
``Result`` and a key, a hash of everything its grade depends on (the submitted files, the
assignment's sources and structure, the grading settings, the grading software's version
and the gradebook's URL). A later run skips a submission whose key is unchanged, whose
autograded folder is there and whose score the gradebook still holds; anything else
(a new hand-in, edited tests, another gradebook, ``--force``) is graded again. Records are
written by the command only, after the gradebook: an interrupted run keeps what it
finished, and nothing is written twice.
"""
import dataclasses
import hashlib
import json
import os
import pathlib

FOLDER = pathlib.Path(".grader") / "graded"


def key_of(task, db_url):
    # the course's files, not its structure gradebook: that is built again by every run
    # (its bytes differ), from these same files
    h = hashlib.sha256(f"{task.version}\0{task.assignment}\0{db_url}\0{task.settings!r}\0{task.skipped!r}".encode())
    for files in (task.course.files, task.submission):
        h.update(b"\1")
        for name in sorted(files):
            h.update(b"\0" + name.encode() + b"\0" + hashlib.sha256(files[name]).digest())
    return h.hexdigest()


def _path(root, student, assignment):
    return pathlib.Path(root) / FOLDER / student / f"{assignment}.json"


def save(root, result, key):
    path = _path(root, result.student, result.assignment)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"key": key, "result": dataclasses.asdict(result)}, indent=1))
    os.replace(tmp, path)   # whole or not at all


def forget(root, student, assignment):
    _path(root, student, assignment).unlink(missing_ok=True)


def finished(root, gradebook, student, assignment, key):
    """The stored ``Result`` of this submission when nothing it depends on has changed and
    the gradebook (an open nbgrader ``Gradebook``) still holds its score; else None."""
    from grader.pipeline import Result
    path = _path(root, student, assignment)
    try:
        record = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if record.get("key") != key or not (pathlib.Path(root) / "autograded" / student / assignment).is_dir():
        return None
    result = Result(**{**record["result"], "scores": {k: tuple(v) for k, v in record["result"]["scores"].items()}})
    try:
        held = gradebook.find_submission(assignment, student).score
    except Exception:
        return None
    return result if abs(held - result.score) < 1e-9 else None
