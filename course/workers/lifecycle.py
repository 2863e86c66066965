"""Process targets for notebook 03's tour of a process's life: start, name, join, exit, kill.

>>> import multiprocessing
>>> p = multiprocessing.get_context("spawn").Process(target=nap, args=(0.01, 3))
>>> p.start(); p.join(); p.exitcode
3
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time


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
        """Greet from the new process (called there by ``start()``)."""
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
