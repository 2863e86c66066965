"""Event logs and order assertions for coroutine, queue and asyncio exercises.

Like curio's tests, a concurrent exercise is checked by the whole ordered log
of what happened (``("produce", 1)``, ``("consume", 1)``, ...), not by one
final value: a solution that computes the right answer without really
interleaving producer and consumer has the wrong log.
"""

from __future__ import annotations

import difflib
import threading
import time
from collections import Counter

from ._display import hides_frames


class _Any:
    """Matches any single value inside an expected event: ``("produce", ANY)``."""

    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return "ANY"


#: Wildcard for expected events: ``assert_events(log, [("get", ANY)])``.
ANY = _Any()


class EventLog:
    """A thread-safe, append-only list of events.

    ``log(*parts)`` records ``parts`` as a tuple (a single part is stored as
    is).  ``log.events`` is a copy of the list; ``log.times`` the matching
    ``time.perf_counter()`` stamps.

    Example::

        log = EventLog()
        log("produce", 1); log("consume", 1)
        log.events          # [("produce", 1), ("consume", 1)]
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._events: list = []
        self._times: list[float] = []

    def __call__(self, *parts):
        event = parts[0] if len(parts) == 1 else tuple(parts)
        with self._lock:
            self._events.append(event)
            self._times.append(time.perf_counter())
        return event

    record = __call__

    @property
    def events(self) -> list:
        """A copy of the recorded events, in order."""
        with self._lock:
            return list(self._events)

    @property
    def times(self) -> list[float]:
        """``time.perf_counter()`` at each event."""
        with self._lock:
            return list(self._times)

    def clear(self) -> None:
        """Forget every event."""
        with self._lock:
            self._events.clear()
            self._times.clear()

    def __len__(self) -> int:
        return len(self._events)

    def __iter__(self):
        return iter(self.events)

    def __getstate__(self):
        return {"events": self.events, "times": self.times}

    def __setstate__(self, state):
        self.__init__()
        self._events = list(state["events"])
        self._times = list(state["times"])

    def __repr__(self) -> str:
        return f"EventLog({self.events!r})"


def _as_list(events) -> list:
    if isinstance(events, EventLog):
        return events.events
    return list(events)


def _context(events: list, index: int, width: int = 2) -> str:
    lo, hi = max(0, index - width), min(len(events), index + width + 1)
    parts = []
    for i in range(lo, hi):
        mark = ">" if i == index else " "
        parts.append(f"  {mark} event {i + 1}: {events[i]!r}")
    return "\n".join(parts)


def _first_difference(actual: list, expected: list) -> str | None:
    for i, (a, e) in enumerate(zip(actual, expected, strict=False)):
        if not (e == a):
            return (
                f"event {i + 1} differs: expected {e!r}, got {a!r}\n"
                f" context (your events):\n{_context(actual, i)}"
            )
    if len(actual) < len(expected):
        missing = expected[len(actual) : len(actual) + 3]
        more = " ..." if len(expected) - len(actual) > 3 else ""
        return (
            f"expected {len(expected)} events, got only {len(actual)}: missing from event "
            f"{len(actual) + 1} on: {', '.join(map(repr, missing))}{more}"
        )
    if len(actual) > len(expected):
        extra = actual[len(expected) : len(expected) + 3]
        more = " ..." if len(actual) - len(expected) > 3 else ""
        return (
            f"expected {len(expected)} events, got {len(actual)}: unexpected events from event "
            f"{len(expected) + 1} on: {', '.join(map(repr, extra))}{more}"
        )
    return None


def _similarity(actual: list, expected: list) -> tuple:
    prefix = 0
    for a, e in zip(actual, expected, strict=False):
        if not (e == a):
            break
        prefix += 1
    try:
        ratio = difflib.SequenceMatcher(None, list(map(repr, actual)), list(map(repr, expected)))
        score = ratio.ratio()
    except Exception:
        score = 0.0
    return (prefix, score)


def _mismatch(message: str, expected: list, actual: list) -> AssertionError:
    """The AssertionError of an event-log mismatch, carrying both sequences as text
    (``grading_facts``, drawn side by side below the message); an expected event that
    matches (e.g. ``ANY``) is shown as the actual one."""
    error = AssertionError(message)
    shown = [
        repr(actual[i]) if i < len(actual) and e == actual[i] else repr(e)
        for i, e in enumerate(expected)
    ]
    error.grading_facts = {
        "kind": "events",
        "title": message,
        "expected": shown[:40],
        "actual": [repr(a) for a in actual[:40]],
    }
    return error


@hides_frames
def assert_events(actual, expected=None, *, allowed=None, before=None, any_order=False):
    """Check an event log; ``AssertionError`` explains the first difference.

    * ``assert_events(log, expected)`` -- exactly this order;
    * ``assert_events(log, expected, any_order=True)`` -- the same events
      (as a multiset) in any order;
    * ``assert_events(log, allowed=[seq_a, seq_b])`` -- any of several orders
      (a failure is explained against the closest one);
    * ``assert_events(log, before=[(e1, e2), ...])`` -- ``e1`` occurs, ``e2``
      occurs, and the first ``e1`` comes before the first ``e2``.

    Options combine (all given checks must pass).  ``actual`` is a list or an
    :class:`EventLog`; expected events may contain :data:`ANY`.

    Returns the events it checked (a list), so a test can assert on them too.

    Example::

        assert_events(log, [("produce", 1), ("consume", 1)])
        assert_events(log, before=[(("produce", 1), ("consume", 1))])
    """
    events = _as_list(actual)
    if expected is None and allowed is None and before is None:
        raise TypeError("assert_events needs expected, allowed= or before=")
    if expected is not None:
        expected = _as_list(expected)
        if any_order:
            try:
                got, want = Counter(events), Counter(expected)
            except TypeError:
                got = want = None
            if got is not None and got != want:
                missing = list((want - got).elements())
                extra = list((got - want).elements())
                parts = []
                if missing:
                    parts.append(f"missing {missing[:5]!r}")
                if extra:
                    parts.append(f"unexpected {extra[:5]!r}")
                raise AssertionError("events differ (in any order): " + "; ".join(parts))
            if got is None:  # unhashable or ANY: greedy matching
                pool = list(events)
                for e in expected:
                    for i, a in enumerate(pool):
                        if e == a:
                            del pool[i]
                            break
                    else:
                        raise AssertionError(f"events differ (in any order): missing {e!r}")
                if pool:
                    raise AssertionError(f"events differ (in any order): unexpected {pool[:5]!r}")
        else:
            diff = _first_difference(events, expected)
            if diff:
                raise _mismatch(diff, expected, events)
    if allowed is not None:
        options = [_as_list(o) for o in allowed]
        if not options:
            raise TypeError("allowed= needs at least one sequence")
        if not any(_first_difference(events, o) is None for o in options):
            best = max(range(len(options)), key=lambda i: _similarity(events, options[i]))
            raise _mismatch(
                f"the events match none of the {len(options)} allowed orders; "
                f"against the closest (allowed order {best + 1}): "
                + _first_difference(events, options[best]),
                options[best],
                events,
            )
    if before is not None:
        for first, second in before:
            i = next((k for k, e in enumerate(events) if first == e), None)
            j = next((k for k, e in enumerate(events) if second == e), None)
            if i is None:
                raise AssertionError(
                    f"event {first!r} never happened (it must come before {second!r})"
                )
            if j is None:
                raise AssertionError(
                    f"event {second!r} never happened (it must come after {first!r})"
                )
            if not i < j:
                raise AssertionError(
                    f"{first!r} must come before {second!r}, but it is event {i + 1} and "
                    f"{second!r} is event {j + 1}\n context:\n{_context(events, j)}"
                )
    return events
