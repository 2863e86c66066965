"""Timeline pictures that stay readable: labels measured with matplotlib's renderer,
bars that stay visible, a legend of what is drawn, and one time axis for comparisons."""

import itertools

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from course.timeline import (  # noqa: E402
    HOLDING_LOCK,
    QUEUE_PUT,
    RUNNING,
    SLEEPING,
    WAITING_LOCK,
    Timeline,
    plot_compare,
)
from course.timeline.draw import BAR_LABEL, COLOURS, MARK_LABEL, MIN_BAR_PX  # noqa: E402

MS = 1e-3


def coarse_lock_timeline(workers=4, hold_ms=20.0):
    """What notebook 05's coarse-lock run records: holds queue up, private work inside."""
    tl = Timeline()
    for i in range(workers):
        lane = f"worker-{i}"
        start = i * hold_ms * MS
        if i:
            tl.record(lane, WAITING_LOCK, 0.0, start, "total_lock")
        tl.record(lane, HOLDING_LOCK, start, start + hold_ms * MS, "total_lock")
        tl.record(lane, SLEEPING, start + 0.05 * MS, start + (hold_ms - 0.05) * MS, "private work")
        tl.mark(f"done {i}", lane=lane, t=start + hold_ms * MS)
    return tl


def drawn_texts(fig):
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    texts = {BAR_LABEL: [], MARK_LABEL: []}
    for ax in fig.axes:
        for text in ax.texts:
            if text.get_gid() in texts:
                texts[text.get_gid()].append((ax, text, text.get_window_extent(renderer)))
    return texts


def bar_box(ax, tl, text):
    """Display box of the bar a label belongs to (the widest span with that label
    on the label's row; nested spans are thinner, as drawn)."""
    lanes = tl.lanes()
    row = round(text.get_position()[1])
    t0 = min([s.start for s in tl.spans] + [m.t for m in tl.marks])
    spans = [s for s in tl.spans if s.label == text.get_text() and lanes.index(s.lane) == row]
    boxes = []
    for s in spans:
        depth = sum(
            1
            for o in tl.spans
            if o.lane == s.lane
            and o is not s
            and o.start <= s.start
            and s.end <= o.end
            and (o.start, -o.end) < (s.start, -s.end)
        )
        half = 0.76 * 0.6**depth / 2
        (x0, y0), (x1, y1) = ax.transData.transform(
            [((s.start - t0) / MS, row - half), ((s.end - t0) / MS, row + half)]
        )
        boxes.append((min(x0, x1), min(y0, y1), max(x0, x1), max(y0, y1)))
    return boxes


def assert_readable(fig, tl_of_axes):
    texts = drawn_texts(fig)
    everything = texts[BAR_LABEL] + texts[MARK_LABEL]
    for (_, a, box_a), (_, b, box_b) in itertools.combinations(everything, 2):
        assert not box_a.overlaps(box_b), f"{a.get_text()!r} overlaps {b.get_text()!r}"
    for ax, text, box in texts[BAR_LABEL]:
        inside = [
            b
            for b in bar_box(ax, tl_of_axes[ax], text)
            if b[0] <= box.x0 and box.x1 <= b[2] and b[1] <= box.y0 and box.y1 <= b[3]
        ]
        assert inside, f"label {text.get_text()!r} leaves its bar"
    for ax, text, box in texts[MARK_LABEL]:
        frame = ax.get_window_extent()
        assert frame.x0 <= box.x0 and box.x1 <= frame.x1, (
            f"mark {text.get_text()!r} leaves the axes"
        )
    return texts


def test_crowded_labels_are_dropped_or_moved_never_piled_up():
    tl = coarse_lock_timeline()
    fig = tl.plot(title="coarse")
    texts = assert_readable(fig, {fig.axes[0]: tl})
    labels = [t.get_text() for _, t, _ in texts[BAR_LABEL]]
    assert labels.count("private work") == 4  # every nested bar keeps its label
    assert len(texts[MARK_LABEL]) >= 3  # marks at bar ends: kept where they fit


def test_label_moves_to_the_end_of_its_bar_when_the_middle_is_taken():
    tl = Timeline()
    tl.record("w", HOLDING_LOCK, 0.0, 100 * MS, "outer label")
    tl.record("w", SLEEPING, 40 * MS, 60 * MS, "inner")
    fig = tl.plot()
    texts = assert_readable(fig, {fig.axes[0]: tl})
    placed = {t.get_text(): t.get_horizontalalignment() for _, t, _ in texts[BAR_LABEL]}
    assert placed == {"inner": "center", "outer label": "left"}


def test_a_label_wider_than_its_bar_is_dropped():
    tl = Timeline()
    tl.record("w", RUNNING, 0.0, 100 * MS, "long enough")
    tl.record("v", RUNNING, 0.0, 0.5 * MS, "a label far too long for a sliver of a bar")
    fig = tl.plot()
    texts = assert_readable(fig, {fig.axes[0]: tl})
    assert [t.get_text() for _, t, _ in texts[BAR_LABEL]] == ["long enough"]


def test_many_threads_real_run_stays_readable():
    import threading
    import time

    tl = Timeline()
    lock = tl.Lock("lock")

    def work(i):
        with tl.span(RUNNING, f"work {i}"):
            time.sleep(0.002)
        with lock:
            tl.sleep(0.002, "crit")
        tl.mark(f"end {i}")

    threads = [threading.Thread(target=work, args=(i,), name=f"w{i}") for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    fig = tl.plot()
    assert_readable(fig, {fig.axes[0]: tl})


def _bar_widths_px(fig, ax, state):
    FigureCanvasAgg(fig).draw()
    colour = to_rgba(COLOURS[state])
    widths = []
    for coll in ax.collections:
        if len(coll.get_facecolor()) and tuple(coll.get_facecolor()[0]) == colour:
            for path in coll.get_paths():
                xs = ax.transData.transform(path.vertices)[:, 0]
                widths.append(xs.max() - xs.min())
    return widths


def test_short_holds_stay_visible_and_instant_spans_are_not_drawn_nor_listed():
    tl = Timeline()
    tl.record("w", RUNNING, 0.0, 100 * MS, "work")
    for i in range(5):  # 20 µs holds in a 100 ms picture: well under a pixel
        tl.record("v", HOLDING_LOCK, i * 20 * MS, i * 20 * MS + 20e-6, "lock")
    tl.record("v", QUEUE_PUT, 50 * MS, 50 * MS + 1e-7)  # a put that did not block
    fig = tl.plot()
    ax = fig.axes[0]
    widths = _bar_widths_px(fig, ax, HOLDING_LOCK)
    assert len(widths) == 5 and min(widths) >= MIN_BAR_PX - 0.01
    assert _bar_widths_px(fig, ax, QUEUE_PUT) == []
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == [RUNNING, HOLDING_LOCK]


def test_compare_draws_timelines_on_one_time_axis():
    slow, fast = coarse_lock_timeline(hold_ms=20.0), coarse_lock_timeline(hold_ms=5.0)
    before = plt.get_fignums()
    fig = plot_compare([slow, fast], titles=["coarse", "fine"], title="same work")
    assert plt.get_fignums() == before
    top, bottom = fig.axes
    assert top.get_xlim() == bottom.get_xlim()
    assert top.get_xlim()[1] == pytest.approx(80 * 1.02)  # the longer run sets the axis
    assert [top.get_title(), bottom.get_title()] == ["coarse", "fine"]
    assert fig.get_suptitle() == "same work"
    assert [t.get_text() for t in bottom.get_yticklabels()] == fast.lanes()
    assert_readable(fig, {top: slow, bottom: fast})
    with pytest.raises(ValueError, match="titles"):
        plot_compare([slow, fast], titles=["one"])


def test_xlim_fixes_the_axis_of_a_single_plot():
    tl = coarse_lock_timeline(hold_ms=5.0)
    fig = tl.plot(xlim=(0, 85))
    assert fig.axes[0].get_xlim() == (0, 85)
    assert_readable(fig, {fig.axes[0]: tl})


def test_empty_timeline_draws_an_empty_figure():
    fig = Timeline().plot(title="nothing yet")
    (ax,) = fig.axes
    assert ax.get_title() == "nothing yet" and ax.get_legend() is None
    assert len(ax.collections) == 0 and len(ax.texts) == 0
