"""course.workers' lifecycle, stderr, shared and probes modules (notebooks 03 and 04), under every
start method."""

import functools
import multiprocessing
import os
import queue
import signal
import subprocess
import sys
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor, wait

import pytest

from course.timeline import QUEUE_GET, RUNNING, SLEEPING, Timeline
from course.workers import STOP, lifecycle, messages, probes, shared
from course.workers.stderr import capture_stderr

START_METHODS = [
    m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()
]


@pytest.mark.parametrize("method", START_METHODS)
def test_exit_codes_under_every_start_method(method):
    ctx = multiprocessing.get_context(method)
    with capture_stderr() as err:
        procs = [
            ctx.Process(target=lifecycle.nap, args=(0.01,)),
            ctx.Process(target=lifecycle.nap, args=(0.01, 3)),
            ctx.Process(target=lifecycle.crash, args=("boom",)),
            ctx.Process(target=lifecycle.nap, args=(60,)),
        ]
        for p in procs:
            p.start()
        procs[-1].terminate()
        for p in procs:
            p.join(30)
    assert [p.exitcode for p in procs] == [0, 3, 1, -signal.SIGTERM]
    assert err.last_line() == "RuntimeError: boom"


@pytest.mark.parametrize("method", START_METHODS)
def test_capture_stderr_catches_a_notebook_style_target_error(method):
    """A target that the child cannot import fails with its message in the capture."""
    ctx = multiprocessing.get_context(method)
    with capture_stderr() as err:
        p = ctx.Process(target=lifecycle.crash, args=("from the child",))
        p.start()
        p.join(30)
    assert p.exitcode == 1
    assert "RuntimeError: from the child" in err.text


def test_capture_stderr_restores_stderr():
    before = sys.stderr
    with capture_stderr() as err:
        print("hidden", file=sys.stderr)
    assert sys.stderr is before
    assert err.text == "hidden\n"


@pytest.mark.parametrize("method", START_METHODS)
def test_greet_runs_in_children(method):
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=lifecycle.greet, args=("Ada", 0))
    p.start()
    p.join(30)
    assert p.exitcode == 0


def test_greeter_subclass():
    g = lifecycle.Greeter("Grace", pause=0)
    g.start()
    g.join(30)
    assert g.exitcode == 0 and g.name == "Greeter-Grace"


def test_checked_square_proves_two_processes_and_order(tmp_path):
    """Pool.map: input order, two pids; imap_unordered: the first item always comes last."""
    ordered, unordered = tmp_path / "ordered", tmp_path / "unordered"
    ordered.mkdir()
    unordered.mkdir()
    ctx = multiprocessing.get_context("spawn")
    items = [5, 3, 8, 1, 9, 2, 7, 4]
    with ctx.Pool(2) as pool:
        func = functools.partial(probes.checked_square, workdir=str(ordered), first=5, last=4)
        results = pool.map(func, items)
        func = functools.partial(probes.checked_square, workdir=str(unordered), first=5, last=4)
        arrival = [value for value, _ in pool.imap_unordered(func, items)]
    assert [value for value, _ in results] == [x * x for x in items]
    facts = [f for _, f in results]
    assert len({f["pid"] for f in facts}) == 2 and os.getpid() not in {f["pid"] for f in facts}
    assert {f["ppid"] for f in facts} == {os.getpid()}
    assert {f["method"] for f in facts} == {"spawn"}
    assert arrival[-1] == 25, f"the first item should finish last: {arrival}"


def test_checked_square_in_one_process_waits_once(tmp_path):
    start = time.monotonic()
    results = [probes.checked_square(x, str(tmp_path), first=0, last=3, wait=0.2) for x in range(4)]
    assert 0.2 <= time.monotonic() - start < 5
    assert {f["pid"] for _, f in results} == {os.getpid()}


@pytest.mark.parametrize("method", START_METHODS)
def test_started_by_reads_the_real_start_method(method):
    """A forked child cannot pass for a spawned one: even with spawn as the default, a
    get_context("fork") pool reports fork."""
    with multiprocessing.get_context(method).Pool(1) as pool:
        assert pool.apply(probes.started_by) == method
    assert probes.started_by() == "fork"  # pytest itself was not started by multiprocessing


@pytest.mark.parametrize("method", START_METHODS)
def test_sent_items_name_the_process_that_put_them(method):
    """Through a producer process and a worker process, each result names both."""
    ctx = multiprocessing.get_context(method)
    todo, done = ctx.Queue(), ctx.Queue()
    items = [probes.Sent(v) for v in (3, -2, 7)]
    producer = ctx.Process(target=messages.produce, args=(todo, items))
    worker = ctx.Process(target=messages.pipeline_stage, args=(todo, done, "square_where"))
    producer.start()
    worker.start()
    results = list(iter(functools.partial(done.get, timeout=30), STOP))
    producer.join(30)
    worker.join(30)
    assert [value for value, _, _ in results] == [9, 4, 49]
    assert {sender for _, sender, _ in results} == {producer.pid}
    assert {facts["pid"] for _, _, facts in results} == {worker.pid}
    assert {facts["method"] for _, _, facts in results} == {method}


def test_items_put_by_the_caller_name_the_caller():
    ctx = multiprocessing.get_context("spawn")
    todo, done = ctx.Queue(), ctx.Queue()
    worker = ctx.Process(target=messages.pipeline_stage, args=(todo, done, "square_where"))
    worker.start()
    messages.produce(todo, [probes.Sent(4)])
    (value, sender, facts), end = done.get(timeout=30), done.get(timeout=30)
    worker.join(30)
    assert (value, sender, end) == (16, os.getpid(), STOP) and facts["pid"] == worker.pid


def test_stubborn_nap_dies_late_after_sigterm():
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    p = ctx.Process(target=probes.stubborn_nap, args=(60, 0, 0.5, ready))
    p.start()
    assert ready.wait(30)
    p.terminate()
    p.join(0.1)
    assert p.is_alive(), "the process should still be cleaning up"
    p.join(30)
    assert p.exitcode == -signal.SIGTERM


def test_timed_calls_log_their_worker_and_cancelled_calls_never_run(tmp_path):
    delays = {1: 0.3, 2: 0.05, 3: 0.05, 4: 0.05}
    func = functools.partial(probes.timed_call, delays=delays, workdir=str(tmp_path))
    with ThreadPoolExecutor(1, initializer=probes.mark_worker, initargs=("w",)) as executor:
        futures = [executor.submit(func, x) for x in delays]
        wait(futures[:1])
        cancelled = [f.cancel() for f in futures[1:]]
    calls = probes.read_calls(str(tmp_path))
    ran = sorted(calls)
    assert ran == [1] + [x for x, c in zip([2, 3, 4], cancelled, strict=True) if not c]
    assert calls[1]["mark"] == "w" and calls[1]["token"] == futures[0].result()[1]
    assert calls[1]["end"] - calls[1]["start"] >= 0.3


SHARED_MEMORY_SCRIPT = textwrap.dedent(
    """
    import multiprocessing, sys
    from array import array
    from multiprocessing import shared_memory
    from course.workers import square_block

    if __name__ == "__main__":
        ctx = multiprocessing.get_context(sys.argv[1])
        block = shared_memory.SharedMemory(create=True, size=6 * 8)
        numbers = block.buf.cast("q")
        numbers[:] = array("q", range(6))
        halves = [(0, 3), (3, 6)]
        procs = [ctx.Process(target=square_block, args=(block.name, a, b)) for a, b in halves]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
        print(numbers.tolist(), [p.exitcode for p in procs])
        numbers.release()
        block.close()
        block.unlink()
    """
)


@pytest.mark.parametrize("method", START_METHODS)
def test_square_block_shares_memory_without_tracker_warnings(method, tmp_path):
    """Children attach the block by name; the resource tracker reports no leak at exit."""
    script = tmp_path / "shm.py"
    script.write_text(SHARED_MEMORY_SCRIPT)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = {**os.environ, "PYTHONPATH": root}
    done = subprocess.run(
        [sys.executable, str(script), method], capture_output=True, text=True, timeout=60, env=env
    )
    assert done.stdout.strip() == "[0, 1, 4, 9, 16, 25] [0, 0]", done.stdout + done.stderr
    assert done.stderr == "", done.stderr


@pytest.mark.parametrize("method", START_METHODS)
def test_shopping_list_is_not_shared(method):
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=shared.add_to_shopping_list, args=("tea",))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    assert shared.shopping_list == []


@pytest.mark.parametrize("method", START_METHODS)
def test_shared_value_array_and_manager(method):
    ctx = multiprocessing.get_context(method)
    counter = ctx.Value("i", 0)
    squares = ctx.Array("i", 6)
    procs = [ctx.Process(target=shared.add_many, args=(counter, 2000)) for _ in range(2)]
    procs += [
        ctx.Process(target=shared.fill_squares, args=(squares, a, b)) for a, b in [(0, 3), (3, 6)]
    ]
    with ctx.Manager() as manager:
        table = manager.dict()
        procs.append(ctx.Process(target=shared.record_square, args=(table, 5)))
        for p in procs:
            p.start()
        for p in procs:
            p.join(30)
        assert dict(table) == {5: 25}
    assert counter.value == 4000
    assert squares[:] == [0, 1, 4, 9, 16, 25]


@pytest.mark.parametrize("method", START_METHODS)
def test_traced_pipeline_under_every_start_method(method):
    ctx = multiprocessing.get_context(method)
    tl = Timeline()
    rec = tl.process_recorder(ctx=ctx)
    todo, done = ctx.Queue(), ctx.Queue()
    stages = [
        ctx.Process(
            target=messages.produce_traced, args=(rec, todo, range(3), 0.01), name="producer"
        ),
        ctx.Process(target=messages.square_traced, args=(rec, todo, done, 0.01), name="worker"),
    ]
    for p in stages:
        p.start()
    results = []
    while (item := done.get(timeout=30)) is not STOP:
        results.append(item)
    for p in stages:
        p.join(30)
    assert results == [0, 1, 4]
    tl.collect()
    states = {(s.lane, s.state) for s in tl.spans}
    assert {("producer", SLEEPING), ("worker", RUNNING), ("worker", QUEUE_GET)} <= states
    tl.close()


def test_stages_work_with_thread_queues():
    tl = Timeline()
    a, b = queue.Queue(), queue.Queue()
    messages.produce_traced(tl, a, [2, 3], 0)
    messages.square_traced(tl, a, b, 0)
    assert [b.get() for _ in range(3)] == [4, 9, STOP]
