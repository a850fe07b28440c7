"""ScratchAdam written the way students write it."""
import math

import torch


class _Base(torch.optim.Optimizer):
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    def _update(self, p, g, state, group):
        raise NotImplementedError

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                self._update(p, p.grad, state, group)


def _adam_core(p, g, state, group, correct=True):
    b1, b2 = group["betas"]
    t = int(state["step"])
    state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
    state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
    m_hat = state["exp_avg"] / (1 - b1 ** t) if correct else state["exp_avg"]
    v_hat = state["exp_avg_sq"] / (1 - b2 ** t) if correct else state["exp_avg_sq"]
    p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


class NoBiasCorrection(_Base):
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * p
        _adam_core(p, g, state, group, correct=False)


class AlwaysCoupled(_Base):
    """decoupled ignored: weight decay always added to the gradient."""
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            g = g + group["weight_decay"] * p
        _adam_core(p, g, state, group)


class NoNoGrad(torch.optim.Optimizer):
    """Forgets torch.no_grad: in-place updates of leaf tensors that require grad fail."""
    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                _adam_core(p, p.grad, state, group)


class AliasedState(_Base):
    """Initialises the moments as the gradient tensor itself: later in-place updates
    corrupt the gradient and the state together."""
    def _update(self, p, g, state, group):
        if int(state["step"]) == 1:
            state["exp_avg"] = g.mul_(1 - group["betas"][0])
            state["exp_avg_sq"] = torch.zeros_like(p)
            b2 = group["betas"][1]
            state["exp_avg_sq"].addcmul_(p.grad, p.grad, value=0)
            state["exp_avg_sq"].add_(g * g / (1 - group["betas"][0]) ** 2 * (1 - b2))
            t = 1
            m_hat = state["exp_avg"] / (1 - group["betas"][0] ** t)
            v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
            p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))
        else:
            _adam_core(p, g, state, group)


class SkipsNoneGradBadly(_Base):
    """Creates state and applies decay even to parameters without a gradient."""
    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                g = p.grad if p.grad is not None else torch.zeros_like(p)
                state = self.state[p]
                if not state:
                    state["step"] = torch.tensor(0.0)
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                if group["weight_decay"] and group["decoupled"]:
                    p.mul_(1 - group["lr"] * group["weight_decay"])
                elif group["weight_decay"]:
                    g = g + group["weight_decay"] * p
                _adam_core(p, g, state, group)


class TOffByOne(_Base):
    """Counts steps from 1 before the first update: t + 1 in the bias correction."""
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * p
        b1, b2 = group["betas"]
        t = int(state["step"]) + 1
        state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
        state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
        m_hat = state["exp_avg"] / (1 - b1 ** t)
        v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
        p.sub_(group["lr"] * m_hat / (v_hat.sqrt() + group["eps"]))


class StoredHat(_Base):
    """Keeps the bias-corrected moments as state."""
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * p
        b1, b2 = group["betas"]
        t = int(state["step"])
        state["exp_avg"] = (b1 * state["exp_avg"] + (1 - b1) * g) / (1 - b1 ** t)
        state["exp_avg_sq"] = (b2 * state["exp_avg_sq"] + (1 - b2) * g * g) / (1 - b2 ** t)
        p.sub_(group["lr"] * state["exp_avg"] / (state["exp_avg_sq"].sqrt() + group["eps"]))


class EpsInside(_Base):
    """sqrt(v_hat + eps) instead of sqrt(v_hat) + eps."""
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * p
        b1, b2 = group["betas"]
        t = int(state["step"])
        state["exp_avg"].mul_(b1).add_(g, alpha=1 - b1)
        state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
        v_hat = state["exp_avg_sq"] / (1 - b2 ** t)
        p.sub_(group["lr"] * state["exp_avg"] / (1 - b1 ** t) / (v_hat + group["eps"]).sqrt())


class AliasedMoments(_Base):
    """exp_avg and exp_avg_sq are one tensor (a = b = torch.zeros_like(p))."""
    def _update(self, p, g, state, group):
        if int(state["step"]) == 1:
            state["exp_avg_sq"] = state["exp_avg"]
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g + group["weight_decay"] * p
        _adam_core(p, g, state, group)


class Correct(_Base):
    def _update(self, p, g, state, group):
        if group["weight_decay"]:
            if group["decoupled"]:
                p.mul_(1 - group["lr"] * group["weight_decay"])
            else:
                g = g.add(p, alpha=group["weight_decay"])
        _adam_core(p, g, state, group)


class TorchStyle(_Base):
    """Written like torch/optim/adam.py: lerp for the mean, step size folded with sqrt."""
    def _update(self, p, g, state, group):
        lr, (b1, b2), eps, wd = group["lr"], group["betas"], group["eps"], group["weight_decay"]
        if wd and group["decoupled"]:
            p.mul_(1 - lr * wd)
        elif wd:
            g = g.add(p, alpha=wd)
        t = state["step"].item()
        state["exp_avg"].lerp_(g, 1 - b1)
        state["exp_avg_sq"].mul_(b2).addcmul_(g, g, value=1 - b2)
        step_size = lr / (1 - b1 ** t)
        denom = (state["exp_avg_sq"].sqrt() / math.sqrt(1 - b2 ** t)).add_(eps)
        p.addcdiv_(state["exp_avg"], denom, value=-step_size)


WRONG = {
    "ScratchAdam": [
        ("no bias correction", NoBiasCorrection, {"adam", "adamw", "groups"}, "bias correction"),
        ("decoupled ignored", AlwaysCoupled, {"adamw", "groups"}, "AdamW"),
        ("missing torch.no_grad", NoNoGrad, {"adam", "adamw", "groups", "state"}, "torch.no_grad"),
        ("state aliased to the gradient", AliasedState, {"adam", "adamw", "groups"}, "in-place aliasing"),
        ("t off by one", TOffByOne, {"adam", "adamw", "groups"}, "off by one"),
        ("bias-corrected moments stored", StoredHat, {"adam", "adamw", "groups"}, "stored as state"),
        ("eps inside the sqrt", EpsInside, {"adam", "adamw", "groups"}, "eps is inside the square root"),
        ("moments aliased to each other", AliasedMoments, {"adam", "adamw", "groups"}, "one and the same tensor"),
        ("parameters without grad updated", SkipsNoneGradBadly, {"groups"}, "grad is None"),
    ],
}
RIGHT = {"ScratchAdam": [Correct, TorchStyle]}
