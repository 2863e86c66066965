"""course.timeline: spans from every kind of worker, traced primitives, plot, export.

Timing assertions use generous bounds: the machine has 2 busy cores.
"""

import asyncio
import importlib
import inspect
import json
import multiprocessing
import pickle
import sys
import threading
import time

import greenlet
import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course.timeline import (  # noqa: E402
    HOLDING_LOCK,
    QUEUE_GET,
    QUEUE_PUT,
    RUNNING,
    SLEEPING,
    WAITING,
    WAITING_LOCK,
    Span,
    Timeline,
    current_lane,
)
from course.timeline.primitives import TracedLock  # noqa: E402
from course.workers import cpu_work_traced, sleepy_work  # noqa: E402

START_METHODS = [
    m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()
]


@pytest.fixture
def tl():
    timeline = Timeline()
    yield timeline
    timeline.close()


def wait_until_inside(code, *threads, timeout=30.0):
    """Poll until every thread is running ``code`` (somewhere on its stack): how a
    test knows a thread is blocked, instead of sleeping and hoping."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        frames = sys._current_frames()
        if all(_stack_has(frames.get(t.ident), code) for t in threads):
            return
        time.sleep(0.001)
    raise AssertionError(f"threads did not reach {code.co_name} within {timeout} s")


def _stack_has(frame, code):
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


BLOCKED_ON_CONDITION = threading.Condition.wait.__code__  # Event, Semaphore, Queue waits
IN_TRACED_ACQUIRE = TracedLock.acquire.__code__


def assert_no_overlap(spans, state=RUNNING):
    """Within each lane, spans of ``state`` follow one another without overlapping."""
    by_lane = {}
    for s in spans:
        if s.state == state:
            by_lane.setdefault(s.lane, []).append(s)
    for lane, items in by_lane.items():
        items.sort(key=lambda s: s.start)
        for a, b in zip(items, items[1:], strict=False):
            assert a.end <= b.start, f"{lane}: {a} overlaps {b}"
    return by_lane


# --- the recorder itself -----------------------------------------------------------


def test_span_records_lane_state_label_and_order(tl):
    with tl.span(RUNNING, label="one"):
        pass
    tl.record("other", SLEEPING, 0.0, 1.0, "early")
    spans = tl.spans
    assert [s.label for s in spans] == ["early", "one"]  # ordered by start
    assert isinstance(spans[0], Span)
    assert spans[1].lane == "MainThread" and spans[1].end >= spans[1].start
    assert tl.lanes() == ["other", "MainThread"]


def test_traced_sleep_mark_clear_statistics(tl):
    @tl.traced(label="job")
    def job(x):
        return x + 1

    assert job(1) == 2
    tl.sleep(0.01, label="nap")
    tl.mark("done")
    assert [(s.state, s.label) for s in tl.spans] == [(RUNNING, "job"), (SLEEPING, "nap")]
    assert tl.spans[1].duration >= 0.009
    assert tl.marks[0].name == "done" and tl.marks[0].lane == "MainThread"
    assert set(tl.statistics()["MainThread"]) == {RUNNING, SLEEPING}
    tl.clear()
    assert tl.spans == [] and tl.marks == [] and tl.counters == []


def test_explicit_lane_and_span_survives_exceptions(tl):
    with pytest.raises(ZeroDivisionError):
        with tl.span(RUNNING, lane="custom"):
            raise ZeroDivisionError
    assert tl.spans[0].lane == "custom"


# --- threads -----------------------------------------------------------------------


def test_threads_get_their_own_lanes(tl):
    def work():
        for i in range(5):
            with tl.span(RUNNING, f"step {i}"):
                sum(range(2000))
            time.sleep(0.001)

    threads = [threading.Thread(target=work, name=f"worker-{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    by_lane = assert_no_overlap(tl.spans)
    assert set(by_lane) == {"worker-0", "worker-1", "worker-2"}
    assert all(len(v) == 5 for v in by_lane.values())


# --- processes ---------------------------------------------------------------------


@pytest.mark.parametrize("method", START_METHODS)
def test_child_process_spans_come_back(tl, method):
    ctx = multiprocessing.get_context(method)
    rec = tl.process_recorder(ctx=ctx)
    start = time.perf_counter()
    procs = [
        ctx.Process(target=cpu_work_traced, args=(rec, 20_000, f"chunk {i}"), name=f"proc-{i}")
        for i in range(2)
    ]
    procs.append(ctx.Process(target=sleepy_work, args=(rec, 0.05, "io"), name="proc-sleepy"))
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    end = time.perf_counter()
    tl.collect()
    spans = tl.spans
    assert {s.lane for s in spans} == {"proc-0", "proc-1", "proc-sleepy"}
    assert sorted(s.label for s in spans) == ["chunk 0", "chunk 1", "io"]
    assert_no_overlap(spans)
    for s in spans:  # one system-wide clock: children's spans fall inside start..join
        assert start <= s.start <= s.end <= end


def test_many_child_spans_and_join_before_collect(tl):
    """More than a pipe buffer of spans, joined before collect(): no deadlock, none lost."""
    ctx = multiprocessing.get_context("fork" if "fork" in START_METHODS else "spawn")
    rec = tl.process_recorder(ctx=ctx, batch_size=500)
    p = ctx.Process(target=_record_many, args=(rec, 20_000), name="busy")
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert len(tl.spans) == 20_000
    assert tl.lanes() == ["busy"]


def _record_many(rec, n):
    for i in range(n):
        with rec.span(RUNNING, f"s{i}"):
            pass
    # no flush: the exit hook must send the rest


def test_recorder_refuses_pickling_outside_process_start(tl):
    rec = tl.process_recorder()
    with pytest.raises(RuntimeError, match="Process"):
        pickle.dumps(rec)


def test_recorder_in_parent_and_with_block(tl):
    rec = tl.process_recorder()
    with rec:
        with rec.span(RUNNING, "here"):
            pass
        rec.mark("m")
    tl.collect()
    assert [s.label for s in tl.spans] == ["here"]
    assert tl.marks[0].name == "m"


# --- greenlets and gevent ----------------------------------------------------------


def test_greenlet_switches_become_running_spans(tl):
    log = []

    def ping():
        for _ in range(3):
            log.append("ping")
            pong_g.switch()

    def pong():
        for _ in range(3):
            log.append("pong")
            ping_g.switch()

    ping_g, pong_g = greenlet.greenlet(ping), greenlet.greenlet(pong)
    ping_g.name = "ping"
    previous = greenlet.gettrace()
    with tl.greenlets():
        ping_g.switch()
    assert greenlet.gettrace() is previous
    assert log == ["ping", "pong"] * 3
    by_lane = assert_no_overlap(tl.spans)
    assert "ping" in by_lane and "MainThread" in by_lane
    assert any(lane.startswith("greenlet-") for lane in by_lane)
    assert len(by_lane["ping"]) >= 3
    # one thread: all RUNNING spans together never overlap either
    ordered = sorted(tl.spans, key=lambda s: s.start)
    assert all(a.end <= b.start for a, b in zip(ordered, ordered[1:], strict=False))


def test_gevent_sleeps_interleave(tl):
    gevent = pytest.importorskip("gevent")
    d = 0.2

    def fetch(i):
        with tl.span(SLEEPING, f"fetch {i}"):
            gevent.sleep(d)

    start = time.perf_counter()
    with tl.greenlets():
        jobs = [gevent.spawn(fetch, i) for i in range(3)]
        for i, job in enumerate(jobs):
            job.name = f"fetch-{i}"
        gevent.joinall(jobs)
    wall = time.perf_counter() - start
    sleeps = [s for s in tl.spans if s.state == SLEEPING]
    assert {s.lane for s in sleeps} == {"fetch-0", "fetch-1", "fetch-2"}
    assert wall < 3 * d, "three sleeps one after the other would take 3 d"
    # interleaved: every sleep starts before any sleep ends
    assert max(s.start for s in sleeps) < min(s.end for s in sleeps)
    assert_no_overlap(tl.spans)
    assert "Hub" not in " ".join(tl.lanes())


# --- asyncio -----------------------------------------------------------------------


def test_asyncio_tasks_are_lanes(tl):
    async def fetch(i):
        with tl.span(RUNNING, f"parse {i}"):
            pass
        async with tl.async_span(SLEEPING, f"wait {i}"):
            await asyncio.sleep(0.02)
        await tl.async_sleep(0.01)

    async def main():
        with tl.span(RUNNING, "main"):
            pass
        tasks = [asyncio.create_task(fetch(i), name=f"task-{i}") for i in range(3)]
        await asyncio.gather(*tasks)

    asyncio.run(main())
    by_lane = assert_no_overlap(tl.spans)
    assert set(tl.lanes()) == {"MainThread", "task-0", "task-1", "task-2"}
    assert by_lane["MainThread"][0].label == "main"
    waits = [s for s in tl.spans if s.label and s.label.startswith("wait")]
    assert max(s.start for s in waits) < min(s.end for s in waits)  # concurrent


def test_current_lane_outside_any_worker():
    assert current_lane() == threading.current_thread().name


# --- traced primitives -------------------------------------------------------------


def test_traced_lock_holds_never_overlap(tl):
    lock = tl.Lock("counter")
    counter = [0]

    def worker():
        for _ in range(3):
            with lock:
                value = counter[0]
                time.sleep(0.005)
                counter[0] = value + 1

    threads = [threading.Thread(target=worker, name=f"t{i}") for i in range(4)]
    with lock:  # every worker finds the lock taken at least once
        for t in threads:
            t.start()
        wait_until_inside(IN_TRACED_ACQUIRE, *threads)
    for t in threads:
        t.join()
    assert counter[0] == 12
    holds = sorted((s for s in tl.spans if s.state == HOLDING_LOCK), key=lambda s: s.start)
    assert len(holds) == 13  # the main thread's hold first
    assert all(a.end <= b.start for a, b in zip(holds, holds[1:], strict=False))
    waits = [s for s in tl.spans if s.state == WAITING_LOCK]
    assert waits and all(s.label == "counter" for s in waits)
    assert {s.lane for s in waits} == {"t0", "t1", "t2", "t3"}
    assert lock.statistics()["acquisitions"] == 13 and not lock.locked()


def test_traced_lock_nonblocking_and_timeout(tl):
    lock = tl.Lock()
    assert lock.acquire()
    assert lock.acquire(blocking=False) is False
    assert lock.acquire(timeout=0.01) is False
    lock.release()
    assert [s.state for s in tl.spans] == [HOLDING_LOCK, WAITING_LOCK]  # by start time


def test_traced_rlock_reentrant_and_condition(tl):
    rlock = tl.RLock("r")
    with rlock:
        with rlock:
            assert rlock.locked()
    assert [s.state for s in tl.spans] == [HOLDING_LOCK]
    cond = threading.Condition(rlock)
    ready = []

    def waiter():
        with cond:
            cond.wait_for(lambda: ready, timeout=5)

    t = threading.Thread(target=waiter)
    t.start()
    wait_until_inside(BLOCKED_ON_CONDITION, t)
    with rlock:  # nested: Condition must release both levels while waiting
        with cond:
            ready.append(1)
            cond.notify()
    t.join(5)
    assert not t.is_alive() and not rlock.locked()
    with pytest.raises(RuntimeError):
        rlock.release()


def test_traced_semaphore_limits_and_records_waits(tl):
    slots = tl.BoundedSemaphore(2, "slots")
    active, peak, guard = [0], [0], threading.Lock()
    go = threading.Event()

    def worker():
        with slots:
            with guard:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
            go.wait()
            with guard:
                active[0] -= 1

    threads = [threading.Thread(target=worker, name=f"w{i}") for i in range(5)]
    for t in threads:
        t.start()
    wait_until_inside(BLOCKED_ON_CONDITION, *threads)  # two on `go`, three on the semaphore
    assert peak[0] == 2
    go.set()
    for t in threads:
        t.join()
    assert peak[0] == 2
    assert len([s for s in tl.spans if s.state == WAITING]) >= 3
    assert sum(m.name == "slots.release()" for m in tl.marks) == 5


def test_traced_event(tl):
    ev = tl.Event("go")
    t = threading.Thread(target=ev.wait, name="waiter")
    t.start()
    wait_until_inside(BLOCKED_ON_CONDITION, t)
    ev.set()
    t.join(5)
    ev.clear()
    waits = [s for s in tl.spans if s.state == WAITING]
    assert [s.lane for s in waits] == ["waiter"]
    assert [m.name for m in tl.marks] == ["go.set()", "go.clear()"]
    assert waits[0].end >= tl.marks[0].t


def test_traced_queue_producer_consumer(tl):
    q = tl.Queue(maxsize=2, name="jobs")
    got = []

    def producer():
        for i in range(8):
            q.put(i)
        q.put(None)

    def consumer():
        wait_until_inside(BLOCKED_ON_CONDITION, threads[0])  # the producer fills the queue
        while (item := q.get()) is not None:
            got.append(item)

    threads = [
        threading.Thread(target=producer, name="producer"),
        threading.Thread(target=consumer, name="consumer"),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == list(range(8))
    assert any(s.state == QUEUE_PUT and s.lane == "producer" for s in tl.spans)
    sizes = [v for name, _, v in tl.counters if name == "jobs"]
    assert max(sizes) == 2 and sizes[-1] == 0
    empty = tl.Queue(name="empty")
    with pytest.raises(__import__("queue").Empty):
        empty.get(timeout=0.01)
    empty_waits = [s.lane for s in tl.spans if s.state == QUEUE_GET and s.label == "empty"]
    assert empty_waits == ["MainThread"]


def test_lifo_and_priority_queues(tl):
    lifo, prio = tl.LifoQueue(), tl.PriorityQueue()
    for x in (3, 1, 2):
        lifo.put(x)
        prio.put(x)
    assert [lifo.get() for _ in range(3)] == [2, 1, 3]
    assert [prio.get() for _ in range(3)] == [1, 2, 3]


# --- output ------------------------------------------------------------------------


def _sample(tl):
    lock = tl.Lock("lock")

    def work(i):
        with tl.span(RUNNING, f"work {i}"):
            time.sleep(0.005)
        with lock:
            tl.sleep(0.005, "crit")

    threads = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    tl.mark("done")
    q = tl.Queue(name="q")
    q.put(1)
    q.get()


def test_chrome_trace_round_trip(tl, tmp_path):
    _sample(tl)
    trace = tl.to_chrome_trace()
    events = trace["traceEvents"]
    spans = [e for e in events if e["ph"] == "X"]
    assert len(spans) == len(tl.spans)
    for e in spans:
        assert {"name", "ph", "ts", "dur", "pid", "tid"} <= set(e)
    names = {e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    assert names == set(tl.lanes())
    assert any(e["ph"] == "i" for e in events) and any(e["ph"] == "C" for e in events)
    # microseconds: the first span starts at 0 and durations match seconds * 1e6
    first = min(tl.spans, key=lambda s: s.start)
    assert min(e["ts"] for e in events if "ts" in e) == 0
    e0 = next(
        e
        for e in spans
        if e["args"]["label"] == first.label and e["ts"] == min(x["ts"] for x in spans)
    )
    assert e0["dur"] == pytest.approx(first.duration * 1e6, abs=1)
    path = tl.save_chrome_trace(tmp_path / "trace.json")
    loaded = Timeline.from_chrome_trace(json.loads(open(path).read()))
    for a, b in zip(loaded.spans, tl.spans, strict=True):
        assert (a.lane, a.state, a.label) == (b.lane, b.state, b.label)
        assert a.start == pytest.approx(b.start, abs=1e-6)
        assert a.end == pytest.approx(b.end, abs=1e-6)
    assert [m.name for m in loaded.marks] == [m.name for m in tl.marks]
    assert len(loaded.counters) == len(tl.counters)


def test_plot_is_readable_and_closed(tl, tmp_path):
    _sample(tl)
    before = plt.get_fignums()
    fig = tl.plot(title="sample")
    assert plt.get_fignums() == before  # closed: Jupyter shows the returned figure once
    ax = fig.axes[0]
    assert ax.get_title() == "sample"
    assert [t.get_text() for t in ax.get_yticklabels()] == tl.lanes()
    assert "ms" in fig.axes[-1].get_xlabel()
    legend = ax.get_legend()
    assert {t.get_text() for t in legend.get_texts()} >= {RUNNING, HOLDING_LOCK, SLEEPING}
    fig.savefig(tmp_path / "timeline.png")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    assert legend.get_window_extent(renderer).x0 >= ax.get_window_extent(renderer).x1
    assert len(fig.axes) == 2  # queue-size axis because the sample has a queue
    assert len(tl.plot(show_counters=False).axes) == 1


def test_plot_into_given_axes_and_empty(tl):
    fig, ax = plt.subplots()
    tl.record("w", RUNNING, 0, 1)
    assert tl.plot(ax=ax) is fig
    plt.close(fig)


def test_plot_10000_spans_fast_enough(tl):
    for i in range(10_000):
        tl.record(f"lane-{i % 8}", (RUNNING, SLEEPING)[i % 2], i * 1e-4, i * 1e-4 + 8e-5, f"s{i}")
    start = time.perf_counter()
    fig = tl.plot()
    fig.savefig(__import__("io").BytesIO(), format="png")
    # about 1 s on an idle machine (benchmarks/bench_timeline.py); generous for 2 busy cores
    assert time.perf_counter() - start < 20


def test_main_task_is_the_thread_lane():
    async def main():
        return current_lane()

    assert asyncio.run(main()) == "MainThread"


TIMELINE_MODULES = [
    "course.timeline",
    "course.timeline.base",
    "course.timeline.lanes",
    "course.timeline.primitives",
    "course.timeline.processes",
    "course.timeline.greenlets",
    "course.timeline.chrome",
    "course.timeline.draw",
    "course.timeline.recorder",
    "course.timeline.pictures",
]


@pytest.mark.parametrize("module", TIMELINE_MODULES)
def test_every_public_name_has_an_example(module):
    mod = importlib.import_module(module)
    assert mod.__doc__, module
    for name, obj in vars(mod).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != mod.__name__:
            continue
        if inspect.isclass(obj) or inspect.isfunction(obj):
            assert ">>>" in (obj.__doc__ or ""), name
        if inspect.isclass(obj):
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and callable(member):
                    assert member.__doc__, f"{name}.{attr} has no docstring"
