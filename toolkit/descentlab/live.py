"""A figure that follows its sliders: the machinery every interactive plot shares.

A ``LiveFigure`` owns a set of ipywidgets sliders (and optional preset buttons) and
one matplotlib figure on an ipympl canvas. When a slider moves it calls ``draw(values)``,
which updates the existing artists (set_data, set_label...): the cell is never re-run.
The figure's title states the current settings, so a reader (or a browser test) can tell
what is shown. Errors in ``draw`` are printed below the controls and in the title, then
raised: never swallowed.

Why frames are blitted: a full Agg render of one of these figures costs 250-400 ms
(constrained layout and tick labels, not pixels), far too slow to follow a slider. So
the figure is split in two. The *foreground* (every line, the legends, the title) is
what a slider moves; the *background* (contours, axes, ticks, labels) is rendered once,
kept, and reused. A frame restores the background, draws the foreground on it and
sends the picture (``blit``): a few ms. When the background itself changes (axis
limits, figure size, a new landscape) the frame is a full render instead, which is why
the explorers round their axis limits to whole decades or "nice" numbers: they then
change rarely. A full render is made and sent in the slider's callback (not asked of
the page: no round trip), and keeps the last constrained layout (half of its cost)
while the figure's size is the same and the tick labels fit in the room they had.

Displayed, it shows the controls and then the canvas on its own, so that a headless run
(nbclient, nbgrader) keeps a static PNG of the figure in the cell's outputs.
"""
import contextlib
import math
import struct
import traceback
import zlib

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.offsetbox import OffsetBox
from matplotlib.text import Text
from matplotlib.transforms import Bbox


def make_slider(name, spec):
    """A slider from a short spec: (lo, hi, value) for a float slider, ("log", lo, hi,
    value) for a logarithmic one, ("int", lo, hi, value) for whole numbers."""
    import ipywidgets as W
    common = dict(description=name, continuous_update=True, style={"description_width": "initial"})
    if spec[0] == "log":
        _, lo, hi, value = spec
        lo_exp, hi_exp = _log_grid(math.log10(lo), math.log10(hi), math.log10(value), LOG_STEP)
        return W.FloatLogSlider(value=value, base=10, min=lo_exp, max=hi_exp, step=LOG_STEP,
                                readout_format=".3g", **common)
    if spec[0] == "int":
        _, lo, hi, value = spec
        return W.IntSlider(value=value, min=lo, max=hi, step=1, **common)
    lo, hi, value = spec
    return W.FloatSlider(value=value, min=lo, max=hi, step=(hi - lo) / 200, readout_format=".3g", **common)


LOG_STEP = 0.01  # a logarithmic slider's step, in powers of ten


def _log_grid(lo, hi, value, step):
    """The exponent range of a log slider, moved by less than half a step so that ``value``
    is on its grid. The page snaps a slider's value to its grid and sends the snapped
    value back: 0.02 on a grid from 1e-3 in steps of 0.01 decades would come back as
    0.01995, and the figure would show other settings than the notebook states."""
    k = round((value - lo) / step)
    lo = value - k * step
    return lo, lo + round((hi - lo) / step) * step


def _negligible(change):
    """A value that came back from the page changed only in its last bits (the page's log
    and pow are not Python's): nothing to redraw."""
    old, new = change.get("old"), change.get("new")
    if not all(isinstance(v, float) for v in (old, new)):
        return False
    return abs(new - old) <= 1e-12 * max(abs(old), abs(new))


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


_canvas_class = None


def _live_canvas():
    """ipympl's Canvas, made to draw the foreground (animated artists) in saved pictures.

    Matplotlib leaves animated artists out of a figure's own draw (the point of marking
    them), and a figure-level animated artist (our title) even out of ``savefig``; but the
    PNG a headless run keeps in the cell's outputs, and a student's download, come from
    ``savefig`` and must show everything."""
    global _canvas_class
    if _canvas_class is None:
        Canvas, _ = _ipympl()

        class LiveCanvas(Canvas):
            live = None

            def draw(self):
                """A full render, made by :meth:`LiveFigure.render` (layout only when needed)."""
                if self.live is None:
                    return super().draw()
                self._png_is_old = True
                try:
                    self.live.render(lambda: FigureCanvasAgg.draw(self))  # Agg's draw: nothing sent yet
                finally:
                    self.manager.refresh_all()  # one frame goes out

            def print_figure(self, *args, **kwargs):
                with (self.live.everything_drawn() if self.live else contextlib.nullcontext()):
                    return super().print_figure(*args, **kwargs)

            def get_diff_image(self):
                """The frame for the page, always the whole picture, encoded by :func:`_png`.

                Not matplotlib's diff (only the changed pixels): ipympl's page loads every
                frame into one Image and replaces its source when the next frame arrives
                before the last one has loaded. Frames asked for by the page came one at a
                time; blitted frames are pushed as fast as a slider moves, and a lost diff
                left the canvas wrong (seen in the browser tests: a title and a legend on
                a blank canvas). A lost whole frame is only a skipped one, and costs the
                same to encode here (mostly flat colour)."""
                if not self._png_is_old:
                    return None
                buff = np.asarray(self.get_renderer().buffer_rgba()).view(np.uint32).squeeze(2)
                self.set_image_mode("full")
                self._last_buff = buff.copy()  # ipympl's headless data URL reads it
                self._force_full = self._png_is_old = False
                return _png(buff.view(np.uint8).reshape((*buff.shape, 4)))

        _canvas_class = LiveCanvas
    return _canvas_class


def _png(rgba):
    """A PNG of an RGBA frame, every row unfiltered, zlib level 1. Pillow chooses a filter
    for each row and takes 10-15 ms on one of our 1000 x 420 frames even uncompressed;
    this takes 3-6 ms for a file of about the same size (a frame is mostly flat colour)."""
    h, w, _ = rgba.shape
    rows = np.zeros((h, 1 + 4 * w), np.uint8)  # each row starts with its filter type: 0, none
    rows[:, 1:] = rgba.reshape(h, 4 * w)

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows.tobytes(), 1)) + chunk(b"IEND", b""))


def decade_limits(lo, hi, margin=1.2):
    """Log-axis limits for data in [lo, hi], widened to whole decades (with a little room),
    so that they stay the same while the data move within them."""
    lo, hi = float(lo) / margin, float(hi) * margin
    return 10.0 ** math.floor(math.log10(lo)), 10.0 ** math.ceil(math.log10(hi))


def steady_decades(current, lo, hi, slack=100.0):
    """:func:`decade_limits` for data in [lo, hi], except that the ``current`` limits are
    kept while they still hold the data and are at most ``slack`` times looser on either
    side: values that hover around a power of ten (a run that ends at rounding level,
    1e-14 one move and 1e-15 the next) then leave the axes alone."""
    new_lo, new_hi = decade_limits(lo, hi)
    if current is not None:
        c_lo, c_hi = current
        if new_lo / slack <= c_lo <= new_lo and new_hi <= c_hi <= new_hi * slack:
            return c_lo, c_hi
    return new_lo, new_hi


def loss_limits(current, lo, hi, start, floor):
    """Log-axis limits for loss curves between ``lo`` and ``hi`` that start at ``start``:
    :func:`steady_decades` (they stay put while a slider moves), never below ``floor``,
    and at most a thousand times the starting loss at the top: a run that blows up
    leaves the panel there, and its legend says so."""
    top = min(hi, 1e3 * max(start, floor))
    return steady_decades(current, max(lo, floor), max(top, floor))


_NICE = (1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 5.0, 6.0, 8.0, 10.0)


def nice_ceiling(x):
    """The smallest of 1, 1.25, 1.5, 2, 2.5, 3, 4, 5, 6, 8 (times a power of ten) >= x > 0:
    a linear axis's upper limit that changes in steps, not with every frame."""
    scale = 10.0 ** math.floor(math.log10(x))
    return next(n * scale for n in _NICE if n * scale >= x * (1 - 1e-12))


def steady_ceiling(current, x, slack=2.0):
    """:func:`nice_ceiling` of ``x``, or the ``current`` upper limit while it is at least
    ``x`` and at most ``slack`` times the nice ceiling."""
    new = nice_ceiling(x)
    return current if current is not None and new <= current <= new * slack else new


def fmt(value):
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


@contextlib.contextmanager
def _laid_out_once(legend):
    """While ``legend`` draws, each of its boxes and texts is laid out once, not three to
    six times: matplotlib's Legend.draw measures its box tree to place its frame and again
    to draw it, and every packer measures its children again for each question asked of it.
    Nothing changes during one draw, so the answers are the same (pixel for pixel: tests/
    test_live_frames.py), and the draw takes 3 ms instead of 8 on the explorers' legends."""
    parts = getattr(legend, "_live_parts", None)
    if parts is None:  # the boxes and texts of a kept legend stay the same objects (LiveFigure.legend)
        parts = legend._live_parts = [(a, "_get_bbox_and_child_offsets" if isinstance(a, OffsetBox) else "_get_layout")
                                      for a in legend.findobj(lambda a: isinstance(a, (OffsetBox, Text)))]
    for part, method in parts:
        measure, answers = getattr(part, method), {}

        def once(renderer, measure=measure, answers=answers):
            if id(renderer) not in answers:
                answers[id(renderer)] = measure(renderer)
            return answers[id(renderer)]
        setattr(part, method, once)
    try:
        yield
    finally:
        for part, method in parts:
            vars(part).pop(method, None)


class LiveFigure:
    """Base class: subclasses build their axes in ``setup(figure)`` and redraw in
    ``draw(values)``."""

    # 8 inches (800 pixels at ipympl's 100 dpi) fit the notebook column of a 1280-pixel-wide
    # JupyterLab with the file browser open (tests/e2e check that no output is wider)
    figsize = (8.0, 3.6)

    def __init__(self, sliders, presets=None, title=None, hidden_settings=()):
        import ipywidgets as W
        _, FigureManager = _ipympl()

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
        self.canvas = _live_canvas()(self.figure)
        self.canvas.live = self
        self.manager = FigureManager(self.canvas, 0)
        for flag in ("header_visible", "footer_visible", "toolbar_visible", "resizable"):
            setattr(self.canvas, flag, False)
        self._hold = False
        self._kept = self._kept_key = None
        self.frames = {"blit": 0, "full": 0}  # how the frames went out (for the benchmark)
        self.title_artist = self.figure.suptitle("", fontsize=10)
        self._room = None  # the layout kept (render)
        self._tick_labels = {}  # axis -> its tick labels' boxes, as the last draw measured them
        self.canvas.mpl_connect("draw_event", self._on_full_draw)
        self.setup(self.figure)
        # constrained layout is half of a full render: it runs again only when the figure's
        # size changes or tick labels outgrow the room it gave them (render)
        self._layout = self.figure.get_layout_engine()
        for widget in self.sliders.values():
            widget.observe(self._on_change, names="value")
        self.update()

    # -- for subclasses
    def setup(self, figure):
        raise NotImplementedError

    def draw(self, values):
        raise NotImplementedError

    def click_points(self):
        """Where a click on the canvas does something: {label: (x, y)}, fractions of the
        canvas from its left and from its TOP (for the benchmark and the browser tests).
        Explorers that take clicks add theirs; by default none."""
        return {}

    # -- state
    @property
    def values(self):
        return {k: w.value for k, w in self.sliders.items()}

    def _fit(self, text):
        """The title wrapped to the figure's width (many sliders would run past its edge)."""
        import textwrap
        chars = int(self.figure.get_figwidth() * 72 / (0.6 * self.title_artist.get_fontsize()))
        return "\n".join(textwrap.wrap(text, chars, break_on_hyphens=False)) or text

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
        if not self._hold and not _negligible(change):
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
            self.title_artist.set_text(self._fit(prefix + self.settings_text(values)))
            self.title_artist.set_color("black")
        except Exception as e:
            self.errors.append_stderr(traceback.format_exc())
            self.title_artist.set_text(f"update failed: {type(e).__name__}: {e}")
            self.title_artist.set_color("#D55E00")
            self.refresh()
            raise
        self.refresh()

    def legend(self, ax, **kwargs):
        """``ax.legend(**kwargs)``, built once and then kept: later calls copy the lines'
        current labels into it. Building a Legend on every frame costs milliseconds."""
        handles, labels = ax.get_legend_handles_labels()
        # a legend's handles copy the lines' looks when it is built
        key = [(h, *((to_rgba(h.get_color()), h.get_linestyle(), h.get_linewidth(), str(h.get_marker()))
                     if isinstance(h, Line2D) else ())) for h in handles]
        legend = ax.get_legend()
        if legend is None or getattr(legend, "live_key", None) != key:
            legend = ax.legend(handles, labels, **kwargs)
            legend.live_key = key
        else:
            for text, label in zip(legend.get_texts(), labels, strict=True):
                text.set_text(label)
        return legend

    # -- frames: blit the foreground over the kept background, or render everything
    def foreground(self):
        """The artists a slider moves: every line and legend of every axes, and the title.
        Everything else (contours, axes, ticks, labels) is background."""
        out = []
        for ax in self.figure.axes:
            out += sorted(ax.lines, key=lambda a: a.get_zorder())
            out += [a for a in ax.get_children() if isinstance(a, Legend)]
        return out + [self.title_artist]

    def background_key(self, foreground):
        """Everything a kept background depends on: when it changes, render everything."""
        key = [tuple(self.figure.bbox.bounds)]
        foreground = set(map(id, foreground))
        for ax in self.figure.axes:
            key.append((tuple(ax.get_position().bounds), tuple(ax.get_xlim()), tuple(ax.get_ylim()),
                        ax.get_xscale(), ax.get_yscale(),
                        tuple(id(a) for a in ax.get_children() if id(a) not in foreground)))
        return tuple(key)

    def refresh(self):
        foreground = self.foreground()
        for artist in foreground:
            artist.set_animated(True)
        if self._kept is not None and self.background_key(foreground) == self._kept_key:
            self.canvas.restore_region(self._kept)
            self._draw_foreground(foreground)
            self.frames["blit"] += 1
            self.canvas.blit(self.figure.bbox)  # ipympl sends the frame
        else:
            self.frames["full"] += 1
            if self.canvas.syncing_data_url:
                self.canvas.draw_idle()  # no page yet (a headless run): the display renders
            else:
                self.canvas.draw()  # render and send now, without the page's round trip (draw_idle)

    def render(self, agg_draw):
        """A full render by ``agg_draw`` (Agg: every artist but the foreground, then
        :meth:`_on_full_draw`), with the layout kept from the last one while it still fits:
        the same figure size, the tick labels and label of every axis and the title of every
        axes within the boxes they had then (so that nothing runs into a neighbour), and no
        more lines of figure title. Otherwise the layout runs again (for once, a second draw)."""
        if self._room is None or self._room[0] != tuple(self.figure.bbox.bounds):
            self._thaw()
        self._watch_tick_labels()
        agg_draw()
        if self._room is not None and self._outgrown():
            self._thaw()
            agg_draw()

    def _thaw(self):
        self._room = None
        self.figure.set_layout_engine(self._layout)

    def _freeze(self):
        """Keep the layout just computed: later renders skip it (see :meth:`render`)."""
        title_lines = self.title_artist.get_text().count("\n")
        self._room = (tuple(self.figure.bbox.bounds), self._label_boxes(), title_lines)
        self.figure.set_layout_engine("none")

    def _outgrown(self):
        _size, room, title_lines = self._room
        if self.title_artist.get_text().count("\n") > title_lines:
            return True
        for axis, box in self._label_boxes().items():
            old = room.get(axis)
            if old is None or not (old.x0 - 1 <= box.x0 and box.x1 <= old.x1 + 1
                                   and old.y0 - 1 <= box.y0 and box.y1 <= old.y1 + 1):
                return True
        return False

    def _label_boxes(self):
        """Per axis, the box around its tick labels, offset text and label as last drawn;
        per axes, its title's box."""
        renderer = self.canvas.get_renderer()
        out = {}
        for axis, (first, second) in self._tick_labels.items():
            boxes = [b for b in first + second if b.width > 0 and b.height > 0]
            boxes += [t.get_window_extent(renderer) for t in (axis.offsetText, axis.label)
                      if t.get_visible() and t.get_text()]
            if boxes:
                out[axis] = Bbox.union(boxes)
        for ax in self.figure.axes:
            if ax.title.get_visible() and ax.title.get_text():
                out[ax.title] = ax.title.get_window_extent(renderer)
        return out

    def _watch_tick_labels(self):
        """Keep the boxes of tick labels each axis measures as it draws (free: no second
        measurement; matplotlib's Axis.draw asks _get_ticklabel_bboxes for them)."""
        for ax in self.figure.axes:
            for axis in ax._axis_map.values():
                if "_get_ticklabel_bboxes" in vars(axis):
                    continue
                def measured(ticks, renderer=None, axis=axis, measure=axis._get_ticklabel_bboxes):
                    self._tick_labels[axis] = boxes = measure(ticks, renderer)
                    return boxes
                axis._get_ticklabel_bboxes = measured

    def _on_full_draw(self, event):
        """After a full render (animated artists left out): keep it, then add the foreground."""
        if self.canvas.is_saving():
            return
        foreground = self.foreground()
        self._kept = self.canvas.copy_from_bbox(self.figure.bbox)
        self._kept_key = self.background_key(foreground)
        if self._room is None and self._tick_labels:  # laid out by this draw, measured by render()
            self._freeze()
        self._draw_foreground(foreground)

    def _draw_foreground(self, foreground):
        renderer = self.canvas.get_renderer()
        for artist in foreground:
            if artist.get_visible():
                with _laid_out_once(artist) if isinstance(artist, Legend) else contextlib.nullcontext():
                    artist.draw(renderer)

    @contextlib.contextmanager
    def everything_drawn(self):
        artists = self.foreground()
        flags = [a.get_animated() for a in artists]
        for a in artists:
            a.set_animated(False)
        try:
            yield
        finally:
            for a, flag in zip(artists, flags, strict=True):
                a.set_animated(flag)

    # -- display: controls, then the canvas on its own so its PNG lands in the outputs
    def _ipython_display_(self):
        import ipywidgets as W
        from IPython.display import display
        controls = list(self.sliders.values())
        # rows that wrap where the column is narrow, rather than run past its edge
        wrap = W.Layout(flex_flow="row wrap")
        rows = [W.HBox(controls[i:i + 3], layout=wrap) for i in range(0, len(controls), 3)]
        if self.buttons:
            rows.append(W.HBox(self.buttons, layout=wrap))
        display(W.VBox(rows + [self.errors]))
        display(self.canvas)
