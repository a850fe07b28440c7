"""Reference implementations of every graded function (instructor side only).

Each is proven against its torch oracle in ``tests/test_reference_vs_torch.py``.
Students never receive this package.
"""
from grader.reference.adam import ScratchAdam, adam_step, adamw_step
from grader.reference.adaptive import adagrad_step, rmsprop_step
from grader.reference.batch_size import (
    gradient_noise,
    minibatch_indices,
    mse_gradient,
    train_minibatch_sgd,
)
from grader.reference.clipping import clip_grad_norm
from grader.reference.lion_muon import lion_step, muon_step, newton_schulz
from grader.reference.momentum import ema_to_torch_lr, momentum_step, nesterov_step, sgd_step
from grader.reference.nadam_radam import nadam_step, radam_step
from grader.reference.param_groups import decay_param_groups
from grader.reference.range_test import lr_range_test
from grader.reference.sam import SAM
from grader.reference.schedules import (
    cosine_annealing,
    exponential_decay,
    step_decay,
    warmup_cosine,
)
from grader.reference.training import save_checkpoint, train_one_epoch

__all__ = [
    "sgd_step", "momentum_step", "nesterov_step", "ema_to_torch_lr",
    "adagrad_step", "rmsprop_step",
    "step_decay", "exponential_decay", "cosine_annealing", "warmup_cosine",
    "minibatch_indices", "mse_gradient", "train_minibatch_sgd", "gradient_noise",
    "adam_step", "adamw_step", "ScratchAdam",
    "train_one_epoch", "save_checkpoint", "lr_range_test", "clip_grad_norm", "decay_param_groups",
    "nadam_step", "radam_step", "lion_step", "newton_schulz", "muon_step", "SAM",
]
