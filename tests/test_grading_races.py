"""racy() exposes a missing lock every time; stress() reports the first bad trial."""

import os
import threading
import time

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

    lock = threading.Lock()

    def bump_locked():
        for _ in range(5):
            with lock:
                box.value += 1

    for target, check in [(bump, lambda v: v < 100), (bump_locked, lambda v: v == 100)]:
        box.value = 0
        threads = [threading.Thread(target=target) for _ in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert check(box.value), f"{target.__name__}: {box.value}"


def test_stress_messages_and_stats():
    def trial():
        time.sleep(0.01)
        return 1, 1

    stats = stress(trial, repeat=4, name="ok")
    assert stats.trials == 4 and len(stats.times) == 4
    assert all(t >= 0.01 for t in stats.times) and stats.seconds >= sum(stats.times)
    assert stats.mean == stats.seconds / 4
    with pytest.raises(AssertionError, match=r"^race: trial 1 of 3: expected 0, got 37$"):
        stress(lambda: (0, 37), repeat=3, name="race")
    with pytest.raises(AssertionError, match="trial 1 of 2: raised KeyError"):
        stress(lambda: {}["x"], repeat=2, name="k")
    with pytest.raises(AssertionError, match="trial 1 of 2: the check returned False"):
        stress(lambda: False, repeat=2, name="f")
    with pytest.raises(AssertionError, match="trial 1 of 2: own message"):
        stress(lambda: exec("assert False, 'own message'"), repeat=2, name="f")


def test_racy_value_is_not_in_the_instance_dict():
    """Writing or reading obj.__dict__ must not bypass the race window."""
    c = racy(Counter, "num")(100)
    assert "num" not in vars(c) and not any("100" in repr(v) for v in vars(c).values())
    c.__dict__["num"] = 5  # shadowed by the racy property: no effect
    assert c.num == 100

    def bypass(c):  # a solution that writes the instance dict to dodge the window
        d = c.__dict__
        temp = d.get("num", c.num)
        d["num"] = temp - 1

    assert run_100(bypass, racy(Counter, "num")(100)) == 100  # its updates do not count


class Slotted:
    __slots__ = ("num", "lock")

    def __init__(self, start=0):
        self.num = start
        self.lock = threading.Lock()


def test_racy_works_with_slots():
    c = racy(Slotted, "num")(100)
    assert c.num == 100
    assert run_100(decrement_safe, c) == 0
    assert run_100(decrement_unsafe, racy(Slotted, "num")(100)) != 0


class PropertyCounter:
    """A correct alternative: the value behind a read-only property."""

    def __init__(self, start=0):
        self._num = start
        self._lock = threading.Lock()

    @property
    def num(self):
        return self._num

    def decrement(self):
        with self._lock:
            self._num -= 1


class UnsafePropertyCounter(PropertyCounter):
    def decrement(self):
        temp = self._num
        self._num = temp - 1


def run_100_calls(method):
    threads = [threading.Thread(target=method) for _ in range(100)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_racy_read_only_property_reads_the_value_not_the_property():
    c = racy(PropertyCounter, "num")(100)
    assert c.num == 100 and isinstance(c, PropertyCounter)
    with pytest.raises(AttributeError, match="no setter"):
        c.num = 3
    run_100_calls(c.decrement)
    assert c.num == 0  # the correct alternative keeps full marks
    unsafe = racy(UnsafePropertyCounter, "num")(100)
    run_100_calls(unsafe.decrement)
    assert unsafe.num != 0  # the storage behind the property is racy too


class Logged(PropertyCounter):
    """A class with its own __setattr__ (it logs every assignment)."""

    def __setattr__(self, name, value):
        object.__setattr__(self, "last_set", name)
        object.__setattr__(self, name, value)


def test_racy_property_keeps_a_custom_setattr():
    c = racy(Logged, "num")(5)
    assert c.last_set == "_lock" and c.num == 5
    c.decrement()
    assert c.num == 4 and c.last_set == "_num"
