"""Notebook 06's learning-rate x weight-decay grid: one heatmap of validation accuracy per
optimizer, and the training curves of the cell you pick.

Click a cell of any heatmap (or move the sliders) to see that run's validation accuracy
epoch by epoch, one line per seed; the marker on the heatmaps follows. The heatmaps are
drawn once (the background, see descentlab.live); a click only moves lines.
"""
import numpy as np

from descentlab.colors import style
from descentlab.live import LiveFigure, fmt

LABELS = {"sgd": "SGD (momentum 0.9)", "adam": "Adam (L2)", "adamw": "AdamW"}
COLORS = {"sgd": "momentum", "adam": "Adam", "adamw": "AdamW"}
SEED_MARKERS = ("o", "s", "^", "D", "v")


def cell_means(runs, lrs, wds):
    """Mean final validation accuracy over seeds: an array (len(wds), len(lrs))."""
    return np.array([[np.mean([h.final_val for h in runs[(lr, wd)]]) for lr in lrs] for wd in wds])


def draw_heatmap(ax, means, lrs, wds, title, vmin=0.8, vmax=1.0):
    """A heatmap of ``means`` with each cell's value written in it; returns the image."""
    image = ax.imshow(means, origin="lower", cmap="viridis", vmin=vmin, vmax=vmax, aspect="auto")
    for i in range(len(wds)):
        for j in range(len(lrs)):
            v = means[i, j]
            ax.text(j, i, f"{100 * v:.0f}", ha="center", va="center", fontsize=7,
                    color="white" if v < (vmin + vmax) / 2 else "black")
    ax.set_xticks(range(len(lrs)), [fmt(v) for v in lrs], fontsize=7)
    ax.set_yticks(range(len(wds)), [fmt(v) for v in wds], fontsize=7)
    ax.set_xlabel("learning rate", fontsize=8)
    ax.set_title(title, fontsize=9)
    return image


class GridExplorer(LiveFigure):
    """results: {optimizer: {(lr, wd): [History per seed]}}; lrs: {optimizer: [lr, ...]};
    wds: the weight decays (the same rows for every optimizer)."""

    figsize = (8.0, 5.4)

    def __init__(self, results, lrs, wds, title="validation accuracy, %"):
        import ipywidgets as W
        self.results, self.lrs, self.wds = results, lrs, list(wds)
        self.names = list(results)
        first = self.names[-1]
        means = cell_means(results[first], lrs[first], self.wds)
        i, j = np.unravel_index(np.argmax(means), means.shape)
        sliders = {
            "optimizer": W.Dropdown(options=[(LABELS.get(n, n), n) for n in self.names], value=first,
                                    description="optimizer"),
            "lr": W.IntSlider(value=int(j), min=0, max=len(lrs[first]) - 1, description="lr (column)",
                              readout=False),
            "wd": W.IntSlider(value=int(i), min=0, max=len(self.wds) - 1, description="weight decay (row)",
                              readout=False),
        }
        super().__init__(sliders, title=title)
        self.canvas.mpl_connect("button_press_event", self.on_click)

    def setup(self, figure):
        grid = figure.add_gridspec(2, len(self.names), height_ratios=[1.1, 1])
        self.maps = {}
        for k, name in enumerate(self.names):
            ax = figure.add_subplot(grid[0, k])
            draw_heatmap(ax, cell_means(self.results[name], self.lrs[name], self.wds), self.lrs[name], self.wds,
                         LABELS.get(name, name))
            if k == 0:
                ax.set_ylabel("weight decay", fontsize=8)
            (marker,) = ax.plot([], [], color="#D55E00", lw=2.5)
            self.maps[name] = (ax, marker)
        self.curves = figure.add_subplot(grid[1, :])
        self.curves.set(xlabel="epoch", ylabel="validation accuracy", ylim=(0.5, 1.0))
        epochs = max(len(h.val_acc) for runs in self.results.values() for hs in runs.values() for h in hs)
        self.curves.set_xlim(1, epochs)
        self.lines = [self.curves.plot([], [], lw=1.5)[0] for _ in range(max(
            len(hs) for runs in self.results.values() for hs in runs.values()))]

    def selected(self, values=None):
        values = self.values if values is None else values
        name = values["optimizer"]
        lrs = self.lrs[name]
        j = min(int(values["lr"]), len(lrs) - 1)
        return name, lrs[j], self.wds[int(values["wd"])], j, int(values["wd"])

    def settings_text(self, values=None):
        name, lr, wd, _, _ = self.selected(values)
        runs = self.results[name][(lr, wd)]
        accs = [h.final_val for h in runs]
        return (f"{LABELS.get(name, name)}, lr={fmt(lr)}, weight_decay={fmt(wd)}: final accuracy "
                f"{np.mean(accs):.3f} (seeds {min(accs):.3f} to {max(accs):.3f})")

    def draw(self, values):
        name, lr, wd, j, i = self.selected(values)
        self.sliders["lr"].max = len(self.lrs[name]) - 1
        for other, (_ax, marker) in self.maps.items():
            if other == name:
                marker.set_data([j - 0.5, j + 0.5, j + 0.5, j - 0.5, j - 0.5],
                                [i - 0.5, i - 0.5, i + 0.5, i + 0.5, i - 0.5])
            else:
                marker.set_data([], [])
        st = style(COLORS.get(name, name))
        runs = self.results[name][(lr, wd)]
        for k, line in enumerate(self.lines):
            if k < len(runs):
                acc = runs[k].val_acc
                line.set_data(np.arange(1, len(acc) + 1), acc)
                line.set_color(st["color"])
                line.set_linestyle(st["linestyle"])
                line.set_marker(SEED_MARKERS[k % len(SEED_MARKERS)])   # the seeds apart, in any print
                line.set_label(f"seed {k}")
            else:
                line.set_data([], [])
                line.set_label("_")
        self.legend(self.curves, fontsize=7, loc="lower right")

    def click_points(self):
        """Where a click selects a run (see ``LiveFigure.click_points``): the middle of the
        lower left cell of the first heatmap, as the last draw placed it."""
        ax, _marker = self.maps[self.names[0]]
        x, y = ax.transData.transform((0, 0))
        box = self.figure.bbox  # in the same pixels as transData
        return {"grid": (float(x / box.width), float(1 - y / box.height))}

    def on_click(self, event):
        """A click on a heatmap cell selects that optimizer, lr and weight decay."""
        for name, (ax, _marker) in self.maps.items():
            if event.inaxes is ax and event.xdata is not None and event.ydata is not None:
                j = int(np.clip(round(event.xdata), 0, len(self.lrs[name]) - 1))
                i = int(np.clip(round(event.ydata), 0, len(self.wds) - 1))
                self.set(optimizer=name, lr=j, wd=i)
                return


def explore_grid(results, lrs, wds, title="validation accuracy, %"):
    return GridExplorer(results, lrs, wds, title=title)
