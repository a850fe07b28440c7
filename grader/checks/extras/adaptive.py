"""02_adaptive: four numeric questions, and long runs of adagrad_step and rmsprop_step
in which the accumulator grows large (graded as cells of their own)."""
import math

import numpy as np

from grader.checks import seeds
from grader.checks import steps as step_checks

ANSWERS = {
    "adagrad_step_25": (0.1, 1e-3,
                        "with the same gradient g at every step, G_new after t updates is t g^2, so the "
                        "step is lr |g| / sqrt(t g^2)"),
    "forget_steps": (math.log(0.01) / math.log(0.99), 1e-2,
                     "with g = 0 every update multiplies s by alpha: solve alpha^k = 0.01 for k"),
    "first_step": (0.01 * 1e-7 / (math.sqrt(0.1 * 1e-14) + 1e-8), 1e-3,
                   "on the first update s_new = (1 - alpha) g^2, so the step is "
                   "lr |g| / (sqrt(1 - alpha) |g| + eps); with g = 1e-7 the eps is not negligible"),
    "eps_inside": (1e-20, 1e-3,
                   "for tiny gradients sqrt(s) + eps tends to eps and sqrt(s + eps') tends to sqrt(eps'): "
                   "make the two floors equal"),
}

# A separable quadratic f(x) = scale * sum(c x^2) / 2 whose curvatures span four
# orders of magnitude: the steep coordinates pile up a huge accumulator, the flat
# ones a small one, and both are followed for many updates.
CURVATURES = np.geomspace(1e-2, 1e2, 6)
LONG_RUNS = {
    "adagrad_step": [dict(lr=1.0, scale=1e3, steps=1000), dict(lr=0.05, scale=1.0, steps=400)],
    "rmsprop_step": [dict(lr=0.01, alpha=0.999, scale=1e3, steps=1000),
                     dict(lr=0.003, alpha=0.9, scale=1.0, steps=400)],
}


def _long_run(name, fn, part="long"):
    spec = step_checks.SPECS[name]
    rng = seeds.rng(name, "long run")
    for r, run in enumerate(LONG_RUNS[name]):
        run = dict(run)
        scale, steps = run.pop("scale"), run.pop("steps")
        hyper = {**run, **({"eps": spec.defaults["eps"]})}
        curv = scale * CURVATURES
        x = rng.normal(size=CURVATURES.shape) * 2
        # one coordinate starts tiny, so that where eps sits shows on every secret seed (for
        # AdaGrad as for RMSprop: with random starts alone a seed now and then drew one)
        x[0] = 1e-6 * np.sign(x[0])
        mine = [x.copy(), np.zeros_like(x)]
        for t in range(1, steps + 1):
            case = step_checks.Case(mine[0], curv * mine[0], mine[1:], hyper,
                                    label=f"long run {r + 1}, update {t} of {steps}, "
                                          f"{spec.state[0]} up to {mine[1].max():.3g}")
            got = step_checks.call(spec, fn, case)
            exp = step_checks.expected(spec, case)
            step_checks.compare(spec, fn, case, got, exp,
                                context=f" (f(x) = sum(c x^2) / 2 with c from {curv.min():.3g} to "
                                        f"{curv.max():.3g}; every earlier update agreed)")
            mine = got


def check_adagrad_long_run(fn, part="long"):
    _long_run("adagrad_step", fn, part)


def check_rmsprop_long_run(fn, part="long"):
    _long_run("rmsprop_step", fn, part)


CHECKS = {
    "adagrad_step_long_run": (check_adagrad_long_run, ["long"], "adagrad_step"),
    "rmsprop_step_long_run": (check_rmsprop_long_run, ["long"], "rmsprop_step"),
}
