"""COURSE_DEMO_TIME_SCALE shortens the demo pauses of course.timeline and nothing else."""

import asyncio
import multiprocessing
import time

import pytest

from course.timeline import SLEEPING, TIME_SCALE_ENV, Timeline, time_scale
from course.timeline.base import demo_seconds

PAUSE = 0.4  # long enough that a scaled pause (x0.05 = 20 ms) cannot be mistaken for it


@pytest.fixture
def scaled(monkeypatch):
    monkeypatch.setenv(TIME_SCALE_ENV, "0.05")
    return 0.05


def elapsed(func):
    start = time.perf_counter()
    func()
    return time.perf_counter() - start


def test_default_is_real_time(monkeypatch):
    monkeypatch.delenv(TIME_SCALE_ENV, raising=False)
    assert time_scale() == 1.0 and demo_seconds(0.3) == 0.3
    monkeypatch.setenv(TIME_SCALE_ENV, "")
    assert time_scale() == 1.0


@pytest.mark.parametrize("bad", ["fast", "-1", "nan", "inf"])
def test_a_bad_value_is_refused_loudly(monkeypatch, bad):
    monkeypatch.setenv(TIME_SCALE_ENV, bad)
    with pytest.raises(ValueError, match=TIME_SCALE_ENV):
        Timeline().sleep(0.01)


def test_timeline_sleep_is_scaled(scaled):
    tl = Timeline()
    took = elapsed(lambda: tl.sleep(PAUSE, label="demo"))
    assert took < PAUSE / 2
    (span,) = tl.spans
    assert (span.state, span.label) == (SLEEPING, "demo")
    assert PAUSE * scaled * 0.9 <= span.duration < PAUSE / 2


def test_async_sleep_is_scaled(scaled):
    tl = Timeline()
    assert elapsed(lambda: asyncio.run(tl.async_sleep(PAUSE))) < PAUSE / 2
    assert tl.spans[0].duration >= PAUSE * scaled * 0.9


def _recorder_sleep(rec):
    rec.sleep(PAUSE, "child nap")
    rec.flush()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_process_recorder_sleep_is_scaled_in_the_child(scaled):
    tl = Timeline()
    ctx = multiprocessing.get_context("fork")
    rec = tl.process_recorder(ctx=ctx)
    p = ctx.Process(target=_recorder_sleep, args=(rec,), name="child")
    p.start()
    p.join(30)
    tl.collect()
    tl.close()
    assert p.exitcode == 0
    (span,) = tl.spans
    assert span.label == "child nap" and span.duration < PAUSE / 2


def test_what_is_measured_keeps_real_time(scaled):
    """time.sleep, asyncio.sleep and the traced primitives' timeouts are not demo pauses."""
    assert elapsed(lambda: time.sleep(PAUSE)) >= PAUSE * 0.95
    assert elapsed(lambda: asyncio.run(asyncio.sleep(PAUSE))) >= PAUSE * 0.95
    tl = Timeline()
    lock, ev, q = tl.Lock(), tl.Event(), tl.Queue()
    lock.acquire()
    assert elapsed(lambda: lock.acquire(timeout=PAUSE)) >= PAUSE * 0.95
    assert elapsed(lambda: ev.wait(PAUSE)) >= PAUSE * 0.95
    with pytest.raises(__import__("queue").Empty):
        q.get(timeout=PAUSE)
    waits = [s.duration for s in tl.spans if s.state != SLEEPING]
    assert len(waits) == 3 and min(waits) >= PAUSE * 0.95
