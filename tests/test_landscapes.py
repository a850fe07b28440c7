"""The landscapes of the student toolkit are what every trajectory, plot and experiment
of the course stands on: each ``grad`` must be the exact gradient of its ``f``, each
listed minimum a true local minimum (the global one first), and the closed-form facts
the notebooks quote (2/L, the best rates of GD and heavy ball) must be what an
optimizer actually does on them."""
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import descentlab as dl

# ---------------------------------------------------------------------------------------
# The landscapes under test
# ---------------------------------------------------------------------------------------
QUADRATICS = [
    dl.quadratic(1.0, 0.0),
    dl.quadratic(4.0, 30.0),
    dl.quadratic(10.0, 0.0),
    dl.quadratic(10.0, 90.0),
    dl.quadratic(100.0, -45.0),
    dl.quadratic(25.0, 60.0, curvature=0.5),
    dl.quadratic(3.0, 135.0, curvature=2.0),
    dl.ravine(),
    dl.ravine(200.0, 15.0),
]
DOUBLE_WELLS = [dl.double_well(0.05), dl.double_well(), dl.double_well(0.38)]
OTHERS = [dl.rosenbrock(), dl.rosenbrock(0.5, 10.0), dl.saddle(), dl.himmelblau()]
LANDSCAPES = QUADRATICS + DOUBLE_WELLS + OTHERS


def ids(landscapes):
    return [ls.name for ls in landscapes]


def over(landscapes):
    return pytest.mark.parametrize("landscape", landscapes, ids=ids(landscapes))


def rel_err(actual, expected, floor=1e-3):
    """Norm-wise relative error of a gradient. The scale is floored at ``floor`` so that
    next to a stationary point, where any relative comparison is meaningless, the
    comparison becomes an absolute one at that level."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, f"shape {actual.shape} != {expected.shape}"
    return np.linalg.norm(actual - expected) / max(np.linalg.norm(expected), floor)


def fd_grad(f, x, h=1e-3):
    """Fourth-order central differences of ``f`` at ``x`` (any stack (..., dim) at once).
    Every landscape is a polynomial of degree <= 4, for which this stencil has no
    truncation error, so what is left is rounding (~1e-9 at worst in the windows)."""
    x = np.asarray(x, dtype=float)
    g = np.zeros_like(x)
    for i in range(x.shape[-1]):
        e = np.zeros(x.shape[-1])
        e[i] = h
        g[..., i] = (f(x - 2 * e) - 8 * f(x - e) + 8 * f(x + e) - f(x + 2 * e)) / (12 * h)
    return g


def fd_hessian(landscape, x, h=1e-4):
    """Central differences of the (exact) gradient, symmetrised."""
    x = np.asarray(x, dtype=float)
    H = np.zeros((landscape.dim, landscape.dim))
    for i in range(landscape.dim):
        e = np.zeros(landscape.dim)
        e[i] = h
        H[:, i] = (landscape.grad(x + e) - landscape.grad(x - e)) / (2 * h)
    return 0.5 * (H + H.T)


def points_in(landscape):
    """A point of shape (dim,) anywhere in the landscape's plotting window."""
    return st.tuples(*[st.floats(lo, hi, allow_nan=False, allow_infinity=False)
                       for lo, hi in landscape.bounds]).map(lambda t: np.array(t, dtype=float))


def autograd(landscape, x):
    xt = torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=True)
    y = landscape.f(xt)
    assert isinstance(y, torch.Tensor) and y.shape == (), \
        f"{landscape.name}: f on a torch tensor of shape ({landscape.dim},) gave {y!r}"
    y.backward()
    return xt.grad.numpy()


# ---------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------
@over(LANDSCAPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_grad_matches_finite_differences(landscape, data):
    x = data.draw(points_in(landscape), label="x")
    g = landscape.grad(x)
    err = rel_err(g, fd_grad(landscape.f, x))
    assert err < 1e-6, f"{landscape.name}: grad {g} vs finite differences at {x} (rel. error {err:.1e})"


@over(LANDSCAPES)
def test_grad_matches_finite_differences_on_many_seeded_points(landscape):
    rng = np.random.default_rng(0)
    lo, hi = np.array(landscape.bounds, dtype=float).T
    X = lo + (hi - lo) * rng.random((400, landscape.dim))
    fd = fd_grad(landscape.f, X)  # f evaluated on the whole stack at once
    for x, expected in zip(X, fd, strict=True):
        err = rel_err(landscape.grad(x), expected)
        assert err < 1e-6, f"{landscape.name}: grad at {x} off by rel. error {err:.1e}"


@over(LANDSCAPES)
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_grad_matches_torch_autograd(landscape, data):
    x = data.draw(points_in(landscape), label="x")
    g = landscape.grad(x)
    auto = autograd(landscape, x)
    err = rel_err(g, auto)
    assert err < 1e-12, f"{landscape.name}: grad {g} vs autograd {auto} at {x} (rel. error {err:.1e})"


@over(LANDSCAPES)
def test_grad_has_the_shape_of_a_point_and_leaves_it_alone(landscape):
    x = np.array([lo + 0.3 * (hi - lo) for lo, hi in landscape.bounds])
    before = x.copy()
    assert landscape.grad(x).shape == (landscape.dim,)
    np.testing.assert_array_equal(x, before)


# ---------------------------------------------------------------------------------------
# f on grids
# ---------------------------------------------------------------------------------------
@over(LANDSCAPES)
def test_f_accepts_a_grid_and_returns_its_shape(landscape):
    # strict=False: a 1-D landscape takes only the first of the two grid sizes
    axes = [np.linspace(lo, hi, n) for (lo, hi), n in zip(landscape.bounds, (7, 5), strict=False)]
    grid = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1)  # (7, 5, 2) or (7, 1)
    values = landscape.f(grid)
    assert values.shape == grid.shape[:-1]
    for idx in np.ndindex(*grid.shape[:-1]):
        assert values[idx] == pytest.approx(landscape.value(grid[idx]), rel=1e-14, abs=1e-14)

    stack = np.random.default_rng(1).normal(size=(2, 3, 4, landscape.dim))
    assert landscape.f(stack).shape == (2, 3, 4)
    assert np.ndim(landscape.f(stack[0, 0, 0])) == 0
    assert isinstance(landscape.value(stack[0, 0, 0]), float)


# ---------------------------------------------------------------------------------------
# Minima
# ---------------------------------------------------------------------------------------
def minima_cases():
    cases = []
    for ls in LANDSCAPES:
        for i in range(len(ls.minima)):
            cases.append(pytest.param(ls, i, id=f"{ls.name}-min{i}"))
    return cases


@pytest.mark.parametrize("landscape, i", minima_cases())
def test_listed_minimum_is_stationary(landscape, i):
    m = np.asarray(landscape.minima[i], dtype=float)
    assert m.shape == (landscape.dim,)
    gnorm = np.linalg.norm(landscape.grad(m))
    assert gnorm < 1e-5, f"{landscape.name}: |grad| = {gnorm:.1e} at listed minimum {m.tolist()}"


@pytest.mark.parametrize("landscape, i", [pytest.param(ls, i, id=f"{ls.name}-min{i}")
                                          for ls in LANDSCAPES for i in range(len(ls.minima))])
def test_listed_minimum_is_a_local_minimum(landscape, i):
    m = np.asarray(landscape.minima[i], dtype=float)
    f0 = landscape.value(m)
    if landscape.dim == 1:
        directions = np.array([[1.0], [-1.0]])
    else:
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        directions = np.stack([np.cos(angles), np.sin(angles)], axis=-1)
    for r in (1e-3, 1e-2):
        for u in directions:
            assert landscape.value(m + r * u) > f0, \
                f"{landscape.name}: f decreases from listed minimum {m.tolist()} along {u} (r={r})"
    eig = np.linalg.eigvalsh(fd_hessian(landscape, m))
    assert np.all(eig > 0), f"{landscape.name}: Hessian at {m.tolist()} has eigenvalues {eig}"


@over(LANDSCAPES)
def test_global_minimum_is_listed_first(landscape):
    values = [landscape.value(m) for m in landscape.minima]
    assert landscape.f_min == values[0]
    np.testing.assert_array_equal(landscape.global_min, landscape.minima[0])
    assert all(values[0] <= v + 1e-12 for v in values), f"{landscape.name}: f at minima {values}"


def test_himmelblau_has_four_minima_all_at_zero():
    h = dl.himmelblau()
    assert len(h.minima) == 4
    values = [h.value(m) for m in h.minima]
    assert all(abs(v) < 1e-9 for v in values), values
    # four distinct points
    M = np.array(h.minima)
    assert min(np.linalg.norm(a - b) for i, a in enumerate(M) for b in M[i + 1:]) > 1.0


# ---------------------------------------------------------------------------------------
# Double well
# ---------------------------------------------------------------------------------------
@over(DOUBLE_WELLS)
def test_double_well_local_minimum_is_shallower_and_barrier_separates(landscape):
    (xg,), (xl,), (xb,) = landscape.global_min, landscape.local_min, landscape.barrier
    fg, fl, fb = (landscape.value([v]) for v in (xg, xl, xb))
    np.testing.assert_array_equal(landscape.local_min, landscape.minima[1])
    assert len(landscape.minima) == 2
    # the local minimum is genuinely shallower: by about 2 * tilt for these tilts
    assert fl - fg > landscape.tilt, f"f(global)={fg}, f(local)={fl}, tilt={landscape.tilt}"
    # the barrier lies between the two minima, higher than both, and is a local maximum
    assert xg < xb < xl
    assert fb > fl > fg
    assert abs(landscape.grad(landscape.barrier)[0]) < 1e-12
    for d in (1e-4, 1e-3):
        assert landscape.value([xb + d]) < fb and landscape.value([xb - d]) < fb
    assert fd_hessian(landscape, landscape.barrier)[0, 0] < 0


@pytest.mark.parametrize("tilt", [0.0, -0.1, 2 / (3 * np.sqrt(3)), 0.385, 0.5, 1.0, float("nan")])
def test_double_well_rejects_invalid_tilt(tilt):
    with pytest.raises(ValueError):
        dl.double_well(tilt)
    with pytest.raises(ValueError):
        dl.DoubleWell(tilt)


# ---------------------------------------------------------------------------------------
# Quadratic
# ---------------------------------------------------------------------------------------
def sgd_step(x, g, lr):
    return x - lr * g


def heavy_ball_step(x, g, v, lr, beta):
    v = beta * v + g
    return x - lr * v, v


def eigvecs(q):
    """Unit eigenvectors of A for mu and for L."""
    w, V = np.linalg.eigh(q.A)
    return V[:, 0], V[:, 1]


def start(q):
    """A start with equal weight on the flat and the steep axis."""
    v_mu, v_L = eigvecs(q)
    return q.global_min + v_mu + v_L


def fitted_rate(distances, tail_from):
    """Per-step contraction rate: exp of the least-squares slope of log(distance) over
    the tail of the sequence."""
    d = np.asarray(distances[tail_from:], dtype=float)
    assert np.all(d > 0) and np.all(np.isfinite(d)), d
    k = np.arange(tail_from, tail_from + len(d))
    return float(np.exp(np.polyfit(k, np.log(d), 1)[0]))


@over(QUADRATICS)
def test_quadratic_eigenvalues_and_orientation(landscape):
    q = landscape
    curvature = q.mu
    np.testing.assert_allclose(q.A, q.A.T, rtol=1e-14)  # symmetric up to rounding
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), np.array([1.0, q.kappa]) * curvature,
                               rtol=1e-12)
    assert q.L == pytest.approx(q.kappa * q.mu, rel=1e-15)
    # the steep axis is the y axis rotated by ``angle`` degrees
    a = np.radians(q.angle)
    if q.kappa > 1:  # (with kappa = 1 every direction is an eigenvector)
        _, v_L = eigvecs(q)
        assert abs(v_L @ np.array([-np.sin(a), np.cos(a)])) == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(q.global_min, np.zeros(2))


@pytest.mark.parametrize("kappa, angle, curvature", [(1, 0, 1), (10, 30, 2.0), (7, -20, 0.3)])
def test_quadratic_factory_sets_curvature(kappa, angle, curvature):
    q = dl.quadratic(kappa, angle, curvature)
    np.testing.assert_allclose(np.linalg.eigvalsh(q.A), [curvature, kappa * curvature], rtol=1e-12)
    assert (q.mu, q.L) == pytest.approx((curvature, kappa * curvature))


@over(QUADRATICS)
def test_max_stable_lr_is_the_gd_threshold(landscape):
    q = landscape
    assert q.max_stable_lr == pytest.approx(2.0 / q.L, rel=1e-15)
    x0 = start(q)
    below = dl.run(sgd_step, q, x0, 1500, lr=0.99 * q.max_stable_lr)
    above = dl.run(sgd_step, q, x0, 1500, lr=1.01 * q.max_stable_lr)
    d_below, d_above = below.distance_to(q.global_min), above.distance_to(q.global_min)
    assert d_below[-1] < 1e-6 * d_below[0], f"lr = 0.99 * 2/L did not converge: {d_below[-1]:.2e}"
    assert d_above[-1] > 1e6 * d_above[0], f"lr = 1.01 * 2/L did not diverge: {d_above[-1]:.2e}"
    assert not below.diverged


GD_CASES = [q for q in QUADRATICS if q.kappa > 1]


@over(GD_CASES)
def test_best_gd_rate_is_the_measured_rate(landscape):
    """On a quadratic GD is linear, with the flat and steep modes contracting by
    |1 - lr mu| = |1 - lr L| = (k-1)/(k+1) at the best lr: the measured rate is exact."""
    q = landscape
    lr, rate = q.best_gd
    assert lr == pytest.approx(2.0 / (q.mu + q.L))
    traj = dl.run(sgd_step, q, start(q), 200, lr=lr)
    measured = fitted_rate(traj.distance_to(q.global_min), 100)
    assert measured == pytest.approx(rate, rel=1e-6)
    # and it is the best constant step: a little more or less is slower
    for factor in (0.95, 1.05):
        other = dl.run(sgd_step, q, start(q), 200, lr=factor * lr)
        assert fitted_rate(other.distance_to(q.global_min), 100) > rate


@over(GD_CASES)
def test_best_momentum_rate_is_the_measured_rate(landscape):
    """With Polyak's tuning both heavy-ball modes have a double root of modulus
    sqrt(beta), so the distance decays like k * rate**k: the rate holds only
    asymptotically. Fitted over the second half of at most 300 steps, the bias is
    about 1/(0.75 steps) (< 1% here); we allow 5%."""
    q = landscape
    lr, beta, rate = q.best_momentum
    assert rate == pytest.approx(np.sqrt(beta), rel=1e-12)
    # as many steps as keep the distance above ~1e-100 (its square must not underflow)
    steps = int(min(300, 100 / -np.log10(rate)))
    traj = dl.run(heavy_ball_step, q, start(q), steps, lr=lr, beta=beta)
    measured = fitted_rate(traj.distance_to(q.global_min), steps // 2)
    assert measured == pytest.approx(rate, rel=0.05), f"measured {measured:.4f}, stated {rate:.4f}"
    assert rate < q.best_gd[1]


# ---------------------------------------------------------------------------------------
# Saddle
# ---------------------------------------------------------------------------------------
def test_saddle_point_at_origin():
    s = dl.saddle()
    np.testing.assert_array_equal(s.saddle_point, np.zeros(2))
    assert np.linalg.norm(s.grad(s.saddle_point)) == 0.0
    eig = np.linalg.eigvalsh(fd_hessian(s, s.saddle_point))
    assert np.sum(eig < 0) == 1 and np.sum(eig > 0) == 1, eig
    np.testing.assert_allclose(eig, [-1.0, 1.0], atol=1e-6)
    f0 = s.value(s.saddle_point)
    assert s.value([0.0, 1e-3]) < f0 < s.value([1e-3, 0.0])
    # GD started exactly on the stable manifold stays there; off it, it escapes to a minimum
    on = dl.run(sgd_step, s, [1.0, 0.0], 200, lr=0.1)
    off = dl.run(sgd_step, s, [1.0, 1e-6], 400, lr=0.1)
    assert np.linalg.norm(on.final) < 1e-8
    assert np.linalg.norm(off.final - s.minima[0]) < 1e-6
