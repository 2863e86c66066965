"""Message-passing process targets (notebook 04): queue and pipe stages ended by ``STOP``.

Each stage reads items until the sentinel :data:`~course.workers.base.STOP`,
passes it on and returns, so a chain of stages shuts down in order.  The
``*_traced`` stages record their spans on a timeline through a process recorder.

>>> import queue
>>> inbox, outbox = queue.Queue(), queue.Queue()
>>> produce(inbox, [1, 2]); pipeline_stage(inbox, outbox, "double")
>>> [outbox.get() for _ in range(3)]
[2, 4, None]
"""

from __future__ import annotations

import time

from course.timeline import QUEUE_GET, RUNNING, SLEEPING
from course.workers.base import STOP, flush
from course.workers.compute import is_prime, square
from course.workers.probes import square_where

#: The functions a stage can apply, by name (a name pickles under every start method).
STAGES = {
    "square": square,
    "double": lambda x: 2 * x,
    "increment": lambda x: x + 1,
    "negate": lambda x: -x,
    "is_prime": is_prime,
    "str": str,
    "square_where": square_where,  # a probe: also says which processes sent and squared the item
}


def pipeline_stage(inbox, outbox, func_name: str, rec=None) -> None:
    """Read items from ``inbox``, apply ``STAGES[func_name]``, put results on
    ``outbox``; on ``STOP`` (None) pass it on and return.  Works with
    ``multiprocessing.Queue`` (or ``queue.Queue`` for threads).  With ``rec``,
    each item becomes a RUNNING span.

    >>> import multiprocessing
    >>> ctx = multiprocessing.get_context("spawn")
    >>> a, b = ctx.Queue(), ctx.Queue()
    >>> p = ctx.Process(target=pipeline_stage, args=(a, b, "square"))
    >>> p.start()
    >>> for x in [1, 2, 3, STOP]:
    ...     a.put(x)
    >>> [b.get() for _ in range(4)]
    [1, 4, 9, None]
    >>> p.join()
    """
    func = STAGES[func_name]
    while True:
        item = inbox.get()
        if item is STOP:
            outbox.put(STOP)
            break
        if rec is None:
            outbox.put(func(item))
        else:
            with rec.span(RUNNING, f"{func_name}({item!r})"):
                result = func(item)
            outbox.put(result)
    if rec is not None:
        flush(rec)


def produce(outbox, items, delay: float = 0.0) -> None:
    """Put each item on ``outbox`` (sleeping ``delay`` between items), then ``STOP``.

    >>> import queue
    >>> q = queue.Queue(); produce(q, [1, 2]); [q.get() for _ in range(3)]
    [1, 2, None]
    """
    for item in items:
        if delay:
            time.sleep(delay)
        outbox.put(item)
    outbox.put(STOP)


def consume(inbox, results) -> None:
    """Get items from ``inbox`` until ``STOP``, putting each on ``results`` (a queue),
    then put ``STOP`` on ``results`` too.

    >>> import queue
    >>> a, b = queue.Queue(), queue.Queue()
    >>> produce(a, ["x"]); consume(a, b); [b.get(), b.get()]
    ['x', None]
    """
    while (item := inbox.get()) is not STOP:
        results.put(item)
    results.put(STOP)


def pipe_echo(conn, func_name: str = "square") -> None:
    """Receive values on a ``Pipe`` connection, send back ``STAGES[func_name](value)``;
    stops (and closes ``conn``) on ``STOP``.

    >>> import multiprocessing
    >>> ctx = multiprocessing.get_context("spawn")
    >>> parent, child = ctx.Pipe()
    >>> p = ctx.Process(target=pipe_echo, args=(child, "square")); p.start()
    >>> parent.send(4); parent.recv()
    16
    >>> parent.send(STOP); p.join()
    """
    func = STAGES[func_name]
    try:
        while (item := conn.recv()) is not STOP:
            conn.send(func(item))
    finally:
        conn.close()


def produce_traced(rec, outbox, items, seconds: float = 0.02) -> None:
    """Producer stage with a timeline: "make" each item (sleep ``seconds``),
    put it on ``outbox``, then put ``STOP``.

    >>> import queue
    >>> from course.timeline import Timeline
    >>> tl, q = Timeline(), queue.Queue()
    >>> produce_traced(tl, q, [1, 2], 0)
    >>> [q.get() for _ in range(3)], len(tl.spans)
    ([1, 2, None], 2)
    """
    for item in items:
        with rec.span(SLEEPING, f"make {item}"):
            time.sleep(seconds)
        outbox.put(item)
    outbox.put(STOP)
    flush(rec)


def square_traced(rec, inbox, outbox, seconds: float = 0.03) -> None:
    """Worker stage with a timeline: get an item (a "blocked on get" span while
    the inbox is empty), work ``seconds`` on it, put its square on ``outbox``;
    on ``STOP``, pass ``STOP`` on and return.

    >>> import queue
    >>> from course.timeline import Timeline
    >>> tl, a, b = Timeline(), queue.Queue(), queue.Queue()
    >>> for x in (3, STOP): a.put(x)
    >>> square_traced(tl, a, b, 0)
    >>> b.get(), b.get()
    (9, None)
    """
    while True:
        with rec.span(QUEUE_GET, "get"):
            item = inbox.get()
        if item is STOP:
            outbox.put(STOP)
            break
        with rec.span(RUNNING, f"square {item}"):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:  # busy: this stage computes
                pass
        outbox.put(item * item)
    flush(rec)
