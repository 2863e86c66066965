"""Failure pictures: each draws its data and highlights what its companion function finds."""

import matplotlib
import pytest

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402

from course.timeline.pictures import (  # noqa: E402
    concurrency_picture,
    first_difference,
    lost_updates,
    peak_concurrency,
    race_picture,
    schedule_picture,
    sequence_picture,
    wait_cycle,
    wait_for_picture,
)


def tagged(fig, gid):
    FigureCanvasAgg(fig).draw()  # every picture renders without error
    ax = fig.axes[0]
    artists = [*ax.collections, *ax.patches, *ax.lines, *ax.texts]
    return [a for a in artists if a.get_gid() == gid]


@pytest.fixture(autouse=True)
def no_figure_left_open():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before


LOST = [("A", "read", 0), ("B", "read", 0), ("A", "write", 1), ("B", "write", 1)]
SAFE = [("A", "read", 0), ("A", "write", 1), ("B", "read", 1), ("B", "write", 2)]


def test_lost_updates_found_and_crossed_out():
    assert lost_updates(LOST) == [2]
    assert lost_updates(SAFE) == []
    # three threads read 0, all write: the first two writes are lost
    three = [(t, "read", 0) for t in "ABC"] + [(t, "write", 1) for t in "ABC"]
    assert lost_updates(three) == [3, 4]
    assert len(tagged(race_picture(LOST, attribute="balance"), "lost-update")) == 1
    fig = race_picture(SAFE)
    assert tagged(fig, "lost-update") == []
    assert fig.axes[0].get_title() == "no lost update of .value"
    with pytest.raises(ValueError, match="op must be"):
        lost_updates([("A", "peek", 0)])


def test_schedule_has_one_bar_per_step_on_its_thread_lane():
    steps = [("t0", "read"), ("t1", "read"), ("t0", "write"), ("t1", "write")]
    fig = schedule_picture(steps, title="losing schedule")
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["t0", "t1"]
    rows = [round(p.get_y() + p.get_height() / 2) for p in ax.patches]
    assert rows == [0, 1, 0, 1]
    assert [t.get_text() for t in ax.texts] == ["read", "read", "write", "write"]
    assert ax.get_title() == "losing schedule"


def test_wait_cycle_and_its_picture():
    held, waiting = {"t1": ["a"], "t2": ["b"], "t3": ["c"]}, {"t1": "b", "t2": "a", "t3": "a"}
    assert wait_cycle(held, waiting) == ["t1", "b", "t2", "a"]
    assert wait_cycle({"t1": ["a"], "t2": ["b"]}, {"t1": "b"}) == []
    assert wait_cycle({"t1": ["a"]}, {"t1": "a"}) == ["t1", "a"]  # waits for its own lock
    assert len(tagged(wait_for_picture(held, waiting), "cycle")) == 4
    fig = wait_for_picture({"t1": ["a"]}, {"t2": "a"})
    assert tagged(fig, "cycle") == [] and fig.axes[0].get_title().startswith("no cycle")


def test_concurrency_over_time_and_the_limit():
    intervals = [(0.0, 0.2), (0.05, 0.25), (0.1, 0.3), (0.3, 0.4)]
    assert peak_concurrency(intervals) == 3
    assert peak_concurrency([(0, 1), (1, 2)]) == 1  # touching intervals do not overlap
    assert peak_concurrency([]) == 0
    over = tagged(concurrency_picture(intervals, limit=2), "over-limit")
    assert len(over) == 1
    assert over[0].get_x() == pytest.approx(100) and over[0].get_width() == pytest.approx(100)
    assert tagged(concurrency_picture(intervals, limit=3), "over-limit") == []


def test_sequence_first_difference_is_marked():
    assert first_difference(["a", "b"], ["a", "b"]) is None
    assert first_difference(["a", "b"], ["a"]) == 1
    assert first_difference(["a", "b", "c"], ["a", "c", "b"]) == 1
    fig = sequence_picture(["put 1", "get 1", "put 2"], ["put 1", "put 2", "get 1"])
    marked = tagged(fig, "first-difference")
    assert len(marked) == 3  # the two boxes and the line
    assert fig.axes[0].get_title() == "first difference at event 1: expected get 1, got put 2"
    fig = sequence_picture(["a"], ["a", "b"])
    assert "expected (no more events), got b" in fig.axes[0].get_title()
    assert tagged(sequence_picture(["a"], ["a"]), "first-difference") == []
