"""More importable process targets, for notebooks 03 (processes) and 04 (IPC).

Like :mod:`course.workers`, everything here lives in a module so that it works
as a multiprocessing target under every start method (fork, forkserver,
spawn): a spawned child imports the target by name, and a notebook cannot be
imported.  Two helpers are not targets but are used next to them:
:func:`capture_stderr` (show a child's error message in a notebook without
writing to the cell's stderr) and :func:`checked_square` (a probe the hidden
tests use to prove that work ran in several processes, in input order).

>>> import multiprocessing
>>> from course.ipc_workers import nap
>>> p = multiprocessing.get_context("spawn").Process(target=nap, args=(0.01, 3))
>>> p.start(); p.join(); p.exitcode
3
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import tempfile
import time

from course.timeline import QUEUE_GET, RUNNING, SLEEPING

STOP = None  # the sentinel that ends a stage (the same as course.workers.STOP)

#: A module-level list: each process has its own copy (notebook 04, section 1).
shopping_list: list = []


# ---------------------------------------------------------------------------
# Notebook 03: starting, naming, joining processes


def greet(name: str, pause: float = 0.1) -> None:
    """Print who runs this call (name, pid, parent pid), then sleep ``pause`` s.

    >>> greet("Ada", pause=0)  # doctest: +ELLIPSIS
    hello Ada from process MainProcess (pid ..., parent ...)
    """
    me = multiprocessing.current_process().name
    print(f"hello {name} from process {me} (pid {os.getpid()}, parent {os.getppid()})", flush=True)
    time.sleep(pause)


class Greeter(multiprocessing.Process):
    """A process class: ``run()`` is what the new process executes after ``start()``.

    >>> g = Greeter("Ada", pause=0)
    >>> g.run()  # doctest: +ELLIPSIS
    hello Ada from process Greeter-... (pid ..., parent ...)
    """

    def __init__(self, who: str, pause: float = 0.1):
        super().__init__(name=f"Greeter-{who}")
        self.who = who
        self.pause = pause

    def run(self):
        print(
            f"hello {self.who} from process {self.name} (pid {os.getpid()}, parent {os.getppid()})",
            flush=True,
        )
        time.sleep(self.pause)


def nap(seconds: float, exitcode: int = 0) -> None:
    """Sleep ``seconds``, then end the process with ``exitcode`` (0: return normally).

    >>> nap(0.01)
    >>> nap(0, exitcode=2)
    Traceback (most recent call last):
    SystemExit: 2
    """
    time.sleep(seconds)
    if exitcode:
        sys.exit(exitcode)


def crash(message: str = "something went wrong") -> None:
    """Raise ``RuntimeError(message)``: a child that fails (its exit code becomes 1).

    >>> crash("boom")
    Traceback (most recent call last):
    RuntimeError: boom
    """
    raise RuntimeError(message)


def checked_square(x: int, workdir: str | None = None, last: int | None = None, wait: float = 5.0):
    """Return ``(x * x, pid)``; with ``workdir``, also prove parallelism and order.

    With ``workdir`` (an empty directory) and ``last`` (the last item), the call
    for item 0 waits until the call for ``last`` has finished (at most ``wait``
    seconds).  So item 0 finishes *after* every other item whenever another
    process works on the rest: a map that returns results in completion order
    puts item 0 last, and a map that runs everything in one process waits
    ``wait`` seconds once and shows a single pid.

    >>> checked_square(7)[0]
    49
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> [checked_square(x, d, last=1, wait=0.05)[0] for x in (1, 0)]
    [1, 0]
    """
    if workdir is not None and last is not None:
        if x == 0 and last != 0:
            deadline = time.monotonic() + wait
            done = os.path.join(workdir, f"done-{last}")
            while not os.path.exists(done) and time.monotonic() < deadline:
                time.sleep(0.005)
        with open(os.path.join(workdir, f"done-{x}"), "w"):
            pass
    return x * x, os.getpid()


@contextlib.contextmanager
def capture_stderr():
    """Send stderr to a temporary file while the block runs; ``.text`` holds it afterwards.

    Both file descriptor 2 and ``sys.stderr`` are redirected, so child
    processes started inside the block write their tracebacks to the file
    instead of the notebook, whatever the start method (a spawned child
    inherits descriptor 2, a forked child inherits ``sys.stderr``).  Children
    of a forkserver inherit the *server's* stderr, so a running forkserver is
    stopped on entry and on exit (the next forkserver child starts a fresh
    one); start no forkserver process before the block that must outlive it.

    >>> import subprocess, sys
    >>> with capture_stderr() as err:
    ...     _ = subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('oops')"])
    ...     print("and me", file=sys.stderr)
    >>> err.text
    'oopsand me\\n'
    """
    box = _Captured()
    old_stream = sys.stderr
    with contextlib.suppress(Exception):
        old_stream.flush()
    _stop_forkserver()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        stream = open(2, "w", buffering=1, closefd=False, encoding="utf-8", errors="replace")  # noqa: SIM115
        sys.stderr = stream
        try:
            yield box
        finally:
            stream.flush()
            sys.stderr = old_stream
            os.dup2(saved, 2)
            os.close(saved)
            _stop_forkserver()
            tmp.seek(0)
            box.text = tmp.read().decode("utf-8", "replace")


def _stop_forkserver():
    """Stop the forkserver process if one runs (multiprocessing starts a new one on demand)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if getattr(server, "_forkserver_pid", None) is not None:
        with contextlib.suppress(Exception):
            server._stop()


class _Captured:
    text = ""

    def last_line(self) -> str:
        """The last non-empty line (for a traceback: the exception)."""
        lines = [ln for ln in self.text.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


# ---------------------------------------------------------------------------
# Notebook 04: isolation, shared values, a traced pipeline


def add_to_shopping_list(item: str) -> list:
    """Append ``item`` to this process's :data:`shopping_list`, print and return it.

    >>> add_to_shopping_list("tea")
    in process MainProcess the list is ['tea']
    ['tea']
    >>> shopping_list.clear()
    """
    shopping_list.append(item)
    print(
        f"in process {multiprocessing.current_process().name} the list is {shopping_list}",
        flush=True,
    )
    return shopping_list


def add_many(counter, times: int, use_lock: bool = True) -> None:
    """Add 1 to ``counter.value`` ``times`` times (a ``multiprocessing.Value``),
    holding ``counter.get_lock()`` around each read-add-write when ``use_lock``.

    >>> import multiprocessing
    >>> c = multiprocessing.Value("i", 0)
    >>> add_many(c, 1000); c.value
    1000
    """
    if use_lock:
        for _ in range(times):
            with counter.get_lock():
                counter.value += 1
    else:
        for _ in range(times):
            counter.value += 1


def fill_squares(array, start: int, stop: int) -> None:
    """Write ``i * i`` into ``array[i]`` for ``i`` in ``range(start, stop)``
    (a ``multiprocessing.Array``: each process fills its own slice, no lock needed).

    >>> import multiprocessing
    >>> a = multiprocessing.Array("i", 4)
    >>> fill_squares(a, 0, 4); a[:]
    [0, 1, 4, 9]
    """
    for i in range(start, stop):
        array[i] = i * i


def record_square(shared: dict, x: int) -> None:
    """``shared[x] = x * x`` (``shared`` is a ``Manager().dict()`` proxy, or a dict).

    >>> d = {}; record_square(d, 3); d
    {3: 9}
    """
    shared[x] = x * x


def produce_traced(rec, outbox, items, seconds: float = 0.02) -> None:
    """Producer stage with a timeline: "make" each item (sleep ``seconds``),
    put it on ``outbox``, then put ``STOP``.

    >>> import queue
    >>> from course.timeline import Timeline
    >>> tl, q = Timeline(), queue.Queue()
    >>> produce_traced(tl, q, [1, 2], 0)
    >>> [q.get() for _ in range(3)], len(tl.spans)
    ([1, 2, None], 2)
    """
    for item in items:
        with rec.span(SLEEPING, f"make {item}"):
            time.sleep(seconds)
        outbox.put(item)
    outbox.put(STOP)
    _flush(rec)


def square_traced(rec, inbox, outbox, seconds: float = 0.03) -> None:
    """Worker stage with a timeline: get an item (a "blocked on get" span while
    the inbox is empty), work ``seconds`` on it, put its square on ``outbox``;
    on ``STOP``, pass ``STOP`` on and return.

    >>> import queue
    >>> from course.timeline import Timeline
    >>> tl, a, b = Timeline(), queue.Queue(), queue.Queue()
    >>> for x in (3, STOP): a.put(x)
    >>> square_traced(tl, a, b, 0)
    >>> b.get(), b.get()
    (9, None)
    """
    while True:
        with rec.span(QUEUE_GET, "get"):
            item = inbox.get()
        if item is STOP:
            outbox.put(STOP)
            break
        with rec.span(RUNNING, f"square {item}"):
            end = time.perf_counter() + seconds
            while time.perf_counter() < end:  # busy: this stage computes
                pass
        outbox.put(item * item)
    _flush(rec)


def _flush(rec):
    flush = getattr(rec, "flush", None)
    if flush is not None:
        flush()
