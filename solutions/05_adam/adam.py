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
#   title: 05 Adam
# ---

# %% [markdown] id="ac229e65"
# # 05 · Adam from scratch: moments, bias correction, AdamW and a real torch optimizer
#
# Adam is the optimizer most deep-learning code reaches for first. It is two ideas you
# have met already, glued together: **momentum** (a running average of gradients) and
# **RMSprop** (a running average of squared gradients that sets a separate step size for
# every coordinate), plus a small correction that makes the first steps behave. AdamW
# changes one line, where weight decay enters, and that line changes which weights decay.
#
# **You will be able to**
# - write Adam and AdamW as numpy step functions in PyTorch's convention, and map the other
#   common forms (the folded step size of TensorFlow/Keras, eps inside the root) onto it;
# - derive the bias correction and say what the first steps look like without it;
# - say when Adam's per-coordinate step sizes help and when a well-tuned gradient descent
#   wins, with measured numbers rather than slogans;
# - explain why AdamW and "Adam with L2" decay different weights;
# - write `ScratchAdam`, a real `torch.optim.Optimizer` with param groups and a state that
#   survives `state_dict()`, and train a network with it side by side with `torch.optim`.
#
# **Prerequisites**: notebooks 01 (momentum) and 02 (RMSprop), or the same ideas from
# elsewhere; PyTorch basics (tensors, autograd, `nn.Module`). **Time**: about 2 hours.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. Experiments and
# interactive plots use *your* functions, so they only work once your code does.

# %% id="3d53354f"
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
import torch

import descentlab as dl
from descentlab.adam_problems import rotation, scaled, steps_to_loss, two_moons
from descentlab.plots import Path, explore, show_paths

# %matplotlib inline
# %config InlineBackend.print_figure_kwargs = {"bbox_inches": None}   # the figures lay themselves out: draw each once
torch.set_num_threads(1)   # the networks here are tiny: one thread is the fastest
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator


# %% [markdown] id="f8ed1e19"
# ## 1. Two ideas in one optimizer
#
# Here are the two ingredients, written in PyTorch's convention as in notebooks 01 and 02.
# They are given (not graded) so that this notebook can compare them with Adam:
#
# - **momentum** keeps a velocity $v \leftarrow \beta v + g$ and steps along it: along a
#   valley floor, where the gradient keeps its sign, the steps grow;
# - **RMSprop** keeps $s \leftarrow \alpha s + (1-\alpha) g^2$, a running mean of squared
#   gradients, and divides each coordinate's step by $\sqrt{s}$: a coordinate with large
#   gradients gets small steps and one with small gradients gets large steps.

# %% id="a615dcfd"
def sgd_step(x, g, lr):
    return x - lr * g

def momentum_step(x, g, v, lr, beta):
    # torch.optim.SGD(momentum=beta): the velocity is a discounted sum of gradients
    v_new = beta * v + g
    return x - lr * v_new, v_new

def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    # torch.optim.RMSprop: each coordinate divided by the root of its mean squared gradient
    s_new = alpha * s + (1 - alpha) * g * g
    return x - lr * g / (np.sqrt(s_new) + eps), s_new


# %% [markdown] id="85da7fd5"
# On a ravine whose floor runs along $x_0$ and whose walls are 50 times steeper along
# $x_1$, each one fixes a different half of the problem. Gradient descent and momentum get
# lr = 0.035, close to gradient descent's limit $2/L = 0.04$; RMSprop gets lr = 0.02.

# %% id="1baadd0b"
ravine = dl.ravine(kappa=50)
start = np.array([-1.8, 1.5])
parts = {"SGD": dl.run(sgd_step, ravine, start, 100, lr=0.035),
         "momentum": dl.run(momentum_step, ravine, start, 100, lr=0.035, beta=0.9),
         "RMSprop": dl.run(rmsprop_step, ravine, start, 100, lr=0.02)}
show_paths(ravine, parts, title="the two ingredients on a ravine (kappa = 50)")


# %% id="0b7a201f"
def crossings(traj, n=100):
    # how often the steep coordinate x1 changes sign in the first n updates
    x1 = traj.xs[:n + 1, 1]
    return int(np.sum(np.sign(x1[1:]) != np.sign(x1[:-1])))

for name, traj in parts.items():
    print(f"{name:9s} x0 after 30 updates {traj.xs[30, 0]:6.3f}   "
          f"x1 changes sign {crossings(traj, 40):2d} times in the first 40 updates, {crossings(traj):3d} in 100")
dl.claim("gradient descent crosses the valley floor at every update", crossings(parts["SGD"]) == 100)
dl.claim("after 30 updates momentum is less than half as far from the minimum along the floor as gradient descent, "
         "but it still swings across",
         abs(parts["momentum"].xs[30, 0]) < abs(parts["SGD"].xs[30, 0]) / 2 and crossings(parts["momentum"], 40) > 10)
dl.claim("RMSprop never crosses the floor in 100 updates", crossings(parts["RMSprop"]) == 0)
step1 = np.abs(parts["RMSprop"].xs[1] - parts["RMSprop"].xs[0])
print("RMSprop's first step, per coordinate:", np.round(step1, 4), " gradient there:", ravine.grad(start))
dl.claim("RMSprop's first step moves both coordinates by the same amount, lr / sqrt(1 - alpha) = 10 lr",
         np.allclose(step1, 0.02 / np.sqrt(0.01), rtol=1e-6), f"steps {step1}")


# %% [markdown] id="7de870d6"
# Gradient descent crosses the valley floor at every update and crawls along it. After 30
# updates momentum is less than half as far from the minimum along the floor, but it
# still swings from wall to wall. RMSprop never crosses the floor: it divides each
# coordinate by its own gradient scale and moves both with equal strides. On its first
# update both coordinates move by exactly $\eta/\sqrt{1-\alpha} = 10\,\eta$, although the
# gradient along $x_1$ is about 40 times larger than along $x_0$. Remember that factor 10: it is
# the bias that Adam corrects.
#
# ### Adam
#
# Adam keeps both running averages, in the *EMA form* (each a weighted **mean**, the
# weights summing to at most 1), and divides one by the root of the other. With
# $g_t$ the gradient at update $t = 1, 2, \dots$ and $m_0 = v_0 = 0$:
#
# $$
# \begin{aligned}
# m_t &= \beta_1 m_{t-1} + (1-\beta_1)\, g_t &&\text{first moment: the mean gradient}\\
# v_t &= \beta_2 v_{t-1} + (1-\beta_2)\, g_t^2 &&\text{second moment: the mean squared gradient}\\
# \hat m_t &= \frac{m_t}{1-\beta_1^t}, \qquad \hat v_t = \frac{v_t}{1-\beta_2^t} &&\text{bias correction (section 2)}\\
# x_t &= x_{t-1} - \eta\, \frac{\hat m_t}{\sqrt{\hat v_t} + \varepsilon}
# \end{aligned}
# $$
#
# Everything is elementwise. The defaults of `torch.optim.Adam` are $\eta = 10^{-3}$,
# $\beta_1 = 0.9$, $\beta_2 = 0.999$, $\varepsilon = 10^{-8}$. This is the course's
# convention, PyTorch's, and the paper's Algorithm 1. Other forms you will meet:
#
# | form | update | relation to the one above |
# |---|---|---|
# | folded step size (the paper's "efficient version", TensorFlow/Keras) | $\eta_t = \eta\sqrt{1-\beta_2^t}/(1-\beta_1^t)$, $x \mathrel{-}= \eta_t\, m_t/(\sqrt{v_t} + \hat\varepsilon)$ | identical with $\varepsilon = \hat\varepsilon/\sqrt{1-\beta_2^t}$: only eps is scaled differently (Keras' default $\hat\varepsilon$ is $10^{-7}$) |
# | eps inside the root | $\hat m_t/\sqrt{\hat v_t + \varepsilon}$ | a different method: it differs wherever $\hat v_t$ is not much larger than $\varepsilon$ |
# | momentum as in `torch.optim.SGD` | buffer $b_t = \beta_1 b_{t-1} + g_t$ | $m_t = (1-\beta_1)\, b_t$: Adam's first moment is the EMA form of notebook 01 |
#
# The step function takes `t`, the 1-based index of the update, because the correction
# needs it. Like every step function of the course it returns new arrays and leaves its
# inputs alone.

# %% id="922457a8" nbgrader={"grade": false, "grade_id": "adam_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    """One Adam update, PyTorch's convention (torch.optim.Adam).

    x, g, m, v: arrays of the same shape (point, gradient at x, first and second moment).
    t: the 1-based index of this update (1 on the first call).
    Returns (x_new, m_new, v_new): the raw moments m_new, v_new (not bias corrected)
    and x_new = x - lr * m_hat / (sqrt(v_hat) + eps) with m_hat = m_new / (1 - beta1**t),
    v_hat = v_new / (1 - beta2**t). The inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    m_new = beta1 * m + (1 - beta1) * g
    v_new = beta2 * v + (1 - beta2) * g * g
    m_hat = m_new / (1 - beta1 ** t)
    v_hat = v_new / (1 - beta2 ** t)
    return x - lr * m_hat / (np.sqrt(v_hat) + eps), m_new, v_new
    ### END SOLUTION


# %% id="cbf28e15" nbgrader={"grade": false, "grade_id": "adam_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for adam_step
x, g, zero = np.array([1.0, -2.0, 3.0]), np.array([0.5, -1.0, 2.0]), np.zeros(3)
x1, m1, v1 = adam_step(x, g, zero, zero, 1, lr=0.1)
dl.assert_close(m1, [0.05, -0.1, 0.2], "m_new = beta1 m + (1 - beta1) g on the first step", inputs="g=[0.5, -1, 2]")
dl.assert_close(v1, [0.00025, 0.001, 0.004], "v_new = beta2 v + (1 - beta2) g^2 on the first step (raw, not corrected)")
dl.assert_close(x1, x - 0.1 * g / (np.abs(g) + 1e-8),
                "first step: the corrected moments are g and g^2, so x moves by lr g / (|g| + eps)",
                inputs="x=[1, -2, 3], lr=0.1")
x2, m2, v2 = adam_step(x1, np.array([0.1, 0.2, -0.3]), m1, v1, 2, lr=0.1)
dl.assert_close(m2, [0.055, -0.07, 0.15], "second step: m_new", inputs="t=2, g=[0.1, 0.2, -0.3]")
dl.assert_close(v2, [0.00025975, 0.001039, 0.004086], "second step: v_new")
dl.assert_close(x2, [0.81969591, -1.84889739, 2.8447802], "second step: x_new (t = 2 in the correction)")
dl.assert_close(adam_step(x, g, m1, v1, 5, lr=0.0)[0], x, "with lr = 0 the point must not move")
assert np.array_equal(zero, np.zeros(3)) and np.array_equal(x, [1.0, -2.0, 3.0]), \
    "adam_step changed one of its inputs in place: return new arrays"
print("adam_step: visible tests passed")

# %% id="a0fdd704" nbgrader={"grade": true, "grade_id": "adam_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# adam_step: basic behaviour: first steps from zero state, then from given moments (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adam_step", adam_step, "basic")
### END HIDDEN TESTS

# %% id="59e4e4ed" nbgrader={"grade": true, "grade_id": "adam_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adam_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adam_step", adam_step, "random")
### END HIDDEN TESTS

# %% id="b10e300a" nbgrader={"grade": true, "grade_id": "adam_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adam_step: edge cases: lr = 0, beta1 = 0, float32, scalars, zero and tiny gradients (eps),
# large lr and weight decay, defaults (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adam_step", adam_step, "edge")
### END HIDDEN TESTS

# %% id="189804e8" nbgrader={"grade": true, "grade_id": "adam_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adam_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adam_step", adam_step, "trajectory")
### END HIDDEN TESTS

# %% [markdown] id="28cc538d"
# ## 2. Bias correction: why divide by $1 - \beta^t$?
#
# Unroll the first moment from $m_0 = 0$:
#
# $$m_t = (1-\beta_1)\left(g_t + \beta_1 g_{t-1} + \dots + \beta_1^{t-1} g_1\right)
#       = (1-\beta_1) \sum_{k=1}^{t} \beta_1^{\,t-k} g_k .$$
#
# If every gradient were the same $g$, the geometric sum gives
# $m_t = (1-\beta_1)\,\frac{1-\beta_1^t}{1-\beta_1}\, g = (1-\beta_1^t)\, g$: the weights of
# the average add up to $1-\beta_1^t$, not 1, because the zero we started from still
# holds the rest. Dividing by $1-\beta_1^t$ makes the weights sum to one, so
# $\hat m_t = g$ exactly. The same holds for $v_t$ with $\beta_2$. Early on the missing
# weight is large: after 10 steps with $\beta_2 = 0.999$ the weights of $v_t$ sum to only
# $1 - 0.999^{10} \approx 0.01$.
#
# Which way does the bias push the step? $m_t$ is too small by $1-\beta_1^t$ and
# $\sqrt{v_t}$ by $\sqrt{1-\beta_2^t}$, so without any correction the step is off by the
# factor
#
# $$\frac{1-\beta_1^t}{\sqrt{1-\beta_2^t}}, \quad\text{which is } \frac{0.1}{\sqrt{0.001}} \approx 3.16 \text{ at } t = 1 \text{ with the defaults.}$$
#
# The second moment's bias wins: the uncorrected steps are **too large**, not too small.
# Measure it with your `adam_step`. The correction factors tend to 1 as $t$ grows, so a
# huge $t$ switches them off:

# %% id="4fed6492"
def adam_no_correction(x, g, m, v, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):
    # 1 - beta**t is 1 for an enormous t: Adam with the bias correction switched off
    return adam_step(x, g, m, v, 10**9, lr, beta1, beta2, eps)

flat = dl.quadratic(1.0)       # any landscape: we only feed it a constant gradient below
g_const = np.array([0.3, -2.0])
steps = {}
for name, fn in (("with correction", adam_step), ("without", adam_no_correction)):
    x, m, v, sizes = np.zeros(2), np.zeros(2), np.zeros(2), []
    for t in range(1, 2001):
        extra = {"t": t} if fn is adam_step else {}
        x_new, m, v = fn(x, g_const, m, v, lr=1.0, **extra)
        sizes.append(np.abs(x_new - x))
        x = x_new
    steps[name] = np.array(sizes)      # (2000, 2): |step| of each coordinate, in units of lr

t_axis = np.arange(1, 2001)
fig, ax = plt.subplots(figsize=(7, 3.2))
fig.subplots_adjust(left=0.09, right=0.98, bottom=0.15, top=0.97)
ax.semilogx(t_axis, steps["with correction"][:, 0], lw=2, label="Adam (your adam_step)", **dl.colors.style("Adam"))
ax.semilogx(t_axis, steps["without"][:, 0], lw=2, color="#D55E00", label="no correction at all")
ax.semilogx(t_axis, 1 - 0.9 ** t_axis, ls=":", color="0.4", label="only m uncorrected: 1 - beta1^t")
ax.semilogx(t_axis, 1 / np.sqrt(1 - 0.999 ** t_axis), ls="--", color="0.4",
            label="only v uncorrected: 1 / sqrt(1 - beta2^t)")
ax.set_ylim(0, 8)
ax.set_xlabel("update t")
ax.set_ylabel("|step| / lr under a constant gradient")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
plt.show()

# %% id="bce80259"
with_c, without = steps["with correction"], steps["without"]
peak = int(np.argmax(without[:, 0])) + 1
print(f"with the correction every step is lr within {np.abs(with_c - 1).max():.1e}")
print(f"without: first step {without[0, 0]:.3f} lr, largest {without[:, 0].max():.2f} lr at t = {peak}, "
      f"{without[99, 0]:.2f} lr at t = 100, {without[999, 0]:.2f} lr at t = 1000")
dl.claim("with the correction, a constant gradient gives steps of exactly lr in every coordinate",
         np.allclose(with_c, 1.0, rtol=1e-6))
dl.claim("without it the first step is 0.1 / sqrt(0.001) = 3.16 lr",
         np.allclose(without[0], 0.1 / np.sqrt(0.001), rtol=1e-5))
dl.claim("without it the steps peak at about 6.6 lr around t = 12", peak == 12 and 6.5 < without[:, 0].max() < 6.6)
dl.claim("without it the steps are still 25% too long after 1000 updates", 1.25 < without[999, 0] < 1.26)

# %% [markdown] id="87b0fd96"
# With the correction a constant gradient moves every coordinate by exactly $\eta$ from
# the very first update, whatever the size of that gradient: $\eta$ means the same thing
# at step 1 as at step 10,000. Without it, the first step is 3.16 $\eta$, the steps peak
# at about 6.6 $\eta$ around $t = 12$, and they are still 25% too long after a thousand
# updates. (RMSprop's factor 10 in section 1 is the same bias, with $\alpha = 0.99$ and
# no first moment.) Correcting only $m$ would make it worse (the grey dashed curve: 31.6
# $\eta$ at $t = 1$); correcting only $v$ would make the first steps ten times too short.
#
# A learning rate tuned for the long run can be far too large for those first updates.
# On Rosenbrock's valley with lr = 0.1:

# %% id="3038c2d2"
rosen = dl.rosenbrock()
r_start = np.array([-1.5, 2.0])
early = {"Adam": dl.run(adam_step, rosen, r_start, 150, lr=0.1),
         "uncorrected Adam": dl.run(adam_no_correction, rosen, r_start, 150, lr=0.1)}
show_paths(rosen, early, title="lr = 0.1 on Rosenbrock, the first 150 updates")
peak_loss = {k: t.losses.max() for k, t in early.items()}
print("highest loss along the path:", {k: round(float(v), 1) for k, v in peak_loss.items()},
      "| start:", early["Adam"].losses[0])
dl.claim("with the correction the loss never rises above its starting value",
         peak_loss["Adam"] <= early["Adam"].losses[0] + 1e-9)
dl.claim("without it the first steps throw the path up the far wall, to about 7 times the starting loss",
         6.5 < peak_loss["uncorrected Adam"] / early["Adam"].losses[0] < 7.5)
dl.claim("the uncorrected run nevertheless ends lower after 150 updates",
         early["uncorrected Adam"].losses[-1] < early["Adam"].losses[-1])

# %% [markdown] id="d6cf6a00"
# Without the correction the oversized first steps throw the path across the valley and
# up the far wall, to about seven times the starting loss, before it settles back. The
# correction is not about speed (here the uncorrected run even ends lower, because its
# steps stay longer for hundreds of updates); it is about making `lr` mean what it says
# from the first step on.
#
# **Question 1.** GANs are often trained with $\beta_1 = 0.5$ and $\beta_2 = 0.999$.
# Without bias correction, how many times `lr` is the first step under a constant
# gradient (eps negligible)? Store the number in `first_step_no_correction`.

# %% id="e95562d3" nbgrader={"grade": false, "grade_id": "q_first_step_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
first_step_no_correction = 0.5 / np.sqrt(0.001)
### END SOLUTION

# %% id="e6393a36" nbgrader={"grade": false, "grade_id": "q_first_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(first_step_no_correction, "first_step_no_correction")

# %% id="e7bb478b" nbgrader={"grade": true, "grade_id": "q_first_step", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("first_step_no_correction", first_step_no_correction)
### END HIDDEN TESTS

# %% [markdown] id="bca9b045"
# ## 3. Steps that ignore the gradient's size
#
# On the first update $\hat m_1 = g$ and $\hat v_1 = g^2$, so each coordinate moves by
# $\eta\, |g| / (|g| + \varepsilon)$: that is $\eta$, whatever $|g|$ is, unless $|g|$ is
# as small as $\varepsilon$. Adam behaves like **sign descent**, $x \leftarrow x - \eta\,\mathrm{sign}(g)$,
# smoothed over time by the two averages. Measure the first step for gradients from
# $10^{-12}$ to $10^{4}$:

# %% id="b8b81d8e"
g_sizes = np.logspace(-12, 4, 33)
first = np.array([abs(adam_step(np.zeros(1), np.array([s]), np.zeros(1), np.zeros(1), 1, lr=1.0)[0][0])
                  for s in g_sizes])
fig, ax = plt.subplots(figsize=(6.5, 3))
fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.97)
ax.semilogx(g_sizes, first, marker="o", ms=3, **dl.colors.style("Adam"), label="Adam, first step / lr")
ax.semilogx(g_sizes, np.minimum(g_sizes, 2), ":", color="0.4", label="SGD, first step / lr (clipped at 2)")
ax.axvline(1e-8, color="0.6", lw=0.8)
ax.text(1.3e-8, 1.05, "eps", color="0.4")
ax.set_ylim(0, 1.3)
ax.set_xlabel("|g|")
ax.set_ylabel("|step| / lr")
ax.legend(fontsize=8, loc="center right")
plt.show()
at_eps = first[np.argmin(np.abs(g_sizes - 1e-8))]
print(f"first step / lr: {first[g_sizes >= 1e-6].min():.4f} at least for |g| >= 1e-6; {at_eps:.3f} at |g| = eps")
dl.claim("for every gradient from 1e-6 to 1e4 the first step is lr within 1%", np.all(first[g_sizes >= 1e-6] > 0.99))
dl.claim("at |g| = eps the first step is half of lr", abs(at_eps - 0.5) < 1e-9)


# %% [markdown] id="aaf155b5"
# Across ten orders of magnitude the first step is $\eta$ to within 1%; only near
# $\varepsilon = 10^{-8}$ does it shrink (half of $\eta$ at $|g| = \varepsilon$): eps is
# what keeps a coordinate with no signal from taking full steps on noise.
#
# With $\beta_1 = \beta_2 = 0$ there is no averaging left at all, and Adam *is* sign
# descent (up to eps: the two paths below agree to $10^{-6}$). And since multiplying the
# loss by $c$ multiplies every $m$ by $c$ and every $\sqrt v$ by $c$, the path does not
# change (up to eps) when the loss is measured in other units, while gradient descent
# with the same lr either crawls or explodes:

# %% id="a591b309"
def sign_step(x, g, lr):
    return x - lr * np.sign(g)

bowl = dl.quadratic(kappa=10)
b_start = np.array([-1.8, 1.5])
pure = dl.run(adam_step, bowl, b_start, 60, lr=0.07, beta1=0.0, beta2=0.0)
signs = dl.run(sign_step, bowl, b_start, 60, lr=0.07)
print("Adam with beta1 = beta2 = 0 against sign descent, largest gap:", np.abs(pure.xs - signs.xs).max())
dl.claim("with beta1 = beta2 = 0 Adam is sign descent, up to the effect of eps",
         np.abs(pure.xs - signs.xs).max() < 1e-6)

rescaled = {}
for c in (1e-3, 1.0, 1e3):
    land_c = scaled(bowl, c)
    rescaled[c] = (dl.run(adam_step, land_c, b_start, 200, lr=0.05), dl.run(sgd_step, land_c, b_start, 200, lr=0.15))
adam_gap = max(np.abs(rescaled[c][0].xs - rescaled[1.0][0].xs).max() for c in (1e-3, 1e3))
print(f"Adam: largest distance between the paths on 0.001 f, f and 1000 f: {adam_gap:.1e}")
for c, (_, gd) in rescaled.items():
    print(f"SGD lr = 0.15 on {c:g} f: distance to the minimum after 200 steps {np.linalg.norm(gd.final):.3g}")
dl.claim("Adam follows the same path on 0.001 f, f and 1000 f, up to the effect of eps", adam_gap < 1e-5)
dl.claim("SGD with the same lr converges on f, barely moves on 0.001 f and diverges on 1000 f",
         np.linalg.norm(rescaled[1.0][1].final) < 1e-6 and np.linalg.norm(rescaled[1e-3][1].final) > 1.0
         and rescaled[1e3][1].diverged)

# %% [markdown] id="194613e7"
# Adam's paths on $0.001 f$, $f$ and $1000 f$ agree to within $10^{-5}$ (eps is the only
# term that notices the scale); gradient descent with lr = 0.15 converges on $f$, hardly
# leaves its start on $0.001 f$, and diverges on $1000 f$. That is the practical appeal of Adam: `lr` is a distance in
# parameter space, not a multiplier of a gradient whose scale you do not know, so one
# default works for many models.
#
# **Question 2.** With $\varepsilon = 10^{-8}$, what fraction of `lr` does Adam's first
# step move a coordinate whose gradient is $3 \times 10^{-8}$? Store it in `tiny_gradient_step`.

# %% id="1ec92108" nbgrader={"grade": false, "grade_id": "q_tiny_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
tiny_gradient_step = 3e-8 / (3e-8 + 1e-8)
### END SOLUTION

# %% id="39fc371a" nbgrader={"grade": false, "grade_id": "q_tiny_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(tiny_gradient_step, "tiny_gradient_step")

# %% id="0d72a916" nbgrader={"grade": true, "grade_id": "q_tiny", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("tiny_gradient_step", tiny_gradient_step)
### END HIDDEN TESTS

# %% [markdown] id="f5cbbd1a"
# ## 4. Per-coordinate step sizes, reported honestly
#
# You will read that "Adam takes larger steps in the flat direction and smaller steps in
# the steep one". Test it on the elliptical bowl $f = \tfrac12 x_0^2 + 5 x_1^2$ (flat along
# $x_0$, ten times steeper along $x_1$), starting at $(1.8, 0.18)$ where both gradients
# are equal, with lr = 0.018. Call $\eta / (\sqrt{\hat v_t} + \varepsilon)$ a coordinate's
# **effective learning rate**: it is what multiplies the averaged gradient $\hat m_t$.

# %% id="29211920"
e_start, e_lr = np.array([1.8, 0.18]), 0.018
x, m, v = e_start.copy(), np.zeros(2), np.zeros(2)
points, rates = [x], []
for t in range(1, 101):
    x, m, v = adam_step(x, bowl.grad(x), m, v, t, lr=e_lr)
    points.append(x)
    rates.append(e_lr / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8))
xs = np.array(points)      # (101, 2): the path
eff = np.array(rates)      # (100, 2): the effective learning rate of each coordinate
moved = np.abs(np.diff(xs, axis=0))
print("step   effective lr (flat x0, steep x1)   mean |step| so far (flat, steep), in units of lr")
for t in (1, 10, 50, 100):
    print(f"{t:4d}   {eff[t - 1, 0]:.5f}  {eff[t - 1, 1]:.5f}                "
          f"{moved[:t, 0].mean() / e_lr:.2f}  {moved[:t, 1].mean() / e_lr:.2f}")

fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3))
fig.subplots_adjust(left=0.075, right=0.99, bottom=0.16, top=0.9, wspace=0.18)
a1.plot(np.arange(1, 101), eff[:, 0], label="flat x0", color="#0072B2")
a1.plot(np.arange(1, 101), eff[:, 1], label="steep x1", color="#D55E00", ls="--")
a1.set_xlabel("update")
a1.set_ylabel("lr / (sqrt(v_hat) + eps)")
a1.set_title("effective learning rate", fontsize=10)
a1.legend(fontsize=8)
a2.plot(xs[:, 0], label="x0 (flat)", color="#0072B2")
a2.plot(xs[:, 1], label="x1 (steep)", color="#D55E00", ls="--")
a2.axhline(0, color="0.6", lw=0.8)
a2.set_xlabel("update")
a2.set_title("the coordinates", fontsize=10)
a2.legend(fontsize=8)
plt.show()

# %% id="5c51e85e"
dl.claim("at step 1 both coordinates have the same effective learning rate", np.isclose(eff[0, 0], eff[0, 1]))
dl.claim("by step 50 the STEEP coordinate has the larger effective learning rate, 2.5 times the flat one's",
         2.4 < eff[49, 1] / eff[49, 0] < 2.6, f"ratio {eff[49, 1] / eff[49, 0]:.2f}")
dl.claim("yet over the first 50 steps the flat coordinate moves about 0.93 lr per step and the steep one about 0.35 lr",
         0.9 < moved[:50, 0].mean() / e_lr < 0.96 and 0.3 < moved[:50, 1].mean() / e_lr < 0.4)

# %% [markdown] id="e71fb160"
# Both halves of the slogan need care. The effective learning rate is *larger* along the
# steep coordinate (2.5 times the flat one's by step 50): $\hat v$ remembers the gradients
# of the past, and the steep coordinate's gradient collapsed once $x_1$ reached the valley
# floor, while the flat coordinate's stayed large. Adam adapts to the **history of the
# gradients**, not to the curvature.
#
# The actual steps are nevertheless larger along the flat coordinate (0.93 lr per step
# against 0.35 lr over the first 50 updates), for another reason: $x_0$'s gradient keeps
# its sign, so $\hat m/\sqrt{\hat v}$ stays near 1 there, while $x_1$ oscillates around 0
# and its averaged gradient cancels.
#
# ### Does it win?
#
# A fair race tunes each method. Gradient descent's best constant learning rate on a
# quadratic is known, $2/(\mu + L)$; for Adam, try thirteen learning rates from $10^{-3}$
# to 10, three per decade. Count the updates until $f - f^*$ stays below $10^{-6}$, on
# three bowls: the mild one above ($\kappa = 10$), a badly conditioned one
# ($\kappa = 1000$, axes along the coordinates), and the same $\kappa = 1000$ bowl turned
# by 45° (with the start turned too, so that every method faces exactly the same problem
# in rotated coordinates).

# %% id="40873bc2"
adam_grid = 10 ** np.arange(-3, 1.01, 1 / 3)      # 0.001, 0.00215, ..., 4.64, 10
race_start = np.array([-1.2, 1.0])
bowls = {"kappa = 10": (dl.quadratic(10), race_start),
         "kappa = 1000": (dl.quadratic(1000), race_start),
         "kappa = 1000, turned 45 deg": (dl.quadratic(1000, angle=45), rotation(45) @ race_start)}
race = {}   # label -> step counts and learning rates
runs = {}   # (label, "SGD") -> trajectory
for label, (land, x0) in bowls.items():
    gd_lr = 2 / (land.mu + land.L)
    runs[label, "SGD"] = dl.run(sgd_step, land, x0, 600, lr=gd_lr)
    counts = {}
    for lr in adam_grid:
        counts[lr] = steps_to_loss(dl.run(adam_step, land, x0, 600, lr=lr), land, 1e-6)
    done = {lr: n for lr, n in counts.items() if n is not None}
    best_lr = min(done, key=done.get) if done else None
    race[label] = dict(sgd=steps_to_loss(runs[label, "SGD"], land, 1e-6), sgd_lr=gd_lr, counts=counts,
                       adam=done.get(best_lr), adam_lr=best_lr, adam_done=len(done))
print("updates until f - f* stays below 1e-6 (None: not within 600)")
for label, r in race.items():
    adam_lr = f"{r['adam_lr']:.3g}" if r["adam_lr"] else "-"
    print(f"{label:28s} SGD (lr {r['sgd_lr']:.3g}): {str(r['sgd']):>5s}   "
          f"Adam (best lr {adam_lr}): {str(r['adam']):>5s}   ({r['adam_done']} of {len(adam_grid)} Adam lrs finish)")

# %% id="3302cc38"
k10, k1000, turned = race["kappa = 10"], race["kappa = 1000"], race["kappa = 1000, turned 45 deg"]
fig, ax = plt.subplots(figsize=(8, 3.6))
fig.subplots_adjust(left=0.085, right=0.98, bottom=0.14, top=0.91)
# a color and a marker for each bowl (strict: a bowl added without its own is an error, not a missing curve)
for k, ((label, r), color, marker) in enumerate(
        zip(race.items(), ("#882255", "#44AA99", "#332288"), "os^", strict=True)):
    n = np.array([np.nan if c is None else c for c in r["counts"].values()])
    ax.semilogx(adam_grid, n, marker=marker, color=color, lw=1.5, label=f"Adam, {label}")
    ax.semilogx(adam_grid[np.isnan(n)], np.full(np.isnan(n).sum(), 625 + 20 * k), ls="none", marker=marker,
                mfc="white", color=color)
ax.axhline(k10["sgd"], color=dl.colors.style("SGD")["color"], ls=":", lw=2,
           label="gradient descent at 2/(mu + L), kappa = 10")
ax.axhline(600, color="0.6", lw=0.8)
ax.text(1.1e-3, 590, "open markers above the line:\nnot within 600 updates", fontsize=8, color="0.35", va="top")
ax.set_ylim(0, 680)
ax.set_xlabel("Adam's learning rate")
ax.set_ylabel("updates until f - f* < 1e-6")
ax.set_title("the race: Adam at every learning rate of the grid (gradient descent finishes only on kappa = 10)",
             fontsize=10)
ax.legend(fontsize=8, loc="center right", bbox_to_anchor=(0.995, 0.56))
ax.grid(alpha=0.3)
plt.show()

# %% id="ac213214"
dl.claim("on the mild bowl the tuned gradient descent needs fewer than a third of the best Adam's updates, "
         "39 against 142",
         k10["sgd"] * 3 < k10["adam"] and (k10["sgd"], k10["adam"]) == (39, 142), f"{k10['sgd']} against {k10['adam']}")
dl.claim("on the kappa = 1000 bowl Adam finishes in under 200 updates and gradient descent not in 600",
         k1000["adam"] < 200 and k1000["sgd"] is None)
forgiving = [lr for lr in adam_grid if 0.02 < lr < 3]
dl.claim("on both unturned bowls every Adam lr from 0.02 to 2 finishes within 15% of that bowl's best count",
         all(r["counts"][lr] is not None and r["counts"][lr] <= 1.15 * r["adam"]
             for r in (k10, k1000) for lr in forgiving))
dl.claim("the best Adam learning rate lies inside the grid on every bowl, not at its edge",
         all(adam_grid[0] < r["adam_lr"] < adam_grid[-1] for r in race.values()))
gd_a, gd_b = runs["kappa = 1000", "SGD"], runs["kappa = 1000, turned 45 deg", "SGD"]
dl.claim("gradient descent on the turned bowl follows exactly the turned path",
         np.abs(gd_b.xs - gd_a.xs @ rotation(45).T).max() < 1e-9)
dl.claim("turning the bowl costs Adam more than twice the updates, "
         "and only 3 of its 13 learning rates finish, against 10",
         turned["adam"] > 2 * k1000["adam"] and (turned["adam_done"], k1000["adam_done"]) == (3, 10),
         f"{turned['adam']} vs {k1000['adam']} updates, {turned['adam_done']} vs {k1000['adam_done']} lrs")


# %% [markdown] id="f433e945"
# The honest summary:
#
# - On the mildly conditioned bowl a **well-tuned gradient descent beats Adam** by more than
#   a factor of three (39 updates against 142). Adam's near-sign steps do not shrink in
#   proportion to the distance left, so the last digits come slowly.
# - When the bad scaling lies **along the coordinate axes** ($\kappa = 1000$), Adam's
#   per-coordinate division removes most of it: it finishes in under 200 updates,
#   while gradient descent, limited by $2/L$, is far from done after 600. On both
#   unturned bowls Adam is also forgiving: every learning rate from 0.02 to 2 finishes
#   within 15% of its best count.
# - Turn the same bowl by 45° and gradient descent does not notice (its path is exactly
#   the turned path), but Adam does: even at its best learning rate it needs more than
#   twice the updates, and only 3 of the 13 learning rates finish at all, against 10 before.
#   Adam's adaptivity is a **diagonal** rescaling; it helps only as far as the difficulty
#   is aligned with the parameters. In networks the gradient scales often do differ from
#   one parameter tensor to the next, which is one reason Adam is a good default there.

# %% [markdown] id="d7227d3c"
# ## 5. Play with it
#
# SGD and momentum share one learning rate, RMSprop and Adam another (their `lr` is a
# distance, not a gradient multiplier). `beta1` is momentum's $\beta$ and Adam's $\beta_1$;
# `beta2` is RMSprop's $\alpha$ and Adam's $\beta_2$: Adam is literally the two of them
# glued together. Try to
#
# - switch the bias correction off and watch Adam's first steps jump (RMSprop, which has no
#   correction, jumps from the start);
# - turn the ravine (`angle`) and see which paths care;
# - set `beta1` to 0: Adam becomes RMSprop with a bias correction;
# - push `beta2` down towards 0.9: what happens to Adam's path, and why (section 3)?
#
# The numbers in the legend are the final $f(x) - f^*$.

# %% id="e2add516"
def adam_switch(x, g, m, v, t, lr, beta1, beta2, bias_correction=True):
    # your adam_step; an enormous t switches the bias correction off
    return adam_step(x, g, m, v, t if bias_correction else 10**9, lr, beta1, beta2)

explore(lambda s: dl.ravine(kappa=50, angle=s["angle"]),
        [Path("SGD", sgd_step, {"lr": "lr SGD"}),
         Path("momentum", momentum_step, {"lr": "lr SGD", "beta": "beta1"}),
         Path("RMSprop", rmsprop_step, {"lr": "lr", "alpha": "beta2"}),
         Path("Adam", adam_switch, {"lr": "lr", "beta1": "beta1", "beta2": "beta2",
                                    "bias_correction": "bias correction"})],
        sliders={"lr": ("log", 1e-3, 1.0, 0.02), "lr SGD": ("log", 1e-4, 0.1, 0.02),
                 "beta1": (0.0, 0.99, 0.9), "beta2": (0.9, 0.9999, 0.999),
                 "bias correction": widgets.Checkbox(value=True, description="bias correction"),
                 "angle": (-90.0, 90.0, 0.0)},
        steps=150, x0=(-1.8, 1.5), title="ravine, kappa = 50")


# %% [markdown] id="772deeb4"
# ## 6. AdamW: where weight decay enters
#
# Weight decay pulls every weight towards zero a little at each step. With plain gradient
# descent there are two equivalent ways to write it: add the gradient of the L2 penalty
# $\tfrac{\lambda}{2}\|x\|^2$ to the gradient ($g + \lambda x$), or shrink the weights
# directly ($x \leftarrow (1-\eta\lambda)\,x$) before the gradient step. With Adam they are
# **not** equivalent:
#
# - **Adam with L2** (`torch.optim.Adam(weight_decay=λ)`): $g \leftarrow g + \lambda x$, then
#   the Adam step. The pull $\lambda x$ is averaged and divided by $\sqrt{\hat v}$ like the
#   rest of the gradient: a weight whose gradients are large feels only a small fraction
#   of it, a weight whose gradients are small feels it at full strength, normalised to a
#   step of up to $\eta$.
# - **AdamW**, *decoupled* weight decay (Loshchilov and Hutter; `torch.optim.AdamW`):
#   $x \leftarrow (1-\eta\lambda)\, x$ first, then the Adam step on the data gradient
#   alone. Every weight shrinks by the same factor, whatever its gradients.
#
# `torch.optim.AdamW`'s default is $\lambda = 10^{-2}$. Write AdamW; you may call your
# `adam_step`.

# %% id="e3dd97bd" nbgrader={"grade": false, "grade_id": "adamw_step", "locked": false, "schema_version": 3, "solution": true, "task": false}
def adamw_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=1e-2):
    """One AdamW update, PyTorch's convention (torch.optim.AdamW).

    First decay the weights, x_decayed = x * (1 - lr * weight_decay); then take the
    Adam step from x_decayed with the gradient g (computed at x, unchanged).
    Returns (x_new, m_new, v_new); the inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    return adam_step(x * (1 - lr * weight_decay), g, m, v, t, lr, beta1, beta2, eps)
    ### END SOLUTION


# %% id="8320fc23" nbgrader={"grade": false, "grade_id": "adamw_step_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for adamw_step
x, g, zero = np.array([1.0, -2.0, 3.0]), np.array([0.5, -1.0, 2.0]), np.zeros(3)
xw, mw, vw = adamw_step(x, g, zero, zero, 1, lr=0.1, weight_decay=0.5)
dl.assert_close(mw, [0.05, -0.1, 0.2], "m_new: the moments see the data gradient g only, not the decay")
dl.assert_close(vw, [0.00025, 0.001, 0.004], "v_new: the moments see the data gradient g only")
dl.assert_close(xw, x * (1 - 0.1 * 0.5) - 0.1 * g / (np.abs(g) + 1e-8),
                "first step: x (1 - lr weight_decay), then the Adam step",
                inputs="x=[1, -2, 3], lr=0.1, weight_decay=0.5")
dl.assert_close(adamw_step(x, g, zero, zero, 1, lr=0.1, weight_decay=0.0)[0], adam_step(x, g, zero, zero, 1, lr=0.1)[0],
                "with weight_decay = 0, AdamW is Adam")
dl.assert_close(adamw_step(x, np.zeros(3), zero, zero, 1, lr=0.1, weight_decay=0.5)[0], [0.95, -1.9, 2.85],
                "with a zero gradient only the decay acts: x (1 - lr weight_decay)")
print("adamw_step: visible tests passed")

# %% id="6859ab1f" nbgrader={"grade": true, "grade_id": "adamw_step_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# adamw_step: basic behaviour: first steps from zero state, then from given moments (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adamw_step", adamw_step, "basic")
### END HIDDEN TESTS

# %% id="347c0727" nbgrader={"grade": true, "grade_id": "adamw_step_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adamw_step: full agreement on 200 random cases (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adamw_step", adamw_step, "random")
### END HIDDEN TESTS

# %% id="e2a4ebcb" nbgrader={"grade": true, "grade_id": "adamw_step_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adamw_step: edge cases: lr = 0, beta1 = 0, float32, scalars, zero and tiny gradients (eps),
# large lr and weight decay, defaults (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adamw_step", adamw_step, "edge")
### END HIDDEN TESTS

# %% id="9a48f198" nbgrader={"grade": true, "grade_id": "adamw_step_trajectory", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# adamw_step: 100-step trajectories (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("adamw_step", adamw_step, "trajectory")
### END HIDDEN TESTS

# %% [markdown] id="938f558c"
# ### Which weights decay?
#
# A small linear model makes the difference visible. Six input features have very
# different scales (10, 3, 1, 0.3, 0.1) and the sixth is always zero in the training
# data, like a word that never occurs: its weight gets no gradient from the data at all.
# The targets are $y = X\,(1, \dots, 1) + \text{noise}$, the loss is the mean squared error,
# and every weight starts at 2. Train 500 full-batch updates with lr = 0.01: without any
# decay, with Adam + L2 ($\lambda = 0.1$), and with AdamW ($\lambda = 0.1$).

# %% id="d4cd25d6"
feature_scales = np.array([10, 3, 1, 0.3, 0.1, 0.0])
X_lin = np.random.default_rng(1).normal(size=(200, 6)) * feature_scales
y_lin = X_lin @ np.ones(6) + 0.1 * np.random.default_rng(2).normal(size=200)

def mse_grad(w):
    return 2 * X_lin.T @ (X_lin @ w - y_lin) / len(y_lin)

def train_linear(kind, wd=0.1, lr=0.01, updates=500):
    w, m, v, path = np.full(6, 2.0), np.zeros(6), np.zeros(6), []
    for t in range(1, updates + 1):
        g = mse_grad(w)
        if kind == "Adam + L2":
            w, m, v = adam_step(w, g + wd * w, m, v, t, lr)
        elif kind == "AdamW":
            w, m, v = adamw_step(w, g, m, v, t, lr, weight_decay=wd)
        else:
            w, m, v = adam_step(w, g, m, v, t, lr)
        path.append(w)
    return np.array(path)

lin = {kind: train_linear(kind) for kind in ("no decay", "Adam + L2", "AdamW")}
weak = train_linear("Adam + L2", wd=0.001)[:, 5]     # the unused weight under a 100 times weaker L2
ratio = {kind: lin[kind][-1] / lin["no decay"][-1] for kind in ("Adam + L2", "AdamW")}
print("final weights / weights without decay, per feature scale", feature_scales)
for kind, r in ratio.items():
    print(f"  {kind:10s}", np.round(r, 3))

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4), width_ratios=[1.2, 1])
fig.subplots_adjust(left=0.06, right=0.99, bottom=0.14, top=0.92, wspace=0.18)
pos = np.arange(6)
for k, (kind, color) in enumerate((("no decay", "0.6"), ("Adam + L2", "#D55E00"), ("AdamW", "#000000"))):
    a1.bar(pos + (k - 1) * 0.27, lin[kind][-1], width=0.27, color=color, label=kind)
a1.set_xticks(pos, [f"scale {s:g}" for s in feature_scales], fontsize=8)
a1.set_ylabel("weight after 500 updates")
a1.legend(fontsize=8)
a1.set_title("which weights decay", fontsize=10)
steps_lin = np.arange(1, 501)
a2.plot(steps_lin, lin["Adam + L2"][:, 5], color="#D55E00", lw=2, label="Adam + L2, lambda = 0.1")
a2.plot(steps_lin, weak, color="#E69F00", ls="--", lw=2, label="Adam + L2, lambda = 0.001")
a2.plot(steps_lin, lin["AdamW"][:, 5], color="#000000", lw=2, label="AdamW, lambda = 0.1")
a2.plot(steps_lin, 2 * (1 - 0.01 * 0.1) ** steps_lin, ":", color="#56B4E9", lw=2, label="2 (1 - lr lambda)^t")
a2.set_xlabel("update")
a2.set_ylabel("the unused weight")
a2.legend(fontsize=8)
a2.set_title("the unused weight", fontsize=10)
plt.show()

# %% id="3ef15e90"
unused_w = lin["AdamW"][:, 5]
dl.claim("AdamW shrinks the unused weight by exactly (1 - lr lambda) per update",
         np.allclose(unused_w, 2 * (1 - 0.01 * 0.1) ** steps_lin, rtol=1e-12, atol=0))
dl.claim("with Adam + L2 the unused weight follows the same path for lambda = 0.1 and lambda = 0.001",
         np.abs(weak - lin["Adam + L2"][:, 5]).max() < 1e-4,
         f"largest gap {np.abs(weak - lin['Adam + L2'][:, 5]).max():.1e}")
dl.claim("with Adam + L2 the unused weight is gone (below 0.02) after 500 updates; AdamW keeps 1.21 of its 2",
         abs(lin["Adam + L2"][-1, 5]) < 0.02 and abs(unused_w[-1] - 1.213) < 1e-3)
r_l2, r_w = ratio["Adam + L2"], ratio["AdamW"]
dl.claim("with Adam + L2 the smaller a feature's scale (and its gradients), the more its weight decays",
         np.all(np.diff(r_l2) < 0), f"{np.round(r_l2, 3)}")
dl.claim("with Adam + L2 the weight of the scale-10 feature keeps over 99% of its undecayed value, "
         "the scale-0.1 one under 15%",
         r_l2[0] > 0.99 and r_l2[4] < 0.15)
dl.claim("with AdamW every used weight keeps between 75% and 98% of its undecayed value",
         np.all((r_w[:5] > 0.75) & (r_w[:5] < 0.98)), f"{np.round(r_w[:5], 3)}")
ridge = np.linalg.solve(2 * X_lin.T @ X_lin / len(y_lin) + 0.1 * np.eye(6), 2 * X_lin.T @ y_lin / len(y_lin))
print("Adam + L2 after 500 updates:", np.round(lin["Adam + L2"][-1], 3),
      "\nridge solution:           ", np.round(ridge, 3))
dl.claim("after 500 updates Adam + L2 is within 0.02 of the ridge-regression solution",
         np.abs(lin["Adam + L2"][-1] - ridge).max() < 0.02)

# %% [markdown] id="a9126340"
# With **Adam + L2** the decay depends on the gradients: the smaller a feature's scale,
# the more its weight decays. The weight of the scale-10 feature, whose data gradients are
# large, keeps over 99% of its value: the penalty is a tiny part of its gradient, and
# Adam divides the sum by a large $\sqrt{\hat v}$. The weight of the scale-0.1 feature keeps
# under 15%. The unused weight's only gradient is the penalty $\lambda x$ itself, which
# Adam normalises to a step of up to $\eta$: it is removed at a speed set by lr alone, and
# **the same path comes out whether $\lambda = 0.1$ or $0.001$**, a hundred times weaker.
# (After 500 updates Adam + L2 is within 0.02 of the ridge-regression solution, the point
# where the gradient of loss plus penalty vanishes: that end point, which shrinks
# small-scale features most, does not depend on the optimizer. What Adam changes is how
# fast each weight gets there, and it makes $\lambda$ nearly irrelevant for the weights
# without a data gradient.)
#
# With **AdamW** every weight is multiplied by the same $1-\eta\lambda$ at every update,
# whatever its gradients: the unused weight follows $2(1-\eta\lambda)^t$ exactly (1.21
# after 500 updates), and the used weights keep between 75% and 98% of their undecayed
# values, a far narrower spread than Adam + L2's (from under 15% to over 99%). $\lambda$
# means what it says, a relative shrink of $\eta\lambda$ per update, independent of the
# gradient statistics; Loshchilov and Hutter found that this also makes the best weight
# decay much less dependent on the learning rate, so the two can be tuned separately.
#
# **Question 3.** AdamW with lr = $10^{-3}$ and weight_decay = 0.1. A weight receives no
# gradient for 1000 updates. What fraction of its value is left? Store it in
# `adamw_fraction_left`.

# %% id="27967310" nbgrader={"grade": false, "grade_id": "q_adamw_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
adamw_fraction_left = (1 - 1e-3 * 0.1) ** 1000
### END SOLUTION

# %% id="37d046aa" nbgrader={"grade": false, "grade_id": "q_adamw_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(adamw_fraction_left, "adamw_fraction_left")

# %% id="885cf3ce" nbgrader={"grade": true, "grade_id": "q_adamw", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("adamw_fraction_left", adamw_fraction_left)
### END HIDDEN TESTS

# %% [markdown] id="147cd307"
# ## 7. From numpy to torch: `ScratchAdam`
#
# A real optimizer updates the parameters of a model in place. `torch.optim.Optimizer`
# provides the bookkeeping; a subclass supplies `__init__` and `step`:
#
# - `super().__init__(params, defaults)` takes the parameters (an iterable of tensors, or
#   a list of **param groups**, dicts such as `{"params": [...], "lr": 1e-4}`) and a
#   dict of default hyperparameters. It stores `self.param_groups`: a list of dicts,
#   each holding its `"params"` and every hyperparameter (its own or the default).
# - `self.state` is a dict from parameter to a dict of your choosing, empty until you fill
#   it. Adam's state per parameter, as in torch: `"step"` (updates so far), `"exp_avg"`
#   ($m$) and `"exp_avg_sq"` ($v$), the tensors created with `torch.zeros_like(p)`.
# - `step()` runs after `loss.backward()`: for each group, for each parameter `p` **whose
#   `p.grad` is not None** (a frozen or unused parameter has none: skip it, and give it no
#   state), update `p` **in place** (`p.mul_`, `p.add_`, `p.addcdiv_`, ...). It runs under
#   `@torch.no_grad()`: the update itself must not be recorded by autograd, and an in-place
#   change of a leaf tensor that requires grad is an error otherwise.
# - Because everything lives in `param_groups` and `state`, `state_dict()` and
#   `load_state_dict()` work without any code of yours: a run can be saved and resumed.
#
# `ScratchAdam(decoupled=False)` must train exactly like `torch.optim.Adam` (weight decay
# added to the gradient) and `ScratchAdam(decoupled=True)` like `torch.optim.AdamW`.
# Keep the moments as separate tensors: `a = b = torch.zeros_like(p)` makes one tensor with
# two names.

# %% id="5bc34d7c" nbgrader={"grade": false, "grade_id": "ScratchAdam", "locked": false, "schema_version": 3, "solution": true, "task": false}
class ScratchAdam(torch.optim.Optimizer):
    """Adam (decoupled=False: weight decay added to the gradient, torch.optim.Adam) and
    AdamW (decoupled=True: p shrunk by lr * weight_decay first, torch.optim.AdamW).

    Per-parameter state: 'step', 'exp_avg', 'exp_avg_sq'. Parameters whose grad is
    None are skipped. Every hyperparameter is read from the parameter's group.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, decoupled=False):
        # hand the parameters and a dict of the default hyperparameters to torch.optim.Optimizer
        ### BEGIN SOLUTION
        defaults = dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay, decoupled=decoupled)
        super().__init__(params, defaults)
        ### END SOLUTION

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:            # some training loops pass a closure that recomputes the loss
            with torch.enable_grad():
                loss = closure()
        # for each group, for each parameter that has a gradient: update its state, then the parameter in place
        ### BEGIN SOLUTION
        for group in self.param_groups:
            lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
            wd = group["weight_decay"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                grad = p.grad
                state = self.state[p]
                if not state:
                    state["step"] = 0
                    state["exp_avg"] = torch.zeros_like(p)
                    state["exp_avg_sq"] = torch.zeros_like(p)
                state["step"] += 1
                t = state["step"]
                if wd != 0 and group["decoupled"]:
                    p.mul_(1 - lr * wd)
                elif wd != 0:
                    grad = grad + wd * p
                m, v = state["exp_avg"], state["exp_avg_sq"]
                m.mul_(beta1).add_(grad, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
                denom = (v / (1 - beta2 ** t)).sqrt_().add_(eps)
                p.addcdiv_(m, denom, value=-lr / (1 - beta1 ** t))
        ### END SOLUTION
        return loss


# %% id="67ff5403" nbgrader={"grade": false, "grade_id": "ScratchAdam_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for ScratchAdam: three updates of one tensor against torch.optim and your numpy steps
x0 = np.array([1.0, -2.0, 0.5])
grads = [np.array([0.3, -1.0, 2.0]), np.array([0.1, 0.5, -1.0]), np.array([-0.2, 0.4, 0.0])]
for decoupled, oracle in ((False, torch.optim.Adam), (True, torch.optim.AdamW)):
    kw = dict(lr=0.1, betas=(0.8, 0.99), weight_decay=0.3)
    mine, theirs = (torch.nn.Parameter(torch.tensor(x0)) for _ in range(2))
    opt, ref = ScratchAdam([mine], decoupled=decoupled, **kw), oracle([theirs], **kw)
    x, m, v = x0, np.zeros(3), np.zeros(3)
    for t, g in enumerate(grads, start=1):
        mine.grad, theirs.grad = torch.tensor(g), torch.tensor(g)
        opt.step()
        ref.step()
        what = f"ScratchAdam(decoupled={decoupled}) against torch.optim.{oracle.__name__} after update {t}"
        dl.assert_close(mine.detach().numpy(), theirs.detach().numpy(), what,
                        inputs="lr=0.1, betas=(0.8, 0.99), weight_decay=0.3")
        if decoupled:
            x, m, v = adamw_step(x, g, m, v, t, lr=0.1, beta1=0.8, beta2=0.99, weight_decay=0.3)
        else:
            x, m, v = adam_step(x, g + 0.3 * x, m, v, t, lr=0.1, beta1=0.8, beta2=0.99)
        dl.assert_close(x, theirs.detach().numpy(),
                        f"your numpy {'adamw_step' if decoupled else 'adam_step (with g + 0.3 x)'} "
                        f"against torch.optim.{oracle.__name__} after update {t}")
    state = opt.state[mine]
    assert {"step", "exp_avg", "exp_avg_sq"} <= set(state), (
        f"the state should hold 'step', 'exp_avg', 'exp_avg_sq'; it has {sorted(state)}")
    assert int(state["step"]) == 3, f"after 3 updates state['step'] should be 3, got {state['step']}"

idle, busy = torch.nn.Parameter(torch.ones(2)), torch.nn.Parameter(torch.ones(2))
opt = ScratchAdam([{"params": [busy]}, {"params": [idle], "lr": 0.5}], lr=0.1)
assert [grp["lr"] for grp in opt.param_groups] == [0.1, 0.5], "each param group keeps its own lr"
busy.grad = torch.ones(2)
opt.step()
assert torch.equal(idle.detach(), torch.ones(2)) and idle not in opt.state, (
    "a parameter whose grad is None must be skipped")
print("ScratchAdam: visible tests passed")

# %% id="ff4c0d98" nbgrader={"grade": true, "grade_id": "ScratchAdam_adam", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# ScratchAdam: decoupled=False trains like torch.optim.Adam (with and without L2 weight decay) (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("ScratchAdam", ScratchAdam, "adam")
### END HIDDEN TESTS

# %% id="fdb64b02" nbgrader={"grade": true, "grade_id": "ScratchAdam_adamw", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# ScratchAdam: decoupled=True trains like torch.optim.AdamW (large lr and weight decay too) (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("ScratchAdam", ScratchAdam, "adamw")
### END HIDDEN TESTS

# %% id="ba4dd400" nbgrader={"grade": true, "grade_id": "ScratchAdam_groups", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# ScratchAdam: two param groups with their own lr and weight decay, a parameter whose grad is None
# (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("ScratchAdam", ScratchAdam, "groups")
### END HIDDEN TESTS

# %% id="6f8277c9" nbgrader={"grade": true, "grade_id": "ScratchAdam_state", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# ScratchAdam: state keys and counter; state_dict saved mid-run and loaded into a fresh optimizer
# (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("ScratchAdam", ScratchAdam, "state")
### END HIDDEN TESTS

# %% [markdown] id="b71c2e20"
# ### Side by side on a small network
#
# Two moons: two interleaved half circles in the plane, 200 noisy points, made with numpy
# here. A small network (2 → 16 → 16 → 1, tanh) in float64 learns to separate them. Each
# optimizer is run three times from the same initial weights: by `torch.optim`, by your
# `ScratchAdam`, and by your numpy step functions applied to every parameter tensor (the
# gradients still come from autograd). AdamW uses two param groups, the usual recipe of
# decaying the weight matrices but not the biases.

# %% id="ac8be44f"
X_moons, y_moons = two_moons(200, 0.15, np.random.default_rng(0))
X_t, y_t = torch.from_numpy(X_moons), torch.from_numpy(y_moons)[:, None]
bce = torch.nn.BCEWithLogitsLoss()

def make_net():
    torch.manual_seed(0)
    return torch.nn.Sequential(torch.nn.Linear(2, 16), torch.nn.Tanh(), torch.nn.Linear(16, 16),
                               torch.nn.Tanh(), torch.nn.Linear(16, 1)).double()

def decay_groups(net, wd):
    weights = [p for name, p in net.named_parameters() if name.endswith("weight")]
    biases = [p for name, p in net.named_parameters() if name.endswith("bias")]
    return [{"params": weights, "weight_decay": wd}, {"params": biases, "weight_decay": 0.0}]

def flat_params(net):
    return torch.cat([p.detach().flatten() for p in net.parameters()]).numpy().copy()

def train_torch(make_optimizer, updates=100):
    net = make_net()
    opt = make_optimizer(net)
    losses, params = [], []
    for _ in range(updates):
        opt.zero_grad()
        loss = bce(net(X_t), y_t)
        loss.backward()
        opt.step()
        losses.append(loss.item())
        params.append(flat_params(net))
    return net, np.array(losses), np.array(params)

def train_numpy(update, updates=100):
    # update(name, x, g, m, v, t) -> (x_new, m_new, v_new) on numpy arrays
    net = make_net()
    state = {name: (np.zeros(p.shape), np.zeros(p.shape)) for name, p in net.named_parameters()}
    losses, params = [], []
    for t in range(1, updates + 1):
        net.zero_grad()
        loss = bce(net(X_t), y_t)
        loss.backward()
        with torch.no_grad():
            for name, p in net.named_parameters():
                x_new, *state[name] = update(name, p.numpy(), p.grad.numpy(), *state[name], t)
                p.copy_(torch.from_numpy(x_new))
        losses.append(loss.item())
        params.append(flat_params(net))
    return net, np.array(losses), np.array(params)

LR, L2, WD = 0.02, 1e-3, 0.05
side = {
    "torch.optim.Adam": train_torch(lambda net: torch.optim.Adam(net.parameters(), lr=LR, weight_decay=L2)),
    "ScratchAdam": train_torch(lambda net: ScratchAdam(net.parameters(), lr=LR, weight_decay=L2)),
    "numpy adam_step": train_numpy(lambda name, x, g, m, v, t: adam_step(x, g + L2 * x, m, v, t, lr=LR)),
    "torch.optim.AdamW": train_torch(lambda net: torch.optim.AdamW(decay_groups(net, WD), lr=LR)),
    "ScratchAdam decoupled": train_torch(lambda net: ScratchAdam(decay_groups(net, WD), lr=LR, decoupled=True)),
    "numpy adamw_step": train_numpy(lambda name, x, g, m, v, t: adamw_step(
        x, g, m, v, t, lr=LR, weight_decay=WD if name.endswith("weight") else 0.0)),
}

def gap(a, b):
    # largest parameter difference over the whole run, relative to the largest parameter
    return np.abs(side[a][2] - side[b][2]).max() / np.abs(side[b][2]).max()

for a, b in (("ScratchAdam", "torch.optim.Adam"), ("numpy adam_step", "torch.optim.Adam"),
             ("ScratchAdam decoupled", "torch.optim.AdamW"), ("numpy adamw_step", "torch.optim.AdamW")):
    print(f"{a:22s} vs {b:18s}: largest relative parameter gap over 100 updates {gap(a, b):.1e}")

# %% id="665a0967"
dl.claim("ScratchAdam and the numpy adam_step train exactly like torch.optim.Adam, up to float64 rounding",
         gap("ScratchAdam", "torch.optim.Adam") < 1e-10 and gap("numpy adam_step", "torch.optim.Adam") < 1e-10)
dl.claim("ScratchAdam(decoupled=True) and the numpy adamw_step train exactly like torch.optim.AdamW",
         gap("ScratchAdam decoupled", "torch.optim.AdamW") < 1e-10
         and gap("numpy adamw_step", "torch.optim.AdamW") < 1e-10)
net_w = side["ScratchAdam decoupled"][0]
with torch.no_grad():
    accuracy = ((net_w(X_t) > 0).double() == y_t).double().mean().item()
print(f"training accuracy of the ScratchAdam (AdamW) network: {accuracy:.3f}")
dl.claim("after 100 updates the network separates the moons, at least 97% of the points right", accuracy >= 0.97)

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.6))
fig.subplots_adjust(left=0.085, right=0.99, bottom=0.12, top=0.92, wspace=0.15)
for name, (_, losses, _) in side.items():
    base = "AdamW" if ("adamw" in name.lower() or "decoupled" in name) else "Adam"
    st = dl.colors.style(base)
    a1.semilogy(losses, lw=5 if name.startswith("torch") else 1.5, alpha=0.35 if name.startswith("torch") else 1,
                ls="-" if name.startswith("torch") else ("--" if "Scratch" in name else ":"),
                color=st["color"], label=name)
a1.set_xlabel("update")
a1.set_ylabel("training loss")
a1.legend(fontsize=7)
a1.set_title("three implementations, one curve each", fontsize=10)
grid = np.stack(np.meshgrid(np.linspace(-1.6, 2.6, 200), np.linspace(-1.2, 1.7, 150)), axis=-1)
with torch.no_grad():
    z = torch.sigmoid(net_w(torch.from_numpy(grid.reshape(-1, 2)))).numpy().reshape(grid.shape[:2])
a2.contourf(grid[..., 0], grid[..., 1], z, levels=[0, 0.5, 1], colors=["#cfe3f2", "#f6dcc5"])
a2.contour(grid[..., 0], grid[..., 1], z, levels=[0.5], colors="0.3", linewidths=1)
for label, color, marker in ((0, "#0072B2", "o"), (1, "#D55E00", "s")):
    pts = X_moons[y_moons == label]
    a2.scatter(pts[:, 0], pts[:, 1], s=10, color=color, marker=marker)
a2.set_title(f"ScratchAdam (AdamW): decision boundary, accuracy {accuracy:.1%}", fontsize=10)
a2.set_aspect("equal")
plt.show()


# %% [markdown] id="61f7e47e"
# Three implementations, one trajectory: your numpy functions, your torch optimizer and
# PyTorch's own agree to within $10^{-10}$ of the parameters' size over 100 updates (the
# printout shows how much closer), which is float64 rounding in a different order of
# operations.

# %% [markdown] id="e3cda8c8"
# ## 8. A look beyond (optional, not graded): Lion
#
# Lion (Chen et al., 2023, found by a program search over update rules) drops the second
# moment altogether and keeps only the sign:
#
# $$c = \beta_1 m + (1-\beta_1) g, \qquad x \leftarrow x(1 - \eta\lambda) - \eta\,\mathrm{sign}(c), \qquad m \leftarrow \beta_2 m + (1-\beta_2) g,$$
#
# with $\beta_1 = 0.9$, $\beta_2 = 0.99$ by default: the direction blends the fresh gradient
# into the momentum more strongly than the momentum itself is updated. Every coordinate
# moves by exactly $\eta$ at every step (plus the decay), the limit of Adam's sign-like
# behaviour. Other variants worth knowing: AMSGrad (`torch.optim.Adam(amsgrad=True)`)
# divides by the largest second moment seen so far instead of the current one; RAdam
# (`torch.optim.RAdam`) starts with plain momentum steps and switches the division by
# $\sqrt{\hat v}$ on gradually, by a factor derived from the variance of the adaptive
# learning rate: a built-in warmup.

# %% id="3f8ecb8b"
def lion_step(x, g, m, lr, beta1=0.9, beta2=0.99, weight_decay=0.0):
    c = beta1 * m + (1 - beta1) * g
    x_new = x * (1 - lr * weight_decay) - lr * np.sign(c)
    return x_new, beta2 * m + (1 - beta2) * g

beyond = {"Adam": dl.run(adam_step, ravine, start, 300, lr=0.02),
          "Lion": dl.run(lion_step, ravine, start, 300, lr=0.02)}
show_paths(ravine, beyond, title="Adam and Lion, both with lr = 0.02, on the ravine (kappa = 50)")
lion_moves = np.abs(np.diff(beyond["Lion"].xs, axis=0))
adam_moves = np.abs(np.diff(beyond["Adam"].xs, axis=0))
print(f"last 50 updates: Lion moves {lion_moves[-50:].mean() / 0.02:.3f} lr per coordinate, "
      f"Adam {adam_moves[-50:].mean() / 0.02:.1e} lr")
print("final f - f*:", {k: f"{t.losses[-1]:.1e}" for k, t in beyond.items()})
dl.claim("every Lion update moves every coordinate by exactly lr", np.allclose(lion_moves, 0.02, rtol=1e-9))
dl.claim("near the minimum Adam's steps shrink to a tiny fraction of lr while Lion keeps hopping at distance about lr",
         adam_moves[-50:].mean() < 1e-3 * 0.02 and np.abs(beyond["Lion"].xs[-50:]).max() <= 0.02 * 1.5
         and beyond["Lion"].losses[-1] > 1e6 * beyond["Adam"].losses[-1])
overshoot = {k: t.xs[:, 0].max() for k, t in beyond.items()}
print("farthest point past the minimum along x0:", {k: round(float(v), 3) for k, v in overshoot.items()})
dl.claim("Lion loops far past the minimum (x0 up to 0.94); Adam barely overshoots",
         0.93 < overshoot["Lion"] < 0.95 and overshoot["Adam"] < 1e-3)

# %% [markdown] id="eae05560"
# Lion's full-size sign steps and its long memory ($\beta_2 = 0.99$, about 100 updates)
# carry it far past the minimum (to $x_0 = 0.94$) in a wide loop, where Adam barely
# overshoots at all. And Lion never stops hopping: with a constant learning rate it ends
# up rattling around the minimum at distance about $\eta$, while Adam's averaged gradient
# cancels near the minimum and its steps shrink to almost nothing. In practice Lion is
# used with a learning-rate schedule that decays $\eta$ (notebook 03) and with a learning
# rate 3 to 10 times smaller than AdamW's, since every step is a full-size sign step.
#
# ## Summary
#
# - Adam = momentum's first moment $m$ (EMA form) + RMSprop's second moment $v$, each
#   bias-corrected by $1-\beta^t$, step $\eta\,\hat m/(\sqrt{\hat v}+\varepsilon)$: PyTorch's
#   convention; Keras folds the correction into the step size and scales eps differently.
# - Without the correction the first steps are too *long*: 3.16 $\eta$ at $t = 1$, up to
#   6.6 $\eta$ around $t = 12$ with the defaults.
# - Adam's steps are close to $\eta$ whatever the gradient's scale, and its path does not
#   change when the loss is rescaled; eps matters only for gradients near $10^{-8}$ or below.
# - Its per-coordinate scaling follows the gradient history, not the curvature. It beats
#   gradient descent when the bad scaling lies along the parameter axes; on a mildly
#   conditioned bowl a tuned gradient descent wins, and turning the bowl hurts Adam only.
# - Adam + L2 decays weights with small gradients hard and weights with large gradients
#   hardly at all; AdamW shrinks every weight by $1-\eta\lambda$ per step.
# - A `torch.optim.Optimizer` is `param_groups` + `state` + an in-place `step` under
#   `torch.no_grad()`: yours trains exactly like `torch.optim.Adam` and `AdamW`.
#
# ## Further reading
#
# - D. P. Kingma, J. Ba, [Adam: A Method for Stochastic Optimization](https://arxiv.org/abs/1412.6980), ICLR 2015 (Algorithm 1, and the folded form at the end of section 2).
# - I. Loshchilov, F. Hutter, [Decoupled Weight Decay Regularization](https://arxiv.org/abs/1711.05101), ICLR 2019 (AdamW).
# - S. J. Reddi, S. Kale, S. Kumar, [On the Convergence of Adam and Beyond](https://openreview.net/forum?id=ryQu7f-RZ), ICLR 2018 (AMSGrad).
# - L. Liu et al., [On the Variance of the Adaptive Learning Rate and Beyond](https://arxiv.org/abs/1908.03265), ICLR 2020 (RAdam).
# - X. Chen et al., [Symbolic Discovery of Optimization Algorithms](https://arxiv.org/abs/2302.06675), 2023 (Lion).
# - [torch.optim.Adam](https://pytorch.org/docs/stable/generated/torch.optim.Adam.html) and
#   [torch.optim.AdamW](https://pytorch.org/docs/stable/generated/torch.optim.AdamW.html): the algorithms as implemented, the convention used here.
# - Dive into Deep Learning, chapter 12, *Optimization Algorithms*, section *Adam*.
