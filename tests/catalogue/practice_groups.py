"""clip_grad_norm and decay_param_groups (notebook 06) written the way students write them.

WRONG maps each graded function to realistic mistakes: (label, function, the parts it
must fail, a phrase the failure message must contain). RIGHT maps it to correct
implementations written differently from the reference: each must get full marks.
SOURCES holds some of them as the source of a notebook answer cell (the function under
its graded name, with its own imports), for the autograde tests; SOURCE_PARTS says for
each which function it is and which parts it loses.

Every function here is self-contained (its imports inside), so that its source is an
answer cell as it stands.
"""
import inspect

# ================================================================== clip_grad_norm: wrong


def clip_per_tensor(grads, max_norm):
    import numpy as np
    clipped, total = [], 0.0
    for g in grads:
        norm = float(np.sqrt(np.sum(g ** 2)))
        total += norm ** 2
        clipped.append(g * min(1.0, max_norm / (norm + 1e-6)))
    total = float(np.sqrt(total))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    return clipped, total


def clip_squared_norm(grads, max_norm):
    import numpy as np
    total = float(sum(np.sum(g ** 2) for g in grads))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total


def clip_always_scales(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = max_norm / (total + 1e-6)
    return [g * scale for g in grads], total


def clip_norm_after(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    clipped = [g * min(1.0, max_norm / (total + 1e-6)) for g in grads]
    return clipped, float(np.sqrt(sum(np.sum(c ** 2) for c in clipped)))


def clip_in_place(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / (total + 1e-6))
    for g in grads:
        g *= scale
    return grads, total


def clip_inf_norm(grads, max_norm):
    import numpy as np
    total = max((float(np.max(np.abs(g))) for g in grads if g.size), default=0.0)
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total


def clip_l1_norm(grads, max_norm):
    import numpy as np
    total = float(sum(np.sum(np.abs(g)) for g in grads))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total


def clip_nan_not_caught(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total


def clip_mean_of_squares(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(np.mean(g ** 2) for g in grads)))
    if not np.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / (total + 1e-6))
    return [g * scale for g in grads], total


def clip_divides_by_zero(grads, max_norm):
    import math
    total = math.sqrt(sum(float((g ** 2).sum()) for g in grads))
    if not math.isfinite(total):
        raise ValueError("non-finite gradient norm")
    scale = min(1.0, max_norm / total)     # all-zero gradients: ZeroDivisionError
    return [g * scale for g in grads], total


# ================================================================== clip_grad_norm: right


def clip_without_eps(grads, max_norm):
    import numpy as np
    total = float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))
    if np.isnan(total) or np.isinf(total):
        raise ValueError(f"total norm is {total}")
    scale = 1.0
    if total > max_norm:
        scale = max_norm / total
    return [g * scale for g in grads], total


def clip_max_form(grads, max_norm):
    import math
    total = math.sqrt(sum(float((g * g).sum()) for g in grads))
    if not math.isfinite(total):
        raise FloatingPointError("the gradients are not finite")
    return tuple(g * (max_norm / max(total, max_norm)) for g in grads), total


def clip_concatenate(grads, max_norm):
    import numpy as np
    flat = np.concatenate([np.ravel(g) for g in grads] + [np.zeros(0)])
    total = float(np.linalg.norm(flat))
    if not np.isfinite(total):
        raise RuntimeError("nan or inf in the gradients")
    scale = min(1.0, max_norm / (total + 1e-6))
    return (tuple(g * scale for g in grads), total)


def clip_loop_float32(grads, max_norm):
    """Keeps every value in the gradients' dtype (float32 stays float32), with a loop."""
    import numpy as np

    class NonFiniteGradient(ValueError):
        pass

    dtype = grads[0].dtype if grads else np.dtype(np.float64)
    sq = dtype.type(0)
    for g in grads:
        for v in np.ravel(g):
            sq = sq + v * v
    total = np.sqrt(sq).astype(dtype)
    if not np.isfinite(total):
        raise NonFiniteGradient("skip this batch")
    scale = dtype.type(min(1.0, max_norm / (float(total) + 1e-6)))
    out = []
    for g in grads:
        out.append((g * scale).astype(g.dtype))
    return out, total


def clip_with_torch(grads, max_norm):
    import numpy as np
    import torch
    tensors = [torch.tensor(np.asarray(g, dtype=np.float64)) for g in grads]
    for t in tensors:
        t.grad = t.clone()
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, error_if_nonfinite=True)
    return [t.grad.numpy().astype(g.dtype) for t, g in zip(tensors, grads, strict=True)], float(total)


# ================================================================== decay_param_groups: wrong


def groups_decay_all(model, weight_decay):
    return [{"params": [p for p in model.parameters() if p.requires_grad], "weight_decay": weight_decay}]


def groups_by_name(model, weight_decay):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if "bias" in name:
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def groups_no_decay_key(model, weight_decay):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest}]


def groups_tied_twice(model, weight_decay):
    decay, no_decay = [], []
    for _name, p in model.named_parameters(remove_duplicate=False):
        if p.requires_grad:
            (decay if p.ndim >= 2 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def groups_modules_twice(model, weight_decay):
    decay, no_decay = [], []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if p.requires_grad:
                (decay if p.dim() > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}]


def groups_set_lr(model, weight_decay):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": weight_decay, "lr": 1e-3},
            {"params": rest, "weight_decay": 0.0, "lr": 1e-3}]


def groups_ndim_two(model, weight_decay):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim == 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim != 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def groups_flat_list(model, weight_decay):
    return [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]


def groups_swapped(model, weight_decay):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    return [{"params": decay, "weight_decay": weight_decay}, {"params": rest, "weight_decay": 0.0}]


def groups_fixed_decay(model, weight_decay):
    decay = [p for p in model.parameters() if p.requires_grad and p.ndim >= 2]
    rest = [p for p in model.parameters() if p.requires_grad and p.ndim < 2]
    return [{"params": decay, "weight_decay": 0.01}, {"params": rest, "weight_decay": 0.0}]


# ================================================================== decay_param_groups: right


def groups_by_shape(model, weight_decay):
    decay, no_decay = [], []
    for _name, p in model.named_parameters():
        if p.requires_grad and len(p.shape) >= 2:
            decay.append(p)
        elif p.requires_grad:
            no_decay.append(p)
    return [{"params": no_decay, "weight_decay": 0.0}, {"params": decay, "weight_decay": weight_decay}]


def groups_modules_seen(model, weight_decay):
    """Walks the modules, keeps frozen parameters too, and skips what it has seen."""
    seen, decay, no_decay = set(), [], []
    for module in model.modules():
        for p in module.parameters(recurse=False):
            if id(p) in seen:
                continue
            seen.add(id(p))
            (decay if p.dim() > 1 else no_decay).append(p)
    return [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0}]


def groups_non_empty(model, weight_decay):
    params = [p for p in model.parameters() if p.requires_grad]
    groups = [{"params": [p for p in params if p.ndim > 1], "weight_decay": float(weight_decay)},
              {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0}]
    return [g for g in groups if g["params"]]


def groups_generators(model, weight_decay):
    return ({"params": (p for p in model.parameters() if p.ndim >= 2), "weight_decay": weight_decay},
            {"params": (p for p in model.parameters() if p.ndim < 2), "weight_decay": 0.0})


def groups_per_parameter(model, weight_decay):
    """One group per parameter (the optimizer accepts that too)."""
    return [{"params": [p], "weight_decay": weight_decay if p.ndim >= 2 else 0.0}
            for p in model.parameters() if p.requires_grad]


ALL_CLIP = {"basic", "random", "edge"}
ALL_GROUPS = {"basic", "norm", "shared"}

WRONG = {
    "clip_grad_norm": [
        ("per tensor", clip_per_tensor, ALL_CLIP, "per tensor"),
        ("squared norm", clip_squared_norm, ALL_CLIP, "without the square root"),
        ("scales up below max_norm", clip_always_scales, ALL_CLIP, "scaled up"),
        ("norm after clipping", clip_norm_after, ALL_CLIP, "norm after clipping"),
        ("inputs modified in place", clip_in_place, ALL_CLIP, "in place"),
        ("inf norm", clip_inf_norm, ALL_CLIP, "inf norm"),
        ("L1 norm", clip_l1_norm, ALL_CLIP, "L1 norm"),
        ("nan not caught", clip_nan_not_caught, {"edge"}, "raise a ValueError"),
        ("mean of squares", clip_mean_of_squares, ALL_CLIP, "mean of the squares"),
        ("divides by a zero norm", clip_divides_by_zero, {"edge"}, "must not divide"),
    ],
    "decay_param_groups": [
        ("decay on every parameter", groups_decay_all, ALL_GROUPS, "weight decay on every parameter"),
        ("chosen by name", groups_by_name, {"norm"}, "chosen by name"),
        ("no weight_decay key", groups_no_decay_key, ALL_GROUPS, "no 'weight_decay' key"),
        ("tied listed twice (named_parameters)", groups_tied_twice, {"shared"}, "listed more than once"),
        ("tied listed twice (modules)", groups_modules_twice, {"shared"}, "listed more than once"),
        ("sets lr", groups_set_lr, ALL_GROUPS, "sets 'lr'"),
        ("ndim == 2 only", groups_ndim_two, {"norm"}, "4-D convolution kernels"),
        ("flat list of parameters", groups_flat_list, ALL_GROUPS, "flat list"),
        ("groups swapped", groups_swapped, ALL_GROUPS, "swapped"),
        ("decay hard-coded", groups_fixed_decay, ALL_GROUPS, "not the weight_decay argument"),
    ],
}

RIGHT = {
    "clip_grad_norm": [clip_without_eps, clip_max_form, clip_concatenate, clip_loop_float32, clip_with_torch],
    "decay_param_groups": [groups_by_shape, groups_modules_seen, groups_non_empty, groups_generators,
                           groups_per_parameter],
}


def source(fn, name):
    """``fn``'s source as an answer cell defining ``name``."""
    text = inspect.getsource(fn)
    return text.replace(f"def {fn.__name__}(", f"def {name}(", 1)


_CELLS = {
    "clip_grad_norm": {"wrong": [clip_per_tensor, clip_norm_after, clip_nan_not_caught],
                       "right": [clip_without_eps, clip_concatenate]},
    "decay_param_groups": {"wrong": [groups_decay_all, groups_by_name, groups_tied_twice],
                           "right": [groups_by_shape, groups_modules_seen]},
}
_LOST = {fn: parts for rows in WRONG.values() for _label, fn, parts, _phrase in rows}

# label -> the source of an answer cell; label -> (graded name, the parts it loses)
SOURCES = {}
SOURCE_PARTS = {}
for _name, _kinds in _CELLS.items():
    for _kind, _fns in _kinds.items():
        for _fn in _fns:
            _label = f"{_name}: {_kind}: {_fn.__name__}"
            SOURCES[_label] = source(_fn, _name)
            SOURCE_PARTS[_label] = (_name, frozenset(_LOST.get(_fn, set())))
