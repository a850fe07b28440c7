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
#   title: 02 Adaptive step sizes
# ---

# %% [markdown] id="1bc22175"
# # 02 · Adaptive step sizes: AdaGrad and RMSprop
#
# Gradient descent uses one learning rate for every parameter. When some need big steps
# and others small ones (a ravine with a steep and a flat direction, rare features), that
# one number suits nobody. AdaGrad and RMSprop give every coordinate its own step size,
# set from the sizes of the gradients it has seen.
#
# **You will be able to**
# - write AdaGrad and RMSprop in PyTorch's convention, and map other forms onto it;
# - measure where per-coordinate steps help (a badly scaled ravine, sparse features)
#   and where they help less (a rotated ravine, noisy gradients);
# - explain why AdaGrad's step only shrinks, how RMSprop forgets over about
#   $1/(1-\alpha)$ steps, and when eps matters;
# - say what Adam adds to RMSprop.
#
# **Prerequisites**: notebook 01, numpy. **Time**: about 90 minutes.
#
# Cells marked `# YOUR CODE HERE` are yours; a visible test follows each, hidden tests
# grade it. The experiments use your functions; they decide no grade, and are skipped
# while your notebook is graded. Gradient descent and the heavy ball
# (graded in notebook 01) come from `torch.optim`, via `torch_sgd_step`,
# `torch_momentum_step` and `run_torch_stacked`.

# %% id="870a3f56"
import functools

import matplotlib.pyplot as plt
import numpy as np
import torch
from IPython.display import display

import descentlab as dl
from descentlab.adaptive_problems import (
    cliff,
    run_stacked,
    run_torch_stacked,
    run_with_state,
    settle_steps,
    sparse_regression,
)
from descentlab.plots import GAP_FLOOR, Path, explore, paths_figure
from descentlab.torch_steps import torch_momentum_step, torch_sgd_step

# %matplotlib inline
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator


def settle_step(values, target, tol=1e-2):
    # first step after which every later value stays within tol of target (None: never)
    far = np.nonzero(~(np.abs(np.asarray(values) - target) <= tol))[0]
    if len(far) == 0:
        return 0
    return None if far[-1] == len(values) - 1 else int(far[-1] + 1)


def show(land, paths, title):
    # paths and f(x) - f*; the log axis draws values below GAP_FLOOR at GAP_FLOOR, and the figure says so
    fig = paths_figure(land, paths, title=title)
    ax = fig.axes[1]
    if min(np.nanmin(t.losses - land.f_min) for t in paths.values()) < GAP_FLOOR and "drawn at" not in ax.get_ylabel():
        ax.axhline(GAP_FLOOR, color="0.5", lw=0.8, ls=":")
        ax.text(0.02, 0.02, f"display clamp: values below {GAP_FLOOR:g} drawn at {GAP_FLOOR:g}",
                transform=ax.transAxes, fontsize=7, color="0.3")
    display(fig)


# %% [markdown] id="c4da5315"
# ## 1. One learning rate for every coordinate
#
# ### A ravine
#
# The ravine of notebook 01: $f(x) = \tfrac12 (x_0^2 + 50\, x_1^2)$, flat along $x_0$,
# steep along $x_1$ ($\kappa = 50$). Gradient descent is stable only for
# $\eta < 2/L = 0.04$, a limit set by the steep coordinate alone. With $\eta = 0.035$:

# %% id="0eb42fa4"
ravine = dl.ravine(kappa=50)
start = np.array([-1.5, 1.1])


def one_rate(lr, steps, x0):
    left = dl.run(torch_sgd_step, ravine, x0, steps, lr=lr).final / x0
    return (abs(left[1]) < 1e-10 and 0.02 < left[0] < 0.04,
            f"after {steps} steps x0 keeps {left[0]:.2%} of its start, x1 {abs(left[1]):.1e}")


print(dl.robust_claim("after 100 steps of lr = 0.035 the steep coordinate has settled while the flat one "
                      "keeps about 3% of its start", one_rate, dict(lr=0.035, steps=100, x0=start),
                      fixed=["lr", "steps"])[1])

# %% [markdown] id="3e515056"
# The flat coordinate shrinks by only $1 - 0.035 = 0.965$ per step; it could take steps
# 50 times larger, but one learning rate serves both.
#
# ### Sparse features
#
# A model with two weights, trained on minibatches of 10. Feature 0 is in every example
# (a bias, a common word), feature 1 in about 2% (a rare word). The loss is
# $\frac{1}{2n}\sum_i (a_i \cdot w - b_i)^2$ with targets from $w^* = (1, 1)$;
# `.stream(batch_size, seed)` hands out one minibatch gradient per step.

# %% id="e71979f3"
sparse = sparse_regression(freqs=(1.0, 0.02), scales=1.0, n=400, seed=0)
w_start = np.array([-0.3, -0.4])
counts = (sparse.A != 0).sum(axis=0)
print(f"{sparse.n} examples: feature 0 in {counts[0]}, feature 1 in {counts[1]}")


def rare_gradients(seed, steps):
    stream = sparse.stream(batch_size=10, seed=seed)
    grads = np.array([stream.grad(w_start) for _ in range(steps)])
    rare = stream.present()[:, 1]
    return (0.15 < rare.mean() < 0.35 and np.all(grads[~rare, 1] == 0),
            f"minibatches holding feature 1: {rare.sum()} of {steps}")


print(dl.robust_claim("feature 1 is in about one minibatch in four; in the others its coordinate gets a zero "
                      "gradient", rare_gradients, dict(seed=0, steps=300))[1])
stream = sparse.stream(batch_size=10, seed=0)
print("gradients of the first 8 minibatches at the start:\n", np.round([stream.grad(w_start) for _ in range(8)], 3))

# %% [markdown] id="36fa6c23"
# Coordinate 1 gets a gradient now and then, usually from one example divided by 10;
# coordinate 0 gets a full-size one at every step. Minibatch gradient descent with one
# learning rate for both:

# %% id="0e356aa8"
print(f"stability limit of gradient descent on the full loss, 2 / L: {2 / np.linalg.eigvalsh(sparse.H).max():.3f}")


def sgd_sparse(lr, seed, x0, steps=300):
    return dl.run(torch_sgd_step, sparse.stream(batch_size=10, seed=seed), x0, steps, lr=lr)


def one_rate_sparse(lr_low, lr_high, lr_over, seed, x0):
    low, high = np.abs(sgd_sparse(lr_low, seed, x0).xs - 1), np.abs(sgd_sparse(lr_high, seed, x0).xs - 1)
    over = sgd_sparse(lr_over, seed, x0).losses
    swing_low, swing_high = low[10:31, 0].mean(), high[10:31, 0].mean()
    holds = (low[50, 0] < 1e-3 and low[50, 1] > 0.2 and high[50, 1] < low[50, 1] and swing_high > swing_low
             and over[-1] > 1e3 * over[0])
    return holds, (f"after 50 steps, distance (w0, w1) to the target: lr = {lr_low}: ({low[50, 0]:.3f}, "
                   f"{low[50, 1]:.3f}), lr = {lr_high}: ({high[50, 0]:.3f}, {high[50, 1]:.3f}); mean distance of w0 "
                   f"over steps 10 to 30: {swing_low:.3f} and {swing_high:.3f}; "
                   f"lr = {lr_over}: loss {over[-1]:.1e} after 300")


print(dl.robust_claim("with lr = 1 the common weight is on target after 50 steps while the rare one is still more "
                      "than 0.2 off; lr = 1.9 moves the rare weight faster but makes the common one swing (further "
                      "off on average over steps 10 to 30); lr = 2.1 diverges", one_rate_sparse,
                      dict(lr_low=1.0, lr_high=1.9, lr_over=2.1, seed=0, x0=w_start),
                      fixed=["lr_low", "lr_high", "lr_over"])[1])
show(sparse, {f"SGD lr={lr}": sgd_sparse(lr, 0, w_start) for lr in (1.0, 1.9)}, "Minibatch SGD on sparse features")


# %% [markdown] id="4fae6269"
# With lr = 1 the common weight is soon on target while the rare one crawls. A larger
# rate speeds up the rare weight but makes the common one swing, and just above
# $2/L \approx 2$ gradient descent diverges. Both problems ask for a step size *per
# coordinate*: large where gradients are small or rare, small where they are large.
#
# ## 2. AdaGrad: divide by the gradients seen so far
#
# AdaGrad divides each coordinate's step by the root of the sum of its squared
# gradients so far. In PyTorch's convention (`torch.optim.Adagrad`), elementwise:
#
# $$G_t = G_{t-1} + g_t^2, \qquad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{G_t} + \epsilon},
# \qquad G_0 = 0,\ \epsilon = 10^{-10}.$$
#
# The **effective learning rate** of coordinate $i$ is $\eta / (\sqrt{G_{t,i}} + \epsilon)$.
# Read off the formula:
#
# - the first step moves every coordinate by about $\eta$ ($g / \sqrt{g^2} = \pm 1$): the
#   learning rate is now a *distance*;
# - large gradients pile up a large $G$ and get small steps, rare ones keep large steps;
# - $G$ only grows, so the effective learning rate only shrinks.
#
# (`lr_decay` and `initial_accumulator_value` are 0 here.)

# %% id="7b8f72df" nbgrader={"grade": false, "grade_id": "adagrad_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adagrad_step(x, g, G, lr, eps=1e-10):
    """One step of AdaGrad, PyTorch's convention (torch.optim.Adagrad).

    x, g, G: arrays of the same shape: the point, the gradient at x, and the state G,
    the sum of the squares of all gradients before this one (zeros before the first step).
    lr, eps: floats; eps sits outside the square root (section 2 gives the update).
    Returns (x_new, G_new), G_new the state after this step; elementwise, for arrays of
    any shape. The inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    G_new = G + g * g
    return x - lr * g / (np.sqrt(G_new) + eps), G_new
    ### END SOLUTION



# %% id="008efce9" nbgrader={"grade": false, "grade_id": "adagrad_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for adagrad_step
x, g, G = np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 2.0]), np.array([0.75, 3.0, 0.0])
x_new, G_new = adagrad_step(x, g, G, lr=0.1)
dl.assert_close(G_new, [1.0, 4.0, 4.0], "G_new = G + g**2", inputs="g=[0.5, -1, 2], G=[0.75, 3, 0]")
dl.assert_close(x_new, [0.95, -1.95, 0.4], "x_new = x - lr * g / (sqrt(G_new) + eps)", inputs="x=[1, -2, 0.5], lr=0.1")
assert np.array_equal(G, [0.75, 3.0, 0.0]) and np.array_equal(x, [1.0, -2.0, 0.5]), \
    "adagrad_step changed its inputs in place: return new arrays"
# eps goes outside the square root: with g = 1e-10 and eps = 1e-10 the step is lr * g / (|g| + eps) = lr / 2
dl.assert_close(adagrad_step(np.zeros(1), np.array([1e-10]), np.zeros(1), lr=1.0)[0], [-0.5],
                "a first step with g = 1e-10 (eps outside the square root: g / (sqrt(g**2) + eps))")
# two steps: G keeps the sum of all squared gradients
x1, G1 = adagrad_step(np.zeros(2), np.array([3.0, 0.0]), np.zeros(2), lr=1.0)
x2, G2 = adagrad_step(x1, np.array([4.0, 1.0]), G1, lr=1.0)
dl.assert_close(G2, [25.0, 1.0], "G after the gradients [3, 0] then [4, 1]")
dl.assert_close(x2, [-1.8, -1.0], "x after the gradients [3, 0] then [4, 1] with lr = 1, from x = 0")
print("adagrad_step: visible tests passed")


# %% id="2d14bdfe" nbgrader={"grade": true, "grade_id": "adagrad_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# adagrad_step: basic behaviour (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adagrad_step", adagrad_step, "basic")
### END HIDDEN TESTS


# %% id="561e3b74" nbgrader={"grade": true, "grade_id": "adagrad_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adagrad_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adagrad_step", adagrad_step, "random")
### END HIDDEN TESTS


# %% id="8b45a0ba" nbgrader={"grade": true, "grade_id": "adagrad_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adagrad_step: edge cases: lr = 0, beta = 0, float32, scalars, zero gradients (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adagrad_step", adagrad_step, "edge")
### END HIDDEN TESTS


# %% id="f3de0397" nbgrader={"grade": true, "grade_id": "adagrad_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adagrad_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adagrad_step", adagrad_step, "trajectory")
### END HIDDEN TESTS


# %% id="01d3906d" nbgrader={"grade": true, "grade_id": "adagrad_step_long", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adagrad_step: long runs in which the accumulator grows large (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adagrad_step_long_run", adagrad_step, "long")
### END HIDDEN TESTS

# %% [markdown] id="ed0177c5"
# *Optional: an outside check* against `torch.optim.Adagrad` (its first step takes a
# few seconds):
#
# ```python
# w = torch.zeros(3, dtype=torch.float64, requires_grad=True)
# opt = torch.optim.Adagrad([w], lr=0.1)
# x_mine, G_mine = np.zeros(3), np.zeros(3)
# for g_k in rng.normal(size=(20, 3)) * [1.0, 0.01, 100.0]:
#     w.grad = torch.tensor(g_k)
#     opt.step()
#     x_mine, G_mine = adagrad_step(x_mine, g_k, G_mine, lr=0.1)
# print(np.abs(x_mine - w.detach().numpy()).max())  # about 1e-16
# ```
#
# The same works for `rmsprop_step` with `torch.optim.RMSprop`.

# %% [markdown] id="bdc961d7"
# ### AdaGrad on the ravine
#
# On an axis-aligned ravine $g_i = \lambda_i x_i$, so AdaGrad divides by
# $\lambda_i \sqrt{\sum_s x_{s,i}^2}$: the curvature cancels, and the path should not
# depend on $\kappa$ at all.

# %% id="32f67e36" tags=["skip-when-grading"]
def kappa_free(lr, steps, x0):
    paths = [dl.run(adagrad_step, dl.ravine(kappa), x0, steps, lr=lr).xs for kappa in (10, 50, 1000)]
    gap = max(np.abs(p - paths[1]).max() for p in paths)
    return gap < 1e-8, f"largest gap between AdaGrad's paths for kappa = 10, 50, 1000: {gap:.1e}"


print(dl.robust_claim("on an axis-aligned ravine AdaGrad's path does not depend on the condition number",
                      kappa_free, dict(lr=1.0, steps=100, x0=start))[1])
show(ravine, {"SGD lr=0.035": dl.run(torch_sgd_step, ravine, start, 100, lr=0.035),
              "AdaGrad lr=1": dl.run(adagrad_step, ravine, start, 100, lr=1.0)}, "Axis-aligned ravine, kappa = 50")

# %% [markdown] id="357196ef"
# Only the tiny $\epsilon$ tells the ravines apart. AdaGrad heads almost straight for the
# minimum (a fair race, with the heavy ball, is in section 6). Why? `run_with_state` runs
# a step function like `dl.run` and also keeps the state ($G$) after every update:

# %% id="fdcc9e11" tags=["skip-when-grading"]
def ravine_rates(lr, steps, x0):
    G = run_with_state(adagrad_step, ravine, x0, steps, lr=lr)[1]["G"][1:]
    eff = lr / (np.sqrt(G) + 1e-10)
    ratio = eff[-1, 0] / eff[-1, 1]
    holds = 20 < ratio < 100 and np.all(eff[:, 1] < 2 / 50) and eff[-1, 0] > 10 * 0.035 and np.all(G[-1] < 1.5 * G[0])
    return holds, (f"after {steps} steps: effective lr of x0 {eff[-1, 0]:.3f}, of x1 {eff[-1, 1]:.4f} "
                   f"(ratio {ratio:.0f}); G grew by {np.max(G[-1] / G[0] - 1):.0%} after the first step")


print(dl.robust_claim("AdaGrad gives the flat coordinate 20 to 100 times the steep one's effective learning rate, "
                      "keeps the steep one below its limit 2 / 50, gives the flat one more than 10 times the "
                      "0.035 of gradient descent, and G grows by less than half after the first step",
                      ravine_rates, dict(lr=1.0, steps=40, x0=start))[1])

# %% [markdown] id="318bfe6c"
# AdaGrad found rates that match the curvatures: the steep coordinate's stays below its
# limit, the flat one's is far above what gradient descent can use. The first, largest
# gradients fixed them.
#
# ### AdaGrad on sparse features

# %% id="09bc238f" tags=["skip-when-grading"]
def sparse_rates(lr, seed, x0, steps):
    traj, state = run_with_state(adagrad_step, sparse.stream(batch_size=10, seed=seed), x0, steps, lr=lr)
    eff = lr / (np.sqrt(state["G"][1:]) + 1e-10)
    ratio = eff[-1, 1] / eff[-1, 0]
    return ratio > 4, (f"effective learning rates after {steps} steps: common {eff[-1, 0]:.2f}, "
                       f"rare {eff[-1, 1]:.2f} ({ratio:.1f} times larger)")


print(dl.robust_claim("the rare coordinate keeps a much larger effective learning rate (more than 4 times)",
                      sparse_rates, dict(lr=1.5, seed=0, x0=w_start, steps=300))[1])
ada_sparse = run_with_state(adagrad_step, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=1.5)
dl.claim("check of the formula: AdaGrad's effective learning rates never increase",
         np.all(np.diff(ada_sparse[1]["G"], axis=0) >= 0))
show(sparse, {"SGD lr=1.9": sgd_sparse(1.9, 0, w_start), "AdaGrad lr=1.5": ada_sparse[0]},
     "Sparse features, minibatches of 10")

# %% [markdown] id="a739676c"
# The rare coordinate's $G$ grows only when its feature shows up, by a small diluted
# gradient, so each appearance moves its weight usefully. A fair race: each method over
# learning rates 1.25 apart (its best strictly inside the grid), the same minibatches,
# the first step after which both weights stay within 0.01 of their targets:

# %% id="f31a996d" tags=["skip-when-grading"]
sparse_grids = {"SGD": (torch_sgd_step, 1.25 ** np.arange(-1, 6)),          # 0.8 to 3.05
                "AdaGrad": (adagrad_step, 0.5 * 1.25 ** np.arange(0, 11))}  # 0.5 to 4.66


@functools.cache
def sparse_race(seed, steps, x0):
    table = {}
    for name, (fn, grid) in sparse_grids.items():
        for lr in grid:
            t = dl.run(fn, sparse.stream(batch_size=10, seed=seed), np.array(x0), steps, lr=lr)
            table[name, lr] = settle_step(np.abs(t.xs - 1).max(axis=1), 0.0)
    return table


def adagrad_wins_sparse(seed, steps, x0):
    table = sparse_race(seed, steps, tuple(x0))
    best = {}
    for name, (_, grid) in sparse_grids.items():
        val = np.array([np.inf if table[name, lr] is None else table[name, lr] for lr in grid])
        best[name] = val.min()
        inside = min(val[0], val[-1]) > val.min()
        assert inside, f"{name}'s best learning rate lies on the edge of its grid: {val}"
    wide = [lr for lr in sparse_grids["AdaGrad"][1] if table["AdaGrad", lr] is not None
            and table["AdaGrad", lr] < best["SGD"]]
    holds = best["AdaGrad"] * 3 < best["SGD"] and min(wide) < 0.8 and max(wide) > 3.0
    return holds, (f"best steps: SGD {best['SGD']:.0f}, AdaGrad {best['AdaGrad']:.0f}; AdaGrad beats SGD's best "
                   f"for lr from {min(wide):.2f} to {max(wide):.2f}")


print("steps until both weights stay within 0.01 of 1 (None: not within 300 steps)")
for name, (_, grid) in sparse_grids.items():
    print(f"{name:8s}" + "  ".join(f"{lr:.2f}: {sparse_race(0, 300, tuple(w_start))[name, lr]}" for lr in grid))
print(dl.robust_claim("at its best AdaGrad settles more than 3 times sooner than the best gradient descent of the "
                      "grid, and beats it for every learning rate from 0.8 to 3", adagrad_wins_sparse,
                      dict(seed=0, steps=300, x0=w_start))[1])

# %% [markdown] id="27cb0805"
# Not a lucky learning rate: AdaGrad beats the best gradient descent over a wide range.
#
# ### Why AdaGrad's step only shrinks, and where that stalls
#
# Under a constant gradient, after $t$ updates $G = t g^2$ and the step is $\eta / \sqrt t$.
#
# **Question 1.** AdaGrad with lr = 0.5 gets the gradient $g = 3$ at every step, starting
# from $G = 0$. How far does it move on its 25th update?

# %% id="06df2ad0" nbgrader={"grade": false, "grade_id": "q_adagrad_25_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
adagrad_step_25 = 0.5 / np.sqrt(25)
### END SOLUTION


# %% id="e7afb507" nbgrader={"grade": false, "grade_id": "q_adagrad_25_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(adagrad_step_25, "adagrad_step_25")


# %% id="1fe11f3e" nbgrader={"grade": true, "grade_id": "q_adagrad_25", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("adagrad_step_25", adagrad_step_25)
### END HIDDEN TESTS

# %% [markdown] id="2b8dd352"
# The shrinking hurts when gradients are large early and small later. A 1-D landscape: a
# cliff (slope about 5) for $x > 3$, then a gentle slope (about 0.1) to the minimum near
# 0. Start on the cliff at $x = 6$, and, to compare, at $x = 2.9$ on the same slope
# without the cliff (`cliff(cliff_slope=0)`):

# %% id="ae7807bb" tags=["skip-when-grading"]
cliff_land, plateau_only = cliff(), cliff(cliff_slope=0.0)


def crossing(traj, top=2.9, bottom=0.3):
    # steps from the first x below `top` to the first x below `bottom` (None: not in the run)
    below_top, below_bottom = np.nonzero(traj.xs[:, 0] < top)[0], np.nonzero(traj.xs[:, 0] < bottom)[0]
    return int(below_bottom[0] - below_top[0]) if len(below_top) and len(below_bottom) else None


def cliff_stall(lr, x0, steps):
    after = crossing(dl.run(adagrad_step, cliff_land, x0, steps, lr=lr))
    fresh = crossing(dl.run(adagrad_step, plateau_only, [2.9], 100, lr=lr))
    return (after is not None and fresh is not None and after > 30 * fresh,
            f"AdaGrad lr={lr:g}, steps to cross the slope from 2.9 to 0.3: after the cliff {after}, without it {fresh}")


print(dl.robust_claim("after the cliff AdaGrad needs more than 30 times as many steps to cross the same gentle "
                      "slope", cliff_stall, dict(lr=1.0, x0=np.array([6.0]), steps=1000))[1])
ada_cliff = run_with_state(adagrad_step, cliff_land, [6.0], 1000, lr=1.0)
ada_fresh = dl.run(adagrad_step, plateau_only, [2.9], 100, lr=1.0)
fig, (ax_f, ax_x) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
grid_x = np.linspace(-1, 6.5, 400)
ax_f.plot(grid_x, cliff_land.f(grid_x[:, None]), color="0.55", label="cliff")
ax_f.plot(grid_x, plateau_only.f(grid_x[:, None]), color="0.55", ls=":", label="gentle slope only")
ax_f.plot([6.0, 2.9], [cliff_land.value([6.0]), plateau_only.value([2.9])], "o", color="0.2", mfc="white",
          label="starts")
ax_f.set_xlabel("x")
ax_f.set_ylabel("f(x)")
ax_f.legend(fontsize=8)
ax_x.plot(ada_cliff[0].xs[:400, 0], label="AdaGrad lr=1, from x = 6 on the cliff", **dl.colors.style("AdaGrad"))
ax_x.plot(ada_fresh.xs[:, 0], label="AdaGrad lr=1, from x = 2.9 without the cliff",
          color=dl.colors.style("AdaGrad")["color"], lw=2.5, ls="--")
ax_x.axhline(3.0, color="0.6", lw=0.8, ls=":")
ax_x.text(390, 3.1, "edge of the cliff", ha="right", fontsize=8, color="0.4")
ax_x.set_xlim(0, 400)
ax_x.set_xlabel("step (first 400 of 1000)")
ax_x.set_ylabel("x")
ax_x.legend(fontsize=8)
fig.suptitle("AdaGrad: a cliff, then a gentle slope")
plt.show()


# %% [markdown] id="66df779d"
# The few large cliff gradients filled $G$ for good: the stall is worst in long runs
# whose gradients change scale.
#
# ## 3. RMSprop: a moving average instead of a sum
#
# RMSprop (Tieleman and Hinton, 2012) averages the squared gradients, so old ones fade.
# In PyTorch's convention (`torch.optim.RMSprop`, defaults $\alpha = 0.99$,
# $\epsilon = 10^{-8}$):
#
# $$s_t = \alpha\, s_{t-1} + (1 - \alpha)\, g_t^2, \qquad
# x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon}, \qquad s_0 = 0.$$
#
# The weights $(1-\alpha)\alpha^k$ of past $g^2$ add up to 1 in a long run, so under a
# constant gradient the step tends to $\eta$. They fade over a **horizon** of about
# $1/(1-\alpha)$ steps. (`momentum` and `centered` are off by default.)

# %% id="b41f55c4" nbgrader={"grade": false, "grade_id": "rmsprop_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    """One step of RMSprop, PyTorch's convention (torch.optim.RMSprop).

    x, g, s: arrays of the same shape: the point, the gradient at x, and the state s,
    the moving average of squared gradients before this one (zeros before the first step).
    lr, alpha, eps: floats; alpha is the weight of the old average, eps sits outside the
    square root (section 3 gives the update).
    Returns (x_new, s_new), s_new the state after this step; elementwise, for arrays of
    any shape. The inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    s_new = alpha * s + (1 - alpha) * g * g
    return x - lr * g / (np.sqrt(s_new) + eps), s_new
    ### END SOLUTION



# %% id="1ccf934d" nbgrader={"grade": false, "grade_id": "rmsprop_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for rmsprop_step
x, g, s = np.array([1.0, -2.0, 0.5]), np.array([0.5, -1.0, 2.0]), np.array([1.25, 0.0, 4.0])
x_new, s_new = rmsprop_step(x, g, s, lr=0.1, alpha=0.75)
dl.assert_close(s_new, [1.0, 0.25, 4.0], "s_new = alpha * s + (1 - alpha) * g**2",
                inputs="g=[0.5, -1, 2], s=[1.25, 0, 4], alpha=0.75")
dl.assert_close(x_new, [0.95, -1.8, 0.4], "x_new = x - lr * g / (sqrt(s_new) + eps)", inputs="x=[1, -2, 0.5], lr=0.1")
assert np.array_equal(s, [1.25, 0.0, 4.0]) and np.array_equal(x, [1.0, -2.0, 0.5]), \
    "rmsprop_step changed its inputs in place: return new arrays"
# the defaults, and eps outside the square root: a first step with g = 1e-8 moves by g / (0.1 g + 1e-8) = 1 / 1.1
dl.assert_close(rmsprop_step(np.zeros(1), np.array([1e-8]), np.zeros(1), lr=1.0)[0], [-1 / 1.1],
                "a first step with g = 1e-8 and the default alpha = 0.99, eps = 1e-8")
print("rmsprop_step: visible tests passed")


# %% id="4231db81" nbgrader={"grade": true, "grade_id": "rmsprop_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# rmsprop_step: basic behaviour (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("rmsprop_step", rmsprop_step, "basic")
### END HIDDEN TESTS


# %% id="b94fb46c" nbgrader={"grade": true, "grade_id": "rmsprop_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# rmsprop_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("rmsprop_step", rmsprop_step, "random")
### END HIDDEN TESTS


# %% id="502646bc" nbgrader={"grade": true, "grade_id": "rmsprop_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# rmsprop_step: edge cases: lr = 0, beta = 0, float32, scalars, zero gradients (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("rmsprop_step", rmsprop_step, "edge")
### END HIDDEN TESTS


# %% id="c145ce1d" nbgrader={"grade": true, "grade_id": "rmsprop_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# rmsprop_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("rmsprop_step", rmsprop_step, "trajectory")
### END HIDDEN TESTS


# %% id="41794e5e" nbgrader={"grade": true, "grade_id": "rmsprop_step_long", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# rmsprop_step: long runs in which the accumulator grows large (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("rmsprop_step_long_run", rmsprop_step, "long")
### END HIDDEN TESTS

# %% [markdown] id="14997bf9"
# ### The horizon, measured
#
# Feed RMSprop $g = 2$ for 300 steps, then $g = 0$: $s$ should settle at $g^2 = 4$,
# then shrink by a factor $\alpha$ per step.

# %% id="0fc24eba" tags=["skip-when-grading"]
fig, ax = plt.subplots(figsize=(7, 2.8))
s_runs = {}
for alpha in (0.9, 0.99):
    s_now, s_trace = np.zeros(1), []
    for t in range(600):
        _, s_now = rmsprop_step(np.zeros(1), np.full(1, 2.0 if t < 300 else 0.0), s_now, lr=0.01, alpha=alpha)
        s_trace.append(s_now[0])
    s_runs[alpha] = np.array(s_trace)
    ax.semilogy(np.arange(1, 601), s_runs[alpha], label=f"alpha = {alpha}: horizon {1 / (1 - alpha):.0f} steps",
                color=dl.colors.style("RMSprop")["color"], ls="--" if alpha == 0.9 else "-")
ax.axvline(300, color="0.5", lw=0.8, ls=":")
ax.set_xlabel("step")
ax.set_ylabel("s")
ax.set_title("g = 2 for 300 steps, then g = 0")
ax.legend(fontsize=8)
plt.show()
for alpha, trace in s_runs.items():
    print(f"alpha = {alpha}: s after 300 steps {trace[299]:.6f}, 300 steps after the drop {trace[-1]:.2g}")
dl.claim("under a constant gradient g = 2, s settles at g**2 = 4",
         abs(s_runs[0.99][299] - 4) < 0.2 and abs(s_runs[0.9][299] - 4) < 1e-9)
dl.claim("check of the formula: after the drop, s shrinks by alpha per step",
         all(np.allclose(tr[300:] / tr[299:-1], a, rtol=1e-12) for a, tr in s_runs.items()))

# %% [markdown] id="28f32d79"
# With $\alpha = 0.99$, $s$ needs a few horizons to fill up ($4(1 - 0.99^{300}) = 3.8$)
# and to forget; with $\alpha = 0.9$ both happen ten times faster.
#
# **Question 2.** With $\alpha = 0.99$ and $g = 0$ from some step on, how many steps does
# $s$ take to fall to 1% of its value? (The exact real solution is fine too.)

# %% id="52ca0cf5" nbgrader={"grade": false, "grade_id": "q_forget_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
forget_steps = np.log(0.01) / np.log(0.99)
### END SOLUTION


# %% id="43c98c7e" nbgrader={"grade": false, "grade_id": "q_forget_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(forget_steps, "forget_steps")


# %% id="96b044b6" nbgrader={"grade": true, "grade_id": "q_forget", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("forget_steps", forget_steps)
### END HIDDEN TESTS

# %% [markdown] id="853d21e5"
# ### RMSprop's effective learning rates on the ravine
#
# RMSprop forgets the first gradients, so its rates follow the *current* ones: as the path
# nears the minimum they grow. How far? Both methods on the axis-aligned ravine, the
# limits $2/\lambda_i$ (2 and 0.04) dotted:

# %% id="2ab2808d" tags=["skip-when-grading"]
def rms_edge(lr, alpha, steps, x0):
    ada, ada_state = run_with_state(adagrad_step, ravine, x0, steps, lr=1.0)
    rms, rms_state = run_with_state(rmsprop_step, ravine, x0, steps, lr=lr, alpha=alpha)
    eff_rms = lr / (np.sqrt(rms_state["s"][1:]) + 1e-8)
    low = int(np.argmax(rms.losses < 1e-15))
    thrown = low + int(np.argmax(rms.losses[low:] > 1e-3))
    holds = (rms.losses[low] < 1e-15 and low < 100 and rms.losses[thrown] > 1e-3
             and np.allclose(eff_rms[-50:], [2.0, 0.04], rtol=1e-2) and rms.losses[-100:].min() > 1e-3
             and ada.losses[-1] < 1e-15)
    return holds, (f"RMSprop: loss below 1e-15 at step {low}, back above 1e-3 at step {thrown}, effective rates at "
                   f"the end {np.round(eff_rms[-1], 4)}, loss at the end {rms.losses[-1]:.1e}; AdaGrad's loss at the "
                   f"end {ada.losses[-1]:.1e}"), (ada, ada_state, rms, rms_state)


# alpha moves by +-20% of its horizon 1 / (1 - alpha), the quantity that matters
edge_run = dl.robust_claim("RMSprop's loss falls below 1e-15 within 100 steps and is then thrown back above 1e-3; "
                           "its effective rates end at each coordinate's limit 2 / lambda, where its loss stays "
                           "above 1e-3, while AdaGrad's falls below 1e-15",
                           lambda **k: rms_edge(**k)[:2], dict(lr=0.05, alpha=0.9, steps=300, x0=start),
                           vary={"alpha": [0.88, 0.92]})
print(edge_run[1])
ada_run, ada_state, rms_run, rms_state = rms_edge(0.05, 0.9, 300, start)[2]
eff_ada = 1.0 / (np.sqrt(ada_state["G"][1:]) + 1e-10)
eff_rms = 0.05 / (np.sqrt(rms_state["s"][1:]) + 1e-8)
fig, (ax_e, ax_l) = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained")
steps = np.arange(1, 301)
for i, (name, lam) in enumerate((("x0, flat", 1.0), ("x1, steep", 50.0))):
    width = 1.3 if i == 0 else 2.6
    ax_e.semilogy(steps, eff_ada[:, i], label=f"AdaGrad lr=1: {name}", **dl.colors.style("AdaGrad"), lw=width)
    ax_e.semilogy(steps, eff_rms[:, i], label=f"RMSprop lr=0.05, alpha=0.9: {name}", **dl.colors.style("RMSprop"),
                  lw=width)
    ax_e.axhline(2 / lam, color="0.4", lw=0.8, ls=":")
    ax_e.text(300, 2 / lam * 1.15, f"limit 2 / {lam:g} for {name.split(',')[0]}",
              ha="right", va="bottom", fontsize=7, color="0.35")
top = 60
ax_e.set_ylim(1e-3, top)
if max(eff_ada.max(), eff_rms.max()) > top:
    ax_e.text(0.02, 0.97, f"cut at {top}: RMSprop's rates peak at {eff_rms.max():.0e}", transform=ax_e.transAxes,
              va="top", fontsize=7, color="0.3")
ax_e.set_xlabel("step")
ax_e.set_ylabel("effective learning rate")
ax_e.legend(fontsize=7, loc="lower right")
for traj, name in ((ada_run, "AdaGrad lr=1"), (rms_run, "RMSprop lr=0.05, alpha=0.9")):
    ax_l.semilogy(np.maximum(traj.losses, GAP_FLOOR), label=name, **dl.colors.style(name.split(" ")[0]))
ax_l.axhline(GAP_FLOOR, color="0.5", lw=0.8, ls=":")
ax_l.text(300, GAP_FLOOR * 3, f"display clamp: values below {GAP_FLOOR:g} drawn at {GAP_FLOOR:g}", ha="right",
          fontsize=7, color="0.3")
ax_l.set_xlabel("step")
ax_l.set_ylabel("f(x) - f*")
ax_l.legend(fontsize=8)
ax_l.grid(True, alpha=0.3)
fig.suptitle("Axis-aligned ravine (kappa = 50): effective learning rate of each coordinate")
plt.show()
print(f"smallest loss of the runs: AdaGrad {ada_run.losses.min():.1e}, RMSprop {rms_run.losses.min():.1e}")

# %% [markdown] id="c7e1cb89"
# For a while the growing rates are a gift: RMSprop's loss falls below $10^{-15}$ (the
# printed minima lie far below the plot's clamp at $10^{-16}$). But the rates climb past
# each limit $2/\lambda_i$, the path is thrown out, and the rates come back down until each
# coordinate sits at its limit, bouncing between two points. With a constant learning
# rate RMSprop finds the edge of stability and stays there; in practice a schedule
# lowers $\eta$ (notebook 03).
#
# ### RMSprop forgets the cliff
#
# RMSprop's first step is about $\eta / \sqrt{1 - \alpha}$ (section 5), so lr = 0.1 with
# $\alpha = 0.99$ starts like AdaGrad with lr = 1:

# %% id="e59ecf35" tags=["skip-when-grading"]
def effective_lr(run, lr, eps):
    acc = next(iter(run[1].values()))[1:, 0]  # G or s after each update
    return lr / (np.sqrt(acc) + eps)


def forgets(lr_ada, lr_rms, x0, steps):
    runs = {"AdaGrad": run_with_state(adagrad_step, cliff_land, x0, steps, lr=lr_ada)}
    for alpha in (0.99, 0.9):
        runs[f"RMSprop alpha={alpha}"] = run_with_state(rmsprop_step, cliff_land, x0, steps, lr=lr_rms, alpha=alpha)
    eff = {name: effective_lr(r, lr_ada if name == "AdaGrad" else lr_rms, 1e-10 if name == "AdaGrad" else 1e-8)
           for name, r in runs.items()}
    cross = {name: crossing(r[0]) or np.inf for name, r in runs.items()}
    edge = 2 / cliff_land.curvature(float(cliff_land.global_min[0]))
    holds = (eff["RMSprop alpha=0.99"][-1] > 10 * eff["RMSprop alpha=0.99"][:50].min()
             and eff["RMSprop alpha=0.9"][-1] > 0.99 * edge
             and cross["RMSprop alpha=0.9"] < cross["RMSprop alpha=0.99"] < cross["AdaGrad"])
    return holds, (f"steps to cross the slope after the cliff: {cross}; RMSprop (alpha = 0.9) ends at an effective "
                   f"learning rate of {eff['RMSprop alpha=0.9'][-1]:.2f}, 2 / f''(x*) = {edge:.2f}"), eff


forget_run = dl.robust_claim("after the cliff RMSprop's effective learning rate grows again by more than 10 "
                             "times (alpha = 0.99), with alpha = 0.9 it climbs to the limit 2 / f''(x*) or "
                             "beyond, and RMSprop crosses the slope sooner than AdaGrad, the shorter horizon "
                             "sooner still",
                             lambda **k: forgets(**k)[:2], dict(lr_ada=1.0, lr_rms=0.1, x0=np.array([6.0]),
                                                                steps=1000))
print(forget_run[1])
eff = forgets(1.0, 0.1, [6.0], 1000)[2]
dl.claim("check of the formula: AdaGrad's effective learning rate never recovers",
         np.all(np.diff(eff["AdaGrad"]) <= 0))
fig, ax = plt.subplots(figsize=(7, 3))
for name, e in eff.items():
    st = dl.colors.style(name.split(" ")[0])
    if name.endswith("0.9"):
        st["linestyle"] = "--"
    ax.semilogy(np.arange(1, 1001), e, label=name + (" lr=1" if name == "AdaGrad" else " lr=0.1"), **st)
ax.set_xlabel("step")
ax.set_ylabel("lr / (sqrt(.) + eps)")
ax.set_title("Effective learning rate after the cliff")
ax.legend(fontsize=8, loc="lower right")
plt.show()

# %% [markdown] id="3cd9c629"
# AdaGrad's rate stays where the cliff left it; RMSprop's climbs back once the cliff
# fades from the average, faster with the shorter horizon, up to the bowl's stability
# limit. Forgetting is not free: back on the sparse problem,

# %% id="b0abc64b" tags=["skip-when-grading"]
def rms_sparse(lr, seed, x0, steps=300):
    return run_with_state(rmsprop_step, sparse.stream(batch_size=10, seed=seed), x0, steps, lr=lr)


def thrown_out(lr_small, lr_large, seed, x0):
    settle_small = settle_step(np.abs(rms_sparse(lr_small, seed, x0)[0].xs - 1).max(axis=1), 0.0)
    settle_ada = settle_step(np.abs(dl.run(adagrad_step, sparse.stream(batch_size=10, seed=seed), x0, 300,
                                           lr=1.5).xs - 1).max(axis=1), 0.0)
    traj, state = rms_sparse(lr_large, seed, x0)
    err = np.abs(traj.xs - 1).max(axis=1)
    first = int(np.argmax(err < 1e-3))   # the first step within 1e-3 of the minimum
    thrown = first + int(np.argmax(err[first:] > 0.1))
    past = first + int(np.argmax(lr_large / (np.sqrt(state["s"][first:, 0]) + 1e-8) > 2))
    holds = (settle_small is not None and settle_ada is not None and settle_small > settle_ada
             and err.min() < 1e-3 and err[first:].max() > 0.3 and past < thrown)
    return holds, (f"lr = {lr_small}: both weights within 0.01 from step {settle_small} (AdaGrad lr=1.5: "
                   f"{settle_ada}); lr = {lr_large}: within 1e-3 at step {first}, the common weight's "
                   f"effective rate passes 2 at step {past}, the error passes 0.1 at step {thrown} and reaches "
                   f"{err[first:].max():.2f}")


print(dl.robust_claim("with lr = 0.1 RMSprop settles, later than AdaGrad with lr = 1.5; with lr = 0.2 it comes "
                      "within 1e-3 of the minimum, then the common weight's effective rate passes its limit 2 and "
                      "the path is thrown more than 0.3 away", thrown_out,
                      dict(lr_small=0.1, lr_large=0.2, seed=0, x0=w_start), fixed=["lr_small", "lr_large"])[1])

# %% [markdown] id="d853e257"
# It is the ravine's instability again, on the *common* weight. AdaGrad's long memory, a
# handicap on the cliff, protects it here.
#
# ### With noisy gradients
#
# So far the gradients were exact at the minimum. Minibatch gradients of a real model are
# not: add $\sigma\,\xi$, $\xi \sim N(0, 1)$, to every coordinate of the ravine's
# gradient. Predict: with 100 times less noise, what happens to each method's final
# loss? And to AdaGrad's when the run gets longer? Eight seeds, mean and spread:

# %% id="d47c2344" tags=["skip-when-grading"]
noise_methods = {"SGD lr=0.02": (torch.optim.SGD, dict(lr=0.02)), "AdaGrad lr=1": (adagrad_step, dict(lr=1.0)),
                 "RMSprop lr=0.05": (rmsprop_step, dict(lr=0.05))}
sigmas = np.array([0.01, 1.0])


@functools.cache
def noisy_losses(seed, steps, x0):
    # f - f* per step, shape (steps + 1, sigma, seed): 8 seeds of noise for each sigma, in one stacked run
    starts = np.broadcast_to(np.array(x0), (len(sigmas), 8, 2))
    return {name: 0.5 * np.einsum("...i,ij,...j->...", xs, ravine.A, xs)
            for name, (fn, hyper) in noise_methods.items()
            for xs in [(run_torch_stacked if fn is torch.optim.SGD else run_stacked)(
                fn, ravine.A, starts, steps, noise=sigmas[:, None], seed=seed, **hyper)]}


def window(losses, frac):
    # mean loss over the 20% of the steps that end at `frac` of the run, per (sigma, seed)
    n = len(losses) - 1
    return losses[int(0.8 * frac * n):int(frac * n) + 1].mean(axis=0)


def noise_lesson(seed, steps, x0):
    L = noisy_losses(seed, steps, tuple(x0))
    end = {name: window(v, 1.0).mean(axis=1) for name, v in L.items()}   # per sigma, mean over seeds
    early = {name: window(v, 0.1).mean(axis=1) for name, v in L.items()}
    holds = (end["SGD lr=0.02"][1] > 1e3 * end["SGD lr=0.02"][0] and end["RMSprop lr=0.05"][1] < 10 *
             end["RMSprop lr=0.05"][0] and end["RMSprop lr=0.05"][0] > 100 * end["SGD lr=0.02"][0]
             and early["AdaGrad lr=1"][1] > 1.5 * end["AdaGrad lr=1"][1]
             and end["AdaGrad lr=1"][1] < min(end["SGD lr=0.02"][1], end["RMSprop lr=0.05"][1]))
    return holds, "; ".join(f"{name}: final loss {e[0]:.1e} (sigma 0.01), {e[1]:.1e} (sigma 1)"
                            for name, e in end.items())


print(dl.robust_claim("with 100 times less noise gradient descent's final loss falls more than 1000-fold, "
                      "RMSprop's less than 10-fold, so that it ends more than 100 times above gradient descent's; "
                      "with sigma = 1 AdaGrad's loss is still falling (1.5 times lower at the end than at a tenth "
                      "of the run) and ends below both", noise_lesson, dict(seed=0, steps=2000, x0=start))[1])
L = noisy_losses(0, 2000, tuple(start))
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), layout="constrained", sharey=True)
for ax, k in zip(axes, range(len(sigmas)), strict=True):
    for name, v in L.items():
        st = dl.colors.style(name.split(" ")[0])
        ax.loglog(np.arange(1, 2001), v[1:, k].mean(axis=1), label=name, **st)
        ax.fill_between(np.arange(1, 2001), v[1:, k].min(axis=1), v[1:, k].max(axis=1), color=st["color"],
                        alpha=0.15, lw=0)
    ax.set_title(f"noise sigma = {sigmas[k]:g}")
    ax.set_xlabel("step")
    ax.grid(True, alpha=0.3)
axes[0].set_ylabel("f(x) - f*: mean of 8 seeds, band min to max")
axes[0].legend(fontsize=8)
fig.suptitle("The ravine with noisy gradients")
plt.show()
for name, v in L.items():
    end = window(v, 1.0)
    print(f"{name:16s} loss over the last 400 steps: "
          + ", ".join(f"sigma {s:g}: {end[k].mean():.1e} +- {end[k].std():.0e}" for k, s in enumerate(sigmas)))

# %% [markdown] id="32aeea84"
# RMSprop divides each coordinate by the size of its own recent gradients, noise
# included, so it steps about $\eta$ however small the gradient: its floor is set by
# $\eta$, not by $\sigma$, and with little noise it ends far above gradient descent.
# AdaGrad's shrinking steps, the stall of the cliff, here average the noise out. A
# constant-rate method needs a decaying schedule to do the same (notebook 03).
#
# ## 4. Where eps sits, and why it matters for tiny gradients
#
# PyTorch adds $\epsilon$ *outside* the root, $\sqrt{s} + \epsilon$; papers and some
# libraries write $\sqrt{s + \epsilon'}$. They part ways for tiny gradients (weights the
# loss barely depends on, low precision). Without any $\epsilon$, RMSprop's first step
# ($\alpha = 0.99$, lr = 1) would be $g / \sqrt{0.01\,g^2} = 10$ for any $g$.
#
# **Question 3.** For tiny gradients PyTorch's step becomes $\eta g / \epsilon$. Which
# $\epsilon'$ in $\sqrt{s + \epsilon'}$ gives tiny gradients the same step as AdaGrad's
# default $\epsilon = 10^{-10}$? Predict, then check your reasoning on the table below
# (RMSprop's first step, $\epsilon = 10^{-8}$).

# %% id="aaede5b2" nbgrader={"grade": false, "grade_id": "q_eps_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
eps_inside = 1e-10 ** 2
### END SOLUTION

# %% id="30d45114" nbgrader={"grade": false, "grade_id": "q_eps_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(eps_inside, "eps_inside")


# %% id="8028acf5" nbgrader={"grade": true, "grade_id": "q_eps", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("eps_inside", eps_inside)
### END HIDDEN TESTS

# %% id="fbed4bc0" tags=["skip-when-grading"]
gs = 10.0 ** -np.arange(2, 12)
outside = np.array([abs(rmsprop_step(np.zeros(1), np.array([g]), np.zeros(1), lr=1.0)[0][0]) for g in gs])
inside = gs / np.sqrt(0.01 * gs ** 2 + 1e-8)     # sqrt(s + eps) with the same eps = 1e-8
inside_sq = gs / np.sqrt(0.01 * gs ** 2 + 1e-16)  # sqrt(s + eps') with eps' = eps**2
print("      g    your step   sqrt(s + 1e-8)   sqrt(s + 1e-16)    no eps")
for row in zip(gs, outside, inside, inside_sq, strict=True):
    print(f"{row[0]:8.0e}  {row[1]:10.4g}  {row[2]:15.4g}  {row[3]:16.4g}  {10:8d}")
dl.claim("with eps outside, gradients down to 1e-6 still get over 90% of a full step",
         np.all(outside[gs >= 1e-6] > 9))
dl.claim("below 1e-8 the step is lr * g / eps within 10%",
         np.allclose(outside[gs < 1e-8], gs[gs < 1e-8] / 1e-8, rtol=0.1))
dl.claim("with eps inside, the step is already down to about 70% of a full step at g = 1e-3", 6.5 < inside[1] < 7.5)
dl.claim("with the same eps inside the square root, g = 1e-6 gets only 0.1% of a full step", inside[4] < 0.011)
dl.claim("eps' = eps**2 inside the root gives the same steps within a factor sqrt(2)",
         np.all(np.maximum(outside / inside_sq, inside_sq / outside) <= np.sqrt(2) + 1e-9))

# %% [markdown] id="bee38243"
# Outside, $\epsilon$ takes over where $\sqrt{s} = 0.1\,|g|$ meets it, near $g = 10^{-7}$;
# below, the step is $\eta g/\epsilon$. Inside, the switch comes where $0.1\,|g|$ meets
# $\sqrt{\epsilon} = 10^{-4}$, already at $g = 10^{-3}$. The forms match for
# $\epsilon' = \epsilon^2$ (within a factor $\sqrt 2$): port $\epsilon$ with care.
#
# | you see | in PyTorch's form |
# |---|---|
# | $\sqrt{s + \epsilon'}$ | about $\sqrt{s} + \epsilon$ with $\epsilon = \sqrt{\epsilon'}$ |
# | the decay called `rho`, `beta`, `beta2` or `decay` | $\alpha$, the weight of the *old* average |
# | $s \leftarrow 0.9\, s + 0.1\, g^2$ (Hinton's lecture) | $\alpha = 0.9$ |
# | AdaGrad's $G$ starting at $G_0 > 0$ | `Adagrad(initial_accumulator_value=G0)` |

# %% [markdown] id="15dfebde"
# ## 5. RMSprop's first steps are large
#
# With $s_0 = 0$ the first average is $s_1 = (1-\alpha)\, g_1^2$: one gradient, scaled as
# if the others were zero.
#
# **Question 4.** RMSprop with lr = 0.01, $\alpha = 0.9$, $\epsilon = 10^{-8}$, from
# $s = 0$, gets $g = 10^{-7}$. How far does its first step move? (Section 4 matters.) The
# cell after the question prints first steps.

# %% id="7f21b345" nbgrader={"grade": false, "grade_id": "q_first_step_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
first_step = 0.01 * 1e-7 / (np.sqrt(0.1 * 1e-7 ** 2) + 1e-8)
### END SOLUTION

# %% id="f3c723f7" nbgrader={"grade": false, "grade_id": "q_first_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(first_step, "first_step")


# %% id="b792bb75" nbgrader={"grade": true, "grade_id": "q_first_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 4 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("first_step", first_step)
### END HIDDEN TESTS

# %% id="9dbcb657" tags=["skip-when-grading"]
first = {(alpha, g): abs(rmsprop_step(np.zeros(1), np.array([g]), np.zeros(1), lr=0.01, alpha=alpha)[0][0])
         for alpha in (0.99, 0.9) for g in (1e-7, 1e-3, 1.0, 1e3)}
for alpha in (0.99, 0.9):
    print(f"alpha = {alpha}: first step for g = 1e-7, 1e-3, 1, 1e3:",
          [round(float(first[alpha, g]), 6) for g in (1e-7, 1e-3, 1.0, 1e3)],
          f"(lr / sqrt(1 - alpha) = {0.01 / np.sqrt(1 - alpha):.4f})")
dl.claim("RMSprop's first step is lr / sqrt(1 - alpha) for gradients from 1e-3 to 1e3",
         all(abs(v - 0.01 / np.sqrt(1 - a)) < 1e-3 * 0.01 / np.sqrt(1 - a) for (a, g), v in first.items() if g >= 1e-3))

# %% [markdown] id="210ebd20"
# The first step is $\eta / \sqrt{1-\alpha}$ for gradients well above $\epsilon$: ten times
# the learning rate for $\alpha = 0.99$, until $s$ fills up. Adam's *bias correction*
# (section 8) fixes this.

# %% [markdown] id="d1265f5c"
# ## 6. A rotated ravine: where per-coordinate scaling helps less
#
# On the axis-aligned ravine the steep and flat directions *are* the coordinates. Rotate
# it (`dl.ravine(kappa, angle)`) and every coordinate mixes both. The start turns with
# it, so gradient descent and the heavy ball, which ignore coordinates, face the same
# problem at every angle. At 45 degrees:

# %% id="2a56763b" tags=["skip-when-grading"]
def rotated(point, angle):
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))  # turn a point by angle degrees
    return np.array([[c, -s], [s, c]]) @ point


ravine45 = dl.ravine(kappa=50, angle=45)
show(ravine45, {"SGD lr=0.035": dl.run(torch_sgd_step, ravine45, rotated(start, 45), 150, lr=0.035),
                "AdaGrad lr=1": dl.run(adagrad_step, ravine45, rotated(start, 45), 150, lr=1.0),
                "RMSprop lr=0.05": dl.run(rmsprop_step, ravine45, rotated(start, 45), 150, lr=0.05)},
     "The same ravine turned by 45 degrees")

# %% [markdown] id="48206771"
# The adaptive paths crawl along the valley floor: the steep direction lives in both
# coordinates, so AdaGrad gives both about the same small rate.

# %% id="752590b4" tags=["skip-when-grading"]
def equal_rates(lr, steps, x0):
    eff = lr / np.sqrt(run_with_state(adagrad_step, ravine45, x0, steps, lr=lr)[1]["G"][-1])
    return abs(eff[0] / eff[1] - 1) < 0.1, f"AdaGrad's effective learning rates after {steps} steps: {np.round(eff, 4)}"


print(dl.robust_claim("at 45 degrees AdaGrad's two effective learning rates are within 10% of each other",
                      equal_rates, dict(lr=1.0, steps=150, x0=rotated(start, 45)))[1])

# %% [markdown] id="8d2fcd73"
# Now a fair race at several angles. Each method is tuned on a grid whose best setting
# must lie strictly inside it (the heavy ball over lr and $\beta$). The measure is the
# first step after which the path stays within 0.01 of the minimum, counted only where a
# run twice as long gives the same step: a path that is thrown out later has not
# settled. Gradient descent and the heavy ball are `torch.optim.SGD`; a step of either
# with learning rate $\eta$ on $f$ is a step with learning rate 1 on $\eta f$, so each
# grid runs as one stack of scaled problems.

# %% id="c36dee22" tags=["skip-when-grading"]
angles = [0, 15, 30, 45]
lr_grids = {"SGD": 0.01 * 1.25 ** np.arange(9),          # 0.01 to 0.06
            "heavy ball": 0.02 * 1.25 ** np.arange(8),   # 0.02 to 0.095
            "AdaGrad": 0.1 * 1.25 ** np.arange(20)}      # 0.1 to 6.9
rms_grid = 0.002 * 1.25 ** np.arange(23)                # 0.002 to 0.27
betas = np.array([0.3, 0.45, 0.6, 0.75, 0.9])


def settled(xs, steps, tol):
    # a run of 2 * steps updates: the settle step within its first `steps`, counted only where the whole
    # run (twice as long) agrees, so that the measure no longer depends on the run's length
    short, long = settle_steps(xs[:steps + 1], tol), settle_steps(xs, tol)
    return np.where(short == long, short, np.inf)


def settle_grid(name, steps, x0, tol):
    # steps to settle, shape (lr, [beta,] angle)
    H = np.array([dl.ravine(kappa=50, angle=a).A for a in angles])
    starts = np.array([rotated(np.array(x0), a) for a in angles])
    grid, n = lr_grids[name], 2 * steps
    if name == "SGD":
        return settled(run_torch_stacked(torch.optim.SGD, grid[:, None, None, None] * H, starts, n, lr=1.0), steps,
                       tol)
    if name == "heavy ball":
        return np.stack([settled(run_torch_stacked(torch.optim.SGD, grid[:, None, None, None] * H, starts, n,
                                                   lr=1.0, momentum=b), steps, tol) for b in betas], axis=1)
    return np.array([settled(run_stacked(adagrad_step, H, starts, n, lr=lr), steps, tol) for lr in grid])


def rmsprop_settles(steps, x0, tol):
    # for RMSprop at each angle: the lr of the grid that settles soonest within `steps`, and where it settles
    # in a run twice as long
    H = np.array([dl.ravine(kappa=50, angle=a).A for a in angles])
    starts = np.array([rotated(np.array(x0), a) for a in angles])
    runs = [run_stacked(rmsprop_step, H, starts, 2 * steps, lr=lr) for lr in rms_grid]
    short = np.array([settle_steps(xs[:steps + 1], tol) for xs in runs])
    long = np.array([settle_steps(xs, tol) for xs in runs])
    best = np.argmin(short, axis=0)
    return {a: (short[best[k], k], long[best[k], k], rms_grid[best[k]]) for k, a in enumerate(angles)}


def best_inside(t, what):
    # the best entry of a grid of settle steps, which must lie strictly inside the grid
    idx = np.unravel_index(np.argmin(t), t.shape)
    edges = np.concatenate([t[0].ravel(), t[-1].ravel()] + ([t[:, 0], t[:, -1]] if t.ndim == 2 else []))
    assert np.isfinite(t[idx]) and edges.min() > t[idx], f"{what}: the best setting lies on the edge of the grid ({t})"
    return int(t[idx])


@functools.cache
def race(steps, x0, tol):
    best = {}
    for name in lr_grids:
        table = settle_grid(name, steps, x0, tol)
        for k, a in enumerate(angles):
            best[name, a] = best_inside(table[..., k], f"{name} at {a} degrees")
    return best


best_steps = race(300, tuple(start), 0.01)
print("best steps to stay within 0.01 of the minimum")
print("angle " + "".join(f"{name:>12s}" for name in lr_grids))
for angle in angles:
    print(f"{angle:5d} " + "".join(f"{best_steps[name, angle]:>12d}" for name in lr_grids))

fig, ax = plt.subplots(figsize=(6, 3.2), layout="constrained")
for name, marker in zip(lr_grids, "osD", strict=True):
    ax.plot(angles, [best_steps[name, a] for a in angles], marker=marker, label=name,
            **dl.colors.style("momentum" if name == "heavy ball" else name))
ax.set_xlabel("angle of the ravine (degrees)")
ax.set_ylabel("steps to settle (best of grid)")
ax.set_yscale("log")
ax.set_xticks(angles)
ax.set_title("Steps to stay within 0.01 of the minimum, kappa = 50")
ax.legend(fontsize=8)
plt.show()

# %% id="89cb1bb1" tags=["skip-when-grading"]
def race_claim(test):
    def experiment(steps, x0, tol):
        best = race(steps, tuple(x0), tol)
        return test(best), str(best)
    return experiment


race_setting = dict(steps=300, x0=start, tol=0.01)
dl.robust_claim("tuned gradient descent and the tuned heavy ball need the same number of steps at every angle",
                race_claim(lambda b: all(len({b[n, a] for a in angles}) == 1 for n in ("SGD", "heavy ball"))),
                race_setting)
dl.robust_claim("on the axis-aligned ravine AdaGrad settles more than 3 times sooner than the tuned heavy ball, "
                "which settles more than 3 times sooner than gradient descent",
                race_claim(lambda b: b["AdaGrad", 0] * 3 < b["heavy ball", 0] and b["heavy ball", 0] * 3 < b["SGD", 0]),
                race_setting)
dl.robust_claim("at 45 degrees AdaGrad is slower than tuned gradient descent, and the heavy ball is fastest at "
                "every angle but 0",
                race_claim(lambda b: b["AdaGrad", 45] > b["SGD", 45]
                           and all(b["heavy ball", a] < min(b["SGD", a], b["AdaGrad", a]) for a in angles[1:])),
                race_setting)
dl.robust_claim("AdaGrad gets slower at every step of the angle from 0 to 45 degrees",
                race_claim(lambda b: all(b["AdaGrad", a] < b["AdaGrad", c]
                                         for a, c in zip(angles, angles[1:], strict=False))), race_setting)


def rmsprop_unsettled(steps, x0, tol):
    found = rmsprop_settles(steps, tuple(x0), tol)
    return (all(long > short for short, long, _ in found.values()),
            "; ".join(f"{a} degrees: lr {lr:.3f} settles at step {short:.0f} in {steps} steps, at {long:.0f} in "
                      f"{2 * steps}" for a, (short, long, lr) in found.items()))


print(dl.robust_claim("with a constant learning rate RMSprop does not settle: at every angle the learning rate that "
                      "settles it soonest in a run leaves the tolerance again in a run twice as long",
                      rmsprop_unsettled, race_setting)[1])

# %% [markdown] id="6a682755"
# On the axis-aligned ravine AdaGrad wins outright; turned, its advantage melts, and
# from 15 degrees on the heavy ball, which works in any direction, is fastest. RMSprop
# is not in the table: with a constant learning rate it never settles (section 3). On
# this quadratic, per-coordinate scaling helps as much as the difficult directions line
# up with the coordinates; sparse features do by construction, a network's parameters
# is an empirical question.
#
# ## 7. Play with it
#
# For SGD and the heavy ball the learning rate multiplies the gradient; for AdaGrad and
# RMSprop it is roughly a distance per step. Turn the ravine and watch which paths care;
# find an AdaGrad rate that settles in a few steps at angle 0, then turn to 45 degrees;
# lower alpha to 0.9 and watch RMSprop near the minimum; click the contour plot to start
# from there. The legend shows the final $f(x) - f^*$ (the loss panel draws values below
# $10^{-16}$ at $10^{-16}$).

# %% id="d0f4a701" tags=["skip-when-grading"]
kappa = 50
explore(lambda v: dl.ravine(kappa, angle=v["angle"]),
        [Path("SGD", torch_sgd_step, {"lr": "SGD lr"}),
         Path("momentum (heavy ball)", torch_momentum_step, {"lr": "HB lr", "beta": "beta"}),
         Path("AdaGrad", adagrad_step, {"lr": "AdaGrad lr"}),
         Path("RMSprop", rmsprop_step, {"lr": "RMSprop lr", "alpha": "alpha"})],
        sliders={"SGD lr": ("log", 1e-3, 0.1, 0.035), "HB lr": ("log", 1e-3, 0.1, 0.04), "beta": (0.0, 0.99, 0.6),
                 "AdaGrad lr": ("log", 1e-2, 5.0, 1.0), "RMSprop lr": ("log", 1e-3, 0.5, 0.05),
                 "alpha": (0.5, 0.999, 0.99), "angle": (0.0, 90.0, 0.0)},
        steps=100, x0=tuple(start))


# %% [markdown] id="1d36fa26"
# ## 8. Towards Adam: RMSprop plus momentum
#
# RMSprop fixes each coordinate's *scale*; momentum the *direction*, whichever way the
# valley points. `torch.optim.RMSprop(momentum=mu)` keeps a velocity of the rescaled
# gradients:
#
# $$b_t = \mu\, b_{t-1} + \frac{g_t}{\sqrt{s_t} + \epsilon}, \qquad x_{t+1} = x_t - \eta\, b_t .$$
#
# Below it is built on your `rmsprop_step` (lr = 1, x = 0 returns minus the rescaled
# gradient), $\mu = 0.9$. Neither form settles with a constant rate, so the measure is the
# first arrival within 0.01:

# %% id="60bb2ac9" tags=["skip-when-grading"]
def rmsprop_momentum_step(x, g, s, b, lr, alpha=0.99, mu=0.9, eps=1e-8):
    minus_scaled, s_new = rmsprop_step(np.zeros_like(x), g, s, lr=1.0, alpha=alpha, eps=eps)
    b_new = mu * b - minus_scaled
    return x - lr * b_new, s_new, b_new


momentum_grid = 0.002 * 1.25 ** np.arange(26)   # 0.002 to 0.53


def first_arrival(xs, tol):
    # the first step within tol of the minimum: it does not change when the run gets longer
    near = np.linalg.norm(xs, axis=-1) <= tol
    return np.where(near.any(axis=0), np.argmax(near, axis=0), np.inf)


def arrivals(fn, grid, angle, steps, x0, tol):
    H, x_start = dl.ravine(kappa=50, angle=angle).A, rotated(np.array(x0), angle)
    return np.array([first_arrival(run_stacked(fn, H, x_start, steps, lr=lr), tol) for lr in grid])


def with_momentum(steps, x0, tol):
    rms_wide = 0.002 * 1.25 ** np.arange(30)   # 0.002 to 1.3
    best = {(name, 45): best_inside(arrivals(fn, grid, 45, steps, x0, tol), f"{name} at 45 degrees")
            for name, fn, grid in (("RMSprop", rmsprop_step, rms_wide),
                                   ("RMSprop + momentum", rmsprop_momentum_step, momentum_grid))}
    best["RMSprop + momentum", 0] = best_inside(arrivals(rmsprop_momentum_step, momentum_grid, 0, steps, x0, tol),
                                                "RMSprop + momentum at 0 degrees")
    # alone, RMSprop arrives within a few steps for every large lr (its best is not inside a grid): take the
    # slowest of lr from 0.1 to 1
    wide = (rms_wide >= 0.1) & (rms_wide <= 1.0)
    best["RMSprop", 0] = arrivals(rmsprop_step, rms_wide[wide], 0, steps, x0, tol).max()
    holds = best["RMSprop + momentum", 45] < best["RMSprop", 45] and best["RMSprop + momentum", 0] > best["RMSprop", 0]
    return holds, (f"angle 45, best lr of each grid: RMSprop {best['RMSprop', 45]}, RMSprop + momentum "
                   f"{best['RMSprop + momentum', 45]}; angle 0: RMSprop at its slowest for lr from 0.1 to 1 "
                   f"{best['RMSprop', 0]:.0f}, RMSprop + momentum at its best {best['RMSprop + momentum', 0]}")


print("first step within 0.01 of the minimum:")
print(dl.robust_claim("at 45 degrees momentum 0.9 brings RMSprop within 0.01 of the minimum sooner (each at its "
                      "best lr); on the axis-aligned ravine later (than RMSprop at any lr from 0.1 to 1)",
                      with_momentum, dict(steps=300, x0=start, tol=0.01))[1])

# %% [markdown] id="e5ccc902"
# On the turned ravine momentum wins back part of what the scaling lost; on the
# axis-aligned one it costs steps. No free lunch.
#
# **Adam** (notebook 05) is this combination with two changes: the velocity is an
# average of raw gradients, $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$, divided by the root
# of RMSprop's average ($\alpha$ renamed $\beta_2$); and both averages, too small at
# first, are divided by $1 - \beta_1^t$ and $1 - \beta_2^t$ (the *bias correction*).
#
# ## Summary
#
# - One learning rate cannot suit coordinates whose gradients differ in size or
#   frequency: the steep or frequent ones set the limit, the others crawl.
# - AdaGrad divides by the root of all past squared gradients: on an axis-aligned ravine
#   it cancels the curvature, on sparse features it keeps rare coordinates moving. Its
#   rate only shrinks: it stalls after a cliff, and averages noise out.
# - RMSprop's average (horizon about $1/(1-\alpha)$) forgets the cliff, but with a
#   constant rate it ends at the edge of stability or at a noise floor set by $\eta$,
#   and its first steps are $1/\sqrt{1-\alpha}$ times too large.
# - $\epsilon$ sets the gradient size below which rescaling stops; $\sqrt{s + \epsilon'}$
#   matches $\sqrt{s} + \epsilon$ for $\epsilon' = \epsilon^2$.
# - Per-coordinate scaling is a diagonal fix: on a rotated ravine the tuned heavy ball
#   beats it.
#
# ## Further reading
#
# - J. Duchi, E. Hazan, Y. Singer, Adaptive Subgradient Methods for Online Learning and
#   Stochastic Optimization, JMLR 2011 (AdaGrad).
# - T. Tieleman, G. Hinton, Lecture 6.5, rmsprop, *Neural Networks for Machine Learning*, Coursera, 2012.
# - D. Kingma, J. Ba, Adam: A Method for Stochastic Optimization, ICLR 2015.
# - [torch.optim.Adagrad](https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html) and
#   [torch.optim.RMSprop](https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html).
# - Dive into Deep Learning, chapter 12, sections *Adagrad* and *RMSProp*.
