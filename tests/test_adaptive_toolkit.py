"""The problems of notebook 02 (descentlab.adaptive_problems): exact gradients (against
finite differences and torch autograd), the minimum where the docstrings say, a
gradient stream that hands out exactly the examples it records, and run_with_state
agreeing with descentlab.run while keeping the state."""
import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab.adaptive_problems import Cliff, SparseRegression, cliff, run_with_state, sparse_regression

SPARSE = [sparse_regression(), sparse_regression((1.0, 0.3, 0.1, 0.02), (2.0, 1.0, 1.0, 0.5), n=300, seed=3),
          SparseRegression((0.5, 0.05), 1.0, n=200, w_star=[-0.5, 2.0], seed=7)]
CLIFFS = [cliff(), cliff(edge=5.0), Cliff(slope=0.2, cliff_slope=2.0, edge=1.5, sharpness=2.0),
          cliff(cliff_slope=0.0)]


def fd_grad(f, x, h=1e-3):
    """Fourth-order central differences (exact for quadratics up to rounding)."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[i] = h
        g[..., i] = (f(x - 2 * e) - 8 * f(x - e) + 8 * f(x + e) - f(x + 2 * e)) / (12 * h)
    return g


def points(land, n=200, seed=0):
    rng = np.random.default_rng(seed)
    lo, hi = np.array(land.bounds, dtype=float).T
    return lo + (hi - lo) * rng.random((n, land.dim))


# ------------------------------------------------------------------ sparse regression
@pytest.mark.parametrize("p", SPARSE, ids=lambda p: p.name)
def test_sparse_f_is_the_mean_squared_residual(p):
    X = points(p, 50)
    direct = 0.5 * ((X @ p.A.T - p.b) ** 2).mean(axis=-1)
    np.testing.assert_allclose(p.f(X), direct, rtol=1e-12, atol=1e-14)
    assert p.value(p.w_star) == 0.0 and p.f_min == 0.0


@pytest.mark.parametrize("p", SPARSE, ids=lambda p: p.name)
def test_sparse_full_gradient_is_exact(p):
    X = points(p)
    fd = fd_grad(p.f, X)
    for x, expected in zip(X, fd, strict=True):
        np.testing.assert_allclose(p.grad(x), expected, rtol=1e-7, atol=1e-9)
    for x in X[:20]:
        xt = torch.tensor(x, requires_grad=True)
        loss = 0.5 * ((torch.tensor(p.A) @ xt - torch.tensor(p.b)) ** 2).mean()
        loss.backward()
        np.testing.assert_allclose(p.grad(x), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_array_equal(p.grad(p.w_star), np.zeros(p.dim))


@pytest.mark.parametrize("p", SPARSE, ids=lambda p: p.name)
def test_example_gradients_are_exact_and_average_to_the_full_gradient(p):
    rng = np.random.default_rng(1)
    x = points(p, 1)[0]
    for i in rng.integers(p.n, size=20):
        a, b = p.A[i], p.b[i]
        np.testing.assert_allclose(p.example_grad(x, i), fd_grad(lambda z, a=a, b=b: 0.5 * (z @ a - b) ** 2, x),
                                   rtol=1e-7, atol=1e-9)
        # a coordinate whose feature is absent gets exactly zero
        assert np.all(p.example_grad(x, i)[a == 0] == 0)
    batch = rng.choice(p.n, 17, replace=False)
    np.testing.assert_allclose(p.example_grad(x, batch),
                               np.mean([p.example_grad(x, i) for i in batch], axis=0), rtol=1e-12)
    np.testing.assert_allclose(p.example_grad(x, np.arange(p.n)), p.grad(x), rtol=1e-12, atol=1e-14)


def test_sparse_features_appear_at_their_frequencies():
    p = sparse_regression((1.0, 0.3, 0.05), (2.0, 1.0, 1.0), n=4000, seed=2)
    np.testing.assert_allclose((p.A != 0).mean(axis=0), [1.0, 0.3, 0.05], atol=0.02)
    assert set(np.unique(p.A[:, 0])) == {2.0}
    assert np.linalg.matrix_rank(p.A) == 3


def test_every_feature_appears_at_least_once_and_rank_is_checked():
    p = SparseRegression((1.0, 1e-4), 1.0, n=50, seed=0)
    assert (p.A[:, 1] != 0).sum() >= 1
    with pytest.raises(ValueError):
        SparseRegression((1.0, 1.0), 1.0, n=10)   # identical columns: w is not determined
    with pytest.raises(ValueError):
        SparseRegression((1.5, 0.1))


def test_stream_hands_out_the_gradients_it_records_in_reshuffled_epochs():
    p = sparse_regression(n=40)
    s = p.stream(batch_size=3, seed=5)
    x = np.array([0.3, -0.2])
    grads = [s.grad(x) for _ in range(30)]  # 90 examples: two full epochs and a bit
    for g, idx in zip(grads, s.batches, strict=True):
        assert len(idx) == 3
        np.testing.assert_allclose(g, p.example_grad(x, idx), rtol=1e-14)
    flat = np.concatenate(s.batches)
    assert sorted(flat[:40]) == list(range(40)) and sorted(flat[40:80]) == list(range(40))
    assert not np.array_equal(flat[:40], flat[40:80])
    # the same seed gives the same stream; present() says which features were in each batch
    s2 = p.stream(batch_size=3, seed=5)
    np.testing.assert_array_equal(np.concatenate([s2.next_batch() for _ in range(30)]), flat)
    assert s.present().shape == (30, 2)
    assert s.value(x) == p.value(x) and s.global_min is not None


def test_single_example_stream_and_runner():
    p = sparse_regression()
    s = p.stream(seed=1)
    traj = dl.run(lambda x, g, lr: x - lr * g, s, [0.0, 0.0], 50, lr=0.1)
    assert len(s.batches) == 50 and traj.xs.shape == (51, 2)
    seen = s.present()
    assert seen[:, 0].all()  # the frequent feature is in every example
    # replay by hand
    x = np.zeros(2)
    for idx in s.batches:
        x = x - 0.1 * p.example_grad(x, idx)
    np.testing.assert_allclose(traj.final, x, rtol=1e-14)


# ------------------------------------------------------------------ cliff
def torch_cliff(c, x):
    k = c.sharpness
    return (c.slope * (torch.sqrt(1 + x * x) - 1)
            + c.cliff_slope * torch.nn.functional.softplus(k * (x - c.edge)) / k)


@pytest.mark.parametrize("c", CLIFFS, ids=lambda c: c.name)
def test_cliff_gradient_is_exact(c):
    X = points(c, 300)
    fd = fd_grad(c.f, X, h=1e-4)
    for x, expected in zip(X, fd, strict=True):
        np.testing.assert_allclose(c.grad(x), expected, rtol=1e-6, atol=1e-8)
        xt = torch.tensor(x, requires_grad=True)
        torch_cliff(c, xt).sum().backward()
        np.testing.assert_allclose(c.grad(x), xt.grad.numpy(), rtol=1e-12, atol=1e-14)
        # f itself runs on torch tensors too
        assert float(c.f(torch.tensor(x)[None])[0]) == pytest.approx(c.value(x), rel=1e-12, abs=1e-14)


@pytest.mark.parametrize("c", CLIFFS, ids=lambda c: c.name)
def test_cliff_minimum_is_stationary_and_global(c):
    m = c.global_min
    assert abs(c.grad(m)[0]) < 1e-12
    xs = np.linspace(-5, 10, 20001)[:, None]
    assert c.f(xs).min() >= c.f_min - 1e-15
    assert c.curvature(float(m[0])) > 0


def test_cliff_slopes_are_what_the_docstring_says():
    c = cliff()
    assert c.grad([6.0])[0] == pytest.approx(0.1 + 5.0, rel=1e-2)
    assert c.grad([1.5])[0] == pytest.approx(0.1, rel=0.1)
    assert abs(c.global_min[0]) < 1e-3


def test_cliff_f_accepts_a_grid():
    c = cliff()
    X = np.linspace(-1, 6, 11)[:, None]
    np.testing.assert_allclose(c.f(X), [c.value(x) for x in X], rtol=1e-14)


# ------------------------------------------------------------------ run_with_state
def adagrad(x, g, G, lr, eps=1e-10):
    G = G + g * g
    return x - lr * g / (np.sqrt(G) + eps), G


def adam_like(x, g, m, v, t, lr=0.1, b1=0.9, b2=0.99, eps=1e-8):
    m = b1 * m + (1 - b1) * g
    v = b2 * v + (1 - b2) * g * g
    return x - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps), m, v


@pytest.mark.parametrize("step, hyper", [(adagrad, dict(lr=0.5)), (adam_like, dict(lr=0.05)),
                                         (lambda x, g, lr: x - lr * g, dict(lr=0.01))])
def test_run_with_state_matches_run_and_keeps_every_state(step, hyper):
    land = dl.ravine(20, 30)
    traj, states = run_with_state(step, land, [-1.5, 1.0], 40, **hyper)
    plain = dl.run(step, land, [-1.5, 1.0], 40, **hyper)
    np.testing.assert_array_equal(traj.xs, plain.xs)
    np.testing.assert_array_equal(traj.losses, plain.losses)
    for arr in states.values():
        assert arr.shape == (41, 2)
        np.testing.assert_array_equal(arr[0], 0.0)
    if step is adagrad:
        grads = np.array([land.grad(x) for x in traj.xs[:-1]])
        np.testing.assert_allclose(states["G"][1:], np.cumsum(grads ** 2, axis=0), rtol=1e-12)
    if step is adam_like:
        assert set(states) == {"m", "v"}
