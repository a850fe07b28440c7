# ---
# jupyter:
#   jupytext:
#     notebook_metadata_filter: title,language_info,-jupytext.text_representation.jupytext_version
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
#   language_info:
#     name: python
#   title: 03 Learning-rate schedules
# ---

# %% [markdown] id="757b2d3f"
# # 03 · Learning-rate schedules: fast first, careful later
#
# A large learning rate gets close to a minimum quickly; a small one gets *closer*, but
# slowly. When the gradient is noisy, as it always is with minibatches, no single
# constant rate does both. A **schedule** changes the rate as training goes on: large at
# first, small at the end. In this notebook you write the four schedules you will meet
# most often, check each against PyTorch's own schedulers, and measure what they do to
# the loss.
#
# **You will be able to**
# - explain, with a formula you can check, why constant-rate SGD on a noisy problem
#   stops improving at a *noise floor* proportional to the rate;
# - write step decay, exponential decay, cosine annealing and linear warmup followed by
#   a cosine, as functions of the 0-based update index, exactly as
#   `torch.optim.lr_scheduler` computes them;
# - predict how a schedule moves the loss, and tune one fairly against a constant rate;
# - explain why Adam in particular needs a warmup, and show it on a small network.
#
# **Prerequisites**: notebook 01 (gradient descent on a quadratic, the stable range
# $\eta < 2/L$), numpy, a little probability (mean and variance). **Time**: about 90 minutes.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. Experiments and
# interactive plots use *your* functions, so they only work once your code does.

# %% id="ce273ca0"
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

import descentlab as dl
from descentlab.plots import show_paths
from descentlab.schedules_plot import Schedule, explore_schedules, schedule_color, show_schedules
from descentlab.schedules_problems import MLPTask, NoisyQuadratic, remembered, schedule_values
from descentlab.torch_steps import torch_adam_step

# %matplotlib inline
# %config InlineBackend.print_figure_kwargs = {"bbox_inches": None}  # our figures lay themselves out: draw each once
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator
torch.set_num_threads(1)  # the tensors here are tiny: more threads only add overhead

# %% [markdown] id="fa76ea47"
# ## 1. A constant rate on a noisy problem
#
# Our test problem is a quadratic bowl in two dimensions,
# $f(x) = \tfrac12 (h_0 x_0^2 + h_1 x_1^2)$ with curvatures $h = (0.5, 5)$ and its
# minimum $f^* = 0$ at the origin. The optimizer does not see the exact gradient
# $h \odot x$: every call adds fresh Gaussian noise of standard deviation $\sigma = 1$
# to each coordinate, the way a minibatch gradient scatters around the full one.
#
# Two runs of SGD from the same start with the same noise, one with a large rate
# ($\eta = 0.2$, close to the stable limit $2/h_1 = 0.4$) and one with a small rate
# ($\eta = 0.01$):

# %% id="e736468d"
problem = NoisyQuadratic(curvatures=(0.5, 5.0), noise=1.0)
x0 = np.array([-1.8, 1.5])
steps = 300
fast = problem.sgd(np.full(steps, 0.2), x0, runs=1, seed=1)
slow = problem.sgd(np.full(steps, 0.01), x0, runs=1, seed=1)
show_paths(problem, {"lr 0.2": fast.path(), "lr 0.01": slow.path()},
           title="SGD with a constant rate: one noisy run each, 300 steps from (-1.8, 1.5)")
print(f"lr = 0.2:  mean loss over steps 20-40 {fast.losses[0, 20:41].mean():.3f}, "
      f"over steps 200-300 {fast.losses[0, 200:].mean():.3f}")
print(f"lr = 0.01: loss after 30 steps {slow.losses[0, 30]:.3f}, after 300 steps {slow.losses[0, -1]:.3f}")


# Each claim below is an experiment of its setting; dl.robust_claim runs it as shown and, in the
# course's tests, also at other seeds, longer runs and moved starts. `remembered` runs a setting
# only once, however many claims read it.
@remembered
def one_run_each(seed, steps, x0, lr_fast, lr_slow):
    """The loss along one noisy run at each of two constant rates."""
    return (problem.sgd(np.full(steps, lr_fast), x0, runs=1, seed=seed).losses[0],
            problem.sgd(np.full(steps, lr_slow), x0, runs=1, seed=seed).losses[0])


def fast_then_slow(**setting):
    fast_loss, slow_loss = one_run_each(**setting)
    early = fast_loss[20:41].mean()
    return early < 0.3 and slow_loss[30] > 0.5, f"{early:.3f} over steps 20-40, {slow_loss[30]:.3f} at step 30"


def keeps_bouncing(**setting):
    fast_loss, _ = one_run_each(**setting)
    last, before = fast_loss[-100:].mean(), fast_loss[-200:-100].mean()
    return last > 0.1 and last > 0.7 * before, f"last 100 steps {last:.3f}, the 100 before {before:.3f}"


shown = dict(seed=1, steps=steps, x0=x0, lr_fast=0.2, lr_slow=0.01)
ten_seeds = {"seed": range(2, 12)}  # one run is one draw of the noise: try ten more
dl.robust_claim("with lr = 0.2 the loss averages below 0.3 over steps 20 to 40, "
                "with lr = 0.01 it is still above 0.5 at step 30",
                fast_then_slow, shown, fixed=["lr_fast", "lr_slow"], vary=ten_seeds)
dl.robust_claim("with lr = 0.2 the run then keeps bouncing: its loss over the last 100 steps averages above 0.1 "
                "and at least 0.7 times its average over the 100 steps before",
                keeps_bouncing, shown, fixed=["lr_fast", "lr_slow"], vary=ten_seeds)

# %% [markdown] id="611faca3"
# The large rate reaches the bottom of the bowl within about 20 steps, and then never
# settles: it keeps jumping around in a cloud, its loss averaging above 0.1 and not
# improving any more (on this run and on ten other draws of the noise). The small rate
# crawls: after 30 steps it is still far out on the flat direction $x_0$. It ends lower
# than the large rate, but is it done?
#
# ### The noise floor
#
# Why does the large rate stop improving? Take one coordinate with curvature $h$. One
# step is
#
# $$x \leftarrow (1 - \eta h)\, x - \eta \sigma \xi, \qquad \xi \sim \mathcal N(0, 1).$$
#
# The first term shrinks $x$ towards the minimum; the second adds fresh noise every
# step. They balance when the variance $s$ of $x$ stays the same from one step to the
# next: $s = (1-\eta h)^2 s + \eta^2 \sigma^2$, that is
# $s = \eta\sigma^2 / \big(h (2 - \eta h)\big)$. The mean loss $h s / 2$ of that
# coordinate is then $\eta\sigma^2 / \big(2(2 - \eta h)\big)$, and over all coordinates
#
# $$\text{floor}(\eta) = \sum_i \frac{\eta\, \sigma^2}{2\,(2 - \eta h_i)} \;\approx\; \frac{d\, \eta\, \sigma^2}{4}
# \quad\text{for small } \eta h_i .$$
#
# Two things follow. The floor is **proportional to the rate** (while $\eta h$ is small):
# halve $\eta$, halve the floor. And a small rate needs many steps to get there. The
# mean of $x$ shrinks by a factor $(1 - \eta h)$ per step, so the loss's excess over the
# floor shrinks by $(1 - \eta h)^2 \approx e^{-2\eta h}$: it falls by a factor $e$ every
# $1/(2\eta h)$ steps (its *e-folding time*: 100 steps for $\eta = 0.01$ along
# $h_0 = 0.5$). To shrink the excess to 5% of what it was takes $\ln 20 \approx 3$
# of those, about $1.5/(\eta h)$ steps: 300 for $\eta = 0.01$ along $h_0$.
# `problem.noise_floor(lr)` evaluates the formula. Check it against the mean loss of
# 500 independent runs:

# %% id="236a6c36"
runs = 500


@remembered
def constant_rates(seed, steps, x0):
    """500 noisy runs at each of three constant rates, on the same noise draws."""
    return {f"constant lr={lr}": problem.sgd(np.full(steps, lr), x0, runs=runs, seed=seed) for lr in (0.01, 0.05, 0.2)}


shown = dict(seed=1, steps=steps, x0=x0)
constant = constant_rates(**shown)
colors = dict(zip(constant, ["#0072B2", "#009E73", "#D55E00"], strict=True))
show_schedules(problem, constant, title="constant rates: mean loss of 500 runs", colors=colors)
for name, run in constant.items():
    lr = run.lrs[0]
    print(f"{name}: floor {problem.noise_floor(lr):.4f}, mean loss over steps 200-300 {run.tail_loss(100):.4f}, "
          f"after 300 steps {run.final_loss:.4f}")

# %% id="1cb9f29e"
def at_the_floor(**setting):
    errors = {lr: constant_rates(**setting)[f"constant lr={lr}"].tail_loss(100) / problem.noise_floor(lr) - 1
              for lr in (0.05, 0.2)}
    return all(abs(e) < 0.05 for e in errors.values()), f"relative errors {errors}"


def slow_still_above(**setting):
    slow_mean = constant_rates(**setting)["constant lr=0.01"].final_loss
    return (slow_mean > 5 * problem.noise_floor(0.01) and slow_mean > problem.noise_floor(0.05),
            f"{slow_mean:.4f}, floors {problem.noise_floor(0.01):.4f} (0.01), {problem.noise_floor(0.05):.4f} (0.05)")


dl.robust_claim("with lr = 0.05 and lr = 0.2 the mean loss over the last 100 steps is the predicted floor "
                "(within 5%)", at_the_floor, shown)
dl.robust_claim("after 300 steps lr = 0.01 is still more than 5 times above its own floor, and above the floor "
                "of the five times larger rate 0.05", slow_still_above, shown, fixed=["steps"])

# %% [markdown] id="947f54e4"
# The measured floors match the formula within 5%, and the small rate pays for its low
# floor with time: after 300 steps it is still more than 5 times above its own floor,
# and above even the floor of a rate five times larger. A schedule gets the best of
# both: a large rate while the loss is far above the floor, then smaller and smaller
# rates to push the floor down.

# %% [markdown] id="95cfaf5d"
# **Question 1.** A one-dimensional noisy quadratic has curvature $h = 2$ and gradient
# noise $\sigma = 0.5$. Which constant learning rate gives a noise floor (long-run mean of
# $f - f^*$) of exactly $0.01$? Write it as a number.

# %% id="fb6cdda8" nbgrader={"grade": false, "grade_id": "q_floor_lr_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
floor_lr = 4 * 0.01 / (0.5 ** 2 + 2 * 0.01 * 2)
### END SOLUTION

# %% id="9b876409" nbgrader={"grade": false, "grade_id": "q_floor_lr_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(floor_lr, "floor_lr")

# %% id="6247975a" nbgrader={"grade": true, "grade_id": "q_floor_lr", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("floor_lr", floor_lr)
### END HIDDEN TESTS

# %% [markdown] id="e8809c65"
# ## 2. The convention, and how torch runs a schedule
#
# Every schedule in this notebook is a function `schedule(step, lr0, ...)` that returns
# the learning rate of update number `step`, **counted from 0**: `step = 0` is the
# first update. It returns a Python float.
#
# PyTorch keeps the rate in the optimizer (`optimizer.param_groups[0]["lr"]`) and lets
# a scheduler object change it. A training loop calls `scheduler.step()` once after
# every `optimizer.step()`. So update $k$ uses the rate that sits in the optimizer just
# before the $k$-th call of `optimizer.step()`, after $k$ calls of `scheduler.step()`.
# The helper below trains a real `torch.optim.SGD` on a tiny problem for a few steps and
# records exactly that rate; the visible tests compare your functions with it.
#
# Other forms you will meet, mapped onto ours:
# - texts that count steps or epochs **from 1**: their $\eta_t$ is our `schedule(t - 1)`;
# - Keras' `ExponentialDecay(lr0, decay_steps, decay_rate)` is $\eta_0 r^{k/s}$: our
#   exponential decay with $\gamma = r^{1/s}$, and with `staircase=True` our step decay
#   with `step_size` $= s$, $\gamma = r$;
# - the warmup of Hugging Face's `get_cosine_schedule_with_warmup` starts at $0$
#   ($\eta_0 k / W$); ours, like torch's `LinearLR`, starts at $\eta_0 / W$, so that
#   no update is wasted with a zero rate.

# %% id="618dfec1"
def torch_lrs(make_scheduler, lr0, steps):
    """The learning rates torch's scheduler gives updates 0, 1, ..., steps - 1.

    A real torch.optim.SGD trains three numbers on a small quadratic; the scheduler
    steps after every optimizer step, as in any training loop; the rate of update k
    is read just before the k-th optimizer.step()."""
    w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.SGD([w], lr=lr0)
    scheduler = make_scheduler(optimizer)
    lrs = []
    for _ in range(steps):
        lrs.append(optimizer.param_groups[0]["lr"])
        loss = ((w - 1.0) ** 2).sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
    return np.array(lrs)


def assert_same_lrs(mine, theirs, what):
    """Fail at the first step where two sequences of learning rates differ."""
    mine, theirs = np.asarray(mine, dtype=float), np.asarray(theirs, dtype=float)
    differ = np.nonzero(~np.isclose(mine, theirs, rtol=1e-9, atol=1e-15))[0]
    if len(differ):
        k = differ[0]
        raise AssertionError(f"{what}: first differs at step {k}: torch gives {theirs[k]:.6g}, "
                             f"yours gives {mine[k]:.6g} (steps 0 to {k - 1} agree).")


sched = torch.optim.lr_scheduler


def torch_warmup_cosine(W, T, lr_min):
    """torch's linear warmup + cosine (section 6 explains it), for torch_lrs."""
    return lambda opt: sched.SequentialLR(opt, [
        sched.LinearLR(opt, start_factor=1 / W, end_factor=1.0, total_iters=W - 1),
        sched.CosineAnnealingLR(opt, T_max=T - W, eta_min=lr_min)], milestones=[W])


print(torch_lrs(lambda opt: sched.StepLR(opt, step_size=3, gamma=0.5), lr0=0.1, steps=8))


# %% [markdown] id="45a809af"
# `StepLR(step_size=3, gamma=0.5)` keeps 0.1 for updates 0, 1, 2, then halves the rate
# every 3 updates.
#
# ## 3. Step decay
#
# Keep the rate constant for `step_size` updates, then multiply it by `gamma`, again and
# again:
#
# $$\eta_k = \eta_0\, \gamma^{\lfloor k / s \rfloor}.$$
#
# This is the classic recipe for image classifiers (divide by 10 every 30 epochs, say).
# In torch it is `StepLR(optimizer, step_size, gamma)`.

# %% id="35941dbe" nbgrader={"grade": false, "grade_id": "step_decay", "locked": false, "schema_version": 3, "solution": true, "task": false}
def step_decay(step, lr0, step_size, gamma):
    """Step decay (torch.optim.lr_scheduler.StepLR): the learning rate of one update.

    step: the 0-based index of the update (an int >= 0; 0 is the first update).
    lr0: the rate of updates 0 .. step_size - 1. step_size: how many consecutive
    updates share one rate. gamma: the factor the rate is multiplied by at the end of
    every step_size updates. Returns a float (section 3 gives the formula).
    """
    ### BEGIN SOLUTION
    return float(lr0 * gamma ** (step // step_size))
    ### END SOLUTION


# %% id="b8b093db" nbgrader={"grade": false, "grade_id": "step_decay_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for step_decay
mine = [step_decay(k, lr0=0.1, step_size=3, gamma=0.5) for k in range(8)]
dl.assert_close(mine, [0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025],
                "step_decay for steps 0..7", inputs="lr0=0.1, step_size=3, gamma=0.5")
assert np.ndim(step_decay(4, 0.1, 3, 0.5)) == 0, "step_decay should return one number (a float)"
for lr0, step_size, gamma, n in [(0.1, 3, 0.5, 20), (0.7, 10, 0.1, 45), (1e-3, 1, 0.9, 30)]:
    # the defaults bind this case's values into the lambda
    theirs = torch_lrs(lambda opt, step_size=step_size, gamma=gamma:
                       sched.StepLR(opt, step_size=step_size, gamma=gamma), lr0, n)
    mine = [step_decay(k, lr0, step_size, gamma) for k in range(n)]
    assert_same_lrs(mine, theirs, f"step_decay vs torch's StepLR (lr0={lr0}, step_size={step_size}, gamma={gamma})")
print("step_decay: visible tests passed")

# %% id="d45a5c24" nbgrader={"grade": true, "grade_id": "step_decay_basic", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# step_decay: the worked examples, every step (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("step_decay", step_decay, "basic")
### END HIDDEN TESTS

# %% id="3065532a" nbgrader={"grade": true, "grade_id": "step_decay_boundaries", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# step_decay: step 0, the steps where a phase changes, steps long after the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("step_decay", step_decay, "boundaries")
### END HIDDEN TESTS

# %% id="ffe8a567" nbgrader={"grade": true, "grade_id": "step_decay_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# step_decay: 200 random settings, every step from 0 to past the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("step_decay", step_decay, "random")
### END HIDDEN TESTS

# %% [markdown] id="a3af99c8"
# ### The loss follows the floor of the current rate
#
# Run step decay on the noisy quadratic: start at $\eta_0 = 0.2$ and halve the rate every
# 100 updates. The dotted lines are the noise floors of the rate in force at each step.

# %% id="547fda9d"
@remembered
def halving_and_steeper(seed, lr0, steps, x0):
    """500 runs each of step decay every 100 updates, with gamma 0.5 and with gamma 0.3."""
    return tuple(problem.sgd(schedule_values(step_decay, steps, lr0=lr0, step_size=100, gamma=gamma), x0,
                             runs=runs, seed=seed) for gamma in (0.5, 0.3))


shown = dict(seed=1, lr0=0.2, steps=400, x0=x0)
stairs, steep = halving_and_steeper(**shown)
show_schedules(problem, {"step decay, gamma=0.5": stairs, "step decay, gamma=0.3": steep},
               colors={"step decay, gamma=0.3": "#56B4E9"}, title="step decay every 100 steps: mean loss of 500 runs")
print("stage   rate     floor    mean loss over the last 20 steps of the stage")
for stage in range(4):
    end = 100 * (stage + 1)
    lr = stairs.lrs[end - 1]
    print(f"{stage}       {lr:.4f}   {problem.noise_floor(lr):.4f}   {stairs.losses[:, end - 20:end + 1].mean():.4f}")

# %% id="c26f3505"
def stages_on_their_floors(**setting):
    halving, _ = halving_and_steeper(**setting)
    errors = []
    for stage in range(4):
        end = 100 * (stage + 1)
        errors.append(halving.losses[:, end - 20:end + 1].mean() / problem.noise_floor(halving.lrs[end - 1]) - 1)
    return max(map(abs, errors)) < 0.15, f"relative errors {np.round(errors, 3)}"


def last_stage_lags(**setting):
    _, steeper = halving_and_steeper(**setting)
    ratio = steeper.losses[:, -21:].mean() / problem.noise_floor(steeper.lrs[-1])
    return ratio > 1.5, f"{ratio:.2f} times its floor"


def steeper_ends_lower(**setting):
    halving, steeper = halving_and_steeper(**setting)
    return steeper.tail_loss(20) < halving.tail_loss(20), f"{steeper.tail_loss(20):.4f} vs {halving.tail_loss(20):.4f}"


lr_last = steep.lrs[-1]
lag = steep.losses[:, -21:].mean() / problem.noise_floor(lr_last)
print(f"gamma = 0.3: in the last stage the loss is {lag:.2f} times the floor of its rate {lr_last:.4f}")
dl.robust_claim("with gamma = 0.5, at the end of each of the four stages the loss is within 15% of the floor of "
                "the current rate", stages_on_their_floors, shown)
dl.robust_claim("with gamma = 0.3 the last stage ends more than 1.5 times above its floor", last_stage_lags, shown)
dl.robust_claim("after these four stages (400 updates), gamma = 0.3 ends lower than gamma = 0.5",
                steeper_ends_lower, shown, fixed=["steps"])
twelve = halving_and_steeper(**{**shown, "steps": 1200})
dl.robust_claim("after twelve stages (1200 updates) it is the other way round: gamma = 0.3 ends higher",
                lambda **setting: not steeper_ends_lower(**setting)[0], {**shown, "steps": 1200}, fixed=["steps"])
print(f"after 1200 updates: gamma = 0.3 at {twelve[1].tail_loss(20):.5f}, gamma = 0.5 at {twelve[0].tail_loss(20):.5f}")


# %% [markdown] id="4de99d66"
# With $\gamma = 0.5$ every stage ends near the floor of its rate (within 15%, the last
# and slowest stage lagging most): each halving of the rate about halves the loss, one
# stair at a time. With $\gamma = 0.3$ the rate falls faster than the loss can follow: a
# smaller rate also has a longer e-folding time $1/(2\eta h)$, and in the last stage
# ($\eta = 0.0054$, e-folding time 185 steps along $h_0$) the loss ends well above its
# floor. After four stages it still ends lower than with $\gamma = 0.5$: the floor it is
# chasing is lower. Keep going for twelve stages and it ends *higher*: its rate becomes so
# small that the loss hardly moves any more. That is the trade-off every schedule makes.
#
# ## 4. Exponential decay
#
# Multiply the rate by $\gamma$ after *every* update:
#
# $$\eta_k = \eta_0\, \gamma^{k}.$$
#
# The rate halves every $\ln 2 / \ln(1/\gamma)$ updates. In torch it is
# `ExponentialLR(optimizer, gamma)`.

# %% id="28441b54" nbgrader={"grade": false, "grade_id": "exponential_decay", "locked": false, "schema_version": 3, "solution": true, "task": false}
def exponential_decay(step, lr0, gamma):
    """Exponential decay (torch.optim.lr_scheduler.ExponentialLR): the learning rate of
    one update.

    step: the 0-based index of the update. lr0: the rate of update 0. gamma: the factor
    the rate is multiplied by after every update. Returns a float (section 4 gives the
    formula).
    """
    ### BEGIN SOLUTION
    return float(lr0 * gamma ** step)
    ### END SOLUTION


# %% id="a12a2dcd" nbgrader={"grade": false, "grade_id": "exponential_decay_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for exponential_decay
mine = [exponential_decay(k, lr0=0.1, gamma=0.9) for k in range(4)]
dl.assert_close(mine, [0.1, 0.09, 0.081, 0.0729], "exponential_decay for steps 0..3", inputs="lr0=0.1, gamma=0.9")
for lr0, gamma, n in [(0.1, 0.9, 30), (2.0, 0.99, 200)]:
    theirs = torch_lrs(lambda opt, gamma=gamma: sched.ExponentialLR(opt, gamma=gamma), lr0, n)
    mine = [exponential_decay(k, lr0, gamma) for k in range(n)]
    assert_same_lrs(mine, theirs, f"exponential_decay vs torch's ExponentialLR (lr0={lr0}, gamma={gamma})")
print("exponential_decay: visible tests passed")

# %% id="60ab97ca" nbgrader={"grade": true, "grade_id": "exponential_decay_basic", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# exponential_decay: the worked examples, every step (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("exponential_decay", exponential_decay, "basic")
### END HIDDEN TESTS

# %% id="265ac21f" nbgrader={"grade": true, "grade_id": "exponential_decay_boundaries", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# exponential_decay: step 0, the steps where a phase changes, steps long after the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("exponential_decay", exponential_decay, "boundaries")
### END HIDDEN TESTS

# %% id="4f8a0a54" nbgrader={"grade": true, "grade_id": "exponential_decay_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# exponential_decay: 200 random settings, every step from 0 to past the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("exponential_decay", exponential_decay, "random")
### END HIDDEN TESTS

# %% [markdown] id="3c45ad47"
# **Question 2.** With exponential decay at $\gamma = 0.99$, what is the first step $k$
# (counted from 0, as always here) whose rate is below $\eta_0 / 10$?

# %% id="a52e3c73" nbgrader={"grade": false, "grade_id": "q_steps_to_tenth_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
steps_to_tenth = int(np.ceil(np.log(0.1) / np.log(0.99)))
### END SOLUTION

# %% id="ea7396be" nbgrader={"grade": false, "grade_id": "q_steps_to_tenth_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(steps_to_tenth, "steps_to_tenth")

# %% id="d2b446f7" nbgrader={"grade": true, "grade_id": "q_steps_to_tenth", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("steps_to_tenth", steps_to_tenth)
### END HIDDEN TESTS

# %% [markdown] id="60656697"
# Step decay and exponential decay with the same half-life are two roads between the
# same points: with $\gamma_{\text{exp}} = 0.5^{1/100}$ the exponential schedule meets the
# halving-every-100-steps staircase at steps 0, 100, 200, ... and lies below it in
# between (the figure at the end of section 6 draws both kinds).

# %% id="bd3d2e3d"
staircase = schedule_values(step_decay, 400, lr0=0.2, step_size=100, gamma=0.5)
smooth = schedule_values(exponential_decay, 400, lr0=0.2, gamma=0.5 ** (1 / 100))
print("steps 0, 100, 200, 300:  step decay", staircase[::100], " exponential", np.round(smooth[::100], 12))
dl.claim("the two schedules agree at every multiple of 100 steps",
         np.allclose(staircase[::100], smooth[::100], rtol=1e-12))
between = np.arange(400) % 100 != 0
dl.claim("in between, the exponential schedule is below the staircase", np.all(smooth[between] < staircase[between]))


# %% [markdown] id="505fc1ed"
# ## 5. Cosine annealing
#
# Follow half a cosine from $\eta_0$ at step 0 down to $\eta_{\min}$ at step $T$
# (`T_max`), and stay at $\eta_{\min}$ after that:
#
# $$\eta_k = \eta_{\min} + (\eta_0 - \eta_{\min})\, \frac{1 + \cos(\pi k / T)}{2}
# \quad (k < T), \qquad \eta_k = \eta_{\min} \quad (k \ge T).$$
#
# The rate stays high for a while, falls fastest in the middle, and flattens out at the
# end. It has one parameter besides $\eta_0$: the length $T$, usually the whole run.
# torch's `CosineAnnealingLR(optimizer, T_max, eta_min)` gives the same rates for
# steps 0 to $T$; after $T$ it does not stop but climbs back up (the figure at the end
# of section 6 shows it).
# Ours stays at $\eta_{\min}$: training that runs a little longer than planned should
# not suddenly speed up again.

# %% id="11779bad" nbgrader={"grade": false, "grade_id": "cosine_annealing", "locked": false, "schema_version": 3, "solution": true, "task": false}
def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    """Cosine annealing: the learning rate of update ``step`` (0-based).

    Half a cosine from lr0 at step 0 down to lr_min at step T_max, and lr_min for
    every step from T_max on (torch.optim.lr_scheduler.CosineAnnealingLR gives the
    same rates for steps 0 .. T_max, then climbs again). Returns a float (section 5
    gives the formula).
    """
    ### BEGIN SOLUTION
    if step >= T_max:
        return float(lr_min)
    return float(lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * step / T_max)) / 2)
    ### END SOLUTION


# %% id="96aa76db" nbgrader={"grade": false, "grade_id": "cosine_annealing_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for cosine_annealing
mine = [cosine_annealing(k, lr0=1.0, T_max=4, lr_min=0.0) for k in range(7)]
dl.assert_close(mine, [1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0, 0.0], "cosine_annealing for steps 0..6",
                inputs="lr0=1, T_max=4, lr_min=0", tol=1e-5)
dl.assert_close(cosine_annealing(2, lr0=1.0, T_max=4, lr_min=0.2), 0.6, "halfway the rate is (lr0 + lr_min) / 2",
                inputs="step=2, lr0=1, T_max=4, lr_min=0.2")
dl.assert_close(cosine_annealing(3, 1.0, 4), 0.146447, "lr_min defaults to 0",
                inputs="step=3, lr0=1, T_max=4", tol=1e-5)
for lr0, T_max, lr_min in [(0.1, 10, 0.0), (1.0, 37, 0.05)]:
    theirs = torch_lrs(lambda opt, T_max=T_max, lr_min=lr_min:
                       sched.CosineAnnealingLR(opt, T_max=T_max, eta_min=lr_min), lr0, T_max + 1)
    mine = [cosine_annealing(k, lr0, T_max, lr_min) for k in range(T_max + 1)]
    assert_same_lrs(mine, theirs, f"cosine_annealing vs torch's CosineAnnealingLR, steps 0..T_max "
                                  f"(lr0={lr0}, T_max={T_max}, lr_min={lr_min})")
    after = [cosine_annealing(k, lr0, T_max, lr_min) for k in range(T_max, 3 * T_max)]
    assert_same_lrs(after, [lr_min] * len(after),
                    f"after T_max the rate stays at lr_min (steps {T_max} to {3 * T_max - 1})")
print("cosine_annealing: visible tests passed")

# %% id="7bf77be7" nbgrader={"grade": true, "grade_id": "cosine_annealing_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# cosine_annealing: the worked examples, every step (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("cosine_annealing", cosine_annealing, "basic")
### END HIDDEN TESTS

# %% id="ea9b7f35" nbgrader={"grade": true, "grade_id": "cosine_annealing_boundaries", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# cosine_annealing: step 0, the steps where a phase changes, steps long after the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("cosine_annealing", cosine_annealing, "boundaries")
### END HIDDEN TESTS

# %% id="294ec5ab" nbgrader={"grade": true, "grade_id": "cosine_annealing_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# cosine_annealing: 200 random settings, every step from 0 to past the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("cosine_annealing", cosine_annealing, "random")
### END HIDDEN TESTS

# %% id="f69c0478" nbgrader={"grade": true, "grade_id": "cosine_annealing_defaults", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# cosine_annealing: lr_min left at its default (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("cosine_annealing", cosine_annealing, "defaults")
### END HIDDEN TESTS

# %% [markdown] id="251ef453"
# ## 6. Linear warmup, then cosine
#
# Large models are often trained with a short **warmup**: the rate climbs linearly over
# the first $W$ updates, then follows a cosine from $\eta_0$ down to $\eta_{\min}$ at
# the last step $T$ (`total_steps`, warmup included):
#
# $$\eta_k = \eta_0\, \frac{k + 1}{W} \quad (k < W), \qquad
# \eta_k = \eta_{\min} + (\eta_0 - \eta_{\min})\,\frac{1 + \cos\big(\pi \tfrac{k - W}{T - W}\big)}{2}
# \quad (W \le k < T), \qquad \eta_k = \eta_{\min} \quad (k \ge T).$$
#
# Update 0 already uses $\eta_0 / W$, update $W - 1$ uses $\eta_0$, and the cosine's
# progress is counted **from the end of the warmup**, so it starts at $\eta_0$ at step
# $W$. torch builds the same schedule from two pieces, `LinearLR` for the warmup and
# `CosineAnnealingLR` for the rest, chained by `SequentialLR` at the milestone $W$:
#
# ```python
# SequentialLR(optimizer, [LinearLR(optimizer, start_factor=1 / W, end_factor=1.0, total_iters=W - 1),
#                          CosineAnnealingLR(optimizer, T_max=T - W, eta_min=lr_min)], milestones=[W])
# ```
# Why warm up at all? Section 8 shows it on Adam.

# %% id="7d7f7d28" nbgrader={"grade": false, "grade_id": "warmup_cosine", "locked": false, "schema_version": 3, "solution": true, "task": false}
def warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    """Linear warmup, then cosine annealing: the learning rate of update ``step`` (0-based).

    The first warmup_steps updates climb linearly to lr0, as torch's LinearLR does
    (update 0 already has a nonzero rate; update warmup_steps - 1 has lr0). From step
    warmup_steps a cosine runs from lr0 down to lr_min at step total_steps (the warmup
    counts towards total_steps), and every step from total_steps on has lr_min.
    Returns a float (section 6 gives the formula).
    """
    ### BEGIN SOLUTION
    if step < warmup_steps:
        return float(lr0 * (step + 1) / warmup_steps)
    if step >= total_steps:
        return float(lr_min)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return float(lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * progress)) / 2)
    ### END SOLUTION


# %% id="f0dd1a17" nbgrader={"grade": false, "grade_id": "warmup_cosine_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for warmup_cosine
mine = [warmup_cosine(k, lr0=1.0, warmup_steps=4, total_steps=8, lr_min=0.0) for k in range(10)]
dl.assert_close(mine, [0.25, 0.5, 0.75, 1.0, 1.0, 0.853553, 0.5, 0.146447, 0.0, 0.0],
                "warmup_cosine for steps 0..9", inputs="lr0=1, warmup_steps=4, total_steps=8, lr_min=0", tol=1e-5)
dl.assert_close(warmup_cosine(6, 1.0, 4, 8), 0.5, "lr_min defaults to 0",
                inputs="step=6, lr0=1, warmup_steps=4, total_steps=8")

for lr0, W, T, lr_min in [(0.1, 5, 20, 0.0), (1.0, 2, 9, 0.1), (0.3, 30, 130, 0.01)]:
    theirs = torch_lrs(torch_warmup_cosine(W, T, lr_min), lr0, T + 1)
    mine = [warmup_cosine(k, lr0, W, T, lr_min) for k in range(T + 1)]
    assert_same_lrs(mine, theirs, f"warmup_cosine vs torch's SequentialLR(LinearLR, CosineAnnealingLR) "
                                  f"(lr0={lr0}, warmup_steps={W}, total_steps={T}, lr_min={lr_min})")
    after = [warmup_cosine(k, lr0, W, T, lr_min) for k in range(T, 2 * T)]
    assert_same_lrs(after, [lr_min] * len(after), f"after total_steps the rate stays at lr_min (total_steps={T})")
print("warmup_cosine: visible tests passed")

# %% id="e00aef3a" nbgrader={"grade": true, "grade_id": "warmup_cosine_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# warmup_cosine: the worked examples, every step (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("warmup_cosine", warmup_cosine, "basic")
### END HIDDEN TESTS

# %% id="2b268d26" nbgrader={"grade": true, "grade_id": "warmup_cosine_boundaries", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# warmup_cosine: step 0, the steps where a phase changes, steps long after the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("warmup_cosine", warmup_cosine, "boundaries")
### END HIDDEN TESTS

# %% id="64dc5b7f" nbgrader={"grade": true, "grade_id": "warmup_cosine_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# warmup_cosine: 200 random settings, every step from 0 to past the end (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("warmup_cosine", warmup_cosine, "random")
### END HIDDEN TESTS

# %% id="ddef0015" nbgrader={"grade": true, "grade_id": "warmup_cosine_defaults", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# warmup_cosine: lr_min left at its default (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("warmup_cosine", warmup_cosine, "defaults")
### END HIDDEN TESTS

# %% [markdown] id="0269a1ff"
# **Question 3.** `warmup_cosine` with $\eta_{\min} = 0$, `warmup_steps` $= 100$ and
# `total_steps` $= 1000$: at which step after the warmup is the rate exactly $\eta_0 / 2$?

# %% id="4ae15557" nbgrader={"grade": false, "grade_id": "q_half_lr_step_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
half_lr_step = 100 + (1000 - 100) / 2
### END SOLUTION

# %% id="de593a8d" nbgrader={"grade": false, "grade_id": "q_half_lr_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(half_lr_step, "half_lr_step")

# %% id="36ff6807" nbgrader={"grade": true, "grade_id": "q_half_lr_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("half_lr_step", half_lr_step)
### END HIDDEN TESTS

# %% [markdown] id="5d0b8331"
# ### Your four schedules, next to torch's
#
# The visible tests compared your functions with torch on a few settings. Here are all
# four over 200 updates, each beside the torch scheduler that drives a real
# `torch.optim.SGD` (`torch_lrs` from section 2; the wide grey band is torch, the thin
# line yours). The cosine schedules end early on purpose (dotted line), to show what
# happens after the end.

# %% id="316d4a04"
n_show = 200
pairs = {  # name: (yours, torch's, torch's scheduler, number of steps where the two must agree)
    "step decay": (schedule_values(step_decay, n_show, lr0=0.2, step_size=50, gamma=0.3),
                   torch_lrs(lambda opt: sched.StepLR(opt, step_size=50, gamma=0.3), 0.2, n_show),
                   "StepLR", n_show),
    "exponential decay": (schedule_values(exponential_decay, n_show, lr0=0.2, gamma=0.98),
                          torch_lrs(lambda opt: sched.ExponentialLR(opt, gamma=0.98), 0.2, n_show),
                          "ExponentialLR", n_show),
    "cosine annealing": (schedule_values(cosine_annealing, n_show, lr0=0.2, T_max=100, lr_min=0.02),
                         torch_lrs(lambda opt: sched.CosineAnnealingLR(opt, T_max=100, eta_min=0.02), 0.2, n_show),
                         "CosineAnnealingLR", 101),
    "warmup + cosine": (schedule_values(warmup_cosine, n_show, lr0=0.2, warmup_steps=20, total_steps=160, lr_min=0.02),
                        torch_lrs(torch_warmup_cosine(20, 160, 0.02), 0.2, n_show),
                        "LinearLR, then CosineAnnealingLR", 161),
}
fig, axes = plt.subplots(1, 4, figsize=(13, 3), sharey=True, layout="constrained")
legend_at = ["lower left", "lower left", "lower left", "center right"]  # where the curves leave room
for ax, loc, (name, (ours, theirs, torch_name, agree)) in zip(axes, legend_at, pairs.items(), strict=True):
    ax.plot(theirs, color="0.75", lw=5, label="torch")
    ax.plot(ours, color=schedule_color(name), lw=1.6, label="yours")
    if agree < n_show:
        ax.axvline(agree - 1, color="0.3", lw=0.8, ls=":")
    ax.set_title(f"{name}\ntorch: {torch_name}", fontsize=9)
    ax.set_xlabel("step")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc=loc)
axes[0].set_ylabel("learning rate")
axes[0].set_ylim(0, 0.22)
plt.show()
for name, (ours, theirs, _torch_name, agree) in pairs.items():
    gap = np.max(np.abs(ours[:agree] - theirs[:agree]) / theirs[:agree])
    print(f"{name:18s} steps 0 to {agree - 1}: largest relative difference from torch {gap:.1e}")

# %% id="00a6d773"
for name, (ours, theirs, torch_name, agree) in pairs.items():
    dl.claim(f"{name}: your rates equal torch's {torch_name} at every step from 0 to {agree - 1}",
             np.allclose(ours[:agree], theirs[:agree], rtol=1e-9, atol=0))
ours, theirs, _, agree = pairs["cosine annealing"]
dl.claim("after T_max = 100 torch's cosine climbs back to lr0 = 0.2 at step 2 T_max = 200, yours stays at lr_min",
         theirs[-1] > 0.199 and np.all(ours[agree - 1:] == 0.02), f"torch at step 199: {theirs[-1]:.4f}")
ours, theirs, _, agree = pairs["warmup + cosine"]
dl.claim("after total_steps = 160 torch's warmup + cosine climbs again, yours stays at lr_min",
         np.all(np.diff(theirs[agree - 1:]) > 0) and np.all(ours[agree - 1:] == 0.02),
         f"torch at step 199: {theirs[-1]:.4f}")

# %% [markdown] id="132254dc"
# Up to the end of each schedule your rates and torch's agree to rounding error (the
# relative differences printed above). After the end, torch's cosine schedulers keep
# following the cosine and climb back up; yours stay at $\eta_{\min}$, which is what
# you want when a run goes on a little longer than planned. In a training loop that
# uses torch's schedulers, set `T_max` to the true number of updates.
#
# ## 7. The four schedules side by side
#
# A fair comparison tunes every contender the same way. Each gets the same budget of
# updates on the noisy quadratic and the same noise draws (500 runs). The shapes are
# fixed relative to the budget $T$ (300 here): step decay by `gamma=0.3` every $T/4$
# updates; exponential decay by a factor 100 over the run (`gamma` $= 0.01^{1/T}$,
# 0.985 here); cosine with `T_max` $= T$; warmup over $T/15$ updates (20), then a cosine
# to step $T$. The constant rate is the baseline. Every contender, constant included,
# takes the best peak rate $\eta_0$ of **one grid**, ten rates spaced evenly on a log
# scale from 0.005 to 0.32 (below the stable limit 0.4), and every best value must lie
# strictly inside that grid, not at an edge (checked below), so that no contender is cut
# short. The score is the mean loss at the end of the budget: a schedule knows how long
# it has, so the claims are checked for a budget three times as long as well.

# %% id="b82b5671"
def shapes_for(T):
    """Each contender as a function of its peak rate: the rates of updates 0 .. T - 1."""
    return {
        "step decay": lambda lr0: schedule_values(step_decay, T, lr0=lr0, step_size=T // 4, gamma=0.3),
        "exponential decay": lambda lr0: schedule_values(exponential_decay, T, lr0=lr0, gamma=0.01 ** (1 / T)),
        "cosine annealing": lambda lr0: schedule_values(cosine_annealing, T, lr0=lr0, T_max=T),
        "warmup + cosine": lambda lr0: schedule_values(warmup_cosine, T, lr0=lr0, warmup_steps=T // 15, total_steps=T),
        "constant": lambda lr0: np.full(T, lr0),
    }


shapes = shapes_for(steps)
grid = [float(lr0) for lr0 in np.round(np.geomspace(0.005, 0.32, 10), 4)]  # the same grid for everyone


@remembered
def race(seed, steps, x0):
    """Every contender at every peak rate of the grid: the final mean losses, and the best run of each."""
    table = {(name, lr0): problem.sgd(make(lr0), x0, runs=runs, seed=seed)
             for name, make in shapes_for(steps).items() for lr0 in grid}
    final = {key: run.final_loss for key, run in table.items()}
    best = {name: min(grid, key=lambda lr0: final[name, lr0]) for name in shapes}
    return final, best, {name: table[name, best[name]] for name in shapes}


shown = dict(seed=1, steps=steps, x0=x0)
final, best, best_runs = race(**shown)
print(f"mean loss after {steps} updates (500 runs), for each peak rate lr0 of the grid")
print(f"{'lr0':18s}" + "".join(f"{lr0:>8g}" for lr0 in grid))
for name in shapes:
    print(f"{name:18s}" + "".join(f"{final[name, lr0]:8.4f}" for lr0 in grid))
print("best lr0:", best)
show_schedules(problem, {f"{name}, lr0={best[name]}": run for name, run in best_runs.items()},
               title="each contender at its best lr0 of the same grid: mean loss of 500 runs", floors=False)

# %% id="26711b5c"
decaying = ["step decay", "exponential decay", "cosine annealing", "warmup + cosine"]


def best_losses(**setting):
    final, best, _ = race(**setting)
    return {name: final[name, best[name]] for name in shapes}


def inside_the_grid(**setting):
    _, best, _ = race(**setting)
    return all(grid[0] < best[name] < grid[-1] for name in shapes), f"best lr0 {best}"


def schedules_beat_constant(**setting):
    loss = best_losses(**setting)
    ratios = {name: round(loss["constant"] / loss[name], 2) for name in decaying}
    return min(ratios.values()) > 1.8, f"best constant / best schedule: {ratios}"


def schedules_close(**setting):
    loss = best_losses(**setting)
    spread = max(loss[name] for name in decaying) / min(loss[name] for name in decaying)
    return spread < 1.5, f"spread {spread:.2f}"


def warmup_no_gain(**setting):
    loss = best_losses(**setting)
    ratio = loss["warmup + cosine"] / loss["cosine annealing"]
    return 1.0 < ratio < 1.1, f"warmup + cosine / cosine {ratio:.3f}"


dl.robust_claim("every contender's best lr0 lies strictly inside the common grid (the tuning is fair)",
                inside_the_grid, shown)
dl.robust_claim("each schedule, tuned, ends at least 1.8 times below the tuned constant rate",
                schedules_beat_constant, shown)
dl.robust_claim("the four tuned schedules end within a factor 1.5 of each other", schedules_close, shown)
dl.robust_claim("on this quadratic, SGD gains nothing from the warmup: tuned warmup + cosine ends above tuned "
                "cosine alone, by less than 10%", warmup_no_gain, shown)
loss = best_losses(**shown)
print("best constant / best schedule:", {name: round(loss["constant"] / loss[name], 2) for name in decaying})

# %% [markdown] id="8923bd3a"
# Every schedule, tuned, ends about twice as low as the tuned constant rate, or a little
# lower (1.9 to 2.5 times here, at least 1.8 times on other noise draws, from other starts
# and with a budget of 900 updates), and the four schedules end within 50% of each
# other: once $\eta_0$ is tuned, the exact shape matters much less than *decaying at
# all*. The best constant rate is a compromise inside
# the grid: larger rates stall on a higher floor, smaller ones have not arrived. On this
# quadratic the warmup gains SGD nothing (it ends a few percent above the plain cosine):
# there is nothing for it to protect, it only delays the start. Its use is elsewhere, as
# section 8 shows.
#
# A schedule helps *because of the noise*. Take the noise away and the picture flips:

# %% id="8eea0d46"
clean = problem.with_noise(0.0)


@remembered
def without_noise(steps, x0):
    """Noise-free runs: the constant rate 0.3, and each schedule at its best lr0 of the grid."""
    shapes_T = shapes_for(steps)
    return (clean.sgd(np.full(steps, 0.3), x0).final_loss,
            {name: min(clean.sgd(shapes_T[name](lr0), x0).final_loss for lr0 in grid) for name in decaying})


def constant_wins(**setting):
    const_clean, sched_clean = without_noise(**setting)
    return all(const_clean < 1e-10 * v for v in sched_clean.values()), f"{const_clean:.1e} vs {sched_clean}"


const_clean, sched_clean = without_noise(steps=steps, x0=x0)
print(f"noise = 0: constant lr 0.3 ends at {const_clean:.1e};",
      "best of each schedule:", {k: f"{v:.1e}" for k, v in sched_clean.items()})
dl.robust_claim("without noise a constant rate of 0.3 ends more than 10 orders of magnitude below every "
                "schedule tuned on the grid",
                constant_wins, dict(steps=steps, x0=x0))

# %% [markdown] id="7e6742fd"
# Without noise, gradient descent with a constant rate converges geometrically, and
# every decay only slows it down. That is why a demonstration of schedules on a
# noiseless quadratic with a well-chosen step proves nothing.
#
# ## 8. Why Adam wants a warmup
#
# For SGD on the noisy quadratic the warmup gained nothing. For Adam it often helps,
# and the reason is Adam's second-moment estimate $\hat v$. In short (notebook 05 builds Adam in full):
# $m$ and $v$ are running averages of $g$ and $g^2$ with horizons of about
# $1/(1-\beta_1) = 10$ and $1/(1-\beta_2) = 1000$ steps, $\hat m$ and $\hat v$ their
# bias-corrected values, and every coordinate moves by $\eta\, \hat m / (\sqrt{\hat v} + \epsilon)$.
#
# At the first step $\hat v$ is a single squared gradient, so $\hat m / \sqrt{\hat v} = \pm 1$:
# **every coordinate moves by the full $\eta$**, whatever the size of its gradient. Later,
# $\sqrt{\hat v}$ estimates the typical gradient size from many samples, and where the
# gradient is mostly noise the step shrinks to a fraction of $\eta$. Watch this on
# 10 000 coordinates whose gradients are pure noise plus a small signal ($g = 0.1 + \xi$),
# stepped by torch's Adam (`torch_adam_step` from the toolkit: one step of
# `torch.optim.Adam`, with its moments $m$ and $v$ handed in and out) at Adam's default
# $\beta_1 = 0.9$, $\beta_2 = 0.999$ and a rate of 1, so that the step *is* the update
# in units of $\eta$:

# %% id="dcaa6c00"
@remembered
def adam_on_noise(seed, steps, signal, beta1, beta2, n=10_000, warmup=40):
    """torch's Adam on n coordinates whose gradients are signal + N(0, 1): per step, the 5%, 50% and
    95% points of sqrt(v_hat) / (true rms gradient), the median |update| / lr, and at step 1 |update| / lr."""
    rng = np.random.default_rng(seed)
    x, m, v = np.zeros(n), np.zeros(n), np.zeros(n)
    spread, update = [], []
    for t in range(1, steps + 1):
        g = signal + rng.standard_normal(n)
        x_new, m, v = torch_adam_step(x, g, m, v, t, lr=1.0, beta1=beta1, beta2=beta2)
        if t == 1:
            first = np.abs(x_new - x)
        update.append(np.median(np.abs(x_new - x)))
        x = x_new
        v_hat = v / (1 - beta2 ** t)                 # bias-corrected, only to look at it
        spread.append(np.percentile(np.sqrt(v_hat) / np.sqrt(1 + signal ** 2), [5, 50, 95]))
    warm = np.array([warmup_cosine(t - 1, 1.0, warmup, 10 ** 9) for t in range(1, steps + 1)])  # cosine far away
    return np.array(spread), np.array(update), first, warm


shown = dict(seed=0, steps=300, signal=0.1, beta1=0.9, beta2=0.999)
spread_v, update, first_step, warm = adam_on_noise(**shown)
t_axis = np.arange(1, shown["steps"] + 1)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
ax1.fill_between(t_axis, spread_v[:, 0], spread_v[:, 2], color="#56B4E9", alpha=0.35, hatch="///",
                 edgecolor="#0072B2", lw=0, label="5% to 95% of coordinates")
ax1.plot(t_axis, spread_v[:, 1], color="#0072B2", label="median")
ax1.set_xscale("log")
ax1.set_xlim(1, t_axis[-1])
ax1.set_xlabel("step t")
ax1.set_ylabel("sqrt(v_hat) / true rms gradient")
ax1.set_title("the second-moment estimate", fontsize=10)
ax1.legend(fontsize=8)
ax2.plot(t_axis, update, color="#D55E00", label="constant rate: median |update| / lr")
ax2.plot(t_axis, warm * update, color="#009E73", ls="--", label="with a 40-step warmup")
ax2.set_xscale("log")
ax2.set_xlim(1, t_axis[-1])
ax2.set_xlabel("step t")
ax2.set_ylabel("|update| / lr")
ax2.set_title("Adam's step", fontsize=10)
ax2.legend(fontsize=8)
fig.suptitle("Adam on 10 000 coordinates whose gradient is mostly noise (g = 0.1 + N(0, 1))", fontsize=11)
plt.show()
print(f"step 1: sqrt(v_hat) ranges over a factor {spread_v[0, 2] / spread_v[0, 0]:.0f} (5% to 95%); "
      f"step 100: a factor {spread_v[99, 2] / spread_v[99, 0]:.2f}")
print("median |update| / lr at steps 1, 5, 50, 300:", np.round(update[[0, 4, 49, 299]], 3))
print(f"step 1: |update| / lr from {first_step.min():.5f} to {first_step.max():.5f}")

# %% id="b11a2b7c"
def full_first_step(**setting):
    first = adam_on_noise(**setting)[2]
    share = np.mean(np.abs(first - 1) < 1e-3)
    return share > 0.999, f"{share:.2%} of them, |update| / lr from {first.min():.5f} to {first.max():.5f}"


def wide_then_narrow(**setting):
    spread = adam_on_noise(**setting)[0]
    at_1, at_100 = spread[0, 2] / spread[0, 0], spread[99, 2] / spread[99, 0]
    return at_1 > 20 and at_100 < 1.5, f"factor {at_1:.1f} at step 1, {at_100:.2f} at step 100"


def wrong_both_ways(**setting):
    spread = adam_on_noise(**setting)[0]
    return spread[0, 0] < 0.1 and spread[0, 2] > 1.8, f"5% point {spread[0, 0]:.3f}, 95% point {spread[0, 2]:.3f}"


def within_15_percent(**setting):
    spread = adam_on_noise(**setting)[0]
    return spread[99, 0] > 0.85 and spread[99, 2] < 1.15, f"{spread[99, 0]:.3f} to {spread[99, 2]:.3f}"


def update_shrinks(**setting):
    update = adam_on_noise(**setting)[1]
    return update[49] < 0.2 * update[0], f"{update[49]:.3f} at step 50"


def warmup_caps(**setting):
    _, update, _, warm = adam_on_noise(**setting)
    return np.max(warm * update) <= 1.1 * update[-1], f"largest {np.max(warm * update):.3f}, steady {update[-1]:.3f}"


adam_betas = ["beta1", "beta2"]  # the words say "Adam": its default betas
dl.robust_claim("at step 1 all but at most one coordinate in a thousand move by the full learning rate, "
                "to within 0.1%",
                full_first_step, shown, fixed=adam_betas)
dl.robust_claim("at step 1 the 5%-95% range of sqrt(v_hat) spans a factor above 20, at step 100 below 1.5",
                wide_then_narrow, shown, fixed=adam_betas)
dl.robust_claim("at step 1 sqrt(v_hat) is more than 10 times too small for 5% of the coordinates and "
                "more than 1.8 times too large for another 5%", wrong_both_ways, shown, fixed=adam_betas)
dl.robust_claim("at step 100, 90% of the coordinates have sqrt(v_hat) within 15% of the truth",
                within_15_percent, shown, fixed=adam_betas)
dl.robust_claim("after 50 steps the typical update is below a fifth of the first one",
                update_shrinks, shown, fixed=adam_betas)
dl.robust_claim("with the 40-step warmup the step never exceeds its later, steady size by more than 10%",
                warmup_caps, shown, fixed=adam_betas)

# %% [markdown] id="36028a37"
# At step 1 the estimate $\sqrt{\hat v}$ is more than 10 times too small for one
# coordinate in twenty, and nearly twice too large for another one in twenty (the 5%–95%
# range spans a factor above 20); after 100 steps 90% of the coordinates are within 15%.
# The update, in units of $\eta$, is 1 at step 1 (to within 0.1% for all but at most one
# coordinate in a thousand: $\epsilon$ only matters for the rare gradients near its size)
# and settles below 0.2 within 50 steps. So at a constant rate Adam's **largest steps
# come first**, exactly when the model knows least; in a network, every weight moves by the full $\eta$ at the first
# step, however small its gradient. A warmup over a few dozen steps (40 in the
# figure) scales the rate down while $\hat v$ is unreliable, and the step never exceeds
# its later size by more than 10%.
#
# ### A small network
#
# Does it matter in practice? Train a small tanh network (2 → 64 → 64 → 1) to fit a
# smooth function from minibatches of 32, with `torch.optim.Adam`. Sixteen networks, each
# with initial weights and minibatches of its own, train side by side; the curves show
# their median. The schedule is driven by *your* functions through `LambdaLR`, which
# multiplies the optimizer's rate by `factor(step)`: cosine annealing over 120 updates,
# with and without a 40-step warmup. To compare the two fairly, each is tuned on the same
# grid of five peak rates from 0.003 to 0.3, and each best rate must lie strictly inside
# the grid.
#
# *Predict first*: which peak rate will be best without warmup, and which with it?

# %% id="061f8b53"
task = MLPTask(width=64, batch_size=32)
T_net, W_net, nets = 120, 40, 16
peak_rates = [0.003, 0.01, 0.03, 0.1, 0.3]
factors = {"cosine": lambda k, T, W: cosine_annealing(k, 1.0, T),
           "warmup + cosine": lambda k, T, W: warmup_cosine(k, 1.0, W, T)}


@remembered
def train_adam(lr, schedule, seed, T, W):
    """Adam on `nets` networks for T updates: the median minibatch loss at every step, and
    each network's final loss on all the data."""
    params = task.init(nets, seed=seed)
    optimizer = torch.optim.Adam(params, lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda k: factors[schedule](k, T, W))
    losses = np.empty((T, nets))
    for k in range(T):
        loss = task.minibatch_loss(params)   # one loss per network
        losses[k] = loss.detach().numpy()
        optimizer.zero_grad()
        loss.sum().backward()                 # each network gets its own gradient
        optimizer.step()
        scheduler.step()
    return np.median(losses, axis=1), task.full_loss(params)


@remembered
def warmup_grid(seed, T, W):
    """Both schedules at every peak rate: {(schedule, lr): (median curve, final losses)}."""
    return {(name, lr): train_adam(lr=lr, schedule=name, seed=seed, T=T, W=W if name == "warmup + cosine" else 0)
            for name in factors for lr in tqdm(peak_rates, desc=name, leave=False)}


def summary(**setting):
    """Median final loss of each setting, and each schedule's best peak rate."""
    trained = warmup_grid(**setting)
    final = {key: float(np.median(full)) for key, (_, full) in trained.items()}
    best = {name: min(peak_rates, key=lambda lr: final[name, lr]) for name in factors}
    return trained, final, best


shown = dict(seed=0, T=T_net, W=W_net)
trained, final, best = summary(**shown)
q25, q75 = ({key: np.percentile(full, q) for key, (_, full) in trained.items()} for q in (25, 75))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6), layout="constrained")
for name, ls, marker in (("cosine", "-", "o"), ("warmup + cosine", "--", "s")):
    color = schedule_color("cosine annealing" if name == "cosine" else "warmup + cosine")
    ax1.semilogy(trained[name, 0.1][0], color=color, ls=ls, label=f"{name}, peak lr 0.1")
    mid = [final[name, lr] for lr in peak_rates]
    err = [[m - q25[name, lr] for m, lr in zip(mid, peak_rates, strict=True)],
           [q75[name, lr] - m for m, lr in zip(mid, peak_rates, strict=True)]]
    ax2.errorbar(peak_rates, mid, yerr=err, color=color, ls=ls, marker=marker, capsize=3, label=name)
    ax2.plot(best[name], final[name, best[name]], marker="*", ms=14, color=color, ls="none")
ax2.plot([], [], marker="*", ms=10, color="0.3", ls="none", label="best of each")
ax1.set_xlabel("step")
ax1.set_ylabel("minibatch loss (median of 16 networks)")
ax1.legend(fontsize=8)
ax2.set_xscale("log")
ax2.set_yscale("log")
ax2.set_xlabel("peak learning rate")
ax2.set_ylabel("final loss on all data\n(median, bars: 25% to 75%)")
ax2.legend(fontsize=8)
ax1.grid(alpha=0.3)
ax2.grid(alpha=0.3, which="both")
fig.suptitle("Adam on a small tanh network for 120 updates, with and without warmup", fontsize=11)
plt.show()
print("peak lr   median final loss: no warmup   with warmup")
for lr in peak_rates:
    print(f"{lr:<8g}  {final['cosine', lr]:22.4f}   {final['warmup + cosine', lr]:11.4f}")
print("best peak rate:", best)

# %% id="808694db"
def best_inside(**setting):
    _, _, best = summary(**setting)
    return all(peak_rates[0] < lr < peak_rates[-1] for lr in best.values()), f"best {best}"


def warmup_factor(**setting):
    """Best without warmup / best with warmup: of the medians, and network by network."""
    trained, final, best = summary(**setting)
    cold, warm = ("cosine", best["cosine"]), ("warmup + cosine", best["warmup + cosine"])
    per_network = trained[cold][1] / trained[warm][1]   # the same initial weights, paired
    return final[cold] / final[warm], per_network


def about_twice(**setting):
    factor, per_network = warmup_factor(**setting)
    return 1.5 < factor < 2.5, f"factor {factor:.2f}"


def blows_up(**setting):
    curve = warmup_grid(**setting)["cosine", 0.1][0]
    return curve[:50].max() > 20 * curve[0], f"{curve[:50].max() / curve[0]:.1f}-fold"


def smooth_with_warmup(**setting):
    curve = warmup_grid(**setting)["warmup + cosine", 0.1][0]
    return curve.max() < 1.5 * curve[0], f"at most {curve.max() / curve[0]:.2f} times the start"


def recovers(**setting):
    trained, final, _ = summary(**setting)
    start = trained["cosine", 0.1][0][0]
    return final["cosine", 0.1] < 0.5 * start, f"{final['cosine', 0.1]:.4f} vs start {start:.4f}"


def gains(**setting):
    _, final, _ = summary(**setting)
    return {lr: final["cosine", lr] / final["warmup + cosine", lr] for lr in peak_rates}


def warmup_helps_from_001(**setting):
    gain = gains(**setting)
    return all(gain[lr] > 1 for lr in peak_rates if lr >= 0.01), f"gains {np.round(list(gain.values()), 2)}"


def gain_grows(**setting):
    gain = [gains(**setting)[lr] for lr in peak_rates if lr <= 0.1]
    return bool(np.all(np.diff(gain) > 0)), f"gains {np.round(gain, 2)}"


def warmup_prefers_larger(**setting):
    _, _, best = summary(**setting)
    return best["warmup + cosine"] > best["cosine"], f"best {best}"


over_seeds = {"seed": [1, 2, 3], "W": [32, 48]}   # other networks and minibatches; a warmup 20% shorter or longer
dl.robust_claim("on this grid, each schedule's best peak rate lies strictly inside it", best_inside, shown,
                fixed=["T"], vary=over_seeds)
dl.robust_claim("the warmup's best peak rate is larger than the best one without it", warmup_prefers_larger, shown,
                fixed=["T"], vary=over_seeds)
dl.robust_claim("after 120 updates, the best run with warmup ends between 1.5 and 2.5 times below the best run "
                "without it (medians over 16 networks)", about_twice, shown, fixed=["T"], vary=over_seeds)
dl.robust_claim("without warmup, at peak rate 0.1 the loss first shoots up more than 20-fold within 50 steps",
                blows_up, shown, fixed=["T"], vary={"seed": [1, 2, 3]})
dl.robust_claim("with the 40-step warmup, at peak rate 0.1 the loss never rises more than 50% above its start",
                smooth_with_warmup, shown, fixed=["T", "W"], vary={"seed": [1, 2, 3]})
dl.robust_claim("without warmup the networks at rate 0.1 do recover: they end below half their starting loss",
                recovers, shown, fixed=["T"], vary={"seed": [1, 2, 3]})
dl.robust_claim("after 120 updates, with the warmup every peak rate from 0.01 up ends lower than without it",
                warmup_helps_from_001, shown, fixed=["T"], vary=over_seeds)
dl.robust_claim("the warmup's gain grows with the peak rate from 0.003 to 0.1", gain_grows, shown,
                fixed=["T"], vary=over_seeds)


def per_network_factor(**setting):
    _, per_network = warmup_factor(**setting)
    return (1.5 < per_network.mean() < 3 and np.mean(per_network > 1) >= 0.75,
            f"mean {per_network.mean():.2f}, warmup better for {np.mean(per_network > 1):.0%} of the networks")


dl.robust_claim("network by network, the factor averages between 1.5 and 3, and the warmup wins for at least "
                "three networks in four", per_network_factor, shown, fixed=["T"], vary=over_seeds)
factor, per_network = warmup_factor(**shown)
print(f"best without warmup / best with warmup: {factor:.2f} (medians); network by network "
      f"mean {per_network.mean():.2f}, standard deviation {per_network.std():.2f}, "
      f"from {per_network.min():.2f} to {per_network.max():.2f}")
print("gain of the warmup at each peak rate:", {lr: round(g, 2) for lr, g in gains(**shown).items()})

# %% [markdown] id="d619b917"
# Without warmup, a peak rate of 0.1 throws the networks far off in the first steps: the
# loss shoots up more than 20-fold before it comes down, and the best rate without warmup
# is a small one (0.01 here): larger ones do not pay. With a 40-step warmup the loss at
# 0.1 never rises more than 50% above its start, and the best peak rate is larger (0.03
# here, with 0.01 and 0.1 close behind: the curve is flat in between). Each tuned on the
# same grid, the best warmup run ends about **2 times** below the best run without it,
# after these 120 updates: between 1.5 and 2.5 for other networks and minibatches
# (seeds) and for a warmup of 32 or 48 steps. Network by network the factor scatters
# (printed above: mean about 2.3, standard deviation about 0.9), and for at least three
# networks in four the warmup wins. It helps at every peak rate from 0.01 up, and the
# more, the larger the rate, up to 0.1; at 0.003, where the rate is small anyway, it
# helps least. That is the practical use of warmup: it makes a **larger peak rate
# usable**.
#
# These small networks recover from the blow-up (they end below half their starting
# loss), but 120 steps are not enough to undo it. The factor belongs to this budget: for
# another, measure it (`summary(seed=0, T=360, W=40)` trains the grid for 360 updates). In large models an early blow-up can
# push weights into saturated units or diverge outright, which is why warmup is standard
# when transformers are trained with Adam. Variants such as RAdam correct the noisy
# $\hat v$ directly instead.
#
# ## 9. Optional: warm restarts
#
# Cosine annealing with **warm restarts** (SGDR) repeats the cosine: every $T_0$ steps
# the rate jumps back to $\eta_0$. With your `cosine_annealing` it is one line,
# `cosine_annealing(step % T0, lr0, T0, lr_min)`, and it matches torch's
# `CosineAnnealingWarmRestarts(T_0=T0)`:

# %% id="62cfca68"
T0 = 100
restarts = schedule_values(lambda k, lr0, lr_min: cosine_annealing(k % T0, lr0, T0, lr_min),
                           3 * T0, lr0=0.2, lr_min=0.005)
theirs = torch_lrs(lambda opt: sched.CosineAnnealingWarmRestarts(opt, T_0=T0, eta_min=0.005), 0.2, 3 * T0)
dl.claim("cosine_annealing(step % T0, ...) gives the same rates as torch's CosineAnnealingWarmRestarts",
         np.allclose(restarts, theirs, rtol=1e-9))


@remembered
def with_restarts(seed, lr0, lr_min, cycles, x0):
    """500 runs of cosine with warm restarts every T0 steps; for each restart, the loss 20 steps later
    divided by the loss at the restart, and divided by the floor of lr0."""
    rates = schedule_values(lambda k, lr0, lr_min: cosine_annealing(k % T0, lr0, T0, lr_min),
                            cycles * T0, lr0=lr0, lr_min=lr_min)
    run = problem.sgd(rates, x0, runs=runs, seed=seed)
    restarts_at = range(T0, cycles * T0, T0)
    return (run, [run.mean_loss[r + 20] / run.mean_loss[r] for r in restarts_at],
            [run.mean_loss[r + 20] / problem.noise_floor(lr0) for r in restarts_at])


def thrown_back(**setting):
    jumps = with_restarts(**setting)[1]
    return min(jumps) > 5, f"jumps {np.round(jumps, 1)}"


def near_floor_of_lr0(**setting):
    back_up = with_restarts(**setting)[2]
    return all(abs(b - 1) < 0.25 for b in back_up), f"ratios {np.round(back_up, 2)}"


shown = dict(seed=1, lr0=0.2, lr_min=0.005, cycles=3, x0=x0)
sgdr, jumps, _ = with_restarts(**shown)
show_schedules(problem, {"warm restarts, T0=100": sgdr}, title="cosine with warm restarts: mean loss of 500 runs")
print("loss 20 steps after each restart / loss at the restart:", np.round(jumps, 1))
more_cycles = {"cycles": [6]}   # a run with more restarts
dl.robust_claim("each restart throws the loss back up more than 5-fold", thrown_back, shown, vary=more_cycles)
dl.robust_claim("20 steps after a restart the loss is within 25% of the floor of lr0", near_floor_of_lr0, shown,
                vary=more_cycles)

# %% [markdown] id="453dfcf0"
# Each restart throws the loss back up more than 5-fold, to near the floor of $\eta_0$,
# and the next cosine brings it down again. That sounds wasteful, and for one final model
# it is; restarts are used to get a *series* of good models (one at the end of every
# cycle, for an ensemble) or to keep training open-ended when the number of steps is not
# known in advance.
#
# ## 10. Play with it
#
# Pick a schedule, move the sliders, and watch the rate (left) and the mean loss of 100
# runs (right) beside the constant rate $\eta_0$. The dotted lines are the noise floors
# of the current rates. Try to
#
# - set the noise to 0: the constant rate wins, as measured above;
# - raise the noise: every floor rises in proportion to $\sigma^2$;
# - in step decay, drop the rate too often (small `step_size`, small `gamma`) and watch
#   the loss lag behind its floor;
# - push $\eta_0$ past $2/h_1 = 0.4$, the stable limit from notebook 01: what happens to
#   the constant rate, and can a warmup save the schedule?

# %% id="3ca67e0c"
explore_schedules(problem,
                  [Schedule("step decay", step_decay, ["step_size", "gamma"]),
                   Schedule("exponential decay", exponential_decay, {"gamma": "decay per step"}),
                   Schedule("cosine annealing", cosine_annealing, {"T_max": "total_steps", "lr_min": "lr_min"}),
                   Schedule("warmup + cosine", warmup_cosine, ["warmup_steps", "total_steps", "lr_min"])],
                  sliders={"lr0": ("log", 0.005, 0.45, 0.2), "step_size": ("int", 1, 300, 75),
                           "gamma": (0.05, 1.0, 0.3), "decay per step": (0.95, 1.0, 0.985),
                           "warmup_steps": ("int", 1, 150, 20), "total_steps": ("int", 1, 300, 300),
                           "lr_min": (0.0, 0.05, 0.0), "noise": (0.0, 3.0, 1.0)},
                  steps=300, x0=(-1.8, 1.5), title="noisy quadratic, h = (0.5, 5)")

# %% [markdown] id="c5b576fa"
# ## Summary
#
# - With a noisy gradient, constant-rate SGD stalls at a **noise floor**
#   $\sum_i \eta\sigma^2 / (2(2-\eta h_i))$, proportional to the rate; a small rate has a low
#   floor but gets there slowly: its excess over the floor falls by a factor $e$ every
#   $1/(2\eta h)$ steps (the e-folding time), and needs about three of those to fall to 5%.
# - A schedule starts large (fast progress) and ends small (low floor). The loss follows
#   the floor of the current rate, with a lag that grows as the rate shrinks.
# - Step decay $\eta_0\gamma^{\lfloor k/s\rfloor}$, exponential decay $\eta_0\gamma^k$, cosine
#   annealing and warmup + cosine, all with the 0-based update index, match torch's
#   `StepLR`, `ExponentialLR`, `CosineAnnealingLR` (up to `T_max`) and
#   `SequentialLR(LinearLR, CosineAnnealingLR)`.
# - Tuned on the same grid, the four schedules ended within 50% of each other and about
#   twice below the tuned constant rate, on the noisy quadratic. Without noise a constant
#   rate wins.
# - Adam's first steps move every weight by the full rate while $\hat v$ is still a guess;
#   a warmup lets it use a larger peak rate (on our small network, tuned fairly, about
#   2 times lower loss after 120 updates).
#
# ## Further reading
#
# - [torch.optim.lr_scheduler](https://pytorch.org/docs/stable/optim.html#how-to-adjust-learning-rate): the schedulers used here.
# - I. Loshchilov, F. Hutter, SGDR: Stochastic Gradient Descent with Warm Restarts, ICLR 2017.
# - P. Goyal et al., Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour, 2017 (linear warmup).
# - L. Liu et al., On the Variance of the Adaptive Learning Rate and Beyond (RAdam), ICLR 2020.
# - J. Ma, D. Yarats, On the adequacy of untuned warmup for adaptive optimization, AAAI 2021.
# - L. N. Smith, Cyclical Learning Rates for Training Neural Networks, 2017 (and the one-cycle policy).
# - Dive into Deep Learning, chapter 12, *Optimization Algorithms*, section *Learning Rate Scheduling*.
