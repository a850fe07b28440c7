"""Submissions for 06_practice, composed from the catalogues' answer-cell sources
(tests/catalogue/practice_*.py). Each wrong student carries one realistic mistake in
each of several functions at once (they are graded in separate cells, so the losses add
up without interfering); each right student carries a differently written correct
version of each function. ``loses`` maps the graded cells that must score zero to a
phrase their feedback must contain; every other graded cell must get full marks."""
from tests.catalogue import practice_groups, practice_range, practice_training


def _entries():
    """{function: {"wrong": [(source, loses)], "right": [(source, {})]}}"""
    out = {}

    def add(name, source, loses):
        out.setdefault(name, {"wrong": [], "right": []})["wrong" if loses else "right"].append((source, loses))

    # notebook 06's training loop and checkpoint: WRONG rows give the parts and phrases
    rows = {f"{name}: {label}": (parts, phrase)
            for name, entries in practice_training.WRONG.items() for label, _fn, parts, phrase in entries}
    for key, source in practice_training.SOURCES.items():
        name = key.split(":")[0]
        parts, phrase = rows.get(key, ((), ""))
        # the recipe part says what the run reached, not which mistake got it there
        add(name, source, {f"{name}_{p}": "at least 87% is needed" if p == "recipe" else phrase for p in parts})
    # the range test: LOSES gives the cells and phrases
    for key, source in practice_range.SOURCES.items():
        add("lr_range_test", source, dict(practice_range.LOSES[key]))
    # clipping and param groups: SOURCE_PARTS gives the parts, WRONG the phrase
    phrases = {getattr(fn, "__name__", ""): phrase
               for entries in practice_groups.WRONG.values() for _label, fn, _parts, phrase in entries}
    for key, source in practice_groups.SOURCES.items():
        name, parts = practice_groups.SOURCE_PARTS[key]
        phrase = phrases.get(key.rsplit(": ", 1)[-1], "")
        add(name, source, {f"{name}_{p}": phrase for p in parts})
    return out


def _students():
    entries = _entries()
    students = {}
    for kind in ("wrong", "right"):
        for k in range(max(len(e[kind]) for e in entries.values())):
            code, loses = {}, {}
            for name, e in entries.items():
                if k < len(e[kind]):
                    source, lost = e[kind][k]
                    code[name] = source
                    loses.update(lost)
            students[f"{kind}_{k}"] = {"code": code, "loses": loses}
    return students


STUDENTS = _students()
