"""course.workers (compute, messages, base): importable targets that work under fork, forkserver
and spawn."""

import multiprocessing
import time

import pytest

from course import workers
from course.timeline import RUNNING, SLEEPING, Timeline

START_METHODS = [
    m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()
]


def test_pure_functions():
    assert workers.square(9) == 81
    assert workers.cpu_work(1000) == sum(i * i for i in range(1000))
    assert workers.count_primes(1000) == 168
    assert workers.count_primes(1000, start=500) + workers.count_primes(500) == 168
    assert sum(map(workers.count_primes_range, [(0, 300), (300, 1000)])) == 168
    assert [k for k in range(12) if workers.is_prime(k)] == [2, 3, 5, 7, 11]


def test_traced_helpers_accept_a_timeline():
    tl = Timeline()
    workers.cpu_work_traced(tl, 100, "a")
    workers.sleepy_work(tl, 0.01, "b")
    workers.chunks_traced(tl, [10, 20], "c")
    assert [(s.state, s.label) for s in tl.spans] == [
        (RUNNING, "a"),
        (SLEEPING, "b"),
        (RUNNING, "c 0"),
        (RUNNING, "c 1"),
    ]


@pytest.mark.parametrize("method", START_METHODS)
def test_pool_map_under_every_start_method(method):
    ctx = multiprocessing.get_context(method)
    with ctx.Pool(2) as pool:
        assert pool.map(workers.square, range(6)) == [0, 1, 4, 9, 16, 25]
        assert sum(pool.map(workers.count_primes_range, [(0, 500), (500, 1000)])) == 168
        info = pool.apply(workers.whoami, ("x",))
    assert info["tag"] == "x" and info["name"].startswith(
        ("SpawnPoolWorker", "ForkServerPoolWorker", "ForkPoolWorker")
    )


@pytest.mark.parametrize("method", START_METHODS)
def test_traced_pool_through_initializer(method):
    ctx = multiprocessing.get_context(method)
    tl = Timeline()
    rec = tl.process_recorder(ctx=ctx)
    start = time.perf_counter()
    with ctx.Pool(2, initializer=workers.install_recorder, initargs=(rec,)) as pool:
        assert pool.map(workers.pooled_cpu_work, [100, 200, 300]) == [
            workers.cpu_work(n) for n in (100, 200, 300)
        ]
        assert sum(pool.map(workers.pooled_count_primes, [(0, 500), (500, 1000)])) == 168
    end = time.perf_counter()
    tl.collect()
    spans = tl.spans
    assert sorted(s.label for s in spans) == ["0-500", "500-1000", "n=100", "n=200", "n=300"]
    assert all("PoolWorker" in s.lane for s in spans)
    assert all(start <= s.start <= s.end <= end for s in spans)
    tl.close()


@pytest.mark.parametrize("method", START_METHODS)
def test_queue_pipeline_across_processes(method):
    ctx = multiprocessing.get_context(method)
    tl = Timeline()
    rec = tl.process_recorder(ctx=ctx)
    a, b, c = ctx.Queue(), ctx.Queue(), ctx.Queue()
    stages = [
        ctx.Process(target=workers.pipeline_stage, args=(a, b, "square", rec), name="square"),
        ctx.Process(target=workers.pipeline_stage, args=(b, c, "increment"), name="increment"),
    ]
    for p in stages:
        p.start()
    workers.produce(a, [1, 2, 3])
    out = []
    while (item := c.get(timeout=30)) is not workers.STOP:
        out.append(item)
    for p in stages:
        p.join(30)
        assert p.exitcode == 0
    tl.collect()
    assert out == [2, 5, 10]
    assert [s.label for s in tl.spans] == ["square(1)", "square(2)", "square(3)"]
    assert tl.lanes() == ["square"]
    tl.close()


@pytest.mark.parametrize("method", START_METHODS)
def test_pipe_echo(method):
    ctx = multiprocessing.get_context(method)
    parent, child = ctx.Pipe()
    p = ctx.Process(target=workers.pipe_echo, args=(child, "double"))
    p.start()
    parent.send(21)
    assert parent.recv() == 42
    parent.send(workers.STOP)
    p.join(30)
    assert p.exitcode == 0


def test_produce_consume_with_threads():
    import queue
    import threading

    a, b = queue.Queue(), queue.Queue()
    t = threading.Thread(target=workers.consume, args=(a, b))
    t.start()
    workers.produce(a, range(5), delay=0.001)
    t.join(5)
    assert [b.get() for _ in range(6)] == [0, 1, 2, 3, 4, None]


def test_one_sentinel_and_one_flush():
    """STOP and flush are defined once (in course.workers.base) and imported everywhere else."""
    from course.workers import base, compute, messages

    assert workers.STOP is base.STOP is messages.STOP is None
    assert compute.flush is messages.flush is base.flush


def test_usable_cores_is_at_most_the_affinity_set():
    import os

    cores = workers.usable_cores()
    assert 1 <= cores <= len(os.sched_getaffinity(0))
