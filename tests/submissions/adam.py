"""Submissions for 05_adam. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks.

The reference adamw_step calls adam_step, as most students' will: a student whose
adam_step is wrong and whose adamw_step reuses it loses both, and the adamw_step
feedback names the adam_step mistake. Classes are written out in full (the catalogue's
optimizers share a private base class that a notebook cell would not have)."""
import inspect

import numpy as np  # noqa: F401 (the catalogue functions use it)

from tests.catalogue import steps as cat
from tests.submissions import as_cell

STEP_PARTS = ("basic", "random", "edge", "trajectory")
OPT_PARTS = ("adam", "adamw", "groups", "state")


def _loses(name, parts, phrase):
    return {f"{name}_{p}": phrase for p in parts}


def _with_helper(fn, name):
    """A catalogue function that calls the catalogue's _adam, with _adam in the same cell."""
    return inspect.getsource(cat._adam) + "\n\n" + as_cell(fn, name)


# ------------------------------------------------------------------ ScratchAdam sources

_HEAD = '''
class ScratchAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))
'''

NO_BIAS_CORRECTION = _HEAD + '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"] and group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                elif group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                p.sub_(group["lr"] * state["exp_avg"] / (state["exp_avg_sq"].sqrt() + group["eps"]))
'''

ALWAYS_COUPLED = _HEAD + '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad + group["weight_decay"] * p     # decoupled is never looked at
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
'''

NO_NO_GRAD = _HEAD + '''
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"] and group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                elif group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
'''

ALIASED_MOMENTS = _HEAD + '''
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            b1, b2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad
                if group["weight_decay"] and group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                elif group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
                m_hat = state["exp_avg"] / (1 - b1 ** t)
                v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
                p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
'''

# written like torch/optim/adam.py: a tensor step counter, lerp for the mean, the step size folded
TORCH_STYLE = '''
import math

class ScratchAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        if lr < 0.0:
            raise ValueError(f"invalid lr {lr}")
        super().__init__(params, {"lr": lr, "betas": betas, "eps": eps, "weight_decay": weight_decay,
                                  "decoupled": decoupled})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if len(state) == 0:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                    state["exp_avg_sq"] = torch.zeros_like(p, memory_format=torch.preserve_format)
                if wd and group["decoupled"]:
                    p.mul_(1 - lr * wd)
                elif wd:
                    grad = grad.add(p, alpha=wd)
                state["step"] += 1
                t = state["step"].item()
                state["exp_avg"].lerp_(grad, 1 - b1)
                state["exp_avg_sq"].mul_(b2).addcmul_(grad, grad.conj(), value=1 - b2)
                step_size = lr / (1 - b1 ** t)
                denom = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - b2 ** t)).add_(eps)
                p.addcdiv_(state["exp_avg"], denom, value=-step_size)
        return loss
'''

# no decorator: works on p.data (the pre-no_grad idiom), new tensors instead of in-place state updates
DATA_STYLE = '''
class ScratchAdam(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "decoupled": decoupled}
        super(ScratchAdam, self).__init__(params, defaults)

    def step(self, closure=None):
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = p.grad.data
                x = p.data
                if group["decoupled"]:
                    x = x * (1 - group["lr"] * group["weight_decay"])
                else:
                    g = g + group["weight_decay"] * x
                st = self.state[p]
                t = st.get("step", 0) + 1
                m = beta1 * st.get("exp_avg", torch.zeros_like(x)) + (1 - beta1) * g
                v = beta2 * st.get("exp_avg_sq", torch.zeros_like(x)) + (1 - beta2) * g ** 2
                st["step"], st["exp_avg"], st["exp_avg_sq"] = t, m, v
                m_hat = m / (1 - beta1 ** t)
                v_hat = v / (1 - beta2 ** t)
                p.data.copy_(x - group["lr"] * m_hat / (torch.sqrt(v_hat) + group["eps"]))
'''

ADAMW_LOOP = '''
def adamw_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    x_new, m_new, v_new = [], [], []
    for xi, gi, mi, vi in zip(np.ravel(x), np.ravel(g), np.ravel(m), np.ravel(v)):
        xi = xi - lr * weight_decay * xi
        mi = beta1 * mi + (1 - beta1) * gi
        vi = beta2 * vi + (1 - beta2) * gi ** 2
        step = lr * (mi / (1 - beta1 ** t)) / ((vi / (1 - beta2 ** t)) ** 0.5 + eps)
        x_new.append(xi - step); m_new.append(mi); v_new.append(vi)
    shape = np.shape(x)
    return (np.reshape(x_new, shape), np.reshape(m_new, shape), np.reshape(v_new, shape))
'''

STUDENTS = {
    "reference": dict(code={}, loses={}),
    "no-bias-correction": dict(
        code={"adam_step": as_cell(cat.adam_no_bias_correction, "adam_step"),
              "ScratchAdam": NO_BIAS_CORRECTION},
        loses={**_loses("adam_step", STEP_PARTS, "no bias correction"),
               **_loses("adamw_step", STEP_PARTS, "no bias correction"),
               **_loses("ScratchAdam", ("adam", "adamw", "groups"), "no bias correction")}),
    "t-off-by-one-decay-after": dict(
        code={"adam_step": as_cell(cat.adam_t_off_by_one, "adam_step"),
              "adamw_step": _with_helper(cat.adamw_decay_after, "adamw_step")},
        loses={**_loses("adam_step", STEP_PARTS, "off by one"),
               **_loses("adamw_step", STEP_PARTS, "already updated x")}),
    "stored-hat-coupled-decay": dict(
        code={"adam_step": as_cell(cat.adam_store_hat, "adam_step"),
              "adamw_step": _with_helper(cat.adamw_coupled, "adamw_step"),
              "ScratchAdam": ALWAYS_COUPLED},
        loses={**_loses("adam_step", STEP_PARTS, "returned as state"),
               **_loses("adamw_step", STEP_PARTS, "coupled to the gradient"),
               **_loses("ScratchAdam", ("adamw", "groups"), "decoupled=True still adds weight_decay")}),
    "eps-inside-no-grad": dict(
        code={"adam_step": as_cell(cat.adam_eps_inside, "adam_step"),
              "ScratchAdam": NO_NO_GRAD},
        # first steps from zero state at the default eps agree to 1e-6: "basic" passes
        loses={**_loses("adam_step", ("random", "edge", "trajectory"), "eps is inside the square root"),
               **_loses("adamw_step", ("random", "edge", "trajectory"), "eps is inside the square root"),
               **_loses("ScratchAdam", OPT_PARTS, "torch.no_grad")}),
    "abs-gradient-aliased-moments-answers": dict(
        code={"adam_step": as_cell(cat.adam_not_squared, "adam_step"),
              "ScratchAdam": ALIASED_MOMENTS,
              "q_first_step_answer": "first_step_no_correction = 0.5",
              "q_tiny_answer": "tiny_gradient_step = 3e-6 / (3e-6 + 1e-7)",   # Keras' eps not converted
              "q_adamw_answer": "adamw_fraction_left = (1 - 0.1) ** 1000"},
        loses={**_loses("adam_step", STEP_PARTS, "instead of g squared"),
               **_loses("adamw_step", STEP_PARTS, "instead of g squared"),
               **_loses("ScratchAdam", ("adam", "adamw", "groups"), "one and the same tensor"),
               "q_first_step": "Hint", "q_tiny": "Hint", "q_adamw": "Hint"}),
    "correct-torch-style": dict(
        code={"adam_step": "import math\n\n" + as_cell(cat.adam_torch_form, "adam_step"),
              "adamw_step": _with_helper(cat.adamw_decay_term, "adamw_step"),
              "ScratchAdam": TORCH_STYLE,
              "q_first_step_answer": "first_step_no_correction = (1 - 0.5) / (1 - 0.999) ** 0.5",
              "q_tiny_answer": "tiny_gradient_step = 1 / (1 + 1e-7 / 3e-6 * 0.001 ** -0.5)",
              "q_adamw_answer": "adamw_fraction_left = np.exp(1000 * np.log1p(-1e-4))"},
        loses={}),
    "correct-loops-and-data": dict(
        code={"adam_step": "import math\n\n" + as_cell(cat.adam_loop, "adam_step"),
              "adamw_step": ADAMW_LOOP,
              "ScratchAdam": DATA_STYLE},
        loses={}),
}
