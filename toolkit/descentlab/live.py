"""A figure that follows its sliders: the machinery every interactive plot shares.

A ``LiveFigure`` owns a set of ipywidgets sliders (and optional preset buttons) and
one matplotlib figure on an ipympl canvas. When a slider moves it calls ``draw(values)``,
which updates the existing artists (set_data, set_label...), and then ``draw_idle``: the
cell is never re-run. The figure's title states the current settings, so a reader (or
a browser test) can tell what is shown. Errors in ``draw`` are printed below the
controls and in the title, then raised: never swallowed.

Displayed, it shows the controls and then the canvas on its own, so that a headless run
(nbclient, nbgrader) keeps a static PNG of the figure in the cell's outputs.
"""
import math
import traceback

from matplotlib.figure import Figure


def make_slider(name, spec):
    """A slider from a short spec: (lo, hi, value) for a float slider, ("log", lo, hi,
    value) for a logarithmic one, ("int", lo, hi, value) for whole numbers."""
    import ipywidgets as W
    common = dict(description=name, continuous_update=True, style={"description_width": "initial"})
    if spec[0] == "log":
        _, lo, hi, value = spec
        return W.FloatLogSlider(value=value, base=10, min=math.log10(lo), max=math.log10(hi), step=0.01,
                                readout_format=".3g", **common)
    if spec[0] == "int":
        _, lo, hi, value = spec
        return W.IntSlider(value=value, min=lo, max=hi, step=1, **common)
    lo, hi, value = spec
    return W.FloatSlider(value=value, min=lo, max=hi, step=(hi - lo) / 200, readout_format=".3g", **common)


def _ipympl():
    """ipympl's Canvas and FigureManager, imported without changing pyplot's backend.
    ``import ipympl`` calls ``matplotlib.use("module://ipympl.backend_nbagg")`` when
    matplotlib is loaded: every later ``plt`` figure of the notebook (meant as a static
    inline picture) would become a widget, in JupyterLab and in the cell's outputs. The
    explorers draw on their own Figure and Canvas and need no pyplot backend."""
    import matplotlib
    backend = getattr(matplotlib.rcParams, "_get_backend_or_none", lambda: None)  # None: not chosen yet
    before = backend()
    from ipympl.backend_nbagg import Canvas, FigureManager
    if before is not None and backend() != before:
        matplotlib.use(before)  # the first import switched it (and closed no figure of ours)
    return Canvas, FigureManager


def fmt(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


class LiveFigure:
    """Base class: subclasses build their axes in ``setup(figure)`` and redraw in
    ``draw(values)``."""

    figsize = (10, 4.2)

    def __init__(self, sliders, presets=None, title=None, hidden_settings=()):
        import ipywidgets as W
        Canvas, FigureManager = _ipympl()

        self.title = title
        self.hidden_settings = set(hidden_settings)  # sliders left out of the title
        self.sliders = {name: (spec if isinstance(spec, W.ValueWidget) else make_slider(name, spec))
                        for name, spec in sliders.items()}
        self.buttons = []
        for label, fn in (presets or {}).items():
            button = W.Button(description=label, layout=W.Layout(width="auto"))
            button.on_click(lambda _b, fn=fn: self.set(**fn(self)))
            self.buttons.append(button)
        self.errors = W.Output()
        self.figure = Figure(figsize=self.figsize, layout="constrained")
        self.canvas = Canvas(self.figure)
        self.manager = FigureManager(self.canvas, 0)
        for flag in ("header_visible", "footer_visible", "toolbar_visible", "resizable"):
            setattr(self.canvas, flag, False)
        self._hold = False
        self.setup(self.figure)
        for widget in self.sliders.values():
            widget.observe(self._on_change, names="value")
        self.update()

    # -- for subclasses
    def setup(self, figure):
        raise NotImplementedError

    def draw(self, values):
        raise NotImplementedError

    # -- state
    @property
    def values(self):
        return {k: w.value for k, w in self.sliders.items()}

    def settings_text(self, values=None):
        values = self.values if values is None else values
        return ", ".join(f"{k}={fmt(v)}" for k, v in values.items() if k not in self.hidden_settings)

    def set(self, **values):
        """Move several sliders (as a student would); the figure updates once."""
        self._hold = True
        try:
            for k, v in values.items():
                self.sliders[k].value = v
        finally:
            self._hold = False
        self.update()

    def _on_change(self, change):
        if not self._hold:
            self.update()

    def update(self):
        """Redraw for the current slider values; errors are shown to the student, then raised."""
        # Set the outputs (widget state) rather than Output.clear_output(): that one goes
        # out as a captured IOPub message and the page may apply it after the new error
        # below (state), wiping the error the student should see.
        self.errors.outputs = ()
        try:
            values = self.values
            self.draw(values)
            prefix = f"{self.title}: " if self.title else ""
            self.figure.suptitle(prefix + self.settings_text(values), fontsize=10, color="black")
        except Exception as e:
            self.errors.append_stderr(traceback.format_exc())
            self.figure.suptitle(f"update failed: {type(e).__name__}: {e}", color="#D55E00", fontsize=10)
            self.canvas.draw_idle()
            raise
        self.canvas.draw_idle()

    # -- display: controls, then the canvas on its own so its PNG lands in the outputs
    def _ipython_display_(self):
        import ipywidgets as W
        from IPython.display import display
        controls = list(self.sliders.values())
        rows = [W.HBox(controls[i:i + 3]) for i in range(0, len(controls), 3)]
        if self.buttons:
            rows.append(W.HBox(self.buttons))
        display(W.VBox(rows + [self.errors]))
        display(self.canvas)
