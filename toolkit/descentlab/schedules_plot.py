"""Learning-rate schedules, seen and played with: the rate against the step, and what
it does to the loss of SGD on a noisy problem, beside a constant rate.

- :func:`schedules_figure` / :func:`show_schedules`: a static figure, the rates of
  several schedules on the left and their mean loss on the right, each with the noise
  floor of its current rate dotted.
- :class:`ScheduleExplorer` (build it with :func:`explore_schedules`): the same two
  panels for one schedule, chosen from a dropdown, beside the constant rate lr0;
  sliders for lr0, the schedule's own parameters and the noise level. Moving a slider
  reruns SGD and updates the figure in place.
"""
import numpy as np
from matplotlib.figure import Figure

from descentlab.display import show_figure
from descentlab.live import LiveFigure, fmt, loss_limits, make_slider, steady_ceiling
from descentlab.schedules_problems import NoisyQuadratic, schedule_values

# One colour per schedule (Okabe-Ito, safe for colour-blind readers); the constant
# rate is always dark grey.
SCHEDULE_COLORS = {
    "constant": "#555555",
    "step decay": "#0072B2",
    "exponential decay": "#009E73",
    "cosine annealing": "#CC79A7",
    "warmup + cosine": "#D55E00",
    "warm restarts": "#E69F00",
    "one-cycle": "#882255",
}
_SPARE = ["#56B4E9", "#882255", "#44AA99", "#332288"]
# ... and one marker, so that the curves stay apart in greyscale too.
SCHEDULE_MARKERS = {"constant": "", "step decay": "o", "exponential decay": "s", "cosine annealing": "^",
                    "warmup + cosine": "D", "warm restarts": "v", "one-cycle": "P"}
LOSS_FLOOR = 1e-12  # the loss panels are logarithmic


def schedule_color(label):
    """The colour of a schedule; labels that start with a known one share its colour."""
    for key, color in SCHEDULE_COLORS.items():
        if label == key or label.startswith(key + " ") or label.startswith(key + ","):
            return color
    return _SPARE[sum(map(ord, label)) % len(_SPARE)]


def schedule_marker(label):
    """The marker of a schedule (none for the constant rate, which is dashed instead)."""
    for key, marker in SCHEDULE_MARKERS.items():
        if label == key or label.startswith(key + " ") or label.startswith(key + ","):
            return marker
    return "x"


def _positive(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(a), np.maximum(a, LOSS_FLOOR), np.nan)


def _floor_curve(problem, lrs):
    return np.array([problem.noise_floor(lr) if lr >= 0 else np.nan for lr in lrs], dtype=float)


def _final_text(run):
    """What a legend says about a run: its final mean loss, or that it blew up."""
    final = run.final_loss
    if not np.isfinite(final):
        return "diverged"
    if final > 1e3 * max(float(run.mean_loss[0]), LOSS_FLOOR):
        return f"diverging ({final:.1e})"
    return f"final {final:.2e}"


def schedules_figure(problem, runs, title=None, figsize=(10, 3.8), floors=True, colors=None):
    """Left: the learning rate of each run against the step. Right: its loss f(x) - f*
    averaged over the runs (log scale), with the noise floor of its current rate dotted.

    problem: the :class:`NoisyQuadratic` the runs come from.
    runs: {label: NoisyRun} (from ``problem.sgd``).
    colors: {label: colour} for labels that should not take their schedule's colour
        (several constant rates in one figure, say).
    """
    fig = Figure(figsize=figsize, layout="constrained")
    ax_lr, ax_loss = fig.subplots(1, 2)
    used = set()
    for label, run in runs.items():
        color = (colors or {}).get(label) or schedule_color(label)
        ls = "--" if label.startswith("constant") else "-"
        marker = schedule_marker(label)
        if (ls, marker) in used:   # two runs of one kind (two constant rates, say): tell them apart in grey too
            marker = next(m for m in ("o", "s", "^", "D", "v", "x", "+") if (ls, m) not in used)
        used.add((ls, marker))
        marks = dict(marker=marker, markersize=4, markevery=max(1, len(run.lrs) // 8))
        ax_lr.plot(np.arange(len(run.lrs)), run.lrs, color=color, ls=ls, lw=1.8, label=label, **marks)
        ax_loss.semilogy(_positive(run.mean_loss), color=color, ls=ls, lw=1.5, label=f"{label}: {_final_text(run)}",
                         **marks)
        if floors:
            ax_loss.semilogy(np.arange(1, len(run.lrs) + 1), _positive(_floor_curve(problem, run.lrs)),
                             color=color, ls=":", lw=1.2)
    ax_lr.set_xlabel("step")
    ax_lr.set_ylabel("learning rate")
    ax_lr.set_ylim(bottom=0)
    ax_lr.legend(fontsize=8, loc="best")
    ax_lr.grid(True, alpha=0.3)
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel(f"f(x) - f*, mean of {next(iter(runs.values())).runs} runs" if runs else "f(x) - f*")
    if floors:
        ax_loss.plot([], [], color="0.35", ls=":", lw=1.2, label="noise floor of the current rate")
    ax_loss.legend(fontsize=8, loc="best")
    ax_loss.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def show_schedules(problem, runs, title=None, figsize=(10, 3.8), floors=True, colors=None):
    """Display :func:`schedules_figure` in a notebook (return it elsewhere)."""
    fig = schedules_figure(problem, runs, title, figsize, floors, colors)
    return show_figure(fig)


class Schedule:
    """One schedule in the explorer: a label, a function ``fn(step, lr0, ...)``, and the
    sliders that feed its other arguments: a list of names (argument = slider) or a
    dict {argument: slider}. ``fixed`` arguments are passed as they are."""

    def __init__(self, label, fn, uses=(), **fixed):
        self.label, self.fn = label, fn
        self.uses = {u: u for u in uses} if isinstance(uses, (list, tuple)) else dict(uses)
        self.fixed = fixed

    def hyper(self, values):
        return {**self.fixed, **{arg: values[slider] for arg, slider in self.uses.items()}}

    def lrs(self, values, steps):
        return schedule_values(self.fn, steps, lr0=values["lr0"], **self.hyper(values))


class ScheduleExplorer(LiveFigure):
    """lr against step and loss against step for the schedule chosen in a dropdown,
    beside the constant rate lr0, on a noisy quadratic. Build with :func:`explore_schedules`."""

    figsize = (8.0, 3.6)   # the width every explorer fits (live.LiveFigure)

    def __init__(self, problem, schedules, sliders, steps=300, x0=(-1.8, 1.5), runs=100, seed=0,
                 title=None):
        import ipywidgets as W
        if not isinstance(problem, NoisyQuadratic):
            raise TypeError("problem must be a NoisyQuadratic")
        self.problem, self.steps, self.runs, self.seed = problem, int(steps), int(runs), seed
        self.x0 = np.asarray(x0, dtype=float)
        self.schedules = {s.label: s for s in schedules}
        if not self.schedules:
            raise ValueError("give at least one Schedule")
        controls = {name: spec if isinstance(spec, W.ValueWidget) else make_slider(name, spec)
                    for name, spec in sliders.items()}
        for needed in ("lr0", "noise"):
            if needed not in controls:
                raise ValueError(f"sliders must include {needed!r}")
        for s in schedules:
            missing = set(s.uses.values()) - set(controls)
            if missing:
                raise ValueError(f"schedule {s.label!r} uses sliders that are not given: {sorted(missing)}")
        dropdown = W.Dropdown(options=list(self.schedules), value=schedules[0].label, description="schedule")
        self.results = {}
        super().__init__({"schedule": dropdown, **controls}, title=title)
        dropdown.observe(self._show_relevant, names="value")
        self._show_relevant()

    # -- which controls matter for the chosen schedule
    def relevant(self, values=None):
        values = self.values if values is None else values
        uses = self.schedules[values["schedule"]].uses
        return ["schedule", "lr0", *[s for s in uses.values() if s not in ("lr0", "noise")], "noise"]

    def _show_relevant(self, _change=None):
        keep = set(self.relevant())
        for name, widget in self.sliders.items():
            widget.layout.display = "" if name in keep else "none"

    def settings_text(self, values=None):
        """The settings of the chosen schedule, under its own argument names."""
        values = self.values if values is None else values
        sched = self.schedules[values["schedule"]]
        parts = [values["schedule"], f"lr0={fmt(values['lr0'])}"]
        parts += [f"{arg}={fmt(v)}" for arg, v in sched.hyper(values).items()]
        parts.append(f"noise={fmt(values['noise'])}")
        return ", ".join(parts)

    # -- the figure
    def setup(self, figure):
        self.ax_lr, self.ax_loss = figure.subplots(1, 2)
        const = SCHEDULE_COLORS["constant"]
        self._lr_line, = self.ax_lr.plot([], [], lw=1.8)
        self._lr_const, = self.ax_lr.plot([], [], color=const, ls="--", lw=1.5)
        self._loss_line, = self.ax_loss.semilogy([], [], lw=1.5)
        self._loss_const, = self.ax_loss.semilogy([], [], color=const, ls="--", lw=1.5)
        self._floor_line, = self.ax_loss.semilogy([], [], lw=1.1, ls=":")
        self._floor_const, = self.ax_loss.semilogy([], [], color=const, lw=1.1, ls=":")
        self.ax_lr.set_xlabel("step")
        self.ax_lr.set_ylabel("learning rate")
        self.ax_lr.grid(True, alpha=0.3)
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel(f"f(x) - f*, mean of {self.runs} runs")
        self.ax_loss.grid(True, alpha=0.3)
        self.ax_loss.plot([], [], color="0.35", ls=":", lw=1.1, label="noise floor of the current rate")

    def draw(self, values):
        label = values["schedule"]
        problem = self.problem.with_noise(values["noise"])
        lr0, n = float(values["lr0"]), self.steps
        steps = np.arange(n)
        color = schedule_color(label)
        for line in (self._lr_line, self._loss_line, self._floor_line):
            line.set_color(color)
        const = problem.sgd(np.full(n, lr0), self.x0, self.runs, self.seed)
        self.results = {"constant": const}
        self._lr_const.set_data(steps, const.lrs)
        self._lr_const.set_label(f"constant lr0 = {lr0:.3g}")
        self._loss_const.set_data(np.arange(n + 1), _positive(const.mean_loss))
        self._loss_const.set_label(f"constant: {_final_text(const)}")
        self._floor_const.set_data([1, n], _positive([problem.noise_floor(lr0)] * 2))
        try:
            lrs = self.schedules[label].lrs(values, n)
        except NotImplementedError:
            lrs = None
        curves = [const.mean_loss]
        if lrs is None:
            for line in (self._lr_line, self._loss_line, self._floor_line):
                line.set_data([], [])
            self._lr_line.set_label(f"{label}: not implemented yet")
            self._loss_line.set_label(f"{label}: not implemented yet")
        else:
            run = problem.sgd(lrs, self.x0, self.runs, self.seed)
            self.results[label] = run
            self._lr_line.set_data(steps, lrs)
            self._lr_line.set_label(label)
            self._loss_line.set_data(np.arange(n + 1), _positive(run.mean_loss))
            self._loss_line.set_label(f"{label}: {_final_text(run)}")
            self._floor_line.set_data(steps + 1, _positive(_floor_curve(problem, lrs)))
            curves.append(run.mean_loss)
        top = max([lr0] + ([float(np.nanmax(lrs))] if lrs is not None and len(lrs) else []))
        self.ax_lr.set_xlim(0, n)
        # limits that change in steps, not with every frame (live.py)
        self.ax_lr.set_ylim(0, steady_ceiling(self.ax_lr.get_ylim()[1], 1.08 * top) if top > 0 else 1.0)
        self.ax_loss.set_xlim(0, n)
        finite = np.concatenate([c[np.isfinite(c) & (c > 0)] for c in curves])
        if finite.size:
            lo, hi = loss_limits(self.ax_loss.get_ylim(), finite.min(), finite.max(),
                                 const.mean_loss[0], LOSS_FLOOR)
            self.ax_loss.set_ylim(max(lo, LOSS_FLOOR), hi)
        self.legend(self.ax_lr, fontsize=8, loc="best")
        self.legend(self.ax_loss, fontsize=8, loc="best")


def explore_schedules(problem, schedules, sliders, steps=300, x0=(-1.8, 1.5), runs=100, seed=0, title=None):
    """Interactive schedule explorer.

    problem: a :class:`NoisyQuadratic` (the "noise" slider replaces its noise level).
    schedules: list of :class:`Schedule`; a dropdown chooses which one is shown.
    sliders: {name: (lo, hi, value)}, {name: ("log", lo, hi, value)}, ("int", ...), or a
        ready-made widget; must include "lr0" and "noise", plus every slider the
        schedules use.
    Each redraw runs ``runs`` SGD runs of ``steps`` updates from ``x0`` (same noise
    draws for the schedule and the constant rate).
    """
    return ScheduleExplorer(problem, schedules, sliders, steps=steps, x0=x0, runs=runs, seed=seed, title=title)
