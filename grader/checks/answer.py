"""How a check reaches the answer it grades, wherever that answer lives.

While a notebook is graded, the answer is a student's function or class inside a
sandboxed kernel: a ``RemoteAnswer`` (grader/executor/verdicts.py) whose calls become
requests over the grading socket. In the course's own tests the answer is an object in
this process: a ``LocalAnswer``, which goes through the very same wire format
(gradeclient.wire) and the very same kernel-side code (gradeclient), so a verdict in a
test is the verdict the notebook would get.

A check only ever uses what ``Answer`` offers: call it, ask whether it is callable and
what its parameters are, which global names its code uses, reach another function of
the same notebook by name (``helper``), or run one of gradeclient's programs on it
(``run``, for classes such as a torch optimizer). Everything that comes back is plain
data, decoded by gradeclient.wire; nothing that comes back is trusted.
"""
import numpy as np

import gradeclient
from gradeclient import programs, wire


class AnswerGone(AssertionError):
    """The kernel stopped answering in the middle of a check (time limit, a crash)."""


def _error_class(name):
    name = "".join(ch for ch in str(name) if ch.isalnum() or ch == "_")[:60] or "Error"
    if not name[0].isalpha():
        name = "E" + name
    return type(name, (Exception,), {})


class Answer:
    """The student's answer as the checks see it."""

    def __init__(self, description, target=None):
        self.description = description or {}
        self.target = target

    # ---------------------------------------------------------- what it is
    @property
    def callable(self):
        return bool(self.description.get("callable"))

    @property
    def params(self):
        """[(name, kind, has_default)] or None when the kernel could not say."""
        params = self.description.get("params")
        return [tuple(p) for p in params] if isinstance(params, list) else None

    @property
    def names(self):
        names = self.description.get("names")
        return {str(n) for n in names} if isinstance(names, list) else set()

    # ---------------------------------------------------------- using it
    def __call__(self, *args, **kwargs):
        reply = self._exchange({"op": "call", "target": self.target,
                                "args": wire.encode(list(args)), "kwargs": wire.encode(dict(kwargs))})
        after = reply.get("args_after")
        if isinstance(after, list):
            # strict=False: the kernel may report fewer arrays than arguments; copy back those it did
            for arg, new in zip(args, after, strict=False):
                if isinstance(arg, np.ndarray) and new is not None:
                    new = wire.decode(new)
                    if isinstance(new, np.ndarray) and new.shape == arg.shape and arg.flags.writeable:
                        np.copyto(arg, new.astype(arg.dtype, copy=False), casting="unsafe")
        after_kw = wire.decode(reply.get("kwargs_after") or {"$dict": []})
        if isinstance(after_kw, dict):
            for k, new in after_kw.items():
                arg = kwargs.get(k)
                if isinstance(arg, np.ndarray) and isinstance(new, np.ndarray) and new.shape == arg.shape \
                        and arg.flags.writeable:
                    np.copyto(arg, new.astype(arg.dtype, copy=False), casting="unsafe")
        if reply.get("op") == "raised":
            message = str(reply.get("message", ""))[:2000]
            if reply.get("not_implemented"):
                raise NotImplementedError(message)
            raise _error_class(reply.get("type"))(message)
        if reply.get("op") != "result":
            raise wire.ProtocolError("the kernel's reply is neither a result nor an error")
        return wire.decode(reply.get("value"))

    def run(self, program, spec):
        """Run gradeclient.programs' ``program`` on the answer; its report, decoded."""
        reply = self._exchange({"op": "run", "program": program, "spec": wire.encode(spec)})
        if reply.get("op") != "result":
            raise wire.ProtocolError("the kernel's reply to a program is not a result")
        return wire.decode(reply.get("value"))

    def helper(self, name):
        """Another object of the same notebook, called ``name`` (None if there is none)."""
        raise NotImplementedError

    def _exchange(self, message):
        raise NotImplementedError


class LocalAnswer(Answer):
    """An object in this process, reached exactly as the kernel would reach it."""

    def __init__(self, obj, namespace=None, target=None):
        super().__init__(gradeclient.describe(obj), target)
        self.obj = obj
        self.namespace = namespace if namespace is not None else getattr(obj, "__globals__", {})

    def helper(self, name):
        value = self.namespace.get(name)
        return None if value is None else LocalAnswer(value, self.namespace, target=str(name))

    def _exchange(self, message):
        # ``obj`` is the target already, found in ``namespace``, not in this process's __main__
        message = _roundtrip({**message, "target": None})
        if message["op"] == "call":
            return _roundtrip(gradeclient._call(self.obj, message))
        return _roundtrip(programs.run(message["program"], self.obj,
                                       wire.decode(message["spec"], tensors=True)))


def _roundtrip(message):
    """``message`` as the other side would read it after the wire."""
    import json
    return json.loads(json.dumps(message, allow_nan=True))


def as_answer(obj):
    return obj if isinstance(obj, Answer) else LocalAnswer(obj)
