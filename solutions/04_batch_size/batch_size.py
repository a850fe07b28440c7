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
# - weigh the cost side in counts that do not depend on the machine: examples processed
#   (gradient evaluations of single rows) and updates (sequential steps);
# - use the linear scaling rule for the learning rate, find where it breaks, say why the
#   largest stable learning rate of small batches lies far below $2/L$, and predict the
#   noise floor where constant-lr SGD stops improving.
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
from functools import cache

import matplotlib.pyplot as plt
import numpy as np
import torch
from tqdm.auto import tqdm

import descentlab as dl
from descentlab.batch_plot import explore_batch, log_ticks, record_run, show_runs
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
    Returns a new (d,) array: the gradient of the mean over these m rows (divide by m,
    the number of rows given, not by the dataset's n). The inputs are left unchanged.
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
# **Question 1.** A dataset of $n = 50000$ rows, $B = 128$ and `drop_last=True`: how many
# updates does one epoch make?

# %% id="2172b343" nbgrader={"grade": false, "grade_id": "q_updates_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
updates_per_epoch = 50000 // 128
### END SOLUTION

# %% id="af60f39b" nbgrader={"grade": false, "grade_id": "q_updates_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(updates_per_epoch, "updates_per_epoch")

# %% id="cf152f47" nbgrader={"grade": true, "grade_id": "q_updates", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 1 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("updates_per_epoch", updates_per_epoch)
### END HIDDEN TESTS

# %% [markdown] id="9b7cd9e4"
# ## 3. Minibatch SGD
#
# Put the pieces together. For each epoch: call `minibatch_indices` once, take one step
# $w \leftarrow w - \eta\, g_B$ per batch, and after the epoch record the **full-data**
# loss $L(w)$ (not the loss of the last batch, which is a noisy estimate on a few rows).

# %% id="86991959" nbgrader={"grade": false, "grade_id": "train_minibatch_sgd", "locked": false, "schema_version": 3, "solution": true, "task": false}
def train_minibatch_sgd(X, y, batch_size, lr, epochs, rng, w0=None):
    """Minibatch SGD on mean((X @ w - y) ** 2).

    Start from w0 (zeros if None; never modified). For each of the epochs: one call
    minibatch_indices(n, batch_size, rng) (drop_last=False), one gradient step per batch
    with that batch's gradient from mse_gradient, then the loss on the full data.
    Returns (w, epoch_losses): the final weights and an array of length epochs.
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

# %% [markdown] id="924af716"
# ### Why shuffle, and why every epoch?
#
# Your `train_minibatch_sgd` reshuffles every epoch because it calls `minibatch_indices`.
# Does that matter? Data often arrive in an order: by date, by class, by label. Here we
# sort the rows by their target $y$ and train with three ways of forming the batches, all
# with $B = 128$ and a large step, lr = 0.32:
#
# - **no shuffle**: the rows in their stored order, every epoch;
# - **one shuffle**, drawn once and reused every epoch;
# - **a new shuffle every epoch**: your `minibatch_indices`.
#
# The first two are the mistakes to avoid; we write them out here to see what they do.
# The toolkit's `record_run(problem, train_minibatch_sgd, ...)` runs your function and
# watches its calls of `mse_gradient`: it records the weights after every update and the
# loss at 100 points in each epoch. Its option `batches=` hands your function another way
# of cutting the batches, in place of `minibatch_indices`, for that one run.

# %% id="d6257b2a"
order = np.argsort(y)
sorted_data = Regression(X[order], y[order], data.w_true, data.noise, name="sorted by y")

def no_shuffle(n, batch_size, rng, drop_last=False):
    return [np.arange(i, min(i + batch_size, n)) for i in range(0, n, batch_size)]

def one_shuffle(seed):
    # one random order, drawn once from its own seed and reused for every epoch
    fixed_order = np.random.default_rng(seed).permutation(n)
    return lambda n, batch_size, rng, drop_last=False: [fixed_order[i:i + batch_size]
                                                        for i in range(0, n, batch_size)]

@cache
def shuffle_runs(B, lr, epochs, seed):
    # the three ways of forming batches on the sorted rows (the fixed order drawn from seed + 2)
    ways = {"no shuffle": no_shuffle, "one shuffle": one_shuffle(seed + 2),
            "new shuffle every epoch": minibatch_indices}
    return {name: record_run(sorted_data, train_minibatch_sgd, B, lr, epochs, np.random.default_rng(seed),
                             batches=fn)
            for name, fn in ways.items()}

def late_ends(runs):
    # L - L* at the end of epochs 3, 4, ...: after the first approach to the best fit
    return {name: r.epoch_losses[2:] - sorted_data.loss_min for name, r in runs.items()}

SHUFFLE = dict(B=128, lr=0.32, epochs=6, seed=3)
shuffles = shuffle_runs(**SHUFFLE)
for name, r in shuffles.items():
    print(f"{name:>24s}: L - L* after each epoch {np.round(r.epoch_losses - sorted_data.loss_min, 4)}")
show_runs(sorted_data, shuffles, panels=("path", "examples"), figsize=(9, 3.8),
          title="rows sorted by y, B = 128, lr = 0.32")

# %% id="59041516"
def mean_late_ends(**setting):
    return {name: e.mean() for name, e in late_ends(shuffle_runs(**setting)).items()}

def far_without_shuffle(**setting):
    mean = mean_late_ends(**setting)
    return mean["no shuffle"] > 10 * mean["new shuffle every epoch"], f"{mean}"
dl.robust_claim("on rows sorted by y with B = 128 and a large step, skipping the shuffle ends epochs 3 to 6 "
                "more than 10 times further from the best fit (on average) than reshuffling",
                far_without_shuffle, SHUFFLE, fixed=["B"])

def spread(e):
    return (e.max() - e.min()) / e.mean()
def cycles(**setting):
    s = {name: spread(e) for name, e in late_ends(shuffle_runs(**setting)).items()}
    return (s["one shuffle"] < 1e-3 and s["no shuffle"] < 1e-3 and s["new shuffle every epoch"] > 0.3), f"{s}"
dl.robust_claim("with a fixed order every epoch ends at the same point; with a new shuffle it does not",
                cycles, SHUFFLE, fixed=["B"])

def one_against_new(B, lr, epochs, seed):
    # one run is one draw: compare the two over 4 seeds (4 fixed orders, 4 reshuffled runs)
    means = [mean_late_ends(B=B, lr=lr, epochs=epochs, seed=s) for s in range(seed, seed + 4)]
    ratio = sum(m["one shuffle"] for m in means) / sum(m["new shuffle every epoch"] for m in means)
    return 0.5 < ratio < 2, f"one shuffle / new shuffle = {ratio:.2f}"
dl.robust_claim("averaged over 4 seeds, one shuffle reused ends epochs 3 to 6 at about the level of a new "
                "shuffle every epoch (within a factor 2)", one_against_new, SHUFFLE, fixed=["B"])

def small_step_damage(**setting):
    mean = mean_late_ends(**setting)
    ratio = mean["no shuffle"] / mean["new shuffle every epoch"]
    return 0.5 < ratio < 3, f"no shuffle / new shuffle = {ratio:.2f}"
print("with B = 32, lr = 0.08:", small_step_damage(B=32, lr=0.08, epochs=6, seed=3)[1])
dl.robust_claim("with B = 32 and lr = 0.08 the damage of not shuffling sorted data is small "
                "(between 0.5 and 3 times the reshuffled level)",
                small_step_damage, dict(B=32, lr=0.08, epochs=6, seed=3), fixed=["B"])

# %% [markdown] id="fb2718a0"
# What this shows, honestly:
#
# - **No shuffle on ordered data is the real danger**: the last batches of each epoch
#   (here the largest targets) pull the weights their way, and every epoch ends far from
#   the best fit: more than 10 times further than with shuffling, at this large step
#   (and at 20% smaller or larger ones).
#   The loss also jumps at the start of each epoch, when the smallest targets follow the
#   largest. At B = 32, lr = 0.08 the damage is small, so the mistake can go unnoticed.
# - With any **fixed order**, the epochs repeat exactly: the run settles into a cycle
#   and every epoch ends at the same point.
# - **One shuffle reused** is already random, and on this problem it ends at about the
#   same level as reshuffling (averaged over 4 seeds; a single run can be off by a
#   factor 2 either way). Reshuffling every epoch is still the convention
#   (`DataLoader(shuffle=True)` does it): no single unlucky order is repeated, and its
#   theory is the cleanest. It is what the graded functions must do.

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
# Three ways to spend the same 2 epochs (8000 examples): full-batch gradient descent
# ($B = n$, lr = 0.5, close to the limit $2/L = 0.56$ of notebook 01), "stochastic"
# gradient descent with one example per step ($B = 1$, lr = 0.0025) and minibatches
# ($B = 32$, lr = 0.08, 32 times that of $B = 1$; section 6 explains why). These learning
# rates are our choice, not tuned; section 5 tunes each batch size fairly. As above,
# `record_run` runs your `train_minibatch_sgd` and records the loss inside each epoch and
# the weights after every update.

# %% id="91a03f3a"
THREE = dict(lr_per_row=0.0025, full_lr=0.5, epochs=2, seed=0)

@cache
def three_runs(lr_per_row, full_lr, epochs, seed):
    # full batch, B = 32 and B = 1 from w = 0 with the same seed; B = 32 gets 32 times the lr of B = 1
    return tuple(record_run(data, train_minibatch_sgd, B, lr, epochs, np.random.default_rng(seed))
                 for B, lr in tqdm([(n, full_lr), (32, 32 * lr_per_row), (1, lr_per_row)], leave=False))

full, mini, single = three_runs(**THREE)
runs = {"full batch, lr = 0.5": full, "B = 32, lr = 0.08": mini, "B = 1, lr = 0.0025": single}
show_runs(data, runs, title="the same 2 epochs of data, three batch sizes")
for name, r in runs.items():
    print(f"{name:>20s}: {-(-n // r.batch_size):5d} updates per epoch, "
          f"L - L* after each epoch {np.round(r.epoch_losses - data.loss_min, 4)}")

# %% id="3bb917d3"
def gap(run):
    return run.losses - data.loss_min

def after_one_epoch(**setting):
    ends = [r.epoch_losses[0] - data.loss_min for r in three_runs(**setting)]
    return ends[1] < 0.02 and ends[2] < 0.02 and ends[0] > 0.5, f"full batch, B = 32, B = 1: {np.round(ends, 4)}"
dl.robust_claim("after one epoch B = 1 and B = 32 are within 0.02 of the best loss, "
                "the full batch (one step) is still 0.5 or more away", after_one_epoch, THREE)

def after_two_updates(**setting):
    at2 = [data.excess(r.path[2]) for r in three_runs(**setting)]   # the weights after 2 updates
    return 5 * at2[0] < min(at2[1:]), f"full batch, B = 32, B = 1: {np.round(at2, 3)}"
print("L - L* after 2 updates (full batch, B = 32, B = 1):", after_two_updates(**THREE)[1])
dl.robust_claim("per update, the full batch at lr = 0.5 is far ahead: after 2 updates it is lowest, "
                "by more than 5 times", after_two_updates, THREE, fixed=["full_lr"])

def converges_or_stalls(lr_per_row, full_lr, epochs, seed):
    _, l_gd = train_minibatch_sgd(X, y, n, full_lr, 100, np.random.default_rng(seed))
    mini = three_runs(lr_per_row, full_lr, epochs, seed)[1]
    last = gap(mini)[mini.epochs > epochs - 1]
    return (l_gd[-1] - data.loss_min < 1e-10 and last.min() > 1e-4,
            f"full batch after 100 epochs {l_gd[-1] - data.loss_min:.1e}; B = 32 in its last epoch "
            f"between {last.min():.1e} and {last.max():.1e}")
print(converges_or_stalls(**THREE)[1])
dl.robust_claim("full-batch gradient descent at lr = 0.5 converges to the best fit (below 1e-10 after 100 epochs); "
                "minibatch SGD stalls at a noise floor above 1e-4", converges_or_stalls, THREE, fixed=["full_lr"])

def b1_follows_b32(**setting):
    # B = 1 against B = 32 at the same numbers of examples, before they reach the floor
    _, mini, single = three_runs(**setting)
    before_floor = gap(mini) > 0.05
    on_b1 = np.interp(mini.examples[before_floor], single.examples, gap(single))
    worst = np.exp(np.max(np.abs(np.log(on_b1 / gap(mini)[before_floor])))) - 1
    return worst < 0.25, f"largest gap between the curves {100 * worst:.0f}%"
print("B = 1 vs B = 32 before the floor:", b1_follows_b32(**THREE)[1])
dl.robust_claim("until they reach the floor, the B = 1 and B = 32 curves agree within 25% at every recorded point",
                b1_follows_b32, THREE)

# %% [markdown] id="e85b5e51"
# Per **example seen** (middle panel), the small batches race ahead: within one epoch
# they make 4000 or 125 updates while the full batch makes one. Per **update** (right
# panel), the full batch is ahead: each of its steps uses the exact gradient and a large
# learning rate. And the small batches **stall**: their loss stops falling and jitters at
# a level called the *noise floor*, while full-batch gradient descent keeps converging
# (below $10^{-10}$ after 100 epochs). The path panel shows why: the minibatch paths wander
# around the best fit instead of settling on it. The next section measures that noise.
#
# The B = 1 and B = 32 curves lie almost on top of each other (within 25% until the
# floor, here and on the other seeds and learning rates we tried). Both runs use the same
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

# %% [markdown] id="ad4f20a0"
# **Question 2** (before you measure it). A dataset of $n = 1000$ rows: by what factor is
# the gradient noise at $B = 250$ smaller than at $B = 1$? Give $N(250) / N(1)$, with the
# finite-population correction.

# %% id="8193b91a" nbgrader={"grade": false, "grade_id": "q_noise_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
noise_ratio = (1 / 250) * (1000 - 250) / (1000 - 1)
### END SOLUTION

# %% id="dadab3e4" nbgrader={"grade": false, "grade_id": "q_noise_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(noise_ratio, "noise_ratio")

# %% id="70def35e" nbgrader={"grade": true, "grade_id": "q_noise", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 2 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("noise_ratio", noise_ratio)
### END HIDDEN TESTS

# %% [markdown] id="28f40e7e"
# ### Does it fall like $1/B$?
#
# Measure $N(B)$ at $w = 0$ for batch sizes from 1 to 3600, with 300 draws each, and
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

@cache
def noise_curve(draws, seed):
    # the measured N(B) at w = 0, one generator per batch size
    return np.array([gradient_noise(np.zeros(d), X, y, B, np.random.default_rng(10000 * seed + B), draws)
                     for B in sizes])

NOISE = dict(draws=300, seed=0)
noise = noise_curve(**NOISE)
plain_law = sigma2 / sizes
corrected = sigma2 / sizes * (n - sizes) / (n - 1)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
ax.loglog(sizes, plain_law, color="0.6", ls="--", label="sigma^2 / B")
ax.loglog(sizes, corrected, color="#0072B2", label="sigma^2 / B * (n - B) / (n - 1)")
ax.loglog(sizes, noise, "o", color="#D55E00", ms=5, label="measured, 300 draws")
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
MORE_DRAWS = {"draws": [240, 360]}   # besides other seeds: 20% fewer and more draws

def matches_corrected(**setting):
    r = noise_curve(**setting) / corrected
    return bool(np.all(np.abs(r - 1) < 0.2)), f"ratios {np.round(r, 2)}"
dl.robust_claim("at w = 0 the measured noise matches sigma^2 / B * (n - B) / (n - 1) within 20% at every batch size",
                matches_corrected, NOISE, vary=MORE_DRAWS)

def plain_overestimates(**setting):
    over = plain_law / noise_curve(**setting)
    return 1.6 < over[-3] < 2.5 and 7 < over[-1] < 14, f"(sigma^2 / B) / measured: {np.round(over, 2)}"
dl.robust_claim("the plain 1/B law overestimates the noise by about 2x at B = 2048 and 10x at B = 3600",
                plain_overestimates, NOISE, vary=MORE_DRAWS)

def follows_plain(**setting):
    follows = (noise_curve(**setting) / plain_law)[sizes <= 256]
    return bool(np.all(np.abs(follows - 1) < 0.2)), f"measured / (sigma^2 / B): {np.round(follows, 2)}"
dl.robust_claim("up to B = 256 the noise follows sigma^2 / B within 20%", follows_plain, NOISE, vary=MORE_DRAWS)

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

@cache
def norm_share(draws, seed):
    # {(where, B): Var ||g_B|| / E ||g_B - g||^2}, both from draws batches of the same generator seed
    return {(where, B): norm_variance(w, B, draws, np.random.default_rng(seed))
            / gradient_noise(w, X, y, B, np.random.default_rng(seed), draws)
            for where, w in [("w = 0", np.zeros(d)), ("w = w*", data.w_star)] for B in (16, 256)}

print("two opposite unit gradients around g = 0: variance of the norms", np.var([1.0, 1.0]),
      "| mean squared distance to g", np.mean([1.0, 1.0]))
SHARE = dict(draws=200, seed=1)
for (where, B), ratio in norm_share(**SHARE).items():
    print(f"{where:>7s}, B = {B:3d}: Var ||g_B|| / E ||g_B - g||^2 = {ratio:.2f}")

# %% id="ba108480"
def quarter_far(**setting):
    share = norm_share(**setting)
    return all(0.1 < share["w = 0", B] < 0.4 for B in (16, 256)), f"{share}"
dl.robust_claim("far from the fit (w = 0) the norm variance sees only about a quarter of the noise",
                quarter_far, SHARE, vary={"draws": [160, 240, 600]})

def tenth_at_fit(**setting):
    share = norm_share(**setting)
    return all(share["w = w*", B] < 0.15 for B in (16, 256)), f"{share}"
dl.robust_claim("at the best fit (g = 0) it sees about a tenth or less", tenth_at_fit, SHARE,
                vary={"draws": [160, 240, 600]})

# %% [markdown] id="d1310dcd"
# Far from the fit the full gradient is long, and the length mostly feels the part of
# the noise along it, one direction out of $d = 8$: the norm variance catches about a
# quarter of the noise here. At the best fit $g = 0$,
# all of $\|g_B\|^2$ is noise, but the norm variance subtracts the squared mean length
# and keeps only a tenth of it. Use $\mathbb E\|g_B - g\|^2$.

# %% [markdown] id="65ac3103"
# ## 5. The cost side
#
# Count the work in units that do not depend on the machine. An epoch processes $n$
# examples whatever the batch size: $n$ per-example gradients, the bulk of the
# arithmetic. It makes $\lceil n/B \rceil$ **updates**, and updates are sequential: step $t+1$
# needs the weights of step $t$, while the $B$ rows of one batch can be processed side by
# side. So two counts describe a run: the **examples** it has processed (the total work)
# and the **updates** it has made (the length of the chain of steps that cannot run in
# parallel). Which one decides the time depends on the hardware, not on the algorithm:
# a processor that handles 32 rows in about the time of one (vector units, a GPU) pays
# for updates; one that handles rows one after another pays for examples.
#
# A fair race in both counts. Each batch size, B = 1, 32 and the full batch, gets a grid
# of five learning rates (a factor 2 apart; for the full batch finer near its limit
# $2/L = 0.56$) and the same budget, 2 epochs (8000 examples). The measure is the number of examples after which the loss **stays** within
# 0.1 of the best to the end of the run: a run that dips below 0.1 and bounces back does
# not count as there. Each best learning rate must lie strictly inside its grid, and the
# measure must be the same on the first half of the run (the runs are long enough for it
# not to change). The full batch cannot get there in 2 updates, so it also gets a second
# chance: 40 epochs, 20 times the budget, which can only help it.
#
# Before you run it: which needs fewer examples, B = 1 or B = 32? And fewer updates?

# %% id="f3556bca"
GRIDS = {1: [0.00125, 0.0025, 0.005, 0.01, 0.02], 32: [0.04, 0.08, 0.16, 0.32, 0.64],
         n: [0.1, 0.2, 0.4, 0.5, 0.55]}

def settled(run, tol, upto=None):
    # examples seen at the first record after which L - L* stays below tol up to the end of the run
    # (or up to `upto` examples); None if it is not below tol there
    keep = run.examples <= (run.examples[-1] if upto is None else upto)
    above = np.nonzero(run.losses[keep] - data.loss_min >= tol)[0]
    if len(above) == 0:
        return 0
    return None if above[-1] == keep.sum() - 1 else int(run.examples[keep][above[-1] + 1])

@cache
def tuned(B, tol, epochs, seed):
    # every lr of B's grid with a budget of `epochs` epochs: (best lr, {lr: examples to settle}, {lr: run})
    grid_runs = {lr: record_run(data, train_minibatch_sgd, B, lr, epochs, np.random.default_rng(seed))
                 for lr in GRIDS[B]}
    reach = {lr: settled(r, tol) for lr, r in grid_runs.items()}
    return min(GRIDS[B], key=lambda lr: np.inf if reach[lr] is None else reach[lr]), reach, grid_runs

def race(tol, epochs, full_epochs, seed):
    # {B: (best lr, examples, updates, run)}; the full batch tuned with its longer budget
    out = {}
    for B in (1, 32, n):
        lr, reach, grid_runs = tuned(B, tol, full_epochs if B == n else epochs, seed)
        out[B] = lr, reach[lr], None if reach[lr] is None else -(-reach[lr] // B), grid_runs[lr]
    return out

RACE = dict(tol=0.1, epochs=2, full_epochs=40, seed=0)
result = race(**RACE)
fig, ax = plt.subplots(figsize=(6.5, 3.6))
for (B, grid), style in zip(GRIDS.items(), ["o-", "s--", "^:"], strict=True):
    reach = tuned(B, RACE["tol"], RACE["full_epochs"] if B == n else RACE["epochs"], RACE["seed"])[1]
    lrs = [lr for lr in grid if reach[lr] is not None]
    ax.loglog(lrs, [reach[lr] for lr in lrs], style, label=f"B = {B}" if B < n else "full batch (40 epochs)")
ax.set_xlabel("learning rate")
ax.set_ylabel("examples until L - L* stays < 0.1")
ax.set_title("each batch size on its grid (a missing point: not settled within the budget)", fontsize=9)
ax.legend(fontsize=8)
ax.grid(True, alpha=0.3)
log_ticks(ax)
plt.show()
best_runs = {f"B = {B}, lr = {lr:g}" if B < n else f"full batch, lr = {lr:g}": run
             for B, (lr, _, _, run) in result.items()}
show_runs(data, best_runs, panels=("examples", "updates"), figsize=(9, 3.6), logx=True,
          title="the best run of each batch size")
for B, (lr, examples, updates, _) in result.items():
    print(f"B = {B:4d}: best lr {lr:g}, within 0.1 for good after {examples} examples = {updates} updates")

# %% id="49dc8fe2"
def fair(tol, epochs, full_epochs, seed):
    # every best lr strictly inside its grid, and every measure unchanged on the first half of its run
    ok = True
    for B, (lr, examples, _, run) in race(tol, epochs, full_epochs, seed).items():
        ok &= GRIDS[B][0] < lr < GRIDS[B][-1] and examples is not None
        ok &= examples is not None and settled(run, tol, upto=run.examples[-1] // 2) == examples
    best = {B: v[:3] for B, v in race(tol, epochs, full_epochs, seed).items()}
    return ok, f"(best lr, examples, updates): {best}"
LONGER_FULL = {"full_epochs": [120]}
dl.robust_claim("each best learning rate lies strictly inside its grid, and each measure is the same on the first "
                "half of its run", fair, RACE, vary=LONGER_FULL)

def full_needs_more(tol, epochs, full_epochs, seed):
    # the first `epochs` epochs of the full batch's runs: it settles at no lr of its grid
    short = {lr: settled(r, tol, upto=epochs * n) for lr, r in tuned(n, tol, full_epochs, seed)[2].items()}
    return all(s is None for s in short.values()), f"{short}"
dl.robust_claim("with the budget of 2 epochs the full batch gets within 0.1 at no lr of its grid",
                full_needs_more, RACE, fixed=["epochs"], vary=LONGER_FULL)

def per_example(**setting):
    r = race(**setting)
    ratio = r[1][1] / r[32][1]
    return 0.5 < ratio < 1.1 and r[n][1] > 10 * r[32][1], (
        f"examples: B = 1 {r[1][1]}, B = 32 {r[32][1]}, full batch {r[n][1]}")
dl.robust_claim("per example, tuned B = 1 does at least about as well as tuned B = 32 (0.5 to 1.1 times its examples), "
                "and both need fewer than a tenth of the full batch's", per_example, RACE, vary=LONGER_FULL)

def per_update(**setting):
    r = race(**setting)
    return r[1][2] > 15 * r[32][2] and r[n][2] < r[32][2], (
        f"updates: B = 1 {r[1][2]}, B = 32 {r[32][2]}, full batch {r[n][2]}")
dl.robust_claim("per update, B = 32 needs more than 15 times fewer than B = 1, and the full batch fewer still",
                per_update, RACE, vary=LONGER_FULL)

def best_lr_ratio(**setting):
    r = race(**setting)
    return 10 <= r[32][0] / r[1][0] <= 40, f"best lr: B = 1 {r[1][0]}, B = 32 {r[32][0]}"
dl.robust_claim("the best lr of B = 32 is 10 to 40 times that of B = 1", best_lr_ratio, RACE, vary=LONGER_FULL)

# %% [markdown] id="e8376114"
# So, in counts:
#
# - **per example** (the total work), the small batches win by far: B = 1 and B = 32
#   need about the same number, B = 1 if anything fewer, and both more than 10 times
#   fewer than the full batch, even with its 20-fold budget;
# - **per update** (the sequential chain), B = 32 needs more than 15 times fewer than
#   B = 1, and the full batch, with its exact gradient, fewest of all.
#
# Which is faster in seconds follows from how your hardware prices the two counts, and
# no assertion here depends on it. Where a batch of 32 costs about as much as one row,
# B = 32 wins: the work of B = 1 in more than 15 times fewer steps. Where every row costs the
# same, B = 1 and B = 32 tie, and the full batch loses either way: on this small problem
# one of its passes is cheap, but with millions of rows each step is a pass over all of
# them.
#
# One thing neither small batch can do: get close. Every lr on their grids has a noise
# floor (section 6) well above $10^{-4}$, while the full batch keeps converging.

# %% id="8a55af55"
def only_full_gets_close(tol, epochs, full_epochs, seed):
    # the lowest loss of any run on the minibatch grids, and the predicted floor of their smallest lr / B
    lowest = {B: float(min(gap(r).min() for r in tuned(B, tol, epochs, seed)[2].values())) for B in (1, 32)}
    floors = {B: float(data.predicted_floor(GRIDS[B][0], B)) for B in (1, 32)}
    full_end = gap(race(tol, epochs, full_epochs, seed)[n][3])[-1]
    return (full_end < 1e-4 and all(v > 1e-4 for v in lowest.values()) and all(f > 1e-3 for f in floors.values()),
            f"full batch ends at {full_end:.1e}; lowest L - L* of any minibatch run (B = 1, 32): "
            f"{lowest[1]:.1e}, {lowest[32]:.1e}; predicted floors at their smallest lr: "
            f"{floors[1]:.1e}, {floors[32]:.1e}")
print(only_full_gets_close(**RACE)[1])
dl.robust_claim("only the full batch gets within 1e-4; no minibatch run of either grid does, and their predicted "
                "floors (above 1e-3) are what stops them, not the budget", only_full_gets_close, RACE,
                vary=LONGER_FULL)

# %% [markdown] id="28294390"
# For a precise answer, constant-lr minibatch SGD is stuck at its noise floor; the full
# batch (or a decaying learning rate, notebook 03, or a growing batch) gets there. Notice
# also the best learning rates: that of B = 32 is 10 to 40 times that of B = 1, a pattern
# the next section explains.
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
# Check it: $B$ from 4 to 256 with lr $= 0.0025\,B$, for 2 epochs each. Predict first:
# which of these runs will not follow the rule?

# %% id="92b295ef"
SCALED = dict(lr_per_row=0.0025, tol=0.02, epochs=2, seed=2)

@cache
def scaled_runs(lr_per_row, tol, epochs, seed):
    # lr = lr_per_row * B for each batch size, same seed
    return {B: record_run(data, train_minibatch_sgd, B, lr_per_row * B, epochs, np.random.default_rng(seed))
            for B in (4, 16, 64, 128, 256)}

def examples_to_reach(lr_per_row, tol, epochs, seed):
    return {B: r.first("examples", data.loss_min + tol) for B, r in scaled_runs(lr_per_row, tol, epochs, seed).items()}

scaled = {f"B = {B}, lr = {0.0025 * B:g}": r for B, r in scaled_runs(**SCALED).items()}
show_runs(data, scaled, panels=("examples", "updates"), figsize=(9, 3.6), title="lr = 0.0025 B")
print("examples seen before L - L* < 0.02:", examples_to_reach(**SCALED))
print(f"2 / L = {data.max_stable_lr:.3f}")

# %% id="42c0b2e2"
def same_examples(**setting):
    reach = examples_to_reach(**setting)
    ok = [reach[B] for B in (4, 16, 64)]
    return None not in ok and max(ok) < 1.2 * min(ok), f"{reach}"
dl.robust_claim("from B = 4 to B = 64 (lr = 0.0025 B) every run needs the same examples to reach 0.02, within 20%",
                same_examples, SCALED)

def b128_close(**setting):
    reach = examples_to_reach(**setting)
    return None not in (reach[4], reach[128]) and reach[128] < 1.3 * reach[4], f"{reach}"
dl.robust_claim("B = 128 (lr = 0.32) needs at most 30% more examples than B = 4", b128_close, SCALED)

def b256_diverges(lr, epochs, seed):
    run = record_run(data, train_minibatch_sgd, 256, lr, epochs, np.random.default_rng(seed))
    return run.diverged and lr > data.max_stable_lr, f"L - L* at the end {run.losses[-1] - data.loss_min:.3g}"
dl.robust_claim("B = 256 with lr = 0.64, above 2 / L, diverges", b256_diverges, dict(lr=0.64, epochs=2, seed=2),
                fixed=["lr"])

# %% [markdown] id="7e4c2470"
# For $B$ from 4 to 64 the curves lie on top of each other against the examples seen,
# while the number of updates falls 16-fold (right panel). $B = 128$, with lr = 0.32 past
# half of $2/L$, follows closely: it needs at most 30% more examples than $B = 4$. At $B = 256$ the rule asks for lr = 0.64, above the stability limit $2/L = 0.56$
# of full-batch gradient descent, and the run blows up.
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
CAPPED = dict(lr_per_row=0.0025, cap=0.5, tol=0.02, seed=2)

@cache
def needed(lr_per_row, cap, tol, seed):
    # {B: (examples, updates) to reach L - L* < tol} with lr = min(lr_per_row * B, cap); each run long enough
    out = {}
    for B in big_sizes:
        run = record_run(data, train_minibatch_sgd, B, min(lr_per_row * B, cap),
                         int(np.ceil(15 * B / n)) + 1, np.random.default_rng(seed))
        out[B] = (run.first("examples", data.loss_min + tol), run.first("updates", data.loss_min + tol))
    return out

counts = needed(**CAPPED)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.3), layout="constrained")
ax1.loglog(big_sizes, [counts[B][0] for B in big_sizes], "o-", color="#0072B2")
ax1.set_xlabel("batch size B")
ax1.set_ylabel("examples to reach 0.02")
ax2.loglog(big_sizes, [counts[B][1] for B in big_sizes], "s--", color="#D55E00")
ax2.set_xlabel("batch size B")
ax2.set_ylabel("updates to reach 0.02")
for ax in (ax1, ax2):
    ax.axvline(0.5 / 0.0025, color="0.5", ls=":", lw=1)
    ax.grid(True, alpha=0.3)
log_ticks(fig)
plt.show()
for B in big_sizes:
    print(f"B = {B:5d}, lr = {min(0.0025 * B, 0.5):.3f}: {counts[B][0]:6d} examples, {counts[B][1]:5d} updates")

# %% id="dd22b75f"
def grow_past_cap(**setting):
    c = needed(**setting)
    return None not in (c[4000][0], c[128][0]) and c[4000][0] > 10 * c[128][0], f"{c}"
dl.robust_claim("past the cap, examples needed grow with B: the full batch needs more than 10 times those of B = 128",
                grow_past_cap, CAPPED, fixed=["cap"])

def fall_below_cap(**setting):
    c = needed(**setting)
    return None not in (c[16][1], c[128][1]) and c[16][1] > 5 * c[128][1], f"{c}"
dl.robust_claim("below the cap, updates needed fall like 1/B: B = 16 needs more than 5 times the updates of B = 128",
                fall_below_cap, CAPPED, fixed=["cap"])

def flat_past_cap(**setting):
    u = [needed(**setting)[B][1] for B in (1024, 2048, 4000)]
    return None not in u and max(u) <= 1.2 * min(u), f"updates {u}"
dl.robust_claim("past the cap, updates needed stop falling: B = 1024 to 4000 need the same number, within 20%",
                flat_past_cap, CAPPED, fixed=["cap"])

# %% [markdown] id="599c1711"
# Two regimes, split near the dotted line where the rule hits the cap: below it, a larger
# batch buys proportionally fewer updates for the same data (perfect scaling, the rule
# holds); above it, the number of updates stops falling and every extra row in a batch
# is wasted work. The batch size where this turns is sometimes called the *critical batch
# size* (McCandlish et al., 2018); it is larger when the gradient noise is larger.
#
# ### The largest stable learning rate depends on the batch size
#
# The explorer below invites you to find the largest lr for $B = 1$ that still
# converges. Is it $2/L = 0.56$, the limit of full-batch gradient descent? Predict before
# you run the next cell.
#
# A hint: a step on one row $x_i$ moves $w$ along $x_i$ only, and along that direction its
# loss $(x_i^\top w - y_i)^2$ has curvature $2\|x_i\|^2$. Here $\|x_i\|^2$ averages
# $\operatorname{tr} C = d = 8$, so a single row is on average $2 \cdot 8 = 16$ steep along its
# own direction, more than 4 times $L = 3.6$. A batch of $B$ rows averages these
# curvatures, and the steepest direction of the batch's loss comes down towards $L$ as $B$
# grows.
#
# The experiment: for each batch size, bisect (7 halvings between 0.01 and 1) for the
# largest lr whose run of one epoch from $w = 0$ ends below where it started.

# %% id="63aeebba"
@cache
def largest_stable_lr(B, epochs, seed):
    # bisection on a log scale: a run is stable if after `epochs` epochs from w = 0 the loss is finite
    # and below where it started
    lo, hi = 0.01, 1.0
    for _ in range(7):
        mid = np.sqrt(lo * hi)
        with np.errstate(over="ignore", invalid="ignore"):
            _, losses = train_minibatch_sgd(X, y, B, mid, epochs, np.random.default_rng(seed))
        lo, hi = (mid, hi) if losses[-1] < data.loss(np.zeros(d)) else (lo, mid)
    return lo

LIMIT = dict(epochs=1, seed=0)
limit_sizes = [1, 2, 4, 8, 16, 64]
limits = {B: largest_stable_lr(B, **LIMIT) for B in tqdm(limit_sizes, leave=False)}
fig, ax = plt.subplots(figsize=(6.5, 3.4))
ax.loglog(limit_sizes, [limits[B] for B in limit_sizes], "o-", color="#0072B2", label="largest stable lr, measured")
ax.axhline(data.max_stable_lr, color="0.4", ls="--", lw=1, label="2 / L, the full-batch limit")
ax.set_xlabel("batch size B")
ax.set_ylabel("learning rate")
ax.legend(fontsize=8, loc="lower right")
ax.grid(True, alpha=0.3)
log_ticks(ax)
plt.show()
for B in limit_sizes:
    print(f"B = {B:2d}: largest stable lr {limits[B]:.3f} = {limits[B] / data.max_stable_lr:.2f} x 2 / L")

# %% id="0f5c717a"
def b1_limit(**setting):
    ratio = largest_stable_lr(1, **setting) / data.max_stable_lr
    return ratio < 0.25, f"largest stable lr for B = 1: {ratio:.2f} x 2 / L"
dl.robust_claim("for B = 1 the largest stable lr is less than a quarter of 2 / L", b1_limit, LIMIT)

def grows_with_B(**setting):
    lims = [largest_stable_lr(B, **setting) for B in (1, 2, 4, 8, 16)]
    return all(a < b for a, b in zip(lims[:-1], lims[1:], strict=True)), f"B = 1, 2, 4, 8, 16: {np.round(lims, 3)}"
dl.robust_claim("the limit grows with the batch size from B = 1 to B = 16", grows_with_B, LIMIT)

def reaches_2_over_L(**setting):
    ratios = [largest_stable_lr(B, **setting) / data.max_stable_lr for B in (16, 64)]
    return all(abs(r - 1) < 0.1 for r in ratios), f"B = 16, 64: {np.round(ratios, 3)} x 2 / L"
dl.robust_claim("from B = 16 on the limit is 2 / L within 10%", reaches_2_over_L, LIMIT)
dl.claim("the rule lr = 0.0025 B stays below every measured limit", all(0.0025 * B < limits[B] for B in limit_sizes))

# %% [markdown] id="f8b06f89"
# No: for $B = 1$ the largest stable learning rate is about 0.1, well under a quarter of
# $2/L$, on every seed we tried and with runs three times as long. The steep single rows,
# not the averaged loss, set the limit. It grows with $B$, and from about $B = 16$ on it
# is $2/L$ within 10%, the limit of the averaged loss. So for small batches the safe learning rate itself grows with $B$; the rule
# lr $= 0.0025\,B$ stays inside every one of these limits until it meets $2/L$ near
# $B = 200$.
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

# %% [markdown] id="95d39cb1"
# **Question 3** (before the measurement). Predict the noise floor $L(w) - L(w^*)$ of
# constant-lr SGD with lr = 0.03 and $B = 20$ on a problem with $\sigma_*^2 = 5$ (small-lr
# formula, ignore the finite-population correction).

# %% id="40b7790f" nbgrader={"grade": false, "grade_id": "q_floor_answer", "locked": false, "schema_version": 3, "solution": true, "task": false}
### BEGIN SOLUTION
floor_prediction = 0.03 * 5 / (4 * 20)
### END SOLUTION

# %% id="7e65daeb" nbgrader={"grade": false, "grade_id": "q_floor_visible", "locked": true, "schema_version": 3, "solution": false, "task": false}
dl.assert_number(floor_prediction, "floor_prediction")

# %% id="659ac6c4" nbgrader={"grade": true, "grade_id": "q_floor", "locked": true, "points": 1, "schema_version": 3, "solution": false, "task": false}
# Question 3 (1 point, hidden tests)
### BEGIN HIDDEN TESTS
import gradeclient

gradeclient.check_answer("floor_prediction", floor_prediction)
### END HIDDEN TESTS

# %% id="ee6715d7"
sigma2_star = data.gradient_variance(data.w_star)
grid = [(4, 0.01), (4, 0.02), (16, 0.04), (16, 0.08), (16, 0.16), (64, 0.16), (64, 0.32), (128, 0.32)]

@cache
def measured_floors(epochs, seed):
    # {(B, lr): the mean of L - L* over a run of `epochs` epochs that starts at w*}
    return {(B, lr): np.mean(record_run(data, train_minibatch_sgd, B, lr, epochs,
                                        np.random.default_rng(seed), w0=data.w_star).losses[1:] - data.loss_min)
            for B, lr in tqdm(grid, leave=False)}

FLOORS = dict(epochs=3, seed=7)
floors = measured_floors(**FLOORS)
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
    ax.loglog(lr / B, f, "D" if near else "o", color="#D55E00" if near else "#0072B2", ms=6)
    ax.loglog(lr / B, data.predicted_floor(lr, B, small_lr=False), "x", color="0.3", ms=6)
    ax.annotate(f"B={B}, lr={lr:g}", (lr / B, f), fontsize=7, textcoords="offset points",
                xytext=(-6, 0) if (B, lr) in ((4, 0.01), (4, 0.02)) else (6, 0),
                ha="right" if (B, lr) in ((4, 0.01), (4, 0.02)) else "left", va="center")
q = np.geomspace(0.002, 0.012, 10)
ax.loglog(q, q * sigma2_star / 4, color="0.5", ls="--", label="lr sigma*^2 / (4B)")
ax.plot([], [], "o", color="#0072B2", label="measured, lr L < 0.5")
ax.plot([], [], "D", color="#D55E00", label="measured, lr L > 0.5")
ax.plot([], [], "x", color="0.3", label="refined prediction")
ax.set_xlim(1.5e-3, 1.6e-2)
ax.set_xlabel("lr / B")
ax.set_ylabel("floor L - L*")
ax.legend(fontsize=8, loc="upper left")
ax.grid(True, alpha=0.3)
log_ticks(ax)
plt.show()

# %% id="409fb8a5"
def simple_formula(**setting):
    small = {k: round(f / (k[1] * sigma2_star / (4 * k[0])), 2)
             for k, f in measured_floors(**setting).items() if k[1] <= 0.08}
    return all(abs(r - 1) < 0.2 for r in small.values()), f"measured / predicted {small}"
dl.robust_claim("for lr <= 0.08 the floor is lr sigma*^2 / (4B) within 20%", simple_formula, FLOORS)

def same_ratio(**setting):
    f = measured_floors(**setting)
    return (max(f[4, 0.01], f[16, 0.04]) < 1.1 * min(f[4, 0.01], f[16, 0.04])
            and f[16, 0.04] < f[64, 0.16] < 1.5 * f[16, 0.04]), f"{f[4, 0.01]:.5f} {f[16, 0.04]:.5f} {f[64, 0.16]:.5f}"
dl.robust_claim("same lr / B, same floor: (4, 0.01) and (16, 0.04) agree within 10%; (64, 0.16), with 4 times the lr, "
                "sits higher, by less than 50%", same_ratio, FLOORS)

def doubling(**setting):
    f = measured_floors(**setting)
    a, b = f[4, 0.02] / f[4, 0.01], f[16, 0.08] / f[16, 0.04]
    return 1.6 < a < 2.6 and 1.6 < b < 2.6, f"ratios {a:.2f}, {b:.2f}"
dl.robust_claim("doubling lr / B doubles the floor (ratio between 1.6 and 2.6)", doubling, FLOORS)

def underestimates(**setting):
    f = measured_floors(**setting)
    a, b = f[64, 0.32] / (0.32 * sigma2_star / (4 * 64)), f[128, 0.32] / (0.32 * sigma2_star / (4 * 128))
    return a > 1.4 and b > 1.4, f"measured / simple formula {a:.2f}, {b:.2f}"
dl.robust_claim("near the stability limit the simple formula underestimates: "
                "at lr = 0.32 the floor is over 1.4 times its prediction", underestimates, FLOORS)

def refined_matches(**setting):
    ratio = [f / data.predicted_floor(lr, B, small_lr=False) for (B, lr), f in measured_floors(**setting).items()]
    return all(abs(r - 1) < 0.3 for r in ratio), f"measured / refined {np.round(ratio, 2)}"
dl.robust_claim("the refined prediction (lr/2) sum_k S_kk / (2 - lr h_k) matches every measured floor within 30%",
                refined_matches, FLOORS)

# %% [markdown] id="5e47e6ab"
# For small steps (lr $\le$ 0.08, that is $\eta L \le 0.3$) the floor is set by $\eta/B$ alone
# and the simple formula holds within 20%: the runs with lr/B = 0.0025 at $B$ = 4 and 16
# settle at the same level (within 10%), and doubling lr/B doubles it. $B = 64$ with the
# same lr/B already sits a little higher, and as $\eta L$ grows (orange diamonds) the simple
# formula falls short: the step overshoots in the
# steep directions, each eigen-direction $k$ of the Hessian (eigenvalue $h_k$) is
# amplified by $2/(2 - \eta h_k)$, and the floor blows up as $\eta \to 2/L$. The toolkit's
# `data.predicted_floor(lr, B, small_lr=False)` includes that factor and matches all runs
# here within 30% (within 20% on most seeds). This is the other face of where linear scaling breaks.
#
# In practice: to get below the floor, lower $\eta/B$ as training goes on, by decaying the
# learning rate (notebook 03) or by growing the batch (Smith et al., 2018).


# %% [markdown] id="4f0fb92e"
# ## 7. Play with it
#
# Move the sliders: the figure updates as you drag; click the contour plot to start from
# there (the other weights start at zero). Left, the path of $w_0$ and $w_1$ on
# the loss contours (full-batch gradient descent at the same lr dashed); middle, the loss
# above its minimum against the examples seen (epochs on top; dots at the end of each
# epoch; the dotted line is the predicted floor $\eta\,N(B)/4$); right, the same against
# the number of updates. Try to
#
# - keep lr fixed and lower the batch size: more updates per epoch, noisier, a higher floor;
# - double the batch size and the learning rate together, and watch the middle panel
#   stay put (until lr passes $2/L \approx 0.56$);
# - set $B = 1$ and move lr across about 0.1, the limit measured in section 6: below it the
#   run settles at its floor, above it the loss blows up, long before lr reaches $2/L$;
#   then try the same lr at $B = 64$;
# - push lr close to the limit with a large batch: the dashed full-batch path zig-zags
#   across the valley, as in notebook 01.

# %% id="2e56cc1d"
explore_batch(data, train_minibatch_sgd, batch_size=32, lr=0.05, epochs=3, weights=(0, 1),
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
# - Cost, in counts: every epoch processes $n$ examples and makes $\lceil n/B \rceil$ updates.
#   Tuned fairly, B = 1 and B = 32 need about the same examples and both far fewer than the
#   full batch; B = 32 needs more than 15 times fewer updates than B = 1. Which count decides
#   the time depends on the hardware.
# - The largest stable lr is $2/L$ only for large enough batches: for $B = 1$ it is under a
#   quarter of it here, because single rows are much steeper than the averaged loss.
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
