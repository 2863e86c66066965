"""CPU-bound process targets (notebooks 01-03): pure-Python work, its traced variants, pools.

Every function lives in a module, takes picklable arguments and so works as a
multiprocessing target under fork, forkserver and spawn alike (a spawned child
imports its target by name, and a notebook cannot be imported).

>>> import multiprocessing
>>> with multiprocessing.get_context("spawn").Pool(2) as pool:
...     pool.map(square, range(5))
[0, 1, 4, 9, 16]
"""

from __future__ import annotations

import multiprocessing
import os
import time
from pathlib import Path

from course.timeline import RUNNING, SLEEPING
from course.workers.base import flush


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
    return {
        "tag": tag,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "name": multiprocessing.current_process().name,
    }


def usable_cores() -> int:
    """How many cores this process can really compute on at once.

    ``os.cpu_count()`` counts the machine's cores, not the ones this process may
    use: the CPU affinity set (``taskset``, containers) and a cgroup v2 CPU quota
    (Binder, Docker ``--cpus``) can both allow fewer.  A fractional quota is
    rounded down (1.5 cores of time lets 2 processes share, not both compute).

    >>> 1 <= usable_cores() <= (os.cpu_count() or 1)
    True
    """
    if hasattr(os, "sched_getaffinity"):
        cores = len(os.sched_getaffinity(0))
    else:
        cores = os.cpu_count() or 1
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
    except (OSError, ValueError):
        return cores
    if quota == "max":
        return cores
    return max(1, min(cores, int(quota) // int(period)))


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
    flush(rec)
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
    flush(rec)
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
    flush(rec)
    return results


# A recorder cannot travel as a Pool.map argument (a multiprocessing queue may only be
# inherited at process start), so it is installed once per worker by the Pool initializer.
_pool_recorder = None


def install_recorder(rec) -> None:
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
    flush(_pool_recorder)
    return result
