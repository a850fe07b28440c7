"""descentlab.step_optimizer: a network trained by StepOptimizer with the reference steps
follows torch.optim (Adam, NAdam, RAdam, Muon) and lion-pytorch step for step, in float64;
param groups route each parameter to its own step; malformed steps fail with a ValueError
that names what came back."""
import lion_pytorch
import numpy as np
import pytest
import torch

from descentlab.step_optimizer import StepOptimizer, split_for_muon
from grader.reference import adam_step, lion_step, muon_step, nadam_step, radam_step
from tests.test_reference_lion_muon import muon_in_float64

STEPS = 20
TOL = 1e-10


@pytest.fixture(autouse=True)
def _one_thread_float64_scalars():
    """One thread for tiny tensors; the float64 default dtype makes torch keep NAdam's
    mu_product in float64 (in float32 it rounds to ~6e-8, see test_reference_nadam_radam)."""
    threads, dtype = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float64)
    yield
    torch.set_num_threads(threads)
    torch.set_default_dtype(dtype)


def _net(seed=0, dtype=torch.float64):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 5), torch.nn.Tanh(),
                               torch.nn.Linear(5, 3)).to(dtype)


def _data(dtype=torch.float64):
    g = torch.Generator().manual_seed(1)
    return torch.randn(32, 6, generator=g, dtype=dtype), torch.randint(0, 3, (32,), generator=g)


def _race(make_ours, make_theirs, steps=STEPS, dtype=torch.float64):
    """Worst relative difference of the parameters over ``steps`` updates, each model
    stepping from its own position with its own gradients."""
    X, y = _data(dtype)
    mine, theirs = _net(dtype=dtype), _net(dtype=dtype)
    opt_m, opt_t = make_ours(mine), make_theirs(theirs)
    worst = 0.0
    for _ in range(steps):
        for model, opt in ((mine, opt_m), (theirs, opt_t)):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            opt.step()
        for a, b in zip(mine.parameters(), theirs.parameters(), strict=True):
            a, b = a.detach().numpy(), b.detach().numpy()
            worst = max(worst, float(np.max(np.abs(a - b)) / np.max(np.abs(a) + np.abs(b))))
    return worst


CASES = {
    "adam": (lambda m: StepOptimizer(m.parameters(), adam_step, ("m", "v"), True, lr=3e-2, beta2=0.99),
             lambda m: torch.optim.Adam(m.parameters(), lr=3e-2, betas=(0.9, 0.99), foreach=False)),
    "nadam": (lambda m: StepOptimizer(m.parameters(), nadam_step, ("m", "v", ("mu_product", 1.0)), True,
                                      lr=3e-2, momentum_decay=0.04),
              lambda m: torch.optim.NAdam(m.parameters(), lr=3e-2, momentum_decay=0.04, foreach=False)),
    # beta2 0.9: rho_t passes 5 at t = 6, so the run takes both of RAdam's branches
    "radam": (lambda m: StepOptimizer(m.parameters(), radam_step, ("m", "v"), True, lr=3e-2, beta2=0.9),
              lambda m: torch.optim.RAdam(m.parameters(), lr=3e-2, betas=(0.9, 0.9), foreach=False)),
    "lion": (lambda m: StepOptimizer(m.parameters(), lion_step, ("m",), False, lr=3e-3, weight_decay=0.1),
             lambda m: lion_pytorch.Lion(m.parameters(), lr=3e-3, weight_decay=0.1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_network_follows_the_oracle(name):
    err = _race(*CASES[name])
    assert err < TOL, f"{name}: parameters differ from the oracle by {err:.2e} (relative) within {STEPS} steps"


def test_muon_groups_follow_torch_muon_and_adam():
    """Hidden matrices to muon_step, the rest to adam_step, against torch.optim.Muon
    (its Newton-Schulz lifted to float64, as in test_reference_lion_muon) plus torch Adam."""
    def ours(m):
        hidden, rest = split_for_muon(m)
        return StepOptimizer([dict(params=hidden, step=muon_step, state=("buf",), takes_t=False, lr=2e-2),
                              dict(params=rest, lr=1e-2)], adam_step, ("m", "v"), True)

    class Both:
        def __init__(self, m):
            hidden, rest = split_for_muon(m)
            self.opts = [torch.optim.Muon(hidden, lr=2e-2), torch.optim.Adam(rest, lr=1e-2, foreach=False)]

        def zero_grad(self):
            for o in self.opts:
                o.zero_grad()

        def step(self):
            for o in self.opts:
                o.step()

    with muon_in_float64():
        err = _race(ours, Both)
    assert err < TOL, f"Muon + Adam groups differ from torch by {err:.2e} (relative) within {STEPS} steps"


def test_split_for_muon_keeps_the_output_layer_out():
    m = _net()
    hidden, rest = split_for_muon(m)
    assert [tuple(p.shape) for p in hidden] == [(8, 6), (5, 8)]
    assert [tuple(p.shape) for p in rest] == [(8,), (5,), (3, 5), (3,)]


def test_float32_parameters_and_per_parameter_state():
    X, y = _data(torch.float32)
    m = _net(dtype=torch.float32)
    opt = StepOptimizer(m.parameters(), nadam_step, ("m", "v", ("mu_product", 1.0)), True, lr=1e-2)
    ref = _net(dtype=torch.float32)
    opt_ref = torch.optim.NAdam(ref.parameters(), lr=1e-2, foreach=False)
    for _ in range(5):
        for model, o in ((m, opt), (ref, opt_ref)):
            o.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            o.step()
    first = next(m.parameters())
    assert first.dtype == torch.float32 and opt.state[first]["step"] == 5
    assert opt.state[first]["m"].dtype == torch.float32 and isinstance(opt.state[first]["mu_product"], float)
    for a, b in zip(m.parameters(), ref.parameters(), strict=True):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-6)


def test_state_dict_round_trip():
    X, y = _data()
    models = [_net(), _net()]
    opts = [StepOptimizer(m.parameters(), nadam_step, ("m", "v", ("mu_product", 1.0)), True, lr=lr)
            for m, lr in zip(models, (1e-2, 5.0), strict=True)]
    for _ in range(3):
        opts[0].zero_grad()
        torch.nn.functional.cross_entropy(models[0](X), y).backward()
        opts[0].step()
    models[1].load_state_dict(models[0].state_dict())
    opts[1].load_state_dict(opts[0].state_dict())
    for m, opt in zip(models, opts, strict=True):
        opt.zero_grad()
        torch.nn.functional.cross_entropy(m(X), y).backward()
        opt.step()
    assert opts[1].param_groups[0]["lr"] == 1e-2 and opts[1].state[next(models[1].parameters())]["step"] == 4
    for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True):
        assert torch.equal(a, b), "after load_state_dict the copy should take the same step"


def test_parameters_without_gradient_are_left_alone_and_schedulers_work():
    m = _net()
    frozen = m[0].weight
    frozen.requires_grad_(False)
    before = frozen.detach().clone()
    opt = StepOptimizer(m.parameters(), adam_step, ("m", "v"), True, lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    X, y = _data()
    torch.nn.functional.cross_entropy(m(X), y).backward()
    opt.step()
    sched.step()
    assert torch.equal(frozen, before) and frozen not in opt.state
    assert opt.param_groups[0]["lr"] == 5e-3 and "initial_lr" not in opt.param_groups[0]["hyper"]
    opt.step()      # a scheduler's own keys are not passed to the step


def _one_step(step, state=("m",), takes_t=False):
    m = _net()
    opt = StepOptimizer(m.parameters(), step, state, takes_t)
    X, y = _data()
    torch.nn.functional.cross_entropy(m(X), y).backward()
    opt.step()


@pytest.mark.parametrize("bad, words", [
    (lambda x, g, m: (x, m, m), "returned 3 values"),
    (lambda x, g, m: x, "returned a ndarray"),
    (lambda x, g, m: (x.ravel(), m), "x_new of shape"),
    (lambda x, g, m: (x, m[..., None]), "returned m of shape"),
])
def test_wrong_shapes_raise_value_errors(bad, words):
    with pytest.raises(ValueError, match=words):
        _one_step(bad)


def test_scalar_state_must_stay_a_number():
    def bad(x, g, m, v, mu, t):
        return x, m, v, np.ones(3)
    with pytest.raises(ValueError, match="mu_product of shape"):
        _one_step(bad, ("m", "v", ("mu_product", 1.0)), True)


def test_stateless_step_and_bad_specs():
    _one_step(lambda x, g, lr=0.1: x - lr * g, state=())
    with pytest.raises(ValueError, match="state entries"):
        StepOptimizer(_net().parameters(), adam_step, state=(3,))
    with pytest.raises(ValueError, match="must be a function"):
        StepOptimizer(_net().parameters(), "adam")


# ------------------------------------------------------------- the race on the digits (descentlab.modern_race)

def test_a_small_race_runs_remembers_and_plots():
    from descentlab import modern_race as mr
    torch.set_default_dtype(torch.float32)      # the digits models are float32, as in the lesson
    steps = dict(adam_step=adam_step, muon_step=muon_step)
    methods = (mr.ADAM, mr.MUON, mr.SF)
    first = mr.race(steps, seeds=(1,), epochs=1, methods=methods, grid_size=3)
    assert set(first.acc) == set(methods) and first.acc[mr.ADAM].shape == (3, 1)
    assert first.grids[mr.ADAM] == pytest.approx([mr.CENTRES[mr.ADAM] / 2, mr.CENTRES[mr.ADAM],
                                                  mr.CENTRES[mr.ADAM] * 2])
    assert np.all((first.acc[mr.ADAM] > 0.1) & (first.acc[mr.ADAM] <= 1.0))
    assert np.isfinite(first.no_swap).all() and all(v > 0 for v in first.seconds.values())
    again = mr.race(steps, seeds=(1,), epochs=1, methods=methods, grid_size=3)
    assert all(v == 0.0 for v in again.seconds.values()), "a repeated race should reuse its runs"
    assert np.array_equal(again.acc[mr.MUON], first.acc[mr.MUON])
    lr, mean, lo, hi = first.best(mr.ADAM)
    assert lr in first.grids[mr.ADAM] and lo <= mean <= hi
    assert "schedule-free AdamW" in first.table()
    fig = mr.race_figure(first)
    assert len(fig.axes) == 2


def test_the_race_names_the_steps_it_misses():
    from descentlab import modern_race as mr
    with pytest.raises(KeyError, match="lion_step"):
        mr.race(dict(adam_step=adam_step), methods=(mr.ADAM, mr.LION))
    with pytest.raises(ValueError, match="unknown methods"):
        mr.race({}, methods=("Adagrad",))
