"""nbgrader's sanitizing step, made to cope with what students hand in.

Replaces nbgrader's DeduplicateIds and OverwriteCells in ``Autograde.sanitize_preprocessors``
(nbgrader_config.py) and adds two steps:

- DeduplicateCells: an answer or test cell pasted twice keeps its grade on the last
  copy; the other copies become plain cells. (nbgrader's own step leaves them with empty
  metadata, which stops the whole run with SchemaTooOldError: nbgrader issue 1083.)
- RestoreMissingCells: test and answer cells the student deleted are put back, with the
  instructor's source, after the cell that preceded them in the assignment.
- RestoreTestCells: nbgrader's OverwriteCells (edited test cells get their source back,
  hidden tests included), without its spurious warning on every hidden-test cell that
  the student never touched (nbgrader issue 1961); real edits are recorded.
- ForbidGraderCode: a cell the student can edit that names the grader package, or
  reaches modules dynamically (``__import__``, ``importlib``, ``sys.modules``, ``exec``,
  ``eval``), is not run: it is replaced by an error that says why, and flagged.

What these steps notice goes to ``NOTES`` (this process grades one submission at a time:
grader.pipeline reads and clears it per submission).
"""
import copy
import io
import os
import tokenize

from nbformat import read as read_notebook
from traitlets import List

from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells

NOTES = []   # (kind, text): kind "flag" for tampering, "note" for things fixed quietly


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_graded_cell(cell):
    return utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)


class DeduplicateCells(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        seen = set()
        for cell in reversed(nb.cells):
            if not _is_graded_cell(cell):
                continue
            gid = _gid(cell)
            if gid in seen:
                del cell.metadata["nbgrader"]
                NOTES.append(("note", f"cell {gid} appears more than once: the last copy is graded"))
            else:
                seen.add(gid)
        return nb, resources


class RestoreMissingCells(NbGraderPreprocessor):

    def preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        source_path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                                   f"{info['notebook']}.ipynb")
        source = read_notebook(source_path, as_version=4)
        present = {_gid(c) for c in nb.cells if _is_graded_cell(c)}
        missing = [c for c in source.cells if _is_graded_cell(c) and _gid(c) not in present]
        if not missing:
            return nb, resources
        with Gradebook(info["db_url"]) as gb:
            for cell in missing:
                gid = _gid(cell)
                try:
                    text = gb.find_source_cell(gid, info["notebook"], info["assignment"]).source
                except MissingEntry:
                    continue
                restored = copy.deepcopy(cell)
                restored.source = text           # released stub or test, never the solution
                if restored.cell_type == "code":
                    restored.outputs, restored.execution_count = [], None
                self._insert_after_predecessor(nb, source, restored)
                kind = "flag" if utils.is_grade(cell) or utils.is_locked(cell) else "note"
                NOTES.append((kind, f"cell {gid} was deleted from the notebook: restored"))
        return nb, resources

    @staticmethod
    def _insert_after_predecessor(nb, source, cell):
        order = [_gid(c) for c in source.cells if _is_graded_cell(c)]
        before = order[:order.index(_gid(cell))]
        where = {_gid(c): i for i, c in enumerate(nb.cells) if _is_graded_cell(c)}
        previous = [where[g] for g in before if g in where]
        nb.cells.insert(max(previous) + 1 if previous else 0, cell)


class RestoreTestCells(OverwriteCells):

    def preprocess_cell(self, cell, resources, index):
        meta = cell.metadata.get("nbgrader", {})
        gid = meta.get("grade_id")
        if gid and meta.get("locked"):
            as_released = meta.get("checksum") == utils.compute_checksum(cell)
            try:
                original = self.gradebook.find_source_cell(gid, self.notebook_id, self.assignment_id)
            except MissingEntry:
                original = None
            if original is not None and as_released:
                cell.source = original.source    # hidden tests back in, no false alarm
            elif original is not None and cell.source != original.source:
                NOTES.append(("flag" if meta.get("grade") else "note",
                              f"cell {gid} was edited: the instructor's version was put back"))
        return super().preprocess_cell(cell, resources, index)

    def report_change(self, name, attr, old, new):
        self.log.info("cell %s: %s changed (%s -> %s); restored", name, attr, old, new)


FORBIDDEN_NAMES = {"grader", "__import__", "import_module", "exec", "eval", "__builtins__"}


def forbidden_names(source):
    """Names in ``source`` a graded answer has no business using (comments and strings
    do not count). ``modules`` counts only as an attribute (``sys.modules``)."""
    found, previous = set(), None
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME:
                if tok.string in FORBIDDEN_NAMES or (tok.string == "modules" and previous == "."):
                    found.add("sys.modules" if tok.string == "modules" else tok.string)
            if tok.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.COMMENT):
                previous = tok.string
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass   # the cell fails by itself when it runs
    return found


class ForbidGraderCode(NbGraderPreprocessor):

    allowed = List([], help="Names from FORBIDDEN_NAMES this course allows.").tag(config=True)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or utils.is_locked(cell):
            return cell, resources
        names = forbidden_names(cell.source) - set(self.allowed)
        if names:
            what = _gid(cell) or f"cell {index + 1}"
            shown = ", ".join(sorted(names))
            message = (f"{what} was not run: it uses {shown}, which graded answers may not use "
                       f"(answers must be your own code and may not reach the grader).")
            cell.source = f"raise RuntimeError({message!r})"
            NOTES.append(("flag", f"{what} uses {shown}: not run"))
        return cell, resources
