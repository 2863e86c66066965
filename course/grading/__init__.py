"""Grading checks for the hidden tests of the course notebooks.

Every check raises ``AssertionError`` with a message a student can act on and
never writes to the caller's stdout/stderr (nbgrader gives 0 points to a test
cell with any stderr output).  Full guide: ``docs/grading-checks.md``.

Isolated runs (:mod:`course.grading.isolated`)
    ``run_isolated(func, *args, timeout=5.0, **kwargs)`` -- run in a forked
    child; on timeout name where each thread is stuck; survive ``os._exit``,
    ``sys.exit`` and crashes.  ``run_async(coro_func, *args, timeout=5.0)`` --
    the same for ``asyncio.run(coro_func(*args))``.

Race exposure (:mod:`course.grading.races`)
    ``racy(cls, "balance")`` -- subclass whose attribute reads/writes release
    the GIL, so a missing lock loses updates every time; ``racy_value(0)`` --
    a box with a racy ``.value``; ``stress(trial, repeat=20, name=...)`` --
    repeat a trial returning ``(expected, actual)``.

Thread-level instrument (:mod:`course.grading.probe`)
    ``Probe("fetch")`` -- ``with probe.visit(key): ...`` inside the work a test
    hands out; ``probe.count()``, ``probe.peak()`` (most visits at the same
    time), ``probe.visits()`` -- however the workers were started;
    ``probe.assert_at_most(limit, what)`` fails with the picture.

Pictures (:mod:`course.grading.pictures`)
    a failed check is drawn below its message in a notebook: a race's reads
    and writes (lost update), the explorer's losing schedule, a hang's or a
    lock-order cycle's wait-for graph, a ``probe.assert_at_most(limit)``
    over time, an event-log mismatch side by side; ``failure_picture(outputs)``
    gives ``(kind, png)`` of an autograded cell.

Lock order (:mod:`course.grading.lockorder`)
    ``LockOrderChecker()`` with ``.Lock(name)``, ``.RLock(name)``,
    ``.install(objs)``, ``.edges``, ``.assert_no_cycle()``,
    ``.check(scenario, timeout=...)`` -- lockdep-style "possible deadlock".

Interleavings (:mod:`course.grading.explorer`)
    ``explore(setup, [fn0, fn1], invariant=..., max_switches=2)`` -- CHESS
    style systematic exploration at line level; ``result.assert_ok()`` prints
    the losing schedule.

Event logs (:mod:`course.grading.events`)
    ``EventLog()``, ``assert_events(actual, expected | allowed= | before=,
    any_order=False)``, wildcard ``ANY``.

Example (a hidden test)::

    from course.grading import racy, run_isolated, stress

    def trial():
        acct = racy(BankAccount, "balance")(0)       # reads/writes release the GIL
        threads = [threading.Thread(target=acct.deposit, args=(1,)) for _ in range(50)]
        for t in threads: t.start()
        for t in threads: t.join()
        return 50, acct.balance                      # (expected, actual)

    stats = run_isolated(stress, trial, repeat=5, name="deposit race", timeout=10)
    assert stats.trials == 5, stats                 # assert on what the check measured
"""

from .events import ANY, EventLog, assert_events
from .explorer import ExploreResult, explore
from .isolated import run_async, run_isolated
from .lockorder import LockOrderChecker
from .probe import Probe, Visit
from .races import StressStats, racy, racy_value, stress

__all__ = [
    "ANY",
    "EventLog",
    "ExploreResult",
    "LockOrderChecker",
    "Probe",
    "StressStats",
    "assert_events",
    "explore",
    "racy",
    "racy_value",
    "run_async",
    "run_isolated",
    "stress",
    "Visit",
]
