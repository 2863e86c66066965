from . import Alternative, Mutant

ASSIGNMENT = "03-multiprocessing"

PARALLEL_MAP = """
import multiprocessing


def parallel_map(func, items, processes=2):
{body}
"""


def parallel_map(body: str, before: str = "") -> str:
    indented = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return before + PARALLEL_MAP.format(body=indented)


STOP_WITHIN = """
import signal
import time


def stop_within(process, grace):
{body}
"""


def stop_within(body: str) -> str:
    return STOP_WITHIN.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


FIRST_RESULTS = """
import queue
import time
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, as_completed, wait


def first_results(executor, func, items, n, timeout):
{body}
"""


def first_results(body: str) -> str:
    return FIRST_RESULTS.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


SUBMIT_ALL = "futures = [executor.submit(func, x) for x in items]\n"
CANCEL_ALL = "for future in futures:\n    future.cancel()\n"

MUTANTS = [
    # parallel_map
    Mutant(
        "parallel-map-solution",
        "threads instead of processes",
        parallel_map(
            "from concurrent.futures import ThreadPoolExecutor\n"
            "with ThreadPoolExecutor(max_workers=processes) as executor:\n"
            "    return list(executor.map(func, items))"
        ),
        ("parallel-map-tests",),
        expect="in the calling process",
    ),
    Mutant(
        "parallel-map-solution",
        "results in completion order",
        parallel_map(
            "with multiprocessing.Pool(processes=processes) as pool:\n"
            "    return list(pool.imap_unordered(func, items))"
        ),
        ("parallel-map-tests",),
        expect="in input order",
    ),
    Mutant(
        "parallel-map-solution",
        "helper target defined in the notebook (works under fork only)",
        parallel_map(
            "with multiprocessing.Pool(processes=processes) as pool:\n"
            "    return pool.map(_apply, [(func, x) for x in items])",
            before="def _apply(pair):\n    func, x = pair\n    return func(x)\n",
        ),
        ("parallel-map-tests",),
        expect="Can't get attribute",
    ),
    Mutant(
        "parallel-map-solution",
        "forces the fork start method, so the notebook helper works",
        parallel_map(
            'with multiprocessing.get_context("fork").Pool(processes=processes) as pool:\n'
            "    return pool.map(_apply, [(func, x) for x in items])",
            before="def _apply(pair):\n    func, x = pair\n    return func(x)\n",
        ),
        ("parallel-map-tests",),
        expect="do not force a context",
        kind="cheat",
    ),
    Mutant(
        "parallel-map-solution",
        "computes in the caller while an idle pool satisfies a process count",
        parallel_map(
            "with multiprocessing.Pool(processes=processes) as pool:\n"
            "    pool.map(abs, range(processes))\n"
            "return [func(x) for x in items]"
        ),
        ("parallel-map-tests",),
        expect="in the calling process",
        kind="cheat",
    ),
    # stop_within
    Mutant(
        "stop-within-solution",
        "join without a timeout",
        stop_within("process.join()\nreturn process.exitcode"),
        ("stop-within-tests",),
        expect="Timed out",
    ),
    Mutant(
        "stop-within-solution",
        "never terminates",
        stop_within("process.join(grace)\nreturn process.exitcode"),
        ("stop-within-tests",),
        expect="still running",
    ),
    Mutant(
        "stop-within-solution",
        "sleeps the whole grace period",
        stop_within(
            "time.sleep(grace)\n"
            "if process.is_alive():\n"
            "    process.terminate()\n"
            "process.join()\n"
            "return process.exitcode"
        ),
        ("stop-within-tests",),
        expect="waiting",
    ),
    Mutant(
        "stop-within-solution",
        "exit codes made up, no join after terminate",
        stop_within(
            "process.join(grace)\n"
            "if process.is_alive():\n"
            "    process.terminate()\n"
            "    return -signal.SIGTERM\n"
            "return 0"
        ),
        ("stop-within-tests",),
        expect="still running",
        kind="cheat",
    ),
    Mutant(
        "stop-within-solution",
        "kills with SIGKILL and reports SIGTERM",
        stop_within(
            "process.join(grace)\n"
            "if process.is_alive():\n"
            "    process.kill()\n"
            "    process.join()\n"
            "    return -signal.SIGTERM\n"
            "return process.exitcode"
        ),
        ("stop-within-tests",),
        expect="real exit code -9, got -15",
        kind="cheat",
    ),
    # first_results
    Mutant(
        "first-results-solution",
        "results in submission order",
        first_results(
            SUBMIT_ALL
            + "results = [future.result(timeout=timeout) for future in futures[:n]]\n"
            + CANCEL_ALL
            + "return results"
        ),
        ("first-results-tests",),
        expect="in the order they finished",
    ),
    Mutant(
        "first-results-solution",
        "never cancels the calls that are not needed",
        first_results(
            SUBMIT_ALL + "results = []\n"
            "try:\n"
            "    for future in as_completed(futures, timeout=timeout):\n"
            "        results.append(future.result())\n"
            "        if len(results) == n:\n"
            "            break\n"
            "except TimeoutError:\n"
            "    pass\n"
            "return results"
        ),
        ("first-results-tests",),
        expect="cancel the calls that have not started",
    ),
    Mutant(
        "first-results-solution",
        "no deadline: waits for n results however long it takes",
        first_results(
            SUBMIT_ALL + "results = []\n"
            "for future in as_completed(futures):\n"
            "    results.append(future.result())\n"
            "    if len(results) == n:\n"
            "        break\n" + CANCEL_ALL + "return results"
        ),
        ("first-results-tests",),
        expect="before the deadline",
    ),
    Mutant(
        "first-results-solution",
        "runs the calls itself instead of on the executor",
        first_results("return [func(x) for x in items[:n]]"),
        ("first-results-tests",),
        expect="in the executor you were given",
        kind="cheat",
    ),
    Mutant(
        "first-results-solution",
        "sleeps out the deadline, then takes what is done",
        first_results(
            SUBMIT_ALL
            + "time.sleep(timeout)\n"
            + CANCEL_ALL
            + "return [f.result() for f in futures if f.done() and not f.cancelled()][:n]"
        ),
        ("first-results-tests",),
        expect="expected",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "parallel-map-solution",
        "ProcessPoolExecutor.map",
        parallel_map(
            "from concurrent.futures import ProcessPoolExecutor\n"
            "with ProcessPoolExecutor(max_workers=processes) as executor:\n"
            "    return list(executor.map(func, items))"
        ),
    ),
    Alternative(
        "parallel-map-solution",
        "apply_async per item, results collected in order",
        parallel_map(
            "pool = multiprocessing.Pool(processes)\n"
            "try:\n"
            "    pending = [pool.apply_async(func, (x,)) for x in items]\n"
            "    return [p.get() for p in pending]\n"
            "finally:\n"
            "    pool.close()\n"
            "    pool.join()"
        ),
    ),
    Alternative(
        "stop-within-solution",
        "polls is_alive until the deadline",
        stop_within(
            "deadline = time.monotonic() + grace\n"
            "while process.is_alive() and time.monotonic() < deadline:\n"
            "    time.sleep(0.01)\n"
            "if process.is_alive():\n"
            "    process.terminate()\n"
            "process.join()\n"
            "return process.exitcode"
        ),
    ),
    Alternative(
        "stop-within-solution",
        "waits on the process sentinel",
        stop_within(
            "from multiprocessing.connection import wait as wait_for\n"
            "if not wait_for([process.sentinel], timeout=grace):\n"
            "    process.terminate()\n"
            "process.join()\n"
            "return process.exitcode"
        ),
    ),
    Alternative(
        "first-results-solution",
        "wait(FIRST_COMPLETED) in a loop with a deadline",
        first_results(
            SUBMIT_ALL + "deadline = time.monotonic() + timeout\n"
            "pending, results = set(futures), []\n"
            "while pending and len(results) < n:\n"
            "    left = deadline - time.monotonic()\n"
            "    if left <= 0:\n"
            "        break\n"
            "    done, pending = wait(pending, timeout=left, return_when=FIRST_COMPLETED)\n"
            "    for future in done:\n"
            "        if len(results) < n:\n"
            "            results.append(future.result())\n"
            "for future in pending:\n"
            "    future.cancel()\n"
            "return results"
        ),
    ),
    Alternative(
        "first-results-solution",
        "done-callbacks feeding a queue",
        first_results(
            "finished = queue.Queue()\n"
            "futures = []\n"
            "for x in items:\n"
            "    future = executor.submit(func, x)\n"
            "    future.add_done_callback(finished.put)\n"
            "    futures.append(future)\n"
            "deadline = time.monotonic() + timeout\n"
            "results = []\n"
            "try:\n"
            "    while len(results) < min(n, len(futures)):\n"
            "        left = max(0.0, deadline - time.monotonic())\n"
            "        results.append(finished.get(timeout=left).result())\n"
            "except queue.Empty:\n"
            "    pass\n"
            "finally:\n"
            "    for future in futures:\n"
            "        future.cancel()\n"
            "return results"
        ),
    ),
]
