"""Pictures of a failed check: the student's own failing run, drawn with ``course.timeline``.

A failed :func:`stress` trial carries the reads and writes of the racy attributes it made
(``exc.grading_facts``, recorded where the trial ran, also in the grading child).  This module
turns them into a timeline PNG: one lane per thread, a mark per read (``r 5``) and write
(``w 6``), and the first lost update named in the title (which write overwrote which).
Drawing happens only after a failure, in the kernel.

>>> facts = {"kind": "race", "title": "expected 2, got 1", "accesses": [
...     (0.000, "T1", "value", "read", "0"), (0.001, "T2", "value", "read", "0"),
...     (0.002, "T1", "value", "write", "1"), (0.003, "T2", "value", "write", "1")]}
>>> lost_update(facts["accesses"])
(3, 2)
>>> race_png(facts)[:8] == b"\\x89PNG\\r\\n\\x1a\\n"
True
"""

from __future__ import annotations

import io
import warnings

WINDOW = 12  # accesses drawn around the first lost update


def lost_update(accesses) -> tuple[int, int] | None:
    """``(i, j)``: access ``i`` (a write) overwrote write ``j`` of another thread, made after
    the value that ``i``'s thread had read -- the first lost update; None if there is none."""
    last_read: dict[tuple[str, str], int] = {}
    for i, (_, thread, attr, kind, _value) in enumerate(accesses):
        if kind == "read":
            last_read[(thread, attr)] = i
            continue
        read = last_read.get((thread, attr))
        if read is None:
            continue
        for j in range(read + 1, i):
            _, other, other_attr, other_kind, _ = accesses[j]
            if other != thread and other_attr == attr and other_kind == "write":
                return i, j
    return None


def race_png(facts: dict, dpi: int = 80) -> bytes:
    """The timeline of a failed race trial as PNG bytes."""
    import matplotlib

    from course.timeline import RUNNING, Timeline

    accesses = list(facts.get("accesses") or [])
    found = lost_update(accesses)
    centre = found[0] if found else 0
    lo = max(0, centre - WINDOW + 3)
    shown = [(k, a) for k, a in enumerate(accesses[lo : lo + WINDOW], lo)]
    if any(a[1] != "MainThread" for _, a in shown):  # the test's own set-up is not the story
        shown = [(k, a) for k, a in shown if a[1] != "MainThread"]
    tl = Timeline()
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for _, (t, thread, _attr, _kind, _value) in shown:
        first.setdefault(thread, t)
        last[thread] = t
    for thread, start in first.items():
        tl.record(thread, RUNNING, start, max(last[thread], start), None)
    for k, (t, thread, _attr, kind, value) in shown:
        name = f"{'r' if kind == 'read' else 'w'} {value}"
        if found and k in found:
            name = f"{name} LOST" if k == found[1] else f"{name} overwrote"
        tl.mark(name, lane=thread, t=t)
    title = facts.get("title", "the failing trial").splitlines()[0]
    if found:
        i, j = found
        title += (
            f"\n{accesses[i][1]} read, {accesses[j][1]} wrote {accesses[j][4]}, then "
            f"{accesses[i][1]} wrote {accesses[i][4]} over it: {accesses[j][1]}'s update is lost"
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fig = tl.plot(title=title[:200], figsize=(9, 1.2 + 0.5 * len(first)))
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
        import matplotlib.pyplot as plt

        plt.close(fig)
    del matplotlib
    return buffer.getvalue()


def png_for(facts: dict) -> bytes | None:
    """A PNG for any kind of facts this module can draw, else None (never raises).

    >>> png_for({"kind": "unknown"}) is None
    True
    """
    try:
        if facts.get("kind") == "race" and facts.get("accesses"):
            return race_png(facts)
    except Exception:  # noqa: BLE001 - a picture must never turn into an error
        return None
    return None
