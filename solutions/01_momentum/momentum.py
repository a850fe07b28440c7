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
#   title: 01 Momentum
# ---

# %% [markdown] id="5b039757"
# # 01 · Momentum: heavy balls, ravines and looking ahead
#
# Plain gradient descent walks downhill one step at a time. On a long narrow valley it
# zig-zags between the walls and crawls along the floor. Momentum lets past steps carry
# into the next one, like a heavy ball rolling downhill; Nesterov's variant peeks at
# where the ball is going before it pushes.
#
# **You will be able to**
# - write the update of gradient descent, heavy-ball momentum and Nesterov momentum in
#   PyTorch's convention, and convert the other common forms to it;
# - say why gradient descent is slow on ill-conditioned problems, and measure how much
#   momentum helps (and compare it with the theory);
# - read a trajectory plot and predict what changing the learning rate or beta will do;
# - read a rate map of momentum: split a quadratic into eigen-directions, each a damped
#   oscillator, and say why Polyak's tuning is the best one.
#
# **Prerequisites**: gradients, a little linear algebra (eigenvalues of a symmetric
# matrix), numpy. **Time**: about 110 minutes.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. Experiments and
# interactive plots use *your* functions, so they only work once your code does. They
# decide no grade: while your notebook is graded they are skipped.

# %% id="b26043d4"
import matplotlib as mpl
import matplotlib.patches  # noqa: F401  (mpl.patches.Patch for the legend of the maps)
import matplotlib.pyplot as plt
import numpy as np
import torch

import descentlab as dl
from descentlab import momentum_rates
from descentlab.momentum_map import explore_momentum, show_rate_map
from descentlab.plots import Path, explore, show_paths

# %matplotlib inline
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator


# %% [markdown] id="ca309853"
# ## 1. Gradient descent, and where it struggles
#
# Gradient descent moves against the gradient $g = \nabla f(x)$, scaled by the learning
# rate $\eta$ (`lr`):
#
# $$x_{t+1} = x_t - \eta\, g_t .$$
#
# Every function in this course takes numpy arrays of any shape, returns **new** arrays,
# and never modifies its inputs: experiments reuse the same arrays many times.

# %% id="2547a584" nbgrader={"grade": false, "grade_id": "sgd_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def sgd_step(x, g, lr):
    """One step of (stochastic) gradient descent.

    x, g: numpy arrays of the same shape (the point and the gradient there).
    lr: the learning rate, a float.
    Returns x_new, the point after one update (the formula above), as a new array;
    x and g are left unchanged.
    """
    ### BEGIN SOLUTION
    return x - lr * g
    ### END SOLUTION


# %% id="2af80e1b" nbgrader={"grade": false, "grade_id": "sgd_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for sgd_step
x, g = np.array([1.0, -2.0, 3.0]), np.array([0.5, 0.5, -1.0])
dl.assert_close(sgd_step(x, g, 0.1), [0.95, -2.05, 3.1], "sgd_step(x, g, lr=0.1)",
                inputs="x=[1, -2, 3], g=[0.5, 0.5, -1]")
dl.assert_close(sgd_step(x, g, 0.0), x, "with lr = 0 the point must not move")
assert np.array_equal(x, [1.0, -2.0, 3.0]), "sgd_step changed its input x: return a new array instead"
print("sgd_step: visible tests passed")

# %% id="37ede7bf" nbgrader={"grade": true, "grade_id": "sgd_step_basic", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# sgd_step: basic behaviour (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("sgd_step", sgd_step, "basic")
### END HIDDEN TESTS

# %% id="56228263" nbgrader={"grade": true, "grade_id": "sgd_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# sgd_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("sgd_step", sgd_step, "random")
### END HIDDEN TESTS

# %% id="06194922" nbgrader={"grade": true, "grade_id": "sgd_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# sgd_step: edge cases: lr = 0, beta = 0, float32, scalars, zero gradients (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("sgd_step", sgd_step, "edge")
### END HIDDEN TESTS

# %% id="2dcaf063" nbgrader={"grade": true, "grade_id": "sgd_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# sgd_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("sgd_step", sgd_step, "trajectory")
### END HIDDEN TESTS

# %% [markdown] id="9672925a"
# ### A ravine
#
# Take the quadratic $f(x) = \tfrac12 x^\top A x$ whose Hessian $A$ has eigenvalues
# $\mu = 1$ (the flat direction, along $x_0$) and $L = \kappa = 25$ (the steep one,
# along $x_1$). Its **condition number** $\kappa = L/\mu$ says how much steeper the walls
# are than the floor. Let us look before we compute.

# %% id="7b334df6"
ravine = dl.ravine(kappa=25)
start = np.array([-1.8, 1.5])
L = ravine.L
paths = {f"SGD lr={lr:.3f}": dl.run(sgd_step, ravine, start, 60, lr=lr) for lr in (0.01, 0.07)}
show_paths(ravine, paths, title="Gradient descent on a ravine (kappa = 25)")

# %% [markdown] id="6918d6dc"
# With a small step (lr = 0.01) the path hugs the steep wall down, then creeps along the
# floor. With a step close to the limit (lr = 0.07) it flies across the valley: the steep
# coordinate $x_1$ **changes sign at every step**, the zig-zag.

# %% id="a87006f0" tags=["skip-when-grading"]
def zigzags(lr, steps, x0):
    # does the steep coordinate x1 change sign at every one of the first `steps` updates?
    x1 = dl.run(sgd_step, ravine, x0, steps, lr=lr).xs[:, 1]
    return bool(np.all(np.sign(x1[1:]) == -np.sign(x1[:-1]))), f"x1 = {np.round(x1[:8], 3)}"


dl.robust_claim("with lr = 0.07 the steep coordinate changes sign at every step", zigzags,
                dict(lr=0.07, steps=20, x0=start), fixed=["lr"])

# %% [markdown] id="f0bc59e6"
# Why a limit? Along an eigenvector with eigenvalue $\lambda$, one step multiplies the
# coordinate by $(1 - \eta\lambda)$: for the steep one at lr = 0.07 that is
# $1 - 0.07 \cdot 25 = -0.75$, hence the flips. The path converges only if
# $|1 - \eta\lambda| < 1$ for every eigenvalue, that is
#
# $$\eta < \frac{2}{L}.$$
#
# The steep direction sets the largest step; the flat one then shrinks by only
# $(1 - \eta\mu)$ per step. With $\eta$ just below $2/L$ that is about $1 - 2/\kappa$:
# the larger $\kappa$, the slower.

# %% [markdown] id="58b04d69"
# **Question 1** (predict it; the experiment after it tests the rule on the ravine). For
# $f(x) = x_0^2 + 16 x_1^2$, what is the largest learning rate for which gradient descent
# converges from every start? Write it as a number. Careful: $f$ is not written as
# $\tfrac12 x^\top A x$ here, so first find its Hessian.

# %% id="098543fd" nbgrader={"grade": false, "grade_id": "q_stable_lr_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
stable_lr = 2 / 32
### END SOLUTION

# %% id="52b1f9bd" nbgrader={"grade": false, "grade_id": "q_stable_lr_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(stable_lr, "stable_lr")

# %% id="fc35c1d2" nbgrader={"grade": true, "grade_id": "q_stable_lr", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("stable_lr", stable_lr)
### END HIDDEN TESTS

# %% id="e7e8bb0e" tags=["skip-when-grading"]
def edge_of_stability(margin, steps, x0):
    # gradient descent on the ravine a little below and a little above lr = 2 / L
    below = dl.run(sgd_step, ravine, x0, steps, lr=(1 - margin) * 2 / L)
    above = dl.run(sgd_step, ravine, x0, steps, lr=(1 + margin) * 2 / L)
    falls, grows = below.losses[-1] / below.losses[0], above.losses[-1] / above.losses[0]
    return falls < 1e-3 and grows > 1e3, f"loss ratio after {steps} steps: below {falls:.1e}, above {grows:.1e}"


print(f"2 / L = {2 / L:.3f} for the ravine (L = {L:g})")
edge = dl.robust_claim("just below 2 / L the loss falls a thousandfold, just above it grows a thousandfold",
                       edge_of_stability, dict(margin=0.01, steps=600, x0=start))
print("1% below and 1% above:", edge[1])

# A visible check of the formula, not a finding (any correct sgd_step passes it):
# at lr = 0.01 the flat coordinate shrinks by exactly (1 - lr * mu) per step
flat = paths["SGD lr=0.010"].xs[:, 0]
dl.assert_close(flat[1:] / flat[:-1], np.full(len(flat) - 1, 1 - 0.01 * ravine.mu), "x0[t+1] / x0[t] at lr = 0.01")

# %% [markdown] id="c73337fd"
# ### A saddle
#
# Ravines are not the only trap. Near a **saddle point** the gradient is tiny, so steps
# are tiny. The landscape $f(x) = \tfrac12 x_0^2 + \tfrac14 x_1^4 - \tfrac12 x_1^2$ has a
# saddle at the origin and minima at $(0, \pm 1)$. Start almost on the ridge, at
# $(1, 10^{-4})$:

# %% id="82a9eef8" tags=["skip-when-grading"]
saddle = dl.saddle()
gd_saddle = dl.run(sgd_step, saddle, [1.0, 1e-4], 200, lr=0.1)
show_paths(saddle, {"SGD": gd_saddle}, title="Gradient descent near a saddle")


def leaves_slowly(lr, steps, offset):
    # updates until |x1| > 0.5, from (1, offset): just off the ridge x1 = 0
    x1 = np.abs(dl.run(sgd_step, saddle, [1.0, offset], steps, lr=lr).xs[:, 1])
    left = int(np.argmax(x1 > 0.5)) if np.any(x1 > 0.5) else None
    return left is not None and left > 50, f"{left} steps"


leave = dl.robust_claim("starting 1e-4 off the ridge, gradient descent spends more than 50 steps near the saddle",
                        leaves_slowly, dict(lr=0.1, steps=200, offset=1e-4), fixed=["offset"])
print(f"gradient descent needs {leave[1]} to get |x1| > 0.5")

# %% [markdown] id="7a0340e0"
# The loss curve shows the plateau: a quick drop (the $x_0$ direction), then a long flat
# stretch while $x_1$ grows by only 10% per step, then the fall into a minimum.
#
# ## 2. Momentum: a heavy ball
#
# A ball rolling down the ravine does not stop at every step to look at the slope. It
# keeps its velocity, and the slope only changes it. Along the floor, where the gradient
# points the same way step after step, the velocity builds up. Across the valley, where
# the gradient flips sign, the pushes cancel.
#
# PyTorch's `torch.optim.SGD(momentum=beta)` keeps a velocity buffer $v$ (the sum of past
# gradients, each older one discounted by $\beta$) and steps along it:
#
# $$v_{t+1} = \beta\, v_t + g_t, \qquad x_{t+1} = x_t - \eta\, v_{t+1}.$$
#
# Unrolled, $v_{t+1} = g_t + \beta g_{t-1} + \beta^2 g_{t-2} + \dots$: gradient $k$ steps
# old weighs $\beta^k$. The weights halve after about $0.7/(1-\beta)$ steps, so $\beta$
# sets a **horizon** of roughly $1/(1-\beta)$ steps (10 for $\beta = 0.9$, 100 for
# $\beta = 0.99$). How large does the velocity get on a steady slope? Question 2 asks you
# to predict it, before we measure.

# %% id="64a9ddda" nbgrader={"grade": false, "grade_id": "momentum_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def momentum_step(x, g, v, lr, beta):
    """One step of heavy-ball momentum, PyTorch's convention (torch.optim.SGD with
    momentum=beta, dampening=0).

    x, g, v: arrays of the same shape (point, gradient at x, velocity buffer: the
    discounted sum of past gradients, torch's ``momentum_buffer``, zero before the first step).
    lr, beta: floats. Returns (x_new, v_new), the point and the buffer after one update
    (the formulas above), as new arrays; the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    v_new = beta * v + g
    return x - lr * v_new, v_new
    ### END SOLUTION


# %% id="f8093d17" nbgrader={"grade": false, "grade_id": "momentum_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for momentum_step
x, g, v = np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([0.2, 0.2])
x_new, v_new = momentum_step(x, g, v, lr=0.1, beta=0.9)
dl.assert_close(v_new, [0.68, -0.82], "v_new = beta * v + g", inputs="g=[0.5, -1], v=[0.2, 0.2], beta=0.9")
dl.assert_close(x_new, [0.932, 2.082], "x_new = x - lr * v_new", inputs="x=[1, 2], lr=0.1")
dl.assert_close(momentum_step(x, g, np.zeros(2), 0.1, 0.0)[0], sgd_step(x, g, 0.1),
                "with beta = 0 and v = 0, momentum is one step of gradient descent")
assert np.array_equal(v, [0.2, 0.2]), "momentum_step changed its input v in place: return a new array"
print("momentum_step: visible tests passed")

# %% id="cdd9fe0c" nbgrader={"grade": true, "grade_id": "momentum_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# momentum_step: basic behaviour (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("momentum_step", momentum_step, "basic")
### END HIDDEN TESTS

# %% id="11b7d5e5" nbgrader={"grade": true, "grade_id": "momentum_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# momentum_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("momentum_step", momentum_step, "random")
### END HIDDEN TESTS

# %% id="927133ad" nbgrader={"grade": true, "grade_id": "momentum_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# momentum_step: edge cases: lr = 0, beta = 0, float32, scalars, zero gradients (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("momentum_step", momentum_step, "edge")
### END HIDDEN TESTS

# %% id="bc007463" nbgrader={"grade": true, "grade_id": "momentum_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# momentum_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("momentum_step", momentum_step, "trajectory")
### END HIDDEN TESTS

# %% [markdown] id="665c1a1f"
# **Question 2** (a prediction). Call `momentum_step` again and again with the same
# gradient $g = 3$, $\beta = 0.95$, starting from $v = 0$. Does $v$ grow without bound? If
# not, what value does it approach? (Once it has settled, one more step leaves it as it is.)

# %% id="e465a67b" nbgrader={"grade": false, "grade_id": "q_velocity_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
velocity_limit = 3 / (1 - 0.95)
### END SOLUTION

# %% id="6269bd77" nbgrader={"grade": false, "grade_id": "q_velocity_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(velocity_limit, "velocity_limit")

# %% id="ab1d31cf" nbgrader={"grade": true, "grade_id": "q_velocity", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("velocity_limit", velocity_limit)
### END HIDDEN TESTS

# %% id="6b6ff763" tags=["skip-when-grading"]
# The measurement, in a setting of its own (Question 2 asked about another): beta = 0.9, g = 1
v = np.zeros(1)
for _ in range(200):
    _, v = momentum_step(np.zeros(1), np.ones(1), v, lr=0.1, beta=0.9)
print(f"velocity after 200 steps of g = 1 with beta = 0.9: {v[0]:.6f}")
# a visible check (any correct momentum_step passes it): the fixed point of v = beta v + g
dl.assert_close(v, [1 / (1 - 0.9)], "velocity after 200 steps of g = 1 with beta = 0.9")

fig, ax = plt.subplots(figsize=(6, 2.5))
for beta, ls in ((0.5, "-"), (0.9, "--"), (0.97, ":")):
    ax.plot(beta ** np.arange(60), color="0.2", ls=ls, label=f"beta = {beta}: horizon ~ {1 / (1 - beta):.0f} steps")
ax.set_xlabel("age of the gradient (steps)")
ax.set_ylabel("weight beta^k")
ax.set_xlim(0, 59)
ax.legend()
plt.show()

# %% [markdown] id="2b896621"
# The velocity stops growing where one more step leaves it unchanged, $v = \beta v + g$,
# that is at $v = g/(1-\beta)$: on a steady slope momentum multiplies the step by
# $1/(1-\beta)$.

# %% [markdown] id="c4ac3ff7"
# ### Other ways to write momentum
#
# You will meet two other forms. They are the same method with the learning rate or the
# buffer rescaled:
#
# | form | update | as PyTorch's form |
# |---|---|---|
# | PyTorch (this course) | $v \leftarrow \beta v + g$, $x \leftarrow x - \eta v$ | itself |
# | EMA (Coursera, many blogs) | $v' \leftarrow \beta v' + (1-\beta) g$, $x \leftarrow x - \alpha v'$ | $v' = (1-\beta) v$: you derive $\eta$ below |
# | CS231n | $u \leftarrow \mu u - \alpha g$, $x \leftarrow x + u$ | $u = -\alpha v$, so $\eta = \alpha$, $\beta = \mu$ |
#
# The EMA form keeps $v'$ an *average* of gradients, PyTorch's $v$ a *sum*: a learning
# rate tuned in one form is not the right one in the other. From $v' = (1-\beta) v$
# (check it: both start at zero and obey the same recursion), work out which $\eta$ makes
# $x - \eta v$ equal $x - \alpha v'$ at every step, and write the conversion:

# %% id="261eaa9a" nbgrader={"grade": false, "grade_id": "ema_to_torch_lr", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ema_to_torch_lr(lr_ema, beta):
    """The PyTorch learning rate that gives the same trajectory as the EMA form
    (v' = beta v' + (1 - beta) g; x -= lr_ema v') with the same beta.

    lr_ema, beta: floats, 0 <= beta < 1. Returns a float: derive it from how v' and
    PyTorch's v are related when both start at zero."""
    ### BEGIN SOLUTION
    return lr_ema * (1 - beta)
    ### END SOLUTION


# %% id="cd588bce"
def momentum_step_ema(x, g, v, lr, beta):
    # the EMA form, given: the velocity is a weighted average of gradients
    v_avg = beta * v + (1 - beta) * g
    return x - lr * v_avg, v_avg

def momentum_step_cs231n(x, g, u, lr, mu):
    # the CS231n form, given: u holds the step itself
    u_new = mu * u - lr * g
    return x + u_new, u_new

ema = dl.run(momentum_step_ema, ravine, start, 100, lr=0.3, beta=0.9)
torch_form = dl.run(momentum_step, ravine, start, 100, lr=ema_to_torch_lr(0.3, 0.9), beta=0.9)
cs231n_path = dl.run(momentum_step_cs231n, ravine, start, 100, lr=0.02, mu=0.9).xs
same_lr = dl.run(momentum_step, ravine, start, 100, lr=0.02, beta=0.9)
print("largest gap, EMA form vs PyTorch form after conversion:", np.abs(ema.xs - torch_form.xs).max())
print("largest gap, CS231n form vs PyTorch form with the same lr:", np.abs(cs231n_path - same_lr.xs).max())

# %% id="572c7acb" nbgrader={"grade": false, "grade_id": "ema_to_torch_lr_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for ema_to_torch_lr: the two forms trace the same path
dl.assert_close(torch_form.xs, ema.xs, "PyTorch-form path with lr = ema_to_torch_lr(0.3, 0.9) vs the EMA-form path")
dl.assert_close(ema_to_torch_lr(1.0, 0.0), 1.0,
                "with beta = 0 both forms are gradient descent: ema_to_torch_lr(1.0, 0.0)")
print("ema_to_torch_lr: visible tests passed")

# %% id="221df3d1" nbgrader={"grade": true, "grade_id": "ema_to_torch_lr_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# ema_to_torch_lr: random learning rates and betas (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("ema_to_torch_lr", ema_to_torch_lr, "random")
### END HIDDEN TESTS

# %% id="0fd71dd8"
# A visible check, not a finding (it holds for any correct momentum_step, since u = -lr v at every step)
dl.assert_close(cs231n_path, same_lr.xs, "CS231n-form path (mu = 0.9, lr = 0.02) vs PyTorch-form path (beta = 0.9)")

# %% [markdown] id="b64836b1"
# ### How much faster? Theory against your code
#
# On a quadratic with condition number $\kappa$, the best constant step for gradient
# descent ($\eta = 2/(\mu + L)$) shrinks the distance to the minimum by a factor
#
# $$\rho_{\text{GD}} = \frac{\kappa - 1}{\kappa + 1}$$
#
# per step. Polyak's heavy ball, tuned with $\beta = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2$
# and $\eta = \frac{4}{(\sqrt\mu + \sqrt L)^2}$, reaches
#
# $$\rho_{\text{momentum}} = \frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}.$$
#
# For $\kappa = 100$: 0.980 against 0.818. To shrink the error a millionfold that is
# about 690 steps against 70. The landscape objects know these tunings
# (`best_gd`, `best_momentum`); let us measure the rates of *your* functions.

# %% [markdown] id="92a1b8f3"
# **Question 3** (predict it; the measurement below uses other values of $\kappa$). What
# contraction factor per step does the best-tuned heavy ball reach on a quadratic with
# $\kappa = 400$? (Three significant digits are enough.)

# %% id="79d4445d" nbgrader={"grade": false, "grade_id": "q_rate_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
momentum_rate = (20 - 1) / (20 + 1)
### END SOLUTION

# %% id="7f40810f" nbgrader={"grade": false, "grade_id": "q_rate_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(momentum_rate, "momentum_rate")

# %% id="972ffd40" nbgrader={"grade": true, "grade_id": "q_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("momentum_rate", momentum_rate)
### END HIDDEN TESTS

# %% id="84e5a8a5" tags=["skip-when-grading"]
def measured_rate(traj, first=100):
    # geometric mean of the per-step contraction of the distance to the minimum, from step
    # `first` to the last step before the distance underflows (long runs reach 1e-300)
    d = traj.distance_to(np.zeros(2))
    last = int(np.nonzero(d > 1e-250)[0][-1])
    return (d[last] / d[first]) ** (1 / (last - first))


def rates(kappa, steps, x0):
    # (theory, measured) for tuned gradient descent, then for the tuned heavy ball
    q = dl.quadratic(kappa)
    lr_gd, rate_gd = q.best_gd
    lr_m, beta_m, rate_m = q.best_momentum
    gd = dl.run(sgd_step, q, x0, steps, lr=lr_gd)
    hb = dl.run(momentum_step, q, x0, steps, lr=lr_m, beta=beta_m)
    return rate_gd, measured_rate(gd), rate_m, measured_rate(hb)


rows = {kappa: rates(kappa, 400, np.array([1.0, 1.0])) for kappa in (10, 100, 1000)}
print("kappa   GD theory  GD measured   momentum theory  momentum measured")
for kappa, r in rows.items():
    print(f"{kappa:5d}   {r[0]:.4f}     {r[1]:.4f}        {r[2]:.4f}           {r[3]:.4f}")

# %% id="86a8d5af" tags=["skip-when-grading"]
def heavy_ball_on_theory(kappa, steps, x0):
    _, gd_m, hb_t, hb_m = rates(kappa, steps, x0)
    return hb_t <= hb_m < 1.01 * hb_t and hb_m < gd_m, f"measured {hb_m:.4f}, theory {hb_t:.4f}, GD {gd_m:.4f}"


for kappa, (gd_t, gd_m, _, _) in rows.items():
    # a visible check, not a finding: at its best lr both coordinates of gradient descent
    # shrink by exactly (kappa-1)/(kappa+1) per step, so any correct sgd_step matches it
    dl.assert_close(gd_m, gd_t, f"measured contraction of tuned gradient descent (kappa = {kappa})")
    # the tuned heavy ball has a repeated eigenvalue, so its error decays like t * rho^t:
    # over a finite window the measured rate sits a little above rho
    dl.robust_claim(f"after 100 steps the tuned heavy ball contracts within 1% of (sqrt(kappa)-1)/(sqrt(kappa)+1), "
                    f"faster than tuned gradient descent (kappa = {kappa})",
                    heavy_ball_on_theory, dict(kappa=kappa, steps=400, x0=np.array([1.0, 1.0])), fixed=["kappa"])

kappas = np.geomspace(2, 3000, 60)
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogx(kappas, (kappas - 1) / (kappas + 1), label="GD theory", **dl.colors.style("SGD"))
ax.semilogx(kappas, (np.sqrt(kappas) - 1) / (np.sqrt(kappas) + 1), label="momentum theory",
            **dl.colors.style("momentum"))
ax.plot(list(rows), [r[1] for r in rows.values()], "o", color=dl.colors.style("SGD")["color"], label="GD measured")
ax.plot(list(rows), [r[3] for r in rows.values()], "s", color=dl.colors.style("momentum")["color"],
        label="momentum measured")
ax.set_xlabel("condition number kappa")
ax.set_ylabel("contraction per step")
ax.set_xlim(kappas[0], kappas[-1])
ax.legend(fontsize=8)
plt.show()

# %% [markdown] id="74285fab"
# ## 3. Nesterov: look where you are going
#
# The heavy ball computes the gradient where it *is*, then adds its velocity. Nesterov's
# idea: the velocity will carry us to about $x - \eta\beta v$ anyway, so take the
# gradient *there*, at the look-ahead point, and correct the course before overshooting.
#
# Evaluating the gradient at a second point is awkward in a training loop, where the
# gradient comes from `loss.backward()` at the current parameters. PyTorch
# (`torch.optim.SGD(nesterov=True)`) uses an equivalent form, written in shifted
# variables, that needs only the current gradient:
#
# $$v_{t+1} = \beta v_t + g_t, \qquad x_{t+1} = x_t - \eta\,(g_t + \beta\, v_{t+1}).$$
#
# Compared with the heavy ball, the step takes the fresh gradient once more on top of
# the discounted new velocity: the freshest information gets more weight.

# %% id="9b5dfec0" nbgrader={"grade": false, "grade_id": "nesterov_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def nesterov_step(x, g, v, lr, beta):
    """One step of Nesterov momentum, PyTorch's convention (torch.optim.SGD with
    momentum=beta, nesterov=True, dampening=0).

    x, g, v: arrays of the same shape (point, gradient at x, velocity buffer, which
    is updated exactly as in momentum_step); lr, beta: floats.
    Returns (x_new, v_new), the point and the buffer after one update in the shifted form
    above, as new arrays; the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    v_new = beta * v + g
    return x - lr * (g + beta * v_new), v_new
    ### END SOLUTION


# %% id="181c45ba" nbgrader={"grade": false, "grade_id": "nesterov_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for nesterov_step
x, g, v = np.array([1.0, 2.0]), np.array([0.5, -1.0]), np.array([0.2, 0.2])
x_new, v_new = nesterov_step(x, g, v, lr=0.1, beta=0.9)
dl.assert_close(v_new, [0.68, -0.82], "v_new = beta * v + g", inputs="g=[0.5, -1], v=[0.2, 0.2], beta=0.9")
dl.assert_close(x_new, [0.8888, 2.1738], "x_new = x - lr * (g + beta * v_new)", inputs="x=[1, 2], lr=0.1")
dl.assert_close(nesterov_step(x, g, np.zeros(2), 0.1, 0.0)[0], sgd_step(x, g, 0.1),
                "with beta = 0 and v = 0, Nesterov is one step of gradient descent")
print("nesterov_step: visible tests passed")

# %% id="80e49469" nbgrader={"grade": true, "grade_id": "nesterov_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# nesterov_step: basic behaviour (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("nesterov_step", nesterov_step, "basic")
### END HIDDEN TESTS

# %% id="b5022b8d" nbgrader={"grade": true, "grade_id": "nesterov_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# nesterov_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("nesterov_step", nesterov_step, "random")
### END HIDDEN TESTS

# %% id="fe9b270a" nbgrader={"grade": true, "grade_id": "nesterov_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# nesterov_step: edge cases: lr = 0, beta = 0, float32, scalars, zero gradients (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("nesterov_step", nesterov_step, "edge")
### END HIDDEN TESTS

# %% id="7820d926" nbgrader={"grade": true, "grade_id": "nesterov_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# nesterov_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("nesterov_step", nesterov_step, "trajectory")
### END HIDDEN TESTS

# %% [markdown] id="d2fefa24"
# ### Heavy ball and Nesterov on the ravine
#
# Same learning rate, same $\beta$, same start on the $\kappa = 50$ ravine. Which one
# swings further past the minimum?

# %% id="f1c1dc36" tags=["skip-when-grading"]
ravine50 = dl.ravine(kappa=50)
race = {"momentum": dl.run(momentum_step, ravine50, start, 150, lr=0.02, beta=0.9),
        "Nesterov": dl.run(nesterov_step, ravine50, start, 150, lr=0.02, beta=0.9)}
show_paths(ravine50, race, title="lr = 0.02, beta = 0.9 on a ravine (kappa = 50)")


def overshoot_and_settle(lr, beta, steps, x0, tol):
    # the largest overshoot past the minimum along x0, and the first step after which the
    # path stays within tol of the minimum, for each method
    out = {}
    for name, fn in (("momentum", momentum_step), ("Nesterov", nesterov_step)):
        t = dl.run(fn, ravine50, x0, steps, lr=lr, beta=beta)
        out[name] = (float(t.xs[:, 0].max()), t.steps_to_reach([0, 0], tol))
    (o_m, s_m), (o_n, s_n) = out["momentum"], out["Nesterov"]
    holds = o_n < o_m and s_m is not None and s_n is not None and s_n < s_m
    return holds, f"overshoot {o_m:.3f} against {o_n:.3f}, settled after {s_m} against {s_n} steps"


swing = dl.robust_claim("with lr = 0.02 and beta = 0.9 Nesterov overshoots less and settles sooner",
                        overshoot_and_settle, dict(lr=0.02, beta=0.9, steps=200, x0=start, tol=1e-3),
                        fixed=["lr", "beta"])
print("momentum against Nesterov, staying within 1e-3 of the minimum:", swing[1])

# %% [markdown] id="de56f553"
# Nesterov's correction damps the swing across the valley: it overshoots less and settles
# sooner. It is not free. The extra gradient term makes the steep direction more
# sensitive to the step size: on a quadratic the heavy ball stays stable up to
# $\eta < 2(1+\beta)/L$, Nesterov only up to $\eta < 2(1+\beta)/((1+2\beta)L)$. With
# $\beta = 0.9$ and $L = 50$ that is 0.076 against 0.027:

# %% id="dbb0f652" tags=["skip-when-grading"]
limits = {"momentum": 2 * 1.9 / 50, "Nesterov": 2 * 1.9 / (2.8 * 50)}
steppers = {"momentum": momentum_step, "Nesterov": nesterov_step}


def edge_of_stability_with(name, margin, steps, x0):
    # the method at beta = 0.9 a little below and a little above its limit
    lo = dl.run(steppers[name], ravine50, x0, steps, lr=(1 - margin) * limits[name], beta=0.9)
    hi = dl.run(steppers[name], ravine50, x0, steps, lr=(1 + margin) * limits[name], beta=0.9)
    falls, grows = lo.losses[-1] / lo.losses[0], hi.losses[-1] / hi.losses[0]
    return falls < 1e-3 and (hi.diverged or grows > 1e3), f"loss ratio below {falls:.1e}, above {grows:.1e}"


for name in limits:
    result = dl.robust_claim(f"{name} converges just below its limit and diverges just above it",
                             edge_of_stability_with, dict(name=name, margin=0.03, steps=400, x0=start))
    print(f"{name}: limit {limits[name]:.4f}; 3% below and 3% above: {result[1]}")


def only_heavy_ball_converges(lr, beta, steps, x0):
    hb = dl.run(momentum_step, ravine50, x0, steps, lr=lr, beta=beta)
    ne = dl.run(nesterov_step, ravine50, x0, steps, lr=lr, beta=beta)
    falls, grows = hb.losses[-1] / hb.losses[0], ne.losses[-1] / ne.losses[0]
    return falls < 1e-6 and (ne.diverged or grows > 1e6), f"heavy ball loss ratio {falls:.1e}, Nesterov {grows:.1e}"


dl.robust_claim("at lr = 0.03 and beta = 0.9 the heavy ball converges while Nesterov diverges",
                only_heavy_ball_converges, dict(lr=0.03, beta=0.9, steps=300, x0=start), fixed=["lr", "beta"])

# %% [markdown] id="a1e7c0d1"
# ### Every (lr, beta) at once: the rate map
#
# Why does momentum help, and why is Polyak's tuning the best one? On a quadratic the
# question falls apart into independent pieces. Write the error $e = x - x^*$ in the
# eigenbasis of $A$: each coordinate feels only its own eigenvalue $\lambda$, and with
# $a = \eta\lambda$ the heavy ball's update of that coordinate is
#
# $$e_{t+1} = (1 + \beta - a)\, e_t - \beta\, e_{t-1}.$$
#
# That is a damped oscillator, one per direction. Its error is $c_1 z_1^t + c_2 z_2^t$,
# where $z_1, z_2$ are the roots of $z^2 - (1 + \beta - a) z + \beta$, and the larger modulus
# $\rho$ is the direction's rate. From a generic start the worst direction sets the pace.
#
# - Two real roots (small $\beta$): the direction creeps in without swinging (overdamped).
# - Two complex roots (large $\beta$): it rings, and $|z_1| = |z_2| = \sqrt\beta$, whatever
#   the learning rate (underdamped).
# - A repeated root, at $\beta = (1 - \sqrt{\eta\lambda})^2$: critical damping.
#
# Nesterov's update gives $z^2 - (1 + \beta)(1 - a) z + \beta (1 - a)$ in the same way.
#
# The maps below are for the $\kappa = 50$ ravine ($\mu = 1$, $L = 50$). The colour is the
# number of steps that shrink the error tenfold, $\ln 10 / (-\ln \rho)$, for the worst
# direction; grey is unstable. The black line is the stability edge. The white dashed and
# dotted curves are where the flat ($\mu$) and the steep ($L$) direction are critically
# damped. The diamond on the $\beta = 0$ edge is gradient descent's best step, and the star
# is the best setting of each method.
#
# **Predict** before you run it: where is the heavy ball's star? Is Nesterov's stable
# region larger or smaller than the heavy ball's?

# %% id="a1e7c0d2" tags=["skip-when-grading"]
show_rate_map(ravine50)

# %% [markdown] id="a1e7c0d3"
# A formula is worth little until it predicts your code. The next cell runs your
# `momentum_step` and `nesterov_step` for 2000 steps at settings in every regime, and fits
# the rate per step on the second half of each run (`measured_rate`; it rescales the run
# every 50 steps, so that nothing underflows or overflows). Where the map says a rate,
# your functions must show it to 1e-3.

# %% id="a1e7c0d4" tags=["skip-when-grading"]
settings = {"underdamped": (0.02, 0.9), "underdamped, small lr": (0.005, 0.95),
            "critically damped (Polyak)": momentum_rates.polyak(1.0, 50.0)[:2],
            "flat direction critically damped": (0.01, 0.81), "overdamped": (0.005, 0.3),
            "gradient descent": (0.002, 0.0), "heavy ball unstable": (0.06, 0.3), "Nesterov unstable": (0.04, 0.9)}
mu50, L50 = momentum_rates.eigenvalues(ravine50)
print(f"{'setting':34s} {'lr':>7s} {'beta':>6s}   heavy ball: map  yours    Nesterov: map  yours")
for name, (lr, beta) in settings.items():
    row = []
    for method, step in (("heavy ball", momentum_step), ("Nesterov", nesterov_step)):
        predicted = float(momentum_rates.worst_rate(method, lr, beta, [mu50, L50]))
        measured = momentum_rates.measured_rate(step, ravine50, start, steps=2000, lr=lr, beta=beta)
        assert abs(measured - predicted) <= 1e-3, (
            f"your {method} at lr = {lr:.4g}, beta = {beta:.4g} ({name}): the map predicts a rate of {predicted:.4f} "
            f"per step, your function shows {measured:.4f}")
        row += [predicted, measured]
    print(f"{name:34s} {lr:7.4f} {beta:6.3f}   {row[0]:14.4f} {row[1]:6.4f}   {row[2]:12.4f} {row[3]:6.4f}")

# %% [markdown] id="a1e7c0d5"
# Every regime, and your functions behave as two damped oscillators. (At critical damping
# the error decays like $t \rho^t$, so a short run measures a rate a little above $\rho$:
# that is why these runs are long.) Now the map answers the questions the explorer raises.
#
# **Why is $\beta$ close to 1 slow, even in the steep direction?** Near the top of the map
# the roots of every direction are complex, and each shrinks by $\sqrt\beta$ per step,
# whatever the learning rate: the contour lines of equal rate run flat there. With
# $\beta = 0.95$ that is 0.975 per step. Gradient descent at $\eta = 1/L = 0.02$ would remove
# the steep direction in one step ($1 - \eta L = 0$); the heavy ball makes it ring for
# hundreds of steps.

# %% id="a1e7c0d6" tags=["skip-when-grading"]
def steep_direction_rings(lr, beta, steps, x0):
    # the rate of each eigen-direction of your momentum run, fitted on its tail
    flat, steep = momentum_rates.direction_rates(dl.run(momentum_step, ravine50, x0, steps, lr=lr, beta=beta).xs,
                                        ravine50)
    return abs(steep - np.sqrt(beta)) < 0.01 * np.sqrt(beta), f"steep {steep:.4f}, sqrt(beta) {np.sqrt(beta):.4f}"


for lr in (0.005, 0.035):
    dl.robust_claim(f"with beta = 0.95 the steep direction shrinks by sqrt(beta) per step, within 1%, at lr = {lr}",
                    steep_direction_rings, dict(lr=lr, beta=0.95, steps=300, x0=start), fixed=["beta"])

# %% [markdown] id="a1e7c0d7"
# **What does critical damping buy?** Hold the learning rate and raise $\beta$ from 0. The
# flat direction's two real roots move towards each other and meet at
# $\beta = (1 - \sqrt{\eta\mu})^2$, where the rate is $1 - \sqrt{\eta\mu}$. Above it the
# roots are complex and the rate $\sqrt\beta$ grows again. Gradient descent gets
# $1 - \eta\mu$. At $\eta = 0.01$ that is 0.99 against 0.90: momentum turns $\eta\mu$ into
# its square root, which is the whole speed-up of the heavy ball. Scan $\beta$ with your
# function:

# %% id="a1e7c0d8" tags=["skip-when-grading"]
def critical_damping_is_fastest(lr, steps, x0):
    # the flat direction's rate of your momentum run on a grid of beta
    betas = np.round(np.arange(0.5, 0.99, 0.01), 2)
    flat = np.array([momentum_rates.direction_rates(dl.run(momentum_step, ravine50, x0, steps, lr=lr, beta=b).xs,
                                           ravine50)[0] for b in betas])
    best, critical = betas[np.argmin(flat)], (1 - np.sqrt(lr * mu50)) ** 2
    holds = abs(best - critical) <= 0.02 and abs(flat.min() - (1 - np.sqrt(lr * mu50))) < 0.01
    return holds, (f"fastest at beta = {best:.2f} (critical {critical:.3f}), rate {flat.min():.4f} "
                   f"against 1 - sqrt(lr mu) = {1 - np.sqrt(lr * mu50):.4f} and gradient descent's {1 - lr * mu50:.4f}")


damping = dl.robust_claim("at a fixed lr the flat direction is fastest within 0.02 of the critical beta, "
                          "at 1 - sqrt(lr mu) within 0.01", critical_damping_is_fastest,
                          dict(lr=0.01, steps=400, x0=start))
print(damping[1])

# %% [markdown] id="a1e7c0d9"
# **Why does the optimum sit where it does?** The worst direction decides. The flat
# direction is fastest on its critical-damping curve. The steep direction, at a step large
# enough to help the flat one, swings past the minimum; it needs $\beta$ at least
# $(\sqrt{\eta L} - 1)^2$ to be damped (the other branch of its dotted curve). Both extremes
# are critically damped at once only where the two curves cross:
# $\eta = 4/(\sqrt L + \sqrt\mu)^2$, $\beta = \left(\frac{\sqrt\kappa - 1}{\sqrt\kappa + 1}\right)^2$.
# Every direction in between rings at $\sqrt\beta$, which is Polyak's rate
# $(\sqrt\kappa - 1)/(\sqrt\kappa + 1)$. On a fine grid, the map's lowest point is there.
#
# Nesterov's best setting is elsewhere, and slower: $\eta = 4/(3L + \mu)$ with rate
# $1 - 2/\sqrt{3\kappa + 1}$ (Lessard, Recht and Packard, 2016). On a quadratic the tuned
# heavy ball beats tuned Nesterov. Nesterov's strength is elsewhere: its guarantees hold
# on every smooth convex function, and the same paper gives a strongly convex function on
# which the heavy ball with Polyak's tuning does not converge at all.

# %% id="a1e7c0da" tags=["skip-when-grading"]
def optimum_where_the_curves_cross(kappa):
    # the map's lowest point on a fine grid, against the formulas; then your functions at each optimum
    q = dl.ravine(kappa=kappa)
    lrs, betas = np.geomspace(1e-3, 0.5, 1500), np.linspace(0.0, 0.99, 1000)
    grid = momentum_rates.rate_grid("heavy ball", lrs, betas, [1.0, kappa])
    i, j = np.unravel_index(np.argmin(grid), grid.shape)
    lr_p, beta_p, rate_p = momentum_rates.polyak(1.0, kappa)
    on_grid = abs(np.log(lrs[j] / lr_p)) <= 2 * np.log(lrs[1] / lrs[0]) and abs(betas[i] - beta_p) <= 2 * betas[1]
    lr_n, beta_n, rate_n = momentum_rates.nesterov_best(1.0, kappa)
    hb = momentum_rates.measured_rate(momentum_step, q, start, steps=2000, lr=lr_p, beta=beta_p)
    ne = momentum_rates.measured_rate(nesterov_step, q, start, steps=2000, lr=lr_n, beta=beta_n)
    return on_grid and hb < ne, (f"grid minimum at lr = {lrs[j]:.4f}, beta = {betas[i]:.3f} (Polyak {lr_p:.4f}, "
                                 f"{beta_p:.3f}); your heavy ball {hb:.4f}, your Nesterov {ne:.4f} at their best")


optimum = dl.robust_claim("the map's lowest point is Polyak's setting, and there the heavy ball beats Nesterov "
                          "at its own best", optimum_where_the_curves_cross, dict(kappa=50.0))
print(optimum[1])


# %% [markdown] id="c41cfc60"
# ## 4. Rolling out of a shallow well
#
# A heavy ball can roll over a small bump that would stop a light one. The tilted double
# well $f(x) = x^4/4 - x^2/2 + x/4$ has its global minimum at $x \approx -1.107$ and a
# shallower local one at $x \approx 0.838$, with a bump at $x \approx 0.270$ between
# them. Start on the right, at $x = 1.8$:

# %% id="c5d2ceba" tags=["skip-when-grading"]
well = dl.double_well(tilt=0.25)
print(well, "| local minimum at", np.round(well.local_min, 3), "| bump at", np.round(well.barrier, 3))
dl.claim("the local minimum is shallower than the global one",
         well.value(well.local_min) > well.value(well.global_min) + 0.4)
trio = {"SGD": dl.run(sgd_step, well, [1.8], 300, lr=0.1),
        "momentum": dl.run(momentum_step, well, [1.8], 300, lr=0.1, beta=0.9)}
show_paths(well, trio, title="lr = 0.1 from x = 1.8")


def ends_in(minimum, step, lr, steps, x0, **hyper):
    # does the run end within 1e-3 of `minimum`?
    end = dl.run(step, well, x0, steps, lr=lr, **hyper).final[0]
    return abs(end - minimum[0]) < 1e-3, f"ends at x = {end:.4f}"


def gd_stops(lr, steps, x0):
    return ends_in(well.local_min, sgd_step, lr, steps, x0)


def momentum_rolls_on(lr, beta, steps, x0):
    return ends_in(well.global_min, momentum_step, lr, steps, x0, beta=beta)


dl.robust_claim("gradient descent started at x = 1.8 stops in the local minimum", gd_stops,
                dict(lr=0.1, steps=300, x0=np.array([1.8])))
dl.robust_claim("with lr = 0.1 from x = 1.8, momentum with beta = 0.9 rolls on into the global minimum",
                momentum_rolls_on, dict(lr=0.1, beta=0.9, steps=300, x0=np.array([1.8])), fixed=["lr", "beta", "x0"])

# %% [markdown] id="7302e37a"
# Is there a $\beta$ above which the ball always escapes? Predict, then look: for every
# $(\beta, \text{lr})$ of a fine grid, run 500 steps and colour the point by where the ball
# ends. The left panel starts in the shallow well at $x = 1.8$, the right one in the global
# well at $x = -1.8$. The balls of one column of the grid (one $\beta$, every lr) roll at
# once: `momentum_step` works element by element, and `dl.step_per_lr` calls it with a
# float lr, as its contract says, then scales each ball's move by its own lr.

# %% id="2acbedfa" tags=["skip-when-grading"]
OUTCOMES = ["global minimum", "local (shallow) minimum", "neither yet", "diverged"]
_maps = {}


def well_map(x0, steps, n):
    """(beta, lr, outcome) on an n by n/2 grid, beta in [0, 0.98], lr in [0.01, 0.5] (log):
    outcome 0 = within 0.01 of the global minimum after `steps` updates from x0, 1 = of the
    local one, 2 = neither yet, 3 = diverged (|x| > 1e3 or overflow). Kept, as the claims
    below read the same maps."""
    key = (float(x0[0]), steps, n)
    if key not in _maps:
        B, LR = np.meshgrid(np.linspace(0.0, 0.98, n), np.geomspace(0.01, 0.5, n // 2))
        x, v = np.full(B.shape, float(x0[0])), np.zeros(B.shape)
        with np.errstate(all="ignore"):
            for _ in range(steps):
                for j, beta in enumerate(B[0]):   # a column: one beta, every lr
                    x[:, j], v[:, j] = dl.step_per_lr(momentum_step, x[:, j], well.grad(x[:, j]), v[:, j],
                                                      lr=LR[:, j], beta=float(beta))
        out = np.full(B.shape, 2)
        out[np.abs(x - well.global_min[0]) < 1e-2] = 0
        out[np.abs(x - well.local_min[0]) < 1e-2] = 1
        out[~(np.abs(x) < 1e3)] = 3
        _maps[key] = B, LR, out
    return _maps[key]


def smallest_escaping_beta(B, LR, out, lr):
    # on the grid row nearest to lr: the smallest beta that ends in the global minimum
    i = int(np.argmin(np.abs(np.log(LR[:, 0] / lr))))
    escaped = np.nonzero(out[i] == 0)[0]
    return B[0, escaped[0]] if len(escaped) else np.inf


map_setting = dict(x0=np.array([1.8]), steps=500, n=100)
shown = {"from x = 1.8 (shallow well)": well_map(**map_setting),
         "from x = -1.8 (global well)": well_map(np.array([-1.8]), 500, 100)}
palette = ["#0072B2", "#F0E442", "#999999", "#000000"]   # dark, light, mid, black: distinct in greyscale too
fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
for ax, (title, (B, LR, out)) in zip(axes, shown.items(), strict=True):
    ax.pcolormesh(B, LR, out, cmap=mpl.colors.ListedColormap(palette), vmin=-0.5, vmax=3.5, shading="nearest")
    ax.set_yscale("log")
    ax.axhline(0.1, color="k", lw=0.8, ls="--")                      # the lr of the paths above
    ax.plot([0.9], [0.1], "o", mfc="white", mec="k", mew=1.2, ms=7)   # beta = 0.9 at lr = 0.1
    ax.set_title(title + ", 500 steps", fontsize=10)
    ax.set_xlabel("beta")
axes[0].set_ylabel("learning rate")
patches = [mpl.patches.Patch(facecolor=c, edgecolor="0.3", label=o) for c, o in zip(palette, OUTCOMES, strict=True)]
fig.legend(handles=patches, loc="lower center", ncol=4, fontsize=9, frameon=False)
fig.tight_layout(rect=(0, 0.08, 1, 1))
plt.show()
from_shallow = shown["from x = 1.8 (shallow well)"]
print("smallest beta that escapes from x = 1.8:",
      {lr: round(float(smallest_escaping_beta(*from_shallow, lr)), 3) for lr in (0.02, 0.1, 0.2)})


def no_small_beta_escapes(x0, steps, n):
    B, LR, out = well_map(x0, steps, n)
    bad = (B < 0.5) & (LR <= 0.1 * 1.0001) & (out == 0)
    return not bad.any(), f"escapes at beta = {np.round(B[bad][:5], 3)}"


def boundary_moves(x0, steps, n):
    at = [smallest_escaping_beta(*well_map(x0, steps, n), lr) for lr in (0.02, 0.2)]
    return at[0] - at[1] > 0.25, f"smallest escaping beta {at[0]:.3f} at lr = 0.02, {at[1]:.3f} at lr = 0.2"


def not_monotone(x0, steps, n):
    # cells past the first escaping beta of their row that still end in the shallow well
    B, LR, out = well_map(x0, steps, n)
    first = np.array([smallest_escaping_beta(B, LR, out, lr) for lr in LR[:, 0]])
    back = (out == 1) & (B > first[:, None]) & (LR <= 0.2)
    diverged = (out == 3) & (B > 0.8) & (LR > 0.2)
    return back.sum() >= 3 and diverged.any(), f"{back.sum()} such cells, {diverged.sum()} diverged"


dl.robust_claim("with lr up to 0.1, no beta below 0.5 carries the ball over the bump", no_small_beta_escapes,
                map_setting, vary={"n": [200]})
dl.robust_claim("the smallest beta that escapes falls by more than 0.25 as lr grows from 0.02 to 0.2",
                boundary_moves, map_setting, vary={"n": [200]})
dl.robust_claim("past that boundary, with lr up to 0.2, some (beta, lr) still end in the shallow well, "
                "and with lr above 0.2 and beta above 0.8 some diverge",
                not_monotone, map_setting, vary={"n": [200]})

# %% [markdown] id="b88e4f41"
# The left map says more than any threshold could:
#
# - with small steps and little momentum (lr up to 0.1, $\beta < 0.5$) the ball never
#   crosses the bump;
# - the boundary moves with the learning rate: the smallest $\beta$ that escapes falls by
#   more than 0.25 between lr = 0.02 and lr = 0.2, since a longer step also means a faster
#   ball;
# - past the boundary the outcome is **not** monotone: there are islands where the ball
#   crosses, swings back over the bump and stays in the shallow well (from $x = 1.8$ with
#   lr = 0.1, $\beta = 0.93$ is one), and at large lr and $\beta$ it diverges.
#
# Start a little further out or closer in and the islands move, but these three statements
# stay true; "the ball escapes for every $\beta$ from 0.66 on" did not.
#
# That does **not** mean momentum finds global minima. It carries the ball further, in
# whatever direction it is going. The right map starts in the global well: small $\beta$
# keeps the ball there, but some large $\beta$ throw it over the bump into the shallow well,
# for example $\beta = 0.9$ with lr = 0.1 (the circle).

# %% id="e136e3a8" tags=["skip-when-grading"]
def thrown_out(x0, steps, n):
    B, LR, out = well_map(x0, steps, n)
    stays = np.all(out[(B < 0.5) & (LR <= 0.2)] == 0)
    return stays and np.any(out == 1), f"{np.sum(out == 1)} cells end in the shallow well"


def back_in_the_shallow_well(lr, beta, steps, x0):
    return ends_in(well.local_min, momentum_step, lr, steps, x0, beta=beta)


dl.robust_claim("from x = 1.8 with lr = 0.1, beta = 0.93 falls back into the shallow well",
                back_in_the_shallow_well, dict(lr=0.1, beta=0.93, steps=500, x0=np.array([1.8])),
                fixed=["lr", "beta", "x0"])
dl.robust_claim("starting in the global well, no beta below 0.5 with lr up to 0.2 leaves it, "
                "but some larger beta throw the ball into the shallow well",
                thrown_out, dict(x0=np.array([-1.8]), steps=500, n=100), vary={"n": [200]})
dl.robust_claim("from x = -1.8 with lr = 0.1, beta = 0.9 is thrown into the shallow well",
                back_in_the_shallow_well, dict(lr=0.1, beta=0.9, steps=500, x0=np.array([-1.8])),
                fixed=["lr", "beta", "x0"])

# %% [markdown] id="2c14404e"
# ## 5. A race on Rosenbrock's valley
#
# Rosenbrock's function $(1 - x_0)^2 + 100 (x_1 - x_0^2)^2$ has a curved, nearly flat
# valley floor with steep walls, and its minimum at $(1, 1)$. A fair race
#
# - tunes every method on the same grid of learning rates (with $\beta = 0.9$ for both
#   momentum methods), and checks that each best rate lies inside the grid, not at its edge;
# - measures what does not depend on the run length: the first step after which the path
#   stays within 0.01 of $(1, 1)$, on runs long enough (12,000 steps) that the count no
#   longer changes when they get longer (the tests rerun the race three times as long);
# - does not let one lucky start decide: each method runs from nine starts, $(-1.5, 2)$
#   scaled by 1, 0.95 or 1.05 and turned by 0 or $\pm 10$ degrees, and we compare the
#   median over the starts.
#
# Predict first: tuned, which of the three settles first?

# %% id="b02695eb" tags=["skip-when-grading"]
rosen = dl.rosenbrock()
x_start = np.array([-1.5, 2.0])
grid = 4e-4 * np.sqrt(2) ** np.arange(7)      # 0.0004 ... 0.0032, each a factor sqrt(2) above the last
methods = {"SGD": (sgd_step, {}), "momentum": (momentum_step, {"beta": 0.9}),
           "Nesterov": (nesterov_step, {"beta": 0.9})}
_races = {}


def turned(x, degrees):
    c, s = np.cos(np.radians(degrees)), np.sin(np.radians(degrees))
    return np.array([c * x[0] - s * x[1], s * x[0] + c * x[1]])


def settle_times(step, hyper, starts, steps, tol):
    """Steps until the path stays within tol of (1, 1), for every start (rows) and lr of the
    grid (columns): inf where it is outside at the end (or diverged). All paths run at once,
    x of shape (2, starts, lrs); also returns the paths from the first start."""
    x = np.repeat(starts.T[:, :, None], len(grid), axis=2)
    v = np.zeros_like(x)
    last_out = np.zeros(x.shape[1:], dtype=int)
    first_path = np.empty((steps + 1, 2, len(grid)))
    first_path[0] = x[:, 0]
    with np.errstate(all="ignore"):
        for t in range(1, steps + 1):
            # every lr of the grid at once, the step called with a float lr (dl.step_per_lr)
            if hyper:
                x, v = dl.step_per_lr(step, x, rosen.grad(x), v, lr=grid, **hyper)
            else:
                x = dl.step_per_lr(step, x, rosen.grad(x), lr=grid)
            last_out[~((x[0] - 1) ** 2 + (x[1] - 1) ** 2 <= tol ** 2)] = t
            first_path[t] = x[:, 0]
    return np.where(last_out == steps, np.inf, last_out), first_path


def rosenbrock_race(x0, steps, tol):
    """{method: (settle times (starts, lrs), median over the starts per lr, index of the best lr, paths)}."""
    key = (tuple(np.round(x0, 12)), steps, tol)
    if key not in _races:
        starts = np.array([turned(x0 * s, d) for s in (1.0, 0.95, 1.05) for d in (0.0, -10.0, 10.0)])
        _races[key] = {}
        for name, (fn, hyper) in methods.items():
            times, path = settle_times(fn, hyper, starts, steps, tol)
            median = np.median(times, axis=0)
            _races[key][name] = times, median, int(np.argmin(median)), path
    return _races[key]


shown_race = dict(x0=x_start, steps=12000, tol=1e-2)
result = rosenbrock_race(**shown_race)
print("median over 9 starts of the steps until the path stays within 0.01 of (1, 1)")
print("(inf: outside at step 12000 from at least half of the starts, or diverged)")
print("lr        " + "".join(f"{name:>12s}" for name in methods))
for j, lr in enumerate(grid):
    print(f"{lr:<10.5f}" + "".join(f"{result[name][1][j]:>12g}" for name in methods))
print("best lr and median steps:",
      {name: (round(float(grid[r[2]]), 5), float(r[1][r[2]])) for name, r in result.items()})

# %% id="15fc17d4" tags=["skip-when-grading"]
best_paths = {}
for name, (_, _, b, path) in result.items():
    xs = path[:, :, b]
    best_paths[f"{name} lr={grid[b]:.4f}"] = dl.Trajectory(xs, np.asarray(rosen.f(xs), dtype=float))
show_paths(rosen, best_paths, title="from (-1.5, 2), each method at its best learning rate of the grid")

# %% id="3438002d" tags=["skip-when-grading"]
def best_inside(x0, steps, tol):
    r = rosenbrock_race(x0, steps, tol)
    where = {name: r[name][2] for name in methods}
    inside = all(0 < b < len(grid) - 1 for b in where.values())
    settled = all(r[name][1][b] <= 2 * steps / 3 for name, b in where.items())
    return inside and settled, f"best lr index {where} of 0..{len(grid) - 1}"


def tuned_lead(x0, steps, tol):
    best = {name: r[1][r[2]] for name, r in rosenbrock_race(x0, steps, tol).items()}
    fast, slow = sorted([best["momentum"], best["Nesterov"]])
    return slow < best["SGD"] / 3 and slow / fast < best["SGD"] / slow, f"median steps at the best lr: {best}"


def heavy_ball_ahead(x0, steps, tol):
    r = rosenbrock_race(x0, steps, tol)
    largest = {name: grid[np.isfinite(r[name][1])].max() for name in ("momentum", "Nesterov")}
    best = {name: r[name][1][r[name][2]] for name in ("momentum", "Nesterov")}
    holds = best["momentum"] < best["Nesterov"] and largest["momentum"] > largest["Nesterov"]
    return holds, f"median steps at the best lr {best}, largest lr that settles {largest}"


def same_lr_ratio(x0, steps, tol):
    # at each lr where a momentum method settles, how many times longer gradient descent takes (inf: never)
    r = rosenbrock_race(x0, steps, tol)
    gd = r["SGD"][1]
    settles = {name: np.isfinite(r[name][1]) for name in ("momentum", "Nesterov")}
    ratios = {name: gd[ok] / r[name][1][ok] for name, ok in settles.items()}
    holds = all(len(q) and np.all(q >= 5) for q in ratios.values())
    return holds, f"gradient descent's steps over the momentum method's: {ratios}"


dl.robust_claim("each method's best learning rate lies strictly inside the grid, and settles within "
                "the first two thirds of the run", best_inside, shown_race)
dl.robust_claim("tuned, both momentum methods settle in less than a third of the steps of gradient descent, "
                "and the gap between the two is smaller than their lead over gradient descent", tuned_lead, shown_race)
dl.robust_claim("from these starts the tuned heavy ball settles first, and it still settles at a larger lr "
                "than Nesterov does", heavy_ball_ahead, shown_race, fixed=["x0"])
dl.robust_claim("at every learning rate at which a momentum method settles, gradient descent takes at least "
                "5 times as long, or does not settle at all", same_lr_ratio, shown_race)

# %% [markdown] id="169bb870"
# The honest summary of this race:
#
# - at every learning rate at which a momentum method settles, gradient descent takes at
#   least 5 times as long, or does not settle at all;
# - tuned separately, both momentum methods need less than a third of the steps of
#   gradient descent, and the gap between the two is smaller than their lead;
# - from these starts the heavy ball wins, helped by its larger stable range: it still
#   settles at learning rates where Nesterov no longer does;
# - Nesterov's advantage from the ravine (less overshoot at equal settings) does not make
#   it the winner everywhere: which method wins depends on the landscape and the tuning.
#
# Claims such as "optimizer A beats B" are only meaningful with the tuning stated.
#
# ## 6. When the gradient is noisy
#
# So far every gradient was exact. In training it is a minibatch estimate: the true
# gradient plus noise. Does a larger $\beta$ still help? Run the ravine ($\kappa = 25$)
# with the exact gradient and with Gaussian noise of standard deviation $\sigma = 1$ added
# to each coordinate, 32 seeds each, for three settings: lr = 0.01 without momentum, lr =
# 0.01 with $\beta = 0.9$, and lr = 0.001 with $\beta = 0.9$, which has the same
# *effective step* $\eta/(1-\beta) = 0.01$ as the first. Predict which ends lowest in each
# case.

# %% id="610e010c" tags=["skip-when-grading"]
def noise_settings(lr):
    # (lr, beta) of the three runs: no momentum, beta = 0.9, and beta = 0.9 at the same effective step
    return [(lr, 0.0), (lr, 0.9), (lr * (1 - 0.9), 0.9)]


def noisy_losses(sigma, steps, seed, lr=0.01, n_seeds=32):
    """Loss after every update, shape (steps + 1, settings, seeds): all runs at once, x of
    shape (2, settings * seeds), the exact gradient plus sigma * standard normal noise."""
    lr, beta = (np.repeat(column, n_seeds) for column in zip(*noise_settings(lr), strict=True))
    x = np.repeat(start[:, None], len(lr), axis=1)
    v = np.zeros_like(x)
    noise = np.random.default_rng(seed)
    losses = np.empty((steps + 1, len(lr)))
    losses[0] = ravine.f(x.T)
    settings = [slice(k * n_seeds, (k + 1) * n_seeds) for k in range(3)]   # the runs of each setting
    for t in range(1, steps + 1):
        g = ravine.grad(x) + sigma * noise.standard_normal(x.shape)
        for k in settings:   # one call per setting, with its float lr and beta
            x[:, k], v[:, k] = momentum_step(x[:, k], g[:, k], v[:, k], lr=float(lr[k][0]), beta=float(beta[k][0]))
        losses[t] = ravine.f(x.T)
    return losses.reshape(steps + 1, 3, n_seeds)


def floors(sigma, steps, seed, lr):
    # the stationary loss of each setting: the mean over the second half of the run and over the seeds
    return noisy_losses(sigma, steps, seed, lr)[steps // 2:].mean(axis=(0, 2))


labels = [f"lr={lr:g}, beta={beta:g}" for lr, beta in noise_settings(0.01)]


exact = noisy_losses(0.0, 3000, 0)
noisy = noisy_losses(1.0, 3000, 0)
fig, axes = plt.subplots(1, 2, figsize=(10, 3.4), sharey=True)
looks = [dict(color=dl.colors.style("SGD")["color"], ls="-"),
         dict(color=dl.colors.style("momentum")["color"], ls="--"), dict(color="0.35", ls=":")]
panels = (("exact gradient (every seed alike)", exact),
          ("noisy gradient, sigma = 1, 32 seeds (band: 10% to 90%)", noisy))
for ax, (title, losses) in zip(axes, panels, strict=True):
    for k, (label, look) in enumerate(zip(labels, looks, strict=True)):
        every = np.arange(0, len(losses), 10)       # every 10th step is enough to draw 3000
        ax.semilogy(every, np.median(losses[every, k], axis=1), lw=1.5, label=label + " (median)", **look)
        lo, hi = np.percentile(losses[every, k], [10, 90], axis=1)
        ax.fill_between(every, lo, hi, color=look["color"], alpha=0.2, lw=0)
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("step")
    ax.set_xlim(0, len(losses) - 1)
axes[0].set_ylabel("f(x) - f*")
axes[0].set_ylim(1e-8, 1e2)
axes[0].text(0.98, 0.03, "cut at 1e-8", transform=axes[0].transAxes, ha="right", fontsize=8)
axes[1].legend(fontsize=8, loc="upper right")
plt.show()
print("stationary loss (mean over steps 1500-3000 and 32 seeds):",
      dict(zip(labels, np.round(floors(1.0, 3000, 0, 0.01), 5).tolist(), strict=True)))
print("sigma^2 lr / (2 (1 - beta)):",
      dict(zip(labels, [round(lr / (2 * (1 - beta)), 5) for lr, beta in noise_settings(0.01)], strict=True)))

# %% id="3437a010" tags=["skip-when-grading"]
def stays_below(losses, level):
    # first step after which the loss (every seed) stays below level; inf if it never does
    above = np.nonzero(np.any(losses > level, axis=1))[0]
    return 0 if len(above) == 0 else (np.inf if above[-1] == len(losses) - 1 else above[-1] + 1)


def momentum_faster_when_exact(lr, steps):
    losses = noisy_losses(0.0, steps, 0, lr, n_seeds=1)
    t = [stays_below(losses[:, k], 1e-8) for k in range(3)]
    return t[1] * 3 <= t[0] and 0.75 < t[2] / t[0] < 1.25, f"steps until the loss stays below 1e-8: {t}"


def floor_grows_with_effective_step(sigma, steps, seed, lr):
    f0, f1, f2 = floors(sigma, steps, seed, lr)
    return 5 < f1 / f0 < 20 and 0.75 < f2 / f0 < 1.25, f"floors {f0:.2e}, {f1:.2e}, {f2:.2e}"


def floor_formula(sigma, steps, seed, lr):
    predicted = [sigma ** 2 * eta / (2 * (1 - beta)) for eta, beta in noise_settings(lr)]
    ratio = floors(sigma, steps, seed, lr) / predicted
    return bool(np.all(np.abs(ratio - 1) < 0.25)), f"measured / predicted = {np.round(ratio, 3)}"


print("exact gradient, steps until the loss stays below 1e-8:",
      dict(zip(labels, [stays_below(exact[:, k], 1e-8) for k in range(3)], strict=True)))
noise_setting = dict(sigma=1.0, steps=3000, seed=0, lr=0.01)
dl.robust_claim("with the exact gradient, beta = 0.9 at lr = 0.01 gets below 1e-8 at least 3 times sooner "
                "than beta = 0, and at the same effective step (lr = 0.001) within 25% as soon",
                momentum_faster_when_exact, dict(lr=0.01, steps=3000))
dl.robust_claim("with noise, beta = 0.9 at lr = 0.01 settles 5 to 20 times higher than beta = 0, and at the "
                "same effective step lr / (1 - beta) within 25% of it", floor_grows_with_effective_step,
                noise_setting)
dl.robust_claim("the stationary loss is sigma^2 lr / (2 (1 - beta)) within 25%", floor_formula, noise_setting)

# %% [markdown] id="dcf777b2"
# Noise turns the lesson around. With the exact gradient, $\beta = 0.9$ races to the
# minimum far sooner than plain gradient descent at the same learning rate. With noise,
# both stop falling at a **floor** where the pull towards the minimum balances the kicks
# of the noise, and momentum's floor is about ten times higher: the velocity sums the
# noise over its horizon of $1/(1-\beta)$ steps, just as it sums the gradient.
#
# For small steps the floor depends on the learning rate and $\beta$ only through the
# effective step $\eta/(1-\beta)$: on this two-dimensional quadratic it is close to
# $\sigma^2 \eta / (2(1-\beta))$. At the same effective step, lr = 0.001 with
# $\beta = 0.9$ reaches the same floor as lr = 0.01 without momentum, and no sooner.
# With noisy gradients, raising $\beta$ is much like raising the learning rate; what
# momentum still buys is stability, since the steep direction tolerates a larger
# effective step with momentum than without. This is why training recipes lower the
# learning rate (or raise the batch size) late in training, whatever $\beta$ they use.
#
# ## 7. Play with it
#
# Move the sliders: the paths, the eigen-view and the markers on the maps follow as you
# drag. Top left, the paths on the ravine; click anywhere on it to start from there. Top
# right, your momentum run in the eigenbasis: the error in the flat direction (solid) and
# in the steep one (dashed), with the slope each direction's rate predicts (dotted).
# Below, the two rate maps: click one to jump to that lr and beta. Above each map, the
# rate the map predicts and the one fitted on the second half of your run (a short run,
# or one that reaches rounding level, measures it roughly; the check above used long runs).
# Try to
#
# - make gradient descent zig-zag, then diverge (raise lr past $2/L = 0.04$);
# - find a $\beta$ where momentum spirals: in the eigen-view both directions ring with the
#   same slope, $\sqrt\beta$;
# - follow the white dashed curve on the heavy ball's map and watch the flat direction
#   stop ringing;
# - press **Polyak's lr and beta**, then move either slider a little: every way out of the
#   star is slower on the map (you checked that it is the map's lowest point), and the
#   eigen-view shows which direction becomes the slow one;
# - move the start and watch which paths care.

# %% id="7d00879b" tags=["skip-when-grading"]
explore_momentum(dl.ravine(kappa=50),
                 [Path("SGD", sgd_step, ["lr"]), Path("momentum", momentum_step, ["lr", "beta"]),
                  Path("Nesterov", nesterov_step, ["lr", "beta"])],
                 sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)},
                 steps=100, x0=(-1.8, 1.5),
                 presets={"Polyak's lr and beta": lambda land: dict(zip(["lr", "beta"], land.best_momentum[:2],
                                                                        strict=True)),
                          "best Nesterov": lambda land: dict(zip(["lr", "beta"],
                                                                 momentum_rates.nesterov_best(land.mu, land.L)[:2],
                                                                 strict=True))},
                 title="ravine, kappa = 50")

# %% [markdown] id="ed321341"
# And on the double well, where $\beta$ decides which minimum you end in:

# %% id="3257323f" tags=["skip-when-grading"]
explore(dl.double_well(tilt=0.25),
        [Path("SGD", sgd_step, ["lr"]), Path("momentum", momentum_step, ["lr", "beta"]),
         Path("Nesterov", nesterov_step, ["lr", "beta"])],
        sliders={"lr": ("log", 1e-3, 0.5, 0.1), "beta": (0.0, 0.99, 0.9)},
        steps=300, x0=1.8, title="tilted double well")

# %% [markdown] id="65915633"
# ## Summary
#
# - Gradient descent on a quadratic converges only for $\eta < 2/L$, and then its slow
#   directions shrink by $1 - \eta\mu$ per step: the condition number $\kappa$ sets the
#   pace, $(\kappa-1)/(\kappa+1)$ at best.
# - Momentum (PyTorch: $v \leftarrow \beta v + g$, $x \leftarrow x - \eta v$) sums past
#   gradients over a horizon of about $1/(1-\beta)$ steps. Tuned, it contracts at
#   $(\sqrt\kappa-1)/(\sqrt\kappa+1)$: you measured it.
# - The EMA form and the CS231n form are the same method; only the learning rate
#   ($\eta = \alpha(1-\beta)$ for EMA) or the meaning of the buffer changes.
# - Nesterov steps along $g + \beta v_{t+1}$: less overshoot at equal settings, a
#   smaller stable range of learning rates.
# - On a quadratic each eigen-direction is a damped oscillator with rate $\rho$, the
#   larger root of $z^2 - (1 + \beta - \eta\lambda) z + \beta$. Ringing directions decay at
#   $\sqrt\beta$ whatever the learning rate; critical damping turns $1 - \eta\mu$ into
#   $1 - \sqrt{\eta\mu}$; Polyak's tuning damps both extremes critically at once, and there
#   the tuned heavy ball beats tuned Nesterov. Your functions matched the map to 1e-3.
# - Momentum carries the iterate further; that can lift it out of a shallow minimum or
#   out of a good one, and where it ends is a map over $(\beta, \text{lr})$, not a
#   threshold. Which method wins a race depends on the landscape and the tuning.
# - With noisy gradients momentum also sums the noise: the floor grows with the
#   effective step $\eta/(1-\beta)$.
#
# ## Further reading
#
# - Gabriel Goh, [Why Momentum Really Works](https://distill.pub/2017/momentum/), Distill, 2017.
# - B. T. Polyak, Some methods of speeding up the convergence of iteration methods, 1964.
# - L. Lessard, B. Recht, A. Packard, Analysis and design of optimization algorithms via
#   integral quadratic constraints, SIAM J. Optimization, 2016 (the best Nesterov on a
#   quadratic, and a function on which the tuned heavy ball fails).
# - Y. Nesterov, A method for solving the convex programming problem with convergence rate O(1/k^2), 1983.
# - I. Sutskever, J. Martens, G. Dahl, G. Hinton, On the importance of initialization and momentum in deep learning, ICML 2013.
# - R. Kidambi, P. Netrapalli, P. Jain, S. Kakade, On the insufficiency of existing momentum schemes
#   for stochastic optimization, ICLR 2018 (with noise, momentum is much like a larger step).
# - [torch.optim.SGD](https://pytorch.org/docs/stable/generated/torch.optim.SGD.html): the convention used here.
# - Dive into Deep Learning, chapter 12, *Optimization Algorithms*, section *Momentum*.
