"""Minibatch SGD on a regression problem, watched closely: a recording runner and an
interactive figure with sliders for the batch size and the learning rate.

``record_run`` runs *your* ``train_minibatch_sgd`` and watches its calls of
``mse_gradient`` (and of ``minibatch_indices``), so it can keep what the function throws
away: the weights after every update, the full-data loss at many points inside each epoch,
and the training time (the loss is measured afterwards, from the recorded weights, so
measuring costs none of it). Time is processor time, ``time.process_time()``: on an idle
machine it is the wall-clock time, and other programs running at the same time do not
inflate it. ``explore_batch`` shows it: the path of two chosen weights on the loss
contours, and the loss against the examples seen (epochs on the top axis) and against
the number of updates.

The toolkit has no training loop of its own: every run shown is your function's.
"""
import math
import time
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from descentlab.colors import style
from descentlab.display import show_figure
from descentlab.live import LiveFigure, decade_limits, fmt, loss_limits, make_slider
from descentlab.plots import page_value

BLOW_UP = 1e12  # a run whose loss passes this is stopped and reported as diverged


@dataclass
class BatchRun:
    batch_size: int
    lr: float
    n: int
    examples: np.ndarray      # examples seen at each recorded point (0 first)
    updates: np.ndarray       # updates done at each recorded point
    losses: np.ndarray        # full-data loss at each recorded point
    seconds: np.ndarray       # processor time of the run at each recorded point, measuring excluded
    path: np.ndarray          # (updates + 1, d): the weights after every update
    epoch_losses: np.ndarray  # full-data loss after each epoch (what train_minibatch_sgd returns)

    @property
    def diverged(self):
        """The run blew up: its last loss is not finite, passed BLOW_UP, or is more than
        10 times the loss it started from."""
        last = self.losses[-1]
        return bool(not np.isfinite(last) or last >= BLOW_UP or last > 10 * self.losses[0])

    @property
    def final(self):
        return self.path[-1]

    @property
    def epochs(self):
        return self.examples / self.n

    def first(self, where, below):
        """The first value of ``where`` ("examples", "updates", "seconds") at which the
        loss is below ``below`` (None if it never is), as a plain Python number."""
        hit = np.nonzero(self.losses < below)[0]
        return None if hit.size == 0 else getattr(self, where)[hit[0]].item()


class _Blown(BaseException):
    """Raised inside a watched run once its weights have blown up, to end the loop early.
    A BaseException, so that an ``except Exception`` in the watched code does not swallow it."""


WATCH_MESSAGE = "record_run watches mse_gradient: your train_minibatch_sgd must call it once per batch"
_MISSING = object()


@contextmanager
def _installed(env, stand_ins):
    """Put ``stand_ins`` ({name: function}) into the namespace ``env`` for the duration,
    then restore what was there (or remove the name if nothing was)."""
    saved = {name: env.get(name, _MISSING) for name in stand_ins}
    env.update(stand_ins)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is _MISSING:
                env.pop(name, None)
            else:
                env[name] = old


def _record_points(bounds, records_per_epoch):
    """The update counts at which the loss is recorded: 0, then about
    ``records_per_epoch`` evenly spaced ones in each epoch [start, end), its end always."""
    points = [0]
    for start, end in zip(bounds[:-1], bounds[1:], strict=True):
        every = max(1, math.ceil((end - start) / records_per_epoch))
        points += [start + k for k in range(1, end - start + 1) if k % every == 0 or start + k == end]
    return np.array(points)


def record_run(problem, train_minibatch_sgd, batch_size, lr, epochs, rng, w0=None,
               records_per_epoch=100, batches=None):
    """Run *your* ``train_minibatch_sgd`` on ``problem`` and record what it does.

    While it runs, the name ``mse_gradient`` in the function's globals (the notebook, for
    a function defined there) is a recording wrapper around your ``mse_gradient``: each
    call records the weights it is given and the number of rows, so the weights after
    every update, the examples seen and the updates follow. ``minibatch_indices`` is
    watched the same way to find where each epoch starts; ``batches``, if given, stands in
    for it during the run (a function with its signature, e.g. batches in a fixed order).
    Both names are restored afterwards, even if the run fails.

    The full-data loss is measured afterwards, from the recorded weights, at about
    ``records_per_epoch`` evenly spaced updates of each epoch and after each epoch; the
    time (processor time) is that of your function's run, with the recording's small
    cost per update, and without the measuring. A run whose weights blow up (its loss
    surely past ``BLOW_UP``) is stopped there and reported as diverged.
    """
    env = getattr(train_minibatch_sgd, "__globals__", None)
    if env is None or "mse_gradient" not in env:
        raise RuntimeError(WATCH_MESSAGE)
    gradient = env["mse_gradient"]
    indices = batches if batches is not None else env.get("minibatch_indices")
    weights, rows, stamps, starts = [], [], [], []
    # (w - w*)^T C (w - w*) >= (mu / 2) |w - w*|^2: past this distance the loss is past BLOW_UP
    w_star, far = problem.w_star, 2 * BLOW_UP / max(problem.mu, 1e-300)

    def watched_gradient(w, X, y, *args, **kwargs):
        stamps.append(time.process_time())
        seen = np.array(w, dtype=float)   # a copy: a loop that updates w in place must not change the record
        weights.append(seen)
        rows.append(len(y))
        gap = seen - w_star
        if not gap @ gap < far:
            raise _Blown
        return gradient(w, X, y, *args, **kwargs)

    def watched_indices(*args, **kwargs):
        out = indices(*args, **kwargs)
        starts.append(len(weights))       # updates done when this epoch starts
        return out

    stand_ins = {"mse_gradient": watched_gradient}
    if indices is not None:
        stand_ins["minibatch_indices"] = watched_indices
    blown = False
    with np.errstate(over="ignore", invalid="ignore"):
        try:
            with _installed(env, stand_ins):
                w_end, _ = train_minibatch_sgd(problem.X, problem.y, batch_size, lr, epochs, rng, w0=w0)
            stamps.append(time.process_time())
        except _Blown:
            blown = True
    if not weights:
        raise RuntimeError(WATCH_MESSAGE)
    path = np.array(weights if blown else weights + [np.asarray(w_end, dtype=float)])
    done = len(path) - 1
    examples = np.concatenate([[0], np.cumsum(rows[:done])])
    if starts:
        inner = [s for s in starts if 0 < s < done]
    else:  # minibatch_indices not seen: an epoch is every n examples
        inner = [int(j) for j in np.nonzero(np.diff(examples // problem.n))[0] + 1 if j < done]
    bounds = sorted({0, done, *inner})
    points = _record_points(bounds, records_per_epoch)
    with np.errstate(over="ignore", invalid="ignore"):
        losses = np.atleast_1d(problem.loss(path[points]))
        epoch_losses = np.atleast_1d(problem.loss(path[bounds[1:]])) if done else np.array([])
    seconds = np.array(stamps[:len(path)]) - stamps[0]
    return BatchRun(int(batch_size), float(lr), problem.n, examples[points], points, losses,
                    seconds[points], path, epoch_losses)


def fastest_timing(runs):
    """One run's record with the least disturbed timing of several identical runs (the
    same seed, so the same updates): each stretch between two measurements gets the
    shortest time it took in any of the runs. Other programs on the machine can slow a
    stretch down (they share the caches and the memory bus); the fastest repeat of each
    stretch is the best estimate of what the computation itself costs."""
    runs = list(runs)
    first = runs[0]
    for other in runs[1:]:
        if not (np.array_equal(other.updates, first.updates)
                and np.allclose(other.losses, first.losses, equal_nan=True)):
            raise ValueError("fastest_timing needs runs of the same computation (same seed and settings)")
    stretches = np.min([np.diff(r.seconds) for r in runs], axis=0)
    return BatchRun(first.batch_size, first.lr, first.n, first.examples, first.updates, first.losses,
                    np.concatenate([[0.0], np.cumsum(stretches)]), first.path, first.epoch_losses)


def batch_size_options(n):
    """Powers of two below n, then n itself (the full batch)."""
    return [2 ** k for k in range(int(math.log2(n)) + 1) if 2 ** k < n] + [n]


RUN_COLORS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"]
RUN_STYLES = ["-", "--", "-.", ":"]  # with the colour, so that the runs stay apart in greyscale
PANELS = ("path", "examples", "updates")


def _window(problem, weights, start=None):
    """A square window around the start and the best fit in the plane of two weights."""
    i, j = weights
    start = np.zeros(problem.d) if start is None else np.asarray(start, dtype=float)
    corners = np.array([start[[i, j]], problem.w_star[[i, j]]])
    lo, hi = corners.min(axis=0), corners.max(axis=0)
    half = 0.65 * max(hi - lo) + 0.3
    mid = (lo + hi) / 2
    return mid - half, mid + half


def _grid_window(window, steps=200):
    """The square ``window`` widened a little, and a step, such that the start sliders over
    it hold the default start, zero, exactly, in the page too. The page's slider computes
    its values in percent of the range (:func:`descentlab.plots.page_value`) and sends back
    any value off its grid, snapped: the runs would then no longer start where
    ``train_minibatch_sgd`` starts them by default. That arithmetic is exact on every
    point of the grid when the step is a binary fraction (1, 1.25, 1.5 or 1.75 times a
    power of two), the limits are whole steps, and ``steps`` is 200 (or any 2^a 5^b, b <= 2)."""
    lo, hi = (np.asarray(a, dtype=float) for a in window)
    need = float(max(hi - lo)) / (steps - 1)  # one step to spare: the limits are rounded to whole steps
    power = 2.0 ** math.floor(math.log2(need))
    step = next(m * power for m in (1.0, 1.25, 1.5, 1.75, 2.0) if m * power >= need)
    start = np.round(((lo + hi) / 2 - steps / 2 * step) / step) * step
    return (start, start + steps * step), step


def _contours(ax, problem, weights, window):
    """Contours of the loss over the plane of two weights (the others at the best fit)."""
    i, j = weights
    (x0, y0), (x1, y1) = window
    A, Bm = np.meshgrid(np.linspace(x0, x1, 160), np.linspace(y0, y1, 160))
    Z = problem.slice_loss(A, Bm, weights) - problem.loss_min
    ax.contour(A, Bm, Z, levels=np.geomspace(max(Z.min(), 1e-3), Z.max(), 16),
               colors="0.75", linewidths=0.8, zorder=1)
    ax.plot(*problem.w_star[[i, j]], marker="*", ms=13, color="0.2", ls="none", zorder=5)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel(f"w[{i}]")
    ax.set_ylabel(f"w[{j}]")


def _clip_path(path, weights, window, max_points=4000):
    """The path in the plane of two weights, clipped a window-width outside the view
    (a diverging path stays drawable), thinned to at most about ``max_points`` points."""
    i, j = weights
    (x0, y0), (x1, y1) = window
    stride = max(1, math.ceil(len(path) / max_points))
    if stride > 1:
        path = np.concatenate([path[::stride], path[-1:]] if (len(path) - 1) % stride else [path[::stride]])
    return (np.clip(path[:, i], 2 * x0 - x1, 2 * x1 - x0), np.clip(path[:, j], 2 * y0 - y1, 2 * y1 - y0))


_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


def _log_ticks():
    """A locator and a formatter for a log axis that stay cheap to draw: no minor ticks
    and no mathtext (matplotlib parses the mathtext of every tick label at each draw).
    An axis spanning 3 decades or more gets one tick per decade (every other one past
    9 decades, and so on), labelled 10 with a superscript; a shorter one gets 1, 2, 5 in each
    decade, labelled as plain numbers."""
    from matplotlib.ticker import Formatter, Locator

    def span(axis):
        lo, hi = sorted(axis.get_view_interval())
        return max(lo, 1e-300), max(hi, 1e-300)

    class LogTicks(Locator):
        def __call__(self):
            return self.tick_values(*span(self.axis))

        def tick_values(self, vmin, vmax):
            lo, hi = sorted((max(vmin, 1e-300), max(vmax, 1e-300)))
            if not math.isfinite(hi):
                return []
            first, last = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
            decades = math.log10(hi / lo)
            subs = (1,) if decades >= 3 else (1, 2, 5)
            step = max(1, math.ceil(decades / 9))
            ticks = [m * 10.0 ** e for e in range(first, last + 1) if e % step == 0 for m in subs]
            inside = [t for t in ticks if lo * (1 - 1e-9) <= t <= hi * (1 + 1e-9)]
            return inside if len(inside) >= 2 else ticks

    class LogLabels(Formatter):
        def __call__(self, value, pos=None):
            if not (value > 0 and math.isfinite(value)):
                return ""
            lo, hi = span(self.axis)
            exponent = math.floor(math.log10(value) + 1e-9)
            mantissa = value / 10.0 ** exponent
            if math.log10(hi / lo) < 3 and 1e-4 <= value < 1e5:
                return f"{value:g}"
            power = "10" + str(exponent).translate(_SUPERSCRIPT)
            return power if abs(mantissa - 1) < 1e-6 else f"{mantissa:g}\u00b7{power}"

    return LogTicks(), LogLabels()


def log_ticks(*axes):
    """Readable, quick-to-draw ticks on the log axes of ``axes`` (Axes or Figures):
    decades labelled 10\u207f on long axes, 1, 2, 5 per decade as plain numbers on short
    ones, no minor ticks."""
    from matplotlib.ticker import NullLocator
    for item in axes:
        for ax in item.axes if hasattr(item, "savefig") else [item]:  # a Figure, or one Axes
            for axis in (ax.xaxis, ax.yaxis):
                if axis.get_scale() == "log":
                    locator, formatter = _log_ticks()
                    axis.set_major_locator(locator)
                    axis.set_major_formatter(formatter)
                    axis.set_minor_locator(NullLocator())


def _out_of_layout(figure):
    """Keep drawing cheap: data artists stay inside their axes, so leave them out of the
    layout computation, and log axes get cheap ticks (:func:`log_ticks`: matplotlib
    measures every tick label of every axis at each draw)."""
    for ax in figure.axes:
        for artist in list(ax.lines) + list(ax.collections):
            artist.set_in_layout(False)
    log_ticks(figure)


def _gap(problem, run):
    with np.errstate(invalid="ignore"):
        return np.maximum(run.losses - problem.loss_min, 1e-12)


def _epochs_axis(ax, n):
    top = ax.secondary_xaxis("top", functions=(lambda e: e / n, lambda t: t * n))
    top.set_xlabel("epochs", fontsize=9)
    return top


def runs_figure(problem, runs, weights=(0, 1), title=None, panels=PANELS, figsize=None, logx=False):
    """A figure of several recorded runs ({label: BatchRun}): the paths of two weights
    on the loss contours, L(w) - L(w*) against the examples seen (epochs on top), and
    against the number of updates. ``panels`` picks and orders the panels among "path",
    "examples", "updates" and "seconds" (training time); ``logx`` puts the examples and
    seconds on a log axis (the starting point, at 0, is then left out)."""
    from matplotlib.figure import Figure
    fig = Figure(figsize=figsize or (4.0 * len(panels), 3.8), layout="constrained")
    axes = dict(zip(panels, np.atleast_1d(fig.subplots(1, len(panels))), strict=True))
    window = _window(problem, weights)
    if "path" in axes:
        _contours(axes["path"], problem, weights, window)
    starts = []
    for k, (label, run) in enumerate(runs.items()):
        color, ls = RUN_COLORS[k % len(RUN_COLORS)], RUN_STYLES[k % len(RUN_STYLES)]
        gap = _gap(problem, run)
        starts.append(gap[0])
        end = "diverged" if run.diverged else f"{gap[-1]:.1e}"
        if "path" in axes:
            axes["path"].plot(*_clip_path(run.path, weights, window), lw=0.7, color=color, ls=ls, zorder=3)
        for name, x in (("examples", run.examples), ("seconds", 1e3 * run.seconds)):
            if name in axes:
                keep = x > 0 if logx else slice(None)
                plot = axes[name].loglog if logx else axes[name].semilogy
                plot(x[keep], gap[keep], lw=1.2, color=color, ls=ls, label=f"{label}: {end}")
        if "updates" in axes:
            axes["updates"].loglog(np.maximum(run.updates, 0.8), gap, lw=1.2, color=color, ls=ls,
                                   label=f"{label}: {end}")
    if "path" in axes:
        axes["path"].plot(0, 0, marker="o", ms=7, color="0.2", mfc="white", ls="none", zorder=6)
    labels = {"examples": "examples seen", "updates": "updates", "seconds": "training time (ms)"}
    for name, ax in axes.items():
        if name == "path":
            continue
        ax.set_xlabel(labels[name])
        ax.set_ylabel("L(w) - L(w*)")
        ax.grid(True, alpha=0.3)
        if starts and any(r.diverged for r in runs.values()):
            ax.set_ylim(top=30 * max(starts))  # a diverging run leaves the panel; its label says so
        if name == "examples" and not logx:
            _epochs_axis(ax, problem.n)
    legend_ax = next((axes[k] for k in ("examples", "updates", "seconds") if k in axes), None)
    if legend_ax is not None:
        legend_ax.legend(fontsize=8, loc="upper right")
    if title:
        fig.suptitle(title, fontsize=11)
    _out_of_layout(fig)
    return fig


def show_runs(problem, runs, weights=(0, 1), title=None, panels=PANELS, figsize=None, logx=False):
    """Display :func:`runs_figure` in a notebook (return it elsewhere)."""
    fig = runs_figure(problem, runs, weights, title, panels, figsize, logx)
    return show_figure(fig)


class BatchExplorer(LiveFigure):
    """Interactive minibatch SGD: build with :func:`explore_batch`. A click on the
    contours starts the runs there (:meth:`on_click`)."""

    figsize = (8.0, 3.4)   # three panels in the width every explorer fits (live.LiveFigure)

    def __init__(self, problem, train_minibatch_sgd, batch_size=32, lr=0.05, epochs=5,
                 weights=(0, 1), seed=0, max_epochs=10, title=None):
        import ipywidgets as W
        self.problem = problem
        self.train_minibatch_sgd = train_minibatch_sgd
        self.weights = tuple(weights)
        self.seed = seed
        self.run = self.reference = None
        options = batch_size_options(problem.n)
        if batch_size not in options:
            options = sorted(set(options) | {int(batch_size)})
        sliders = {
            "batch_size": W.SelectionSlider(options=options, value=int(batch_size), description="batch_size",
                                            continuous_update=True, style={"description_width": "initial"}),
            "lr": make_slider("lr", ("log", 1e-3, 1.0, lr)),
            "epochs": make_slider("epochs", ("int", 1, max_epochs, epochs)),
        }
        # the start of the two weights drawn, over the window of the contours (the others
        # start where train_minibatch_sgd starts them by default: at zero)
        self._window, step = _grid_window(_window(problem, self.weights))
        self._start_keys = [f"start w[{k}]" for k in self.weights]
        for key, lo, hi in zip(self._start_keys, *self._window, strict=True):
            sliders[key] = W.FloatSlider(value=0.0, min=float(lo), max=float(hi), step=step,
                                         readout_format=".2f", description=key, continuous_update=True,
                                         style={"description_width": "initial"})
        # the title states the start compactly (settings_text), not as one entry per slider
        super().__init__(sliders, title=title, hidden_settings=self._start_keys)
        self.canvas.mpl_connect("button_press_event", self.on_click)

    def _batch_sizes(self):
        w = self.sliders["batch_size"]
        return list(w._options_values)  # the values of its (label, value) options

    def start_weights(self, values=None):
        """The weights the runs start from: zero, except the two drawn (their sliders)."""
        values = self.values if values is None else values
        w0 = np.zeros(self.problem.d)
        w0[list(self.weights)] = [values[k] for k in self._start_keys]
        return w0

    def settings_text(self, values=None):
        values = self.values if values is None else values
        start = ", ".join(fmt(float(values[k])) for k in self._start_keys)
        return f"{super().settings_text(values)}, start=({start})"

    def on_click(self, event):
        """A left click on the contours starts the runs there: both start sliders move to
        the point (on their grid, :func:`descentlab.plots.page_value`) in one update.
        Clicks elsewhere do nothing. Returns whether the click was taken (for a subclass
        that extends it)."""
        if event.inaxes is not self.ax_path or event.button != 1 or event.xdata is None or event.ydata is None:
            return False
        self.set(**{k: page_value(self.sliders[k], v)
                    for k, v in zip(self._start_keys, (event.xdata, event.ydata), strict=True)})
        return True

    def click_points(self):
        """Where a click does something, as fractions of the canvas from its top left
        (see ``LiveFigure.click_points``): on the contours, right of and below the middle
        (the default start, zero, is at a corner of the window)."""
        box = self.ax_path.get_position()  # where the last draw put it (layout and aspect applied)
        return {"start": (box.x0 + 0.7 * box.width, 1 - (box.y0 + 0.3 * box.height))}

    # -- figure
    def setup(self, figure):
        self.ax_path, self.ax_ex, self.ax_up = figure.subplots(1, 3, width_ratios=[1.05, 1, 1])
        _contours(self.ax_path, self.problem, self.weights, self._window)
        sgd, full = style("SGD"), dict(color="0.45", linestyle="--")
        self._ref_path, = self.ax_path.plot([], [], lw=1.2, zorder=2, **full)
        self._path, = self.ax_path.plot([], [], lw=0.6, zorder=3, **sgd)
        self._start, = self.ax_path.plot([], [], marker="o", ms=7, color="0.2", mfc="white", ls="none", zorder=6)
        # loss against examples seen (epochs on the top axis), and against updates
        self._ref_ex, = self.ax_ex.semilogy([], [], lw=1.2, label="full batch, same lr", **full)
        self._ex, = self.ax_ex.semilogy([], [], lw=1.2, label="minibatch SGD", **sgd)
        self._ends, = self.ax_ex.semilogy([], [], marker="o", ms=4, ls="none", color=sgd["color"],
                                          label="after each epoch")
        self._floor = self.ax_ex.axhline(np.nan, color="#CC79A7", lw=1, ls=":", label="predicted floor")
        self.ax_ex.set_xlabel("examples seen")
        self.ax_ex.set_ylabel("L(w) - L(w*)")
        _epochs_axis(self.ax_ex, self.problem.n)
        self._ref_up, = self.ax_up.loglog([], [], lw=1.2, **full)
        self._up, = self.ax_up.loglog([], [], lw=1.2, **sgd)
        self.ax_up.set_xlabel("updates")
        self.ax_up.set_ylabel("L(w) - L(w*)")
        for ax in (self.ax_ex, self.ax_up):
            ax.grid(True, alpha=0.3)
        _out_of_layout(figure)

    def _full_batch_run(self, lr, epochs, w0):
        """The full-batch run drawn for comparison, kept while its settings stay: moving the
        batch size changes only the minibatch run (half of a frame's training saved)."""
        key = (self.train_minibatch_sgd, lr, epochs, tuple(w0), self.seed)
        kept = getattr(self, "_full_batch", None)
        if kept is None or kept[0] != key:
            p = self.problem
            kept = self._full_batch = (key, record_run(p, self.train_minibatch_sgd, p.n, lr, epochs,
                                                       np.random.default_rng(self.seed), w0=w0))
        return kept[1]

    def draw(self, values):
        p, (i, j) = self.problem, self.weights
        B, lr, epochs = int(values["batch_size"]), float(values["lr"]), int(values["epochs"])
        label = f"B = {B}"
        w0 = self.start_weights(values)
        try:
            # your train_minibatch_sgd, watched: at the chosen batch size, and with the full batch
            run = record_run(p, self.train_minibatch_sgd, B, lr, epochs, np.random.default_rng(self.seed), w0=w0)
            ref = self._full_batch_run(lr, epochs, w0)
        except NotImplementedError:
            self.run = self.reference = None
            for line in (self._path, self._ref_path, self._ex, self._ends, self._ref_ex, self._up, self._ref_up):
                line.set_data([], [])
            self._start.set_data(w0[[i]], w0[[j]])
            self._ex.set_label("train_minibatch_sgd (or a function it calls): not implemented yet")
            self._floor.set_ydata([np.nan, np.nan])
            self.legend(self.ax_ex, loc="upper right", fontsize=8)
            return
        self.run, self.reference = run, ref
        floor = p.predicted_floor(lr, B)
        gap = lambda r: _gap(p, r)  # noqa: E731
        self._path.set_data(*_clip_path(run.path, self.weights, self._window))
        self._ref_path.set_data(*_clip_path(ref.path, self.weights, self._window))
        self._start.set_data(run.path[:1, i], run.path[:1, j])
        self._ex.set_data(run.examples, gap(run))
        ends = np.isin(run.examples, np.arange(1, epochs + 1) * p.n)
        self._ends.set_data(run.examples[ends], gap(run)[ends])
        self._ref_ex.set_data(ref.examples, gap(ref))
        self._up.set_data(np.maximum(run.updates, 0.8), gap(run))
        self._ref_up.set_data(np.maximum(ref.updates, 0.8), gap(ref))
        self._floor.set_ydata([floor, floor])
        outcome = "diverged" if run.diverged else f"{gap(run)[-1]:.2e}"
        self._ex.set_label(f"{label}: {outcome}")
        ref_gap = gap(ref)
        ref_end = ("diverged" if ref.diverged else f"{ref_gap[-1]:.2e}"
                   + (" and rising" if ref_gap[-1] > 1.5 * ref_gap.min() else ""))
        self._ref_ex.set_label(f"full batch, same lr: {ref_end}")
        self._floor.set_label(f"predicted floor {floor:.1e}" if B < p.n else "predicted floor: none (full batch)")
        self.ax_ex.set_xlim(0, 1.03 * epochs * p.n)
        # the updates axis ends where batch size 1 would: fixed while the batch size moves,
        # so the runs of different batch sizes can be compared on it
        self.ax_up.set_xlim(0.8, decade_limits(1, epochs * p.n)[1])
        finite = np.concatenate([gap(run), gap(ref)])
        finite = finite[np.isfinite(finite)]
        # the loss axes reach down to the lowest floor of any batch size on the slider (the
        # largest below n: the floor falls as B grows), so that they stay put while the batch
        # size moves (runs compared on the same axes, and a frame, not a full render, per move)
        below_n = [b for b in self._batch_sizes() if b < p.n]
        lowest = p.predicted_floor(lr, max(below_n)) if below_n else np.inf
        bottom, top = loss_limits(self.ax_ex.get_ylim(), min(finite.min(), lowest),
                                  min(finite.max(), 1e6), gap(run)[0], 1e-8)
        for ax in (self.ax_ex, self.ax_up):
            ax.set_ylim(bottom, top)
        self.legend(self.ax_ex, loc="upper right", fontsize=8)


def explore_batch(problem, train_minibatch_sgd, batch_size=32, lr=0.05, epochs=5,
                  weights=(0, 1), seed=0, max_epochs=10, title=None):
    """Interactive minibatch SGD on ``problem`` (from ``make_regression``): your
    ``train_minibatch_sgd``, watched by :func:`record_run` at each setting of the sliders
    for the batch size, the learning rate and the number of epochs. Left: the path of
    weights ``weights`` on the contours of the loss over their plane (the others at the
    best fit), the full-batch path at the same lr dashed; the sliders "start w[i]" (or a
    click on the contours) set where both runs start. Middle: the loss above its
    minimum against the examples seen (top axis: epochs), with the predicted noise floor
    lr sigma^2 / (4 B). Right: the same against the number of updates."""
    return BatchExplorer(problem, train_minibatch_sgd, batch_size=batch_size, lr=lr,
                         epochs=epochs, weights=weights, seed=seed, max_epochs=max_epochs, title=title)
