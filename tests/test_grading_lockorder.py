"""LockOrderChecker: edges, cycles, self-deadlock, RLock, install, isolation."""

import pickle
import threading

import pytest

from course.grading import LockOrderChecker


def test_edges_and_cycle_without_deadlock():
    checker = LockOrderChecker()
    a, b = checker.Lock("a.lock"), checker.Lock("b.lock")

    def transfer(x, y):
        with x:
            with y:
                pass

    t = threading.Thread(target=transfer, args=(a, b), name="one")
    t.start()
    t.join()
    assert set(checker.edges) == {("a.lock", "b.lock")}
    thread, where = checker.edges[("a.lock", "b.lock")]
    assert thread == "one" and "in transfer()" in where and "`with y:`" in where
    checker.assert_no_cycle()  # consistent so far
    transfer(b, a)
    with pytest.raises(AssertionError) as info:
        checker.assert_no_cycle()
    message = str(info.value)
    assert message.startswith("possible deadlock: one took b.lock at line")
    assert "while holding a.lock" in message and "another call (MainThread)" in message
    assert "one global order" in message
    assert pickle.loads(pickle.dumps(checker.edges)) == checker.edges


def test_self_edge_for_non_reentrant_lock_and_rlock_reentry():
    checker = LockOrderChecker()
    r = checker.RLock("r")
    with r:
        with r:
            pass
    assert checker.edges == {}
    lock = checker.Lock("l")
    lock.acquire()
    assert not lock.acquire(timeout=0.01)
    lock.release()
    with pytest.raises(
        AssertionError, match="certain deadlock: MainThread takes l .* not reentrant"
    ):
        checker.assert_no_cycle()


def test_three_cycle_and_acquire_release_style():
    checker = LockOrderChecker()
    a, b, c = (checker.Lock(n) for n in "abc")
    for x, y in [(a, b), (b, c), (c, a)]:
        x.acquire()
        y.acquire()
        y.release()
        x.release()
    cycle = checker.find_cycle()
    assert cycle == [("a", "b"), ("b", "c"), ("c", "a")]


def test_condition_on_checked_rlock():
    checker = LockOrderChecker()
    cond = threading.Condition(checker.RLock("cond"))
    ready = []

    def waiter():
        with cond:
            cond.wait_for(lambda: ready, timeout=5)

    t = threading.Thread(target=waiter)
    t.start()
    with cond:
        ready.append(1)
        cond.notify_all()
    t.join(5)
    assert not t.is_alive()
    assert checker.statistics()["held"] == {}


class Account:
    def __init__(self, name=None):
        if name:
            self.name = name
        self.lock = threading.Lock()
        self.balance = 100


def test_install_names():
    checker = LockOrderChecker()
    a, b = Account(), Account()
    checker.install({"a": a, "b": b})
    assert (a.lock.name, b.lock.name) == ("a.lock", "b.lock")
    x = Account("alice")
    checker.install([x, Account()])
    assert x.lock.name == "alice.lock"
    assert not x.lock.locked()


def test_check_in_child_process_merges_edges():
    checker = LockOrderChecker()
    a, b = Account(), Account()
    checker.install({"a": a, "b": b})

    def ordered():
        with a.lock, b.lock:
            return "done"

    assert checker.check(ordered, timeout=5) == "done"
    assert ("a.lock", "b.lock") in checker.edges

    def reverse():
        with b.lock, a.lock:
            pass

    with pytest.raises(AssertionError, match="possible deadlock"):
        checker.check(reverse, timeout=5)


class CondAccount:
    """A correct alternative: the account's lock is a Condition (which wraps an RLock)."""

    def __init__(self, name, balance):
        self.name = name
        self.balance = balance
        self.lock = threading.Condition()

    def deposit(self, n):
        with self.lock:
            self.balance += n
            self.lock.notify_all()


def cond_transfer(src, dst, n):
    first, second = sorted((src, dst), key=lambda a: a.name)
    with first.lock:
        with second.lock:
            src.balance -= n
            dst.deposit(n)  # takes dst.lock again: fine, a Condition() is reentrant


def test_install_keeps_a_condition_a_reentrant_condition():
    checker = LockOrderChecker()
    a, b = CondAccount("a", 10), CondAccount("b", 10)
    made = checker.install([a, b])
    assert all(isinstance(m, threading.Condition) for m in made)
    assert [type(m._lock).__name__ for m in made] == ["_CheckedRLock", "_CheckedRLock"]
    threads = [
        threading.Thread(target=cond_transfer, args=(a, b, 1)),
        threading.Thread(target=cond_transfer, args=(b, a, 2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    checker.assert_no_cycle()  # no "certain deadlock", no "not reentrant"
    assert (a.balance, b.balance) == (11, 9)
    assert set(checker.edges) == {("a.lock", "b.lock")}


def test_condition_around_a_checked_lock_waits_without_a_false_self_edge():
    checker = LockOrderChecker()
    cond = threading.Condition(checker.Lock("cond"))
    ready = []

    def consumer():
        with cond:
            while not ready:
                cond.wait(5)

    t = threading.Thread(target=consumer)
    t.start()
    with cond:
        ready.append(1)
        cond.notify()
    t.join(10)
    assert not t.is_alive() and checker.edges == {}
    checker.assert_no_cycle()
    # a real second blocking acquire of a Lock is still a certain deadlock
    lock = checker.Lock("x")
    with lock:
        assert lock.acquire(blocking=False) is False  # a trylock: no edge
    assert checker.edges == {}
