"""The rate map of momentum beside its paths: Distill's view, driven by the student's functions.

``rate_map`` draws, over the (lr, beta) plane of a quadratic, the worst linear rate of the
heavy ball or of Nesterov (``momentum_rates``): colour is the number of steps that shrink
the error tenfold, with the stability boundary, the critical-damping curves of the two
extreme eigenvalues, gradient descent's best point on the beta = 0 edge and the optimum.

``explore_momentum`` links that map to a trajectory explorer. Top left the paths on the
landscape (a click there moves the start), top right the momentum run per eigen-direction
(each coordinate of its error in the eigenbasis, log scale) with the slope the map
predicts. Below, the heavy ball's map and Nesterov's: a click on either sets lr and beta,
the sliders move the markers, and beside each marker the rate the map predicts and the
rate fitted on the tail of the student's own run. The maps are computed and rendered once
per landscape; a frame moves markers, lines and texts only (``live.LiveFigure``).
"""
import math

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from descentlab import momentum_rates as mr
from descentlab.colors import style
from descentlab.display import show_figure
from descentlab.plots import Explorer, _xy, page_log_value, page_value

MAP_GRID = (240, 200)        # lr columns, beta rows: a smooth picture in ~15 ms for both maps
TENFOLD = (3.0, 3000.0)      # the colour scale: steps per tenfold shrink of the error
RATE_LEVELS = (0.8, 0.9, 0.95, 0.99)
UNSTABLE = "0.88"
EIGEN_LIMITS = (1e-12, 1e2)  # fixed, so a slider never changes the eigen-view's axes
DIRECTION_STYLES = ({"linestyle": "-", "lw": 1.6}, {"linestyle": "--", "lw": 1.0, "alpha": 0.75})


def _tenfold(rate):
    """Steps that shrink the error tenfold at ``rate`` per step (inf where it does not shrink)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(rate < 1, np.log(10.0) / -np.log(np.minimum(rate, 1 - 1e-16)), np.inf)


def draw_rate_map(ax, method, mu, L, lr_range, beta_range=(0.0, 0.99), grid=MAP_GRID, legend=True):
    """Draw the map of ``method`` on ``ax``, with lr on a log10 axis (tick labels in lr).
    Returns the rate grid (rows beta, columns lr) and its axes (log10 lrs, betas)."""
    log_lrs = np.linspace(math.log10(lr_range[0]), math.log10(lr_range[1]), grid[0])
    betas = np.linspace(beta_range[0], beta_range[1], grid[1])
    lrs = 10.0 ** log_lrs
    rates = mr.rate_grid(method, lrs, betas, [mu, L])
    steps = np.ma.masked_invalid(_tenfold(rates))
    cmap = _cmap()
    extent = (log_lrs[0], log_lrs[-1], betas[0], betas[-1])
    ax.imshow(steps, origin="lower", extent=extent, aspect="auto", cmap=cmap, norm=LogNorm(*TENFOLD),
              interpolation="nearest", zorder=0)
    stable = ax.contour(log_lrs, betas, rates, levels=RATE_LEVELS, colors="white", linewidths=0.6, zorder=1)
    ax.clabel(stable, fmt=lambda r: f"{r:g}", fontsize=6)
    b = np.linspace(beta_range[0], beta_range[1], 200)
    edge = mr.stable_lr(method, b, L)
    ax.plot(np.log10(edge), b, color="black", lw=1.4, zorder=2, label="stability edge")
    for lam, ls, name in ((mu, "--", "mu"), (L, ":", "L")):
        ax.plot(log_lrs, mr.critical_beta(method, lrs, lam), color="white", ls=ls, lw=1.2, zorder=2,
                label=f"critical damping, {name}")
    lr_gd, _ = mr.best_gd(mu, L)
    ax.plot([math.log10(lr_gd)], [0.0], marker="D", ms=6, color="white", mec="black", ls="none",
            clip_on=False, zorder=3, label="best gradient descent")
    lr_o, beta_o, _ = (mr.polyak if method == "heavy ball" else mr.nesterov_best)(mu, L)
    ax.plot([math.log10(lr_o)], [beta_o], marker="*", ms=11, color="white", mec="black", ls="none", zorder=3,
            label="Polyak's optimum" if method == "heavy ball" else "best Nesterov")
    # the sliders' range rounded to 0.01 decades (make_slider moves it by less, to put
    # the value on its grid): the edges stay on whole decades
    ax.set_xlim(round(extent[0], 2), round(extent[1], 2))
    ax.set_ylim(extent[2], extent[3])
    decades = range(math.ceil(round(extent[0], 2) - 1e-9), math.floor(round(extent[1], 2) + 1e-9) + 1)
    ax.set_xticks(list(decades), [f"1e{d}" for d in decades])
    ax.set_xlabel("lr (log scale)")
    ax.set_ylabel("beta")
    ax.set_title(method, fontsize=9, loc="left")
    if legend:
        ax.legend(loc="lower left", fontsize=6, framealpha=0.8)
    return rates, (log_lrs, betas)


def _cmap():
    import matplotlib
    return matplotlib.colormaps["viridis_r"].with_extremes(over=UNSTABLE, bad=UNSTABLE)


def rate_map_figure(quadratic, lr_range=(1e-3, 0.1), beta_range=(0.0, 0.99), figsize=(8.0, 3.4)):
    """The heavy ball's map beside Nesterov's for ``quadratic`` (a static figure)."""
    fig = Figure(figsize=figsize, layout="constrained")
    mu, L = mr.eigenvalues(quadratic)
    axes = fig.subplots(1, 2, sharey=True)
    for ax, method in zip(axes, mr.METHODS, strict=True):
        draw_rate_map(ax, method, mu, L, lr_range, beta_range, legend=method == "heavy ball")
    fig.colorbar(axes[0].images[0], ax=list(axes), label="steps per tenfold shrink (grey: unstable)")
    return fig


def show_rate_map(quadratic, lr_range=(1e-3, 0.1), beta_range=(0.0, 0.99), figsize=(8.0, 3.4)):
    return show_figure(rate_map_figure(quadratic, lr_range, beta_range, figsize))


class MomentumExplorer(Explorer):
    """Paths, the eigen-view and both rate maps, linked: build with :func:`explore_momentum`."""

    figsize = (8.0, 6.2)

    def __init__(self, quadratic, paths, maps, sliders, steps=100, x0=None, presets=None, title=None):
        self.quadratic = quadratic
        self.mu, self.L = (float(v) for v in mr.eigenvalues(quadratic))
        self.maps = dict(maps)              # path label -> method of its map
        self.eigen_path = next(iter(self.maps))
        self.measured = {}
        super().__init__(quadratic, paths, sliders, steps=steps, x0=x0, presets=presets, title=title)

    def _range(self, name):
        w = self.sliders[name]
        if hasattr(w, "base"):
            return w.base ** w.min, w.base ** w.max
        return w.min, w.max

    def setup(self, figure):
        grid = figure.add_gridspec(2, 2, height_ratios=[1.15, 1])
        self.ax_path = figure.add_subplot(grid[0, 0])
        self.ax_eigen = figure.add_subplot(grid[0, 1])
        self._draw_background(self.quadratic)
        self._lines = {}
        for p in self.paths:
            self._lines[p.label], = self.ax_path.plot([], [], marker=".", ms=3, lw=1.3, zorder=3, label=p.label,
                                                      **style(p.label))
        self._start, = self.ax_path.plot([], [], marker="o", ms=7, color="0.2", mfc="white", zorder=5, ls="none")
        self._path_legend = self.ax_path.legend(loc="lower right", fontsize=7)
        color = style(self.eigen_path)["color"]
        self._eigen_lines = [self.ax_eigen.semilogy([], [], color=color, **st)[0] for st in DIRECTION_STYLES]
        self._envelopes = [self.ax_eigen.semilogy([], [], color="0.25", lw=0.9, ls=":", zorder=4)[0] for _ in range(2)]
        self.ax_eigen.set_ylim(*EIGEN_LIMITS)
        self.ax_eigen.set_xlabel("step")
        self.ax_eigen.set_ylabel("|error| in the eigenbasis")
        # the key in the title: a legend would lie over the moving lines
        self.ax_eigen.set_title(f"{self.eigen_path} per eigen-direction: flat (mu = {self.mu:g}) solid,\n"
                                f"steep (L = {self.L:g}) dashed; dotted: the rate the map predicts", fontsize=8)
        self.ax_eigen.grid(True, alpha=0.3)
        lr_range, beta_range = self._range("lr"), self._range("beta")
        self.ax_maps, self._markers, self._notes = {}, {}, {}
        for k, (label, method) in enumerate(self.maps.items()):
            ax = figure.add_subplot(grid[1, k])
            draw_rate_map(ax, method, self.mu, self.L, lr_range, beta_range, legend=k == 0)
            self.ax_maps[label] = ax
            self._markers[label], = ax.plot([], [], marker="o", ms=9, mfc="none", mec="#D55E00", mew=2.2,
                                            ls="none", zorder=6)
            # above the map, not on it: a note inside would hide the marker when it passes
            self._notes[label] = ax.text(1.0, 1.02, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=7)

    def foreground(self):
        """What a slider moves: the lines of the paths' and the eigen-view's panels, the
        markers, the notes above the maps and the title. Everything else is background, drawn once,
        the map's own lines and legend too: the only moving thing on a map is its marker,
        which a full render also draws above the legend. The paths' legend is foreground,
        drawn over the paths as a full render draws it; the eigen-view's key is its title,
        so that no legend lies over its lines. A blitted frame is then exactly what a full
        render shows (tests/test_live_frames.py)."""
        out = []
        for ax in (self.ax_path, self.ax_eigen):  # every line there (the minimum's star above the paths too)
            out += sorted(ax.lines, key=lambda a: a.get_zorder())
        return (out + [self._path_legend] + list(self._markers.values()) + list(self._notes.values())
                + [self.title_artist])

    def draw(self, values):
        land = self.quadratic
        x0 = np.array([values[k] for k in self._start_keys])
        steps = values["steps"]
        self.trajectories, self.measured = {}, {}
        for p in self.paths:
            try:
                traj = self._run(p, land, x0, steps, values)  # Explorer's: unchanged paths are kept
            except NotImplementedError:
                self._lines[p.label].set_data([], [])
                continue
            self.trajectories[p.label] = traj
            self._lines[p.label].set_data(*_xy(land, traj))
        self._start.set_data(x0[:1], x0[1:2])
        lr, beta = float(values["lr"]), float(values["beta"])
        for label, method in self.maps.items():
            self._markers[label].set_data([math.log10(lr)], [beta])
            predicted = float(mr.worst_rate(method, lr, beta, [self.mu, self.L]))
            traj = self.trajectories.get(label)
            measured = mr.path_rate(traj.xs, land.global_min) if traj is not None else float("nan")
            self.measured[label] = (predicted, measured)
            seen = "not implemented yet" if traj is None else ("-" if not math.isfinite(measured) else
                                                               f"{measured:.3f}")
            self._notes[label].set_text(f"rate {predicted:.3f} (map), {seen} (your {label})")
        self._draw_eigen(self.trajectories.get(self.eigen_path), lr, beta, steps)

    def _draw_eigen(self, traj, lr, beta, steps):
        self.ax_eigen.set_xlim(0, max(steps, 1))
        if traj is None:
            for line in self._eigen_lines + self._envelopes:
                line.set_data([], [])
            return
        errors = np.abs(mr.eigen_errors(traj.xs, self.quadratic))
        t = np.arange(len(errors))
        method = self.maps[self.eigen_path]
        for k, lam in enumerate((self.mu, self.L)):
            e = errors[:, k]
            self._eigen_lines[k].set_data(t, np.where(e > 0, e, np.nan))
            rho = float(mr.rates(method, lr, beta, lam))
            tail = slice(len(e) // 2, None)
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                scale = np.nanmax(np.where(e[tail] > 0, e[tail] / rho ** t[tail], np.nan)) if rho > 0 else np.nan
                envelope = scale * rho ** t
            ok = np.isfinite(scale) and scale > 0
            self._envelopes[k].set_data(t if ok else [], envelope if ok else [])

    def on_click(self, event):
        """A click on a map sets lr and beta there (clipped to the sliders); on the
        landscape it moves the start (:meth:`Explorer.on_click`)."""
        if super().on_click(event):
            return True
        for ax in self.ax_maps.values():
            if event.inaxes is ax and event.button == 1 and event.xdata is not None and event.ydata is not None:
                # on the sliders' own grids, as the page will hold them: otherwise the page
                # snaps them and sends them back, and the figure is drawn again
                lr, beta = self.sliders["lr"], self.sliders["beta"]
                self.set(lr=page_log_value(lr, 10.0 ** event.xdata) if hasattr(lr, "base")
                         else page_value(lr, 10.0 ** event.xdata), beta=page_value(beta, event.ydata))
                return True
        return False

    def click_points(self):
        box = next(iter(self.ax_maps.values())).get_position()
        return {**super().click_points(), "map": (box.x0 + 0.6 * box.width, 1 - (box.y0 + 0.55 * box.height))}


def explore_momentum(quadratic, paths, sliders, maps=None, steps=100, x0=None, presets=None, title=None):
    """The trajectory explorer of :func:`plots.explore`, with the rate maps and the eigen-view.

    quadratic: a :class:`Quadratic` (the maps need its eigenvalues).
    paths: list of :class:`plots.Path`; ``maps`` names the paths that get a map, in order:
        {path label: "heavy ball" or "Nesterov"} (default: "momentum" and "Nesterov").
        The eigen-view shows the first of them.
    sliders: must hold "lr" and "beta" (the maps' axes), as in :func:`plots.explore`.
    """
    maps = maps or {"momentum": "heavy ball", "Nesterov": "Nesterov"}
    for needed in ("lr", "beta"):
        if needed not in sliders:
            raise ValueError(f"sliders must include {needed!r}: it is an axis of the maps")
    labels = {p.label for p in paths}
    missing = set(maps) - labels
    if missing:
        raise ValueError(f"maps name paths that are not given: {sorted(missing)}")
    return MomentumExplorer(quadratic, paths, maps, sliders, steps=steps, x0=x0, presets=presets, title=title)
