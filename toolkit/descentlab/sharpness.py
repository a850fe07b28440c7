"""How sharp a minimum is: the largest eigenvalue of the loss's Hessian at the model's
current weights, by power iteration on Hessian-vector products.

A Hessian-vector product H v costs two backward passes (the gradient with its graph kept,
then the gradient of g . v), so the Hessian itself is never formed: this works for
notebook 06's digits MLP with its ~4,800 weights as for a model of two.

    top = top_hessian_eigenvalue(model, torch.nn.functional.cross_entropy, X, y)
    top.eigenvalue, top.iterations, top.converged

Power iteration finds the eigenvalue of largest magnitude. At a minimum the Hessian is
(nearly) positive semi-definite, so that is the largest one; away from a minimum a large
negative curvature can win, and ``eigenvalue`` is then negative.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class TopEigenvalue:
    eigenvalue: float   # the Rayleigh quotient v . H v of the last unit vector v
    iterations: int     # Hessian-vector products used
    converged: bool     # the last two estimates agreed to ``tol`` (relative)


def _torch():
    import torch
    return torch


def hessian_vector_product(model, loss_fn, X, y, vectors):
    """H v for the loss ``loss_fn(model(X), y)`` at the current weights; ``vectors`` and
    the result are lists of tensors shaped like the parameters that require grad."""
    torch = _torch()
    params = [p for p in model.parameters() if p.requires_grad]
    with torch.enable_grad():
        loss = loss_fn(model(X), y)
        grads = torch.autograd.grad(loss, params, create_graph=True)
        dot = sum((g * v).sum() for g, v in zip(grads, vectors, strict=True))
        # allow_unused: a weight the gradient does not depend on (a bias feeding a ReLU that is
        # off for every example) has a zero row in the Hessian
        hv = torch.autograd.grad(dot, params, allow_unused=True)
    return [torch.zeros_like(p) if h is None else h.detach() for h, p in zip(hv, params, strict=True)]


def top_hessian_eigenvalue(model, loss_fn, X, y, iters=20, seed=0, tol=1e-4):
    """The largest-magnitude eigenvalue of the Hessian of ``loss_fn(model(X), y)`` with
    respect to the parameters of ``model`` that require grad, at their current values.

    Starts from a random unit vector (drawn from a generator seeded with ``seed``, so the
    result is reproducible) and runs at most ``iters`` power iterations, stopping early
    when two successive estimates agree to ``tol`` relative. The model's weights, its
    ``.grad`` and its train/eval mode are left as they were (with dropout, call
    model.eval() first, or every product sees another mask); X and y are used whole (pass
    a subset for a cheaper estimate). Returns a TopEigenvalue.
    """
    torch = _torch()
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no parameters that require grad")
    gen = torch.Generator().manual_seed(int(seed))
    v = [torch.randn(p.shape, generator=gen, dtype=p.dtype).to(p.device) for p in params]
    v = _normalised(v)
    estimate, previous, used = 0.0, None, 0
    for used in range(1, int(iters) + 1):
        hv = hessian_vector_product(model, loss_fn, X, y, v)
        estimate = float(sum((h * u).sum() for h, u in zip(hv, v, strict=True)))
        norm = _norm(hv)
        if norm == 0.0:   # v in the null space: H v = 0, and so is the estimate
            return TopEigenvalue(0.0, used, True)
        v = [h / norm for h in hv]
        if previous is not None and abs(estimate - previous) <= tol * abs(estimate):
            return TopEigenvalue(estimate, used, True)
        previous = estimate
    return TopEigenvalue(estimate, used, False)


def _norm(tensors):
    return float(sum(float((t * t).sum()) for t in tensors)) ** 0.5


def _normalised(tensors):
    norm = _norm(tensors)
    return [t / norm for t in tensors]
