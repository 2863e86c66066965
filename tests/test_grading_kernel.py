"""run_isolated inside a REAL ipykernel (through nbclient), as hidden tests use it.

Checks: a deadlock defined in a cell fails within seconds with a message that
names the stuck threads and cell lines; the kernel survives (also os._exit);
a passing call leaves no stderr output in the cell, even for code that
prints to stderr at fd level and with every warning turned on (3.12+ warns
when forking a multi-threaded process).
"""

import json
import re
import sys
import textwrap
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent

SETUP = f"""
import sys, threading, time, os, warnings
sys.path.insert(0, {str(ROOT)!r})
from course.grading import run_isolated, run_async, LockOrderChecker
"""

DEADLOCK = """
class Account:
    def __init__(self):
        self.lock = threading.Lock()

def transfer(a, b):
    with a.lock:
        time.sleep(0.1)
        with b.lock:
            pass

def scenario():
    x, y = Account(), Account()
    t1 = threading.Thread(target=transfer, args=(x, y))
    t2 = threading.Thread(target=transfer, args=(y, x))
    t1.start(); t2.start()
    t1.join(); t2.join()

start = time.monotonic()
try:
    run_isolated(scenario, timeout=2.0)
finally:
    elapsed = time.monotonic() - start
"""

PASSING = """
warnings.simplefilter("always")   # surface the fork DeprecationWarning if it leaked
def noisy(n):
    print("to stdout")
    print("to stderr", file=sys.stderr)
    os.write(1, b"fd 1\\n")
    os.write(2, b"fd 2\\n")
    threading.Thread(target=lambda: print("from a thread", file=sys.stderr)).start()
    return n * 2

results = [run_isolated(noisy, 21, timeout=5.0) for _ in range(3)]
assert results == [42, 42, 42], results
"""

ASYNC = """
async def pingpong(n):
    import asyncio
    out = []
    for i in range(n):
        out.append(i)
        await asyncio.sleep(0)
    return out

assert run_async(pingpong, 3, timeout=5.0) == [0, 1, 2]
"""

EXPLORE = """
from course.grading import explore, racy, stress, LockOrderChecker

class Acct:
    def __init__(self, b):
        self.balance = b
        self.lock = threading.Lock()

def deposit(a):
    temp = a.balance
    a.balance = temp + 50

def withdraw(a):
    temp = a.balance
    a.balance = temp - 20

def final(a):
    assert a.balance == 130, f"final balance {a.balance}, expected 130"

result = explore(lambda: racy(Acct, "balance")(100), [deposit, withdraw], invariant=final)
assert result.kind == "invariant", result
try:
    result.assert_ok()
except AssertionError as exc:
    explore_message = str(exc)

def trial():
    acct = racy(Acct, "balance")(0)
    ts = [threading.Thread(target=deposit, args=(acct,)) for _ in range(20)]
    for t in ts: t.start()
    for t in ts: t.join()
    return 20 * 50, acct.balance

try:
    stress(trial, repeat=3, name="deposit race", timeout=10)
except AssertionError as exc:
    stress_message = str(exc)

checker = LockOrderChecker()
x, y = Acct(1), Acct(2)
checker.install({"x": x, "y": y})
def both_orders():
    with x.lock:
        with y.lock:
            pass
    with y.lock:
        with x.lock:
            pass
try:
    checker.check(both_orders, timeout=5)
except AssertionError as exc:
    order_message = str(exc)
print(explore_message)
print(stress_message)
print(order_message)
"""

HARD_EXIT = """
try:
    run_isolated(os._exit, 3, timeout=5.0)
except AssertionError as exc:
    exit_message = str(exc)
"""


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec that runs THIS interpreter (not whatever `python` is on PATH)."""
    spec = tmp_path / "jupyter" / "kernels" / "grading-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "grading-test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return tmp_path


def _cells(*sources):
    return [nbformat.v4.new_code_cell(textwrap.dedent(s)) for s in sources]


def _stderr(cell):
    return [o for o in cell.outputs if o.get("output_type") == "stream" and o["name"] == "stderr"]


def _error(cell):
    errors = [o for o in cell.outputs if o.get("output_type") == "error"]
    return errors[0] if errors else None


def test_run_isolated_in_a_real_kernel(kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = _cells(
        SETUP,
        DEADLOCK,
        "print(f'elapsed={elapsed:.2f}')",
        PASSING,
        ASYNC,
        EXPLORE,
        HARD_EXIT,
        "print('kernel alive', os.getpid())",
    )
    client = NotebookClient(
        nb,
        kernel_name="grading-test",
        timeout=60,
        allow_errors=True,
        resources={"metadata": {"path": str(kernel_env)}},
    )
    t0 = time.monotonic()
    client.execute()
    total = time.monotonic() - t0
    setup, deadlock, elapsed, passing, asyncio_cell, explore_cell, hard_exit, alive = nb.cells

    assert _error(setup) is None and not _stderr(setup)

    # the deadlock: an AssertionError naming both threads, their cell lines and the locks
    error = _error(deadlock)
    assert error is not None and error["ename"] == "AssertionError", deadlock.outputs
    message = error["evalue"]
    assert "Timed out after 2 s" in message, message
    first = re.search(
        r"(Thread-\d+) \(transfer\): line 8 of cell In\[2\], in transfer\(\) `with b.lock:` "
        r"waits to acquire b.lock \(held by (Thread-\d+) \(transfer\)\) while holding a.lock",
        message,
    )
    assert first, message
    other = first.group(2)
    assert f"{other} (transfer): line 8 of cell In[2]" in message, message
    assert re.search(
        r"MainThread: line 16 of cell In\[2\], in scenario\(\) `t1.join\(\); ", message
    )
    # the traceback shows the cell's line and the message, no line of the grading library
    shown = "\n".join(error["traceback"])
    assert "course/grading" not in shown and "isolated.py" not in shown, shown
    assert "Cell In[2], line 20" in shown and "run_isolated(scenario, timeout=2.0)" in shown, shown
    assert len(shown.splitlines()) <= 12, shown
    assert "waits for thread Thread-" in message, message
    assert not _stderr(deadlock), "the failing check wrote to stderr"
    seconds = float(elapsed.outputs[0]["text"].strip().split("=")[1])
    assert seconds < 2.0 + 4.0, seconds  # timeout + generous slack on a busy machine

    # passing calls: no stderr at all (nbgrader would score the cell 0), no error
    assert _error(passing) is None, _error(passing)
    assert not _stderr(passing), _stderr(passing)
    assert not [o for o in passing.outputs if "fd " in o.get("text", "")], passing.outputs
    assert _error(asyncio_cell) is None and not _stderr(asyncio_cell), asyncio_cell.outputs

    # explorer (line tracing of cell code), racy + stress, lock order: all work in a kernel
    assert _error(explore_cell) is None and not _stderr(explore_cell), explore_cell.outputs
    text = explore_cell.outputs[0]["text"]
    assert "line 9: temp = a.balance  (reads 100)" in text, text
    assert "final balance 150, expected 130" in text, text
    assert "deposit race: trial 1 of 3: expected 1000, got" in text, text
    assert "possible deadlock" in text and "in both_orders()" in text, text

    # os._exit in the child: the kernel survives and reports it
    assert _error(hard_exit) is None and not _stderr(hard_exit), hard_exit.outputs
    assert "kernel alive" in alive.outputs[0]["text"], alive.outputs
    assert total < 60
