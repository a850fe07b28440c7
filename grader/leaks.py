"""Nothing a student can read holds a working copy of a graded function.

A released notebook must not define, and must not contain the solution code of, any
function or class graded by any assignment of the course (notebook 05 handing out 01's
``momentum_step``, 03 spelling out 05's Adam update inline), and neither may the student
toolkit, whose source students can read. Two checks, both on code only (prose may state
a formula):

- **by name**: a ``def``/``class`` of a graded name anywhere but in its own answer cell,
  with a body that does more than ``raise NotImplementedError``;
- **by content**: a line of any assignment's solution (between ``### BEGIN SOLUTION`` and
  ``### END SOLUTION``, normalised, long enough to be specific, and computing something)
  in another assignment's
  released notebook or in the toolkit. The assignment's own release is checked for its
  own solution lines by ``pipeline.markers_left`` and tests/test_notebooks.py.
"""
import ast
import pathlib
import re

SOLUTION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
MIN_LINE = 18          # shorter solution lines (``return x_new, v_new``) are not specific
# a line that computes (an update, a moment, a schedule) rather than plumbing such as a loop
# header or one call (``order = rng.permutation(n)`` shuffles a dataset in the toolkit too)
ARITHMETIC = re.compile(r"[\w)\]]\s*(\*\*|[-+*/@%])\s*[\w(.]")
TRIVIAL = re.compile(r"^(return\s+[\w\s,()]*|[\w\s,]*=\s*[\w.]+\(\)|pass|raise NotImplementedError\(\))$")


def _normal(line):
    return re.sub(r"\s+", " ", line.strip())


def _answer_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")]


def graded(root):
    """{name: assignment} and {assignment: set of specific solution lines}, from solutions/."""
    import nbformat
    names, lines = {}, {}
    for path in sorted(pathlib.Path(root, "solutions").glob("[0-9]*/*.ipynb")):
        assignment = path.parent.name
        nb = nbformat.read(path, as_version=4)
        for cell in _answer_cells(nb):
            for name in re.findall(r"^(?:def|class)\s+(\w+)", cell.source, re.M):
                names[name] = assignment
            for body in SOLUTION.findall(cell.source):
                for line in body.splitlines():
                    n = _normal(line)
                    if len(n) >= MIN_LINE and not n.startswith("#") and not TRIVIAL.match(n) \
                            and not n.startswith(('"""', "'''")) and ARITHMETIC.search(n):
                        lines.setdefault(assignment, set()).add(n)
    return names, lines


def _is_stub(node):
    body = [s for s in node.body if not (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant))]
    if isinstance(node, ast.ClassDef):
        return all(isinstance(s, ast.FunctionDef) and _is_stub(s) for s in body)
    return len(body) == 1 and isinstance(body[0], ast.Raise)


def _definitions(source):
    """(name, line) of every def/class with a real body in ``source`` (IPython magics dropped)."""
    text = "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return []
    return [(n.name, n.lineno) for n in ast.walk(tree)
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and not _is_stub(n)]


def _readable(root):
    """(where, assignment or None, code) for every piece of code a student can read."""
    import nbformat
    root = pathlib.Path(root)
    for path in sorted((root / "course").glob("[0-9]*/*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for i, cell in enumerate(nb.cells):
            if cell.cell_type == "code":
                yield f"{path.relative_to(root)} cell {i}", path.parent.name, cell.source, \
                    cell.metadata.get("nbgrader", {}).get("solution", False)
    for path in sorted((root / "toolkit").rglob("*.py")):
        yield str(path.relative_to(root)), None, path.read_text(), False


def find(root):
    """Problems, one line each: where a graded function's working copy can be read."""
    names, lines = graded(root)
    problems = []
    for where, assignment, code, is_answer in _readable(root):
        for name, lineno in _definitions(code):
            if name in names and not (is_answer and names[name] == assignment):
                problems.append(f"{where} (line {lineno}) defines {name}, graded in {names[name]}")
        normal = {_normal(line) for line in code.splitlines()}
        for owner, owned in lines.items():
            if owner == assignment:
                continue
            for line in sorted(owned & normal):
                problems.append(f"{where} holds a line of {owner}'s solutions: {line!r}")
    return problems
