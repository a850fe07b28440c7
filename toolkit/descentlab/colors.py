"""One colour (Okabe-Ito, safe for colour-blind readers) and one line style per
optimizer, the same in every notebook."""

STYLES = {
    # every optimizer differs in line style as well as colour, so a figure printed in
    # greyscale (or read by someone who cannot tell the colours apart) still works
    "SGD":      dict(color="#0072B2", linestyle="-"),
    "momentum": dict(color="#D55E00", linestyle=(0, (6, 2))),
    "Nesterov": dict(color="#009E73", linestyle=(0, (6, 2, 1.5, 2))),
    "AdaGrad":  dict(color="#CC79A7", linestyle=(0, (1.5, 1.5))),
    "RMSprop":  dict(color="#E69F00", linestyle=(0, (9, 2, 1.5, 2, 1.5, 2))),
    "Adam":     dict(color="#56B4E9", linestyle=(0, (3, 1.5))),
    "AdamW":    dict(color="#000000", linestyle=(0, (1.5, 2.5, 5, 2.5))),
    # Okabe-Ito's yellow is all but invisible on white: Lion takes Tol's wine instead
    "Lion":     dict(color="#882255", linestyle=(0, (12, 3))),
    # notebook 07's newcomers take Paul Tol's muted colours, distinct from the eight above
    "NAdam":    dict(color="#332288", linestyle=(0, (4, 1.5, 1.5, 1.5))),
    "RAdam":    dict(color="#44AA99", linestyle=(0, (8, 1.5, 1.5, 1.5, 1.5, 1.5))),
    "Muon":     dict(color="#999933", linestyle=(0, (2, 1))),
    "SAM":      dict(color="#AA4499", linestyle=(0, (10, 2, 3, 2))),
    "schedule-free AdamW": dict(color="#661100", linestyle=(0, (5, 1, 1, 1, 1, 1, 1, 1))),
}
# and a marker each, for the curves that have room for one every few points
MARKERS = {"SGD": "o", "momentum": "s", "Nesterov": "^", "AdaGrad": "D", "RMSprop": "v",
           "Adam": "P", "AdamW": "X", "Lion": "*", "NAdam": "h", "RAdam": "p", "Muon": "d",
           "SAM": "<", "schedule-free AdamW": ">"}
_SPARE = ["#999999", "#777777", "#BBBBBB", "#555555"]


def style(name):
    """Style of an optimizer; names that start with a known one share its colour
    ("momentum (EMA form)" looks like "momentum")."""
    for key, st in STYLES.items():
        if name == key or name.startswith(key + " "):
            return dict(st)
    return dict(color=_SPARE[sum(map(ord, name)) % len(_SPARE)], linestyle="-")


def marker(name):
    """The marker of an optimizer (same matching as :func:`style`), or "o"."""
    for key, m in MARKERS.items():
        if name == key or name.startswith(key + " "):
            return m
    return "o"
