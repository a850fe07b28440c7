"""Keeps a graded notebook from changing how it is graded.

During autograding every kernel runs ``install()`` before the first cell (an ipykernel
exec_line set by grader.execute.GuardedExecute). It records the public attributes of
numpy, math, torch, the student toolkit, a few builtins and the grader's own modules.
``verify()`` puts back any of them that a cell replaced (``np.abs = ...``,
``grader.check = ...``); it runs before every cell (an IPython pre_run_cell hook) and
again inside ``grader.check`` / ``grader.check_answer``, so hidden tests grade the
student's code with the real libraries and the real checks.

``grader_objects_used`` finds a student's function or class that is, or calls, the
grader's reference implementations. Both findings are reported on a line starting with
FLAG, which the pipeline collects into the class summary.
"""
import builtins
import importlib
import sys
import types

FLAG = "grader-flag:"

MODULES = ["numpy", "numpy.linalg", "numpy.random", "numpy.testing", "math",
           "torch", "torch.optim", "torch.nn", "torch.nn.functional", "torch.optim.lr_scheduler",
           "descentlab"]
OWN_PACKAGES = ("grader", "descentlab")
BUILTINS = ["abs", "all", "any", "bool", "float", "int", "isinstance", "len", "list", "max", "min",
            "range", "round", "sorted", "sum", "tuple", "zip", "map", "getattr", "hasattr", "type",
            "callable", "repr", "str", "dict", "set", "enumerate", "iter", "next"]

_saved = {}      # module name -> (module, {attribute: object})


def _public(mod):
    return {k: v for k, v in vars(mod).items() if not k.startswith("_")}


def install(modules=MODULES):
    """Record what the libraries and the grader look like before any student code runs."""
    _saved.clear()
    for name in modules:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        _saved[name] = (mod, _public(mod))
    import grader
    for name in grader.__all__:   # loads every grader module the hidden tests use
        getattr(grader, name)
    for name, mod in list(sys.modules.items()):
        if name.split(".")[0] in OWN_PACKAGES and isinstance(mod, types.ModuleType):
            _saved[name] = (mod, _public(mod))
    _saved["builtins"] = (builtins, {k: getattr(builtins, k) for k in BUILTINS})
    try:
        shell = get_ipython()  # noqa: F821 (defined inside an IPython kernel)
    except NameError:
        return
    shell.events.register("pre_run_cell", _before_cell)


def _before_cell(info=None):
    verify()


def verify():
    """Put back every recorded attribute the notebook replaced; say which ones."""
    restored = []
    for name, (mod, attrs) in _saved.items():
        current = vars(mod)
        for key, original in attrs.items():
            if current.get(key, _missing) is not original:
                try:
                    setattr(mod, key, original)
                except (AttributeError, TypeError):
                    continue
                restored.append(f"{name}.{key}")
    if restored:
        shown = ", ".join(restored[:8]) + (f" and {len(restored) - 8} more" if len(restored) > 8 else "")
        print(f"{FLAG} the notebook replaced {shown}; restored before grading.", flush=True)
    return restored


_missing = object()


def _is_grader(obj):
    if isinstance(obj, types.ModuleType):
        name = obj.__name__
    else:
        name = getattr(obj, "__module__", None)
    return isinstance(name, str) and (name == "grader" or name.startswith("grader."))


def code_names(code):
    """Global names a code object refers to, nested functions and lambdas included."""
    names, stack = set(), [code]
    while stack:
        c = stack.pop()
        names.update(c.co_names)
        stack.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def _own(obj):
    """Objects written in the notebook (not library code), worth looking inside."""
    module = getattr(obj, "__module__", None)
    return module in (None, "__main__") or (isinstance(module, str) and module.startswith("__"))


def grader_objects_used(obj, depth=4):
    """Names of grader objects that ``obj`` is, refers to, or reaches through the
    notebook's own functions and classes (up to ``depth`` calls deep)."""
    found, seen = [], set()

    def visit(o, d):
        if id(o) in seen or d < 0:
            return
        seen.add(id(o))
        if _is_grader(o):
            found.append(getattr(o, "__qualname__", getattr(o, "__name__", repr(o))))
            return
        if isinstance(o, (staticmethod, classmethod)):
            o = o.__func__
        if isinstance(o, property):
            for f in (o.fget, o.fset):
                if f is not None:
                    visit(f, d)
            return
        if isinstance(o, types.MethodType):
            o = o.__func__
        if isinstance(o, types.FunctionType) and _own(o):
            for n in code_names(o.__code__):
                if n in o.__globals__:
                    visit(o.__globals__[n], d - 1)
            for cell in o.__closure__ or ():
                try:
                    visit(cell.cell_contents, d - 1)
                except ValueError:  # an empty cell
                    pass
            for default in (o.__defaults__ or ()) + tuple((o.__kwdefaults__ or {}).values()):
                visit(default, d - 1)
        elif isinstance(o, type) and _own(o):
            for klass in o.__mro__:
                if klass is object or not _own(klass):
                    continue
                for v in vars(klass).values():
                    visit(v, d)
        elif hasattr(o, "func") and callable(getattr(o, "func", None)):  # functools.partial
            visit(o.func, d)

    visit(obj, depth)
    return found


def installed():
    return bool(_saved)


def refuse_grader_objects(name, obj, error):
    """Raise ``error`` when the answer ``obj`` for ``name`` uses the grader's code.
    Only while grading a notebook (after ``install()``): the course's own tests hand the
    reference implementations to the checks on purpose."""
    if not installed():
        return
    used = grader_objects_used(obj)
    if used:
        raise error(f"{name} uses the course's grader ({', '.join(sorted(set(used)))}); an answer must "
                    f"be your own code, so it gets no points. {FLAG} {name} used the grader's "
                    f"reference code.")
