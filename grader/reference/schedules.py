"""Notebook 03: learning-rate schedules as closed forms of the 0-based update index."""
import math


def step_decay(step, lr0, step_size, gamma):
    return float(lr0 * gamma ** (step // step_size))


def exponential_decay(step, lr0, gamma):
    return float(lr0 * gamma ** step)


def _cosine(progress, lr0, lr_min):
    return lr_min + (lr0 - lr_min) * (1 + math.cos(math.pi * progress)) / 2


def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    if step >= T_max:
        return float(lr_min)
    return float(_cosine(step / T_max, lr0, lr_min))


def warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return float(lr0 * (step + 1) / warmup_steps)
    if step >= total_steps:
        return float(lr_min)
    progress = (step - warmup_steps) / (total_steps - warmup_steps)
    return float(_cosine(progress, lr0, lr_min))
