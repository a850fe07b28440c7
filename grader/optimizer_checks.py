"""Checks for ScratchAdam, the student's torch.optim.Optimizer, against torch.optim.Adam
and torch.optim.AdamW themselves (float64, a small MLP on fixed synthetic data)."""
import copy

import numpy as np
import torch

from grader.tolerance import rel_error

TOL = 1e-9  # float64 all the way; only summation order may differ


class CheckFailed(AssertionError):
    pass


def _mlp(seed):
    torch.manual_seed(seed)
    return torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.Tanh(), torch.nn.Linear(8, 1)).double()


def _data(seed, n=64):
    g = torch.Generator().manual_seed(seed)
    X = torch.randn(n, 3, generator=g, dtype=torch.float64)
    y = torch.sin(X.sum(dim=1, keepdim=True)) + 0.1 * torch.randn(n, 1, generator=g, dtype=torch.float64)
    return X, y


def _describe(kwargs):
    return "ScratchAdam(params, " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


def _make(cls, label, params, kwargs):
    try:
        return cls(params, **kwargs)
    except Exception as e:
        raise CheckFailed(f"{label}: the constructor raised {type(e).__name__}: {e}") from None


def _train_step(model, opt, X, y, label, step):
    opt.zero_grad()
    loss = torch.mean((model(X) - y) ** 2)
    loss.backward()
    try:
        opt.step()
    except Exception as e:
        hint = (" Hint: update parameters inside torch.no_grad() (decorate step with @torch.no_grad())."
                if "in-place" in str(e) or "leaf Variable" in str(e) else "")
        raise CheckFailed(f"{label}: step {step} raised {type(e).__name__}: {e}.{hint}") from None


def _compare_models(mine, theirs, label, oracle, step):
    for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
        a, b = p.detach().numpy(), q.detach().numpy()
        err = rel_error(a, b)
        if not err <= TOL:
            raise CheckFailed(f"{label} against torch.optim.{oracle}: after step {step} parameter "
                              f"'{name}' differs (relative error {err:.1e}); every earlier step agreed."
                              + (" The very first step already differs: check the bias correction "
                                 "and where weight decay enters." if step == 1 else ""))


def _race(cls, kwargs, oracle_cls, steps=60, seed=0, groups=None):
    label = _describe(kwargs)
    X, y = _data(seed)
    mine, theirs = _mlp(seed), _mlp(seed)
    torch_kwargs = {k: v for k, v in kwargs.items() if k != "decoupled"}
    opt = _make(cls, label, mine.parameters(), kwargs)
    ref = oracle_cls(theirs.parameters(), **torch_kwargs, foreach=False)
    for step in range(1, steps + 1):
        _train_step(mine, opt, X, y, label, step)
        _train_step(theirs, ref, X, y, label, step)
        _compare_models(mine, theirs, label, oracle_cls.__name__, step)


def part_adam(cls, rng):
    """decoupled=False matches torch.optim.Adam, with and without (L2) weight decay."""
    _race(cls, dict(lr=1e-2), torch.optim.Adam)
    _race(cls, dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), torch.optim.Adam, seed=1)


def part_adamw(cls, rng):
    """decoupled=True matches torch.optim.AdamW, with a large lr and weight decay."""
    _race(cls, dict(lr=1e-2, weight_decay=1e-2, decoupled=True), torch.optim.AdamW)
    _race(cls, dict(lr=0.1, betas=(0.9, 0.95), weight_decay=0.5, decoupled=True), torch.optim.AdamW, seed=2)


def part_groups(cls, rng):
    """Two param groups with their own lr, and a parameter whose grad stays None."""
    X, y = _data(3)
    mine, theirs = _mlp(3), _mlp(3)
    idle_m = torch.nn.Parameter(torch.ones(4, dtype=torch.float64))
    kw = dict(lr=1e-2, weight_decay=0.05, decoupled=True)
    label = "ScratchAdam with two param groups (lr 1e-2 and 1e-3) and a parameter without grad"
    m0, m1 = list(mine[0].parameters()), list(mine[2].parameters())
    t0, t1 = list(theirs[0].parameters()), list(theirs[2].parameters())
    opt = _make(cls, label, [{"params": m0}, {"params": m1 + [idle_m], "lr": 1e-3}], kw)
    ref = torch.optim.AdamW([{"params": t0}, {"params": t1, "lr": 1e-3}], lr=1e-2, weight_decay=0.05, foreach=False)
    if len(opt.param_groups) != 2 or opt.param_groups[1]["lr"] != 1e-3:
        raise CheckFailed(f"{label}: param_groups should hold the two groups with their own lr; got "
                          f"{[g.get('lr') for g in opt.param_groups]}.")
    for step in range(1, 31):
        _train_step(mine, opt, X, y, label, step)
        _train_step(theirs, ref, X, y, label, step)
        _compare_models(mine, theirs, label, "AdamW", step)
    if not torch.equal(idle_m.detach(), torch.ones(4, dtype=torch.float64)):
        raise CheckFailed(f"{label}: a parameter whose grad is None was changed; skip it (and no weight decay).")
    if opt.state.get(idle_m):
        raise CheckFailed(f"{label}: a parameter whose grad is None got state; skip it entirely.")


def part_state(cls, rng):
    """State keys 'step', 'exp_avg', 'exp_avg_sq'; state_dict saved mid-run and loaded
    into a fresh optimizer continues exactly like the uninterrupted run."""
    kw = dict(lr=2e-2, weight_decay=0.01, decoupled=False)
    label = _describe(kw)
    X, y = _data(4)
    model = _mlp(4)
    opt = _make(cls, label, model.parameters(), kw)
    for step in range(1, 11):
        _train_step(model, opt, X, y, label, step)
    p0 = next(model.parameters())
    st = opt.state[p0]
    missing = {"step", "exp_avg", "exp_avg_sq"} - set(st)
    if missing:
        raise CheckFailed(f"{label}: per-parameter state should have the keys 'step', 'exp_avg', "
                          f"'exp_avg_sq'; missing {sorted(missing)} (found {sorted(st)}).")
    if int(torch.as_tensor(st["step"]).item()) != 10:
        raise CheckFailed(f"{label}: after 10 steps state['step'] is {st['step']}, expected 10.")
    if p0.grad is not None and p0.grad.data_ptr() in (st["exp_avg"].data_ptr(), st["exp_avg_sq"].data_ptr()):
        raise CheckFailed(f"{label}: the state shares memory with the gradient (in-place aliasing); "
                          f"create it with torch.zeros_like(p).")
    saved = copy.deepcopy(opt.state_dict())
    twin = _mlp(4)
    twin.load_state_dict(model.state_dict())
    opt2 = _make(cls, label, twin.parameters(), kw)
    try:
        opt2.load_state_dict(saved)
    except Exception as e:
        raise CheckFailed(f"{label}: load_state_dict raised {type(e).__name__}: {e}") from None
    for step in range(11, 21):
        _train_step(model, opt, X, y, label, step)
        _train_step(twin, opt2, X, y, label + " (reloaded from state_dict after step 10)", step)
        for a, b in zip(model.parameters(), twin.parameters()):
            if not rel_error(a.detach().numpy(), b.detach().numpy()) <= TOL:
                raise CheckFailed(f"{label}: after saving state_dict at step 10 and loading it into a fresh "
                                  f"optimizer, step {step} differs from the uninterrupted run.")


PARTS = {"adam": part_adam, "adamw": part_adamw, "groups": part_groups, "state": part_state}


def check_optimizer(name, cls, part):
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise CheckFailed(f"{name} should be a class derived from torch.optim.Optimizer, got {cls!r}.")
    PARTS[part](cls, np.random.default_rng(0))
