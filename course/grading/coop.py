"""Cooperative stand-ins for threading's primitives, used by the interleaving explorer.

While the explorer's ``setup()`` runs, ``threading.Lock``, ``RLock``, ``Condition``,
``Semaphore``, ``BoundedSemaphore`` and ``Event`` make these instead (:func:`call_setup`,
only for objects created by the exploring thread, never for a ``Thread``'s own).  They behave
like the real ones, but a thread that would block hands the baton to the scheduler instead
(``me.sched.block(...)``), so the explorer decides who runs next, sees every thread that is
blocked and can report a deadlock or a missed notify with who holds what.

The controlled thread running now is kept in a thread-local (:func:`current`); the
explorer sets it with :func:`set_current`.  This module never imports the explorer.

>>> lock = CoopLock()
>>> with lock:                 # outside a controlled thread: a plain, non-blocking lock
...     lock.locked()
True
>>> lock.locked()
False
"""

from __future__ import annotations

import sys
import threading

_tls = threading.local()


def current():
    """The controlled thread (the explorer's ``_Controlled``) running here, or None.

    >>> current() is None
    True
    """
    return getattr(_tls, "thread", None)


def set_current(thread) -> None:
    """Mark the calling thread as the explorer's controlled ``thread`` (None: no longer).

    >>> set_current(None)
    """
    _tls.thread = thread


class _CoopBase:
    label = "?"

    @staticmethod
    def _me():
        me = current()
        return me if me is not None and not me.sched.aborted else None


class CoopLock(_CoopBase):
    """Scheduler-aware replacement for ``threading.Lock`` (see :func:`explore`)."""

    _reentrant = False

    def __init__(self):
        self._owner = None
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        me = self._me()
        who = me if me is not None else "outside"
        if self._owner is None or (self._reentrant and self._owner is who):
            self._owner = who
            self._count += 1
            return True
        if not blocking:
            return False
        if me is None:
            raise RuntimeError(f"{self.label} is held by {self._owner_name()}: it would block")
        ok = me.sched.block(
            me,
            lambda: self._owner is None,
            f"waits to acquire {self.label} (held by {self._owner_name()})",
            timeout if timeout is not None and timeout >= 0 else None,
        )
        if not ok:
            return False
        self._owner = me
        self._count = 1
        return True

    def _owner_name(self) -> str:
        return getattr(self._owner, "name", str(self._owner))

    def release(self) -> None:
        if self._owner is None:
            raise RuntimeError("release unlocked lock")
        if self._reentrant:
            self._count -= 1
            if self._count:
                return
        self._owner = None
        self._count = 0

    def locked(self) -> bool:
        return self._owner is not None

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()

    # threading.Condition protocol
    def _is_owned(self) -> bool:
        me = self._me()
        return self._owner is (me if me is not None else "outside")

    def _release_save(self):
        state = (self._count, self._owner)
        self._owner = None
        self._count = 0
        return state

    def _acquire_restore(self, state) -> None:
        self.acquire()
        self._count = state[0]

    def __repr__(self) -> str:
        return f"<cooperative {type(self).__name__} {self.label}>"


class CoopRLock(CoopLock):
    """Scheduler-aware replacement for ``threading.RLock``."""

    _reentrant = True


class CoopCondition(_CoopBase):
    """Scheduler-aware replacement for ``threading.Condition``."""

    def __init__(self, lock=None):
        self._lock = lock if lock is not None else CoopRLock()
        self._waiters: list[list[bool]] = []
        self.acquire = self._lock.acquire
        self.release = self._lock.release

    def __enter__(self):
        return self._lock.__enter__()

    def __exit__(self, *exc):
        return self._lock.__exit__(*exc)

    def wait(self, timeout: float | None = None) -> bool:
        me = self._me()
        if not self._lock._is_owned():
            raise RuntimeError("cannot wait on un-acquired lock")
        if me is None:
            raise RuntimeError(f"{self.label}.wait() outside a controlled thread would block")
        flag = [False]
        self._waiters.append(flag)
        saved = self._lock._release_save()
        try:
            ok = me.sched.block(
                me,
                lambda: flag[0],
                f"waits on {self.label} (nobody notifies it)",
                timeout,
                notify=True,
            )
        finally:
            if flag in self._waiters:
                self._waiters.remove(flag)
            self._lock._acquire_restore(saved)
        return ok

    def wait_for(self, predicate, timeout: float | None = None):
        result = predicate()
        while not result:
            if not self.wait(timeout) and timeout is not None:
                return predicate()
            result = predicate()
        return result

    def notify(self, n: int = 1) -> None:
        for flag in self._waiters[:n]:
            flag[0] = True
        del self._waiters[:n]

    def notify_all(self) -> None:
        self.notify(len(self._waiters))

    notifyAll = notify_all  # noqa: N815 - threading's old alias


class CoopSemaphore(_CoopBase):
    """Scheduler-aware replacement for ``threading.Semaphore``."""

    def __init__(self, value: int = 1):
        if value < 0:
            raise ValueError("semaphore initial value must be >= 0")
        self._value = value
        self._initial = value

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        if self._value == 0:
            if not blocking:
                return False
            me = self._me()
            if me is None:
                raise RuntimeError(f"{self.label} has no free slot: it would block")
            if not me.sched.block(me, lambda: self._value > 0, f"waits on {self.label}", timeout):
                return False
        self._value -= 1
        return True

    __enter__ = acquire

    def release(self, n: int = 1) -> None:
        self._value += n

    def __exit__(self, *exc) -> None:
        self.release()


class CoopBoundedSemaphore(CoopSemaphore):
    """Scheduler-aware replacement for ``threading.BoundedSemaphore``."""

    def release(self, n: int = 1) -> None:
        if self._value + n > self._initial:
            raise ValueError("Semaphore released too many times")
        self._value += n


class CoopEvent(_CoopBase):
    """Scheduler-aware replacement for ``threading.Event``."""

    def __init__(self):
        self._flag = False

    def is_set(self) -> bool:
        return self._flag

    def set(self) -> None:
        self._flag = True

    def clear(self) -> None:
        self._flag = False

    def wait(self, timeout: float | None = None) -> bool:
        if self._flag:
            return True
        me = self._me()
        if me is None:
            raise RuntimeError(f"{self.label}.wait() outside a controlled thread would block")
        me.sched.block(
            me, lambda: self._flag, f"waits for {self.label} to be set", timeout, notify=True
        )
        return self._flag


_PATCHES = {
    "Lock": CoopLock,
    "RLock": CoopRLock,
    "Condition": CoopCondition,
    "Semaphore": CoopSemaphore,
    "BoundedSemaphore": CoopBoundedSemaphore,
    "Event": CoopEvent,
}


def _from_thread_internals(frame) -> bool:
    """Primitives that Thread/Timer objects make for themselves stay real."""
    while frame is not None and frame.f_code.co_filename in (threading.__file__, __file__):
        qual = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        if frame.f_code.co_filename == threading.__file__ and qual.startswith(
            ("Thread.", "Timer.", "_MainThread.", "_DummyThread.")
        ):
            return True
        frame = frame.f_back
    return False


def call_setup(setup):
    """Call ``setup()`` with threading's primitives made cooperative for this thread only;
    returns ``(state, primitives made)``.

    >>> state, made = call_setup(lambda: {"lock": threading.Lock()})
    >>> type(state["lock"]).__name__, made[0].label
    ('CoopLock', 'lock')
    """
    me = threading.get_ident()
    saved = {name: getattr(threading, name) for name in _PATCHES}
    made: list = []

    def factory(name):
        real, coop = saved[name], _PATCHES[name]

        def make(*args, **kwargs):
            if threading.get_ident() != me or _from_thread_internals(sys._getframe(1)):
                return real(*args, **kwargs)
            obj = coop(*args, **kwargs)
            made.append(obj)
            return obj

        return make

    for name in _PATCHES:
        setattr(threading, name, factory(name))
    try:
        state = setup()
    finally:
        for name, real in saved.items():
            setattr(threading, name, real)
    name_primitives(state, made)
    return state, made


def name_primitives(state, made) -> None:
    """Give cooperative primitives readable labels from where they sit in ``state``.

    >>> lock = CoopLock()
    >>> name_primitives({"acct": {"lock": lock}}, [lock]); lock.label
    "acct['lock']"
    """
    wanted = {id(p) for p in made}
    seen: set[int] = set()

    def walk(obj, path, depth):
        if id(obj) in seen or depth > 4:
            return
        seen.add(id(obj))
        if id(obj) in wanted and obj.label == "?":
            obj.label = path
            if isinstance(obj, CoopCondition) and obj._lock.label == "?":
                obj._lock.label = f"{path} (its lock)"
            return
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, str(k) if path == "state" else f"{path}[{k!r}]", depth + 1)
        elif isinstance(obj, list | tuple):
            for i, v in enumerate(obj):
                walk(v, f"{path}[{i}]", depth + 1)
        elif hasattr(obj, "__dict__") and not isinstance(obj, type):
            for k, v in vars(obj).items():
                if k.startswith("_racy_"):
                    continue
                walk(v, k if path == "state" else f"{path}.{k}", depth + 1)

    walk(state, "state", 0)
    for i, p in enumerate(made):
        if p.label == "?":
            p.label = f"{type(p).__name__.removeprefix('Coop').lower()} #{i + 1}"
