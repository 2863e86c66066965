"""Chrome trace export checked by a validator written from the format's spec,
and lanes that stay apart across processes.

Spec: "Trace Event Format" (Google, the document linked from chrome.py).  What
the validator checks, section by section: the JSON Object Format (a
``traceEvents`` list, ``displayTimeUnit`` "ms" or "ns"); every event has a
``ph``; Duration/Complete events ("X") have ``name``, ``pid``, ``tid``, a
numeric ``ts`` and a non-negative ``dur`` in microseconds; Instant events
("i") have scope ``s`` in g/p/t; Counter events ("C") carry numeric ``args``;
Metadata events ("M") are one of the five named kinds with their ``args``.
And the rule trace viewers enforce (Perfetto: "events are only allowed to
perfectly nest"): on one thread, two complete events either do not overlap or
one contains the other.
"""

import asyncio
import json
import multiprocessing
import threading
import time

import greenlet
import pytest

from course.timeline import HOLDING_LOCK, RUNNING, SLEEPING, Timeline

METADATA = {
    "process_name": "name",
    "process_labels": "labels",
    "process_sort_index": "sort_index",
    "thread_name": "name",
    "thread_sort_index": "sort_index",
}


def trace_errors(trace) -> list[str]:
    """Every way ``trace`` breaks the trace-event format (empty list: valid)."""
    errors = []
    try:
        json.dumps(trace, allow_nan=False)
    except (TypeError, ValueError) as exc:
        return [f"not strict JSON: {exc}"]
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    if isinstance(trace, dict) and trace.get("displayTimeUnit", "ms") not in ("ms", "ns"):
        errors.append("displayTimeUnit must be 'ms' or 'ns'")
    slices: dict = {}
    for n, e in enumerate(events):
        ph = e.get("ph")
        where = f"event {n} ({ph})"
        if not isinstance(ph, str) or len(ph) != 1:
            errors.append(f"{where}: no phase")
            continue
        if ph != "M" and not isinstance(e.get("ts"), int | float):
            errors.append(f"{where}: ts must be a number")
        if ph in "XiIM" and not isinstance(e.get("pid"), int):
            errors.append(f"{where}: pid must be an integer")
        if ph in "XM" and not isinstance(e.get("tid"), int):
            errors.append(f"{where}: tid must be an integer")
        if ph == "X":
            if not isinstance(e.get("name"), str):
                errors.append(f"{where}: name must be a string")
            if not isinstance(e.get("dur"), int | float) or e["dur"] < 0:
                errors.append(f"{where}: dur must be a non-negative number")
            else:
                # whole nanoseconds, as trace processors store them
                start = round(e["ts"] * 1000)
                slices.setdefault((e["pid"], e["tid"]), []).append(
                    (start, start + round(e["dur"] * 1000), n)
                )
        elif ph in "iI":
            if e.get("s", "t") not in ("g", "p", "t"):
                errors.append(f"{where}: scope must be g, p or t")
            if e.get("s", "t") == "t" and not isinstance(e.get("tid"), int):
                errors.append(f"{where}: a thread-scoped instant needs a tid")
        elif ph == "C":
            args = e.get("args")
            if not args or not all(isinstance(v, int | float) for v in args.values()):
                errors.append(f"{where}: counter args must be numbers")
        elif ph == "M":
            key = METADATA.get(e.get("name"))
            if key is None or key not in e.get("args", {}):
                errors.append(f"{where}: unknown metadata {e.get('name')!r}")
    for (pid, tid), items in slices.items():
        items.sort(key=lambda x: (x[0], -x[1]))
        open_ends: list = []
        for start, end, n in items:
            while open_ends and open_ends[-1] <= start:
                open_ends.pop()
            if open_ends and end > open_ends[-1]:
                errors.append(f"event {n}: overlaps without nesting on pid {pid} tid {tid}")
            open_ends.append(end)
    return errors


def test_the_validator_rejects_what_the_format_forbids():
    def x(ts, dur, tid=1):
        return {"name": "s", "ph": "X", "ts": ts, "dur": dur, "pid": 1, "tid": tid}

    assert trace_errors({"traceEvents": [x(0, 10), x(2, 3), x(10, 1)]}) == []
    assert trace_errors({"traceEvents": [x(0, 10), x(5, 10, tid=2)]}) == []
    assert "overlaps without nesting" in trace_errors({"traceEvents": [x(0, 10), x(5, 10)]})[0]
    assert trace_errors({"traceEvents": [x(0, -1)]}) == [
        "event 0 (X): dur must be a non-negative number"
    ]
    assert trace_errors({"traceEvents": [{"ph": "i", "ts": 0, "pid": 1, "tid": 1, "s": "x"}]})
    assert trace_errors({"traceEvents": [x(float("nan"), 1)]})[0].startswith("not strict JSON")
    assert trace_errors({"traceEvents": [{"ph": "M", "name": "thread_name", "pid": 1, "tid": 1}]})


def thread_names(trace):
    return {
        e["tid"]: e["args"]["name"]
        for e in trace["traceEvents"]
        if e["ph"] == "M" and e["name"] == "thread_name"
    }


def test_hand_over_hand_lock_holds_go_to_a_second_track():
    tl = Timeline()
    a, b, c = tl.Lock("a"), tl.Lock("b"), tl.Lock("c")
    a.acquire()
    b.acquire()  # hand over hand: take the next before letting go of the previous
    a.release()
    c.acquire()
    b.release()
    c.release()
    holds = [s for s in tl.spans if s.state == HOLDING_LOCK]
    assert [s.label for s in holds] == ["a", "b", "c"]
    trace = tl.to_chrome_trace()
    assert trace_errors(trace) == []
    assert sorted(thread_names(trace).values()) == ["MainThread", "MainThread [2]"]
    back = Timeline.from_chrome_trace(trace)
    assert [(s.lane, s.label) for s in back.spans] == [(s.lane, s.label) for s in tl.spans]


def test_a_span_that_outlives_a_greenlets_turn_exports_valid():
    tl = Timeline()

    def worker():
        with tl.span(SLEEPING, "across a switch"):
            other.switch()  # the worker's running span ends here, the user span does not

    def other_body():
        main.switch()

    main = greenlet.getcurrent()
    glet = greenlet.greenlet(worker)
    glet.name = "worker"
    other = greenlet.greenlet(other_body)
    with tl.greenlets():
        glet.switch()
        glet.switch()
    worker_spans = [s for s in tl.spans if s.lane == "worker"]
    assert {s.state for s in worker_spans} == {RUNNING, SLEEPING}
    trace = tl.to_chrome_trace()
    assert trace_errors(trace) == []
    assert "worker [2]" in thread_names(trace).values()


def test_threads_queue_and_marks_export_valid():
    tl = Timeline()
    lock, q = tl.Lock("lock"), tl.Queue(1, "q")

    def work(i):
        with tl.span(RUNNING, f"work {i}"):
            with lock:
                q.put(i)
                tl.mark(f"put {i}")
        time.sleep(0.001)

    threads = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(3)]
    for t in threads:
        t.start()
    for _ in threads:
        q.get()
    for t in threads:
        t.join()
    trace = tl.to_chrome_trace()
    assert trace_errors(trace) == []
    kinds = {e["ph"] for e in trace["traceEvents"]}
    assert kinds == {"M", "X", "i", "C"}


def test_record_rejects_an_end_before_the_start():
    tl = Timeline()
    with pytest.raises(ValueError, match="before it starts"):
        tl.record("w", RUNNING, 2.0, 1.0)
    rec = tl.process_recorder()
    with pytest.raises(ValueError, match="before it starts"):
        rec.record("w", RUNNING, 2.0, 1.0)
    tl.close()
    tl.record("w", RUNNING, 1.0, 1.0)  # an instant-long span is fine
    assert tl.to_chrome_trace()["traceEvents"][-1]["dur"] == 0


# --- lanes across processes ---------------------------------------------------------


def _child_with_task_and_greenlet(rec):
    async def fetch():
        with rec.span(SLEEPING, "fetch"):
            await asyncio.sleep(0.001)

    async def main():
        await asyncio.create_task(fetch(), name="Task-2")

    asyncio.run(main())
    glet = greenlet.greenlet(lambda: rec.record(None, RUNNING, 1.0, 2.0, "green"))
    glet.switch()
    rec.flush()


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_tasks_and_greenlets_of_two_children_get_distinct_lanes():
    tl = Timeline()
    ctx = multiprocessing.get_context("fork")
    rec = tl.process_recorder(ctx=ctx)
    procs = [
        ctx.Process(target=_child_with_task_and_greenlet, args=(rec,), name=f"child-{i}")
        for i in range(2)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
        assert p.exitcode == 0
    tl.collect()
    tl.close()
    lanes = {s.lane: s.label for s in tl.spans}
    greenlet_lanes = sorted(lane for lane, label in lanes.items() if label == "green")
    assert sorted(lane for lane, label in lanes.items() if label == "fetch") == [
        "child-0/Task-2",
        "child-1/Task-2",
    ]
    assert len(greenlet_lanes) == 2
    assert [lane.split("/")[0] for lane in greenlet_lanes] == ["child-0", "child-1"]
    assert trace_errors(tl.to_chrome_trace()) == []
