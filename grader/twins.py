"""Text twins of the lesson notebooks: solutions/NN_name/name.ipynb <-> name.py.

The twin is jupytext's py:percent format (solutions/jupytext.toml holds the options, so
JupyterLab's jupytext and this module write the same text). Jupytext's text formats do not
keep cell ids, so each cell's id travels as the first key of its header
(``# %% id="5b039757" nbgrader={...}``) and is moved back to the cell's id on reading.

The notebook written from a twin is canonical: ids as nbformat 4.5 cell ids, no outputs,
no execution counts, no jupytext metadata, nbformat's own JSON layout. Text -> notebook ->
text is the identity, and so is notebook -> text -> notebook for a canonical notebook.

``sync`` brings a pair into step: the side that changed since the pair last agreed wins
(kept in build/twins.json; the last commit when there is no record, the newer file when
there is neither). Two safeties: when both sides changed and disagree nothing is
overwritten, and a twin whose cell ids clash is refused with the lines to fix.
"""
from __future__ import annotations

import copy
import hashlib
import json
import pathlib
import re
import subprocess
from dataclasses import dataclass

import jupytext
import nbformat
from jupytext.combine import combine_inputs_with_outputs
from jupytext.config import load_jupytext_configuration_file
from nbformat.corpus.words import generate_corpus_id

FORMAT = "py:percent"
CONFIG_FILE = pathlib.Path(__file__).resolve().parent.parent / "solutions" / "jupytext.toml"
NOTEBOOK_METADATA = ("kernelspec", "language_info", "title")
# cell metadata that records the state of the screen, not the lesson (jupytext leaves the
# same keys out of the text)
SCREEN_STATE = ("autoscroll", "collapsed", "scrolled", "trusted", "execution", "ExecuteTime")


class TwinError(Exception):
    """A twin that cannot become a notebook as it stands (the message says what to fix)."""


def _config():
    return load_jupytext_configuration_file(str(CONFIG_FILE))


def twin_of(notebook):
    return pathlib.Path(notebook).with_suffix(".py")


def notebook_of(twin):
    return pathlib.Path(twin).with_suffix(".ipynb")


def lessons(root):
    """The source notebooks of the course: solutions/NN_*/*.ipynb."""
    return sorted(pathlib.Path(root, "solutions").glob("[0-9]*/*.ipynb"))


# ------------------------------------------------------------------ conversions

def canonical(nb):
    """The notebook as the repository keeps it: no outputs, counts or jupytext metadata."""
    nb = copy.deepcopy(nb)
    nb.metadata = nbformat.NotebookNode({k: nb.metadata[k] for k in NOTEBOOK_METADATA if k in nb.metadata})
    nb.nbformat, nb.nbformat_minor = 4, 5
    for cell in nb.cells:
        cell.metadata.pop("id", None)          # left by JupyterLab reading a twin
        for key in SCREEN_STATE:
            cell.metadata.pop(key, None)
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return nb


def notebook_text(nb):
    """The bytes of a notebook file, as Jupyter and nbformat write them."""
    return nbformat.writes(canonical(nb)) + "\n"


def to_text(nb):
    """The twin of a notebook."""
    nb = canonical(nb)
    missing = [i for i, c in enumerate(nb.cells) if not c.get("id")]
    if missing:
        raise TwinError(f"cells {missing} have no id (an nbformat 4.4 notebook?); open and save it in JupyterLab")
    pasted = [i for i, c in enumerate(nb.cells) if c.get("attachments")]
    if pasted:
        raise TwinError(f"cells {pasted} hold pasted images, which a text twin cannot keep; "
                        f"save the image as a file beside the notebook and link it")
    for cell in nb.cells:
        cell.pop("attachments", None)
        cell.metadata = nbformat.NotebookNode({"id": cell.id, **cell.metadata})
    return jupytext.writes(nb, fmt=FORMAT, config=_config())


HEADER = re.compile(r'^# %%.*\bid="([^"]*)"')


def from_text(text, previous=None, name="the twin"):
    """The notebook a twin describes.

    A cell without an id in the text (new, or written by a tool that drops ids) takes the
    id of the same cell in ``previous`` (the notebook it was paired with, matched on
    content by jupytext), else a new one. Two cells with one id are an error.
    """
    nb = jupytext.reads(text, fmt=FORMAT, config=_config())
    ids = [cell.metadata.pop("id", None) for cell in nb.cells]
    seen = {}
    for i, cid in enumerate(ids):
        if cid is None:
            continue
        if cid in seen:
            lines = [n for n, line in enumerate(text.splitlines(), 1)
                     if (m := HEADER.match(line)) and m.group(1) == cid]
            raise TwinError(f"{name}: cell id {cid!r} appears twice (lines {', '.join(map(str, lines))}); "
                            f"delete id=\"{cid}\" from the copy and a new id is given on release")
        seen[cid] = i
    if previous is not None and None in ids:
        matched = combine_inputs_with_outputs(copy.deepcopy(nb), previous, fmt=FORMAT)
        for i, cell in enumerate(matched.cells):
            if ids[i] is None and cell.get("id") and cell.id not in seen:
                ids[i] = cell.id
                seen[cell.id] = i
    for i, cid in enumerate(ids):
        if cid is None:
            cid = generate_corpus_id()
            while cid in seen:
                cid = generate_corpus_id()
            seen[cid] = i
        nb.cells[i].id = cid
    nb = canonical(nb)
    nbformat.validate(nb)
    return nb


# ------------------------------------------------------------------ pairs on disk

@dataclass
class Change:
    path: pathlib.Path
    source: pathlib.Path

    def __str__(self):
        return f"{_shown(self.path)} rebuilt from {self.source.name}"


def _shown(path):
    try:
        return pathlib.Path(path).resolve().relative_to(pathlib.Path.cwd())
    except ValueError:
        return path


def _digest(text):
    return hashlib.sha256(text.encode()).hexdigest() if text is not None else None


def _committed(path):
    """The file's text at git HEAD, or None (untracked, no git, no repository)."""
    path = pathlib.Path(path).resolve()
    try:
        top = subprocess.run(["git", "-C", str(path.parent), "rev-parse", "--show-toplevel"],
                             capture_output=True, text=True, check=True).stdout.strip()
        rel = path.relative_to(pathlib.Path(top).resolve())
        out = subprocess.run(["git", "-C", top, "show", f"HEAD:{rel.as_posix()}"],
                             capture_output=True, check=True).stdout
    except (OSError, ValueError, subprocess.CalledProcessError):
        return None
    return out.decode()


class SyncRecord:
    """What each pair looked like when it was last in step, kept out of git in
    build/twins.json. Without a record (a fresh clone) the last commit stands in for it:
    a committed pair agrees (tests/test_twins.py)."""

    def __init__(self, root):
        self.path = pathlib.Path(root) / "build" / "twins.json"
        try:
            self.data = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.data = {}

    def last(self, notebook):
        """(notebook digest, twin digest) when last in step, or None if unknown."""
        key = str(pathlib.Path(notebook).resolve())
        if key in self.data:
            return tuple(self.data[key])
        committed = _committed(notebook), _committed(twin_of(notebook))
        return tuple(map(_digest, committed)) if None not in committed else None

    def remember(self, notebook):
        key = str(pathlib.Path(notebook).resolve())
        self.data[key] = [_digest(pathlib.Path(notebook).read_text()), _digest(twin_of(notebook).read_text())]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(self.data, indent=1, sort_keys=True) + "\n")


def _write(path, text):
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
        return True
    return False


def disagreement(notebook):
    """Why a pair is out of step, or None when the twin and the notebook agree byte for byte."""
    notebook = pathlib.Path(notebook)
    twin = twin_of(notebook)
    if not twin.exists():
        return f"{notebook} has no text twin {twin.name}"
    if not notebook.exists():
        return f"{twin} has no notebook {notebook.name}"
    nb_text = notebook.read_text()
    nb = nbformat.reads(nb_text, as_version=4)
    if notebook_text(nb) != nb_text:
        return f"{notebook} is not in canonical form (outputs, execution counts or extra metadata)"
    try:
        from_twin = from_text(twin.read_text(), name=str(twin))
    except TwinError as e:
        return str(e)
    if notebook_text(from_twin) != nb_text:
        return f"{twin} and {notebook.name} disagree ({_first_difference(from_twin, nb)})"
    if to_text(nb) != twin.read_text():
        return f"{twin} is not what {notebook.name} gives (cell ids or layout differ)"
    return None


def _first_difference(a, b):
    for i, (x, y) in enumerate(zip(a.cells, b.cells, strict=False)):
        if x != y:
            return f"first at cell {i}, id {y.get('id')} in the notebook"
    if len(a.cells) != len(b.cells):
        return f"{len(a.cells)} cells in the text, {len(b.cells)} in the notebook"
    return "in the notebook's metadata"


def sync(notebook, prefer=None, record=None):
    """Bring one pair into step; returns the Change made, or None.

    ``prefer`` ("text" or "notebook") chooses the side. By default the side that changed
    since the pair was last in step wins; if both did and their contents differ, TwinError
    (the caller must choose). A pair whose contents agree (JupyterLab with jupytext wrote
    both) is only brought to canonical form.
    """
    notebook = pathlib.Path(notebook)
    twin = twin_of(notebook)
    if not twin.exists() and not notebook.exists():
        raise TwinError(f"neither {notebook} nor {twin} exists")
    if not twin.exists():
        prefer = "notebook"
    elif not notebook.exists():
        prefer = "text"
    if prefer is None:
        previous = nbformat.read(notebook, as_version=4)
        from_twin = notebook_text(from_text(twin.read_text(), previous=previous, name=str(twin)))
        if from_twin == notebook_text(previous):
            prefer = "text"          # same contents: only layout, ids or outputs to settle
        else:
            last = record.last(notebook) if record else None
            now = _digest(notebook.read_text()), _digest(twin.read_text())
            if last is None:       # nothing known: the newer file wins, as jupytext --sync
                prefer = "text" if twin.stat().st_mtime >= notebook.stat().st_mtime else "notebook"
            elif now[0] != last[0] and now[1] != last[1]:
                raise TwinError(
                    f"{_shown(notebook)} and {twin.name} were both edited since they were last in step, "
                    f"and they disagree; keep one with `python -m grader twins --from-text` or "
                    f"`--from-notebook` (the other side is overwritten)")
            else:
                prefer = "notebook" if now[0] != last[0] else "text"
    if prefer == "text":
        previous = nbformat.read(notebook, as_version=4) if notebook.exists() else None
        nb = from_text(twin.read_text(), previous=previous, name=str(twin))
        changed, changed_twin = _write(notebook, notebook_text(nb)), _write(twin, to_text(nb))
        change = Change(notebook, twin) if changed else Change(twin, notebook) if changed_twin else None
    else:
        nb = nbformat.read(notebook, as_version=4)
        changed_twin, changed = _write(twin, to_text(nb)), _write(notebook, notebook_text(nb))
        change = Change(twin, notebook) if changed_twin else Change(notebook, notebook) if changed else None
    if record:
        record.remember(notebook)
    return change


def sync_all(root, assignments=None, prefer=None):
    """Sync every lesson (or those of ``assignments``); returns the changes made."""
    record = SyncRecord(root)
    changes = []
    for nb in lessons(root):
        if assignments and nb.parent.name not in assignments:
            continue
        change = sync(nb, prefer=prefer, record=record)
        if change:
            changes.append(change)
    return changes
