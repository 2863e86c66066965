"""EventLog and assert_events."""

import pickle
import threading

import pytest

from course.grading import ANY, EventLog, assert_events


def test_event_log_is_thread_safe_and_picklable():
    log = EventLog()

    def work(k):
        for i in range(200):
            log("w", k, i)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(log) == 800 and len(log.times) == 800
    assert log("single") == "single" and log.events[-1] == "single"
    copy = pickle.loads(pickle.dumps(log))
    assert copy.events == log.events


def test_exact_order():
    log = EventLog()
    for e in [("produce", 1), ("consume", 1), ("produce", 2)]:
        log(*e)
    assert_events(log, [("produce", 1), ("consume", 1), ("produce", 2)])
    assert_events(log, [("produce", ANY), ("consume", 1), ("produce", ANY)])
    with pytest.raises(AssertionError) as info:
        assert_events(log, [("produce", 1), ("consume", 1), ("consume", 2)])
    assert str(info.value).startswith(
        "event 3 differs: expected ('consume', 2), got ('produce', 2)\n context"
    )
    with pytest.raises(AssertionError, match="expected 4 events, got only 3: missing"):
        assert_events(log, log.events + [("consume", 2)])
    with pytest.raises(AssertionError, match="unexpected events from event 3 on"):
        assert_events(log, log.events[:2])


def test_allowed_explains_against_closest():
    actual = ["a", "b", "x"]
    assert_events(actual, allowed=[["b", "a", "c"], ["a", "b", "x"]])
    with pytest.raises(AssertionError) as info:
        assert_events(actual, allowed=[["b", "a", "c"], ["a", "b", "c"]])
    assert "closest (allowed order 2)" in str(info.value)
    assert "event 3 differs: expected 'c', got 'x'" in str(info.value)


def test_before_and_any_order():
    actual = [("p", 1), ("p", 2), ("c", 1), ("c", 2)]
    assert_events(actual, before=[(("p", 1), ("c", 1)), (("p", 2), ("c", 2))])
    with pytest.raises(AssertionError, match=r"\('c', 1\) must come before \('p', 2\)"):
        assert_events(actual, before=[(("c", 1), ("p", 2))])
    with pytest.raises(AssertionError, match="never happened"):
        assert_events(actual, before=[(("p", 3), ("c", 3))])
    assert_events(actual, list(reversed(actual)), any_order=True)
    with pytest.raises(AssertionError, match="missing"):
        assert_events(actual, actual[:3] + [("c", 3)], any_order=True)
    assert_events(actual, [("c", ANY)] * 2 + [("p", ANY)] * 2, any_order=True)
    with pytest.raises(TypeError):
        assert_events(actual)
