"""Submissions for 01_momentum. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks."""
import numpy as np  # noqa: F401 (the catalogue functions use it)

from tests.catalogue import steps as cat
from tests.submissions import as_cell

ALL_PARTS = ("basic", "random", "edge", "trajectory")


def _loses(name, parts, phrase):
    return {f"{name}_{p}": phrase for p in parts}


STUDENTS = {
    "reference": dict(code={}, loses={}),
    "sgd-sign-momentum-ema": dict(
        code={"sgd_step": as_cell(cat.sgd_plus, "sgd_step"),
              "momentum_step": as_cell(cat.momentum_ema, "momentum_step")},
        loses={**_loses("sgd_step", ALL_PARTS, "goes up the gradient"),
               **_loses("momentum_step", ALL_PARTS, "EMA form")}),
    "old-velocity-no-lookahead": dict(
        code={"momentum_step": as_cell(cat.momentum_old_velocity, "momentum_step"),
              "nesterov_step": as_cell(cat.nesterov_no_lookahead, "nesterov_step")},
        loses={**_loses("momentum_step", ALL_PARTS, "old velocity"),
               **_loses("nesterov_step", ALL_PARTS, "no look-ahead")}),
    "mutates-inputs": dict(
        code={"sgd_step": as_cell(cat.sgd_inplace, "sgd_step"),
              "momentum_step": as_cell(cat.momentum_inplace, "momentum_step")},
        loses={**_loses("sgd_step", ALL_PARTS, "in place"),
               **_loses("momentum_step", ALL_PARTS, "in place")}),
    "sign-and-swapped": dict(
        code={"momentum_step": as_cell(cat.momentum_swapped, "momentum_step"),
              "nesterov_step": as_cell(cat.nesterov_sign, "nesterov_step")},
        loses={**_loses("momentum_step", ALL_PARTS, "wrong order"),
               **_loses("nesterov_step", ALL_PARTS, "sign is flipped")}),
    "cs231n-and-wrong-answers": dict(
        code={"momentum_step": as_cell(cat.momentum_cs231n, "momentum_step"),
              "ema_to_torch_lr": "def ema_to_torch_lr(lr_ema, beta):\n    return lr_ema / (1 - beta)\n",
              "q_stable_lr_answer": "stable_lr = 2 / 2",
              "q_velocity_answer": "velocity_limit = 0.99",
              "q_rate_answer": "momentum_rate = 99 / 101"},
        loses={**_loses("momentum_step", ALL_PARTS, "CS231n form"),
               "ema_to_torch_lr_random": "lr_ema / (1 - beta)",
               "q_stable_lr": "Hint", "q_velocity": "Hint", "q_rate": "Hint"}),
    "correct-loops-and-lists": dict(
        code={"sgd_step": as_cell(cat.sgd_loop, "sgd_step"),
              "momentum_step": as_cell(cat.momentum_loop, "momentum_step"),
              "nesterov_step": as_cell(cat.nesterov_expanded, "nesterov_step"),
              "q_rate_answer": "momentum_rate = 0.905"},
        loses={}),
    "correct-copies-and-lists": dict(
        code={"momentum_step": as_cell(cat.momentum_list, "momentum_step"),
              "sgd_step": "def sgd_step(x, g, lr):\n    out = x.copy()\n    out -= lr * g\n    return out\n"},
        loses={}),
    "correct-inplace-on-copies": dict(
        code={"momentum_step": as_cell(cat.momentum_copy_then_inplace, "momentum_step")},
        loses={}),
}
