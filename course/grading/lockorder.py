"""A lockdep-style lock-order checker.

Design rationale
----------------
A deadlock between two locks needs an unlucky interleaving, so a test that
waits for it to happen is flaky.  Linux's lockdep instead records the
*order* in which locks are taken: whenever a thread acquires ``B`` while it
holds ``A`` we add the edge ``A -> B`` to a graph.  A cycle in that graph
(``A -> B`` in one call, ``B -> A`` in another) means some interleaving can
deadlock, even if this run did not.

The locks handed out by :class:`LockOrderChecker` wrap real ``_thread`` locks.
The edge is recorded *before* blocking, so a run that does deadlock still
leaves the evidence behind (useful with :func:`run_isolated`, whose child
can send ``checker.edges`` back, see :meth:`LockOrderChecker.check`).  Taking
a non-reentrant ``Lock`` that the same thread already holds is recorded as
the self-edge ``A -> A`` (a certain self-deadlock).
"""

from __future__ import annotations

import _thread
import sys
import threading

from . import _stacks
from ._display import hides_frames


def _caller_location() -> str:
    """``line 7 of your cell, in transfer() `with b.lock:``` for the first student frame."""
    frame = sys._getframe(2)
    while frame is not None and not _stacks.is_student_file(frame.f_code.co_filename):
        frame = frame.f_back
    if frame is None:
        return "an unknown place"
    code = frame.f_code
    text = _stacks.source_line(code.co_filename, frame.f_lineno)
    loc = _stacks.where(code.co_filename, frame.f_lineno, code.co_name)
    return f"{loc} `{text}`" if text else loc


class _CheckedLock:
    """A real lock that reports its acquisitions to a :class:`LockOrderChecker`."""

    _reentrant = False

    def __init__(self, checker: LockOrderChecker, name: str):
        self.name = name
        self._checker = checker
        self._lock = _thread.RLock() if self._reentrant else _thread.allocate_lock()

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        """Record ``held -> self`` edges, then acquire like the real lock.

        A non-blocking attempt records no edge (like lockdep's trylock): it cannot wait,
        so it cannot deadlock (``threading.Condition`` probes its lock that way).
        """
        if blocking:
            self._checker._before_acquire(self)
        ok = self._lock.acquire(blocking, timeout)
        if ok:
            self._checker._acquired(self)
        return ok

    def release(self) -> None:
        """Release like the real lock."""
        self._lock.release()
        self._checker._released(self)

    def locked(self) -> bool:
        """True if held (by anybody)."""
        if not self._reentrant:
            return self._lock.locked()
        if self._lock._is_owned():
            return True
        if self._lock.acquire(False):
            self._lock.release()
            return False
        return True

    __enter__ = acquire

    def __exit__(self, *exc) -> None:
        self.release()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


class _CheckedRLock(_CheckedLock):
    _reentrant = True

    # used by threading.Condition
    def _is_owned(self) -> bool:
        return self._lock._is_owned()

    def _release_save(self):
        state = self._lock._release_save()
        self._checker._released(self, all_levels=True)
        return state

    def _acquire_restore(self, state) -> None:
        self._checker._before_acquire(self)
        self._lock._acquire_restore(state)
        for _ in range(state[0]):
            self._checker._acquired(self)


class LockOrderChecker:
    """Hands out instrumented locks and records the order they are taken in.

    ``checker.edges`` maps ``(held_name, taken_name)`` to ``(thread name,
    location)`` of the first time ``taken`` was acquired while ``held`` was
    held.  :meth:`assert_no_cycle` fails when two locks were ever taken in
    both orders.

    Example::

        checker = LockOrderChecker()
        a, b = checker.Lock("a.lock"), checker.Lock("b.lock")
        ...  # run the student's threads with a and b
        checker.assert_no_cycle()
    """

    def __init__(self):
        self.edges: dict[tuple[str, str], tuple[str, str]] = {}
        #: (held, taken) -> where ``held`` had been acquired
        self.held_at: dict[tuple[str, str], str] = {}
        self._mutex = _thread.allocate_lock()
        self._held: dict[int, list[tuple[_CheckedLock, str]]] = {}

    # -- factories -------------------------------------------------------
    def Lock(self, name: str) -> _CheckedLock:  # noqa: N802 - mirrors threading.Lock
        """A non-reentrant lock named ``name`` (behaves like ``threading.Lock()``).

        Example: ``a = checker.Lock("a.lock")``; then ``with a: ...``.
        """
        return _CheckedLock(self, name)

    def RLock(self, name: str) -> _CheckedRLock:  # noqa: N802 - mirrors threading.RLock
        """A reentrant lock named ``name`` (behaves like ``threading.RLock()``).

        Example: ``cond = threading.Condition(checker.RLock("cond"))``.
        """
        return _CheckedRLock(self, name)

    def install(self, objs, attr: str = "lock", reentrant: bool | None = None) -> list:
        """Replace ``obj.<attr>`` with an instrumented lock for each object.

        ``objs`` is one object, a list, or a dict ``{"a": acct_a, "b": acct_b}``
        (names ``"a.lock"``, ``"b.lock"``).  Otherwise the name is
        ``"<obj.name>.lock"`` when the object has a ``name`` attribute, or
        ``"Account#1.lock"``.  ``reentrant`` defaults to the kind of the lock
        being replaced; a ``threading.Condition`` is replaced by a new Condition
        around an instrumented lock of the kind it wrapped (``Condition()`` wraps
        an RLock), so ``wait``/``notify`` keep working.  Returns the new locks
        (or Conditions).

        Example::

            checker.install({"a": a, "b": b})       # a.lock, b.lock
        """
        if isinstance(objs, dict):
            items = list(objs.items())
        else:
            if not isinstance(objs, list | tuple):
                objs = [objs]
            items = []
            for i, obj in enumerate(objs, 1):
                label = getattr(obj, "name", None)
                if not isinstance(label, str):
                    label = f"{type(obj).__name__}#{i}"
                items.append((label, obj))
        made = []
        for label, obj in items:
            old = getattr(obj, attr, None)
            condition = isinstance(old, threading.Condition)
            inner = old._lock if condition else old
            rlock = reentrant
            if rlock is None:
                rlock = inner is not None and type(inner).__name__ in (
                    "RLock",
                    "_RLock",
                    "_CheckedRLock",
                )
            lock = (self.RLock if rlock else self.Lock)(f"{label}.{attr}")
            new = threading.Condition(lock) if condition else lock
            setattr(obj, attr, new)
            made.append(new)
        return made

    # -- bookkeeping (called by the locks) ---------------------------------
    def _before_acquire(self, lock: _CheckedLock) -> None:
        me = _thread.get_ident()
        held = self._held.get(me, ())
        if not held:
            return
        if lock._reentrant and any(h is lock for h, _ in held):
            return  # re-entering an RLock adds no order
        location = None
        for h, h_where in held:
            if h is not lock and h.name == lock.name:
                continue  # two locks with the same name: no meaningful edge
            key = (h.name, lock.name)
            if key in self.edges:
                continue
            if location is None:
                location = _caller_location()
            with self._mutex:
                if key not in self.edges:
                    self.edges[key] = (threading.current_thread().name, location)
                    self.held_at[key] = h_where

    def _acquired(self, lock: _CheckedLock) -> None:
        me = _thread.get_ident()
        where = _caller_location() if not lock._reentrant or not self._holds(me, lock) else ""
        self._held.setdefault(me, []).append((lock, where))

    def _holds(self, ident: int, lock: _CheckedLock) -> bool:
        return any(h is lock for h, _ in self._held.get(ident, ()))

    def _released(self, lock: _CheckedLock, all_levels: bool = False) -> None:
        held = self._held.get(_thread.get_ident())
        if not held:
            return
        for i in range(len(held) - 1, -1, -1):
            if held[i][0] is lock:
                del held[i]
                if not all_levels:
                    break

    # -- checking ---------------------------------------------------------
    def find_cycle(self, edges: dict | None = None) -> list[tuple[str, str]] | None:
        """A list of edges forming a cycle, or None (deterministic).

        Example: ``checker.find_cycle()  # [("a.lock", "b.lock"), ("b.lock", "a.lock")]``
        """
        edges = self.edges if edges is None else edges
        graph: dict[str, list[str]] = {}
        for a, b in sorted(edges):
            graph.setdefault(a, []).append(b)
        for a, b in sorted(edges):
            if a == b:
                return [(a, b)]
        state: dict[str, int] = {}
        path: list[str] = []

        def visit(node):
            state[node] = 1
            path.append(node)
            for nxt in graph.get(node, []):
                if state.get(nxt) == 1:
                    cyc = path[path.index(nxt) :] + [nxt]
                    return list(zip(cyc, cyc[1:], strict=False))
                if nxt not in state:
                    found = visit(nxt)
                    if found:
                        return found
            path.pop()
            state[node] = 2
            return None

        for node in sorted(graph):
            if node not in state:
                found = visit(node)
                if found:
                    return found
        return None

    def describe_cycle(self, cycle, edges: dict | None = None, held_at: dict | None = None) -> str:
        """The student-facing explanation of a cycle found by :meth:`find_cycle`.

        Example: ``checker.describe_cycle(checker.find_cycle())``
        """
        edges = self.edges if edges is None else edges
        held_at = self.held_at if held_at is None else held_at
        if len(cycle) == 1:
            ((a, _),) = cycle
            thread, loc = edges[(a, a)]
            return (
                f"certain deadlock: {thread} takes {a} at {loc} while it already holds {a}"
                f"{_since(held_at.get((a, a)))}: a Lock is not reentrant (use an RLock, or do "
                "not take the lock again)"
            )
        parts = []
        for i, (a, b) in enumerate(cycle):
            thread, loc = edges[(a, b)]
            who = thread if i == 0 else f"another call ({thread})"
            parts.append(f"{who} took {b} at {loc} while holding {a}{_since(held_at.get((a, b)))}")
        return (
            "possible deadlock: "
            + ", and ".join(parts)
            + " -- take the locks in one global order (e.g. sorted by id or name)"
        )

    @hides_frames
    def assert_no_cycle(self, edges: dict | None = None, held_at: dict | None = None) -> None:
        """Fail if the recorded lock order has a cycle (a possible deadlock).

        Passes for a consistent order even when no deadlock occurred.  Edges
        sent back from a child process may be passed in.

        Example::

            checker.assert_no_cycle()
        """
        edges = self.edges if edges is None else edges
        cycle = self.find_cycle(edges)
        if cycle:
            error = AssertionError(self.describe_cycle(cycle, edges, held_at))
            error.grading_facts = _wait_for_facts(cycle, edges, str(error))
            raise error

    @hides_frames
    def check(self, scenario, *args, timeout: float = 5.0, **kwargs):
        """Run ``scenario(*args, **kwargs)`` isolated, then :meth:`assert_no_cycle`.

        The scenario runs in :func:`run_isolated` (a forked child), its edges
        are merged into this checker, and a cycle fails the check -- also when
        the scenario deadlocked (the timeout message then adds the lock order).
        Returns the scenario's return value.

        Example::

            checker = LockOrderChecker()
            a, b = checker.install({"a": Account(100), "b": Account(100)}) ...
            checker.check(run_transfers, a, b, timeout=5)
        """
        from . import isolated

        def child():
            def hook():
                cycle = self.find_cycle()
                return [self.describe_cycle(cycle)] if cycle else []

            isolated.on_timeout(hook)
            value = scenario(*args, **kwargs)
            return value, dict(self.edges), dict(self.held_at)

        value, edges, held_at = isolated.run_isolated(child, timeout=timeout)
        for key, val in edges.items():
            self.edges.setdefault(key, val)
        for key, val in held_at.items():
            self.held_at.setdefault(key, val)
        self.assert_no_cycle()
        return value

    def statistics(self) -> dict:
        """Debugging helper: the edges and, per thread, the locks currently held.

        Example: ``checker.statistics()["held"]  # {thread ident: ["a.lock"]}``
        """
        return {
            "edges": dict(self.edges),
            "held": {k: [h.name for h, _ in v] for k, v in self._held.items() if v},
        }


def _since(where: str | None) -> str:
    return f" (taken at {where})" if where else ""


def _wait_for_facts(cycle, edges: dict, title: str) -> dict:
    """The cycle as a wait-for graph (drawn below the message): the thread of each edge
    ``a -> b`` holds ``a`` and waits for ``b``; each call gets its own node, since one
    thread may have taken both orders one after the other.

    >>> _wait_for_facts([("a", "b"), ("b", "a")], {("a", "b"): ("T", "x"),
    ...                  ("b", "a"): ("T", "y")}, "t")["waiting"]
    {'T (call 1)': 'b', 'T (call 2)': 'a'}
    """
    held, waiting = {}, {}
    for i, (a, b) in enumerate(cycle):
        thread = edges[(a, b)][0]
        name = f"{thread} (call {i + 1})" if len(cycle) > 1 else thread
        held[name], waiting[name] = [a], b
    return {"kind": "deadlock", "title": title, "held": held, "waiting": waiting}
