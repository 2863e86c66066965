"""What every worker module shares: the end-of-stream sentinel and the recorder flush.

>>> from course.workers.base import STOP, flush
>>> STOP is None
True
>>> flush(object())  # a recorder without ``flush`` (a plain Timeline) is left alone
"""

from __future__ import annotations

STOP = None  # the sentinel that ends a stream of items: a pipeline stage passes it on and returns


def flush(rec) -> None:
    """Send a process recorder's buffered spans to the parent now (no-op for a ``Timeline``).

    A process started by multiprocessing ends without running exit hooks, so spans
    left in the buffer would be lost: every traced target flushes before it returns.

    >>> from course.timeline import Timeline
    >>> flush(Timeline())
    """
    method = getattr(rec, "flush", None)
    if method is not None:
        method()
