"""``nadam_step`` and ``radam_step`` (grader.reference.nadam_radam) proven against torch.optim.

The oracles are ``torch.optim.NAdam`` and ``torch.optim.RAdam`` (weight_decay=0,
foreach=False) on float64 tensors. Hypothesis draws the cases (200 per test, derandomized,
no example database), as in tests/test_reference_vs_torch.py, whose error measure this
file follows: ``rel_error`` (|a - b| / max(floor, |a| + |b|), maximised over elements)
below ``REFERENCE_TOL`` = 1e-10, with a per-element *trajectory floor* for 100-step runs
(the largest |a_i| + |b_i| element i reaches over the run), and for single steps a floor
made of the magnitudes of the terms each output sums (a sum that cancels is judged
relative to what cancelled). The elementwise error with the default 1e-8 floor is
reported alongside, for information only.

torch keeps NAdam's ``step`` and ``mu_product`` as 0-d tensors of the *default* dtype's
scalar type (``_get_scalar_dtype()`` in torch/optim/optimizer.py): float32 unless the default
dtype is float64. A float32 mu_product rounds the product of the mus to ~6e-8 relative,
which moves NAdam's steps by ~1e-9 relative (8.7e-10 in the test below), whatever the
parameters' dtype. The float64
algorithm is torch's under ``torch.set_default_dtype(torch.float64)``, so every oracle run
here happens under that default (a module fixture, restored afterwards); a test below pins
the float32 behaviour so that this reason stays visible.

The worst case of each function over all examples is printed in the pytest terminal
summary (no ``-s`` needed), with the inputs that produced it.
"""
import inspect
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checks.tolerance import REFERENCE_TOL, rel_error
from grader.reference.nadam_radam import nadam_step, radam_step
from tests.worst_case import TINY, WorstCases, first_bad_step, fmt, trajectory_error

F64 = torch.float64
STEPS = 100  # length of every trajectory

CASES = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------- worst-case report

REPORT = WorstCases("nadam/radam reference vs torch: worst relative errors (float64)")
record = REPORT.record


@pytest.fixture(scope="module", autouse=True)
def _worst_case_report(request):
    REPORT.register(request)
    yield


@pytest.fixture(scope="module", autouse=True)
def _float64_default_single_thread():
    """float64 default dtype: torch then keeps NAdam's mu_product (and both step counts) in
    float64, see the module docstring. One intra-op thread: tiny tensors, and OpenMP workers
    contend on a busy machine. Both restored afterwards for the other test modules."""
    dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
    torch.set_default_dtype(torch.float64)
    torch.set_num_threads(1)
    yield
    torch.set_default_dtype(dtype)
    torch.set_num_threads(threads)








# ------------------------------------------------------------- the oracles

def mu_schedule(t, beta1, momentum_decay):
    """torch's mu_t (nadam.py line 347), for building consistent NAdam states."""
    return beta1 * (1.0 - 0.5 * (0.96 ** (float(t) * momentum_decay)))


def true_mu_product(t, beta1, momentum_decay):
    """mu_1 ... mu_t multiplied in torch's order (mu_product starts at 1.0)."""
    prod = 1.0
    for i in range(1, t + 1):
        prod *= mu_schedule(i, beta1, momentum_decay)
    return prod


def torch_optimizer(name, p, h):
    betas = (h["beta1"], h["beta2"])
    if name == "nadam_step":
        return torch.optim.NAdam([p], lr=h["lr"], betas=betas, eps=h["eps"], weight_decay=0.0,
                                 momentum_decay=h["momentum_decay"], decoupled_weight_decay=False,
                                 foreach=False)
    return torch.optim.RAdam([p], lr=h["lr"], betas=betas, eps=h["eps"], weight_decay=0.0,
                             decoupled_weight_decay=False, foreach=False)


def torch_single_step(name, x, g, m, v, t, h, mu_product=None):
    """torch's optimizer on a float64 tensor, its state set as after t - 1 updates."""
    p = torch.tensor(np.array(x, dtype=np.float64), requires_grad=True)
    p.grad = torch.tensor(np.array(g, dtype=np.float64))
    opt = torch_optimizer(name, p, h)
    state = {"step": torch.tensor(float(t - 1), dtype=F64),
             "exp_avg": torch.tensor(np.array(m, dtype=np.float64)),
             "exp_avg_sq": torch.tensor(np.array(v, dtype=np.float64))}
    if name == "nadam_step":
        state["mu_product"] = torch.tensor(float(mu_product), dtype=F64)
    opt.state[p] = state  # torch initialises state lazily only when it is empty
    opt.step()
    out = {"x": p.detach().numpy().copy(), "m": state["exp_avg"].numpy().copy(),
           "v": state["exp_avg_sq"].numpy().copy()}
    assert float(state["step"]) == t
    if name == "nadam_step":
        assert state["mu_product"].dtype == F64
        out["mu_product"] = float(state["mu_product"])
    return out


def reference_step(name, x, g, m, v, t, h, mu_product=None):
    if name == "nadam_step":
        x_new, m_new, v_new, mp = nadam_step(x, g, m, v, mu_product, t, lr=h["lr"], beta1=h["beta1"],
                                             beta2=h["beta2"], eps=h["eps"],
                                             momentum_decay=h["momentum_decay"])
        assert type(mp) is float, f"mu_product_new should be a Python float, got {type(mp)}"
        return {"x": x_new, "m": m_new, "v": v_new, "mu_product": mp}
    x_new, m_new, v_new = radam_step(x, g, m, v, t, lr=h["lr"], beta1=h["beta1"], beta2=h["beta2"],
                                     eps=h["eps"])
    return {"x": x_new, "m": m_new, "v": v_new}


def reference_step_unmodified(name, x, g, m, v, t, h, mu_product=None):
    """reference_step, asserting that no input array is written to."""
    before = [np.copy(a) for a in (x, g, m, v)]
    out = reference_step(name, x, g, m, v, t, h, mu_product)
    for label, a, b in zip("xgmv", before, (x, g, m, v), strict=True):
        assert np.array_equal(a, b), f"{name} modified its input {label}"
    for key in "xmv":
        assert np.shape(out[key]) == np.shape(x), f"{name} returned {key} of shape {np.shape(out[key])}"
    return out


# ------------------------------------------------------------- strategies

SHAPES = st.sampled_from([(), (1,), (5,), (3, 4), (2, 3, 4)])
LR = st.floats(-4.0, 0.0).map(lambda e: float(10.0 ** e))          # 1e-4 .. 1
EPS = st.floats(-12.0, -3.0).map(lambda e: float(10.0 ** e))        # 1e-12 .. 1e-3
GRAD_SCALE = st.floats(-6.0, 2.0).map(lambda e: float(10.0 ** e))   # 1e-6 .. 1e2
BETA1 = st.floats(0.0, 0.999)
NADAM_BETA2 = st.floats(0.5, 0.99999)
RADAM_BETA2 = st.floats(0.9, 0.9999)  # rho_5 in [4.58, 4.9996], rho_6 in [5.39, 5.9994]
MOMENTUM_DECAY = st.one_of(st.just(0.0), st.floats(-4.0, -1.0).map(lambda e: float(10.0 ** e)))
T = st.integers(1, 2000)
SEED = st.integers(0, 2**32 - 1)


def nadam_hyper():
    return st.fixed_dictionaries({"lr": LR, "beta1": BETA1, "beta2": NADAM_BETA2, "eps": EPS,
                                  "momentum_decay": MOMENTUM_DECAY})


def radam_hyper(beta2=RADAM_BETA2):
    return st.fixed_dictionaries({"lr": LR, "beta1": BETA1, "beta2": beta2, "eps": EPS})


# ------------------------------------------------------------- single steps

def random_state(shape, scale, seed):
    """x, g, m, v at the scale of the gradients; v is of the order of g**2 (from 1e-3 to 1e3
    of it), so that both the gradient and the history can dominate the denominator."""
    rng = np.random.default_rng(seed)
    g = scale * 10.0 ** rng.uniform(-2.0, 0.0, size=shape) * rng.standard_normal(shape)
    m = scale * rng.standard_normal(shape)
    v = (scale * rng.standard_normal(shape)) ** 2 * 10.0 ** rng.uniform(-3.0, 3.0, size=shape)
    x = 10.0 ** rng.uniform(-3.0, 1.0) * rng.standard_normal(shape)
    return [np.asarray(a, dtype=np.float64) for a in (x, g, m, v)], rng


def check_single_step(name, h, shape, scale, t, seed, mu_product=None):
    (x, g, m, v), _ = random_state(shape, scale, seed)
    ours = reference_step_unmodified(name, x, g, m, v, t, h, mu_product)
    theirs = torch_single_step(name, x, g, m, v, t, h, mu_product)
    b1 = h["beta1"]
    # Each output is judged relative to the magnitudes of the terms it sums.
    step_size = np.abs(ours["x"] - x) + np.abs(theirs["x"] - x)
    floors = {"x": np.maximum(TINY, np.abs(x) + step_size),
              "m": np.maximum(TINY, b1 * np.abs(m) + (1 - b1) * np.abs(g)),
              "v": np.maximum(TINY, np.abs(v) + g * g)}
    errors = {k: rel_error(ours[k], theirs[k], floor=floors[k]) for k in "xmv"}
    literal = {k: rel_error(ours[k], theirs[k]) for k in "xmv"}
    if name == "nadam_step":
        errors["mu_product"] = literal["mu_product"] = rel_error(ours["mu_product"], theirs["mu_product"],
                                                                 floor=TINY)
    desc = fmt(shape=shape, t=t, **h, grad_scale=scale, seed=seed)
    if mu_product is not None:
        desc += f", mu_product={mu_product:.6g}"
    worst = max(errors, key=errors.get)
    worst_lit = max(literal, key=literal.get)
    record(f"{name} (single step)", errors[worst], f"{worst}; {desc}", literal[worst_lit], f"{worst_lit}; {desc}")
    for part, err in errors.items():
        assert err < REFERENCE_TOL, f"{name}: {part} differs from torch by {err:.3e}; {desc}"
    return ours, theirs


@CASES
@given(shape=SHAPES, h=nadam_hyper(), scale=GRAD_SCALE, t=T, true_product=st.booleans(), seed=SEED)
def test_nadam_single_step(shape, h, scale, t, true_product, seed):
    """From a random state at a random t, with mu_product either the true product of
    mu_1 .. mu_{t-1} or any number in (0, 1): the reference must use the product it is
    given (as torch uses its state), not recompute it from t."""
    if true_product:
        mu_product = true_mu_product(t - 1, h["beta1"], h["momentum_decay"])
    else:
        mu_product = float(np.random.default_rng(seed + 1).uniform(0.0, 0.99))
    check_single_step("nadam_step", h, shape, scale, t, seed, mu_product)


@CASES
@given(shape=SHAPES, h=radam_hyper(), scale=GRAD_SCALE, t=T, seed=SEED)
def test_radam_single_step(shape, h, scale, t, seed):
    check_single_step("radam_step", h, shape, scale, t, seed)


# ------------------------------------------------------------- RAdam's switch

def rho(t, beta2):
    """torch's rho_t (radam.py lines 314-323), for locating the switch."""
    rho_inf = 2 / (1 - beta2) - 1
    return rho_inf - 2 * float(t) * (beta2 ** float(t)) / (1 - beta2 ** float(t))


def first_rectified_step(beta2, t_max=10_000):
    return next((t for t in range(1, t_max + 1) if rho(t, beta2) > 5.0), None)


def takes_rectified_branch(step, x, g, m, v, t, h):
    """Which branch a step took, seen from its output alone: the unrectified step
    x - lr m_hat does not depend on v, the rectified one does. The step is run with v and
    with 4 v + 1 (same m_new, another v_new)."""
    x = np.zeros_like(x)  # the output is then the update itself, never rounded away
    a = step(x, g, m, v, t, h)["x"]
    b = step(x, g, m, 4.0 * v + 1.0, t, h)["x"]
    return not np.array_equal(a, b)


def _torch_radam(x, g, m, v, t, h):
    return torch_single_step("radam_step", x, g, m, v, t, h)


def _reference_radam(x, g, m, v, t, h):
    return reference_step("radam_step", x, g, m, v, t, h)


def check_switch(h, shape, scale, seed):
    """The steps just below and just above the switch (and one after), against torch; the
    branch torch takes (seen from its outputs) is the one rho_t > 5 names, and the
    reference takes the same one."""
    t_star = first_rectified_step(h["beta2"])
    if t_star is None:
        steps = [1, 2, 5, 6, 50, 2000]
    else:
        steps = sorted({max(1, t_star - 2), max(1, t_star - 1), t_star, t_star + 1})
    (x, g, m, v), _ = random_state(shape, scale, seed)
    g = np.where(g == 0.0, scale, g)  # a zero m_new would hide the branch
    for t in steps:
        check_single_step("radam_step", h, shape, scale, t, seed)
        expected = t_star is not None and t >= t_star
        for label, step in (("torch", _torch_radam), ("reference", _reference_radam)):
            rectified = takes_rectified_branch(step, x, g, m, v, t, h)
            assert rectified == expected, (
                f"{label} {'rectifies' if rectified else 'does not rectify'} at t={t}, the first "
                f"rectified step by rho_t > 5 is {t_star}; beta2={h['beta2']!r}")
    return t_star


@CASES
@given(shape=SHAPES, h=radam_hyper(), scale=GRAD_SCALE, seed=SEED)
def test_radam_switch_in_the_usual_range(shape, h, scale, seed):
    """beta2 in [0.9, 0.9999]: rho_5 <= 5 < rho_6, the first rectified step is t = 6."""
    assert check_switch(h, shape, scale, seed) == 6


@CASES
@given(shape=SHAPES, h=radam_hyper(st.floats(0.5, 0.9)), scale=GRAD_SCALE, seed=SEED)
def test_radam_switch_where_it_moves(shape, h, scale, seed):
    """beta2 below ~0.84 the switch comes later (t = 7 at 0.8, 10 at 0.7, 22 at 0.667), and for
    beta2 <= 2/3 (rho_inf <= 5) never: every step is the plain bias-corrected momentum."""
    check_switch(h, shape, scale, seed)


@pytest.mark.parametrize("beta2, t_star", [
    (0.8, 7), (0.7, 10), (0.667, 22), (0.6, None), (0.9, 6), (0.999, 6), (0.9999, 6),
    # beta2 within 1e-8 of 1: rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t) cancels badly
    # and the switch moves to 5, then 4; the reference follows torch's rounding.
    (1 - 1e-8, 5), (1 - 1e-10, 4),
])
def test_radam_switch_known_points(beta2, t_star):
    assert first_rectified_step(beta2) == t_star
    h = {"lr": 1e-2, "beta1": 0.9, "beta2": beta2, "eps": 1e-8}
    assert check_switch(h, (3, 4), 1.0, 7) == t_star


# ------------------------------------------------------------- 100-step trajectories

# The reference runs 100 steps on a random quadratic, its gradients taken at its own
# positions; torch's optimizer is fed the same gradient sequence and keeps its own
# parameters and state, which are compared after every step. Letting torch take its
# gradients at its own positions instead ("closed loop") compares the dynamics, not the
# arithmetic: once the steps are as large as the distance to the minimum, the iterates
# orbit it and one-ulp differences grow exponentially (measured: 7 of 300 random closed-loop
# runs above 1e-10, up to 6e-8 at lr = 0.018, and 1.6e-3 at lr = 1, beta2 = 0.5, while
# every single step agrees to ~1e-15), the conditioning effect that tests/test_reference_vs_torch.py
# avoids with position-independent gradients and its ScratchAdam test with shared gradients.

def random_quadratic(shape, curvature, spread, seed):
    """f(x) = 1/2 (x - c)^T A (x - c) on the flattened x, A = Q diag(lam) Q^T with lam from
    curvature * 10**-spread to curvature. Returns grad(x), the minimum c and the Generator."""
    rng = np.random.default_rng(seed)
    n = math.prod(shape)
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    lam = curvature * 10.0 ** rng.uniform(-spread, 0.0, size=n)
    a = (q * lam) @ q.T
    c = rng.standard_normal(n)

    def grad(x):
        return np.reshape(a @ (np.ravel(x) - c), shape)
    return grad, np.reshape(c, shape), rng


def run_reference(name, x0, grad, h):
    x, m, v, mp = x0, np.zeros_like(x0), np.zeros_like(x0), 1.0
    xs, ms, vs, mps, grads = [], [], [], [], []
    for t in range(1, STEPS + 1):
        g = grad(x)
        grads.append(g)
        out = (reference_step_unmodified if t == 1 else reference_step)(name, x, g, m, v, t, h, mp)
        x, m, v, mp = out["x"], out["m"], out["v"], out.get("mu_product")
        xs.append(np.array(x, dtype=np.float64))
        ms.append(np.array(m, dtype=np.float64))
        vs.append(np.array(v, dtype=np.float64))
        mps.append(mp)
    return {"x": np.array(xs), "m": np.array(ms), "v": np.array(vs), "mu_product": mps}, grads


def run_torch(name, x0, grads, h):
    p = torch.tensor(np.array(x0, dtype=np.float64), requires_grad=True)
    p.grad = torch.zeros_like(p)
    opt = torch_optimizer(name, p, h)
    xs, ms, vs, mps = [], [], [], []
    for g in grads:
        p.grad.copy_(torch.from_numpy(np.asarray(g, dtype=np.float64)))
        opt.step()
        st_ = opt.state[p]
        xs.append(p.detach().numpy().copy())
        ms.append(st_["exp_avg"].numpy().copy())
        vs.append(st_["exp_avg_sq"].numpy().copy())
        mps.append(float(st_["mu_product"]) if name == "nadam_step" else None)
    assert float(opt.state[p]["step"]) == STEPS
    return {"x": np.array(xs), "m": np.array(ms), "v": np.array(vs), "mu_product": mps}


def check_trajectory(name, h, shape, scale, curvature, spread, seed):
    grad, x_min, rng = random_quadratic(shape, curvature, spread, seed)
    # Start at distance scale / curvature from the minimum: first gradients of size ~scale.
    x0 = np.asarray(x_min + (scale / curvature) * rng.standard_normal(shape), dtype=np.float64)
    ours, grads = run_reference(name, x0, grad, h)
    theirs = run_torch(name, x0, grads, h)
    errors = {k: trajectory_error(ours[k], theirs[k]) for k in "xmv"}
    literal = {k: rel_error(ours[k], theirs[k]) for k in "xmv"}
    if name == "nadam_step":
        errors["mu_product"] = literal["mu_product"] = rel_error(ours["mu_product"], theirs["mu_product"],
                                                                 floor=TINY)
    desc = fmt(shape=shape, **h, grad_scale=scale, curvature=curvature, spread=spread, seed=seed)
    worst = max(errors, key=errors.get)
    worst_lit = max(literal, key=literal.get)
    record(f"{name} ({STEPS}-step quadratic)", errors[worst], f"{worst}; {desc}",
           literal[worst_lit], f"{worst_lit}; {desc}")
    for part, err in errors.items():
        bad = first_bad_step(ours[part], theirs[part]) if part in "xmv" else None
        assert err < REFERENCE_TOL, f"{name}: {part} differs from torch by {err:.3e} (first at step {bad}); {desc}"


CURVATURE = st.floats(-2.0, 1.0).map(lambda e: float(10.0 ** e))  # 1e-2 .. 10
SPREAD = st.sampled_from([0.0, 3.0])


@CASES
@given(shape=SHAPES, h=nadam_hyper(), scale=GRAD_SCALE, curvature=CURVATURE, spread=SPREAD, seed=SEED)
def test_nadam_trajectory(shape, h, scale, curvature, spread, seed):
    check_trajectory("nadam_step", h, shape, scale, curvature, spread, seed)


@CASES
@given(shape=SHAPES, h=radam_hyper(), scale=GRAD_SCALE, curvature=CURVATURE, spread=SPREAD, seed=SEED)
def test_radam_trajectory(shape, h, scale, curvature, spread, seed):
    check_trajectory("radam_step", h, shape, scale, curvature, spread, seed)


# ------------------------------------------------------------- defaults and dtype

def _defaults(fn, names):
    params = inspect.signature(fn).parameters
    return {k: params[k].default for k in names}


def test_defaults_match_torch():
    """The reference's default hyperparameters are torch's (read from both signatures), and
    the defaults it does not expose are the ones it implements (no weight decay)."""
    for fn, cls, extra in ((nadam_step, torch.optim.NAdam, ("momentum_decay",)),
                           (radam_step, torch.optim.RAdam, ())):
        theirs = inspect.signature(cls.__init__).parameters
        beta1, beta2 = theirs["betas"].default
        expected = {"lr": theirs["lr"].default, "beta1": beta1, "beta2": beta2, "eps": theirs["eps"].default}
        expected.update({k: theirs[k].default for k in extra})
        assert _defaults(fn, expected) == expected, fn.__name__
        assert theirs["weight_decay"].default == 0 and theirs["decoupled_weight_decay"].default is False
        assert theirs["maximize"].default is False
    # A bare call agrees with a bare torch optimizer for a few steps.
    g = np.array([0.3, -2.0, 1e-9])
    for name, cls in (("nadam_step", torch.optim.NAdam), ("radam_step", torch.optim.RAdam)):
        p = torch.ones(3, requires_grad=True)
        opt = cls([p], foreach=False)
        x, m, v, mp = np.ones(3), np.zeros(3), np.zeros(3), 1.0
        for t in range(1, 9):
            p.grad = torch.tensor(g * t)
            opt.step()
            if name == "nadam_step":
                x, m, v, mp = nadam_step(x, g * t, m, v, mp, t)
            else:
                x, m, v = radam_step(x, g * t, m, v, t)
            assert rel_error(x, p.detach().numpy(), floor=TINY) < REFERENCE_TOL, (name, t)


def test_torch_nadam_mu_product_follows_the_default_dtype():
    """Why the oracle runs under a float64 default dtype: with the float32 default, torch
    keeps mu_product in float32 even for float64 parameters, and its steps then differ from
    the float64 algorithm by far more than 1e-10."""
    g = np.array([0.3, -2.0, 1e-3])
    traj = {}
    for dtype in (torch.float32, torch.float64):
        before = torch.get_default_dtype()
        torch.set_default_dtype(dtype)
        try:
            p = torch.ones(3, dtype=F64, requires_grad=True)
            opt = torch.optim.NAdam([p], lr=0.1, foreach=False)
            xs = []
            for _ in range(20):
                p.grad = torch.tensor(g)
                opt.step()
                xs.append(p.detach().numpy().copy())
            assert opt.state[p]["mu_product"].dtype == dtype
            traj[dtype] = np.array(xs)
        finally:
            torch.set_default_dtype(before)
    x, m, v, mp = np.ones(3), np.zeros(3), np.zeros(3), 1.0
    ours = []
    for t in range(1, 21):
        x, m, v, mp = nadam_step(x, g, m, v, mp, t, lr=0.1)
        ours.append(x)
    assert trajectory_error(ours, traj[torch.float64]) < REFERENCE_TOL
    gap = trajectory_error(ours, traj[torch.float32])
    record("torch NAdam with the float32 default dtype (not an oracle)", gap,
           "20 steps, lr=0.1, torch defaults otherwise; mu_product kept in float32")
    assert gap > REFERENCE_TOL
