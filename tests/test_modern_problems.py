"""The race of notebook 07: stacked gradients equal the landscapes' own, one stacked race
scores every run exactly as descentlab.run and the settling rule of notebook 05 would,
state and t are passed (NAdam's product of mus starting at 1), and the summaries pick
what they document."""
import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab.adam_problems import scaled, settled
from descentlab.modern_problems import Runner, best_setting, inside, race, stacked_grad, worst_start


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("land", [dl.ravine(50), dl.quadratic(100, 30), dl.rosenbrock(), scaled(dl.rosenbrock(), 1e-3)],
                         ids=lambda land: land.name)
def test_stacked_gradient_equals_the_pointwise_gradient(land):
    X = np.random.default_rng(0).uniform(-1.5, 1.5, size=(3, 4, 2))
    G = stacked_grad(land, X)
    assert G.shape == X.shape
    for idx in np.ndindex(3, 4):
        assert np.allclose(G[idx], land.grad(X[idx]), rtol=1e-12, atol=1e-12)


def test_stacked_gradient_refuses_a_landscape_it_does_not_know():
    with pytest.raises(TypeError, match="no stacked gradient"):
        stacked_grad(dl.himmelblau(), np.zeros((2, 2)))


def heavy_ball(x, g, v, lr, beta):
    v_new = beta * v + g
    return x - lr * v_new, v_new


def test_race_scores_every_run_as_a_single_run_would():
    lands = [dl.ravine(20), dl.ravine(20, angle=30)]
    starts = np.array([[[-1.5, 1.0], [1.0, 1.2]], [[-1.0, 1.5], [0.5, -1.0]]])
    lrs, betas = np.array([0.01, 0.05, 0.09]), np.array([0.0, 0.6])
    scores = race([Runner("heavy ball", heavy_ball, "beta")], lands, starts, lrs, betas, steps=120, tol=1e-4, window=20)
    s = scores["heavy ball"]
    assert s.shape == (2, 2, 3, 2)
    for k, land in enumerate(lands):
        for a in range(2):
            for i, lr in enumerate(lrs):
                for j, beta in enumerate(betas):
                    traj = dl.run(heavy_ball, land, starts[k, a], 120, lr=lr, beta=beta)
                    assert s[k, a, i, j] == settled(traj.losses - land.f_min, 1e-4, 20)
    assert (s >= 0).any() and (s < 0).any()     # the grid holds runs that settle and runs that do not


def test_race_passes_t_and_the_initial_state_it_is_given():
    seen = []

    def product_step(x, g, m, p, t, lr, beta1):
        # a stand-in with NAdam's shape of state: p must start at 1.0 and come back a float
        seen.append((t, p))
        m_new = beta1 * m + g
        return x - lr * m_new * p, m_new, float(p) * 0.5

    runner = Runner("halving", product_step, "beta1", init={"p": 1.0})
    race([runner], [dl.quadratic(1.0)], np.array([[[1.0, 1.0]]]), [0.1], [0.5], steps=3, window=1)
    assert seen == [(1, 1.0), (2, 0.5), (3, 0.25)]


def test_summaries_take_the_slowest_start_and_the_best_interior_setting():
    s = np.array([[[3, 5], [7, -1]], [[4, 2], [9, 8]]])           # (starts, lrs, knobs)
    assert worst_start(s).tolist() == [[4, 5], [9, -1]]
    assert best_setting(worst_start(s)) == (4, 0, 0)
    assert best_setting(np.array([[-1, -1]])) is None
    assert inside((4, 1, 1), 3, 3) and not inside((4, 0, 1), 3, 3) and not inside((4, 1, 2), 3, 3)
    assert not inside(None, 3, 3)
