"""Greenlet switches as RUNNING spans, through ``greenlet.settrace``.

Greenlets switch cooperatively and call no Python code when they do, so the
only place to observe a switch is the trace hook: ``callback(event, (origin,
target))`` with event ``"switch"`` or ``"throw"``.  Each switch ends the
RUNNING span of ``origin`` and starts one for ``target``.  gevent's hub (the
event loop greenlet) is skipped unless ``show_hub=True``.
"""

from __future__ import annotations

import contextlib
import sys

from .base import RUNNING, clock
from .lanes import greenlet_lane


def _is_hub(glet) -> bool:
    hub_module = sys.modules.get("gevent.hub")
    return hub_module is not None and isinstance(glet, hub_module.Hub)


@contextlib.contextmanager
def trace_greenlets(timeline, show_hub: bool = False):
    """Record RUNNING spans for every greenlet of this thread while active.

    >>> import greenlet
    >>> from course.timeline import Timeline
    >>> tl = Timeline()
    >>> with trace_greenlets(tl):
    ...     greenlet.greenlet(lambda: None).switch()
    >>> len(tl.lanes())
    2
    """
    import greenlet

    record = timeline.record
    started: dict = {}  # greenlet -> (lane, start)

    def begin(glet, now):
        if show_hub or not _is_hub(glet):
            started[glet] = (greenlet_lane(glet), now)

    def end(glet, now):
        entry = started.pop(glet, None)
        if entry is not None:
            record(entry[0], RUNNING, entry[1], now)

    def tracer(event, args):
        if event in ("switch", "throw"):
            origin, target = args
            now = clock()
            end(origin, now)
            begin(target, now)
        if previous is not None:
            previous(event, args)

    previous = greenlet.gettrace()
    begin(greenlet.getcurrent(), clock())
    greenlet.settrace(tracer)
    try:
        yield timeline
    finally:
        greenlet.settrace(previous)
        now = clock()
        for glet in list(started):
            end(glet, now)
