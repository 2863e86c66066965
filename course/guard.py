"""Keep a grading kernel honest: hidden tests run on pristine code, whatever a submission did.

# Design rationale
A submission runs in the same kernel as the hidden tests, so it could fake a pass by replacing
what the tests rely on (`threading.Lock`, `time.perf_counter`, `course.grading.run_isolated`),
by shipping a `course.py` that shadows this package, or lose every grade of the notebook by
calling `os._exit()` at top level (the kernel dies and nbgrader drops the notebook).
nbgrader starts each grading kernel with `arm()` (see nbgrader_config.py), *before* any student
code, and `arm()`:

1. imports the real `course` package while the submission folder is off `sys.path`, so a
   shadowing file is never imported;
2. takes a snapshot of the protected objects (`PROTECTED`) and of the `course` modules;
3. before every cell (IPython's `pre_run_cell` event: nbclient does not tell the kernel which
   cell is a test cell) puts back anything a submission replaced, and prints a note naming it
   (on stdout: stderr would zero the cell), so the TA sees the attempt in the graded notebook;
4. turns `os._exit()` in the kernel process into an exception, so the cell fails and the rest of
   the notebook is still graded (forked children get the real `os._exit` back).

A determined student can still undo the hook itself; this stops the obvious ways and makes
the rest visible. Outside grading nothing here runs.

>>> import threading
>>> snapshot = take_snapshot()
>>> real_lock = threading.Lock
>>> threading.Lock = lambda: None          # what a submission might do
>>> restore(snapshot)
['threading.Lock']
>>> threading.Lock is real_lock
True
"""

import os
import sys
from importlib import import_module

PROTECTED = {
    "threading": [
        "Lock",
        "RLock",
        "Condition",
        "Semaphore",
        "BoundedSemaphore",
        "Event",
        "Barrier",
        "Thread",
        "current_thread",
        "active_count",
        "enumerate",
    ],
    "time": ["sleep", "perf_counter", "monotonic", "time"],
    "queue": ["Queue", "LifoQueue", "PriorityQueue", "SimpleQueue"],
    "os": ["fork", "getpid", "kill", "waitpid"],
    "multiprocessing": ["get_context", "Process", "Queue", "Pipe"],
    "course.grading": None,  # None: every public name
    "course.timeline": None,
    "course.servers": None,
}
_real_exit = os._exit


class KernelExitBlocked(SystemExit):
    """Raised instead of os._exit() in a grading kernel (the cell fails, grading goes on)."""


def _blocked_exit(code=0):
    raise KernelExitBlocked(
        f"os._exit({code}) was called in the notebook: the grader keeps the kernel alive, "
        "so this cell fails instead of the whole notebook"
    )


def _public(module) -> list[str]:
    names = getattr(module, "__all__", None)
    return list(names) if names else [n for n in vars(module) if not n.startswith("_")]


def take_snapshot() -> dict:
    """{(module name, attribute): object} for everything protected, plus the course modules."""
    snapshot = {}
    for module_name, names in PROTECTED.items():
        module = import_module(module_name)
        for name in names if names is not None else _public(module):
            if hasattr(module, name):
                snapshot[(module_name, name)] = getattr(module, name)
    snapshot["modules"] = {k: v for k, v in sys.modules.items() if k.split(".")[0] == "course"}
    return snapshot


def restore(snapshot: dict) -> list[str]:
    """Put back what was replaced since `snapshot`; return the names that had changed."""
    changed = []
    for name, module in snapshot["modules"].items():
        if sys.modules.get(name) is not module:
            sys.modules[name] = module
            changed.append(f"sys.modules[{name!r}]")
    for key, original in snapshot.items():
        if key == "modules":
            continue
        module_name, name = key
        module = snapshot["modules"].get(module_name) or sys.modules[module_name]
        if getattr(module, name, None) is not original:
            setattr(module, name, original)
            changed.append(f"{module_name}.{name}")
    return changed


def arm(shell=None) -> None:
    """Protect the current IPython kernel for grading (called by nbgrader's kernel start-up)."""
    snapshot = take_snapshot()
    os._exit = _blocked_exit
    os.register_at_fork(after_in_child=_restore_exit_in_child)
    shell = shell or _ipython()
    if shell is None:
        return

    def before_cell(info):
        changed = restore(snapshot)
        if os._exit is not _blocked_exit:
            os._exit = _blocked_exit
            changed.append("os._exit")
        if changed:
            print(
                "grader note: the submission had replaced "
                + ", ".join(changed)
                + "; these tests ran with the originals."
            )

    shell.events.register("pre_run_cell", before_cell)


def _restore_exit_in_child():
    os._exit = _real_exit


def _ipython():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


# The kernel start-up line nbgrader passes to each grading kernel (nbgrader_config.py): it
# takes the submission folder off sys.path while it imports the real course package.
KERNEL_STARTUP = (
    "import sys as _s, os as _o; _p = list(_s.path); "
    "_s.path[:] = [x for x in _s.path if x not in ('', '.', _o.getcwd())]; "
    "import course.guard as _g, course.grading, course.timeline, course.servers; "
    "_s.path[:] = _p; _g.arm(); del _s, _o, _p, _g"
)

__all__ = ["KERNEL_STARTUP", "KernelExitBlocked", "PROTECTED", "arm", "restore", "take_snapshot"]
