"""Kernel-side program for the learning-rate range test (notebook 06).

The grader sends a network (its architecture and every weight), the data, the loader's
batch size and shuffling seed, the range (lr_min, lr_max, steps) and which optimizer to
use; ``range_test`` builds model_fn and the loader with gradeclient.nets, calls the
student's ``lr_range_test`` once and reports what came back as plain data. The grader
replays the same run with its own reference and decides.
"""
from gradeclient.programs import program

MAX_ITEMS = 100_000   # more numbers than that are described, not sent


def _type_name(value):
    try:
        return type(value).__name__[:60]
    except Exception:   # noqa: BLE001 (a hostile class)
        return "object"


def _describe(value):
    """A short description of a returned value that is not what the contract asks for."""
    name = _type_name(value)
    try:
        if isinstance(value, (list, tuple, dict)):
            return f"a {name} of {len(value)} items"
        shape = getattr(value, "shape", None)
        if isinstance(shape, tuple) and all(isinstance(s, int) for s in shape):
            return f"a {name} of shape {shape[:8]}"
    except Exception:   # noqa: BLE001 (a hostile __len__ or shape)
        pass
    return f"a {name}"


def _number(v):
    """One recorded value as (a Python float, its dtype's name): numbers, one-element
    tensors (with or without grad) and 0-d arrays; anything else raises TypeError."""
    import numbers

    import numpy as np
    import torch
    if torch.is_tensor(v):
        if v.numel() != 1 or v.dtype.is_complex:
            raise TypeError(f"a tensor of shape {tuple(v.shape)[:8]} and dtype {v.dtype}")
        return float(v.detach().reshape(()).item()), str(v.dtype).replace("torch.", "")
    if isinstance(v, (np.ndarray, np.generic)):
        if v.shape != () or v.dtype.kind not in "biuf":
            raise TypeError(f"an array of shape {v.shape[:8]} and dtype {v.dtype}")
        return float(v), str(v.dtype)
    if isinstance(v, bool) or not isinstance(v, numbers.Real):
        raise TypeError(f"a {_type_name(v)}")
    return float(v), "float64"


_PRECISION = ["float64", "int64", "int32", "float32", "int16", "uint8", "int8", "float16", "bfloat16"]


def _narrowest(dtypes):
    """The least precise of the dtype names in ``dtypes`` (float64 for none)."""
    rank = {name: i for i, name in enumerate(_PRECISION)}
    return max(dtypes, key=lambda d: rank.get(d, len(_PRECISION)), default="float64")


def floats(value):
    """(float64 1-D array, the dtype the numbers came in, None) for a sequence of numbers
    (a list, a tuple, a 1-D array or tensor), else (None, None, a description of what it is)."""
    import numpy as np
    import torch
    try:
        if torch.is_tensor(value):
            if value.dim() != 1 or value.dtype.is_complex:
                return None, None, f"a tensor of shape {tuple(value.shape)[:8]} and dtype {value.dtype}"
            dtype = str(value.dtype).replace("torch.", "")
            value = value.detach().cpu().to(torch.float64).numpy()
            return (value, dtype, None) if value.size <= MAX_ITEMS else (None, None, f"{value.size} numbers")
        if isinstance(value, np.ndarray):
            if value.ndim != 1 or value.dtype.kind not in "biuf":
                return None, None, f"an array of shape {value.shape[:8]} and dtype {value.dtype}"
            if value.size > MAX_ITEMS:
                return None, None, f"an array of {value.size} numbers"
            return np.array(value, dtype=np.float64), str(value.dtype), None
        if isinstance(value, (list, tuple)):
            if len(value) > MAX_ITEMS:
                return None, None, f"a {_type_name(value)} of {len(value)} items"
            out, dtypes = [], set()
            for i, v in enumerate(value):
                try:
                    number, dtype = _number(v)
                except Exception as e:   # noqa: BLE001 (a hostile item)
                    kind = str(e)[:100] if isinstance(e, TypeError) else f"a {_type_name(v)}"
                    return None, None, f"a {_type_name(value)} whose item {i} is {kind}, not a number"
                out.append(number)
                dtypes.add(dtype)
            return np.array(out, dtype=np.float64), _narrowest(dtypes), None
    except Exception:   # noqa: BLE001 (a hostile sequence)
        pass
    return None, None, _describe(value)


def _pair(value):
    """The two results of the call, or None when it did not return a pair."""
    import numpy as np
    try:
        if isinstance(value, (list, tuple)) and len(value) == 2:
            return value[0], value[1]
        if isinstance(value, np.ndarray) and value.ndim == 2 and value.shape[0] == 2:
            return value[0], value[1]
    except Exception:   # noqa: BLE001
        pass
    return None


def _error(e):
    try:
        message = str(e)[:1000]
    except Exception:   # noqa: BLE001 (a hostile __str__)
        message = "(no message)"
    return {"type": _type_name(e), "message": message, "not_implemented": isinstance(e, NotImplementedError)}


def opt_fn_for(name):
    """The opt_fn a run passes: None for "sgd" (the function's default), Adam for "adam"."""
    import torch
    if name == "sgd":
        return None
    if name == "adam":
        return lambda params, lr: torch.optim.Adam(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}")


@program
def range_test(fn, spec):
    """Run the student's lr_range_test once.

    spec: {"arch", "weights": the network (gradeclient.nets.mlp), "X", "y", "batch_size",
    "seed": the loader (gradeclient.nets.loader), "lr_min", "lr_max", "steps", "opt":
    "sgd" (opt_fn=None is passed) or "adam" (opt_fn builds torch.optim.Adam)}

    report: {"error": None or {"type", "message", "not_implemented"} (what the call raised),
    "returned": a description of what came back when it is not a pair, "lrs", "losses":
    float64 arrays or None, "lrs_dtype", "losses_dtype": the dtype the numbers came in (the
    least precise one of a list; "float64" for Python floats), "lrs_got", "losses_got":
    descriptions of what came back when it is not a sequence of numbers, "model_fn_calls":
    how many times model_fn was called}
    """
    import torch

    from gradeclient import nets
    report = {"error": None, "returned": None, "lrs": None, "losses": None, "lrs_dtype": None,
              "losses_dtype": None, "lrs_got": None, "losses_got": None, "model_fn_calls": 0}
    if not callable(fn):
        report["error"] = {"type": "TypeError", "message": f"lr_range_test is {_describe(fn)}, not a function",
                           "not_implemented": False}
        return report
    arch, weights = spec["arch"], list(spec["weights"])

    def model_fn():
        report["model_fn_calls"] += 1
        return nets.mlp(arch, weights)

    loader = nets.loader(spec["X"], spec["y"], int(spec["batch_size"]), int(spec["seed"]))
    opt_fn = opt_fn_for(spec["opt"])
    threads = torch.get_num_threads()
    torch.set_num_threads(1)   # a tiny model: one thread is the fastest
    try:
        try:
            out = fn(model_fn, loader, float(spec["lr_min"]), float(spec["lr_max"]), int(spec["steps"]),
                     opt_fn=opt_fn)
        except KeyboardInterrupt:
            raise
        except BaseException as e:   # noqa: BLE001 (the student's error, reported)
            report["error"] = _error(e)
            return report
        pair = _pair(out)
        if pair is None:
            report["returned"] = _describe(out)
            return report
        report["lrs"], report["lrs_dtype"], report["lrs_got"] = floats(pair[0])
        report["losses"], report["losses_dtype"], report["losses_got"] = floats(pair[1])
        return report
    finally:
        torch.set_num_threads(threads)
