"""03_schedules: three numeric questions (the graded schedules themselves are checked
by grader.checks.schedules)."""
import math

ANSWERS = {
    "floor_lr": (4 * 0.01 / (0.5 ** 2 + 2 * 0.01 * 2), 1e-3,
                 "set lr sigma^2 / (2 (2 - lr h)) = 0.01 with h = 2, sigma = 0.5 and solve for lr "
                 "(it is a linear equation in lr)"),
    "steps_to_tenth": (float(math.ceil(math.log(0.1) / math.log(0.99))), 1e-3,
                       "the rate of step k is lr0 * 0.99^k; find the smallest whole k with 0.99^k < 0.1 "
                       "(take logarithms, then round up)"),
    "half_lr_step": (550.0, 1e-3,
                     "the cosine is halfway when its progress (step - warmup_steps) / (total_steps - warmup_steps) "
                     "is 1/2"),
}
