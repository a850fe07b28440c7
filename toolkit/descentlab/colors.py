"""One colour (Okabe-Ito, safe for colour-blind readers) and one line style per
optimizer, the same in every notebook."""

STYLES = {
    "SGD":      dict(color="#0072B2", linestyle="-"),
    "momentum": dict(color="#D55E00", linestyle="-"),
    "Nesterov": dict(color="#009E73", linestyle="--"),
    "AdaGrad":  dict(color="#CC79A7", linestyle="-."),
    "RMSprop":  dict(color="#E69F00", linestyle="-"),
    "Adam":     dict(color="#56B4E9", linestyle="--"),
    "AdamW":    dict(color="#000000", linestyle=":"),
    "Lion":     dict(color="#F0E442", linestyle="-."),
}
_SPARE = ["#999999", "#882255", "#44AA99", "#332288"]


def style(name):
    """Style of an optimizer; names that start with a known one share its colour
    ("momentum (EMA form)" looks like "momentum")."""
    for key, st in STYLES.items():
        if name == key or name.startswith(key + " "):
            return dict(st)
    return dict(color=_SPARE[sum(map(ord, name)) % len(_SPARE)], linestyle="-")
