"""The worst error a reference-versus-oracle test saw, per function, written in pytest's
terminal summary (one table per test module)."""
from grader.checks.tolerance import REFERENCE_TOL


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
