"""Notebook 07's lion_step, newton_schulz and muon_step proven against their oracles.

Oracles
-------
- ``lion_step``: ``lion_pytorch.Lion`` (lion-pytorch 0.2.5, ``decoupled_weight_decay=False``),
  whose ``update_fn`` is: p *= 1 - lr wd; p -= lr sgn(beta1 m + (1 - beta1) g);
  m = beta2 m + (1 - beta2) g. It computes in the parameter's dtype: float64 here.
- ``newton_schulz``: torch's own helper ``torch.optim._muon._zeropower_via_newtonschulz``.
- ``muon_step``: ``torch.optim.Muon`` with its defaults (``adjust_lr_fn=None``, i.e. "original":
  lr sqrt(max(1, rows / cols)) for the orthogonalised update, the plain lr for the decay).

Precision of torch's Muon
-------------------------
torch runs the Newton-Schulz iteration in bfloat16 whatever the parameter's dtype
(``ortho_grad = grad.bfloat16()`` is the helper's first line; torch has no float64 path).
The momentum buffer, the decay and the parameter update stay in the parameter's dtype.
So each comparison is made twice:

1. against torch's helper with that one cast lifted to float64: its source, taken with
   ``inspect.getsource``, with ``grad.bfloat16()`` replaced by ``grad.clone()`` (the test
   asserts that the cast occurs exactly once and that nothing else changes) and executed
   in the module's namespace; ``torch.optim.Muon`` then runs with it patched in. This is
   torch's algorithm in float64, held to the course's 1e-10 (``REFERENCE_TOL``);
2. against unmodified torch (bfloat16 inside), where the orthogonalised matrix is compared
   by the spectral-norm relative error ||ours - torch||_2 / ||ours||_2 <= ``BF16_TOL`` = 0.2,
   only for well-conditioned inputs (every singular value of the normalised input >= 0.01):
   bfloat16 keeps 8 significant bits (unit roundoff 2^-8 ~ 3.9e-3) and the quintic's slope
   3.4445 near zero amplifies that rounding along small singular directions; measured over
   10,000 random well-conditioned cases (1x1 .. 16x12, condition number <= 25) the worst was
   0.115, the 99.9th percentile 0.079. For ill-conditioned or low-rank inputs bfloat16
   rounding noise in the near-null directions is amplified to O(1) (measured: 1.5 for rank
   one), so there is nothing to compare to float64 there.

How errors are measured
-----------------------
``rel_error`` is |a - b| / max(floor, |a| + |b|) maximised over elements. Lion is
elementwise, so its trajectories use the per-element trajectory floor of
tests/test_reference_vs_torch.py (the largest |a_i| + |b_i| element i reaches in the run).
Newton-Schulz mixes all entries of a matrix (every output entry is a sum of products of
all input entries), so its rounding is relative to the size of the matrix, not of each
entry: an entry that cancels to nearly 0 carries ~1e-16 of the matrix's scale, not of its
own. Its outputs, and Muon's positions and buffers, are therefore compared with the
*matrix floor*: the largest |a| + |b| over the whole matrix (over the whole run for a
trajectory). The per-element error is reported alongside for information.

Trajectories: 100 steps on 0.5 ||A X - B||_F^2 with a random A (sometimes with a zero
column, which gives exactly zero gradient rows, so that Lion's interpolation is exactly 0
and sign(0) = 0 is exercised along the run). Each side steps from its own position with
the gradient computed by one numpy function at that position (Lion), or both with the
gradient at the reference's position (Muon: see test_muon_trajectory for why).

The worst case of each function is printed in the pytest terminal summary.
"""
import contextlib
import inspect
import math
from unittest import mock

import lion_pytorch
import numpy as np
import pytest
import torch
import torch.optim._muon as torch_muon
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.checks.tolerance import REFERENCE_TOL, rel_error
from grader.reference import lion_muon as ref
from tests.worst_case import TINY, WorstCases, fmt, trajectory_error

F64 = torch.float64
STEPS = 100
BF16_TOL = 0.2
WELL_CONDITIONED = 0.01  # smallest singular value of G / ||G||_F for the bfloat16 comparison
# Exact-arithmetic band of the 5-step quintic on [0.01, 1] (dense scalar grid, see
# test_newton_schulz_singular_value_band): min 0.68183, max 1.13436.
BAND = (0.68, 1.135)

CASES = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------- worst-case report

SEEN_BAND = [math.inf, -math.inf]  # extreme singular values of newton_schulz(G) in the band test


def _header():
    lines = [f"tolerance REFERENCE_TOL = {REFERENCE_TOL:.0e} (float64), "
             f"BF16_TOL = {BF16_TOL} (torch's bfloat16 Newton-Schulz)"]
    if SEEN_BAND[0] <= SEEN_BAND[1]:
        lines.append(f"newton_schulz singular values (5 steps, condition number <= 25): "
                     f"{SEEN_BAND[0]:.5f} .. {SEEN_BAND[1]:.5f} observed, band {BAND}")
    return lines


REPORT = WorstCases("lion / newton_schulz / muon reference vs oracles: worst errors", literal_label="per element",
                    header=_header)
record = REPORT.record


@pytest.fixture(scope="module", autouse=True)
def _report_and_one_thread(request):
    REPORT.register(request)
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny tensors: one thread is faster and deterministic
    yield
    torch.set_num_threads(before)






def matrix_error(a, b):
    """Matrix floor: the largest |a| + |b| anywhere in the arrays (a whole run for a trajectory)."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return rel_error(a, b, floor=max(TINY, float(np.max(np.abs(a) + np.abs(b), initial=0.0))))


def spectral_error(ours, theirs):
    return float(np.linalg.norm(ours - theirs, 2) / np.linalg.norm(ours, 2))


# ------------------------------------------------------------- the float64 oracle

def _float64_helper():
    """torch's _zeropower_via_newtonschulz with its single bfloat16 cast replaced by a copy."""
    src = inspect.getsource(torch_muon._zeropower_via_newtonschulz)
    assert src.count("bfloat16") == 1 and src.count("grad.bfloat16()") == 1, src
    patched = src.replace("grad.bfloat16()", "grad.clone()")
    changed = [(a, b) for a, b in zip(src.splitlines(), patched.splitlines(), strict=True) if a != b]
    assert changed == [("    ortho_grad = grad.bfloat16()", "    ortho_grad = grad.clone()")], changed
    namespace = dict(vars(torch_muon))
    exec(compile(patched, torch_muon.__file__, "exec"), namespace)  # torch's own source, one token changed
    return namespace["_zeropower_via_newtonschulz"]


NS64 = _float64_helper()
TORCH_COEFFICIENTS = (torch_muon.DEFAULT_A, torch_muon.DEFAULT_B, torch_muon.DEFAULT_C)


@contextlib.contextmanager
def muon_in_float64():
    """torch.optim.Muon with the float64 helper (``_single_tensor_muon`` looks it up per call)."""
    with mock.patch.object(torch_muon, "_zeropower_via_newtonschulz", NS64):
        yield


def torch_ns(G, steps, eps=torch_muon.EPS, float64=True):
    helper = NS64 if float64 else torch_muon._zeropower_via_newtonschulz
    out = helper(torch.tensor(np.asarray(G, dtype=np.float64)), TORCH_COEFFICIENTS, steps, eps)
    return out.to(F64).numpy()


def test_constants_are_torchs():
    assert ref.NS_COEFFICIENTS == TORCH_COEFFICIENTS == (3.4445, -4.775, 2.0315)
    assert ref.NS_EPS == torch_muon.EPS == 1e-7
    defaults = inspect.signature(torch.optim.Muon).parameters
    ours = inspect.signature(ref.muon_step).parameters
    for name in ("lr", "weight_decay", "momentum", "nesterov", "eps", "ns_steps"):
        assert ours[name].default == defaults[name].default, name
    assert defaults["adjust_lr_fn"].default is None
    lion = inspect.signature(lion_pytorch.Lion).parameters
    ours = inspect.signature(ref.lion_step).parameters
    assert (ours["beta1"].default, ours["beta2"].default) == lion["betas"].default
    assert ours["lr"].default == lion["lr"].default and ours["weight_decay"].default == lion["weight_decay"].default


def test_float64_oracle_is_torchs_algorithm():
    """The lifted helper and the real one agree to bfloat16 accuracy on a well-conditioned matrix."""
    G = np.random.default_rng(0).standard_normal((6, 4)) + 3 * np.eye(6, 4)
    assert torch_ns(G, 5, float64=False).dtype == np.float64
    real = torch_muon._zeropower_via_newtonschulz(torch.tensor(G), TORCH_COEFFICIENTS, 5, 1e-7)
    assert real.dtype == torch.bfloat16  # the precision torch really computes in
    assert NS64(torch.tensor(G), TORCH_COEFFICIENTS, 5, 1e-7).dtype == F64
    assert spectral_error(torch_ns(G, 5), real.to(F64).numpy()) < 0.05


# ------------------------------------------------------------- strategies

SEED = st.integers(0, 2**32 - 1)


@st.composite
def matrix_shapes(draw):
    """Square, wide and tall 2-D shapes, 1x1 .. 16x12."""
    kind = draw(st.sampled_from(["square", "wide", "tall"]))
    if kind == "square":
        n = draw(st.integers(1, 12))
        return (n, n)
    if kind == "wide":
        rows = draw(st.integers(1, 11))
        return (rows, draw(st.integers(rows + 1, 12)))
    cols = draw(st.integers(1, 12))
    return (draw(st.integers(cols + 1, 16)), cols)


LION_SHAPES = st.one_of(st.just(()), st.tuples(st.integers(1, 8)), matrix_shapes())
SCALE = st.floats(-10.0, 2.0).map(lambda e: float(10.0 ** e))  # 1e-10 .. 1e2
LION_LR = st.floats(-5.0, 0.0).map(lambda e: float(10.0 ** e))  # 1e-5 .. 1 (Lion asserts lr > 0)
UNIT = st.floats(0.0, 1.0)  # lion-pytorch accepts 0 <= beta <= 1
MUON_LR = st.floats(-4.0, 0.0).map(lambda e: float(10.0 ** e))
EPS = st.floats(-12.0, -3.0).map(lambda e: float(10.0 ** e))


def _random_matrix(rng, shape, kind):
    """Gaussian, low-rank (rank 1 .. min - 1) or exactly zero."""
    rows, cols = shape
    if kind == "low_rank" and min(shape) > 1:
        r = int(rng.integers(1, min(shape)))
        return rng.standard_normal((rows, r)) @ rng.standard_normal((r, cols))
    if kind == "zero":
        return np.zeros(shape)
    return rng.standard_normal(shape)


# ------------------------------------------------------------- lion_step

def _torch_lion(x, g, m, lr, beta1, beta2, weight_decay):
    p = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
    opt = lion_pytorch.Lion([p], lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)
    opt.state[p]["exp_avg"] = torch.tensor(np.asarray(m, dtype=np.float64))
    opt.step()
    return p.detach().numpy().copy(), opt.state[p]["exp_avg"].numpy().copy()


@CASES
@given(shape=LION_SHAPES, lr=LION_LR, beta1=UNIT, beta2=UNIT, weight_decay=UNIT, scale=SCALE,
       zero_frac=st.sampled_from([0.0, 0.25]), cancel=st.booleans(), seed=SEED)
def test_lion_single_step(shape, lr, beta1, beta2, weight_decay, scale, zero_frac, cancel, seed):
    """One step from a random state. Exact zeros in the interpolation come from entries with
    g = m = 0 (zero_frac) and, with cancel, from beta1 = 0.5 and m = -g on a third of the
    entries (0.5 m + 0.5 g is then exactly 0 in any rounding): sign(0) = 0 leaves them at
    x (1 - lr wd)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 10.0 ** rng.uniform(-2, 2)
    g = scale * rng.standard_normal(shape)
    m = scale * rng.standard_normal(shape) * 10.0 ** rng.uniform(-1, 1)
    zero = rng.random(shape) < zero_frac
    g, m = np.where(zero, 0.0, g), np.where(zero, 0.0, m)
    if cancel:
        beta1 = 0.5
        m = np.where(rng.random(shape) < 1 / 3, -g, m)
    exact_zero = beta1 * m + (1 - beta1) * g == 0
    before = [np.copy(a) for a in (x, g, m)]

    x_new, m_new = ref.lion_step(x, g, m, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)
    assert all(np.array_equal(a, b) for a, b in zip(before, (x, g, m), strict=True)), "inputs modified"
    assert np.shape(x_new) == np.shape(m_new) == np.shape(x)
    x_t, m_t = _torch_lion(x, g, m, lr, beta1, beta2, weight_decay)
    desc = fmt(shape=shape, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, grad_scale=scale,
               zero_frac=zero_frac, cancel=cancel, seed=seed)
    err = max(rel_error(x_new, x_t, floor=TINY), rel_error(m_new, m_t, floor=TINY))
    record("lion_step (single step)", err, desc)
    assert err < REFERENCE_TOL, f"lion_step differs from lion_pytorch.Lion by {err:.3e}; {desc}"
    decayed = x * (1 - lr * weight_decay)
    assert np.array_equal(np.asarray(x_new)[exact_zero], decayed[exact_zero]), "sign(0) must be 0"
    assert np.array_equal(x_t[exact_zero], decayed[exact_zero])  # and it is in lion-pytorch


def test_lion_sign_of_zero_is_zero():
    """The interpolation is exactly 0 in the first two entries: they only decay (sign(0) = 0,
    not +1 as np.copysign or ``>= 0`` would give); the third moves by -lr sign(+) = -lr."""
    x, g, m = np.array([1.0, -2.0, 3.0]), np.array([0.0, 0.4, 1.0]), np.array([0.0, -0.4, 1.0])
    x_new, m_new = ref.lion_step(x, g, m, lr=0.1, beta1=0.5, beta2=0.9, weight_decay=0.5)
    x_t, m_t = _torch_lion(x, g, m, 0.1, 0.5, 0.9, 0.5)
    np.testing.assert_array_equal(x_new, [0.95, -1.9, 3.0 * 0.95 - 0.1])
    np.testing.assert_array_equal(x_new, x_t)
    np.testing.assert_allclose(m_new, m_t, rtol=1e-15)


def test_lion_momentum_updated_after_the_sign():
    """beta1 = 1: the direction is sign(m_old), which differs from sign(g) here."""
    x_new, m_new = ref.lion_step(np.zeros(2), np.array([1.0, -1.0]), np.array([-1.0, 1.0]),
                                 lr=0.5, beta1=1.0, beta2=0.0)
    np.testing.assert_array_equal(x_new, [0.5, -0.5])
    np.testing.assert_array_equal(m_new, [1.0, -1.0])
    x_t, _ = _torch_lion(np.zeros(2), [1.0, -1.0], [-1.0, 1.0], 0.5, 1.0, 0.0, 0.0)
    np.testing.assert_array_equal(x_new, x_t)


def test_lion_defaults_match_lion_pytorch():
    rng = np.random.default_rng(1)
    x, g, m = rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    x_new, m_new = ref.lion_step(x, g, m)
    p = torch.tensor(x, requires_grad=True)
    p.grad = torch.tensor(g)
    opt = lion_pytorch.Lion([p])
    opt.state[p]["exp_avg"] = torch.tensor(m)
    opt.step()
    assert rel_error(x_new, p.detach().numpy(), floor=TINY) < REFERENCE_TOL
    assert rel_error(m_new, opt.state[p]["exp_avg"].numpy(), floor=TINY) < REFERENCE_TOL


# ------------------------------------------------------------- the matrix problem

def _problem(shape, seed, zero_column):
    """A (k, rows), B (k, cols), X0 (rows, cols); loss 0.5 ||A X - B||_F^2."""
    rng = np.random.default_rng(seed)
    rows, cols = shape
    k = int(rng.integers(1, 2 * rows + 2))
    A = rng.standard_normal((k, rows)) * 10.0 ** rng.uniform(-1, 0.5, size=rows)  # column scales
    if zero_column:
        A[:, rng.integers(rows)] = 0.0  # that row of the gradient is exactly 0 all along
    B = rng.standard_normal((k, cols))
    X0 = rng.standard_normal(shape)
    return A, B, X0


def _gradient(A, B, X):
    return A.T @ (A @ X - B)


def _run_pair(ref_step, torch_opt, p, A, B, X0, state_key, shared):
    """100 steps; returns (xs_ref, ss_ref, xs_torch, ss_torch). Each side steps with the
    gradient at its own position, or (shared) both with the gradient at the reference's."""
    x, s = X0, np.zeros_like(X0)
    xs_r, ss_r, xs_t, ss_t = [], [], [], []
    for _ in range(STEPS):
        g = _gradient(A, B, x)
        x, s = ref_step(x, g, s)
        xs_r.append(np.array(x, dtype=np.float64))
        ss_r.append(np.array(s, dtype=np.float64))
        p.grad = torch.from_numpy(g if shared else _gradient(A, B, p.detach().numpy()))
        torch_opt.step()
        xs_t.append(p.detach().numpy().copy())
        ss_t.append(torch_opt.state[p][state_key].numpy().copy())
    return np.array(xs_r), np.array(ss_r), np.array(xs_t), np.array(ss_t)


@CASES
@given(shape=matrix_shapes(), lr=st.floats(-4.0, -1.0).map(lambda e: float(10.0 ** e)), beta1=UNIT, beta2=UNIT,
       weight_decay=UNIT, zero_column=st.booleans(), seed=SEED)
def test_lion_trajectory(shape, lr, beta1, beta2, weight_decay, zero_column, seed):
    A, B, X0 = _problem(shape, seed, zero_column)
    p = torch.tensor(X0, requires_grad=True)
    opt = lion_pytorch.Lion([p], lr=lr, betas=(beta1, beta2), weight_decay=weight_decay)

    def step(x, g, m):
        return ref.lion_step(x, g, m, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay)

    xs_r, ms_r, xs_t, ms_t = _run_pair(step, opt, p, A, B, X0, "exp_avg", shared=False)
    desc = fmt(shape=shape, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay,
               zero_column=zero_column, seed=seed)
    err = max(trajectory_error(xs_r, xs_t), trajectory_error(ms_r, ms_t))
    record("lion_step (100-step trajectory)", err, desc,
           max(rel_error(xs_r, xs_t), rel_error(ms_r, ms_t)), desc)
    assert err < REFERENCE_TOL, f"lion_step trajectory differs from lion_pytorch.Lion by {err:.3e}; {desc}"


# ------------------------------------------------------------- newton_schulz

@CASES
@given(shape=matrix_shapes(), steps=st.integers(0, 10), kind=st.sampled_from(["gauss", "gauss", "low_rank", "zero"]),
       scale=SCALE, eps=st.one_of(st.just(ref.NS_EPS), EPS), seed=SEED)
def test_newton_schulz_vs_torch_float64(shape, steps, kind, scale, eps, seed):
    """Against torch's helper with its bfloat16 cast lifted (module docstring). Scales down
    to 1e-10 put ||G||_F below eps, where torch divides by eps (clamp), not by ||G|| + eps."""
    G = scale * _random_matrix(np.random.default_rng(seed), shape, kind)
    G_before = G.copy()
    X = ref.newton_schulz(G, steps, eps=eps)
    assert np.array_equal(G, G_before), "newton_schulz modified G"
    assert np.shape(X) == shape
    X_t = torch_ns(G, steps, eps)
    desc = fmt(shape=shape, steps=steps, kind=kind, scale=scale, eps=eps, seed=seed)
    err = matrix_error(X, X_t)
    record("newton_schulz (vs torch helper, float64)", err, desc, rel_error(X, X_t, floor=TINY), desc,
           kind="relative error (matrix floor)")
    assert err < REFERENCE_TOL, f"newton_schulz differs from torch's helper by {err:.3e}; {desc}"
    if kind == "zero":
        assert np.array_equal(X, np.zeros(shape))


def _well_conditioned(rng, shape, kappa):
    """U diag(s) V^T with log-uniform s in [1, kappa], both ends included."""
    rows, cols = shape
    k = min(shape)
    U, _ = np.linalg.qr(rng.standard_normal((rows, k)))
    V, _ = np.linalg.qr(rng.standard_normal((cols, k)))
    s = np.exp(rng.uniform(0.0, math.log(kappa), k))
    s[0], s[-1] = 1.0, kappa
    if k == 1:
        s[0] = 1.0
    return (U * s) @ V.T


@CASES
@given(shape=matrix_shapes(), kappa=st.floats(1.0, 25.0), scale=st.floats(-6.0, 4.0).map(lambda e: float(10.0 ** e)),
       seed=SEED)
def test_newton_schulz_vs_torch_bfloat16(shape, kappa, scale, seed):
    """Against unmodified torch (bfloat16 inside), 5 steps, well-conditioned inputs."""
    G = scale * _well_conditioned(np.random.default_rng(seed), shape, kappa)
    X = ref.newton_schulz(G)
    X_t = torch_ns(G, 5, float64=False)
    err = spectral_error(X, X_t)
    desc = fmt(shape=shape, kappa=kappa, scale=scale, seed=seed)
    record("newton_schulz (vs torch helper, bfloat16 inside)", err, desc,
           kind="spectral-norm relative error")
    assert err <= BF16_TOL, f"newton_schulz vs torch in bfloat16: {err:.3f} > {BF16_TOL}; {desc}"


def _quintic_band(x_min, steps=5, n=200_001):
    a, b, c = ref.NS_COEFFICIENTS
    y = np.linspace(x_min, 1.0, n)
    for _ in range(steps):
        y = a * y + b * y**3 + c * y**5
    return float(y.min()), float(y.max())


@CASES
@given(shape=matrix_shapes(), kappa=st.floats(1.0, 25.0), seed=SEED)
def test_newton_schulz_singular_value_band(shape, kappa, seed):
    """For G = U S V^T, exact arithmetic gives newton_schulz(G) = U p^5(S / ||G||_F) V^T with
    p(s) = a s + b s^3 + c s^5. Condition number <= 25 and min(shape) <= 12 give
    s_min / ||G||_F >= 1 / (25 sqrt(12)) > 0.01, and p^5 maps [0.01, 1] into
    [0.6818, 1.1344] (scalar grid below): the singular values lie in BAND = [0.68, 1.135]
    (measured extremes over the cases are printed), and the result keeps G's singular vectors."""
    lo, hi = _quintic_band(WELL_CONDITIONED)
    assert BAND[0] <= lo < 0.6819 and 1.1343 < hi <= BAND[1], (lo, hi)
    G = _well_conditioned(np.random.default_rng(seed), shape, kappa)
    U, s, Vt = np.linalg.svd(G, full_matrices=False)
    assert s[-1] / np.linalg.norm(G) >= WELL_CONDITIONED
    X = ref.newton_schulz(G)
    sv = np.linalg.svd(X, compute_uv=False)
    desc = fmt(shape=shape, kappa=kappa, seed=seed)
    SEEN_BAND[0], SEEN_BAND[1] = min(SEEN_BAND[0], sv.min()), max(SEEN_BAND[1], sv.max())
    assert BAND[0] <= sv.min() and sv.max() <= BAND[1], f"singular values {sv} outside {BAND}; {desc}"
    y = s / np.linalg.norm(G)
    a, b, c = ref.NS_COEFFICIENTS
    for _ in range(5):
        y = a * y + b * y**3 + c * y**5
    assert matrix_error(X, (U * y) @ Vt) < 1e-12, desc


@pytest.mark.parametrize("shape", [(5,), (), (2, 3, 4)])
def test_newton_schulz_and_muon_reject_non_2d(shape):
    with pytest.raises(ValueError):
        ref.newton_schulz(np.ones(shape))
    with pytest.raises(ValueError):
        ref.muon_step(np.ones(shape), np.ones(shape), np.zeros(shape))
    with pytest.raises(ValueError):  # and so does torch
        torch.optim.Muon([torch.nn.Parameter(torch.ones(shape, dtype=F64))])


def test_newton_schulz_transposes_tall_matrices():
    """Tall and wide are treated alike: newton_schulz(G.T) == newton_schulz(G).T."""
    G = np.random.default_rng(3).standard_normal((9, 4))
    np.testing.assert_array_equal(ref.newton_schulz(G), ref.newton_schulz(G.T).T)


# ------------------------------------------------------------- muon_step

def _torch_muon_step(x, g, buf, **h):
    p = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    p.grad = torch.tensor(np.asarray(g, dtype=np.float64))
    opt = torch.optim.Muon([p], **h)
    opt.state[p]["momentum_buffer"] = torch.tensor(np.asarray(buf, dtype=np.float64))
    opt.step()
    return p.detach().numpy().copy(), opt.state[p]["momentum_buffer"].numpy().copy()


# momentum 0 or in [1e-6, 0.999]: below ~1e-16, 1 - momentum rounds to 1.0 and torch's
# buf.lerp_(g, 1 - momentum) then drops the momentum term (buf_new = g exactly), while the
# reference keeps momentum * buf; the effective momentum 1 - fl(1 - momentum) is off by at most
# 1.1e-16, i.e. by <= 1.1e-10 of momentum for momentum >= 1e-6. See test_muon_tiny_momentum.
MOMENTUM = st.one_of(st.just(0.0), st.floats(1e-6, 0.999))
MUON_HYPER = dict(lr=MUON_LR, weight_decay=UNIT, momentum=MOMENTUM, nesterov=st.booleans(),
                  ns_steps=st.integers(0, 8), eps=st.one_of(st.just(ref.NS_EPS), EPS))


@CASES
@given(shape=matrix_shapes(), **MUON_HYPER, kind=st.sampled_from(["gauss", "gauss", "low_rank", "zero"]),
       scale=SCALE, seed=SEED)
def test_muon_single_step(shape, lr, weight_decay, momentum, nesterov, ns_steps, eps, kind, scale, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape)
    g = scale * _random_matrix(rng, shape, kind)
    buf = scale * 10.0 ** rng.uniform(-1, 1) * _random_matrix(rng, shape, "gauss" if kind == "zero" else kind)
    before = [np.copy(a) for a in (x, g, buf)]
    h = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps, eps=eps)

    x_new, buf_new = ref.muon_step(x, g, buf, **h)
    assert all(np.array_equal(a, b) for a, b in zip(before, (x, g, buf), strict=True)), "inputs modified"
    assert np.shape(x_new) == np.shape(buf_new) == shape
    with muon_in_float64():
        x_t, buf_t = _torch_muon_step(x, g, buf, **h)
    desc = fmt(shape=shape, **h, kind=kind, grad_scale=scale, seed=seed)
    err = max(matrix_error(x_new, x_t), matrix_error(buf_new, buf_t))
    record("muon_step (single step, float64 torch)", err, desc,
           max(rel_error(x_new, x_t, floor=TINY), rel_error(buf_new, buf_t, floor=TINY)), desc,
           kind="relative error (matrix floor)")
    assert err < REFERENCE_TOL, f"muon_step differs from torch.optim.Muon (float64) by {err:.3e}; {desc}"

    # Unmodified torch: the buffer is float64 there too; the orthogonalised update is bfloat16.
    x_b, buf_b = _torch_muon_step(x, g, buf, **h)
    assert matrix_error(buf_new, buf_b) < REFERENCE_TOL
    update = (1 - momentum) * g + momentum * buf_new if nesterov else buf_new
    s = np.linalg.svd(update, compute_uv=False)
    if ns_steps == 5 and s[0] > 0 and s[-1] / np.linalg.norm(s) >= WELL_CONDITIONED:
        adjusted = lr * math.sqrt(max(1.0, shape[0] / shape[1]))
        decayed = x * (1 - lr * weight_decay)
        ours, theirs = (decayed - x_new) / adjusted, (decayed - x_b) / adjusted
        err_b = spectral_error(ours, theirs)
        record("muon_step (single step, bfloat16 torch, update direction)", err_b, desc,
               kind="spectral-norm relative error")
        assert err_b <= BF16_TOL, f"muon_step vs torch.optim.Muon (bfloat16): {err_b:.3f}; {desc}"


def test_muon_learning_rate_adjustment():
    """adjust_lr_fn=None ("original"): lr sqrt(max(1, rows / cols)) on the update, plain lr on the decay."""
    rng = np.random.default_rng(5)
    for shape, ratio in (((8, 2), 2.0), ((2, 8), 1.0), ((4, 4), 1.0), ((9, 1), 3.0)):
        x, g = rng.standard_normal(shape), rng.standard_normal(shape)
        x_new, _ = ref.muon_step(x, g, np.zeros(shape), lr=0.01, weight_decay=0.5, momentum=0.0)
        ortho = ref.newton_schulz(g)
        np.testing.assert_allclose(x_new, x * (1 - 0.01 * 0.5) - 0.01 * ratio * ortho, rtol=0, atol=1e-15)
        with muon_in_float64():
            x_t, _ = _torch_muon_step(x, g, np.zeros(shape), lr=0.01, weight_decay=0.5, momentum=0.0)
        assert matrix_error(x_new, x_t) < REFERENCE_TOL, shape


def test_muon_buffer_is_an_average_not_a_sum():
    """torch's docstring writes B = mu B + g, its code buf.lerp_(g, 1 - mu) = mu B + (1 - mu) g;
    the reference follows the code (the oracle), and so does the buffer torch stores."""
    x, g, buf = np.eye(2, 3), np.ones((2, 3)), np.full((2, 3), 2.0)
    _, buf_new = ref.muon_step(x, g, buf, momentum=0.9)
    np.testing.assert_allclose(buf_new, 0.9 * 2.0 + 0.1 * 1.0, rtol=1e-15)
    _, buf_t = _torch_muon_step(x, g, buf, momentum=0.9)
    np.testing.assert_allclose(buf_new, buf_t, rtol=1e-15)


def test_muon_tiny_momentum():
    """momentum = 1e-80: torch's weight 1 - momentum is 1.0, so its buffer is g exactly; the
    reference's is 1e-80 buf + g, equal in every entry where g is not far below 1e-80 buf."""
    x, g, buf = np.eye(3), np.array([[1.0, 0.0, -2.0]] * 3), np.ones((3, 3))
    _, buf_new = ref.muon_step(x, g, buf, momentum=1e-80, nesterov=False)
    _, buf_t = _torch_muon_step(x, g, buf, momentum=1e-80, nesterov=False)
    np.testing.assert_array_equal(buf_t, g)
    np.testing.assert_array_equal(buf_new[:, [0, 2]], g[:, [0, 2]])
    np.testing.assert_array_equal(buf_new[:, 1], 1e-80)


def test_muon_defaults_match_torch():
    rng = np.random.default_rng(7)
    x, g, buf = rng.standard_normal((5, 3)), rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    x_new, buf_new = ref.muon_step(x, g, buf)
    with muon_in_float64():
        x_t, buf_t = _torch_muon_step(x, g, buf)
    assert matrix_error(x_new, x_t) < REFERENCE_TOL and matrix_error(buf_new, buf_t) < REFERENCE_TOL


@CASES
@given(shape=matrix_shapes(), lr=st.floats(-4.0, -1.0).map(lambda e: float(10.0 ** e)), weight_decay=UNIT,
       momentum=MOMENTUM, nesterov=st.booleans(), ns_steps=st.integers(1, 8),
       zero_column=st.booleans(), seed=SEED)
def test_muon_trajectory(shape, lr, weight_decay, momentum, nesterov, ns_steps, zero_column, seed):
    """Shared gradients: torch.optim.Muon steps with the gradient at the reference's position.
    With each side at its own position the two runs drift apart (measured: 5e-2 of the matrix
    scale after 100 steps at lr 0.077, momentum 0, shape 4x5) although single steps agree to
    ~1e-14: near the minimum the gradient is small and nearly singular, newton_schulz maps it
    to a matrix of unit size whose small-singular directions amplify one-ulp differences (for
    1x1 it is the sign function), and the loop feeds that back. That is conditioning of the
    dynamics, not disagreement; shared gradients still compare the optimizers at every step
    of a real run."""
    A, B, X0 = _problem(shape, seed, zero_column)
    h = dict(lr=lr, weight_decay=weight_decay, momentum=momentum, nesterov=nesterov, ns_steps=ns_steps)
    p = torch.tensor(X0, requires_grad=True)
    opt = torch.optim.Muon([p], **h)

    def step(x, g, buf):
        return ref.muon_step(x, g, buf, **h)

    with muon_in_float64():
        xs_r, bs_r, xs_t, bs_t = _run_pair(step, opt, p, A, B, X0, "momentum_buffer", shared=True)
    desc = fmt(shape=shape, **h, zero_column=zero_column, seed=seed)
    err = max(matrix_error(xs_r, xs_t), matrix_error(bs_r, bs_t))
    record("muon_step (100-step trajectory, float64 torch)", err, desc,
           max(trajectory_error(xs_r, xs_t), trajectory_error(bs_r, bs_t)), desc,
           kind="relative error (matrix floor over the run)")
    assert err < REFERENCE_TOL, f"muon_step trajectory differs from torch.optim.Muon by {err:.3e}; {desc}"
