"""The matrix problem of notebook 07's Muon experiment: the least-squares loss, its exact
gradient and its spectrum are as documented, the runner passes state and t like
descentlab.run, the tuning grid marks divergence, and the figures draw what they say."""
import io

import numpy as np
import pytest
import torch

from descentlab.matrix_problems import (
    best_on_grid,
    least_squares,
    run_matrix,
    runs_figure,
    singular_values,
    singular_values_figure,
    tune,
)


@pytest.fixture(autouse=True)
def one_thread():
    torch.set_num_threads(1)


@pytest.mark.parametrize("s_min", [1e-3, 0.3])
def test_loss_gradient_and_spectrum_are_exact(s_min):
    p = least_squares(rows=6, dim=8, n=40, s_min=s_min, seed=3)
    W = np.random.default_rng(0).normal(size=(6, 8))
    R = W @ p.A - p.B
    assert np.isclose(p.f(W), np.sum(R * R) / (2 * p.n), rtol=1e-12)
    Wt = torch.tensor(W, requires_grad=True)
    loss = ((Wt @ torch.tensor(p.A) - torch.tensor(p.B)) ** 2).sum() / (2 * p.n)
    loss.backward()
    assert np.allclose(p.grad(W), Wt.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert np.allclose(singular_values(p.A / np.sqrt(p.n)), p.s, rtol=1e-10)
    assert np.allclose(np.linalg.eigvalsh(p.H)[::-1], p.s ** 2, rtol=1e-8, atol=1e-15)
    assert p.s[0] == 1.0 and np.isclose(p.s[-1], s_min)
    assert p.f(p.W_star) == 0.0 and p.error(p.W_star) == 0.0


def test_the_loss_keeps_its_accuracy_next_to_the_minimum():
    p = least_squares(rows=4, dim=6, n=30, seed=1)
    W = p.W_star + 1e-14 * np.ones_like(p.W_star)
    expected = 0.5 * np.sum((1e-14 * np.ones((4, 6))) @ p.H * (1e-14 * np.ones((4, 6))))
    assert 0 < p.f(W) and np.isclose(p.f(W), expected, rtol=1e-10)


def test_errors_are_relative_to_the_solution_per_direction_and_in_total():
    p = least_squares(rows=5, dim=7, n=30, seed=2)
    zero = np.zeros((5, 7))
    assert np.isclose(p.error(zero), 1.0) and np.allclose(p.direction_errors(zero), 1.0)
    # W* with its component along the weakest input direction removed
    u = p.U[:, -1]
    W = p.W_star - np.outer(p.W_star @ u, u)
    d = p.direction_errors(W)
    assert np.allclose(d[:-1], 0.0, atol=1e-12) and np.isclose(d[-1], 1.0)


def test_too_few_examples_are_refused():
    with pytest.raises(ValueError, match="independent input directions"):
        least_squares(rows=3, dim=10, n=5)


def test_run_passes_state_and_the_step_counter_like_descentlab_run():
    p = least_squares(rows=3, dim=4, n=20, seed=0)
    seen = []

    def counting_momentum(x, g, v, t, lr, beta):
        seen.append(t)
        v_new = beta * v + g
        return x - lr * v_new, v_new

    r = run_matrix(counting_momentum, p, 5, lr=0.1, beta=0.5)
    assert seen == [1, 2, 3, 4, 5] and len(r.losses) == len(r.errors) == 6
    W, v = np.zeros((3, 4)), np.zeros((3, 4))
    for _ in range(5):
        v = 0.5 * v + p.grad(W)
        W = W - 0.1 * v
    assert np.allclose(r.W, W, rtol=1e-13) and np.allclose(r.state[0], v, rtol=1e-13)
    assert np.isclose(r.losses[-1], p.f(W)) and np.isclose(r.errors[0], 1.0)


def test_a_stateless_step_and_a_start_are_accepted():
    p = least_squares(rows=3, dim=4, n=20, seed=0)
    r = run_matrix(lambda x, g, lr: x - lr * g, p, 3, W0=p.W_star, lr=0.5)
    assert np.allclose(r.losses, 0.0) and r.state == []


def test_tune_marks_diverged_runs_and_best_on_grid_takes_the_worst_problem():
    problems = [least_squares(rows=3, dim=4, n=20, seed=s) for s in range(2)]
    gd = lambda x, g, lr: x - lr * g  # noqa: E731
    scores = tune(gd, problems, 20, [0.1, 1.0, 100.0], score="loss")
    assert scores.shape == (2, 3, 1) and np.all(np.isinf(scores[:, 2, 0]))    # 100 > 2 / L = 2
    assert np.all(scores[:, 1, 0] < scores[:, 0, 0])
    value, i, j = best_on_grid(np.array([[[1.0], [5.0]], [[9.0], [6.0]]]))
    assert (value, i, j) == (6.0, 1, 0)
    knobbed = tune(lambda x, g, lr, c: x - lr * c * g, problems[:1], 5, [0.1], "c", [0.0, 1.0], score="error")
    assert knobbed.shape == (1, 1, 2) and knobbed[0, 0, 0] == 1.0 and knobbed[0, 0, 1] < 1.0


def test_figures_draw_one_curve_per_update_and_per_run():
    p = least_squares(rows=3, dim=4, n=20, seed=0)
    fig = singular_values_figure({"raw": p.grad(np.zeros((3, 4))), "orthogonal": np.eye(3, 4)}, title="t")
    assert len(fig.axes[0].get_lines()) == 3            # two updates and the line at 1
    runs = {"momentum": run_matrix(lambda x, g, lr: x - lr * g, p, 4, lr=0.5),
            "Muon": run_matrix(lambda x, g, lr: x - lr * g, p, 4, lr=0.2)}
    fig = runs_figure(runs, p, title="t")
    assert len(fig.axes) == 3 and all(len(ax.get_lines()) == 2 for ax in fig.axes)
    assert len(runs_figure(runs).axes) == 2
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    assert buf.getvalue()[:4] == b"\x89PNG"


def test_a_stacked_grid_is_the_same_runs_as_one_run_per_learning_rate():
    from descentlab.torch_steps import torch_adam_step, torch_momentum_step
    problems = [least_squares(rows=4, dim=6, n=30, seed=s) for s in (0, 1)]
    lrs = np.array([1e-3, 0.1, 3.0, 30.0])   # the last one diverges
    for step, fixed in ((torch_momentum_step, dict(beta=0.9)), (torch_adam_step, {})):
        one_by_one = tune(step, problems, 30, lrs, score="loss", **fixed)
        stacked = tune(step, problems, 30, lrs, score="loss", stacked=True, **fixed)
        assert np.array_equal(np.isinf(one_by_one), np.isinf(stacked))
        fin = np.isfinite(one_by_one)
        assert np.allclose(one_by_one[fin], stacked[fin], rtol=1e-9, atol=1e-300)
