"""What every module of :mod:`course.timeline` shares: states, the clock, span types.

This is the bottom of the package: it imports nothing from ``course``.

>>> from course.timeline.base import RUNNING, Span, clock
>>> s = Span("MainThread", RUNNING, clock(), clock())
>>> s.duration >= 0
True
"""

from __future__ import annotations

import time
from typing import NamedTuple

__all__ = [
    "RUNNING",
    "WAITING_LOCK",
    "HOLDING_LOCK",
    "SLEEPING",
    "QUEUE_GET",
    "QUEUE_PUT",
    "WAITING",
    "STATES",
    "Span",
    "Mark",
    "clock",
]

# The states a span can be in.  Any other string works too; these have fixed
# colours in plot() and are the ones the traced primitives record.
RUNNING = "running"
WAITING_LOCK = "waiting for lock"
HOLDING_LOCK = "holding lock"
SLEEPING = "sleeping / IO"
QUEUE_GET = "blocked on get"
QUEUE_PUT = "blocked on put"
WAITING = "waiting (event/semaphore)"
STATES = (RUNNING, WAITING_LOCK, HOLDING_LOCK, SLEEPING, QUEUE_GET, QUEUE_PUT, WAITING)

clock = time.perf_counter
"""The one clock of every span: ``time.perf_counter`` (system wide on Linux,
so child processes' spans line up with the parent's).

>>> clock() <= clock()
True
"""


class Span(NamedTuple):
    """One interval of one worker in one state; times are ``perf_counter`` seconds.

    >>> Span("MainThread", "running", 1.0, 1.5, "step").duration
    0.5
    """

    lane: str
    state: str
    start: float
    end: float
    label: str | None = None

    @property
    def duration(self) -> float:
        """``end - start`` in seconds."""
        return self.end - self.start


class Mark(NamedTuple):
    """An instant event, drawn as a marker on its lane.

    >>> Mark("MainThread", "set", 2.0).name
    'set'
    """

    lane: str
    name: str
    t: float
