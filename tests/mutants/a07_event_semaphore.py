from . import Mutant

ASSIGNMENT = "07-event-semaphore"

LIMITER = """
import threading


def fetch_all(resource, items, limit):
{body}
"""


def limiter(body: str) -> str:
    return LIMITER.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


def threaded(setup: str, inner: str) -> str:
    """A fetch_all that starts one thread per item running `inner` (uses `index`, `item`)."""
    inner = "\n".join("    " + ln for ln in inner.strip("\n").splitlines())
    return limiter(
        f"{setup}\n"
        "results = [None] * len(items)\n"
        "\n"
        "def one(index, item):\n"
        f"{inner}\n"
        "\n"
        "threads = [threading.Thread(target=one, args=(i, x)) for i, x in enumerate(items)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        "for t in threads:\n"
        "    t.join()\n"
        "return results"
    )


GATE = """
import threading


def start_workers(n, gate, work):
{body}
"""


def gate(body: str) -> str:
    return GATE.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


def gate_threads(runner: str, before: str = "", after: str = "") -> str:
    runner = "\n".join("    " + ln for ln in runner.strip("\n").splitlines())
    return gate(
        f"{before}\n"
        "def runner(i):\n"
        f"{runner}\n"
        "\n"
        "threads = [threading.Thread(target=runner, args=(i,)) for i in range(n)]\n"
        "for t in threads:\n"
        "    t.start()\n"
        f"{after}\n"
        "return threads"
    )


MUTANTS = [
    Mutant(
        "limiter-solution",
        "Lock instead of Semaphore(limit): serialises",
        threaded(
            "slots = threading.Lock()", "with slots:\n    results[index] = resource.use(item)"
        ),
        ("limiter-tests",),
        expect="serialises",
    ),
    Mutant(
        "limiter-solution",
        "no limit at all",
        threaded("", "results[index] = resource.use(item)"),
        ("limiter-tests",),
        expect="overlapped",
    ),
    Mutant(
        "limiter-solution",
        "semaphore released twice",
        threaded(
            "slots = threading.Semaphore(limit)",
            "with slots:\n    results[index] = resource.use(item)\nslots.release()",
        ),
        ("limiter-tests",),
        expect="overlapped",
    ),
    Mutant(
        "limiter-solution",
        "a new semaphore in every thread",
        threaded(
            "", "with threading.BoundedSemaphore(limit):\n    results[index] = resource.use(item)"
        ),
        ("limiter-tests",),
        expect="overlapped",
    ),
    Mutant(
        "limiter-solution",
        "Semaphore(limit - 1): off by one",
        threaded(
            "slots = threading.Semaphore(max(1, limit - 1))",
            "with slots:\n    results[index] = resource.use(item)",
        ),
        ("limiter-tests",),
        expect="serialises",
    ),
    Mutant(
        "limiter-solution",
        "no threads: one call after the other",
        limiter("return [resource.use(item) for item in items]"),
        ("limiter-tests",),
        expect="serialises",
    ),
    Mutant(
        "gate-solution",
        "workers do not wait for the gate",
        gate_threads("work(i)"),
        ("gate-tests",),
        expect="before gate.set()",
    ),
    Mutant(
        "gate-solution",
        "waiting with a timeout too short",
        gate_threads("gate.wait(timeout=0.05)\nwork(i)"),
        ("gate-tests",),
        expect="before gate.set()",
    ),
    Mutant(
        "gate-solution",
        "start_workers waits for the gate itself (blocks the caller)",
        gate_threads("work(i)", before="gate.wait()"),
        ("gate-tests",),
        expect="Timed out",
    ),
    Mutant(
        "gate-solution",
        "checks is_set() once instead of waiting",
        gate_threads("if gate.is_set():\n    work(i)"),
        ("gate-tests",),
        expect="missing",
    ),
    Mutant(
        "gate-solution",
        "opens the gate itself",
        gate_threads("gate.wait()\nwork(i)", after="gate.set()"),
        ("gate-tests",),
        expect="before gate.set()",
    ),
    Mutant(
        "gate-solution",
        "joins the workers before returning",
        gate_threads("gate.wait()\nwork(i)", after="for t in threads:\n    t.join()"),
        ("gate-tests",),
        expect="Timed out",
    ),
]
