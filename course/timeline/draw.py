"""Drawing one Timeline, or several on one time axis, with matplotlib.

Drawing: one ``broken_barh`` call per (state, nesting depth), so 10,000 spans
draw in a fraction of a second.  Bars narrower than ``MIN_BAR_PX`` pixels are
widened to it so short lock holds stay visible; spans far below a pixel (a
``put`` that did not block) are not drawn, and the legend lists only the states
that were drawn.  Labels are placed after the layout is final, measured with
matplotlib's renderer: a label is kept only where it fits inside its bar
without touching another label (centred, else moved to the bar's left or right
end), so text never piles up.  The legend sits to the right of the axes.

The figure is closed in pyplot's registry before it is returned when the
backend is non-interactive (Jupyter's inline backend, Agg): Jupyter then
shows the returned Figure exactly once, and a loop of plots never trips
matplotlib's "too many open figures" warning (stderr would cost points in
an nbgrader test cell).

>>> from course.timeline import Timeline
>>> a, b = Timeline(), Timeline()
>>> a.record("w", RUNNING, 0.0, 0.08, "slow"); b.record("w", RUNNING, 0.0, 0.02, "fast")
>>> fig = plot_compare([a, b], titles=["before", "after"])
>>> [ax.get_xlim() == fig.axes[0].get_xlim() for ax in fig.axes]
[True, True]
"""

from __future__ import annotations

from .base import HOLDING_LOCK, QUEUE_GET, QUEUE_PUT, RUNNING, SLEEPING, WAITING, WAITING_LOCK

__all__ = ["COLOURS", "plot", "plot_compare", "shown_once"]

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
MIN_BAR_PX = 3.0  # a bar is drawn at least this wide ...
MIN_SPAN_PX = 0.05  # ... unless its span is shorter than this: then it is not drawn
LABEL_PAD_PX = 2.0  # room between a label and the edge of its bar
BAR_LABEL = "bar-label"  # gid of the labels inside bars
MARK_LABEL = "mark-label"  # gid of the labels of marks


def _colour(state: str, extra: dict) -> str:
    if state in COLOURS:
        return COLOURS[state]
    if state not in extra:
        extra[state] = _EXTRA_COLOURS[len(extra) % len(_EXTRA_COLOURS)]
    return extra[state]


def plot(timeline, title=None, labels=True, ax=None, figsize=None, counters=None, xlim=None):
    """Draw ``timeline`` (see ``Timeline.plot``) and return the Figure.

    ``xlim`` = ``(left, right)`` in ms since the timeline's first event fixes the
    x-axis, so separate plots can be compared.

    >>> from course.timeline import Timeline
    >>> tl = Timeline(); tl.record("w", RUNNING, 0.0, 0.002, "job")
    >>> fig = plot(tl, title="one job", xlim=(0, 10))
    >>> fig.axes[0].get_xlabel(), [float(x) for x in fig.axes[0].get_xlim()]
    ('time (ms)', [0.0, 10.0])
    """
    import matplotlib.pyplot as plt

    data = _Data(timeline)
    samples = list(timeline.counters)
    if counters is None:
        counters = bool(samples) and ax is None
    own_figure = ax is None
    cax = None
    if own_figure:
        lanes = max(len(data.lanes), 1)
        height = figsize[1] if figsize else min(1.2 + 0.45 * lanes, 12)
        width = figsize[0] if figsize else 10
        if counters:
            fig, (ax, cax) = plt.subplots(
                2,
                1,
                figsize=(width, height + (0 if figsize else 1.3)),
                sharex=True,
                gridspec_kw={"height_ratios": [lanes, 1.6], "hspace": 0.08},
                constrained_layout=True,
            )
        else:
            fig, ax = plt.subplots(figsize=(width, height), constrained_layout=True)
    else:
        fig = ax.figure
    xlim = xlim or data.default_xlim()
    _draw_lanes(ax, data, xlim, title)
    if cax is not None:
        _draw_counters(cax, samples, data.t0, data.span_ms)
        cax.set_xlabel("time (ms)")
    else:
        ax.set_xlabel("time (ms)")
    if labels:
        _place_labels(fig, [(ax, data)])
    return _finish(fig, own_figure)


def plot_compare(timelines, titles=None, title=None, labels=True, figsize=None):
    """Draw several timelines one above the other on one shared time axis
    (each from its own first event), so that lengths compare at a glance.
    Returns the Figure.

    >>> from course.timeline import Timeline
    >>> coarse, fine = Timeline(), Timeline()
    >>> coarse.record("w", HOLDING_LOCK, 1.0, 1.08); fine.record("w", HOLDING_LOCK, 5.0, 5.02)
    >>> fig = plot_compare([coarse, fine], titles=["coarse", "fine"], title="one lock")
    >>> [ax.get_title() for ax in fig.axes], bool(fig.axes[0].get_xlim()[1] > 80)
    (['coarse', 'fine'], True)
    """
    import matplotlib.pyplot as plt

    datas = [_Data(tl) for tl in timelines]
    if not datas:
        raise ValueError("plot_compare needs at least one timeline")
    titles = list(titles) if titles is not None else [None] * len(datas)
    if len(titles) != len(datas):
        raise ValueError(f"{len(datas)} timelines but {len(titles)} titles")
    rows = [max(len(d.lanes), 1) for d in datas]
    width = figsize[0] if figsize else 10
    height = figsize[1] if figsize else min(0.9 * len(datas) + 0.45 * sum(rows), 16)
    fig, axes = plt.subplots(
        len(datas),
        1,
        figsize=(width, height),
        sharex=True,
        squeeze=False,
        gridspec_kw={"height_ratios": rows},
        constrained_layout=True,
    )
    axes = [row[0] for row in axes]
    right = max(d.span_ms for d in datas) * 1.02
    xlim = (-right * 0.01, right)
    for ax, data, sub_title in zip(axes, datas, titles, strict=True):
        _draw_lanes(ax, data, xlim, sub_title)
    axes[-1].set_xlabel("time (ms)")
    if title:
        fig.suptitle(title)
    if labels:
        _place_labels(fig, list(zip(axes, datas, strict=True)))
    return _finish(fig, True)


class _Data:
    """One timeline read once: spans, marks, lanes, rows and the time origin."""

    def __init__(self, timeline):
        self.spans = timeline.spans
        self.marks = timeline.marks
        self.lanes = timeline.lanes()
        self.row = {lane: i for i, lane in enumerate(self.lanes)}
        times = [s.start for s in self.spans] + [m.t for m in self.marks]
        times += [t for _, t, _ in timeline.counters]
        self.t0 = min(times) if times else 0.0
        t_end = max([s.end for s in self.spans] + times) if times else 0.0
        self.span_ms = max((t_end - self.t0) * 1000, 1e-3)
        self.depths = _nesting_depths(self.spans)
        self.drawn: list = []  # (span, depth, x0, width) of every bar drawn

    def default_xlim(self):
        return (-self.span_ms * 0.01, self.span_ms * 1.02)

    def x(self, t):
        return (t - self.t0) * 1000


def _bar_height(depth: int) -> float:
    return 0.76 * 0.6**depth  # a span nested in another is drawn thinner, on top


def _draw_lanes(ax, data, xlim, title):
    """Bars, marks, lane names, legend of the states drawn."""
    ax.set_xlim(*xlim)
    width_px = max(ax.figure.get_figwidth() * ax.figure.dpi * ax.get_position().width, 1.0)
    ms_per_px = (xlim[1] - xlim[0]) / width_px
    extra: dict = {}
    bars: dict = {}  # (state, depth) -> {row: [(x, width), ...]}
    for s, depth in zip(data.spans, data.depths, strict=True):
        width = s.duration * 1000
        if width < MIN_SPAN_PX * ms_per_px:
            continue
        x0 = data.x(s.start)
        bars.setdefault((s.state, depth), {}).setdefault(data.row[s.lane], []).append(
            (x0, max(width, MIN_BAR_PX * ms_per_px))
        )
        data.drawn.append((s, depth, x0, width))
    for (state, depth), by_row in sorted(bars.items(), key=lambda item: item[0][1]):
        colour = _colour(state, extra)
        height = _bar_height(depth)
        for r, ranges in by_row.items():
            ax.broken_barh(ranges, (r - height / 2, height), facecolors=colour, edgecolor="none")
    order = {state: i for i, state in enumerate(COLOURS)}
    states = dict.fromkeys(state for state, _ in bars)
    for state in sorted(states, key=lambda st: order.get(st, len(order))):
        ax.bar(0, 0, width=0, color=_colour(state, extra), label=state)  # legend entries
    if data.marks:
        xs = [data.x(m.t) for m in data.marks]
        ys = [data.row[m.lane] - 0.42 for m in data.marks]
        ax.scatter(xs, ys, marker="v", s=36, color="black", zorder=3, label="mark")
    lanes = data.lanes
    ax.set_yticks(range(len(lanes)), lanes)
    ax.set_ylim(len(lanes) - 0.5, -0.7)  # first lane on top
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    if title:
        ax.set_title(title)
    if states or data.marks:
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)


def _draw_counters(cax, samples, t0, span_ms):
    names = list(dict.fromkeys(name for name, _, _ in samples))
    for name in names:
        pts = sorted((t, v) for n, t, v in samples if n == name)
        xs = [(t - t0) * 1000 for t, _ in pts] + [span_ms]
        ys = [v for _, v in pts] + [pts[-1][1]]
        cax.step(xs, ys, where="post", label=f"{name} size")
    cax.set_ylabel("queue size", fontsize=8)
    cax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    cax.grid(alpha=0.3)


def _place_labels(fig, panels):
    """Add bar and mark labels where they fit (see the module docstring)."""
    fig.draw_without_rendering()  # the final layout: axes no longer move
    for ax, data in panels:
        taken: list = []  # display boxes of the labels kept so far
        axes_box = ax.get_window_extent()
        # A label stays off the thinner bars drawn on top of its own bar.
        nested = [d for d in data.drawn if d[1] > 0]
        on_top: dict = {}  # row -> [(depth, display box)]
        for (s, depth, _, _), box in zip(nested, _bar_boxes(ax, data, nested, 0), strict=True):
            on_top.setdefault(data.row[s.lane], []).append((depth, box))
        candidates = [d for d in data.drawn if d[0].label]
        # Nested (more specific) spans first, then the widest.
        candidates.sort(key=lambda d: (-d[1], -d[3]))
        kept = 0
        for (s, depth, x0, width), bar in zip(
            candidates, _bar_boxes(ax, data, candidates, 4 * LABEL_PAD_PX), strict=True
        ):
            if kept >= MAX_LABELS:
                break
            if bar is None:
                continue
            r = data.row[s.lane]
            blocked = [box for d, box in on_top.get(r, ()) if d > depth]
            for x, ha in (((x0 + width / 2), "center"), (x0, "left"), (x0 + width, "right")):
                text = ax.text(x, r, s.label, ha=ha, va="center", fontsize=8, gid=BAR_LABEL)
                text.set_in_layout(False)
                if ha != "center":
                    shift = LABEL_PAD_PX if ha == "left" else -LABEL_PAD_PX
                    text.set_transform(ax.transData + _px_offset(fig, shift))
                box = text.get_window_extent()
                if (
                    _inside(box, bar, LABEL_PAD_PX)
                    and not _hits(box, taken)
                    and not _hits(box, blocked)
                ):
                    taken.append(box)
                    kept += 1
                    break
                text.remove()
        if len(data.marks) <= MAX_LABELS:
            for m in data.marks:
                xy = (data.x(m.t), data.row[m.lane] - 0.42)
                for offset, ha in (((2, 3), "left"), ((-2, 3), "right")):
                    text = ax.annotate(
                        m.name,
                        xy,
                        xytext=offset,
                        textcoords="offset points",
                        ha=ha,
                        fontsize=7,
                        gid=MARK_LABEL,
                    )
                    text.set_in_layout(False)
                    box = text.get_window_extent()
                    if _inside(box, axes_box, 0) and not _hits(box, taken):
                        taken.append(box)
                        break
                    text.remove()


def _bar_boxes(ax, data, drawn, min_px):
    """Display boxes of the drawn bars (clipped to the axes), None where a bar
    is narrower than ``min_px``: all bars transformed in one call."""
    import numpy as np
    from matplotlib.transforms import Bbox

    if not drawn:
        return []
    halves = [_bar_height(depth) / 2 for _, depth, _, _ in drawn]
    rows = [data.row[s.lane] for s, _, _, _ in drawn]
    low = [(x0, r - h) for (_, _, x0, _), r, h in zip(drawn, rows, halves, strict=True)]
    high = [(x0 + w, r + h) for (_, _, x0, w), r, h in zip(drawn, rows, halves, strict=True)]
    corners = ax.transData.transform(np.array(low + high, dtype=float))
    a, b = corners[: len(drawn)], corners[len(drawn) :]
    x0s, x1s = np.minimum(a[:, 0], b[:, 0]), np.maximum(a[:, 0], b[:, 0])
    y0s, y1s = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    frame = ax.get_window_extent()
    x0s, x1s = np.maximum(x0s, frame.x0), np.minimum(x1s, frame.x1)
    wide = (x1s - x0s) >= min_px
    return [
        Bbox.from_extents(x0, y0, x1, y1) if ok else None
        for x0, y0, x1, y1, ok in zip(
            x0s.tolist(), y0s.tolist(), x1s.tolist(), y1s.tolist(), wide.tolist(), strict=True
        )
    ]


def _px_offset(fig, dx_px):
    from matplotlib.transforms import ScaledTranslation

    return ScaledTranslation(dx_px / fig.dpi, 0, fig.dpi_scale_trans)


def _inside(box, outer, pad) -> bool:
    return (
        box.x0 >= outer.x0 + pad
        and box.x1 <= outer.x1 - pad
        and box.y0 >= outer.y0
        and box.y1 <= outer.y1
    )


def _hits(box, taken) -> bool:
    return any(box.overlaps(other) for other in taken)


def _finish(fig, own_figure):
    return shown_once(fig) if own_figure else fig


def shown_once(fig):
    """Close ``fig`` in pyplot's registry when the backend is non-interactive
    (Jupyter's inline backend, Agg) and return it: Jupyter then shows the
    returned figure exactly once, and many plots never trip matplotlib's
    "too many open figures" warning.

    >>> import matplotlib.pyplot as plt
    >>> fig = shown_once(plt.figure())
    >>> fig.number in plt.get_fignums()
    False
    """
    import matplotlib
    import matplotlib.pyplot as plt

    if _non_interactive(matplotlib.get_backend()):
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
