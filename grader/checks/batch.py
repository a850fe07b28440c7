"""Checks for the batch-size functions. Where the contract fixes the random calls
(rng.permutation per epoch, rng.choice without replacement per draw) the student's
result must equal the reference's under the same Generator seed."""
import numpy as np

from grader import reference as ref
from grader.checks import seeds
from grader.checks.tolerance import TOLERANCES, rel_error
from grader.reference.batch_size import mse_loss as _mse_loss


class CheckFailed(AssertionError):
    pass


FLOOR, TOL = TOLERANCES[np.dtype(np.float64)]


def _rng(seed):
    return np.random.default_rng(seed)


def _call(label, fn, *args, **kwargs):
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{label.split('(')[0]} is not implemented yet (it raises NotImplementedError).") from None
    except Exception as e:
        raise CheckFailed(f"{label} raised {type(e).__name__}: {e}") from None


def _regression(rng, n=None, d=None):
    n = int(rng.integers(5, 300)) if n is None else n
    d = int(rng.integers(1, 8)) if d is None else d
    X = rng.normal(size=(n, d)) * rng.uniform(0.2, 3)
    w_true = rng.normal(size=d)
    y = X @ w_true + rng.normal(size=n) * rng.uniform(0, 1)
    return X, y, rng.normal(size=d)


def _helper_note(fn, helpers):
    """A sentence naming the student's own graded helpers that ``fn`` calls and that do
    not pass their basic checks: the failure may come from there."""
    used = fn.names
    broken = []
    for h in helpers:
        if h not in used:
            continue
        helper_fn = fn.helper(h)
        if helper_fn is not None and helper_fn.callable and helper_fn.target != fn.target:
            try:   # the very cases of the helper's own basic part
                PARTS[h]["basic"](helper_fn, seeds.rng(h, "basic"))
            except Exception:
                broken.append(h)
    if not broken:
        return ""
    names = " and ".join(broken)
    return (f" Note: your {names}, which this function calls, does not pass its own tests yet; "
            f"fix {'them' if len(broken) > 1 else 'it'} first.")


# ------------------------------------------------------------ minibatch_indices

def _check_batches(fn, n, B, seed, drop_last):
    label = f"minibatch_indices(n={n}, batch_size={B}, rng=default_rng({seed}), drop_last={drop_last})"
    got = _call(label, fn, n, B, _rng(seed), drop_last=drop_last)
    try:
        got = [np.asarray(b) for b in got]
    except TypeError:
        raise CheckFailed(f"{label} returned {type(got).__name__}; it should return a list of index arrays.") from None
    for b in got:
        if b.ndim != 1 or (b.size and not np.issubdtype(b.dtype, np.integer)):
            raise CheckFailed(f"{label}: every batch must be a 1-D array of integer indices, got {b!r}.")
    sizes = [len(b) for b in got]
    allidx = np.concatenate(got) if got else np.array([], dtype=int)
    n_full = n // B
    expected_sizes = [B] * n_full + ([] if drop_last or n % B == 0 else [n % B])
    if sizes != expected_sizes:
        raise CheckFailed(f"{label}: batch sizes {sizes[:6]}{'...' if len(sizes) > 6 else ''}, expected "
                          f"{expected_sizes[:6]}{'...' if len(expected_sizes) > 6 else ''} "
                          f"({'drop a short last batch' if drop_last else 'keep the short last batch'}).")
    counts = np.bincount(allidx, minlength=n) if allidx.size else np.zeros(n, int)
    if allidx.size and (allidx.min() < 0 or allidx.max() >= n):
        raise CheckFailed(f"{label}: indices must lie in 0..{n - 1}, got {allidx.min()}..{allidx.max()}.")
    # with drop_last the dropped indices appear no time at all, but none may appear twice
    wrong = counts > 1 if drop_last else counts != 1
    if np.any(wrong):
        k = int(np.argmax(wrong))
        raise CheckFailed(f"{label}: index {k} appears {counts[k]} times; every index must appear exactly "
                          f"once per epoch{' (at most once with drop_last)' if drop_last else ''} "
                          f"(shuffle without replacement: rng.permutation(n)).")
    exp = ref.minibatch_indices(n, B, _rng(seed), drop_last=drop_last)
    if not all(np.array_equal(a, b) for a, b in zip(got, exp, strict=True)):
        if n > 2 and np.array_equal(allidx, np.arange(len(allidx))):
            raise CheckFailed(f"{label}: the indices are not shuffled (they come in order 0, 1, 2, ...); "
                              f"shuffle with rng.permutation(n).")
        raise CheckFailed(f"{label}: the batches are a valid partition but not the ones the contract fixes: "
                          f"call rng.permutation(n) once and cut it into consecutive batches. "
                          f"First batch expected {exp[0][:8].tolist()}, got {got[0][:8].tolist()}.")


def minibatch_basic(fn, rng):
    seed = seeds.draw(rng)
    for n, B, drop in [(10, 3, False), (10, 3, True), (12, 4, False), (12, 4, True), (5, 5, False)]:
        _check_batches(fn, n, B, seed, drop)


def minibatch_random(fn, rng, n_cases=100):
    for _ in range(n_cases):
        n = int(rng.integers(1, 500))
        B = int(rng.integers(1, n + 1))
        _check_batches(fn, n, B, int(rng.integers(2**31)), bool(rng.random() < 0.5))


def minibatch_edge(fn, rng):
    seed = seeds.draw(rng)
    for n, B, drop in [(1, 1, False), (7, 1, False), (7, 7, True), (7, 10, False), (7, 10, True)]:
        _check_batches(fn, n, B, seed, drop)


# ------------------------------------------------------------ mse_gradient

_GRAD_MISTAKES = {
    "the factor 2 from the square is missing": lambda w, X, y: (X.T @ (X @ w - y)) / len(y),
    "the sum is not divided by the number of rows (a sum, not a mean)": lambda w, X, y: 2 * X.T @ (X @ w - y),
    "the sign is flipped: the residual is y - X w": lambda w, X, y: 2 * X.T @ (y - X @ w) / len(y),
}


def _check_grad(fn, w, X, y, what=""):
    label = f"mse_gradient(w, X, y) with X of shape {X.shape}{what}"
    args = (w.copy(), X.copy(), y.copy())
    got = _call(label, fn, *args)
    for name, a, b in zip("wXy", args, (w, X, y), strict=True):
        if not np.array_equal(a, b):
            raise CheckFailed(f"{label} changed its input {name} in place; leave the inputs unchanged.")
    got = np.asarray(got, dtype=float)
    exp = ref.mse_gradient(w, X, y)
    if got.shape != exp.shape:
        raise CheckFailed(f"{label}: the gradient has shape {got.shape}, expected {exp.shape} (the shape of w).")
    err = rel_error(got, exp, FLOOR)
    if err > TOL:
        msg = (f"{label}: expected {np.round(exp[:4], 6).tolist()}, got {np.round(got[:4], 6).tolist()} "
               f"(relative error {err:.1e}).")
        for cause, wrong in _GRAD_MISTAKES.items():
            if rel_error(got, wrong(w, X, y), FLOOR) <= TOL:
                msg += f" This matches a known mistake: {cause}."
        scale = float(got @ exp / (exp @ exp)) if exp @ exp > 0 else 0.0
        divisor = len(y) / scale if scale > 0 else 0.0
        if ("known mistake" not in msg and rel_error(got, scale * exp, FLOOR) <= TOL and divisor >= 1
                and abs(divisor - round(divisor)) < 1e-6 * divisor and round(divisor) != len(y)):
            msg += (f" It is the right sum divided by {round(divisor)} instead of by the number of rows of X "
                    f"({len(y)}): divide by len(y), the size of the batch you are given.")
        raise CheckFailed(msg)


def grad_basic(fn, rng):
    """Three rows, two features, numbers in halves: every number shows in the message."""
    def halves(lo, hi, size):
        return np.round(rng.uniform(lo, hi, size=size) * 2) / 2

    while True:   # an informative case: full rank, and both gradients clearly non-zero
        X, y, w = halves(-3, 3, (3, 2)), halves(-2, 2, 3), halves(-1.5, 1.5, 2)
        if (np.linalg.matrix_rank(X) == 2 and np.all(np.abs(X.T @ y) >= 0.5)
                and np.all(np.abs(X.T @ (X @ w - y)) >= 0.5)):
            break
    _check_grad(fn, w, X, y)
    _check_grad(fn, np.zeros(2), X, y, " at w = 0")


def grad_random(fn, rng, n_cases=100):
    for _ in range(n_cases):
        X, y, w = _regression(rng)
        _check_grad(fn, w, X, y)


def grad_edge(fn, rng):
    X, y, w = _regression(rng, n=1, d=3)
    _check_grad(fn, w, X, y, " (a single row)")
    X, y, w = _regression(rng, n=20, d=1)
    _check_grad(fn, w, X, y, " (one feature)")
    X, y, _ = _regression(rng, n=30, d=3)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    _check_grad(fn, w, X, y, " at the least-squares solution (gradient ~ 0)")


# ------------------------------------------------------------ train_minibatch_sgd

def _train_variant(X, y, B, lr, epochs, rng, w0=None, *, shuffle="epoch", divide_by_n=False,
                   last_batch_loss=False, replace=False, grad_scale=1.0):
    """train_minibatch_sgd as written with one known mistake (the keyword that is set)."""
    n = len(y)
    w = np.zeros(X.shape[1]) if w0 is None else np.array(w0, dtype=float)
    losses = []
    sizes = [B] * (n // B) + ([n % B] if n % B else [])
    order = rng.permutation(n) if shuffle == "once" else None
    for _ in range(epochs):
        if replace:  # batches of the right sizes, each drawn with replacement
            batches = [rng.choice(n, s, replace=True) for s in sizes]
        elif shuffle == "epoch":
            batches = ref.minibatch_indices(n, B, rng)
        elif shuffle == "once":
            batches = [order[i:i + B] for i in range(0, n, B)]
        else:
            batches = [np.arange(i, min(i + B, n)) for i in range(0, n, B)]
        for idx in batches:
            g = grad_scale * ref.mse_gradient(w, X[idx], y[idx])
            w = w - lr * (g * len(idx) / n if divide_by_n else g)
        losses.append(_mse_loss(w, X[idx], y[idx]) if last_batch_loss else _mse_loss(w, X, y))
    return w, np.array(losses)


_TRAIN_MISTAKES = {
    "the data are not shuffled: call minibatch_indices (rng.permutation) every epoch":
        dict(shuffle="none"),
    "one shuffle is reused for every epoch: draw a new order each epoch":
        dict(shuffle="once"),
    "the batch gradient is divided by n instead of the batch size":
        dict(divide_by_n=True),
    "the loss is measured on the last batch; the contract asks for the full-data loss after each epoch":
        dict(last_batch_loss=True),
    "the batches are drawn with replacement; each epoch must visit every example once":
        dict(replace=True),
    "the gradient misses the factor 2 from the square (see mse_gradient)":
        dict(grad_scale=0.5),
}


def _check_train(fn, X, y, B, lr, epochs, seed, w0=None):
    w0_arg = None if w0 is None else w0.copy()
    label = (f"train_minibatch_sgd(X of shape {X.shape}, y, batch_size={B}, lr={lr:.3g}, epochs={epochs}, "
             f"rng=default_rng({seed}){'' if w0 is None else ', w0=...'})")
    # w0 goes by position: what a call does to its positional arrays comes back from the kernel
    out = _call(label, fn, X.copy(), y.copy(), B, lr, epochs, _rng(seed), *([] if w0 is None else [w0_arg]))
    if w0 is not None and not np.array_equal(w0_arg, w0):
        raise CheckFailed(f"{label} changed w0 in place; start from a copy.")
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CheckFailed(f"{label} should return the pair (w, epoch_losses).")
    w, losses = np.asarray(out[0], dtype=float), np.asarray(out[1], dtype=float).ravel()
    w_exp, l_exp = ref.train_minibatch_sgd(X, y, B, lr, epochs, _rng(seed), w0=w0)
    if len(losses) != epochs:
        raise CheckFailed(f"{label}: {len(losses)} losses returned, expected one per epoch ({epochs}).")
    if w.shape != w_exp.shape:
        raise CheckFailed(f"{label}: w has shape {w.shape}, expected {w_exp.shape}.")
    bad_w = rel_error(w, w_exp, FLOOR) > TOL
    bad_l = rel_error(losses, l_exp, FLOOR) > TOL
    if bad_w or bad_l:
        what = (f"final w expected {np.round(w_exp[:4], 6).tolist()}, got {np.round(w[:4], 6).tolist()}"
                if bad_w else f"epoch losses expected {np.round(l_exp[:4], 6).tolist()}, "
                              f"got {np.round(losses[:4], 6).tolist()}")
        msg = f"{label}: {what}."
        for cause, kw in _TRAIN_MISTAKES.items():
            w_v, l_v = _train_variant(X, y, B, lr, epochs, _rng(seed), w0, **kw)
            if rel_error(w, w_v, FLOOR) <= TOL and rel_error(losses, l_v, FLOOR) <= TOL:
                msg += f" This matches a known mistake: {cause}."
                break
        else:
            msg += (" Use one call of minibatch_indices(n, batch_size, rng) per epoch, one update per batch "
                    "with mse_gradient on that batch, and the full-data loss after each epoch.")
        raise CheckFailed(msg + _helper_note(fn, ["minibatch_indices", "mse_gradient"]))


def train_basic(fn, rng):
    X, y, _ = _regression(rng, n=40, d=3)
    _check_train(fn, X, y, 8, 0.05, 5, seeds.draw(rng))
    _check_train(fn, X, y, 40, 0.1, 3, seeds.draw(rng))


def train_random(fn, rng, n_cases=30):
    for _ in range(n_cases):
        X, y, _ = _regression(rng)
        n = len(y)
        B = int(rng.integers(1, n + 1))
        lr = 0.2 / float(np.mean(np.sum(X * X, axis=1)))  # stable for any batch size
        _check_train(fn, X, y, B, lr, int(rng.integers(1, 6)), int(rng.integers(2**31)))


def train_edge(fn, rng):
    X, y, w0 = _regression(rng, n=30, d=2)
    _check_train(fn, X, y, 7, 0.02, 4, seeds.draw(rng), w0=w0)
    _check_train(fn, X, y, 1, 0.01, 2, seeds.draw(rng))
    _check_train(fn, X, y, 30, 0.05, 2, seeds.draw(rng))


# ------------------------------------------------------------ gradient_noise

def _noise_norm_variance(w, X, y, B, rng, n_draws):
    norms = [np.linalg.norm(ref.mse_gradient(w, X[i], y[i]))
             for i in (rng.choice(len(y), B, replace=False) for _ in range(n_draws))]
    return float(np.var(norms))


def _noise_replace(w, X, y, B, rng, n_draws):
    g = ref.mse_gradient(w, X, y)
    return float(np.mean([np.sum((ref.mse_gradient(w, X[i], y[i]) - g) ** 2)
                          for i in (rng.choice(len(y), B, replace=True) for _ in range(n_draws))]))


_NOISE_MISTAKES = {
    "this is the variance of the gradient norms, not the mean of ||g_B - g||^2": _noise_norm_variance,
    "the batches are drawn with replacement; use rng.choice(n, batch_size, replace=False)": _noise_replace,
    "the result is 4 times too small: the gradient misses the factor 2 from the square (see mse_gradient)":
        lambda w, X, y, B, rng, n_draws: ref.gradient_noise(w, X, y, B, rng, n_draws) / 4,
}


def _check_noise(fn, w, X, y, B, n_draws, seed):
    label = (f"gradient_noise(w, X of shape {X.shape}, y, batch_size={B}, rng=default_rng({seed}), "
             f"n_draws={n_draws})")
    got = _call(label, fn, w.copy(), X.copy(), y.copy(), B, _rng(seed), n_draws)
    try:
        got = float(got)
    except (TypeError, ValueError):
        raise CheckFailed(f"{label} returned {got!r}; it should return one number.") from None
    exp = ref.gradient_noise(w, X, y, B, _rng(seed), n_draws)
    if rel_error(got, exp, FLOOR) > TOL:
        msg = f"{label}: expected {exp:.6g}, got {got:.6g}."
        for cause, wrong in _NOISE_MISTAKES.items():
            if rel_error(got, wrong(w, X, y, B, _rng(seed), n_draws), FLOOR) <= TOL:
                msg += f" This matches a known mistake: {cause}."
                break
        raise CheckFailed(msg + _helper_note(fn, ["mse_gradient"]))


def noise_basic(fn, rng):
    X, y, w = _regression(rng, n=50, d=3)
    _check_noise(fn, w, X, y, 5, 20, seeds.draw(rng))


def noise_random(fn, rng, n_cases=30):
    for _ in range(n_cases):
        X, y, w = _regression(rng)
        _check_noise(fn, w, X, y, int(rng.integers(1, len(y) + 1)), int(rng.integers(1, 40)),
                     int(rng.integers(2**31)))


def noise_edge(fn, rng):
    X, y, w = _regression(rng, n=25, d=2)
    _check_noise(fn, w, X, y, 25, 5, seeds.draw(rng))   # the full batch: no noise at all
    _check_noise(fn, w, X, y, 1, 50, seeds.draw(rng))


PARTS = {
    "minibatch_indices": {"basic": minibatch_basic, "random": minibatch_random, "edge": minibatch_edge},
    "mse_gradient": {"basic": grad_basic, "random": grad_random, "edge": grad_edge},
    "train_minibatch_sgd": {"basic": train_basic, "random": train_random, "edge": train_edge},
    "gradient_noise": {"basic": noise_basic, "random": noise_random, "edge": noise_edge},
}


def check_batch(name, fn, part):
    if not fn.callable:
        raise CheckFailed(f"{name} is not a function.")
    PARTS[name][part](fn, seeds.rng(name, part))
