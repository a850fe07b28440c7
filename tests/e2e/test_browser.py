"""The course in a real JupyterLab, driven through Debian's chromium.

For every notebook in solutions/: open it, Run > Run All Cells, no cell shows an error,
every interactive plot is painted, a slider of each, moved with the keyboard, changes
the figure, and a mouse click on the contours of each trajectory plot moves its start
sliders and the figure (screenshots before and after in build/e2e-screenshots/). For
every notebook in course/: a student runs it all (carrying on after each error), errors
show only in cells that need the student's code, and nbgrader's extension is there
without getting in the way. A plot whose update breaks shows the error to the student and fails the check.

All in one xdist group: one server and one browser, run by one worker with --dist loadgroup.
"""
import json
import pathlib
import re
import secrets

import nbformat
import pytest

from tests.e2e.browser import (
    ROOT,
    SCREENSHOTS,
    VIEWPORT,
    NotebookPage,
    cells_needing_student_code,
    click_and_check,
    move_slider_and_check,
    remove_tree,
    shots_dir,
)

pytestmark = pytest.mark.xdist_group("browser")

SOLUTIONS = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("solutions/*/*.ipynb"))
RELEASED = sorted(p.relative_to(ROOT).as_posix() for p in ROOT.glob("course/*/*.ipynb"))


def pinned(name):
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        m = re.fullmatch(rf"{name}==(\S+)", line.split("#")[0].strip())
        if m:
            return m.group(1)


def test_jupyterlab_is_the_pinned_one_with_the_course_extensions(lab, page):
    nb = NotebookPage(page, lab, "")
    page.goto(lab.url(""))
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.started", timeout=300_000)
    page.wait_for_selector(".lm-MenuBar", timeout=300_000)
    assert page.evaluate("() => window.jupyterapp.version") == pinned("jupyterlab")
    plugins = page.evaluate("() => window.jupyterapp.listPlugins()")
    for needed in ("@jupyter-widgets/jupyterlab-manager", "matplotlib-jupyter", "@jupyter/nbgrader"):
        assert any(p.startswith(needed) for p in plugins), f"JupyterLab extension {needed} is not loaded"
    nb.check_no_dialog("on the launcher")


@pytest.mark.parametrize("relpath", SOLUTIONS)
def test_solution_notebook_runs_and_its_plots_follow_their_sliders(relpath, lab, page):
    log_start = lab.log_size()
    nb = NotebookPage(page, lab, relpath).open()
    nb.run_all()
    model = nb.notebook_json()
    errors = nb.error_outputs(model)
    assert not errors, f"{relpath}: cells with errors in JupyterLab: {errors}"
    not_run = [i for i, c in enumerate(model["cells"]) if c["cell_type"] == "code" and c.get("execution_count") is None]
    assert not not_run, f"{relpath}: Run All Cells left cells not run: {not_run}"
    shown = nb.shown_errors()
    assert not shown, f"{relpath}: red output boxes (errors or warnings on stderr) in cells: {shown}"
    assert not nb.broken_widgets(), f"{relpath}: widgets that failed to render: {nb.broken_widgets()}"
    nb.open_file_browser()
    wide = nb.overflowing()
    assert not wide, (f"{relpath}: outputs wider than their cell in a {VIEWPORT['width']}-pixel window with the "
                      f"file browser open (cell, element, pixels past the edge): {wide}")
    plots = nb.plots()
    assert plots, f"{relpath}: no interactive plot was rendered"
    displayed = nb.canvas_cells(model)
    assert [p.cell_index for p in plots] == displayed, (
        f"{relpath}: the kernel displayed interactive figures in cells {displayed}, the page shows them "
        f"in cells {[p.cell_index for p in plots]}")
    shots = shots_dir(relpath)
    remove_tree(shots)
    for plot in plots:
        seen = move_slider_and_check(page, plot, shots=shots)
        print(f"{plot}: {seen['slider']} {seen['before']} -> {seen['after']}; screenshots in {shots}")
        if plot.start_readouts():  # a trajectory plot: a click on its contours moves the start there
            seen = click_and_check(page, plot, shots=shots)
            print(f"{plot}: click at {seen['point'][0]:.2f}, {seen['point'][1]:.2f} of the canvas: "
                  f"{seen['changed']} in {seen['updates']} update")
        for label in [k for k in plot.click_points() if k != "start"]:  # a rate map, a grid of runs
            seen = click_and_check(page, plot, label=label, shots=shots)
            print(f"{plot}: click on {label!r} at {seen['point'][0]:.2f}, {seen['point'][1]:.2f} of the canvas: "
                  f"{seen['changed']} in {seen['updates']} update")
    assert not nb.page_errors, f"{relpath}: uncaught errors in the page: {nb.page_errors}"
    assert not lab.saves(log_start), f"JupyterLab saved files while the test ran: {lab.saves(log_start)}"


@pytest.mark.parametrize("relpath", RELEASED)
def test_released_notebook_fails_only_where_student_code_is_needed(relpath, lab, page):
    log_start = lab.log_size()
    source = ROOT / "solutions" / pathlib.Path(relpath).relative_to("course")
    assert source.exists(), f"{relpath} has no source notebook {source.relative_to(ROOT)}"
    nb = NotebookPage(page, lab, relpath).open()
    menus = page.locator(".lm-MenuBar").get_by_role("menuitem").all_inner_texts()
    assert "Nbgrader" in [m.strip() for m in menus], f"nbgrader's JupyterLab extension is not loaded (menus {menus})"
    # a student runs it all: the run stops at the first error, in a cell that needs their code
    nb.run_all()
    ran = nb.notebook_json()
    errors = nb.error_outputs(ran)
    assert errors, f"{relpath}: Run All Cells went through without an error: are the TODO stubs there?"
    first = errors[0][0]
    for cell in ran["cells"][first + 1:]:  # cells after it may or may not have run: see below
        cell["outputs"] = []
    expected, unexpected = cells_needing_student_code(ran, json.loads(source.read_text()))
    assert not unexpected, f"{relpath}: Run All Cells stops at a cell that needs no student code: {unexpected}"
    # then steps through every cell, carrying on after each error
    model = nb.restart_and_run_each_cell()
    not_run = [i for i, c in enumerate(model["cells"]) if c["cell_type"] == "code" and c.get("execution_count") is None]
    assert not not_run, f"{relpath}: cells never run: {not_run}"
    expected, unexpected = cells_needing_student_code(model, json.loads(source.read_text()))
    assert not unexpected, (f"{relpath}: cells failing in JupyterLab although they need no student code "
                            f"(or with another error): {unexpected}")
    assert expected, f"{relpath} ran without any error in JupyterLab: are the TODO stubs there?"
    shown = sorted({i for i, _ in nb.shown_errors()})
    assert set(shown) <= set(expected), (f"{relpath}: red output boxes in cells that need no student code: "
                                         f"{sorted(set(shown) - set(expected))}")
    assert not nb.broken_widgets(), f"{relpath}: widgets that failed to render: {nb.broken_widgets()}"
    # the plots work before the student's code does ("not implemented yet" in the legend)
    shots = shots_dir(relpath)
    remove_tree(shots)
    for plot in nb.plots():
        move_slider_and_check(page, plot, shots=shots)
    nb.check_no_dialog("at the end")
    assert not nb.page_errors, f"{relpath}: uncaught errors in the page: {nb.page_errors}"
    assert not lab.saves(log_start), f"JupyterLab saved files while the test ran: {lab.saves(log_start)}"


BROKEN_STEP = '''\
import descentlab as dl
from descentlab.plots import Path, explore

def fragile_step(x, g, lr):
    # fine for the first picture (lr = 0.02), broken once the lr slider moves right
    if lr > 0.0201:
        raise ValueError(f"broken on purpose: this step refuses lr={lr:.4g}")
    return x - lr * g

explore(dl.ravine(kappa=10), [Path("SGD", fragile_step, ["lr"])],
        sliders={"lr": ("log", 1e-3, 0.1, 0.02)}, steps=20, x0=(-1.5, 1.0), title="broken update")
'''

BROKEN_HELPER = '''\
import descentlab as dl
from descentlab.plots import Explorer, Path, explore

working_draw = Explorer.draw

def broken_draw(self, values):
    # the plot helper's own update path, broken once the lr slider moves right
    if values["lr"] > 0.0201:
        raise RuntimeError(f"plot helper broken on purpose at lr={values['lr']:.4g}")
    return working_draw(self, values)

Explorer.draw = broken_draw
explore(dl.ravine(kappa=10), [Path("SGD", lambda x, g, lr: x - lr * g, ["lr"])],
        sliders={"lr": ("log", 1e-3, 0.1, 0.02)}, steps=20, x0=(-1.5, 1.0), title="broken helper")
'''

BROKEN = {  # what breaks: (the cell, the error the check must report, a frame of its traceback)
    "student-step": (BROKEN_STEP, "ValueError: broken on purpose: this step refuses lr=", "fragile_step"),
    "plot-helper": (BROKEN_HELPER, "RuntimeError: plot helper broken on purpose at lr=", "broken_draw"),
}


@pytest.mark.parametrize("what", BROKEN)
def test_a_broken_update_shows_its_error_and_fails_the_check(what, lab, page):
    """The acceptance check of the plot machinery: an exception in the slider callback
    (raised by the student's step function, or by the plot helper's own draw) reaches
    the student (below the controls and in the title) and the browser check fails with
    its message."""
    code, error, frame = BROKEN[what]
    folder = ROOT / "build" / f"e2e-tmp-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    try:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                           "language": "python"}
        nbformat.write(notebook, folder / "broken.ipynb")
        nb = NotebookPage(page, lab, (folder / "broken.ipynb").relative_to(ROOT).as_posix()).open()
        nb.run_all()
        assert not nb.error_outputs(), nb.error_outputs()
        (plot,) = nb.plots()
        shots = SCREENSHOTS / f"broken-update-{what}"
        remove_tree(shots)
        with pytest.raises(AssertionError) as failure:
            move_slider_and_check(page, plot, shots=shots)
        message = str(failure.value)
        assert "moving slider 'lr'" in message, message
        assert error in message, message
        assert "Traceback" in message and frame in message, message
        # the student sees it too, below the controls, and it stays there once the figure settled
        plot.settle()
        shown = plot.error_text()
        assert error in shown, \
            f"the callback's error is not shown below the controls once the figure settled: {shown!r}"
        print(f"broken update ({what}) reported as:\n{message}")
    finally:
        remove_tree(folder)


WIDE = '''%matplotlib widget
import matplotlib.pyplot as plt
fig = plt.figure(figsize=(14, 3))   # 1400 pixels: wider than any notebook column at 1280
plt.plot([0, 1], [0, 1])
plt.show()
'''


def test_the_width_check_sees_an_output_wider_than_its_cell(lab, page):
    """The check the solution notebooks pass (no output wider than its cell with the file
    browser open) fails where it should: on a 14-inch interactive figure."""
    folder = ROOT / "build" / f"e2e-tmp-{secrets.token_hex(4)}"
    folder.mkdir(parents=True)
    try:
        notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print('narrow')"),
                                                   nbformat.v4.new_code_cell(WIDE)])
        notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                           "language": "python"}
        nbformat.write(notebook, folder / "wide.ipynb")
        nb = NotebookPage(page, lab, (folder / "wide.ipynb").relative_to(ROOT).as_posix()).open()
        nb.run_all()
        page.wait_for_selector(".jp-OutputArea canvas", timeout=120_000)
        nb.open_file_browser()
        wide = nb.overflowing()
        assert [cell for cell, _, _ in wide] == [1], wide
    finally:
        remove_tree(folder)
