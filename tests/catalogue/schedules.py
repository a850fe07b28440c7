"""Schedules written the way students write them: WRONG (label, function, parts it
must fail, phrase of the message) and RIGHT (correct, written differently)."""
import math


def _cos(p, lr0, lr_min):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * p))


WRONG = {
    "step_decay": [
        ("(step + 1) in the decay", lambda step, lr0, step_size, gamma: lr0 * gamma ** ((step + 1) // step_size),
         {"basic", "boundaries", "random"}, "step + 1"),
        ("no floor", lambda step, lr0, step_size, gamma: lr0 * gamma ** (step / step_size),
         {"basic", "boundaries", "random"}, "without rounding down"),
    ],
    "exponential_decay": [
        ("(step + 1) in the decay", lambda step, lr0, gamma: lr0 * gamma ** (step + 1),
         {"basic", "boundaries", "random"}, "step + 1"),
    ],
    "cosine_annealing": [
        ("T_max + 1", lambda step, lr0, T_max, lr_min=0.0:
         lr_min if step > T_max else _cos(step / (T_max + 1), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "T_max + 1"),
        ("no clamp after the end", lambda step, lr0, T_max, lr_min=0.0: _cos(step / T_max, lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "no clamp"),
        ("lr_min ignored", lambda step, lr0, T_max, lr_min=0.0:
         0.0 if step >= T_max else _cos(step / T_max, lr0, 0.0),
         {"basic", "boundaries", "random"}, "lr_min is ignored"),
        ("returns a list", lambda step, lr0, T_max, lr_min=0.0: [_cos(min(step, T_max) / T_max, lr0, lr_min)],
         {"basic", "boundaries", "random", "defaults"}, "one number"),
        ("(step + 1) in the cosine", lambda step, lr0, T_max, lr_min=0.0:
         lr_min if step >= T_max else _cos((step + 1) / T_max, lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "uses (step + 1)"),
    ],
    "warmup_cosine": [
        ("warmup starting at zero", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * step / warmup_steps if step < warmup_steps else
         lr_min if step >= total_steps else
         _cos((step - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "warmup starts at zero"),
        ("progress from step 0", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * (step + 1) / warmup_steps if step < warmup_steps else
         lr_min if step >= total_steps else _cos(step / total_steps, lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "from step 0"),
        ("no clamp after the end", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * (step + 1) / warmup_steps if step < warmup_steps else
         _cos((step - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "no clamp"),
        ("total_steps + 1", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * (step + 1) / warmup_steps if step < warmup_steps else
         lr_min if step > total_steps else
         _cos((step - warmup_steps) / (total_steps + 1 - warmup_steps), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "total_steps + 1"),
        ("warmup one step too long", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * (step + 1) / warmup_steps if step <= warmup_steps else
         lr_min if step >= total_steps else
         _cos((step - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "warmup runs one step too long"),
        ("(step + 1) in the cosine", lambda step, lr0, warmup_steps, total_steps, lr_min=0.0:
         lr0 * (step + 1) / warmup_steps if step < warmup_steps else
         lr_min if step >= total_steps else
         _cos((step + 1 - warmup_steps) / (total_steps - warmup_steps), lr0, lr_min),
         {"basic", "boundaries", "random", "defaults"}, "uses (step + 1)"),
    ],
}


def step_decay_loop(step, lr0, step_size, gamma):
    lr = lr0
    for s in range(1, step + 1):
        if s % step_size == 0:
            lr *= gamma
    return lr


def cosine_sin_form(step, lr0, T_max, lr_min=0.0):
    # cos^2 form of the same curve: (1 + cos(pi p)) / 2 = cos(pi p / 2)^2
    p = min(step, T_max) / T_max
    return lr_min + (lr0 - lr_min) * math.cos(math.pi * p / 2) ** 2


def warmup_cosine_numpy(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    import numpy as np
    if step < warmup_steps:
        return np.float64(lr0) * (step + 1) / warmup_steps
    p = np.clip((step - warmup_steps) / max(1, total_steps - warmup_steps), 0, 1)
    return lr_min + (lr0 - lr_min) * (1 + np.cos(np.pi * p)) / 2


def step_decay_numpy(step, lr0, step_size, gamma):
    import numpy as np
    n_drops = np.floor(step / step_size)
    return np.float64(lr0) * np.power(gamma, n_drops)


def exponential_decay_loop(step, lr0, gamma):
    lr = lr0
    for _ in range(step):
        lr = lr * gamma
    return lr


def cosine_clamped_progress(step, lr0, T_max, lr_min=0.0):
    progress = min(step, T_max) / T_max
    return float(lr_min + (lr0 - lr_min) * 0.5 * (1.0 + math.cos(math.pi * progress)))


def warmup_cosine_clamp_first(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    import numpy as np
    if step >= total_steps:
        lr = lr_min
    elif step >= warmup_steps:
        t = step - warmup_steps
        T = total_steps - warmup_steps
        lr = lr_min + (lr0 - lr_min) * (np.cos(np.pi * t / T) + 1) / 2
    else:
        lr = (step + 1) * lr0 / warmup_steps
    return lr


RIGHT = {
    "step_decay": [step_decay_loop, step_decay_numpy],
    "exponential_decay": [lambda step, lr0, gamma: lr0 * math.exp(step * math.log(gamma)), exponential_decay_loop],
    "cosine_annealing": [cosine_sin_form, cosine_clamped_progress],
    "warmup_cosine": [warmup_cosine_numpy, warmup_cosine_clamp_first],
}
