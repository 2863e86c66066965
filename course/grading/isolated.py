"""Run student code in a forked child with a timeout and a readable report.

Design rationale
----------------
Hidden tests run inside the notebook's kernel.  Student code may deadlock,
loop forever, call ``os._exit`` or crash the interpreter, and the kernel must
survive all of it.  A thread cannot be killed and ``os._exit`` kills the whole
kernel, so we run the function in a child process created with ``os.fork()``:

* fork (not spawn) so that functions defined in notebook cells work: the
  child already has them in memory, nothing is pickled on the way in;
* the child redirects file descriptors 1 and 2 to an unlinked temporary file
  *before* running anything: ipykernel forwards fd-level output of forked
  children to the notebook, and nbgrader scores a test cell with any stderr
  output as 0.  The parent reads the tail of that file for its messages;
* a watchdog thread in the child sleeps until the deadline, then describes
  every thread's stack (``_stacks``) and sends the report; the parent
  SIGKILLs the child if nothing arrives within a grace period (a C loop that
  never releases the GIL);
* results travel back length-prefixed through a pipe, so grandchildren that
  inherited the pipe cannot delay the parent;
* the child always leaves with ``os._exit``: it must never run the parent's
  code after the call (pytest, the kernel's event loop, atexit handlers).

On platforms without fork the call runs in a daemon thread instead (a stuck
thread then keeps running; the message says so).
"""

from __future__ import annotations

import asyncio
import builtins
import io
import os
import pickle
import select
import signal
import struct
import sys
import tempfile
import threading
import time
import traceback
import warnings

from course import _frames, _state

from . import _stacks
from ._display import hides_frames

#: Seconds the parent waits after the deadline for the child's report.
GRACE = 2.0
_OUTPUT_LINES = 20
_MAX_OUTPUT_BYTES = 64 * 1024 * 1024

# Hooks run by the child's watchdog on timeout; each returns extra lines (see on_timeout).
_timeout_hooks: list = []
_GRADING_DIR = os.path.join(_frames.COURSE_DIR, "grading") + os.sep


def on_timeout(hook) -> None:
    """Add lines to the report of a timed-out :func:`run_isolated` call.

    ``hook()`` returns a list of extra lines; it runs in the child's watchdog when the
    deadline passes.  Call it from code running *inside* ``run_isolated`` (the hook then
    lives in the child only and disappears with it), as ``LockOrderChecker.check`` does to
    add the lock order it saw.

    >>> def report():
    ...     on_timeout(lambda: ["the lock order so far: a.lock -> b.lock"])
    ...     return "registered"
    >>> run_isolated(report, timeout=5)
    'registered'
    >>> _timeout_hooks   # the parent's list is untouched
    []
    """
    _timeout_hooks.append(hook)


def _can_fork() -> bool:
    if os.environ.get("COURSE_GRADING_NO_FORK"):
        return False
    return hasattr(os, "fork") and hasattr(os, "waitpid")


@hides_frames
def run_isolated(func, *args, timeout: float = 5.0, **kwargs):
    """Run ``func(*args, **kwargs)`` in a forked child process and return its result.

    The return value must be picklable.  Raises ``AssertionError`` with a
    student-friendly message when the call times out (naming where every
    thread is stuck), raises, exits or crashes.  Nothing the child prints
    reaches the caller's stdout/stderr; the last lines of it are quoted in
    failure messages.

    Example::

        total = run_isolated(count_with_threads, 4, timeout=5.0)
        assert total == 400
    """
    label = _label(func)
    if not _can_fork():
        return _run_in_thread(lambda: func(*args, **kwargs), timeout, label)
    return _run_forked(lambda: func(*args, **kwargs), timeout, label)


@hides_frames
def run_async(coro_func, *args, timeout: float = 5.0, **kwargs):
    """Run ``asyncio.run(coro_func(*args, **kwargs))`` isolated, like :func:`run_isolated`.

    The event loop runs in a fresh thread of a forked child, so it does not
    clash with the notebook kernel's running loop.  ``coro_func`` may also be
    a coroutine object.  On timeout the message lists where each task waits.

    Example::

        log = run_async(pipeline, 5, timeout=5.0)
        assert_events(log, [("produce", 0), ("consume", 0), ...])
    """
    label = _label(coro_func)

    def target():
        box: dict = {}
        loops: list = []

        async def main():
            loops.append(asyncio.get_running_loop())
            coro = coro_func if asyncio.iscoroutine(coro_func) else coro_func(*args, **kwargs)
            return await coro

        def hook():
            return _describe_tasks(loops[0]) if loops else []

        on_timeout(hook)

        def runner():
            try:
                box["value"] = asyncio.run(main())
            except BaseException as exc:  # noqa: BLE001 - reported by the caller
                box["error"] = exc

        thread = threading.Thread(target=runner, name="asyncio", daemon=True)
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
        return box.get("value")

    try:
        if not _can_fork():
            return _run_in_thread(target, timeout, label)
        return _run_forked(target, timeout, label)
    finally:
        if asyncio.iscoroutine(coro_func):
            coro_func.close()  # the parent's copy never runs: no "never awaited" warning


def _label(func) -> str:
    name = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    return f"{name}()" if name else "your code"


def _describe_tasks(loop) -> list[str]:
    lines = []
    try:
        tasks = list(asyncio.all_tasks(loop))
    except Exception:
        return lines
    for task in sorted(tasks, key=lambda t: t.get_name()):
        try:
            frames = task.get_stack()
        except Exception:
            continue
        student = [f for f in frames if _stacks.is_student_file(f.f_code.co_filename)]
        coro = task.get_coro()
        cname = getattr(coro, "__qualname__", "?")
        if not student:
            continue
        frame = student[-1]
        code = frame.f_code
        text = _stacks.source_line(code.co_filename, frame.f_lineno)
        lines.append(
            f"task {task.get_name()} ({cname}): "
            f"{_stacks.where(code.co_filename, frame.f_lineno, code.co_name)} `{text}` "
            "waits (and nothing will wake it up?)"
        )
    return lines


# ---------------------------------------------------------------------- fork


def _send(fd: int, payload) -> None:
    """Send a message (a tuple, or its pickle) length-prefixed."""
    if isinstance(payload, bytes):
        data = payload
    else:
        try:
            data = pickle.dumps(payload)
        except Exception as exc:  # e.g. a timeout report with odd objects
            msg = f"could not send the result back: {exc}"
            data = pickle.dumps(("error", "unpicklable", msg, "", True))
    data = struct.pack("!Q", len(data)) + data
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _no_input(prompt=""):
    raise EOFError("input() cannot be used in graded code: there is nobody to type")


def _child(target, wfd: int, outfd: int, timeout: float, label: str) -> None:
    """Body of the forked child; never returns."""
    code = 0
    try:
        os.dup2(outfd, 1)
        os.dup2(outfd, 2)
        try:
            import resource

            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (_MAX_OUTPUT_BYTES, _MAX_OUTPUT_BYTES))
        except Exception:
            pass
        stream = io.TextIOWrapper(
            io.FileIO(1, "w", closefd=False),
            encoding="utf-8",
            errors="backslashreplace",
            write_through=True,
        )
        sys.stdout = sys.stderr = sys.__stdout__ = sys.__stderr__ = stream
        try:
            sys.stdin = open(os.devnull)  # noqa: SIM115 - lives until os._exit
            builtins.input = _no_input  # ipykernel's input() would talk to the frontend
        except Exception:
            pass
        try:
            import faulthandler

            faulthandler.enable(file=stream)
        except Exception:
            pass
        sys.settrace(None)
        threading.settrace(None)  # type: ignore[arg-type]
        _forget_parents_forkserver()
        send_lock = threading.Lock()
        deadline = time.monotonic() + timeout
        unwritten: list[str] = []  # "increment() is not written yet" from a thread that died
        real_hook = threading.excepthook

        def thread_died(args):
            text = _stacks.not_written_yet(args.exc_value) if args.exc_value else None
            if text:  # the stub of an exercise: say so once, no traceback
                if not unwritten:
                    unwritten.append(text)
                return
            real_hook(args)

        threading.excepthook = thread_died

        def watchdog():
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                time.sleep(min(left, 0.05))
            if not send_lock.acquire(blocking=False):
                return
            try:
                frames = sys._current_frames()
                names = {t.ident: t.name for t in threading.enumerate()}
                me = threading.get_ident()
                lines, held, waiting = _stacks.stuck_threads(frames, names, skip={me})
                for hook in list(_timeout_hooks):
                    try:
                        lines.extend(hook())
                    except Exception:
                        pass
                if unwritten:  # a stub raised in a thread, and the rest waited for it
                    _send(wfd, ("error", "", unwritten[0], "", True))
                else:
                    _send(wfd, ("timeout", lines, {"held": held, "waiting": waiting}))
            finally:
                os._exit(0)

        threading.Thread(target=watchdog, name="grading-watchdog", daemon=True).start()
        # the code under test runs in this process: it must leave the grading library as it was
        snapshot, tampering = _state.take(_state.course_modules()), _state.grading_tampering
        try:
            value = target()
            changed = tampering(snapshot)
            payload = ("ok", value) if not changed else ("error", "", _tampered(changed), "", True)
        except SystemExit as exc:
            payload = ("exit", repr(exc.code), "")
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            from_check = _raised_by_course(exc)
            stub = _stacks.not_written_yet(exc) or (unwritten[0] if unwritten else None)
            payload = (
                ("error", "", stub, "", True)
                if stub
                else (
                    "error",
                    type(exc).__name__,
                    str(exc),
                    "" if from_check else _stacks.student_traceback(exc.__traceback__),
                    from_check,
                    getattr(exc, "grading_facts", None) if from_check else None,
                )
            )
        try:
            data = pickle.dumps(payload)
        except Exception as exc:
            data = pickle.dumps(
                (
                    "error",
                    "unpicklable",
                    f"{label} returned a value that cannot be sent back to the test: {exc}",
                    "",
                    True,
                )
            )
        if send_lock.acquire(blocking=False):
            _send(wfd, data)
        else:  # the watchdog is reporting; let it finish
            time.sleep(GRACE)
    except BaseException:  # noqa: BLE001
        code = 70
        try:
            traceback.print_exc()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        os._exit(code)


def _tampered(changed: list[str]) -> str:
    names = ", ".join(changed[:5]) + (" ..." if len(changed) > 5 else "")
    return (
        "your code changed the grading library while the check ran: expected it untouched, "
        f"got {names} replaced (the check does not count)"
    )


def _forget_parents_forkserver() -> None:
    """A forked child cannot use its parent's forkserver (``waitpid`` on a process
    that is not its child raises ChildProcessError), so make multiprocessing start
    a fresh one on demand.  Matters whenever the start method is forkserver (the
    Linux default from Python 3.14) and the kernel already started a process."""
    try:
        from multiprocessing import forkserver

        server = forkserver._forkserver
        for attr in (
            "_forkserver_address",
            "_forkserver_alive_fd",
            "_forkserver_pid",
            "_forkserver_authkey",
            "_inherited_fds",
        ):
            if hasattr(server, attr):
                setattr(server, attr, None)
    except Exception:
        pass


def _raised_by_course(exc: BaseException) -> bool:
    """True for an AssertionError raised by a grading check (message is already final)."""
    if not isinstance(exc, AssertionError):
        return False
    tb = exc.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    return last is not None and _frames.is_course_file(last.tb_frame.f_code.co_filename)


def _read_tail(out) -> str:
    try:
        out.seek(0, os.SEEK_END)
        size = out.tell()
        out.seek(max(0, size - 16384))
        text = out.read().decode("utf-8", "backslashreplace")
    except Exception:
        return ""
    # faulthandler dumps also list the grading machinery's frames: drop them
    lines = [ln for ln in text.splitlines() if _GRADING_DIR not in ln]
    lines = lines[-_OUTPUT_LINES:]
    return "\n".join(lines)


def _timed_out(timeout: float) -> str:
    return (
        f"Timed out after {timeout:g} s: your code is stuck (a deadlock or a loop that never ends)."
    )


def _with_output(message: str, tail: str) -> str:
    if tail.strip():
        indented = "\n".join("    " + line for line in tail.splitlines())
        message += f"\n  last lines your code printed:\n{indented}"
    return message


def _run_forked(target, timeout: float, label: str):
    out = tempfile.TemporaryFile()
    rfd, wfd = os.pipe()
    with warnings.catch_warnings():
        # 3.12+: "This process is multi-threaded, use of fork() may lead to deadlocks"
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
        if pid == 0:  # child
            os.close(rfd)
            _child(target, wfd, out.fileno(), timeout, label)
    os.close(wfd)
    start = time.monotonic()
    data = b""
    need = None
    status = None
    message = None
    try:
        deadline = start + timeout + GRACE
        while True:
            if need is not None and len(data) >= 8 + need:
                message = pickle.loads(data[8 : 8 + need])
                break
            left = deadline - time.monotonic()
            if left <= 0:
                break
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 16)
            if not chunk:
                break  # EOF: the child died without a message
            data += chunk
            if need is None and len(data) >= 8:
                (need,) = struct.unpack("!Q", data[:8])
        if message is not None:
            status = _wait(pid, 2.0)  # it calls os._exit right after sending
        elif time.monotonic() < deadline:
            status = _wait(pid, 5.0)  # EOF: it is dying
        # else: no report in time -> killed below
    finally:
        os.close(rfd)
        if status is None:
            status = _kill(pid)
        tail = _read_tail(out)
        out.close()
    return _outcome(message, status, tail, timeout, label)


def _wait(pid: int, seconds: float):
    end = time.monotonic() + seconds
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if time.monotonic() > end:
            return None
        time.sleep(0.005)


def _kill(pid: int):
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        return ("killed", os.waitpid(pid, 0)[1])
    except ChildProcessError:
        return ("killed", None)


def _outcome(message, status, tail: str, timeout: float, label: str):
    if message is not None:
        kind = message[0]
        if kind == "ok":
            return message[1]
        if kind == "timeout":
            lines = message[1] or ["(no thread was running your code)"]
            text = _timed_out(timeout)
            text += "".join("\n  " + line for line in lines)
            error = AssertionError(_with_output(text, tail))
            graph = message[2] if len(message) > 2 else None
            if graph and graph.get("waiting"):  # drawn below the message (_display)
                error.grading_facts = {"kind": "deadlock", "title": text, **graph}
            raise error
        if kind == "exit":
            raise AssertionError(
                _with_output(
                    f"{label} ended the process with sys.exit({message[1]}) instead of returning",
                    tail,
                )
            )
        if kind == "error":
            _, ename, msg, tb, *rest = message
            if rest and rest[0]:
                error = AssertionError(_with_output(msg, tail))
                if len(rest) > 1 and rest[1]:
                    error.grading_facts = rest[1]  # drawn below the message (_display)
                raise error
            text = f"{label} raised {ename}: {msg}" if msg else f"{label} raised {ename}"
            if tb:
                text += "\n" + tb
            raise AssertionError(_with_output(text, tail))
    if isinstance(status, tuple):  # we had to kill it
        raise AssertionError(
            _with_output(
                f"Timed out after {timeout:g} s and your code did not respond at all: it is stuck "
                "in a long computation that never lets other threads run (e.g. a huge number "
                "or a C-level loop), so no report of where it was stuck could be made.",
                tail,
            )
        )
    code = os.waitstatus_to_exitcode(status) if status is not None else None
    if code is not None and code < 0:
        try:
            signame = signal.Signals(-code).name
        except ValueError:
            signame = f"signal {-code}"
        text = f"{label} crashed with signal {signame}"
    else:
        text = (
            f"{label} ended the process with exit code {code} (os._exit({code}) or a "
            "similar hard exit) before returning"
        )
    raise AssertionError(_with_output(text, tail))


# -------------------------------------------------------------------- thread


def _run_in_thread(target, timeout: float, label: str):
    """Fallback without fork: a daemon thread, output captured, cannot be killed."""
    box: dict = {}
    before = set(sys._current_frames())
    buffer = io.StringIO()

    def runner():
        try:
            box["value"] = target()
        except SystemExit as exc:
            box["exit"] = exc
        except BaseException as exc:  # noqa: BLE001
            box["error"] = exc

    old = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = buffer
    snapshot = _state.take(_state.course_modules())
    try:
        thread = threading.Thread(target=runner, name="isolated", daemon=True)
        thread.start()
        thread.join(timeout)
    finally:
        sys.stdout, sys.stderr = old
    tail = "\n".join(buffer.getvalue().splitlines()[-_OUTPUT_LINES:])
    note = "\n  (note: this platform cannot fork, so your code ran in a thread and keeps running)"
    if thread.is_alive():
        frames = {k: v for k, v in sys._current_frames().items() if k not in before}
        names = {t.ident: t.name for t in threading.enumerate()}
        lines = _stacks.describe_threads(frames, names)
        text = _timed_out(timeout)
        text += "".join("\n  " + line for line in lines) + note
        raise AssertionError(_with_output(text, tail))
    if "exit" in box:
        raise AssertionError(
            _with_output(
                f"{label} called sys.exit({box['exit'].code!r}) instead of returning", tail
            )
        )
    if "error" in box:
        exc = box["error"]
        if _stacks.not_written_yet(exc):
            raise AssertionError(_with_output(_stacks.not_written_yet(exc), tail))
        if _raised_by_course(exc):
            raise AssertionError(_with_output(str(exc), tail))
        text = f"{label} raised {type(exc).__name__}: {exc}"
        tb = _stacks.student_traceback(exc.__traceback__)
        if tb:
            text += "\n" + tb
        raise AssertionError(_with_output(text, tail))
    changed = _state.grading_tampering(snapshot)
    if changed:
        _state.restore(snapshot, only=_state.is_strict)
        raise AssertionError(_with_output(_tampered(changed), tail))
    return box.get("value")


_stacks.CUT_CODES.add(_child.__code__)
