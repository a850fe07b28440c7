"""Notebook 07's race on notebook 06's real network: the digits MLP trained by each
optimizer, every one tuned on the same budget, with seeds.

    result = modern_race.race(dict(nadam_step=nadam_step, radam_step=radam_step,
                                   lion_step=lion_step, muon_step=muon_step))
    modern_race.show(result)
    result.best("Lion")          # (lr, mean, min, max) of its best learning rate

NAdam, RAdam, Lion and Muon are *your* step functions, applied to the network by
``StepOptimizer``. SGD with momentum 0.9, Adam and AdamW are torch.optim's (fused, as in
06; Adam is graded in notebook 05, and this toolkit holds no copy of it), schedule-free
AdamW the ``schedulefree`` package's.

The same budget for everyone: the same epochs, batches (the same order for a given
seed), the same initial weights for a given seed, a grid of ``grid_size`` learning rates
spaced by ``spacing`` and centred on each method's usual region (SGD's step is not
normalised, Lion's sign has size 1 per coordinate, Muon's update has spectral norm ~1),
a cosine schedule to zero stepped per batch (schedule-free AdamW: none, that is its
point), no weight decay except for the two AdamWs. Every method is scored by its final
validation accuracy (06's split; the test split is never looked at), at its own best
learning rate. Muon takes the hidden weight matrices; the biases and the output layer go
to torch's Adam at ``MUON_AUX_RATIO`` times Muon's learning rate.

Schedule-free AdamW trains at one point (y) and is meant to be evaluated at another (x,
the average), swapped in by ``optimizer.eval()``; each of its runs is scored both ways
(``result.no_swap``): forgetting the swap costs accuracy without any error message.

Runs are remembered (per step functions, method, learning rate, seed and budget), so
asking again is free.
"""
import contextlib
import math
import time
from dataclasses import dataclass, field

import numpy as np

from descentlab import digits
from descentlab.colors import marker, style
from descentlab.display import show_figure
from descentlab.step_optimizer import StepOptimizer, split_for_muon

SGD, ADAM, ADAMW, NADAM, RADAM, LION, MUON, SF = ("SGD + momentum", "Adam", "AdamW", "NAdam", "RAdam", "Lion",
                                                  "Muon", "schedule-free AdamW")
METHODS = (SGD, ADAM, ADAMW, NADAM, RADAM, LION, MUON, SF)
# The centre of each grid: the middle of the region where the method does well on this
# network, found by a wider scan (9 lrs a factor 2 apart, seeds 1-3, 6 and 18 epochs), so
# that the best lr of each lies inside its grid for both budgets. RAdam's rectification
# scales its steps by ~0.2 over the first hundreds of updates (rho_t ~ t while t << 1000),
# hence its lr an order of magnitude above Adam's.
CENTRES = {SGD: 0.15, ADAM: 0.03, ADAMW: 0.03, NADAM: 0.03, RADAM: 0.3, LION: 7.5e-3, MUON: 0.05, SF: 0.03}
# the student's functions each method needs
NEEDS = {NADAM: ("nadam_step",), RADAM: ("radam_step",), LION: ("lion_step",), MUON: ("muon_step",)}
WEIGHT_DECAY = 1e-2           # AdamW and schedule-free AdamW (torch's AdamW default)
MUON_AUX_RATIO = 0.1          # Adam's lr for Muon's biases and output layer, relative to Muon's lr
# the figure's colour and marker: 06 draws SGD with momentum 0.9 as "momentum" (descentlab.grid_plot)
LOOKS = {SGD: "momentum"}
STATES = {"nadam_step": (("m", "v", ("mu_product", 1.0)), True),
          "radam_step": (("m", "v"), True), "lion_step": (("m",), False), "muon_step": (("buf",), False)}


def grid(method, size=5, spacing=2.0, scale=1.0):
    """``size`` learning rates ``spacing`` apart, centred on the method's centre times ``scale``."""
    c = CENTRES[method] * scale
    return [float(c * spacing ** (k - (size - 1) / 2)) for k in range(size)]


def _student(steps, name, **hyper):
    state, takes_t = STATES[name]
    return dict(step=steps[name], state=state, takes_t=takes_t, **hyper)


def make_optimizer(method, model, lr, steps):
    """The optimizer of ``method`` for ``model`` at learning rate ``lr``."""
    import torch
    if method == SGD:
        return torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, fused=True)
    if method == ADAM:
        return torch.optim.Adam(model.parameters(), lr=lr, fused=True)
    if method == ADAMW:
        return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY, fused=True)
    if method == SF:
        import schedulefree
        return schedulefree.AdamWScheduleFree(model.parameters(), lr=lr, weight_decay=WEIGHT_DECAY)
    if method == MUON:
        hidden, rest = split_for_muon(model)
        # weight_decay=0: the graded muon_step's default is torch's 0.1, and only the AdamWs decay here
        muon = StepOptimizer(hidden, **_student(steps, "muon_step", lr=lr, weight_decay=0.0))
        return Both(muon, torch.optim.Adam(rest, lr=lr * MUON_AUX_RATIO, fused=True))
    name = NEEDS[method][0]
    return StepOptimizer(model.parameters(), **_student(steps, name, lr=lr))


def Both(first, second):
    """One optimizer made of two (Muon for the matrices, Adam for the rest), as torch's
    documentation trains Muon: one step() steps both, and an lr scheduler sees the groups
    of both (the same group dictionaries, so changing an lr reaches the optimizer that
    owns it)."""
    import torch

    class _Both(torch.optim.Optimizer):
        def __init__(self):
            super().__init__([p for o in (first, second) for g in o.param_groups for p in g["params"]], {})
            self.param_groups = first.param_groups + second.param_groups

        def step(self, closure=None):
            first.step()
            second.step()

        def zero_grad(self, set_to_none=True):
            first.zero_grad(set_to_none)
            second.zero_grad(set_to_none)

    return _Both()


@dataclass
class Run:
    val: float                  # final validation accuracy (schedule-free: after optimizer.eval())
    seconds: float
    no_swap: float = math.nan   # schedule-free only: scored at its training point, without the swap
    losses: list = field(default_factory=list)   # mean training loss per epoch


_RUNS = {}


def _key(method, lr, seed, steps, epochs, hidden, batch_size, data):
    return (method, lr, seed, epochs, hidden, batch_size, id(data), tuple(id(steps[n]) for n in NEEDS.get(method, ())))


def train(method, lr, seed, steps, epochs=6, hidden=64, batch_size=64, data=None):
    """One run of ``method`` (remembered): the MLP from ``seed``, batches in ``seed``'s order."""
    import torch
    key = _key(method, lr, seed, steps, epochs, hidden, batch_size, data)
    if key in _RUNS:
        return _RUNS[key]
    data = data or digits.split()
    start = time.perf_counter()
    model = digits.mlp(seed, hidden=hidden)
    batches = digits.loader(data.X_train, data.y_train, batch_size, seed=seed)
    opt = make_optimizer(method, model, lr, steps)
    total = epochs * len(batches)
    sched = None if method == SF else torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    if method == SF:
        opt.train()
    losses = []
    model.train()
    for _ in range(epochs):
        summed = 0.0
        for xb, yb in batches:
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
            if sched is not None:
                sched.step()
            summed += loss.item()
        losses.append(summed / len(batches))
    no_swap = math.nan
    if method == SF:
        no_swap = digits.accuracy(model, data.X_val, data.y_val)
        opt.eval()
    run = Run(digits.accuracy(model, data.X_val, data.y_val), time.perf_counter() - start, no_swap, losses)
    _RUNS[key] = run
    return run


@dataclass
class RaceResult:
    grids: dict          # method -> [lr, ...]
    acc: dict            # method -> array (len(grid), len(seeds)) of final validation accuracy
    seconds: dict        # method -> seconds of training, all its runs (0 for runs remembered)
    no_swap: np.ndarray  # schedule-free AdamW scored without optimizer.eval(), like acc[SF]
    seeds: tuple
    epochs: int

    def best_index(self, method):
        return int(np.argmax(self.acc[method].mean(axis=1)))

    def best(self, method):
        """(lr, mean, min, max) over seeds at the method's best learning rate (best mean)."""
        k = self.best_index(method)
        a = self.acc[method][k]
        return self.grids[method][k], float(a.mean()), float(a.min()), float(a.max())

    def best_inside(self, method):
        """True when the best learning rate is not at either end of the grid."""
        return 0 < self.best_index(method) < len(self.grids[method]) - 1

    def at_best(self, method):
        """The per-seed accuracies at the method's best learning rate."""
        return self.acc[method][self.best_index(method)]

    def table(self):
        lines = [f"{'method':20s} {'best lr':>8s}  {'mean':>6s} [min, max] over seeds   seconds"]
        for m in self.acc:
            lr, mean, lo, hi = self.best(m)
            lines.append(f"{m:20s} {lr:8.2g}  {mean:.3f} [{lo:.3f}, {hi:.3f}]"
                         f"{'' if self.best_inside(m) else ' (at the grid edge)'}   {self.seconds[m]:.2f}")
        if SF in self.acc:
            k = self.best_index(SF)
            lines.append(f"{'  without eval()':20s} {self.grids[SF][k]:8.2g}  {self.no_swap[k].mean():.3f} "
                         f"[{self.no_swap[k].min():.3f}, {self.no_swap[k].max():.3f}]")
        return "\n".join(lines)


@contextlib.contextmanager
def one_thread():
    """torch on one thread: for tensors this small a second thread saves nothing, on a busy
    machine its waiting threads slow every step many times over, and the numbers are then
    the same on every machine (a reduction split over threads rounds differently)."""
    import torch
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def race(steps, seeds=(1, 2, 3), epochs=6, methods=METHODS, grid_size=5, spacing=2.0, lr_scale=1.0,
         hidden=64, batch_size=64, data=None, desc="race"):
    """Train every method at each learning rate of its grid from each seed; a RaceResult.

    ``steps`` maps the names of your functions ("nadam_step", "radam_step",
    "lion_step", "muon_step") to them; the methods that need one you do not pass are left out
    only if you leave them out of ``methods`` (otherwise a KeyError names what is missing).
    """
    from tqdm.auto import tqdm
    missing = sorted({n for m in methods for n in NEEDS.get(m, ()) if n not in steps})
    if missing:
        raise KeyError(f"the race needs your {', '.join(missing)}: pass them in steps, or leave out the "
                       f"methods that use them")
    unknown = [m for m in methods if m not in CENTRES]
    if unknown:
        raise ValueError(f"unknown methods {unknown}: choose from {list(METHODS)}")
    grids = {m: grid(m, grid_size, spacing, lr_scale) for m in methods}
    todo = [(m, lr, s) for m in methods for lr in grids[m] for s in seeds]
    options = dict(epochs=epochs, hidden=hidden, batch_size=batch_size, data=data)
    acc = {m: np.zeros((grid_size, len(seeds))) for m in methods}
    no_swap = np.full((grid_size, len(seeds)), np.nan)
    seconds = dict.fromkeys(methods, 0.0)
    with tqdm(total=len(todo), desc=desc, leave=False) as bar, one_thread():
        for m in methods:
            for i, lr in enumerate(grids[m]):
                for j, s in enumerate(seeds):
                    fresh = _key(m, lr, s, steps, **options) not in _RUNS
                    run = train(m, lr, s, steps, **options)
                    seconds[m] += run.seconds if fresh else 0.0
                    acc[m][i, j] = run.val
                    if m == SF:
                        no_swap[i, j] = run.no_swap
                    bar.update()
    return RaceResult(grids, acc, seconds, no_swap, tuple(seeds), epochs)


def race_figure(result, figsize=(9.0, 3.6), ylim=(0.8, 1.0)):
    """Left: validation accuracy against learning rate, one line per method (mean over
    seeds, bars from the worst seed to the best). Right: each method at its own best lr,
    one dot per seed; schedule-free AdamW also without its eval() swap (open dots)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize, layout="constrained")
    ax_lr, ax_best = fig.subplots(1, 2, width_ratios=[1.4, 1])
    names = list(result.acc)
    for m in names:
        a, lrs = result.acc[m], result.grids[m]
        mean = a.mean(axis=1)
        look = LOOKS.get(m, m)
        ax_lr.errorbar(lrs, mean, yerr=[mean - a.min(axis=1), a.max(axis=1) - mean], capsize=2.5, lw=1.4,
                       marker=marker(look), ms=4, label=m, **style(look))
    if SF in result.acc:
        nos = result.no_swap
        ax_lr.plot(result.grids[SF], nos.mean(axis=1), color=style(SF)["color"], ls=":", lw=1.2,
                   marker="o", mfc="none", ms=4, label=f"{SF}, no eval()")
    ax_lr.set(xscale="log", xlabel="learning rate (peak of the cosine; schedule-free: constant)",
              ylabel=f"validation accuracy after {result.epochs} epochs", ylim=ylim)
    ax_lr.legend(fontsize=6.5, ncol=2, loc="lower center")
    ax_lr.grid(True, alpha=0.3)
    rows = names + ([f"{SF}, no eval()"] if SF in result.acc else [])
    for y, m in enumerate(rows):
        if m in result.acc:
            vals, color, filled = result.at_best(m), style(LOOKS.get(m, m))["color"], True
        else:
            vals, color, filled = result.no_swap[result.best_index(SF)], style(SF)["color"], False
        ax_best.plot(vals, np.full(len(vals), y), ls="none", marker=marker(LOOKS.get(m, m)) if filled else "o", ms=5,
                     color=color, mfc=color if filled else "none")
        ax_best.plot([vals.mean()], [y], marker="|", ms=12, color=color)
    ax_best.set_yticks(range(len(rows)), rows, fontsize=7)
    ax_best.invert_yaxis()
    ax_best.set_xlabel("validation accuracy at each method's best lr\n(one dot per seed, | the mean)")
    ax_best.grid(True, axis="x", alpha=0.3)
    for ax in (ax_lr, ax_best):
        ax.title.set_fontsize(9)
    fig.suptitle(f"{len(names)} methods, {len(next(iter(result.grids.values())))} learning rates each, "
                 f"seeds {', '.join(map(str, result.seeds))}", fontsize=10)
    return fig


def show(result, **kwargs):
    """Display :func:`race_figure` in a notebook (return it elsewhere)."""
    fig = race_figure(result, **kwargs)
    return show_figure(fig)
