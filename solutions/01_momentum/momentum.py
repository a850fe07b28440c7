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
# - read a trajectory plot and predict what changing the learning rate or beta will do.
#
# **Prerequisites**: gradients, a little linear algebra (eigenvalues of a symmetric
# matrix), numpy. **Time**: about 90 minutes.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. Experiments and
# interactive plots use *your* functions, so they only work once your code does.

# %% id="b26043d4"
import matplotlib.pyplot as plt
import numpy as np
import torch

import descentlab as dl
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
    Returns x_new = x - lr * g, a new array; x and g are left unchanged.
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
# floor. With a step close to the limit (lr = 0.07) it flies across the valley every
# step: the steep coordinate $x_1$ **changes sign at every step**, the zig-zag, while
# the floor direction still gains little.
#
# Why a limit? Along an eigenvector with eigenvalue $\lambda$, one step multiplies the
# coordinate by $(1 - \eta\lambda)$. The path converges only if $|1 - \eta\lambda| < 1$
# for every eigenvalue, that is
#
# $$\eta < \frac{2}{L}.$$
#
# The steep direction sets the largest step; the flat one then shrinks by only
# $(1 - \eta\mu)$ per step. With $\eta$ just below $2/L$ that is about $1 - 2/\kappa$:
# the larger $\kappa$, the slower.

# %% id="a87006f0"
zigzag = paths["SGD lr=0.070"].xs[:10, 1]
dl.claim("with lr = 0.07 the steep coordinate changes sign at every step",
         np.all(np.sign(zigzag[1:]) == -np.sign(zigzag[:-1])), f"x1 = {np.round(zigzag, 3)}")

# Just below and just above 2 / L
below = dl.run(sgd_step, ravine, start, 300, lr=0.99 * 2 / L)
above = dl.run(sgd_step, ravine, start, 300, lr=1.01 * 2 / L)
print(f"2 / L = {2 / L:.3f}: final loss at 0.99 * 2/L: {below.losses[-1]:.2e}, at 1.01 * 2/L: {above.losses[-1]:.2e}")
dl.claim("just below 2 / L gradient descent converges, just above it diverges",
         below.losses[-1] < below.losses[0] and above.losses[-1] > 1e3 * above.losses[0])

# The flat direction shrinks by exactly (1 - lr * mu) per step
flat = paths["SGD lr=0.010"].xs[:, 0]
dl.claim("the flat coordinate shrinks by (1 - lr * mu) per step",
         np.allclose(flat[1:] / flat[:-1], 1 - 0.01 * ravine.mu))

# %% [markdown] id="58b04d69"
# **Question 1.** For $f(x) = x_0^2 + 25 x_1^2$, what is the largest learning rate for
# which gradient descent converges from every start? Write it as a number.

# %% id="098543fd" nbgrader={"grade": false, "grade_id": "q_stable_lr_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
stable_lr = 2 / 50
### END SOLUTION

# %% id="52b1f9bd" nbgrader={"grade": false, "grade_id": "q_stable_lr_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(stable_lr, "stable_lr")

# %% id="fc35c1d2" nbgrader={"grade": true, "grade_id": "q_stable_lr", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("stable_lr", stable_lr)
### END HIDDEN TESTS

# %% [markdown] id="c73337fd"
# ### A saddle
#
# Ravines are not the only trap. Near a **saddle point** the gradient is tiny, so steps
# are tiny. The landscape $f(x) = \tfrac12 x_0^2 + \tfrac14 x_1^4 - \tfrac12 x_1^2$ has a
# saddle at the origin and minima at $(0, \pm 1)$. Start almost on the ridge, at
# $(1, 10^{-4})$:

# %% id="82a9eef8"
saddle = dl.saddle()
near_ridge = np.array([1.0, 1e-4])
gd_saddle = dl.run(sgd_step, saddle, near_ridge, 200, lr=0.1)
show_paths(saddle, {"SGD": gd_saddle}, title="Gradient descent near a saddle")
leave_gd = int(np.argmax(np.abs(gd_saddle.xs[:, 1]) > 0.5))
print(f"gradient descent needs {leave_gd} steps to get |x1| > 0.5")
dl.claim("gradient descent spends dozens of steps near the saddle", leave_gd > 50, f"{leave_gd} steps")


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
# $\beta = 0.99$). Under a constant gradient the velocity settles at $g/(1-\beta)$:
# momentum multiplies the effective step by up to $1/(1-\beta)$.

# %% id="64a9ddda" nbgrader={"grade": false, "grade_id": "momentum_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def momentum_step(x, g, v, lr, beta):
    """One step of heavy-ball momentum, PyTorch's convention (torch.optim.SGD with
    momentum=beta, dampening=0).

    x, g, v: arrays of the same shape (point, gradient at x, velocity buffer).
    Returns (x_new, v_new) with v_new = beta * v + g and x_new = x - lr * v_new.
    The inputs are left unchanged.
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

# %% id="6b6ff763"
# The velocity under a constant gradient approaches g / (1 - beta)
v = np.zeros(1)
for _ in range(200):
    _, v = momentum_step(np.zeros(1), np.ones(1), v, lr=0.1, beta=0.9)
print(f"velocity after 200 steps of g = 1 with beta = 0.9: {v[0]:.6f}")
dl.claim("under a constant gradient the velocity settles at g / (1 - beta)", abs(v[0] - 10) < 1e-6)

fig, ax = plt.subplots(figsize=(6, 2.5))
for beta in (0.5, 0.9, 0.97):
    ax.plot(beta ** np.arange(60), label=f"beta = {beta}: horizon ~ {1 / (1 - beta):.0f} steps")
ax.set_xlabel("age of the gradient (steps)")
ax.set_ylabel("weight beta^k")
ax.legend()
plt.show()

# %% [markdown] id="665c1a1f"
# **Question 2.** With $\beta = 0.99$ and the same gradient $g = 1$ at every step,
# what value does the velocity $v$ approach?

# %% id="e465a67b" nbgrader={"grade": false, "grade_id": "q_velocity_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
velocity_limit = 1 / (1 - 0.99)
### END SOLUTION

# %% id="6269bd77" nbgrader={"grade": false, "grade_id": "q_velocity_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(velocity_limit, "velocity_limit")

# %% id="ab1d31cf" nbgrader={"grade": true, "grade_id": "q_velocity", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("velocity_limit", velocity_limit)
### END HIDDEN TESTS

# %% [markdown] id="c4ac3ff7"
# ### Other ways to write momentum
#
# You will meet two other forms. They are the same method with the learning rate or the
# buffer rescaled:
#
# | form | update | as PyTorch's form |
# |---|---|---|
# | PyTorch (this course) | $v \leftarrow \beta v + g$, $x \leftarrow x - \eta v$ | itself |
# | EMA (Coursera, many blogs) | $v' \leftarrow \beta v' + (1-\beta) g$, $x \leftarrow x - \alpha v'$ | $v' = (1-\beta) v$, so $\eta = \alpha (1-\beta)$ |
# | CS231n | $u \leftarrow \mu u - \alpha g$, $x \leftarrow x + u$ | $u = -\alpha v$, so $\eta = \alpha$, $\beta = \mu$ |
#
# The EMA form keeps $v'$ an *average* of gradients, so the same $\alpha$ moves
# $1/(1-\beta)$ times less than PyTorch's $\eta$: a learning rate tuned in one form
# is not the right one in the other. Write the conversion:

# %% id="261eaa9a" nbgrader={"grade": false, "grade_id": "ema_to_torch_lr", "locked": false, "schema_version": 3, "solution": true, "task": false}
def ema_to_torch_lr(lr_ema, beta):
    """The PyTorch learning rate that gives the same trajectory as the EMA form
    (v' = beta v' + (1 - beta) g; x -= lr_ema v') with the same beta."""
    ### BEGIN SOLUTION
    return lr_ema * (1 - beta)
    ### END SOLUTION


# %% id="cd588bce"
def momentum_step_ema(x, g, v, lr, beta):
    # the EMA form, given: the velocity is a weighted average of gradients
    v_new = beta * v + (1 - beta) * g
    return x - lr * v_new, v_new

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
dl.claim("the CS231n form with the same lr traces the same path", np.abs(cs231n_path - same_lr.xs).max() < 1e-12)


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

# %% id="84e5a8a5"
def measured_rate(traj, first=100):
    # geometric mean of the per-step contraction of the distance to the minimum, after a burn-in
    d = traj.distance_to(np.zeros(2))
    return (d[-1] / d[first]) ** (1 / (len(d) - 1 - first))

rows = []
for kappa in (10, 100, 1000):
    q = dl.quadratic(kappa)
    lr_gd, rate_gd = q.best_gd
    lr_m, beta_m, rate_m = q.best_momentum
    gd = dl.run(sgd_step, q, [1.0, 1.0], 400, lr=lr_gd)
    hb = dl.run(momentum_step, q, [1.0, 1.0], 400, lr=lr_m, beta=beta_m)
    rows.append((kappa, rate_gd, measured_rate(gd), rate_m, measured_rate(hb)))
print("kappa   GD theory  GD measured   momentum theory  momentum measured")
for r in rows:
    print(f"{r[0]:5d}   {r[1]:.4f}     {r[2]:.4f}        {r[3]:.4f}           {r[4]:.4f}")

# %% id="86a8d5af"
for kappa, gd_t, gd_m, hb_t, hb_m in rows:
    dl.claim(f"gradient descent contracts at (kappa-1)/(kappa+1) (kappa = {kappa})", abs(gd_m - gd_t) < 1e-6 * gd_t)
    # the tuned heavy ball has a repeated eigenvalue, so its error decays like t * rho^t:
    # measured over a finite window the rate sits a little above rho
    dl.claim(f"momentum contracts at (sqrt(kappa)-1)/(sqrt(kappa)+1) within 1% (kappa = {kappa})",
             hb_t <= hb_m < hb_t * 1.01, f"measured {hb_m:.4f}, theory {hb_t:.4f}")
    dl.claim("momentum is faster than the best gradient descent", hb_m < gd_m)

kappas = np.geomspace(2, 3000, 60)
fig, ax = plt.subplots(figsize=(6, 3))
ax.semilogx(kappas, (kappas - 1) / (kappas + 1), label="GD theory", **dl.colors.style("SGD"))
ax.semilogx(kappas, (np.sqrt(kappas) - 1) / (np.sqrt(kappas) + 1), label="momentum theory",
            **dl.colors.style("momentum"))
ax.plot([r[0] for r in rows], [r[2] for r in rows], "o", color=dl.colors.style("SGD")["color"], label="GD measured")
ax.plot([r[0] for r in rows], [r[4] for r in rows], "s", color=dl.colors.style("momentum")["color"],
        label="momentum measured")
ax.set_xlabel("condition number kappa")
ax.set_ylabel("contraction per step")
ax.legend(fontsize=8)
plt.show()

# %% [markdown] id="92a1b8f3"
# **Question 3.** What contraction factor per step does the best-tuned heavy ball reach
# on a quadratic with $\kappa = 100$? (Three significant digits are enough.)

# %% id="79d4445d" nbgrader={"grade": false, "grade_id": "q_rate_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
momentum_rate = (10 - 1) / (10 + 1)
### END SOLUTION

# %% id="7f40810f" nbgrader={"grade": false, "grade_id": "q_rate_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(momentum_rate, "momentum_rate")

# %% id="972ffd40" nbgrader={"grade": true, "grade_id": "q_rate", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("momentum_rate", momentum_rate)
### END HIDDEN TESTS

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

    Returns (x_new, v_new) with v_new = beta * v + g and
    x_new = x - lr * (g + beta * v_new). The inputs are left unchanged.
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
# Same learning rate, same $\beta$, same start on the $\kappa = 50$ ravine:

# %% id="f1c1dc36"
ravine50 = dl.ravine(kappa=50)
settings = dict(lr=0.02, beta=0.9)
race = {"momentum": dl.run(momentum_step, ravine50, start, 150, **settings),
        "Nesterov": dl.run(nesterov_step, ravine50, start, 150, **settings)}
show_paths(ravine50, race, title="lr = 0.02, beta = 0.9 on a ravine (kappa = 50)")
overshoot = {k: t.xs[:, 0].max() for k, t in race.items()}
settle = {k: t.steps_to_reach([0, 0], 1e-3) for k, t in race.items()}
print("largest overshoot past the minimum along x0:", {k: round(v, 3) for k, v in overshoot.items()})
print("steps until the path stays within 1e-3 of the minimum:", settle)
dl.claim("at these settings Nesterov overshoots less and settles sooner",
         overshoot["Nesterov"] < overshoot["momentum"] and settle["Nesterov"] < settle["momentum"])

# %% [markdown] id="de56f553"
# Nesterov's correction damps the swing across the valley: it overshoots less and settles
# sooner. It is not free. The extra gradient term makes the steep direction more
# sensitive to the step size: on a quadratic the heavy ball stays stable up to
# $\eta < 2(1+\beta)/L$, Nesterov only up to $\eta < 2(1+\beta)/((1+2\beta)L)$. With
# $\beta = 0.9$ and $L = 50$ that is 0.076 against 0.027:

# %% id="dbb0f652"
limits = {"momentum": 2 * 1.9 / 50, "Nesterov": 2 * 1.9 / (2.8 * 50)}
for name, fn in (("momentum", momentum_step), ("Nesterov", nesterov_step)):
    lo = dl.run(fn, ravine50, start, 400, lr=0.97 * limits[name], beta=0.9)
    hi = dl.run(fn, ravine50, start, 400, lr=1.03 * limits[name], beta=0.9)
    print(f"{name}: limit {limits[name]:.4f}; at 0.97x final loss {lo.losses[-1]:.1e}, at 1.03x {hi.losses[-1]:.1e}")
    dl.claim(f"{name} converges just below its limit and diverges just above it",
             lo.losses[-1] < lo.losses[0] and (hi.diverged or hi.losses[-1] > 1e3 * hi.losses[0]))
at_003 = {name: dl.run(fn, ravine50, start, 300, lr=0.03, beta=0.9)
          for name, fn in (("momentum", momentum_step), ("Nesterov", nesterov_step))}
dl.claim("at lr = 0.03 the heavy ball converges while Nesterov diverges",
         at_003["momentum"].losses[-1] < 1e-6 and at_003["Nesterov"].losses[-1] > 1e6)

# %% [markdown] id="c41cfc60"
# ## 4. Rolling out of a shallow well
#
# A heavy ball can roll over a small bump that would stop a light one. The tilted double
# well $f(x) = x^4/4 - x^2/2 + x/4$ has its global minimum at $x \approx -1.107$ and a
# shallower local one at $x \approx 0.838$, with a bump at $x \approx 0.270$ between
# them. Start on the right, at $x = 1.8$:

# %% id="c5d2ceba"
well = dl.double_well(tilt=0.25)
print(well, "| local minimum at", np.round(well.local_min, 3), "| bump at", np.round(well.barrier, 3))
dl.claim("the local minimum is shallower than the global one",
         well.value(well.local_min) > well.value(well.global_min) + 0.4)
trio = {"SGD": dl.run(sgd_step, well, [1.8], 300, lr=0.1),
        "momentum": dl.run(momentum_step, well, [1.8], 300, lr=0.1, beta=0.9)}
show_paths(well, trio, title="lr = 0.1 from x = 1.8")
dl.claim("from x = 1.8 gradient descent stops in the local minimum",
         abs(trio["SGD"].final[0] - well.local_min[0]) < 1e-6)
dl.claim("momentum (beta = 0.9) rolls on into the global minimum",
         abs(trio["momentum"].final[0] - well.global_min[0]) < 1e-3)

# %% [markdown] id="7302e37a"
# Which values of $\beta$ carry the ball over? Measure it: for a grid of $\beta$, run 500
# steps with lr = 0.1 from $x = 1.8$ and record where the ball ends.

# %% id="2acbedfa"
betas = np.round(np.arange(0.0, 0.99, 0.02), 2)
ends = np.array([dl.run(momentum_step, well, [1.8], 500, lr=0.1, beta=b).final[0] for b in betas])
escaped = betas[ends < well.barrier[0]]
print("beta values that reach the global minimum:", escaped)
fig, ax = plt.subplots(figsize=(6, 2.8))
ax.plot(betas, ends, marker="o", ms=3, **dl.colors.style("momentum"))
ax.axhline(well.global_min[0], color="0.4", lw=0.8, ls=":")
ax.axhline(well.local_min[0], color="0.4", lw=0.8, ls=":")
ax.set_xlabel("beta")
ax.set_ylabel("x after 500 steps")
plt.show()
dl.claim("with lr = 0.1 the ball escapes for every beta from 0.66 on, and for none below",
         escaped.min() == 0.66 and np.all(ends[betas >= 0.66] < well.barrier[0]), f"escaped for {escaped}")

# %% [markdown] id="b88e4f41"
# With lr = 0.1 every $\beta \ge 0.66$ carries the ball over the bump, and nothing
# smaller does. That does **not** mean momentum finds global minima. It carries the ball
# further, in whatever direction it is going. Start in the global well instead, at
# $x = -1.8$, and the same push can throw it out:

# %% id="e136e3a8"
from_left = {f"momentum beta={b}": dl.run(momentum_step, well, [-1.8], 500, lr=0.1, beta=b) for b in (0.5, 0.9)}
show_paths(well, from_left, title="lr = 0.1 from x = -1.8")
dl.claim("from x = -1.8, beta = 0.5 stays in the global minimum",
         abs(from_left["momentum beta=0.5"].final[0] - well.global_min[0]) < 1e-3)
dl.claim("from x = -1.8, beta = 0.9 is thrown into the shallower local minimum",
         abs(from_left["momentum beta=0.9"].final[0] - well.local_min[0]) < 1e-3)

# %% [markdown] id="2c14404e"
# ## 5. A race on Rosenbrock's valley
#
# Rosenbrock's function $(1 - x_0)^2 + 100 (x_1 - x_0^2)^2$ has a curved, nearly flat
# valley floor with steep walls, and its minimum at $(1, 1)$. Each method gets 3000 steps
# from $(-1.5, 2)$, with $\beta = 0.9$ for both momentum methods. A fair race tunes each
# method: try each learning rate of a grid and count the steps until the path stays
# within 0.01 of $(1, 1)$.

# %% id="b02695eb"
rosen = dl.rosenbrock()
x_start = np.array([-1.5, 2.0])
grid = [2e-4, 5e-4, 1e-3, 1.5e-3, 2e-3, 3e-3]
methods = {"SGD": (sgd_step, {}),
           "momentum": (momentum_step, {"beta": 0.9}),
           "Nesterov": (nesterov_step, {"beta": 0.9})}
table = {}
for name, (fn, extra) in methods.items():
    for lr in grid:
        t = dl.run(fn, rosen, x_start, 3000, lr=lr, **extra)
        table[name, lr] = "diverged" if t.diverged else t.steps_to_reach([1, 1], 1e-2)
print("steps to stay within 0.01 of (1, 1); None = not within 3000 steps")
print("lr        " + "".join(f"{name:>12s}" for name in methods))
for lr in grid:
    print(f"{lr:<10g}" + "".join(f"{str(table[name, lr]):>12s}" for name in methods))

def best(name):
    done = {lr: table[name, lr] for lr in grid if isinstance(table[name, lr], int)}
    return min(done.items(), key=lambda kv: kv[1]) if done else (None, None)
best_lr = {name: best(name) for name in methods}
print("best learning rate and steps:", best_lr)

# %% id="15fc17d4"
show_paths(rosen, {name: dl.run(fn, rosen, x_start, 3000, lr=best_lr[name][0], **extra)
                   for name, (fn, extra) in methods.items()}, title="each method at its best learning rate of the grid")

# %% id="3438002d"
dl.claim("at lr = 0.001 both momentum methods reach (1, 1) and gradient descent does not",
         isinstance(table["momentum", 1e-3], int) and isinstance(table["Nesterov", 1e-3], int)
         and table["SGD", 1e-3] is None)
dl.claim("each tuned at its best lr, momentum arrives first, then Nesterov, then gradient descent",
         best_lr["momentum"][1] < best_lr["Nesterov"][1] < best_lr["SGD"][1])
dl.claim("Nesterov diverges from lr = 0.0015 on, the heavy ball only at 0.003",
         table["Nesterov", 1.5e-3] == "diverged" and isinstance(table["momentum", 2e-3], int)
         and table["momentum", 3e-3] == "diverged")

# %% [markdown] id="169bb870"
# The honest summary of this race:
#
# - at the same small learning rate, both momentum methods finish while gradient descent
#   is still crawling along the valley;
# - tuned separately, the heavy ball wins here: its larger stable range lets it use a
#   bigger step than Nesterov;
# - Nesterov's advantage from the ravine (less overshoot at equal settings) does not make
#   it the winner everywhere: which method wins depends on the landscape and the tuning.
#
# Claims such as "optimizer A beats B" are only meaningful with the tuning stated.
#
# ## 6. Play with it
#
# Move the sliders: the paths and the loss curves update as you drag. Try to
#
# - make gradient descent zig-zag, then diverge (raise lr past $2/L = 0.04$);
# - find a $\beta$ where momentum spirals, and one where it barely helps;
# - press **optimal lr and beta** to set Polyak's tuning for this ravine;
# - move the start and watch which paths care.
#
# The numbers in the legend are the final $f(x) - f^*$.

# %% id="7d00879b"
explore(dl.ravine(kappa=50),
        [Path("SGD", sgd_step, ["lr"]), Path("momentum", momentum_step, ["lr", "beta"]),
         Path("Nesterov", nesterov_step, ["lr", "beta"])],
        sliders={"lr": ("log", 1e-3, 0.1, 0.02), "beta": (0.0, 0.99, 0.9)},
        steps=100, x0=(-1.8, 1.5),
        presets={"optimal lr and beta": lambda land: dict(lr=land.best_momentum[0], beta=land.best_momentum[1])},
        title="ravine, kappa = 50")

# %% [markdown] id="ed321341"
# And on the double well, where $\beta$ decides which minimum you end in:

# %% id="3257323f"
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
# - Momentum carries the iterate further; that can lift it out of a shallow minimum or
#   out of a good one. Which method wins depends on the landscape and the tuning.
#
# ## Further reading
#
# - Gabriel Goh, [Why Momentum Really Works](https://distill.pub/2017/momentum/), Distill, 2017.
# - B. T. Polyak, Some methods of speeding up the convergence of iteration methods, 1964.
# - Y. Nesterov, A method for solving the convex programming problem with convergence rate O(1/k^2), 1983.
# - I. Sutskever, J. Martens, G. Dahl, G. Hinton, On the importance of initialization and momentum in deep learning, ICML 2013.
# - [torch.optim.SGD](https://pytorch.org/docs/stable/generated/torch.optim.SGD.html): the convention used here.
# - Dive into Deep Learning, chapter 12, *Optimization Algorithms*, section *Momentum*.
