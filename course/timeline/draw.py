"""Drawing a Timeline with matplotlib.

Drawing: one ``broken_barh`` call per (lane, state), so 10,000 spans draw in a
fraction of a second; bar labels only where the bar is wide enough to hold
text; the legend sits to the right of the axes, never on top of the bars.

The figure is closed in pyplot's registry before it is returned when the
backend is non-interactive (Jupyter's inline backend, Agg): Jupyter then
shows the returned Figure exactly once, and a loop of plots never trips
matplotlib's "too many open figures" warning (stderr would cost points in
an nbgrader test cell).
"""

from __future__ import annotations

from .base import HOLDING_LOCK, QUEUE_GET, QUEUE_PUT, RUNNING, SLEEPING, WAITING, WAITING_LOCK

COLOURS = {
    RUNNING: "#2e7d32",  # green: doing work
    HOLDING_LOCK: "#c62828",  # red: inside the critical section
    WAITING_LOCK: "#ef9a9a",  # pale red: queueing for the lock
    SLEEPING: "#90caf9",  # pale blue: sleeping or waiting for IO
    QUEUE_GET: "#ffcc80",  # orange: consumer starved
    QUEUE_PUT: "#ce93d8",  # purple: producer blocked on a full queue
    WAITING: "#bdbdbd",  # grey: event / semaphore
}
_EXTRA_COLOURS = ["#6d4c41", "#00838f", "#f9a825", "#5c6bc0", "#ad1457", "#7cb342"]
MAX_LABELS = 150  # more text than this is unreadable and slow


def _colour(state: str, extra: dict) -> str:
    if state in COLOURS:
        return COLOURS[state]
    if state not in extra:
        extra[state] = _EXTRA_COLOURS[len(extra) % len(_EXTRA_COLOURS)]
    return extra[state]


def plot(timeline, title=None, labels=True, ax=None, figsize=None, counters=None):
    """Draw ``timeline`` (see ``Timeline.plot``) and return the Figure.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); tl.record("w", RUNNING, 0.0, 0.002, "job")
    >>> fig = plot(tl, title="one job")
    >>> fig.axes[0].get_xlabel()
    'time (ms)'
    """
    import matplotlib
    import matplotlib.pyplot as plt

    spans = timeline.spans
    marks = timeline.marks
    lanes = timeline.lanes()
    samples = list(timeline.counters)
    if counters is None:
        counters = bool(samples) and ax is None
    times = [s.start for s in spans] + [m.t for m in marks] + [t for _, t, _ in samples]
    t0 = min(times) if times else 0.0
    t_end = max([s.end for s in spans] + times) if times else 0.0
    span_ms = max((t_end - t0) * 1000, 1e-3)

    own_figure = ax is None
    if own_figure:
        height = figsize[1] if figsize else min(1.2 + 0.45 * max(len(lanes), 1), 12)
        width = figsize[0] if figsize else 10
        if counters:
            fig, (ax, cax) = plt.subplots(
                2,
                1,
                figsize=(width, height + (0 if figsize else 1.3)),
                sharex=True,
                gridspec_kw={"height_ratios": [max(len(lanes), 1), 1.6], "hspace": 0.08},
                constrained_layout=True,
            )
        else:
            fig, ax = plt.subplots(figsize=(width, height), constrained_layout=True)
    else:
        fig = ax.figure
        cax = None

    row = {lane: i for i, lane in enumerate(lanes)}
    extra: dict = {}
    min_visible = span_ms / 1500  # keep sub-pixel spans visible
    bars: dict = {}  # (state, depth) -> {row: [(x, width), ...]}
    depths = _nesting_depths(spans)
    for s, depth in zip(spans, depths, strict=True):
        ranges = bars.setdefault((s.state, depth), {}).setdefault(row[s.lane], [])
        ranges.append(((s.start - t0) * 1000, max((s.end - s.start) * 1000, min_visible)))
    for (state, depth), by_row in sorted(bars.items(), key=lambda item: item[0][1]):
        colour = _colour(state, extra)
        height = 0.76 * 0.6**depth  # a span nested in another is drawn thinner, on top
        for r, ranges in by_row.items():
            ax.broken_barh(ranges, (r - height / 2, height), facecolors=colour, edgecolor="none")
    states = list(dict.fromkeys(s.state for s in spans))
    order = {state: i for i, state in enumerate(COLOURS)}
    for state in sorted(states, key=lambda st: order.get(st, len(order))):
        ax.bar(0, 0, width=0, color=_colour(state, extra), label=state)  # legend entries

    if labels:
        wide = [s for s in spans if s.label and (s.end - s.start) * 1000 > span_ms * 0.06]
        for s in sorted(wide, key=lambda s: s.start - s.end)[:MAX_LABELS]:
            ax.text(
                (s.start + s.end - 2 * t0) * 500,
                row[s.lane],
                s.label,
                ha="center",
                va="center",
                fontsize=8,
                clip_on=True,
            )

    if marks:
        xs = [(m.t - t0) * 1000 for m in marks]
        ys = [row[m.lane] - 0.42 for m in marks]
        ax.scatter(xs, ys, marker="v", s=36, color="black", zorder=3, label="mark")
        if labels and len(marks) <= MAX_LABELS:
            for m, x, y in zip(marks, xs, ys, strict=True):
                ax.annotate(m.name, (x, y), xytext=(2, 3), textcoords="offset points", fontsize=7)

    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.5, -0.7)  # first lane on top
    ax.set_xlim(-span_ms * 0.01, span_ms * 1.02)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    if spans or marks:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)

    if counters and own_figure:
        names = list(dict.fromkeys(name for name, _, _ in samples))
        for name in names:
            pts = sorted((t, v) for n, t, v in samples if n == name)
            xs = [(t - t0) * 1000 for t, _ in pts] + [span_ms]
            ys = [v for _, v in pts] + [pts[-1][1]]
            cax.step(xs, ys, where="post", label=f"{name} size")
        cax.set_ylabel("queue size", fontsize=8)
        cax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
        cax.grid(alpha=0.3)
        cax.set_xlabel("time (ms)")
    else:
        ax.set_xlabel("time (ms)")

    if own_figure and _non_interactive(matplotlib.get_backend()):
        plt.close(fig)
    return fig


def _nesting_depths(spans) -> list[int]:
    """How many earlier spans of the same lane enclose each span (spans are sorted by start)."""
    open_ends: dict = {}  # lane -> stack of end times of enclosing spans
    depths = []
    for s in spans:
        stack = open_ends.setdefault(s.lane, [])
        while stack and stack[-1] <= s.start:
            stack.pop()
        depths.append(min(len(stack), 3))
        if not stack or s.end <= stack[-1]:
            stack.append(s.end)
    return depths


def _non_interactive(backend: str) -> bool:
    name = backend.lower()
    return "inline" in name or name in {"agg", "cairo", "pdf", "pgf", "ps", "svg", "template"}
