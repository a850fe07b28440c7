"""The interactive explorer updates its figure in place, shows errors, and leaves a PNG."""
import numpy as np
import pytest

import descentlab as dl
from descentlab.plots import Path, explore, page_value, paths_figure


def sgd(x, g, lr):
    return x - lr * g


def momentum(x, g, v, lr, beta):
    v = beta * v + g
    return x - lr * v, v


def todo(x, g, v, lr, beta):
    raise NotImplementedError()


def make(**kw):
    return explore(dl.ravine(50), [Path("SGD", sgd, ["lr"]), Path("momentum", momentum, ["lr", "beta"])],
                   sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)}, steps=50,
                   x0=(-1.8, 1.5), **kw)


def test_moving_a_slider_updates_the_same_artists():
    ex = make()
    line = ex._lines["momentum"]
    before = np.array(line.get_xydata())
    figure = ex.figure
    ex.sliders["beta"].value = 0.5       # as the widget does when a student drags it
    after = np.array(line.get_xydata())
    assert ex.figure is figure and ex._lines["momentum"] is line
    assert not np.allclose(before, after)
    assert "beta=0.5" in ex.figure._suptitle.get_text()
    np.testing.assert_allclose(after, ex.trajectories["momentum"].xs)


def test_steps_and_start_sliders_drive_the_run():
    ex = make()
    ex.set(steps=20, **{"start 0": 1.0, "start 1": -1.0})
    assert ex.trajectories["SGD"].xs.shape == (21, 2)
    np.testing.assert_allclose(ex.trajectories["SGD"].xs[0], [1.0, -1.0])


def test_preset_button_sets_sliders():
    ex = make(presets={"optimal": lambda land: dict(lr=land.best_momentum[0], beta=land.best_momentum[1])})
    ex.buttons[0].click()
    lr, beta, _ = dl.ravine(50).best_momentum
    assert ex.sliders["beta"].value == pytest.approx(beta, abs=0.01)
    assert ex.sliders["lr"].value == pytest.approx(lr, rel=0.03)


def test_unimplemented_optimizer_is_labelled_not_hidden():
    ex = explore(dl.ravine(50), [Path("SGD", sgd, ["lr"]), Path("momentum", todo, ["lr", "beta"])],
                 sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)})
    labels = [t.get_text() for t in ex.ax_loss.get_legend().get_texts()]
    assert any("momentum: not implemented yet" in t for t in labels)
    assert "SGD" in ex.trajectories and "momentum" not in ex.trajectories


def test_error_in_an_update_is_shown_and_raised():
    calls = {"n": 0}

    def flaky(x, g, lr):
        calls["n"] += 1
        if calls["n"] > 5:
            raise ValueError("student bug")
        return x - lr * g

    ex = explore(dl.ravine(50), [Path("SGD", flaky, ["lr"])], sliders={"lr": ("log", 1e-3, 0.1, 0.02)}, steps=5)
    with pytest.raises(ValueError, match="student bug"):
        ex.sliders["lr"].value = 0.05
    assert "student bug" in ex.figure._suptitle.get_text()
    assert any("student bug" in o.get("text", "") for o in ex.errors.outputs)


def test_a_slider_can_change_the_landscape():
    ex = explore(lambda v: dl.ravine(20, angle=v["angle"]), [Path("SGD", sgd, ["lr"])],
                 sliders={"lr": ("log", 1e-3, 0.1, 0.02), "angle": (0.0, 90.0, 0.0)}, x0=(1.0, 1.0))
    ex.sliders["angle"].value = 45.0
    assert "angle=45" in ex._background_key


def test_display_bundle_holds_a_png():
    ex = make()
    bundle = ex.canvas._repr_mimebundle_()
    assert "image/png" in bundle and len(bundle["image/png"]) > 1000


def test_diverging_run_is_drawn_and_labelled():
    ex = make()
    ex.set(lr=0.1, beta=0.99)
    labels = [t.get_text() for t in ex.ax_loss.get_legend().get_texts()]
    assert any("diverg" in t for t in labels), labels


def test_static_figure_keeps_runs_of_one_optimizer_apart():
    land = dl.ravine(25)
    fig = paths_figure(land, {"SGD lr=0.01": dl.run(sgd, land, [1, 1], 10, lr=0.01),
                              "SGD lr=0.07": dl.run(sgd, land, [1, 1], 10, lr=0.07)})
    a, b = fig.axes[0].lines[-4], fig.axes[0].lines[-2]
    assert a.get_color() == b.get_color() and a.get_linestyle() != b.get_linestyle()


def test_a_checkbox_can_switch_a_setting():
    import ipywidgets as W

    def maybe_fast(x, g, lr, fast):
        return x - (10 * lr if fast else lr) * g

    ex = explore(dl.ravine(20), [Path("SGD", maybe_fast, ["lr", "fast"])],
                 sliders={"lr": ("log", 1e-4, 0.01, 0.001), "fast": W.Checkbox(value=False, description="fast")},
                 steps=5, x0=(1.0, 1.0))
    slow = ex.trajectories["SGD"].final.copy()
    ex.sliders["fast"].value = True
    assert "fast=True" in ex.figure._suptitle.get_text()
    assert not np.allclose(slow, ex.trajectories["SGD"].final)


# ---------------------------------------------------------------------------------------
# A click on the landscape sets the start (matplotlib's own event path: pixel -> inaxes -> data)
# ---------------------------------------------------------------------------------------
def click_at(ex, ax, x, y, button=1):
    """A real mouse press at the pixel of data point (x, y) of ``ax``, processed by the canvas."""
    from matplotlib.backend_bases import MouseEvent
    ex.canvas.draw()  # the layout the page shows: where the axes are
    px, py = ax.transData.transform((x, y))
    MouseEvent("button_press_event", ex.canvas, px, py, button=button)._process()


def frames(ex):
    return ex.frames["blit"] + ex.frames["full"]


def test_a_click_on_the_landscape_starts_the_paths_there_in_one_update():
    ex = make()
    line = ex._lines["SGD"]
    n = frames(ex)
    click_at(ex, ex.ax_path, 0.5, -0.7)
    assert frames(ex) == n + 1
    for key, value in (("start 0", 0.5), ("start 1", -0.7)):   # the point, on the sliders' grid
        slider = ex.sliders[key]
        assert slider.value == page_value(slider, value) == pytest.approx(value, abs=1e-9)
    for label in ("SGD", "momentum"):
        np.testing.assert_allclose(ex.trajectories[label].xs[0], [0.5, -0.7], atol=1e-9)
    assert ex._lines["SGD"] is line
    np.testing.assert_allclose(line.get_xydata(), ex.trajectories["SGD"].xs)
    np.testing.assert_allclose(ex._start.get_xydata(), [[0.5, -0.7]], atol=1e-9)
    assert "start=(0.5, -0.7)" in ex.title_artist.get_text()


def test_clicks_off_the_landscape_or_with_another_button_do_nothing():
    ex = make()
    before, n = ex.values, frames(ex)
    click_at(ex, ex.ax_loss, 10, 1e-3)          # on the loss panel
    click_at(ex, ex.ax_path, 0.5, -0.7, button=3)  # right button
    from matplotlib.backend_bases import MouseEvent
    MouseEvent("button_press_event", ex.canvas, 1, 1, button=1)._process()  # the figure's corner, no axes
    assert ex.values == before and frames(ex) == n


def test_a_click_is_clipped_to_the_start_sliders():
    from types import SimpleNamespace
    ex = make()
    lo, hi = ex.sliders["start 0"].min, ex.sliders["start 1"].max
    assert ex.on_click(SimpleNamespace(inaxes=ex.ax_path, button=1, xdata=lo - 1.0, ydata=hi + 1.0))
    assert (ex.sliders["start 0"].value, ex.sliders["start 1"].value) == (lo, hi)
    np.testing.assert_allclose(ex.trajectories["SGD"].xs[0], [lo, hi])


def test_a_click_on_a_curve_sets_its_start():
    ex = explore(dl.double_well(tilt=0.25), [Path("SGD", sgd, ["lr"])], sliders={"lr": ("log", 1e-3, 0.5, 0.1)},
                 steps=20, x0=1.8)
    click_at(ex, ex.ax_path, -0.6, 1.0)
    assert list(ex.sliders) == ["lr", "steps", "start 0"]
    assert ex.sliders["start 0"].value == pytest.approx(-0.6, abs=1e-9)
    assert ex.trajectories["SGD"].xs[0, 0] == pytest.approx(-0.6, abs=1e-9)
    assert "start=-0.6" in ex.title_artist.get_text()


def test_the_click_point_is_on_the_landscape_and_moves_the_start():
    from matplotlib.backend_bases import MouseEvent
    ex = make()
    ex.canvas.draw()
    fx, fy = ex.click_points()["start"]
    assert 0 < fx < 1 and 0 < fy < 1
    width, height = ex.canvas.get_width_height(physical=True)
    start = (ex.sliders["start 0"].value, ex.sliders["start 1"].value)
    MouseEvent("button_press_event", ex.canvas, fx * width, (1 - fy) * height, button=1)._process()
    moved = (ex.sliders["start 0"].value, ex.sliders["start 1"].value)
    assert np.all(np.abs(np.subtract(moved, start)) > 0.5), (start, moved)
    np.testing.assert_allclose(ex.trajectories["SGD"].xs[0], moved)


def test_page_value_is_the_value_the_page_sends_back():
    from types import SimpleNamespace
    # (min, max, step, value set from the kernel) -> what chromium's page sent back (ipywidgets 8.1,
    # noUiSlider 15), seen in a probe of the start sliders: an explorer on the ravine, a batch explorer
    seen = [((-2.0, 2.0, 0.02, 0.8), 0.7999999999999998), ((-2.0, 2.0, 0.02, -0.8), -0.8),
            ((-2.0, 2.0, 0.02, -1.8), -1.8),
            ((-0.345, 0.645, 0.0049499999999999995, 0.0), 0.0014999999999999458),
            ((-0.445, 0.5449999999999999, 0.0049499999999999995, 0.0), 0.0004999999999998894)]
    for (lo, hi, step, value), sent_back in seen:
        slider = SimpleNamespace(min=lo, max=hi, step=step)
        assert page_value(slider, value) == sent_back
        assert page_value(slider, sent_back) == sent_back    # and the page keeps that one as it is
    slider = SimpleNamespace(min=-2.0, max=2.0, step=0.02)
    assert page_value(slider, -5.0) == -2.0 and page_value(slider, 7.0) == 2.0


def test_a_log_slider_holds_its_value_on_its_grid():
    """The page snaps a slider's value to its grid and sends it back; a log slider's grid
    is laid through its value, within half a step of the range asked for."""
    from descentlab.live import LOG_STEP, make_slider
    for lo, hi, value in ((1e-3, 0.1, 0.02), (1e-3, 1.0, 0.05), (1e-4, 0.1, 0.01995)):
        w = make_slider("lr", ("log", lo, hi, value))
        k = (np.log10(value) - w.min) / w.step
        assert w.value == value and abs(k - round(k)) < 1e-9
        assert abs(w.min - np.log10(lo)) <= LOG_STEP / 2 + 1e-12 and abs(w.max - np.log10(hi)) <= LOG_STEP / 2 + 1e-12


def test_a_value_back_from_the_page_changed_in_its_last_bits_redraws_nothing():
    ex = make()
    n = ex.frames["blit"] + ex.frames["full"]
    ex.sliders["lr"].value = np.nextafter(ex.sliders["lr"].value, 1.0)   # as the page's pow may round it
    assert ex.frames["blit"] + ex.frames["full"] == n
    ex.sliders["lr"].value = 0.021                                        # a real move
    assert ex.frames["blit"] + ex.frames["full"] == n + 1
