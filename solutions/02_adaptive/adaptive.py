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
# Gradient descent uses one learning rate for every parameter. When some parameters
# need big steps and others small ones (a ravine with a steep and a flat direction,
# or a model whose rare features get a gradient only now and then), that single
# number is a compromise that suits nobody. AdaGrad and RMSprop give every coordinate
# its own step size, set from the sizes of the gradients it has seen.
#
# **You will be able to**
# - write AdaGrad and RMSprop in PyTorch's convention (eps outside the square root),
#   and map the other forms you will meet onto it;
# - measure how per-coordinate step sizes help on a badly scaled ravine and on sparse
#   features, and where they help less (a rotated ravine);
# - explain, with numbers you measured, why AdaGrad's step size only shrinks, how
#   RMSprop forgets over about $1/(1-\alpha)$ steps, and when eps matters;
# - say what Adam adds to RMSprop.
#
# **Prerequisites**: notebook 01 (gradient descent, the condition number, momentum),
# numpy. **Time**: about 90 minutes.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. Experiments and
# interactive plots use *your* functions, so they only work once your code does.

# %% id="870a3f56"
import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

import descentlab as dl
from descentlab.adaptive_problems import cliff, run_with_state, sparse_regression
from descentlab.plots import Path, explore, show_paths

# %matplotlib inline
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator


def sgd_step(x, g, lr):
    # gradient descent from notebook 01, given
    return x - lr * g


def settle_step(values, target, tol=1e-2):
    # first step after which every later value stays within tol of target (None: never)
    far = np.nonzero(~(np.abs(np.asarray(values) - target) <= tol))[0]
    if len(far) == 0:
        return 0
    return None if far[-1] == len(values) - 1 else int(far[-1] + 1)


# %% [markdown] id="c4da5315"
# ## 1. One learning rate for every coordinate
#
# ### A ravine
#
# The ravine from notebook 01: $f(x) = \tfrac12 (x_0^2 + 50\, x_1^2)$, flat along $x_0$,
# steep along $x_1$ (condition number $\kappa = 50$). Gradient descent is stable only for
# $\eta < 2/L = 0.04$, a limit set by the steep coordinate alone. Notebook 01 showed the
# zig-zag; here are the numbers for $\eta = 0.035$, close to that limit:

# %% id="0eb42fa4"
ravine = dl.ravine(kappa=50)
start = np.array([-1.5, 1.1])
sgd_ravine = dl.run(sgd_step, ravine, start, 100, lr=0.035)
left = sgd_ravine.final / start
print(f"after 100 steps: x0 keeps {left[0]:.2%} of its start, x1 keeps {abs(left[1]):.1e}")
dl.claim("after 100 steps the steep coordinate has settled while the flat one keeps about 3% of its start",
         abs(left[1]) < 1e-10 and 0.02 < left[0] < 0.04, f"{left}")

# %% [markdown] id="3e515056"
# The steep coordinate is done in a few steps; the flat one still keeps 2.8% of its
# start after 100, because it shrinks by only $1 - 0.035 \cdot 1 = 0.965$ per step. The
# flat coordinate could take a step 50 times larger, but one learning rate serves both.
#
# ### Sparse features
#
# Now a model with two weights, trained on minibatches of 10 examples. Feature 0 is in
# every example (think of a bias, or a very common word); feature 1 is in about 2% of them
# (a rare word; 11 of the 400 examples here). The loss is the mean squared error $\frac{1}{2n}\sum_i (a_i \cdot w - b_i)^2$,
# with targets made from the weights $w^* = (1, 1)$. `sparse_regression` builds it with
# exact gradients, and `.stream(batch_size)` hands out one minibatch gradient per step.

# %% id="e71979f3"
sparse = sparse_regression(freqs=(1.0, 0.02), scales=1.0, n=400, seed=0)
w_start = np.array([-0.3, -0.4])
counts = (sparse.A != 0).sum(axis=0)
print(f"{sparse.n} examples: feature 0 in {counts[0]}, feature 1 in {counts[1]}")

stream = sparse.stream(batch_size=10, seed=0)
g_first = [stream.grad(w_start) for _ in range(300)]
with_rare = stream.present()[:, 1]
print(f"steps whose minibatch holds feature 1: {with_rare.sum()} of 300")
print("gradients of the first 8 minibatches at the start:\n", np.round(np.array(g_first[:8]), 3))
dl.claim("feature 1 is in about one minibatch in four; in the others its coordinate gets a zero gradient",
         0.15 < with_rare.mean() < 0.35 and all(g[1] == 0 for g, p in zip(g_first, with_rare, strict=True) if not p))

# %% [markdown] id="36fa6c23"
# Coordinate 1 gets a gradient only now and then, and when it does (usually from a single
# example) the minibatch mean divides that example's gradient by 10. Coordinate 0 gets a full-size gradient at
# every step. Run gradient descent, with one learning rate for both:

# %% id="0e356aa8"
print(f"stability limit of gradient descent on the full loss, 2 / L: {2 / np.linalg.eigvalsh(sparse.H).max():.3f}")
sgd_sparse = {lr: dl.run(sgd_step, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=lr) for lr in (1.0, 1.9, 2.1)}
show_paths(sparse, {f"SGD lr={lr}": sgd_sparse[lr] for lr in (1.0, 1.9)}, title="Minibatch SGD on sparse features")
for lr, t in sgd_sparse.items():
    err = np.abs(t.xs - 1)
    print(f"lr = {lr}: distance of (w0, w1) to the target after 10, 20, 50 steps: "
          + ", ".join(f"({err[k, 0]:.3f}, {err[k, 1]:.3f})" for k in (10, 20, 50)))
err_1, err_19 = np.abs(sgd_sparse[1.0].xs - 1), np.abs(sgd_sparse[1.9].xs - 1)
dl.claim("with lr = 1 the common weight is on target within 10 steps while the rare one is still 0.2 off after 50",
         err_1[10, 0] < 1e-3 and err_1[50, 1] > 0.2)
dl.claim("with lr = 1.9 the rare weight moves faster but the common weight is still more than 0.1 off after 20 steps",
         err_19[50, 1] < err_1[50, 1] and err_19[20, 0] > 0.1)
dl.claim("lr = 2.1 makes minibatch SGD diverge", sgd_sparse[2.1].losses[-1] > 1e3 * sgd_sparse[2.1].losses[0])


# %% [markdown] id="4fae6269"
# With lr = 1 the common weight is on target after a few steps; the rare one crawls up
# the long axis, still 0.29 away after 50 steps. A larger learning rate speeds up the rare
# weight but makes the common one swing across its target: at lr = 1.9 it is still 0.31
# off after 20 steps, and at lr = 2.1, just above the limit $2/L \approx 2$, gradient
# descent diverges.
#
# What both problems ask for is a step size *per coordinate*: large where gradients are
# small or rare, small where they are large and frequent.
#
# ## 2. AdaGrad: divide by the gradients seen so far
#
# AdaGrad keeps, for every coordinate, the sum of the squares of all its gradients so
# far, and divides the step by the square root of that sum. In PyTorch's convention
# (`torch.optim.Adagrad` with its defaults), all operations elementwise:
#
# $$G_t = G_{t-1} + g_t^2, \qquad x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{G_t} + \epsilon},
# \qquad G_0 = 0,\ \epsilon = 10^{-10}.$$
#
# The **effective learning rate** of coordinate $i$ is $\eta / (\sqrt{G_{t,i}} + \epsilon)$.
# Three things to see in the formula before you code it:
#
# - The first step moves every coordinate by about $\eta$: $g / \sqrt{g^2} = \pm 1$, whatever
#   the size of $g$. The learning rate is now a *distance*, not a multiplier of the gradient.
# - A coordinate with large gradients piles up a large $G$ and gets small steps; a
#   coordinate with small or rare gradients keeps a small $G$ and a large effective rate.
# - $G$ only grows, so the effective learning rate only shrinks.
#
# `torch.optim.Adagrad` has two more options, `lr_decay` and `initial_accumulator_value`;
# both are 0 by default, and so here.

# %% id="7b8f72df" nbgrader={"grade": false, "grade_id": "adagrad_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adagrad_step(x, g, G, lr, eps=1e-10):
    """One step of AdaGrad, PyTorch's convention (torch.optim.Adagrad).

    x, g, G: arrays of the same shape (point, gradient at x, sum of squared gradients).
    Returns (x_new, G_new) with G_new = G + g**2 and
    x_new = x - lr * g / (sqrt(G_new) + eps), elementwise. The inputs are left unchanged.
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
# *Optional: an outside check.* `torch.optim.Adagrad` is the reference for this
# convention. To compare your function with it (the first optimizer step loads parts of
# torch and takes a few seconds), paste this into a new cell:
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
# The same works for `rmsprop_step` with `torch.optim.RMSprop(lr=..., alpha=...)`.

# %% [markdown] id="bdc961d7"
# ### AdaGrad on the ravine
#
# On an axis-aligned ravine each coordinate of the gradient is its own curvature times
# its own distance: $g_i = \lambda_i x_i$. AdaGrad divides by $\sqrt{\sum_s \lambda_i^2 x_{s,i}^2}
# = \lambda_i \sqrt{\sum_s x_{s,i}^2}$, so the curvature $\lambda_i$ cancels. The path
# should not depend on $\kappa$ at all. Check it:

# %% id="32f67e36"
ada_ravine = {kappa: dl.run(adagrad_step, dl.ravine(kappa), start, 100, lr=1.0) for kappa in (10, 50, 1000)}
gap = max(np.abs(ada_ravine[k].xs - ada_ravine[50].xs).max() for k in (10, 1000))
print(f"largest gap between AdaGrad's paths for kappa = 10, 50, 1000: {gap:.1e}")
dl.claim("on an axis-aligned ravine AdaGrad's path does not depend on the condition number", gap < 1e-8)
show_paths(ravine, {"SGD lr=0.035": sgd_ravine, "AdaGrad lr=1": ada_ravine[50]},
           title="Axis-aligned ravine, kappa = 50")
steps_ada = ada_ravine[50].steps_to_reach([0, 0], 1e-3)
steps_sgd = dl.run(sgd_step, ravine, start, 400, lr=0.035).steps_to_reach([0, 0], 1e-3)
print(f"steps to stay within 1e-3 of the minimum: AdaGrad {steps_ada}, SGD {steps_sgd}")
dl.claim("AdaGrad (lr = 1) reaches the minimum of this ravine several times faster than SGD near its stability limit",
         steps_ada * 5 < steps_sgd)

# %% [markdown] id="357196ef"
# Only the tiny $\epsilon$ tells the three ravines apart: the gap between the paths is
# of order $10^{-12}$. AdaGrad heads almost straight for the minimum and stays within
# $10^{-3}$ of it after 8 steps, where gradient descent needs 206.
#
# Where does the speed come from? Look at each coordinate's effective learning rate
# $\eta / (\sqrt{G_{t,i}} + \epsilon)$. `run_with_state` runs a step function like
# `dl.run` and also keeps the state ($G$) after every update:

# %% id="fdcc9e11"
ada_G = run_with_state(adagrad_step, ravine, start, 40, lr=1.0)[1]["G"][1:]
eff_ravine = 1.0 / (np.sqrt(ada_G) + 1e-10)
ratio_ravine = eff_ravine[-1, 0] / eff_ravine[-1, 1]
print(f"after 40 steps: effective lr of x0 {eff_ravine[-1, 0]:.3f}, of x1 {eff_ravine[-1, 1]:.4f}, "
      f"ratio {ratio_ravine:.0f}")
dl.claim("AdaGrad gives the flat coordinate a far larger effective learning rate than the steep one",
         20 < ratio_ravine < 100, f"ratio {ratio_ravine:.1f}")
dl.claim("the steep coordinate's effective learning rate stays below its stability limit 2 / 50",
         np.all(eff_ravine[:, 1] < 2 / 50))
dl.claim("the flat coordinate's effective learning rate is about 18 times SGD's 0.035",
         17 < eff_ravine[-1, 0] / 0.035 < 19)
dl.claim("the first gradients fix the rates: G grows by less than 20% after the first step",
         np.all(ada_G[-1] < 1.2 * ada_G[0]))

# %% [markdown] id="318bfe6c"
# AdaGrad found per-coordinate rates that match the curvatures: the steep coordinate
# gets about 0.018, safely below its own limit $2/50$, and the flat one about 0.63,
# about eighteen times what gradient descent can use for both. The first, largest
# gradients fixed these rates; after that $G$ grows by less than 20%, because the
# gradients shrink fast.
#
# ### AdaGrad on sparse features
#
# Back to the model with a rare feature, with the same minibatches as before:

# %% id="09bc238f"
ada_sparse = run_with_state(adagrad_step, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=1.5)
ada_traj = ada_sparse[0]
G_hist = ada_sparse[1]["G"][1:]
eff_lr = 1.5 / (np.sqrt(G_hist) + 1e-10)
show_paths(sparse, {"SGD lr=1": sgd_sparse[1.0], "SGD lr=1.9": sgd_sparse[1.9], "AdaGrad lr=1.5": ada_traj},
           title="Sparse features, minibatches of 10")

settle_ada = settle_step(np.abs(ada_traj.xs - 1).max(axis=1), 0.0)
settle_sgd = settle_step(np.abs(sgd_sparse[1.9].xs - 1).max(axis=1), 0.0)
ratio = eff_lr[-1, 1] / eff_lr[-1, 0]
print(f"steps until both weights stay within 0.01 of 1: AdaGrad {settle_ada}, SGD (lr = 1.9) {settle_sgd}")
print(f"effective learning rates after 300 steps: common {eff_lr[-1, 0]:.2f}, rare {eff_lr[-1, 1]:.2f} "
      f"({ratio:.1f} times larger)")
dl.claim("AdaGrad gets both weights within 0.01 several times sooner than SGD at lr = 1.9",
         settle_ada is not None and settle_ada * 4 < settle_sgd, f"{settle_ada} vs {settle_sgd}")
dl.claim("the rare coordinate keeps a much larger effective learning rate", ratio > 5)
dl.claim("AdaGrad's effective learning rates never increase", np.all(np.diff(eff_lr, axis=0) <= 0))

# %% [markdown] id="a739676c"
# The rare coordinate's effective learning rate is 5.4 times the common one's: its $G$
# grows only when its feature shows up, and then by the small, diluted gradient. So each
# appearance of the rare feature moves its weight by a useful amount, and AdaGrad gets
# both weights within 0.01 of their targets in 11 steps, against 64 for gradient descent
# at lr = 1.9.
#
# Is that a lucky learning rate? Compare each method over a grid of learning rates (the
# same minibatches for every run):

# %% id="f31a996d"
sgd_grid, ada_grid = [1.0, 1.5, 1.8, 1.9], [0.7, 1.0, 1.5, 2.0, 3.0]
sparse_table = {}
for name, fn, grid in (("SGD", sgd_step, sgd_grid), ("AdaGrad", adagrad_step, ada_grid)):
    for lr in grid:
        t = dl.run(fn, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=lr)
        sparse_table[name, lr] = settle_step(np.abs(t.xs - 1).max(axis=1), 0.0)
print("steps until both weights stay within 0.01 of 1")
for name, grid in (("SGD", sgd_grid), ("AdaGrad", ada_grid)):
    print(f"{name:8s}" + "  ".join(f"lr={lr}: {sparse_table[name, lr]}" for lr in grid))
best_sgd = min(v for (n, _), v in sparse_table.items() if n == "SGD" and v is not None)
dl.claim("AdaGrad beats the best SGD of the grid at every learning rate of its own grid",
         all(sparse_table["AdaGrad", lr] is not None and sparse_table["AdaGrad", lr] < best_sgd for lr in ada_grid))

# %% [markdown] id="27cb0805"
# Not luck: every AdaGrad learning rate from 0.7 to 3 (a factor of four) gets
# both weights on target sooner than the best gradient descent of its grid (53 steps or
# fewer, against 64 for SGD at lr = 1.9; above 2, SGD diverges).
#
# ### Why AdaGrad's step only shrinks, and where that stalls
#
# Feed AdaGrad the same gradient at every step: after $t$ updates $G = t g^2$ and the
# step is $\eta / \sqrt t$. Over $T$ steps it covers about $2\eta\sqrt T$, not $\eta T$.
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
# The shrinking is harmless when the gradients keep the same scale throughout. It hurts
# when they are large early and small later: the big early gradients stay in $G$ for ever.
#
# A one-dimensional landscape shows it: a steep cliff (slope about 5) for $x > 3$, then a
# long gentle slope (about 0.1) down to the minimum near 0. Start on the cliff at $x = 6$,
# and for comparison start a second run at the top of the same gentle slope *without*
# the cliff (`cliff(cliff_slope=0)`), at $x = 2.9$:

# %% id="ae7807bb"
cliff_land, plateau_only = cliff(), cliff(cliff_slope=0.0)


def crossing(traj, top=2.9, bottom=0.3):
    # steps from the first x below `top` to the first x below `bottom` (None: not in the run)
    below_top, below_bottom = np.nonzero(traj.xs[:, 0] < top)[0], np.nonzero(traj.xs[:, 0] < bottom)[0]
    return int(below_bottom[0] - below_top[0]) if len(below_top) and len(below_bottom) else None


ada_cliff = run_with_state(adagrad_step, cliff_land, [6.0], 1000, lr=1.0)
ada_fresh = run_with_state(adagrad_step, plateau_only, [2.9], 100, lr=1.0)
fig, (ax_f, ax_x) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
grid_x = np.linspace(-1, 6.5, 400)
ax_f.plot(grid_x, cliff_land.f(grid_x[:, None]), color="0.55", label="cliff")
ax_f.plot(grid_x, plateau_only.f(grid_x[:, None]), color="0.55", ls=":", label="gentle slope only")
ax_f.plot(6.0, cliff_land.value([6.0]), "o", color="0.2", mfc="white")
ax_f.plot(2.9, plateau_only.value([2.9]), "o", color="0.2", mfc="white")
ax_f.set_xlabel("x")
ax_f.set_ylabel("f(x)")
ax_f.legend(fontsize=8)
ax_x.plot(ada_cliff[0].xs[:400, 0], label="AdaGrad lr=1, from x = 6 on the cliff", **dl.colors.style("AdaGrad"))
ax_x.plot(ada_fresh[0].xs[:, 0], label="AdaGrad lr=1, from x = 2.9 without the cliff",
          color=dl.colors.style("AdaGrad")["color"], lw=2.5)
ax_x.axhline(3.0, color="0.6", lw=0.8, ls=":")
ax_x.text(390, 3.1, "edge of the cliff", ha="right", fontsize=8, color="0.4")
ax_x.set_xlabel("step")
ax_x.set_ylabel("x")
ax_x.legend(fontsize=8)
fig.suptitle("AdaGrad: a cliff, then a gentle slope")
plt.show()
cross_ada = (crossing(ada_cliff[0]), crossing(ada_fresh[0]))
print(f"AdaGrad steps to cross the gentle slope from 2.9 to 0.3: after the cliff {cross_ada[0]}, "
      f"without it {cross_ada[1]}")
dl.claim("after the cliff AdaGrad needs more than 30 times as many steps to cross the same gentle slope",
         cross_ada[0] > 30 * cross_ada[1], f"{cross_ada}")


# %% [markdown] id="66df779d"
# Without the cliff, AdaGrad crosses the gentle slope in 4 steps. After the cliff it needs
# 289: the few large cliff gradients filled $G$, and the small gradients of the slope
# can never make it shrink again. This is the stall, and it is worst in long runs whose
# gradients change scale.
#
# ## 3. RMSprop: a moving average instead of a sum
#
# RMSprop (Tieleman and Hinton, 2012) replaces AdaGrad's sum by an exponential moving
# average of the squared gradients, so that old gradients fade. In PyTorch's convention
# (`torch.optim.RMSprop`, defaults $\alpha = 0.99$, $\epsilon = 10^{-8}$):
#
# $$s_t = \alpha\, s_{t-1} + (1 - \alpha)\, g_t^2, \qquad
# x_{t+1} = x_t - \eta\, \frac{g_t}{\sqrt{s_t} + \epsilon}, \qquad s_0 = 0.$$
#
# Unrolled, $s_t = (1-\alpha)\,(g_t^2 + \alpha g_{t-1}^2 + \alpha^2 g_{t-2}^2 + \dots)$:
# a weighted average whose weights $(1-\alpha)\alpha^k$ add up to 1 (for a long run), so
# under a constant gradient $s \to g^2$ and the step tends to $\eta$. The weights fade
# over a **horizon** of about $1/(1-\alpha)$ steps: 10 for $\alpha = 0.9$, 100 for
# $\alpha = 0.99$. What happened longer ago than a few horizons is forgotten.
#
# (`torch.optim.RMSprop` also has `momentum` and `centered` options, both off by default;
# section 8 comes back to momentum.)

# %% id="b41f55c4" nbgrader={"grade": false, "grade_id": "rmsprop_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    """One step of RMSprop, PyTorch's convention (torch.optim.RMSprop).

    x, g, s: arrays of the same shape (point, gradient at x, moving average of g**2).
    Returns (x_new, s_new) with s_new = alpha * s + (1 - alpha) * g**2 and
    x_new = x - lr * g / (sqrt(s_new) + eps), elementwise. The inputs are left unchanged.
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

# %% id="0fc24eba"
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
dl.claim("after the drop, s shrinks by exactly alpha per step",
         all(np.allclose(tr[300:] / tr[299:-1], a, rtol=1e-12) for a, tr in s_runs.items()))

# %% [markdown] id="28f32d79"
# With $\alpha = 0.99$, $s$ needs a few horizons to fill up (after 300 steps it is at
# $4(1 - 0.99^{300}) = 3.8$), and 300 steps after the drop it still holds
# $0.99^{300} \approx 5\%$ of the old value. With $\alpha = 0.9$ both happen ten times faster:
# $0.9^{300} \approx 2\cdot 10^{-14}$.
#
# **Question 2.** With $\alpha = 0.99$ and $g = 0$ from some step on, how many steps does
# $s$ take to fall to 1% of its value? (A number of steps; the exact real solution is fine too.)

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
# AdaGrad's rates on the ravine were fixed by its first steps. RMSprop's average forgets
# those, so its rates follow the *current* gradients: as the path nears the minimum and
# the gradients shrink, the rates grow. How far? Run both on the axis-aligned ravine and
# plot each coordinate's effective learning rate, with the stability limits $2/\lambda_i$
# of the two coordinates (2 and 0.04) dotted:

# %% id="2ab2808d"
ada_run = run_with_state(adagrad_step, ravine, start, 300, lr=1.0)
rms_run = run_with_state(rmsprop_step, ravine, start, 300, lr=0.05, alpha=0.9)
eff_ada = 1.0 / (np.sqrt(ada_run[1]["G"][1:]) + 1e-10)
eff_rms = 0.05 / (np.sqrt(rms_run[1]["s"][1:]) + 1e-8)
fig, (ax_e, ax_l) = plt.subplots(1, 2, figsize=(10, 3.2), layout="constrained")
steps = np.arange(1, 301)
for i, (name, lam) in enumerate((("x0, flat", 1.0), ("x1, steep", 50.0))):
    width = 1.3 if i == 0 else 2.6
    ax_e.semilogy(steps, eff_ada[:, i], label=f"AdaGrad lr=1: {name}", **dl.colors.style("AdaGrad"), lw=width)
    ax_e.semilogy(steps, eff_rms[:, i], label=f"RMSprop lr=0.05, alpha=0.9: {name}", **dl.colors.style("RMSprop"),
                  lw=width)
    ax_e.axhline(2 / lam, color="0.4", lw=0.8, ls=":")
    ax_e.text(300, 2 / lam * 1.15, f"limit 2 / {lam:g} for {name.split(',')[0]}",
              ha="right", va="bottom", fontsize=7, color="0.35")
ax_e.set_ylim(1e-4, 60)
ax_e.set_xlabel("step")
ax_e.set_ylabel("effective learning rate")
ax_e.legend(fontsize=7, loc="lower right")
ax_l.semilogy(np.maximum(ada_run[0].losses, 1e-16), label="AdaGrad lr=1", **dl.colors.style("AdaGrad"))
ax_l.semilogy(np.maximum(rms_run[0].losses, 1e-16), label="RMSprop lr=0.05, alpha=0.9", **dl.colors.style("RMSprop"))
ax_l.set_xlabel("step")
ax_l.set_ylabel("f(x) - f*")
ax_l.legend(fontsize=8)
ax_l.grid(True, alpha=0.3)
fig.suptitle("Axis-aligned ravine (kappa = 50): effective learning rate of each coordinate")
plt.show()
print(f"after 300 steps RMSprop's effective learning rates are {np.round(eff_rms[-1], 4)}; "
      "the limits 2 / lambda are [2, 0.04]")
rms_losses = rms_run[0].losses
floor_step = int(np.argmax(rms_losses < 1e-15))
thrown_step = floor_step + int(np.argmax(rms_losses[floor_step:] > 1e-3))
print(f"RMSprop's loss is below 1e-15 at step {floor_step}, back above 1e-3 at step {thrown_step}")
print(f"loss after 300 steps: AdaGrad {ada_run[0].losses[-1]:.1e}, RMSprop {rms_losses[-1]:.1e}")
dl.claim("RMSprop first reaches the floor of float64 within 100 steps, then is thrown out",
         rms_losses[floor_step] < 1e-15 and floor_step < 100 and rms_losses[thrown_step] > 1e-3)
dl.claim("RMSprop's effective learning rates climb to each coordinate's stability limit 2 / lambda and stay there",
         np.allclose(eff_rms[-50:], [2.0, 0.04], rtol=1e-2))
dl.claim("there RMSprop's loss stops falling, while AdaGrad's reaches the floor of float64",
         rms_run[0].losses[-1] > 1e-3
         and 0.015 < rms_run[0].losses[-100:].min() < rms_run[0].losses[-100:].max() < 0.017
         and ada_run[0].losses[-1] < 1e-15)

# %% [markdown] id="c7e1cb89"
# RMSprop's effective rates rise as the gradients shrink. For a while that is a gift:
# its loss reaches the floor of float64 by step 65. But the rates keep climbing, past each
# coordinate's stability limit $2/\lambda_i$; the path is thrown out (the loss is back
# above $10^{-3}$ at step 104), the gradients grow again, and the rates come back down
# until each coordinate sits exactly at its limit. There a step overshoots the minimum by
# as much as it started from: the point bounces between two positions and the loss stays
# between 0.015 and 0.017 for the rest of the run. RMSprop finds the edge of stability of every coordinate
# on its own, and stays there: with a constant learning rate it does not converge.
# In practice RMSprop and Adam are run with a learning-rate schedule (notebook 03) that
# lowers $\eta$ towards the end.
#
# ### RMSprop forgets the cliff
#
# The same cliff as before. RMSprop's first step is $\eta / \sqrt{1 - \alpha}$
# (section 5 measures it), so lr = 0.1 with $\alpha = 0.99$ takes the same first step
# as AdaGrad with lr = 1. Compare the plateau crossing, and the effective learning
# rates $\eta / (\sqrt{\cdot} + \epsilon)$ along the way:

# %% id="e59ecf35"
cliff_runs = {"AdaGrad lr=1": (ada_cliff, ada_fresh)}
for alpha in (0.99, 0.9):
    cliff_runs[f"RMSprop alpha={alpha}"] = (run_with_state(rmsprop_step, cliff_land, [6.0], 1000, lr=0.1, alpha=alpha),
                                           run_with_state(rmsprop_step, plateau_only, [2.9], 100, lr=0.1, alpha=alpha))
cross = {name: (crossing(a[0]), crossing(b[0])) for name, (a, b) in cliff_runs.items()}
for name, (after, fresh) in cross.items():
    print(f"{name:20s} steps to cross the gentle slope: after the cliff {after}, without it {fresh}")


def effective_lr(run, lr, eps):
    acc = next(iter(run[1].values()))[1:, 0]  # G or s after each update
    return lr / (np.sqrt(acc) + eps)


eff = {"AdaGrad lr=1": effective_lr(ada_cliff, 1.0, 1e-10),
       "RMSprop alpha=0.99": effective_lr(cliff_runs["RMSprop alpha=0.99"][0], 0.1, 1e-8),
       "RMSprop alpha=0.9": effective_lr(cliff_runs["RMSprop alpha=0.9"][0], 0.1, 1e-8)}
fig, ax = plt.subplots(figsize=(7, 3))
for name, e in eff.items():
    st = dl.colors.style(name.split(" ")[0])
    if name.endswith("0.9"):
        st["linestyle"] = "--"
    ax.semilogy(np.arange(1, 1001), e, label=name, **st)
ax.set_ylim(1e-3, 300)
ax.set_xlabel("step")
ax.set_ylabel("lr / (sqrt(.) + eps)")
ax.set_title("Effective learning rate after the cliff")
ax.legend(fontsize=8, loc="lower right")
plt.show()
dl.claim("AdaGrad's effective learning rate never recovers after the cliff", np.all(np.diff(eff["AdaGrad lr=1"]) <= 0))
dl.claim("RMSprop's effective learning rate grows again by more than 10 times after the cliff (alpha = 0.99)",
         eff["RMSprop alpha=0.99"][-1] > 10 * eff["RMSprop alpha=0.99"][:50].min())
edge = 2 / cliff_land.curvature(float(cliff_land.global_min[0]))
print(f"RMSprop (alpha = 0.9) ends at an effective learning rate of {eff['RMSprop alpha=0.9'][-1]:.2f}; "
      f"2 / curvature at the minimum = {edge:.2f}")
dl.claim("with alpha = 0.9 the effective learning rate ends at the stability limit 2 / f''(x*)",
         abs(eff["RMSprop alpha=0.9"][-1] / edge - 1) < 1e-2)
dl.claim("after the cliff RMSprop crosses the slope faster than AdaGrad, and faster with the shorter horizon",
         cross["RMSprop alpha=0.9"][0] < cross["RMSprop alpha=0.99"][0] < cross["AdaGrad lr=1"][0])

# %% [markdown] id="3cd9c629"
# Both methods pay for the cliff, but differently. AdaGrad's effective learning rate
# stays where the cliff left it. RMSprop's climbs back as the cliff gradients fade from
# the average, after a few horizons: it crosses the slope in 177 steps with $\alpha = 0.99$
# and 81 with $\alpha = 0.9$, against AdaGrad's 289. The shorter horizon forgets faster.
# Near the minimum the rates keep climbing, as on the ravine: with $\alpha = 0.9$ the rate
# ends at 20, the stability limit $2/f''(x^*)$ of the bowl's curvature 0.1.
#
# Forgetting is not free. Back on the sparse problem, with the same minibatches, RMSprop
# at two learning rates:

# %% id="b0abc64b"
rms_sparse = {lr: run_with_state(rmsprop_step, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=lr)[0]
              for lr in (0.1, 0.2)}
rms_s_02 = run_with_state(rmsprop_step, sparse.stream(batch_size=10, seed=0), w_start, 300, lr=0.2)[1]["s"]
for lr, t in rms_sparse.items():
    err = np.abs(t.xs - 1).max(axis=1)
    print(f"RMSprop lr={lr}: both within 0.01 from step {settle_step(err, 0.0)}; "
          f"smallest error {err.min():.1e} at step {err.argmin()}, "
          f"largest error after that {err[err.argmin():].max():.2f}")
err_02 = np.abs(rms_sparse[0.2].xs - 1).max(axis=1)
dl.claim("with lr = 0.1 RMSprop settles, more slowly than AdaGrad at its best",
         settle_step(np.abs(rms_sparse[0.1].xs - 1).max(axis=1), 0.0) > settle_ada)
dl.claim("with lr = 0.2 RMSprop gets within 1e-3 of the minimum and is then thrown more than 0.5 away",
         err_02.min() < 1e-3 and err_02[err_02.argmin():].max() > 0.5)
closest = int(err_02.argmin())
thrown = closest + int(np.argmax(err_02[closest:] > 0.1))
past_limit = closest + int(np.argmax(0.2 / (np.sqrt(rms_s_02[closest:, 0]) + 1e-8) > 2))
print(f"closest at step {closest}; the common weight's effective learning rate passes 2 at step {past_limit}; "
      f"the error passes 0.1 at step {thrown}")
dl.claim("the common weight's effective learning rate passes its stability limit 2 before the path is thrown out",
         closest < past_limit < thrown)

# %% [markdown] id="d853e257"
# With lr = 0.1 RMSprop settles after 29 steps (AdaGrad: 11). With lr = 0.2 it comes
# within $3\cdot 10^{-10}$ of the minimum at step 94, and is later thrown 0.96 away. It is
# the instability of the ravine again, on the *common* weight: as its gradients vanish,
# its effective learning rate climbs past its stability limit 2 (at step 96), and from
# then on every step overshoots a little more. AdaGrad's long memory, a handicap on the
# cliff, protects it here.
#
# ## 4. Where eps sits, and why it matters for tiny gradients
#
# PyTorch adds $\epsilon$ *outside* the square root: $\sqrt{s} + \epsilon$. You will also
# meet $\sqrt{s + \epsilon'}$ (in papers, and in some libraries). For ordinary gradients
# the two agree: $\epsilon$ is a guard against dividing by zero. They part ways when the
# gradients themselves are tiny, which happens for weights the loss barely depends on,
# near a minimum, or in low-precision training.
#
# Take RMSprop's first step ($s = 0$, $\alpha = 0.99$, lr = 1) for gradients from
# $10^{-2}$ down to $10^{-11}$. Without any $\epsilon$ the step would be
# $g / \sqrt{0.01\,g^2} = 10$ whatever $g$ is: noise of size $10^{-11}$ would get a
# full step.

# %% id="fbed4bc0"
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
# With $\epsilon = 10^{-8}$ outside the root, a gradient of $10^{-6}$ still gets 91% of a
# full step. Around $g = 10^{-7}$, where $\sqrt{s} = 0.1\,|g|$ meets $\epsilon$, the
# $\epsilon$ takes over; below that the step is $\eta g/\epsilon$: gradient descent with
# learning rate $\eta/\epsilon$. With the same number inside the root the switch happens
# where $0.1\,|g|$ meets $\sqrt{\epsilon} = 10^{-4}$, already at $g = 10^{-3}$: at
# $g = 10^{-6}$ the step is about a thousand times smaller. The two forms match when $\epsilon' = \epsilon^2$ (within a
# factor $\sqrt 2$, at $g \approx 10\epsilon$). So when you port hyperparameters between
# conventions, $\epsilon$ is not the same number.
#
# AdaGrad's default $\epsilon = 10^{-10}$ plays the same role for $\sqrt{G}$.
#
# Other forms you will meet, and how they map onto PyTorch's:
#
# | you see | in PyTorch's form |
# |---|---|
# | $\sqrt{s + \epsilon'}$ in the denominator | about the same as $\sqrt{s} + \epsilon$ with $\epsilon = \sqrt{\epsilon'}$ (within a factor $\sqrt 2$) |
# | the decay called `rho`, `beta`, `beta2` or `decay` | it is $\alpha$: the weight of the *old* average |
# | $s \leftarrow 0.9\, s + 0.1\, g^2$ (Hinton's lecture) | $\alpha = 0.9$ |
# | AdaGrad's $G$ starting at a positive value $G_0$ | `torch.optim.Adagrad(initial_accumulator_value=G0)` |
#
# **Question 3.** In the form $\sqrt{s + \epsilon'}$, which $\epsilon'$ gives tiny
# gradients the same floor as PyTorch's $\sqrt{s} + \epsilon$ with $\epsilon = 10^{-8}$?

# %% id="aaede5b2" nbgrader={"grade": false, "grade_id": "q_eps_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
eps_inside = 1e-8 ** 2
### END SOLUTION

# %% id="30d45114" nbgrader={"grade": false, "grade_id": "q_eps_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(eps_inside, "eps_inside")

# %% id="8028acf5" nbgrader={"grade": true, "grade_id": "q_eps", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("eps_inside", eps_inside)
### END HIDDEN TESTS

# %% [markdown] id="15dfebde"
# ## 5. RMSprop's first steps are large
#
# With $s_0 = 0$, the first average is $s_1 = (1-\alpha)\, g_1^2$: it has seen one
# gradient but is scaled as if the others were zero. The first step is therefore
# $\eta / \sqrt{1-\alpha}$, ten times the learning rate for $\alpha = 0.99$, for a
# gradient of any size:

# %% id="9dbcb657"
first = {g: abs(rmsprop_step(np.zeros(1), np.array([g]), np.zeros(1), lr=0.01)[0][0]) for g in (1e-3, 1.0, 1e3)}
print("first step for g = 1e-3, 1, 1e3:", [round(float(v), 6) for v in first.values()])
dl.claim("RMSprop's first step is lr / sqrt(1 - alpha) for gradients of any size",
         all(abs(v - 0.01 / np.sqrt(0.01)) < 1e-3 * 0.1 for v in first.values()))

# %% [markdown] id="210ebd20"
# The small $s$ takes about a horizon to fill up, and until then the steps are too large.
# Adam fixes this with a *bias correction* (section 8).
#
# **Question 4.** RMSprop with lr = 0.01, $\alpha = 0.99$, $\epsilon = 10^{-8}$, starting
# from $s = 0$, gets the gradient $g = 10^{-3}$. How far does its first step move?

# %% id="7f21b345" nbgrader={"grade": false, "grade_id": "q_first_step_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
first_step = 0.01 * 1e-3 / (np.sqrt(0.01 * 1e-3 ** 2) + 1e-8)
### END SOLUTION

# %% id="f3c723f7" nbgrader={"grade": false, "grade_id": "q_first_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(first_step, "first_step")

# %% id="b792bb75" nbgrader={"grade": true, "grade_id": "q_first_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 4 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("first_step", first_step)
### END HIDDEN TESTS

# %% [markdown] id="d1265f5c"
# ## 6. A rotated ravine: where per-coordinate scaling helps less
#
# AdaGrad and RMSprop rescale each *coordinate*. On the axis-aligned ravine the steep
# and the flat directions *are* the coordinates, so rescaling them is exactly the
# right fix. Rotate the ravine and every coordinate mixes both directions: no
# per-coordinate scaling can separate them.
#
# `dl.ravine(kappa, angle)` turns the steep axis by `angle` degrees. To compare fairly,
# rotate the start with it, so that gradient descent, which does not care about
# coordinates, faces the very same problem at every angle. First a look at 45 degrees:

# %% id="2a56763b"
def rotated(point, angle):
    c, s = np.cos(np.radians(angle)), np.sin(np.radians(angle))  # turn a point by angle degrees
    return np.array([[c, -s], [s, c]]) @ point


ravine45 = dl.ravine(kappa=50, angle=45)
paths45 = {"SGD lr=0.035": dl.run(sgd_step, ravine45, rotated(start, 45), 150, lr=0.035),
           "AdaGrad lr=1": dl.run(adagrad_step, ravine45, rotated(start, 45), 150, lr=1.0),
           "RMSprop lr=0.05": dl.run(rmsprop_step, ravine45, rotated(start, 45), 150, lr=0.05)}
show_paths(ravine45, paths45, title="The same ravine turned by 45 degrees")
dl.claim("after 150 steps both adaptive paths are further from the minimum than gradient descent's",
         min(paths45["AdaGrad lr=1"].losses[-1], paths45["RMSprop lr=0.05"].losses[-1])
         > paths45["SGD lr=0.035"].losses[-1])

# %% [markdown] id="48206771"
# The adaptive paths drop into the valley and then crawl along its floor: the steep
# direction now lives in both coordinates, so AdaGrad gives both coordinates about the same
# small effective learning rate, and the flat direction gets no more than the steep one:

# %% id="752590b4"
eff45 = 1.0 / np.sqrt(run_with_state(adagrad_step, ravine45, rotated(start, 45), 150, lr=1.0)[1]["G"][-1])
print(f"AdaGrad's effective learning rates after 150 steps at 45 degrees: {np.round(eff45, 4)} "
      f"(axis-aligned: {np.round(eff_ravine[-1], 4)})")
dl.claim("at 45 degrees AdaGrad's two effective learning rates are within 10% of each other",
         abs(eff45[0] / eff45[1] - 1) < 0.1)

# %% [markdown] id="8d2fcd73"
# Now measure,
# for several angles, how many steps each method needs to stay within 0.01 of the
# minimum, each at its best learning rate of a grid:

# %% id="c36dee22"
angles = [0, 15, 30, 45]
grids = {"SGD": (sgd_step, np.geomspace(0.01, 0.039, 7)),
         "AdaGrad": (adagrad_step, np.geomspace(0.25, 4.0, 7)),
         "RMSprop": (rmsprop_step, np.geomspace(0.01, 0.3, 7))}
best_steps = {}
for angle in tqdm(angles, desc="angles", leave=False):
    land = dl.ravine(kappa=50, angle=angle)
    for name, (fn, grid) in grids.items():
        reached = [dl.run(fn, land, rotated(start, angle), 300, lr=lr).steps_to_reach([0, 0], 1e-2) for lr in grid]
        best_steps[name, angle] = min((r for r in reached if r is not None), default=None)
print("best steps to stay within 0.01 of the minimum (300 at most)")
print("angle " + "".join(f"{name:>10s}" for name in grids))
for angle in angles:
    print(f"{angle:5d} " + "".join(f"{str(best_steps[name, angle]):>10s}" for name in grids))

fig, ax = plt.subplots(figsize=(6, 3))
for name in grids:
    ax.plot(angles, [best_steps[name, a] for a in angles], marker="o", label=name, **dl.colors.style(name))
ax.set_xlabel("angle of the ravine (degrees)")
ax.set_ylabel("steps (best lr)")
ax.set_yscale("log")
ax.set_xticks(angles)
ax.set_title("Steps to stay within 0.01 of the minimum, kappa = 50")
ax.legend(fontsize=8)
plt.show()

# %% id="89cb1bb1"
dl.claim("gradient descent needs the same number of steps at every angle",
         len({best_steps["SGD", a] for a in angles}) == 1)
for name in ("AdaGrad", "RMSprop"):
    dl.claim(f"{name} is more than 10 times faster than gradient descent on the axis-aligned ravine",
             best_steps[name, 0] * 10 < best_steps["SGD", 0])
    dl.claim(f"{name} is slower than gradient descent on the ravine turned by 45 degrees",
             best_steps[name, 45] > best_steps["SGD", 45])
    dl.claim(f"{name} gets slower as the ravine turns from 0 to 45 degrees",
             all(best_steps[name, a] < best_steps[name, b]
                 for a, b in zip(angles, angles[1:], strict=False)))  # each angle with the next

# %% [markdown] id="6a682755"
# The honest picture: on the axis-aligned ravine, AdaGrad and RMSprop need 5 and 6 steps
# where tuned gradient descent needs 127. Turn the ravine and their advantage melts; at 45 degrees both are
# *slower* than tuned gradient descent (186 and 207 steps). Per-coordinate
# scaling is a diagonal fix: it helps as much as the problem's difficult directions line
# up with the coordinates. The sparse features of section 1 are such a case by
# construction; how well a network's parameters line up is an empirical question. Where
# they do not, momentum, which works in any direction, has to help.
#
# ## 7. Play with it
#
# Move the sliders: the paths and the loss curves update as you drag. Each method has
# its own learning rate, because they mean different things: for SGD a multiplier of the
# gradient, for AdaGrad and RMSprop roughly a distance per step. Try to
#
# - turn the ravine (angle) and watch which paths care;
# - find an AdaGrad learning rate that reaches the minimum in a few steps at angle 0, then
#   turn the ravine to 45 degrees;
# - lower alpha to 0.9 and watch RMSprop's path near the minimum;
# - move the start.
#
# The numbers in the legend are the final $f(x) - f^*$.

# %% id="d0f4a701"
kappa = 50
explore(lambda v: dl.ravine(kappa, angle=v["angle"]),
        [Path("SGD", sgd_step, {"lr": "SGD lr"}),
         Path("AdaGrad", adagrad_step, {"lr": "AdaGrad lr"}),
         Path("RMSprop", rmsprop_step, {"lr": "RMSprop lr", "alpha": "alpha"})],
        sliders={"SGD lr": ("log", 1e-3, 0.1, 0.035), "AdaGrad lr": ("log", 1e-2, 5.0, 1.0),
                 "RMSprop lr": ("log", 1e-3, 0.5, 0.05), "alpha": (0.5, 0.999, 0.99), "angle": (0.0, 90.0, 0.0)},
        steps=100, x0=tuple(start), title=f"ravine, kappa = {kappa}")


# %% [markdown] id="1d36fa26"
# ## 8. Towards Adam: RMSprop plus momentum
#
# RMSprop fixes the *scale* of each coordinate; momentum (notebook 01) fixes the
# *direction*, averaging away the zig-zag across a valley, whichever way the valley
# points. `torch.optim.RMSprop(momentum=mu)` combines them: it keeps a velocity of the
# rescaled gradients,
#
# $$b_t = \mu\, b_{t-1} + \frac{g_t}{\sqrt{s_t} + \epsilon}, \qquad x_{t+1} = x_t - \eta\, b_t .$$
#
# Here it is, built on your `rmsprop_step` (with lr = 1 and x = 0 it returns minus the
# rescaled gradient). Compare it with RMSprop alone, each at its best learning rate of a
# grid, on the axis-aligned ravine and on the one turned by 45 degrees:

# %% id="60bb2ac9"
def rmsprop_momentum_step(x, g, s, b, lr, alpha=0.99, mu=0.9, eps=1e-8):
    minus_scaled, s_new = rmsprop_step(np.zeros_like(x), g, s, lr=1.0, alpha=alpha, eps=eps)
    b_new = mu * b - minus_scaled
    return x - lr * b_new, s_new, b_new


momentum_grid = np.geomspace(0.01, 0.1, 6)
with_momentum = {}
for angle in (0, 45):
    land = dl.ravine(kappa=50, angle=angle)
    reached = [dl.run(rmsprop_momentum_step, land, rotated(start, angle), 300, lr=lr, mu=0.9)
               .steps_to_reach([0, 0], 1e-2) for lr in momentum_grid]
    with_momentum[angle] = min((r for r in reached if r is not None), default=None)
    print(f"angle {angle:2d}: best steps, RMSprop {best_steps['RMSprop', angle]}, "
          f"RMSprop + momentum 0.9 {with_momentum[angle]}, SGD {best_steps['SGD', angle]}")
dl.claim("on the ravine turned by 45 degrees momentum makes RMSprop faster than tuned gradient descent",
         with_momentum[45] < best_steps["SGD", 45] < best_steps["RMSprop", 45])
dl.claim("on the axis-aligned ravine the same momentum makes RMSprop slower",
         with_momentum[0] > best_steps["RMSprop", 0])

# %% [markdown] id="e5ccc902"
# On the turned ravine momentum more than makes up for what the scaling lost (96 steps
# against 207 for RMSprop alone, and 127 for tuned gradient descent). On the
# axis-aligned one, where the scaling had already done the job, the same momentum
# costs steps (90 against 6): no free lunch.
#
# **Adam** (notebook 05) is this combination with two changes:
#
# - the velocity is an exponential moving average of the raw gradients,
#   $m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t$ (momentum in its EMA form), which the step
#   divides by the root of $v_t$, RMSprop's $s_t$ with $\alpha$ renamed $\beta_2$;
# - both averages start at zero and are too small at first (section 5); Adam divides them
#   by $1 - \beta_1^t$ and $1 - \beta_2^t$ (the *bias correction*) and steps along
#   $\hat m_t / (\sqrt{\hat v_t} + \epsilon)$, so its first steps have the intended size.
#
# ## Summary
#
# - One learning rate cannot suit coordinates whose gradients differ in size or in
#   frequency: the steep or frequent ones set the limit, the flat or rare ones crawl.
# - AdaGrad divides by the root of the sum of all past squared gradients
#   (PyTorch: $\sqrt{G} + \epsilon$). On an axis-aligned ravine it cancels the curvature
#   exactly; on sparse features it keeps a large step for rare coordinates. Its effective
#   learning rate only shrinks, so large early gradients stall it for ever (the cliff).
# - RMSprop uses a moving average with horizon about $1/(1-\alpha)$: it forgets the
#   cliff, but with a constant learning rate it does not settle by itself, and its first
#   steps are $1/\sqrt{1-\alpha}$ times too large.
# - $\epsilon$ sets the gradient size below which the rescaling stops. PyTorch puts it
#   outside the root; $\sqrt{s + \epsilon'}$ matches for $\epsilon' = \epsilon^2$.
# - Per-coordinate scaling is a diagonal fix. On a rotated ravine it helps little or not at
#   all; momentum, which Adam adds, helps there.
#
# ## Further reading
#
# - J. Duchi, E. Hazan, Y. Singer, Adaptive Subgradient Methods for Online Learning and
#   Stochastic Optimization, JMLR 2011 (AdaGrad).
# - T. Tieleman, G. Hinton, Lecture 6.5, rmsprop, *Neural Networks for Machine Learning*, Coursera, 2012.
# - D. Kingma, J. Ba, Adam: A Method for Stochastic Optimization, ICLR 2015.
# - [torch.optim.Adagrad](https://pytorch.org/docs/stable/generated/torch.optim.Adagrad.html) and
#   [torch.optim.RMSprop](https://pytorch.org/docs/stable/generated/torch.optim.RMSprop.html): the conventions used here.
# - Dive into Deep Learning, chapter 12, *Optimization Algorithms*, sections *Adagrad* and *RMSProp*.
