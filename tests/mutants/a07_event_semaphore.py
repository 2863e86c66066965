from . import Alternative, Mutant

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
        expect="at the same time",
    ),
    Mutant(
        "limiter-solution",
        "semaphore released twice",
        threaded(
            "slots = threading.Semaphore(limit)",
            "with slots:\n    results[index] = resource.use(item)\nslots.release()",
        ),
        ("limiter-tests",),
        expect="at the same time",
    ),
    Mutant(
        "limiter-solution",
        "a new semaphore in every thread",
        threaded(
            "", "with threading.BoundedSemaphore(limit):\n    results[index] = resource.use(item)"
        ),
        ("limiter-tests",),
        expect="at the same time",
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
        expect="expected work(i) once for each i",
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
    Mutant(
        "limiter-solution",
        "batches: start limit threads, join them, repeat",
        limiter(
            "results = [None] * len(items)\n"
            "\n"
            "def one(index, item):\n"
            "    results[index] = resource.use(item)\n"
            "\n"
            "for first in range(0, len(items), limit):\n"
            "    batch = [\n"
            "        threading.Thread(target=one, args=(i, items[i]))\n"
            "        for i in range(first, min(first + limit, len(items)))\n"
            "    ]\n"
            "    for t in batch:\n"
            "        t.start()\n"
            "    for t in batch:\n"
            "        t.join()\n"
            "return results"
        ),
        ("limiter-tests",),
        expect="in batches",
        kind="cheat",
    ),
    Mutant(
        "limiter-solution",
        "sequential in the caller, dummy threads, forges resource.peak",
        limiter(
            "results = [resource.use(item) for item in items]\n"
            "dummies = [threading.Thread(target=lambda: None) for _ in range(limit)]\n"
            "for t in dummies:\n"
            "    t.start()\n"
            "for t in dummies:\n"
            "    t.join()\n"
            "resource.peak = limit\n"
            "return results"
        ),
        ("limiter-tests",),
        expect="expected 3 calls at once",
        kind="cheat",
    ),
    Mutant(
        "limiter-solution",
        "the answer without the work: results computed from the items",
        threaded(
            "slots = threading.BoundedSemaphore(limit)",
            "with slots:\n    results[index] = item * 10",
        ),
        ("limiter-tests",),
        expect="expected one call of resource.use per item",
        kind="cheat",
    ),
    Mutant(
        "gate-solution",
        "sleeps instead of waiting for the gate",
        gate_threads("time.sleep(1)\nwork(i)").replace(
            "import threading", "import threading\nimport time"
        ),
        ("gate-tests",),
        expect="expected",
        kind="cheat",
    ),
    Mutant(
        "gate-solution",
        "waits at most 1 s for the gate, then works anyway",
        gate_threads("gate.wait(timeout=1)\nwork(i)"),
        ("gate-tests",),
        expect="expected no work before gate.set()",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "limiter-solution",
        "a ThreadPoolExecutor with limit workers",
        limiter(
            "from concurrent.futures import ThreadPoolExecutor\n"
            "\n"
            "with ThreadPoolExecutor(max_workers=limit) as pool:\n"
            "    return list(pool.map(resource.use, items))"
        ),
    ),
    Alternative(
        "limiter-solution",
        "Semaphore acquire/release in try/finally, results in a dict",
        limiter(
            "slots = threading.Semaphore(limit)\n"
            "done = {}\n"
            "\n"
            "def one(index):\n"
            "    slots.acquire()\n"
            "    try:\n"
            "        done[index] = resource.use(items[index])\n"
            "    finally:\n"
            "        slots.release()\n"
            "\n"
            "threads = [threading.Thread(target=one, args=(i,)) for i in range(len(items))]\n"
            "for t in threads:\n"
            "    t.start()\n"
            "for t in threads:\n"
            "    t.join()\n"
            "return [done[i] for i in range(len(items))]"
        ),
    ),
    Alternative(
        "limiter-solution",
        "a Condition counting the free slots",
        threaded(
            "cond = threading.Condition()\nfree = [limit]",
            "with cond:\n"
            "    cond.wait_for(lambda: free[0] > 0)\n"
            "    free[0] -= 1\n"
            "try:\n"
            "    results[index] = resource.use(item)\n"
            "finally:\n"
            "    with cond:\n"
            "        free[0] += 1\n"
            "        cond.notify()",
        ),
    ),
    Alternative(
        "gate-solution",
        "a Thread subclass",
        gate(
            "class Runner(threading.Thread):\n"
            "    def __init__(self, i):\n"
            "        super().__init__()\n"
            "        self.i = i\n"
            "\n"
            "    def run(self):\n"
            "        gate.wait()\n"
            "        work(self.i)\n"
            "\n"
            "threads = [Runner(i) for i in range(n)]\n"
            "for t in threads:\n"
            "    t.start()\n"
            "return threads"
        ),
    ),
    Alternative(
        "gate-solution",
        "waits in short slices until the gate is set",
        gate_threads("while not gate.wait(timeout=0.05):\n    pass\nwork(i)"),
    ),
]
