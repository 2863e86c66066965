"""Chrome trace-event JSON (opens in https://ui.perfetto.dev) to and from a Timeline.

Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
"""

from __future__ import annotations

import os

from .base import RUNNING


def to_chrome_trace(timeline) -> dict:
    """Spans as "X" events (µs since the first event), lanes as "M" thread names,
    marks as "i" instant events, counters as "C" events.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5, "job")
    >>> event = to_chrome_trace(tl)["traceEvents"][-1]
    >>> event["ph"], event["ts"], event["dur"], event["name"]
    ('X', 0.0, 500000.0, 'job')
    """
    spans, marks, samples = timeline.spans, timeline.marks, list(timeline.counters)
    lanes = timeline.lanes()
    times = [s.start for s in spans] + [m.t for m in marks] + [t for _, t, _ in samples]
    t0 = min(times) if times else 0.0
    pid = os.getpid()
    tid = {lane: i + 1 for i, lane in enumerate(lanes)}

    def us(t):
        return round((t - t0) * 1e6, 3)

    events = []
    for lane, i in tid.items():
        events.append(
            {"name": "thread_name", "ph": "M", "pid": pid, "tid": i, "args": {"name": lane}}
        )
        events.append(
            {
                "name": "thread_sort_index",
                "ph": "M",
                "pid": pid,
                "tid": i,
                "args": {"sort_index": i},
            }
        )
    for s in spans:
        events.append(
            {
                "name": s.label or s.state,
                "cat": s.state,
                "ph": "X",
                "ts": us(s.start),
                "dur": round((s.end - s.start) * 1e6, 3),
                "pid": pid,
                "tid": tid[s.lane],
                "args": {"lane": s.lane, "state": s.state, "label": s.label},
            }
        )
    for m in marks:
        events.append(
            {
                "name": m.name,
                "ph": "i",
                "s": "t",
                "ts": us(m.t),
                "pid": pid,
                "tid": tid[m.lane],
                "args": {"lane": m.lane},
            }
        )
    for name, t, value in samples:
        events.append({"name": name, "ph": "C", "ts": us(t), "pid": pid, "args": {name: value}})
    return {"traceEvents": events, "displayTimeUnit": "ms", "otherData": {"t0": t0}}


def from_chrome_trace(timeline, trace: dict):
    """Fill ``timeline`` from a trace written by :func:`to_chrome_trace`.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5, "job")
    >>> from_chrome_trace(Timeline(), to_chrome_trace(tl)).spans == tl.spans
    True
    """
    t0 = float(trace.get("otherData", {}).get("t0", 0.0))
    lane_of = {}
    for e in trace["traceEvents"]:
        if e.get("ph") == "M" and e.get("name") == "thread_name":
            lane_of[(e["pid"], e["tid"])] = e["args"]["name"]
    for e in trace["traceEvents"]:
        ph, args = e.get("ph"), e.get("args", {})
        if ph == "X":
            lane = args.get("lane") or lane_of.get((e["pid"], e["tid"]), str(e["tid"]))
            start = t0 + e["ts"] / 1e6
            timeline.record(
                lane,
                args.get("state", e.get("cat", RUNNING)),
                start,
                start + e["dur"] / 1e6,
                args.get("label", e["name"]),
            )
        elif ph == "i":
            lane = args.get("lane") or lane_of.get((e["pid"], e.get("tid")), "marks")
            timeline.mark(e["name"], lane=lane, t=t0 + e["ts"] / 1e6)
        elif ph == "C":
            for name, value in args.items():
                timeline.count(name, value, t=t0 + e["ts"] / 1e6)
    return timeline
