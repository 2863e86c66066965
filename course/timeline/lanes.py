"""Which worker is running?  The lane name of the current thread, process,
greenlet or asyncio task.

The lane is worked out when a span *starts*, from the innermost kind of worker
that is running: asyncio task, then greenlet, then thread.  In a child process
every lane is prefixed with the process name (``proc-1/Task-2``), so workers of
two children never share a lane even when their own names are equal.

>>> from course.timeline.lanes import current_lane
>>> current_lane()
'MainThread'
"""

from __future__ import annotations

import asyncio
import multiprocessing.process as _mp_process
import sys
import threading
import weakref

from .._frames import is_library_file

__all__ = ["current_lane", "greenlet_lane", "process_prefix"]

_greenlet_getcurrent = None  # greenlet.getcurrent once greenlet is imported
_task_lanes: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_greenlet_names: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_greenlet_counter = [0]


def process_prefix() -> str:
    """``""`` in the top process, else ``"<process name>/"``: what lanes of a
    child process start with.

    >>> process_prefix()
    ''
    """
    if _mp_process._parent_process is None:  # parent_process() without the call
        return ""
    return _mp_process.current_process().name + "/"


def _is_main_task(task: asyncio.Task) -> bool:
    """True for the task that drives the loop (``asyncio.run``'s main task or a
    task run by library code such as ipykernel's cell runner, asyncio itself:
    infrastructure, not a worker the student started)."""
    for callback, *_ in getattr(task, "_callbacks", None) or ():
        if getattr(callback, "__name__", "") == "_run_until_complete_cb":
            return True
    code = getattr(task.get_coro(), "cr_code", None)
    if code is None:
        return False
    return is_library_file(code.co_filename)


def _task_lane(task: asyncio.Task) -> str | None:
    try:
        return _task_lanes[task]
    except KeyError:
        pass
    lane = None if _is_main_task(task) else process_prefix() + task.get_name()
    _task_lanes[task] = lane
    return lane


def greenlet_lane(glet) -> str:
    """The lane name of a greenlet: its ``name`` attribute (gevent's Greenlet
    has one) or ``greenlet-N``; the main greenlet is its thread's lane.

    >>> import greenlet
    >>> greenlet_lane(greenlet.getcurrent()) == threading.current_thread().name
    True
    >>> greenlet_lane(greenlet.greenlet(lambda: None)).startswith("greenlet-")
    True
    """
    if glet.parent is None:
        return _thread_lane()
    name = getattr(glet, "name", None)
    if not (isinstance(name, str) and name):
        try:
            name = _greenlet_names[glet]
        except KeyError:
            _greenlet_counter[0] += 1
            name = _greenlet_names[glet] = f"greenlet-{_greenlet_counter[0]}"
    return process_prefix() + name


def _thread_lane() -> str:
    thread = threading.current_thread()
    prefix = process_prefix()
    if not prefix:
        return thread.name
    if thread is threading.main_thread():
        return prefix[:-1]
    return prefix + thread.name


def current_lane() -> str:
    """Name of the worker running this code: asyncio task (other than the main
    one), else greenlet (other than the main one), else thread name; in a child
    process prefixed with the process name (its main thread is just the
    process name).

    >>> current_lane()
    'MainThread'
    >>> t = threading.Thread(target=lambda: print(current_lane()), name="worker-1")
    >>> t.start(); t.join()
    worker-1
    """
    if asyncio._get_running_loop() is not None:
        task = asyncio.current_task()
        if task is not None:
            lane = _task_lane(task)
            if lane is not None:
                return lane
    global _greenlet_getcurrent
    if _greenlet_getcurrent is None and "greenlet" in sys.modules:
        _greenlet_getcurrent = sys.modules["greenlet"].getcurrent
    if _greenlet_getcurrent is not None:
        glet = _greenlet_getcurrent()
        if glet.parent is not None:
            return greenlet_lane(glet)
    return _thread_lane()
