"""Snapshots of module state, to notice and put back what a submission replaced.

A bottom module: it imports nothing from ``course``, so the guard (in the kernel) and the
grading child (``course.grading.isolated``) can both use it without an import cycle.

A snapshot holds, for every module it covers, the ``sys.modules`` entry, every name of the
module (private ones too), and for each function and class the module defines: the
function's ``__code__``, ``__defaults__``, ``__kwdefaults__`` and closure cells, and the
class's own attributes.  Plain containers (list, dict, set) at module level also keep
their contents.  :func:`restore` puts back every difference and names it.

>>> import types
>>> mod = types.ModuleType("demo")
>>> exec("def window():\\n    return 'open'\\nHOOKS = []", mod.__dict__)
>>> snap = take([mod])
>>> mod.window.__code__ = (lambda: "closed").__code__   # a submission patches the code
>>> mod.HOOKS.append(print)
>>> mod.window()
'closed'
>>> restore(snap)
['demo.window.__code__', 'demo.HOOKS']
>>> mod.window(), mod.HOOKS, restore(snap)
('open', [], [])
"""

from __future__ import annotations

import sys
import types

#: standard-library names the grading checks and tests rely on: {module: [attribute, ...]}
PROTECTED = {
    "threading": [
        "Lock",
        "RLock",
        "Condition",
        "Semaphore",
        "BoundedSemaphore",
        "Event",
        "Barrier",
        "Thread",
        "current_thread",
        "get_ident",
        "active_count",
        "enumerate",
        "excepthook",
    ],
    "_thread": ["allocate_lock", "start_new_thread", "get_ident", "RLock"],
    "time": ["sleep", "perf_counter", "monotonic", "time"],
    "queue": ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"],
    "os": ["fork", "getpid", "kill", "waitpid", "write", "_exit"],
    "multiprocessing": ["get_context", "Process", "Queue", "Pipe"],
    "pickle": ["dumps", "loads"],
    "sys": ["_current_frames", "settrace"],  # not excepthook: IPython swaps it per cell
}

#: marks "no such attribute" in a snapshot entry
MISSING = object()

#: course modules whose state only ever changes inside one call of a check, so a change that
#: outlives the call is tampering (other course modules set lazy caches legitimately)
STRICT_PREFIXES = ("course.grading", "course.servers", "course.guard", "course._state")
_CONTAINERS = (list, dict, set)


class Snapshot:
    """What :func:`take` recorded: a list of entries, each able to check and restore itself."""

    def __init__(self):
        self.entries: list[tuple] = []  # (label, kind, target, key, original)
        self.modules: dict[str, types.ModuleType] = {}

    def covers(self, module_name: str) -> bool:
        """True when ``module_name`` is in the snapshot."""
        return module_name in self.modules


def course_modules(prefix: str = "course") -> list[types.ModuleType]:
    """Every loaded module of the package ``prefix`` (the package itself included).

    >>> [m.__name__ for m in course_modules("sys")]
    ['sys']
    """
    return [
        module
        for name, module in sorted(sys.modules.items())
        if (name == prefix or name.startswith(prefix + "."))
        and isinstance(module, types.ModuleType)
    ]


def take(modules, protected: dict | None = None) -> Snapshot:
    """Snapshot the state of ``modules`` and of the ``protected`` standard-library names."""
    snap = Snapshot()
    for module_name, names in (protected or {}).items():
        module = sys.modules.get(module_name)
        if module is None:
            continue
        for name in names:
            value = getattr(module, name, MISSING)
            if value is not MISSING:
                snap.entries.append((f"{module_name}.{name}", "attr", module, name, value))
    for module in modules:
        add_module(snap, module)
    return snap


def add_module(snap: Snapshot, module: types.ModuleType) -> None:
    """Add one module (its names, functions and classes) to ``snap``."""
    name = module.__name__
    if name in snap.modules:
        return
    snap.modules[name] = module
    if sys.modules.get(name) is module:
        snap.entries.append((f"sys.modules[{name!r}]", "sys.modules", None, name, module))
    for key, value in list(vars(module).items()):
        label = f"{name}.{key}"
        snap.entries.append((label, "dict", module, key, value))
        if isinstance(value, _CONTAINERS) and not key.startswith("__"):
            snap.entries.append((label, "contents", value, None, _copy(value)))
        owned = getattr(value, "__module__", None) == name
        if isinstance(value, types.FunctionType) and owned:
            add_function(snap, label, value)
        elif isinstance(value, type) and owned:
            add_class(snap, label, value)


def add_class(snap: Snapshot, label: str, cls: type) -> None:
    """Add the own attributes of ``cls`` (and its functions' code) to ``snap``."""
    own = dict(vars(cls))
    snap.entries.append((label, "class", cls, None, own))
    for key, value in own.items():
        for func in functions_of(value):
            add_function(snap, f"{label}.{key}", func)


def functions_of(value) -> list:
    """The functions behind a class attribute (a function, static/class method or property)."""
    if isinstance(value, staticmethod | classmethod):
        value = value.__func__
    if isinstance(value, property):
        return [
            f for f in (value.fget, value.fset, value.fdel) if isinstance(f, types.FunctionType)
        ]
    return [value] if isinstance(value, types.FunctionType) else []


def add_function(snap: Snapshot, label: str, func: types.FunctionType) -> None:
    """Add ``func``'s code, defaults and closure cells to ``snap``."""
    state = (
        func.__code__,
        func.__defaults__,
        dict(func.__kwdefaults__) if func.__kwdefaults__ is not None else None,
        tuple(_cell(c) for c in func.__closure__ or ()),
    )
    snap.entries.append((label, "function", func, None, state))


def _cell(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return MISSING


def _copy(container):
    return dict(container) if isinstance(container, dict) else type(container)(container)


def _same(a, b) -> bool:
    """Same contents by identity (not ``==``: a forged object may compare equal)."""
    if type(a) is not type(b) or len(a) != len(b):
        return False
    if isinstance(a, dict):
        return all(k in b and a[k] is b[k] for k in a)
    if isinstance(a, set):
        return a == b
    return all(x is y for x, y in zip(a, b, strict=True))


def restore(snap: Snapshot, only=None) -> list[str]:
    """Put back every difference from ``snap``; return labels of what had changed.

    ``only(label, kind)`` -> bool limits the restoring to some entries.
    """
    changed: list[str] = []
    for entry in snap.entries:
        if only is not None and not only(entry[0], entry[1]):
            continue
        try:
            what = _restore_entry(*entry)
        except Exception:  # noqa: BLE001 - a read-only oddity must not stop the rest
            what = None
        if what:
            changed.append(what)
    return changed


def restore_entry(entry) -> str | None:
    """Put back one of ``snap.entries``; its label if it had changed (never raises)."""
    try:
        return _restore_entry(*entry)
    except Exception:  # noqa: BLE001 - a read-only oddity must not stop the rest
        return None


def changed_entry(entry) -> str | None:
    """The label of ``entry`` (one of ``snap.entries``) if it differs now, without restoring."""
    try:
        return _restore_entry(*entry, apply=False)
    except Exception:  # noqa: BLE001
        return None


def _restore_entry(label, kind, target, key, original, apply=True) -> str | None:
    if kind == "sys.modules":
        if sys.modules.get(key) is not original:
            if apply:
                sys.modules[key] = original
            return label
    elif kind == "attr":
        if getattr(target, key, MISSING) is not original:
            if apply:
                setattr(target, key, original)
            return label
    elif kind == "dict":
        if vars(target).get(key, MISSING) is not original:
            if apply:
                vars(target)[key] = original
            return label
    elif kind == "instance":  # an attribute that must stay (or stay absent) in vars(target)
        if vars(target).get(key, MISSING) is not original:
            if apply and isinstance(target, type):  # a class: its dict is read-only
                if original is MISSING:
                    delattr(target, key)
                else:
                    setattr(target, key, original)
            elif apply and original is MISSING:
                del vars(target)[key]
            elif apply:
                vars(target)[key] = original
            return label
    elif kind == "contents":
        if not _same(target, original):
            if apply:
                target.clear()
                if isinstance(target, list):
                    target.extend(original)
                else:
                    target.update(original)
            return label
    elif kind == "class":
        return _restore_class(label, target, original, apply)
    elif kind == "function":
        return _restore_function(label, target, original, apply)
    return None


def _restore_class(label: str, cls: type, own: dict, apply: bool) -> str | None:
    changed = []
    current = dict(vars(cls))
    for key, value in own.items():
        if current.get(key, MISSING) is not value:
            if apply:
                setattr(cls, key, value)
            changed.append(key)
    for key in current.keys() - own.keys():
        if apply:
            delattr(cls, key)
        changed.append(key)
    return ", ".join(f"{label}.{key}" for key in sorted(changed)) if changed else None


def _restore_function(label: str, func, state, apply: bool) -> str | None:
    code, defaults, kwdefaults, cells = state
    if (
        func.__code__ is code
        and func.__defaults__ is defaults
        and (kwdefaults is None and func.__kwdefaults__ is None)
        and not cells
    ):
        return None  # the common case, checked first
    changed = []
    if func.__code__ is not code:
        changed.append("__code__")
    if func.__defaults__ is not defaults:
        changed.append("__defaults__")
    if func.__kwdefaults__ != kwdefaults or (
        kwdefaults is not None and not _same(func.__kwdefaults__, kwdefaults)
    ):
        changed.append("__kwdefaults__")
    cells_changed = [
        (cell, value)
        for cell, value in zip(func.__closure__ or (), cells, strict=False)
        if value is not MISSING and _cell(cell) is not value
    ]
    if cells_changed:
        changed.append("closure")
    if apply and changed:
        func.__code__ = code
        func.__defaults__ = defaults
        func.__kwdefaults__ = dict(kwdefaults) if kwdefaults is not None else None
        for cell, value in cells_changed:
            cell.cell_contents = value
    return ", ".join(f"{label}.{c}" for c in changed) if changed else None


def is_strict(label: str, kind: str) -> bool:
    """True for an entry that neither course code nor a correct solution ever changes for good:
    the names and classes of the grading library (``STRICT_PREFIXES``), the code of every course
    function, and everything outside ``course`` (protected names, IPython's display).

    >>> is_strict("course.grading.races._window", "dict"), is_strict("course.workers.x", "dict")
    (True, False)
    """
    if kind == "contents":
        return False  # module-level containers are scratch or registries
    if kind == "function":
        return True
    if label.startswith(STRICT_PREFIXES) or label.startswith("sys.modules"):
        return True
    return not label.startswith("course.")


def grading_tampering(snap: Snapshot) -> list[str]:
    """Strict entries of course modules that differ from ``snap`` (nothing is restored).

    >>> grading_tampering(take(course_modules()))
    []
    """
    return [
        what
        for entry in snap.entries
        if entry[0].startswith(("course.", "sys.modules['course")) and is_strict(entry[0], entry[1])
        for what in [changed_entry(entry)]
        if what
    ]
