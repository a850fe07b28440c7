"""The small networks and data loaders that notebook 06's programs train, built the same
way in the kernel and in the grader (the grader's reference runs use these functions).

Everything is decided by the spec the grader sends: the architecture, every weight, the
data, the batch size and the seed of the loader's shuffling. Nothing is drawn from
torch's global random state, so a run is reproducible bit for bit in float64.

arch: {"sizes": [d_in, h_1, ..., d_out], "norm": None | "batch" | "layer", "bias": True}
      Linear(d_in, h_1) [BatchNorm1d | LayerNorm] ReLU ... Linear(h_k, d_out), float64.
"""


def _torch():
    import torch
    return torch


def mlp(arch, weights=None):
    """The network of ``arch``; its parameters set to ``weights`` (arrays in the order of
    model.parameters()) when given, else left at zero-cost placeholders (skip_init)."""
    torch = _torch()
    from torch.nn.utils import skip_init
    sizes = [int(s) for s in arch["sizes"]]
    norm, bias = arch.get("norm"), bool(arch.get("bias", True))
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(skip_init(torch.nn.Linear, a, b, bias=bias, dtype=torch.float64))
        if k < len(sizes) - 2:
            if norm == "batch":
                layers.append(torch.nn.BatchNorm1d(b, dtype=torch.float64))
            elif norm == "layer":
                layers.append(torch.nn.LayerNorm(b, dtype=torch.float64))
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    if weights is not None:
        set_weights(model, weights)
    return model


def set_weights(model, weights):
    torch = _torch()
    import numpy as np
    params = list(model.parameters())
    if len(params) != len(weights):
        raise ValueError(f"{len(weights)} weights for {len(params)} parameters")
    with torch.no_grad():
        for p, w in zip(params, weights, strict=True):
            p.copy_(torch.from_numpy(np.array(w, dtype=np.float64)).reshape(p.shape))
    return model


def shapes(arch):
    """The shapes of the parameters of ``mlp(arch)``, in order."""
    return [tuple(p.shape) for p in mlp(arch).parameters()]


def draw_weights(arch, rng):
    """Weights drawn like torch's default initialisation of Linear layers (uniform in
    +-1/sqrt(fan_in)); normalisation layers start at weight 1 +- 0.1 and bias +- 0.1,
    so that a mistake in their treatment shows."""
    import numpy as np
    out = []
    for shape in shapes(arch):
        if len(shape) == 2:
            bound = 1 / np.sqrt(shape[1])
            out.append(rng.uniform(-bound, bound, size=shape))
        else:
            out.append(rng.uniform(-0.3, 0.3, size=shape))
    model = mlp(arch)
    # normalisation weights near one: find them by position (a 1-D parameter right after
    # a Linear's bias belongs to the norm layer)
    k = 0
    for module in model:
        n = len(list(module.parameters(recurse=False)))
        if n and not isinstance(module, _torch().nn.Linear):
            out[k] = 1 + 0.1 * rng.standard_normal(out[k].shape)
        k += n
    return out


def loader(X, y, batch_size, seed, drop_last=False):
    """A DataLoader over (X, y) that reshuffles every epoch with its own generator,
    seeded with ``seed``; float64 inputs, int64 labels. Batches are drawn as whole index
    lists (a BatchSampler), which is much faster than one item at a time."""
    torch = _torch()
    import numpy as np
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, TensorDataset
    data = TensorDataset(torch.from_numpy(np.array(X, dtype=np.float64)),
                         torch.from_numpy(np.array(y, dtype=np.int64)))
    gen = torch.Generator().manual_seed(int(seed))
    sampler = BatchSampler(RandomSampler(data, generator=gen), int(batch_size), drop_last=bool(drop_last))
    return DataLoader(data, sampler=sampler, batch_size=None)


def state(model):
    """Every parameter and buffer of ``model`` as float64 arrays, by name."""
    import numpy as np
    return {k: np.array(v.detach().cpu().numpy(), dtype=np.float64) for k, v in model.state_dict().items()}
