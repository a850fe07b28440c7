"""Every reference implementation in ``grader.reference`` proven against its torch oracle.

All arithmetic is float64 on both sides. Hypothesis draws the cases (200 per function,
derandomized, so a run is reproducible and needs no example database).

How errors are measured
-----------------------
``rel_error`` from ``grader.checks.tolerance`` is |a - b| / max(floor, |a| + |b|), maximised over
elements, and every comparison must stay below ``REFERENCE_TOL`` (1e-10).

The grader's default floor (1e-8) assumes quantities of order one. A 100-step trajectory
breaks that assumption twice: a coordinate of a random walk passes close to zero (the
position is then the difference of two nearly equal numbers, and one ulp of disagreement
in how torch and numpy round those numbers becomes a huge *relative* error of the small
difference), and with gradients of size 1e-10 the optimizer states are far below 1e-8, so
the default floor would make their comparison vacuous. Both effects are conditioning, not
disagreement. So trajectories are compared with a *per-element trajectory floor*: the
floor of element i is the largest |a_i| + |b_i| that element reaches over the whole run.
A value that cancels to nearly zero is then judged relative to the magnitude of the
numbers that cancelled, while an element near its largest size is judged essentially as
with the plain relative error; tiny-gradient runs are judged in their own units. The
elementwise error with the default 1e-8 floor is reported alongside, for information only.

The worst case of each function over all examples is printed in the pytest terminal
summary (no ``-s`` needed), with the inputs that produced it.
"""
import copy
import io
import itertools
import math
import warnings

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.optim.lr_scheduler import (
    CosineAnnealingLR,
    ExponentialLR,
    LinearLR,
    SequentialLR,
    StepLR,
)

from grader import reference as ref
from grader.checks.tolerance import REFERENCE_TOL, rel_error
from tests.worst_case import TINY, WorstCases, first_bad_step, trajectory_error

F64 = torch.float64
STEPS = 100  # length of every optimizer trajectory

CASES = settings(max_examples=200, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])


# ------------------------------------------------------------- worst-case report

REPORT = WorstCases("reference vs torch: worst relative errors (float64)")
record = REPORT.record


@pytest.fixture(scope="module", autouse=True)
def _worst_case_report(request):
    REPORT.register(request)
    yield


@pytest.fixture(scope="module", autouse=True)
def _single_thread():
    """Tiny tensors only: one intra-op thread is ~10x faster than two on a busy 2-core
    machine (OpenMP workers contend). Restored afterwards for the other test modules."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)






def fmt(**kw):
    parts = []
    for k, v in kw.items():
        parts.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
    return ", ".join(parts)


# ------------------------------------------------------------- step functions
#
# Each case: a gradient sequence drawn up front (iid normal per step, optionally with
# per-element scales spread over 3 decades and with a quarter of the entries zeroed), so
# that the gradients do not depend on the position. With a gradient that depended on the
# position (a quadratic), lr up to 10 would diverge or turn chaotic and amplify the
# one-ulp rounding differences between numpy and torch: a conditioning effect, not a
# disagreement. The starting point is scaled to the size of the walk (a dry run from 0
# gives that size), so that steps are neither swamped by a large x0 nor the other way.
# Both sides then carry their own state for STEPS steps; positions and states are
# recorded after every step and compared.

def _sgd(x, g, s, t, h):
    return ref.sgd_step(x, g, h["lr"]), ()


def _momentum(x, g, s, t, h):
    x, v = ref.momentum_step(x, g, s[0], h["lr"], h["beta"])
    return x, (v,)


def _nesterov(x, g, s, t, h):
    x, v = ref.nesterov_step(x, g, s[0], h["lr"], h["beta"])
    return x, (v,)


def _adagrad(x, g, s, t, h):
    x, G = ref.adagrad_step(x, g, s[0], h["lr"], eps=h["eps"])
    return x, (G,)


def _rmsprop(x, g, s, t, h):
    x, sq = ref.rmsprop_step(x, g, s[0], h["lr"], alpha=h["alpha"], eps=h["eps"])
    return x, (sq,)


def _adam(x, g, s, t, h):
    x, m, v = ref.adam_step(x, g, s[0], s[1], t, lr=h["lr"], beta1=h["beta1"],
                            beta2=h["beta2"], eps=h["eps"])
    return x, (m, v)


def _adamw(x, g, s, t, h):
    x, m, v = ref.adamw_step(x, g, s[0], s[1], t, lr=h["lr"], beta1=h["beta1"],
                             beta2=h["beta2"], eps=h["eps"], weight_decay=h["weight_decay"])
    return x, (m, v)


# name -> (reference step in a common form, torch optimizer factory, torch state keys)
STEP_SPECS = {
    "sgd_step": (
        _sgd,
        lambda p, h: torch.optim.SGD([p], lr=h["lr"], momentum=0.0, foreach=False),
        ()),
    "momentum_step": (
        _momentum,
        lambda p, h: torch.optim.SGD([p], lr=h["lr"], momentum=h["beta"], dampening=0.0,
                                     nesterov=False, foreach=False),
        ("momentum_buffer",)),
    "nesterov_step": (
        _nesterov,
        lambda p, h: torch.optim.SGD([p], lr=h["lr"], momentum=h["beta"], dampening=0.0,
                                     nesterov=True, foreach=False),
        ("momentum_buffer",)),
    "adagrad_step": (
        _adagrad,
        lambda p, h: torch.optim.Adagrad([p], lr=h["lr"], lr_decay=0.0, weight_decay=0.0,
                                         initial_accumulator_value=0.0, eps=h["eps"],
                                         foreach=False),
        ("sum",)),
    "rmsprop_step": (
        _rmsprop,
        lambda p, h: torch.optim.RMSprop([p], lr=h["lr"], alpha=h["alpha"], eps=h["eps"],
                                         momentum=0.0, centered=False, weight_decay=0.0,
                                         foreach=False),
        ("square_avg",)),
    "adam_step": (
        _adam,
        lambda p, h: torch.optim.Adam([p], lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                      eps=h["eps"], weight_decay=0.0, foreach=False),
        ("exp_avg", "exp_avg_sq")),
    "adamw_step": (
        _adamw,
        lambda p, h: torch.optim.AdamW([p], lr=h["lr"], betas=(h["beta1"], h["beta2"]),
                                       eps=h["eps"], weight_decay=h["weight_decay"],
                                       foreach=False),
        ("exp_avg", "exp_avg_sq")),
}
N_STATES = {"sgd_step": 0, "momentum_step": 1, "nesterov_step": 1, "adagrad_step": 1,
            "rmsprop_step": 1, "adam_step": 2, "adamw_step": 2}
HAS_STEP_COUNT = {"adagrad_step", "rmsprop_step", "adam_step", "adamw_step"}


def _reference_trajectory(name, x0, grads, h):
    """Run the reference for len(grads) steps; positions and states after every step."""
    step = STEP_SPECS[name][0]
    x = x0
    states = tuple(np.zeros_like(x0) for _ in range(N_STATES[name]))
    xs, ss = [], []
    for t, g in enumerate(grads, start=1):
        if t == 1:  # the reference must not write into its inputs
            before = (np.copy(x), np.copy(g)) + tuple(np.copy(s) for s in states)
            x_new, new_states = step(x, g, states, t, h)
            after = (x, g) + states
            assert all(np.array_equal(u, w) for u, w in zip(before, after, strict=True)), \
                f"{name} modified one of its input arrays"
        else:
            x_new, new_states = step(x, g, states, t, h)
        assert np.shape(x_new) == np.shape(x0), f"{name} returned shape {np.shape(x_new)}"
        for s in new_states:
            assert np.shape(s) == np.shape(x0)
        x, states = x_new, tuple(new_states)
        xs.append(np.array(x, dtype=np.float64))
        ss.append(tuple(np.array(s, dtype=np.float64) for s in states))
    return np.array(xs), [np.array([s[i] for s in ss]) for i in range(N_STATES[name])]


def _torch_trajectory(name, x0, grads, h):
    factory, keys = STEP_SPECS[name][1], STEP_SPECS[name][2]
    p = torch.tensor(np.asarray(x0), dtype=F64, requires_grad=True)
    p.grad = torch.zeros_like(p)
    opt = factory(p, h)
    xs = []
    ss = {k: [] for k in keys}
    for g in grads:
        p.grad.copy_(torch.from_numpy(np.asarray(g, dtype=np.float64)))
        opt.step()
        xs.append(p.detach().numpy().copy())
        for k in keys:
            if k in opt.state[p]:
                ss[k].append(opt.state[p][k].numpy().copy())
    return np.array(xs), {k: np.array(v) for k, v in ss.items()}, opt.state[p]


def _gradients(shape, scale, spread, zero_frac, seed):
    rng = np.random.default_rng(seed)
    elem_scale = scale * 10.0 ** rng.uniform(-spread, 0.0, size=shape)
    grads = elem_scale * rng.standard_normal((STEPS,) + tuple(shape))
    if zero_frac:
        grads[rng.random(grads.shape) < zero_frac] = 0.0
    return grads, rng


def check_step_function(name, h, shape, scale, spread, zero_frac, seed):
    grads, rng = _gradients(shape, scale, spread, zero_frac, seed)
    grads_in = list(grads)  # 0-d entries are numpy scalars when shape == ()
    # Dry run from 0 to learn the size of the walk, then start at that scale.
    step, x = STEP_SPECS[name][0], np.zeros(shape)
    states, size = tuple(np.zeros(shape) for _ in range(N_STATES[name])), 0.0
    for t, g in enumerate(grads_in, start=1):
        x, states = step(x, g, states, t, h)
        size = max(size, float(np.max(np.abs(x))))
    if not (np.isfinite(size) and size > 0):
        size = 1.0
    x0 = np.asarray(size * rng.standard_normal(shape), dtype=np.float64)

    xs_ref, states_ref = _reference_trajectory(name, x0, grads_in, h)
    xs_t, states_t, final_state = _torch_trajectory(name, x0, grads_in, h)

    desc = fmt(shape=tuple(shape), **h, grad_scale=scale, spread=spread,
               zero_frac=zero_frac, seed=seed)
    errors = {"position": trajectory_error(xs_ref, xs_t)}
    literal = {"position": rel_error(xs_ref, xs_t)}
    for i, key in enumerate(STEP_SPECS[name][2]):
        if key not in final_state:
            # torch.optim.SGD keeps no buffer when momentum == 0; the reference's
            # buffer is then just the gradient (beta * v + g with beta = 0).
            assert h.get("beta") == 0.0, f"torch kept no {key!r}"
            assert np.array_equal(states_ref[i], grads), f"{name}: v_new != g for beta = 0"
            continue
        errors[key] = trajectory_error(states_ref[i], states_t[key])
        literal[key] = rel_error(states_ref[i], states_t[key])
    if name in HAS_STEP_COUNT:
        assert float(final_state["step"]) == STEPS

    worst_part = max(errors, key=errors.get)
    worst_lit = max(literal, key=literal.get)
    record(name, errors[worst_part], f"{worst_part}; {desc}",
           literal[worst_lit], f"{worst_lit}; {desc}")
    for part, err in errors.items():
        a, b = (xs_ref, xs_t) if part == "position" else (
            states_ref[STEP_SPECS[name][2].index(part)], states_t[part])
        assert err < REFERENCE_TOL, (
            f"{name}: {part} differs from torch by {err:.3e} (first at step "
            f"{first_bad_step(a, b)}); {desc}")


SHAPES = st.one_of(st.just(()), st.tuples(st.integers(1, 6)),
                   st.tuples(st.integers(1, 4), st.integers(1, 4)))
LR = st.floats(-4.0, 1.0).map(lambda e: float(10.0 ** e))          # 1e-4 .. 10
EPS = st.floats(-12.0, -3.0).map(lambda e: float(10.0 ** e))        # 1e-12 .. 1e-3
GRAD_SCALE = st.floats(-10.0, 2.0).map(lambda e: float(10.0 ** e))  # 1e-10 .. 1e2
SPREAD = st.sampled_from([0.0, 3.0])
ZERO_FRAC = st.sampled_from([0.0, 0.25])
SEED = st.integers(0, 2**32 - 1)
BETA = st.floats(0.0, 0.999)
ALPHA = st.floats(0.5, 0.9999)
BETA1 = st.floats(0.0, 0.999)
BETA2 = st.floats(0.5, 0.99999)
WEIGHT_DECAY = st.floats(0.0, 1.0)
COMMON = dict(shape=SHAPES, lr=LR, scale=GRAD_SCALE, spread=SPREAD, zero_frac=ZERO_FRAC,
              seed=SEED)


@CASES
@given(**COMMON)
def test_sgd_step(shape, lr, scale, spread, zero_frac, seed):
    check_step_function("sgd_step", dict(lr=lr), shape, scale, spread, zero_frac, seed)


@CASES
@given(**COMMON, beta=BETA)
def test_momentum_step(shape, lr, scale, spread, zero_frac, seed, beta):
    check_step_function("momentum_step", dict(lr=lr, beta=beta), shape, scale, spread,
                        zero_frac, seed)


@CASES
@given(**COMMON, beta=st.floats(0.0, 0.999, exclude_min=True))  # torch: nesterov needs beta > 0
def test_nesterov_step(shape, lr, scale, spread, zero_frac, seed, beta):
    check_step_function("nesterov_step", dict(lr=lr, beta=beta), shape, scale, spread,
                        zero_frac, seed)


@CASES
@given(**COMMON, eps=EPS)
def test_adagrad_step(shape, lr, scale, spread, zero_frac, seed, eps):
    check_step_function("adagrad_step", dict(lr=lr, eps=eps), shape, scale, spread,
                        zero_frac, seed)


@CASES
@given(**COMMON, alpha=ALPHA, eps=EPS)
def test_rmsprop_step(shape, lr, scale, spread, zero_frac, seed, alpha, eps):
    check_step_function("rmsprop_step", dict(lr=lr, alpha=alpha, eps=eps), shape, scale,
                        spread, zero_frac, seed)


@CASES
@given(**COMMON, beta1=BETA1, beta2=BETA2, eps=EPS)
def test_adam_step(shape, lr, scale, spread, zero_frac, seed, beta1, beta2, eps):
    check_step_function("adam_step", dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps),
                        shape, scale, spread, zero_frac, seed)


@CASES
@given(**COMMON, beta1=BETA1, beta2=BETA2, eps=EPS, weight_decay=WEIGHT_DECAY)
def test_adamw_step(shape, lr, scale, spread, zero_frac, seed, beta1, beta2, eps,
                    weight_decay):
    check_step_function("adamw_step", dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps,
                                           weight_decay=weight_decay),
                        shape, scale, spread, zero_frac, seed)


def test_adam_defaults_match_torch_defaults():
    """The reference's default hyperparameters are torch's (so a bare call agrees)."""
    g = np.array([0.3, -2.0, 1e-9])
    x, m, v = ref.adam_step(np.ones(3), g, np.zeros(3), np.zeros(3), 1)
    p = torch.ones(3, dtype=F64, requires_grad=True)
    p.grad = torch.tensor(g)
    torch.optim.Adam([p], foreach=False).step()
    assert rel_error(x, p.detach().numpy()) < REFERENCE_TOL
    x, m, v = ref.adamw_step(np.ones(3), g, np.zeros(3), np.zeros(3), 1)
    p = torch.ones(3, dtype=F64, requires_grad=True)
    p.grad = torch.tensor(g)
    torch.optim.AdamW([p], foreach=False).step()
    assert rel_error(x, p.detach().numpy()) < REFERENCE_TOL
    x, G = ref.adagrad_step(np.ones(3), g, np.zeros(3), 0.1)
    p = torch.ones(3, dtype=F64, requires_grad=True)
    p.grad = torch.tensor(g)
    torch.optim.Adagrad([p], lr=0.1, foreach=False).step()
    assert rel_error(x, p.detach().numpy()) < REFERENCE_TOL
    x, s = ref.rmsprop_step(np.ones(3), g, np.zeros(3), 0.1)
    p = torch.ones(3, dtype=F64, requires_grad=True)
    p.grad = torch.tensor(g)
    torch.optim.RMSprop([p], lr=0.1, foreach=False).step()
    assert rel_error(x, p.detach().numpy()) < REFERENCE_TOL


# ------------------------------------------------------------- ScratchAdam
#
# ScratchAdam and torch's optimizer train two identical copies of a small float64 MLP on
# the same full-batch data for 100 steps; all parameters are compared after every step
# (see SCRATCH_CONFIGS for when the two share gradients).

def _mlp(seed=0):
    gen = torch.Generator().manual_seed(seed)
    with torch.random.fork_rng(devices=[]):  # leave the global RNG as other tests expect it
        model = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.Tanh(),
                                    torch.nn.Linear(16, 1)).to(F64)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(0.5 * torch.randn(p.shape, generator=gen, dtype=F64))
    X = torch.randn(64, 5, generator=gen, dtype=F64)
    y = torch.sin(X @ torch.randn(5, 1, generator=gen, dtype=F64))
    unused = torch.nn.Parameter(torch.randn(3, generator=gen, dtype=F64))  # never gets a grad
    return model, unused, X, y


def _groups(model, unused, two_groups):
    first, last = model[0], model[2]
    if two_groups:
        return [{"params": list(first.parameters()) + [unused], "lr": 3e-2},
                {"params": list(last.parameters()), "lr": 5e-3, "betas": (0.8, 0.99)}]
    return list(model.parameters()) + [unused]


def _flat(model):
    return torch.cat([p.detach().flatten() for p in model.parameters()]).numpy().copy()


def _train(model, opt, X, y, steps):
    traj = []
    for _ in range(steps):
        opt.zero_grad(set_to_none=True)
        loss = torch.mean((model(X) - y) ** 2)
        loss.backward()
        opt.step()
        traj.append(_flat(model))
    return np.array(traj)


def _train_shared_gradients(model_a, opt_a, model_b, opt_b, X, y, steps):
    """Both optimizers step on the gradient computed at model_a's parameters; each keeps
    its own parameters and state. Differences then come from the optimizers alone."""
    traj_a, traj_b = [], []
    for _ in range(steps):
        opt_a.zero_grad(set_to_none=True)
        opt_b.zero_grad(set_to_none=True)
        torch.mean((model_a(X) - y) ** 2).backward()
        for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
            pb.grad = pa.grad.clone()
        opt_a.step()
        opt_b.step()
        traj_a.append(_flat(model_a))
        traj_b.append(_flat(model_b))
    return np.array(traj_a), np.array(traj_b)


# Typical hyperparameters: two models trained independently side by side. Extreme ones
# (beta1 <= 0.5, small beta2, eps down to 1e-12, weight decay up to 1) make the training
# dynamics amplify one-ulp differences between the two optimizers' arithmetic (measured:
# single steps agree to ~1e-16, yet two independent runs drift apart to ~3e-9 after 100
# steps, and to ~1e-16 when both see the same gradients). For those, the torch optimizer
# is fed the gradient computed at ScratchAdam's parameters ("shared"), which removes the
# feedback through the network but still compares the two optimizers at every step.
SCRATCH_CONFIGS = [
    # id, ScratchAdam kwargs, torch class, torch kwargs, shared gradients
    ("adam", dict(lr=1e-2), torch.optim.Adam, dict(lr=1e-2), False),
    ("adam-l2", dict(lr=1e-2, weight_decay=0.1), torch.optim.Adam,
     dict(lr=1e-2, weight_decay=0.1), False),
    ("adamw", dict(lr=1e-2, weight_decay=0.1, decoupled=True), torch.optim.AdamW,
     dict(lr=1e-2, weight_decay=0.1), False),
    ("adamw-no-decay", dict(lr=1e-2, weight_decay=0.0, decoupled=True), torch.optim.AdamW,
     dict(lr=1e-2, weight_decay=0.0), False),
    ("adam-slow-betas", dict(lr=1e-2, betas=(0.95, 0.9999), eps=1e-12, weight_decay=0.1,
                             decoupled=True),
     torch.optim.AdamW, dict(lr=1e-2, betas=(0.95, 0.9999), eps=1e-12, weight_decay=0.1),
     False),
    ("adam-l2-fast-betas", dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.5),
     torch.optim.Adam, dict(lr=1e-2, betas=(0.5, 0.9), eps=1e-6, weight_decay=0.5), True),
    ("adam-l2-large-eps", dict(lr=3e-2, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.5),
     torch.optim.Adam, dict(lr=3e-2, betas=(0.5, 0.9), eps=1e-4, weight_decay=0.5), True),
    ("adamw-beta1-zero-large-decay", dict(lr=3e-2, betas=(0.0, 0.5), eps=1e-12,
                                          weight_decay=1.0, decoupled=True),
     torch.optim.AdamW, dict(lr=3e-2, betas=(0.0, 0.5), eps=1e-12, weight_decay=1.0), True),
]


@pytest.mark.parametrize("two_groups", [False, True], ids=["one-group", "two-groups"])
@pytest.mark.parametrize("label, scratch_kw, torch_cls, torch_kw, shared",
                         SCRATCH_CONFIGS, ids=[c[0] for c in SCRATCH_CONFIGS])
def test_scratch_adam_matches_torch(label, scratch_kw, torch_cls, torch_kw, shared,
                                    two_groups):
    model_a, unused_a, X, y = _mlp()
    model_b, unused_b = copy.deepcopy(model_a), copy.deepcopy(unused_a)
    unused_before = unused_a.detach().clone()
    opt_a = ref.ScratchAdam(_groups(model_a, unused_a, two_groups), **scratch_kw)
    opt_b = torch_cls(_groups(model_b, unused_b, two_groups), foreach=False, **torch_kw)
    if shared:
        traj_a, traj_b = _train_shared_gradients(model_a, opt_a, model_b, opt_b, X, y, STEPS)
    else:
        traj_a = _train(model_a, opt_a, X, y, STEPS)
        traj_b = _train(model_b, opt_b, X, y, STEPS)

    err = trajectory_error(traj_a, traj_b)
    desc = (f"{label}, {'two param groups' if two_groups else 'one group'}, {STEPS} steps, "
            f"{'shared gradients' if shared else 'independent training'}")
    record("ScratchAdam", err, desc, rel_error(traj_a, traj_b), desc)
    assert err < REFERENCE_TOL, f"ScratchAdam vs {torch_cls.__name__}: {err:.3e}; {desc}"

    # States: same keys as torch's, same values.
    for pa, pb in zip(model_a.parameters(), model_b.parameters(), strict=True):
        sa, sb = opt_a.state[pa], opt_b.state[pb]
        assert set(sa) == {"step", "exp_avg", "exp_avg_sq"} == set(sb)
        assert float(sa["step"]) == float(sb["step"]) == STEPS
        for key in ("exp_avg", "exp_avg_sq"):
            assert sa[key].dtype == F64
            assert rel_error(sa[key].numpy(), sb[key].numpy(),
                             floor=max(TINY, float(sb[key].abs().max()))) < REFERENCE_TOL

    # The parameter without a gradient is skipped: untouched and without state.
    assert unused_a.grad is None
    assert unused_a not in opt_a.state
    assert torch.equal(unused_a.detach(), unused_before)


@pytest.mark.parametrize("scratch_kw", [dict(lr=1e-2, weight_decay=0.1),
                                        dict(lr=1e-2, weight_decay=0.1, decoupled=True)],
                         ids=["l2", "decoupled"])
def test_scratch_adam_state_dict_round_trip(scratch_kw):
    """Save optimizer and model mid-run, load both into fresh objects: identical result."""
    model, unused, X, y = _mlp()
    init = copy.deepcopy(model)

    straight = copy.deepcopy(init)
    traj_straight = _train(straight, ref.ScratchAdam(_groups(straight, unused, True),
                                                     **scratch_kw), X, y, STEPS)

    first = copy.deepcopy(init)
    opt_first = ref.ScratchAdam(_groups(first, unused, True), **scratch_kw)
    _train(first, opt_first, X, y, STEPS // 2)
    buffer = io.BytesIO()
    torch.save({"model": first.state_dict(), "opt": opt_first.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)

    second, unused2, _, _ = _mlp(seed=1)  # different weights until loaded
    second.load_state_dict(saved["model"])
    # Deliberately different hyperparameters: load_state_dict must restore the groups'.
    opt_second = ref.ScratchAdam(_groups(second, unused2, True), lr=0.5, betas=(0.1, 0.2),
                                 weight_decay=0.0, decoupled=not scratch_kw.get("decoupled"))
    opt_second.load_state_dict(saved["opt"])
    assert opt_second.param_groups[1]["lr"] == 5e-3
    assert opt_second.param_groups[0]["decoupled"] == scratch_kw.get("decoupled", False)
    for p in second.parameters():
        assert set(opt_second.state[p]) == {"step", "exp_avg", "exp_avg_sq"}
        assert float(opt_second.state[p]["step"]) == STEPS // 2
    traj_resumed = _train(second, opt_second, X, y, STEPS - STEPS // 2)
    assert np.array_equal(traj_resumed, traj_straight[STEPS // 2:]), \
        "ScratchAdam resumed from a state_dict diverges from the uninterrupted run"


# ------------------------------------------------------------- schedules
#
# torch's schedulers drive a real torch.optim.SGD: the learning rate of step k is
# optimizer.param_groups[0]["lr"] read before the k-th optimizer.step(), and
# scheduler.step() follows every optimizer.step(). (The parameter has no gradient, so
# SGD.step() leaves it alone; only the schedule matters here.) Schedule values are
# positive numbers of order lr0 without cancellation except at the very end of a cosine
# with lr_min = 0, where 1 + cos(pi t / T) is small; with T_max <= 200 that costs at most
# ~1e-12 relative, so the plain relative error is used.

def _torch_lrs(make_scheduler, lr0, n):
    p = torch.zeros(1, dtype=F64, requires_grad=True)
    opt = torch.optim.SGD([p], lr=lr0)
    lrs = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # torch's scheduler-order warnings
        sched = make_scheduler(opt)
        for _ in range(n):
            lrs.append(float(opt.param_groups[0]["lr"]))
            opt.step()
            sched.step()
    return np.array(lrs)


def _check_schedule(name, ours, theirs, desc):
    ours = np.asarray(ours, dtype=np.float64)
    err = rel_error(ours, theirs)
    record(name, err, desc)
    assert all(isinstance(v, float) for v in ours.tolist())
    assert err < REFERENCE_TOL, f"{name} differs from torch by {err:.3e}; {desc}"


LR0 = st.floats(-4.0, 1.0).map(lambda e: float(10.0 ** e))
LR_MIN_FRACTION = st.one_of(st.just(0.0), st.floats(0.0, 0.9))


@CASES
@given(lr0=LR0, step_size=st.integers(1, 30), gamma=st.floats(0.05, 1.0),
       n=st.integers(1, 150))
def test_step_decay(lr0, step_size, gamma, n):
    ours = [ref.step_decay(k, lr0, step_size, gamma) for k in range(n)]
    assert all(type(v) is float for v in ours)
    theirs = _torch_lrs(lambda opt: StepLR(opt, step_size=step_size, gamma=gamma), lr0, n)
    _check_schedule("step_decay", ours, theirs,
                    fmt(lr0=lr0, step_size=step_size, gamma=gamma, steps=n))


@CASES
@given(lr0=LR0, gamma=st.floats(0.5, 1.0), n=st.integers(1, 200))
def test_exponential_decay(lr0, gamma, n):
    ours = [ref.exponential_decay(k, lr0, gamma) for k in range(n)]
    assert all(type(v) is float for v in ours)
    theirs = _torch_lrs(lambda opt: ExponentialLR(opt, gamma=gamma), lr0, n)
    _check_schedule("exponential_decay", ours, theirs, fmt(lr0=lr0, gamma=gamma, steps=n))


@CASES
@given(lr0=LR0, T_max=st.integers(1, 200), frac=LR_MIN_FRACTION)
def test_cosine_annealing(lr0, T_max, frac):
    lr_min = lr0 * frac
    # Steps 0..T_max: torch's CosineAnnealingLR (recursive form) against the closed form.
    ours = [ref.cosine_annealing(k, lr0, T_max, lr_min) for k in range(T_max + 1)]
    assert all(type(v) is float for v in ours)
    theirs = _torch_lrs(lambda opt: CosineAnnealingLR(opt, T_max=T_max, eta_min=lr_min),
                        lr0, T_max + 1)
    _check_schedule("cosine_annealing", ours, theirs,
                    fmt(lr0=lr0, T_max=T_max, lr_min=lr_min))
    # After T_max torch climbs back up (it is periodic); the reference stays at lr_min.
    for k in range(T_max, 3 * T_max + 2):
        assert ref.cosine_annealing(k, lr0, T_max, lr_min) == lr_min


def _warmup_cosine_torch(opt, warmup, total, lr_min):
    # LinearLR from lr0/warmup at step 0 up to lr0 at step warmup - 1 gives
    # lr0 (k + 1) / warmup; at the milestone SequentialLR restarts CosineAnnealingLR at
    # its closed form for epoch 0 (= lr0), after which CosineAnnealingLR's recursive
    # form runs to lr_min at T_max = total - warmup. For warmup == 1, total_iters = 0 is
    # harmless in this torch: LinearLR only divides by total_iters for
    # 1 <= last_epoch <= total_iters, which never happens, and its start_factor 1/1 is
    # allowed. (total == warmup would give CosineAnnealingLR T_max = 0, a division by
    # zero inside torch, so total > warmup is drawn; that case is checked by hand below.)
    return SequentialLR(opt, [
        LinearLR(opt, start_factor=1.0 / warmup, end_factor=1.0, total_iters=warmup - 1),
        CosineAnnealingLR(opt, T_max=total - warmup, eta_min=lr_min),
    ], milestones=[warmup])


@CASES
@given(lr0=LR0, warmup=st.integers(1, 30), extra=st.integers(1, 150), frac=LR_MIN_FRACTION)
def test_warmup_cosine(lr0, warmup, extra, frac):
    total, lr_min = warmup + extra, lr0 * frac
    ours = [ref.warmup_cosine(k, lr0, warmup, total, lr_min) for k in range(total + 1)]
    assert all(type(v) is float for v in ours)
    theirs = _torch_lrs(lambda opt: _warmup_cosine_torch(opt, warmup, total, lr_min),
                        lr0, total + 1)
    _check_schedule("warmup_cosine", ours, theirs,
                    fmt(lr0=lr0, warmup_steps=warmup, total_steps=total, lr_min=lr_min))
    for k in range(total, 2 * total + 2):  # clamp after total_steps
        assert ref.warmup_cosine(k, lr0, warmup, total, lr_min) == lr_min


def test_warmup_cosine_without_cosine_phase():
    """total_steps == warmup_steps (torch cannot express it): warmup, then lr_min."""
    for w in (1, 4):
        vals = [ref.warmup_cosine(k, 0.3, w, w, 0.01) for k in range(w + 3)]
        assert vals[:w] == pytest.approx([0.3 * (k + 1) / w for k in range(w)], rel=1e-15)
        assert vals[w:] == [0.01] * 3


# ------------------------------------------------------------- batch-size functions

@CASES
@given(n=st.integers(1, 60), batch_size=st.integers(1, 70), drop_last=st.booleans(),
       seed=SEED)
def test_minibatch_indices(n, batch_size, drop_last, seed):
    rng = np.random.default_rng(seed)
    twin = np.random.default_rng(seed)
    for _epoch in range(3):  # successive epochs from one Generator
        batches = ref.minibatch_indices(n, batch_size, rng, drop_last=drop_last)
        order = twin.permutation(n)
        expected = [order[i:i + batch_size] for i in range(0, n, batch_size)]
        short_last = n % batch_size != 0
        if drop_last and short_last:
            expected = expected[:-1]  # drop_last drops only the short last batch
        assert len(batches) == len(expected) == (n // batch_size if drop_last
                                                 else math.ceil(n / batch_size))
        for got, want in zip(batches, expected, strict=True):
            got = np.asarray(got)
            assert np.issubdtype(got.dtype, np.integer)
            assert np.array_equal(got, want)
        sizes = [len(b) for b in batches]
        if drop_last:
            assert all(s == batch_size for s in sizes)
        else:
            assert all(s == batch_size for s in sizes[:-1])
            assert sizes[-1] == (n % batch_size or batch_size)
        used = np.concatenate(batches) if batches else np.array([], dtype=int)
        assert len(np.unique(used)) == len(used)  # no index twice
        if not drop_last:
            assert np.array_equal(np.sort(used), np.arange(n))  # every index exactly once
        else:
            assert len(used) == n - n % batch_size
    record("minibatch_indices", 0.0, "exact equality with rng.permutation(n) cut in batches")


def _per_example_gradients(w, X, y):
    return 2.0 * X * (X @ w - y)[:, None]  # row i: 2 x_i (x_i . w - y_i)


def _sum_scale(w, X, y):
    """Size of the terms summed in the gradient: (2/n) sum_i |x_ij| |r_i| per coordinate.

    The gradient is a sum that can cancel; rounding errors are relative to this, so it
    is the natural floor when comparing two ways of computing it."""
    return 2.0 * np.abs(X).T @ np.abs(X @ w - y) / len(y)


@CASES
@given(n=st.integers(1, 40), d=st.integers(1, 6),
       x_scale=st.floats(-3.0, 3.0).map(lambda e: float(10.0 ** e)), seed=SEED)
def test_mse_gradient(n, d, x_scale, seed):
    rng = np.random.default_rng(seed)
    X = x_scale * rng.standard_normal((n, d))
    w = rng.standard_normal(d)
    y = X @ rng.standard_normal(d) + x_scale * rng.standard_normal(n)
    X0, y0, w0 = X.copy(), y.copy(), w.copy()
    g = ref.mse_gradient(w, X, y)
    assert np.array_equal(X, X0) and np.array_equal(y, y0) and np.array_equal(w, w0)
    assert np.shape(g) == (d,)

    wt = torch.tensor(w, dtype=F64, requires_grad=True)
    loss = torch.mean((torch.tensor(X) @ wt - torch.tensor(y)) ** 2)
    loss.backward()
    g_torch = wt.grad.numpy()
    floor = np.maximum(TINY, _sum_scale(w, X, y))
    err = rel_error(g, g_torch, floor=floor)
    desc = fmt(n=n, d=d, x_scale=x_scale, seed=seed)
    record("mse_gradient", err, desc, rel_error(g, g_torch), desc)
    assert err < REFERENCE_TOL, f"mse_gradient vs autograd: {err:.3e}; {desc}"

    # Central differences are exact for a quadratic up to rounding: the loss is summed to
    # ~1e-16 of its size and divided by 2h, so h = 1e-2 (1 + |w_j|) leaves ~1e-12 of the
    # gradient's size; 1e-7 is ample.
    def loss_np(v):
        return np.mean((X @ v - y) ** 2)
    fd = np.empty(d)
    for j in range(d):
        h = 1e-2 * (1.0 + abs(w[j]))
        e = np.zeros(d)
        e[j] = h
        fd[j] = (loss_np(w + e) - loss_np(w - e)) / (2 * h)
    loss_size = np.mean((X @ w - y) ** 2) + np.mean(np.abs(X @ w - y) * np.abs(X).sum(1))
    assert rel_error(g, fd, floor=np.maximum(floor, 1e-12 * loss_size)) < 1e-7


@CASES
@given(n=st.integers(2, 24), d=st.integers(1, 4), batch_size=st.integers(1, 28),
       epochs=st.integers(1, 4), lr=st.floats(-3.0, -1.0).map(lambda e: float(10.0 ** e)),
       use_w0=st.booleans(), seed=SEED)
def test_train_minibatch_sgd_matches_autograd_loop(n, d, batch_size, epochs, lr, use_w0,
                                                   seed):
    data = np.random.default_rng(seed + 1)
    X = data.standard_normal((n, d))
    y = X @ data.standard_normal(d) + 0.3 * data.standard_normal(n)
    w0 = data.standard_normal(d) if use_w0 else None
    X0, y0, w0_copy = X.copy(), y.copy(), None if w0 is None else w0.copy()

    w, losses = ref.train_minibatch_sgd(X, y, batch_size, lr, epochs,
                                        np.random.default_rng(seed), w0=w0)
    assert np.array_equal(X, X0) and np.array_equal(y, y0)
    if w0 is not None:
        assert np.array_equal(w0, w0_copy)
    losses = np.asarray(losses)
    assert losses.shape == (epochs,) and np.shape(w) == (d,)

    # Hand-rolled loop: the same batches (rng.permutation(n) cut in consecutive batches,
    # one permutation per epoch, same seed), gradient by torch autograd.
    rng = np.random.default_rng(seed)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    wt = torch.zeros(d, dtype=F64) if w0 is None else torch.tensor(w0)
    ws, ls = [], []
    for _ in range(epochs):
        order = rng.permutation(n)
        for start in range(0, n, batch_size):
            idx = torch.from_numpy(order[start:start + batch_size])
            v = wt.detach().clone().requires_grad_(True)
            torch.mean((Xt[idx] @ v - yt[idx]) ** 2).backward()
            wt = v.detach() - lr * v.grad
            ws.append(wt.numpy().copy())
        ls.append(float(torch.mean((Xt @ wt - yt) ** 2)))
    # w is compared with its own trajectory floor (the largest |w_j| it went through).
    traj_floor = np.maximum(TINY, np.max(np.abs(np.array(ws)), axis=0) * 2)
    err_w = rel_error(w, ws[-1], floor=traj_floor)
    err_l = rel_error(losses, ls)
    desc = fmt(n=n, d=d, batch_size=batch_size, epochs=epochs, lr=lr, w0=use_w0, seed=seed)
    record("train_minibatch_sgd", max(err_w, err_l), desc,
           max(rel_error(w, ws[-1]), err_l), desc)
    assert err_w < REFERENCE_TOL, f"w differs from the autograd loop: {err_w:.3e}; {desc}"
    assert err_l < REFERENCE_TOL, f"losses differ from the autograd loop: {err_l:.3e}; {desc}"


@CASES
@given(n=st.integers(8, 40), d=st.integers(1, 4), batch_frac=st.floats(0.0, 1.0),
       epochs=st.integers(2, 8), lr_frac=st.floats(0.02, 0.5), seed=SEED)
def test_train_minibatch_sgd_loss_decreases(n, d, batch_frac, epochs, lr_frac, seed):
    """Realizable least squares with X^T X / n = I: loss(w) = |w - w*|^2 exactly, and each
    minibatch step multiplies w - w* by I - lr H_B with 0 <= lr H_B <= 2 lr n <= 1 (rows
    of X have |x_i|^2 <= n), so the per-epoch loss must decrease strictly."""
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.standard_normal((n, d)))
    X = q * math.sqrt(n)
    w_star = rng.standard_normal(d)
    y = X @ w_star
    batch_size = 1 + int(batch_frac * (n - 1))
    lr = lr_frac / n
    _, losses = ref.train_minibatch_sgd(X, y, batch_size, lr, epochs, rng)
    losses = np.asarray(losses)
    assert losses.shape == (epochs,)
    assert losses[0] < w_star @ w_star  # loss at w = 0 is |w*|^2
    assert np.all(np.diff(losses) < 0), losses


@CASES
@given(n=st.integers(2, 8), d=st.integers(1, 3), batch_frac=st.floats(0.0, 1.0),
       seed=SEED)
def test_gradient_noise_exact_by_enumeration(n, d, batch_frac, seed):
    """Small n: every batch of size B is enumerated, which gives the exact mean and
    variance of Z = |g_B - g|^2 under sampling without replacement. The mean must equal
    the finite-population formula, and the reference's Monte Carlo estimate over
    n_draws must lie within 6 standard errors of it (the CLT makes a miss ~1e-9 likely)."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = rng.standard_normal(n)
    w = rng.standard_normal(d)
    B = 1 + int(batch_frac * (n - 1))
    n_draws = 300
    G = _per_example_gradients(w, X, y)
    g = G.mean(0)
    spread = np.sum((G - g) ** 2) / n
    formula = (n - B) / (n - 1) / B * spread
    Z = np.array([np.sum((G[list(c)].mean(0) - g) ** 2)
                  for c in itertools.combinations(range(n), B)])
    assert abs(Z.mean() - formula) <= 1e-10 * spread  # the formula itself is right

    measured = ref.gradient_noise(w, X, y, B, np.random.default_rng(seed + 7), n_draws)
    se = Z.std() / math.sqrt(n_draws)
    desc = fmt(n=n, d=d, B=B, n_draws=n_draws, seed=seed)
    gap = abs(measured - formula)
    band = 6 * se + 1e-10 * spread  # 6 standard errors, plus rounding when Z is constant
    if B < n:
        record("gradient_noise (enumerated exact mean)", gap / band,
               f"se={se:.3g}; {desc}", kind="|measured - exact| / (6 se + rounding)")
    if B == n:
        assert measured <= 1e-24 * np.sum(G ** 2) / n  # only summation-order rounding
    else:
        assert gap <= band, (
            f"gradient_noise {measured:.6g} vs exact {formula:.6g} (se {se:.2g}); {desc}")


def test_gradient_noise_finite_population_formula():
    """n = 50, n_draws = 4000: the measured noise follows
    E|g_B - g|^2 = (n - B)/(n - 1) * (1/B) * (1/n) sum_i |g_i - g|^2 within 10%.

    Why 10% is a fair band: the estimate is a mean of 4000 independent draws of
    Z = |g_B - g|^2, so its standard error is sd(Z)/sqrt(4000). For this data the
    coefficient of variation sd(Z)/E(Z) is at most ~1.3 (at B = 1 and B = n - 1, whose Z
    are the same up to a factor), so the standard error is at most ~2.1% and 10% is
    at least 4 standard errors (a correct implementation fails with probability < 1e-4
    per B). The band's width in standard errors is checked below from an independent
    simulation rather than assumed."""
    n, d, n_draws = 50, 4, 4000
    rng = np.random.default_rng(2024)
    X = rng.uniform(-1, 1, (n, d))
    y = X @ rng.uniform(-1, 1, d) + rng.uniform(-1, 1, n)
    w = rng.uniform(-1, 1, d)
    G = _per_example_gradients(w, X, y)
    g = G.mean(0)
    spread = np.sum((G - g) ** 2) / n
    sim = np.random.default_rng(99)
    previous = math.inf
    for B in (1, 2, 10, 25, 40, 48, 49):
        expected = (n - B) / (n - 1) / B * spread
        # sd(Z) from 2000 independent draws of our own (same sampling law).
        Z = np.array([np.sum((G[sim.choice(n, B, replace=False)].mean(0) - g) ** 2)
                      for _ in range(2000)])
        se = Z.std() / math.sqrt(n_draws)
        assert 0.10 * expected >= 4 * se, f"B={B}: 10% is only {0.1 * expected / se:.1f} se"
        measured = ref.gradient_noise(w, X, y, B, np.random.default_rng(B), n_draws)
        rel = abs(measured - expected) / expected
        record("gradient_noise (n=50, 4000 draws)", rel,
               f"at B={B}; band 10%", kind="|measured - formula| / formula")
        assert rel <= 0.10, f"B={B}: measured {measured:.5g}, formula {expected:.5g}"
        assert measured < previous  # falls as B grows
        previous = measured
    # B = n: the batch is the whole data set, the noise is 0 up to summation order.
    full = ref.gradient_noise(w, X, y, n, np.random.default_rng(0), 50)
    assert 0.0 <= full <= 1e-24 * np.sum(G ** 2) / n
