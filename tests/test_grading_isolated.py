"""run_isolated / run_async: results, failures, output capture, fallbacks."""

import os
import signal
import sys
import threading
import time
from pathlib import Path

import pytest

from course.grading import run_async, run_isolated, stress


def add(a, b, *, scale=1):
    return (a + b) * scale


def test_returns_value_args_kwargs():
    assert run_isolated(add, 1, 2, scale=3, timeout=5) == 9


def test_closure_and_lambda_work_under_fork():
    factor = 7
    assert run_isolated(lambda: factor * 6) == 42


def test_exception_message_and_student_traceback():
    def inner(x):
        return {"a": 1}[x]

    with pytest.raises(AssertionError) as info:
        run_isolated(inner, "missing")
    message = str(info.value)
    assert message.startswith("test_exception_message_and_student_traceback.<locals>.inner()")
    assert "raised KeyError: 'missing'" in message
    assert 'in inner(): return {"a": 1}[x]' in message


def test_output_is_captured_and_quoted_on_failure(capfd):
    def chatty():
        for i in range(30):
            print("line", i)
        os.write(2, b"raw stderr\n")
        raise RuntimeError("boom")

    with pytest.raises(AssertionError) as info:
        run_isolated(chatty)
    out, err = capfd.readouterr()
    assert out == err == ""
    message = str(info.value)
    assert "line 29" in message and "raw stderr" in message and "line 5\n" not in message


def test_unpicklable_result():
    with pytest.raises(AssertionError, match="cannot be sent back"):
        run_isolated(lambda: threading.Lock())


def test_signal_crash():
    with pytest.raises(AssertionError, match="crashed with signal SIGKILL"):
        run_isolated(lambda: os.kill(os.getpid(), signal.SIGKILL))


def test_c_loop_holding_the_gil_is_killed():
    t0 = time.monotonic()
    with pytest.raises(AssertionError, match="did not respond"):
        run_isolated(lambda: sum(range(10**14)), timeout=0.5)
    assert time.monotonic() - t0 < 0.5 + 2.0 + 5.0


def test_timeout_in_sleep_names_the_line():
    def sleepy():
        time.sleep(60)

    with pytest.raises(AssertionError) as info:
        run_isolated(sleepy, timeout=0.5)
    assert "MainThread: line" in str(info.value) and "`time.sleep(60)` is sleeping" in str(
        info.value
    )


def test_nested_calls():
    def outer():
        return run_isolated(add, 2, 3, timeout=5) + 1

    assert run_isolated(outer, timeout=10) == 6


def test_stress_with_timeout_reports_the_check_message_verbatim():
    calls = iter(range(100))

    def trial():
        n = next(calls)
        return 0, (n if n == 2 else 0)

    with pytest.raises(AssertionError) as info:
        stress(trial, repeat=5, name="counter", timeout=5)
    assert str(info.value) == "counter: trial 3 of 5: expected 0, got 2"


def test_run_async_result_and_coroutine_object():
    async def double(x):
        import asyncio

        await asyncio.sleep(0.01)
        return 2 * x

    assert run_async(double, 21) == 42
    assert run_async(double(4)) == 8


def test_run_async_raises():
    async def bad():
        raise ValueError("nope")

    with pytest.raises(AssertionError, match="raised ValueError: nope"):
        run_async(bad)


def test_thread_fallback_without_fork(monkeypatch):
    monkeypatch.setenv("COURSE_GRADING_NO_FORK", "1")
    assert run_isolated(add, 1, 1) == 2
    with pytest.raises(AssertionError) as info:
        run_isolated(time.sleep, 30, timeout=0.3)
    assert "cannot fork" in str(info.value)
    with pytest.raises(AssertionError, match="raised ZeroDivisionError"):
        run_isolated(lambda: 1 / 0)


def test_many_calls_do_not_leak_fds_or_children():
    before = len(os.listdir("/proc/self/fd")) if sys.platform == "linux" else 0
    for _ in range(20):
        run_isolated(add, 1, 2)
    after = len(os.listdir("/proc/self/fd")) if sys.platform == "linux" else 0
    assert after <= before + 1
    assert not _zombie_children(), "run_isolated left unreaped children"


def _zombie_children() -> list[int]:
    """Pids of this process's children that exited but were never waited for (Linux)."""
    zombies = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] == "Z" and int(fields[1]) == os.getpid():
            zombies.append(int(stat.parent.name))
    return zombies


def test_input_fails_fast():
    with pytest.raises(AssertionError, match="raised EOFError: input"):
        run_isolated(lambda: input("name? "), timeout=5)


def test_large_result_and_grandchild_holding_the_pipe():
    def big():
        if os.fork() == 0:  # a grandchild that inherits the pipe and lingers
            time.sleep(3)
            os._exit(0)
        return b"x" * 3_000_000

    t0 = time.monotonic()
    assert len(run_isolated(big, timeout=10)) == 3_000_000
    assert time.monotonic() - t0 < 2.5
