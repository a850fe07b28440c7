"""Checks for ScratchAdam, the student's torch.optim.Optimizer, against torch.optim.Adam
and torch.optim.AdamW themselves (float64, a small MLP on synthetic data).

The student's class never runs here. The grader draws the network's weights and the
data from the secret seeds and sends them to the kernel, where gradeclient.programs'
``optimizer_race`` trains the network with the student's class and reports the
parameters after every step (and errors, state, aliasing). Here the same run is made
with torch.optim.Adam / AdamW, and the two are compared step by step. When they first
differ, the run is replayed with known wrong versions of Adam (no bias correction, t off
by one, decay in the wrong place...) to name the mistake; state that shares memory with
the gradient, the parameter or the other moment is reported too.
"""
import contextlib

import numpy as np
import torch

from gradeclient import programs
from grader.checks import seeds
from grader.checks.tolerance import rel_error

TOL = 1e-9  # float64 all the way; only summation order may differ


class CheckFailed(AssertionError):
    pass


@contextlib.contextmanager
def _one_thread():
    """Tiny models run fastest on one thread; on a busy machine several threads make each
    backward pass tens of times slower. The setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _describe(kwargs):
    return "ScratchAdam(params, " + ", ".join(f"{k}={v}" for k, v in kwargs.items()) + ")"


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


_ALIASING = {
    "moments": "state['exp_avg'] and state['exp_avg_sq'] are one and the same tensor (in-place "
               "aliasing, as in a = b = torch.zeros_like(p)): both moments update the same memory. "
               "Create each with its own torch.zeros_like(p)",
    "grad": "state['{key}'] is the gradient tensor itself (in-place aliasing): an in-place update "
            "of the state changes p.grad, and zeroing p.grad zeroes the state. Create the "
            "state with torch.zeros_like(p)",
    "param": "state['{key}'] shares memory with the parameter (in-place aliasing). Create the "
             "state with torch.zeros_like(p)",
}


def _findings(report, step):
    """The kernel's aliasing findings after ``step``: [(parameter index, kind, key)]."""
    try:
        found = report["aliasing"][step - 1]
    except (KeyError, IndexError, TypeError):
        return []
    out = []
    for f in found if isinstance(found, list) else []:
        if (isinstance(f, (list, tuple)) and len(f) == 3 and f[1] in _ALIASING
                and (f[1] == "moments" or f[2] in ("exp_avg", "exp_avg_sq"))):
            out.append((f[0], f[1], f[2]))
    return out


def _aliasing(report, step):
    """Describe state that shares memory with a gradient, a parameter or the other moment
    after ``step`` (the first such finding, parameter by parameter), or None."""
    found = _findings(report, step)
    return _ALIASING[found[0][1]].format(key=found[0][2]) if found else None


# ------------------------------------------------------------ problems and reference runs

N_DATA = 64


def _problem(rng):
    """Weights drawn like torch's default initialisation of the two Linear layers
    (uniform in +-1/sqrt(fan_in)), and data y = sin(x1 + x2 + x3) + noise."""
    weights = []
    for shape in programs.PARAM_SHAPES:
        fan_in = 3 if shape[0] == 8 else 8
        bound = 1 / np.sqrt(fan_in)
        weights.append(rng.uniform(-bound, bound, size=shape))
    X = rng.normal(size=(N_DATA, 3))
    y = np.sin(X.sum(axis=1, keepdims=True)) + 0.1 * rng.normal(size=(N_DATA, 1))
    return weights, X, y


class _Setting:
    """One reproducible run: the network's weights, its data, the constructor's keyword
    arguments, and how the parameters are grouped."""

    def __init__(self, problem, kwargs, oracle, groups=None, idle=False):
        self.weights, self.X, self.y = problem
        self.kwargs, self.oracle, self.groups, self.idle = kwargs, oracle, groups, idle

    def spec(self, steps, **extra):
        """What the kernel's ``optimizer_race`` needs to make this run."""
        return {"weights": list(self.weights), "X": self.X, "y": self.y, "kwargs": dict(self.kwargs),
                "groups": self.groups, "idle": self.idle, "steps": steps, **extra}

    def build(self, weights=None):
        model = programs.mlp(self.weights if weights is None else weights)
        idle = torch.nn.Parameter(torch.ones(programs.IDLE_SHAPE, dtype=torch.float64)) if self.idle else None
        return model, programs.optimizer_params(model, self.groups, idle)

    def data(self):
        return torch.from_numpy(np.asarray(self.X, dtype=np.float64)), \
            torch.from_numpy(np.asarray(self.y, dtype=np.float64))

    def torch_kwargs(self):
        return {k: v for k, v in self.kwargs.items() if k != "decoupled"}

    def optimizer(self, params, mistake=None):
        """torch's optimizer (``mistake`` None) or the _Variant with that mistake."""
        if mistake is None:
            return self.oracle(params, **self.torch_kwargs(), foreach=False)
        return _Variant(params, **self.kwargs, mistake=mistake)


def _replay(setting, steps, mistake=None, weights=None, state=None):
    """Parameters after each of ``steps`` steps (lists of arrays) of torch's run, or of
    the variant with ``mistake``, and the optimizer at the end. ``weights`` and
    ``state`` (per parameter: step, exp_avg, exp_avg_sq) start it from a saved point."""
    model, params = setting.build(weights)
    X, y = setting.data()
    opt = setting.optimizer(params, mistake)
    if state is not None:
        for p, (step, m, v) in zip(model.parameters(), state, strict=True):
            opt.state[p] = {"step": torch.tensor(float(step)) if mistake is None else int(step),
                            "exp_avg": torch.from_numpy(m.copy()), "exp_avg_sq": torch.from_numpy(v.copy())}
    out = []
    with np.errstate(all="ignore"):
        for _ in range(steps):
            opt.zero_grad()
            programs.loss(model, X, y).backward()
            opt.step()
            out.append([p.detach().numpy().copy() for p in model.parameters()])
    return out, opt, list(model.parameters())


def _close(mine, theirs, tol):
    return all(rel_error(a, b) <= tol for a, b in zip(mine, theirs, strict=True))


# ------------------------------------------------------------ reading the kernel's report

def _run(cls, setting, steps, label, **extra):
    """Run ``optimizer_race`` in the kernel; fail on what stops a run before its first
    step (not an optimizer class, the constructor or load_state_dict raising)."""
    report = cls.run("optimizer_race", setting.spec(steps, **extra))
    if not isinstance(report, dict):
        raise CheckFailed(f"{label}: the run of the optimizer sent back nothing readable.")
    err = report.get("error")
    if isinstance(err, str):
        raise CheckFailed(f"{label}: the optimizer could not be run ({err[:300]}).")
    if isinstance(err, dict):
        what = f"{_text(err.get('type'), 80)}: {_text(err.get('message'))}"
        if err.get("at") == "class":
            raise CheckFailed(f"ScratchAdam should be a class derived from torch.optim.Optimizer, "
                              f"got {_text(report.get('got'), 200)}.")
        if err.get("at") == "constructor":
            raise CheckFailed(f"{label}: the constructor raised {what}")
        if err.get("at") == "load_state_dict":
            raise CheckFailed(f"{label}: load_state_dict raised {what}")
    return report


def _text(value, n=500):
    return str(value)[:n] if isinstance(value, str) else "(no message)"


def _step_error(report, label, step, shown=None):
    """Fail if the kernel's run stopped with an error at ``step``."""
    err = report.get("error")
    if isinstance(err, dict) and err.get("at") == "step" and err.get("step") == step:
        message = _text(err.get("message"))
        hint = (" Hint: update parameters inside torch.no_grad() (decorate step with @torch.no_grad())."
                if "in-place" in message or "leaf Variable" in message else "")
        raise CheckFailed(f"{label}: step {shown or step} raised {_text(err.get('type'), 80)}: "
                          f"{message.rstrip('.')}.{hint}")


def _params_after(report, step, label, shown=None):
    """The student's parameters after ``step`` as float64 arrays of the right shapes."""
    _step_error(report, label, step, shown)
    try:
        got = report["params"][step - 1]
        arrays = [np.asarray(a, dtype=np.float64) for a in got]
    except (KeyError, IndexError, TypeError, ValueError):
        raise CheckFailed(f"{label}: the run reported no parameters after step {shown or step}.") from None
    if len(arrays) != len(programs.PARAM_SHAPES):
        raise CheckFailed(f"{label}: the run reported {len(arrays)} parameters after step {shown or step}.")
    for name, a, shape in zip(programs.PARAM_NAMES, arrays, programs.PARAM_SHAPES, strict=True):
        if a.shape != shape:
            raise CheckFailed(f"{label}: after step {shown or step} parameter '{name}' has shape {a.shape}, "
                              f"expected {shape}.")
    return arrays


def _diagnose(setting, mine, steps):
    """The known mistake that reproduces the student's parameters after ``steps`` steps."""
    for key, text in MISTAKES.items():
        try:
            replay, _, _ = _replay(setting, steps, mistake=key)
        except Exception:
            continue
        if _close(mine, replay[-1], 1e-8):
            return text
    return None


def _race(cls, setting, label, steps=60, report=None):
    """Train the student's optimizer (in the kernel) and torch's (here) on the same
    problem; fail at the first step where a parameter differs, naming the mistake when
    a known one reproduces it."""
    report = _run(cls, setting, steps, label) if report is None else report
    theirs, _, _ = _replay(setting, steps)
    oracle = setting.oracle.__name__
    before = [np.asarray(w, dtype=np.float64) for w in setting.weights]
    for step in range(1, steps + 1):
        mine = _params_after(report, step, label)
        for name, p, q in zip(programs.PARAM_NAMES, mine, theirs[step - 1], strict=True):
            err = rel_error(p, q)
            if err <= TOL:
                continue
            msg = (f"{label} against torch.optim.{oracle}: after step {step} parameter '{name}' differs "
                   f"(relative error {err:.1e})" + ("; every earlier step agreed." if step > 1 else "."))
            unchanged = all(np.array_equal(a, b) for a, b in zip(before, mine, strict=True))
            cause = ("step() did not change the parameters: update them in place (p.add_, p.addcdiv_, "
                     "p.mul_) inside torch.no_grad(); p = p - ... only rebinds a local name"
                     if unchanged else _aliasing(report, step) or _diagnose(setting, mine, step))
            if cause:
                msg += f" This matches a known mistake: {cause}."
            elif step == 1:
                msg += " The very first step already differs: check the bias correction and where weight decay enters."
            raise CheckFailed(msg)
        alias = _aliasing(report, step)
        if alias:
            raise CheckFailed(f"{label}: after step {step}, {alias}. The run differs from torch.optim.{oracle} "
                              f"as soon as a gradient is zeroed or changed in place.")
        before = mine
    return report


# ------------------------------------------------------------ the parts

def part_adam(cls, rng):
    """decoupled=False matches torch.optim.Adam, with and without (L2) weight decay."""
    for kw in (dict(lr=1e-2), dict(lr=3e-2, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1)):
        _race(cls, _Setting(_problem(rng), kw, torch.optim.Adam), _describe(kw))


def part_adamw(cls, rng):
    """decoupled=True matches torch.optim.AdamW, with a large lr and weight decay."""
    for kw in (dict(lr=1e-2, weight_decay=1e-2, decoupled=True),
               dict(lr=0.1, betas=(0.9, 0.95), weight_decay=0.5, decoupled=True)):
        _race(cls, _Setting(_problem(rng), kw, torch.optim.AdamW), _describe(kw))


def part_groups(cls, rng):
    """Two param groups with their own lr and weight decay, and a parameter whose grad stays None."""
    kw = dict(lr=1e-2, weight_decay=0.05, decoupled=True)
    label = ("ScratchAdam with two param groups (lr 1e-2 with weight_decay 0.05, lr 1e-3 with "
             "weight_decay 0) and a parameter without grad")
    groups = [{"layers": [0], "options": {}}, {"layers": [1], "options": {"lr": 1e-3, "weight_decay": 0.0}}]
    setting = _Setting(_problem(rng), kw, torch.optim.AdamW, groups=groups, idle=True)
    report = _run(cls, setting, 30, label)
    want = [(1e-2, 0.05), (1e-3, 0.0)]
    got = report.get("param_groups")
    if not _same_groups(got, want):
        raise CheckFailed(f"{label}: param_groups should hold the two groups with their own lr and "
                          f"weight_decay, [(0.01, 0.05), (0.001, 0.0)]; got {_text(repr(got), 300)}.")
    _race(cls, setting, label, steps=30, report=report)
    try:
        idle = np.asarray(report.get("idle"), dtype=np.float64)
    except (TypeError, ValueError):
        idle = None
    if idle is None or not np.array_equal(idle, np.ones(programs.IDLE_SHAPE)):
        raise CheckFailed(f"{label}: a parameter whose grad is None was changed; skip it (and no weight decay).")
    if report.get("idle_state") is not False:
        raise CheckFailed(f"{label}: a parameter whose grad is None got state; skip it entirely.")


def _same_groups(got, want):
    if not isinstance(got, (list, tuple)) or len(got) != len(want):
        return False
    for g, w in zip(got, want, strict=True):
        if not isinstance(g, (list, tuple)) or len(g) != 2:
            return False
        for a, b in zip(g, w, strict=True):
            if isinstance(a, bool) or not isinstance(a, (int, float)) or a != b:
                return False
    return True


STATE_STEPS = 10     # steps before the state is looked at and saved
MORE_STEPS = 10      # steps after it is loaded into a fresh optimizer
_STEP_KINDS = {"int", "float", "tensor:float32", "tensor:float64", "tensor:int64", "tensor:int32"}


def _matching(setting, mine):
    """Which known update rule the student's run follows: None for torch's, a key of
    MISTAKES for a variant, or False when none reproduces it. With it: its optimizer and
    parameters after the run."""
    theirs, opt, params = _replay(setting, len(mine))
    if all(_close(m, t, TOL) for m, t in zip(mine, theirs, strict=True)):
        return None, opt, params
    for key in MISTAKES:
        try:
            replay, opt, params = _replay(setting, len(mine), mistake=key)
        except Exception:
            continue
        if all(_close(m, t, 1e-8) for m, t in zip(mine, replay, strict=True)):
            return key, opt, params
    return False, None, None


def _moments(opt, params):
    return [(opt.state[p]["exp_avg"].detach().numpy().copy(), opt.state[p]["exp_avg_sq"].detach().numpy().copy())
            for p in params]


def _step_for(kind, value):
    """state['step'] = ``value`` with the Python type the student's own state uses."""
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    dtype = getattr(torch, kind.split(":")[1]) if kind in _STEP_KINDS else torch.float32
    return torch.tensor(value, dtype=dtype)


def part_state(cls, rng):
    """State keys 'step', 'exp_avg', 'exp_avg_sq' with the values torch's run has after
    10 steps; a state_dict saved mid-run (by the grader, from another run) loaded into a
    fresh optimizer continues exactly like the uninterrupted run."""
    kw = dict(lr=2e-2, weight_decay=0.01, decoupled=False)
    label = _describe(kw)
    own = _Setting(_problem(rng), kw, torch.optim.Adam)
    report = _run(cls, own, STATE_STEPS, label, state=True)
    mine = [_params_after(report, step, label) for step in range(1, STATE_STEPS + 1)]
    try:
        state = report["state"][0]
        keys = set(state["keys"])
    except (KeyError, IndexError, TypeError):
        raise CheckFailed(f"{label}: the optimizer's state could not be read after {STATE_STEPS} steps "
                          f"(self.state[p] should be a dict for each parameter p).") from None
    missing = {"step", "exp_avg", "exp_avg_sq"} - keys
    if missing:
        raise CheckFailed(f"{label}: per-parameter state should have the keys 'step', 'exp_avg', "
                          f"'exp_avg_sq'; missing {sorted(missing)} (found {sorted(keys)[:10]}).")
    step_value = state.get("step")
    if isinstance(step_value, bool) or not isinstance(step_value, (int, float)) or step_value != STATE_STEPS:
        shown = step_value if isinstance(step_value, (int, float)) else _text(state.get("step_kind"), 40)
        raise CheckFailed(f"{label}: after {STATE_STEPS} steps state['step'] is {shown}, expected {STATE_STEPS}.")
    if any(i == 0 and kind == "grad" for i, kind, _ in _findings(report, STATE_STEPS)):
        raise CheckFailed(f"{label}: the state shares memory with the gradient (in-place aliasing); "
                          f"create it with torch.zeros_like(p).")

    # The moments themselves, against the update rule the run follows (torch's, or the
    # known mistake the other parts already name; an unknown rule cannot be checked).
    rule, ref_opt, ref_params = _matching(own, mine)
    if rule is not False:
        tol = TOL if rule is None else 1e-8
        moments = _moments(ref_opt, ref_params)
        for name, entry, (m, v) in zip(programs.PARAM_NAMES, report["state"], moments, strict=True):
            for key, want in (("exp_avg", m), ("exp_avg_sq", v)):
                try:
                    got = np.asarray(entry[key], dtype=np.float64)
                except (KeyError, TypeError, ValueError):
                    got = None
                if got is None or got.shape != want.shape or rel_error(got, want) > tol:
                    where = "torch.optim.Adam's" if rule is None else "those of the update rule it follows"
                    shape = "" if got is None or got.shape == want.shape else f" (shape {got.shape})"
                    raise CheckFailed(f"{label}: after {STATE_STEPS} steps state['{key}'] of parameter "
                                      f"'{name}'{shape} differs from {where}: keep the raw running averages "
                                      f"in exp_avg and exp_avg_sq.")

    # The round trip: another run's state after STATE_STEPS steps, saved by the grader
    # in ScratchAdam's layout, loaded into a fresh optimizer on that run's weights.
    other = _Setting(_problem(rng), kw, torch.optim.Adam)
    full, torch_opt, torch_params = _replay(other, STATE_STEPS + MORE_STEPS)
    _, torch_opt, torch_params = _replay(other, STATE_STEPS)
    saved_moments = _moments(torch_opt, torch_params)
    kind = state.get("step_kind")
    kind = kind if kind in _STEP_KINDS else "tensor:float32"
    group = {"lr": kw["lr"], "betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": kw["weight_decay"],
             "decoupled": kw["decoupled"], "params": list(range(len(saved_moments)))}
    saved = {"state": {i: {"step": _step_for(kind, STATE_STEPS), "exp_avg": torch.from_numpy(m),
                           "exp_avg_sq": torch.from_numpy(v)} for i, (m, v) in enumerate(saved_moments)},
             "param_groups": [group]}
    resumed = _Setting((full[STATE_STEPS - 1], other.X, other.y), kw, torch.optim.Adam)
    again = label + f" (reloaded from a state_dict saved after step {STATE_STEPS})"
    report2 = _run(cls, resumed, MORE_STEPS, again, load=saved)
    theirs = {None: full[STATE_STEPS:]}
    rules = [rule] if rule is not False else [None, *MISTAKES]
    start = [(STATE_STEPS, m, v) for m, v in saved_moments]
    for key in rules:
        if key is not None:
            try:
                theirs[key], _, _ = _replay(resumed, MORE_STEPS, mistake=key, state=start)
            except Exception:
                theirs[key] = None
    alive = [k for k in rules if theirs.get(k) is not None]
    for k in range(1, MORE_STEPS + 1):
        got = _params_after(report2, k, again, shown=STATE_STEPS + k)
        alive = [key for key in alive if _close(got, theirs[key][k - 1], TOL if key is None else 1e-8)]
        if not alive:
            raise CheckFailed(f"{label}: after loading a state_dict saved at step {STATE_STEPS} into a fresh "
                              f"optimizer, step {STATE_STEPS + k} differs from the uninterrupted run.")


PARTS = {"adam": part_adam, "adamw": part_adamw, "groups": part_groups, "state": part_state}


def check_optimizer(name, cls, part):
    with _one_thread():
        PARTS[part](cls, seeds.rng(name, part))
