"""Submissions for 02_adaptive. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks."""
import numpy as np  # noqa: F401 (the catalogue functions use it)

from tests.catalogue import steps as cat
from tests.submissions import as_cell

ALL_PARTS = ("basic", "random", "edge", "trajectory", "long")


def _loses(name, parts, phrase):
    return {f"{name}_{p}": phrase for p in parts}


ADAGRAD_LOOP = '''import math

def adagrad_step(x, g, G, lr, eps=1e-10):
    x_new, G_new = np.empty_like(x), np.empty_like(G)
    for i in np.ndindex(np.shape(x)):
        G_new[i] = G[i] + g[i] ** 2
        x_new[i] = x[i] - lr * g[i] / (math.sqrt(G_new[i]) + eps)
    return [x_new, G_new]
'''

RMSPROP_LOOP = '''import math

def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    x_new, s_new = np.empty_like(x), np.empty_like(s)
    for i in np.ndindex(np.shape(x)):
        s_new[i] = alpha * s[i] + (1 - alpha) * g[i] * g[i]
        x_new[i] = x[i] - lr * g[i] / (math.sqrt(s_new[i]) + eps)
    return x_new, s_new
'''

ADAGRAD_TORCH = '''def adagrad_step(x, g, G, lr, eps=1e-10):
    # torch's own operations, on tensors that share nothing with the inputs
    xt, gt, Gt = (torch.tensor(np.asarray(a, dtype=np.float64)) for a in (x, g, G))
    G_new = Gt.addcmul(gt, gt)
    x_new = xt.addcdiv(gt, G_new.sqrt().add(eps), value=-lr)
    return x_new.numpy(), G_new.numpy()
'''

ADAGRAD_COPIES = '''def adagrad_step(x, g, G, lr, eps=1e-10):
    G = G.copy()
    G += g ** 2
    x = x.copy()
    x -= lr * g / (np.sqrt(G) + eps)
    return x, G
'''

RMSPROP_POWER = '''def rmsprop_step(x, g, s, lr, alpha=0.99, eps=1e-8):
    s_new = np.add(np.multiply(alpha, s), np.multiply(1.0 - alpha, np.power(g, 2)))
    return (np.subtract(x, np.multiply(lr, np.divide(g, np.sqrt(s_new) + eps))), s_new)
'''

STUDENTS = {
    "reference": dict(code={}, loses={}),
    # eps inside the root only shows when gradients are tiny: random and edge cases
    "adagrad-eps-inside-rmsprop-swapped": dict(
        code={"adagrad_step": as_cell(cat.adagrad_eps_inside, "adagrad_step"),
              "rmsprop_step": as_cell(cat.rmsprop_swapped_alpha, "rmsprop_step")},
        loses={**_loses("adagrad_step", ("random", "edge", "long"), "eps is inside the square root"),
               **_loses("rmsprop_step", ALL_PARTS, "alpha and 1 - alpha are swapped")}),
    "adagrad-not-squared-rmsprop-eps-inside": dict(
        code={"adagrad_step": as_cell(cat.adagrad_not_squared, "adagrad_step"),
              "rmsprop_step": as_cell(cat.rmsprop_eps_inside, "rmsprop_step")},
        loses={**_loses("adagrad_step", ALL_PARTS, "instead of g squared"),
               **_loses("rmsprop_step", ALL_PARTS, "eps is inside the square root")}),
    "old-accumulator-old-average": dict(
        code={"adagrad_step": as_cell(cat.adagrad_old_accumulator, "adagrad_step"),
              "rmsprop_step": as_cell(cat.rmsprop_old_average, "rmsprop_step")},
        loses={**_loses("adagrad_step", ALL_PARTS, "old accumulator"),
               **_loses("rmsprop_step", ALL_PARTS, "old average")}),
    "mutates-inputs": dict(
        code={"adagrad_step": as_cell(cat.adagrad_inplace, "adagrad_step"),
              "rmsprop_step": as_cell(cat.rmsprop_inplace, "rmsprop_step")},
        loses={**_loses("adagrad_step", ALL_PARTS, "changed its input G in place"),
               **_loses("rmsprop_step", ALL_PARTS, "changed its input s in place")}),
    "wrong-default-and-answers": dict(
        code={"rmsprop_step": as_cell(cat.rmsprop_wrong_default, "rmsprop_step"),
              "q_adagrad_25_answer": "adagrad_step_25 = 0.5",
              "q_forget_answer": "forget_steps = 1 / (1 - 0.99)",
              "q_eps_answer": "eps_inside = 1e-8",
              "q_first_step_answer": "first_step = 0.01"},
        loses={"rmsprop_step_edge": "defaults",
               "q_adagrad_25": "Hint", "q_forget": "Hint", "q_eps": "Hint", "q_first_step": "Hint"}),
    "correct-loops-and-lists": dict(
        code={"adagrad_step": ADAGRAD_LOOP, "rmsprop_step": RMSPROP_LOOP,
              "q_forget_answer": "forget_steps = 459",
              "q_first_step_answer": "first_step = 0.024025",
              "q_eps_answer": "eps_inside = 1e-20"},
        loses={}),
    "correct-torch-copies-lerp": dict(
        code={"adagrad_step": ADAGRAD_TORCH, "rmsprop_step": as_cell(cat.rmsprop_lerp, "rmsprop_step"),
              "q_adagrad_25_answer": "adagrad_step_25 = 0.1"},
        loses={}),
    "correct-copies-and-ufuncs": dict(
        code={"adagrad_step": ADAGRAD_COPIES, "rmsprop_step": RMSPROP_POWER},
        loses={}),
}
