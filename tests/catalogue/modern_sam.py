"""SAM (notebook 07) written the way students write it: the wrong ones with the parts they
must lose and a phrase their message must contain, the right ones in other styles.

``Student`` is the plain loop version with one hook per decision; each wrong class flips
one decision. The right classes are written independently of it.
"""
import torch


class Student(torch.optim.Optimizer):
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        if rho < 0:
            raise ValueError(f"rho must be non-negative, got {rho}")
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups

    def _norm(self):
        return torch.sqrt(sum((p.grad ** 2).sum() for g in self.param_groups for p in g["params"]
                              if p.grad is not None))

    def _e_w(self, p, group, norm):
        return group["rho"] * p.grad / (norm + 1e-12)

    @torch.no_grad()
    def first_step(self):
        norm = self._norm()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                self.state[p]["old_p"] = p.clone()
                p.add_(self._e_w(p, group, norm))

    def _restore(self):
        for group in self.param_groups:
            for p in group["params"]:
                if "old_p" in self.state[p]:
                    p.copy_(self.state[p].pop("old_p"))

    @torch.no_grad()
    def second_step(self):
        self._restore()
        self.base_optimizer.step()

    @torch.no_grad()
    def step(self, closure):
        self.first_step()
        self.zero_grad()
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss


# ----------------------------------------------------------------- wrong

class NoRestore(Student):
    """The base step is taken from w + e_w (the issue's "SAM stepping from the perturbed weights")."""
    def _restore(self):
        pass


class PerTensorNorm(Student):
    def _e_w(self, p, group, norm):
        return group["rho"] * p.grad / (p.grad.norm() + 1e-12)


class Unnormalised(Student):
    def _e_w(self, p, group, norm):
        return group["rho"] * p.grad


class SignFlipped(Student):
    def _e_w(self, p, group, norm):
        return -group["rho"] * p.grad / (norm + 1e-12)


class RhoSquared(Student):
    def _e_w(self, p, group, norm):
        return group["rho"] ** 2 * p.grad / (norm + 1e-12)


class NormSquared(Student):
    def _e_w(self, p, group, norm):
        return group["rho"] * p.grad / (norm ** 2 + 1e-12)


class ClosureAfterRestore(Student):
    """Restores before the closure: the gradient is taken at w, SAM becomes the base optimizer."""
    @torch.no_grad()
    def step(self, closure):
        self.first_step()
        self._restore()
        self.zero_grad()
        with torch.enable_grad():
            loss = closure()
        self.base_optimizer.step()
        return loss


class NoZeroGrad(Student):
    """The closure's backward adds the gradient at w + e_w to the one at w."""
    @torch.no_grad()
    def step(self, closure):
        self.first_step()
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss


class NoEnableGrad(Student):
    """The closure runs under step's no_grad: its backward has nothing to differentiate."""
    @torch.no_grad()
    def step(self, closure):
        self.first_step()
        self.zero_grad()
        loss = closure()
        self.second_step()
        return loss


class DefaultsRho(Student):
    def _e_w(self, p, group, norm):
        return self.defaults["rho"] * p.grad / (norm + 1e-12)


class PerGroupNorm(Student):
    @torch.no_grad()
    def first_step(self):
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            norm = torch.sqrt(sum((p.grad ** 2).sum() for p in ps)) if ps else 0.0
            for p in ps:
                self.state[p]["old_p"] = p.clone()
                p.add_(group["rho"] * p.grad / (norm + 1e-12))


class FreshBase(Student):
    """Builds the base optimizer in every step: momentum and Adam's moments start over."""
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        super().__init__(params, base_optimizer, rho, **kwargs)
        self.base_class, self.base_kwargs = base_optimizer, kwargs

    @torch.no_grad()
    def second_step(self):
        self._restore()
        self.base_class(self.param_groups, **self.base_kwargs).step()


class ReturnsNothing(Student):
    @torch.no_grad()
    def step(self, closure):
        super().step(closure)


class AcceptsNegativeRho(Student):
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        torch.optim.Optimizer.__init__(self, params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups


class NoneGradCrash(Student):
    """Forgets that a parameter may have no gradient."""
    def _norm(self):
        return torch.sqrt(sum((p.grad ** 2).sum() for g in self.param_groups for p in g["params"]))


# ----------------------------------------------------------------- right

class Stacked(torch.optim.Optimizer):
    """All gradients flattened into one vector for the norm; old weights in a list."""
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        if not rho >= 0:
            raise ValueError("rho must be >= 0")
        defaults = dict(rho=rho, **kwargs)
        super().__init__(params, defaults)
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.saved = []

    @torch.no_grad()
    def first_step(self):
        grads = [p.grad.reshape(-1) for g in self.param_groups for p in g["params"] if p.grad is not None]
        norm = torch.linalg.norm(torch.cat(grads))
        self.saved = []
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    self.saved.append((p, p.detach().clone()))
                    p.add_(p.grad, alpha=float(group["rho"] / (norm + 1e-12)))

    @torch.no_grad()
    def second_step(self):
        for p, old in self.saved:
            p.copy_(old)
        self.saved = []
        self.base_optimizer.step()

    def step(self, closure=None):
        self.first_step()
        self.zero_grad(set_to_none=False)
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss


class Foreach(torch.optim.Optimizer):
    """torch._foreach ops per group, the norm by torch.linalg.vector_norm of the norms,
    the optimizer's own state separate from the base optimizer's (davda54/sam's layout)."""
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        if rho < 0.0:
            raise ValueError(f"Invalid rho, should be non-negative: {rho}")
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups
        self.defaults.update(self.base_optimizer.defaults)

    @torch.no_grad()
    def first_step(self):
        norms = [p.grad.norm(p=2) for g in self.param_groups for p in g["params"] if p.grad is not None]
        norm = torch.linalg.vector_norm(torch.stack(norms))
        for group in self.param_groups:
            ps = [p for p in group["params"] if p.grad is not None]
            if not ps:
                continue
            for p in ps:
                self.state[p]["w"] = p.clone()
            e_w = torch._foreach_mul([p.grad for p in ps], group["rho"] / (norm + 1e-12))
            torch._foreach_add_(ps, e_w)

    @torch.no_grad()
    def second_step(self):
        for group in self.param_groups:
            ps = [p for p in group["params"] if "w" in self.state[p]]
            if ps:
                torch._foreach_copy_(ps, [self.state[p].pop("w") for p in ps])
        self.base_optimizer.step()

    @torch.no_grad()
    def step(self, closure=None):
        closure = torch.enable_grad()(closure)
        self.first_step()
        self.zero_grad()
        loss = closure()
        self.second_step()
        return loss


class SubtractRestore(torch.optim.Optimizer):
    """davda54/sam's first version: remembers e_w and subtracts it again (w + e_w - e_w is w
    up to one rounding, well inside the tolerance)."""
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        assert rho >= 0.0, f"Invalid rho, should be non-negative: {rho}"   # AssertionError is not a ValueError
        super().__init__(params, dict(rho=rho, **kwargs))
        self.base_optimizer = base_optimizer(self.param_groups, **kwargs)
        self.param_groups = self.base_optimizer.param_groups

    @torch.no_grad()
    def first_step(self):
        grad_norm = torch.norm(torch.stack([p.grad.norm(p=2) for group in self.param_groups
                                            for p in group["params"] if p.grad is not None]), p=2)
        for group in self.param_groups:
            scale = group["rho"] / (grad_norm + 1e-12)
            for p in group["params"]:
                if p.grad is None:
                    continue
                e_w = p.grad * scale.to(p)
                p.add_(e_w)
                self.state[p]["e_w"] = e_w

    @torch.no_grad()
    def second_step(self):
        for group in self.param_groups:
            for p in group["params"]:
                if "e_w" in self.state[p]:
                    p.sub_(self.state[p].pop("e_w"))
        self.base_optimizer.step()

    @torch.no_grad()
    def step(self, closure=None):
        self.first_step()
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None
        with torch.enable_grad():
            loss = closure()
        self.second_step()
        return loss


class SubtractRestoreValueError(SubtractRestore):
    def __init__(self, params, base_optimizer, rho=0.05, **kwargs):
        if rho < 0:
            raise ValueError("rho must be >= 0")
        super().__init__(params, base_optimizer, rho, **kwargs)


WRONG = {
    "SAM": [
        ("stepping from the perturbed weights", NoRestore, {"restore", "base", "groups"},
         "stepping from the perturbed weights"),
        ("per-tensor norm", PerTensorNorm, {"perturb", "groups"}, "its own norm"),
        ("ascent without normalising", Unnormalised, {"perturb", "groups"}, "without dividing by the gradient norm"),
        ("descent direction (w - e_w)", SignFlipped, {"perturb", "groups"}, "goes down the gradient"),
        ("rho squared", RhoSquared, {"perturb", "groups"}, "rho squared"),
        ("norm squared", NormSquared, {"perturb", "groups"}, "squared norm"),
        ("closure called after the restore", ClosureAfterRestore, {"perturb", "groups"},
         "saw the weights before the step"),
        ("grads not zeroed before the closure", NoZeroGrad, {"base", "groups"}, "not zeroed before the closure"),
        ("closure under no_grad", NoEnableGrad, {"perturb", "restore", "base", "groups"}, "torch.enable_grad()"),
        ("the constructor's rho in every group", DefaultsRho, {"groups"}, "group['rho']"),
        ("norm per param group", PerGroupNorm, {"groups"}, "per param group"),
        ("base optimizer rebuilt every step", FreshBase, {"base", "groups"}, "built anew in every step"),
        ("step returns nothing", ReturnsNothing, {"groups"}, "it should return what the closure returned"),
        ("rho < 0 accepted", AcceptsNegativeRho, {"groups"}, "should raise ValueError"),
        ("a param without grad not skipped", NoneGradCrash, {"groups"}, "grad is None"),
    ],
}
RIGHT = {"SAM": [Student, Stacked, Foreach, SubtractRestoreValueError]}
