"""course.ipc_workers: importable targets for notebooks 03 and 04, under every start method."""

import functools
import multiprocessing
import os
import queue
import signal
import sys

import pytest

from course import ipc_workers
from course.ipc_workers import STOP
from course.timeline import QUEUE_GET, RUNNING, SLEEPING, Timeline

START_METHODS = [
    m for m in ("fork", "forkserver", "spawn") if m in multiprocessing.get_all_start_methods()
]


@pytest.mark.parametrize("method", START_METHODS)
def test_exit_codes_under_every_start_method(method):
    ctx = multiprocessing.get_context(method)
    with ipc_workers.capture_stderr() as err:
        procs = [
            ctx.Process(target=ipc_workers.nap, args=(0.01,)),
            ctx.Process(target=ipc_workers.nap, args=(0.01, 3)),
            ctx.Process(target=ipc_workers.crash, args=("boom",)),
            ctx.Process(target=ipc_workers.nap, args=(60,)),
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
    with ipc_workers.capture_stderr() as err:
        p = ctx.Process(target=ipc_workers.crash, args=("from the child",))
        p.start()
        p.join(30)
    assert p.exitcode == 1
    assert "RuntimeError: from the child" in err.text


def test_capture_stderr_restores_stderr():
    before = sys.stderr
    with ipc_workers.capture_stderr() as err:
        print("hidden", file=sys.stderr)
    assert sys.stderr is before
    assert err.text == "hidden\n"


@pytest.mark.parametrize("method", START_METHODS)
def test_greet_runs_in_children(method):
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=ipc_workers.greet, args=("Ada", 0))
    p.start()
    p.join(30)
    assert p.exitcode == 0


def test_greeter_subclass():
    g = ipc_workers.Greeter("Grace", pause=0)
    g.start()
    g.join(30)
    assert g.exitcode == 0 and g.name == "Greeter-Grace"


def test_checked_square_proves_two_processes_and_order(tmp_path):
    """Pool.map: input order, two pids; imap_unordered: item 0 always comes last."""
    ordered, unordered = tmp_path / "ordered", tmp_path / "unordered"
    ordered.mkdir()
    unordered.mkdir()
    ctx = multiprocessing.get_context("spawn")
    with ctx.Pool(2) as pool:
        func = functools.partial(ipc_workers.checked_square, workdir=str(ordered), last=7)
        results = pool.map(func, range(8))
        func = functools.partial(ipc_workers.checked_square, workdir=str(unordered), last=7)
        arrival = [value for value, _ in pool.imap_unordered(func, range(8))]
    assert [value for value, _ in results] == [x * x for x in range(8)]
    pids = {pid for _, pid in results}
    assert len(pids) == 2 and os.getpid() not in pids
    assert arrival[-1] == 0, f"item 0 should finish last: {arrival}"


def test_checked_square_in_one_process_waits_once(tmp_path):
    results = [ipc_workers.checked_square(x, str(tmp_path), last=3, wait=0.05) for x in range(4)]
    assert {pid for _, pid in results} == {os.getpid()}


@pytest.mark.parametrize("method", START_METHODS)
def test_shopping_list_is_not_shared(method):
    ctx = multiprocessing.get_context(method)
    p = ctx.Process(target=ipc_workers.add_to_shopping_list, args=("tea",))
    p.start()
    p.join(30)
    assert p.exitcode == 0
    assert ipc_workers.shopping_list == []


@pytest.mark.parametrize("method", START_METHODS)
def test_shared_value_array_and_manager(method):
    ctx = multiprocessing.get_context(method)
    counter = ctx.Value("i", 0)
    squares = ctx.Array("i", 6)
    procs = [ctx.Process(target=ipc_workers.add_many, args=(counter, 2000)) for _ in range(2)]
    procs += [
        ctx.Process(target=ipc_workers.fill_squares, args=(squares, a, b))
        for a, b in [(0, 3), (3, 6)]
    ]
    with ctx.Manager() as manager:
        table = manager.dict()
        procs.append(ctx.Process(target=ipc_workers.record_square, args=(table, 5)))
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
            target=ipc_workers.produce_traced, args=(rec, todo, range(3), 0.01), name="producer"
        ),
        ctx.Process(target=ipc_workers.square_traced, args=(rec, todo, done, 0.01), name="worker"),
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
    ipc_workers.produce_traced(tl, a, [2, 3], 0)
    ipc_workers.square_traced(tl, a, b, 0)
    assert [b.get() for _ in range(3)] == [4, 9, STOP]
