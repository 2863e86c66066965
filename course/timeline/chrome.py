"""Chrome trace-event JSON (opens in https://ui.perfetto.dev) to and from a Timeline.

Format: https://docs.google.com/document/d/1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU
"""

from __future__ import annotations

import os

from .base import RUNNING


def nesting_tracks(intervals) -> list[int]:
    """Give each ``(start, end)`` interval of one lane a track number so that on
    every track intervals either nest or do not overlap (what Perfetto requires
    of the slices of one thread).  Greedy, in order of start (longest first);
    returns the track of each interval in the order given.

    >>> nesting_tracks([(0, 10), (2, 4), (3, 12), (11, 13)])
    [0, 0, 1, 0]
    """
    order = sorted(range(len(intervals)), key=lambda i: (intervals[i][0], -intervals[i][1]))
    stacks: list[list] = []  # per track: ends of the intervals still open
    tracks = [0] * len(intervals)
    for i in order:
        start, end = intervals[i]
        track = next((t for t, stack in enumerate(stacks) if _fits(stack, start, end)), None)
        if track is None:
            track = len(stacks)
            stacks.append([])
        stacks[track].append(end)
        tracks[i] = track
    return tracks


def _fits(stack: list, start, end) -> bool:
    while stack and stack[-1] <= start:  # intervals that ended before this one starts
        stack.pop()
    return not stack or end <= stack[-1]


def to_chrome_trace(timeline) -> dict:
    """Spans as "X" events (µs since the first event), lanes as "M" thread names,
    marks as "i" instant events, counters as "C" events.

    Times are whole nanoseconds (``ts`` and ``dur`` have three decimals), and
    spans of a lane that overlap without nesting (hand-over-hand lock holds, a
    span that outlives a greenlet's turn) go to extra tracks named
    ``"lane [2]"``, ``"lane [3]"``, ... placed under the lane: on each track
    every pair of slices nests or is disjoint, as the format requires.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); tl.record("w", RUNNING, 1.0, 1.5, "job")
    >>> event = to_chrome_trace(tl)["traceEvents"][-1]
    >>> event["ph"], event["ts"], event["dur"], event["name"]
    ('X', 0.0, 500000.0, 'job')
    >>> tl.record("w", RUNNING, 1.2, 1.8, "overlaps job")
    >>> sorted({e["args"]["name"] for e in to_chrome_trace(tl)["traceEvents"] if e["ph"] == "M"
    ...         and e["name"] == "thread_name"})
    ['w', 'w [2]']
    """
    spans, marks, samples = timeline.spans, timeline.marks, list(timeline.counters)
    lanes = timeline.lanes()
    times = [s.start for s in spans] + [m.t for m in marks] + [t for _, t, _ in samples]
    t0 = min(times) if times else 0.0
    pid = os.getpid()

    def ns(t):
        return round((t - t0) * 1e9)

    by_lane: dict = {lane: [] for lane in lanes}
    for s in spans:
        by_lane[s.lane].append(s)
    tids: dict = {}  # (lane, track) -> tid
    events = []
    placed = []  # (span, start ns, end ns, tid)
    for index, lane in enumerate(lanes):
        items = by_lane[lane]
        bounds = [(ns(s.start), ns(s.end)) for s in items]
        tracks = nesting_tracks(bounds)
        for track in range(max(tracks, default=0) + 1):  # lanes with marks only: one track
            tids[(lane, track)] = tid = len(tids) + 1
            name = lane if track == 0 else f"{lane} [{track + 1}]"
            events.append(
                {"name": "thread_name", "ph": "M", "pid": pid, "tid": tid, "args": {"name": name}}
            )
            events.append(
                {
                    "name": "thread_sort_index",
                    "ph": "M",
                    "pid": pid,
                    "tid": tid,
                    "args": {"sort_index": index * 1000 + track},
                }
            )
        for s, (start, end), track in zip(items, bounds, tracks, strict=True):
            placed.append((s, start, end, tids[(lane, track)]))
    for s, start, end, tid in placed:
        events.append(
            {
                "name": s.label or s.state,
                "cat": s.state,
                "ph": "X",
                "ts": start / 1000,
                "dur": (end - start) / 1000,
                "pid": pid,
                "tid": tid,
                "args": {"lane": s.lane, "state": s.state, "label": s.label},
            }
        )
    for m in marks:
        events.append(
            {
                "name": m.name,
                "ph": "i",
                "s": "t",
                "ts": ns(m.t) / 1000,
                "pid": pid,
                "tid": tids[(m.lane, 0)],
                "args": {"lane": m.lane},
            }
        )
    for name, t, value in samples:
        events.append(
            {"name": name, "ph": "C", "ts": ns(t) / 1000, "pid": pid, "args": {name: value}}
        )
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
