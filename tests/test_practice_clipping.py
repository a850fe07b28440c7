"""Notebook 06's clip_grad_norm and decay_param_groups: the references proven against
torch, and the checks proven on the catalogue (tests/catalogue/practice_groups.py).

- clip_grad_norm against torch.nn.utils.clip_grad_norm_ in float64 (hypothesis over the
  number and shapes of the arrays, their scales and max_norm; the worst relative error
  is printed in the terminal summary), and the non-finite policy against
  error_if_nonfinite=True.
- decay_param_groups with real torch.optim.AdamW steps: the reference's groups move every
  parameter exactly as an AdamW of its own would with weight decay on the >= 2-D
  parameters only.
- every wrong implementation of the catalogue loses exactly its parts with a message
  naming the mistake, every right one gets full marks, under the course's secret and
  three others; the answer-cell SOURCES behave as their catalogue entries.
"""
import copy

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import grader
from gradeclient import model_programs
from grader.checks import seeds
from grader.checks.extras import practice_clipping as checks
from grader.reference.clipping import clip_grad_norm
from grader.reference.param_groups import decay_param_groups
from tests.catalogue import practice_groups as catalogue
from tests.test_grading_helpers import assert_loses_right_points, outcome

# the catalogue's wrong versions compute with nan as students' code does
pytestmark = pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")

TOL = 1e-12
CASES = settings(max_examples=300, deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow])
REFERENCES = {"clip_grad_norm": clip_grad_norm, "decay_param_groups": decay_param_groups}
WORST = {}


class _WorstCaseReport:
    def pytest_terminal_summary(self, terminalreporter):
        if WORST:
            terminalreporter.section("clip_grad_norm reference vs torch (float64)")
            for key, (err, desc) in sorted(WORST.items()):
                terminalreporter.write_line(f"worst relative error of {key}: {err:.2e} ({desc}); tolerance {TOL:.0e}")


@pytest.fixture(scope="module", autouse=True)
def _report_and_one_thread(request):
    pm = request.config.pluginmanager
    if pm.get_plugin("practice-clipping-worst") is None:
        pm.register(_WorstCaseReport(), "practice-clipping-worst")
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def _record(key, err, desc):
    if err > WORST.get(key, (-1.0, ""))[0]:
        WORST[key] = (err, desc)


def _rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b) / np.maximum(1e-300, np.abs(a) + np.abs(b))))


def _torch_clip(grads, max_norm, **kw):
    tensors = []
    for g in grads:
        t = torch.zeros(np.shape(g), dtype=torch.float64)
        t.grad = torch.tensor(np.asarray(g, dtype=np.float64))
        tensors.append(t)
    total = torch.nn.utils.clip_grad_norm_(tensors, max_norm, **kw)
    return [t.grad.numpy() for t in tensors], float(total)


# ------------------------------------------------------------------ clip_grad_norm vs torch

SHAPE = st.lists(st.integers(1, 4), min_size=0, max_size=3).map(tuple)


@CASES
@given(shapes=st.lists(SHAPE, min_size=0, max_size=6), log_scale=st.floats(-8, 3),
       spread=st.floats(0, 2), log_ratio=st.floats(-4, 2), seed=st.integers(0, 2**31 - 1))
def test_clip_grad_norm_matches_torch(shapes, log_scale, spread, log_ratio, seed):
    rng = np.random.default_rng(seed)
    grads = [rng.normal(size=s) * 10 ** (log_scale + rng.uniform(-spread, spread)) for s in shapes]
    total = float(np.sqrt(sum(np.sum(g ** 2) for g in grads)))
    max_norm = float(max(total, 1e-12) * 10 ** log_ratio)
    before = [g.copy() for g in grads]
    mine, my_total = clip_grad_norm(grads, max_norm)
    theirs, their_total = _torch_clip(grads, max_norm)
    desc = f"{len(grads)} arrays {shapes}, scale 1e{log_scale:.1f}, max_norm {max_norm:.3g}"
    err_total = _rel(my_total, their_total)
    err_clip = max([_rel(a, b) for a, b in zip(mine, theirs, strict=True)] + [0.0])
    _record("total_norm", err_total, desc)
    _record("clipped", err_clip, desc)
    assert err_total <= TOL and err_clip <= TOL, (desc, err_total, err_clip)
    assert isinstance(my_total, float)
    assert all(np.array_equal(g, b) for g, b in zip(grads, before, strict=True))   # inputs untouched
    assert [a.shape for a in mine] == [g.shape for g in grads]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, 1])
def test_clip_grad_norm_non_finite_policy_matches_torch(bad, where):
    grads = [np.arange(4.0), np.ones((2, 3))]
    grads[where].flat[1] = bad
    with pytest.raises(RuntimeError):
        _torch_clip(grads, 1.0, error_if_nonfinite=True)
    with pytest.raises(ValueError):
        clip_grad_norm(grads, 1.0)


def test_clip_grad_norm_edges_match_torch():
    for grads in ([np.zeros(3), np.zeros((2, 2))], [], [np.array(3.0), np.array(-4.0)], [np.array([1e-9])]):
        for max_norm in (1e-3, 1.0, 100.0):
            mine, total = clip_grad_norm(grads, max_norm)
            theirs, their_total = _torch_clip(grads, max_norm)
            assert _rel(total, their_total) <= TOL
            assert all(_rel(a, b) <= TOL for a, b in zip(mine, theirs, strict=True))
    zeros, total = clip_grad_norm([np.zeros(3)], 1.0)
    assert total == 0.0 and np.array_equal(zeros[0], np.zeros(3))
    assert clip_grad_norm([], 1.0) == ([], 0.0)


def test_clip_grad_norm_keeps_float32():
    g = np.arange(6, dtype=np.float32).reshape(2, 3)
    (out,), total = clip_grad_norm([g], 1.0)
    assert out.dtype == np.float32 and abs(np.linalg.norm(out) - 1.0) < 1e-5 and isinstance(total, float)


# ------------------------------------------------------------------ decay_param_groups with AdamW

def _models():
    """Every model the hidden tests build, for three seeds each."""
    out = []
    for part, models in checks.GROUP_PARTS.items():
        for s in range(3):
            for k, (spec, wd) in enumerate(models(np.random.default_rng(s))):
                out.append(pytest.param(spec, wd, id=f"{part}-{s}-{k}"))
    return out


def _inputs(spec, gen):
    first = spec["layers"][0]
    if first["kind"] == "Conv2d":
        return torch.randn(16, 1, 8, 8, generator=gen, dtype=torch.float64)
    return torch.randn(16, first["in"], generator=gen, dtype=torch.float64)


def _trainable(model):
    return [p for p in model.parameters() if p.requires_grad]


@pytest.mark.parametrize("spec, wd", _models())
def test_reference_groups_decay_exactly_the_matrices(spec, wd):
    """AdamW on the reference's groups moves every parameter exactly as a per-parameter
    AdamW with weight_decay on p.ndim >= 2 and 0 otherwise; frozen parameters stay; a
    parameter shared by two layers is stepped once."""
    gen = torch.Generator().manual_seed(7)
    model = model_programs.build(spec)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64) * 0.3 + (1.0 if p.ndim == 1 else 0.0))
    twin = copy.deepcopy(model)          # deepcopy keeps the ties
    frozen = {n: p.detach().clone() for n, p in model.named_parameters() if not p.requires_grad}
    lr = 0.05
    groups = decay_param_groups(model, wd)
    assert sum(len(g["params"]) for g in groups) == len(_trainable(model))
    assert all(set(g) == {"params", "weight_decay"} for g in groups)
    opt = torch.optim.AdamW(groups, lr=lr, foreach=False)
    singles = [torch.optim.AdamW([p], lr=lr, weight_decay=wd if p.ndim >= 2 else 0.0, foreach=False)
               for p in _trainable(twin)]
    X, y = _inputs(spec, gen), torch.randint(0, 10, (16,), generator=gen)
    for _ in range(5):
        for m, opts in ((model, [opt]), (twin, singles)):
            for o in opts:
                o.zero_grad()
            torch.nn.functional.cross_entropy(m(X), y).backward()
            for o in opts:
                o.step()
    for (name, p), q in zip(model.named_parameters(), twin.parameters(), strict=True):
        assert torch.equal(p, q), name
        if name in frozen:
            assert torch.equal(p, frozen[name]), name
    # and the comparison discriminates: decay on every parameter moves the 1-D ones differently
    other = copy.deepcopy(twin)
    everything = torch.optim.AdamW(_trainable(other), lr=lr, weight_decay=wd, foreach=False)
    plain = [torch.optim.AdamW([p], lr=lr, weight_decay=wd if p.ndim >= 2 else 0.0, foreach=False)
             for p in _trainable(twin)]
    for m, opts in ((other, [everything]), (twin, plain)):
        for o in opts:
            o.zero_grad()
        torch.nn.functional.cross_entropy(m(X), y).backward()
        for o in opts:
            o.step()
    assert any(p.ndim < 2 and not torch.equal(p, q) for p, q in zip(_trainable(other), _trainable(twin),
                                                                      strict=True))


def test_the_kernel_names_tied_parameters_as_named_parameters_does():
    spec, _ = checks._shared_models(np.random.default_rng(0))[1]
    model = model_programs.build(spec)
    assert model[5].weight is model[3].weight and model[5].bias is model[3].bias
    assert not model[1].weight.requires_grad and not model[7].weight.requires_grad
    assert sorted(set(model_programs.names(model).values())) == sorted(n for n, _ in model.named_parameters())


# ------------------------------------------------------------------ the checks on the catalogue

def _wrong():
    return [pytest.param(name, fn, parts, phrase, id=f"{name}: {label}")
            for name, rows in catalogue.WRONG.items() for label, fn, parts, phrase in rows]


def _right():
    return [pytest.param(name, fn, id=f"{name}: {fn.__name__}") for name, fns in catalogue.RIGHT.items() for fn in fns]


@pytest.mark.parametrize("name, part", [(n, p) for n in sorted(REFERENCES) for p in grader.parts(n)])
def test_reference_gets_full_marks(name, part):
    """One part at a time, so that pytest --durations shows what each part costs."""
    grader.check(name, REFERENCES[name], part)


def test_parts_are_the_contracts():
    assert grader.parts("clip_grad_norm") == ["basic", "random", "edge"]
    assert grader.parts("decay_param_groups") == ["basic", "norm", "shared"]


@pytest.mark.parametrize("name, fn, failing, phrase", _wrong())
def test_wrong_implementation_loses_the_right_points(name, fn, failing, phrase):
    assert_loses_right_points(name, fn, failing, phrase)


@pytest.mark.parametrize("name, fn", _right())
def test_correct_variant_gets_full_marks(name, fn):
    assert outcome(name, fn) == {p: None for p in grader.parts(name)}


@pytest.mark.parametrize("secret", [f"practice class {i}".encode() for i in range(3)])
def test_catalogue_holds_under_other_secrets(secret):
    seeds.use(secret)
    try:
        for name, rows in catalogue.WRONG.items():
            for label, fn, failing, phrase in rows:
                result = outcome(name, fn)
                lost = {p for p, msg in result.items() if msg}
                assert lost == failing, f"{name} ({label}): lost {sorted(lost)}, expected {sorted(failing)}: {result}"
                assert any(phrase in m for m in result.values() if m), f"{name} ({label}): {result}"
        for name, fns in catalogue.RIGHT.items():
            for fn in [*fns, REFERENCES[name]]:
                assert outcome(name, fn) == {p: None for p in grader.parts(name)}, fn.__name__
    finally:
        seeds.use(seeds.DEFAULT)


@pytest.mark.parametrize("label", sorted(catalogue.SOURCES))
def test_answer_cell_sources_behave_as_their_catalogue_entries(label):
    name, lost = catalogue.SOURCE_PARTS[label]
    namespace = {}
    exec(compile(catalogue.SOURCES[label], label, "exec"), namespace)   # noqa: S102 (our own catalogue)
    result = outcome(name, namespace[name])
    assert {p for p, m in result.items() if m} == set(lost), result


def test_sources_hold_three_wrong_and_two_right_of_each():
    for name in ("clip_grad_norm", "decay_param_groups"):
        kinds = [label.split(": ")[1] for label, (n, _) in catalogue.SOURCE_PARTS.items() if n == name]
        assert kinds.count("wrong") == 3 and kinds.count("right") == 2
        for label, (n, lost) in catalogue.SOURCE_PARTS.items():
            if n == name:
                assert f"def {name}(" in catalogue.SOURCES[label]
                assert bool(lost) == (": wrong: " in label)


# ------------------------------------------------------------------ hostile or broken answers

@pytest.mark.parametrize("answer, phrase", [
    (None, "is not a function"),
    (lambda grads, max_norm: "nope", "should return the pair"),
    (lambda grads, max_norm: (0.0, grads), "wrong order"),
    (lambda grads, max_norm: ([object() for _ in grads], 0.0), "clipped"),
    (lambda grads, max_norm: ([g[..., None] for g in grads], 1.0), "has shape"),
    (lambda grads, max_norm: (grads, object()), "total_norm should be a number"),
])
def test_broken_clip_answers_fail_with_a_message(answer, phrase):
    result = outcome("clip_grad_norm", answer)
    assert all(result.values()), result
    assert any(phrase in m for m in result.values()), result
    assert all("clip_grad_norm" in m and len(m) < 900 for m in result.values())


def _not_implemented(*args):
    raise NotImplementedError()


def _raises(*args):
    raise KeyError("oops")


@pytest.mark.parametrize("answer, phrase", [
    (None, "is not a function"),
    (_not_implemented, "not implemented yet"),
    (_raises, "raised KeyError"),
    (lambda model, wd: {"params": list(model.parameters()), "weight_decay": wd}, "list of param-group dicts"),
    (lambda model, wd: 42, "list of param-group dicts"),
    (lambda model, wd: [{"params": [p.detach() for p in model.parameters()], "weight_decay": wd}],
     "not a parameter of the model"),
    (lambda model, wd: [{"params": set(model.parameters()), "weight_decay": 0.0}], "is a set"),
    (lambda model, wd: [{"params": [p for p in model.parameters() if p.ndim >= 2], "weight_decay": wd}],
     "is in no group"),
    (lambda model, wd: ["params"], "not a dict"),
    (lambda model, wd: [{"weight_decay": wd}], "no 'params' key"),
])
def test_broken_group_answers_fail_with_a_message(answer, phrase):
    result = outcome("decay_param_groups", answer)
    assert all(result.values()), result
    assert any(phrase in m for m in result.values()), result
    assert all("decay_param_groups" in m and len(m) < 900 for m in result.values())


def test_not_implemented_clip_says_so():
    result = outcome("clip_grad_norm", _not_implemented)
    assert all("not implemented yet" in m for m in result.values()), result


def test_groups_as_a_generator_are_read_once_and_accepted():
    """torch.optim takes any iterable of groups: a generator is read once, and what the
    report shows is what AdamW got."""
    def lazy(model, weight_decay):
        params = [p for p in model.parameters() if p.requires_grad]
        yield {"params": [p for p in params if p.ndim >= 2], "weight_decay": weight_decay}
        yield {"params": (p for p in params if p.ndim < 2), "weight_decay": 0.0}
    assert outcome("decay_param_groups", lazy) == {p: None for p in grader.parts("decay_param_groups")}
