"""A torch optimizer driven by a numpy step function of the course.

Every graded step has the form ``step(x, g, *state, [t], **hyper) -> (x_new, *state_new)``.
``StepOptimizer`` applies such a function to each parameter of a torch model, so a
network trains with *your* ``adam_step`` or ``lion_step`` exactly as with torch.optim:

    opt = StepOptimizer(model.parameters(), adam_step, state=("m", "v"), takes_t=True, lr=3e-3)
    opt = StepOptimizer(model.parameters(), lion_step, state=("m",), takes_t=False, lr=3e-4)
    opt = StepOptimizer(model.parameters(), nadam_step, state=("m", "v", ("mu_product", 1.0)), takes_t=True)

``state`` names the step's state in the order the step takes and returns it: a name is
an array the shape of the parameter, zero at first; a pair (name, number) is a scalar
state starting at that number (NAdam's running product of its momentum coefficients).
With ``takes_t`` the 1-based index of the update, counted per parameter, follows the
state. Everything else is a hyperparameter, passed by name; schedulers change ``lr`` in
the param groups as usual.

A param group may carry its own ``step``, ``state`` and ``takes_t``: Muon orthogonalises
matrices only, so the usual recipe gives the hidden weight matrices to ``muon_step`` and
the rest (biases, the output layer) to Adam or AdamW (``split_for_muon``):

    hidden, rest = split_for_muon(model)
    opt = StepOptimizer([dict(params=hidden, step=muon_step, state=("buf",), takes_t=False, lr=0.02),
                         dict(params=rest, lr=3e-3)], adam_step, state=("m", "v"), takes_t=True)

The step sees numpy views of the parameters and gradients (no copies; a step must not
modify its inputs, as the course's contract says) and its result is written back into
the parameter in the parameter's dtype, so float32 and float64 models both work.
"""
import numpy as np
import torch

_OWN = ("params", "step", "state", "takes_t", "hyper")


def _state_spec(state):
    """[(name, initial)]: initial None for an array of zeros, a float for a scalar."""
    if isinstance(state, str):
        state = (state,)
    spec = []
    for item in state:
        if isinstance(item, str):
            spec.append((item, None))
        elif isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            spec.append((item[0], float(item[1])))
        else:
            raise ValueError(f"state entries are names or (name, initial number) pairs, got {item!r}")
    return tuple(spec)


def _name(fn):
    return getattr(fn, "__name__", repr(fn))


class StepOptimizer(torch.optim.Optimizer):
    """torch.optim.Optimizer that updates each parameter with a numpy step function.

    Per-parameter state (``self.state[p]``): one entry per state name (a tensor shaped like
    the parameter, the step's array as returned, or a float for scalar state) and
    ``"step"``, the number of updates made so far. ``state_dict`` round trips work.
    """

    def __init__(self, params, step, state=("m", "v"), takes_t=True, **hyper):
        defaults = dict(step=step, state=state, takes_t=takes_t, **hyper)
        super().__init__(params, defaults)

    def add_param_group(self, param_group):
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        if not callable(group["step"]):
            raise ValueError(f"a param group's step must be a function, got {group['step']!r}")
        group["state"] = _state_spec(group["state"])
        # the hyperparameters are fixed now: a scheduler later adds keys of its own
        # (initial_lr, max_lr, ...), which are not the step's to receive
        group["hyper"] = tuple(k for k in group if k not in _OWN)

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            fn, spec, takes_t = group["step"], group["state"], group["takes_t"]
            hyper = {k: group[k] for k in group["hyper"]}
            for p in group["params"]:
                if p.grad is None:
                    continue
                self._update(p, fn, spec, takes_t, hyper)
        return loss

    def _update(self, p, fn, spec, takes_t, hyper):
        x = p.detach().numpy()
        g = p.grad.detach().numpy()
        st = self.state[p]
        if not st:
            st["step"] = 0
            for name, initial in spec:
                st[name] = torch.zeros_like(p, memory_format=torch.contiguous_format) if initial is None else initial
        t = st["step"] + 1
        # array state lives in torch tensors (state_dict and load_state_dict handle those),
        # handed to the step as numpy views
        args = [st[name].numpy() if initial is None else st[name] for name, initial in spec]
        if takes_t:
            args.append(t)
        out = fn(x, g, *args, **hyper)
        expected = ["x_new", *(name for name, _ in spec)]
        if not spec:      # a step without state may return x_new alone
            out = out if isinstance(out, tuple | list) and len(out) == 1 else (out,)
        if not isinstance(out, tuple | list) or len(out) != len(expected):
            got = f"{len(out)} values" if isinstance(out, tuple | list) else f"a {type(out).__name__}"
            raise ValueError(f"{_name(fn)} returned {got} for a parameter of shape {tuple(x.shape)}; "
                             f"expected {len(expected)}: ({', '.join(expected)})")
        x_new = np.asarray(out[0])
        if x_new.shape != x.shape:
            raise ValueError(f"{_name(fn)} returned x_new of shape {x_new.shape} for a parameter of shape "
                             f"{x.shape}")
        new_state = {}
        for (name, initial), value in zip(spec, out[1:], strict=True):
            if initial is None:
                if np.shape(value) != x.shape:
                    raise ValueError(f"{_name(fn)} returned {name} of shape {np.shape(value)} for a parameter "
                                     f"of shape {x.shape}")
                value = torch.from_numpy(np.require(value, dtype=x.dtype, requirements=("C", "W")))
            else:
                if np.ndim(value) != 0:
                    raise ValueError(f"{_name(fn)} returned {name} of shape {np.shape(value)}; it is a "
                                     f"number (one per parameter)")
                value = float(value)
            new_state[name] = value
        np.copyto(x, x_new, casting="same_kind")
        st.update(new_state)
        st["step"] = t


def split_for_muon(model):
    """(hidden matrices, the rest) of a model's trainable parameters, in model order.

    Muon is meant for hidden weight matrices (Jordan et al. 2024): every 2-D parameter
    except the last one, which is the output layer in a network that ends in a Linear
    layer. Biases, normalisation gains and the output layer go to the rest.
    """
    params = [p for p in model.parameters() if p.requires_grad]
    matrices = [i for i, p in enumerate(params) if p.ndim == 2]
    hidden = set(matrices[:-1])
    return [p for i, p in enumerate(params) if i in hidden], [p for i, p in enumerate(params) if i not in hidden]
