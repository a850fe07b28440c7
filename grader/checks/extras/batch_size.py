"""04_batch_size: three numeric questions (the graded functions live in grader/batch_checks.py)."""

ANSWERS = {
    "updates_per_epoch": (50000 // 128, 1e-3,
                          "with drop_last=True an epoch keeps only the full batches of 128 rows; "
                          "the short one left over is dropped"),
    "noise_ratio": ((1 / 250) * (1000 - 250) / (1000 - 1), 1e-3,
                    "N(B) = sigma^2 / B * (n - B) / (n - 1); at B = 1 the correction is exactly 1, "
                    "at B = 250 it is not"),
    "floor_prediction": (0.03 * 5 / (4 * 20), 1e-3,
                         "for a small learning rate the floor is lr / 4 times the gradient noise sigma*^2 / B"),
}
