"""Submissions for 07_modern. Each student differs from the reference solution in the
cells listed; ``loses`` maps the graded cells that must score zero to a phrase their
feedback must contain. Every other graded cell must get full marks.

The step functions come from tests/catalogue/modern.py (self-contained ones, renamed to
the graded name), SAM from tests/catalogue/modern_sam.py (its base class and the one
mistake, in one cell as a student would write it)."""
import inspect
import re

import numpy as np  # noqa: F401 (the catalogue functions use it)

from tests.catalogue import modern as cat
from tests.catalogue import modern_sam as sam_cat
from tests.submissions import as_cell

STEP_PARTS = ("basic", "random", "edge", "trajectory")
RADAM_PARTS = ("basic", "switch", "random", "trajectory")


def _loses(name, parts, phrase):
    return {f"{name}_{p}": phrase for p in parts}


def _sam_cell(cls):
    """The catalogue's Student and one subclass, as one cell defining SAM."""
    base = inspect.getsource(sam_cat.Student).replace("class Student(", "class _SAMBase(")
    wrong = re.sub(r"^class \w+\(Student\)", "class SAM(_SAMBase)", inspect.getsource(cls), flags=re.M)
    return "import torch\n\n\n" + base + "\n\n" + wrong


_CONSTANTS = "A, B, C = 3.4445, -4.7750, 2.0315\n\n\n"
_MATH = "import math\n\n\n"

STUDENTS = {
    "reference": dict(code={}, loses={}),
    "lion-momentum-first-nadam-beta1-power": dict(
        code={"lion_step": as_cell(cat.lion_momentum_first, "lion_step"),
              "nadam_step": _MATH + (
                  "def nadam_step(x, g, m, v, mu_product, t, lr=2e-3, beta1=0.9, beta2=0.999, eps=1e-8,\n"
                  "               momentum_decay=4e-3):\n"
                  "    mu = beta1 * (1 - 0.5 * 0.96 ** (t * momentum_decay))\n"
                  "    mu_next = beta1 * (1 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))\n"
                  "    m_new = beta1 * m + (1 - beta1) * g\n"
                  "    v_new = beta2 * v + (1 - beta2) * g * g\n"
                  "    d = np.sqrt(v_new / (1 - beta2 ** t)) + eps\n"
                  "    # Adam's correction instead of the product of the mus\n"
                  "    x_new = (x - lr * (1 - mu) / (1 - beta1 ** t) * g / d\n"
                  "             - lr * mu_next / (1 - beta1 ** (t + 1)) * m_new / d)\n"
                  "    return x_new, m_new, v_new, mu_product * mu\n")},
        loses={**_loses("lion_step", STEP_PARTS, "updated before the sign"),
               **_loses("nadam_step", STEP_PARTS, "beta1^t")}),
    "radam-paper-threshold-muon-no-nesterov": dict(
        code={"radam_step": _MATH + (
                  "def radam_step(x, g, m, v, t, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8):\n"
                  "    m_new = beta1 * m + (1 - beta1) * g\n"
                  "    v_new = beta2 * v + (1 - beta2) * g * g\n"
                  "    m_hat = m_new / (1 - beta1 ** t)\n"
                  "    rho_inf = 2 / (1 - beta2) - 1\n"
                  "    rho = rho_inf - 2 * t * beta2 ** t / (1 - beta2 ** t)\n"
                  "    if rho > 4:   # the paper's Algorithm 2; torch switches at rho_t > 5\n"
                  "        r = math.sqrt((rho - 4) * (rho - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho))\n"
                  "        step = lr * r * m_hat * math.sqrt(1 - beta2 ** t) / (np.sqrt(v_new) + eps)\n"
                  "        return x - step, m_new, v_new\n"
                  "    return x - lr * m_hat, m_new, v_new\n"),
              "muon_step": (
                  "def muon_step(x, g, buf, lr=1e-3, weight_decay=0.1, momentum=0.95, nesterov=True, ns_steps=5,\n"
                  "              eps=1e-7):\n"
                  "    if np.ndim(x) != 2:\n"
                  "        raise ValueError('2-D only')\n"
                  "    buf_new = momentum * buf + (1 - momentum) * g\n"
                  "    rows, cols = x.shape\n"
                  "    scale = max(1.0, rows / cols) ** 0.5\n"
                  "    step = lr * scale * newton_schulz(buf_new, ns_steps, eps)\n"
                  "    return x * (1 - lr * weight_decay) - step, buf_new\n")},
        loses={**_loses("radam_step", ("switch", "trajectory"), "one step early"),
               **_loses("muon_step", ("basic", "shapes", "random", "trajectory"), "no Nesterov look-ahead")}),
    "sam-no-restore-and-wrong-answers": dict(
        code={"SAM": _sam_cell(sam_cat.NoRestore),
              "q_nadam_answer": "nadam_steps_to_08 = 1000",
              "q_radam_answer": "radam_smallest_beta2 = 0.999",
              "q_lion_answer": "lion_weight_decay = 0.01"},
        loses={**_loses("SAM", ("restore", "base", "groups"), "stepping from the perturbed weights"),
               "q_nadam": "Hint", "q_radam": "Hint", "q_lion": "Hint"}),
    "correct-loops-and-other-forms": dict(
        code={"nadam_step": _MATH + as_cell(cat.nadam_loop, "nadam_step"),
              "radam_step": _MATH + as_cell(cat.radam_loop, "radam_step"),
              "lion_step": as_cell(cat.lion_lerp, "lion_step"),
              "newton_schulz": _MATH + _CONSTANTS + as_cell(cat.ns_expanded, "newton_schulz"),
              "SAM": "import torch\n\n\n" + inspect.getsource(sam_cat.Stacked).replace("class Stacked(", "class SAM(")},
        loses={}),
}
