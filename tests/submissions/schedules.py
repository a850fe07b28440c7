"""Submissions for 03_schedules. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks.

The wrong schedules are the off-by-one mistakes of tests/catalogue/schedules.py
(written there as lambdas, so here as the source a student would write); the right
ones reuse the catalogue's functions where it has them."""
from tests.catalogue import schedules as cat
from tests.submissions import as_cell

THREE = ("basic", "boundaries", "random")
FOUR = THREE + ("defaults",)


def _loses(name, parts, phrase):
    return {f"{name}_{p}": phrase for p in parts}


STEP_DECAY_PLUS_ONE = '''
def step_decay(step, lr0, step_size, gamma):
    # counts the update as step + 1
    return lr0 * gamma ** ((step + 1) // step_size)
'''

STEP_DECAY_NO_FLOOR = '''
def step_decay(step, lr0, step_size, gamma):
    return lr0 * gamma ** (step / step_size)
'''

EXPONENTIAL_PLUS_ONE = '''
def exponential_decay(step, lr0, gamma):
    return lr0 * gamma ** (step + 1)
'''

COSINE_T_MAX_PLUS_ONE = '''
import math

def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    if step > T_max:
        return lr_min
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * step / (T_max + 1)))
'''

COSINE_NO_CLAMP = '''
import math

def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * step / T_max))
'''

COSINE_NO_LR_MIN = '''
import math

def cosine_annealing(step, lr0, T_max, lr_min=0.0):
    if step >= T_max:
        return 0.0
    return 0.5 * lr0 * (1 + math.cos(math.pi * step / T_max))
'''

WARMUP_FROM_ZERO = '''
import math

def warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * step / warmup_steps
    if step >= total_steps:
        return lr_min
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * p))
'''

WARMUP_PROGRESS_FROM_0 = '''
import math

def warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    if step >= total_steps:
        return lr_min
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * step / total_steps))
'''

WARMUP_NO_CLAMP = '''
import math

def warmup_cosine(step, lr0, warmup_steps, total_steps, lr_min=0.0):
    if step < warmup_steps:
        return lr0 * (step + 1) / warmup_steps
    p = (step - warmup_steps) / (total_steps - warmup_steps)
    return lr_min + 0.5 * (lr0 - lr_min) * (1 + math.cos(math.pi * p))
'''

STUDENTS = {
    "reference": dict(code={}, loses={}),
    "step-plus-one": dict(
        code={"step_decay": STEP_DECAY_PLUS_ONE, "exponential_decay": EXPONENTIAL_PLUS_ONE},
        loses={**_loses("step_decay", THREE, "step + 1"), **_loses("exponential_decay", THREE, "step + 1")}),
    "tmax-plus-one-warmup-from-zero": dict(
        code={"cosine_annealing": COSINE_T_MAX_PLUS_ONE, "warmup_cosine": WARMUP_FROM_ZERO},
        loses={**_loses("cosine_annealing", FOUR, "T_max + 1"),
               **_loses("warmup_cosine", FOUR, "warmup starts at zero")}),
    "progress-from-step-0-no-rounding": dict(
        code={"warmup_cosine": WARMUP_PROGRESS_FROM_0, "step_decay": STEP_DECAY_NO_FLOOR},
        loses={**_loses("warmup_cosine", FOUR, "from step 0"),
               **_loses("step_decay", THREE, "without rounding down")}),
    "no-clamp": dict(
        code={"cosine_annealing": COSINE_NO_CLAMP, "warmup_cosine": WARMUP_NO_CLAMP},
        loses={**_loses("cosine_annealing", FOUR, "no clamp"), **_loses("warmup_cosine", FOUR, "no clamp")}),
    "lr-min-ignored-and-wrong-answers": dict(
        code={"cosine_annealing": COSINE_NO_LR_MIN,
              "q_floor_lr_answer": "floor_lr = 0.01 * 4 / 0.5 ** 2",
              "q_steps_to_tenth_answer": "steps_to_tenth = 229",
              "q_half_lr_step_answer": "half_lr_step = 1000 / 2"},
        loses={**_loses("cosine_annealing", THREE, "lr_min is ignored"),
               "q_floor_lr": "Hint", "q_steps_to_tenth": "Hint", "q_half_lr_step": "Hint"}),
    "correct-catalogue-variants": dict(
        code={"step_decay": as_cell(cat.step_decay_loop, "step_decay"),
              "exponential_decay": "import math\n\ndef exponential_decay(step, lr0, gamma):\n"
                                   "    return lr0 * math.exp(step * math.log(gamma))\n",
              "cosine_annealing": "import math\n\n" + as_cell(cat.cosine_sin_form, "cosine_annealing"),
              "warmup_cosine": as_cell(cat.warmup_cosine_numpy, "warmup_cosine"),
              "q_floor_lr_answer": "floor_lr = 0.13793",
              "q_steps_to_tenth_answer": "steps_to_tenth = 230",
              "q_half_lr_step_answer": "half_lr_step = 550"},
        loses={}),
    "correct-numpy-and-loops": dict(
        code={"step_decay": as_cell(cat.step_decay_numpy, "step_decay"),
              "exponential_decay": as_cell(cat.exponential_decay_loop, "exponential_decay"),
              "cosine_annealing": "import math\n\n" + as_cell(cat.cosine_clamped_progress, "cosine_annealing"),
              "warmup_cosine": as_cell(cat.warmup_cosine_clamp_first, "warmup_cosine")},
        loses={}),
}
