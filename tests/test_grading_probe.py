"""Probe: counts visits and their overlap however the workers were started."""

import _thread
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from course.grading import Probe, run_isolated


def work(probe, key, seconds=0.05):
    with probe.visit(key):
        time.sleep(seconds)


def test_sequential_visits_never_overlap():
    probe = Probe("seq")
    for i in range(4):
        work(probe, i, 0.001)
    assert probe.count() == 4 and probe.peak() == 1 and probe.inside() == 0
    visits = probe.visits()
    assert [v.key for v in visits] == [0, 1, 2, 3]
    assert all(a.end <= b.start for a, b in zip(visits, visits[1:], strict=False))
    assert len(probe.threads()) == 1


def test_overlap_measured_for_threading_thread_pool_executor_and__thread():
    barrier = threading.Barrier(4)

    def gated(probe, key):
        barrier.wait()
        work(probe, key, 0.2)

    # threading.Thread
    probe = Probe("threads")
    threads = [threading.Thread(target=gated, args=(probe, i)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert probe.count() == 4 and probe.peak() >= 2 and len(probe.threads()) == 4

    # an executor
    probe = Probe("pool")
    barrier.reset()
    with ThreadPoolExecutor(4) as pool:
        list(pool.map(lambda i: gated(probe, i), range(4)))
    assert probe.count() == 4 and probe.peak() >= 2

    # the low-level _thread module, which a spy on Thread.start never sees
    probe = Probe("_thread")
    barrier.reset()
    done = threading.Semaphore(0)

    def raw(i):
        try:
            gated(probe, i)
        finally:
            done.release()

    for i in range(4):
        _thread.start_new_thread(raw, (i,))
    for _ in range(4):
        assert done.acquire(timeout=10)
    assert probe.count() == 4 and probe.peak() >= 2


def test_visit_still_inside_has_no_end_and_exceptions_close_it():
    probe = Probe()
    with probe.visit("open"):
        assert probe.visits()[0].end is None and probe.inside() == 1
    with pytest.raises(KeyError):
        with probe.visit("boom"):
            raise KeyError("x")
    assert probe.inside() == 0 and all(v.end is not None for v in probe.visits())


def test_readings_cannot_be_assigned():
    probe = Probe()
    for name in ("peak", "count", "visits", "anything"):
        with pytest.raises(AttributeError):
            setattr(probe, name, lambda: 99)
    assert not hasattr(probe, "__dict__")
    assert probe.peak() == 0 and probe.count() == 0


def test_probe_returned_from_a_forked_child_keeps_its_readings():
    def trial():
        probe = Probe("child")
        threads = [threading.Thread(target=work, args=(probe, i, 0.1)) for i in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return probe

    probe = run_isolated(trial, timeout=10)
    assert isinstance(probe, Probe) and probe.name == "child"
    assert probe.count() == 3 and probe.peak() >= 2 and probe.inside() == 0
    assert {v.pid for v in probe.visits()} != set() and probe.visits()[0].pid > 0
