"""Pictures of a failed check: the student's own failing run, drawn with ``course.timeline``.

A failed check carries what it measured as ``exc.grading_facts`` (plain data, recorded where the
check ran, also in the grading child, and sent back with the failure).  This module turns those
facts into a PNG, only after a failure, in the kernel.  One kind of facts per kind of failure:

==============  ==========================================  ===================================
kind            facts (besides ``"title"``)                 drawn with ``course.timeline``
==============  ==========================================  ===================================
``race``        ``accesses``: (t, thread, attr, op, value)  ``race_picture`` (lost update)
``schedule``    ``steps``: (thread, what it ran)            ``schedule_picture``
``deadlock``    ``held`` {thread: [locks]}, ``waiting``     ``wait_for_picture`` (the cycle)
                {thread: lock}
``limit``       ``intervals``: (start, end), ``limit``      ``concurrency_picture``
``events``      ``expected``, ``actual`` event lists        ``sequence_picture``
==============  ==========================================  ===================================

>>> facts = {"kind": "race", "title": "expected 2, got 1", "accesses": [
...     (0.000, "T1", "value", "read", "0"), (0.001, "T2", "value", "read", "0"),
...     (0.002, "T1", "value", "write", "1"), (0.003, "T2", "value", "write", "1")]}
>>> png_for(facts)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
>>> failure_picture([{"output_type": "error", "ename": "AssertionError", "evalue": "x"}])
('other', None)
"""

from __future__ import annotations

import base64
import io
import warnings

WINDOW = 14  # accesses drawn around the first lost update
KINDS = ("race", "schedule", "deadlock", "limit", "events")
DPI = 72


def _race_figure(facts: dict):
    from course.timeline.pictures import lost_updates, race_picture

    accesses = list(facts.get("accesses") or [])
    if any(a[1] != "MainThread" for a in accesses):  # the test's own set-up is not the story
        accesses = [a for a in accesses if a[1] != "MainThread"]
    if not accesses:
        return None
    by_attr: dict[str, list] = {}
    for a in accesses:
        by_attr.setdefault(a[2], []).append(a)
    attr, chosen, lost = accesses[0][2], by_attr[accesses[0][2]], []
    for name, rows in by_attr.items():  # the first attribute that lost an update
        lost = lost_updates([(thread, op, value) for _, thread, _, op, value in rows])
        if lost:
            attr, chosen = name, rows
            break
    centre = lost[0] if lost else 0
    lo = max(0, centre - WINDOW // 2)
    shown = [(thread, op, value) for _, thread, _, op, value in chosen[lo : lo + WINDOW]]
    title = _first_line(facts)
    return race_picture(shown, attribute=attr, title=title)


def _schedule_figure(facts: dict):
    from course.timeline.pictures import schedule_picture

    steps = [(str(t), _lines(str(w))) for t, w in facts.get("steps") or []]
    return schedule_picture(steps[-16:], title=_first_line(facts)) if steps else None


def _deadlock_figure(facts: dict):
    from course.timeline.pictures import wait_for_picture

    held, waiting = facts.get("held") or {}, facts.get("waiting") or {}
    return wait_for_picture(held, waiting) if waiting else None


def _limit_figure(facts: dict):
    from course.timeline.pictures import concurrency_picture

    intervals = facts.get("intervals") or []
    if not intervals:
        return None
    return concurrency_picture(intervals, facts.get("limit"), title=_first_line(facts))


def _events_figure(facts: dict):
    from course.timeline.pictures import first_difference, sequence_picture

    expected, actual = facts.get("expected"), facts.get("actual")
    if expected is None or actual is None:
        return None
    expected = [_shorten(str(e), 24) for e in expected]
    actual = [_shorten(str(a), 24) for a in actual]
    start = max(0, (first_difference(expected, actual) or 0) - 4)  # a few events before it
    return sequence_picture(
        expected[start : start + 14],
        actual[start : start + 14],
        first=start + 1,  # as assert_events' message counts them
    )


_FIGURES = {
    "race": _race_figure,
    "schedule": _schedule_figure,
    "deadlock": _deadlock_figure,
    "limit": _limit_figure,
    "events": _events_figure,
}


def _first_line(facts: dict) -> str:
    lines = str(facts.get("title") or "").strip().splitlines()
    return _shorten(lines[0], 110) if lines else None


def _lines(text: str, width: int = 34, most: int = 4) -> str:
    """A step's lines, each shortened, at most ``most`` of them."""
    lines = [_shorten(line, width) for line in text.splitlines()]
    if len(lines) > most:
        lines = [*lines[: most - 2], f"... {len(lines) - most + 1} more", lines[-1]]
    return "\n".join(lines)


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def race_png(facts: dict, dpi: int = DPI) -> bytes | None:
    """The reads and writes of a failed race trial as PNG bytes (None without accesses)."""
    return _png(_race_figure, facts, dpi)


def _png(draw, facts: dict, dpi: int) -> bytes | None:
    import matplotlib.pyplot as plt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = draw(facts)
        if fig is None:
            return None
        try:
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        finally:
            plt.close(fig)
    return buffer.getvalue()


def png_for(facts: dict, dpi: int = DPI) -> bytes | None:
    """A PNG for any kind of facts this module can draw, else None (never raises).

    >>> png_for({"kind": "unknown"}) is None
    True
    >>> png_for({"kind": "limit", "limit": 2, "intervals": [(0, 1), (0, 1), (0, 1)]})[:4]
    b'\\x89PNG'
    """
    try:
        draw = _FIGURES.get(facts.get("kind"))
        return _png(draw, facts, dpi) if draw else None
    except Exception:  # noqa: BLE001 - a picture must never turn into an error
        return None


# -- for the TA class report: what a failing cell of an autograded notebook shows ---------


def failure_picture(outputs) -> tuple[str, bytes | None]:
    """``(kind, png)`` of a failing test cell, from its outputs in an autograded notebook:
    ``kind`` is one of :data:`KINDS` when the check drew its picture (the kind is stored in
    the picture's metadata), ``"timeout"``, ``"crash"`` or ``"other"`` from the message
    otherwise; ``png`` the picture's bytes or None.  ``outputs``: nbformat outputs (dicts).

    >>> failure_picture([{"output_type": "error", "ename": "AssertionError",
    ...                   "evalue": "Timed out after 5 s: your code is stuck"}])
    ('timeout', None)
    """
    png, kind = None, None
    for out in outputs:
        if out.get("output_type") in ("display_data", "execute_result"):
            data = out.get("data") or {}
            if "image/png" in data and png is None:
                png = base64.b64decode(data["image/png"])
                kind = (out.get("metadata") or {}).get("grading_failure")
    if kind in KINDS:
        return kind, png
    text = " ".join(str(o.get("evalue", "")) for o in outputs if o.get("output_type") == "error")
    if "Timed out" in text or "deadlock" in text:
        kind = "timeout"
    elif "crashed" in text or "ended the process" in text:
        kind = "crash"
    else:
        kind = "other"
    return kind, png
