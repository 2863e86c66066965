"""Failure pictures (issue 19): every kind of failed check carries its facts and draws a PNG.
(Graded for real by nbgrader, a mutant's failing test cell shows the picture below its message
and the feedback HTML embeds it: tests/test_autograde.py.)"""

import base64
import threading
import time

import pytest

from course.grading import LockOrderChecker, Probe, assert_events, explore, run_isolated
from course.grading.pictures import failure_picture, png_for
from course.timeline.pictures import wait_cycle

PNG = b"\x89PNG\r\n\x1a\n"


def failure_of(check, *args, **kwargs) -> AssertionError:
    with pytest.raises(AssertionError) as info:
        check(*args, **kwargs)
    return info.value


# -- each kind of failure carries its facts, and they draw ------------------------------------

first, second = threading.Lock(), threading.Lock()


def _crossed(a, b):
    with a:
        time.sleep(0.3)
        with b:
            pass


def _opposite_orders():
    threads = [
        threading.Thread(target=_crossed, args=pair, name=name)
        for pair, name in (((first, second), "left"), ((second, first), "right"))
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def test_a_hang_carries_the_wait_for_graph_from_the_child():
    error = failure_of(run_isolated, _opposite_orders, timeout=2)
    facts = error.grading_facts
    assert str(error).startswith("Timed out") and facts["kind"] == "deadlock"
    # both threads call their locks `a` and `b`: the two locks still get two names
    assert facts["held"] == {"left": ["a"], "right": ["a (2)"]}, facts
    assert facts["waiting"] == {"left": "a (2)", "right": "a"}, facts
    assert wait_cycle(facts["held"], facts["waiting"]), facts
    assert png_for(facts).startswith(PNG)


def test_a_lock_order_cycle_is_drawn_as_a_wait_for_cycle():
    checker = LockOrderChecker()
    a, b = checker.Lock("a.lock"), checker.Lock("b.lock")

    def both(x, y):
        with x, y:
            pass

    def scenario():
        both(a, b)
        both(b, a)

    error = failure_of(checker.check, scenario, timeout=5)
    facts = error.grading_facts
    assert "possible deadlock" in str(error) and facts["kind"] == "deadlock"
    assert sorted(facts["waiting"].values()) == ["a.lock", "b.lock"], facts
    assert png_for(facts).startswith(PNG)


class Account:
    def __init__(self):
        self.balance = 100


def _withdraw(acct):
    seen = acct.balance
    acct.balance = seen - 80


def _never_negative(acct):
    assert acct.balance == -60, f"expected -60, got {acct.balance}"


def test_a_losing_schedule_carries_its_steps():
    result = explore(Account, [_withdraw, _withdraw], invariant=_never_negative)
    error = failure_of(result.assert_ok)
    facts = error.grading_facts
    assert facts["kind"] == "schedule" and facts["title"].startswith("expected -60, got 20")
    threads = [thread for thread, _ in facts["steps"]]
    assert len(threads) >= 3 and all(x != y for x, y in zip(threads, threads[1:], strict=False)), (
        facts
    )
    assert "seen = acct.balance" in facts["steps"][0][1]
    assert png_for(facts).startswith(PNG)


def test_an_event_log_mismatch_carries_both_sequences():
    error = failure_of(assert_events, [("p", 1), ("c", 1), ("p", 2)], [("p", 1), ("p", 2), ...])
    facts = error.grading_facts
    assert facts["kind"] == "events" and facts["actual"][1] == "('c', 1)", facts
    assert png_for(facts).startswith(PNG)


def test_a_broken_limit_carries_the_visits():
    probe = Probe("use")
    start = threading.Barrier(4)

    def use():
        start.wait()
        with probe.visit():
            time.sleep(0.05)

    workers = [threading.Thread(target=use) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert probe.assert_at_most(4) == 4
    error = failure_of(probe.assert_at_most, 2, "limit 2")
    assert str(error) == "limit 2: expected at most 2 use calls at once, got 4 at the same time"
    facts = error.grading_facts
    assert facts["kind"] == "limit" and facts["limit"] == 2 and len(facts["intervals"]) == 4
    assert png_for(facts).startswith(PNG)


def test_failure_picture_reads_the_kind_from_the_outputs():
    png = png_for({"kind": "events", "expected": ["a"], "actual": ["b"]})
    outputs = [
        {"output_type": "error", "ename": "AssertionError", "evalue": "expected a, got b"},
        {
            "output_type": "display_data",
            "data": {"image/png": base64.b64encode(png).decode()},
            "metadata": {"grading_failure": "events"},
        },
    ]
    assert failure_picture(outputs) == ("events", png)
    assert failure_picture(outputs[:1]) == ("other", None)
