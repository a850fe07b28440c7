"""Run any step function of the course on a landscape and keep the whole path.

Every graded step function has the form ``step(x, g, *state, **hyper)`` and returns
either ``x_new`` or ``(x_new, *state_new)``. The runner starts each state array at
zero, passes ``t`` (the 1-based update index) to functions that take it, and
forwards the hyperparameters by name, so one loop serves SGD, momentum, AdaGrad,
RMSprop and Adam alike.
"""
import inspect
from dataclasses import dataclass

import numpy as np

STEP_COUNTER = "t"
# step function -> run_path(landscape, x0, steps, **hyper) -> xs: the toolkit's own steps
# (torch_steps) that run a whole path faster than step by step, the same path. A registry,
# not an attribute, so that nothing a student's function carries changes how it is run.
WHOLE_PATHS = {}


@dataclass
class Trajectory:
    xs: np.ndarray      # (steps + 1, dim): the start, then the point after each update
    losses: np.ndarray  # (steps + 1,)

    @property
    def final(self):
        return self.xs[-1]

    @property
    def diverged(self):
        return not np.all(np.isfinite(self.losses))

    def distance_to(self, point):
        """Distance from every point of the path to ``point``: shape (steps + 1,)."""
        with np.errstate(over="ignore", invalid="ignore"):
            return np.linalg.norm(self.xs - np.asarray(point, dtype=float), axis=-1)

    def steps_to_reach(self, point, tol):
        """First update index after which the path stays within ``tol`` of ``point``
        (None if it never settles there)."""
        far = np.nonzero(~(self.distance_to(point) <= tol))[0]
        if len(far) == 0:
            return 0
        return None if far[-1] == len(self.xs) - 1 else int(far[-1] + 1)


def state_names(step, hyper=()):
    """Names of the state arguments of ``step``: those after (x, g) that have no
    default, are not passed by the caller (``hyper``) and are not the counter t."""
    params = list(inspect.signature(step).parameters.values())[2:]
    return [p.name for p in params
            if p.default is inspect.Parameter.empty and p.name not in hyper and p.name != STEP_COUNTER]


def run(step, landscape, x0, steps, **hyper):
    """Apply ``step`` for ``steps`` updates from ``x0`` on ``landscape``.

    A path that overflows is kept as it is (inf and nan included) so a plot can show
    the divergence; numpy's overflow warnings are silenced for that reason.
    """
    x = np.array(x0, dtype=float).reshape(landscape.dim)
    run_path = WHOLE_PATHS.get(step)  # a toolkit step that runs a whole path faster (torch_steps)
    if run_path is not None:
        xs = run_path(landscape, x, steps, **hyper)
        with np.errstate(over="ignore", invalid="ignore"):
            return Trajectory(xs, np.asarray(landscape.f(xs), dtype=float))
    names = state_names(step, hyper)
    takes_t = STEP_COUNTER in inspect.signature(step).parameters
    state = [np.zeros_like(x) for _ in names]
    xs = [x.copy()]
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, steps + 1):
            extra = {STEP_COUNTER: t} if takes_t else {}
            out = step(x, landscape.grad(x), *state, **extra, **hyper)
            if names:
                x, *state = out
            else:
                x = out
            x = np.asarray(x, dtype=float)
            xs.append(x.copy())
        xs = np.array(xs)
        # the losses in one call, not one per step: a third of a live plot's recompute
        # (tests/test_runner.py checks they equal landscape.value bit for bit)
        losses = np.asarray(landscape.f(xs), dtype=float)
    return Trajectory(xs, losses)


def step_per_lr(step, x, g, *state, lr, **hyper):
    """One update of a stack of runs, each with its own learning rate: ``lr`` is an array
    that broadcasts against ``x`` (one value per run), the other hyperparameters floats.

    ``step`` is called as the course's contract says, with a float lr: once, at lr = 1.0,
    and each run's move is then scaled by its own lr. That is the same update, since every
    step function of the course moves x by lr times a direction that does not depend on
    lr (the state it returns does not depend on lr either). Returns what ``step`` returns.
    """
    x = np.asarray(x, dtype=float)
    out = step(x, g, *state, lr=1.0, **hyper)
    x1, *rest = out if state else (out,)
    x_new = x - np.asarray(lr, dtype=float) * (x - np.asarray(x1, dtype=float))
    return (x_new, *rest) if state else x_new

