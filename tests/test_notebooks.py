"""Every solution notebook runs headless and leaves a picture for every plot (checked on
the run of tests/test_claims.py); every released notebook is exactly what nbgrader
generates now, holds no solution, and fails only in cells that need the student's code."""
import re

import nbformat
import pytest

from tests.course import ASSIGNMENTS, ROOT, cells_by_id, execute, make_course, notebook_of
from tests.e2e.browser import chromium_missing_reason

PLOT_CALLS = re.compile(r"\b(show_paths|explore|plt\.show)\(")


def assert_every_plot_leaves_a_png_and_nothing_goes_to_stderr(nb):
    """For an executed solution notebook. tests/test_claims.py runs every solution notebook
    (with its claims' neighbourhood sweeps) and calls this on the result: one run of each
    lesson serves both checks, since a sweep changes what a claim cell computes, not
    what any cell shows."""
    missing = [i for i, c in enumerate(nb.cells)
               if c.cell_type == "code" and PLOT_CALLS.search(c.source)
               and not any("image/png" in o.get("data", {}) for o in c.outputs)]
    assert not missing, f"plot cells without an image/png output: {missing}"
    stderr = [(i, o.text[:200]) for i, c in enumerate(nb.cells) if c.cell_type == "code"
              for o in c.outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, f"cells writing to stderr (warnings a student would see): {stderr}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_notebooks_carry_no_outputs(assignment):
    for where in ("solutions", "course"):
        nb = nbformat.read(notebook_of(assignment, where), as_version=4)
        dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
        assert not dirty, f"{where}/{assignment}: cells with outputs or execution counts: {dirty}"


def test_release_is_what_nbgrader_generates_now(tmp_path):
    make_course(tmp_path)
    for assignment in ASSIGNMENTS:
        committed = notebook_of(assignment, "course")
        generated = tmp_path / "course" / assignment / committed.name
        assert generated.read_text() == committed.read_text(), (
            f"course/{assignment} differs from what nbgrader generates from solutions/: "
            f"run `make release` and commit the result")
    committed = {p.relative_to(ROOT / "course") for p in (ROOT / "course").rglob("*.ipynb")}
    generated = {p.relative_to(tmp_path / "course") for p in (tmp_path / "course").rglob("*.ipynb")}
    assert committed == generated


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_and_no_hidden_test(assignment):
    released = nbformat.read(notebook_of(assignment, "course"), as_version=4)
    source = nbformat.read(notebook_of(assignment), as_version=4)
    text = "\n".join(c.source for c in released.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS", "grader"):
        assert marker not in text, f"released {assignment} contains {marker!r}"
    hidden = re.compile(r"### BEGIN (SOLUTION|HIDDEN TESTS)\n.*?### END (SOLUTION|HIDDEN TESTS)", re.S)
    public = "\n".join(hidden.sub("", c.source) for c in source.cells)  # text students may see
    for gid, cell in cells_by_id(source).items():
        for body in re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S):
            for line in body.strip().splitlines():
                line = line.strip()
                if len(line) > 12 and line not in public:
                    assert line not in text, f"solution line of {gid} leaked: {line!r}"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_released_notebook_fails_only_where_student_code_is_needed(assignment):
    """Headless, where the browser tests cannot run: tests/e2e/test_browser.py checks the
    same in JupyterLab (Run All Cells, then every cell in turn), and CI always runs it."""
    if not chromium_missing_reason():
        pytest.skip("the browser test checks this in JupyterLab (tests/e2e/test_browser.py)")
    nb = execute(notebook_of(assignment, "course"), allow_errors=True)
    answer_cells = {gid for gid, c in cells_by_id(nb).items() if c.metadata["nbgrader"].get("solution")}
    student_names = set()
    for gid in answer_cells:
        src = cells_by_id(nbformat.read(notebook_of(assignment), as_version=4))[gid].source
        student_names |= set(re.findall(r"^def (\w+)", src, re.M))
        student_names |= set(re.findall(r"^(\w+) =", src, re.M))
    # A cell needs the student's code if it uses a student's name, or a name that a cell
    # needing the student's code failed to define (transitively).
    tainted, failing = set(student_names), []
    for i, c in enumerate(nb.cells):
        errors = [o for o in c.get("outputs", []) if o.output_type == "error"]
        if not errors:
            continue
        gid = c.metadata.get("nbgrader", {}).get("grade_id")
        needs_student = gid in answer_cells or any(re.search(rf"\b{n}\b", c.source) for n in tainted)
        if needs_student:
            tainted |= set(re.findall(r"^(\w+)\s*=", c.source, re.M))
        expected_error = errors[0].ename in ("NotImplementedError", "NameError", "KeyError")
        if not (needs_student and expected_error):
            failing.append((i, errors[0].ename, errors[0].evalue[:200]))
    assert not failing, f"cells failing although they need no student code (or with another error): {failing}"
    assert any(o.output_type == "error" for c in nb.cells for o in c.get("outputs", [])), \
        "the released notebook ran without any error: are the TODO stubs there?"
