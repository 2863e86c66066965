"""Spans from child processes: a picklable recorder and the parent's collector.

The child side (:class:`ProcessRecorder`) appends spans to a local list and
sends the list as one message when it reaches ``batch_size``, on ``flush()``,
when the recorder is used as a context manager, when it is garbage collected
and at process exit (a ``multiprocessing.util.Finalize`` hook, which runs in
children of every start method).

The parent side (:class:`Collector`) owns the multiprocessing ``SimpleQueue``
and one daemon thread that moves every message into the timeline as soon as
it arrives, so a child can never block on a full pipe.  ``sync()`` puts a
token into the same queue and waits until the thread has read it: everything
children wrote before that moment has then been collected.
"""

from __future__ import annotations

import itertools
import os
import threading
from multiprocessing import util

from .base import RUNNING, SLEEPING, clock, demo_seconds
from .lanes import current_lane

_SYNC = "sync"
_STOP = "stop"


class Collector:
    """Parent side: drains one queue into one timeline (see module docstring).

    >>> import multiprocessing
    >>> from course.timeline import Timeline
    >>> tl = Timeline(); collector = Collector(tl, multiprocessing.get_context())
    >>> rec = collector.recorder()
    >>> with rec.span("running", "here"):
    ...     pass
    >>> rec.flush(); collector.sync(); collector.close()
    True
    >>> tl.spans[0].label
    'here'
    """

    def __init__(self, timeline, ctx):
        self._tl = timeline
        self._queue = ctx.SimpleQueue()
        self._tokens = itertools.count()
        self._seen = -1
        self._cond = threading.Condition()
        self.closed = False
        self._thread = threading.Thread(target=self._drain, name="timeline-collector", daemon=True)
        self._thread.start()

    def recorder(self, batch_size: int = 256) -> ProcessRecorder:
        """A new recorder that sends into this collector's queue."""
        return ProcessRecorder(self._queue, batch_size)

    def _drain(self):
        extend = self._tl.extend
        while True:
            kind, payload = self._queue.get()
            if kind == _STOP:
                return
            if kind == _SYNC:
                with self._cond:
                    self._seen = payload
                    self._cond.notify_all()
            else:
                extend(*payload)

    def sync(self, timeout: float = 5.0) -> bool:
        """Wait until every message sent before this call is in the timeline."""
        if self.closed or not self._thread.is_alive():
            return False
        token = next(self._tokens)
        self._queue.put((_SYNC, token))
        with self._cond:
            return self._cond.wait_for(lambda: self._seen >= token, timeout)

    def close(self):
        """Drain what is there, stop the thread, close the queue."""
        if self.closed:
            return
        self.sync()
        self.closed = True
        self._queue.put((_STOP, None))
        self._thread.join(5)
        self._queue.close()


def _send(queue, spans, marks):
    if spans or marks:
        queue.put(("spans", (spans[:], marks[:])))
        del spans[:], marks[:]


class ProcessRecorder:
    """Records spans in a child process and sends them to the parent's Timeline.

    Make it in the parent with ``tl.process_recorder()``, pass it to the child.

    >>> import multiprocessing
    >>> from course.timeline import Timeline
    >>> from course.workers import cpu_work_traced
    >>> tl = Timeline(); rec = tl.process_recorder()
    >>> p = multiprocessing.Process(target=cpu_work_traced, args=(rec, 1000, "chunk"))
    >>> p.start(); p.join()
    >>> tl.spans[0].label
    'chunk'
    """

    def __init__(self, queue, batch_size: int = 256):
        self._queue = queue
        self.batch_size = batch_size
        self._pid = None  # the process whose buffers these are
        self._spans: list = []
        self._marks: list = []

    def __getstate__(self):
        from multiprocessing.context import get_spawning_popen

        if get_spawning_popen() is None:
            raise RuntimeError(
                "a process recorder can only be passed to a child when it starts: "
                "Process(args=(rec, ...)) or Pool(initializer=..., initargs=(rec,)), "
                "not as a Pool.map argument"
            )
        return {"queue": self._queue, "batch_size": self.batch_size}

    def __setstate__(self, state):
        self.__init__(state["queue"], state["batch_size"])

    def _buffers(self):
        if self._pid != os.getpid():
            # First use in this process (a forked child inherits the parent's
            # object, buffers included: start afresh).
            self._pid = os.getpid()
            self._spans, self._marks = [], []
            util.Finalize(
                self, _send, args=(self._queue, self._spans, self._marks), exitpriority=100
            )
        return self._spans

    def record(self, lane, state, start, end, label=None):
        """Add a finished span (lane None = this worker); like ``Timeline.record``
        it refuses a span that ends before it starts."""
        if end < start:
            raise ValueError(f"span ends before it starts: start={start!r}, end={end!r}")
        spans = self._buffers()
        spans.append((lane or current_lane(), state, start, end, label))
        if len(spans) >= self.batch_size:
            self.flush()

    def span(self, state: str = RUNNING, label: str | None = None, lane: str | None = None):
        """Context manager: the ``with`` body becomes one span on this process's lane."""
        return _RecorderSpan(self, lane, state, label)

    def sleep(self, seconds: float, label: str | None = None):
        """``time.sleep`` recorded as a SLEEPING span (a demo pause: scaled by
        ``COURSE_DEMO_TIME_SCALE`` like ``Timeline.sleep``)."""
        import time

        with self.span(SLEEPING, label):
            time.sleep(demo_seconds(seconds))

    def mark(self, name: str, lane: str | None = None):
        """Record an instant event on this process's lane."""
        self._buffers()
        self._marks.append((lane or current_lane(), name, clock()))

    def flush(self):
        """Send buffered spans now (Pool tasks should flush before returning)."""
        self._buffers()
        _send(self._queue, self._spans, self._marks)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.flush()


class _RecorderSpan:
    __slots__ = ("rec", "lane", "state", "label", "start")

    def __init__(self, rec, lane, state, label):
        self.rec, self.lane, self.state, self.label = rec, lane, state, label

    def __enter__(self):
        if self.lane is None:
            self.lane = current_lane()
        self.start = clock()
        return self

    def __exit__(self, *exc_info):
        self.rec.record(self.lane, self.state, self.start, clock(), self.label)
        return False
