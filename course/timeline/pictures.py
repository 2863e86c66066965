"""Failure pictures: pure drawing functions for what a grading check found.

Each function takes plain data (tuples, lists, dicts of strings and numbers),
draws one matplotlib Figure and returns it; none records, runs or imports a
check.  A companion function computes what the picture highlights, so a
message and its picture agree:

=====================  ============================  =================================
picture                data                          highlighted (computed by)
=====================  ============================  =================================
:func:`race_picture`   ``(thread, "read"|"write",    lost updates (:func:`lost_updates`)
                       value)`` in order
:func:`schedule_       ``(thread, what it ran)``     the thread of each step
picture`               one per switch
:func:`wait_for_       ``held`` {thread: locks},     the cycle (:func:`wait_cycle`)
picture`               ``waiting`` {thread: lock}
:func:`concurrency_    ``(start, end)`` seconds      time above ``limit``
picture`               per worker, ``limit``         (:func:`peak_concurrency`)
:func:`sequence_       expected and actual event     first difference
picture`               lists                         (:func:`first_difference`)
=====================  ============================  =================================

Highlighted artists carry a ``gid`` ("lost-update", "cycle", "over-limit",
"first-difference") so tests can find them.

>>> fig = sequence_picture(["start", "stop"], ["start", "crash"], title="events")
>>> fig.axes[0].get_title()
'events'
"""

from __future__ import annotations

import math

from .draw import shown_once

__all__ = [
    "lost_updates",
    "race_picture",
    "schedule_picture",
    "wait_cycle",
    "wait_for_picture",
    "peak_concurrency",
    "concurrency_picture",
    "first_difference",
    "sequence_picture",
]

_READ, _WRITE, _LOST, _OK = "#1565c0", "#2e7d32", "#c62828", "#9e9e9e"


def _figure(width, height):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height), constrained_layout=True)


def _threads(names) -> list:
    return list(dict.fromkeys(names))


# --- races -------------------------------------------------------------------------------


def lost_updates(accesses) -> list[int]:
    """Indices of the writes whose value was overwritten by a thread that had
    read the attribute *before* that write (its update was computed from a
    stale value).  ``accesses``: ``(thread, "read" | "write", value)`` in the
    order they happened.

    >>> lost_updates([("A", "read", 0), ("B", "read", 0), ("A", "write", 1), ("B", "write", 1)])
    [2]
    >>> lost_updates([("A", "read", 0), ("A", "write", 1), ("B", "read", 1), ("B", "write", 2)])
    []
    """
    last_read: dict = {}  # thread -> index of its latest read
    last_write = None  # index of the latest write
    lost = []
    for i, (thread, op, _) in enumerate(accesses):
        if op == "read":
            last_read[thread] = i
        elif op == "write":
            read = last_read.get(thread)
            if last_write is not None and read is not None and read < last_write:
                if accesses[last_write][0] != thread:
                    lost.append(last_write)
            last_write = i
        else:
            raise ValueError(f"access {i}: op must be 'read' or 'write', not {op!r}")
    return lost


def race_picture(accesses, attribute: str = "value", title: str | None = None):
    """One lane per thread, one column per access: reads as circles, writes as
    squares, each with its value; a lost write is crossed out in red and an
    arrow points from it to the write that overwrote it.

    >>> fig = race_picture(
    ...     [("A", "read", 0), ("B", "read", 0), ("A", "write", 1), ("B", "write", 1)],
    ...     attribute="balance")
    >>> [t.get_text() for t in fig.axes[0].get_yticklabels()]
    ['A', 'B']
    """
    accesses = list(accesses)
    threads = _threads(t for t, _, _ in accesses)
    row = {t: i for i, t in enumerate(threads)}
    lost = set(lost_updates(accesses))
    fig, ax = _figure(max(6, 0.55 * len(accesses) + 2), 1.2 + 0.6 * max(len(threads), 1))
    for i, (thread, op, value) in enumerate(accesses):
        y = row[thread]
        ax.scatter(
            i,
            y,
            marker="o" if op == "read" else "s",
            s=160,
            color=_READ if op == "read" else (_LOST if i in lost else _WRITE),
            zorder=3,
        )
        ax.annotate(
            f"{op[0]} {value}",
            (i, y),
            xytext=(0, 11),
            textcoords="offset points",
            ha="center",
            fontsize=8,
        )
        if i in lost:
            ax.scatter(
                i, y, marker="x", s=420, color=_LOST, linewidths=2.5, zorder=4, gid="lost-update"
            )
            later = next(j for j in range(i + 1, len(accesses)) if accesses[j][1] == "write")
            ax.annotate(
                "",
                (later, row[accesses[later][0]]),
                xytext=(i, y),
                arrowprops={"arrowstyle": "->", "color": _LOST, "lw": 1.5},
            )
    ax.set_yticks(range(len(threads)), threads)
    ax.set_ylim(len(threads) - 0.4, -0.7)
    ax.set_xlim(-0.7, max(len(accesses) - 0.3, 0.7))
    ax.set_xlabel(f"accesses to .{attribute}, in order")
    ax.grid(axis="x", alpha=0.3)
    ax.set_title(
        title
        or (
            f"{len(lost)} lost update(s) of .{attribute}"
            if lost
            else f"no lost update of .{attribute}"
        )
    )
    return shown_once(fig)


# --- schedules ---------------------------------------------------------------------------


def schedule_picture(steps, title: str | None = None):
    """An explorer's schedule: one lane per thread, one column per step (a run of
    one thread between two switches), each labelled with what the thread ran.

    >>> fig = schedule_picture([("t0", "seen = balance"), ("t1", "seen = balance"),
    ...                         ("t0", "balance = seen - 80"), ("t1", "balance = seen - 80")])
    >>> len(fig.axes[0].patches)
    4
    """
    from matplotlib.patches import Rectangle

    steps = list(steps)
    threads = _threads(t for t, _ in steps)
    row = {t: i for i, t in enumerate(threads)}
    colours = ["#90caf9", "#ffcc80", "#a5d6a7", "#ce93d8", "#ef9a9a", "#b0bec5"]
    fig, ax = _figure(max(6, 1.6 * len(steps) + 1.5), 1.2 + 0.6 * max(len(threads), 1))
    for i, (thread, what) in enumerate(steps):
        y = row[thread]
        colour = colours[y % len(colours)]
        ax.add_patch(Rectangle((i + 0.04, y - 0.35), 0.92, 0.7, color=colour, zorder=2))
        ax.text(
            i + 0.5,
            y,
            str(what),
            ha="center",
            va="center",
            fontsize=7,
            wrap=True,
            clip_on=True,
            zorder=3,
        )
    ax.set_yticks(range(len(threads)), threads)
    ax.set_ylim(len(threads) - 0.5, -0.5)
    ax.set_xlim(0, max(len(steps), 1))
    ax.set_xticks([i + 0.5 for i in range(len(steps))], [str(i + 1) for i in range(len(steps))])
    ax.set_xlabel("step (a switch between threads after each)")
    ax.set_title(title or f"schedule with {len(steps)} steps")
    return shown_once(fig)


# --- wait-for graphs ---------------------------------------------------------------------


def wait_cycle(held, waiting) -> list:
    """A cycle of the wait-for graph as ``[thread, lock, thread, lock, ...]``
    (each thread waits for the next lock, each lock is held by the next
    thread), or ``[]``.  ``held``: {thread: locks it holds}; ``waiting``:
    {thread: the lock it waits for}.

    >>> wait_cycle({"t1": ["a"], "t2": ["b"]}, {"t1": "b", "t2": "a"})
    ['t1', 'b', 't2', 'a']
    >>> wait_cycle({"t1": ["a"]}, {"t2": "a"})
    []
    """
    owner = {lock: thread for thread, locks in held.items() for lock in locks}
    for start in waiting:
        path, thread = [], start
        while thread in waiting and thread not in path[::2]:
            lock = waiting[thread]
            path += [thread, lock]
            thread = owner.get(lock)
            if thread is None:
                break
        if thread is not None and thread in path[::2]:
            cut = path.index(thread)
            return path[cut:]
    return []


def wait_for_picture(held, waiting, title: str | None = None):
    """Threads (circles) and locks (squares) on a ring: a solid arrow from a lock
    to the thread holding it, a dashed arrow from a thread to the lock it waits
    for; the edges and nodes of a cycle (a deadlock) in red.

    >>> fig = wait_for_picture({"t1": ["a"], "t2": ["b"]}, {"t1": "b", "t2": "a"})
    >>> fig.axes[0].get_title()
    'deadlock: t1 -> b -> t2 -> a -> t1'
    """
    threads = _threads([*held, *waiting])
    locks = _threads([lock for locks in held.values() for lock in locks] + list(waiting.values()))
    cycle = wait_cycle(held, waiting)
    in_cycle = set(cycle)
    cycle_edges = {(cycle[i], cycle[(i + 1) % len(cycle)]) for i in range(len(cycle))}
    nodes = [n for pair in _interleave(threads, locks) for n in pair]
    pos = {
        n: (math.cos(2 * math.pi * i / len(nodes)), math.sin(2 * math.pi * i / len(nodes)))
        for i, n in enumerate(nodes)
    }
    fig, ax = _figure(6, 5.2)
    edges = [(t, lock, "waits for") for t, lock in waiting.items()]
    edges += [(lock, t, "held by") for t, ls in held.items() for lock in ls]
    for a, b, kind in edges:
        red = (a, b) in cycle_edges
        ax.annotate(
            "",
            pos[b],
            xytext=pos[a],
            arrowprops={
                "arrowstyle": "-|>",
                "color": _LOST if red else "#616161",
                "lw": 2.2 if red else 1.2,
                "linestyle": "--" if kind == "waits for" else "-",
                "shrinkA": 18,
                "shrinkB": 18,
            },
            gid="cycle" if red else None,
        )
    for n in nodes:
        is_thread = n in threads
        ax.scatter(
            *pos[n],
            s=900,
            marker="o" if is_thread else "s",
            color=("#ffcdd2" if n in in_cycle else "#e3f2fd")
            if is_thread
            else ("#ffcdd2" if n in in_cycle else "#eeeeee"),
            edgecolors=_LOST if n in in_cycle else "#616161",
            zorder=3,
        )
        ax.text(*pos[n], str(n), ha="center", va="center", fontsize=8, zorder=4)
    ax.set_xlim(-1.5, 1.5)
    ax.set_ylim(-1.4, 1.4)
    ax.set_aspect("equal")
    ax.axis("off")
    ax.plot([], [], "--", color="#616161", label="thread waits for lock")
    ax.plot([], [], "-", color="#616161", label="lock held by thread")
    ax.legend(loc="lower center", fontsize=8, frameon=False, ncols=2)
    if cycle:
        ring = " -> ".join(str(n) for n in [*cycle, cycle[0]])
        ax.set_title(title or f"deadlock: {ring}")
    else:
        ax.set_title(title or "no cycle: nobody waits for itself")
    return shown_once(fig)


def _interleave(threads, locks):
    """Pairs (thread, lock) so threads and locks alternate around the ring."""
    longest = max(len(threads), len(locks))
    out = []
    for i in range(longest):
        out.append(tuple(x[i] for x in (threads, locks) if i < len(x)))
    return out


# --- concurrency over time ---------------------------------------------------------------


def _steps(intervals):
    """(times, counts): how many intervals are open from each time on."""
    events = sorted(
        [(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals],
        key=lambda ev: (ev[0], ev[1]),
    )  # an end before a start at the same time
    times, counts, active = [], [], 0
    for t, delta in events:
        active += delta
        times.append(t)
        counts.append(active)
    return times, counts


def peak_concurrency(intervals) -> int:
    """The most intervals ``(start, end)`` open at once (touching ones do not overlap).

    >>> peak_concurrency([(0, 2), (1, 3), (2, 4)])
    2
    """
    return max(_steps(list(intervals))[1], default=0)


def concurrency_picture(intervals, limit: int | None = None, title: str | None = None):
    """How many workers were active over time (a step line), with the ``limit``
    as a dashed line and the time above it shaded red.  ``intervals``:
    ``(start, end)`` in seconds, one per worker activity.

    >>> fig = concurrency_picture([(0.0, 0.2), (0.05, 0.25), (0.1, 0.3)], limit=2)
    >>> fig.axes[0].get_title()
    'at most 3 at once (limit 2)'
    """
    intervals = [(float(s), float(e)) for s, e in intervals]
    t0 = min((s for s, _ in intervals), default=0.0)
    times, counts = _steps(intervals)
    xs = [(t - t0) * 1000 for t in times]
    peak = max(counts, default=0)
    fig, ax = _figure(8, 3.2)
    if xs:
        ax.step([0.0, *xs], [0, *counts], where="post", color=_READ, lw=1.8, label="active")
    if limit is not None:
        ax.axhline(limit, color=_LOST, linestyle="--", lw=1.2, label=f"limit {limit}")
        from matplotlib.patches import Rectangle

        first = True
        for x, x_next, count in zip(xs, xs[1:], counts, strict=False):
            if count > limit:
                ax.add_patch(
                    Rectangle(
                        (x, limit),
                        x_next - x,
                        count - limit,
                        color=_LOST,
                        alpha=0.3,
                        gid="over-limit",
                        label="above the limit" if first else None,
                    )
                )
                first = False
    ax.set_ylim(0, max(peak, limit or 0) + 1)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_xlabel("time (ms)")
    ax.set_ylabel("active at once")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    limit_text = f" (limit {limit})" if limit is not None else ""
    ax.set_title(title or f"at most {peak} at once{limit_text}")
    return shown_once(fig)


# --- event sequences ---------------------------------------------------------------------


def first_difference(expected, actual) -> int | None:
    """Index of the first event where ``actual`` differs from ``expected``
    (a missing or extra event counts), or None when they are equal.

    >>> first_difference(["a", "b", "c"], ["a", "x", "c"])
    1
    >>> first_difference(["a"], ["a", "b"]), first_difference(["a"], ["a"])
    (1, None)
    """
    expected, actual = list(expected), list(actual)
    for i, (e, a) in enumerate(zip(expected, actual, strict=False)):
        if e != a:
            return i
    return None if len(expected) == len(actual) else min(len(expected), len(actual))


def sequence_picture(expected, actual, title: str | None = None, first: int = 0):
    """Expected events on top, actual events below, one box per event in order;
    boxes after the first difference are pale and the first difference is
    framed in red with a vertical line.  Events are numbered from ``first``
    (1 to match a message that counts "event 1, event 2, ...").

    >>> fig = sequence_picture(["get 1", "get 2"], ["get 2", "get 1"])
    >>> fig.axes[0].get_title()
    'first difference at event 0: expected get 1, got get 2'
    """
    from matplotlib.patches import Rectangle

    expected, actual = [str(e) for e in expected], [str(a) for a in actual]
    diff = first_difference(expected, actual)
    n = max(len(expected), len(actual), 1)
    fig, ax = _figure(max(6, 1.3 * n + 1.5), 2.6)
    for y, events in ((0, expected), (1, actual)):
        for i, event in enumerate(events):
            after = diff is not None and i > diff
            is_diff = diff is not None and i == diff
            ax.add_patch(
                Rectangle(
                    (i + 0.05, y - 0.3),
                    0.9,
                    0.6,
                    facecolor="#ffcdd2" if is_diff else ("#f5f5f5" if after else "#e3f2fd"),
                    edgecolor=_LOST if is_diff else "#9e9e9e",
                    lw=2 if is_diff else 0.8,
                    gid="first-difference" if is_diff else None,
                )
            )
            ax.text(i + 0.5, y, event, ha="center", va="center", fontsize=8, clip_on=True)
    if diff is not None:
        ax.axvline(diff + 0.02, color=_LOST, lw=1.5, gid="first-difference")
    ax.set_yticks([0, 1], ["expected", "actual"])
    ax.set_ylim(1.6, -0.6)
    ax.set_xlim(0, n)
    ax.set_xticks([i + 0.5 for i in range(n)], [str(i + first) for i in range(n)])
    ax.set_xlabel("event number")
    if diff is None:
        ax.set_title(title or "the sequences are equal")
    else:
        want = expected[diff] if diff < len(expected) else "(no more events)"
        got = actual[diff] if diff < len(actual) else "(no more events)"
        ax.set_title(
            title or f"first difference at event {diff + first}: expected {want}, got {got}"
        )
    return shown_once(fig)
