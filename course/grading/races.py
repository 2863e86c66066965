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

import time
from dataclasses import dataclass, field

# set by the explorer: hook(obj, attr, "read"|"write", value) -> True when the
# explorer scheduled the access itself (then no sleep is needed); None = no hook
_access_hook = None


def _window(delay: float) -> None:
    time.sleep(delay)


def _racy_property(name: str, delay: float, fallback):
    key = f"_racy_{name}"
    missing = object()

    def getter(self):
        value = self.__dict__.get(key, missing)
        if value is missing:
            if fallback is missing:
                raise AttributeError(name)
            value = fallback
        hook = _access_hook
        if hook is None or not hook(self, name, "read", value):
            _window(delay)
        return value

    def setter(self, value):
        hook = _access_hook
        if hook is None or not hook(self, name, "write", value):
            _window(delay)
        self.__dict__[key] = value

    def deleter(self):
        self.__dict__.pop(key, None)

    return property(getter, setter, deleter, doc=f"racy attribute {name!r}")


def racy(cls: type, *attrs: str, delay: float = 0.0) -> type:
    """A subclass of ``cls`` whose ``attrs`` open a race window on every read and write.

    Each read and each write of the named attributes calls ``time.sleep(delay)``
    (``0`` by default), which lets other threads run between a read and the
    following write.  Works for attributes assigned in ``__init__`` and for
    class-level defaults.  The subclass keeps the name of ``cls``.

    Example::

        Account = racy(BankAccount, "balance")
        acct = Account(100)
        threads = [threading.Thread(target=acct.withdraw, args=(1,)) for _ in range(100)]
        ...  # without a lock the final balance is wrong on every run
    """
    if not attrs:
        raise TypeError("racy() needs at least one attribute name")
    missing = object()
    namespace: dict = {"__module__": cls.__module__, "__qualname__": cls.__qualname__}
    for name in attrs:
        fallback = cls.__dict__.get(name, missing)
        for base in cls.__mro__:
            if name in base.__dict__:
                fallback = base.__dict__[name]
                break
        namespace[name] = _racy_property(name, delay, fallback)
    namespace["__racy_attrs__"] = tuple(attrs)
    return type(cls.__name__, (cls,), namespace)


class _Box:
    """A one-attribute object; see :func:`racy_value`."""

    def __init__(self, value):
        self.value = value

    def __repr__(self) -> str:
        return f"racy_value({self.__dict__.get('_racy_value')!r})"


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
        try:
            outcome = trial()
        except AssertionError as exc:
            raise AssertionError(f"{name}: trial {i} of {repeat}: {exc}") from None
        except Exception as exc:
            raise AssertionError(
                f"{name}: trial {i} of {repeat}: raised {type(exc).__name__}: {exc}"
            ) from None
        times.append(time.perf_counter() - t0)
        if outcome is None or outcome is True:
            continue
        if outcome is False:
            raise AssertionError(f"{name}: trial {i} of {repeat}: the check returned False")
        expected, actual = outcome
        if expected != actual:
            raise AssertionError(
                f"{name}: trial {i} of {repeat}: expected {expected!r}, got {actual!r}"
            )
    return StressStats(name, repeat, time.perf_counter() - start, times)
