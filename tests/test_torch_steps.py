"""The toolkit's torch-backed step functions (descentlab.torch_steps), which lessons use
where they need a method another notebook grades, take the same steps as the graded
references, one step and whole paths."""
import numpy as np
import pytest

import descentlab as dl
from descentlab import torch_steps as ts
from grader import reference as ref

PAIRS = [
    (ts.torch_sgd_step, ref.sgd_step, dict(lr=0.03)),
    (ts.torch_momentum_step, ref.momentum_step, dict(lr=0.02, beta=0.9)),
    (ts.torch_nesterov_step, ref.nesterov_step, dict(lr=0.01, beta=0.8)),
    (ts.torch_adagrad_step, ref.adagrad_step, dict(lr=0.5)),
    (ts.torch_rmsprop_step, ref.rmsprop_step, dict(lr=0.01, alpha=0.9)),
    (ts.torch_adam_step, ref.adam_step, dict(lr=0.05, beta1=0.8, beta2=0.99)),
]
IDS = [p[0].__name__ for p in PAIRS]


@pytest.mark.parametrize("mine, reference, hyper", PAIRS, ids=IDS)
def test_one_step_matches_the_reference_on_random_states(mine, reference, hyper):
    rng = np.random.default_rng(0)
    names = dl.runner.state_names(reference, hyper)
    for _ in range(50):
        shape = tuple(rng.integers(1, 4, size=rng.integers(1, 3)))
        x, g = rng.normal(size=shape), rng.normal(size=shape)
        state = [np.abs(rng.normal(size=shape)) for _ in names]
        extra = {"t": int(rng.integers(1, 20))} if "t" in reference.__code__.co_varnames else {}
        got, want = mine(x, g, *state, **extra, **hyper), reference(x, g, *state, **extra, **hyper)
        got, want = (got, want) if names else ((got,), (want,))
        for a, b in zip(got, want, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mine, reference, hyper", PAIRS, ids=IDS)
def test_paths_match_the_reference(mine, reference, hyper):
    land = dl.ravine(kappa=20)
    a = dl.run(mine, land, [-1.5, 1.0], 200, **hyper)
    b = dl.run(reference, land, [-1.5, 1.0], 200, **hyper)
    np.testing.assert_allclose(a.xs, b.xs, rtol=1e-10, atol=1e-12)


def test_adamw_is_torchs_decoupled_decay():
    rng = np.random.default_rng(1)
    x, g, m, v = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3), np.abs(rng.normal(size=3))
    got = ts.torch_adam_step(x, g, m, v, 5, lr=0.1, weight_decay=0.1, decoupled=True)
    want = ref.adamw_step(x, g, m, v, 5, lr=0.1, weight_decay=0.1)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_inputs_are_left_unchanged():
    x, g, v = np.ones(3), np.full(3, 0.5), np.full(3, 0.25)
    ts.torch_momentum_step(x, g, v, lr=0.1, beta=0.9)
    assert np.array_equal(x, np.ones(3)) and np.array_equal(g, np.full(3, 0.5)) and np.array_equal(v, np.full(3, 0.25))


@pytest.mark.parametrize("mine, reference, hyper", PAIRS, ids=IDS)
def test_step_per_lr_is_one_run_per_lr(mine, reference, hyper):
    """dl.step_per_lr: a stack of runs, one lr each, with the step called at a float lr."""
    lrs = np.array([0.3, 1.0, 2.5]) * hyper["lr"]
    rest = {k: v for k, v in hyper.items() if k != "lr"}
    land = dl.ravine(kappa=20)
    names = dl.runner.state_names(reference, hyper)
    x = np.tile(np.array([-1.5, 1.0])[:, None], (1, 3))   # (dim, runs): the landscape's layout
    state = [np.zeros_like(x) for _ in names]
    calls = []

    def watched(*args, **kw):
        calls.append(kw["lr"])
        return reference(*args, **kw)

    for t in range(1, 41):
        extra = {"t": t} if "t" in reference.__code__.co_varnames else {}
        out = dl.step_per_lr(watched, x, land.grad(x), *state, lr=lrs, **extra, **rest)
        x, *state = out if names else (out,)
    assert all(isinstance(c, float) for c in calls)
    for j, lr in enumerate(lrs):
        single = dl.run(reference, land, [-1.5, 1.0], 40, lr=float(lr), **rest)
        np.testing.assert_allclose(x[:, j], single.final, rtol=1e-9, atol=1e-12)


def per_step_path(step, land, x0, steps, **hyper):
    """The path one step call at a time, the state out to numpy and back each time: what
    dl.run did before run_path."""
    names = dl.runner.state_names(step, hyper)
    x = np.array(x0, dtype=float).reshape(land.dim)
    state, xs = [np.zeros_like(x) for _ in names], [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            extra = {"t": t} if "t" in step.__code__.co_varnames else {}
            out = step(x, land.grad(x), *state, **extra, **hyper)
            x, *state = out if names else (out,)
            xs.append(np.asarray(x, dtype=float).copy())
    return np.array(xs)


WHOLE = [*[(mine, hyper) for mine, _ref, hyper in PAIRS],
         (ts.torch_adam_step, dict(lr=0.1, weight_decay=0.05, decoupled=True)),
         (ts.torch_adam_step, dict(lr=0.1, weight_decay=0.05)),
         (ts.torch_momentum_step, dict(lr=0.2, beta=0.9)),          # diverges
         (ts.torch_rmsprop_step, dict(lr=0.01, alpha=0.9, eps=1e-3))]


@pytest.mark.parametrize("mine, hyper", WHOLE, ids=[f"{m.__name__}-{i}" for i, (m, _h) in enumerate(WHOLE)])
def test_a_whole_path_in_one_optimizer_is_the_per_step_path_bit_for_bit(mine, hyper):
    for land, x0 in ((dl.ravine(kappa=20), [-1.5, 1.0]), (dl.double_well(tilt=0.25), [1.8])):
        fast = dl.run(mine, land, x0, 150, **hyper)
        np.testing.assert_array_equal(fast.xs, per_step_path(mine, land, x0, 150, **hyper))
        np.testing.assert_array_equal(fast.losses, np.asarray(land.f(fast.xs), dtype=float))
