"""Every bad example of the corpus is caught N of N times; no good one is ever flagged.

N is ``GRADING_REPEAT`` (3 by default, ``make grading-stress`` uses 50).  The
checks below are written the way hidden tests in the notebooks use the
grading API.
"""

import os
import time

import pytest

from course.grading import (
    EventLog,
    LockOrderChecker,
    assert_events,
    racy,
    run_async,
    run_isolated,
    stress,
)
from tests.support import check_snippets as corpus

N = int(os.environ.get("GRADING_REPEAT", "3"))


# --------------------------------------------------------------- the checks


def check_deposit(account_cls):
    def trial():
        acct = racy(account_cls, "balance")(0)
        corpus.run_threads(acct.deposit, 50, 1)
        return 50, acct.balance

    stress(trial, repeat=3, name="deposit race", timeout=10)


def check_withdraw(account_cls):
    def trial():
        acct = racy(account_cls, "balance")(10)
        results = []
        corpus.run_threads(lambda: results.append(acct.withdraw(1)), 30)
        return (0, 10), (acct.balance, results.count(True))

    stress(trial, repeat=3, name="withdraw race", timeout=10)


def check_transfer_order(transfer):
    """Lock order, no deadlock needed: a->b then b->a one after the other."""
    checker = LockOrderChecker()
    a, b = corpus.SafeAccount(100), corpus.SafeAccount(100)
    checker.install({"a": a, "b": b})

    def scenario():
        transfer(a, b, 10)
        transfer(b, a, 10)
        return a.balance, b.balance

    assert checker.check(scenario, timeout=5) == (100, 100)


def check_transfer_concurrent(transfer):
    """Opposite transfers in threads: deadlock or not, the cycle is reported."""
    checker = LockOrderChecker()
    a, b = corpus.SafeAccount(100), corpus.SafeAccount(100)
    checker.install({"a": a, "b": b})
    assert checker.check(corpus.opposite_transfers, transfer, a, b, 5, timeout=1.5) == (100, 100)


def check_reentrant(account_cls):
    acct = account_cls(0)
    run_isolated(acct.deposit, 5, timeout=1.0)


def check_count(func):
    assert run_isolated(func, 1000, timeout=1.0) == 1000


def check_returns(func):
    run_isolated(func, timeout=2.0)


def check_pipeline(func):
    assert run_isolated(func, 10, timeout=1.0) == list(range(10))


def check_coroutine(func):
    log = EventLog()
    func(3, log)
    expected = []
    for i in range(3):
        expected += [("produce", i), ("consume", i)]
    assert_events(log, expected)


def check_async(coro_func):
    n = 4
    events = run_async(coro_func, n, timeout=1.0)
    expected = [(k, i) for i in range(n) for k in ("produce", "consume")]
    assert_events(events, expected, any_order=True)
    assert_events(events, before=[(("produce", i), ("consume", i)) for i in range(n)])
    # bounded buffer of one: item i+2 cannot be produced before item i is consumed
    assert_events(events, before=[(("consume", i), ("produce", i + 2)) for i in range(n - 2)])


CASES = [
    # (id, check, candidate, is_bad, expected words in the message)
    ("lost-update", check_deposit, corpus.UnsafeAccount, True, "deposit race: trial 1 of 3"),
    ("lost-update-ok", check_deposit, corpus.SafeAccount, False, None),
    ("wrong-lines-deposit", check_deposit, corpus.WrongLinesAccount, True, "expected 50"),
    ("check-then-act", check_withdraw, corpus.UnsafeAccount, True, "withdraw race"),
    ("wrong-lines-withdraw", check_withdraw, corpus.WrongLinesAccount, True, "withdraw race"),
    ("check-then-act-ok", check_withdraw, corpus.SafeAccount, False, None),
    ("abba-order", check_transfer_order, corpus.transfer_bad, True, "possible deadlock"),
    ("abba-order-ok", check_transfer_order, corpus.transfer_good, False, None),
    ("abba-threads", check_transfer_concurrent, corpus.transfer_bad, True, "possible deadlock"),
    ("abba-threads-ok", check_transfer_concurrent, corpus.transfer_good, False, None),
    ("self-deadlock", check_reentrant, corpus.SelfDeadlockAccount, True, "not reentrant"),
    ("self-deadlock-ok", check_reentrant, corpus.ReentrantAccount, False, None),
    ("endless-loop", check_count, corpus.count_to_forever, True, "loop"),
    ("endless-loop-ok", check_count, corpus.count_to, False, None),
    ("os-exit", check_returns, corpus.exits_hard, True, "os._exit(1)"),
    ("sys-exit", check_returns, corpus.exits_soft, True, "sys.exit(2)"),
    ("noisy-ok", check_returns, corpus.noisy_but_correct, False, None),
    ("starved-consumer", check_pipeline, corpus.pipeline_starved, True, "empty queue"),
    ("starved-consumer-ok", check_pipeline, corpus.pipeline_good, False, None),
    ("coroutine-order", check_coroutine, corpus.coro_pipeline_bad, True, "event 1 differs"),
    ("coroutine-order-ok", check_coroutine, corpus.coro_pipeline_good, False, None),
    ("async-sequential", check_async, corpus.async_pipeline_sequential, True, "must come before"),
    ("async-stuck", check_async, corpus.async_pipeline_stuck, True, "Timed out"),
    ("async-ok", check_async, corpus.async_pipeline_good, False, None),
]


@pytest.mark.parametrize(
    "check, candidate, is_bad, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_corpus(check, candidate, is_bad, words, capfd):
    caught, messages, times = 0, [], []
    for _ in range(N):
        t0 = time.perf_counter()
        try:
            check(candidate)
        except AssertionError as exc:
            caught += 1
            messages.append(str(exc))
        times.append(time.perf_counter() - t0)
    out, err = capfd.readouterr()
    assert out == "" and err == "", "a check leaked output to the caller"
    if is_bad:
        assert caught == N, f"caught only {caught} of {N}"
        for message in messages:
            assert words in message, message
    else:
        assert caught == 0, f"flagged {caught} of {N}: {messages[0]}"
    print(f"{caught}/{N} caught, median {sorted(times)[len(times) // 2]:.2f} s")
