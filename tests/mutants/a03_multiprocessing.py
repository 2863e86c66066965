from . import Mutant

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
import time


def stop_within(process, grace):
{body}
"""


def stop_within(body: str) -> str:
    return STOP_WITHIN.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS = [
    Mutant(
        "parallel-map-solution",
        "threads instead of processes",
        parallel_map(
            "from concurrent.futures import ThreadPoolExecutor\n"
            "with ThreadPoolExecutor(max_workers=processes) as executor:\n"
            "    return list(executor.map(func, items))"
        ),
        ("parallel-map-tests",),
        expect="ran in the calling process",
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
        "all items in one chunk (one process does everything)",
        parallel_map(
            "with multiprocessing.Pool(processes=processes) as pool:\n"
            "    return pool.map(func, items, chunksize=len(items))"
        ),
        ("parallel-map-tests",),
        expect="ran in one process",
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
        expect="got None",
    ),
    Mutant(
        "stop-within-solution",
        "terminates at once",
        stop_within("process.terminate()\nprocess.join()\nreturn process.exitcode"),
        ("stop-within-tests",),
        expect="should end normally",
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
        expect="stop_within waited",
    ),
]
