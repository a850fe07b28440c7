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
#   title: 04 Batch size
# ---

# %% [markdown] id="e3c80883"
# # 04 · Batch size: minibatches, gradient noise and the learning rate
#
# The gradient of the loss over the whole dataset gives the exact downhill direction,
# but one step costs a full pass over the data. A gradient computed on a handful of
# examples is cheap and noisy. Minibatch SGD lives between the two, and the batch size decides how much noise
# you buy, how much each step costs, and which learning rates are safe.
#
# **You will be able to**
# - cut a dataset into shuffled minibatches the way PyTorch's `DataLoader` does (a new
#   order every epoch, a short last batch or `drop_last`), and train with them;
# - measure gradient noise correctly, $\mathbb E\,\|g_B - g\|^2$, predict how it falls
#   with the batch size (like $1/B$, with a correction as $B$ approaches $n$), and say
#   why the variance of gradient *norms* is not the same thing;
# - weigh the cost side: updates per epoch, time per update, loss per example seen and
#   per second;
# - use the linear scaling rule for the learning rate, find where it breaks, and predict
#   the noise floor where constant-lr SGD stops improving.
#
# **Prerequisites**: notebook 01 (gradient descent, the stability limit $2/L$), least
# squares, a little probability (mean and variance of an average). **Time**: about 90
# minutes.
#
# **How this notebook works.** Cells marked `# YOUR CODE HERE` are yours. Each graded
# function has a visible test cell right after it: run it, and fix your code until it
# passes. Hidden tests then grade your function on many random cases. The experiments
# use *your* functions, so they only work once your code does.

# %% id="8603b53b"
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

import descentlab as dl
from descentlab.batch_plot import explore_batch, fastest_timing, log_ticks, record_run, show_runs
from descentlab.batch_problems import Regression, make_regression

# %matplotlib inline
rng = np.random.default_rng(0)
_ = torch.manual_seed(0)  # assigned, so that the cell does not print the generator

# %% [markdown] id="ef21b33c"
# ## 1. A regression problem with a known answer
#
# Our data: $n = 4000$ rows $x_i \in \mathbb R^8$ and targets $y_i = x_i^\top w_{\text{true}} + e_i$
# with noise of standard deviation 0.5. We fit the weights by least squares, minimising
# the **mean squared error**
#
# $$L(w) = \frac1n \sum_{i=1}^n (x_i^\top w - y_i)^2 = \frac1n \|Xw - y\|^2 .$$
#
# The toolkit built the data so that the answer is known exactly: the noise is
# uncorrelated with every feature *in this sample* (with real data that holds only on
# average), so the best fit $w^*$ is exactly $w_{\text{true}}$ and the smallest loss is
# exactly $0.5^2 = 0.25$. Every loss below is reported as $L(w) - L(w^*)$, the distance
# to the best possible. Features 0 and 1 are correlated (0.8): over the plane of $w_0$
# and $w_1$ the loss is a tilted valley.

# %% id="95d50741"
data = make_regression(n=4000, d=8, noise=0.5, corr=0.8, seed=0)
X, y = data.X, data.y
n, d = X.shape
print(data)
print(f"best fit w* = {np.round(data.w_star, 6)}, L(w*) = {data.loss_min:.6f}")
dl.claim("the least-squares fit is exactly w_true", np.allclose(data.w_star, data.w_true, atol=1e-10))
dl.claim("the smallest loss is 0.5^2 = 0.25", abs(data.loss_min - 0.25) < 1e-12)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), layout="constrained")
ax1.scatter(X[:400] @ data.w_true, y[:400], s=4, alpha=0.5)
ax1.set_xlabel("x . w_true")
ax1.set_ylabel("y")
ax1.set_title("400 of the 4000 rows", fontsize=10)
a, b = np.meshgrid(np.linspace(-1, 2.6, 120), np.linspace(-3.3, 0.3, 120))
levels = np.geomspace(0.01, 20, 12)
ax2.contour(a, b, data.slice_loss(a, b) - data.loss_min, levels=levels, colors="0.6", linewidths=0.8)
ax2.plot(*data.w_star[:2], "k*", ms=12)
ax2.set_xlabel("w[0]")
ax2.set_ylabel("w[1]")
ax2.set_aspect("equal")
ax2.set_title("L(w) - L(w*) over (w[0], w[1]), other weights at w*", fontsize=10)
plt.show()


# %% [markdown] id="578ce486"
# ### The gradient
#
# Each row contributes $(x_i^\top w - y_i)^2$, whose gradient is $2\,(x_i^\top w - y_i)\,x_i$.
# The loss is their mean, so its gradient is the mean of theirs:
#
# $$\nabla L(w) = \frac2n \sum_i (x_i^\top w - y_i)\, x_i = \frac2n X^\top (Xw - y).$$
#
# The same formula on a **batch** of rows $X_B, y_B$ (divide by the batch size $|B|$, not
# by $n$) gives the batch gradient $g_B$, the mean of the per-example gradients in the
# batch. This is what `torch.nn.MSELoss()` (mean reduction) followed by `backward()` gives.

# %% id="fe18208b" nbgrader={"grade": false, "grade_id": "mse_gradient", "locked": false, "schema_version": 3, "solution": true, "task": false}
def mse_gradient(w, X, y):
    """Gradient of mean((X @ w - y) ** 2) with respect to w.

    w: (d,) weights; X: (m, d) rows; y: (m,) targets (any number of rows m >= 1).
    Returns a new (d,) array: 2 / m * X^T (X w - y). The inputs are left unchanged.
    """
    ### BEGIN SOLUTION
    return 2.0 * X.T @ (X @ w - y) / len(y)
    ### END SOLUTION


# %% id="f186b89b" nbgrader={"grade": false, "grade_id": "mse_gradient_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for mse_gradient
Xs, ys, ws = np.array([[1.0, 2.0], [3.0, -1.0], [0.5, 0.0]]), np.array([1.0, 0.0, 2.0]), np.array([0.5, -1.0])
dl.assert_close(mse_gradient(ws, Xs, ys), [2.75, -5.0], "mse_gradient(w, X, y)",
                inputs="X=[[1, 2], [3, -1], [0.5, 0]], y=[1, 0, 2], w=[0.5, -1]")
# against finite differences of the loss, on 50 rows of our data
Xb, yb, wb = X[:50], y[:50], np.linspace(-1, 1, d)
def loss(w):
    return np.mean((Xb @ w - yb) ** 2)
h, eye = 1e-6, np.eye(d)   # eye[k]: the k-th unit vector
numeric = np.array([(loss(wb + h * eye[k]) - loss(wb - h * eye[k])) / (2 * h) for k in range(d)])
dl.assert_close(mse_gradient(wb, Xb, yb), numeric, "mse_gradient against central differences of the loss", tol=1e-6,
                inputs="the first 50 rows")
g_star = mse_gradient(data.w_star, X, y)
assert np.linalg.norm(g_star) < 1e-9, (
    f"at the best fit the full gradient must vanish, got norm {np.linalg.norm(g_star):.2e}")
assert np.array_equal(ws, [0.5, -1.0]), "mse_gradient changed its input w in place"
print("mse_gradient: visible tests passed")

# %% id="b9e22cbc" nbgrader={"grade": true, "grade_id": "mse_gradient_basic", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# mse_gradient: basic behaviour, a 3-row example at w and at w = 0 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("mse_gradient", mse_gradient, "basic")
### END HIDDEN TESTS

# %% id="975dc58d" nbgrader={"grade": true, "grade_id": "mse_gradient_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# mse_gradient: 100 random problems (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("mse_gradient", mse_gradient, "random")
### END HIDDEN TESTS

# %% id="fb726b40" nbgrader={"grade": true, "grade_id": "mse_gradient_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# mse_gradient: edge cases: one row, one feature, the least-squares solution (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("mse_gradient", mse_gradient, "edge")
### END HIDDEN TESTS

# %% [markdown] id="a6cf2e7d"
# ## 2. Minibatches: shuffle, cut, repeat
#
# One **epoch** is one pass over the data. Minibatch SGD, as PyTorch's
# `DataLoader(dataset, batch_size=B, shuffle=True)` runs it, does this every epoch:
#
# 1. draw a **new random order** of the $n$ rows (`rng.permutation(n)`);
# 2. cut it into consecutive batches of $B$ rows;
# 3. if $B$ does not divide $n$, the last batch is **short** ($n \bmod B$ rows), unless
#    `drop_last=True` drops it (then $n \bmod B$ rows, different ones every epoch, sit out
#    this epoch).
#
# Every row is used exactly once per epoch: sampling *without* replacement. The batch
# gradient at a fixed $w$ is an unbiased estimate of the full gradient, and over one
# epoch of equal batches the batch gradients average to exactly the full gradient.
#
# The course's convention is this `DataLoader` one, written with a numpy `Generator`
# so results can be reproduced: `minibatch_indices(n, batch_size, rng, drop_last)`
# returns the list of index arrays of one epoch. Call it again for the next epoch.

# %% id="76f829f4" nbgrader={"grade": false, "grade_id": "minibatch_indices", "locked": false, "schema_version": 3, "solution": true, "task": false}
def minibatch_indices(n, batch_size, rng, drop_last=False):
    """The batches of one epoch: rng.permutation(n) cut into consecutive pieces of
    batch_size indices (a list of integer arrays). The last piece is shorter when
    batch_size does not divide n; drop_last=True leaves it out.
    Call rng.permutation exactly once, and no other method of rng."""
    ### BEGIN SOLUTION
    order = rng.permutation(n)
    batches = [order[i:i + batch_size] for i in range(0, n, batch_size)]
    if drop_last and len(batches[-1]) < batch_size:
        batches = batches[:-1]
    return batches
    ### END SOLUTION


# %% id="aa460efb" nbgrader={"grade": false, "grade_id": "minibatch_indices_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for minibatch_indices
batches = minibatch_indices(10, 3, np.random.default_rng(0))
sizes = [len(b) for b in batches]
assert sizes == [3, 3, 3, 1], f"n=10, batch_size=3: expected batch sizes [3, 3, 3, 1], got {sizes}"
dl.assert_close(np.concatenate(batches), np.random.default_rng(0).permutation(10),
                "the batches put together must be rng.permutation(10) of the same generator")
sizes = [len(b) for b in minibatch_indices(10, 3, np.random.default_rng(0), drop_last=True)]
assert sizes == [3, 3, 3], f"drop_last=True drops the short last batch: expected [3, 3, 3], got {sizes}"
sizes = [len(b) for b in minibatch_indices(12, 4, np.random.default_rng(0), drop_last=True)]
assert sizes == [4, 4, 4], f"drop_last=True keeps a last batch that is full: expected [4, 4, 4], got {sizes}"
gen = np.random.default_rng(1)
first, second = np.concatenate(minibatch_indices(20, 5, gen)), np.concatenate(minibatch_indices(20, 5, gen))
assert not np.array_equal(first, second), "two epochs from the same generator should come in different orders"
print("minibatch_indices: visible tests passed")

# %% id="7ad79287" nbgrader={"grade": true, "grade_id": "minibatch_indices_basic", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# minibatch_indices: basic behaviour, small n with and without drop_last (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("minibatch_indices", minibatch_indices, "basic")
### END HIDDEN TESTS

# %% id="2b7f2c89" nbgrader={"grade": true, "grade_id": "minibatch_indices_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# minibatch_indices: 100 random (n, batch_size, seed), same batches as the reference (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("minibatch_indices", minibatch_indices, "random")
### END HIDDEN TESTS

# %% id="ad4b5847" nbgrader={"grade": true, "grade_id": "minibatch_indices_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# minibatch_indices: edge cases: n = 1, batch_size = 1, batch_size = n, batch_size > n (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("minibatch_indices", minibatch_indices, "edge")
### END HIDDEN TESTS

# %% [markdown] id="d79e2f7a"
# PyTorch's `DataLoader` does the same with its own random generator: the batch sizes
# agree, the orders differ.

# %% id="3d1e8572"
from torch.utils.data import DataLoader

loader = DataLoader(torch.arange(10), batch_size=3, shuffle=True)
epoch_1, epoch_2 = [b.tolist() for b in loader], [b.tolist() for b in loader]
dropped = [b.tolist() for b in DataLoader(torch.arange(10), batch_size=3, shuffle=True, drop_last=True)]
print("DataLoader, epoch 1:", epoch_1, "| epoch 2:", epoch_2, "| drop_last=True:", dropped)
print("minibatch_indices:  ", [b.tolist() for b in minibatch_indices(10, 3, np.random.default_rng(0))])
def sizes(batches):
    return [len(b) for b in batches]
dl.claim("DataLoader(shuffle=True) cuts the same batch sizes, uses every index once, and reshuffles every epoch",
         sizes(epoch_1) == sizes(minibatch_indices(10, 3, np.random.default_rng(0))) == [3, 3, 3, 1]
         and sorted(sum(epoch_1, [])) == list(range(10)) and epoch_1 != epoch_2)
dl.claim("with drop_last=True both leave out the short batch",
         sizes(dropped) == sizes(minibatch_indices(10, 3, np.random.default_rng(0), drop_last=True)) == [3, 3, 3])

# %% [markdown] id="f3cdf43c"
# ### One epoch of batch gradients
#
# At a fixed $w$, average the batch gradients of one epoch. With $B = 32$ (which divides
# 4000) that is exactly the full gradient. With $B = 48$ there are 83 full batches and a
# short one of 16 rows: a plain average of the 84 batch gradients gives that short batch
# the weight of a full one. Weighted by batch size it is exact again.

# %% id="871add98"
w = np.zeros(d)
g_full = mse_gradient(w, X, y)
even = minibatch_indices(n, 32, np.random.default_rng(1))
uneven = minibatch_indices(n, 48, np.random.default_rng(1))
mean_even = np.mean([mse_gradient(w, X[b], y[b]) for b in even], axis=0)
plain = np.mean([mse_gradient(w, X[b], y[b]) for b in uneven], axis=0)
weighted = sum(len(b) * mse_gradient(w, X[b], y[b]) for b in uneven) / n
def err(g):
    return np.linalg.norm(g - g_full) / np.linalg.norm(g_full)
print(f"B = 32: {len(even)} batches, relative error of their mean {err(mean_even):.1e}")
print(f"B = 48: {len(uneven)} batches (last of {len(uneven[-1])}); plain mean off by {err(plain):.1e}, "
      f"size-weighted mean off by {err(weighted):.1e}")
dl.claim("with equal batches the epoch's batch gradients average to the full gradient", err(mean_even) < 1e-12)
dl.claim("with a short last batch the plain average is off and the size-weighted one is exact",
         err(plain) > 1e-3 and err(weighted) < 1e-12)

# %% [markdown] id="791e5e81"
# In training, the short batch's step is also the noisiest of the epoch (fewest rows),
# yet it gets the same learning rate. With $n = 4000$ and $B = 48$ that is one update in
# 84 and matters little; with $n = 4010$ and $B = 4000$ every other update would rest on
# 10 rows. That is when `drop_last=True` is worth it.
#
# **Question 1.** With $n = 4000$, $B = 48$ and `drop_last=True`, how many updates does one
# epoch make?

# %% id="2172b343" nbgrader={"grade": false, "grade_id": "q_updates_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
updates_per_epoch = 4000 // 48
### END SOLUTION

# %% id="af60f39b" nbgrader={"grade": false, "grade_id": "q_updates_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(updates_per_epoch, "updates_per_epoch")

# %% id="cf152f47" nbgrader={"grade": true, "grade_id": "q_updates", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("updates_per_epoch", updates_per_epoch)
### END HIDDEN TESTS

# %% [markdown] id="924af716"
# ### Why shuffle, and why every epoch?
#
# Data often arrive in an order: by date, by class, by label. Here we sort the rows by
# their target $y$ and train with three ways of forming the batches, all with $B = 128$
# and a large step, lr = 0.32:
#
# - **no shuffle**: the rows in their stored order, every epoch;
# - **one shuffle**, drawn once and reused every epoch;
# - **a new shuffle every epoch**: your `minibatch_indices`.
#
# The first two are the mistakes to avoid; we write them out here to see what they do.

# %% id="d6257b2a"
order = np.argsort(y)
sorted_data = Regression(X[order], y[order], data.w_true, data.noise, name="sorted by y")

def no_shuffle(n, batch_size, rng, drop_last=False):
    return [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]

fixed_order = np.random.default_rng(5).permutation(n)
def one_shuffle(n, batch_size, rng, drop_last=False):
    return [fixed_order[i:i + batch_size] for i in range(0, n, batch_size)]

def epoch_ends(indices, B, lr, epochs=6):
    run = record_run(sorted_data, indices, mse_gradient, B, lr, epochs, np.random.default_rng(3))
    return run, run.epoch_losses - sorted_data.loss_min

shuffles = {}
for name, fn in [("no shuffle", no_shuffle), ("one shuffle", one_shuffle),
                 ("new shuffle every epoch", minibatch_indices)]:
    shuffles[name], ends = epoch_ends(fn, 128, 0.32)
    print(f"{name:>24s}: L - L* after each epoch {np.round(ends, 4)}")
show_runs(sorted_data, shuffles, panels=("path", "examples"), figsize=(9, 3.8),
          title="rows sorted by y, B = 128, lr = 0.32")

# %% id="59041516"
ends = {name: r.epoch_losses[2:] - sorted_data.loss_min for name, r in shuffles.items()}  # epochs 3 to 6
mean = {name: e.mean() for name, e in ends.items()}
dl.claim("on sorted data, skipping the shuffle ends every epoch more than 10 times further from the best fit",
         mean["no shuffle"] > 10 * mean["new shuffle every epoch"], f"{mean}")
def spread(e):
    return (e.max() - e.min()) / e.mean()
dl.claim("with a fixed order every epoch ends at the same point; with a new shuffle it does not",
         spread(ends["one shuffle"]) < 1e-3 and spread(ends["no shuffle"]) < 1e-3
         and spread(ends["new shuffle every epoch"]) > 0.3)
dl.claim("one shuffle reused ends at about the same level as a new shuffle every epoch (within a factor 2)",
         0.5 < mean["one shuffle"] / mean["new shuffle every epoch"] < 2)
_, small_no = epoch_ends(no_shuffle, 32, 0.08)
_, small_new = epoch_ends(minibatch_indices, 32, 0.08)
ratio_small = small_no[1:].mean() / small_new[1:].mean()
print(f"with B = 32, lr = 0.08: no shuffle / new shuffle = {ratio_small:.2f}")
dl.claim("with smaller steps the damage of not shuffling sorted data is much smaller", 0.5 < ratio_small < 3)


# %% [markdown] id="9b7cd9e4"
# What this shows, honestly:
#
# - **No shuffle on ordered data is the real danger**: the last batches of each epoch
#   (here the largest targets) pull the weights their way, and every epoch ends far from
#   the best fit: more than 10 times further than with shuffling, at this large step.
#   The loss also jumps at the start of each epoch, when the smallest targets follow the
#   largest. At B = 32, lr = 0.08 the damage is small, so the mistake can go unnoticed.
# - With any **fixed order**, the epochs repeat exactly: the run settles into a cycle
#   and every epoch ends at the same point.
# - **One shuffle reused** is already random, and on this problem it ends at about the
#   same level as reshuffling. Reshuffling every epoch is still the convention
#   (`DataLoader(shuffle=True)` does it): no single unlucky order is repeated, and its
#   theory is the cleanest. It is what the graded functions must do.
#
# ## 3. Minibatch SGD
#
# Put the pieces together. For each epoch: call `minibatch_indices` once, take one step
# $w \leftarrow w - \eta\, g_B$ per batch, and after the epoch record the **full-data**
# loss $L(w)$ (not the loss of the last batch, which is a noisy estimate on a few rows).

# %% id="86991959" nbgrader={"grade": false, "grade_id": "train_minibatch_sgd", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_minibatch_sgd(X, y, batch_size, lr, epochs, rng, w0=None):
    """Minibatch SGD on mean((X @ w - y) ** 2).

    Start from w0 (zeros if None; never modified). For each of the epochs: one call
    minibatch_indices(n, batch_size, rng) (drop_last=False), one update
    w <- w - lr * mse_gradient(w, X[idx], y[idx]) per batch, then the full-data loss.
    Returns (w, epoch_losses) with epoch_losses an array of length epochs.
    """
    ### BEGIN SOLUTION
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    for _ in range(epochs):
        for idx in minibatch_indices(len(y), batch_size, rng):
            w = w - lr * mse_gradient(w, X[idx], y[idx])
        losses.append(np.mean((X @ w - y) ** 2))
    return w, np.array(losses)
    ### END SOLUTION


# %% id="9de8776d" nbgrader={"grade": false, "grade_id": "train_minibatch_sgd_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for train_minibatch_sgd
w0 = np.linspace(-1, 1, d)
w1, losses1 = train_minibatch_sgd(X, y, n, 0.1, 1, np.random.default_rng(0), w0=w0)
dl.assert_close(w1, w0 - 0.1 * mse_gradient(w0, X, y),
                "with batch_size = n one epoch is one step of full-batch gradient descent")
assert len(losses1) == 1, f"one epoch should give one loss, got {len(losses1)}"
dl.assert_close(losses1[0], data.loss(w1), "the epoch loss is the full-data loss after the epoch")
w_same, losses_same = train_minibatch_sgd(X, y, 16, 0.0, 3, np.random.default_rng(0), w0=w0)
dl.assert_close(w_same, w0, "with lr = 0 the weights do not move")
dl.assert_close(losses_same, [data.loss(w0)] * 3, "with lr = 0 every epoch's loss is L(w0)")
assert np.array_equal(w0, np.linspace(-1, 1, d)), "train_minibatch_sgd changed w0 in place: start from a copy"
w_a, l_a = train_minibatch_sgd(X, y, 64, 0.05, 2, np.random.default_rng(4))
w_b, l_b = train_minibatch_sgd(X, y, 64, 0.05, 2, np.random.default_rng(4))
dl.assert_close(w_a, w_b, "the same seed must give the same run")
assert l_a[-1] < 0.3, f"2 epochs with B = 64, lr = 0.05 from zero should bring the loss below 0.3, got {l_a[-1]:.3f}"
print("train_minibatch_sgd: visible tests passed")

# %% id="88f060f2" nbgrader={"grade": true, "grade_id": "train_minibatch_sgd_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# train_minibatch_sgd: basic behaviour, two small runs (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("train_minibatch_sgd", train_minibatch_sgd, "basic")
### END HIDDEN TESTS

# %% id="b80eba21" nbgrader={"grade": true, "grade_id": "train_minibatch_sgd_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# train_minibatch_sgd: 30 random runs, same Generator seed as the reference (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("train_minibatch_sgd", train_minibatch_sgd, "random")
### END HIDDEN TESTS

# %% id="136540f0" nbgrader={"grade": true, "grade_id": "train_minibatch_sgd_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# train_minibatch_sgd: edge cases: w0 given (left unchanged), batch_size = 1, batch_size = n (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("train_minibatch_sgd", train_minibatch_sgd, "edge")
### END HIDDEN TESTS

# %% [markdown] id="0e0c46d7"
# ### Other ways to write it
#
# | form | batch gradient | compared with this course |
# |---|---|---|
# | mean over the batch (this course; `nn.MSELoss()`, reduction `"mean"`) | $\frac{2}{\lvert B\rvert} X_B^\top (X_B w - y_B)$ | itself |
# | sum over the batch (`nn.MSELoss(reduction="sum")`) | $2 X_B^\top (X_B w - y_B)$ | $\lvert B\rvert$ times larger: lr$_{\text{sum}}$ = lr $/ B$ |
# | divided by $n$ instead of $\lvert B\rvert$ (a common slip) | $\frac{2}{n} X_B^\top (X_B w - y_B)$ | $\lvert B\rvert/n$ times smaller: a tiny step, and a smaller one still on the short batch |
# | batches drawn with replacement (i.i.d. rows) | the same formula | an epoch no longer sees every row exactly once; the noise lacks the correction of section 4 |
#
# With the mean, the size of a step does not depend on the batch size, so a learning
# rate keeps its meaning when $B$ changes. PyTorch's autograd agrees with your gradient:

# %% id="d84fd3b8"
Xt, yt = torch.tensor(X[:32]), torch.tensor(y[:32])
for reduction, scale in (("mean", 1), ("sum", 32)):
    wt = torch.zeros(d, dtype=torch.float64, requires_grad=True)
    torch.nn.functional.mse_loss(Xt @ wt, yt, reduction=reduction).backward()
    dl.claim(f"torch's MSE gradient with reduction={reduction!r} is {scale} x mse_gradient on a batch of 32",
             np.allclose(wt.grad.numpy(), scale * mse_gradient(np.zeros(d), X[:32], y[:32]), rtol=1e-12, atol=1e-12))
print("torch.nn.functional.mse_loss + backward agrees with mse_gradient (mean) and with 32 x mse_gradient (sum)")

# %% [markdown] id="46d5d77a"
# ### Full batch, one example, a minibatch
#
# Three ways to spend the same 2 epochs (8000 examples), each with a learning rate that
# suits it: full-batch gradient descent ($B = n$, lr = 0.5, close to the limit
# $2/L = 0.56$ of notebook 01), "stochastic" gradient descent with one example per step
# ($B = 1$, lr = 0.0025) and minibatches ($B = 32$, lr = 0.08). Section 6 explains these
# learning rates. The toolkit's `record_run` trains with your `minibatch_indices` and
# `mse_gradient` like your `train_minibatch_sgd`, and also records the loss inside each
# epoch and the weights after every update.

# %% id="91a03f3a"
three = {"full batch, lr = 0.5": (n, 0.5), "B = 32, lr = 0.08": (32, 0.08), "B = 1, lr = 0.0025": (1, 0.0025)}
runs = {name: record_run(data, minibatch_indices, mse_gradient, B, lr, 2, np.random.default_rng(0))
        for name, (B, lr) in tqdm(three.items(), leave=False)}
show_runs(data, runs, title="the same 2 epochs of data, three batch sizes")
for name, (B, _lr) in three.items():
    print(f"{name:>20s}: {-(-n // B):5d} updates per epoch, "
          f"L - L* after each epoch {np.round(runs[name].epoch_losses - data.loss_min, 4)}")

# %% id="3bb917d3"
full, mini, single = runs.values()
def gap(run):
    return run.losses - data.loss_min
_, per_epoch = train_minibatch_sgd(X, y, 32, 0.08, 2, np.random.default_rng(0))
dl.claim("record_run trains exactly like your train_minibatch_sgd",
         np.allclose(per_epoch, mini.epoch_losses, rtol=1e-10))
after_epoch = {name: r.epoch_losses[0] - data.loss_min for name, r in runs.items()}
dl.claim("after one epoch B = 1 and B = 32 are within 0.02 of the best loss, "
         "the full batch (one step) is still 0.5 or more away",
         after_epoch["B = 1, lr = 0.0025"] < 0.02 and after_epoch["B = 32, lr = 0.08"] < 0.02
         and after_epoch["full batch, lr = 0.5"] > 0.5, f"{after_epoch}")
def after_updates(B, lr, k):
    # the first k updates of the run above, by hand
    w = np.zeros(d)
    for idx in minibatch_indices(n, B, np.random.default_rng(0))[:k]:
        w = w - lr * mse_gradient(w, X[idx], y[idx])
    return data.excess(w)
at2 = {"full batch": float(gap(full)[2]), "B = 32": after_updates(32, 0.08, 2), "B = 1": after_updates(1, 0.0025, 2)}
print("L - L* after 2 updates:", {k: round(v, 3) for k, v in at2.items()})
dl.claim("per update, the full batch is far ahead: after 2 updates it is lowest, by more than 5 times",
         all(at2["full batch"] * 5 < v for k, v in at2.items() if k != "full batch"), f"{at2}")
w_gd, l_gd = train_minibatch_sgd(X, y, n, 0.5, 100, np.random.default_rng(0))
last = gap(mini)[mini.epochs > 1]
print(f"full batch after 100 epochs: L - L* = {l_gd[-1] - data.loss_min:.1e}; "
      f"B = 32 in its last epoch: between {last.min():.1e} and {last.max():.1e}")
dl.claim("full-batch gradient descent converges to the best fit; minibatch SGD stalls at a noise floor",
         l_gd[-1] - data.loss_min < 1e-10 and last.min() > 1e-4)
# B = 1 against B = 32 at the same numbers of examples, before they reach the floor
before_floor = gap(mini) > 0.05
on_b1 = np.interp(mini.examples[before_floor], single.examples, gap(single))
worst = np.max(np.abs(np.log(on_b1 / gap(mini)[before_floor])))
print(f"B = 1 vs B = 32 before the floor: largest gap between the curves {100 * (np.exp(worst) - 1):.0f}%")
dl.claim("until they reach the floor, the B = 1 and B = 32 curves agree within 15% at every recorded point",
         worst < np.log(1.15))


# %% [markdown] id="e85b5e51"
# Per **example seen** (middle panel), the small batches race ahead: within one epoch
# they make 4000 or 125 updates while the full batch makes one. Per **update** (right
# panel), the full batch is ahead: each of its steps uses the exact gradient and a large
# learning rate. And the small batches **stall**: their loss stops falling and jitters at
# a level called the *noise floor*, while full-batch gradient descent keeps converging
# (below $10^{-10}$ after 100 epochs). The path panel shows why: the minibatch paths wander
# around the best fit instead of settling on it. The next section measures that noise.
#
# The B = 1 and B = 32 curves lie almost on top of each other. Both runs use the same
# seed, so they see the examples in the same order, and 32 small steps of lr = 0.0025 on
# 32 examples move about as far as one step of lr = 0.08 on their mean. That is the
# linear scaling rule of section 6 at work.
#
# ## 4. Gradient noise
#
# How far is a batch gradient from the full one? At a fixed $w$, with $g$ the full
# gradient and $g_B$ the gradient of a random batch of $B$ rows, the **gradient noise** is
#
# $$N(B) = \mathbb E\, \|g_B - g\|^2 ,$$
#
# the mean squared distance between the vectors. $g_B$ is the mean of $B$ per-example
# gradients $g_i$. If the $B$ rows were drawn independently (with replacement), the
# variance of a mean of $B$ draws would be the variance of one draw over $B$:
#
# $$N(B) = \frac{\sigma^2}{B}, \qquad \sigma^2 = \frac1n \sum_i \|g_i - g\|^2 .$$
#
# A batch is drawn **without** replacement: a row cannot appear twice, so the draws are
# slightly negatively correlated and the noise is smaller, by the *finite-population
# correction*:
#
# $$N(B) = \frac{\sigma^2}{B} \cdot \frac{n - B}{n - 1}.$$
#
# For $B \ll n$ the correction is about 1; at $B = n$ the batch is the whole dataset and the
# noise is exactly zero.
#
# `gradient_noise` estimates $N(B)$ by Monte Carlo: `n_draws` batches, each drawn with
# `rng.choice(n, batch_size, replace=False)`, and the mean of $\|g_B - g\|^2$.

# %% id="bdd0caf7" nbgrader={"grade": false, "grade_id": "gradient_noise", "locked": false, "schema_version": 3, "solution": true, "task": false}
def gradient_noise(w, X, y, batch_size, rng, n_draws):
    """Monte Carlo estimate of E ||g_B - g||^2 at w: the mean over n_draws batches of
    the squared distance between the batch gradient g_B and the full gradient g.
    Batch k is rng.choice(n, batch_size, replace=False) (one call per draw, in order).
    Returns a float."""
    ### BEGIN SOLUTION
    g = mse_gradient(w, X, y)
    total = 0.0
    for _ in range(n_draws):
        idx = rng.choice(len(y), batch_size, replace=False)
        diff = mse_gradient(w, X[idx], y[idx]) - g
        total += float(diff @ diff)
    return total / n_draws
    ### END SOLUTION


# %% id="564ba06c" nbgrader={"grade": false, "grade_id": "gradient_noise_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
# Visible tests for gradient_noise
w = np.zeros(d)
full_noise = gradient_noise(w, X, y, n, np.random.default_rng(0), 3)
assert abs(full_noise) < 1e-12, f"a batch of all n rows is the full data: the noise must be 0, got {full_noise}"
idx = np.random.default_rng(5).choice(n, 10, replace=False)
by_hand = np.sum((mse_gradient(w, X[idx], y[idx]) - mse_gradient(w, X, y)) ** 2)
dl.assert_close(gradient_noise(w, X, y, 10, np.random.default_rng(5), 1), by_hand,
                "one draw: ||g_B - g||^2 for the batch rng.choice(n, 10, replace=False)")
value = gradient_noise(w, X, y, 16, np.random.default_rng(0), 20)
assert np.ndim(value) == 0 and value > 0, f"gradient_noise should return one positive number, got {value!r}"
print("gradient_noise: visible tests passed")

# %% id="c02fb983" nbgrader={"grade": true, "grade_id": "gradient_noise_basic", "locked": true, "points": 2, "schema_version": 3, "solution": false, "task": false}
# gradient_noise: basic behaviour, one small case (2 points, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("gradient_noise", gradient_noise, "basic")
### END HIDDEN TESTS

# %% id="89126b54" nbgrader={"grade": true, "grade_id": "gradient_noise_random", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# gradient_noise: 30 random cases, same Generator seed as the reference (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("gradient_noise", gradient_noise, "random")
### END HIDDEN TESTS

# %% id="22bdcb84" nbgrader={"grade": true, "grade_id": "gradient_noise_edge", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# gradient_noise: edge cases: the full batch (no noise) and batch_size = 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check("gradient_noise", gradient_noise, "edge")
### END HIDDEN TESTS

# %% [markdown] id="28f40e7e"
# ### Does it fall like $1/B$?
#
# Measure $N(B)$ at $w = 0$ for batch sizes from 1 to 3600, with 100 draws each, and
# hold it against the two formulas. $\sigma^2$ comes from the per-example gradients
# (the toolkit's `data.gradient_variance(w)`; check that it agrees with your function on
# a few rows).

# %% id="1861545f"
w = np.zeros(d)
G = data.per_example_gradients(w)
dl.assert_close(G[:5], [mse_gradient(w, X[i:i + 1], y[i:i + 1]) for i in range(5)],
                "the toolkit's per-example gradients against your mse_gradient on single rows")
sigma2 = data.gradient_variance(w)
sizes = np.array([1, 4, 16, 64, 256, 1024, 2048, 3000, 3600])
noise = np.array([gradient_noise(w, X, y, B, np.random.default_rng(B), 100) for B in tqdm(sizes, leave=False)])
plain_law = sigma2 / sizes
corrected = sigma2 / sizes * (n - sizes) / (n - 1)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(sizes, plain_law, color="0.6", ls="--", label="sigma^2 / B")
ax.loglog(sizes, corrected, color="#0072B2", label="sigma^2 / B * (n - B) / (n - 1)")
ax.loglog(sizes, noise, "o", color="#D55E00", ms=5, label="measured, 100 draws")
ax.set_xlabel("batch size B")
ax.set_ylabel("E ||g_B - g||^2 at w = 0")
ax.legend(fontsize=8)
ax.grid(True, alpha=0.3)
log_ticks(ax)
plt.show()
ratio = noise / corrected
print(f"sigma^2 = {sigma2:.1f}; measured / corrected formula: {np.round(ratio, 2)}")
print("measured / plain 1/B law:", np.round(noise / plain_law, 2)[-4:], "for B =", sizes[-4:])

# %% id="c545cc6d"
dl.claim("the measured noise matches sigma^2 / B * (n - B) / (n - 1) within 20% at every batch size",
         np.all(np.abs(ratio - 1) < 0.2), f"ratios {np.round(ratio, 2)}")
dl.claim("the plain 1/B law overestimates the noise by about 2x at B = 2048 and 10x at B = 3600",
         1.6 < plain_law[-3] / noise[-3] < 2.5 and 7 < plain_law[-1] / noise[-1] < 14)
follows = noise[sizes <= 256] / plain_law[sizes <= 256]
dl.claim("up to B = 256 the noise follows sigma^2 / B within 20%", np.all(np.abs(follows - 1) < 0.2),
         f"measured / (sigma^2 / B): {np.round(follows, 2)}")


# %% [markdown] id="2367a6cc"
# Up to a few hundred rows the noise falls like $1/B$: a batch 4 times larger halves the
# typical error $\sqrt{N}$. Near $B = n$ it drops faster, to zero at the full batch, and
# only the corrected formula follows it.
#
# ### The variance of gradient norms is a different quantity
#
# A widely copied demo measures "gradient variance" as the variance of the batch
# gradients' **lengths**, `np.var([np.linalg.norm(g_B) for ...])`. That is
# $\operatorname{Var}\|g_B\|$, not $\mathbb E\|g_B - g\|^2$. It only sees how much the
# *length* changes from batch to batch, and is blind to the *direction*: two batch
# gradients of the same length pointing opposite ways have zero norm variance, yet both
# are far from $g$. What pushes SGD off course is the vector error $g_B - g$.

# %% id="e6066d97"
def norm_variance(w, B, draws, rng):
    # the other quantity: the variance of the lengths of the batch gradients
    norms = [np.linalg.norm(mse_gradient(w, X[i], y[i]))
             for i in (rng.choice(n, B, replace=False) for _ in range(draws))]
    return np.var(norms)

print("two opposite unit gradients around g = 0: variance of the norms", np.var([1.0, 1.0]),
      "| mean squared distance to g", np.mean([1.0, 1.0]))
compare = {}
for where, w in [("w = 0", np.zeros(d)), ("w = w*", data.w_star)]:
    for B in (16, 256):
        compare[where, B] = (norm_variance(w, B, 200, np.random.default_rng(1)),
                             gradient_noise(w, X, y, B, np.random.default_rng(1), 200))
        print(f"{where:>7s}, B = {B:3d}: Var ||g_B|| = {compare[where, B][0]:8.4f}   "
              f"E ||g_B - g||^2 = {compare[where, B][1]:8.4f}   "
              f"ratio {compare[where, B][0] / compare[where, B][1]:.2f}")

# %% id="ba108480"
share = {k: v[0] / v[1] for k, v in compare.items()}
dl.claim("far from the fit (w = 0) the norm variance sees only about a quarter of the noise",
         all(0.1 < share["w = 0", B] < 0.4 for B in (16, 256)), f"{share}")
dl.claim("at the best fit (g = 0) it sees about a tenth or less",
         all(share["w = w*", B] < 0.15 for B in (16, 256)), f"{share}")

# %% [markdown] id="d1310dcd"
# Far from the fit the full gradient is long, and the length mostly feels the part of
# the noise along it, one direction out of $d = 8$: the norm variance catches about a
# quarter of the noise here. At the best fit $g = 0$,
# all of $\|g_B\|^2$ is noise, but the norm variance subtracts the squared mean length
# and keeps only a tenth of it. Use $\mathbb E\|g_B - g\|^2$.
#
# **Question 2.** With $n = 4000$ rows, by what factor is the gradient noise at $B = 400$
# smaller than at $B = 1$? Give $N(400) / N(1)$, with the finite-population correction.

# %% id="8193b91a" nbgrader={"grade": false, "grade_id": "q_noise_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
noise_ratio = (1 / 400) * (4000 - 400) / (4000 - 1)
### END SOLUTION

# %% id="dadab3e4" nbgrader={"grade": false, "grade_id": "q_noise_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(noise_ratio, "noise_ratio")

# %% id="70def35e" nbgrader={"grade": true, "grade_id": "q_noise", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("noise_ratio", noise_ratio)
### END HIDDEN TESTS

# %% [markdown] id="65ac3103"
# ## 5. The cost side
#
# Less noise costs more computation per update. An epoch makes $\lceil n/B \rceil$ updates,
# and each update costs a fixed overhead (Python, indexing, calling numpy) plus work
# proportional to $B$. Time one epoch of your `train_minibatch_sgd` for several batch
# sizes, best of 3. We count processor time, `time.process_time()`: on an idle machine it
# is the wall-clock time, and unlike the wall clock it does not grow when other programs
# share the processor.

# %% id="f3556bca"
timing_sizes = [1, 4, 16, 64, 256, 1024, 4000]
epoch_time = {}
for B in tqdm(timing_sizes, leave=False):
    best = np.inf
    for _ in range(3):
        t0 = time.process_time()
        train_minibatch_sgd(X, y, B, 1e-3, 1, np.random.default_rng(0))
        best = min(best, time.process_time() - t0)
    epoch_time[B] = best
updates = {B: -(-n // B) for B in timing_sizes}
update_time = {B: epoch_time[B] / updates[B] for B in timing_sizes}
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
ax1.loglog(timing_sizes, [1e3 * epoch_time[B] for B in timing_sizes], "o-", color="#0072B2")
ax1.set_xlabel("batch size B")
ax1.set_ylabel("ms per epoch")
ax2.loglog(timing_sizes, [1e6 * update_time[B] for B in timing_sizes], "o-", color="#D55E00")
ax2.set_xlabel("batch size B")
ax2.set_ylabel("microseconds per update")
for ax in (ax1, ax2):
    ax.grid(True, alpha=0.3)
log_ticks(fig)
plt.show()
for B in timing_sizes:
    print(f"B = {B:5d}: {updates[B]:5d} updates per epoch, {1e3 * epoch_time[B]:7.2f} ms per epoch, "
          f"{1e6 * update_time[B]:7.1f} us per update")

# %% id="49dc8fe2"
dl.claim("an epoch with B = 1 takes more than 5 times as long as one with B = 64",
         epoch_time[1] > 5 * epoch_time[64], f"{epoch_time[1]:.4f} s vs {epoch_time[64]:.4f} s")
dl.claim("an update on 64 rows costs less than 3 times an update on one row",
         update_time[64] < 3 * update_time[1], f"{update_time[64]:.2e} s vs {update_time[1]:.2e} s")
dl.claim("an update on 256 rows costs less than a tenth of 256 updates on one row",
         update_time[256] < 25.6 * update_time[1], f"{update_time[256]:.2e} s vs {update_time[1]:.2e} s")
dl.claim("an update on all 4000 rows costs more than 3 times an update on 64 rows",
         update_time[4000] > 3 * update_time[64], f"{update_time[4000]:.2e} s vs {update_time[64]:.2e} s")


# %% [markdown] id="e8376114"
# Your exact numbers depend on the machine, but the shape does not: up to about a
# hundred rows, an update costs about the same (the fixed overhead dominates), so an epoch
# gets cheaper almost like $1/B$; an update on a few hundred rows costs somewhat more,
# still far less than that many single-row updates. Beyond that the work per row
# dominates and the cost per update grows with $B$. On a GPU the flat part extends to
# much larger batches, which is why GPU training uses batches of hundreds or thousands.
#
# What counts in the end is the loss per second. Here are the three runs of section 3
# again (the minibatch ones for one epoch), against the examples seen and against their
# training time. The time spent measuring the loss is not counted, and each run is
# repeated 3 times, keeping the fastest time of each stretch between two measurements
# (`fastest_timing`):

# %% id="8a55af55"
def timed(B, lr, epochs):
    # three identical runs (same seed); each stretch between two measurements keeps its fastest time,
    # because other programs on the machine can slow a stretch down
    return fastest_timing(record_run(data, minibatch_indices, mse_gradient, B, lr, epochs, np.random.default_rng(0))
                          for _ in range(3))

cost_runs = {name: timed(B, lr, epochs) for name, B, lr, epochs in
             tqdm([("full batch, lr = 0.5", n, 0.5, 40), ("B = 32, lr = 0.08", 32, 0.08, 1),
                   ("B = 1, lr = 0.0025", 1, 0.0025, 1)], leave=False)}
show_runs(data, cost_runs, panels=("examples", "seconds"), figsize=(9, 3.6), logx=True,
          title="loss against examples seen and against training time")
examples_to = {name: r.first("examples", data.loss_min + 0.1) for name, r in cost_runs.items()}
seconds_to = {name: r.first("seconds", data.loss_min + 0.1) for name, r in cost_runs.items()}
print("examples to come within 0.1 of the best loss:", examples_to)
print("training time to get there (ms):", {k: round(1e3 * v, 2) for k, v in seconds_to.items()})

# %% id="cba91452"
dl.claim("B = 1 and B = 32 need about the same number of examples to come within 0.1 (within 30%)",
         abs(examples_to["B = 1, lr = 0.0025"] / examples_to["B = 32, lr = 0.08"] - 1) < 0.3, f"{examples_to}")
dl.claim("the full batch needs more than 10 times as many examples",
         examples_to["full batch, lr = 0.5"] > 10 * examples_to["B = 32, lr = 0.08"])
t32 = seconds_to["B = 32, lr = 0.08"]
dl.claim("in training time, B = 32 gets within 0.1 more than 3 times sooner than B = 1, and sooner than the full batch",
         3 * t32 < seconds_to["B = 1, lr = 0.0025"] and t32 < seconds_to["full batch, lr = 0.5"], f"{seconds_to}")
dl.claim("the full batch gets within 1e-7", cost_runs["full batch, lr = 0.5"].losses[-1] - data.loss_min < 1e-7)
dl.claim("but only the full batch gets within 1e-4: the others stall at their noise floor",
         cost_runs["full batch, lr = 0.5"].first("examples", data.loss_min + 1e-4) is not None
         and runs["B = 32, lr = 0.08"].first("examples", data.loss_min + 1e-4) is None
         and runs["B = 1, lr = 0.0025"].first("examples", data.loss_min + 1e-4) is None)

# %% [markdown] id="28294390"
# So the trade-off, measured:
#
# - **per example**, B = 1 and B = 32 (with learning rates scaled to match, section 6)
#   make the same progress, and both beat the full batch by more than 10 times;
# - **per second**, B = 32 wins the race to 0.1: it does the same work in 32 times fewer
#   updates, and an update on 32 rows costs about as much as one on a single row;
# - **for a precise answer**, constant-lr minibatch SGD is stuck at its noise floor; the
#   full batch (or a decaying learning rate, notebook 03, or a growing batch) gets there.
#
# On this small problem one full-batch pass takes well under a millisecond, so full-batch
# gradient descent is not a bad choice: of the three it is the only one that gets to
# $10^{-7}$. With millions of rows it is a bad choice: one step would cost a pass over all
# of them.
#
# ## 6. Learning rate and batch size
#
# ### The linear scaling rule
#
# Compare $k$ small steps on batches of $B$ with learning rate $\eta$ against one step
# on a batch of $kB$ with learning rate $k\eta$, both seeing the same $kB$ examples.
# When $\eta$ is small the gradient barely changes during the $k$ small steps, so both
# move $w$ by about $-k\eta\, g$: the same drift. The noise: $k$ independent errors of
# variance $N(B) \approx \sigma^2/B$, each times $\eta$, add up to $k\eta^2\sigma^2/B$; one error of
# variance $\sigma^2/(kB)$ times $k\eta$ gives $(k\eta)^2\sigma^2/(kB) = k\eta^2\sigma^2/B$. The same
# again. So:
#
# > **Multiply the batch size by $k$, multiply the learning rate by $k$**: the loss
# > against the examples seen stays the same (Goyal et al., 2017).
#
# Check it: $B$ from 4 to 128 with lr $= 0.0025\,B$, for 2 epochs each.

# %% id="92b295ef"
scaled = {}
for B in tqdm([4, 16, 64, 128, 256], leave=False):
    scaled[f"B = {B}, lr = {0.0025 * B:g}"] = record_run(data, minibatch_indices, mse_gradient, B, 0.0025 * B, 2,
                                                        np.random.default_rng(2))
show_runs(data, scaled, panels=("examples", "updates"), figsize=(9, 3.6), title="lr = 0.0025 B")
reach = {name: r.first("examples", data.loss_min + 0.02) for name, r in scaled.items()}
print("examples seen before L - L* < 0.02:", reach)
print(f"2 / L = {data.max_stable_lr:.3f}")

# %% id="42c0b2e2"
ok = [v for k, v in reach.items() if not k.startswith("B = 256")]
dl.claim("from B = 4 to B = 128 (lr = 0.0025 B) every run needs the same examples to reach 0.02, within 20%",
         max(ok) < 1.2 * min(ok), f"{reach}")
dl.claim("B = 256 with lr = 0.64, above 2 / L, diverges", scaled["B = 256, lr = 0.64"].diverged
         and 0.64 > data.max_stable_lr)

# %% [markdown] id="7e4c2470"
# For $B$ from 4 to 128 the curves lie on top of each other against the examples seen,
# while the number of updates falls 32-fold (right panel). At $B = 256$ the rule asks
# for lr = 0.64, above the stability limit $2/L = 0.56$ of full-batch gradient descent,
# and the run blows up.
#
# ### Where it breaks
#
# The derivation assumed the gradient barely changes over $k$ small steps, that is
# $\eta L \ll 1$. No batch size can make a step larger than $2/L$ safe. So beyond about
# $B \approx 200$ here, the learning rate is capped, and a larger batch only averages the
# noise further without moving faster. Take lr $= \min(0.0025\,B,\ 0.5)$ and count both the
# examples and the updates needed to reach $L - L^* < 0.02$:

# %% id="10ea240e"
big_sizes = [16, 32, 128, 256, 512, 1024, 2048, 4000]
needed = {}
for B in tqdm(big_sizes, leave=False):
    lr = min(0.0025 * B, 0.5)
    run = record_run(data, minibatch_indices, mse_gradient, B, lr, int(np.ceil(15 * B / n)) + 1,
                     np.random.default_rng(2))
    needed[B] = (run.first("examples", data.loss_min + 0.02), run.first("updates", data.loss_min + 0.02))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
ax1.loglog(big_sizes, [needed[B][0] for B in big_sizes], "o-", color="#0072B2")
ax1.set_xlabel("batch size B")
ax1.set_ylabel("examples to reach 0.02")
ax2.loglog(big_sizes, [needed[B][1] for B in big_sizes], "o-", color="#D55E00")
ax2.set_xlabel("batch size B")
ax2.set_ylabel("updates to reach 0.02")
for ax in (ax1, ax2):
    ax.axvline(0.5 / 0.0025, color="0.5", ls=":", lw=1)
    ax.grid(True, alpha=0.3)
log_ticks(fig)
plt.show()
for B in big_sizes:
    print(f"B = {B:5d}, lr = {min(0.0025 * B, 0.5):.3f}: {needed[B][0]:6d} examples, {needed[B][1]:5d} updates")

# %% id="dd22b75f"
dl.claim("past the cap, examples needed grow with B: the full batch needs more than 10 times those of B = 128",
         needed[4000][0] > 10 * needed[128][0])
dl.claim("below the cap, updates needed fall like 1/B: B = 16 needs more than 5 times the updates of B = 128",
         needed[16][1] > 5 * needed[128][1])
dl.claim("past the cap, updates needed stop falling: B = 1024 to 4000 need the same number, within 20%",
         max(needed[B][1] for B in (1024, 2048, 4000)) <= 1.2 * min(needed[B][1] for B in (1024, 2048, 4000)))

# %% [markdown] id="599c1711"
# Two regimes, split near the dotted line where the rule hits the cap: below it, a larger
# batch buys proportionally fewer updates for the same data (perfect scaling, the rule
# holds); above it, the number of updates stops falling and every extra row in a batch
# is wasted work. The batch size where this turns is sometimes called the *critical batch
# size* (McCandlish et al., 2018); it is larger when the gradient noise is larger.
#
# ### The noise floor
#
# Why does constant-lr SGD stall? Near $w^*$ the curvature pulls $w$ back with a force
# proportional to its distance, while every step adds a fresh random kick of size
# $\eta\,(g_B - g)$. They balance at an average excess loss that, for a small learning rate, is
#
# $$L(w) - L(w^*) \approx \frac{\eta}{4}\, N(B) \approx \frac{\eta\, \sigma_*^2}{4B},$$
#
# with $\sigma_*^2$ the per-example gradient variance at the best fit. The floor depends on
# $\eta$ and $B$ only through $\eta/B$: halving the floor takes half the learning rate or
# twice the batch. The formula treats successive batches as independent draws. Within a
# shuffled epoch they are not (at a fixed $w$ the batch errors of one epoch sum to zero),
# which lowers the floor when the weights remember a good part of an epoch. Here their
# memory, about $1/(\eta\mu)$ updates for the flattest direction ($\mu = 0.4$), is a quarter
# of an epoch or less in every run. Measure it: start at $w^*$, run 3 epochs, average the
# recorded losses.

# %% id="ee6715d7"
sigma2_star = data.gradient_variance(data.w_star)
grid = [(4, 0.01), (4, 0.02), (16, 0.04), (16, 0.08), (16, 0.16), (64, 0.16), (64, 0.32), (128, 0.32)]
floors = {}
for B, lr in tqdm(grid, leave=False):
    run = record_run(data, minibatch_indices, mse_gradient, B, lr, 3, np.random.default_rng(7), w0=data.w_star)
    floors[B, lr] = np.mean(run.losses[1:] - data.loss_min)
print(f"sigma*^2 = {sigma2_star:.3f}")
dl.claim("in every run the memory 1 / (lr mu) is a quarter of an epoch or less",
         all(1 / (lr * data.mu) <= 0.25 * -(-n // B) + 1e-9 for B, lr in grid))
print("  B     lr    lr/B     measured   lr sigma^2/(4B)   ratio   refined   ratio")
for (B, lr), f in floors.items():
    simple, refined = lr * sigma2_star / (4 * B), data.predicted_floor(lr, B, small_lr=False)
    print(f"{B:3d}  {lr:5.2f}  {lr / B:.4f}   {f:.5f}     {simple:.5f}         {f / simple:.2f}    "
          f"{refined:.5f}   {f / refined:.2f}")
fig, ax = plt.subplots(figsize=(6.5, 3.8))
for (B, lr), f in floors.items():
    near = lr * data.L > 0.5
    ax.loglog(lr / B, f, "o", color="#D55E00" if near else "#0072B2", ms=6)
    ax.loglog(lr / B, data.predicted_floor(lr, B, small_lr=False), "x", color="0.3", ms=6)
    ax.annotate(f"B={B}, lr={lr:g}", (lr / B, f), fontsize=7, textcoords="offset points",
                xytext=(-6, 0) if (B, lr) in ((4, 0.01), (4, 0.02)) else (6, 0),
                ha="right" if (B, lr) in ((4, 0.01), (4, 0.02)) else "left", va="center")
q = np.geomspace(0.002, 0.012, 10)
ax.loglog(q, q * sigma2_star / 4, color="0.5", ls="--", label="lr sigma*^2 / (4B)")
ax.plot([], [], "o", color="#0072B2", label="measured, lr L < 0.5")
ax.plot([], [], "o", color="#D55E00", label="measured, lr L > 0.5")
ax.plot([], [], "x", color="0.3", label="refined prediction")
ax.set_xlim(1.5e-3, 1.6e-2)
ax.set_xlabel("lr / B")
ax.set_ylabel("floor L - L*")
ax.legend(fontsize=8, loc="upper left")
ax.grid(True, alpha=0.3)
log_ticks(ax)
plt.show()

# %% id="409fb8a5"
small = {k: f / (k[1] * sigma2_star / (4 * k[0])) for k, f in floors.items() if k[1] <= 0.08}
dl.claim("for lr <= 0.08 the floor is lr sigma*^2 / (4B) within 20%",
         all(abs(r - 1) < 0.2 for r in small.values()), f"{small}")
dl.claim("same lr / B, same floor: (4, 0.01), (16, 0.04) and (64, 0.16) agree within 30%",
         max(floors[4, 0.01], floors[16, 0.04], floors[64, 0.16])
         < 1.3 * min(floors[4, 0.01], floors[16, 0.04], floors[64, 0.16]))
dl.claim("doubling lr / B doubles the floor (ratio between 1.6 and 2.6)",
         1.6 < floors[4, 0.02] / floors[4, 0.01] < 2.6 and 1.6 < floors[16, 0.08] / floors[16, 0.04] < 2.6)
dl.claim("near the stability limit the simple formula underestimates: "
         "at lr = 0.32 the floor is over 1.4 times its prediction",
         floors[64, 0.32] > 1.4 * 0.32 * sigma2_star / (4 * 64)
         and floors[128, 0.32] > 1.4 * 0.32 * sigma2_star / (4 * 128))
refined_ratio = [floors[k] / data.predicted_floor(k[1], k[0], small_lr=False) for k in floors]
dl.claim("the refined prediction (lr/2) sum_k S_kk / (2 - lr h_k) matches every measured floor within 20%",
         all(abs(r - 1) < 0.2 for r in refined_ratio), f"{np.round(refined_ratio, 2)}")

# %% [markdown] id="5e47e6ab"
# For small steps (lr $\le$ 0.08, that is $\eta L \le 0.3$) the floor is set by $\eta/B$ alone
# and the simple formula holds within 20%: the runs with lr/B = 0.0025 at $B$ = 4, 16
# and 64 settle at about the same level, and doubling lr/B doubles it. As
# $\eta L$ grows (orange points) the simple formula falls short: the step overshoots in the
# steep directions, each eigen-direction $k$ of the Hessian (eigenvalue $h_k$) is
# amplified by $2/(2 - \eta h_k)$, and the floor blows up as $\eta \to 2/L$. The toolkit's
# `data.predicted_floor(lr, B, small_lr=False)` includes that factor and matches all runs
# here. This is the other face of where linear scaling breaks.
#
# In practice: to get below the floor, lower $\eta/B$ as training goes on, by decaying the
# learning rate (notebook 03) or by growing the batch (Smith et al., 2018).
#
# **Question 3.** Predict the noise floor $L(w) - L(w^*)$ of constant-lr SGD with lr = 0.05
# and $B = 10$ on a problem with $\sigma_*^2 = 8$ (small-lr formula, ignore the
# finite-population correction).

# %% id="40b7790f" nbgrader={"grade": false, "grade_id": "q_floor_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
floor_prediction = 0.05 * 8 / (4 * 10)
### END SOLUTION

# %% id="7e65daeb" nbgrader={"grade": false, "grade_id": "q_floor_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(floor_prediction, "floor_prediction")

# %% id="659ac6c4" nbgrader={"grade": true, "grade_id": "q_floor", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("floor_prediction", floor_prediction)
### END HIDDEN TESTS

# %% [markdown] id="4f0fb92e"
# ## 7. Play with it
#
# Move the sliders: the figure updates as you drag. Left, the path of $w_0$ and $w_1$ on
# the loss contours (full-batch gradient descent at the same lr dashed); middle, the loss
# above its minimum against the examples seen (epochs on top; dots at the end of each
# epoch; the dotted line is the predicted floor $\eta\,N(B)/4$); right, the same against
# the number of updates. Try to
#
# - keep lr fixed and lower the batch size: faster per epoch, noisier, a higher floor;
# - double the batch size and the learning rate together, and watch the middle panel
#   stay put (until lr passes $2/L \approx 0.56$);
# - find the largest lr for $B = 1$ that still converges; is it $2/L$?
# - push lr close to the limit with a large batch: the dashed full-batch path zig-zags
#   across the valley, as in notebook 01.

# %% id="2e56cc1d"
explore_batch(data, minibatch_indices, mse_gradient, batch_size=32, lr=0.05, epochs=3, weights=(0, 1),
              title="minibatch SGD on the regression")

# %% [markdown] id="4f3f7ce5"
# ## Summary
#
# - An epoch of minibatch SGD: a **new permutation** every epoch, cut into batches of
#   $B$; the last batch is short unless `drop_last`. Skipping the shuffle on ordered data
#   leaves the weights biased at the end of every epoch.
# - The batch gradient $g_B = \frac{2}{|B|} X_B^\top(X_B w - y_B)$ is an unbiased estimate of
#   $g$. Its noise $\mathbb E\|g_B - g\|^2 = \frac{\sigma^2}{B}\frac{n-B}{n-1}$: like $1/B$, zero
#   at the full batch. The variance of gradient norms measures something else.
# - Cost: $\lceil n/B \rceil$ updates per epoch. While an update costs about the same for any
#   $B$ up to about a hundred, a larger batch (with a scaled lr) makes the same progress per
#   example in fewer updates, so in less time.
# - **Linear scaling**: multiply $B$ and lr by the same factor and the loss per example
#   stays the same, as long as lr stays well below $2/L$. Past that, bigger batches waste
#   work.
# - Constant-lr SGD stalls at a **noise floor** $\approx \eta\sigma_*^2/(4B)$, set by lr/B; lower it
#   with a learning-rate decay or a growing batch.
#
# ## Further reading
#
# - P. Goyal et al., *Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour*, 2017 (the linear scaling rule and warmup).
# - S. McCandlish, J. Kaplan, D. Amodei, *An Empirical Model of Large-Batch Training*, 2018 (the critical batch size and the gradient noise scale).
# - S. L. Smith, P.-J. Kindermans, C. Ying, Q. V. Le, *Don't Decay the Learning Rate, Increase the Batch Size*, ICLR 2018.
# - C. J. Shallue et al., *Measuring the Effects of Data Parallelism on Neural Network Training*, JMLR 2019.
# - L. Bottou, F. E. Curtis, J. Nocedal, *Optimization Methods for Large-Scale Machine Learning*, SIAM Review 2018, sections 4 and 5.
# - [torch.utils.data.DataLoader](https://pytorch.org/docs/stable/data.html): `shuffle`, `drop_last`, the convention used here.
