"""Instruments for the hidden tests of notebooks 03 and 04: targets that report where,
how and when they ran.

A hidden test cannot trust how a student *says* the work was done, so these
probes measure it where it happens, inside the worker:

- :func:`process_facts` -- pid, parent pid, and the start method that really
  created this process, read from the process's own command line (a child made
  with ``get_context("fork")`` cannot pass for a spawned one);
- :func:`checked_square` -- ``x * x`` plus those facts; with a work directory it
  also forces completion order to differ from input order and proves that
  several processes took part;
- :class:`Sent` and :func:`square_where` -- an item that remembers which process
  last pickled it (put it on a queue), and a stage that reports which process
  squared it;
- :func:`stubborn_nap` -- a process that needs ``linger`` seconds to die after
  ``SIGTERM``, so returning without waiting for it shows;
- :func:`mark_worker` and :func:`timed_call` -- an executor worker's mark and a
  call that logs its start, end and worker to a directory.

>>> value, facts = checked_square(5)
>>> value, facts["pid"] == os.getpid()
(25, True)
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import sys
import threading
import time


def started_by() -> str:
    """The start method that created this process: ``"spawn"``, ``"forkserver"`` or ``"fork"``
    (a process not started by multiprocessing counts as ``"fork"``).

    A spawned child runs ``python -c 'from multiprocessing.spawn import spawn_main ...'
    --multiprocessing-fork``; a forkserver child is forked from a server whose command
    line names ``multiprocessing.forkserver``; a forked child keeps its parent's.

    >>> import multiprocessing
    >>> with multiprocessing.get_context("spawn").Pool(1) as pool:
    ...     pool.apply(started_by)
    'spawn'
    """
    argv = " ".join(getattr(sys, "orig_argv", sys.argv))
    if "--multiprocessing-fork" in argv:
        return "spawn"
    if "multiprocessing.forkserver" in argv:
        return "forkserver"
    return "fork"


def process_facts() -> dict:
    """``{"pid", "ppid", "method"}`` of the process this runs in.

    >>> process_facts()["pid"] == os.getpid()
    True
    """
    return {"pid": os.getpid(), "ppid": os.getppid(), "method": started_by()}


def checked_square(x: int, workdir: str | None = None, first=None, last=None, wait: float = 5.0):
    """Return ``(x * x, process_facts())``; with ``workdir``, also force the completion order.

    With ``workdir`` (an empty directory), the call for item ``first`` waits until
    the call for item ``last`` has finished (at most ``wait`` seconds).  So ``first``
    finishes *after* every other item whenever another process works on the rest: a
    map that returns results in completion order puts ``first`` last, and a map that
    runs everything in one process waits ``wait`` seconds once and shows a single pid.

    >>> checked_square(7)[0]
    49
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [checked_square(x, d, first=3, last=1, wait=0.05)[0] for x in (1, 3)]
    [1, 9]
    """
    if workdir is not None:
        if x == first and last != first:
            deadline = time.monotonic() + wait
            done = os.path.join(workdir, f"done-{last}")
            while not os.path.exists(done) and time.monotonic() < deadline:
                time.sleep(0.005)
        with open(os.path.join(workdir, f"done-{x}"), "w"):
            pass
    return x * x, process_facts()


class Sent:
    """An item that remembers the pid of the process that last pickled it.

    ``multiprocessing.Queue.put`` pickles in the putting process (its feeder
    thread), so after a trip through a queue ``sent_from`` is the pid of the
    process that put it there.

    >>> import pickle
    >>> item = pickle.loads(pickle.dumps(Sent(4)))
    >>> item.value, item.sent_from == os.getpid()
    (4, True)
    """

    def __init__(self, value, sent_from: int | None = None):
        self.value = value
        self.sent_from = sent_from

    def __reduce__(self):
        return Sent, (self.value, os.getpid())

    def __repr__(self):
        return f"Sent({self.value!r})"


def square_where(item) -> tuple:
    """A pipeline stage probe: ``(value ** 2, pid that sent the item, process_facts())``.

    >>> import pickle
    >>> value, sender, facts = square_where(pickle.loads(pickle.dumps(Sent(3))))
    >>> value, sender == facts["pid"] == os.getpid()
    (9, True)
    """
    value = item.value if isinstance(item, Sent) else item
    return value * value, getattr(item, "sent_from", None), process_facts()


def stubborn_nap(seconds: float, exitcode: int = 0, linger: float = 1.0, ready=None) -> None:
    """Sleep ``seconds`` and exit with ``exitcode``; on ``SIGTERM``, take ``linger`` seconds
    to clean up, then die of that ``SIGTERM`` (exit code ``-SIGTERM``).

    ``ready`` (an ``Event``) is set once the handler is installed, so a test can wait
    for it before sending the signal.  Code that terminates the process and returns
    without ``join()`` finds it still alive for ``linger`` seconds.

    >>> stubborn_nap(0.01)
    >>> stubborn_nap(0, exitcode=7)
    Traceback (most recent call last):
    SystemExit: 7
    """
    previous = None
    if threading.current_thread() is threading.main_thread():

        def die_slowly(signum, frame):
            time.sleep(linger)
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

        previous = signal.signal(signal.SIGTERM, die_slowly)
    try:
        if ready is not None:
            ready.set()
        time.sleep(seconds)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    if exitcode:
        sys.exit(exitcode)


_worker = threading.local()


def mark_worker(tag: str) -> None:
    """Executor ``initializer``: mark the current worker (thread or process) with ``tag``.

    >>> from concurrent.futures import ThreadPoolExecutor
    >>> with ThreadPoolExecutor(1, initializer=mark_worker, initargs=("t1",)) as ex:
    ...     ex.submit(worker_mark).result()
    't1'
    >>> worker_mark() is None  # this thread is not a marked worker
    True
    """
    _worker.tag = tag


def worker_mark() -> str | None:
    """The tag :func:`mark_worker` gave the current worker (``None`` elsewhere).

    >>> worker_mark() is None
    True
    """
    return getattr(_worker, "tag", None)


def timed_call(x, delays: dict, workdir: str):
    """Sleep ``delays[x]`` seconds and return ``(x, token)`` with a random ``token``;
    log ``{"x", "start", "end", "token", "mark", "pid", "thread"}`` to ``workdir``
    (``start-<x>.json`` on entry, ``end-<x>.json`` on return; ``time.monotonic()``
    is one clock for every process on Linux).  Read the log with :func:`read_calls`.

    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> x, token = timed_call(4, {4: 0.01}, d)
    >>> calls = read_calls(d)
    >>> calls[4]["token"] == token, calls[4]["end"] >= calls[4]["start"]
    (True, True)
    """
    record = {"x": x, "start": time.monotonic(), "mark": worker_mark(), "pid": os.getpid()}
    record["thread"] = threading.current_thread().name
    _write(os.path.join(workdir, f"start-{x}.json"), record)
    time.sleep(delays[x])
    record.update(token=secrets.token_hex(8), end=time.monotonic())
    _write(os.path.join(workdir, f"end-{x}.json"), record)
    return x, record["token"]


def read_calls(workdir: str) -> dict:
    """``{x: record}`` of every :func:`timed_call` logged in ``workdir`` (``end`` is
    ``None`` for a call still running).

    >>> import tempfile
    >>> read_calls(tempfile.mkdtemp())
    {}
    """
    calls = {}
    for name in sorted(os.listdir(workdir)):
        if not name.endswith(".json"):
            continue  # a record being written
        with open(os.path.join(workdir, name)) as f:
            record = json.load(f)
        if name.startswith("start-"):
            calls.setdefault(record["x"], {**record, "end": None, "token": None})
        else:
            calls[record["x"]] = record
    return calls


def _write(path: str, record: dict) -> None:
    """Write ``record`` as JSON atomically (a reader never sees half a file)."""
    tmp = f"{path}.{os.getpid()}.{threading.get_ident()}.tmp"
    with open(tmp, "w") as f:
        json.dump(record, f)
    os.replace(tmp, path)
