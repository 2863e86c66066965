"""racy() exposes a missing lock every time; stress() reports the first bad trial."""

import os
import threading

import pytest

from course.grading import racy, racy_value, stress

N = int(os.environ.get("GRADING_REPEAT", "3"))


class Counter:
    total = 0  # class-level default

    def __init__(self, start=0):
        self.num = start
        self.lock = threading.Lock()


def decrement_unsafe(c):
    temp = c.num
    c.num = temp - 1


def decrement_safe(c):
    with c.lock:
        temp = c.num
        c.num = temp - 1


def run_100(target, c):
    threads = [threading.Thread(target=target, args=(c,)) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return c.num


def test_racy_keeps_class_and_attributes():
    Racy = racy(Counter, "num", "total")
    c = Racy(5)
    assert isinstance(c, Counter) and type(c).__name__ == "Counter"
    assert c.num == 5 and c.total == 0
    c.total += 2
    assert c.total == 2 and Counter.total == 0
    with pytest.raises(TypeError):
        racy(Counter)


def test_tutorial_race_caught_every_time():
    """The tutorial's `temp = num; num = temp - 1` with 100 threads: wrong N of N."""
    wrong = sum(run_100(decrement_unsafe, racy(Counter, "num")(100)) != 0 for _ in range(N))
    assert wrong == N


def test_locked_version_never_flagged():
    assert all(run_100(decrement_safe, racy(Counter, "num")(100)) == 0 for _ in range(N))


def test_racy_value_box():
    box = racy_value(0)

    def bump():
        for _ in range(5):
            box.value += 1

    threads = [threading.Thread(target=bump) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert box.value < 100


def test_stress_messages_and_stats():
    stats = stress(lambda: (1, 1), repeat=4, name="ok")
    assert stats.trials == 4 and len(stats.times) == 4 and stats.mean >= 0
    with pytest.raises(AssertionError, match=r"^race: trial 1 of 3: expected 0, got 37$"):
        stress(lambda: (0, 37), repeat=3, name="race")
    with pytest.raises(AssertionError, match="trial 1 of 2: raised KeyError"):
        stress(lambda: {}["x"], repeat=2, name="k")
    with pytest.raises(AssertionError, match="trial 1 of 2: the check returned False"):
        stress(lambda: False, repeat=2, name="f")
    with pytest.raises(AssertionError, match="trial 1 of 2: own message"):
        stress(lambda: exec("assert False, 'own message'"), repeat=2, name="f")
