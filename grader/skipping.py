"""Experiments that grading skips.

A lesson's experiments (sweeps over learning rates and seeds, figures, explorers) cost
most of a notebook's run time and decide no grade. The instructor tags such a code cell
``skip-when-grading`` in the source notebook; while a submission is graded, the rebuilt
notebook (grader/executor/rebuild.py) runs that cell as a comment instead. Tags come
from the instructor's source only: a student can neither add nor remove them.

The rule that makes this safe: **no untagged cell may use a name that only a tagged cell
defines**. ``problems(nb)`` checks it statically, by the names each cell binds and the
global names each cell (and every function it defines) reads; release refuses a lesson
that breaks it, and tests/test_skipping.py proves that the check sees such a use and that
grades with and without skipping agree.
"""
import builtins
import symtable

SKIP_TAG = "skip-when-grading"
SKIPPED_SOURCE = "# skipped while grading: an experiment that no graded cell depends on"


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
