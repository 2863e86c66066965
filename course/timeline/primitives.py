"""Traced drop-in replacements for threading and queue primitives.

Each one wraps (or subclasses) the real primitive and records into a
:class:`course.timeline.Timeline`.  One mechanism throughout: *try the
operation without blocking first*; only if that fails, time the blocking call
and record it as a waiting span.  So an uncontended acquire or get records no
wait at all, and the real primitive does all the synchronisation.

Create them through the timeline (``tl.Lock("name")``, ``tl.Queue(...)``).
"""

from __future__ import annotations

import queue
import threading

from .base import HOLDING_LOCK, QUEUE_GET, QUEUE_PUT, WAITING, WAITING_LOCK, clock
from .lanes import current_lane


def _timeout_args(blocking: bool, timeout: float):
    return (blocking, timeout) if blocking else (False,)


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
    """

    _factory = staticmethod(threading.Lock)

    def __init__(self, timeline, name: str = "lock"):
        self._tl = timeline
        self.name = name
        self._lock = self._factory()
        self._holder = None  # (lane, start) of the current holder
        self.acquisitions = 0  # statistics
        self.contended = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire like ``threading.Lock.acquire``; a blocked wait becomes a span."""
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

    def release(self):
        """Release; records the HOLDING_LOCK span of the holder."""
        holder = self._holder
        if holder is not None and self._lock.locked():
            # End the hold before really releasing, so holds never overlap.
            self._holder = None
            self._tl.record(holder[0], HOLDING_LOCK, holder[1], clock(), self.name)
        self._lock.release()

    def locked(self) -> bool:
        """True if the lock is held."""
        return self._lock.locked()

    __enter__ = acquire

    def __exit__(self, *exc_info):
        self.release()

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

    def __repr__(self):
        state = "locked" if self.locked() else "unlocked"
        return f"<{type(self).__name__} {self.name!r} {state}>"


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
    """

    _factory = staticmethod(threading.RLock)

    def __init__(self, timeline, name: str = "rlock"):
        super().__init__(timeline, name)
        self._owner = None
        self._count = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Acquire; re-entering by the owning thread is free and unrecorded."""
        if self._owner == threading.get_ident():
            self._lock.acquire()
            self._count += 1
            return True
        got = super().acquire(blocking, timeout)
        if got:
            self._owner = threading.get_ident()
            self._count = 1
        return got

    __enter__ = acquire

    def release(self):
        """Release once; the hold span is recorded by the outermost release."""
        if self._owner != threading.get_ident():
            raise RuntimeError("cannot release un-acquired lock")
        self._count -= 1
        if self._count:
            self._lock.release()
            return
        self._owner = None
        holder, self._holder = self._holder, None
        if holder is not None:
            self._tl.record(holder[0], HOLDING_LOCK, holder[1], clock(), self.name)
        self._lock.release()

    def locked(self) -> bool:
        """True if some thread holds the lock."""
        return self._owner is not None

    # Hooks used by threading.Condition(rlock): wait() must release every level.
    def _is_owned(self):
        return self._owner == threading.get_ident()

    def _release_save(self):
        count, self._count, self._owner = self._count, 0, None
        holder, self._holder = self._holder, None
        if holder is not None:
            self._tl.record(holder[0], HOLDING_LOCK, holder[1], clock(), self.name)
        return (count, self._lock._release_save())

    def _acquire_restore(self, state):
        count, inner = state
        self._lock._acquire_restore(inner)
        self._owner, self._count = threading.get_ident(), count
        self._holder = (current_lane(), clock())


class TracedSemaphore:
    """A ``threading.Semaphore`` (or BoundedSemaphore): WAITING spans while
    blocked, a ``name.release()`` mark per release.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); s = tl.Semaphore(1, "slot")
    >>> s.acquire(); s.acquire(timeout=0.01)
    True
    False
    >>> tl.spans[0].state
    'waiting (event/semaphore)'
    """

    def __init__(self, timeline, value: int = 1, name: str = "semaphore", bounded=False):
        self._tl = timeline
        self.name = name
        factory = threading.BoundedSemaphore if bounded else threading.Semaphore
        self._sem = factory(value)

    def acquire(self, blocking: bool = True, timeout: float | None = None) -> bool:
        """Acquire one slot like ``threading.Semaphore.acquire``."""
        if self._sem.acquire(False):
            return True
        if not blocking:
            return False
        lane, start = current_lane(), clock()
        got = self._sem.acquire(True, timeout)
        self._tl.record(lane, WAITING, start, clock(), self.name)
        return got

    __enter__ = acquire

    def release(self, n: int = 1):
        """Release ``n`` slots and record a mark."""
        self._sem.release(n)
        self._tl.mark(f"{self.name}.release()")

    def __exit__(self, *exc_info):
        self.release()

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} value={self._sem._value}>"


class TracedEvent:
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
        self._tl = timeline
        self.name = name
        self._event = threading.Event()

    def is_set(self) -> bool:
        """True once ``set()`` was called (and not cleared)."""
        return self._event.is_set()

    def set(self):
        """Set the flag, wake all waiters, record a mark."""
        self._tl.mark(f"{self.name}.set()")
        self._event.set()

    def clear(self):
        """Reset the flag and record a mark."""
        self._event.clear()
        self._tl.mark(f"{self.name}.clear()")

    def wait(self, timeout: float | None = None) -> bool:
        """Block until set (or timeout); returns the flag like ``Event.wait``."""
        if self._event.is_set():
            return True
        lane, start = current_lane(), clock()
        flag = self._event.wait(timeout)
        self._tl.record(lane, WAITING, start, clock(), self.name)
        return flag

    def __repr__(self):
        return f"<{type(self).__name__} {self.name!r} {'set' if self.is_set() else 'unset'}>"


class _TracedQueueMixin:
    """Adds span recording to a ``queue.Queue`` class through its public
    ``put``/``get`` (blocked time) and private ``_put``/``_get`` hooks (size
    counter, sampled under the queue's own mutex so samples are in order)."""

    def __init__(self, timeline, maxsize: int = 0, name: str = "queue"):
        self._tl = timeline
        self.name = name
        super().__init__(maxsize)
        timeline.count(name, 0)

    def put(self, item, block: bool = True, timeout: float | None = None):
        """Put like ``queue.Queue.put``; time blocked on a full queue is a QUEUE_PUT span."""
        try:
            return super().put(item, block=False)
        except queue.Full:
            if not block:
                raise
        lane, start = current_lane(), clock()
        try:
            super().put(item, True, timeout)
        finally:
            self._tl.record(lane, QUEUE_PUT, start, clock(), self.name)

    def get(self, block: bool = True, timeout: float | None = None):
        """Get like ``queue.Queue.get``; time blocked on an empty queue is a QUEUE_GET span."""
        try:
            return super().get(block=False)
        except queue.Empty:
            if not block:
                raise
        lane, start = current_lane(), clock()
        try:
            return super().get(True, timeout)
        finally:
            self._tl.record(lane, QUEUE_GET, start, clock(), self.name)

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
