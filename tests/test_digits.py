"""The real data of notebook 06 (descentlab.digits) and its grid explorer: the images are
scikit-learn's, the split is fixed, stratified and disjoint, loaders reshuffle every epoch
reproducibly, the schedules are the shapes the lesson describes, fit() trains with the
function it is given, and a click on a heatmap selects that run."""
import math
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from descentlab import digits
from descentlab.digits import History, Recipe
from descentlab.grid_plot import GridExplorer, cell_means
from grader.reference import warmup_cosine


def test_the_images_are_scikit_learns():
    from sklearn.datasets import load_digits
    X, y = digits.load()
    ref = load_digits()
    assert np.array_equal(X, ref.data / 16.0) and np.array_equal(y, ref.target)
    assert X.shape == (1797, 64) and not X.flags.writeable


def test_the_split_is_fixed_stratified_and_disjoint():
    d = digits.split()
    assert digits.split() is d
    X, y = digits.load()
    parts = [(d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)]
    assert [len(p[1]) for p in parts] == [1079, 359, 359]
    rows = [{r.tobytes() for r in p[0]} for p in parts]
    assert not (rows[0] & rows[1] or rows[0] & rows[2] or rows[1] & rows[2])
    whole = np.bincount(y) / len(y)
    for _, yp in parts:
        assert np.abs(np.bincount(yp, minlength=10) / len(yp) - whole).max() < 0.01
    other = digits.split(seed=1)
    assert not np.array_equal(other.y_test, d.y_test)


def test_a_loader_reshuffles_each_epoch_and_repeats_with_its_seed():
    d = digits.split()
    order = lambda loader: [yb.tolist() for _, yb in loader]   # noqa: E731
    a, b = digits.loader(d.X_val, d.y_val, 64, seed=3), digits.loader(d.X_val, d.y_val, 64, seed=3)
    first, second = order(a), order(a)
    assert first != second and first == order(b)
    assert [len(batch) for batch in first] == [64] * 5 + [39]
    assert sorted(sum(first, [])) == sorted(d.y_val.tolist())


def test_fit_trains_with_the_function_it_is_given():
    calls = []

    def one_epoch(model, loader, optimizer, scheduler=None, clip=None):
        calls.append((scheduler, clip))
        return 1.5

    model = digits.mlp(0)
    h = digits.fit(one_epoch, model, torch.optim.SGD(model.parameters(), lr=0.1), epochs=3, clip=2.0)
    assert len(calls) == 3 and calls[0] == (None, 2.0)
    assert h.train_loss == [1.5] * 3 and len(h.val_acc) == 3 and h.lr == [0.1] * 3


def _lrs(name, total=100, lr=1.0):
    model = digits.mlp(0)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    sched = digits.make_schedule(name, opt, total)
    out = []
    for _ in range(total):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        if sched is not None:
            sched.step()
    return np.array(out)


def test_the_schedules_have_the_shapes_the_lesson_names():
    assert np.all(_lrs("constant") == 1.0)
    step = _lrs("step")
    assert np.allclose(step[:50], 1) and np.allclose(step[50:75], 0.1) and np.allclose(step[75:], 0.01)
    cos = _lrs("cosine")
    assert np.allclose(cos, [0.5 * (1 + math.cos(math.pi * t / 100)) for t in range(100)])
    wc = _lrs("warmup_cosine")
    assert np.allclose(wc, [warmup_cosine(t, 1.0, 10, 100) for t in range(100)])
    one = _lrs("onecycle")
    assert abs(one[0] - 1 / 25) < 1e-12 and abs(one.max() - 1.0) < 1e-3 and one[-1] < 1e-3


def test_train_remembers_its_runs_and_repeats_them():
    def one_epoch(model, loader, optimizer, scheduler=None, clip=None):
        model.train()
        for x, y in loader:
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(model(x), y).backward()
            optimizer.step()
        return 0.0

    r = Recipe(model="mlp-drop", epochs=1)
    h = digits.train(one_epoch, r, seed=5)
    assert digits.train(one_epoch, r, seed=5) is h
    digits._RUNS.clear()
    assert digits.train(one_epoch, r, seed=5).val_acc == h.val_acc     # dropout's masks are seeded


def fake_grid():
    rng = np.random.default_rng(0)
    lrs = {"sgd": [0.1, 0.3, 1.0], "adamw": [1e-3, 1e-2, 1e-1]}
    wds = [0.0, 0.01, 0.1]
    results = {}
    for name, grid in lrs.items():
        results[name] = {}
        for lr in grid:
            for wd in wds:
                results[name][(lr, wd)] = [History(train_loss=[1.0] * 4, val_acc=list(0.8 + 0.05 * rng.random(4)))
                                           for _ in range(3)]
    return results, lrs, wds


def make():
    return GridExplorer(*fake_grid())


def test_the_grid_explorer_starts_at_the_best_cell_and_follows_a_click():
    results, lrs, wds = fake_grid()
    ex = GridExplorer(results, lrs, wds)
    means = cell_means(results["adamw"], lrs["adamw"], wds)
    i, j = np.unravel_index(np.argmax(means), means.shape)
    assert (ex.values["optimizer"], ex.values["lr"], ex.values["wd"]) == ("adamw", j, i)
    ax, marker = ex.maps["sgd"]
    ex.on_click(SimpleNamespace(inaxes=ax, xdata=2.2, ydata=0.9))
    assert (ex.values["optimizer"], ex.values["lr"], ex.values["wd"]) == ("sgd", 2, 1)
    xs, ys = marker.get_data()
    assert min(xs) == 1.5 and min(ys) == 0.5
    assert ex.maps["adamw"][1].get_data()[0] == []
    assert np.array_equal(ex.lines[0].get_ydata(), results["sgd"][(1.0, 0.01)][0].val_acc)
    assert "lr=1, weight_decay=0.01" in ex.title_artist.get_text()


@pytest.mark.parametrize("model", ["mlp", "mlp-bn", "mlp-drop", "cnn"])
def test_every_model_takes_a_batch_of_digits(model):
    d = digits.split()
    net = digits.make_model(model, 0)
    x, _ = digits.tensors(d.X_val[:8], d.y_val[:8])
    assert net(x).shape == (8, 10)
    assert digits.predict(net, d.X_val[:8]).shape == (8,) and net.training
