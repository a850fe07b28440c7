"""What the reference-versus-oracle tests share: the error of a trajectory against its
oracle's (one floor per element, the largest |a| + |b| along the run), the first step at
which two runs part, and the worst error each test saw, per function, written in
pytest's terminal summary (one table per test module)."""
import numpy as np

from grader.checks.tolerance import REFERENCE_TOL, rel_error

TINY = 1e-300  # keeps a floor positive for an element that is exactly 0 all along


def _trajectory_floor(a, b):
    return np.maximum(TINY, np.max(np.abs(a) + np.abs(b), axis=0))


def trajectory_error(a, b):
    """rel_error with the per-element trajectory floor; axis 0 of a and b is the step."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return rel_error(a, b, floor=_trajectory_floor(a, b))


def first_bad_step(a, b):
    """0-based step at which the trajectory comparison first exceeds the tolerance."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    floor = _trajectory_floor(a, b)
    for k in range(len(a)):
        if rel_error(a[k], b[k], floor=floor) >= REFERENCE_TOL:
            return k
    return None


def fmt(**kw):
    """Keyword arguments as a short readable list (floats to 4 digits)."""
    return ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in kw.items())


class WorstCases:
    """``record`` keeps the worst error per function (and, separately, the worst
    "literal" one: another measure of the same comparison); ``register(request)``, called
    from a module fixture, adds the table to the terminal summary once. ``header`` lines
    follow the title; ``literal_label`` names the second measure."""

    def __init__(self, title, literal_label="elementwise, default 1e-8 floor", header=None):
        self.title, self.literal_label = title, literal_label
        self.header = header or (lambda: [f"tolerance REFERENCE_TOL = {REFERENCE_TOL:.0e}"])
        self.worst = {}   # function name -> {"err", "desc", "literal", "literal_desc", "kind"}

    def record(self, name, err, desc, literal=None, literal_desc=None, kind="relative error"):
        entry = self.worst.setdefault(name, {"err": -1.0, "desc": "", "literal": None,
                                             "literal_desc": "", "kind": kind})
        if err > entry["err"]:
            entry["err"], entry["desc"] = err, desc
        if literal is not None and (entry["literal"] is None or literal > entry["literal"]):
            entry["literal"], entry["literal_desc"] = literal, literal_desc or desc

    def pytest_terminal_summary(self, terminalreporter):
        lines = self.header()
        if not self.worst and len(lines) < 2:
            return
        terminalreporter.section(self.title)
        for line in lines:
            terminalreporter.write_line(line)
        for name in sorted(self.worst):
            e = self.worst[name]
            terminalreporter.write_line(f"worst {e['kind']} for {name}: {e['err']:.2e} ({e['desc']})")
            if e["literal"] is not None:
                terminalreporter.write_line(f"    {self.literal_label}: {e['literal']:.2e} ({e['literal_desc']})")

    def register(self, request):
        pm = request.config.pluginmanager
        if pm.get_plugin(self.title) is None:
            pm.register(self, self.title)
