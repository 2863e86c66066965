"""Known-good and known-bad student code for the grading-check tests.

Each bad function is a realistic mistake from the course's exercises; each
good one is the reference fix.  Tests in ``test_grading_corpus.py`` run the
course's grading checks on them and require every bad one to be caught
every time and no good one ever to be flagged.
"""

import asyncio
import os
import queue
import sys
import threading
import time

# --------------------------------------------------------------- bank accounts


class UnsafeAccount:
    """Lost update: read-modify-write without a lock."""

    def __init__(self, balance=0):
        self.balance = balance
        self.lock = threading.Lock()

    def deposit(self, amount):
        temp = self.balance
        self.balance = temp + amount

    def withdraw(self, amount):
        if self.balance >= amount:  # check-then-act without a lock
            self.balance -= amount
            return True
        return False


class SafeAccount(UnsafeAccount):
    """The reference: the whole read-modify-write and check-then-act under the lock."""

    def deposit(self, amount):
        with self.lock:
            temp = self.balance
            self.balance = temp + amount

    def withdraw(self, amount):
        with self.lock:
            if self.balance >= amount:
                self.balance -= amount
                return True
            return False


class WrongLinesAccount(UnsafeAccount):
    """The lock is there, but around the wrong lines."""

    def deposit(self, amount):
        temp = self.balance  # read outside the lock
        with self.lock:
            self.balance = temp + amount

    def withdraw(self, amount):
        if self.balance >= amount:  # check outside the lock
            with self.lock:
                self.balance -= amount
            return True
        return False


def run_threads(target, n, *args):
    """Start ``n`` threads running ``target(*args)`` and join them."""
    threads = [threading.Thread(target=target, args=args) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


# ------------------------------------------------------------------ transfers


def transfer_bad(src, dst, amount):
    """AB/BA: takes the source's lock first, so two opposite transfers can deadlock."""
    with src.lock:
        time.sleep(0.001)
        with dst.lock:
            src.balance -= amount
            dst.balance += amount


def transfer_good(src, dst, amount):
    """One global order: always the lock of the account with the smaller id first."""
    first, second = sorted([src, dst], key=id)
    with first.lock:
        time.sleep(0.001)
        with second.lock:
            src.balance -= amount
            dst.balance += amount


def opposite_transfers(transfer, a, b, rounds=20):
    """a->b and b->a concurrently; returns the balances."""
    t1 = threading.Thread(target=lambda: [transfer(a, b, 1) for _ in range(rounds)])
    t2 = threading.Thread(target=lambda: [transfer(b, a, 1) for _ in range(rounds)])
    t1.start()
    t2.start()
    t1.join()
    t2.join()
    return a.balance, b.balance


class SelfDeadlockAccount(UnsafeAccount):
    """Calls a locking helper while holding the (non-reentrant) lock."""

    def deposit(self, amount):
        with self.lock:
            self.balance += amount
            self.audit()

    def audit(self):
        with self.lock:
            return self.balance >= 0


class ReentrantAccount(SelfDeadlockAccount):
    """The fix: an RLock."""

    def __init__(self, balance=0):
        super().__init__(balance)
        self.lock = threading.RLock()


# ------------------------------------------------------------ other failures


def count_to(n):
    """Good: terminates."""
    i = 0
    while i < n:
        i += 1
    return i


def count_to_forever(n):
    """Bad: forgot the increment."""
    i = 0
    while i < n:
        pass
    return i


def exits_hard():
    """Bad: kills the process like a careless script would."""
    print("bye")
    os._exit(1)


def exits_soft():
    """Bad: sys.exit in a function."""
    sys.exit(2)


def noisy_but_correct():
    """Good: prints to stdout and stderr (fd level too) and returns."""
    print("working ...")
    print("a warning on stderr", file=sys.stderr)
    os.write(2, b"fd 2 output\n")
    return 42


# ------------------------------------------------------- producer / consumer


def pipeline_good(n):
    """Producer puts n items then a sentinel; the consumer stops at the sentinel."""
    q = queue.Queue(maxsize=2)
    got = []

    def producer():
        for i in range(n):
            q.put(i)
        q.put(None)

    def consumer():
        while True:
            item = q.get()
            if item is None:
                break
            got.append(item)

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


def pipeline_starved(n):
    """Bad: no sentinel, so the consumer waits for ever on an empty queue."""
    q = queue.Queue(maxsize=2)
    got = []

    def producer():
        for i in range(n):
            q.put(i)

    def consumer():
        while True:
            got.append(q.get())

    threads = [threading.Thread(target=producer), threading.Thread(target=consumer)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return got


# ------------------------------------------------------------------ coroutines


def coro_pipeline_good(n, log):
    """Generator-based producer/consumer: produce i, then consume i."""

    def consumer():
        while True:
            item = yield
            log("consume", item)

    c = consumer()
    next(c)
    for i in range(n):
        log("produce", i)
        c.send(i)
    c.close()


def coro_pipeline_bad(n, log):
    """Bad: sends before it logs the production (consume appears before produce)."""

    def consumer():
        while True:
            item = yield
            log("consume", item)

    c = consumer()
    next(c)
    for i in range(n):
        c.send(i)
        log("produce", i)
    c.close()


async def async_pipeline_good(n):
    """asyncio producer/consumer with a queue of size 1: strictly alternating."""
    events = []
    q = asyncio.Queue(maxsize=1)

    async def producer():
        for i in range(n):
            await q.put(i)
            events.append(("produce", i))
        await q.put(None)

    async def consumer():
        while (item := await q.get()) is not None:
            events.append(("consume", item))

    await asyncio.gather(producer(), consumer())
    return events


async def async_pipeline_sequential(n):
    """Bad: produces everything, then consumes (no concurrency at all)."""
    events = [("produce", i) for i in range(n)]
    events += [("consume", i) for i in range(n)]
    await asyncio.sleep(0)
    return events


async def async_pipeline_stuck(n):
    """Bad: the consumer awaits one item too many."""
    q = asyncio.Queue()

    async def producer():
        for i in range(n):
            await q.put(i)

    async def consumer():
        return [await q.get() for _ in range(n + 1)]

    _, got = await asyncio.gather(producer(), consumer())
    return got
