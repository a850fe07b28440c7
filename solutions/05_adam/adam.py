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
# - say when Adam's per-coordinate step sizes help and when a well-tuned heavy ball wins,
#   with measured numbers from a fair race rather than slogans;
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
from descentlab.adam_problems import rotation, scaled, settled, two_moons
from descentlab.plots import Path, explore, show_paths

# %matplotlib inline
# %config InlineBackend.print_figure_kwargs = {"bbox_inches": None}   # the figures lay themselves out: draw each once
torch.set_num_threads(1)   # the networks here are tiny: one thread is the fastest
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator


# %% [markdown] id="f8ed1e19"
# ## 1. Two ideas in one optimizer
#
# Here are the two ingredients, in PyTorch's convention as in notebooks 01 and 02. You
# wrote them there; here they come from `torch.optim` (the toolkit's `torch_steps` wraps
# one optimizer step in the course's step signature), so that this notebook can compare
# them with Adam:
#
# - **momentum** keeps a velocity $v \leftarrow \beta v + g$ and steps along it: along a
#   valley floor, where the gradient keeps its sign, the steps grow;
# - **RMSprop** keeps $s \leftarrow \alpha s + (1-\alpha) g^2$, a running mean of squared
#   gradients, and divides each coordinate's step by $\sqrt{s}$: a coordinate with large
#   gradients gets small steps and one with small gradients gets large steps.

# %% id="a615dcfd"
# torch.optim.SGD (without and with momentum) and torch.optim.RMSprop, one update per call:
# step(x, g, *state, **hyper) -> (x_new, *state_new), like the step functions you write
from descentlab.torch_steps import torch_momentum_step, torch_rmsprop_step, torch_sgd_step

# %% [markdown] id="85da7fd5"
# On a ravine whose floor runs along $x_0$ and whose walls are 50 times steeper along
# $x_1$, each one fixes a different half of the problem. Gradient descent and momentum get
# lr = 0.035, close to gradient descent's limit $2/L = 0.04$; RMSprop gets lr = 0.02.

# %% id="1baadd0b"
ravine = dl.ravine(kappa=50)
start = np.array([-1.8, 1.5])

def ingredients(lr, beta, lr_rms, steps, x0):
    return {"SGD": dl.run(torch_sgd_step, ravine, x0, steps, lr=lr),
            "momentum": dl.run(torch_momentum_step, ravine, x0, steps, lr=lr, beta=beta),
            "RMSprop": dl.run(torch_rmsprop_step, ravine, x0, steps, lr=lr_rms)}

shown = dict(lr=0.035, beta=0.9, lr_rms=0.02, steps=100, x0=start)
parts = ingredients(**shown)
show_paths(ravine, parts, title="the two ingredients on a ravine (kappa = 50)")


# %% id="0b7a201f"
def crossings(traj, n=100):
    # how often the steep coordinate x1 changes sign in the first n updates
    x1 = traj.xs[:n + 1, 1]
    return int(np.sum(np.sign(x1[1:]) != np.sign(x1[:-1])))

for name, traj in parts.items():
    print(f"{name:9s} x0 after 30 updates {traj.xs[30, 0]:6.3f}   "
          f"x1 changes sign {crossings(traj, 40):2d} times in the first 40 updates, {crossings(traj):3d} in 100")

def crosses_every_update(**setting):
    n = crossings(ingredients(**setting)["SGD"])
    return n == 100, f"{n} crossings in 100 updates"

def momentum_halfway(**setting):
    run = ingredients(**setting)
    ratio = abs(run["momentum"].xs[30, 0]) / abs(run["SGD"].xs[30, 0])
    swings = crossings(run["momentum"], 40)
    return ratio < 0.5 and swings > 10, f"distance ratio {ratio:.2f}, {swings} crossings in 40 updates"

def rmsprop_stays(**setting):
    n = crossings(ingredients(**setting)["RMSprop"])
    return n == 0, f"{n} crossings"

# the three sentences name the method and the lr shown; the start, the run length and the
# other hyperparameters move around them
dl.robust_claim("with lr = 0.035, close to 2/L, gradient descent crosses the valley floor at every one of its "
                "first 100 updates", crosses_every_update, shown, fixed=["lr"])
# at lr = 0.042, past gradient descent's limit 2/L = 0.04, the comparison changes: the lr is named
dl.robust_claim("with the same lr = 0.035, after 30 updates momentum (beta = 0.9) is less than half as far from the "
                "minimum along the floor as gradient descent, but it still swings across", momentum_halfway, shown,
                fixed=["beta", "lr"])
dl.robust_claim("RMSprop never crosses the floor in 100 updates", rmsprop_stays, shown)
step1 = np.abs(parts["RMSprop"].xs[1] - parts["RMSprop"].xs[0])
print("RMSprop's first step, per coordinate:", np.round(step1, 4), " gradient there:", ravine.grad(start))
# a property of the update rule, not a finding: shown as a check
dl.assert_close(step1, [0.02 / np.sqrt(0.01)] * 2, "RMSprop's first step is lr / sqrt(1 - alpha) in every coordinate")


# %% [markdown] id="7de870d6"
# With lr = 0.035, close to its limit, gradient descent crosses the valley floor at every
# update and crawls along it. After 30 updates momentum is less than half as far from the
# minimum along the floor (at the same lr), but it still swings from wall to wall. RMSprop
# never crosses the floor: it divides each coordinate by its own gradient scale and moves
# both with equal strides. On its first update both coordinates move by exactly
# $\eta/\sqrt{1-\alpha} = 10\,\eta$, although the gradient along $x_1$ is about 40 times
# larger than along $x_0$. Remember that factor 10: it is the bias that Adam corrects.
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

def early_run(lr, steps, x0):
    return {"Adam": dl.run(adam_step, rosen, x0, steps, lr=lr),
            "uncorrected Adam": dl.run(adam_no_correction, rosen, x0, steps, lr=lr)}

r_setting = dict(lr=0.1, steps=150, x0=r_start)
early = early_run(**r_setting)
show_paths(rosen, early, title="lr = 0.1 on Rosenbrock, the first 150 updates")
peak_loss = {k: t.losses.max() for k, t in early.items()}
print("highest loss along the path:", {k: round(float(v), 1) for k, v in peak_loss.items()},
      "| start:", early["Adam"].losses[0])

def first_steps(**setting):
    run = early_run(**setting)
    f0 = run["Adam"].losses[0]
    rise = {k: t.losses.max() / f0 for k, t in run.items()}
    end = {k: t.losses[150] for k, t in run.items()}
    holds = rise["Adam"] <= 1 + 1e-12 and rise["uncorrected Adam"] > 4 and end["uncorrected Adam"] < end["Adam"]
    return holds, f"peak / start {rise}, f after 150 updates {end}"

# the start is named: from nearby starts turned by 10 degrees the uncorrected steps barely
# climb (at most 1.2 times the start), and from 0.9 times this start the corrected run climbs too
dl.robust_claim("from (-1.5, 2) the corrected run's loss never rises above its starting value, the uncorrected "
                "one climbs to more than 4 times it, and the uncorrected run ends lower after 150 updates",
                first_steps, r_setting, fixed=["x0"])

# %% [markdown] id="d6cf6a00"
# From this start, without the correction the oversized first steps throw the path across
# the valley and up the far wall, to about seven times the starting loss at lr = 0.1 (more
# than four times for lr from 0.08 to 0.12), before it settles back. How high it climbs is
# a property of this start on the steep outer wall; from other starts the jump can be much
# smaller. The correction is not about speed (here the uncorrected run even ends lower,
# because its steps stay longer for hundreds of updates); it is about making `lr` mean
# what it says from the first step on.
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

# %% [markdown] id="3d43601b"
# **Question 2 (a prediction).** Keras writes Adam in the folded form of the table in
# section 1, with $\hat\varepsilon = 10^{-7}$, $\beta_1 = 0.9$, $\beta_2 = 0.999$. What
# fraction of `lr` does *Keras'* first step move a coordinate whose gradient is
# $3 \times 10^{-6}$? Convert its eps to this notebook's convention first. Store the
# number in `tiny_gradient_step`; the measurement below shows the curve for PyTorch's
# $\varepsilon = 10^{-8}$, so you can check the shape of your reasoning but not the number.

# %% id="1ec92108" nbgrader={"grade": false, "grade_id": "q_tiny_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
tiny_gradient_step = 3e-6 / (3e-6 + 1e-7 / np.sqrt(1 - 0.999))
### END SOLUTION

# %% id="39fc371a" nbgrader={"grade": false, "grade_id": "q_tiny_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(tiny_gradient_step, "tiny_gradient_step")

# %% id="0d72a916" nbgrader={"grade": true, "grade_id": "q_tiny", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("tiny_gradient_step", tiny_gradient_step)
### END HIDDEN TESTS

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
# $\varepsilon = 10^{-8}$ does it shrink (half of $\eta$ at $|g| = \varepsilon$). That is
# all eps does: it bounds the step where $\sqrt{\hat v}$ is comparable to eps, that is
# for gradients of size about $10^{-8}$ or smaller. It does **not** stop a coordinate
# whose gradient is pure noise from stepping: $\hat m/\sqrt{\hat v}$ does not care about
# the noise's size, so noise of any size well above eps moves the coordinate by a fixed
# fraction of $\eta$ at every update. Feed a coordinate nothing but zero-mean Gaussian
# noise, of sizes from $10^{-12}$ to $10^{3}$, for 1000 updates:

# %% id="1362df33"
noise_sizes = 10.0 ** np.arange(-12, 3.1, 1)      # the noise's standard deviation, one coordinate each

def noise_steps(seed, steps, beta1, lr):
    # mean |step| / lr per coordinate after the first tenth of the run; the gradient is pure noise
    rng = np.random.default_rng(seed)
    x = m = v = np.zeros(len(noise_sizes))
    moved = []
    for t in range(1, steps + 1):
        x_new, m, v = adam_step(x, noise_sizes * rng.normal(size=len(noise_sizes)), m, v, t,
                                lr=lr, beta1=beta1)
        moved.append(np.abs(x_new - x) / lr)
        x = x_new
    return np.array(moved)[steps // 10:].mean(axis=0)

def noise_moves(**setting):
    mean = noise_steps(**setting)
    big, at_eps = mean[noise_sizes >= 1e-6], mean[noise_sizes == 1e-8][0]
    holds = 0.1 < big.min() and big.max() < 0.3 and big.max() < 1.5 * big.min() and at_eps < 0.6 * big.mean()
    return holds, f"mean |step| / lr {np.round(mean, 3)}"

n_setting = dict(seed=0, steps=1000, beta1=0.9, lr=1e-3)
noise_mean = noise_steps(**n_setting)
fig, ax = plt.subplots(figsize=(6.5, 3))
fig.subplots_adjust(left=0.1, right=0.98, bottom=0.16, top=0.97)
ax.semilogx(noise_sizes, noise_mean, marker="s", ms=4, **dl.colors.style("Adam"),
            label="Adam, mean |step| / lr, updates 100 to 1000")
ax.axvline(1e-8, color="0.6", lw=0.8)
ax.text(1.3e-8, 0.02, "eps", color="0.4")
ax.set_ylim(0, 1.1 * noise_mean.max())
ax.set_xlabel("standard deviation of the noise (the gradient's mean is 0)")
ax.set_ylabel("mean |step| / lr")
ax.legend(fontsize=8, loc="upper left")
plt.show()
# beta1 sets the fraction (a longer average cancels more noise): it moves within the sentence's range
dl.robust_claim("a coordinate whose gradient is pure noise, of any size from 1e-6 to 1e3, moves between 0.1 and "
                "0.3 lr per update on average, the same within a factor 1.5 whatever the size; only noise about "
                "as small as eps (1e-8) gives steps less than 0.6 times as long",
                noise_moves, n_setting, vary={"beta1": [0.8, 0.95]})

# %% [markdown] id="00d4311c"
# Noise of size $10^{-6}$ and noise of size $10^{3}$ give the same steps, about a fifth
# of $\eta$ with $\beta_1 = 0.9$ (the first moment averages part of the noise away, so
# a larger $\beta_1$ gives a smaller fraction); only noise near eps and below is damped.
# A coordinate with no signal keeps wandering, with steps of order $\eta$: what ends that
# is a smaller learning rate (notebook 03), not eps.
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
# the update rule says so: a visible check of your adam_step, not a finding
assert np.abs(pure.xs - signs.xs).max() < 1e-6, "with beta1 = beta2 = 0 Adam should be sign descent, up to eps"

def rescaled_runs(lr_adam, lr_sgd, steps, x0):
    out = {}
    for c in (1e-3, 1.0, 1e3):
        land_c = scaled(bowl, c)
        out[c] = (dl.run(adam_step, land_c, x0, steps, lr=lr_adam),
                  dl.run(torch_sgd_step, land_c, x0, steps, lr=lr_sgd))
    return out

def adam_gap_of(runs):
    return max(np.abs(runs[c][0].xs - runs[1.0][0].xs).max() for c in (1e-3, 1e3))

def sgd_depends_on_scale(**setting):
    runs = rescaled_runs(**setting)
    dist = {c: np.linalg.norm(gd.final) for c, (_, gd) in runs.items()}
    holds = dist[1.0] < 1e-6 and dist[1e-3] > 1.0 and runs[1e3][1].diverged
    return holds, f"distances {dist}, diverged on 1000 f: {runs[1e3][1].diverged}"

s_setting = dict(lr_adam=0.05, lr_sgd=0.15, steps=200, x0=b_start)
rescaled = rescaled_runs(**s_setting)
adam_gap = adam_gap_of(rescaled)
print(f"Adam: largest distance between the paths on 0.001 f, f and 1000 f: {adam_gap:.1e}")
for c, (_, gd) in rescaled.items():
    print(f"SGD lr = 0.15 on {c:g} f: distance to the minimum after 200 steps {np.linalg.norm(gd.final):.3g}")
# Adam's invariance follows from the update rule (m and sqrt(v) both scale by c): a check, with eps's effect
assert adam_gap < 1e-5, "Adam should follow the same path on 0.001 f, f and 1000 f, up to the effect of eps"
dl.robust_claim("gradient descent with lr = 0.15 converges on f, barely moves on 0.001 f and diverges on 1000 f",
                sgd_depends_on_scale, s_setting, fixed=["lr_sgd"])

# %% [markdown] id="194613e7"
# Adam's paths on $0.001 f$, $f$ and $1000 f$ agree to within $10^{-5}$ (eps is the only
# term that notices the scale); gradient descent with lr = 0.15 converges on $f$, hardly
# leaves its start on $0.001 f$, and diverges on $1000 f$. That is the practical appeal of Adam: `lr` is a distance in
# parameter space, not a multiplier of a gradient whose scale you do not know, so one
# default works for many models.

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

def effective(lr, steps, x0):
    # the path (steps + 1, 2) and each coordinate's effective learning rate (steps, 2)
    x, m, v = x0.copy(), np.zeros(2), np.zeros(2)
    points, rates = [x], []
    for t in range(1, steps + 1):
        x, m, v = adam_step(x, bowl.grad(x), m, v, t, lr=lr)
        points.append(x)
        rates.append(lr / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8))
    return np.array(points), np.array(rates)

e_setting = dict(lr=e_lr, steps=100, x0=e_start)
xs, eff = effective(**e_setting)
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
# at step 1 v_hat = g^2, and the two gradients are equal here: a property of the start, shown as a check
assert np.isclose(eff[0, 0], eff[0, 1]), "at step 1 both coordinates should have the same effective learning rate"

def steep_gets_more(**setting):
    _, rates = effective(**setting)
    ratio = rates[49, 1] / rates[49, 0]
    return 2.4 < ratio < 2.6, f"ratio {ratio:.2f}"

def flat_moves_more(**setting):
    path, _ = effective(**setting)
    step = np.abs(np.diff(path, axis=0))[:50].mean(axis=0) / setting["lr"]
    return 0.9 < step[0] < 0.96 and 0.3 < step[1] < 0.4, f"mean |step| / lr {np.round(step, 3)}"

# the start is where both gradients are equal: it moves along that line (0.9x, 1.1x), not off it
along = {"x0": [0.9 * e_start, 1.1 * e_start]}
dl.robust_claim("by step 50 the STEEP coordinate has the larger effective learning rate, 2.4 to 2.6 times the flat "
                "one's", steep_gets_more, e_setting, vary=along)
dl.robust_claim("yet over the first 50 steps the flat coordinate moves about 0.93 lr per step (0.9 to 0.96) and the "
                "steep one about 0.35 lr (0.3 to 0.4)", flat_moves_more, e_setting, vary=along)

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
# A fair race tunes every method on the same grid and the same budget. Three runners:
# gradient descent (lr), the **heavy ball** (torch's SGD with momentum: lr and $\beta$),
# since Adam has momentum built in and a reader will ask what momentum alone does, and
# Adam (lr and $\beta_1$, with $\beta_2 = 0.999$). The learning rates are 31 values from
# $10^{-4}$ to 10, six per decade, the same for all three; $\beta$ and $\beta_1$ take the
# same eight values from 0 to 0.98. Each run gets 600 updates, and its score is the first
# update after which $f - f^*$ stays below $10^{-6}$ for 100 updates in a row. That score
# does not change when the runs get longer, and a path that dips below the tolerance for
# a single update does not count. Three bowls: the mild one above ($\kappa = 10$), a badly
# conditioned one ($\kappa = 1000$, axes along the coordinates), and the same
# $\kappa = 1000$ bowl turned by 45° (with the start turned too, so that every method faces
# exactly the same problem in rotated coordinates).
#
# Before you run it, predict: which runner wins on each bowl, and on which bowl does
# turning change anything for which runner?

# %% id="40873bc2"
race_lrs = 10 ** np.arange(-4, 1.01, 1 / 6)             # 1e-4, 1.5e-4, ..., 6.8, 10: one grid for all
race_betas = np.array([0.0, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98])   # momentum's beta and Adam's beta1
race_start = np.array([-1.2, 1.0])
bowl_names = ("kappa = 10", "kappa = 1000", "kappa = 1000, turned 45 deg")
race_bowls = (dl.quadratic(10), dl.quadratic(1000), dl.quadratic(1000, angle=45))
RUNNERS = ("gradient descent", "heavy ball", "Adam")

race_cache = {}   # the four claims below share each run of the grid

def race_counts(steps, x0, tol=1e-6, window=100):
    """{runner: scores of shape (3 bowls, len(race_lrs), len(race_betas))}, -1 where a run does not settle.

    Every (bowl, lr) pair is one row of one array, so that each update is one call for the whole grid.
    The step functions take one float lr per call, so each is called with lr = 1. torch.optim.SGD: the lr
    is folded into the gradient (lr g), the same update with and without momentum, since its velocity is
    a sum of gradients. Adam: x_new = x - lr d with d independent of lr, so d = x - x_new(lr = 1)."""
    key = (steps, tuple(np.round(x0, 12)), tol, window)
    if key in race_cache:
        return race_cache[key]
    A = np.stack([land.A for land in race_bowls])                                  # (3, 2, 2)
    starts = np.stack([x0, x0, rotation(45) @ x0])[:, None, :]
    X0 = np.broadcast_to(starts, (3, len(race_lrs), 2)).copy()
    lr = race_lrs[None, :, None]

    def grad(X):
        return np.einsum("bij,bnj->bni", A, X)

    def loss(X):
        return 0.5 * np.einsum("bni,bni->bn", X, grad(X))

    scores = {}
    with np.errstate(over="ignore", invalid="ignore"):
        X, losses = X0, [loss(X0)]
        for _ in range(steps):
            X = torch_sgd_step(X, lr * grad(X), lr=1.0)
            losses.append(loss(X))
        scores["gradient descent"] = np.repeat(settled(np.array(losses), tol, window)[..., None],
                                               len(race_betas), axis=-1)
        for runner in ("heavy ball", "Adam"):
            per_beta = []
            for beta in race_betas:
                X, m, v, losses = X0, np.zeros_like(X0), np.zeros_like(X0), [loss(X0)]
                for t in range(1, steps + 1):
                    if runner == "heavy ball":
                        X, m = torch_momentum_step(X, lr * grad(X), m, lr=1.0, beta=beta)
                    else:
                        # exact: given (x, g, m, v, t) Adam's x_new is x - lr d, and m, v do not depend on lr
                        X_lr1, m, v = adam_step(X, grad(X), m, v, t, lr=1.0, beta1=float(beta))
                        X = X - lr * (X - X_lr1)
                    losses.append(loss(X))
                per_beta.append(settled(np.array(losses), tol, window))
            scores[runner] = np.stack(per_beta, axis=-1)
    race_cache[key] = scores
    return scores

def best_of(score):
    """(count, lr index, beta index) of the best finished run on one bowl, or None if none finishes."""
    s = np.where(score < 0, np.iinfo(int).max, score)
    i, j = np.unravel_index(np.argmin(s), s.shape)
    return None if score[i, j] < 0 else (int(score[i, j]), int(i), int(j))

race_setting = dict(steps=600, x0=race_start)
race = race_counts(**race_setting)
best = {(r, b): best_of(race[r][k]) for r in RUNNERS for k, b in enumerate(bowl_names)}
print("updates until f - f* stays below 1e-6 for 100 updates (None: not within 600)")
for b in bowl_names:
    cells = []
    for r in RUNNERS:
        found = best[r, b]
        if found is None:
            cells.append(f"{r} None")
        else:
            n, i, j = found
            knob = "" if r == "gradient descent" else f", beta {race_betas[j]:g}"
            cells.append(f"{r} {n} (lr {race_lrs[i]:.3g}{knob})")
    print(f"{b:28s} " + "   ".join(cells))
default_beta1 = [best_of(race["Adam"][k][:, [5]]) for k in range(3)]    # beta1 = 0.9, the default
print("Adam with its default beta1 = 0.9, best lr:", [None if d is None else d[0] for d in default_beta1])

# %% id="3302cc38"
fig, axes = plt.subplots(1, 3, figsize=(11, 3.4), sharey=True)
fig.subplots_adjust(left=0.07, right=0.99, bottom=0.15, top=0.83, wspace=0.08)
marks = {"gradient descent": ("o", ":"), "heavy ball": ("s", "--"), "Adam": ("^", "-")}
top = 600
for k, (ax, b) in enumerate(zip(axes, bowl_names, strict=True)):
    for r in RUNNERS:
        score = race[r][k]
        n = np.where(score < 0, np.iinfo(int).max, score).min(axis=1).astype(float)   # best beta at each lr
        n[n == np.iinfo(int).max] = np.nan
        marker, ls = marks[r]
        color = dl.colors.style({"gradient descent": "SGD", "heavy ball": "momentum"}.get(r, r))["color"]
        ax.semilogx(race_lrs, n, marker=marker, ms=4, ls=ls, lw=1.5, color=color, label=r)
    ax.axhline(top, color="0.6", lw=0.8)
    ax.set_title(b, fontsize=10)
    ax.set_xlabel("learning rate")
    ax.set_xlim(race_lrs[0], race_lrs[-1])
    ax.grid(alpha=0.3)
axes[0].set_ylim(0, top + 20)
axes[0].set_ylabel("updates until f - f* settles < 1e-6")
axes[0].legend(fontsize=8, loc="upper right")
fig.suptitle("the race: each runner at its best beta for every lr (settles: stays below 1e-6 for 100 updates); "
             "a gap: no beta settles within 600 updates", fontsize=9, y=0.99)
plt.show()

# %% id="ac213214"
def grid_interior(**setting):
    scores = race_counts(**setting)
    where = {}
    for r in RUNNERS:
        for k, b in enumerate(bowl_names):
            found = best_of(scores[r][k])
            if found is None:
                continue
            _, i, j = found
            beta_ok = r == "gradient descent" or (j < len(race_betas) - 1 and (j > 0 or r == "Adam"))
            where[r, b] = (0 < i < len(race_lrs) - 1 and beta_ok, race_lrs[i], race_betas[j])
    bad = {key: val[1:] for key, val in where.items() if not val[0]}
    return not bad, f"best settings at an edge: {bad}" if bad else ""

def counts_of(setting):
    scores = race_counts(**setting)
    return {(r, b): best_of(scores[r][k]) for r in RUNNERS for k, b in enumerate(bowl_names)}

def count(found):
    return None if found is None else found[0]

def mild_bowl(**setting):
    c = counts_of(setting)
    gd, hb, ad = (count(c[r, "kappa = 10"]) for r in RUNNERS)
    return hb <= 20 and ad <= 20 and gd > 2 * max(hb, ad), f"GD {gd}, heavy ball {hb}, Adam {ad}"

def aligned_bowl(**setting):
    c = counts_of(setting)
    gd, hb, ad = (count(c[r, "kappa = 1000"]) for r in RUNNERS)
    return gd is None and ad <= 20 and hb > 10 * ad, f"GD {gd}, heavy ball {hb}, Adam {ad}"

def turned_bowl(**setting):
    c = counts_of(setting)
    same = all(count(c[r, "kappa = 1000"]) == count(c[r, "kappa = 1000, turned 45 deg"]) for r in RUNNERS[:2])
    hb, ad = count(c["heavy ball", bowl_names[2]]), count(c["Adam", bowl_names[2]])
    return same and ad > 2 * hb, f"heavy ball {hb}, Adam {ad}, unturned {[count(c[r, bowl_names[1]]) for r in RUNNERS]}"

def default_adam_on_mild(**setting):
    c, scores = counts_of(setting), race_counts(**setting)
    gd, default = count(c["gradient descent", "kappa = 10"]), count(best_of(scores["Adam"][0][:, [5]]))
    return default is not None and default > 3 * gd, f"Adam at beta1 = 0.9: {default}, gradient descent {gd}"

# A score t depends only on the losses up to t + 100: a longer run can add runs that settle after
# update 500, never change a score below that. So the winners do not depend on the run length:
assert all(found is None or found[0] < race_setting["steps"] - 100 for found in best.values()), best

# the tolerance and the window define the score, and stay; the start, and the run length (3 times as long:
# the scores must not move) vary around the setting shown
dl.robust_claim("every runner's best lr lies strictly inside the grid, and so does every best beta, except "
                "Adam's beta1 = 0, the bound of its range (gradient descent has no best on kappa = 1000: "
                "no lr settles)", grid_interior, race_setting)
dl.robust_claim("on the mild bowl the tuned heavy ball and the tuned Adam both settle within 20 updates, and the "
                "tuned gradient descent needs more than twice as many", mild_bowl, race_setting)
dl.robust_claim("on the kappa = 1000 bowl along the axes Adam settles within 20 updates, more than 10 times sooner "
                "than the heavy ball, and gradient descent not within 600", aligned_bowl, race_setting)
dl.robust_claim("turned by 45 degrees, the heavy ball and gradient descent score exactly as on the unturned bowl, "
                "and Adam needs more than twice the heavy ball's updates", turned_bowl, race_setting)
dl.robust_claim("with its default beta1 = 0.9 (tuned lr) Adam needs more than three times the tuned gradient "
                "descent's updates on the mild bowl", default_adam_on_mild, race_setting)


# %% [markdown] id="f433e945"
# The honest summary:
#
# - On the mildly conditioned bowl the tuned heavy ball and the tuned Adam both settle
#   within 20 updates, and a tuned gradient descent needs more than twice as many. Adam's
#   best $\beta_1$ here is 0: with bias correction and no momentum it is RMSprop, whose
#   division rescales the two axes of this bowl. With the default $\beta_1 = 0.9$, tuning
#   only its learning rate, Adam needs more than three times the tuned gradient descent's
#   updates here (142 against 43): compare methods at their best settings, not at one
#   method's defaults.
# - When the bad scaling lies **along the coordinate axes** ($\kappa = 1000$), Adam's
#   per-coordinate division removes most of it: it settles within 20 updates, more than
#   ten times sooner than the best heavy ball, while gradient descent, limited by $2/L$,
#   does not settle within 600.
# - Turn the same bowl by 45° and neither gradient descent nor the heavy ball notices
#   (their scores are exactly those of the unturned bowl), but Adam does: even at its best
#   setting it needs more than twice the heavy ball's updates. Adam's adaptivity is a
#   **diagonal** rescaling; it helps only as far as the difficulty is aligned with the
#   parameters. In networks the gradient scales often do differ from one parameter tensor
#   to the next, which is one reason Adam is a good default there; on a problem whose
#   difficulty is not aligned with the parameters, well-tuned momentum is the baseline to
#   beat.

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
# Click the contour plot to start from there. The numbers in the legend are the final
# $f(x) - f^*$.

# %% id="e2add516"
def adam_switch(x, g, m, v, t, lr, beta1, beta2, bias_correction=True):
    # your adam_step; an enormous t switches the bias correction off
    return adam_step(x, g, m, v, t if bias_correction else 10**9, lr, beta1, beta2)

explore(lambda s: dl.ravine(kappa=50, angle=s["angle"]),
        [Path("SGD", torch_sgd_step, {"lr": "lr SGD"}),
         Path("momentum", torch_momentum_step, {"lr": "lr SGD", "beta": "beta1"}),
         Path("RMSprop", torch_rmsprop_step, {"lr": "lr", "alpha": "beta2"}),
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

# %% [markdown] id="e2ce93d8"
# **Question 3 (a prediction).** `torch.optim.AdamW` with lr = $10^{-3}$ and
# weight_decay = 0.1. A weight receives no gradient for 1000 updates. What fraction of its
# value is left? Store it in `adamw_fraction_left`; the experiments below show such weights
# in other settings.

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

# %% [markdown] id="938f558c"
# ### Which weights decay, and when?
#
# A small linear model makes the difference visible. Six input features have very
# different scales (10, 3, 1, 0.3, 0.1) and the sixth is always zero in the training
# data, like a word that never occurs: its weight gets no gradient from the data at all.
# The targets are $y = X\,(1, \dots, 1) + \text{noise}$, the loss is the mean squared error,
# and every weight starts at 2. Train 500 full-batch updates with lr = 0.01: without any
# decay, with Adam + L2 ($\lambda = 0.1$), and with AdamW ($\lambda = 0.1$).
#
# Where both runs end is not the interesting part: Adam + L2 converges to the minimiser
# of loss + penalty, the ridge-regression solution, which *any* optimizer of that sum
# reaches. What is specific to Adam is the way there. Since the update divides the whole
# gradient by $\sqrt{\hat v}$, and $m$ is linear in the gradients, the step splits exactly
# into a data part and a **decay part** $\eta\, \hat m^{\text{pen}} / (\sqrt{\hat v} + \varepsilon)$,
# where $m^{\text{pen}}$ is the running average of the penalty gradients $\lambda x$ alone.
# Divide the decay part by $x$ and by $\eta\lambda$: that is the decay rate of each weight
# relative to AdamW's, which shrinks every weight by exactly $\eta\lambda x$ per update.

# %% id="d4cd25d6"
feature_scales = np.array([10, 3, 1, 0.3, 0.1, 0.0])
X_lin = np.random.default_rng(1).normal(size=(200, 6)) * feature_scales
y_lin = X_lin @ np.ones(6) + 0.1 * np.random.default_rng(2).normal(size=200)

def mse_grad(w):
    # the gradient of the mean squared error; w may be a stack of weight vectors (..., 6)
    return 2 * (w @ X_lin.T - y_lin) @ X_lin / len(y_lin)

def adam_on_grid(x, g, m, v, t, lr):
    # your adam_step, which takes a float lr; for an array of lrs (a grid) one call with lr = 1
    if np.ndim(lr) == 0:
        return adam_step(x, g, m, v, t, lr=float(lr))
    # exact: given (x, g, m, v, t) Adam's x_new is x - lr d, and m, v do not depend on lr
    x_lr1, m, v = adam_step(x, g, m, v, t, lr=1.0)
    return x - lr * (x - x_lr1), m, v

def adamw_on_grid(x, g, m, v, t, lr, wd):
    # your adamw_step, which takes float lr and weight_decay; for arrays of them one call with lr = 1, wd = 0
    if np.ndim(lr) == 0 and np.ndim(wd) == 0:
        return adamw_step(x, g, m, v, t, lr=float(lr), weight_decay=float(wd))
    # exact: torch's AdamW is x (1 - lr wd) - lr d = x - lr (wd x + d), Adam's direction d free of lr and wd
    x_lr1, m, v = adamw_step(x, g, m, v, t, lr=1.0, weight_decay=0.0)
    return x - lr * (wd * x + (x - x_lr1)), m, v

def train_linear(kind, wd=0.1, lr=0.01, updates=500, w0=2.0):
    """The path (updates, ..., 6); with kind "Adam + L2" also the decay rate of every weight relative to
    lr * wd (the penalty's share of each step, divided by the weight). lr and wd may be arrays that
    broadcast against the weights: a whole grid in one run, each update one call of your step function
    with float hyperparameters."""
    w = np.full(np.broadcast_shapes(np.shape(lr), np.shape(wd), (6,)), w0)
    m, v, m_pen, path, rates = np.zeros_like(w), np.zeros_like(w), np.zeros_like(w), [], []
    with np.errstate(divide="ignore", invalid="ignore"):
        for t in range(1, updates + 1):
            g = mse_grad(w)
            if kind == "Adam + L2":
                m_pen = 0.9 * m_pen + 0.1 * wd * w            # the penalty's own running average
                w_new, m, v = adam_on_grid(w, g + wd * w, m, v, t, lr)      # L2: wd x joins the gradient
                share = lr * (m_pen / (1 - 0.9 ** t)) / (np.sqrt(v / (1 - 0.999 ** t)) + 1e-8)
                rates.append(share / w / (lr * wd))
            elif kind == "AdamW":
                w_new, m, v = adamw_on_grid(w, g, m, v, t, lr, wd)
            else:
                w_new, m, v = adam_on_grid(w, g, m, v, t, lr)
            w = w_new
            path.append(w)
    return (np.array(path), np.array(rates)) if kind == "Adam + L2" else np.array(path)

lin_l2, decay_rate = train_linear("Adam + L2")
lin = {"no decay": train_linear("no decay"), "Adam + L2": lin_l2, "AdamW": train_linear("AdamW")}
weak = train_linear("Adam + L2", wd=0.001)[0][:, 5]     # the unused weight under a 100 times weaker L2
steps_lin = np.arange(1, 501)
print("Adam + L2: mean decay rate over the first 100 updates / (lr lambda), per feature scale", feature_scales)
print("  ", np.round(decay_rate[:100].mean(axis=0), 3), "   (AdamW: 1 for every weight, at every update)")

fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4), width_ratios=[1.2, 1])
fig.subplots_adjust(left=0.07, right=0.99, bottom=0.14, top=0.92, wspace=0.2)
feature_colors = ("#882255", "#D55E00", "#009E73", "#0072B2", "#CC79A7", "#999999")   # Tol / Okabe-Ito
for k, scale in enumerate(feature_scales):
    a1.semilogy(steps_lin, decay_rate[:, k], color=feature_colors[k], ls=("-", "--", "-.", ":")[k % 4],
                marker="os^Dvx"[k], markevery=60, ms=4, label=f"Adam + L2, scale {scale:g}")
a1.axhline(1.0, color="#000000", lw=2.5, label="AdamW, every weight")
a1.set_xlabel("update")
a1.set_ylabel("decay rate / (lr lambda)")
a1.set_title("how fast each weight is decayed along the way (lambda = 0.1)", fontsize=10)
a1.legend(fontsize=7, ncol=2, loc="lower right")
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
# the decoupled update says so: a check of your adamw_step, not a finding
dl.assert_close(unused_w, 2 * (1 - 0.01 * 0.1) ** steps_lin, "AdamW shrinks the unused weight by (1 - lr lambda)")

def decay_along_the_way(lr, wd, updates):
    _, rate = train_linear("Adam + L2", wd=wd, lr=lr, updates=updates)
    mean = rate[:100].mean(axis=0)
    return mean[0] < 0.02 and mean[1] < 0.2 and mean[3] > 5 and mean[4] > 5, f"{np.round(mean, 3)}"

def lambda_irrelevant(lr, wd, updates):
    strong, weaker = train_linear("Adam + L2", wd=wd, lr=lr, updates=updates)[0][:, 5], \
        train_linear("Adam + L2", wd=wd / 100, lr=lr, updates=updates)[0][:, 5]
    gap = np.abs(strong - weaker).max()
    return gap < 1e-4 and abs(strong[499]) < 0.1, f"largest gap {gap:.1e}, after 500 updates {strong[499]:.3f}"

lin_setting = dict(lr=0.01, wd=0.1, updates=500)
dl.robust_claim("over the first 100 updates Adam + L2 decays the scale-10 weight at less than 1/50 of AdamW's "
                "rate lr lambda, the scale-3 one at less than 1/5, and the scale-0.3 and 0.1 weights at more than "
                "5 times it", decay_along_the_way, lin_setting)
dl.robust_claim("with Adam + L2 the unused weight follows the same path for lambda and a 100 times weaker "
                "lambda, and after 500 updates it is below 0.1 (from 2)", lambda_irrelevant, lin_setting)
ridge = np.linalg.solve(2 * X_lin.T @ X_lin / len(y_lin) + 0.1 * np.eye(6), 2 * X_lin.T @ y_lin / len(y_lin))
print("Adam + L2 after 500 updates:", np.round(lin["Adam + L2"][-1], 3),
      "\nridge solution:           ", np.round(ridge, 3))

def ends_at_ridge(lr, wd, updates):
    path, _ = train_linear("Adam + L2", wd=wd, lr=lr, updates=updates)
    target = np.linalg.solve(2 * X_lin.T @ X_lin / len(y_lin) + wd * np.eye(6), 2 * X_lin.T @ y_lin / len(y_lin))
    gap = np.abs(path[-1] - target).max()
    return gap < 0.1, f"largest gap {gap:.3f}"

dl.robust_claim("after 500 updates Adam + L2 is within 0.1 of the ridge-regression solution", ends_at_ridge,
                lin_setting)

# %% [markdown] id="a9126340"
# With **Adam + L2** the decay depends on the gradients. Along the way, the weight of the
# scale-10 feature, whose data gradients are large, is decayed at less than a fiftieth of
# AdamW's rate: Adam divides the penalty by the large $\sqrt{\hat v}$ of that weight. The
# weights of the scale-0.3 and scale-0.1 features are decayed more than five times faster
# than AdamW would. The unused weight's only gradient is the penalty $\lambda x$ itself,
# which Adam normalises to a step of up to $\eta$: it is removed at a speed set by lr
# alone, and **the same path comes out for $\lambda$ and for a hundred times weaker
# $\lambda$**. After 500 updates Adam + L2 is within 0.1 of the ridge-regression
# solution, which plain L2 regularisation gives with any optimizer; what Adam changes is
# the route, which weights are pulled in early and which hardly at all, and that matters
# whenever training stops before convergence or the gradients are noisy, as in every
# network.
#
# With **AdamW** every weight is multiplied by the same $1-\eta\lambda$ at every update,
# whatever its gradients: the unused weight follows $2(1-\eta\lambda)^t$ exactly.
#
# ### The learning rate times the weight decay
#
# Note what `torch.optim.AdamW` multiplies: $x \leftarrow (1-\eta\lambda)\,x$, the decay is
# **scaled by the learning rate**. Loshchilov and Hutter's AdamW scales it by the
# schedule's multiplier only, so their $\lambda$ is torch's $\eta\lambda$; their Figure 2
# maps the result over a grid of learning rate and weight decay. A small grid of that kind,
# cheap because every cell is one row of one array: how much of the unused weight is left
# after 500 updates, and how much of the scale-1 weight's undecayed value, for learning rates
# from 0.001 to 0.1 and weight decays from 0.001 to 1.

# %% id="bb23a3f8"
grid_lrs = 10.0 ** np.arange(-3, -0.9, 0.5)          # 0.001 ... 0.1
grid_wds = 10.0 ** np.arange(-3, 0.1, 0.5)           # 0.001 ... 1
lr_col, wd_row = grid_lrs[:, None, None], grid_wds[None, :, None]

def decay_grid(updates):
    free = train_linear("no decay", lr=lr_col, wd=wd_row, updates=updates)[-1]
    out = {"Adam + L2": train_linear("Adam + L2", lr=lr_col, wd=wd_row, updates=updates)[0][-1],
           "AdamW": train_linear("AdamW", lr=lr_col, wd=wd_row, updates=updates)[-1]}
    return {k: (w[..., 5] / 2, w[..., 2] / free[..., 2]) for k, w in out.items()}   # unused left, scale-1 kept

grid = decay_grid(500)
fig, axes = plt.subplots(1, 4, figsize=(12, 3.2), sharey=True)
fig.subplots_adjust(left=0.06, right=0.99, bottom=0.2, top=0.86, wspace=0.08)
panels = [(k, j, name) for k in ("Adam + L2", "AdamW") for j, name in ((0, "unused weight left"),
                                                                     (1, "scale-1 weight kept"))]
for ax, (kind, j, name) in zip(axes, panels, strict=True):
    values = np.clip(grid[kind][j], 0, 1.05)
    ax.imshow(values, cmap="Greys", vmin=0, vmax=1.05, origin="lower", aspect="auto")
    for (i, k), val in np.ndenumerate(values):
        ax.text(k, i, f"{val:.2f}", ha="center", va="center", fontsize=6.5, color="white" if val > 0.6 else "black")
    ax.set_xticks(range(len(grid_wds)), [f"{w:.0e}" for w in grid_wds], rotation=60, fontsize=7)
    ax.set_title(f"{kind}: {name}", fontsize=9)
    ax.set_xlabel("weight decay lambda")
axes[0].set_yticks(range(len(grid_lrs)), [f"{lr:.0e}" for lr in grid_lrs], fontsize=7)
axes[0].set_ylabel("learning rate")
fig.suptitle("after 500 updates (values clipped to [0, 1.05]; darker = more left)", fontsize=9)
plt.show()

# %% id="58c373e6"
left_w = grid["AdamW"][0]
dl.assert_close(left_w, (1 - lr_col[..., 0] * wd_row[..., 0]) ** 500,
                "AdamW leaves (1 - lr lambda)^500 of a weight without gradient: only the product lr lambda counts")

def grid_pattern(updates):
    g = decay_grid(updates)
    (unused_l2, kept_l2), kept_w = g["Adam + L2"], g["AdamW"][1]
    by_lr = np.ptp(unused_l2, axis=1).max()             # Adam + L2, unused weight: spread across lambda
    by_lambda = np.ptp(kept_l2[2:], axis=0).max()       # Adam + L2, scale-1 weight: spread across lr >= 0.01
    small_lr, big_lr = kept_w[0, -1], kept_w[-1, 2]     # AdamW, both at lr lambda = 1e-3
    holds = by_lr < 0.01 and by_lambda < 0.01 and small_lr < 0.7 and big_lr > 0.95
    return holds, (f"Adam + L2: unused spread across lambda {by_lr:.3f}, scale-1 spread across lr {by_lambda:.3f}; "
                   f"AdamW scale-1 at lr lambda = 1e-3: {small_lr:.3f} (lr 0.001) and {big_lr:.3f} (lr 0.1)")

dl.robust_claim("on this grid, with Adam + L2 the unused weight's fate is set by the learning rate alone (the same "
                "within 0.01 for every lambda), and for lr from 0.01 up the scale-1 weight's by lambda alone (the "
                "same within 0.01 for every lr); with AdamW the scale-1 weight is not set by lr lambda alone: at "
                "lr lambda = 0.001 it keeps under 0.7 with lr = 0.001 and over 0.95 with lr = 0.1",
                grid_pattern, dict(updates=500))

# %% [markdown] id="8611cbb1"
# Read the four maps by their contours. With **Adam + L2** the weight without a data
# gradient is gone at a speed set by the learning rate alone: every column of a row is the
# same, whatever $\lambda$. The scale-1 weight, for learning rates from 0.01 up, has
# reached the ridge end point, set by $\lambda$ alone: every row of a column is the same.
# With **AdamW** the weight without a gradient keeps exactly $(1-\eta\lambda)^{500}$:
# its contours are the diagonals $\eta\lambda = $ const, because torch's AdamW
# multiplies the decay by the learning rate. Double lr and you double the decay, unless you
# halve weight_decay; Loshchilov and Hutter's $\lambda$ corresponds to torch's
# $\eta\lambda$, so settings copied between the two conventions must be converted. A
# used weight under AdamW is set by neither knob alone: at the same $\eta\lambda = 10^{-3}$
# the scale-1 weight keeps under 0.7 of its value with lr = 0.001 and over 0.95 with
# lr = 0.1, since the data part of the step grows with lr too and pulls it back.
#
# This toy has no held-out data, so it cannot reproduce the paper's finding about
# *generalisation* (that with decoupled decay the best $\lambda$ depends much less on the
# learning rate). What it shows is the mechanism behind that figure: with L2 inside Adam,
# how strongly a weight is regularised depends on its gradient history; with AdamW it does
# not.

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
# ## 8. A look beyond (optional, not graded)
#
# Lion (Chen et al., 2023, found by a program search over update rules) drops the second
# moment altogether and steps by the sign of a blend of momentum and gradient: every
# coordinate moves by exactly $\eta$, the limit of Adam's sign-like behaviour. You will
# meet it, and race it, in notebook 07. Other variants worth knowing: AMSGrad
# (`torch.optim.Adam(amsgrad=True)`) divides by the largest second moment seen so far
# instead of the current one; RAdam (`torch.optim.RAdam`) starts with plain momentum steps
# and switches the division by $\sqrt{\hat v}$ on gradually, by a factor derived from the
# variance of the adaptive learning rate: a built-in warmup.

# %% [markdown] id="eae05560"
# ## Summary
#
# - Adam = momentum's first moment $m$ (EMA form) + RMSprop's second moment $v$, each
#   bias-corrected by $1-\beta^t$, step $\eta\,\hat m/(\sqrt{\hat v}+\varepsilon)$: PyTorch's
#   convention; Keras folds the correction into the step size and scales eps differently.
# - Without the correction the first steps are too *long*: 3.16 $\eta$ at $t = 1$, up to
#   6.6 $\eta$ around $t = 12$ with the defaults.
# - Adam's steps are close to $\eta$ whatever the gradient's scale, and its path does not
#   change when the loss is rescaled; eps bounds the step only for gradients near
#   $10^{-8}$ or below, and pure noise of any larger size still moves a coordinate by a
#   fixed fraction of $\eta$ per update.
# - Its per-coordinate scaling follows the gradient history, not the curvature. Tuned on
#   one grid, it beats the heavy ball and gradient descent when the bad scaling lies along
#   the parameter axes; turn the bowl and the heavy ball, which does not notice the turn,
#   wins by more than a factor of two.
# - Adam + L2 decays weights with large gradients hardly at all along the way and weights
#   with small gradients hard, at a speed set by lr rather than $\lambda$; AdamW shrinks
#   every weight by $1-\eta\lambda$ per step: in torch the decay is multiplied by lr.
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
