"""The course map: one nbgrader assignment per notebook, in teaching order.

Scripts (navigation lines, README table) and tests read this list, so a
notebook is added or renamed in exactly one place.

>>> from course.syllabus import NOTEBOOKS, notebook_path
>>> NOTEBOOKS[4].name
'05-locks'
>>> str(notebook_path("05-locks", "release"))
'release/05-locks/05-locks.ipynb'
"""

from pathlib import Path
from typing import NamedTuple


class Notebook(NamedTuple):
    name: str  # nbgrader assignment name, also the folder and file stem
    title: str  # short title for navigation and the course map
    topics: str  # one line for the course map


NOTEBOOKS = [
    Notebook(
        "01-os-processes-threads",
        "Processes and threads",
        "what an OS does; process vs thread; parallel vs concurrent; sync vs async",
    ),
    Notebook(
        "02-threading",
        "Threads",
        "Thread, start/join, daemon threads, exceptions in threads, the GIL and its convoy effect, "
        "free-threaded builds",
    ),
    Notebook(
        "03-multiprocessing",
        "Processes",
        "Process, start methods, CPU-bound speed-up, Pool, concurrent.futures",
    ),
    Notebook(
        "04-ipc",
        "Talking between processes",
        "isolation, Queue, Pipe, Value, Manager, shared_memory",
    ),
    Notebook("05-locks", "Locks", "race conditions, Lock, critical sections, granularity"),
    Notebook("06-deadlock-rlock", "Deadlock and RLock", "AB/BA deadlock, lock order, RLock"),
    Notebook("07-event-semaphore", "Event and Semaphore", "Boss/Worker events, at most N at once"),
    Notebook("08-queues", "Queues", "Queue kinds, task_done/join, the baozi producer-consumer"),
    Notebook("09-coroutines", "Coroutines", "generators, send, greenlet, gevent"),
    Notebook(
        "10-io-models",
        "IO models",
        "blocking, non-blocking, select, selectors, asyncio, to_thread, asyncio.Lock",
    ),
]

NAMES = [nb.name for nb in NOTEBOOKS]


def notebook_path(name: str, tree: str = "source") -> Path:
    """Path of notebook `name` inside `tree` ("source" or "release"), relative to the repo root."""
    return Path(tree) / name / f"{name}.ipynb"
