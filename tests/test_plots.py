"""The interactive explorer updates its figure in place, shows errors, and leaves a PNG."""
import numpy as np
import pytest

import descentlab as dl
from descentlab.plots import Path, explore, paths_figure


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
