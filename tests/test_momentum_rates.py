"""The rate map's theory against the reference momentum steps, and the linked explorer.

The closed forms (descentlab.momentum_rates) are held against two things that know
nothing of them: the measured rate of grader.reference's momentum_step and
nesterov_step (long runs, fitted on the tail), and the eigenvalues of the iteration
matrix built by applying the reference step to basis states (it is linear on a quadratic).
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import descentlab as dl
from descentlab import momentum_rates as mr
from descentlab.momentum_map import explore_momentum, rate_map_figure
from descentlab.plots import Path, page_log_value, page_value
from grader.reference.momentum import momentum_step, nesterov_step, sgd_step
from tests.test_plots import click_at

RAVINE = dl.ravine(kappa=50)
MU, L = 1.0, 50.0
START = np.array([-1.8, 1.5])
STEPS = {"heavy ball": momentum_step, "Nesterov": nesterov_step}
LR_P, BETA_P, RATE_P = mr.polyak(MU, L)

# (lr, beta): every regime of both methods
REGIMES = {
    "underdamped": (0.02, 0.9),
    "underdamped, small lr": (0.005, 0.95),
    "critically damped at both ends (Polyak)": (LR_P, BETA_P),
    "flat direction critically damped": (0.01, 0.81),
    "steep direction critically damped": (0.03, float((math.sqrt(0.03 * L) - 1) ** 2)),
    "overdamped": (0.005, 0.3),
    "gradient descent": (0.002, 0.0),
    "heavy ball unstable": (0.06, 0.3),
    "Nesterov unstable": (0.04, 0.9),
    "just past the heavy ball's edge": (1.02 * float(mr.stable_lr("heavy ball", 0.5, L)), 0.5),
}


@pytest.mark.parametrize("method", mr.METHODS)
@pytest.mark.parametrize("regime", REGIMES)
def test_the_map_predicts_the_reference_step_to_1e_3(method, regime):
    lr, beta = REGIMES[regime]
    predicted = float(mr.worst_rate(method, lr, beta, [MU, L]))
    measured = mr.measured_rate(STEPS[method], RAVINE, START, steps=3000, lr=lr, beta=beta)
    assert measured == pytest.approx(predicted, abs=1e-3), (method, regime)


@pytest.mark.parametrize("method", mr.METHODS)
def test_the_map_predicts_the_reference_step_on_a_grid(method):
    worst = 0.0
    for lr in np.geomspace(1e-3, 0.1, 7):
        for beta in np.linspace(0.0, 0.99, 7):
            predicted = float(mr.worst_rate(method, lr, beta, [MU, L]))
            measured = mr.measured_rate(STEPS[method], RAVINE, START, steps=2000, lr=lr, beta=beta)
            worst = max(worst, abs(measured - predicted))
    assert worst < 1e-3


def iteration_matrix(step, lam, lr, beta):
    """The 2x2 map (e, v) -> (e', v') of the reference step on f = lam e^2 / 2, column by column."""
    cols = []
    for e, v in ((1.0, 0.0), (0.0, 1.0)):
        x, v_new = step(np.array([e]), np.array([lam * e]), np.array([v]), lr=lr, beta=beta)
        cols.append([x[0], v_new[0]])
    return np.array(cols).T


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(mr.METHODS), st.floats(1e-4, 0.2), st.floats(0.0, 0.999), st.floats(0.01, 100.0))
def test_the_closed_form_is_the_spectral_radius_of_the_reference_iteration(method, lr, beta, lam):
    radius = max(abs(np.linalg.eigvals(iteration_matrix(STEPS[method], lam, lr, beta))))
    assert float(mr.rates(method, lr, beta, lam)) == pytest.approx(radius, rel=1e-6, abs=1e-9)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from(mr.METHODS), st.floats(1e-3, 0.1), st.floats(0.0, 0.99))
def test_eigenvalues_between_mu_and_L_are_never_worse_than_the_ends(method, lr, beta):
    inside = mr.worst_rate(method, lr, beta, np.geomspace(MU, L, 300))
    assert float(inside) <= float(mr.worst_rate(method, lr, beta, [MU, L])) + 1e-12


@pytest.mark.parametrize("method", mr.METHODS)
@pytest.mark.parametrize("beta", [0.0, 0.3, 0.6, 0.9, 0.99])
def test_the_stability_edge_is_where_the_formula_puts_it(method, beta):
    edge = float(mr.stable_lr(method, beta, L))
    below = mr.measured_rate(STEPS[method], RAVINE, START, steps=2000, lr=0.99 * edge, beta=beta)
    above = mr.measured_rate(STEPS[method], RAVINE, START, steps=2000, lr=1.01 * edge, beta=beta)
    assert below < 1 < above
    assert float(mr.worst_rate(method, edge, beta, [MU, L])) == pytest.approx(1.0, abs=1e-9)


def test_nesterovs_stable_region_is_smaller():
    betas = np.linspace(0.01, 0.99, 50)
    assert np.all(mr.stable_lr("Nesterov", betas, L) < mr.stable_lr("heavy ball", betas, L))


@pytest.mark.parametrize("method", mr.METHODS)
def test_critical_damping_is_a_repeated_root_of_the_reference_iteration(method):
    for lam in (MU, L):
        for lr in (0.3 / L, 0.5 / lam if lam == MU else 0.6 / lam):
            beta = float(mr.critical_beta(method, lr, lam))
            z = np.linalg.eigvals(iteration_matrix(STEPS[method], lam, lr, beta))
            assert abs(z[0] - z[1]) < 1e-6, (method, lam, lr, beta, z)


@pytest.mark.parametrize("kappa", [10.0, 50.0, 400.0])
def test_the_optima_are_the_lowest_points_of_the_maps(kappa):
    lrs, betas = np.geomspace(1e-4, 1.0, 2000), np.linspace(0.0, 0.999, 1500)
    for method, best in (("heavy ball", mr.polyak), ("Nesterov", mr.nesterov_best)):
        grid = mr.rate_grid(method, lrs, betas, [1.0, kappa])
        i, j = np.unravel_index(np.argmin(grid), grid.shape)
        lr, beta, rate = best(1.0, kappa)
        assert abs(math.log(lrs[j] / lr)) <= 2 * math.log(lrs[1] / lrs[0]), method
        assert abs(betas[i] - beta) <= 2 * betas[1], method
        assert grid.min() == pytest.approx(rate, abs=2e-3)
        assert grid.min() >= rate - 1e-12     # nothing on the grid beats the formula's optimum
    assert mr.polyak(1.0, kappa)[2] < mr.nesterov_best(1.0, kappa)[2]


def test_gradient_descents_best_point_is_on_the_zero_beta_edge():
    lr, rate = mr.best_gd(MU, L)
    assert float(mr.worst_rate("heavy ball", lr, 0.0, [MU, L])) == pytest.approx(rate)
    lrs = np.geomspace(1e-3, 0.1, 4001)
    edge = mr.worst_rate("heavy ball", lrs, 0.0, [MU, L])
    assert lrs[np.argmin(edge)] == pytest.approx(lr, rel=3e-3)
    assert RAVINE.best_gd == pytest.approx((lr, rate))


def test_the_landscapes_tunings_agree_with_the_rate_module():
    assert RAVINE.best_momentum == pytest.approx(mr.polyak(MU, L))


def test_each_direction_has_its_own_rate():
    lr, beta = 0.005, 0.3      # both overdamped: the flat direction slow, the steep one fast
    traj = dl.run(momentum_step, RAVINE, START, 400, lr=lr, beta=beta)
    flat, steep = mr.direction_rates(traj.xs, RAVINE)
    assert flat == pytest.approx(float(mr.rates("heavy ball", lr, beta, MU)), abs=1e-3)
    assert steep == pytest.approx(float(mr.rates("heavy ball", lr, beta, L)), abs=1e-3)


def test_a_run_too_short_to_fit_has_no_rate():
    assert math.isnan(mr.path_rate(np.zeros((5, 2)) + 1.0, [0.0, 0.0]))
    assert math.isnan(mr.tail_rate([np.nan] * 40))


# -- the map and the linked explorer
def make_explorer(**kw):
    paths = [Path("SGD", sgd_step, ["lr"]), Path("momentum", momentum_step, ["lr", "beta"]),
             Path("Nesterov", nesterov_step, ["lr", "beta"])]
    return explore_momentum(RAVINE, paths, sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)},
                            steps=kw.pop("steps", 300), x0=(-1.8, 1.5), **kw)


def test_a_click_on_a_map_sets_lr_and_beta_on_the_sliders_grids_and_moves_both_markers():
    ex = make_explorer()
    image = ex.ax_maps["momentum"].images[0]
    n = ex.frames["blit"] + ex.frames["full"]
    click_at(ex, ex.ax_maps["Nesterov"], math.log10(0.03), 0.5)
    assert ex.frames["blit"] + ex.frames["full"] == n + 1     # one update for both sliders
    lr, beta = ex.sliders["lr"].value, ex.sliders["beta"].value
    w = ex.sliders["lr"]
    k = (math.log10(lr) - w.min) / w.step                     # on the exponent's grid, near the click
    assert k == pytest.approx(round(k), abs=1e-9) and abs(math.log10(lr) - math.log10(0.03)) <= w.step / 2
    assert lr == page_log_value(ex.sliders["lr"], 0.03) and beta == page_value(ex.sliders["beta"], 0.5)
    assert abs(beta - 0.5) <= ex.sliders["beta"].step / 2
    for label in ("momentum", "Nesterov"):
        np.testing.assert_allclose(ex._markers[label].get_xydata(), [[math.log10(lr), beta]])
    traj = ex.trajectories["momentum"]
    np.testing.assert_allclose(traj.xs, dl.run(momentum_step, RAVINE, START, 300, lr=lr, beta=beta).xs)
    assert ex.ax_maps["momentum"].images[0] is image      # the map is not recomputed: only the marker moves


def test_page_log_value_is_on_the_exponent_grid():
    ex = make_explorer()
    w = ex.sliders["lr"]
    for v in (0.0123, 0.02, 0.05, 0.0999):
        e = math.log10(page_log_value(w, v))
        k = (e - w.min) / w.step
        assert abs(k - round(k)) < 1e-9 and abs(e - math.log10(v)) <= w.step / 2 + 1e-12
    assert page_log_value(w, 0.02) == pytest.approx(0.02, rel=1e-12)  # the notebook's value is on the grid


def test_moving_the_sliders_moves_the_markers_and_the_notes_give_both_rates():
    ex = make_explorer()
    ex.set(lr=0.05, beta=0.6)
    np.testing.assert_allclose(ex._markers["momentum"].get_xydata(), [[math.log10(0.05), 0.6]])
    for label, method in (("momentum", "heavy ball"), ("Nesterov", "Nesterov")):
        predicted, measured = ex.measured[label]
        assert predicted == pytest.approx(float(mr.worst_rate(method, 0.05, 0.6, [MU, L])))
        assert measured == pytest.approx(predicted, abs=2e-3)    # 300 steps, fitted on the last 150
        assert f"{predicted:.3f} (map)" in ex._notes[label].get_text()
        assert f"{measured:.3f} (your {label})" in ex._notes[label].get_text()


def test_a_click_on_the_landscape_still_moves_the_start():
    ex = make_explorer()
    click_at(ex, ex.ax_path, 0.5, -0.7)
    assert (ex.sliders["start 0"].value, ex.sliders["start 1"].value) == pytest.approx((0.5, -0.7))
    np.testing.assert_allclose(ex.trajectories["Nesterov"].xs[0], [0.5, -0.7])


def test_the_eigen_view_shows_the_run_in_the_eigenbasis_with_the_predicted_slopes():
    ex = make_explorer()
    ex.set(lr=0.005, beta=0.3)
    errors = np.abs(mr.eigen_errors(ex.trajectories["momentum"].xs, RAVINE))
    for k, lam in enumerate((MU, L)):
        np.testing.assert_allclose(ex._eigen_lines[k].get_ydata(), np.where(errors[:, k] > 0, errors[:, k], np.nan))
        t, env = ex._envelopes[k].get_data()
        rho = float(mr.rates("heavy ball", 0.005, 0.3, lam))
        assert env[-1] / env[-2] == pytest.approx(rho)


def test_a_click_point_lands_on_the_map():
    from matplotlib.backend_bases import MouseEvent
    ex = make_explorer()
    ex.canvas.draw()
    fx, fy = ex.click_points()["map"]
    w, h = ex.canvas.get_width_height(physical=True)
    before = ex.values["lr"], ex.values["beta"]
    MouseEvent("button_press_event", ex.canvas, fx * w, (1 - fy) * h, button=1)._process()
    assert (ex.values["lr"], ex.values["beta"]) != before


def test_an_unimplemented_nesterov_leaves_its_map_saying_so():
    def todo(x, g, v, lr, beta):
        raise NotImplementedError()
    ex = explore_momentum(RAVINE, [Path("momentum", momentum_step, ["lr", "beta"]), Path("Nesterov", todo,
                                                                                        ["lr", "beta"])],
                          sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)})
    assert "not implemented yet" in ex._notes["Nesterov"].get_text()
    assert "Nesterov" not in ex.trajectories


def test_the_explorer_needs_the_maps_axes_and_paths():
    paths = [Path("momentum", momentum_step, ["lr", "beta"])]
    with pytest.raises(ValueError, match="beta"):
        explore_momentum(RAVINE, paths, sliders={"lr": ("log", 1e-3, 0.1, 0.02)})
    with pytest.raises(ValueError, match="Nesterov"):
        explore_momentum(RAVINE, paths, sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)})


def test_headless_it_leaves_a_png_and_the_static_maps_draw():
    import io
    bundle = make_explorer().canvas._repr_mimebundle_()
    assert "image/png" in bundle and len(bundle["image/png"]) > 1000
    buf = io.BytesIO()
    rate_map_figure(RAVINE).savefig(buf, format="png")
    assert buf.getvalue()[:8] == b"\x89PNG\r\n\x1a\n"
