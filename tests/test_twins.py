"""The lessons' text twins (grader/twins.py): every committed pair agrees both ways, the
graded cells are well formed, a twin out of step is caught, `release` keeps ids and
bytes, and JupyterLab with jupytext saves both sides of a pair."""
import json
import pathlib
import re
import shutil
import subprocess
import sys
import urllib.request

import nbformat
import pytest

from grader import twins
from tests.course import ASSIGNMENTS, ROOT, notebook_of

LESSONS = [notebook_of(a) for a in ASSIGNMENTS]
SENTENCE = "zig-zags between the walls and crawls along the floor."


def grader_cli(root, *args):
    return subprocess.run([sys.executable, "-m", "grader", "--root", str(root), *args],
                          capture_output=True, text=True, cwd=root, timeout=300)


def copy_course(tmp, assignments=("01_momentum",)):
    """A course root in ``tmp`` with the config and the given lessons (no git)."""
    shutil.copy(ROOT / "nbgrader_config.py", tmp / "nbgrader_config.py")
    (tmp / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "solutions" / "jupytext.toml", tmp / "solutions" / "jupytext.toml")
    for a in assignments:
        shutil.copytree(ROOT / "solutions" / a, tmp / "solutions" / a)
    return tmp


def snapshot(root):
    return {p.relative_to(root): p.read_bytes() for where in ("solutions", "course")
            for p in sorted((root / where).rglob("*")) if p.is_file()}


# ------------------------------------------------------------------ the committed pairs

@pytest.mark.parametrize("notebook", LESSONS, ids=ASSIGNMENTS)
def test_every_lesson_and_its_twin_agree(notebook):
    assert twins.twin_of(notebook).exists(), f"{notebook} has no text twin: run `make release`"
    assert twins.disagreement(notebook) is None, twins.disagreement(notebook)


@pytest.mark.parametrize("notebook", LESSONS, ids=ASSIGNMENTS)
def test_text_to_notebook_to_text_is_the_identity(notebook):
    text = twins.twin_of(notebook).read_text()
    nb = twins.from_text(text)
    assert twins.to_text(nb) == text
    assert twins.notebook_text(nb) == notebook.read_text()
    again = twins.from_text(twins.to_text(nbformat.read(notebook, as_version=4)))
    assert [c.id for c in again.cells] == [c.id for c in nb.cells]


@pytest.mark.parametrize("notebook", LESSONS, ids=ASSIGNMENTS)
def test_graded_cells_have_unique_grade_ids_and_points(notebook):
    nb = nbformat.read(notebook, as_version=4)
    ids = [c.id for c in nb.cells]
    assert len(ids) == len(set(ids)), f"duplicate cell ids in {notebook}"
    grade_ids, problems = [], []
    for i, c in enumerate(nb.cells):
        meta = c.metadata.get("nbgrader")
        if not meta:
            continue
        if meta.get("grade") or meta.get("solution") or meta.get("locked"):
            if not meta.get("grade_id"):
                problems.append(f"cell {i} ({c.id}) is an nbgrader cell without a grade_id")
                continue
            grade_ids.append(meta["grade_id"])
        if meta.get("grade") and not meta.get("points", 0) > 0:
            problems.append(f"graded cell {meta.get('grade_id')} has no points")
    dupes = sorted({g for g in grade_ids if grade_ids.count(g) > 1})
    assert not problems and not dupes, problems + [f"duplicate grade_id {g}" for g in dupes]


def test_no_twin_is_released():
    assert not list((ROOT / "course").rglob("*.py")), "a text twin (with its solutions) is in course/"


# ------------------------------------------------------------------ out of step is caught

def test_a_desynchronised_twin_fails_the_check_in_either_direction(tmp_path):
    root = copy_course(tmp_path)
    nb = root / "solutions" / "01_momentum" / "momentum.ipynb"
    twin = twins.twin_of(nb)
    assert twins.disagreement(nb) is None
    original_twin, original_nb = twin.read_text(), nb.read_text()

    twin.write_text(original_twin.replace(SENTENCE, "zig-zags, then stops."))
    assert "disagree" in twins.disagreement(nb)
    run = grader_cli(root, "twins", "--check")
    assert run.returncode == 1 and "disagree" in run.stderr

    twin.write_text(original_twin)
    notebook = nbformat.read(nb, as_version=4)
    notebook.cells[-1].source += "\nOne more line."
    nb.write_text(twins.notebook_text(notebook))
    assert "disagree" in twins.disagreement(nb)

    nb.write_text(original_nb)
    twin.write_text(original_twin.replace('id="5b039757"', 'id="0a1b2c3d"', 1))
    assert "disagree (first at cell 0, id 5b039757" in twins.disagreement(nb)

    twin.write_text(original_twin)
    with_output = nbformat.read(nb, as_version=4)
    with_output.cells[1].outputs = [nbformat.v4.new_output("stream", text="hi\n")]
    nbformat.write(with_output, nb)
    assert "canonical" in twins.disagreement(nb)


def test_a_cell_id_given_twice_is_refused_with_its_lines():
    text = twins.twin_of(LESSONS[0]).read_text()
    first = text.index("# %% [markdown] id=")
    copied = text[first:text.index("# %%", first + 5)]
    with pytest.raises(twins.TwinError, match=r"appears twice \(lines 18, \d+\)"):
        twins.from_text(text + "\n" + copied)


# ------------------------------------------------------------------ sync and release

def test_sync_takes_the_side_that_changed_and_keeps_every_id(tmp_path):
    root = copy_course(tmp_path)
    nb = root / "solutions" / "01_momentum" / "momentum.ipynb"
    twin = twins.twin_of(nb)
    ids = [c.id for c in nbformat.read(nb, as_version=4).cells]

    # a first edit without any record: the newer file wins
    twin.write_text(twin.read_text().replace(SENTENCE, "zig-zags between its walls."))
    assert [str(c.path.name) for c in twins.sync_all(root)] == ["momentum.ipynb"]
    assert "zig-zags between its walls." in nb.read_text()
    # edit, release, edit again: the record says which side moved, whatever the clocks say
    twin.write_text(twin.read_text().replace("between its walls.", "between the walls."))
    nb.touch()
    twins.sync_all(root)
    assert "zig-zags between the walls." in nb.read_text()
    # a notebook edited (say in plain Jupyter): the twin follows
    notebook = nbformat.read(nb, as_version=4)
    notebook.cells[0].source += "\n\nA new closing line."
    nbformat.write(notebook, nb)
    twins.sync_all(root)
    assert "# A new closing line." in twin.read_text()
    # a new cell in the text, without an id: it gets one, written back into the text
    twin.write_text(twin.read_text() + '\n# %% [markdown]\n# A new cell at the end.\n')
    twins.sync_all(root)
    cells = nbformat.read(nb, as_version=4).cells
    assert [c.id for c in cells[:-1]] == ids and cells[-1].id not in ids
    assert f'# %% [markdown] id="{cells[-1].id}"' in twin.read_text()
    assert twins.disagreement(nb) is None
    # both sides edited differently: nothing is overwritten, the user is told how to choose
    twin.write_text(twin.read_text().replace("A new cell at the end.", "Text side."))
    notebook = nbformat.read(nb, as_version=4)
    notebook.cells[-1].source = "Notebook side."
    nbformat.write(notebook, nb)
    before = snapshot(root)
    with pytest.raises(twins.TwinError, match="--from-text"):
        twins.sync_all(root)
    assert snapshot(root) == before
    twins.sync_all(root, prefer="notebook")
    assert "# Notebook side." in twin.read_text()


def test_a_twin_written_without_ids_takes_them_back_from_its_notebook(tmp_path):
    """What a tool that drops ids (jupytext's CLI, an editor plugin) leaves behind."""
    root = copy_course(tmp_path)
    nb = root / "solutions" / "01_momentum" / "momentum.ipynb"
    twin = twins.twin_of(nb)
    committed = twin.read_text()
    stripped = re.sub(r'^(# %%.*?) id="[^"]*"', r"\1", committed, flags=re.M)
    assert ' id="' not in stripped
    twin.write_text(stripped)
    twins.sync_all(root)
    assert twin.read_text() == committed
    assert twins.disagreement(nb) is None


def test_release_after_one_sentence_changes_one_line_and_a_second_release_nothing(tmp_path):
    root = copy_course(tmp_path)
    run = grader_cli(root, "release", "01_momentum")
    assert run.returncode == 0, run.stderr
    twin = root / "solutions" / "01_momentum" / "momentum.py"
    before = snapshot(root)
    twin.write_text(twin.read_text().replace(SENTENCE, "zig-zags from wall to wall and crawls along the floor."))
    run = grader_cli(root, "release", "01_momentum")
    assert run.returncode == 0, run.stderr
    assert "momentum.ipynb rebuilt from momentum.py" in run.stdout
    after = snapshot(root)
    changed = sorted(str(p) for p in after if after[p] != before.get(p))
    assert changed == ["course/01_momentum/momentum.ipynb", "solutions/01_momentum/momentum.ipynb",
                       "solutions/01_momentum/momentum.py"]
    for path in changed:
        old, new = before[pathlib.Path(path)].decode().splitlines(), after[pathlib.Path(path)].decode().splitlines()
        differing = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
        assert len(differing) == 1, f"{path}: lines {differing} changed"
    run = grader_cli(root, "release", "01_momentum")
    assert run.returncode == 0 and "rebuilt" not in run.stdout
    assert snapshot(root) == after, "a second release changed files"


# ------------------------------------------------------------------ JupyterLab saves both

def test_jupyterlab_with_jupytext_saves_the_notebook_and_its_twin(tmp_path):
    from tests.e2e.browser import Lab
    (tmp_path / "course").mkdir()
    (tmp_path / "home").mkdir()
    root = copy_course(tmp_path / "course")
    lab = Lab(tmp_path / "home", root=root / "solutions").start()
    try:
        path = "/api/contents/01_momentum/momentum.ipynb"
        model = lab.api("GET", path + "?content=1")
        cells = model["content"]["cells"]
        cells[0]["source"] = cells[0]["source"].replace(SENTENCE, "zig-zags, edited in JupyterLab.")
        cells.append({"cell_type": "markdown", "id": "fromlab1", "metadata": {}, "source": "Added in the lab."})
        body = json.dumps({"type": "notebook", "format": "json", "content": model["content"]}).encode()
        req = urllib.request.Request(lab.base + path, data=body, method="PUT",
                                     headers={"Authorization": f"token {lab.token}",
                                              "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=60) as r:
            assert r.status == 200
    finally:
        lab.stop()
    nb = root / "solutions" / "01_momentum" / "momentum.ipynb"
    text = twins.twin_of(nb).read_text()
    assert "# zig-zags, edited in JupyterLab." in text and "# Added in the lab." in text
    assert 'id="5b039757"' in text, "jupytext dropped the cell ids of the twin"
    twins.sync_all(root)
    assert twins.disagreement(nb) is None
    cells = nbformat.read(nb, as_version=4).cells
    assert cells[0].id == "5b039757" and cells[-1].id == "fromlab1"
    assert "edited in JupyterLab" in cells[0].source
