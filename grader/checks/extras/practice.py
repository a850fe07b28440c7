"""06_practice: three numeric questions (the graded functions' checks are in the
practice_* modules beside this one)."""

ANSWERS = {
    "clip_share": (
        0.6, 1e-3,
        "global clipping scales every tensor by the same factor, max_norm / total = 1 / 5, so a "
        "gradient of norm 3 keeps 3/5 of its length"),
    "restart_step": (
        1.0, 1e-2,
        "with fresh state, m_1 = (1 - beta1) g and v_1 = (1 - beta2) g^2; bias correction turns them into "
        "g and g^2, so the step is lr g / |g|: one lr per coordinate, whatever the gradient's size"),
    "range_step": (
        30.0, 1e-9,
        "lr_i = lr_min (lr_max / lr_min)^(i / (steps - 1)): solve 1e-4 * 1e5^(i / 50) = 0.1 for i"),
}
