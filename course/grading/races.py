"""Make races show up every time: instrumented attributes and a stress runner.

Design rationale
----------------
On CPython 3.10+ ``counter += 1`` in threads practically never loses an
update: the interpreter only switches threads at a few places, and a short
read-modify-write finishes first.  A missing lock therefore passes most
naive tests.  A race shows reliably only when something releases the GIL
between the read and the write (measured: ``temp = x; time.sleep(0.001);
x = temp - 1`` with 100 threads was wrong in 20 of 20 trials).

:func:`racy` builds a subclass whose chosen attributes are properties that
call ``time.sleep(0)`` right after every read and right before every write.
That opens a window in which other threads run, so an unprotected
read-modify-write loses updates on (practically) every trial, while code that
holds a lock around the whole read-modify-write is unaffected.

Reads and writes are also reported to an optional hook, which the
interleaving explorer uses to schedule at exactly those points and to print
the values.
"""

from __future__ import annotations

import _thread
import threading
import time
import types
from dataclasses import dataclass, field

from . import _stacks
from ._display import hides_frames, pictures_enabled

# hook(obj, attr, "read"|"write", value) -> True when the hook scheduled the access
# itself (then no sleep is needed); None = no hook.  Set through set_access_hook().
_access_hook = None
_sleep = time.sleep  # bound once: replacing time.sleep later does not close the window


def set_access_hook(hook):
    """Report every racy read and write to ``hook``; returns the previous hook.

    ``hook(obj, attr, kind, value)`` is called with ``kind`` ``"read"`` (after the
    read) or ``"write"`` (before the write) and returns True when it has taken care
    of the switch itself (the interleaving explorer does), False to keep the usual
    race window.  ``None`` removes the hook.

    >>> seen = []
    >>> box = racy_value(1)
    >>> old = set_access_hook(lambda obj, attr, kind, value: seen.append((attr, kind)))
    >>> box.value += 1
    >>> set_access_hook(old) is not None, seen
    (True, [('value', 'read'), ('value', 'write')])
    """
    global _access_hook
    previous, _access_hook = _access_hook, hook
    return previous


def _window(delay: float) -> None:
    _sleep(delay)


class _AccessLog:
    """Reads and writes of racy attributes during one :func:`stress` trial: the facts a
    failure report draws (``entries`` is None while nobody records).  A passing trial pays
    only for an append per access; names and texts are made when a trial fails."""

    LIMIT = 5000
    _IMMUTABLE = frozenset({int, float, str, bool, type(None)})

    def __init__(self):
        self.entries: list | None = None
        self.names: dict[int, str] = {}  # thread id -> name, taken at its first access

    def add(self, name: str, kind: str, value) -> None:
        entries = self.entries
        if entries is not None and len(entries) < self.LIMIT:
            ident = _thread.get_ident()
            if ident not in self.names:
                self.names[ident] = threading.current_thread().name
            if type(value) not in self._IMMUTABLE:
                value = _short_repr(value)  # as it was now, not as it will be
            entries.append((time.perf_counter(), ident, name, kind, value))

    def stop(self) -> None:
        """Stop recording and forget (a trial passed)."""
        self.entries, self.names = None, {}

    def take(self) -> list:
        """The entries as ``(time, thread name, attribute, kind, value text)``; stop recording."""
        entries, names, self.entries, self.names = self.entries or [], self.names, None, {}
        return [
            (
                t,
                names.get(ident, str(ident)),
                attr,
                kind,
                str(v if type(v) is _Text else _short_repr(v)),
            )
            for t, ident, attr, kind, v in entries
        ]


class _Text(str):
    """A value already turned into its text."""


def _short_repr(value) -> _Text:
    text = repr(value)
    return _Text(text if len(text) <= 20 else text[:17] + "...")


_LOG = _AccessLog()


def _opened(obj, name: str, kind: str, value, delay: float, window) -> None:
    _LOG.add(name, kind, value)
    hook = _access_hook
    if hook is None or not hook(obj, name, kind, value):
        window(delay)


# a racy value lives in a slot of the racy subclass (never in the instance __dict__,
# where a solution could read or write it without passing through the window)
_STORE = "_racy_store_"
_MISSING = object()


_store_lock = _thread.allocate_lock()


def _store(obj) -> dict:
    try:
        return object.__getattribute__(obj, _STORE)
    except AttributeError:
        with _store_lock:  # two first accesses at once must end with one dict
            try:
                return object.__getattribute__(obj, _STORE)
            except AttributeError:
                values: dict = {}
                object.__setattr__(obj, _STORE, values)
                return values


def _racy_property(name: str, delay: float, fallback, window):
    def getter(self):
        value = _store(self).get(name, _MISSING)
        if value is _MISSING:
            if fallback is _MISSING:
                raise AttributeError(name)
            value = fallback
        _opened(self, name, "read", value, delay, window)
        return value

    def setter(self, value):
        _opened(self, name, "write", value, delay, window)
        _store(self)[name] = value

    def deleter(self):
        _store(self).pop(name, None)

    return property(getter, setter, deleter, doc=f"racy attribute {name!r}")


def _wrapped_property(name: str, original, delay: float, window):
    """A racy view of a property (or other data descriptor) defined by the class."""

    def getter(self):
        value = original.__get__(self, type(self))
        _opened(self, name, "read", value, delay, window)
        return value

    def setter(self, value):
        _opened(self, name, "write", value, delay, window)
        if not hasattr(original, "__set__") or getattr(original, "fset", True) is None:
            raise AttributeError(f"property {name!r} of {type(self).__name__!r} has no setter")
        original.__set__(self, value)

    def deleter(self):
        original.__delete__(self)

    return property(getter, setter, deleter, doc=f"racy view of property {name!r}")


def _is_property(obj) -> bool:
    """A computed attribute (property-like), not a plain value or a slot."""
    if isinstance(obj, types.MemberDescriptorType | types.GetSetDescriptorType):
        return False
    return isinstance(obj, property) or (
        hasattr(type(obj), "__get__") and hasattr(type(obj), "__set__")
    )


def _plain_data(value) -> bool:
    """Values whose reads and writes a race is about (not locks, methods or classes)."""
    if callable(value) or isinstance(value, type):
        return False
    return not (hasattr(value, "acquire") and hasattr(value, "release"))


def _instance_access_methods(cls: type, delay: float, window, skip: frozenset):
    """``__getattribute__``/``__setattr__`` that open the window on the instance's own
    plain attributes: used when a racy attribute is a property, so the value the
    property reads and writes (``self._value``) is racy too.  They call ``cls``'s own
    ``__getattribute__``/``__setattr__``, so a class that customises them keeps working."""
    base_get, base_set = cls.__getattribute__, cls.__setattr__

    def __getattribute__(self, name):
        value = base_get(self, name)
        if name.startswith("__") or name in skip:
            return value
        try:
            own = object.__getattribute__(self, "__dict__")
        except AttributeError:
            return value
        if name in own and _plain_data(value):
            _opened(self, name, "read", value, delay, window)
        return value

    def __setattr__(self, name, value):
        if not name.startswith("__") and name not in skip and _plain_data(value):
            _opened(self, name, "write", value, delay, window)
        base_set(self, name, value)

    return __getattribute__, __setattr__


def racy(cls: type, *attrs: str, delay: float = 0.0) -> type:
    """A subclass of ``cls`` whose ``attrs`` open a race window on every read and write.

    Each read and each write of the named attributes calls ``time.sleep(delay)``
    (``0`` by default), which lets other threads run between a read and the
    following write.  Works for attributes assigned in ``__init__``, for
    class-level defaults, for ``__slots__`` and for properties (then every plain
    attribute of the instance, such as the ``_value`` behind the property, is
    racy as well).  The values are kept outside the instance ``__dict__``, so
    ``obj.__dict__`` cannot reach them without the window.  The subclass keeps
    the name of ``cls``.

    >>> class Account:
    ...     def __init__(self, balance):
    ...         self.balance = balance
    >>> acct = racy(Account, "balance")(100)
    >>> acct.balance -= 30
    >>> type(acct).__name__, acct.balance, "balance" in vars(acct)
    ('Account', 70, False)
    """
    if not attrs:
        raise TypeError("racy() needs at least one attribute name")
    window = _window
    namespace: dict = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    wraps_property = False
    for name in attrs:
        fallback = _MISSING
        for base in cls.__mro__:
            if name in base.__dict__:
                fallback = base.__dict__[name]
                break
        if _is_property(fallback):
            namespace[name] = _wrapped_property(name, fallback, delay, window)
            wraps_property = True
        else:
            if isinstance(fallback, types.MemberDescriptorType | types.GetSetDescriptorType):
                fallback = _MISSING  # a slot of cls: no default value
            namespace[name] = _racy_property(name, delay, fallback, window)
    if wraps_property:
        skip = frozenset(attrs) | {_STORE}
        namespace["__getattribute__"], namespace["__setattr__"] = _instance_access_methods(
            cls, delay, window, skip
        )
    namespace["__racy_attrs__"] = tuple(attrs)
    try:
        return type(cls.__name__, (cls,), {**namespace, "__slots__": (_STORE,)})
    except TypeError:  # e.g. a built-in base with a variable size: no slots possible
        return type(cls.__name__, (cls,), namespace)


class _Box:
    """A one-attribute object; see :func:`racy_value`."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"racy_value({_store(self).get('value')!r})"


_RacyBox = racy(_Box, "value")


def racy_value(initial=0):
    """A shared box whose ``.value`` reads and writes open a race window.

    Example::

        counter = racy_value(0)
        def work():
            for _ in range(10):
                counter.value += 1      # loses updates without a lock
    """
    return _RacyBox(initial)


@dataclass
class StressStats:
    """What :func:`stress` measured (all trials passed)."""

    name: str
    trials: int
    seconds: float
    times: list[float] = field(default_factory=list)

    @property
    def mean(self) -> float:
        """Mean seconds per trial."""
        return self.seconds / self.trials if self.trials else 0.0


@hides_frames
def stress(trial, repeat: int = 20, name: str = "trial", timeout: float | None = None):
    """Run ``trial()`` ``repeat`` times; fail on the first wrong result.

    ``trial()`` returns ``(expected, actual)`` (or ``None``/``True`` when it
    checks by itself) or raises.  The first mismatch or exception raises
    ``AssertionError("deposit race: trial 3 of 20: expected 0, got 37")``.
    With ``timeout`` the whole run happens in :func:`run_isolated` (so a
    deadlock becomes a readable failure instead of a hung test).
    Returns a :class:`StressStats`.

    Example::

        def trial():
            acct = racy(BankAccount, "balance")(0)
            run_threads(acct.deposit, 100)
            return 100, acct.balance
        stress(trial, repeat=20, name="deposit race", timeout=10)
    """
    if timeout is not None:
        from .isolated import run_isolated

        return run_isolated(stress, trial, repeat=repeat, name=name, timeout=timeout)
    times = []
    start = time.perf_counter()
    for i in range(1, repeat + 1):
        t0 = time.perf_counter()
        _LOG.entries, _LOG.names = ([] if pictures_enabled() else None), {}
        try:
            outcome = trial()
        except AssertionError as exc:
            raise _failed(f"{name}: trial {i} of {repeat}: {exc}") from None
        except Exception as exc:
            _LOG.stop()
            unwritten = _stacks.not_written_yet(exc)
            if unwritten:
                raise AssertionError(f"{name}: {unwritten}") from None
            raise AssertionError(
                f"{name}: trial {i} of {repeat}: raised {type(exc).__name__}: {exc}"
            ) from None
        times.append(time.perf_counter() - t0)
        if outcome is None or outcome is True:
            _LOG.stop()
            continue
        if outcome is False:
            raise _failed(f"{name}: trial {i} of {repeat}: the check returned False")
        expected, actual = outcome
        if expected != actual:
            raise _failed(f"{name}: trial {i} of {repeat}: expected {expected!r}, got {actual!r}")
        _LOG.stop()
    return StressStats(name, repeat, time.perf_counter() - start, times)


def _failed(message: str) -> AssertionError:
    """The AssertionError of a failed trial, carrying the racy accesses it made
    (``grading_facts``, drawn as a timeline below the message)."""
    entries = _LOG.take()
    exc = AssertionError(message)
    if entries:
        exc.grading_facts = {"kind": "race", "title": message, "accesses": entries}
    return exc
