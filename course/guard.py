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
2. takes a snapshot (`course._state`) of the protected standard-library names (`PROTECTED`),
   of the full state of every `course` module -- private names, functions' `__code__`,
   `__defaults__`, `__kwdefaults__` and closures, the attributes of their classes, the
   contents of module-level lists/dicts/sets -- and of IPython's error display (the shell's
   `showtraceback` family, `set_custom_exc`, its traceback formatters, `sys.excepthook`);
3. after every cell (IPython's `post_run_cell`) puts all of it back -- and at a cell's first
   statement (an audit hook on `exec` of cell code, which a cell cannot remove) when the
   previous cell's check did not run (a cell can unregister IPython callbacks);
4. after every cell (`post_run_cell`) looks again: if the cell replaced part of the grading
   library, the protected names or the error display *while it ran* (e.g. from inside a graded
   function), it puts the originals back, shows the cell's error if the display had been
   silenced, and writes a note on **stderr**, so that cell scores 0 (nbgrader zeroes a test
   cell with stderr output): a cheat can never raise a score;
5. turns `os._exit()` in the kernel process into an exception, so the cell fails and the rest of
   the notebook is still graded (forked children get the real `os._exit` back).

Code run in a forked grading child is checked the same way by `course.grading.isolated`.
A determined student can still reach the guard's own objects; this stops the obvious ways and
makes the rest visible. Outside grading nothing here runs.

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
import types
from importlib import import_module

from course import _state

#: standard-library names restored before every cell: {module: [attribute, ...]}
PROTECTED = _state.PROTECTED

# course modules whose every change during a cell is a tampering attempt (their state only
# changes inside one call of a check); other course modules are restored quietly
STRICT_PREFIXES = _state.STRICT_PREFIXES

# IPython's error display: methods (looked up in the shell's instance dict, where an
# assignment would shadow them) and traits (compared by identity)
SHELL_METHODS = (
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "showindentationerror",
    "show_usage_error",
    "set_custom_exc",
    "CustomTB",
    "custom_exceptions",
    "run_cell",
    "run_cell_async",
    "run_ast_nodes",
    "run_code",
    "_get_exc_info",
    "get_exception_only",
    "excepthook",
)
TRACEBACK_METHODS = (
    "__call__",
    "structured_traceback",
    "stb2text",
    "text",
    "get_exception_only",
    "show_exception_only",
    "get_records",
    "format_record",
    "format_records",
    "format_exception_as_a_whole",
    "prepare_header",
)
SHELL_TRAITS = ("InteractiveTB", "SyntaxTB", "display_pub", "displayhook", "events")

_real_exit = os._exit


class KernelExitBlocked(SystemExit):
    """Raised instead of os._exit() in a grading kernel (the cell fails, grading goes on)."""


def _blocked_exit(code=0):
    raise KernelExitBlocked(
        f"os._exit({code}) was called in the notebook: the grader keeps the kernel alive, "
        "so this cell fails instead of the whole notebook"
    )


def take_snapshot(shell=None) -> _state.Snapshot:
    """The state of the protected names, every loaded `course` module and `shell`'s display."""
    for module_name in PROTECTED:
        import_module(module_name)
    snap = _state.take(_state.course_modules(), PROTECTED)
    if shell is not None:
        _add_shell(snap, shell)
    return snap


def _add_shell(snap: _state.Snapshot, shell) -> None:
    owned = vars(shell)
    for name in SHELL_METHODS:
        snap.entries.append(
            (f"shell.{name}", "instance", shell, name, owned.get(name, _state.MISSING))
        )
    for name in SHELL_TRAITS:
        value = getattr(shell, name, _state.MISSING)
        if value is not _state.MISSING:
            snap.entries.append((f"shell.{name}", "attr", shell, name, value))
    watched = [(c, SHELL_METHODS) for c in type(shell).__mro__ if _ipython_class(c)]
    for tb in (getattr(shell, "InteractiveTB", None), getattr(shell, "SyntaxTB", None)):
        if tb is not None:
            watched += [(c, TRACEBACK_METHODS) for c in type(tb).__mro__ if _ipython_class(c)]
            for name, value in list(vars(tb).items()):
                if callable(value):
                    snap.entries.append(
                        (f"shell.{type(tb).__name__}.{name}", "attr", tb, name, value)
                    )
    for cls, names in watched:  # only the error-display methods: far fewer entries to check
        label = f"{cls.__module__}.{cls.__qualname__}"
        own = vars(cls)
        for name in names:
            value = own.get(name, _state.MISSING)
            snap.entries.append((f"{label}.{name}", "instance", cls, name, value))
            for func in _state.functions_of(value):
                _state.add_function(snap, f"{label}.{name}", func)


def _ipython_class(cls) -> bool:
    return cls.__module__.startswith(("IPython", "ipykernel"))


def restore(snapshot: _state.Snapshot, strict_only: bool = False) -> list[str]:
    """Put back what was replaced since `snapshot`; return the names that had changed.

    With `strict_only`, only what a cell can never legitimately change (see `STRICT_PREFIXES`).
    """
    changed = []
    for entry, flag in zip(snapshot.entries, _flags(snapshot), strict=True):
        if flag is None or (strict_only and flag != "strict"):
            continue
        what = _state.restore_entry(entry)
        if what and flag == "strict":
            changed.append(what)
    return changed


def _flags(snapshot: _state.Snapshot) -> list:
    """Per entry: "strict" (a change is tampering), "quiet" (restored silently) or None (left
    alone: the contents of other course modules' containers, which demos may fill)."""
    cached = getattr(snapshot, "_guard_flags", None)
    if cached is not None and len(cached) == len(snapshot.entries):
        return cached
    flags = []
    for label, kind, *_ in snapshot.entries:
        if _state.is_strict(label, kind):
            flags.append("strict")
        elif kind == "contents" and not label.startswith(STRICT_PREFIXES):
            flags.append(None)
        else:
            flags.append("quiet")
    snapshot._guard_flags = flags
    return flags


def arm(shell=None) -> None:
    """Protect the current IPython kernel for grading (called by nbgrader's kernel start-up)."""
    os._exit = _blocked_exit
    shell = shell or _ipython()
    _import_course()
    snapshot = take_snapshot(shell)
    state = {"armed": True, "busy": False}
    stderr = sys.stderr  # the kernel's stream, kept in case a cell replaces sys.stderr

    def in_child():
        state["armed"] = False  # a forked child checks itself (course.grading.isolated)
        _restore_exit_in_child()

    os.register_at_fork(after_in_child=in_child)

    def refresh():
        for module in _state.course_modules():  # course modules imported since the last cell
            if not snapshot.covers(module.__name__):
                _state.add_module(snapshot, module)

    def before_statement():
        if not state["armed"] or state["busy"]:
            return
        state["busy"] = True
        state["cell"] = None  # set by the audit hook: one restore per cell is enough
        try:
            changed = restore(snapshot)
            refresh()
            if shell is not None:
                _ensure_registered(shell, before_cell, after_cell)
            if changed:
                _note(stderr, changed, "before this cell")
        finally:
            state["busy"] = False

    def before_cell(*info):
        state["cell"] = None  # the audit hook looks at the cell's first statement

    def after_cell(result=None):
        if not state["armed"]:
            return
        state["busy"] = True
        state["cell"] = None
        try:
            display_changed = _display_changed(snapshot)
            changed = restore(snapshot)
            error = getattr(result, "error_in_exec", None)
            if changed:
                if error is not None and display_changed:
                    shell.showtraceback((type(error), error, error.__traceback__))
                _note(stderr, changed, "while this cell ran")
            refresh()
            state["clean"] = True
        finally:
            state["busy"] = False

    def audit(event, args):
        if event == "exec" and state["armed"] and not state["busy"]:
            try:
                code = args[0]
                if isinstance(code, types.CodeType) and _is_cell(code.co_filename):
                    # the first statement of each cell: restores even when a cell removed
                    # the IPython callbacks (later statements are covered by after_cell)
                    if state.get("cell") != code.co_filename:
                        if state.get("clean"):  # the last cell's after_cell restored it all
                            state["clean"] = False
                            if shell is not None:
                                _ensure_registered(shell, before_cell, after_cell)
                        else:  # first cell, or a cell removed the after-cell check
                            before_statement()
                        state["cell"] = code.co_filename
            except BaseException:  # noqa: BLE001 - an audit hook must never raise
                pass

    sys.addaudithook(audit)
    if shell is not None:
        _ensure_registered(shell, before_cell, after_cell)


def _note(stream, changed: list[str], when: str) -> None:
    names = ", ".join(changed[:8]) + (f" and {len(changed) - 8} more" if len(changed) > 8 else "")
    print(
        f"grader note: the submission had replaced {names} ({when}); the grader put the "
        "originals back, and a test cell where this happens scores 0.",
        file=stream,
        flush=True,
    )


def _display_changed(snapshot: _state.Snapshot) -> bool:
    entries = getattr(snapshot, "_guard_display", None)
    if entries is None:
        prefixes = ("shell.", "IPython.", "ipykernel.")
        entries = [e for e in snapshot.entries if e[0].startswith(prefixes)]
        snapshot._guard_display = entries
    return any(_state.changed_entry(entry) for entry in entries)


def _ensure_registered(shell, before_cell, after_cell) -> None:
    """Put the guard's IPython callbacks back if a cell unregistered them."""
    events = shell.events
    for name, func in (("pre_run_cell", before_cell), ("post_run_cell", after_cell)):
        if func not in events.callbacks.get(name, []):
            events.register(name, func)


def _is_cell(filename: str) -> bool:
    return "ipykernel_" in filename or filename.startswith("<ipython-input")


def _import_course() -> None:
    """Import the course modules a grading kernel may use, so the snapshot covers them."""
    for name in ("course.grading", "course.timeline", "course.servers", "course.workers"):
        try:
            import_module(name)
        except Exception:  # noqa: BLE001 - a module that cannot load is not used either
            pass
    import pkgutil

    import course.grading

    for info in pkgutil.iter_modules(course.grading.__path__, "course.grading."):
        import_module(info.name)


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
