"""The batch-size notebook's toolkit: the regression problem with a known answer (every
closed-form fact the notebook quotes), the recording runner, the static figure and the
interactive explorer; and the grader's notes when a graded function fails because of a
helper it calls."""
import itertools
import math

import numpy as np
import pytest
import torch

from descentlab.batch_plot import (
    BatchExplorer,
    _window,
    batch_size_options,
    explore_batch,
    fastest_timing,
    log_ticks,
    record_run,
    runs_figure,
)
from descentlab.batch_problems import Regression, make_regression
from descentlab.plots import page_value


# ---------------------------------------------------------------------------------------
# Correct implementations of the notebook's functions, written for these tests
# ---------------------------------------------------------------------------------------
def minibatch_indices(n, batch_size, rng, drop_last=False):
    order = rng.permutation(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return batches[:-1] if drop_last and len(batches[-1]) < batch_size else batches


def mse_gradient(w, X, y):
    return 2 * X.T @ (X @ w - y) / len(y)


def train(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    for _ in range(epochs):
        for idx in minibatch_indices(len(y), batch_size, rng):
            w = w - lr * mse_gradient(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)


def todo(*args, **kwargs):
    raise NotImplementedError()


@pytest.fixture(scope="module")
def data():
    return make_regression()


@pytest.fixture(scope="module")
def small():
    return make_regression(n=300, d=3, noise=0.3, corr=0.5, seed=4)


# ---------------------------------------------------------------------------------------
# The problem: a known answer, exactly
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("n, d, corr, seed", [(4000, 8, 0.8, 0), (500, 2, -0.6, 1), (50, 5, 0.0, 2), (30, 1, 0.9, 3)])
def test_the_sample_has_the_covariance_and_the_answer_asked_for(n, d, corr, seed):
    scales = np.linspace(0.5, 2.0, d)
    p = make_regression(n=n, d=d, noise=0.7, corr=corr, scales=scales, seed=seed)
    C = np.eye(d)
    if d >= 2:
        C[0, 1] = C[1, 0] = corr
    C *= np.outer(scales, scales)
    np.testing.assert_allclose(p.X.T @ p.X / n, C, atol=1e-12)
    e = p.y - p.X @ p.w_true
    np.testing.assert_allclose(p.X.T @ e, 0, atol=1e-9)          # noise uncorrelated with the features
    np.testing.assert_allclose(p.w_star, p.w_true, atol=1e-10)    # so least squares recovers w_true
    assert p.loss_min == pytest.approx(0.49, abs=1e-12)           # and the best loss is noise^2
    assert p.X.shape == (n, d) and p.y.shape == (n,)


def test_same_seed_same_data_other_seed_other_data():
    a, b, c = make_regression(seed=3), make_regression(seed=3), make_regression(seed=4)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.allclose(a.X, c.X)


def test_more_rows_than_weights_required():
    with pytest.raises(ValueError, match="more rows"):
        make_regression(n=5, d=5)


def test_curvature_and_stability_limit(data):
    # features 0 and 1 correlated 0.8, the rest independent: Hessian eigenvalues 2(1 -+ 0.8) and 2
    assert data.L == pytest.approx(3.6) and data.mu == pytest.approx(0.4)
    assert data.max_stable_lr == pytest.approx(2 / 3.6)


def test_loss_accepts_stacks_and_the_slice_is_the_loss(data):
    rng = np.random.default_rng(0)
    W = rng.normal(size=(4, 3, data.d))
    np.testing.assert_allclose(data.loss(W), [[data.loss(w) for w in row] for row in W], rtol=1e-12)
    a, b = rng.normal(size=5), rng.normal(size=5)
    for i, j in [(0, 1), (2, 5)]:
        expected = []
        for u, v in zip(a, b, strict=True):
            w = data.w_star.copy()
            w[i], w[j] = u, v
            expected.append(data.loss(w))
        np.testing.assert_allclose(data.slice_loss(a, b, (i, j)), expected, rtol=1e-10)
    assert data.excess(data.w_star) == pytest.approx(0, abs=1e-12)


def test_per_example_gradients_against_autograd(small):
    w = np.array([0.3, -1.0, 2.0])
    G = small.per_example_gradients(w)
    for i in (0, 7, 299):
        wt = torch.tensor(w, requires_grad=True)
        ((torch.tensor(small.X[i]) @ wt - small.y[i]) ** 2).backward()
        np.testing.assert_allclose(G[i], wt.grad.numpy(), rtol=1e-12)
    wt = torch.tensor(w, requires_grad=True)
    torch.nn.functional.mse_loss(torch.tensor(small.X) @ wt, torch.tensor(small.y)).backward()
    np.testing.assert_allclose(G.mean(axis=0), wt.grad.numpy(), rtol=1e-12)
    assert small.gradient_variance(w) == pytest.approx(np.mean(np.sum((G - G.mean(0)) ** 2, axis=1)))


def test_predicted_noise_is_the_exact_expectation_over_all_batches():
    p = make_regression(n=7, d=2, noise=0.4, seed=5)
    w = np.array([0.5, -0.5])
    g = mse_gradient(w, p.X, p.y)
    for B in range(1, 8):
        errs = [np.sum((mse_gradient(w, p.X[list(S)], p.y[list(S)]) - g) ** 2)
                for S in itertools.combinations(range(7), B)]
        assert np.mean(errs) == pytest.approx(p.predicted_noise(w, B), rel=1e-10, abs=1e-14)
    assert p.predicted_noise(w, 7) == pytest.approx(0, abs=1e-14)


def test_floor_predictions(data):
    small_lr = data.predicted_floor(1e-4, 8)
    assert data.predicted_floor(1e-4, 8, small_lr=False) == pytest.approx(small_lr, rel=1e-3)
    assert small_lr == pytest.approx(1e-4 * data.gradient_variance(data.w_star) / 32 * (4000 - 8) / 3999)
    # the refined floor grows as lr nears 2 / L, and is infinite past it
    lrs = [0.1, 0.3, 0.5]
    refined = [data.predicted_floor(lr, 8, small_lr=False) / data.predicted_floor(lr, 8) for lr in lrs]
    assert refined[0] < refined[1] < refined[2]
    assert data.predicted_floor(0.6, 8, small_lr=False) == np.inf


def independent_batches(n, batch_size, rng, drop_last=False):
    """Batches drawn independently of each other (each without replacement): the noise
    model of predicted_floor."""
    return [rng.choice(n, batch_size, replace=False) for _ in range(n // batch_size)]


def test_the_floor_prediction_matches_a_simulation(small):
    B, lr = 4, 0.02
    run = record_run(small, train, B, lr, 60, np.random.default_rng(0), w0=small.w_star, batches=independent_batches)
    measured = np.mean(run.losses[len(run.losses) // 10:] - small.loss_min)
    assert measured == pytest.approx(small.predicted_floor(lr, B, small_lr=False), rel=0.2)


def test_reshuffling_lowers_the_floor_when_an_epoch_is_short():
    """Within an epoch the batch errors of a shuffled pass sum to zero (at fixed w): when
    the weights remember a good part of an epoch, the floor ends below the prediction."""
    p = make_regression(n=300, d=3, noise=0.3, corr=0.5, seed=4)
    runs = {fn.__name__: record_run(p, train, 4, 0.02, 60, np.random.default_rng(1), w0=p.w_star, batches=fn)
            for fn in (independent_batches, minibatch_indices)}
    floor = {k: np.mean(r.losses[len(r.losses) // 10:] - p.loss_min) for k, r in runs.items()}
    assert floor["minibatch_indices"] < 0.75 * floor["independent_batches"]


# ---------------------------------------------------------------------------------------
# The recording runner
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("B, lr, epochs", [(1, 0.01, 2), (7, 0.05, 3), (64, 0.1, 2), (300, 0.2, 4)])
def test_record_run_trains_exactly_like_train_minibatch_sgd(small, B, lr, epochs):
    w0 = np.array([1.0, -1.0, 0.5])
    run = record_run(small, train, B, lr, epochs, np.random.default_rng(9), w0=w0)
    w, losses = train(small.X, small.y, B, lr, epochs, np.random.default_rng(9), w0=w0)
    np.testing.assert_allclose(run.final, w, rtol=1e-12)
    np.testing.assert_allclose(run.epoch_losses, losses, rtol=1e-12)
    per_epoch = math.ceil(small.n / B)
    assert run.path.shape == (epochs * per_epoch + 1, small.d)
    np.testing.assert_allclose(run.path[0], w0)
    assert run.updates[-1] == epochs * per_epoch and run.examples[-1] == epochs * small.n
    assert np.all(np.diff(run.examples) > 0) and np.all(np.diff(run.seconds) >= 0)
    np.testing.assert_allclose(run.losses, small.loss(run.path[run.updates]), rtol=1e-12)
    ends = np.isin(run.examples, np.arange(1, epochs + 1) * small.n)
    np.testing.assert_allclose(run.losses[ends], run.epoch_losses)


def test_record_run_thins_the_loss_records_not_the_path(small):
    run = record_run(small, train, 1, 0.001, 1, np.random.default_rng(0), records_per_epoch=30)
    assert len(run.path) == small.n + 1
    assert 30 <= len(run.losses) - 1 <= 31


def test_record_run_watches_the_reference_train_minibatch_sgd(small):
    from grader import reference
    from grader.reference import batch_size as module
    before = (module.mse_gradient, module.minibatch_indices)
    run = record_run(small, reference.train_minibatch_sgd, 16, 0.05, 3, np.random.default_rng(2))
    w, losses = reference.train_minibatch_sgd(small.X, small.y, 16, 0.05, 3, np.random.default_rng(2))
    np.testing.assert_allclose(run.final, w, rtol=1e-12)
    np.testing.assert_allclose(run.epoch_losses, losses, rtol=1e-12)
    assert (module.mse_gradient, module.minibatch_indices) == before     # the names are restored


def test_record_run_follows_a_loop_that_updates_in_place(small):
    def in_place(X, y, batch_size, lr, epochs, rng, w0=None):
        w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
        losses = []
        for _ in range(epochs):
            for idx in minibatch_indices(len(y), batch_size, rng):
                w -= lr * mse_gradient(w, X[idx], y[idx])
            losses.append(np.mean((X @ w - y) ** 2))
        return w, np.array(losses)

    a = record_run(small, in_place, 8, 0.05, 2, np.random.default_rng(0))
    b = record_run(small, train, 8, 0.05, 2, np.random.default_rng(0))
    np.testing.assert_allclose(a.path, b.path, rtol=1e-12)


def test_record_run_needs_the_function_to_call_mse_gradient(small):
    def no_gradient(X, y, batch_size, lr, epochs, rng, w0=None):
        return np.zeros(X.shape[1]), np.zeros(epochs)

    with pytest.raises(RuntimeError, match="must call it once per batch"):
        record_run(small, no_gradient, 8, 0.05, 2, np.random.default_rng(0))


def test_record_run_restores_the_names_when_the_run_fails(small):
    def broken(X, y, batch_size, lr, epochs, rng, w0=None):
        mse_gradient(np.zeros(X.shape[1]), X[:2], y[:2])
        raise ValueError("student bug")

    with pytest.raises(ValueError, match="student bug"):
        record_run(small, broken, 8, 0.05, 2, np.random.default_rng(0), batches=independent_batches)
    assert globals()["mse_gradient"].__name__ == "mse_gradient"
    assert globals()["minibatch_indices"].__name__ == "minibatch_indices"


def test_the_toolkit_has_no_training_loop_of_its_own():
    import inspect
    import re

    import descentlab.batch_plot as module
    source = inspect.getsource(module)
    assert not re.search(r"-=?\s*lr\s*\*", source), "batch_plot must run the student's train_minibatch_sgd"


def test_first_and_diverged(small):
    run = record_run(small, train, 16, 0.05, 3, np.random.default_rng(0))
    target = small.loss_min + 0.1
    k = run.first("examples", target)
    assert k is not None and small.loss(run.path[run.updates[run.examples == k][0]]) < target
    assert run.first("updates", small.loss_min - 1) is None
    assert not run.diverged
    too_big = 1.05 * small.max_stable_lr
    blown = record_run(small, train, small.n, too_big, 300, np.random.default_rng(0))
    assert blown.diverged


def test_a_run_that_blows_up_stops_early(small):
    run = record_run(small, train, 4, 50.0, 5, np.random.default_rng(0))
    assert run.diverged and len(run.epoch_losses) == 1


def test_first_gives_plain_numbers_and_time_is_processor_time(small):
    run = record_run(small, train, 8, 0.05, 2, np.random.default_rng(0))
    target = small.loss_min + 0.1
    assert type(run.first("examples", target)) is int and type(run.first("seconds", target)) is float
    assert np.all(np.diff(run.seconds) >= 0) and run.seconds[0] == 0.0
    again = record_run(small, train, 8, 0.05, 2, np.random.default_rng(0))
    best = fastest_timing([run, again])
    np.testing.assert_array_equal(best.losses, run.losses)
    assert np.all(best.seconds <= np.maximum(run.seconds, again.seconds) + 1e-12)
    other = record_run(small, train, 8, 0.05, 2, np.random.default_rng(1))
    with pytest.raises(ValueError, match="same computation"):
        fastest_timing([run, other])


def test_batch_size_options():
    assert batch_size_options(4000) == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4000]
    assert batch_size_options(64) == [1, 2, 4, 8, 16, 32, 64]


# ---------------------------------------------------------------------------------------
# The static figure
# ---------------------------------------------------------------------------------------
def test_runs_figure_draws_every_run_in_every_panel(small):
    runs = {f"B = {B}": record_run(small, train, B, 0.01 * B, 2, np.random.default_rng(0))
            for B in (2, 8)}
    fig = runs_figure(small, runs)
    path, ex, up = fig.axes[:3]
    assert len(ex.lines) == len(up.lines) == 2
    np.testing.assert_allclose(path.lines[-3].get_xdata(), runs["B = 2"].path[:, 0])
    assert "B = 2: " in ex.get_legend().get_texts()[0].get_text()
    fig2 = runs_figure(small, runs, panels=("examples", "seconds"), logx=True)
    assert fig2.axes[0].get_xscale() == "log" and fig2.axes[1].get_xlabel() == "training time (ms)"
    import io
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert len(buf.getvalue()) > 5000


def test_log_ticks_are_plain_text_without_minor_ticks():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import NullLocator
    fig = Figure()
    FigureCanvasAgg(fig)
    long, short = fig.subplots(1, 2)
    long.loglog([1, 4000], [1e-8, 30])
    short.loglog([2000, 40000], [0.002, 0.012])
    long.set_xlim(1, 4000), long.set_ylim(1e-8, 30), short.set_xlim(2000, 40000), short.set_ylim(0.002, 0.012)
    log_ticks(fig)
    fig.canvas.draw()
    labels = lambda axis: [t.get_text() for t in axis.get_ticklabels() if t.get_text()]  # noqa: E731
    assert labels(long.xaxis) == ["10\u2070", "10\u00b9", "10\u00b2", "10\u00b3"]
    assert labels(long.yaxis)[0] == "10\u207b\u2078" and "$" not in "".join(labels(long.yaxis))
    assert labels(short.xaxis) == ["2000", "5000", "10000", "20000"]
    assert labels(short.yaxis) == ["0.002", "0.005", "0.01"]
    for ax in (long, short):
        assert isinstance(ax.xaxis.get_minor_locator(), NullLocator)


def test_a_diverging_run_is_labelled_and_does_not_flatten_the_others(small):
    runs = {"fine": record_run(small, train, 8, 0.05, 2, np.random.default_rng(0)),
            "blown": record_run(small, train, 8, 3.0, 2, np.random.default_rng(0))}
    fig = runs_figure(small, runs, panels=("examples",))
    ax = fig.axes[0]
    assert any("diverged" in t.get_text() for t in ax.get_legend().get_texts())
    assert ax.get_ylim()[1] < 1e3


# ---------------------------------------------------------------------------------------
# The interactive explorer
# ---------------------------------------------------------------------------------------
def make(problem, **kw):
    return explore_batch(problem, train, **{"batch_size": 16, "lr": 0.05, "epochs": 2, **kw})


def test_moving_a_slider_updates_the_same_artists(small):
    ex = make(small)
    line, figure = ex._path, ex.figure
    before = np.array(line.get_xydata())
    ex.sliders["batch_size"].value = 4       # as the widget does when a student drags it
    assert ex.figure is figure and ex._path is line
    after = np.array(line.get_xydata())
    assert not np.array_equal(before, after)
    np.testing.assert_allclose(after, ex.run.path[:, :2])
    assert ex.run.batch_size == 4 and ex.reference.batch_size == small.n
    title = ex.figure._suptitle.get_text()
    assert "batch_size=4" in title and "lr=0.05" in title and "epochs=2" in title


def test_lr_and_epochs_sliders_drive_the_run(small):
    ex = make(small)
    ex.set(lr=0.2, epochs=3)
    assert ex.run.lr == pytest.approx(0.2) and len(ex.run.epoch_losses) == 3
    assert ex._floor.get_ydata()[0] == pytest.approx(small.predicted_floor(0.2, 16))
    np.testing.assert_allclose(ex._ex.get_xdata(), ex.run.examples)


def test_the_chosen_weights_are_drawn(data):
    ex = explore_batch(data, train, batch_size=64, lr=0.1, epochs=1, weights=(2, 5))
    assert ex.ax_path.get_xlabel() == "w[2]" and ex.ax_path.get_ylabel() == "w[5]"
    np.testing.assert_allclose(ex._path.get_xydata()[-1], ex.run.final[[2, 5]])


def test_full_batch_and_divergence_are_labelled(small):
    ex = make(small)
    ex.set(batch_size=small.n)
    labels = [t.get_text() for t in ex.ax_ex.get_legend().get_texts()]
    assert any("none (full batch)" in t for t in labels)
    ex.set(batch_size=16, lr=1.0)
    labels = [t.get_text() for t in ex.ax_ex.get_legend().get_texts()]
    assert any("diverged" in t for t in labels), labels


def test_unimplemented_functions_are_labelled_not_raised(small):
    ex = explore_batch(small, todo)
    labels = [t.get_text() for t in ex.ax_ex.get_legend().get_texts()]
    assert any("not implemented yet" in t for t in labels) and ex.run is None


def test_an_error_in_student_code_is_shown_and_raised(small):
    def flaky(X, y, batch_size, lr, epochs, rng, w0=None):
        if batch_size == 1:
            raise ValueError("student bug")
        return train(X, y, batch_size, lr, epochs, rng, w0)

    ex = explore_batch(small, flaky, batch_size=64, epochs=1)
    with pytest.raises(ValueError, match="student bug"):
        ex.sliders["batch_size"].value = 1
    assert "student bug" in ex.figure._suptitle.get_text()


def test_display_bundle_holds_a_png(small):
    ex = make(small)
    assert isinstance(ex, BatchExplorer)
    bundle = ex.canvas._repr_mimebundle_()
    assert "image/png" in bundle and len(bundle["image/png"]) > 1000


def click_at(ex, ax, x, y, button=1):
    """A real mouse press at the pixel of data point (x, y) of ``ax``, processed by the canvas."""
    from matplotlib.backend_bases import MouseEvent
    ex.canvas.draw()  # the layout the page shows: where the axes are
    px, py = ax.transData.transform((x, y))
    MouseEvent("button_press_event", ex.canvas, px, py, button=button)._process()


def test_the_default_start_gives_the_runs_of_the_default_w0(small):
    ex = make(small)
    assert ex.values["start w[0]"] == 0.0 and ex.values["start w[1]"] == 0.0
    run = record_run(small, train, 16, 0.05, 2, np.random.default_rng(0))
    ref = record_run(small, train, small.n, 0.05, 2, np.random.default_rng(0))
    np.testing.assert_array_equal(ex.run.path, run.path)
    np.testing.assert_array_equal(ex.reference.path, ref.path)
    np.testing.assert_array_equal(ex.run.losses, run.losses)


def test_a_click_on_the_contours_starts_both_runs_there_in_one_update(small):
    ex = make(small)
    (x0, y0), (x1, y1) = ex._window
    x, y = x0 + 0.8 * (x1 - x0), y0 + 0.25 * (y1 - y0)
    n = ex.frames["blit"] + ex.frames["full"]
    click_at(ex, ex.ax_path, x, y)
    assert ex.frames["blit"] + ex.frames["full"] == n + 1
    for key, value in (("start w[0]", x), ("start w[1]", y)):   # the point, on the sliders' grid
        slider = ex.sliders[key]
        assert slider.value == page_value(slider, value) and abs(slider.value - value) <= slider.step / 2
    w0 = np.array([ex.sliders["start w[0]"].value, ex.sliders["start w[1]"].value, 0.0])
    np.testing.assert_array_equal(ex.run.path[0], w0)        # the other weight at its default start
    np.testing.assert_array_equal(ex.reference.path[0], w0)
    np.testing.assert_array_equal(ex.run.path, record_run(small, train, 16, 0.05, 2, np.random.default_rng(0),
                                                          w0=w0).path)
    np.testing.assert_allclose(ex._path.get_xydata(), ex.run.path[:, :2])
    np.testing.assert_allclose(ex._start.get_xydata(), [w0[:2]])
    assert f"start=({w0[0]:.3g}, {w0[1]:.3g})" in ex.title_artist.get_text()


@pytest.mark.parametrize("weights", [(0, 1), (2, 5), (7, 3)])
def test_the_start_sliders_cover_the_contours_and_hold_zero_exactly_in_the_page(data, weights):
    ex = explore_batch(data, train, batch_size=64, lr=0.1, epochs=1, weights=weights)
    (x0, x1), (y0, y1) = ex.ax_path.get_xlim(), ex.ax_path.get_ylim()
    (a0, b0), (a1, b1) = _window(data, weights)   # the window runs_figure shows: within the explorer's
    assert x0 <= a0 and y0 <= b0 and x1 >= a1 and y1 >= b1 and (x1 - x0) < 1.2 * (a1 - a0)
    for key, (lo, hi) in zip([f"start w[{k}]" for k in weights], [(x0, x1), (y0, y1)], strict=True):
        slider = ex.sliders[key]
        assert (slider.min, slider.max) == (lo, hi) and slider.value == 0.0
        # the page keeps zero as it is (it sends back any value off its grid, snapped)
        assert page_value(slider, 0.0) == 0.0
        grid = slider.min + slider.step * np.arange(201)
        assert all(page_value(slider, v) == v for v in grid)


def test_clicks_off_the_contours_do_nothing(small):
    ex = make(small)
    before, path = ex.values, ex.run.path
    click_at(ex, ex.ax_ex, 100, 1e-2)
    click_at(ex, ex.ax_path, 0.5, -0.5, button=3)
    assert ex.values == before and ex.run.path is path


def test_the_click_point_is_on_the_contours_and_moves_the_start(data):
    from matplotlib.backend_bases import MouseEvent
    ex = explore_batch(data, train, batch_size=64, lr=0.1, epochs=1, weights=(2, 5))
    assert [k for k in ex.sliders if k.startswith("start")] == ["start w[2]", "start w[5]"]
    ex.canvas.draw()
    fx, fy = ex.click_points()["start"]
    width, height = ex.canvas.get_width_height(physical=True)
    MouseEvent("button_press_event", ex.canvas, fx * width, (1 - fy) * height, button=1)._process()
    moved = np.array([ex.sliders["start w[2]"].value, ex.sliders["start w[5]"].value])
    assert np.all(np.abs(moved) > 0.1), moved
    w0 = np.zeros(data.d)
    w0[[2, 5]] = moved
    np.testing.assert_array_equal(ex.run.path[0], w0)


def test_the_regression_is_a_plain_dataclass():
    p = Regression(np.eye(3)[:, :2], np.array([1.0, 2.0, 0.0]), np.array([1.0, 2.0]), 0.0)
    np.testing.assert_allclose(p.w_star, [1.0, 2.0])
    assert p.n == 3 and p.d == 2 and p.loss_min == pytest.approx(0.0)


# ---------------------------------------------------------------------------------------
# The grader names the helper a graded function depends on
# ---------------------------------------------------------------------------------------
NOTEBOOK = '''
def train_minibatch_sgd(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    for _ in range(epochs):
        for idx in minibatch_indices(len(y), batch_size, rng):
            w = w - lr * mse_gradient(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)

def gradient_noise(w, X, y, batch_size, rng, n_draws):
    g = mse_gradient(w, X, y)
    return np.mean([np.sum((mse_gradient(w, X[i], y[i]) - g) ** 2)
                    for i in [rng.choice(len(y), batch_size, replace=False) for _ in range(n_draws)]])
'''


def notebook(minibatch_src, grad_src):
    env = {"np": np}
    exec(NOTEBOOK + minibatch_src + grad_src, env)
    return env


GOOD_BATCHES = '''
def minibatch_indices(n, batch_size, rng, drop_last=False):
    order = rng.permutation(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    return batches[:-1] if drop_last and len(batches[-1]) < batch_size else batches
'''
NO_SHUFFLE = '''
def minibatch_indices(n, batch_size, rng, drop_last=False):
    return [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]
'''
GOOD_GRAD = '''
def mse_gradient(w, X, y):
    return 2 * X.T @ (X @ w - y) / len(y)
'''
NO_TWO = '''
def mse_gradient(w, X, y):
    return X.T @ (X @ w - y) / len(y)
'''


def failure(name, fn, part="basic"):
    import grader
    try:
        grader.check(name, fn, part)
    except AssertionError as e:
        return str(e)
    return None


def test_correct_helpers_give_full_marks():
    env = notebook(GOOD_BATCHES, GOOD_GRAD)
    import grader
    for name in ("train_minibatch_sgd", "gradient_noise"):
        for part in grader.parts(name):
            assert failure(name, env[name], part) is None


def test_a_wrong_minibatch_indices_is_named_in_train_feedback():
    msg = failure("train_minibatch_sgd", notebook(NO_SHUFFLE, GOOD_GRAD)["train_minibatch_sgd"])
    assert "not shuffled" in msg and "your minibatch_indices, which this function calls" in msg
    assert "mse_gradient" not in msg.split("Note:")[1]


def test_a_wrong_mse_gradient_is_named_in_train_and_noise_feedback():
    env = notebook(GOOD_BATCHES, NO_TWO)
    for name in ("train_minibatch_sgd", "gradient_noise"):
        msg = failure(name, env[name])
        assert "factor 2" in msg and "your mse_gradient, which this function calls" in msg, msg


def test_no_note_when_the_function_itself_is_wrong():
    env = notebook(GOOD_BATCHES, GOOD_GRAD)
    exec('''
def train_minibatch_sgd(X, y, batch_size, lr, epochs, rng, w0=None):
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    for _ in range(epochs):
        for idx in minibatch_indices(len(y), batch_size, rng):
            w = w - lr * mse_gradient(w, X[idx], y[idx]) * len(idx) / len(y)
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
''', env)
    msg = failure("train_minibatch_sgd", env["train_minibatch_sgd"])
    assert "divided by n" in msg and "Note:" not in msg
