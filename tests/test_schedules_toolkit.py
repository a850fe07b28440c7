"""The toolkit of notebook 03: the noisy quadratic (exact gradient, unbiased noise of the
stated size, SGD runs that follow the update rule and the predicted noise floor), the
batched network task (each network its own independent model), schedule_values, and
the interactive schedule explorer (sliders update the same artists, the title states
the settings, unimplemented schedules are labelled, errors are shown and raised, a PNG
lands in the display bundle)."""
import math

import numpy as np
import pytest
import torch

import descentlab as dl
from descentlab.schedules_plot import (
    Schedule,
    ScheduleExplorer,
    explore_schedules,
    schedule_color,
    schedules_figure,
    show_schedules,
)
from descentlab.schedules_problems import MLPTask, NoisyQuadratic, NoisyRun, schedule_values


# Schedules written for this test (the toolkit never sees the grader's references).
def step_decay(step, lr0, step_size, gamma):
    return lr0 * gamma ** (step // step_size)


def exponential_decay(step, lr0, gamma):
    return lr0 * gamma ** step


def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    if step >= T_max:
        return lr_min
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * step / T_max)) / 2


def todo(step, lr0, T_max, lr_min=0.0):
    raise NotImplementedError()


# ------------------------------------------------------------------ schedule_values
def test_schedule_values_calls_the_schedule_for_steps_0_to_n_minus_1():
    v = schedule_values(step_decay, 7, lr0=0.1, step_size=3, gamma=0.5)
    assert v.dtype == float and v.shape == (7,)
    np.testing.assert_allclose(v, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025])
    assert schedule_values(step_decay, 0, lr0=0.1, step_size=3, gamma=0.5).shape == (0,)


# ------------------------------------------------------------------ the noisy quadratic
PROBLEMS = [NoisyQuadratic(), NoisyQuadratic((0.5, 5.0), 1.0), NoisyQuadratic((1.0, 2.0, 3.0, 40.0), 0.3),
            NoisyQuadratic((2.0,), 0.5)]


@pytest.mark.parametrize("p", PROBLEMS, ids=lambda p: p.name)
def test_f_and_exact_gradient(p):
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (30, p.dim))
    np.testing.assert_allclose(p.f(X), 0.5 * (X * X * p.h).sum(-1), rtol=1e-14)
    for x in X[:10]:
        xt = torch.tensor(x, requires_grad=True)
        (0.5 * (torch.tensor(p.h) * xt * xt).sum()).backward()
        np.testing.assert_allclose(p.grad(x), xt.grad.numpy(), rtol=1e-14)
    assert p.f_min == 0.0 and np.array_equal(p.global_min, np.zeros(p.dim))
    assert p.dim == len(p.h) and len(p.bounds) == p.dim


@pytest.mark.parametrize("p", PROBLEMS, ids=lambda p: p.name)
def test_stochastic_gradient_is_unbiased_with_the_stated_noise(p):
    rng = np.random.default_rng(1)
    x = np.linspace(-1, 1, p.dim)
    G = p.stochastic_grad(np.broadcast_to(x, (40_000, p.dim)), rng)
    np.testing.assert_allclose(G.mean(0), p.grad(x), atol=5 * p.noise / math.sqrt(40_000))
    np.testing.assert_allclose(G.std(0), p.noise, rtol=0.02)


def test_zero_noise_gives_gradient_descent_exactly():
    p = NoisyQuadratic((0.5, 5.0), 0.0)
    run = p.sgd(np.full(50, 0.1), [-1.8, 1.5], runs=3, seed=4)
    k = np.arange(51)[:, None]
    expected = np.array([-1.8, 1.5]) * (1 - 0.1 * p.h) ** k
    for r in range(3):
        np.testing.assert_allclose(run.xs[r], expected, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(run.losses, p.f(run.xs), rtol=1e-14)


def test_sgd_follows_the_update_rule_with_the_seeded_noise():
    p = NoisyQuadratic((0.5, 5.0), 0.7)
    lrs = schedule_values(cosine_annealing, 40, lr0=0.2, T_max=40)
    run = p.sgd(lrs, [1.0, -1.0], runs=4, seed=9)
    rng = np.random.default_rng(9)
    x = np.tile([1.0, -1.0], (4, 1))
    for k, lr in enumerate(lrs):
        x = x - lr * (p.h * x + 0.7 * rng.standard_normal((4, 2)))
        np.testing.assert_allclose(run.xs[:, k + 1], x, rtol=1e-13, atol=1e-15)
    assert isinstance(run, NoisyRun) and run.runs == 4
    assert run.xs.shape == (4, 41, 2) and run.losses.shape == (4, 41) and np.array_equal(run.lrs, lrs)


def test_same_seed_same_noise_other_seed_other_noise():
    p = NoisyQuadratic()
    a = p.sgd(np.full(20, 0.1), [1.0, 1.0], runs=5, seed=3)
    b = p.sgd(np.full(20, 0.1), [1.0, 1.0], runs=5, seed=3)
    c = p.sgd(np.full(20, 0.1), [1.0, 1.0], runs=5, seed=4)
    assert np.array_equal(a.xs, b.xs) and not np.allclose(a.xs, c.xs)
    assert not np.allclose(a.xs[0], a.xs[1])  # the runs are independent


def test_run_summaries_and_path():
    p = NoisyQuadratic()
    run = p.sgd(np.full(30, 0.05), [1.0, 1.0], runs=6, seed=0)
    np.testing.assert_allclose(run.mean_loss, run.losses.mean(0))
    assert run.final_loss == pytest.approx(run.losses[:, -1].mean())
    assert run.tail_loss(5) == pytest.approx(run.losses[:, -5:].mean())
    path = run.path(2)
    assert isinstance(path, dl.Trajectory)
    np.testing.assert_array_equal(path.xs, run.xs[2])
    np.testing.assert_array_equal(path.losses, run.losses[2])


@pytest.mark.parametrize("lr", [0.02, 0.1, 0.3])
def test_noise_floor_matches_a_long_simulation(lr):
    p = NoisyQuadratic((0.5, 5.0), 1.0)
    run = p.sgd(np.full(600, lr), [0.0, 0.0], runs=2000, seed=2)
    assert run.tail_loss(300) == pytest.approx(p.noise_floor(lr), rel=0.04)


def test_noise_floor_formula_and_limits():
    p = NoisyQuadratic((0.5, 5.0), 2.0)
    assert p.noise_floor(0.1) == pytest.approx(0.1 * 4 / (2 * (2 - 0.05)) + 0.1 * 4 / (2 * (2 - 0.5)))
    assert p.noise_floor(0.0) == 0.0
    assert p.max_stable_lr == pytest.approx(0.4)
    assert p.noise_floor(0.4) == math.inf and p.noise_floor(1.0) == math.inf
    assert p.with_noise(1.0).noise_floor(0.1) == pytest.approx(p.noise_floor(0.1) / 4)
    with pytest.raises(ValueError):
        p.noise_floor(-0.1)


def test_divergent_runs_are_kept_without_warnings():
    p = NoisyQuadratic((0.5, 5.0), 1.0)
    with np.errstate(all="raise"):
        run = p.sgd(np.full(2000, 0.5), [1.0, 1.0], runs=2, seed=0)
    assert not np.isfinite(run.final_loss)


def test_bad_arguments():
    with pytest.raises(ValueError):
        NoisyQuadratic((1.0, -2.0))
    with pytest.raises(ValueError):
        NoisyQuadratic((1.0, 2.0), noise=-1.0)


# ------------------------------------------------------------------ the network task
def test_mlp_task_shapes_and_losses():
    task = MLPTask(n=64, width=16, batch_size=8)
    params = task.init(3, seed=0)
    assert [tuple(p.shape) for p in params] == [(3, 2, 16), (3, 16, 16), (3, 16, 1), (3, 1, 16), (3, 1, 16), (3, 1, 1)]
    assert all(p.requires_grad and p.is_leaf for p in params)
    loss = task.minibatch_loss(params)
    assert loss.shape == (3,) and torch.all(loss > 0)
    full = task.full_loss(params)
    assert isinstance(full, np.ndarray) and full.shape == (3,) and np.all(full > 0)


def test_mlp_networks_are_independent():
    """Summing the losses gives each network exactly its own gradient."""
    task = MLPTask(n=64, width=16, batch_size=8)
    params = task.init(3, seed=0)
    loss = task.minibatch_loss(params)
    loss.sum().backward()
    summed = [p.grad[1].clone() for p in params]
    for p in params:
        p.grad = None
    task.init(3, seed=0)  # same batches again
    loss = task.minibatch_loss(params)
    loss[1].backward()
    for s, p in zip(summed, params, strict=True):
        torch.testing.assert_close(p.grad[1], s)
        assert torch.all(p.grad[0] == 0) and torch.all(p.grad[2] == 0)


def test_mlp_same_seed_same_networks_and_batches():
    task = MLPTask(n=64, width=16, batch_size=8)
    a = task.minibatch_loss(task.init(2, seed=5))
    b = task.minibatch_loss(task.init(2, seed=5))
    c = task.minibatch_loss(task.init(2, seed=6))
    torch.testing.assert_close(a, b)
    assert not torch.allclose(a, c)


def test_mlp_adam_training_lowers_the_loss():
    task = MLPTask(n=128, width=16, batch_size=16)
    params = task.init(2, seed=0)
    before = task.full_loss(params)
    opt = torch.optim.Adam(params, lr=0.01)
    for _ in range(150):
        loss = task.minibatch_loss(params)
        opt.zero_grad()
        loss.sum().backward()
        opt.step()
    assert np.all(task.full_loss(params) < 0.5 * before)


# ------------------------------------------------------------------ static figures
def test_schedules_figure_draws_rates_losses_and_floors():
    p = NoisyQuadratic((0.5, 5.0), 1.0)
    runs = {"step decay": p.sgd(schedule_values(step_decay, 50, lr0=0.2, step_size=10, gamma=0.5), [1, 1], 5),
            "constant": p.sgd(np.full(50, 0.2), [1, 1], 5)}
    fig = schedules_figure(p, runs, title="t")
    ax_lr, ax_loss = fig.axes
    np.testing.assert_allclose(ax_lr.lines[0].get_ydata(), runs["step decay"].lrs)
    labels = [t.get_text() for t in ax_loss.get_legend().get_texts()]
    assert any(label.startswith("step decay: final") for label in labels)
    assert "noise floor of the current rate" in labels
    floor_line = ax_loss.lines[1]
    np.testing.assert_allclose(floor_line.get_ydata()[:10], p.noise_floor(0.2))
    assert ax_lr.lines[0].get_color() == schedule_color("step decay") != ax_lr.lines[1].get_color()
    fig = schedules_figure(p, runs, floors=False, colors={"constant": "#123456"})
    assert fig.axes[0].lines[1].get_color() == "#123456" and len(fig.axes[1].lines) == 2
    assert show_schedules(p, runs) is not None  # outside IPython the figure is returned


def test_schedule_colors_are_fixed():
    assert schedule_color("cosine annealing") == schedule_color("cosine annealing, lr0=0.1")
    assert len({schedule_color(k) for k in ("constant", "step decay", "exponential decay",
                                             "cosine annealing", "warmup + cosine")}) == 5


# ------------------------------------------------------------------ the explorer
SLIDERS = {"lr0": ("log", 0.005, 0.45, 0.2), "step_size": ("int", 1, 300, 75), "gamma": (0.05, 1.0, 0.3),
           "decay": (0.95, 1.0, 0.985), "total_steps": ("int", 1, 300, 300), "noise": (0.0, 3.0, 1.0)}


def make(first=None, **kw):
    schedules = [Schedule("step decay", step_decay, ["step_size", "gamma"]),
                 Schedule("exponential decay", exponential_decay, {"gamma": "decay"}),
                 Schedule("cosine annealing", cosine_annealing, {"T_max": "total_steps"})]
    if first:
        schedules.insert(0, first)
    return explore_schedules(NoisyQuadratic((0.5, 5.0), 1.0), schedules, SLIDERS, steps=120, runs=20, **kw)


def test_moving_a_slider_updates_the_same_artists():
    ex = make(title="noisy quadratic")
    assert isinstance(ex, ScheduleExplorer)
    lr_line, loss_line, figure = ex._lr_line, ex._loss_line, ex.figure
    before_lr, before_loss = np.array(lr_line.get_ydata()), np.array(loss_line.get_ydata())
    ex.sliders["gamma"].value = 0.5  # as the widget does when a student drags it
    assert ex.figure is figure and ex._lr_line is lr_line and ex._loss_line is loss_line
    after_lr = np.array(lr_line.get_ydata())
    assert not np.allclose(before_lr, after_lr) and not np.allclose(before_loss, loss_line.get_ydata())
    np.testing.assert_allclose(after_lr, schedule_values(step_decay, 120, lr0=0.2, step_size=75, gamma=0.5))
    np.testing.assert_allclose(loss_line.get_ydata(), ex.results["step decay"].mean_loss)


def test_title_states_the_settings_of_the_chosen_schedule():
    ex = make(title="noisy quadratic")
    title = ex.figure._suptitle.get_text()
    assert title == "noisy quadratic: step decay, lr0=0.2, step_size=75, gamma=0.3, noise=1"
    ex.sliders["schedule"].value = "exponential decay"
    title = ex.figure._suptitle.get_text()
    assert "exponential decay" in title and "gamma=0.985" in title and "step_size" not in title
    ex.set(lr0=0.05, noise=2.0)
    assert "lr0=0.05" in ex.figure._suptitle.get_text() and "noise=2" in ex.figure._suptitle.get_text()


def test_dropdown_shows_only_the_sliders_that_matter():
    ex = make()
    shown = {k for k, w in ex.sliders.items() if w.layout.display != "none"}
    assert shown == {"schedule", "lr0", "step_size", "gamma", "noise"}
    ex.sliders["schedule"].value = "cosine annealing"
    shown = {k for k, w in ex.sliders.items() if w.layout.display != "none"}
    assert shown == {"schedule", "lr0", "total_steps", "noise"}


def test_noise_slider_changes_the_runs_and_the_floor():
    ex = make()
    ex.set(noise=0.0)
    assert ex.results["constant"].final_loss < 1e-10
    ex.set(noise=2.0)
    assert ex.results["constant"].tail_loss(50) == pytest.approx(4 * ex.problem.noise_floor(0.2), rel=0.2)
    np.testing.assert_allclose(ex._floor_const.get_ydata(), ex.problem.with_noise(2.0).noise_floor(0.2))


def test_constant_rate_is_drawn_beside_the_schedule():
    ex = make()
    ex.set(lr0=0.1)
    np.testing.assert_allclose(ex._lr_const.get_ydata(), 0.1)
    np.testing.assert_allclose(ex._loss_const.get_ydata(), ex.results["constant"].mean_loss)
    labels = [t.get_text() for t in ex.ax_loss.get_legend().get_texts()]
    assert any(label.startswith("constant: final") for label in labels)


def test_unimplemented_schedule_is_labelled_not_hidden():
    ex = make(first=Schedule("warmup + cosine", todo, {"T_max": "total_steps"}))
    labels = [t.get_text() for t in ex.ax_lr.get_legend().get_texts()]
    assert "warmup + cosine: not implemented yet" in labels
    assert "constant" in ex.results and "warmup + cosine" not in ex.results
    assert len(ex._lr_line.get_xdata()) == 0


def test_divergence_is_labelled():
    ex = make()
    ex.sliders["lr0"].value = 0.45
    labels = [t.get_text() for t in ex.ax_loss.get_legend().get_texts()]
    assert any(label.startswith("constant: diverg") for label in labels), labels
    ex.sliders["lr0"].value = 0.2
    assert not any("diverg" in t.get_text() for t in ex.ax_loss.get_legend().get_texts())


def test_error_in_a_schedule_is_shown_and_raised():
    calls = {"n": 0}

    def flaky(step, lr0, T_max, lr_min=0.0):
        calls["n"] += 1
        if calls["n"] > 120:
            raise ValueError("student bug")
        return lr0

    ex = make(first=Schedule("flaky", flaky, {"T_max": "total_steps"}))
    with pytest.raises(ValueError, match="student bug"):
        ex.sliders["lr0"].value = 0.1
    assert "student bug" in ex.figure._suptitle.get_text()
    assert any("student bug" in o.get("text", "") for o in ex.errors.outputs)


def test_display_bundle_holds_a_png():
    ex = make()
    bundle = ex.canvas._repr_mimebundle_()
    assert "image/png" in bundle and len(bundle["image/png"]) > 1000


def test_missing_sliders_are_reported():
    p = NoisyQuadratic()
    with pytest.raises(ValueError, match="noise"):
        explore_schedules(p, [Schedule("step decay", step_decay, ["step_size", "gamma"])],
                          {"lr0": (0.01, 0.3, 0.1), "step_size": ("int", 1, 50, 10), "gamma": (0.1, 1.0, 0.5)})
    with pytest.raises(ValueError, match="gamma"):
        explore_schedules(p, [Schedule("step decay", step_decay, ["step_size", "gamma"])],
                          {"lr0": (0.01, 0.3, 0.1), "step_size": ("int", 1, 50, 10), "noise": (0.0, 2.0, 1.0)})
    with pytest.raises(TypeError):
        explore_schedules(dl.ravine(10), [Schedule("step decay", step_decay, ["step_size", "gamma"])], SLIDERS)


# ------------------------------------------------------------------ grading the off-by-one mistakes
# Issue 5's acceptance: each off-by-one mistake loses the right points, with a message that
# shows the step where the schedule first goes wrong. (The toolkit never imports the grader;
# this test does, to check the hidden tests of notebook 03 end to end.)
OFF_BY_ONE = [  # (graded function, catalogue label)
    ("step_decay", "(step + 1) in the decay"),
    ("exponential_decay", "(step + 1) in the decay"),
    ("cosine_annealing", "T_max + 1"),
    ("cosine_annealing", "(step + 1) in the cosine"),
    ("cosine_annealing", "no clamp after the end"),
    ("warmup_cosine", "warmup starting at zero"),
    ("warmup_cosine", "warmup one step too long"),
    ("warmup_cosine", "progress from step 0"),
    ("warmup_cosine", "(step + 1) in the cosine"),
    ("warmup_cosine", "total_steps + 1"),
    ("warmup_cosine", "no clamp after the end"),
]


@pytest.mark.parametrize("name, label", OFF_BY_ONE, ids=[f"{n}: {label}" for n, label in OFF_BY_ONE])
def test_off_by_one_mistake_loses_its_points_and_names_the_first_wrong_step(name, label):
    import grader
    from grader import reference as ref
    from grader.checks.tolerance import SCHEDULE_TOL
    from tests.catalogue import schedules as catalogue

    wrong, failing, phrase = {row[0]: row[1:] for row in catalogue.WRONG[name]}[label]
    lost = set()
    calls = []  # what the check asked for in the current part

    def student(step, **p):  # the wrong schedule, recording what the check asks for
        calls.append((step, p))
        return wrong(step, **p)

    for part in grader.parts(name):
        calls.clear()
        try:
            grader.check(name, student, part)
            continue
        except AssertionError as e:
            msg = str(e)
        lost.add(part)
        # the case that failed is the last one checked: its settings and its steps
        p = calls[-1][1]
        steps = [s for s, q in calls if q == p]
        first = next(s for s in steps
                     if not abs(wrong(s, **p) - getattr(ref, name)(s, **p))
                     <= SCHEDULE_TOL * max(1e-12, abs(wrong(s, **p)) + abs(getattr(ref, name)(s, **p))))
        assert f"first goes wrong at step {first}: expected " in msg, (part, first, msg)
        assert phrase in msg and ", got " in msg and msg.startswith(f"{name}(step, "), msg
    assert lost == failing, f"{name} with {label}: expected to lose {sorted(failing)}, lost {sorted(lost)}"
