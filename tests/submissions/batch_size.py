"""Submissions for 04_batch_size. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks.

In the notebook, train_minibatch_sgd calls the student's own minibatch_indices and
mse_gradient, and gradient_noise calls mse_gradient: a wrong helper costs the cells of
the functions that use it too (the feedback names the helper), so those cells are
listed here as well."""
import numpy as np  # noqa: F401 (the catalogue functions use it)

from tests.catalogue import batch as cat
from tests.submissions import as_cell

ALL_PARTS = ("basic", "random", "edge")
# the catalogue's train and noise functions use two small helpers of their own
HELPERS = as_cell(cat._mb, "_mb") + "\n" + as_cell(cat._grad, "_grad") + "\n"


def _loses(name, phrase, parts=ALL_PARTS):
    return {f"{name}_{p}": phrase for p in parts}


def _with_helpers(fn, name):
    return HELPERS + as_cell(fn, name)


STUDENTS = {
    "reference": dict(code={}, loses={}),
    # a wrong minibatch_indices: the reference train_minibatch_sgd calls it, so it loses too
    "no-shuffle": dict(
        code={"minibatch_indices": as_cell(cat.indices_no_shuffle, "minibatch_indices")},
        loses={**_loses("minibatch_indices", "not shuffled"),
               **_loses("train_minibatch_sgd", "not shuffled")}),
    "batches-with-replacement": dict(
        code={"minibatch_indices": as_cell(cat.indices_with_replacement, "minibatch_indices"),
              "q_updates_answer": "updates_per_epoch = 50000 // 128 + 1"},
        loses={**_loses("minibatch_indices", "exactly once"),
               **_loses("train_minibatch_sgd", "with replacement"),
               "q_updates": "Hint"}),
    # drop_last is not used by training, so only minibatch_indices loses for it
    "drop-last-ignored-and-last-batch-loss": dict(
        code={"minibatch_indices": as_cell(cat.indices_drop_ignored, "minibatch_indices"),
              "train_minibatch_sgd": _with_helpers(cat.train_last_batch_loss, "train_minibatch_sgd")},
        loses={**_loses("minibatch_indices", "drop a short last batch"),
               **_loses("train_minibatch_sgd", "last batch")}),
    "one-shuffle-and-norm-variance": dict(
        code={"train_minibatch_sgd": _with_helpers(cat.train_one_shuffle, "train_minibatch_sgd"),
              "gradient_noise": _with_helpers(cat.noise_norm_variance, "gradient_noise")},
        loses={**_loses("train_minibatch_sgd", "one shuffle is reused"),
               **_loses("gradient_noise", "variance of the gradient norms")}),
    # a wrong mse_gradient: the reference train_minibatch_sgd and gradient_noise call it
    "missing-factor-two": dict(
        code={"mse_gradient": as_cell(cat.grad_no_two, "mse_gradient"),
              "q_noise_answer": "noise_ratio = 1 / 250",
              "q_floor_answer": "floor_prediction = 0.03 * 5 / 20"},
        loses={**_loses("mse_gradient", "factor 2"),
               **_loses("train_minibatch_sgd", "factor 2"),
               **_loses("gradient_noise", "factor 2"),
               "q_noise": "Hint", "q_floor": "Hint"}),
    "divide-by-n-and-noise-with-replacement": dict(
        code={"train_minibatch_sgd": _with_helpers(cat.train_divide_by_n, "train_minibatch_sgd"),
              "gradient_noise": _with_helpers(cat.noise_with_replacement, "gradient_noise")},
        loses={**_loses("train_minibatch_sgd", "divided by n"),
               **_loses("gradient_noise", "with replacement")}),
    "correct-loops-and-lists": dict(
        code={"minibatch_indices": as_cell(cat.indices_loop, "minibatch_indices"),
              "mse_gradient": as_cell(cat.grad_loop, "mse_gradient"),
              "train_minibatch_sgd": _with_helpers(cat.train_list_losses_tuple, "train_minibatch_sgd"),
              "gradient_noise": _with_helpers(cat.noise_loop, "gradient_noise"),
              "q_floor_answer": "floor_prediction = 0.001875"},
        loses={}),
    "correct-split-and-einsum": dict(
        code={"minibatch_indices": as_cell(cat.indices_array_split, "minibatch_indices"),
              "mse_gradient": as_cell(cat.grad_einsum, "mse_gradient"),
              "q_updates_answer": "updates_per_epoch = 390",
              "q_noise_answer": "noise_ratio = 0.0030030"},
        loses={}),
}
