"""The grading protocol's wire format: length-prefixed JSON messages over a Unix socket.

Both sides use this module. What comes from a kernel is hostile, so decoding builds
nothing but plain data: None, bools, numbers, strings, lists, tuples, dicts, numpy
arrays of numeric or boolean dtype, and ``Opaque`` stand-ins for anything else. No
pickle, no code, no object a sender chooses.
"""
import base64
import json
import math
import struct

import numpy as np

MAX_MESSAGE = 64 * 1024 * 1024   # bytes; a longer message ends the session
MAX_DEPTH = 40
_HEADER = struct.Struct(">I")
_KINDS = "biuf"                  # numpy dtype kinds that cross the wire


class ProtocolError(Exception):
    """The other side sent something that is not a message of this protocol."""


class Opaque:
    """Stands for an object that cannot cross the wire (a student's custom class, a
    generator, a module...). ``np.asarray(Opaque(...), dtype=float)`` fails like any
    non-number would."""

    def __init__(self, type_name):
        self.type_name = str(type_name)[:80]

    def __repr__(self):
        return f"<{self.type_name} object>"


def send(sock, message):
    data = json.dumps(message, allow_nan=True, separators=(",", ":")).encode()
    if len(data) > MAX_MESSAGE:
        raise ProtocolError(f"message of {len(data)} bytes is over the {MAX_MESSAGE} byte limit")
    sock.sendall(_HEADER.pack(len(data)) + data)


def _recv_exact(sock, n):
    chunks, got = [], 0
    while got < n:
        chunk = sock.recv(min(n - got, 1 << 20))
        if not chunk:
            raise EOFError("the other side closed the connection")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def recv(sock, limit=MAX_MESSAGE):
    (n,) = _HEADER.unpack(_recv_exact(sock, _HEADER.size))
    if n > limit:
        raise ProtocolError(f"message of {n} bytes is over the {limit} byte limit")
    try:
        message = json.loads(_recv_exact(sock, n))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ProtocolError(f"not JSON: {e}") from None
    if not isinstance(message, dict) or not isinstance(message.get("op"), str):
        raise ProtocolError("a message must be an object with an 'op'")
    return message


# ------------------------------------------------------------------ values

def _array(a):
    a = np.asarray(a)
    if not a.flags.c_contiguous:     # (np.ascontiguousarray would turn a 0-d array into 1-d)
        a = a.copy(order="C")
    if a.dtype.kind not in _KINDS or a.dtype.hasobject:
        return {"$opaque": f"ndarray of dtype {a.dtype}"}
    return {"$nd": [a.dtype.str, list(a.shape), base64.b64encode(a.tobytes()).decode()]}


def encode(value, depth=0):
    """Plain data for ``value``; anything unknown becomes an opaque marker."""
    if depth > MAX_DEPTH:
        return {"$opaque": "nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, (int, float)) and type(value) in (int, float, bool):
        return value
    if isinstance(value, np.ndarray):
        return _array(value)
    if isinstance(value, np.generic):
        return _array(np.asarray(value)) if value.dtype.kind in _KINDS else {"$opaque": type(value).__name__}
    if isinstance(value, np.random.Generator):
        state = value.bit_generator.state
        return {"$rng": state} if state.get("bit_generator") == "PCG64" else {"$opaque": "Generator"}
    if type(value) is tuple:
        return {"$tuple": [encode(v, depth + 1) for v in value]}
    if type(value) is list:
        return [encode(v, depth + 1) for v in value]
    if type(value) is dict and all(isinstance(k, (str, int)) for k in value):
        return {"$dict": [[k, encode(v, depth + 1)] for k, v in value.items()]}
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        out = _array(value.detach().cpu().numpy())
        out["torch"] = True
        return out
    if isinstance(value, (int, float)):   # subclasses: plain numbers only
        return float(value) if isinstance(value, float) else int(value)
    return {"$opaque": type(value).__name__}


def _torch():
    import sys
    return sys.modules.get("torch")   # only when the notebook has imported it


def decode(value, depth=0, tensors=False):
    """The plain data ``encode`` made. ``tensors=True`` turns arrays that were tensors
    back into tensors (the kernel side, receiving the trusted side's inputs)."""
    if depth > MAX_DEPTH:
        raise ProtocolError("nested too deeply")
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [decode(v, depth + 1, tensors) for v in value]
    if not isinstance(value, dict) or len(value) not in (1, 2):
        raise ProtocolError("unknown value")
    if "$nd" in value:
        dtype, shape, data = value["$nd"]
        dtype = np.dtype(str(dtype))
        if dtype.kind not in _KINDS or dtype.hasobject:
            raise ProtocolError(f"dtype {dtype} may not cross the wire")
        shape = tuple(int(s) for s in shape)
        raw = base64.b64decode(data, validate=True)
        if any(s < 0 for s in shape) or math.prod(shape) * dtype.itemsize != len(raw):
            raise ProtocolError("array data does not match its shape")
        a = np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
        if tensors and value.get("torch"):
            import torch
            return torch.from_numpy(a)
        return a
    if "$tuple" in value:
        return tuple(decode(v, depth + 1, tensors) for v in value["$tuple"])
    if "$dict" in value:
        return {(k if isinstance(k, (str, int)) else str(k)): decode(v, depth + 1, tensors)
                for k, v in value["$dict"]}
    if "$rng" in value:
        bg = np.random.PCG64()
        bg.state = value["$rng"]
        return np.random.Generator(bg)
    if "$opaque" in value:
        return Opaque(value["$opaque"])
    raise ProtocolError("unknown value")
