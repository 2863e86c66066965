"""Worker functions for multiprocessing demos, importable under every start method.

A function defined in a notebook cannot be a multiprocessing target under the
``spawn`` and ``forkserver`` start methods: the child imports the target by
name and a notebook is not importable.  These live in a module, take only
picklable arguments, and so work with fork, forkserver and spawn alike.

>>> import multiprocessing
>>> from course.workers import square
>>> with multiprocessing.get_context("spawn").Pool(2) as pool:
...     pool.map(square, range(5))
[0, 1, 4, 9, 16]
"""

from __future__ import annotations

import os
import time

from course.timeline import RUNNING, SLEEPING

STOP = None  # the sentinel that ends a pipeline stage


def square(x):
    """Return ``x * x`` (the smallest useful ``Pool.map`` target).

    >>> square(7)
    49
    """
    return x * x


def cpu_work(n: int) -> int:
    """Burn CPU in pure Python for ``n`` loop iterations (holds the GIL
    throughout); returns a checksum so the work cannot be skipped.

    >>> cpu_work(10)
    285
    >>> cpu_work(1000) == sum(i * i for i in range(1000))
    True
    """
    total = 0
    for i in range(n):
        total += i * i
    return total


def is_prime(n: int) -> bool:
    """Trial division primality test.

    >>> [k for k in range(20) if is_prime(k)]
    [2, 3, 5, 7, 11, 13, 17, 19]
    """
    if n < 2:
        return False
    if n % 2 == 0:
        return n == 2
    k = 3
    while k * k <= n:
        if n % k == 0:
            return False
        k += 2
    return True


def count_primes(limit: int, start: int = 0) -> int:
    """Count primes in ``range(start, limit)``: CPU-bound and easy to split into chunks.

    >>> count_primes(100)
    25
    >>> count_primes(50) + count_primes(100, start=50) == count_primes(100)
    True
    """
    return sum(1 for k in range(start, limit) if is_prime(k))


def count_primes_range(bounds: tuple[int, int]) -> int:
    """Count primes in one ``(start, stop)`` chunk: a one-argument ``Pool.map`` target.

    >>> sum(map(count_primes_range, [(0, 50), (50, 100)]))
    25
    """
    start, stop = bounds
    return count_primes(stop, start)


def whoami(tag=None) -> dict:
    """Where this call runs: pid, parent pid and process name.

    >>> info = whoami("x")
    >>> info["pid"] == os.getpid(), info["tag"]
    (True, 'x')
    """
    import multiprocessing

    return {
        "tag": tag,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "name": multiprocessing.current_process().name,
    }


def cpu_work_traced(rec, n: int, label: str | None = None) -> int:
    """``cpu_work(n)`` recorded as one RUNNING span through ``rec`` (a
    Timeline or a process recorder); flushes a process recorder at the end.

    >>> from course.timeline import Timeline
    >>> tl = Timeline()
    >>> cpu_work_traced(tl, 100, "chunk 1")
    328350
    >>> tl.spans[0].label
    'chunk 1'
    """
    with rec.span(RUNNING, label):
        result = cpu_work(n)
    _flush(rec)
    return result


def sleepy_work(rec, seconds: float, label: str | None = None) -> float:
    """Sleep ``seconds`` (standing in for IO) as a SLEEPING span; returns ``seconds``.

    >>> from course.timeline import Timeline
    >>> tl = Timeline()
    >>> sleepy_work(tl, 0.01, "io")
    0.01
    >>> tl.spans[0].state
    'sleeping / IO'
    """
    with rec.span(SLEEPING, label):
        time.sleep(seconds)
    _flush(rec)
    return seconds


def chunks_traced(rec, sizes, label: str = "chunk") -> list[int]:
    """Run ``cpu_work`` on each size, one RUNNING span per chunk (labelled ``label i``).

    >>> from course.timeline import Timeline
    >>> tl = Timeline()
    >>> chunks_traced(tl, [10, 10])
    [285, 285]
    >>> [s.label for s in tl.spans]
    ['chunk 0', 'chunk 1']
    """
    results = []
    for i, n in enumerate(sizes):
        with rec.span(RUNNING, f"{label} {i}"):
            results.append(cpu_work(n))
    _flush(rec)
    return results


# ---------------------------------------------------------------------------
# Pools: a recorder cannot travel as a Pool.map argument (a multiprocessing
# queue may only be inherited at process start), so it is installed once per
# worker through the Pool initializer.

_pool_recorder = None


def install_recorder(rec):
    """Pool initializer: make ``rec`` the recorder used by the ``pooled_*`` functions.

    >>> import multiprocessing
    >>> from course.timeline import Timeline
    >>> tl = Timeline(); ctx = multiprocessing.get_context("spawn")
    >>> rec = tl.process_recorder(ctx=ctx)
    >>> with ctx.Pool(2, initializer=install_recorder, initargs=(rec,)) as pool:
    ...     pool.map(pooled_cpu_work, [1000, 2000])
    [332833500, 2664667000]
    >>> len(tl.spans)
    2
    """
    global _pool_recorder
    _pool_recorder = rec


def pooled_cpu_work(n: int) -> int:
    """``cpu_work(n)`` as one RUNNING span (label ``n=...``) through the recorder
    installed by :func:`install_recorder` (untraced if none); flushed per task.

    >>> pooled_cpu_work(10)
    285
    """
    if _pool_recorder is None:
        return cpu_work(n)
    return cpu_work_traced(_pool_recorder, n, f"n={n}")


def pooled_count_primes(bounds: tuple[int, int]) -> int:
    """:func:`count_primes_range` traced like :func:`pooled_cpu_work` (label ``start-stop``).

    >>> pooled_count_primes((0, 100))
    25
    """
    if _pool_recorder is None:
        return count_primes_range(bounds)
    with _pool_recorder.span(RUNNING, f"{bounds[0]}-{bounds[1]}"):
        result = count_primes_range(bounds)
    _flush(_pool_recorder)
    return result


def _flush(rec):
    flush = getattr(rec, "flush", None)
    if flush is not None:
        flush()


# ---------------------------------------------------------------------------
# Message passing: queue and pipe pipelines

STAGES = {
    "square": square,
    "double": lambda x: 2 * x,
    "increment": lambda x: x + 1,
    "negate": lambda x: -x,
    "is_prime": is_prime,
    "str": str,
}


def pipeline_stage(inbox, outbox, func_name: str, rec=None):
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
        _flush(rec)


def produce(outbox, items, delay: float = 0.0):
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


def pipe_echo(conn, func_name: str = "square"):
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
