"""``descentlab.run`` drives every step function of the course (the forms of DESIGN.md:
``step(x, g, *state, **hyper)`` returning ``x`` or ``(x, *state)``) over a landscape.
The step functions here are small correct implementations written for this test;
the runner is checked against hand-written loops and against ``torch.optim``."""
import warnings

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab import Trajectory


# ---------------------------------------------------------------------------------------
# Step functions in the forms of the contract (no grader import)
# ---------------------------------------------------------------------------------------
def sgd_step(x, g, lr):
    return x - lr * g


def momentum_step(x, g, v, lr, beta):
    v = beta * v + g
    return x - lr * v, v


def nesterov_step(x, g, v, lr, beta):
    v = beta * v + g
    return x - lr * (g + beta * v), v


def adagrad_step(x, g, G, lr, eps=1e-10):
    G = G + g * g
    return x - lr * g / (np.sqrt(G) + eps), G


def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    s = alpha * s + (1 - alpha) * g * g
    return x - lr * g / (np.sqrt(s) + eps), s


def adam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    m_hat, v_hat = m / (1 - beta1 ** t), v / (1 - beta2 ** t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m, v


def adamw_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    return adam_step(x * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps)


# name -> (step, hyperparameters, number of state arrays, takes t)
CASES = {
    "sgd": (sgd_step, dict(lr=1e-3), 0, False),
    "momentum": (momentum_step, dict(lr=1e-3, beta=0.9), 1, False),
    "nesterov": (nesterov_step, dict(lr=1e-3, beta=0.8), 1, False),
    "adagrad": (adagrad_step, dict(lr=0.1), 1, False),
    "adagrad eps": (adagrad_step, dict(lr=0.1, eps=0.5), 1, False),
    "rmsprop": (rmsprop_step, dict(lr=0.01, alpha=0.9), 1, False),
    "adam": (adam_step, dict(lr=0.05), 2, True),
    "adam betas": (adam_step, dict(lr=0.05, beta1=0.5, beta2=0.9, eps=1e-3), 2, True),
    "adamw": (adamw_step, dict(lr=0.05, weight_decay=0.1), 2, True),
}
case_params = pytest.mark.parametrize("case", list(CASES))

ROSENBROCK_X0 = np.array([-1.5, 2.0])


def hand_loop(step, landscape, x0, steps, n_state, takes_t, **hyper):
    """What ``run`` must do, written out: state arrays start at zero, t counts from 1."""
    x = np.array(x0, dtype=float).reshape(landscape.dim)
    state = [np.zeros(landscape.dim) for _ in range(n_state)]
    xs = [x]
    for t in range(1, steps + 1):
        extra = {"t": t} if takes_t else {}
        out = step(x, landscape.grad(x), *state, **extra, **hyper)
        if n_state:
            x, state = out[0], list(out[1:])
        else:
            x = out
        xs.append(x)
    return np.array(xs)


# ---------------------------------------------------------------------------------------
# Shapes, start, losses, agreement with a hand loop and with torch.optim
# ---------------------------------------------------------------------------------------
@case_params
@pytest.mark.parametrize("landscape, x0", [(dl.rosenbrock(), ROSENBROCK_X0),
                                           (dl.double_well(), np.array([1.7])),
                                           (dl.quadratic(10, 30), np.array([1.0, -1.5]))],
                         ids=["rosenbrock", "double_well", "quadratic"])
def test_shapes_start_and_losses(case, landscape, x0):
    step, hyper, _, _ = CASES[case]
    steps = 25
    x0_before = x0.copy()
    traj = dl.run(step, landscape, x0, steps, **hyper)
    assert isinstance(traj, Trajectory)
    assert traj.xs.shape == (steps + 1, landscape.dim)
    assert traj.losses.shape == (steps + 1,)
    np.testing.assert_array_equal(traj.xs[0], x0)
    np.testing.assert_array_equal(traj.final, traj.xs[-1])
    np.testing.assert_array_equal(x0, x0_before)  # the caller's start is not touched
    for x, loss in zip(traj.xs, traj.losses, strict=True):
        assert loss == pytest.approx(float(landscape.f(x)), rel=1e-15, abs=1e-300)
    np.testing.assert_allclose(traj.losses, landscape.f(traj.xs), rtol=1e-15)
    assert not traj.diverged
    # it actually moved
    assert np.linalg.norm(traj.final - traj.xs[0]) > 0


@case_params
@pytest.mark.parametrize("landscape, x0", [(dl.rosenbrock(), ROSENBROCK_X0),
                                           (dl.himmelblau(), np.array([0.5, -4.0])),
                                           (dl.double_well(0.1), np.array([0.2]))],
                         ids=["rosenbrock", "himmelblau", "double_well"])
def test_matches_hand_loop_with_state_starting_at_zero(case, landscape, x0):
    step, hyper, n_state, takes_t = CASES[case]
    traj = dl.run(step, landscape, x0, 40, **hyper)
    expected = hand_loop(step, landscape, x0, 40, n_state, takes_t, **hyper)
    np.testing.assert_array_equal(traj.xs, expected)


def torch_run(opt_cls, landscape, x0, steps, **kw):
    x = torch.tensor(np.asarray(x0, dtype=float), dtype=torch.float64, requires_grad=True)
    opt = opt_cls([x], **kw)
    xs = [x.detach().numpy().copy()]
    for _ in range(steps):
        opt.zero_grad()
        landscape.f(x).backward()
        opt.step()
        xs.append(x.detach().numpy().copy())
    return np.array(xs)


@pytest.mark.parametrize("case, opt_cls, kw", [
    ("momentum", torch.optim.SGD, dict(lr=1e-3, momentum=0.9)),
    ("nesterov", torch.optim.SGD, dict(lr=1e-3, momentum=0.8, nesterov=True)),
    ("adagrad", torch.optim.Adagrad, dict(lr=0.1)),
    ("rmsprop", torch.optim.RMSprop, dict(lr=0.01, alpha=0.9)),
    ("adam", torch.optim.Adam, dict(lr=0.05)),
    ("adam betas", torch.optim.Adam, dict(lr=0.05, betas=(0.5, 0.9), eps=1e-3)),
    ("adamw", torch.optim.AdamW, dict(lr=0.05, weight_decay=0.1)),
], ids=["momentum", "nesterov", "adagrad", "rmsprop", "adam", "adam betas", "adamw"])
def test_matches_torch_optim(case, opt_cls, kw):
    """An outside oracle for zero initial state and 1-based t: torch.optim on the same f."""
    step, hyper, _, _ = CASES[case]
    landscape = dl.rosenbrock()
    traj = dl.run(step, landscape, ROSENBROCK_X0, 60, **hyper)
    expected = torch_run(opt_cls, landscape, ROSENBROCK_X0, 60, **kw)
    np.testing.assert_allclose(traj.xs, expected, rtol=1e-9, atol=1e-12)


def test_state_arrays_start_at_zero_and_are_threaded_through():
    seen = []

    def recording_adam(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        seen.append((m.copy(), v.copy()))
        return adam_step(x, g, m, v, t, lr, beta1, beta2, eps)

    landscape = dl.rosenbrock()
    dl.run(recording_adam, landscape, ROSENBROCK_X0, 5, lr=0.01)
    m0, v0 = seen[0]
    assert m0.shape == v0.shape == (2,) and m0.dtype == v0.dtype == np.float64
    np.testing.assert_array_equal(m0, 0.0)
    np.testing.assert_array_equal(v0, 0.0)
    # the state handed to call k+1 is the state returned by call k
    g0 = landscape.grad(ROSENBROCK_X0)
    _, m1, v1 = adam_step(ROSENBROCK_X0, g0, np.zeros(2), np.zeros(2), 1, lr=0.01)
    np.testing.assert_array_equal(seen[1][0], m1)
    np.testing.assert_array_equal(seen[1][1], v1)


def test_t_is_passed_one_based_and_only_to_functions_that_take_it():
    ts = []

    def recording_adam(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        ts.append(t)
        return adam_step(x, g, m, v, t, lr, beta1, beta2, eps)

    dl.run(recording_adam, dl.quadratic(), [1.0, 1.0], 7, lr=0.1)
    assert ts == [1, 2, 3, 4, 5, 6, 7]
    assert all(type(t) is int for t in ts)

    calls = []

    def strict_momentum(x, g, v, lr, beta):  # no t: passing one would raise TypeError
        calls.append(1)
        return momentum_step(x, g, v, lr, beta)

    dl.run(strict_momentum, dl.quadratic(), [1.0, 1.0], 3, lr=0.1, beta=0.5)
    assert len(calls) == 3


def test_hyperparameters_are_forwarded_by_name():
    landscape = dl.rosenbrock()
    default = dl.run(adagrad_step, landscape, ROSENBROCK_X0, 10, lr=0.1)
    large_eps = dl.run(adagrad_step, landscape, ROSENBROCK_X0, 10, lr=0.1, eps=10.0)
    assert not np.allclose(default.xs, large_eps.xs)
    np.testing.assert_array_equal(
        large_eps.xs, hand_loop(adagrad_step, landscape, ROSENBROCK_X0, 10, 1, False, lr=0.1, eps=10.0))
    # lr = 0 changes nothing; beta = 0 is plain SGD
    still = dl.run(momentum_step, landscape, ROSENBROCK_X0, 5, lr=0.0, beta=0.9)
    np.testing.assert_array_equal(still.xs, np.tile(ROSENBROCK_X0, (6, 1)))
    np.testing.assert_allclose(dl.run(momentum_step, landscape, ROSENBROCK_X0, 20, lr=1e-3, beta=0.0).xs,
                               dl.run(sgd_step, landscape, ROSENBROCK_X0, 20, lr=1e-3).xs, rtol=1e-15)


def test_zero_steps():
    traj = dl.run(adam_step, dl.rosenbrock(), ROSENBROCK_X0, 0, lr=0.1)
    assert traj.xs.shape == (1, 2) and traj.losses.shape == (1,)
    np.testing.assert_array_equal(traj.final, ROSENBROCK_X0)
    assert traj.steps_to_reach(ROSENBROCK_X0, 0.0) == 0


# ---------------------------------------------------------------------------------------
# Return forms and start forms
# ---------------------------------------------------------------------------------------
def test_step_returning_a_list_works():
    def momentum_list(x, g, v, lr, beta):
        return list(momentum_step(x, g, v, lr, beta))

    def adam_list(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
        return [*adam_step(x, g, m, v, t, lr, beta1, beta2, eps)]

    def sgd_list(x, g, lr):  # a point given back as a plain list
        return list(sgd_step(x, g, lr))

    landscape = dl.rosenbrock()
    for as_list, as_tuple, hyper in [(momentum_list, momentum_step, dict(lr=1e-3, beta=0.9)),
                                     (adam_list, adam_step, dict(lr=0.05)),
                                     (sgd_list, sgd_step, dict(lr=1e-3))]:
        got = dl.run(as_list, landscape, ROSENBROCK_X0, 30, **hyper)
        want = dl.run(as_tuple, landscape, ROSENBROCK_X0, 30, **hyper)
        np.testing.assert_array_equal(got.xs, want.xs)
        np.testing.assert_array_equal(got.losses, want.losses)


@pytest.mark.parametrize("x0", [1.5, 1, [1.5], (1.5,), np.array([1.5]), np.array(1.5), np.float64(1.5)],
                         ids=["float", "int", "list", "tuple", "array (1,)", "array ()", "np.float64"])
def test_one_dimensional_landscape_accepts_scalar_or_list_start(x0):
    well = dl.double_well()
    traj = dl.run(sgd_step, well, x0, 200, lr=0.1)
    assert traj.xs.shape == (201, 1) and traj.losses.shape == (201,)
    assert traj.xs[0, 0] == float(np.ravel(x0)[0])
    # started right of the barrier, plain GD settles in the shallow local minimum
    assert traj.distance_to(well.local_min)[-1] < 1e-8
    assert traj.losses[-1] == pytest.approx(well.value(well.local_min), abs=1e-12)
    for step, hyper in [(momentum_step, dict(lr=0.05, beta=0.5)), (adam_step, dict(lr=0.05))]:
        t = dl.run(step, well, x0, 30, **hyper)
        assert t.xs.shape == (31, 1) and np.all(np.isfinite(t.losses))


def test_one_dimensional_left_start_reaches_global_minimum():
    well = dl.double_well()
    traj = dl.run(momentum_step, well, [-0.5], 300, lr=0.05, beta=0.5)
    assert traj.distance_to(well.global_min)[-1] < 1e-8


def test_two_dimensional_start_as_list_of_ints():
    q = dl.quadratic(10, 0)
    traj = dl.run(sgd_step, q, [1, 2], 3, lr=0.1)
    assert traj.xs.dtype == np.float64 and traj.xs.shape == (4, 2)
    np.testing.assert_allclose(traj.xs[1], [1 - 0.1 * 1, 2 - 0.1 * 10 * 2])


# ---------------------------------------------------------------------------------------
# Divergence
# ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("step, hyper", [
    (sgd_step, dict(lr=3.0)),                # 3 * 2/L on quadratic(kappa=10): |1 - lr L| = 5
    (momentum_step, dict(lr=3.0, beta=0.9)),  # heavy ball is stable only for lr L < 2 (1 + beta)
], ids=["sgd", "momentum"])
def test_diverging_run_keeps_inf_and_nan_without_raising_or_warning(step, hyper):
    q = dl.quadratic(10.0, 30.0)
    hyper = {k: (v * q.max_stable_lr if k == "lr" else v) for k, v in hyper.items()}
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # overflow warnings are silenced inside run
        traj = dl.run(step, q, [1.0, 1.0], 1000, **hyper)
    assert traj.xs.shape == (1001, 2) and traj.losses.shape == (1001,)
    assert np.isfinite(traj.losses[0])
    bad = ~np.isfinite(traj.losses)
    assert bad.any(), "the loss never overflowed"
    assert np.isinf(traj.losses).any() or np.isnan(traj.losses).any()
    first_bad = int(np.argmax(bad))
    assert bad[first_bad:].all(), "once overflowed the path should not come back"
    assert traj.diverged
    with np.errstate(over="ignore"):  # distance_to itself is not silenced (see report)
        assert traj.steps_to_reach(q.global_min, 1.0) is None


def test_converging_run_is_not_diverged():
    q = dl.quadratic(10.0, 30.0)
    traj = dl.run(sgd_step, q, [1.0, 1.0], 200, lr=0.9 * q.max_stable_lr)
    assert not traj.diverged


# ---------------------------------------------------------------------------------------
# distance_to and steps_to_reach
# ---------------------------------------------------------------------------------------
def make(points):
    xs = np.array(points, dtype=float).reshape(len(points), -1)
    return Trajectory(xs, np.zeros(len(points)))


def test_distance_to():
    traj = make([[3.0, 4.0], [0.0, 1.0], [0.0, 0.0], [1.0, 1.0]])
    for point in ([0.0, 0.0], (0, 0), np.zeros(2)):
        d = traj.distance_to(point)
        assert d.shape == (4,)
        np.testing.assert_allclose(d, [5.0, 1.0, 0.0, np.sqrt(2)])
    np.testing.assert_allclose(traj.distance_to([1.0, 1.0]), [np.sqrt(13), 1.0, np.sqrt(2), 0.0])


@pytest.mark.parametrize("path, tol, expected", [
    ([5.0, 3.0, 0.5, 0.1, 0.0], 1.0, 2),       # enters at update 2 and stays
    ([0.5, 0.2, 0.1], 1.0, 0),                 # within from the start
    ([5.0, 0.5, 2.0, 0.5, 0.1], 1.0, 3),       # leaves again: counts from the last entry
    ([5.0, 0.5, 0.1, 2.0], 1.0, None),         # ends outside
    ([5.0, 4.0, 3.0], 1.0, None),              # never gets there
    ([5.0, 1.0, 1.0], 1.0, 1),                 # exactly at tol counts as within
    ([5.0, np.nan, 0.5], 1.0, 2),              # nan is not within
    ([0.5, 0.5, np.inf], 1.0, None),           # overflow at the end
    ([-0.5, 0.5, 0.9], 1.0, 0),                # distance, not signed offset
])
def test_steps_to_reach(path, tol, expected):
    traj = make([[p] for p in path])
    got = traj.steps_to_reach([0.0], tol)
    assert got == expected
    assert got is None or type(got) is int


def test_steps_to_reach_on_gd_matches_closed_form():
    """On quadratic(kappa, angle 0) GD from (1, 1) is x_k = ((1 - lr mu)^k, (1 - lr L)^k):
    the distance falls monotonically, so the answer is the first k with distance <= tol."""
    q = dl.quadratic(10.0, 0.0)
    lr = 0.1
    traj = dl.run(sgd_step, q, [1.0, 1.0], 300, lr=lr)
    k = np.arange(301)
    closed = np.stack([(1 - lr * q.mu) ** k, (1 - lr * q.L) ** k], axis=-1)
    np.testing.assert_allclose(traj.xs, closed, rtol=1e-10, atol=1e-300)
    for tol in (0.5, 1e-3, 1e-9):
        dist = np.linalg.norm(closed, axis=-1)
        first = int(np.argmax(dist <= tol))
        assert traj.steps_to_reach(q.global_min, tol) == first
        assert np.all(traj.distance_to(q.global_min)[first:] <= tol)
    assert traj.steps_to_reach(q.global_min, 1e-30) is None  # (0.9)^300 ~ 2e-14


# ---------------------------------------------------------------------------------------
# How run tells state from settings: passed by the caller or defaulted means a setting
# ---------------------------------------------------------------------------------------
def test_hyperparameter_with_another_name_is_forwarded():
    """The CS231n momentum form the notebooks show, v = mu v - lr g; x = x + v."""
    def cs231n_momentum_step(x, g, v, lr, mu):
        v = mu * v - lr * g
        return x + v, v

    traj = dl.run(cs231n_momentum_step, dl.quadratic(), [1.0, 1.0], 10, lr=0.01, mu=0.9)
    assert traj.xs.shape == (11, 2)


def test_parameter_with_default_is_not_state():
    def sgd_step_with_option(x, g, lr, maximize=False):
        return x + lr * g if maximize else x - lr * g

    traj = dl.run(sgd_step_with_option, dl.quadratic(), [1.0, 1.0], 10, lr=0.01)
    np.testing.assert_array_equal(traj.xs, dl.run(sgd_step, dl.quadratic(), [1.0, 1.0], 10, lr=0.01).xs)


LANDSCAPES = {
    "ravine": lambda: dl.ravine(50, angle=30),
    "rosenbrock": dl.rosenbrock,
    "double_well": dl.double_well,
    "saddle": dl.saddle,
    "himmelblau": dl.himmelblau,
    "sparse_regression": lambda: __import__("descentlab.adaptive_problems").adaptive_problems.sparse_regression(),
    "cliff": lambda: __import__("descentlab.adaptive_problems").adaptive_problems.cliff(),
    "scaled": lambda: __import__("descentlab.adam_problems").adam_problems.scaled(dl.ravine(10), 1e3),
}


@pytest.mark.parametrize("name", LANDSCAPES)
def test_the_runs_losses_are_the_landscapes_values_bit_for_bit(name):
    """The runner evaluates the path's losses in one vectorized call; they must be exactly
    what ``landscape.value`` gives point by point (notebook claims compare them)."""
    land = LANDSCAPES[name]()
    rng = np.random.default_rng(0)
    x0 = np.array([0.8 * lo for lo, _ in land.bounds])
    for lr in (1e-3, 1e-2, 0.3):  # the last one diverges on several landscapes
        traj = dl.run(momentum_step, land, x0, 60, lr=lr, beta=0.9)
        with np.errstate(over="ignore", invalid="ignore"):
            expected = np.array([land.value(x) for x in traj.xs])
        np.testing.assert_array_equal(traj.losses, expected)
    points = rng.uniform(-2, 2, size=(50, land.dim))
    np.testing.assert_array_equal(land.f(points), [land.value(p) for p in points])


def test_an_attribute_on_a_students_step_does_not_change_how_it_is_run():
    def sgd(x, g, lr):
        return x - lr * g
    sgd.run_path = lambda landscape, x0, steps, **hyper: np.zeros((steps + 1, 2))   # a forged path
    traj = dl.run(sgd, dl.ravine(10), [1.0, 1.0], 5, lr=0.01)
    assert traj.xs[0].tolist() == [1.0, 1.0] and not np.allclose(traj.xs, 0)
