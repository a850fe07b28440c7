"""Experiments that grading skips.

Grading runs only the cells a grade can depend on (``plan``): the answer cells, the
graded test cells, the lesson's first code cell (its setup: imports, seeds, threads),
and, followed transitively, every cell before the last graded cell that binds a name one
of those cells reads (at module level or inside a function it defines), or changes one
in place by assignment (``x.attr = ...``, ``x[k] = ...``). A cell that imports ``*`` is
always run. Everything else (figures, sweeps, explorers, visible checks, cells after the
last graded one) runs as a comment. The names are read statically from each cell's
Python, so the plan is made on the notebook being graded, answers included: a name a
student's answer uses pulls in its cells. When an answer reaches names in a way that
cannot be read statically (``globals()``, ``eval``, ``exec``, ``vars``, ``get_ipython``,
``__main__``, frames), the whole notebook runs. ``--full`` runs every cell but the
tagged ones (below); tests prove that grades agree with and without it for every
submission of the catalogue, the bad-submission and the red-team classes
(tests/test_autograde.py, test_bad_submissions.py, test_red_team.py).

Tags, the instructor's word. A code cell tagged ``skip-when-grading`` in the source
notebook is skipped even with ``--full`` (the tagged experiments are the slowest: sweeps,
trained networks). Tags come from the instructor's source only: a student can neither add
nor remove them. The rule that makes this safe: **no untagged cell may use a name that
only a tagged cell defines**. ``problems(nb)`` checks it statically, by the names each
cell binds and the global names each cell (and every function it defines) reads; release
refuses a lesson that breaks it.
"""
import ast
import builtins
import io
import symtable
import tokenize

SKIP_TAG = "skip-when-grading"
SKIPPED_SOURCE = "# skipped while grading: an experiment that no graded cell depends on"
# names through which code reaches globals that no static reading sees
DYNAMIC = {"globals", "locals", "vars", "eval", "exec", "get_ipython", "__main__", "__globals__",
           "__dict__", "f_globals", "f_locals", "f_back", "currentframe", "_getframe", "__import__"}


def skipped(cell):
    return cell.get("cell_type") == "code" and SKIP_TAG in (cell.get("metadata", {}).get("tags") or [])


def _code(source):
    """The cell's Python, IPython magics and shell lines left out."""
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in source.splitlines())


def bound(source):
    """Names a cell binds at module level (assignments, defs, classes, imports, loops)."""
    try:
        table = symtable.symtable(_code(source), "<cell>", "exec")
    except SyntaxError:
        return set()
    return {s.get_name() for s in table.get_symbols() if s.is_assigned() or s.is_imported()}


def read(source):
    """Global names a cell reads: at module level, and inside every function, lambda and
    class it defines (a function defined here reads its globals when it is called)."""
    try:
        table = symtable.symtable(_code(source), "<cell>", "exec")
    except SyntaxError:
        return set()
    names, stack = set(), [table]
    while stack:
        t = stack.pop()
        for s in t.get_symbols():
            if not s.is_referenced():
                continue
            if t.get_type() == "module" or s.is_global():
                names.add(s.get_name())
        stack.extend(t.get_children())
    return names - set(dir(builtins))


def problems(nb):
    """["cell N uses X, which only the skipped cell(s) M define", ...] for a notebook
    (nbformat or a dict with "cells")."""
    out = []
    defined_by_kept, defined_by_skipped = set(), {}
    for index, cell in enumerate(nb["cells"]):
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(source)
        names = bound(source)
        if skipped(cell):
            for n in names:
                defined_by_skipped.setdefault(n, []).append(index)
            continue
        # a cell may read a name it binds itself (loops, later lines): those are its own
        for name in sorted(read(source) - names - defined_by_kept):
            if name in defined_by_skipped:
                cells = ", ".join(str(i) for i in defined_by_skipped[name])
                out.append(f"cell {index} ({cell.get('id', 'no id')}) uses {name!r}, which only the "
                           f"skip-when-grading cell(s) {cells} define")
        defined_by_kept |= names
    return out


def _text(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _nbgrader(cell):
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def changed(source):
    """Names a cell changes in place by assignment: the base of ``x.a = ...``, ``x[k] += ...``,
    ``del x[k]`` (a later cell that reads x sees the change)."""
    try:
        tree = ast.parse(_code(source))
    except SyntaxError:
        return set()
    out = set()
    for node in ast.walk(tree):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else \
            [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
        for t in targets:
            while isinstance(t, (ast.Attribute, ast.Subscript, ast.Starred)):
                t = t.value
            if isinstance(t, ast.Name):
                out.add(t.id)
    return out


def _star(source):
    try:
        tree = ast.parse(_code(source))
    except SyntaxError:
        return False
    return any(isinstance(n, ast.ImportFrom) and any(a.name == "*" for a in n.names) for n in ast.walk(tree))


def dynamic(source):
    """True when ``source`` may reach global names no static reading sees (a name of
    ``DYNAMIC``, or "__main__" in a string: ``sys.modules["__main__"]``)."""
    try:
        return any(tok.type == tokenize.NAME and tok.string in DYNAMIC
                   or tok.type == tokenize.STRING and "__main__" in tok.string
                   for tok in tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False


def plan(cells):
    """The indices of the code cells that grading runs (see the module's text), for the
    notebook being graded (its cells: nbformat cells or dicts)."""
    code = {i: _text(c) for i, c in enumerate(cells) if c.get("cell_type") == "code"}
    answers = {i for i in code if _nbgrader(cells[i]).get("solution")}
    roots = answers | {i for i in code if _nbgrader(cells[i]).get("grade")}
    if not roots or any(dynamic(code[i]) for i in answers):
        return set(code)
    last = max(roots)
    roots.add(min(code))
    binds = {i: bound(src) | changed(src) for i, src in code.items() if i < last}
    needed = roots | {i for i in binds if _star(code[i])}
    todo = sorted(needed)
    while todo:
        i = todo.pop()
        for name in read(code[i]):
            for j, names in binds.items():
                if name in names and j not in needed:
                    needed.add(j)
                    todo.append(j)
    return {i for i in needed if not skipped(cells[i]) or i in roots}
