"""lr_range_test (06_practice): the reference against plain torch loops, the kernel-side
program against hostile answers, the runs the grader picks, and the catalogue of wrong and
right implementations, under the course's secret and three others."""
import itertools
import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import grader
from gradeclient import nets, programs, range_programs, wire
from grader.checks import seeds
from grader.checks.extras import practice_range as checks
from grader.reference import range_test as ref
from tests.catalogue import practice_range as catalogue
from tests.test_grading_helpers import assert_loses_right_points, outcome

NAME = "lr_range_test"
PARTS = ["schedule", "losses", "divergence"]
CASES = settings(max_examples=25, deadline=None, derandomize=True, database=None)

pytestmark = pytest.mark.filterwarnings("ignore:Converting a tensor with requires_grad")


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _problem(seed, n=40, batch_size=16):
    rng = np.random.default_rng(seed)
    arch = {"sizes": [6, 12, 4], "norm": None}
    X = rng.normal(size=(n, 6))
    y = np.argmax(X @ rng.normal(size=(6, 4)), axis=1)
    weights = nets.draw_weights(arch, rng)
    return (lambda: nets.mlp(arch, weights)), (lambda: nets.loader(X, y, batch_size, seed))


def _plain_torch(model_fn, loader, lr_min, lr_max, steps, opt_fn=None, scheduler=False):
    """The range test written out as a plain torch loop: the lr from the formula (or from
    torch.optim.lr_scheduler.ExponentialLR), a new iter(loader) whenever it runs out."""
    model = model_fn()
    opt = opt_fn(model.parameters(), lr_min) if opt_fn else torch.optim.SGD(model.parameters(), lr=lr_min,
                                                                             momentum=0.9)
    sched = torch.optim.lr_scheduler.ExponentialLR(opt, gamma=(lr_max / lr_min) ** (1 / (steps - 1))) \
        if scheduler else None
    lrs, losses, it = [], [], iter(loader)
    for i in range(steps):
        if sched is None:
            for g in opt.param_groups:
                g["lr"] = lr_min * (lr_max / lr_min) ** (i / (steps - 1))
        lr = opt.param_groups[0]["lr"]
        try:
            x, y = next(it)
        except StopIteration:
            it = iter(loader)
            x, y = next(it)
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        lrs.append(lr)
        losses.append(loss.item())
        if not math.isfinite(losses[-1]) or losses[-1] > 4 * min(losses):
            break
    return np.array(lrs), np.array(losses)


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.abs(a) + np.abs(b)), initial=0.0))


# ------------------------------------------------------------------ the reference

@CASES
@given(seed=st.integers(0, 2**31 - 1), log_min=st.floats(-5, -2), decades=st.floats(0.5, 5),
       steps=st.integers(2, 40), adam=st.booleans(), batch_size=st.integers(5, 40))
def test_reference_matches_a_plain_torch_loop(seed, log_min, decades, steps, adam, batch_size):
    lr_min, lr_max = 10.0 ** log_min, 10.0 ** (log_min + decades)
    model_fn, loader = _problem(seed, batch_size=batch_size)
    opt_fn = range_programs.opt_fn_for("adam" if adam else "sgd")
    lrs, losses = ref.lr_range_test(model_fn, loader(), lr_min, lr_max, steps, opt_fn)
    want_lrs, want_losses = _plain_torch(model_fn, loader(), lr_min, lr_max, steps, opt_fn)
    assert isinstance(lrs, np.ndarray) and lrs.dtype == np.float64 and losses.dtype == np.float64
    assert len(lrs) == len(losses) == len(want_losses)
    assert np.array_equal(lrs, want_lrs) and np.array_equal(losses, want_losses, equal_nan=True)
    assert lrs[0] == lr_min
    assert len(lrs) < steps or _rel(lrs[-1], lr_max) <= 1e-15


@CASES
@given(seed=st.integers(0, 2**31 - 1), log_min=st.floats(-4, -2), decades=st.floats(1, 4.5),
       steps=st.integers(2, 60))
def test_reference_matches_torch_exponential_lr(seed, log_min, decades, steps):
    """torch.optim.lr_scheduler.ExponentialLR with gamma = (lr_max / lr_min) ** (1 / (steps - 1)),
    stepped after each update, gives the same lrs to ~1e-15 and the same losses to 1e-10 (up
    to the stop, which it makes at the same step)."""
    lr_min, lr_max = 10.0 ** log_min, 10.0 ** (log_min + decades)
    model_fn, loader = _problem(seed, n=200, batch_size=8)
    lrs, losses = ref.lr_range_test(model_fn, loader(), lr_min, lr_max, steps)
    want_lrs, want_losses = _plain_torch(model_fn, loader(), lr_min, lr_max, steps, scheduler=True)
    assert len(lrs) == len(want_lrs)
    assert _rel(lrs, want_lrs) <= 1e-13
    assert _rel(losses, want_losses) <= 1e-10


def test_reference_lrs_end_exactly_at_lr_max_and_agree_with_geomspace():
    for lr_min, lr_max, steps in [(1e-7, 10.0, 100), (1e-3, 1e-2, 2), (0.5, 0.5, 5), (2e-5, 3e-1, 37)]:
        lrs = ref.geometric_lrs(lr_min, lr_max, steps)
        assert len(lrs) == steps and lrs[0] == lr_min and lrs[-1] == pytest.approx(lr_max, rel=1e-15)
        assert _rel(lrs, np.geomspace(lr_min, lr_max, steps)) <= 1e-14
    with pytest.raises(ValueError):
        ref.geometric_lrs(1e-3, 1.0, 1)


def test_reference_stop_rule():
    assert not ref.stops([2.0, 1.0, 4.0]) and ref.stops([2.0, 1.0, 4.0 + 1e-9])
    assert ref.stops([1.0, float("nan")]) and ref.stops([1.0, float("inf")])
    assert not ref.stops([3.0])   # a single loss never exceeds 4 times itself


def test_the_loader_reshuffles_and_cycle_replays_the_first_epoch():
    """Decided and measured: "starting the loader again" is a new iter(loader), which
    reshuffles (gradeclient.nets' loader draws a new permutation every epoch);
    itertools.cycle replays the batches of the first epoch in the same order, so its losses
    differ from the second epoch on, far beyond the tolerance: it loses "losses"."""
    model_fn, make = _problem(3, n=40, batch_size=16)
    loader = make()
    first, second = ([x.numpy().copy() for x, _ in loader] for _ in range(2))
    cycled = [x.numpy().copy() for x, _ in itertools.islice(itertools.cycle(make()), 6)]
    assert not all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert all(np.array_equal(a, b) for a, b in zip(cycled[3:], first, strict=True))
    lrs = ref.geometric_lrs(1e-3, 0.1, 12)
    fresh = ref.run(model_fn, make(), lrs, stop=False)[1]
    replayed = catalogue.cycles_the_loader(model_fn, make(), 1e-3, 0.1, 12)[1]
    assert np.array_equal(fresh[:3], replayed[:3]) and _rel(fresh[3:], replayed[3:]) > 1e-4


# ------------------------------------------------------------------ the kernel program

def _spec(opt="sgd", steps=6):
    rng = np.random.default_rng(0)
    run = checks._Run(checks._Problem(rng, 40, 16), 1e-3, 0.1, steps, opt=opt)
    return run, wire.decode(wire.encode(run.spec()), tensors=True)


def _report(fn, opt="sgd"):
    _, spec = _spec(opt)
    reply = programs.run("range_test", fn, spec)
    return wire.decode(reply["value"])


def test_program_reports_the_run_as_plain_data():
    report = _report(ref.lr_range_test)
    assert report["error"] is None and report["model_fn_calls"] == 1
    assert report["lrs"].dtype == np.float64 and len(report["lrs"]) == len(report["losses"]) == 6
    assert report["lrs_dtype"] == report["losses_dtype"] == "float64"


def test_program_passes_opt_fn_none_for_sgd_and_an_adam_builder_otherwise():
    seen = []

    def spy(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
        model = model_fn()
        seen.append(None if opt_fn is None else type(opt_fn(model.parameters(), lr_min)).__name__)
        return [lr_min], [1.0]

    _report(spy, "sgd")
    _report(spy, "adam")
    assert seen == [None, "Adam"]


@pytest.mark.parametrize("returned, what", [
    (None, "returned"), (5, "returned"), ((1, 2, 3), "returned"), ("ab", "returned"),
    (([1.0], "x"), "losses_got"), ((["a"], [1.0]), "lrs_got"), (({1: 2}, [1.0]), "lrs_got"),
    ((np.zeros((2, 2)), [1.0]), "lrs_got"), ((torch.zeros(3, 2), [1.0]), "lrs_got"),
    (([1.0], [torch.ones(2)]), "losses_got"), (((x for x in [1.0]), [1.0]), "lrs_got"),
    ((np.array(["1.0"]), [1.0]), "lrs_got"), (([True], [1.0]), "lrs_got"),
])
def test_program_describes_what_is_not_two_sequences_of_numbers(returned, what):
    report = _report(lambda *a, **k: returned)
    assert report["error"] is None and isinstance(report[what], str) and len(report[what]) < 300


def test_program_accepts_tensors_lists_and_records_their_dtype():
    def tensors(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
        model = model_fn()
        x, y = next(iter(loader))
        loss = F.cross_entropy(model(x), y)   # still attached to the graph
        return torch.tensor([lr_min]), [loss]

    report = _report(tensors)
    assert report["lrs_dtype"] == "float32" and report["losses_dtype"] == "float64"
    assert report["losses"].shape == (1,) and np.isfinite(report["losses"][0])
    report = _report(lambda *a, **k: ([np.float32(1.0), 2.0], (np.float64(1.0), 3)))
    assert report["lrs_dtype"] == "float32" and report["losses_dtype"] == "float64"


class _Hostile:
    def __float__(self):
        raise RuntimeError("no")

    def __repr__(self):
        raise RuntimeError("no repr either")

    def __len__(self):
        raise RuntimeError("no len")


@pytest.mark.parametrize("fn", [
    lambda *a, **k: ([_Hostile()], [1.0]),
    lambda *a, **k: _Hostile(),
    lambda *a, **k: (_Hostile(), _Hostile()),
])
def test_program_survives_hostile_results(fn):
    report = _report(fn)
    assert report["error"] is None and (report["returned"] or report["lrs_got"])


def test_program_reports_errors_and_stop_iteration_as_data():
    def stops(model_fn, loader, *args, **kwargs):
        it = iter(loader)
        while True:
            next(it)

    def todo(*args, **kwargs):
        raise NotImplementedError()

    class Loud(Exception):
        def __str__(self):
            raise RuntimeError("hostile")

    def loud(*args, **kwargs):
        raise Loud()

    assert _report(stops)["error"]["type"] == "StopIteration"
    assert _report(todo)["error"]["not_implemented"] is True
    assert _report(loud)["error"] == {"type": "Loud", "message": "(no message)", "not_implemented": False}
    assert "not a function" in _report(None)["error"]["message"]
    assert torch.get_num_threads() == 1   # restored (the fixture set 1)


def test_program_counts_model_fn_calls():
    def twice(model_fn, loader, lr_min, *args, **kwargs):
        model_fn()
        model_fn()
        return [lr_min], [1.0]

    assert _report(twice)["model_fn_calls"] == 2


def test_the_grader_replays_the_run_the_kernel_makes():
    """model_fn, the loader and opt_fn built from the spec in the kernel are those the
    grader replays: the reference in the kernel reports exactly the grader's numbers."""
    for opt in ("sgd", "adam"):
        run, spec = _spec(opt, steps=20)
        report = wire.decode(programs.run("range_test", ref.lr_range_test, spec)["value"])
        lrs, losses = ref.run(run.model_fn, run.loader(), run.lrs(), run.opt_fn())
        assert np.array_equal(report["lrs"], lrs) and np.array_equal(report["losses"], losses)


# ------------------------------------------------------------------ the runs the grader picks

@pytest.mark.parametrize("secret", [seeds.DEFAULT, b"another class 0", b"another class 1", b"another class 2",
                                    b"another class 3", b"another class 4"])
def test_every_secret_gets_runs_where_each_check_shows(secret):
    """Schedule and losses runs never come near the stop; the loaders of schedule and losses
    are shorter than steps (but for the 2-step run), those of divergence are not; the
    exploding run stops inside the run, clear of the threshold, at another step than 4 times
    the first loss would; the nan run stops at the nan batch."""
    seeds.use(secret)
    try:
        runs = {part: getattr(checks, f"{part}_runs")(seeds.rng(NAME, part)) for part in PARTS}
    finally:
        seeds.use(seeds.DEFAULT)
    for part, rows in runs.items():
        for run in rows:
            assert run.picked, (part, run.label)
    for run in runs["schedule"][:2] + runs["losses"]:
        assert run.problem.n_batches < run.steps
    assert runs["schedule"][2].steps == 2 and runs["losses"][1].opt == "adam"
    for run in runs["divergence"]:
        assert run.problem.n_batches >= run.steps


def test_a_correct_run_agrees_far_inside_the_tolerances():
    """np.geomspace and a chained ExponentialLR move each lr by ~1e-15; the divergence run's
    losses then move by ~1e-15 too, far below LOSS_TOL, and the stop stays put."""
    run = checks.divergence_runs(seeds.rng(NAME, "divergence"))[0]
    full = checks._replay(run, run.lrs())
    gamma = (run.lr_max / run.lr_min) ** (1 / (run.steps - 1))
    chained = [run.lr_min * gamma ** 0]
    for _ in range(run.steps - 1):
        chained.append(chained[-1] * gamma)
    stop = checks._stop_index(full)
    for lrs in (list(np.geomspace(run.lr_min, run.lr_max, run.steps)), chained):
        other = checks._replay(run, lrs)
        assert checks._stop_index(other) == stop
        assert _rel(other[:stop + 1], full[:stop + 1]) < 1e-13


# ------------------------------------------------------------------ the catalogue

def test_the_checks_are_registered():
    assert grader.parts(NAME) == PARTS


@pytest.mark.parametrize("part", PARTS)
def test_each_part_passes_the_reference(part):
    grader.check(NAME, ref.lr_range_test, part)


@pytest.mark.parametrize("part", PARTS)
def test_each_part_fails_fast_when_every_known_mistake_is_replayed(part):
    """The slowest path: a run that differs from the first loss on, replayed with every
    known mistake before failing (timed by pytest --durations)."""
    with pytest.raises(AssertionError, match=NAME):
        grader.check(NAME, catalogue.smoothed_losses if part != "schedule" else catalogue.linear_spacing, part)


@pytest.mark.parametrize("label, fn, failing, phrase", catalogue.WRONG[NAME], ids=[r[0] for r in catalogue.WRONG[NAME]])
def test_wrong_implementation_loses_the_right_points(label, fn, failing, phrase):
    assert_loses_right_points(NAME, fn, failing, phrase)


@pytest.mark.parametrize("fn", catalogue.RIGHT[NAME], ids=lambda fn: fn.__name__)
def test_correct_variant_gets_full_marks(fn):
    assert outcome(NAME, fn) == {p: None for p in PARTS}


@pytest.mark.parametrize("secret", [b"another class 0", b"another class 1", b"another class 2"])
def test_catalogue_holds_under_other_secrets(secret):
    seeds.use(secret)
    try:
        for fn in [ref.lr_range_test, *catalogue.RIGHT[NAME]]:
            assert outcome(NAME, fn) == {p: None for p in PARTS}, fn.__name__
        for label, fn, failing, phrase in catalogue.WRONG[NAME]:
            result = outcome(NAME, fn)
            lost = {p for p, msg in result.items() if msg}
            assert lost == failing, f"{label}: lost {sorted(lost)}, expected {sorted(failing)}: {result}"
            unnamed = {p: m for p, m in result.items() if m and phrase not in m}
            assert not unnamed, f"{label}: parts whose message does not say {phrase!r}: {unnamed}"
    finally:
        seeds.use(seeds.DEFAULT)


def test_sources_define_the_graded_function_and_lose_the_cells_listed():
    assert set(catalogue.SOURCES) == set(catalogue.LOSES) and sum(not v for v in catalogue.LOSES.values()) == 2
    for label, source in catalogue.SOURCES.items():
        namespace = {}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            exec(compile(source, f"<{label}>", "exec"), namespace)
        fn = namespace[NAME]
        assert callable(fn)
        result = outcome(NAME, fn)
        loses = {f"{NAME}_{p}" for p, message in result.items() if message}
        assert loses == set(catalogue.LOSES[label]), (label, result)
        for cell, phrase in catalogue.LOSES[label].items():
            assert phrase in result[cell.removeprefix(f"{NAME}_")], (label, cell, result)


def _empty(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    model_fn()
    return [], []


def _one_too_many(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    lrs, losses = ref.run(model_fn, loader, ref.geometric_lrs(lr_min, lr_max, steps), opt_fn, stop=False)
    return np.append(lrs, lr_max), np.append(losses, losses[-1])


def _todo(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    raise NotImplementedError()


def _no_opt_fn(model_fn, loader, lr_min, lr_max, steps):
    return ref.lr_range_test(model_fn, loader, lr_min, lr_max, steps)


def _half_precision(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    lrs, losses = ref.lr_range_test(model_fn, loader, lr_min, lr_max, steps, opt_fn)
    return lrs.astype(np.float16), losses.astype(np.float16)


def _float32(model_fn, loader, lr_min, lr_max, steps, opt_fn=None):
    lrs, losses = ref.lr_range_test(model_fn, loader, lr_min, lr_max, steps, opt_fn)
    return torch.tensor(lrs.tolist()), torch.tensor(losses.tolist())   # torch's default dtype: float32


@pytest.mark.parametrize("fn, phrases", [
    (_empty, {"schedule": "returned 0 lrs", "losses": "returned 0 losses", "divergence": "returned 0 losses"}),
    (_one_too_many, {"schedule": "one per update", "losses": "one loss per update", "divergence": "should stop"}),
    (_todo, dict.fromkeys(PARTS, "not implemented yet")),
    (_no_opt_fn, dict.fromkeys(PARTS, "opt_fn=None)")),
    (_half_precision, dict.fromkeys(PARTS, "came as float16")),
], ids=lambda v: getattr(v, "__name__", ""))
def test_odd_answers_fail_every_part_with_a_readable_message(fn, phrases):
    result = outcome(NAME, fn)
    for part, phrase in phrases.items():
        assert result[part] and phrase in result[part] and NAME in result[part], (part, result[part])


def test_float32_results_are_compared_at_float32_precision():
    """torch.tensor(a list of floats) makes float32: such lrs and losses are judged at
    float32's rounding (1e-7), and the losses are replayed at the contract's exact lrs."""
    assert outcome(NAME, _float32) == {p: None for p in PARTS}
