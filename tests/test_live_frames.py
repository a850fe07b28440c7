"""The frames of the interactive plots, as the page gets them.

A slider move redraws only the foreground (lines, legends, title) over a kept
background and sends the frame (toolkit/descentlab/live.py). These tests
attach a stand-in for the page, move sliders, and compare every frame with a full
render of the same state, pixel for pixel: a stale line, a missing legend or title, or a
background kept past a change of axis limits shows up as differing pixels.

The one place where the two may differ is the axes frame: a full render draws the
spines over the lines, a blitted frame draws the lines over the spines. Pixels within
two of the frame are left out of the comparison.
"""
import base64
import contextlib
import io

import numpy as np
import pytest

from descentlab.batch_problems import make_regression
from tests import test_batch_size_toolkit as batch
from tests import test_digits as digits_grid
from tests import test_momentum_rates as rate_maps
from tests import test_plots as paths
from tests import test_schedules_toolkit as schedules


def paths_explorer():
    return paths.make()


def schedules_explorer():
    return schedules.make()


def batch_explorer():
    return batch.make(make_regression(n=300, d=3, noise=0.3, corr=0.5, seed=4))


def momentum_explorer():
    return rate_maps.make_explorer(steps=100)


# (build, slider moved, its values: small steps, as from the keyboard)
EXPLORERS = {
    "paths": (paths_explorer, "beta", [0.9 - 0.01 * k for k in range(1, 13)]),
    "schedules": (schedules_explorer, "gamma", [0.3 + 0.005 * k for k in range(1, 13)]),
    "batch": (batch_explorer, "lr", [0.05 * 1.02 ** k for k in range(1, 13)]),
    "grid": (digits_grid.make, "wd", [1, 2, 1, 0, 1, 2, 1, 0, 1, 2, 1, 0]),
    # through every regime of the maps: ringing, damped, unstable
    "momentum map": (momentum_explorer, "beta", [0.9 - 0.08 * k for k in range(1, 13)]),
}


def attach_page(ex):
    """What ipympl's page does once the canvas is shown: frames go out as PNG data (no
    more data URL), and a request for a full render (draw_idle) is answered at once."""
    canvas = ex.canvas
    canvas.syncing_data_url = False
    canvas.draw_idle = canvas.draw
    sent = []
    canvas.send_binary = sent.append
    canvas.draw()
    return sent


def shown(ex):
    """The pixels the page holds after the last frame (ipympl's last buffer)."""
    buff = ex.canvas._last_buff
    return buff.view(np.uint8).reshape(*buff.shape, 4).copy()


@contextlib.contextmanager
def layout_kept(figure):
    """Constrained layout is a fixed-point iteration: each full render moves the axes by a
    pixel or two more. Compare pictures at the same positions: no layout pass."""
    engine = figure.get_layout_engine()
    figure.set_layout_engine("none")
    try:
        yield
    finally:
        figure.set_layout_engine(engine)


def full_render(ex):
    buf = io.BytesIO()
    with layout_kept(ex.figure):
        ex.figure.savefig(buf, format="rgba", dpi="figure")
    w, h = ex.canvas.get_width_height(physical=True)
    return np.frombuffer(buf.getvalue(), np.uint8).reshape(h, w, 4)


def png_pixels(data):
    import PIL.Image
    return np.asarray(PIL.Image.open(io.BytesIO(data)).convert("RGBA"))


def off_frame(ex, width=2):
    """Pixels farther than ``width`` from every axes frame."""
    h = int(ex.figure.bbox.height)
    w = int(ex.figure.bbox.width)
    near = np.zeros((h, w), bool)
    rows, cols = np.mgrid[0:h, 0:w]
    for ax in ex.figure.axes:
        x0, y0, x1, y1 = ax.bbox.extents
        top, bottom = h - y1, h - y0  # the buffer's rows go down
        inside = (cols >= x0 - width) & (cols <= x1 + width) & (rows >= top - width) & (rows <= bottom + width)
        well_inside = (cols > x0 + width) & (cols < x1 - width) & (rows > top + width) & (rows < bottom - width)
        near |= inside & ~well_inside
    return ~near


def assert_same_picture(a, b, mask, what):
    differ = (a != b).any(axis=2) & mask
    if differ.any():
        rows, cols = np.nonzero(differ)
        raise AssertionError(f"{what}: {differ.sum()} pixels differ from a full render "
                             f"(rows {rows.min()}-{rows.max()}, columns {cols.min()}-{cols.max()})")


@pytest.mark.parametrize("kind", EXPLORERS)
def test_each_frame_is_what_a_full_render_shows(kind):
    build, slider, values = EXPLORERS[kind]
    ex = build()
    sent = attach_page(ex)
    before = dict(ex.frames)
    for v in values:
        n = len(sent)
        ex.sliders[slider].value = v
        assert len(sent) == n + 1, f"{slider}={v}: one frame goes out per move"
        assert sent[-1].startswith(b"\x89PNG")
        assert_same_picture(shown(ex), full_render(ex), off_frame(ex), f"{kind}, {slider}={v:.4g}")
    blits = ex.frames["blit"] - before["blit"]
    # the point of the machinery: most small moves leave the axes alone and are blitted
    assert blits >= len(values) // 2, f"{kind}: only {blits} of {len(values)} moves were blitted: {ex.frames}"


@pytest.mark.parametrize("kind", EXPLORERS)
def test_every_frame_sent_is_the_whole_picture(kind):
    """ipympl's page drops a frame that the next one overtakes while it loads; a dropped
    diff would leave the canvas wrong, a dropped whole picture is only a skipped frame."""
    build, slider, values = EXPLORERS[kind]
    ex = build()
    sent = attach_page(ex)
    for v in values[:4]:
        ex.sliders[slider].value = v
        assert ex.canvas._current_image_mode == "full"
        np.testing.assert_array_equal(png_pixels(sent[-1]), shown(ex))
    assert ex.frames["blit"] >= 2


def test_new_axis_limits_give_a_full_render():
    ex = paths_explorer()
    attach_page(ex)
    full = ex.frames["full"]
    ex.sliders["steps"].value = 20  # the loss axis now ends at step 20
    assert ex.frames["full"] == full + 1
    assert ex.ax_loss.get_xlim() == (0, 20)
    assert_same_picture(shown(ex), full_render(ex), off_frame(ex), "steps=20")


def test_a_new_landscape_gives_a_full_render():
    import descentlab as dl
    from descentlab.plots import Path, explore
    ex = explore(lambda v: dl.ravine(v["kappa"]), [Path("SGD", paths.sgd, ["lr"])],
                 sliders={"lr": ("log", 1e-3, 0.1, 0.02), "kappa": ("int", 2, 100, 50)}, steps=50)
    attach_page(ex)
    full = ex.frames["full"]
    ex.sliders["kappa"].value = 10
    assert ex.frames["full"] == full + 1
    assert_same_picture(shown(ex), full_render(ex), off_frame(ex), "kappa=10")


@pytest.mark.parametrize("kind", EXPLORERS)
def test_the_picture_kept_in_the_outputs_shows_everything(kind):
    """A headless run keeps the PNG of the canvas's display bundle: lines, legend and
    title included, although they are animated artists."""
    build, slider, values = EXPLORERS[kind]
    ex = build()
    attach_page(ex)
    ex.sliders[slider].value = values[0]
    with layout_kept(ex.figure):
        kept = png_pixels(base64.b64decode(ex.canvas._repr_mimebundle_()["image/png"]))
    assert_same_picture(kept, shown(ex), off_frame(ex), f"{kind}: the PNG of the outputs")


def test_an_error_reaches_the_page():
    ex = paths.explore(paths.dl.ravine(50), [paths.Path("SGD", paths.sgd, ["lr"])],
                       sliders={"lr": ("log", 1e-3, 0.1, 0.02)}, steps=50)
    sent = attach_page(ex)
    red = np.array([0xD5, 0x5E, 0x00])
    assert not (shown(ex)[..., :3] == red).all(axis=2).any()

    def broken(x, g, lr):
        raise ValueError("student bug")
    ex.paths[0].step = broken
    n = len(sent)
    with pytest.raises(ValueError, match="student bug"):
        ex.sliders["lr"].value = 0.03
    assert len(sent) == n + 1 and "student bug" in ex.title_artist.get_text()
    assert (shown(ex)[..., :3] == red).all(axis=2).sum() > 20, "the red 'update failed' title is on the page"


def layout_runs(ex):
    """The times the explorer's constrained layout runs from now on (a list that grows)."""
    engine, runs = ex._layout, []
    execute = engine.execute

    def counted(fig):
        runs.append(1)
        return execute(fig)
    engine.execute = counted
    return runs


def assert_labels_in_place(ex):
    """Every axis's tick labels and label, and every axes title, inside the figure and
    clear of the other axes."""
    figure = ex.figure.bbox
    for axis, box in ex._label_boxes().items():  # an Axis, or an axes title
        assert figure.x0 - 1 <= box.x0 and box.x1 <= figure.x1 + 1
        assert figure.y0 - 1 <= box.y0 and box.y1 <= figure.y1 + 1
        for ax in ex.figure.axes:
            if ax is not axis.axes:
                assert not box.overlaps(ax.bbox), f"the labels of {axis} run into another axes"


def test_a_full_render_keeps_the_layout_while_the_tick_labels_fit():
    """Constrained layout is half of a full render: new axis limits whose tick labels take
    no more room than before reuse the layout; labels that need more room run it again."""
    ex = paths_explorer()
    attach_page(ex)
    runs, full = layout_runs(ex), ex.frames["full"]
    ex.sliders["steps"].value = 40  # x ticks 0-40 instead of 0-50: no wider
    assert ex.frames["full"] == full + 1 and runs == []
    assert_same_picture(shown(ex), full_render(ex), off_frame(ex), "steps=40")
    ex.sliders["steps"].value = 300  # "300" at the end of the axis is wider than "50"
    assert ex.frames["full"] == full + 2 and len(runs) == 1
    assert_same_picture(shown(ex), full_render(ex), off_frame(ex), "steps=300")
    assert_labels_in_place(ex)
    ex.sliders["steps"].value = 200  # within the room of 300 again
    assert len(runs) == 1
    assert_labels_in_place(ex)


def test_a_full_render_is_made_in_the_kernel_once_the_page_is_there():
    """No round trip through the page (draw_idle, then the page asks for a draw): the
    frame goes out in the same callback. Before the page is there (a headless run) the
    display makes the picture, so nothing is rendered for nobody."""
    ex = paths_explorer()
    asked = []
    ex.canvas.draw_idle = lambda: asked.append(1)
    ex.sliders["steps"].value = 40
    assert asked, "headless: left to the display"
    sent = attach_page(ex)
    ex.canvas.draw_idle = lambda: asked.append(1)
    n, k = len(sent), len(asked)
    ex.sliders["steps"].value = 30
    assert len(asked) == k and len(sent) == n + 1
    assert_same_picture(shown(ex), full_render(ex), off_frame(ex), "steps=30")


@pytest.mark.parametrize("kind", ["paths", "batch", "grid", "momentum map"])
def test_a_click_gives_one_right_frame(kind):
    """A click at the figure's own click point (as the page sends it) moves the figure:
    one frame, the same as a full render."""
    build, _slider, _values = EXPLORERS[kind]
    ex = build()
    sent = attach_page(ex)
    points = ex.click_points()
    assert points
    w, h = ex.canvas.get_width_height()
    for fx, fy in points.values():
        before, n = shown(ex), len(sent)
        for kind_, buttons in (("button_press", 1), ("button_release", 0)):
            ex.canvas.manager.handle_json({"type": kind_, "x": fx * w, "y": fy * h, "button": 0,
                                           "buttons": buttons, "modifiers": [], "guiEvent": {}})
        assert len(sent) == n + 1
        assert (shown(ex) != before).any(), "the click changed the picture"
        assert_same_picture(shown(ex), full_render(ex), off_frame(ex), f"{kind}: click at ({fx:.2f}, {fy:.2f})")
