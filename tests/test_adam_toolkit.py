"""The helpers notebook 05 (Adam) stands on: a rescaled landscape keeps its minima and
scales its exact gradient, the rotation puts a start on a rotated bowl where it sat on
the unrotated one, the stopping rule counts steps as documented, and two_moons makes
the documented data."""
import numpy as np
import pytest

import descentlab as dl
from descentlab.adam_problems import rotation, scaled, steps_to_loss, two_moons


@pytest.mark.parametrize("c", [1e-3, 1.0, 1e3])
@pytest.mark.parametrize("land", [dl.ravine(50), dl.rosenbrock(), dl.quadratic(10, 30)], ids=lambda land: land.name)
def test_scaled_landscape_multiplies_value_and_gradient(land, c):
    s = scaled(land, c)
    rng = np.random.default_rng(0)
    for x in rng.uniform(-1.5, 1.5, size=(20, 2)):
        assert np.isclose(s.value(x), c * land.value(x), rtol=1e-12)
        assert np.allclose(s.grad(x), c * land.grad(x), rtol=1e-12)
    assert np.array_equal(s.global_min, land.global_min) and s.bounds == land.bounds
    assert np.isclose(s.f_min, c * land.f_min, atol=1e-15)
    grid = rng.uniform(-1, 1, size=(3, 4, 2))
    assert np.allclose(s.f(grid), c * land.f(grid))


@pytest.mark.parametrize("angle", [0.0, 30.0, 45.0, -70.0])
def test_rotation_maps_a_start_onto_the_rotated_bowl(angle):
    flat, turned = dl.quadratic(100, 0.0), dl.quadratic(100, angle)
    R = rotation(angle)
    assert np.allclose(R @ R.T, np.eye(2))
    for x in np.random.default_rng(1).normal(size=(10, 2)):
        assert np.isclose(turned.value(R @ x), flat.value(x), rtol=1e-12)
        assert np.allclose(turned.grad(R @ x), R @ flat.grad(x), atol=1e-12)


def test_steps_to_loss_counts_the_step_after_which_the_loss_stays_below():
    land = dl.quadratic(1.0)
    traj = dl.Trajectory(np.zeros((5, 2)), np.array([5.0, 0.5, 2.0, 0.1, 0.05]))
    assert steps_to_loss(traj, land, 1.0) == 3
    assert steps_to_loss(traj, land, 10.0) == 0
    assert steps_to_loss(traj, land, 0.01) is None
    diverged = dl.Trajectory(np.zeros((3, 2)), np.array([1.0, np.inf, np.nan]))
    assert steps_to_loss(diverged, land, 10.0) is None


def test_steps_to_loss_on_gradient_descent_matches_the_contraction():
    land = dl.quadratic(1.0)  # f = |x|^2 / 2, gradient descent with lr 0.5 halves x
    traj = dl.run(lambda x, g, lr: x - lr * g, land, [1.0, 0.0], 30, lr=0.5)
    # f after k steps is 0.5 * 0.25^k: below 1e-6 from k = 10 on
    assert steps_to_loss(traj, land, 1e-6) == 10


def test_two_moons_shapes_labels_and_geometry():
    X, y = two_moons(201, 0.0, np.random.default_rng(0))
    assert X.shape == (201, 2) and y.shape == (201,) and X.dtype == y.dtype == np.float64
    assert set(np.unique(y)) == {0.0, 1.0} and y.sum() == 101
    top, bottom = X[y == 0], X[y == 1]
    assert np.allclose(np.hypot(top[:, 0], top[:, 1]), 1.0) and np.all(top[:, 1] >= 0)
    assert np.allclose(np.hypot(bottom[:, 0] - 1, bottom[:, 1] - 0.5), 1.0) and np.all(bottom[:, 1] <= 0.5)


def test_two_moons_noise_and_reproducibility():
    a = two_moons(100, 0.1, np.random.default_rng(3))
    b = two_moons(100, 0.1, np.random.default_rng(3))
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    X0, _ = two_moons(2000, 0.0, np.random.default_rng(4))
    X1, _ = two_moons(2000, 0.2, np.random.default_rng(4))
    assert 0.15 < np.std(X1 - X0) < 0.25
