"""Notebook 06's train_one_epoch and save_checkpoint: the references against a torch loop
written out here, the kernel's runs against the grader's replays (bit for bit), the
catalogue of wrong and right implementations (also under other secrets), and the
recipe's threshold against measured accuracies."""
import copy
import zlib

import numpy as np
import pytest
import torch

import grader
from gradeclient import nets
from gradeclient import training_programs as tp
from grader.checks import seeds
from grader.checks.answer import LocalAnswer
from grader.checks.extras import practice_training as pt
from grader.reference import training as ref
from tests.catalogue import practice_training as catalogue
from tests.test_grading_helpers import assert_loses_right_points, outcome

NAMES = ("train_one_epoch", "save_checkpoint")


@pytest.fixture(autouse=True)
def _one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------ the reference against torch

def _plain_model(sizes, norm, weights):
    """The network written out layer by layer (not through nets.mlp)."""
    layers = []
    for k, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(torch.nn.Linear(a, b, dtype=torch.float64))
        if k < len(sizes) - 2:
            if norm == "batch":
                layers.append(torch.nn.BatchNorm1d(b, dtype=torch.float64))
            layers.append(torch.nn.ReLU())
    model = torch.nn.Sequential(*layers)
    with torch.no_grad():
        for p, w in zip(model.parameters(), weights, strict=True):
            p.copy_(torch.tensor(w, dtype=torch.float64))
    return model


def _plain_loader(X, y, batch_size, seed):
    from torch.utils.data import DataLoader, TensorDataset
    data = TensorDataset(torch.tensor(X), torch.tensor(y))
    return DataLoader(data, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("scheduler", [None, "onecycle", "step"])
@pytest.mark.parametrize("clip", [None, 0.05])
@pytest.mark.parametrize("norm", [None, "batch"])
def test_reference_equals_a_torch_loop_bit_for_bit(scheduler, clip, norm):
    rng = np.random.default_rng(zlib.crc32(repr((scheduler, clip, norm)).encode()))
    n, d, k, batch_size, epochs = 53, 5, 3, 8, 2
    X = rng.normal(size=(n, d))
    y = rng.integers(0, k, size=n)
    sizes = [d, 9, 7, k]
    arch = {"sizes": sizes, "norm": norm}
    weights = nets.draw_weights(arch, rng)
    steps = epochs * -(-n // batch_size)

    def make():
        model = _plain_model(sizes, norm, weights)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.1)
        sched = None
        if scheduler == "onecycle":
            sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=steps)
        elif scheduler == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, step_size=4, gamma=0.5)
        return model, opt, sched

    # by hand
    model, opt, sched = make()
    expected_losses = []
    for e in range(epochs):
        model.eval()   # as after a validation pass
        model.train()
        total = 0.0
        for xb, yb in _plain_loader(X, y, batch_size, 100 + e):
            opt.zero_grad()
            out = model(xb)
            loss = torch.nn.functional.cross_entropy(out, yb)
            loss.backward()
            if clip is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip)
            opt.step()
            if sched is not None:
                sched.step()
            total += loss.item() * len(yb)
        expected_losses.append(total / n)
    expected = {k_: v.detach().numpy().copy() for k_, v in model.state_dict().items()}

    # the reference
    model, opt, sched = make()
    losses = []
    for e in range(epochs):
        model.eval()
        losses.append(ref.train_one_epoch(model, _plain_loader(X, y, batch_size, 100 + e), opt, sched, clip))
    got = {k_: v.detach().numpy() for k_, v in model.state_dict().items()}
    assert losses == expected_losses
    assert got.keys() == expected.keys()
    for key in got:
        assert np.array_equal(got[key], expected[key]), key
    if sched is not None:
        assert sched.last_epoch == steps


def test_reference_checkpoint_resumes_a_torch_run_exactly():
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(40, 4)), rng.integers(0, 3, size=40)
    arch = {"sizes": [4, 8, 3], "norm": "batch"}
    w0, w1 = nets.draw_weights(arch, rng), nets.draw_weights(arch, rng)

    def make(weights):
        model = _plain_model([4, 8, 3], "batch", weights)
        opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
        return model, opt, torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=2e-2, total_steps=4 * 5)

    model, opt, sched = make(w0)
    for e in range(4):
        if e == 2:
            saved = ref.save_checkpoint(model, opt, sched)
            frozen = copy.deepcopy(saved)
        ref.train_one_epoch(model, _plain_loader(X, y, 8, e), opt, sched)
    # training on did not change the checkpoint
    for key, value in frozen["model"].items():
        assert torch.equal(value, saved["model"][key])
    fresh, fopt, fsched = make(w1)
    fresh.load_state_dict(saved["model"])
    fopt.load_state_dict(saved["optimizer"])
    fsched.load_state_dict(saved["scheduler"])
    for e in (2, 3):
        ref.train_one_epoch(fresh, _plain_loader(X, y, 8, e), fopt, fsched)
    for (k1, a), (k2, b) in zip(model.state_dict().items(), fresh.state_dict().items(), strict=True):
        assert k1 == k2 and torch.equal(a, b), k1
    assert ref.save_checkpoint(model, opt)["scheduler"] is None


# ------------------------------------------------------------ the kernel's runs equal the replays

def _part_specs(rng):
    """Runs like those of each part (the parts' own spec builders)."""
    basic = pt._run_spec(rng, [10, 10], "batch", pt._adamw, epochs=2)
    basic["stale"] = [rng.normal(size=s) for s in nets.shapes(basic["arch"])]
    onecycle = pt._run_spec(rng, [12], None, pt._sgd, epochs=2, scheduler=pt._onecycle)
    steplr = pt._run_spec(rng, [12], None, pt._adamw, epochs=2, scheduler=pt._steplr)
    clip = pt._run_spec(rng, [10, 10], "layer", pt._adamw, epochs=2, scheduler=pt._onecycle_adam)
    clip["clip"] = pt._clip_for(clip)
    mode = pt._run_spec(rng, [10, 10], "batch", pt._sgd, epochs=2, eval_before=True)
    return [basic, onecycle, steplr, clip, mode]


@pytest.mark.parametrize("k", range(5))
def test_kernel_run_of_the_reference_equals_the_replay_bit_for_bit(k):
    spec = _part_specs(np.random.default_rng(11))[k]
    report = LocalAnswer(ref.train_one_epoch).run("train_epochs", spec)
    want = ref.replay(spec)
    assert report["error"] is None
    assert report["returned"] == want["returned"]
    assert report["last_epoch"] == want["last_epoch"]
    assert report["training"] == want["training"] == [True, True]
    for got, exp in zip(report["states"], want["states"], strict=True):
        assert got.keys() == exp.keys()
        for name in exp:
            assert np.array_equal(got[name], exp[name]), name


def test_the_mistakes_replayed_by_the_checks_are_the_reference_without_them():
    """pt._variant(None) is the reference, operation for operation."""
    for spec in _part_specs(np.random.default_rng(12)):
        a, b = ref.replay(spec), ref.replay(spec, pt._variant(None))
        assert a["returned"] == b["returned"]
        for s, t in zip(a["states"], b["states"], strict=True):
            assert all(np.array_equal(s[n], t[n]) for n in s)


@pytest.mark.parametrize("secret", [b"course-tests", b"clip 1", b"clip 2", b"clip 3", b"clip 4"])
def test_clip_is_active_on_every_batch(secret):
    """The clip part's max_norm is below the global gradient norm on every batch of the
    reference run, so clipping per tensor and clipping after the step both show."""
    seeds.use(secret)
    try:
        rng = seeds.rng("train_one_epoch", "clip")
        first = pt._run_spec(rng, [12], None, pt._sgd, epochs=1)
        first["clip"] = pt._clip_for(first)
        second = pt._run_spec(rng, [10, 10], "layer", pt._adamw, epochs=2, scheduler=pt._onecycle_adam)
        second["clip"] = pt._clip_for(second)
    finally:
        seeds.use(seeds.DEFAULT)
    for spec in (first, second):
        norms = []

        def epoch(model, loader, optimizer, scheduler=None, clip=None, norms=norms):
            model.train()
            for x, y in loader:
                optimizer.zero_grad()
                torch.nn.functional.cross_entropy(model(x), y).backward()
                norms.append(float(torch.nn.utils.clip_grad_norm_(model.parameters(), clip)))
                optimizer.step()
                if scheduler is not None:
                    scheduler.step()
            return 0.0

        ref.replay(spec, epoch)
        assert min(norms) > 1.5 * spec["clip"], (min(norms), spec["clip"])


def test_kernel_checkpoint_run_of_the_reference_resumes_exactly():
    rng = np.random.default_rng(13)
    for spec in (pt._resume_spec(rng, [10, 10], "batch", pt._adamw, 2, 2, scheduler=pt._onecycle_adam),
                 pt._resume_spec(rng, [12], None, pt._sgd, 1, 2)):
        report = LocalAnswer(ref.save_checkpoint).run("checkpoint_resume", spec)
        want = ref.uninterrupted(spec)
        assert report["error"] is None and report["shares"] == []
        assert report["keys"] == sorted(tp.CHECKPOINT_KEYS)
        for key in ("continued", "resumed"):
            assert all(np.array_equal(report[key][n], want[n]) for n in want), key
        # the kernel's own loop is the reference loop
        saved = ref.state_after(spec, spec["before"])
        assert all(np.array_equal(report["saved_model"][n], v) for n, v in saved.items())


# ------------------------------------------------------------ the catalogue

@pytest.mark.parametrize("name", NAMES)
def test_reference_gets_full_marks(name):
    assert outcome(name, getattr(ref, name)) == {p: None for p in grader.parts(name)}


def test_parts_are_the_contracts():
    assert grader.parts("train_one_epoch") == ["basic", "scheduler", "clip", "train_mode", "recipe"]
    assert grader.parts("save_checkpoint") == ["resume"]


@pytest.mark.parametrize("name, fn, failing, phrase", [
    pytest.param(name, fn, parts, phrase, id=f"{name}: {label}")
    for name, rows in catalogue.WRONG.items() for label, fn, parts, phrase in rows])
def test_wrong_implementation_loses_the_right_points(name, fn, failing, phrase):
    assert_loses_right_points(name, fn, failing, phrase)


@pytest.mark.parametrize("name, fn", [pytest.param(name, fn, id=f"{name}: {fn.__name__}")
                                      for name, fns in catalogue.RIGHT.items() for fn in fns])
def test_correct_variant_gets_full_marks(name, fn):
    assert outcome(name, fn) == {p: None for p in grader.parts(name)}


@pytest.mark.parametrize("secret", [b"another class 0", b"another class 1", b"another class 2"])
def test_catalogue_holds_under_other_secrets(secret):
    seeds.use(secret)
    try:
        for name, rows in catalogue.WRONG.items():
            for label, fn, failing, phrase in rows:
                result = outcome(name, fn)
                lost = {p for p, msg in result.items() if msg}
                assert lost == failing, f"{name} ({label}): lost {sorted(lost)}, expected {sorted(failing)}: {result}"
                unnamed = {p: m for p, m in result.items() if m and phrase not in m and p != "recipe"}
                assert not unnamed, f"{name} ({label}): parts whose message does not say {phrase!r}: {unnamed}"
        for name, fns in catalogue.RIGHT.items():
            for fn in fns:
                assert outcome(name, fn) == {p: None for p in grader.parts(name)}, (name, fn.__name__)
    finally:
        seeds.use(seeds.DEFAULT)


def test_sources_are_answer_cells_of_the_catalogue():
    wrong = {f"{name}: {label}" for name, rows in catalogue.WRONG.items() for label, *_ in rows}
    right = {f"{name}: {label}" for name, cells in (("train_one_epoch", catalogue.EPOCH_CELLS),
                                                    ("save_checkpoint", catalogue.CHECKPOINT_CELLS))
             for label in cells} - wrong
    for name in NAMES:
        mine = [k for k in catalogue.SOURCES if k.startswith(name + ": ")]
        assert sum(k in wrong for k in mine) == 3 and sum(k in right for k in mine) == 2, name
    for key, source in catalogue.SOURCES.items():
        name = key.split(": ")[0]
        assert f"def {name}(" in source and "grader" not in source
        compile(source, key, "exec")


# ------------------------------------------------------------ hostile or unfinished answers

def test_unfinished_and_broken_answers_fail_every_part_with_a_message():
    def unfinished(model, loader, optimizer, scheduler=None, clip=None):
        raise NotImplementedError()

    def returns_junk(model, loader, optimizer, scheduler=None, clip=None):
        ref.train_one_epoch(model, loader, optimizer, scheduler, clip)
        return object()

    result = outcome("train_one_epoch", unfinished)
    assert all(m and "train_one_epoch is not implemented yet" in m for m in result.values()), result
    result = outcome("train_one_epoch", returns_junk)
    assert "returned object" in result["basic"] and "mean loss" in result["basic"]
    assert {p for p, m in result.items() if m} == {"basic"}
    for part, msg in outcome("train_one_epoch", None).items():
        assert msg and "not callable" in msg, (part, msg)
    assert "not callable" in outcome("save_checkpoint", 3)["resume"]
    assert "should return a dict" in outcome("save_checkpoint", lambda model, opt, sched=None: [1, 2])["resume"]


def test_a_checkpoint_that_changes_the_run_is_named():
    def steps_the_scheduler(model, optimizer, scheduler=None):
        checkpoint = ref.save_checkpoint(model, optimizer, scheduler)
        if scheduler is not None:
            scheduler.step()
        return checkpoint

    assert "changed the run it saved" in outcome("save_checkpoint", steps_the_scheduler)["resume"]


# ------------------------------------------------------------ the recipe's threshold

def _median_accuracies(fn, secrets):
    medians = []
    for secret in secrets:
        seeds.use(secret)
        try:
            spec = pt.recipe_spec(seeds.rng("train_one_epoch", "recipe"))
        finally:
            seeds.use(seeds.DEFAULT)
        accs, err = pt.recipe_accuracies(LocalAnswer(fn).run("recipe_runs", spec))
        assert err is None and None not in accs
        medians.append(sorted(accs)[1])
    return np.array(medians)


SECRETS = [f"recipe {i}".encode() for i in range(10)]


def test_recipe_threshold_has_margin_both_ways():
    """The reference passes on each of 10 secrets with the median of its three runs at
    least 1.5 points above the threshold; zero_grad forgotten and a OneCycleLR stepped
    per epoch fail on each, their medians at least 3 points below."""
    good = _median_accuracies(ref.train_one_epoch, SECRETS)
    assert good.min() >= pt.RECIPE_ACCURACY + 0.015, good
    for label in ("zero_grad forgotten", "scheduler per epoch"):
        bad = _median_accuracies(catalogue.EPOCH[label], SECRETS)
        assert bad.max() <= pt.RECIPE_ACCURACY - 0.03, (label, bad)


# ------------------------------------------------------------ forged reports

class _Forged:
    """An answer whose kernel sends back ``report`` for every program (a hostile kernel)."""

    def __init__(self, report):
        self.report = report

    def run(self, program, spec):
        return self.report


FORGED = [None, "ok", [], {}, {"error": None}, {"error": "boom"}, {"error": {"type": 3, "message": None}},
          {"error": None, "states": "x", "returned": [float("nan")]},
          {"error": None, "states": [{"0.weight": "abc"}], "returned": ["1"], "last_epoch": [None]},
          {"error": None, "states": [None, None], "returned": [None, None]},
          {"runs": "x"}, {"runs": [{"predictions": np.zeros(3)}, 5, {"error": {"not_implemented": True}}]},
          {"error": None, "keys": [1, "x" * 10000], "load": "x"},
          {"error": None, "keys": ["model", "optimizer", "scheduler"], "load": {"model": {"type": None}}},
          {"error": None, "keys": ["model", "optimizer", "scheduler"], "load": {}, "continued": {"a": 1},
           "resumed": [], "shares": "model", "saved_model": 3}]


@pytest.mark.parametrize("k", range(len(FORGED)))
def test_forged_reports_fail_closed_with_a_short_message(k):
    for name in NAMES:
        for part in grader.parts(name):
            with pytest.raises(AssertionError) as info:
                pt.CHECKS[name][0](_Forged(FORGED[k]), part)
            assert len(str(info.value)) < 1200, str(info.value)[:2000]
