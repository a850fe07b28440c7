"""Sharpness-aware minimization (Foret et al. 2021) as a torch.optim.Optimizer wrapper.

The contract (notebook 07's ``SAM``), proven against pytorch-optimizer 4.1.0's ``SAM``
(adaptive=False, use_gc=False, perturb_eps=1e-12) in tests/test_reference_sam.py:

``SAM(params, base_optimizer, rho=0.05, **kwargs)``
    ``base_optimizer`` is an optimizer *class* (``torch.optim.SGD``, ``torch.optim.Adam``);
    it is built on this optimizer's own ``param_groups`` with ``**kwargs``, and the two
    share their param groups and their state, so a group's ``lr`` or ``rho`` set on SAM is
    the one the base step uses, and ``state_dict()`` holds the base optimizer's state
    (its momentum buffers, Adam's moments). ``rho`` must be >= 0 (else ValueError); each
    param group may set its own ``rho``. ``rho = 0`` is the base optimizer itself.

``first_step()``
    g is every parameter's ``.grad`` (parameters whose grad is None are skipped: neither
    perturbed nor restored); one global norm ||g||_2 over all of them, across all param
    groups. Each parameter p remembers its weights (``state[p]["old_p"]``) and moves to
    p + e_w, e_w = group["rho"] * p.grad / (||g||_2 + 1e-12).

``second_step()``
    Copies the remembered weights back (exactly, bit for bit, and forgets them), then
    calls ``base_optimizer.step()``, which uses the gradients present now: those computed
    at the perturbed weights.

``step(closure)``
    The gradients at the current weights must exist already (the caller ran backward).
    first_step(); the gradients are zeroed (set to None, as ``zero_grad()`` does);
    ``closure()`` runs under ``torch.enable_grad()`` (step itself runs under no_grad) and
    recomputes the loss and the gradients at w + e_w; second_step(); returns what the
    closure returned (the loss at the perturbed weights). The closure is called exactly
    once and need not zero the gradients itself (one that does, as in
    pytorch-optimizer's docstring, works too). Without a closure step raises ValueError.
"""
import torch

PERTURB_EPS = 1e-12


class SAM(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        if not rho >= 0.0:   # written so that NaN is refused too
            raise ValueError(f"Invalid rho: {rho} (it must be >= 0)")
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        # One set of groups and one state for both: options changed on either (a scheduler
        # on SAM's lr) reach the base step, and state_dict() round trips the base's buffers.
        self.param_groups = self.base_optimizer.param_groups
        self.state = self.base_optimizer.state
        self.defaults.update(self.base_optimizer.defaults)

    def _grad_norm(self):
        norms = [p.grad.norm(2) for group in self.param_groups for p in group["params"] if p.grad is not None]
        if not norms:
            return None
        # sqrt of the sum of squared norms: the norm of all gradients stacked into one vector
        return torch.stack(norms).square().sum().sqrt()

    @torch.no_grad()
    def first_step(self):
        norm = self._grad_norm()
        if norm is None:
            return
        for group in self.param_groups:
            scale = group["rho"] / (norm + PERTURB_EPS)
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.detach().clone()
                p.add_(p.grad * scale.to(p))

    @torch.no_grad()
    def second_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                old = self.state[p].pop("old_p", None) if p in self.state else None
                if old is not None:
                    # a copy, not p - e_w: the base step must start from w itself
                    p.copy_(old)
        self.base_optimizer.step()

    @torch.no_grad()
    def step(self, closure=None):
        if closure is None:
            raise ValueError("SAM.step needs a closure that recomputes the loss and its gradients")
        self.first_step()
        self.zero_grad()
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        # torch's load_state_dict replaces both objects: share them with the base again
        self.base_optimizer.param_groups = self.param_groups
        self.base_optimizer.state = self.state
