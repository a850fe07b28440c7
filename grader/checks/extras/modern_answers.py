"""07_modern: the numeric questions."""
import math

ANSWERS = {
    "nadam_steps_to_08": (
        math.ceil(math.log(2 * (1 - 0.8 / 0.9)) / (0.004 * math.log(0.96))), 1e-3,
        "mu_t = beta1 (1 - 0.5 * 0.96 ** (t * momentum_decay)) reaches 0.8 when 0.96 ** (0.004 t) = "
        "2 (1 - 0.8 / 0.9); solve for t with logarithms and round up"),
    "radam_smallest_beta2": (
        2 / 3, 1e-3,
        "rho_t grows towards rho_inf = 2 / (1 - beta2) - 1 and never passes it; RAdam adapts only when "
        "rho_t > 5, which needs rho_inf > 5"),
    "lion_weight_decay": (
        1e-3 * 0.01 / 3e-4, 1e-3,
        "the decoupled decay multiplies x by 1 - lr weight_decay at every update: keep the product "
        "lr weight_decay of the AdamW run"),
}
