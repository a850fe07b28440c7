"""05_adam: three numeric questions."""
import math

ANSWERS = {
    "first_step_no_correction": (
        0.5 / math.sqrt(0.001), 1e-3,
        "under a constant gradient the uncorrected m_1 is (1 - beta1) g and v_1 is (1 - beta2) g^2, "
        "so the first step is lr (1 - beta1) / sqrt(1 - beta2)"),
    "tiny_gradient_step": (
        3e-6 / (3e-6 + 1e-7 / math.sqrt(1 - 0.999)), 1e-3,
        "Keras' eps_hat is this notebook's eps times sqrt(1 - beta2^t), so at t = 1 it acts as "
        "eps = eps_hat / sqrt(1 - beta2); on the first update a coordinate then moves by lr |g| / (|g| + eps)"),
    "adamw_fraction_left": (
        (1 - 1e-3 * 0.1) ** 1000, 1e-4,
        "with a zero gradient the Adam part of AdamW does not move the weight; the decay multiplies "
        "it by (1 - lr weight_decay) at every update"),
}
