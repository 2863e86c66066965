"""The traced primitives against CPython's own contract for the real ones.

A drop-in replacement must pass the tests the standard library's primitives
pass: the applicable classes of CPython's ``Lib/test/lock_tests.py`` and
``Lib/test/test_queue.py`` (imported from this Python's ``test`` package, not
copied), run here with the traced classes as the type under test.  Left out:
``Barrier`` and ``SimpleQueue`` (no traced version) and the C-accelerated
queue variants (one traced class, subclassing the pure-Python queue).
"""

import queue
import threading
import types
import unittest

import pytest

from course.timeline import Timeline
from course.timeline.primitives import TracedLifoQueue, TracedPriorityQueue, TracedQueue

lock_tests = pytest.importorskip("test.lock_tests", reason="this Python has no test package")
test_queue = pytest.importorskip("test.test_queue", reason="this Python has no test package")


# --- lock_tests.py --------------------------------------------------------------------


class TestTracedLock(lock_tests.LockTests):
    locktype = staticmethod(lambda: Timeline().Lock("lock"))


class TestTracedRLock(lock_tests.RLockTests):
    locktype = staticmethod(lambda: Timeline().RLock("rlock"))


class TestConditionOverTracedRLockAsRLock(lock_tests.RLockTests):
    """As CPython's ConditionAsRLockTests: a Condition exports its lock's API."""

    locktype = staticmethod(lambda: threading.Condition(Timeline().RLock("rlock")))

    def test_recursion_count(self):
        self.skipTest("Condition does not expose _recursion_count()")


class TestConditionOverTracedRLock(lock_tests.ConditionTests):
    """ConditionTests expects the default lock to be an RLock (test_acquire)."""

    condtype = staticmethod(
        lambda lock=None: threading.Condition(Timeline().RLock() if lock is None else lock)
    )


class TestTracedEvent(lock_tests.EventTests):
    eventtype = staticmethod(lambda: Timeline().Event("event"))


class TestTracedSemaphore(lock_tests.SemaphoreTests):
    semtype = staticmethod(lambda value=1: Timeline().Semaphore(value, "semaphore"))


class TestTracedBoundedSemaphore(lock_tests.BoundedSemaphoreTests):
    semtype = staticmethod(lambda value=1: Timeline().BoundedSemaphore(value, "semaphore"))


# --- test_queue.py --------------------------------------------------------------------
# The base classes pick the expected order by the class name and build queues as
# ``self.queue.Queue(maxsize)``: give them classes with the stdlib's names and signature.


class Queue(TracedQueue):
    def __init__(self, maxsize=0):
        super().__init__(Timeline(), maxsize, "queue")


class LifoQueue(TracedLifoQueue):
    def __init__(self, maxsize=0):
        super().__init__(Timeline(), maxsize, "lifo")


class PriorityQueue(TracedPriorityQueue):
    def __init__(self, maxsize=0):
        super().__init__(Timeline(), maxsize, "priority")


traced_queue = types.SimpleNamespace(
    Queue=Queue,
    LifoQueue=LifoQueue,
    PriorityQueue=PriorityQueue,
    Empty=queue.Empty,
    Full=queue.Full,
)
if hasattr(queue, "ShutDown"):  # Python 3.13+: Queue.shutdown() and its tests
    traced_queue.ShutDown = queue.ShutDown


class TestTracedQueue(test_queue.QueueTest, unittest.TestCase):
    queue = traced_queue


class TestTracedLifoQueue(test_queue.LifoQueueTest, unittest.TestCase):
    queue = traced_queue


class TestTracedPriorityQueue(test_queue.PriorityQueueTest, unittest.TestCase):
    queue = traced_queue


class TestTracedFailingQueue(test_queue.FailingQueueTest, unittest.TestCase):
    queue = traced_queue


# --- the calls the stdlib refuses, side by side ----------------------------------------


def _outcome(call):
    try:
        return ("returned", call())
    except Exception as exc:  # the exception itself is what is compared
        return (type(exc), str(exc))


REFUSED = {
    "Lock().acquire(False, 1)": lambda m: m.Lock().acquire(False, 1),
    "Lock().acquire(timeout=1e100)": lambda m: m.Lock().acquire(timeout=1e100),
    "Lock().acquire(timeout=-2)": lambda m: m.Lock().acquire(timeout=-2),
    "Lock().acquire(timeout='x')": lambda m: m.Lock().acquire(timeout="x"),
    "RLock().acquire(False, 1)": lambda m: m.RLock().acquire(False, 1),
    "owned RLock().acquire(False, 1)": lambda m: _twice(m.RLock(), (False, 1)),
    "Semaphore(2).acquire(False, timeout=1)": lambda m: m.Semaphore(2).acquire(False, timeout=1),
    "Semaphore(-1)": lambda m: m.Semaphore(-1),
    "Queue(5).put(1, timeout=-1)": lambda m: m.Queue(5).put(1, timeout=-1),
    "Queue().get(timeout=-1)": lambda m: m.Queue().get(timeout=-1),
    "Queue(5).get(timeout=-1) with an item": lambda m: _put_get(m.Queue(5)),
}


def _twice(lock, args):
    lock.acquire()
    return lock.acquire(*args)


def _put_get(q):
    q.put(1)
    return q.get(timeout=-1)


STDLIB = types.SimpleNamespace(
    Lock=threading.Lock,
    RLock=threading.RLock,
    Semaphore=threading.Semaphore,
    Queue=queue.Queue,
)


def _traced():
    tl = Timeline()
    return types.SimpleNamespace(
        Lock=tl.Lock, RLock=tl.RLock, Semaphore=lambda v=1: tl.Semaphore(v), Queue=tl.Queue
    )


@pytest.mark.parametrize("call", REFUSED, ids=list(REFUSED))
def test_traced_primitive_refuses_what_the_stdlib_refuses(call):
    expected = _outcome(lambda: REFUSED[call](STDLIB))
    assert expected[0] is not None
    assert _outcome(lambda: REFUSED[call](_traced())) == expected
