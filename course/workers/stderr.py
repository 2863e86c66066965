"""Show what a child process wrote to stderr without writing to the notebook cell's stderr.

nbgrader scores a test cell 0 if it writes anything to stderr, and a crashing
child prints its traceback there; notebooks 03 and 04 capture it with
:func:`capture_stderr` and print the line that matters.

>>> import subprocess, sys
>>> with capture_stderr() as err:
...     _ = subprocess.run([sys.executable, "-c", "import sys; sys.stderr.write('oops')"])
>>> err.text
'oops'
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile


class Captured:
    """What a :func:`capture_stderr` block wrote: ``.text``, and ``last_line()``."""

    text = ""

    def last_line(self) -> str:
        """The last non-empty line (for a traceback: the exception).

        >>> box = Captured(); box.text = "Traceback ...\\nValueError: bad\\n\\n"
        >>> box.last_line()
        'ValueError: bad'
        """
        lines = [ln for ln in self.text.splitlines() if ln.strip()]
        return lines[-1] if lines else ""


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

    >>> with capture_stderr() as err:
    ...     print("and me", file=sys.stderr)
    >>> err.text
    'and me\\n'
    """
    box = Captured()
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


def _stop_forkserver() -> None:
    """Stop the forkserver process if one runs (multiprocessing starts a new one on demand)."""
    from multiprocessing import forkserver

    server = getattr(forkserver, "_forkserver", None)
    if getattr(server, "_forkserver_pid", None) is not None:
        with contextlib.suppress(Exception):
            server._stop()
