"""Real data for notebook 06: the 1,797 handwritten digits that ship with scikit-learn
(8x8 grey images, UCI's optical recognition of handwritten digits), small torch models
for them, and a training driver that runs *your* ``train_one_epoch``.

The images are read from the file scikit-learn's ``load_digits`` reads (nothing is
downloaded); ``tests/test_digits.py`` proves they are the same numbers.

    data = digits.split()                  # train / validation / test, fixed once
    model = digits.mlp(seed=0)
    history = digits.fit(train_one_epoch, model, optimizer, data, epochs=10)

The test split is for the end of the lesson: every choice is made on validation.
"""
import functools
import gzip
import importlib.util
import os
from dataclasses import dataclass, field

import numpy as np

N_CLASSES = 10
SPLIT_SEED = 0


def _digits_file():
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("the digits ship with scikit-learn: pip install scikit-learn")
    return os.path.join(spec.submodule_search_locations[0], "datasets", "data", "digits.csv.gz")


@functools.cache
def _load():
    with gzip.open(_digits_file(), "rt") as f:
        raw = np.loadtxt(f, delimiter=",")
    X, y = raw[:, :-1] / 16.0, raw[:, -1].astype(np.int64)   # pixels 0..16 -> 0..1
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def load():
    """(X, y): the 1,797 images as rows of 64 pixels in [0, 1] (float64) and their labels
    0..9 (int64), in scikit-learn's order. Read-only arrays: copy before changing them."""
    return _load()


@dataclass(frozen=True)
class Split:
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray

    def __repr__(self):
        return (f"Split(train {len(self.y_train)}, validation {len(self.y_val)}, test {len(self.y_test)} "
                f"images of 8x8 pixels)")


@functools.cache
def split(seed=SPLIT_SEED, val=0.2, test=0.2):
    """The images shuffled once with ``seed`` and cut into train (60%), validation (20%)
    and test (20%), each class in each part in proportion (stratified)."""
    X, y = load()
    rng = np.random.default_rng(seed)
    parts = {"train": [], "val": [], "test": []}
    for c in range(N_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test, n_val = round(test * len(idx)), round(val * len(idx))
        parts["test"].append(idx[:n_test])
        parts["val"].append(idx[n_test:n_test + n_val])
        parts["train"].append(idx[n_test + n_val:])
    out = {}
    for name, chunks in parts.items():
        idx = rng.permutation(np.concatenate(chunks))
        out[f"X_{name}"], out[f"y_{name}"] = X[idx], y[idx]
    return Split(**out)


# ------------------------------------------------------------------ torch pieces

def _torch():
    import torch
    return torch


def tensors(X, y, dtype=None):
    torch = _torch()
    dtype = dtype or torch.float32
    return torch.as_tensor(np.asarray(X), dtype=dtype), torch.as_tensor(np.asarray(y), dtype=torch.int64)


class ShuffledBatches:
    """A batch sampler for DataLoader: a new permutation of range(n) at every pass, drawn
    from its own generator, cut into batches of ``batch_size`` (the last one short).
    It hands out each batch as one index tensor, which TensorDataset indexes in one go."""

    def __init__(self, n, batch_size, seed=0, shuffle=True):
        torch = _torch()
        self.n, self.batch_size, self.shuffle = int(n), int(batch_size), shuffle
        self.generator = torch.Generator().manual_seed(int(seed))

    def __iter__(self):
        torch = _torch()
        order = torch.randperm(self.n, generator=self.generator) if self.shuffle else torch.arange(self.n)
        yield from order.split(self.batch_size)

    def __len__(self):
        return steps_per_epoch(self.n, self.batch_size)


def loader(X, y, batch_size=64, seed=0, dtype=None, shuffle=True):
    """A DataLoader over (X, y): reshuffled at every pass by its own generator (seeded,
    so a run can be repeated exactly), a short last batch kept. Each batch is drawn as
    one index tensor (ShuffledBatches), many times faster than item by item."""
    from torch.utils.data import DataLoader, TensorDataset
    data = TensorDataset(*tensors(X, y, dtype))
    return DataLoader(data, sampler=ShuffledBatches(len(data), batch_size, seed, shuffle), batch_size=None)


def steps_per_epoch(n, batch_size):
    return -(-int(n) // int(batch_size))


def mlp(seed=0, hidden=64, norm=None, dropout=0.0, dtype=None):
    """64 pixels -> hidden -> hidden -> 10 scores, ReLU; ``norm`` "batch" or "layer" adds
    a normalisation layer after each hidden Linear, ``dropout`` a Dropout layer after each
    ReLU. Initialised by torch from ``seed``."""
    torch = _torch()
    nn = torch.nn
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        layers = []
        for a, b in ((64, hidden), (hidden, hidden)):
            layers.append(nn.Linear(a, b))
            if norm == "batch":
                layers.append(nn.BatchNorm1d(b))
            elif norm == "layer":
                layers.append(nn.LayerNorm(b))
            layers.append(nn.ReLU())
            if dropout:
                layers.append(nn.Dropout(dropout))
        layers.append(nn.Linear(hidden, N_CLASSES))
        model = nn.Sequential(*layers)
    return model.to(dtype or torch.float32)


def cnn(seed=0, channels=16, dtype=None):
    """A small convolutional network: 1x8x8 -> conv 3x3 (channels) -> ReLU -> max-pool
    -> conv 3x3 (2 channels) -> ReLU -> max-pool -> 10 scores."""
    torch = _torch()
    nn = torch.nn
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = nn.Sequential(
            nn.Unflatten(1, (1, 8, 8)),
            nn.Conv2d(1, channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(channels, 2 * channels, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(2 * channels * 4, N_CLASSES))
    return model.to(dtype or torch.float32)


def predict(model, X):
    """The predicted class of each row of X, computed in eval mode without gradients;
    the model's mode is restored afterwards."""
    torch = _torch()
    was = model.training
    model.eval()
    try:
        with torch.no_grad():
            dtype = next(model.parameters()).dtype
            return model(torch.as_tensor(np.asarray(X), dtype=dtype)).argmax(dim=1).numpy()
    finally:
        model.train(was)


def accuracy(model, X, y):
    return float(np.mean(predict(model, X) == np.asarray(y)))


def grad_norm(model):
    """The global 2-norm of the model's current gradients (what clipping looks at)."""
    torch = _torch()
    norms = [p.grad.detach().norm() for p in model.parameters() if p.grad is not None]
    return float(torch.linalg.vector_norm(torch.stack(norms))) if norms else 0.0


@dataclass
class History:
    """One training run, epoch by epoch."""
    train_loss: list = field(default_factory=list)     # what train_one_epoch returned
    val_acc: list = field(default_factory=list)
    lr: list = field(default_factory=list)              # the first group's lr at the end of each epoch

    @property
    def best_val(self):
        return max(self.val_acc) if self.val_acc else float("nan")

    @property
    def final_val(self):
        return self.val_acc[-1] if self.val_acc else float("nan")


def fit(train_one_epoch, model, optimizer, data=None, epochs=10, scheduler=None, clip=None,
        batch_size=64, seed=0, on_epoch=None):
    """Train ``model`` for ``epochs`` with *your* ``train_one_epoch``, one call per epoch
    on the training split (reshuffled each epoch, the order fixed by ``seed``), and
    measure validation accuracy after each. ``on_epoch(epoch, history)`` is called after
    each epoch (a plot, a progress bar). Returns the History."""
    data = data or split()
    dtype = next(model.parameters()).dtype
    train = loader(data.X_train, data.y_train, batch_size, seed=seed, dtype=dtype)
    hist = History()
    for epoch in range(epochs):
        kwargs = {}
        if scheduler is not None:
            kwargs["scheduler"] = scheduler
        if clip is not None:
            kwargs["clip"] = clip
        hist.train_loss.append(float(train_one_epoch(model, train, optimizer, **kwargs)))
        hist.val_acc.append(accuracy(model, data.X_val, data.y_val))
        hist.lr.append(float(optimizer.param_groups[0]["lr"]))
        if on_epoch is not None:
            on_epoch(epoch, hist)
    return hist


# ------------------------------------------------------------------ recipes and sweeps

SCHEDULES = ("constant", "step", "cosine", "warmup_cosine", "onecycle")
# their names in notebook 03's figures (descentlab.schedules_plot: one colour and marker each)
SCHEDULE_LABELS = {"constant": "constant", "step": "step decay", "cosine": "cosine annealing",
                   "warmup_cosine": "warmup + cosine", "onecycle": "one-cycle"}
OPTIMIZERS = ("sgd", "adam", "adamw")


@dataclass(frozen=True)
class Recipe:
    """Everything a training run depends on except its seed.

    model: "mlp", "mlp-bn" (BatchNorm after each hidden layer), "mlp-drop" (Dropout 0.5
    after each hidden layer) or "cnn".
    optimizer: "sgd" (torch.optim.SGD, momentum 0.9; weight decay added to the gradient),
    "adam" (torch.optim.Adam; weight decay added to the gradient, "L2") or "adamw"
    (torch.optim.AdamW; decoupled decay). schedule: one of SCHEDULES, stepped per batch.
    """
    model: str = "mlp"
    optimizer: str = "adamw"
    lr: float = 3e-3
    weight_decay: float = 0.0
    schedule: str = "constant"
    epochs: int = 8
    batch_size: int = 64
    clip: float | None = None
    warmup: float = 0.1          # warmup_cosine: the fraction of the steps spent warming up

    def replace(self, **changes):
        import dataclasses
        return dataclasses.replace(self, **changes)


def make_model(name, seed, dtype=None):
    if name == "mlp":
        return mlp(seed, dtype=dtype)
    if name == "mlp-bn":
        return mlp(seed, norm="batch", dtype=dtype)
    if name == "mlp-drop":
        return mlp(seed, dropout=0.5, dtype=dtype)
    if name == "cnn":
        return cnn(seed, dtype=dtype)
    raise ValueError(f"unknown model {name!r}: mlp, mlp-bn, mlp-drop or cnn")


def make_optimizer(name, params, lr, weight_decay=0.0):
    """torch's optimizer ``name``, in its fused form (``fused=True``: the same algorithm in
    one kernel per step; for these small models four times faster than the default)."""
    torch = _torch()
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=weight_decay, fused=True)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=weight_decay, fused=True)
    if name == "adamw":
        return torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay, fused=True)
    raise ValueError(f"unknown optimizer {name!r}: {', '.join(OPTIMIZERS)}")


def make_schedule(name, optimizer, total_steps, warmup=0.1):
    """A scheduler to be stepped once per batch, for a run of ``total_steps`` updates
    (None for a constant lr). step: lr / 10 after half the updates and again after
    three quarters; warmup_cosine: notebook 03's, lr0 (t + 1) / w for the first w updates,
    then a cosine to zero."""
    import math
    torch = _torch()
    S = torch.optim.lr_scheduler
    if name == "constant":
        return None
    if name == "step":
        return S.MultiStepLR(optimizer, milestones=[total_steps // 2, (3 * total_steps) // 4], gamma=0.1)
    if name == "cosine":
        return S.CosineAnnealingLR(optimizer, T_max=total_steps)
    if name == "warmup_cosine":
        w = max(1, round(warmup * total_steps))

        def factor(t):
            if t < w:
                return (t + 1) / w
            return 0.5 * (1 + math.cos(math.pi * min(t - w, total_steps - w) / (total_steps - w)))
        return S.LambdaLR(optimizer, factor)
    if name == "onecycle":
        lr = optimizer.param_groups[0]["lr"]
        return S.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps)
    raise ValueError(f"unknown schedule {name!r}: {', '.join(SCHEDULES)}")


def build(recipe, seed, data=None, params=None):
    """(model, optimizer, scheduler) for ``recipe`` with the model initialised from
    ``seed``. ``params(model)`` chooses what the optimizer gets (param groups, say)."""
    data = data or split()
    model = make_model(recipe.model, seed)
    opt = make_optimizer(recipe.optimizer, params(model) if params else model.parameters(),
                         recipe.lr, recipe.weight_decay)
    total = recipe.epochs * steps_per_epoch(len(data.y_train), recipe.batch_size)
    return model, opt, make_schedule(recipe.schedule, opt, total, recipe.warmup)


_RUNS = {}


def train(train_one_epoch, recipe, seed=0, data=None):
    """Train ``recipe`` from ``seed`` with *your* train_one_epoch; the History. Runs are
    remembered (per train_one_epoch, recipe and seed), so that asking again is free."""
    key = (id(train_one_epoch), recipe, seed, id(data))
    if key not in _RUNS:
        torch = _torch()
        torch.manual_seed(seed)    # dropout's masks: the run is repeatable
        model, opt, sched = build(recipe, seed, data)
        _RUNS[key] = fit(train_one_epoch, model, opt, data, recipe.epochs, scheduler=sched, clip=recipe.clip,
                         batch_size=recipe.batch_size, seed=seed)
        _RUNS[key].model = model
    return _RUNS[key]


def sweep(train_one_epoch, recipes, seeds=(0, 1, 2), data=None, desc=None):
    """{recipe: [History per seed]} for every recipe, with a progress bar."""
    from tqdm.auto import tqdm
    recipes = list(recipes)
    todo = [(r, s) for r in recipes for s in seeds]
    fresh = sum((id(train_one_epoch), r, s, id(data)) not in _RUNS for r, s in todo)
    bar = tqdm(total=len(todo), desc=desc or "training", disable=fresh < 8, leave=False)
    out = {}
    for r, s in todo:
        out.setdefault(r, []).append(train(train_one_epoch, r, s, data))
        bar.update()
    bar.close()
    return out


def mean_spread(histories, what="final_val"):
    """(mean, min, max) over seeds of a History attribute (its name) or of what(history)."""
    values = np.array([what(h) if callable(what) else getattr(h, what) for h in histories], dtype=float)
    return float(values.mean()), float(values.min()), float(values.max())
