"""01_momentum: three numeric questions and the EMA-to-PyTorch learning-rate conversion."""
import numpy as np

from grader import reference as ref
from grader.checks import seeds
from grader.checks.extras import CheckFailed

ANSWERS = {
    "stable_lr": (2 / 32, 1e-3,
                  "gradient descent on a quadratic converges exactly when lr < 2 / L, with L the "
                  "largest eigenvalue of the Hessian (for x0^2 + 16 x1^2 the Hessian is diag(2, 32))"),
    "velocity_limit": (60.0, 1e-3,
                       "under a constant gradient g = 3 the velocity v_new = beta v + g settles where "
                       "v = beta v + g (here beta = 0.95)"),
    "momentum_rate": (19 / 21, 1e-3,
                      "with the best lr and beta the heavy ball contracts by "
                      "(sqrt(kappa) - 1) / (sqrt(kappa) + 1) per step (here kappa = 400)"),
}


def check_ema_to_torch_lr(fn, part="random"):
    rng = seeds.rng("ema_to_torch_lr", part)
    for _ in range(100):
        lr, beta = float(np.exp(rng.uniform(-9, 2))), float(rng.uniform(0, 0.999))
        try:
            got = float(fn(lr, beta))
        except NotImplementedError:
            raise CheckFailed("ema_to_torch_lr is not implemented yet (it raises NotImplementedError).") from None
        except Exception as e:
            raise CheckFailed(f"ema_to_torch_lr(lr_ema={lr:.3g}, beta={beta:.3g}) raised "
                              f"{type(e).__name__}: {e}") from None
        exp = ref.ema_to_torch_lr(lr, beta)
        if not abs(got - exp) <= 1e-9 * abs(exp):
            hint = (" That is lr_ema / (1 - beta): the EMA velocity is the smaller one, v' = (1 - beta) v."
                    if abs(got - lr / (1 - beta)) <= 1e-9 * abs(got) else "")
            raise CheckFailed(f"ema_to_torch_lr(lr_ema={lr:.3g}, beta={beta:.3g}): expected {exp:.6g}, "
                              f"got {got:.6g}.{hint}")


CHECKS = {"ema_to_torch_lr": (check_ema_to_torch_lr, ["random"])}
