"""What every module of :mod:`course.timeline` shares: states, the clock, span types.

This is the bottom of the package: it imports nothing from ``course``.

>>> from course.timeline.base import RUNNING, Span, clock
>>> s = Span("MainThread", RUNNING, clock(), clock())
>>> s.duration >= 0
True
"""

from __future__ import annotations

import math
import os
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
    "TIME_SCALE_ENV",
    "time_scale",
    "demo_seconds",
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


TIME_SCALE_ENV = "COURSE_DEMO_TIME_SCALE"


def time_scale() -> float:
    """The factor the demo sleeping helpers multiply their pauses by: the float in
    the environment variable ``COURSE_DEMO_TIME_SCALE`` (read at every call), 1.0
    when it is unset or empty.  Grading kernels set it below 1 so demo cells run
    faster; ``time.sleep``, timeouts and everything student code or tests time are
    never scaled.

    >>> os.environ.pop(TIME_SCALE_ENV, None) and None
    >>> time_scale()
    1.0
    >>> os.environ[TIME_SCALE_ENV] = "0.1"; time_scale()
    0.1
    >>> os.environ[TIME_SCALE_ENV] = "fast"; time_scale()
    Traceback (most recent call last):
    ValueError: COURSE_DEMO_TIME_SCALE must be a finite number >= 0, not 'fast'
    >>> del os.environ[TIME_SCALE_ENV]
    """
    raw = os.environ.get(TIME_SCALE_ENV, "").strip()
    if not raw:
        return 1.0
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{TIME_SCALE_ENV} must be a finite number >= 0, not {raw!r}")
    return value


def demo_seconds(seconds: float) -> float:
    """``seconds`` of a demo pause after :func:`time_scale`.

    >>> demo_seconds(0.5)
    0.5
    """
    return seconds * time_scale()
