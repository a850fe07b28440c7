"""Checks for ScratchAdam, the student's torch.optim.Optimizer, against torch.optim.Adam
and torch.optim.AdamW themselves (float64, a small MLP on fixed synthetic data).

Every run compares the student's parameters with torch's after every step. When they
first differ, the same run is replayed with known wrong versions of Adam (no bias
correction, t off by one, decay in the wrong place...) to name the mistake; state that
shares memory with the gradient, the parameter or the other moment is reported too.
"""
import contextlib
import copy

import numpy as np
import torch

from grader.checks.tolerance import rel_error

TOL = 1e-9  # float64 all the way; only summation order may differ


class CheckFailed(AssertionError):
    pass


@contextlib.contextmanager
def _one_thread():
    """Tiny models run fastest on one thread; on a busy machine several threads make each
    backward pass tens of times slower. The student's setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


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
        raise CheckFailed(f"{label}: step {step} raised {type(e).__name__}: {str(e).rstrip('.')}.{hint}") from None


# ------------------------------------------------------------ known mistakes

class _Variant(torch.optim.Optimizer):
    """Adam/AdamW with one known mistake, replayed to name what a student did."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled=False, mistake=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))
        self.mistake = mistake

    @torch.no_grad()
    def step(self, closure=None):
        mk = self.mistake
        for group in self.param_groups:
            source = self.defaults if mk == "defaults" else group
            lr, (b1, b2), eps = source["lr"], source["betas"], source["eps"]
            wd, decoupled = source["weight_decay"], source["decoupled"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state[p]
                if not st:
                    st.update(step=0, exp_avg=torch.zeros_like(p), exp_avg_sq=torch.zeros_like(p))
                st["step"] += 1
                t = st["step"] + {"t+1": 1, "t-1": -1}.get(mk, 0)
                g = p.grad.clone()
                if mk == "always coupled":
                    decoupled = False
                elif mk == "always decoupled":
                    decoupled = True
                if wd and mk != "no decay":
                    if not decoupled:
                        g = g + wd * p
                    elif mk == "decay no lr":
                        p.mul_(1 - wd)
                    elif mk != "decay after":
                        p.mul_(1 - lr * wd)
                m = b1 * st["exp_avg"] + (1 - b1) * g
                v = b2 * st["exp_avg_sq"] + (1 - b2) * (g.abs() if mk == "abs" else g * g)
                if mk == "no bias correction":
                    m_hat, v_hat = m, v
                else:
                    m_hat, v_hat = m / (1 - b1 ** t), v / (1 - b2 ** t)
                denom = (v_hat + eps).sqrt() if mk == "eps inside" else v_hat.sqrt() + eps
                p.sub_(lr * m_hat / denom)
                if mk == "decay after" and wd and decoupled:
                    p.mul_(1 - lr * wd)
                st["exp_avg"], st["exp_avg_sq"] = (m_hat, v_hat) if mk == "store hat" else (m, v)


MISTAKES = {
    "no bias correction": "there is no bias correction: divide exp_avg by (1 - beta1^t) and exp_avg_sq "
                          "by (1 - beta2^t), with t = state['step'] after this update's increment",
    "t+1": "the step counter is off by one (t + 1 in the bias correction): start state['step'] at 0 "
           "and increment it once per update, before the bias correction",
    "t-1": "the step counter is off by one (the bias correction uses the count before this update): "
           "increment state['step'] first, so that t = 1 on the first update",
    "store hat": "the bias-corrected moments are stored as state; keep the raw averages in exp_avg and "
                 "exp_avg_sq and correct them only to compute the step",
    "eps inside": "eps is inside the square root (sqrt(v_hat + eps)); torch adds it outside: sqrt(v_hat) + eps",
    "abs": "exp_avg_sq averages |g| instead of g squared",
    "always coupled": "decoupled=True still adds weight_decay * p to the gradient (Adam with L2); AdamW "
                      "shrinks the parameter itself first: p *= 1 - lr * weight_decay",
    "always decoupled": "decoupled=False must add weight_decay * p to the gradient (torch.optim.Adam's L2 "
                        "penalty), not shrink the parameter directly",
    "decay after": "the decoupled decay shrinks the already updated parameter; shrink p first, then take the Adam step",
    "decay no lr": "the decoupled decay is not scaled by the learning rate: p *= 1 - lr * weight_decay",
    "no decay": "weight_decay is ignored",
    "defaults": "the hyperparameters come from the constructor's defaults instead of each param group "
                "(use group['lr'], group['betas'], ... inside the loop over self.param_groups)",
}


def _aliasing(opt, params):
    """Describe state that shares memory with a gradient, a parameter or the other moment."""
    for p in params:
        st = opt.state.get(p) or {}
        tensors = {k: st[k] for k in ("exp_avg", "exp_avg_sq") if torch.is_tensor(st.get(k))}
        if len(tensors) == 2 and tensors["exp_avg"].data_ptr() == tensors["exp_avg_sq"].data_ptr():
            return ("state['exp_avg'] and state['exp_avg_sq'] are one and the same tensor (in-place "
                    "aliasing, as in a = b = torch.zeros_like(p)): both moments update the same memory. "
                    "Create each with its own torch.zeros_like(p)")
        for k, s in tensors.items():
            if p.grad is not None and s.data_ptr() == p.grad.data_ptr():
                return (f"state['{k}'] is the gradient tensor itself (in-place aliasing): an in-place update "
                        f"of the state changes p.grad, and zeroing p.grad zeroes the state. Create the "
                        f"state with torch.zeros_like(p)")
            if s.data_ptr() == p.data_ptr():
                return (f"state['{k}'] shares memory with the parameter (in-place aliasing). Create the "
                        f"state with torch.zeros_like(p)")
    return None


class _Setting:
    """One reproducible run: a model, its data, and how its parameters are grouped."""

    def __init__(self, seed, kwargs, oracle, groups=None, idle=False):
        self.seed, self.kwargs, self.oracle, self.groups, self.idle = seed, kwargs, oracle, groups, idle

    def build(self):
        model = _mlp(self.seed)
        idle = torch.nn.Parameter(torch.ones(4, dtype=torch.float64)) if self.idle else None
        if self.groups is None:
            params = list(model.parameters()) + ([idle] if idle is not None else [])
        else:
            params = []
            for k, extra in enumerate(self.groups):
                ps = list(model[2 * k].parameters()) + ([idle] if idle is not None and k == 0 else [])
                params.append({"params": ps, **extra})
        return model, params, idle

    def torch_kwargs(self):
        return {k: v for k, v in self.kwargs.items() if k != "decoupled"}


def _diagnose(setting, X, y, mine, steps):
    """The known mistake that reproduces the student's parameters after ``steps`` steps."""
    for key, text in MISTAKES.items():
        model, params, _ = setting.build()
        try:
            with np.errstate(all="ignore"):
                opt = _Variant(params, **setting.kwargs, mistake=key)
                for _ in range(steps):
                    opt.zero_grad()
                    torch.mean((model(X) - y) ** 2).backward()
                    opt.step()
        except Exception:
            continue
        if all(rel_error(p.detach().numpy(), q.detach().numpy()) <= 1e-8
               for p, q in zip(model.parameters(), mine.parameters())):
            return text
    return None


def _race(cls, setting, label, steps=60):
    """Train the student's optimizer and torch's side by side; fail at the first step
    where a parameter differs, naming the mistake when a known one reproduces it."""
    X, y = _data(setting.seed)
    mine, params, idle = setting.build()
    theirs, their_params, _ = setting.build()
    opt = _make(cls, label, params, setting.kwargs)
    ref = setting.oracle(their_params, **setting.torch_kwargs(), foreach=False)
    oracle = setting.oracle.__name__
    for step in range(1, steps + 1):
        before = [p.detach().clone() for p in mine.parameters()]
        _train_step(mine, opt, X, y, label, step)
        _train_step(theirs, ref, X, y, label, step)
        for (name, p), q in zip(mine.named_parameters(), theirs.parameters()):
            err = rel_error(p.detach().numpy(), q.detach().numpy())
            if err <= TOL:
                continue
            msg = (f"{label} against torch.optim.{oracle}: after step {step} parameter '{name}' differs "
                   f"(relative error {err:.1e})" + ("; every earlier step agreed." if step > 1 else "."))
            unchanged = all(torch.equal(a, b.detach()) for a, b in zip(before, mine.parameters()))
            cause = ("step() did not change the parameters: update them in place (p.add_, p.addcdiv_, "
                     "p.mul_) inside torch.no_grad(); p = p - ... only rebinds a local name"
                     if unchanged else _aliasing(opt, list(mine.parameters()))
                     or _diagnose(setting, X, y, mine, step))
            if cause:
                msg += f" This matches a known mistake: {cause}."
            elif step == 1:
                msg += " The very first step already differs: check the bias correction and where weight decay enters."
            raise CheckFailed(msg)
        alias = _aliasing(opt, list(mine.parameters()))
        if alias:
            raise CheckFailed(f"{label}: after step {step}, {alias}. The run differs from torch.optim.{oracle} "
                              f"as soon as a gradient is zeroed or changed in place.")
    return opt, idle


def part_adam(cls, rng):
    """decoupled=False matches torch.optim.Adam, with and without (L2) weight decay."""
    for kw, seed in ((dict(lr=1e-2), 0),
                     (dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1), 1)):
        _race(cls, _Setting(seed, kw, torch.optim.Adam), _describe(kw))


def part_adamw(cls, rng):
    """decoupled=True matches torch.optim.AdamW, with a large lr and weight decay."""
    for kw, seed in ((dict(lr=1e-2, weight_decay=1e-2, decoupled=True), 0),
                     (dict(lr=0.1, betas=(0.9, 0.95), weight_decay=0.5, decoupled=True), 2)):
        _race(cls, _Setting(seed, kw, torch.optim.AdamW), _describe(kw))


def part_groups(cls, rng):
    """Two param groups with their own lr and weight decay, and a parameter whose grad stays None."""
    kw = dict(lr=1e-2, weight_decay=0.05, decoupled=True)
    label = ("ScratchAdam with two param groups (lr 1e-2 with weight_decay 0.05, lr 1e-3 with "
             "weight_decay 0) and a parameter without grad")
    setting = _Setting(3, kw, torch.optim.AdamW, groups=[{}, {"lr": 1e-3, "weight_decay": 0.0}], idle=True)
    model, params, _ = setting.build()
    opt = _make(cls, label, params, kw)
    got = [(g.get("lr"), g.get("weight_decay")) for g in opt.param_groups]
    if got != [(1e-2, 0.05), (1e-3, 0.0)]:
        raise CheckFailed(f"{label}: param_groups should hold the two groups with their own lr and "
                          f"weight_decay, [(0.01, 0.05), (0.001, 0.0)]; got {got}.")
    opt, idle = _race(cls, setting, label, steps=30)
    if not torch.equal(idle.detach(), torch.ones(4, dtype=torch.float64)):
        raise CheckFailed(f"{label}: a parameter whose grad is None was changed; skip it (and no weight decay).")
    if opt.state.get(idle):
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
    with _one_thread():
        PARTS[part](cls, np.random.default_rng(0))
