"""Pictures of optimizer paths: static (``show_paths``) and interactive (``explore``).

``explore`` builds the figure once and, when a slider moves (or a click on the
landscape moves the start point), recomputes the paths and updates the existing
artists on an ipympl canvas: the cell is not re-run. Executed headless (nbclient,
nbgrader) the same call leaves a static PNG in the cell's outputs, because the
canvas's display bundle carries one.
"""
import math

import numpy as np
from matplotlib.figure import Figure

from descentlab.colors import marker, style
from descentlab.display import show_figure
from descentlab.live import LiveFigure, fmt, loss_limits, make_slider
from descentlab.runner import run

GRID = 160
GAP_FLOOR = 1e-16  # the loss panel shows f(x) - f*, floored to stay on a log axis
GAP_LABEL = "f(x) - f*  (drawn at 1e-16 when below)"   # the floor is stated on the figure
ALONG = 8          # points per step when a 1-D path is drawn along the curve
LOSS_MARKS = dict(ms=4)   # a marker on every tenth of a loss curve: the style survives greyscale


def _every(n_points):
    return max(1, n_points // 10)


def _landscape_image(ax, land):
    """Draw the landscape (contours, or the curve in 1-D) and its minima; return the artists."""
    (x_lo, x_hi) = land.bounds[0]
    if land.dim == 1:
        xs = np.linspace(x_lo, x_hi, 400)
        artists = ax.plot(xs, land.f(xs[:, None]), color="0.55", lw=1.5, zorder=1)
        for i, m in enumerate(land.minima):
            artists += ax.plot(m[0], land.value(m), marker="*", ms=13, color="0.2", zorder=4, ls="none",
                               mfc="0.2" if i == 0 else "white")
        ax.set_xlim(x_lo, x_hi)
        ax.set_xlabel("x")
        ax.set_ylabel("f(x)")
        return artists
    (y_lo, y_hi) = land.bounds[1]
    X, Y = np.meshgrid(np.linspace(x_lo, x_hi, GRID), np.linspace(y_lo, y_hi, GRID))
    Z = land.f(np.stack([X, Y], axis=-1)) - land.f_min
    # log-spaced levels show both the steep walls and the flat floor
    levels = np.geomspace(max(Z.min(), 1e-3), Z.max(), 18)
    artists = [ax.contour(X, Y, Z, levels=levels, colors="0.75", linewidths=0.8, zorder=1)]
    for i, m in enumerate(land.minima):
        artists += ax.plot(*m, marker="*", ms=13, color="0.2", zorder=4, ls="none",
                           mfc="0.2" if i == 0 or land.f(np.asarray(m)) <= land.f_min + 1e-9 else "white")
    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_xlabel("x[0]")
    ax.set_ylabel("x[1]")
    ax.set_aspect("equal", adjustable="box")
    return artists


def _xy(land, traj):
    """The path as drawn: in 2-D its points; in 1-D each step follows the curve from x_t
    to x_t+1 (ALONG points per step, the iterates at every ALONG-th), since a straight
    chord from one point of the curve to the next would cut across it."""
    xs = traj.xs
    if land.dim == 1:
        x = xs[:, 0]
        if len(x) < 2:
            return x, traj.losses
        frac = np.arange(ALONG) / ALONG
        with np.errstate(over="ignore", invalid="ignore"):
            seg = (x[:-1, None] + (x[1:] - x[:-1])[:, None] * frac).ravel()
            seg = np.append(seg, x[-1])
            y = np.asarray(land.f(seg[:, None]), dtype=float)
        return seg, y
    return xs[:, 0], xs[:, 1]


def _path_marks(land):
    return {"markevery": ALONG} if land.dim == 1 else {}


def _gap(land, traj):
    with np.errstate(invalid="ignore"):
        gap = traj.losses - land.f_min
    return np.where(np.isfinite(gap), np.maximum(gap, GAP_FLOOR), np.nan)


_VARIANTS = [("-", "."), ("--", "x"), (":", "^"), ("-.", "s")]


def _styles(names):
    """Each optimizer's own style; a second run of the same optimizer keeps its colour
    and gets another line style and marker, so the two stay apart."""
    seen, out = {}, {}
    for name in names:
        st = style(name)
        k = seen.get(st["color"], 0)
        seen[st["color"]] = k + 1
        if k:
            variants = [v for v in _VARIANTS if v[0] != st["linestyle"]]
            ls, mark = variants[(k - 1) % len(variants)]
            st.update(linestyle=ls, marker=mark)
        out[name] = st
    return out


def paths_figure(land, trajectories, title=None, figsize=(10, 4)):
    """A figure of the paths on the landscape and of f(x) - f* against the step."""
    fig = Figure(figsize=figsize, layout="constrained")
    ax_path, ax_loss = fig.subplots(1, 2, width_ratios=[1.1, 1])
    _landscape_image(ax_path, land)
    styles = _styles(trajectories)
    for name, traj in trajectories.items():
        x, y = _xy(land, traj)
        st = {"marker": ".", **styles[name]}
        ax_path.plot(x, y, ms=3, lw=1.3, label=name, zorder=3, **_path_marks(land), **st)
        loss_st = {**st, "marker": st["marker"] if st["marker"] != "." else marker(name)}
        gap = _gap(land, traj)
        ax_loss.semilogy(gap, lw=1.5, label=name, markevery=_every(len(gap)), **LOSS_MARKS, **loss_st)
        ax_path.plot(x[:1], y[:1], marker="o", ms=7, color="0.2", mfc="white", zorder=5, ls="none")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel(GAP_LABEL)
    ax_loss.legend(loc="upper right", fontsize=8)
    ax_loss.grid(True, which="major", alpha=0.3)
    if title:
        fig.suptitle(title)
    return fig


def show_paths(land, trajectories, title=None, figsize=(10, 4)):
    """Show the paths on the landscape and f(x) - f* against the step (d2l's
    show_trace_2d, for any number of optimizers)."""
    fig = paths_figure(land, trajectories, title, figsize)
    return show_figure(fig)


class Path:
    """One optimizer in an explorer: a label, a step function, and the names of the
    sliders that feed its hyperparameters (``{"lr": "lr", "beta": "beta"}``)."""

    def __init__(self, label, step, uses, **fixed):
        self.label, self.step = label, step
        self.uses = {u: u for u in uses} if isinstance(uses, (list, tuple)) else dict(uses)
        self.fixed = fixed

    def hyper(self, values):
        return {**self.fixed, **{arg: values[slider] for arg, slider in self.uses.items()}}


class Explorer(LiveFigure):
    """Interactive trajectory plot: paths on the landscape, f(x) - f* beside it; a click
    on the landscape starts the paths there (:meth:`on_click`). Build with :func:`explore`."""

    def __init__(self, landscape, paths, sliders, steps=100, x0=None, presets=None,
                 max_steps=500, title=None):
        import ipywidgets as W
        self._landscape_arg = landscape
        self.paths = list(paths)
        self.trajectories = {}
        controls = {name: spec if isinstance(spec, W.ValueWidget) else make_slider(name, spec)
                    for name, spec in sliders.items()}
        land = self.landscape_for({k: w.value for k, w in controls.items()})
        if x0 is None:  # the upper left of the window: away from every minimum drawn here
            x0 = [0.8 * land.bounds[0][0]] + ([0.8 * land.bounds[1][1]] if land.dim > 1 else [])
        x0 = np.atleast_1d(np.asarray(x0, dtype=float))
        controls["steps"] = make_slider("steps", ("int", 1, max_steps, steps))
        for i, v in enumerate(x0):
            lo, hi = land.bounds[i]
            controls[f"start {i}"] = W.FloatSlider(
                value=float(v), min=lo, max=hi, step=(hi - lo) / 200, readout_format=".2f",
                description=f"start x[{i}]" if land.dim > 1 else "start x", continuous_update=True)
        presets = {label: (lambda ex, fn=fn: fn(ex.landscape_for(ex.values))) for label, fn in (presets or {}).items()}
        self._start_keys = [k for k in controls if k.startswith("start ")]
        # the title states the start compactly (settings_text), not as one entry per slider
        super().__init__(controls, presets=presets, title=title, hidden_settings=self._start_keys)
        self.canvas.mpl_connect("button_press_event", self.on_click)

    def landscape_for(self, values):
        land = self._landscape_arg
        return land(values) if callable(land) and not hasattr(land, "f") else land

    def settings_text(self, values=None):
        values = self.values if values is None else values
        start = ", ".join(fmt(float(values[k])) for k in self._start_keys)
        return super().settings_text(values) + (f", start=({start})" if len(self._start_keys) > 1 else
                                                f", start={start}")

    def on_click(self, event):
        """A left click on the landscape starts the paths there: the start sliders move
        to the point (on their grid, :func:`page_value`) in one update; on a 1-D curve only x counts.
        Clicks elsewhere do nothing. Returns whether the click was taken, so that a
        subclass with more axes can extend it: ``if not super().on_click(event): ...``."""
        if event.inaxes is not self.ax_path or event.button != 1 or event.xdata is None or event.ydata is None:
            return False
        point = (event.xdata, event.ydata)[:len(self._start_keys)]
        self.set(**{k: page_value(self.sliders[k], v) for k, v in zip(self._start_keys, point, strict=True)})
        return True

    def click_points(self):
        """Where a click does something, as fractions of the canvas from its top left
        (see ``LiveFigure.click_points``): on the landscape, right of and below its
        middle, away from the default start (upper left) and from a minimum at the centre."""
        box = self.ax_path.get_position()  # where the last draw put it (layout and aspect applied)
        return {"start": (box.x0 + 0.7 * box.width, 1 - (box.y0 + 0.3 * box.height))}

    def setup(self, figure):
        self.ax_path, self.ax_loss = figure.subplots(1, 2, width_ratios=[1.1, 1])
        self._draw_background(self.landscape_for(self.values))
        self._lines, self._loss_lines = {}, {}
        marks = _path_marks(self.landscape_for(self.values))
        for p in self.paths:
            st = style(p.label)
            self._lines[p.label], = self.ax_path.plot([], [], marker=".", ms=3, lw=1.3, zorder=3, **marks, **st)
            self._loss_lines[p.label], = self.ax_loss.semilogy([], [], lw=1.5, label=p.label,
                                                               marker=marker(p.label), **LOSS_MARKS, **st)
        self._start, = self.ax_path.plot([], [], marker="o", ms=7, color="0.2", mfc="white", zorder=5, ls="none")
        self.ax_loss.set_xlabel("step")
        self.ax_loss.set_ylabel(GAP_LABEL)
        self.ax_loss.grid(True, alpha=0.3)

    def _run(self, p, land, x0, steps, values):
        """``run`` of one path, or its last trajectory when nothing it depends on moved: a
        slider feeds one or two of the paths, and the others need not be run again (in 02,
        05 and 07 most of a frame's time is the torch steps of the paths that did not change)."""
        hyper = p.hyper(values)
        # a fixed landscape is itself (kept alive by the explorer); one made per move, its name
        key = (p.step, id(land) if land is self._landscape_arg else land.name, tuple(x0), steps,
               tuple(sorted(hyper.items(), key=lambda kv: kv[0])))
        try:
            hash(key)
        except TypeError:  # a hyperparameter that cannot be compared cheaply: run again
            key = None
        cache = self.__dict__.setdefault("_last_runs", {})
        kept = cache.get(p.label)
        if key is not None and kept is not None and kept[0] == key:
            return kept[1]
        traj = run(p.step, land, x0, steps, **hyper)
        cache[p.label] = (key, traj)
        return traj

    def _draw_background(self, land):
        for artist in getattr(self, "_background", []):
            artist.remove()
        self._background = _landscape_image(self.ax_path, land)
        self._background_key = land.name

    def draw(self, values):
        land = self.landscape_for(values)
        if land.name != self._background_key:
            self._draw_background(land)
        x0 = np.array([values[k] for k in values if k.startswith("start ")])
        steps = values["steps"]
        self.trajectories = {}
        gaps = []
        for p in self.paths:
            try:
                traj = self._run(p, land, x0, steps, values)
            except NotImplementedError:
                self._lines[p.label].set_data([], [])
                self._loss_lines[p.label].set_data([], [])
                self._loss_lines[p.label].set_label(f"{p.label}: not implemented yet")
                continue
            self.trajectories[p.label] = traj
            x, y = _xy(land, traj)
            self._lines[p.label].set_data(x, y)
            gap = _gap(land, traj)
            gaps.append(gap)
            self._loss_lines[p.label].set_data(np.arange(len(gap)), gap)
            self._loss_lines[p.label].set_markevery(_every(len(gap)))
            self._loss_lines[p.label].set_label(f"{p.label}: {_outcome(gap)}")
        self._start.set_data(x0[:1], [land.value(x0)] if land.dim == 1 else x0[1:2])
        finite = np.concatenate([g[np.isfinite(g)] for g in gaps]) if gaps else np.array([])
        self.ax_loss.set_xlim(0, max(steps, 1))
        if finite.size:
            self.ax_loss.set_ylim(*loss_limits(self.ax_loss.get_ylim(), finite.min(), finite.max(),
                                               gaps[0][0], GAP_FLOOR))
        self.legend(self.ax_loss, loc="upper right", fontsize=8)


def page_value(slider, value):
    """``value`` as the page's FloatSlider will hold it: within its range, on its step grid.

    ipywidgets 8 draws the slider with noUiSlider, which snaps a value set from the
    kernel to the step grid, in percent of the range, and (with continuous_update) sends
    the snapped value back whenever it differs from the kernel's, if only by a rounding
    error: one more update of the figure for each slider set (two more after a click).
    This is noUiSlider 15's arithmetic (toStepping, getStep, fromStepping for a range
    with one step size, Math.round as floor(x + 0.5)), operation for operation, so the
    value is the very double the page computes: set to it, the page sends nothing back."""
    lo, hi, step = float(slider.min), float(slider.max), float(slider.step)
    value = float(value)
    if value >= hi:
        return hi
    pct = 100 * (value + abs(lo) if lo < 0 else value - lo) / (hi - lo) / 1.0
    size = 100 * step / (hi - lo) / 1.0
    if pct != 100:
        pct = 0 + math.floor((pct - 0) / size + 0.5) * size
    pct = max(min(pct, 100), 0)
    return hi if pct >= 100 else (pct - 0) * (100 / (100 - 0)) * (hi - lo) / 100 + lo


def page_log_value(slider, value):
    """``value`` as the page's FloatLogSlider will hold it: the exponent (the page computes
    ``Math.log(value) / Math.log(base)``) snapped as :func:`page_value` snaps, then
    ``base ** exponent``. The page's log and pow are not the same code as Python's, so in
    a rare case the two differ in the last bit and the page sends that back; the figure
    (``live.LiveFigure``) does not redraw for a change that small."""
    exponent = math.log(float(value)) / math.log(slider.base)
    return float(slider.base) ** page_value(slider, exponent)


def _outcome(gap):
    """What the legend says about a run: its final f(x) - f*, or that it blew up."""
    if not np.isfinite(gap[-1]):
        return "diverged"
    if gap[-1] > 1e3 * max(gap[0], GAP_FLOOR):
        return f"diverging ({gap[-1]:.1e})"
    return f"{gap[-1]:.2e}"


def explore(landscape, paths, sliders, steps=100, x0=None, presets=None, title=None):
    """Interactive paths of several optimizers on one landscape.

    landscape: a Landscape, or a function of the slider values returning one (for a
        slider that changes the landscape, such as a rotation angle).
    paths: list of :class:`Path`.
    sliders: {name: (lo, hi, value)}, {name: ("log", lo, hi, value)}, ("int", ...), or a
        ready-made ipywidgets value widget (a Checkbox for an on/off switch); "steps" and
        the start point are added (a click on the landscape moves the start there).
    presets: {button label: function(landscape) -> {slider: value}}.
    """
    return Explorer(landscape, paths, sliders, steps=steps, x0=x0, presets=presets, title=title)
