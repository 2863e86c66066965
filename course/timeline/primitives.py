"""Traced drop-in replacements for threading and queue primitives.

Each one wraps (or subclasses) the real primitive and records into a
:class:`~course.timeline.Timeline`.  One mechanism throughout: the real
primitive does all the synchronisation and all the argument checking; the
traced one only notes *when* a call had to block.

* Locks try ``acquire(False)`` first and time the blocking call only if that
  fails, so an uncontended acquire records no wait.  Their arguments are
  checked by a fresh, free ``_thread`` lock first: the checks of the real
  ``acquire`` run before it looks at the lock, so a fast-path acquire raises
  exactly what ``threading.Lock().acquire(False, 1)`` raises.
* Semaphores and events subclass the ``threading`` classes.
* Queues subclass ``queue.Queue`` and replace its two Conditions with ones that
  note the first ``wait()`` of a call: the stdlib's own ``put``/``get`` run
  unchanged, and the time from that first wait to the return is the blocked span.

The contract is CPython's own: ``tests/test_timeline_stdlib.py`` runs the
applicable classes of ``Lib/test/lock_tests.py`` and ``Lib/test/test_queue.py``
against these classes.  Create them through the timeline (``tl.Lock("name")``,
``tl.Queue(...)``).

>>> from course.timeline import Timeline
>>> tl = Timeline()
>>> lock = tl.Lock("counter")
>>> with lock:
...     pass
>>> lock.acquire(False, 1)
Traceback (most recent call last):
ValueError: can't specify a timeout for a non-blocking call
"""

from __future__ import annotations

import _thread
import queue
import threading

from .base import HOLDING_LOCK, QUEUE_GET, QUEUE_PUT, WAITING, WAITING_LOCK, clock
from .lanes import current_lane

__all__ = [
    "TracedLock",
    "TracedRLock",
    "TracedSemaphore",
    "TracedBoundedSemaphore",
    "TracedEvent",
    "TracedQueue",
    "TracedLifoQueue",
    "TracedPriorityQueue",
]


def _check_lock_args(blocking, timeout) -> None:
    # A free lock returns at once, after the same argument parsing as any lock.
    probe = _thread.allocate_lock()
    probe.acquire(blocking, timeout)


class TracedLock:
    """A ``threading.Lock`` that records WAITING_LOCK while blocked and
    HOLDING_LOCK from acquire to release.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); lock = tl.Lock("lock")
    >>> lock.acquire(); lock.locked(); lock.release()
    True
    True
    >>> tl.spans[0].state
    'holding lock'
    >>> lock.acquire(timeout=-5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: timeout value must be ...
    """

    _factory = staticmethod(_thread.allocate_lock)
    _kind = "Lock"

    def __init__(self, timeline, name: str = "lock"):
        self._tl = timeline
        self.name = name
        self._lock = self._factory()
        self._holder = None  # (lane, start) of the current holder
        self.acquisitions = 0  # statistics
        self.contended = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire like ``threading.Lock.acquire``; a blocked wait becomes a span."""
        _check_lock_args(blocking, timeout)
        lane = current_lane()
        if self._lock.acquire(False):
            self._acquired(lane, clock())
            return True
        if not blocking:
            return False
        start = clock()
        got = self._lock.acquire(True, timeout)
        now = clock()
        self._tl.record(lane, WAITING_LOCK, start, now, self.name)
        self.contended += 1
        if got:
            self._acquired(lane, now)
        return got

    def _acquired(self, lane, now):
        self._holder = (lane, now)
        self.acquisitions += 1

    def _end_hold(self):
        holder, self._holder = self._holder, None
        if holder is not None:
            self._tl.record(holder[0], HOLDING_LOCK, holder[1], clock(), self.name)

    def release(self):
        """Release (any thread may, as for ``threading.Lock``); records the hold."""
        if self._lock.locked():
            # End the hold before really releasing, so holds never overlap.
            self._end_hold()
        self._lock.release()

    def locked(self) -> bool:
        """True if the lock is held."""
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()

    def _at_fork_reinit(self):
        # threading's hook for locks after fork: unlocked, no holder.
        self._lock._at_fork_reinit()
        self._holder = None

    def statistics(self) -> dict:
        """Counts so far: acquisitions and how many of them had to wait.

        >>> from course.timeline import Timeline
        >>> lock = Timeline().Lock(); lock.acquire(); lock.release(); lock.statistics()
        True
        {'name': 'lock', 'locked': False, 'acquisitions': 1, 'contended': 0}
        """
        return {
            "name": self.name,
            "locked": self.locked(),
            "acquisitions": self.acquisitions,
            "contended": self.contended,
        }

    def _repr_details(self) -> str:
        return ""

    def __repr__(self):
        state = "locked" if self.locked() else "unlocked"
        details = self._repr_details()
        return f"<{state} timeline.{self._kind} object {self.name!r}{details} at {id(self):#x}>"


class TracedRLock(TracedLock):
    """A ``threading.RLock``: nested acquires by the owner neither wait nor add
    a span; the hold lasts from the outermost acquire to the matching release.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); r = tl.RLock()
    >>> r.acquire(); r.acquire(); r.release(); r.release()
    True
    True
    >>> len(tl.spans)
    1
    >>> r.release()
    Traceback (most recent call last):
    RuntimeError: cannot release un-acquired lock
    """

    _factory = staticmethod(_thread.RLock)
    _kind = "RLock"

    def __init__(self, timeline, name: str = "rlock"):
        super().__init__(timeline, name)
        self._owner = None
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire; re-entering by the owning thread is free and unrecorded."""
        me = threading.get_ident()
        if self._owner == me:
            got = self._lock.acquire(blocking, timeout)  # checks arguments, never waits
            self._count += 1
            return got
        got = super().acquire(blocking, timeout)
        if got:
            self._owner = me
            self._count = 1
        return got

    __enter__ = acquire

    def release(self):
        """Release once; the hold span is recorded by the outermost release."""
        if self._owner != threading.get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if not self._count:
            self._owner = None
            self._end_hold()
        self._lock.release()

    def locked(self) -> bool:
        """True if some thread holds the lock."""
        return self._owner is not None

    def _at_fork_reinit(self):
        super()._at_fork_reinit()
        self._owner, self._count = None, 0

    def _repr_details(self) -> str:
        return f" owner={self._owner or 0} count={self._count}"

    # threading.Condition(rlock) uses these: wait() must release every level.
    def _is_owned(self):
        return self._owner == threading.get_ident()

    def _recursion_count(self):
        return self._count if self._is_owned() else 0

    def _release_save(self):
        if not self._is_owned():
            raise RuntimeError("cannot release un-acquired lock")
        count, self._count, self._owner = self._count, 0, None
        self._end_hold()
        return (count, self._lock._release_save())

    def _acquire_restore(self, state):
        count, inner = state
        self._lock._acquire_restore(inner)
        self._owner, self._count = threading.get_ident(), count
        self._holder = (current_lane(), clock())


class TracedSemaphore(threading.Semaphore):
    """A ``threading.Semaphore``: WAITING spans while blocked, a
    ``name.release()`` mark per release.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); s = tl.Semaphore(1, "slot")
    >>> s.acquire(); s.acquire(timeout=0.01)
    True
    False
    >>> tl.spans[0].state
    'waiting (event/semaphore)'
    >>> s.acquire(False, timeout=1)
    Traceback (most recent call last):
    ValueError: can't specify timeout for non-blocking acquire
    """

    _kind = "Semaphore"

    def __init__(self, timeline, value: int = 1, name: str = "semaphore"):
        super().__init__(value)
        self._tl = timeline
        self.name = name

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire one slot like ``threading.Semaphore.acquire``."""
        if not blocking and timeout is not None:  # the stdlib's check, before any work
            raise ValueError("can't specify timeout for non-blocking acquire")
        if super().acquire(False):
            return True
        if not blocking:
            return False
        lane, start = current_lane(), clock()
        got = super().acquire(True, timeout)
        self._tl.record(lane, WAITING, start, clock(), self.name)
        return got

    __enter__ = acquire

    def release(self, n: int = 1):
        """Release ``n`` slots and record a mark."""
        super().release(n)
        self._tl.mark(f"{self.name}.release()")

    def _repr_value(self) -> str:
        return str(self._value)

    def __repr__(self):
        return f"<timeline.{self._kind} at {id(self):#x} {self.name!r}: value={self._repr_value()}>"


class TracedBoundedSemaphore(TracedSemaphore, threading.BoundedSemaphore):
    """A ``threading.BoundedSemaphore`` traced like :class:`TracedSemaphore`.

    >>> from course.timeline import Timeline
    >>> s = Timeline().BoundedSemaphore(1)
    >>> s.release()
    Traceback (most recent call last):
    ValueError: Semaphore released too many times
    """

    _kind = "BoundedSemaphore"

    def _repr_value(self) -> str:
        return f"{self._value}/{self._initial_value}"


class TracedEvent(threading.Event):
    """A ``threading.Event``: ``wait()`` records a WAITING span when it has to
    wait; ``set()`` and ``clear()`` record marks.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); ev = tl.Event("go")
    >>> ev.wait(timeout=0.01)
    False
    >>> tl.spans[0].label
    'go'
    """

    def __init__(self, timeline, name: str = "event"):
        super().__init__()
        self._tl = timeline
        self.name = name

    def set(self):
        """Set the flag, wake all waiters, record a mark."""
        self._tl.mark(f"{self.name}.set()")
        super().set()

    def clear(self):
        """Reset the flag and record a mark."""
        super().clear()
        self._tl.mark(f"{self.name}.clear()")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (or timeout); returns the flag like ``Event.wait``."""
        if self.is_set():
            return True
        lane, start = current_lane(), clock()
        flag = super().wait(timeout)
        self._tl.record(lane, WAITING, start, clock(), self.name)
        return flag

    def __repr__(self):
        state = "set" if self.is_set() else "unset"
        return f"<timeline.Event at {id(self):#x} {self.name!r}: {state}>"


class _NotingCondition(threading.Condition):
    """A queue's Condition that notes, per thread, when the first ``wait()`` of
    the current put/get began (the queue's ``put``/``get`` end the span)."""

    def __init__(self, lock, began: dict):
        super().__init__(lock)
        self._began = began

    def wait(self, timeout=None):
        self._began.setdefault(threading.get_ident(), (current_lane(), clock()))
        return super().wait(timeout)


class _TracedQueueMixin:
    """Adds span recording to a ``queue.Queue`` class: blocked time through the
    queue's Conditions (see the module docstring), the size as a counter through
    the ``_put``/``_get`` hooks (sampled under the queue's mutex, so in order)."""

    def __init__(self, timeline, maxsize: int = 0, name: str = "queue"):
        self._tl = timeline
        self.name = name
        super().__init__(maxsize)
        self._began: dict = {}  # thread id -> (lane, start) of its first wait
        self.not_empty = _NotingCondition(self.mutex, self._began)
        self.not_full = _NotingCondition(self.mutex, self._began)
        timeline.count(name, 0)

    def _end_wait(self, state):
        began = self._began.pop(threading.get_ident(), None)
        if began is not None:
            self._tl.record(began[0], state, began[1], clock(), self.name)

    def put(self, item, block: bool = True, timeout: float | None = None):
        """``queue.Queue.put``; time blocked on a full queue is a QUEUE_PUT span."""
        try:
            super().put(item, block, timeout)
        finally:
            self._end_wait(QUEUE_PUT)

    def get(self, block: bool = True, timeout: float | None = None):
        """``queue.Queue.get``; time blocked on an empty queue is a QUEUE_GET span."""
        try:
            return super().get(block, timeout)
        finally:
            self._end_wait(QUEUE_GET)

    def _put(self, item):
        super()._put(item)
        self._tl.count(self.name, self._qsize())

    def _get(self):
        item = super()._get()
        self._tl.count(self.name, self._qsize())
        return item


class TracedQueue(_TracedQueueMixin, queue.Queue):
    """A traced FIFO ``queue.Queue`` (create it with ``tl.Queue(maxsize, name)``).

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); q = tl.Queue(1, "q"); q.put("a")
    >>> q.put("b", timeout=0.01)
    Traceback (most recent call last):
    queue.Full
    >>> tl.spans[0].state
    'blocked on put'
    >>> q.get(timeout=-1)
    Traceback (most recent call last):
    ValueError: 'timeout' must be a non-negative number
    """


class TracedLifoQueue(_TracedQueueMixin, queue.LifoQueue):
    """A traced ``queue.LifoQueue``.

    >>> from course.timeline import Timeline
    >>> q = Timeline().LifoQueue(); q.put(1); q.put(2); q.get()
    2
    """


class TracedPriorityQueue(_TracedQueueMixin, queue.PriorityQueue):
    """A traced ``queue.PriorityQueue``.

    >>> from course.timeline import Timeline
    >>> q = Timeline().PriorityQueue(); q.put(3); q.put(1); q.get()
    1
    """
