"""06_practice: the learning-rate range test, ``lr_range_test(model_fn, loader, lr_min,
lr_max, steps, opt_fn=None) -> (lrs, losses)``.

The student's function never runs here. The grader draws a small classification problem
(an MLP of gradeclient.nets in float64, its weights, the data, the loader's seed) from the
secret seeds; gradeclient.range_programs' ``range_test`` builds model_fn and the loader
from it in the kernel, calls the student's function once and reports lrs, losses and how
many times model_fn was called. Here the same run is replayed with torch and compared.

Parts, each worth its own points:
- "schedule": the lrs returned (one per update, geometric from lr_min to exactly lr_max),
  on runs whose loss never explodes and whose loader has fewer batches than steps.
- "losses": the training loop (SGD with momentum by default, Adam through opt_fn), on
  loaders shorter than steps: every recorded loss to 1e-10 relative.
- "divergence": runs that must stop early, one whose loss explodes as the lr grows and one
  that meets a batch with a nan in it: where the run stops and what it returns up to there.

The losses are replayed at the learning rates the function returned (when they are
usable: positive, finite, one per loss), so that a wrong schedule costs "schedule" only;
where they differ from the contract's and never make the loss explode, "divergence" is
judged at the contract's. When a run differs, the replay is repeated with known mistakes
(the lr set after the step, zero_grad forgotten, itertools.cycle, opt_fn ignored...) to
name the one that reproduces it.
"""
import itertools
import math

import numpy as np
import torch
import torch.nn.functional as F

from gradeclient import nets, range_programs
from grader.checks import seeds
from grader.checks.extras import CheckFailed
from grader.checks.optimizer import _one_thread
from grader.reference import range_test as reference

NAME = "lr_range_test"
LR_TOL = 1e-9      # lrs: a closed form, np.geomspace or a chained ExponentialLR all agree to ~1e-15
LOSS_TOL = 1e-10   # losses: float64, the same operations; only summation order may differ
FLOAT32_TOL = 1e-7  # numbers returned as float32 (torch.tensor(list) makes float32): their rounding
SAME_LRS = 1e-6    # lrs this close to the contract's are the contract's (replayed at those exactly)
MARGIN = 1e-3      # no loss of a graded run lies within 0.1% of the stopping threshold
FACTOR = reference.STOP_FACTOR


# ------------------------------------------------------------ problems and runs

class _Problem:
    """A small classification problem: an MLP's architecture and weights, data X (n, d)
    with labels y from a noisy linear teacher, and the loader's batch size and seed."""

    def __init__(self, rng, n, batch_size):
        d, k, h = int(rng.integers(5, 11)), int(rng.integers(3, 6)), int(rng.integers(10, 17))
        self.arch = {"sizes": [d, h, k], "norm": None, "bias": True}
        self.weights = nets.draw_weights(self.arch, rng)
        teacher = rng.normal(size=(d, k))
        self.X = rng.normal(size=(n, d))
        self.y = np.argmax(self.X @ teacher + 0.3 * rng.normal(size=(n, k)), axis=1).astype(np.int64)
        self.batch_size, self.seed = int(batch_size), seeds.draw(rng)

    @property
    def n_batches(self):
        return math.ceil(len(self.y) / self.batch_size)

    def first_epoch(self):
        """The example indices of each batch of the loader's first epoch."""
        data = nets.loader(np.arange(len(self.y))[:, None], self.y, self.batch_size, self.seed)
        return [x[:, 0].numpy().astype(int) for x, _ in data]


class _Run:
    """One call of lr_range_test: a problem, the range and the optimizer."""

    def __init__(self, problem, lr_min, lr_max, steps, opt="sgd", what=""):
        self.problem, self.opt, self.what = problem, opt, what
        self.lr_min, self.lr_max, self.steps = float(lr_min), float(lr_max), int(steps)

    @property
    def label(self):
        opt = ", opt_fn=<builds torch.optim.Adam>" if self.opt == "adam" else ""
        return (f"{NAME}(model_fn, loader, lr_min={self.lr_min:.3g}, lr_max={self.lr_max:.3g}, "
                f"steps={self.steps}{opt}) with a loader of {self.problem.n_batches} batches{self.what}")

    def spec(self):
        p = self.problem
        return {"arch": p.arch, "weights": list(p.weights), "X": p.X, "y": p.y, "batch_size": p.batch_size,
                "seed": p.seed, "lr_min": self.lr_min, "lr_max": self.lr_max, "steps": self.steps, "opt": self.opt}

    def lrs(self):
        return reference.geometric_lrs(self.lr_min, self.lr_max, self.steps)

    def model_fn(self):
        return nets.mlp(self.problem.arch, self.problem.weights)

    def loader(self):
        p = self.problem
        return nets.loader(p.X, p.y, p.batch_size, p.seed)

    def opt_fn(self):
        return range_programs.opt_fn_for(self.opt)


# ------------------------------------------------------------ replays, right and wrong

MECHANICS = {
    "lr after step": "the learning rate is set after optimizer.step(), so each update uses the previous "
                     "lr and each loss belongs to the previous lr: set lr_i in every param group before "
                     "the update",
    "no zero_grad": "the gradients are never zeroed, so they add up over the steps: call "
                    "optimizer.zero_grad() before each backward pass",
    "zero_grad after backward": "optimizer.zero_grad() comes between backward() and step(), so every "
                                "update sees zero gradients: zero them before the backward pass",
    "cycle": "after the loader ran out the batches repeat the first epoch in the same order "
             "(itertools.cycle replays what it saved): start the loader again with a new iter(loader), "
             "which reshuffles",
    "opt_fn ignored": "opt_fn is ignored: the run used SGD with momentum 0.9 where "
                      "opt_fn(model.parameters(), lr_min) should build the optimizer (here Adam)",
}


def _replay(run, lrs, mistake=None):
    """The losses of ``run`` at the learning rates ``lrs`` (one per update), never stopping:
    the reference's, or those of the loop with ``mistake``."""
    if mistake is None:
        return reference.run(run.model_fn, run.loader(), lrs, run.opt_fn(), stop=False)[1]
    model = run.model_fn()
    opt_fn = None if mistake == "opt_fn ignored" else run.opt_fn()
    lr0 = float(lrs[0])
    opt = torch.optim.SGD(model.parameters(), lr=lr0, momentum=0.9) if opt_fn is None \
        else opt_fn(model.parameters(), lr0)
    applied = [lrs[0], *lrs[:-1]] if mistake == "lr after step" else list(lrs)
    source = itertools.cycle(run.loader()) if mistake == "cycle" else reference.batches(run.loader())
    losses = []
    for lr in applied:
        for group in opt.param_groups:
            group["lr"] = float(lr)
        x, y = next(source)
        if mistake != "no zero_grad":
            opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if mistake == "zero_grad after backward":
            opt.zero_grad()
        opt.step()
        losses.append(loss.item())
    return np.array(losses, dtype=np.float64)


def _stop_index(losses, first=False):
    """The index of the loss that ends the run (fast.ai's rule; ``first``: 4 times the first
    loss instead of the smallest), or None when none does."""
    best = math.inf
    for i, loss in enumerate(losses):
        best = min(best, loss)
        if not math.isfinite(loss) or loss > FACTOR * (losses[0] if first else best):
            return i
    return None


def _smoothed_stop(losses, beta=0.98):
    """Where fast.ai's own lr_find would stop: its debiased moving average of the losses
    above 4 times the smallest average so far (or not finite); None if nowhere."""
    avg, smooth = 0.0, []
    for i, loss in enumerate(losses):
        avg = beta * avg + (1 - beta) * loss
        smooth.append(avg / (1 - beta ** (i + 1)))
    return _stop_index(smooth)


def _clear_of_threshold(losses, upto):
    """No loss up to index ``upto`` lies within MARGIN of the stopping threshold."""
    best = math.inf
    for loss in losses[:upto + 1]:
        if not math.isfinite(loss):
            continue
        best = min(best, loss)
        if abs(loss / (FACTOR * best) - 1) < MARGIN:
            return False
    return True


def _agree(a, b, tol=LOSS_TOL):
    """Elementwise: equal, both nan, or within ``tol`` relative."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        err = np.abs(a - b) / np.maximum(1e-12, np.abs(a) + np.abs(b))
    return (a == b) | (np.isnan(a) & np.isnan(b)) | (err <= tol)


def _first_difference(got, want, tol=LOSS_TOL):
    ok = _agree(got, want, tol)
    return None if ok.all() else int(np.argmin(ok))


def _smoothed(got, want, tol):
    """The beta of fast.ai's smoothed loss (a debiased exponential moving average of the
    batch losses ``want``) that reproduces ``got``, or None."""
    if len(got) < 3 or not np.all(np.isfinite(got[:2])) or got[1] == want[1]:
        return None
    fitted = (want[1] - got[1]) / (got[1] - want[0]) if got[1] != want[0] else None
    for beta in (0.98, fitted):
        if beta is None or not 0 < beta < 1:
            continue
        avg, out = 0.0, []
        for i, loss in enumerate(want[:len(got)]):
            avg = beta * avg + (1 - beta) * loss
            out.append(avg / (1 - beta ** (i + 1)))
        if _agree(got, out, tol).all():
            return beta
    return None


# ------------------------------------------------------------ reading the kernel's report

def _text(value, n=300):
    return str(value)[:n] if isinstance(value, str) else "(no message)"


def _array(value):
    if isinstance(value, np.ndarray) and value.ndim == 1 and value.dtype.kind in "biuf":
        return value.astype(np.float64)
    return None


class _Result:
    """What the student's run returned: lrs, losses (float64 arrays), the tolerance each is
    compared at (float32 precision when it came as float32), and model_fn's call count."""

    def __init__(self, lrs, losses, lr_tol, loss_tol, calls, note):
        self.lrs, self.losses, self.lr_tol, self.loss_tol, self.calls = lrs, losses, lr_tol, loss_tol, calls
        self.note = note


def _tolerance(dtype, tight):
    return max(tight, FLOAT32_TOL) if dtype == "float32" else tight


def _half(report, key):
    dtype = report.get(key)
    return f" ({key.split('_')[0]} came as {dtype}: keep them float64)" if dtype in ("float16", "bfloat16") else ""


def _read(report, run, losses_too=True):
    """The student's results from the kernel's report, failing on an error or on results
    that are not two sequences of numbers of the same length."""
    label = run.label
    if not isinstance(report, dict):
        raise CheckFailed(f"{label}: the run sent back nothing readable.")
    err = report.get("error")
    if isinstance(err, str):
        raise CheckFailed(f"{label}: the run could not be made ({_text(err)}).")
    if isinstance(err, dict):
        if err.get("not_implemented") is True:
            raise CheckFailed(f"{NAME} is not implemented yet (it raises NotImplementedError).")
        kind, message = _text(err.get("type"), 80), _text(err.get("message"))
        if kind == "StopIteration":
            raise CheckFailed(f"{label} raised StopIteration: the loader ran out after its "
                              f"{run.problem.n_batches} batches; start the loader again (a new iter(loader), "
                              f"which reshuffles) whenever it runs out.")
        hint = (f" The signature is {NAME}(model_fn, loader, lr_min, lr_max, steps, opt_fn=None)."
                if "opt_fn" in message or "positional argument" in message else "")
        raise CheckFailed(f"{label} raised {kind}: {message}{hint}")
    if report.get("returned") is not None:
        raise CheckFailed(f"{label} should return a pair (lrs, losses), got {_text(report.get('returned'))}.")
    lrs = _array(report.get("lrs"))
    if lrs is None:
        raise CheckFailed(f"{label}: lrs should be a sequence of numbers (a 1-D array or a list), got "
                          f"{_text(report.get('lrs_got'))}.")
    losses = None
    if losses_too:
        losses = _array(report.get("losses"))
        if losses is None:
            raise CheckFailed(f"{label}: losses should be a sequence of numbers (a 1-D array or a list of "
                              f"loss.item() values), got {_text(report.get('losses_got'))}.")
        if len(losses) != len(lrs):
            raise CheckFailed(f"{label} returned {len(lrs)} lrs and {len(losses)} losses; the two arrays have "
                              f"one entry per step, the same length.")
    calls = report.get("model_fn_calls")
    calls = calls if isinstance(calls, int) and not isinstance(calls, bool) else None
    return _Result(lrs, losses, _tolerance(report.get("lrs_dtype"), LR_TOL),
                   _tolerance(report.get("losses_dtype"), LOSS_TOL), calls,
                   _half(report, "lrs_dtype") + _half(report, "losses_dtype"))


def _called_once(run, calls):
    if calls == 1:
        return
    if calls == 0:
        raise CheckFailed(f"{run.label}: model_fn was never called; build the model once with model = model_fn().")
    shown = "an unknown number of" if calls is None else str(calls)
    raise CheckFailed(f"{run.label}: model_fn was called {shown} times; call it once, before the loop (a new "
                      f"model at every step starts again from the initial weights, so the losses never show "
                      f"the updates).")


def _usable(lrs, run):
    return (1 <= len(lrs) <= run.steps and bool(np.all(np.isfinite(lrs))) and bool(np.all(lrs > 0)))


# ------------------------------------------------------------ schedule

def _schedule_mistake(got, run):
    i = np.arange(run.steps)
    ratio = run.lr_max / run.lr_min
    wrong = {
        "the lrs are spaced linearly (np.linspace); the range test spaces them geometrically "
        "(np.geomspace, or lr_min * (lr_max / lr_min) ** (i / (steps - 1)))": np.linspace(run.lr_min, run.lr_max,
                                                                                          run.steps),
        "the exponent is i / steps, so the last lr stays below lr_max: use i / (steps - 1)":
            run.lr_min * ratio ** (i / run.steps),
        "the exponent is (i + 1) / steps, so the first lr is above lr_min: use i / (steps - 1)":
            run.lr_min * ratio ** ((i + 1) / run.steps),
        "the lrs run from lr_max down to lr_min; they grow from lr_min to lr_max":
            run.lr_max * ratio ** (-i / (run.steps - 1)),
    }
    for text, lrs in wrong.items():
        if len(got) == len(lrs) and _agree(got, lrs, LR_TOL).all():
            return text
    return None


def _check_schedule(fn, run):
    result = _read(fn.run("range_test", run.spec()), run, losses_too=False)
    got, label, steps = result.lrs, run.label, run.steps
    if len(got) != steps:
        if len(got) == run.problem.n_batches and len(got) < steps:
            raise CheckFailed(f"{label} returned {len(got)} lrs for steps={steps}: the run ended when the loader "
                              f"ran out of batches; start the loader again (a new iter(loader)) whenever it runs "
                              f"out, until steps updates are made.")
        more = (" (with lr_max this small the loss never explodes here, so the run should not stop early)"
                if len(got) < steps else " (one per update)")
        raise CheckFailed(f"{label} returned {len(got)} lrs, expected {steps}{more}.")
    want = np.array(run.lrs())
    i = _first_difference(got, want, result.lr_tol)
    if i is None:
        return
    where = {0: " (it should be lr_min)", steps - 1: " (it should be exactly lr_max)"}.get(i, "")
    msg = (f"{label}: lrs[{i}] is {got[i]:.8g}, expected {want[i]:.8g}{where}{result.note}; lr_i = lr_min * "
           f"(lr_max / lr_min) ** (i / (steps - 1)).")
    mistake = _schedule_mistake(got, run)
    raise CheckFailed(msg + (f" This matches a known mistake: {mistake}." if mistake else ""))


# ------------------------------------------------------------ losses and the stop

def _expected(run, lrs, must_stop=False):
    """The reference run at the lrs the function returned, where usable (else at the
    contract's): (the lrs applied, its losses over all steps updates, the index of the
    stopping loss or None, a note on which lrs were used). Returned lrs within SAME_LRS of
    the contract's are the contract's. ``must_stop``: lrs of the student's own that never
    make the loss explode are replaced by the contract's."""
    contract = run.lrs()
    note = ""
    if not _usable(lrs, run):
        applied, note = contract, " (at the contract's lrs: the lrs returned are not positive and finite)"
    elif _agree(lrs, contract[:len(lrs)], SAME_LRS).all():
        applied = contract
    else:
        applied = [float(v) for v in lrs] + contract[len(lrs):]
    try:
        full = _replay(run, applied)
    except Exception:   # lrs torch refuses: judged at the contract's
        applied, note = contract, " (at the contract's lrs: torch refused the lrs returned)"
        full = _replay(run, applied)
    stop = _stop_index(full)
    if must_stop and stop is None and applied is not contract:
        applied, note = contract, (" (at the contract's lrs: the lrs returned never make the loss explode; "
                                   "see the schedule part)")
        full = _replay(run, applied)
        stop = _stop_index(full)
    return applied, full, stop, note


def _mechanics(run, got, want, applied, i, note, tol=LOSS_TOL):
    """The failure for a loss that differs at step i, naming the mistake that reproduces it."""
    msg = (f"{run.label}: the loss at i={i} is {got[i]:.10g}, the reference run gives {want[i]:.10g} at the same "
           f"lrs{note}" + (f"; i=0..{i - 1} agree." if i > 0 else "."))
    n = min(len(got), run.steps)
    for key, text in MECHANICS.items():
        if key == "opt_fn ignored" and run.opt == "sgd":
            continue
        try:
            replay = _replay(run, applied, mistake=key)
        except Exception:   # a variant that cannot run reproduces nothing
            continue
        if _agree(got[:n], replay[:n], max(tol, 1e-8)).all():
            return CheckFailed(f"{msg} This matches a known mistake: {text}.")
    beta = _smoothed(got[:n], want, max(tol, 1e-8))
    if beta is not None:
        return CheckFailed(f"{msg} This matches a known mistake: the losses are smoothed (an exponential moving "
                           f"average with beta {beta:.3g}, as fast.ai plots them); record each batch's own "
                           f"loss.item().")
    return CheckFailed(msg)


def _stop_failure(run, got, full, stop):
    """The failure for a run of the right losses that ends at the wrong step."""
    label, n = run.label, len(got)
    end = run.steps if stop is None else stop + 1
    if n == 0 or stop is None and n > end:
        return CheckFailed(f"{label} returned {n} losses for steps={run.steps}; it should record one loss per "
                           f"update, {run.steps} of them unless the run stops early.")
    if n < end:
        if n == run.problem.n_batches:
            return CheckFailed(f"{label} returned {n} losses for steps={run.steps}: the run ended when the loader "
                               f"ran out of batches; start the loader again (a new iter(loader), which reshuffles) "
                               f"whenever it runs out.")
        if stop is not None and n == stop:
            return CheckFailed(f"{label}: the run ends at i={n - 1}, one step early: the loss at i={stop} "
                               f"({full[stop]:.4g}) triggers the stop, but the run stops before recording it; "
                               f"record it first, then stop (the arrays end with it).")
        best = float(np.min(got))
        return CheckFailed(f"{label}: the run stops at i={n - 1}, but its loss there ({got[-1]:.4g}) is finite and "
                           f"not above 4 times the smallest loss so far ({best:.4g}); "
                           + ("no loss of this run is, so it makes all steps." if stop is None
                              else f"the first such loss comes at i={stop}."))
    best = float(np.min(full[:stop + 1]))
    why = ("is not finite" if not math.isfinite(full[stop])
           else f"exceeds 4 times the smallest loss so far ({best:.4g})")
    msg = (f"{label}: the run should stop at i={stop}, right after recording the loss {full[stop]:.4g}, which "
           f"{why}; it went on to {n} steps.")
    first = _stop_index(full, first=True)
    if not math.isfinite(full[stop]):
        mistake = ("a nan loss is never greater than anything, so loss > 4 * best misses it: stop on a loss "
                   "that is not finite too (math.isfinite)")
    elif first is not None and first + 1 == n:
        mistake = ("the threshold is 4 times the first loss; fast.ai's rule compares with the smallest "
                   "loss recorded so far (keep a running minimum)")
    elif _smoothed_stop(full) == n - 1:
        mistake = ("the stop tests a smoothed loss (fast.ai's lr_find smooths before it tests); here each "
                   "batch's own loss is tested against 4 times the smallest loss so far")
    elif n == run.steps:
        mistake = ("the run never stops early: after recording each loss, stop if it is not finite or "
                   "exceeds 4 times the smallest loss so far")
    else:
        mistake = None
    return CheckFailed(msg + (f" This matches a known mistake: {mistake}." if mistake else ""))


def _check_run(fn, run, must_stop=False):
    """Every loss of the student's run against the reference replayed at the same lrs, and
    where the run ends."""
    result = _read(fn.run("range_test", run.spec()), run)
    _called_once(run, result.calls)
    applied, full, stop, note = _expected(run, result.lrs, must_stop)
    got = result.losses
    end = run.steps if stop is None else stop + 1
    n = min(len(got), end)
    i = _first_difference(got[:n], full[:n], result.loss_tol)
    if i is not None:
        raise _mechanics(run, got, full, applied, i, note + result.note, result.loss_tol)
    if len(got) != end:
        raise _stop_failure(run, got, full, stop)


def _retry(make, tries, good):
    """The first run of ``make()`` whose reference losses are ``good(run, losses)`` (the last
    one if none is; ``run.picked`` says which): the grader picks runs in which what the part
    checks shows clearly, on every secret."""
    for _ in range(tries):
        run = make()
        with np.errstate(all="ignore"):
            full = _replay(run, run.lrs())
        run.picked = bool(good(run, full))
        if run.picked:
            return run
    return run


def _quiet(run, full):
    """The reference stays well below the stopping threshold: no early stop."""
    return _stop_index(full) is None and float(np.max(full / np.minimum.accumulate(full))) < 0.8 * FACTOR


def _explodes(run, full):
    """The reference stops well inside the run, clear of the threshold, and 4 times the first
    loss would stop it at another step, before the end."""
    stop, first = _stop_index(full), _stop_index(full, first=True)
    return (stop is not None and 8 <= stop <= run.steps - 4 and bool(np.all(np.isfinite(full[:stop + 1])))
            and first is not None and stop < first < run.steps - 1 and _clear_of_threshold(full, stop))


def _meets_the_nan(run, full):
    """The reference stops at the nan batch and nowhere before it."""
    return _stop_index(full) == run.nan_at and _clear_of_threshold(full, run.nan_at - 1)


# ------------------------------------------------------------ the runs of each part

def schedule_runs(rng):
    """Three runs whose loss never explodes (lr_max at most 1e-3), two of them on loaders of
    3 or 4 batches for 15 to 45 steps, one of 2 steps: one lr per update, geometric."""
    lo = 10 ** rng.uniform(-7, -5.5)
    bs = int(rng.integers(8, 13))
    makes = [
        lambda: _Run(_Problem(rng, 2 * bs + int(rng.integers(1, bs)), bs), lo, lo * 10 ** rng.uniform(2, 3),
                     int(rng.integers(15, 26))),
        lambda: _Run(_Problem(rng, 4 * bs, bs), 10 ** rng.uniform(-6, -5), 10 ** rng.uniform(-3.5, -3),
                     int(rng.integers(30, 46))),
        lambda: _Run(_Problem(rng, 3 * bs, bs), lo, lo * 10 ** rng.uniform(1, 2), 2),
    ]
    return [_retry(make, 10, _quiet) for make in makes]


def losses_runs(rng):
    """Two runs on loaders shorter than steps, whose loss never explodes: the default SGD
    with momentum (lr up to ~0.1) and Adam through opt_fn (lr up to ~0.01)."""
    bs = int(rng.integers(12, 17))

    def sgd():
        return _Run(_Problem(rng, 3 * bs + int(rng.integers(2, bs)), bs), 10 ** rng.uniform(-3.3, -2.7),
                    10 ** rng.uniform(-1.3, -1), int(rng.integers(22, 31)))

    def adam():
        return _Run(_Problem(rng, 3 * bs, bs), 10 ** rng.uniform(-4.3, -3.7), 10 ** rng.uniform(-2.3, -2),
                    int(rng.integers(18, 25)), opt="adam")

    return [_retry(make, 10, _quiet) for make in (sgd, adam)]


def divergence_runs(rng):
    """A run whose loss explodes as the lr grows (SGD with momentum up to lr_max ~ 30) and
    a run that meets a batch with a nan in it. Both loaders hold as many batches as steps:
    the loader never runs out."""
    bs, steps = 16, int(rng.integers(50, 61))

    def explode():
        return _Run(_Problem(rng, bs * steps, bs), 10 ** rng.uniform(-3.2, -2.8), 10 ** rng.uniform(1.2, 1.6),
                    steps, what=" (lr_max large enough to make the loss explode)")

    short = int(rng.integers(24, 33))
    at = int(rng.integers(6, short - 8))

    def bad_batch():
        problem = _Problem(rng, bs * short, bs)
        example = problem.first_epoch()[at][0]
        problem.X[example, int(rng.integers(problem.X.shape[1]))] = np.nan
        run = _Run(problem, 10 ** rng.uniform(-3.3, -2.7), 10 ** rng.uniform(-1.3, -1), short,
                   what=f" (one input of the batch at i={at} is nan)")
        run.nan_at = at
        return run

    return [_retry(explode, 20, _explodes), _retry(bad_batch, 10, _meets_the_nan)]


def part_schedule(fn, rng):
    """The lrs returned: one per update, geometric from lr_min to exactly lr_max, also when
    the loader has fewer batches than steps."""
    for run in schedule_runs(rng):
        _check_schedule(fn, run)


def part_losses(fn, rng):
    """Every loss to 1e-10 against the reference replayed at the same lrs, model_fn called
    once, one loss per step, the loader started again when it runs out."""
    for run in losses_runs(rng):
        _check_run(fn, run)


def part_divergence(fn, rng):
    """The run ends right after the loss that is not finite or exceeds 4 times the smallest
    loss so far, with the right losses up to there."""
    for run in divergence_runs(rng):
        _check_run(fn, run, must_stop=True)


PARTS = {"schedule": part_schedule, "losses": part_losses, "divergence": part_divergence}


def check_lr_range_test(fn, part):
    with _one_thread():
        PARTS[part](fn, seeds.rng(NAME, part))


CHECKS = {NAME: (check_lr_range_test, list(PARTS), NAME)}
