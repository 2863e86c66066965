"""A thread-level instrument that measures concurrency where the work happens.

Design rationale
----------------
A test that wants to know "did the student run the work in several threads at
once?" can spy on how threads are started (``threading.Thread.start``), but
``_thread.start_new_thread``, executors and the gevent threadpool all dodge
such a spy.  A :class:`Probe` sits *inside* the work function or resource the
test hands to the student instead: every call enters ``probe.visit(key)``,
and the probe counts the visits and how many were inside at the same time.
However the student started their workers, the overlap shows at the resource.

The readings are methods of an object without an instance ``__dict__``, so a
solution cannot overwrite them by assigning an attribute (``probe.peak = 5``
raises).  Code that must not be trusted at all runs in :func:`run_isolated`
with the probe: the test reads the probe in the child and returns the
readings, the way the trial returns ``(expected, actual)``.
"""

from __future__ import annotations

import _thread
import os
import time
from contextlib import contextmanager
from typing import NamedTuple

from ._display import hides_frames


class Visit(NamedTuple):
    """One visit of a :class:`Probe`: ``end`` is None while it is still inside."""

    key: object
    start: float
    end: float | None
    thread_id: int
    pid: int


class Probe:
    """Counts the visits of a place in the code and their overlap in time.

    >>> import threading, time
    >>> probe = Probe("fetch")
    >>> def fetch(i):
    ...     with probe.visit(i):
    ...         time.sleep(0.05)
    >>> threads = [threading.Thread(target=fetch, args=(i,)) for i in range(3)]
    >>> for t in threads: t.start()
    >>> for t in threads: t.join()
    >>> probe.count(), probe.peak() >= 2, sorted(v.key for v in probe.visits())
    (3, True, [0, 1, 2])
    >>> try:
    ...     probe.peak = 99          # a reading cannot be overwritten
    ... except AttributeError as exc:
    ...     print(exc)
    'Probe' object attribute 'peak' is read-only
    """

    __slots__ = ("name", "_lock", "_inside", "_peak", "_visits")

    def __init__(self, name: str = "probe"):
        self.name = name
        self._lock = _thread.allocate_lock()
        self._inside = 0
        self._peak = 0
        self._visits: list[list] = []

    @contextmanager
    def visit(self, key=None):
        """Context manager around one unit of work; ``key`` says which (a URL, an item).

        >>> probe = Probe()
        >>> with probe.visit("a"):
        ...     probe.peak()
        1
        """
        record = [key, time.perf_counter(), None, _thread.get_ident(), os.getpid()]
        with self._lock:
            self._visits.append(record)
            self._inside += 1
            self._peak = max(self._peak, self._inside)
        try:
            yield self
        finally:
            end = time.perf_counter()
            with self._lock:
                record[2] = end
                self._inside -= 1

    def count(self) -> int:
        """Visits started so far.

        >>> Probe().count()
        0
        """
        with self._lock:
            return len(self._visits)

    def peak(self) -> int:
        """The largest number of visits that were inside at the same time.

        >>> Probe().peak()
        0
        """
        with self._lock:
            return self._peak

    def inside(self) -> int:
        """Visits inside right now.

        >>> Probe().inside()
        0
        """
        with self._lock:
            return self._inside

    def visits(self) -> list[Visit]:
        """A copy of every visit ``(key, start, end, thread_id, pid)`` in the order they began.

        >>> probe = Probe()
        >>> with probe.visit(7):
        ...     pass
        >>> [(v.key, v.end >= v.start) for v in probe.visits()]
        [(7, True)]
        """
        with self._lock:
            return [Visit(*record) for record in self._visits]

    def threads(self) -> set[int]:
        """The ids of the threads that made a visit.

        >>> probe = Probe()
        >>> with probe.visit():
        ...     pass
        >>> len(probe.threads())
        1
        """
        return {v.thread_id for v in self.visits()}

    @hides_frames
    def assert_at_most(self, limit: int, what: str | None = None) -> int:
        """Check that at most ``limit`` visits were ever inside at once; return the peak.
        A failure carries the visits (``grading_facts``), drawn below the message as the
        number inside over time with the moment it exceeded ``limit`` marked.

        >>> probe = Probe("demo")
        >>> with probe.visit(1), probe.visit(2):
        ...     pass
        >>> probe.assert_at_most(2)
        2
        >>> probe.assert_at_most(1, "nested")
        Traceback (most recent call last):
        AssertionError: nested: expected at most 1 demo calls at once, got 2 at the same time
        """
        peak = self.peak()
        if peak > limit:
            error = AssertionError(
                f"{what + ': ' if what else ''}expected at most {limit} {self.name} calls at "
                f"once, got {peak} at the same time"
            )
            end = time.perf_counter()
            error.grading_facts = {
                "kind": "limit",
                "title": str(error),
                "limit": limit,
                "intervals": [
                    (v.start, v.end if v.end is not None else end) for v in self.visits()
                ],
            }
            raise error
        return peak

    def __repr__(self) -> str:
        return f"<Probe {self.name!r}: {self.count()} visits, peak {self.peak()}>"

    def __reduce__(self):
        # a probe returned from run_isolated arrives as a copy of its readings
        with self._lock:
            state = (self._inside, self._peak, [list(r) for r in self._visits])
        return (_restored, (self.name, *state))


def _restored(name: str, inside: int, peak: int, visits: list) -> Probe:
    probe = Probe(name)
    probe._inside, probe._peak, probe._visits = inside, peak, visits
    return probe
