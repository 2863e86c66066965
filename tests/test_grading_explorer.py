"""The interleaving explorer finds the lost update and the AB/BA deadlock with a short
printed schedule, and passes the correct versions after exhausting its bound."""

import queue
import threading
import time

import pytest

from course.grading import explore, racy, run_isolated


class Account:
    def __init__(self, balance):
        self.balance = balance
        self.lock = threading.Lock()


def deposit(acct):
    temp = acct.balance
    acct.balance = temp + 50


def withdraw(acct):
    temp = acct.balance
    acct.balance = temp - 20


def deposit_locked(acct):
    with acct.lock:
        temp = acct.balance
        acct.balance = temp + 50


def withdraw_locked(acct):
    with acct.lock:
        temp = acct.balance
        acct.balance = temp - 20


def add_one_line(acct):
    acct.balance += 50  # one line: only a racy attribute lets the explorer split it


def sub_one_line(acct):
    acct.balance -= 20


def final_balance(acct):
    assert acct.balance == 130, f"final balance {acct.balance}, expected 130"


def new_account():
    return Account(100)


def new_racy_account():
    return racy(Account, "balance")(100)


def new_pair():
    return {"a": Account(100), "b": Account(100)}


def transfer_ab(s):
    with s["a"].lock:
        with s["b"].lock:
            s["a"].balance -= 10
            s["b"].balance += 10


def transfer_ba(s):
    with s["b"].lock:
        with s["a"].lock:
            s["b"].balance -= 10
            s["a"].balance += 10


def transfer_ba_ordered(s):
    with s["a"].lock:
        with s["b"].lock:
            s["b"].balance -= 10
            s["a"].balance += 10


def total_kept(s):
    assert s["a"].balance + s["b"].balance == 200


def timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t0


def test_finds_lost_update_with_short_schedule():
    result, seconds = timed(explore, new_account, [deposit, withdraw], invariant=final_balance)
    assert not result.ok and result.kind == "invariant"
    with pytest.raises(AssertionError) as info:
        result.assert_ok()
    message = str(info.value)
    assert len(message.splitlines()) <= 20, message
    assert "T0" in message and "T1" in message
    assert "line " in message and "temp = acct.balance" in message
    assert "final balance 150, expected 130" in message, message
    assert result.switches == 1
    assert seconds < 10, seconds


def test_racy_attribute_splits_one_line_and_shows_values():
    result = explore(new_racy_account, [add_one_line, sub_one_line], invariant=final_balance)
    assert not result.ok and result.kind == "invariant"
    assert "(reads 100)" in result.trace and "(writes" in result.trace, result.trace


def test_plain_one_line_update_is_atomic_at_line_level():
    result = explore(new_account, [add_one_line, sub_one_line], invariant=final_balance)
    assert result.ok and result.exhausted


@pytest.mark.parametrize("setup", [new_account, new_racy_account], ids=["plain", "racy"])
def test_locked_version_passes_after_exhausting_bound(setup):
    result, seconds = timed(
        explore, setup, [deposit_locked, withdraw_locked], invariant=final_balance, max_switches=2
    )
    assert result.ok, result.trace + "\n" + result.message
    assert result.exhausted and result.schedules_tried > 10
    assert seconds < 10, seconds
    result.assert_ok()


def test_finds_abba_deadlock():
    result, seconds = timed(explore, new_pair, [transfer_ab, transfer_ba], invariant=total_kept)
    assert not result.ok and result.kind == "deadlock", result
    message = result.message
    assert "T0" in message and "T1" in message
    assert "waits to acquire b.lock (held by T1) while holding a.lock" in message, message
    assert "waits to acquire a.lock (held by T0) while holding b.lock" in message, message
    with pytest.raises(AssertionError) as info:
        result.assert_ok()
    assert len(str(info.value).splitlines()) <= 20, str(info.value)
    assert seconds < 10


def test_ordered_transfers_pass():
    result, seconds = timed(
        explore, new_pair, [transfer_ab, transfer_ba_ordered], invariant=total_kept
    )
    assert result.ok and result.exhausted, result.message
    assert seconds < 10


def test_deterministic():
    runs = [explore(new_account, [deposit, withdraw], invariant=final_balance) for _ in range(3)]
    assert len({(r.trace, r.schedules_tried, tuple(r.schedule)) for r in runs}) == 1


def test_self_deadlock():
    def twice(acct):
        with acct.lock:
            with acct.lock:
                pass

    result = explore(new_account, [twice])
    assert result.kind == "deadlock"
    assert "waits to acquire lock (held by T0)" in result.message, result.message


def new_queue_state():
    return {"q": queue.Queue(maxsize=1), "got": []}


def producer(s):
    for i in range(2):
        s["q"].put(i)
    s["q"].put(None)


def consumer(s):
    while (item := s["q"].get()) is not None:
        s["got"].append(item)


def greedy_consumer(s):
    for _ in range(4):  # one get too many: waits for ever
        s["got"].append(s["q"].get())


def test_queue_and_condition_are_cooperative():
    ok = explore(new_queue_state, [producer, consumer], invariant=lambda s: s["got"] == [0, 1])
    assert ok.ok, ok.message
    bad = explore(new_queue_state, [producer, greedy_consumer])
    assert bad.kind == "deadlock", bad
    assert "waits on" in bad.message, bad.message


def test_event_and_semaphore():
    def setup():
        return {"go": threading.Event(), "sem": threading.Semaphore(1), "log": []}

    def waiter(s):
        s["go"].wait()
        with s["sem"]:
            s["log"].append("w")

    def setter(s):
        with s["sem"]:
            s["log"].append("s")
        s["go"].set()

    result = explore(setup, [waiter, setter], invariant=lambda s: s["log"] == ["s", "w"])
    assert result.ok, result.message
    stuck = explore(setup, [waiter])
    assert stuck.kind == "deadlock" and "to be set" in stuck.message, stuck.message


def test_exception_in_thread_is_reported():
    def boom(acct):
        raise ValueError("bad amount")

    result = explore(new_account, [boom, deposit])
    assert result.kind == "exception" and "ValueError: bad amount" in result.message


outside_lock = threading.Lock()


def test_non_cooperative_lock_is_reported_not_hung():
    def hold(acct):
        outside_lock.acquire()
        acct.balance += 1
        outside_lock.release()

    def scenario():
        return explore(new_account, [hold, hold], step_timeout=0.5)

    result = run_isolated(scenario, timeout=30)
    assert not result.ok and result.kind == "stuck", result
    assert "outside setup()" in result.message


def test_max_schedules_bounds_the_search():
    def loop(acct):
        for _ in range(20):
            acct.balance += 1

    result = explore(new_account, [loop, loop], max_switches=2, max_schedules=50)
    assert result.ok and not result.exhausted and result.schedules_tried == 50


def test_result_comes_back_from_run_isolated():
    result = run_isolated(explore, new_account, [deposit, withdraw], invariant=final_balance)
    assert result.kind == "invariant" and "final balance" in result.message


def test_thread_objects_made_in_setup_keep_real_primitives():
    def setup():
        state = {"lock": threading.Lock(), "helper": threading.Thread(target=lambda: None)}
        return state

    seen = []
    result = explore(setup, [seen.append])
    assert result.ok and type(seen[0]["lock"]).__name__ == "CoopLock"
    helper = seen[0]["helper"]
    helper.start()  # would fail if its internal Event were cooperative
    helper.join(5)
    assert not helper.is_alive()


def test_long_schedules_are_compressed():
    def many(acct):
        for _ in range(8):
            acct.balance = acct.balance + 1

    result = explore(new_racy_account, [many, many], invariant=lambda a: a.balance == 116)
    assert result.kind == "invariant"
    with pytest.raises(AssertionError) as info:
        result.assert_ok()
    lines = str(info.value).splitlines()
    assert len(lines) <= 22, "\n".join(lines)
    assert lines[1].startswith("T0 (many)") and "| T1 (many)" in lines[1]
    assert any("more lines" in line for line in lines)


class PollingBoundedQueue:
    """A bounded queue that never notifies: it polls with wait(timeout=...)."""

    def __init__(self, size):
        self.items, self.size = [], size
        self.cond = threading.Condition()

    def put(self, item):
        with self.cond:
            while len(self.items) >= self.size:
                self.cond.wait(timeout=0.01)
            self.items.append(item)

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait(timeout=0.01)
            return self.items.pop(0)


class NotifyingBoundedQueue(PollingBoundedQueue):
    def put(self, item):
        with self.cond:
            while len(self.items) >= self.size:
                self.cond.wait(timeout=0.01)  # a timeout as a safety net is fine when notified
            self.items.append(item)
            self.cond.notify_all()

    def get(self):
        with self.cond:
            while not self.items:
                self.cond.wait(timeout=0.01)
            item = self.items.pop(0)
            self.cond.notify_all()
            return item


def _queue_threads():
    def put_three(q):
        for i in range(3):
            q.put(i)

    def get_three(q):
        q.got = [q.get() for _ in range(3)]

    return [put_three, get_three]


def test_a_wait_that_returns_only_by_its_timeout_is_a_missed_notify():
    start = time.monotonic()
    result = explore(lambda: PollingBoundedQueue(1), _queue_threads())
    assert result.kind == "missed-notify", result
    assert time.monotonic() - start < 10  # reported at once, not by a time limit
    assert "nobody notified" in result.message and "timeout expired" in result.message
    assert "expected a notify()" in result.message and "got none" in result.message
    assert "cond.wait(timeout=0.01)" in result.message, result.message
    with pytest.raises(AssertionError, match="nobody notified"):
        result.assert_ok()
    ok = explore(
        lambda: NotifyingBoundedQueue(1), _queue_threads(), invariant=lambda q: q.got == [0, 1, 2]
    )
    assert ok.ok and ok.schedules > 0, ok.message


def test_an_event_nobody_sets_is_a_missed_notify_but_a_timed_lock_may_give_up():
    def setup():
        return {"go": threading.Event(), "a": threading.Lock(), "b": threading.Lock(), "log": []}

    def poll_event(s):
        while not s["go"].wait(timeout=0.05):
            pass

    result = explore(setup, [poll_event])
    assert result.kind == "missed-notify" and "to be set" in result.message, result

    def try_both(first, second):  # gives up instead of waiting for ever: not a notify
        def run(s):
            with s[first]:
                if s[second].acquire(timeout=0.01):
                    s["log"].append(f"{first}+{second}")
                    s[second].release()
                else:
                    s["log"].append(f"{first} gave up")

        return run

    ok = explore(
        setup, [try_both("a", "b"), try_both("b", "a")], invariant=lambda s: len(s["log"]) == 2
    )
    assert ok.ok and ok.schedules > 1, ok.message
