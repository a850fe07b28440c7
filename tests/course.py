"""Shared machinery for the notebook tests: run notebooks headless, build a throwaway
nbgrader course, fill released notebooks with code, autograde, read the gradebook."""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys

import nbformat
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = pathlib.Path(__file__).resolve().parents[1]
BIN = pathlib.Path(sys.executable).parent
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir() if p.is_dir() and not p.name.startswith("."))


def notebook_of(assignment, where="solutions"):
    return next((ROOT / where / assignment).glob("*.ipynb"))


def env():
    e = dict(os.environ)
    e["PATH"] = f"{BIN}{os.pathsep}{e.get('PATH', '')}"  # nbgrader runs alembic from the venv
    e.pop("NBGRADER_DB_URL", None)
    e["MPLBACKEND"] = "agg"
    # a check grades in its own process: a warm check server (grader/checkserver.py) per
    # course root would outlive the test by ten minutes; tests/test_check_server.py tests it
    e["GRADER_CHECK_SERVER"] = "off"
    return e


def execute(path, allow_errors=False, timeout=300):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=timeout, kernel_name="python3", allow_errors=allow_errors,
                   resources={"metadata": {"path": str(pathlib.Path(path).parent)}}).execute()
    return nb


def nbgrader(course_root, *args):
    out = subprocess.run([str(BIN / "nbgrader"), *args], cwd=course_root, env=env(),
                         capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out


def make_course(tmp, assignments=ASSIGNMENTS):
    """A copy of the course (config and sources) in ``tmp``, assignments generated."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    for a in assignments:
        shutil.copytree(ROOT / "solutions" / a, tmp / "solutions" / a)
        nbgrader(tmp, "generate_assignment", a, "--force")
    return tmp


def cells_by_id(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if "nbgrader" in c.metadata and "grade_id" in c.metadata["nbgrader"]}


def solution_code(assignment):
    """grade_id -> the reference solution of each answer cell, markers removed."""
    nb = nbformat.read(notebook_of(assignment), as_version=4)
    out = {}
    for gid, c in cells_by_id(nb).items():
        if c.metadata["nbgrader"].get("solution") and c.cell_type == "code":
            out[gid] = re.sub(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|$)", "", c.source, flags=re.M)
    return out


def fill(released_path, answers, dest):
    """Write the released notebook with ``answers`` (grade_id -> code) in its answer cells."""
    nb = nbformat.read(released_path, as_version=4)
    cells = cells_by_id(nb)
    for gid, src in answers.items():
        cells[gid].source = src
    dest.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dest)


def submit(course_root, assignment, student, answers):
    released = next((course_root / "course" / assignment).glob("*.ipynb"))
    fill(released, answers, course_root / "submitted" / student / assignment / released.name)


def grades(course_root, assignment):
    """student -> {grade_id: (score, max_score)} from the gradebook."""
    from nbgrader.api import Gradebook
    result = {}
    with Gradebook(f"sqlite:///{course_root / 'gradebook.db'}") as gb:
        for sub in gb.assignment_submissions(assignment):
            result[sub.student.id] = {g.name: (g.score, g.max_score)
                                      for nb in sub.notebooks for g in nb.grades}
    return result


def autograded_messages(course_root, assignment, student):
    """grade_id -> the error text of each graded cell in the autograded notebook."""
    path = next((course_root / "autograded" / student / assignment).glob("*.ipynb"))
    nb = nbformat.read(path, as_version=4)
    out = {}
    for gid, c in cells_by_id(nb).items():
        errs = [o for o in c.get("outputs", []) if o.output_type == "error"]
        if errs:
            out[gid] = f"{errs[0].ename}: {errs[0].evalue}"
    return out


def strip(nb):
    """The notebook as committed: no outputs, no execution counts."""
    data = json.loads(nbformat.writes(nb))
    return data


def summary_details(stdout, student):
    """The detail lines (FLAG, note, problem, FAILED) of ``grader autograde``'s summary
    for one student."""
    lines, on = [], False
    for line in stdout.splitlines():
        if line.startswith(f"{student} / "):
            on = True
            continue
        if on and line.startswith("    "):
            lines.append(line.strip())
        elif on:
            break
    return lines


def same_summary(stdout):
    """``grader autograde``'s summary without its timings, the only part that may differ
    between two runs that grade alike (one machine and a cluster, say)."""
    lines = stdout[stdout.index("student  "):].splitlines()
    return [re.sub(r"\s+\d+\.\ds  ", "  ", line) for line in lines]


def _graded_cell(source, grade_id, *, solution=False, grade=False, points=0):
    meta = {"grade": grade, "grade_id": grade_id, "locked": not solution, "schema_version": 3,
            "solution": solution, "task": False}
    if grade:
        meta["points"] = points
    return new_code_cell(source, metadata={"nbgrader": meta})


def _hidden(name, part, extra=""):
    return (f"# {name}: {part} (hidden tests)\n### BEGIN HIDDEN TESTS\n{extra}import gradeclient\n"
            f"gradeclient.check({name!r}, {name}, {part!r})\n### END HIDDEN TESTS")


def tiny_notebook(title="A tiny assignment for the grading pipeline's tests", canary=""):
    """A small instructor notebook (sgd_step 2 points, momentum_step 3) for the grading
    pipeline's tests; ``canary`` goes into one hidden-test block."""
    answer = "    ### BEGIN SOLUTION\n{}    ### END SOLUTION\n"
    return new_notebook(cells=[
        new_markdown_cell(f"# {title}"),
        _graded_cell("import numpy as np", "setup"),
        _graded_cell("def sgd_step(x, g, lr):\n" + answer.format("    return x - lr * g\n"), "sgd_step",
                     solution=True),
        _graded_cell(_hidden("sgd_step", "basic", f"# canary: {canary}\n" if canary else ""), "sgd_step_basic",
                     grade=True, points=1),
        _graded_cell(_hidden("sgd_step", "random"), "sgd_step_random", grade=True, points=1),
        _graded_cell("def momentum_step(x, g, v, lr, beta):\n" + answer.format(
            "    v_new = beta * v + g\n    return x - lr * v_new, v_new\n"), "momentum_step", solution=True),
        _graded_cell(_hidden("momentum_step", "basic"), "momentum_step_basic", grade=True, points=2),
        _graded_cell(_hidden("momentum_step", "random"), "momentum_step_random", grade=True, points=1),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})


def make_tiny_course(root, assignment, name, notebook=None):
    """A course at ``root`` holding one assignment, ``notebook`` (default: :func:`tiny_notebook`)
    as solutions/ASSIGNMENT/NAME, released by the course's own ``grader release``."""
    shutil.copy(ROOT / "nbgrader_config.py", root / "nbgrader_config.py")
    (root / "solutions" / assignment).mkdir(parents=True)
    nbformat.write(notebook or tiny_notebook(), root / "solutions" / assignment / name)
    out = subprocess.run([sys.executable, "-m", "grader", "--root", str(root), "release"], cwd=ROOT, env=env(),
                         capture_output=True, text=True, timeout=1800)
    assert out.returncode == 0, out.stdout + out.stderr
    return root
