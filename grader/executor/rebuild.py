"""The notebook that is graded is the instructor's, with only the answers taken from
the student.

``RebuildFromSource`` is the first of ``Autograde.sanitize_preprocessors``
(nbgrader_config.py). From the instructor's source notebook (solutions/) and the
gradebook it builds the notebook to run: every cell, its order, its metadata and tags,
the hidden tests and the kernelspec are the instructor's (cells the instructor tagged
``skip-when-grading``, and unless ``full`` every cell no grade depends on, run as a
comment: grader/skipping.py); the source of each answer
cell (nbgrader ``solution``, found by grade_id) is the student's, or the released stub
when the student deleted it. Everything else in the submission (edited or deleted
test cells, changed metadata or tags such as ``skip-execution``, extra cells, edited
lesson cells, a different kernelspec, outputs) is discarded, and reported:

- FLAG for what can only be tampering: test cells edited or deleted, nbgrader
  metadata changed (points, grade flags), execution tags added, another kernelspec,
  an answer naming the grader;
- note for what honest students do: an answer cell pasted twice (the last copy is
  graded), cells of their own or edits to the lesson's cells (not graded).

What these steps notice goes to ``NOTES`` (a grading process grades one notebook at a
time: grader.pipeline reads and clears it per submission).
"""
import copy
import io
import os
import tokenize

from nbformat import read as read_notebook
from nbgrader import utils
from nbgrader.api import Gradebook, MissingEntry
from nbgrader.coursedir import CourseDirectory
from nbgrader.preprocessors import ClearHiddenTests, NbGraderPreprocessor
from traitlets import Bool

from grader import skipping, timings

NOTES = []   # (kind, text): kind "flag" for tampering, "note" for things fixed quietly
EXECUTION_TAGS = {"skip-execution", "raises-exception", "remove-cell", "remove-input", "remove-output",
                  skipping.SKIP_TAG}
GRADER_KEYS = ("grade", "solution", "locked", "points", "grade_id", "task")


def _gid(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def _is_graded_cell(cell):
    return utils.is_grade(cell) or utils.is_solution(cell) or utils.is_locked(cell)


def _released_test_source(cell):
    """What the student received for an instructor's test cell (hidden tests cut)."""
    c = copy.deepcopy(cell)
    ClearHiddenTests().preprocess_cell(c, {}, 0)
    return c.source.strip()


def _clean(text, limit=40):
    """A name from the student's file, safe to print in a summary line."""
    text = "".join(ch for ch in str(text) if ch.isalnum() or ch in "_-. ")
    return text[:limit] or "?"


def _plural(n, word):
    return f"{n} {word}{'s' * (n != 1)}"


class RebuildFromSource(NbGraderPreprocessor):
    full = Bool(False, help="Run every cell; by default only the cells grading needs "
                            "(grader/skipping.py)").tag(config=True)

    def preprocess(self, nb, resources):
        with timings.timed("rebuilding the notebook from the source"):
            return self._preprocess(nb, resources)

    def _preprocess(self, nb, resources):
        info = resources["nbgrader"]
        coursedir = CourseDirectory(config=self.config)
        source_path = os.path.join(coursedir.format_path(coursedir.source_directory, ".", info["assignment"]),
                                   f"{info['notebook']}.ipynb")
        source = read_notebook(source_path, as_version=4)
        with Gradebook(info["db_url"]) as gb:
            stored = {}
            for cell in source.cells:
                gid = _gid(cell) if _is_graded_cell(cell) else None
                if gid:
                    try:
                        sc = gb.find_source_cell(gid, info["notebook"], info["assignment"])
                        stored[gid] = (sc.source, sc.checksum)
                    except MissingEntry:
                        pass
        nb.cells, nb.metadata = self._rebuild(nb, source, stored), copy.deepcopy(source.metadata)
        return nb, resources

    def _rebuild(self, nb, source, stored):
        by_gid, by_id, order = {}, {}, []
        for cell in nb.cells:
            gid = _gid(cell) if isinstance(cell.get("metadata"), dict) else None
            if gid:
                if gid in by_gid and utils.is_solution(cell):
                    NOTES.append(("note", f"cell {_clean(gid)} appears more than once: the last copy is graded"))
                by_gid[gid] = cell
                order.append(gid)
            if cell.get("id"):
                by_id.setdefault(cell["id"], cell)
        src_gids = [_gid(c) for c in source.cells if _is_graded_cell(c)]
        if [g for g in order if g in src_gids] != [g for g in src_gids if g in order]:
            NOTES.append(("note", "cells were moved: the notebook is graded in the course's order"))
        ks, src_ks = nb.metadata.get("kernelspec", {}), source.metadata.get("kernelspec", {})
        if ks and ks.get("name") != src_ks.get("name"):
            NOTES.append(("flag", f"the kernelspec was changed to {_clean(ks.get('name'))!r}: graded with "
                                  f"the course's kernel"))
        out, used, edited = [], set(), 0
        for cell in source.cells:
            new = copy.deepcopy(cell)
            if new.cell_type == "code":
                new.outputs, new.execution_count = [], None
                if skipping.skipped(cell):     # the instructor's tag: an experiment no grade needs
                    new.source = skipping.SKIPPED_SOURCE
            gid = _gid(cell) if _is_graded_cell(cell) else None
            mine = by_gid.get(gid) if gid else by_id.get(cell.get("id"))
            if mine is not None:
                used.add(id(mine))
            if gid:
                text, checksum = stored.get(gid, (None, None))
                if checksum:
                    new.metadata["nbgrader"]["checksum"] = checksum
                self._compare_metadata(gid, cell, mine)
                if utils.is_solution(cell):
                    if mine is None:
                        new.source = text if text is not None else ""
                        NOTES.append(("note", f"answer cell {gid} was deleted: graded as the released stub"))
                    else:
                        new.source = str(mine.get("source", ""))
                        self._forbidden(gid, new.source)
                elif mine is None:
                    NOTES.append(("flag", f"cell {gid} was deleted from the notebook: restored"))
                elif str(mine.get("source", "")).strip() != _released_test_source(cell):
                    NOTES.append(("flag" if utils.is_grade(cell) else "note",
                                  f"cell {gid} was edited: the instructor's version was put back"))
            elif mine is not None:
                if str(mine.get("source", "")) != cell.source:
                    edited += 1
                self._compare_tags(f"cell {cell.get('id')}", cell, mine)
            out.append(new)
        extra = [c for c in nb.cells if id(c) not in used]
        code_extra = [c for c in extra if c.get("cell_type") == "code" and str(c.get("source", "")).strip()]
        for c in code_extra:
            self._forbidden(f"a cell of your own ({_clean(c.get('id') or 'no id')})", str(c.get("source", "")))
        if edited or code_extra:
            parts = ([f"{_plural(edited, 'lesson cell')} edited"] if edited else []) + \
                    ([f"{_plural(len(code_extra), 'code cell')} added"] if code_extra else [])
            NOTES.append(("note", f"{' and '.join(parts)}: not graded (only answer cells count; put helpers "
                                  f"inside the answer cell that uses them)"))
        if not self.full:   # only what a grade can depend on runs (the answers are in by now)
            runs = skipping.plan(out)
            for i, cell in enumerate(out):
                if cell.cell_type == "code" and i not in runs:
                    cell.source = skipping.SKIPPED_SOURCE
        return out

    def _compare_metadata(self, gid, cell, mine):
        if mine is None:
            return
        theirs = mine.get("metadata", {}).get("nbgrader", {})
        ours = cell.metadata.get("nbgrader", {})
        changed = sorted(k for k in GRADER_KEYS if theirs.get(k) != ours.get(k))
        if changed:
            NOTES.append(("flag", f"cell {gid}: its grading metadata was changed ({', '.join(changed)}): "
                                  f"the instructor's was put back"))
        self._compare_tags(f"cell {gid}", cell, mine)

    def _compare_tags(self, where, cell, mine):
        tags = set(mine.get("metadata", {}).get("tags", []) or []) - set(cell.metadata.get("tags", []) or [])
        bad = sorted(tags & EXECUTION_TAGS)
        if bad:
            NOTES.append(("flag", f"{where}: tags {', '.join(bad)} were added: ignored"))

    def _forbidden(self, where, source):
        names = forbidden_names(source)
        if names:
            NOTES.append(("flag", f"{where} refers to {', '.join(sorted(names))}: a graded kernel cannot "
                                  f"reach the grader (the answer is graded as your own code)"))


FORBIDDEN_NAMES = {"grader", "gradeclient"}


def forbidden_names(source):
    """Grading packages named in ``source`` (comments and strings do not count)."""
    found = set()
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.NAME and tok.string in FORBIDDEN_NAMES:
                found.add(tok.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass   # the cell fails by itself when it runs
    return found

