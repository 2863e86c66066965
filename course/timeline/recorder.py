"""The recorder: :class:`Timeline` collects spans, marks and counters.

The hot path is a plain ``list.append`` of a tuple.  Appending is atomic under
the GIL, so threads record without a lock, and a span costs about as much as
two clock reads.  ``Span`` namedtuples are only built when somebody reads
``tl.spans`` (and cached until the next change).  Everything that is not
recording lives in the helper modules this one imports (traced primitives,
process transport, greenlet tracing, drawing, export); none of them imports
this module back.

>>> from course.timeline.recorder import Timeline
>>> tl = Timeline()
>>> with tl.span("running", label="step"):
...     pass
>>> tl.spans[0].label
'step'
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import time

from . import chrome, draw, greenlets, primitives, processes
from .base import RUNNING, SLEEPING, Mark, Span, clock, demo_seconds
from .lanes import current_lane

__all__ = ["Timeline"]


class _SpanContext:
    """What ``Timeline.span()`` returns: times the ``with`` body."""

    __slots__ = ("_append", "lane", "state", "label", "start")

    def __init__(self, append, lane, state, label):
        self._append = append
        self.lane = lane
        self.state = state
        self.label = label

    def __enter__(self):
        if self.lane is None:
            self.lane = current_lane()
        self.start = clock()
        return self

    def __exit__(self, *exc_info):
        self._append((self.lane, self.state, self.start, clock(), self.label))
        return False

    async def __aenter__(self):
        return self.__enter__()

    async def __aexit__(self, *exc_info):
        return self.__exit__(*exc_info)


class Timeline:
    """Collects spans, marks and counters from any kind of worker.

    >>> tl = Timeline()
    >>> tl.record("worker-1", RUNNING, 0.0, 0.5, label="a")
    >>> tl.mark("go", lane="worker-1")
    >>> tl.lanes()
    ['worker-1']
    >>> fig = tl.plot(title="one span")   # a matplotlib Figure
    """

    def __init__(self):
        self._raw: list[tuple] = []  # (lane, state, start, end, label), append-only
        self._raw_marks: list[tuple] = []  # (lane, name, t)
        self.counters: list[tuple] = []  # (name, t, value)
        self._cache: tuple[int, list[Span]] = (-1, [])
        self._collectors: dict = {}  # start method -> processes.Collector

    # -- recording ----------------------------------------------------------

    def span(self, state: str = RUNNING, label: str | None = None, lane: str | None = None):
        """Context manager: the ``with`` body becomes one span (lane defaults to
        :func:`current_lane` at entry).  Also usable with ``async with``.

        >>> tl = Timeline()
        >>> with tl.span(SLEEPING, label="nap"):
        ...     time.sleep(0.01)
        >>> tl.spans[0].duration >= 0.01
        True
        """
        return _SpanContext(self._raw.append, lane, state, label)

    def record(self, lane: str, state: str, start: float, end: float, label: str | None = None):
        """Add a finished span directly (times in ``perf_counter`` seconds).

        >>> tl = Timeline()
        >>> tl.record("w", RUNNING, 1.0, 2.0)
        >>> tl.spans
        [Span(lane='w', state='running', start=1.0, end=2.0, label=None)]
        >>> tl.record("w", RUNNING, 2.0, 1.0)
        Traceback (most recent call last):
        ValueError: span ends before it starts: start=2.0, end=1.0
        """
        if end < start:
            raise ValueError(f"span ends before it starts: start={start!r}, end={end!r}")
        self._raw.append((lane, state, start, end, label))

    def extend(self, spans, marks=()):
        """Add many finished spans ``(lane, state, start, end, label)`` and marks
        ``(lane, name, t)`` at once (how spans from child processes arrive).

        >>> tl = Timeline()
        >>> tl.extend([("w", RUNNING, 1.0, 2.0, None)], [("w", "go", 1.5)])
        >>> len(tl.spans), tl.marks[0].name
        (1, 'go')
        """
        self._raw.extend(spans)
        self._raw_marks.extend(marks)

    def mark(self, name: str, lane: str | None = None, t: float | None = None):
        """Record an instant event (a marker on the plot) on ``lane``, now.

        >>> tl = Timeline()
        >>> tl.mark("set")
        >>> tl.marks[0].name, tl.marks[0].lane
        ('set', 'MainThread')
        """
        self._raw_marks.append((lane or current_lane(), name, clock() if t is None else t))

    def count(self, name: str, value: float, t: float | None = None):
        """Record one sample of a counter (queues record their size this way).

        >>> tl = Timeline()
        >>> tl.count("q", 3)
        >>> tl.counters[0][0], tl.counters[0][2]
        ('q', 3)
        """
        self.counters.append((name, clock() if t is None else t, value))

    def traced(self, state: str = RUNNING, label: str | None = None):
        """Decorator: each call of the function becomes one span (label defaults
        to the function's name).

        >>> tl = Timeline()
        >>> @tl.traced()
        ... def work(n):
        ...     return sum(range(n))
        >>> work(10)
        45
        >>> tl.spans[0].label
        'work'
        """

        def decorate(func):
            name = label or func.__name__

            if inspect.iscoroutinefunction(func):

                @functools.wraps(func)
                async def async_wrapper(*args, **kwargs):
                    with self.span(state, name):
                        return await func(*args, **kwargs)

                return async_wrapper

            @functools.wraps(func)
            def wrapper(*args, **kwargs):
                with self.span(state, name):
                    return func(*args, **kwargs)

            return wrapper

        return decorate

    def sleep(self, seconds: float, label: str | None = None):
        """``time.sleep(seconds)`` recorded as a SLEEPING span: a demo pause, so
        scaled by ``COURSE_DEMO_TIME_SCALE`` (see :func:`course.timeline.time_scale`).

        >>> tl = Timeline()
        >>> tl.sleep(0.01, label="io")
        >>> tl.spans[0].state
        'sleeping / IO'
        """
        with self.span(SLEEPING, label):
            time.sleep(demo_seconds(seconds))

    def async_span(self, state: str = RUNNING, label: str | None = None, lane: str | None = None):
        """``async with tl.async_span(SLEEPING): await ...``; lane = the task name.

        >>> import asyncio
        >>> tl = Timeline()
        >>> async def fetch():
        ...     async with tl.async_span(SLEEPING, "fetch"):
        ...         await asyncio.sleep(0.01)
        >>> async def main():
        ...     await asyncio.gather(asyncio.create_task(fetch(), name="fetch-1"))
        >>> asyncio.run(main())
        >>> tl.lanes()
        ['fetch-1']
        """
        return _SpanContext(self._raw.append, lane, state, label)

    async def async_sleep(self, seconds: float, label: str | None = None):
        """``await asyncio.sleep(seconds)`` recorded as a SLEEPING span (a demo
        pause: scaled like :meth:`sleep`).

        >>> import asyncio
        >>> tl = Timeline()
        >>> asyncio.run(tl.async_sleep(0.01))
        >>> tl.spans[0].state
        'sleeping / IO'
        """
        with self.span(SLEEPING, label):
            await asyncio.sleep(demo_seconds(seconds))

    # -- reading --------------------------------------------------------------

    @property
    def spans(self) -> list[Span]:
        """All spans as :class:`Span` tuples, ordered by start time.

        >>> tl = Timeline()
        >>> tl.record("b", RUNNING, 2.0, 3.0); tl.record("a", RUNNING, 1.0, 2.0)
        >>> [s.lane for s in tl.spans]
        ['a', 'b']
        """
        self._collect_quietly()
        count, cached = self._cache
        if count != len(self._raw):
            raw = self._raw[:]
            cached = sorted(map(Span._make, raw), key=lambda s: (s.start, -s.end))
            self._cache = (len(raw), cached)
        return list(cached)

    @property
    def marks(self) -> list[Mark]:
        """All marks as :class:`Mark` tuples, ordered by time.

        >>> tl = Timeline(); tl.mark("b", t=2.0); tl.mark("a", t=1.0)
        >>> [m.name for m in tl.marks]
        ['a', 'b']
        """
        return sorted(map(Mark._make, self._raw_marks[:]), key=lambda m: m.t)

    def lanes(self) -> list[str]:
        """Lane names in order of their first span (then lanes that only have marks).

        >>> tl = Timeline()
        >>> tl.record("late", RUNNING, 2.0, 3.0); tl.record("early", RUNNING, 1.0, 2.0)
        >>> tl.lanes()
        ['early', 'late']
        """
        seen = dict.fromkeys(s.lane for s in self.spans)
        seen.update(dict.fromkeys(m.lane for m in self.marks if m.lane not in seen))
        return list(seen)

    def clear(self):
        """Forget all spans, marks and counters (process recorders stay usable).

        >>> tl = Timeline(); tl.record("w", RUNNING, 0, 1); tl.clear(); tl.spans
        []
        """
        self._collect_quietly()
        self._raw.clear()
        self._raw_marks.clear()
        self.counters.clear()
        self._cache = (-1, [])

    def statistics(self) -> dict:
        """Seconds spent per lane and state: ``{lane: {state: seconds}}``.

        >>> tl = Timeline(); tl.record("w", RUNNING, 0.0, 0.25); tl.record("w", RUNNING, 1, 1.25)
        >>> tl.statistics()
        {'w': {'running': 0.5}}
        """
        totals: dict = {}
        for span in self.spans:
            lane = totals.setdefault(span.lane, {})
            lane[span.state] = lane.get(span.state, 0.0) + span.duration
        return totals

    # -- traced primitives (see primitives.py) ------------------

    def Lock(self, name: str = "lock"):
        """A ``threading.Lock`` that records WAITING_LOCK and HOLDING_LOCK spans.

        >>> tl = Timeline(); lock = tl.Lock("counter")
        >>> with lock:
        ...     pass
        >>> [s.state for s in tl.spans]
        ['holding lock']
        """
        return primitives.TracedLock(self, name)

    def RLock(self, name: str = "rlock"):
        """A ``threading.RLock`` that records waits and one hold per outermost acquire.

        >>> tl = Timeline(); rlock = tl.RLock()
        >>> with rlock:
        ...     with rlock:
        ...         pass
        >>> [s.state for s in tl.spans]
        ['holding lock']
        """
        return primitives.TracedRLock(self, name)

    def Semaphore(self, value: int = 1, name: str = "semaphore"):
        """A ``threading.Semaphore``: WAITING spans while blocked, a mark per release.

        >>> tl = Timeline(); slots = tl.Semaphore(2, "slots")
        >>> with slots:
        ...     pass
        >>> tl.marks[0].name
        'slots.release()'
        """
        return primitives.TracedSemaphore(self, value, name)

    def BoundedSemaphore(self, value: int = 1, name: str = "semaphore"):
        """A ``threading.BoundedSemaphore`` traced like :meth:`Semaphore`.

        >>> tl = Timeline(); slots = tl.BoundedSemaphore(1)
        >>> slots.acquire(); slots.release()
        True
        >>> slots.release()
        Traceback (most recent call last):
        ValueError: Semaphore released too many times
        """
        return primitives.TracedBoundedSemaphore(self, value, name)

    def Event(self, name: str = "event"):
        """A ``threading.Event``: ``wait()`` records a WAITING span, ``set()``/``clear()`` marks.

        >>> tl = Timeline(); ev = tl.Event("go")
        >>> ev.set(); ev.wait()
        True
        >>> [m.name for m in tl.marks]
        ['go.set()']
        """
        return primitives.TracedEvent(self, name)

    def Queue(self, maxsize: int = 0, name: str = "queue"):
        """A ``queue.Queue`` recording blocked put/get spans and its size as a counter.

        >>> tl = Timeline(); q = tl.Queue(name="jobs")
        >>> q.put(1); q.get()
        1
        >>> [value for _, _, value in tl.counters]  # sampled at creation, put, get
        [0, 1, 0]
        """
        return primitives.TracedQueue(self, maxsize, name)

    def LifoQueue(self, maxsize: int = 0, name: str = "lifo"):
        """A traced ``queue.LifoQueue`` (see :meth:`Queue`).

        >>> tl = Timeline(); q = tl.LifoQueue(); q.put(1); q.put(2); q.get()
        2
        """
        return primitives.TracedLifoQueue(self, maxsize, name)

    def PriorityQueue(self, maxsize: int = 0, name: str = "priority"):
        """A traced ``queue.PriorityQueue`` (see :meth:`Queue`).

        >>> tl = Timeline(); q = tl.PriorityQueue(); q.put((2, "b")); q.put((1, "a")); q.get()
        (1, 'a')
        """
        return primitives.TracedPriorityQueue(self, maxsize, name)

    # -- processes (see processes.py) ----------------------------

    def process_recorder(self, ctx=None, batch_size: int = 256):
        """A picklable recorder for child processes; its spans come back to this
        timeline.  Pass it to ``Process(args=...)`` (any start method); for a
        Pool use ``initializer=course.workers.install_recorder, initargs=(rec,)``
        (a multiprocessing queue cannot travel as a ``Pool.map`` argument).
        In the child: ``with rec.span(...)``, ``rec.sleep()``, ``rec.flush()``.

        >>> import multiprocessing
        >>> from course.workers import sleepy_work
        >>> tl = Timeline()
        >>> ctx = multiprocessing.get_context("spawn")
        >>> rec = tl.process_recorder(ctx=ctx)
        >>> p = ctx.Process(target=sleepy_work, args=(rec, 0.05, "nap"), name="child-1")
        >>> p.start(); p.join(); tl.collect()
        >>> tl.lanes()
        ['child-1']
        """
        import multiprocessing

        ctx = ctx or multiprocessing.get_context()
        key = ctx.get_start_method()
        collector = self._collectors.get(key)
        if collector is None or collector.closed:
            collector = self._collectors[key] = processes.Collector(self, ctx)
        return collector.recorder(batch_size)

    def collect(self, timeout: float = 5.0):
        """Take in every span that child processes have sent so far (call after
        ``join()``; ``spans`` and ``plot()`` call it too).

        >>> tl = Timeline(); tl.collect()
        """
        for collector in list(self._collectors.values()):
            collector.sync(timeout)

    def _collect_quietly(self):
        if self._collectors:
            self.collect()

    def close(self):
        """Stop the background threads of process recorders (spans are kept).

        >>> tl = Timeline(); rec = tl.process_recorder(); tl.close()
        """
        for collector in self._collectors.values():
            collector.close()
        self._collectors.clear()

    # -- greenlets ------------------------------------------------------------------

    def greenlets(self, show_hub: bool = False):
        """Context manager: while active, every greenlet switch in this thread ends
        the RUNNING span of the greenlet left and starts one for the greenlet
        entered (via ``greenlet.settrace``; the previous trace function is
        restored on exit and still called meanwhile).

        >>> import gevent
        >>> tl = Timeline()
        >>> with tl.greenlets():
        ...     done = gevent.joinall([gevent.spawn(gevent.sleep, 0.01) for _ in range(2)])
        >>> len(tl.lanes()) >= 2
        True
        """
        return greenlets.trace_greenlets(self, show_hub)

    # -- output (see draw.py and chrome.py) --------------------------------------

    def plot(
        self,
        title: str | None = None,
        labels: bool = True,
        ax=None,
        figsize=None,
        show_counters: bool | None = None,
        xlim=None,
    ):
        """Draw the timeline (one lane per worker, x = ms since the first event)
        and return the matplotlib Figure.  In Jupyter the figure is shown once.

        ``show_counters`` adds a small axis with queue sizes under the lanes
        (default: when there are counters and no ``ax`` was given).  ``xlim``
        fixes the x-axis in ms, e.g. ``(0, 100)``, so two plots compare; to draw
        several timelines on one axis use :func:`course.timeline.plot_compare`.
        Labels that do not fit in their bar are left out.

        >>> tl = Timeline(); tl.record("w", RUNNING, 0.0, 0.1, "a")
        >>> tl.plot(title="demo").axes[0].get_title()
        'demo'
        """
        self._collect_quietly()
        return draw.plot(
            self,
            title=title,
            labels=labels,
            ax=ax,
            figsize=figsize,
            counters=show_counters,
            xlim=xlim,
        )

    def to_chrome_trace(self) -> dict:
        """The timeline as Chrome trace-event JSON (open it in https://ui.perfetto.dev).

        >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5, "a")
        >>> [e["ph"] for e in tl.to_chrome_trace()["traceEvents"]]
        ['M', 'M', 'X']
        """
        return chrome.to_chrome_trace(self)

    def save_chrome_trace(self, path) -> str:
        """Write :meth:`to_chrome_trace` as JSON to ``path``; returns the path.

        >>> import tempfile, os
        >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5)
        >>> path = tl.save_chrome_trace(os.path.join(tempfile.mkdtemp(), "trace.json"))
        """
        import json

        with open(path, "w", encoding="utf-8") as f:
            json.dump(self.to_chrome_trace(), f)
        return str(path)

    @classmethod
    def from_chrome_trace(cls, trace: dict) -> Timeline:
        """Rebuild a Timeline from :meth:`to_chrome_trace` output.

        >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5, "a")
        >>> Timeline.from_chrome_trace(tl.to_chrome_trace()).spans[0].lane
        'w'
        """
        return chrome.from_chrome_trace(cls(), trace)

    def __repr__(self):
        return f"<Timeline: {len(self._raw)} spans, {len(self._raw_marks)} marks>"
