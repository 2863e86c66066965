"""A deterministic interleaving explorer (CHESS style, line level).

Design rationale
----------------
Stress tests find races by luck.  CHESS (Musuvathi & Qadeer) showed that
most concurrency bugs need only one or two *preemptions* (forced switches
away from a thread that could have continued), so exploring every schedule
with at most ``k`` preemptions, depth first, finds them systematically and
prints the exact losing interleaving.

How a schedule is controlled:

* every thread function runs in a real thread, but only one runs at a time:
  a baton (one ``_thread`` lock per thread) is passed at *scheduling points*;
* scheduling points are the ``line`` events of ``sys.settrace`` in the
  student's and test's code only (never stdlib or ``course``).  Opcode
  tracing is deliberately not used (CPython 3.12.1 crashed with it here);
  reads and writes of :func:`racy` attributes are extra scheduling points,
  so ``acct.balance += 1`` on one line can still be split, and their values
  are shown in the report;
* ``threading.Lock/RLock/Condition/Semaphore/BoundedSemaphore/Event`` are
  replaced by cooperative versions *while setup() runs* (only for objects
  created by the exploring thread), so a thread that would block yields the
  baton instead -- a free switch.  All threads blocked = deadlock, reported
  with who holds what.  A timed lock or semaphore acquire gives up only
  when nothing else can run; a timed ``Condition.wait``/``Event.wait`` that
  could only return because its timeout expired is reported as a missed
  notify (polling instead of being notified);
* the search is stateless: each schedule re-runs ``setup()`` and replays a
  prefix of choices, then follows "keep running the current thread"; the
  choice points of the run are pushed on a DFS stack.  Bounds 0, 1, ...,
  ``max_switches`` are explored in turn (iterative context bounding), so the
  reported schedule has as few forced switches as possible.  Same input,
  same result, every run.

A thread that blocks on something the explorer does not control (a lock
created outside ``setup()``, a socket) is detected by a timeout and reported
(the stuck thread is a daemon and is abandoned); run the exploration inside
:func:`run_isolated` when that is possible.
"""

from __future__ import annotations

import _thread
import sys
import threading
import time
from dataclasses import dataclass, field

from . import _stacks, coop, races
from ._display import hides_frames

_explore_mutex = threading.Lock()


class _Abort(BaseException):
    """Unwinds a controlled thread when its schedule is abandoned."""


# --------------------------------------------------------------------- threads


class _Controlled:
    def __init__(self, sched: _Scheduler, index: int, fn):
        self.sched = sched
        self.index = index
        self.fn = fn
        self.name = f"T{index}"
        self.go = _thread.allocate_lock()
        self.go.acquire()
        self.done = False
        self.blocked_on = None  # callable -> True when it may continue
        self.waiting = ""  # "waits to acquire a.lock"
        self.timed = False
        self.notify_wait = False  # a timed Condition/Event wait (expiry = a missed notify)
        self.timed_out = False
        self.error: str | None = None
        self.line = None  # (filename, lineno) being executed
        self.ident = None

    def can_run(self) -> bool:
        return not self.done and (self.blocked_on is None or self.blocked_on())


def _current() -> _Controlled | None:
    return coop.current()


class _Scheduler:
    """One run (one schedule)."""

    def __init__(self, fns, state, prefix, bound, max_steps):
        self.state = state
        self.threads = [_Controlled(self, i, fn) for i, fn in enumerate(fns)]
        self.prefix = prefix
        self.bound = bound
        self.max_steps = max_steps
        self.choices: list[tuple[tuple[int, ...], int]] = []
        self.preemptions = 0
        self.current: _Controlled | None = None
        self.rows: list[tuple[int, str]] = []
        self.finished = _thread.allocate_lock()
        self.finished.acquire()
        self.aborted = False
        self.failure: tuple[str, str] | None = None  # (kind, message)
        self.progress = 0
        self.steps = 0
        self.made: list = []

    # -- the baton ------------------------------------------------------
    def _pass_baton(self, me: _Controlled | None, preemptible: bool) -> _Controlled | None:
        """Choose who runs next (called by the baton holder) and hand over."""
        self.progress += 1
        if self.aborted:
            return None
        threads = self.threads
        enabled = [t for t in threads if t.can_run()]
        if not enabled:
            if all(t.done for t in threads):
                self.finished.release()
                return None
            timed = [t for t in threads if not t.done and t.timed]
            # a timed lock/semaphore acquire may give up (backing off is a valid way out of a
            # deadlock); a timed wait for a notify/set that nobody will send is a missed notify
            giving_up = [t for t in timed if not t.notify_wait]
            if giving_up:
                enabled = [giving_up[0]]
                giving_up[0].timed_out = True
            elif timed:
                self._fail("missed-notify", self._missed_notify_message(timed[0]))
                return None
            else:
                self._fail("deadlock", self._deadlock_message())
                return None
        if me is not None and preemptible and me in enabled:
            alts = [me] + (
                [t for t in enabled if t is not me] if self.preemptions < self.bound else []
            )
        else:
            alts = enabled
        chosen = alts[0]
        if len(alts) > 1:
            step = len(self.choices)
            if step < len(self.prefix):
                want = self.prefix[step]
                chosen = next((t for t in alts if t.index == want), alts[0])
            self.choices.append((tuple(t.index for t in alts), chosen.index))
            if me is not None and preemptible and me in enabled and chosen is not me:
                self.preemptions += 1
        self.current = chosen
        if chosen is not me:
            chosen.go.release()
        return chosen

    def yield_point(self, me: _Controlled, preemptible: bool = True) -> None:
        """Called by the running thread ``me``: maybe switch to another thread."""
        if self.aborted:
            raise _Abort
        self.steps += 1
        if self.steps > self.max_steps:
            self._fail(
                "livelock",
                f"{me.name} ran more than {self.max_steps} steps "
                f"({self._at(me)}): a loop that never ends?",
            )
            raise _Abort
        if self._pass_baton(me, preemptible) is not me:
            me.go.acquire()
        if self.aborted:
            raise _Abort

    def block(
        self,
        me: _Controlled,
        until,
        waiting: str,
        timeout: float | None = None,
        notify: bool = False,
    ) -> bool:
        """Block ``me`` until ``until()`` is true (a free switch). False if it timed out.

        ``notify``: the wait ends by another thread's notify()/set(), so its timeout
        expiring while nothing else can run is reported as a missed notify.
        """
        me.blocked_on = until
        me.waiting = waiting
        me.timed = timeout is not None and timeout >= 0
        me.notify_wait = notify
        me.timed_out = False
        try:
            if not until():
                self.yield_point(me, preemptible=False)
            return not me.timed_out
        finally:
            me.blocked_on = None
            me.waiting = ""
            me.timed = False
            me.notify_wait = False
            me.timed_out = False

    # -- failures --------------------------------------------------------
    def _fail(self, kind: str, message: str) -> None:
        if self.failure is None:
            self.failure = (kind, message)
        self.abort()

    def abort(self) -> None:
        self.aborted = True
        for t in self.threads:
            if t.go.locked():
                try:
                    t.go.release()
                except RuntimeError:
                    pass
        if self.finished.locked():
            try:
                self.finished.release()
            except RuntimeError:
                pass

    def _at(self, t: _Controlled) -> str:
        if t.line is None:
            return "before its first line"
        filename, lineno = t.line
        return f"line {lineno}: {_stacks.source_line(filename, lineno)}"

    def _missed_notify_message(self, t: _Controlled) -> str:
        others = [o.name for o in self.threads if o is not t and not o.done]
        state = (
            f"every other thread ({', '.join(others)}) is blocked too"
            if others
            else "every other thread has finished"
        )
        return (
            f"nobody notified: {t.name} at {self._at(t)} {t.waiting or 'waits'}, {state}, so "
            "the wait could return only because its timeout expired (expected a notify(), "
            "notify_all() or set() from another thread, got none: polling with "
            "wait(timeout=...) instead of being notified)"
        )

    def _deadlock_message(self) -> str:
        parts = []
        for t in self.threads:
            if t.done:
                continue
            held = [p.label for p in self.made if getattr(p, "_owner", None) is t]
            text = f"{t.name} at {self._at(t)} {t.waiting or 'is blocked'}"
            if held:
                text += f" while holding {', '.join(held)}"
            parts.append(text)
        return "deadlock: every thread is blocked\n  " + "\n  ".join(parts)

    # -- trace rows ----------------------------------------------------
    def on_line(self, me: _Controlled, frame) -> None:
        self.yield_point(me)
        me.line = (frame.f_code.co_filename, frame.f_lineno)
        text = _stacks.source_line(*me.line)
        self.rows.append((me.index, f"line {frame.f_lineno}: {text}"))

    def on_access(self, me: _Controlled, attr: str, kind: str, value) -> None:
        note = f"({'reads' if kind == 'read' else 'writes'} {_short(value)})"
        self._annotate(me, note)
        if kind == "read":  # a switch between a read and the write that follows it
            self.yield_point(me)

    def _annotate(self, me: _Controlled, note: str) -> None:
        if not self.rows or self.rows[-1][0] != me.index:
            lineno = me.line[1] if me.line else "?"
            self.rows.append((me.index, f"line {lineno} (cont.)"))
        index, text = self.rows[-1]
        self.rows[-1] = (index, f"{text}  {note}")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 20 else text[:17] + "..."


def _global_trace(frame, event, arg):
    if event != "call" or not _stacks.is_student_file(frame.f_code.co_filename):
        return None
    return _local_trace


def _local_trace(frame, event, arg):
    if event == "line":
        me = _current()
        if me is not None:
            me.sched.on_line(me, frame)
    return _local_trace


def _access_hook(obj, attr, kind, value) -> bool:
    me = _current()
    if me is not None and not me.sched.aborted:
        me.sched.on_access(me, attr, kind, value)
        return True
    return False


def _thread_body(t: _Controlled) -> None:
    t.go.acquire()
    sched = t.sched
    try:
        if sched.aborted:
            return
        coop.set_current(t)
        sys.settrace(_global_trace)
        try:
            t.fn(sched.state)
        finally:
            sys.settrace(None)
    except _Abort:
        pass
    except BaseException as exc:  # noqa: BLE001 - reported as a failure
        tb = _stacks.student_traceback(exc.__traceback__)
        sched._fail("exception", f"{t.name} raised {type(exc).__name__}: {exc}\n{tb}".rstrip())
    finally:
        coop.set_current(None)
        t.done = True
        if not sched.aborted:
            sched._pass_baton(t, preemptible=False)


# -------------------------------------------------------------------- explore


@dataclass
class ExploreResult:
    """Outcome of :func:`explore` (picklable: only plain data)."""

    ok: bool
    # "invariant" | "deadlock" | "missed-notify" | "exception" | "livelock" | "stuck" | None
    kind: str | None
    schedules_tried: int
    message: str = ""
    trace: str = ""
    schedule: list[int] = field(default_factory=list)
    switches: int = 0
    exhausted: bool = True
    seconds: float = 0.0
    # the losing schedule as (thread, what it ran until the next switch): drawn on failure
    steps: list[tuple[str, str]] = field(default_factory=list)

    @property
    def schedules(self) -> int:
        """How many schedules were run (hidden tests assert ``result.schedules > 0``)."""
        return self.schedules_tried

    @hides_frames
    def assert_ok(self) -> ExploreResult:
        """Raise ``AssertionError`` with the losing schedule if one was found; else return self.

        Example::

            explore(setup, [deposit, withdraw], invariant=check).assert_ok()
        """
        if self.ok:
            return self
        head = (
            f"found a losing interleaving of your threads (schedule {self.schedules_tried}, "
            f"{self.switches} forced switch{'es' if self.switches != 1 else ''}):"
        )
        error = AssertionError(f"{head}\n{self.trace}\n{self.message}")
        if self.steps:  # drawn below the message (_display)
            error.grading_facts = {"kind": "schedule", "title": self.message, "steps": self.steps}
        raise error


def explore(
    setup,
    threads,
    invariant=None,
    max_switches: int = 2,
    max_schedules: int = 2000,
    step_timeout: float = 2.0,
    max_steps: int = 20000,
) -> ExploreResult:
    """Try interleavings of ``threads`` systematically; report the first failing one.

    ``setup()`` returns fresh shared state for every schedule (threading
    primitives created inside it are cooperative); each ``threads[i](state)``
    runs as controlled thread ``Ti``, switching only at line boundaries of
    your code and at reads/writes of :func:`racy` attributes;
    ``invariant(state)`` raises ``AssertionError`` or returns ``False`` when
    the final state is wrong.  At most ``max_switches`` forced switches per
    schedule, at most ``max_schedules`` schedules.  Deterministic.

    Example::

        def setup():
            return racy(Account, "balance")(100)
        def check(acct):
            assert acct.balance == 130, f"final balance {acct.balance}, expected 130"
        explore(setup, [lambda a: a.deposit(50), lambda a: a.withdraw(20)],
                invariant=check).assert_ok()
    """
    fns = list(threads)
    if not fns:
        raise ValueError("explore() needs at least one thread function")
    start = time.perf_counter()
    tried = 0
    with _explore_mutex:
        old_hook = races.set_access_hook(_access_hook)
        try:
            for bound in range(max_switches + 1):
                stack: list[list] = []  # [alts, index of the choice]
                while True:
                    prefix = [alts[i] for alts, i in stack]
                    sched, verdict = _run_once(
                        setup, fns, invariant, prefix, bound, step_timeout, max_steps
                    )
                    tried += 1
                    for alts, chosen in sched.choices[len(stack) :]:
                        stack.append([alts, alts.index(chosen)])
                    if verdict is not None:
                        kind, message = verdict
                        return ExploreResult(
                            ok=False,
                            kind=kind,
                            schedules_tried=tried,
                            message=message,
                            trace=_format(sched.rows, fns),
                            schedule=[c for _, c in sched.choices],
                            switches=sched.preemptions,
                            seconds=time.perf_counter() - start,
                            steps=_steps(sched.rows, fns),
                        )
                    if tried >= max_schedules:
                        return ExploreResult(
                            True, None, tried, exhausted=False, seconds=time.perf_counter() - start
                        )
                    while stack and stack[-1][1] + 1 >= len(stack[-1][0]):
                        stack.pop()
                    if not stack:
                        break
                    stack[-1][1] += 1
        finally:
            races.set_access_hook(old_hook)
    return ExploreResult(True, None, tried, seconds=time.perf_counter() - start)


def _run_once(setup, fns, invariant, prefix, bound, step_timeout, max_steps):
    state, made = coop.call_setup(setup)
    sched = _Scheduler(fns, state, prefix, bound, max_steps)
    sched.made = made
    for t in sched.threads:
        thread = threading.Thread(
            target=_thread_body, args=(t,), name=f"explore-{t.name}", daemon=True
        )
        thread.start()
    sched._pass_baton(None, preemptible=False)
    last, since = -1, time.monotonic()
    while not sched.finished.acquire(timeout=0.05):
        if sched.progress != last:
            last, since = sched.progress, time.monotonic()
        elif time.monotonic() - since > step_timeout:
            t = sched.current
            name = t.name if t else "a thread"
            where = sched._at(t) if t else ""
            sched._fail(
                "stuck",
                f"{name} is blocked at {where} on something the explorer does not control "
                "(a lock, queue or event created outside setup()?)",
            )
            break
    if sched.failure is not None:
        return sched, sched.failure
    if invariant is not None:
        try:
            ok = invariant(state)
        except AssertionError as exc:
            return sched, ("invariant", str(exc) or "the invariant failed")
        except Exception as exc:  # noqa: BLE001
            return sched, ("invariant", f"the invariant raised {type(exc).__name__}: {exc}")
        if ok is False:
            return sched, ("invariant", "the invariant returned False")
    return sched, None


def _compress(rows: list[tuple[int, str]], limit: int = 18) -> list[tuple[int, str]]:
    if len(rows) <= limit:
        return rows
    runs: list[list[tuple[int, str]]] = []
    for row in rows:
        if runs and runs[-1][0][0] == row[0]:
            runs[-1].append(row)
        else:
            runs.append([row])
    out: list[tuple[int, str]] = []
    for run in runs:
        if len(run) > 3:
            out.append(run[0])
            out.append((run[0][0], f"... {len(run) - 3} more lines"))
            out.extend(run[-2:])
        else:
            out.extend(run)
    if len(out) > limit:
        dropped = len(out) - limit + 1
        out = [(-1, f"... {dropped} earlier steps")] + out[dropped:]
    return out


def _names(fns: list) -> list[str]:
    names = []
    for i, fn in enumerate(fns):
        name = getattr(fn, "__name__", "")
        names.append(f"T{i} ({name})" if name and name != "<lambda>" else f"T{i}")
    return names


def _steps(rows: list[tuple[int, str]], fns: list) -> list[tuple[str, str]]:
    r"""The schedule as one step per run of a thread between two switches.

    >>> _steps([(0, "a = 1"), (0, "b = a"), (1, "c = 2")], [print, len])
    [('T0 (print)', 'a = 1\nb = a'), ('T1 (len)', 'c = 2')]
    """
    names = _names(fns)
    steps: list[tuple[str, list[str]]] = []
    for index, text in rows:
        if index < 0:
            continue
        if steps and steps[-1][0] == names[index]:
            steps[-1][1].append(text.strip())
        else:
            steps.append((names[index], [text.strip()]))
    return [(name, "\n".join(lines)) for name, lines in steps]


def _format(rows: list[tuple[int, str]], fns: list) -> str:
    n = len(fns)
    rows = _compress(rows)
    names = _names(fns)
    width = min(48, max([len(text) for _, text in rows] + [len(x) for x in names]))
    header = " | ".join(x.ljust(width) for x in names).rstrip()
    lines = [header]
    for index, text in rows:
        if index < 0:
            lines.append(text)
            continue
        if len(text) > width:
            text = text[: width - 3] + "..."
        cells = [""] * n
        cells[index] = text
        lines.append(" | ".join(c.ljust(width) for c in cells).rstrip())
    return "\n".join(lines)
