"""How much does recording cost?  Run: python benchmarks/bench_timeline.py

Prints the cost per span of the ``with tl.span(...)`` context manager, per
span sent back from a child process, of an uncontended traced lock and queue
against the stdlib's, and the time to draw 10,000 spans.
Each figure is the best of a few repeats (the machine is shared and noisy).
"""

import io
import multiprocessing
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import matplotlib  # noqa: E402

matplotlib.use("Agg")

from course.timeline import RUNNING, SLEEPING, Timeline  # noqa: E402


def per_span_context_manager(n=100_000, repeats=5):
    """Seconds per ``with tl.span(...)`` with an empty body."""
    best = []
    for _ in range(repeats):
        tl = Timeline()
        span = tl.span
        start = time.perf_counter()
        for _ in range(n):
            with span(RUNNING, "x"):
                pass
        best.append((time.perf_counter() - start) / n)
    return min(best), statistics.median(best)


def empty_loop(n=100_000):
    start = time.perf_counter()
    for _ in range(n):
        pass
    return (time.perf_counter() - start) / n


def _child(rec, n):
    for _ in range(n):
        with rec.span(RUNNING, "x"):
            pass
    rec.flush()


def per_span_from_child(method, n=50_000):
    """Seconds per span for a child that records n spans, including sending them
    and the parent collecting them (process start-up excluded)."""
    ctx = multiprocessing.get_context(method)
    tl = Timeline()
    rec = tl.process_recorder(ctx=ctx)
    # measure start-up alone, then start-up + n spans
    timings = []
    for count in (0, n):
        p = ctx.Process(target=_child, args=(rec, count))
        start = time.perf_counter()
        p.start()
        p.join()
        tl.collect()
        timings.append(time.perf_counter() - start)
    assert len(tl.spans) == n, len(tl.spans)
    tl.close()
    return max(timings[1] - timings[0], 0) / n


def per_call(make, use, n=50_000, repeats=5):
    """Best seconds per ``use(obj)`` on one ``make()`` object."""
    best = float("inf")
    for _ in range(repeats):
        obj = make()
        start = time.perf_counter()
        for _ in range(n):
            use(obj)
        best = min(best, (time.perf_counter() - start) / n)
    return best


def lock_round_trip(lock):
    with lock:
        pass


def queue_round_trip(q):
    q.put(1)
    q.get()


def draw_10000(repeats=3):
    """Seconds to plot and render 10,000 spans on 8 lanes to PNG."""
    tl = Timeline()
    for i in range(10_000):
        tl.record(f"lane-{i % 8}", (RUNNING, SLEEPING)[i % 2], i * 1e-4, i * 1e-4 + 8e-5, f"s{i}")
    best = []
    for _ in range(repeats):
        start = time.perf_counter()
        fig = tl.plot(title="10,000 spans")
        fig.savefig(io.BytesIO(), format="png")
        best.append(time.perf_counter() - start)
    return min(best)


def main():
    best, median = per_span_context_manager()
    print(
        f"context manager span:     {best * 1e6:6.2f} µs/span best, {median * 1e6:.2f} median"
        f"  (empty loop {empty_loop() * 1e6:.2f} µs; goal <= 3 µs)"
    )
    for method in ("fork", "forkserver", "spawn"):
        if method in multiprocessing.get_all_start_methods():
            cost = per_span_from_child(method)
            print(f"span from child ({method:10s}): {cost * 1e6:6.2f} µs/span incl. send + collect")
    for name, plain, traced, use in (
        ("lock acquire+release", threading.Lock, lambda: Timeline().Lock(), lock_round_trip),
        ("queue put+get", queue.Queue, lambda: Timeline().Queue(), queue_round_trip),
    ):
        base, cost = per_call(plain, use), per_call(traced, use)
        print(
            f"{name:25s} {cost * 1e6:6.2f} µs traced, {base * 1e6:.2f} µs stdlib"
            f"  ({cost / base:.1f}x, uncontended)"
        )
    print(f"draw 10,000 spans:        {draw_10000():6.3f} s  (goal <= 1 s)")


if __name__ == "__main__":
    main()
