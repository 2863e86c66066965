from . import Mutant

ASSIGNMENT = "09-coroutines"

DECORATOR = """
import functools


def coroutine(func):
    @functools.wraps(func)
    def start(*args, **kwargs):
        gen = func(*args, **kwargs)
        next(gen)
        return gen

    return start
"""

CONSUMER = """

@coroutine
def consumer(log):
    reply = None
    try:
        while True:
            item = yield reply
            log("consume", item)
            reply = f"ate baozi {item}"
    finally:
        log("closed")
"""

FILTER = """

@coroutine
def filter_stage(keep, target, log):
    reply = None
    try:
        while True:
            item = yield reply
            log("filter", item)
            reply = target.send(item) if keep(item) else None
    finally:
        target.close()
"""

PRODUCER = """

def producer(items, target, log):
    results = []
    for item in items:
        log("produce", item)
        reply = target.send(item)
        if reply is not None:
            results.append(reply)
    target.close()
    return results
"""


def swap(text: str, old: str, new: str) -> str:
    """`text` with `old` replaced by `new` (which must be there: a silent no-op is no mutant)."""
    assert old in text, old
    return text.replace(old, new)


def pipeline(decorator=DECORATOR, consumer=CONSUMER, filter_stage=FILTER, producer=PRODUCER):
    """The reference pipeline with one part swapped for a wrong one."""
    return decorator + consumer + filter_stage + producer


FETCH_ALL = """
import gevent


def fetch_all(urls):
{body}
"""


def fetch_all(body: str) -> str:
    return FETCH_ALL.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


BOTH = ("consumer-tests", "pipeline-tests")

MUTANTS = [
    Mutant(
        "pipeline-solution",
        "decorator does not prime the consumer",
        pipeline(decorator=swap(DECORATOR, "        next(gen)\n", "")),
        BOTH,
        expect="just-started",
    ),
    Mutant(
        "pipeline-solution",
        "consumer never logs closed",
        pipeline(
            consumer="""

@coroutine
def consumer(log):
    reply = None
    while True:
        item = yield reply
        log("consume", item)
        reply = f"ate baozi {item}"
"""
        ),
        BOTH,
        expect="'closed'",
    ),
    Mutant(
        "pipeline-solution",
        "producer never closes the pipeline",
        pipeline(producer=swap(PRODUCER, "    target.close()\n", "")),
        ("pipeline-tests",),
        expect="'closed'",
    ),
    Mutant(
        "pipeline-solution",
        "filter passes everything",
        pipeline(
            filter_stage=swap(
                FILTER, "target.send(item) if keep(item) else None", "target.send(item)"
            )
        ),
        ("pipeline-tests",),
        expect="differs",
    ),
    Mutant(
        "pipeline-solution",
        "filter does not close its target",
        pipeline(
            filter_stage=swap(
                FILTER, "    finally:\n        target.close()\n", "    finally:\n        pass\n"
            )
        ),
        ("pipeline-tests",),
        expect="'closed'",
    ),
    Mutant(
        "pipeline-solution",
        "producer logs every item first, then sends them (no interleaving)",
        pipeline(
            producer="""

def producer(items, target, log):
    items = list(items)
    for item in items:
        log("produce", item)
    results = [target.send(item) for item in items]
    target.close()
    return [r for r in results if r is not None]
"""
        ),
        ("pipeline-tests",),
        expect="differs",
    ),
    Mutant(
        "pipeline-solution",
        "producer keeps the None replies of dropped items",
        pipeline(
            producer=swap(
                PRODUCER,
                "        if reply is not None:\n            results.append(reply)",
                "        results.append(reply)",
            )
        ),
        ("pipeline-tests",),
        expect="producer should return",
    ),
    Mutant(
        "fetch-all-solution",
        "sequential fetch",
        fetch_all("return [fetch(url) for url in urls]"),
        ("fetch-all-tests",),
        expect="one after the other",
    ),
    Mutant(
        "fetch-all-solution",
        "results in completion order",
        fetch_all(
            "results = []\n"
            "jobs = [gevent.spawn(lambda u: results.append(fetch(u)), url) for url in urls]\n"
            "gevent.joinall(jobs)\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="input order",
    ),
    Mutant(
        "fetch-all-solution",
        "blocking urllib inside greenlets",
        fetch_all(
            "import json\n"
            "import urllib.request\n"
            "\n"
            "def get(url):\n"
            "    with urllib.request.urlopen(url, timeout=10) as reply:\n"
            "        return json.load(reply)\n"
            "\n"
            "jobs = [gevent.spawn(get, url) for url in urls]\n"
            "gevent.joinall(jobs)\n"
            "return [job.value for job in jobs]"
        ),
        ("fetch-all-tests",),
        expect="one after the other",
    ),
    Mutant(
        "fetch-all-solution",
        "each greenlet joined right after it is spawned",
        fetch_all(
            "results = []\n"
            "for url in urls:\n"
            "    job = gevent.spawn(fetch, url)\n"
            "    job.join()\n"
            "    results.append(job.value)\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="one after the other",
    ),
    Mutant(
        "fetch-all-solution",
        "the tutorial's crawler: requests in greenlets, without monkey patching",
        fetch_all(
            "import requests\n"
            "\n"
            "def get(url):\n"
            "    return requests.get(url, timeout=10).json()\n"
            "\n"
            "jobs = [gevent.spawn(get, url) for url in urls]\n"
            "gevent.joinall(jobs)\n"
            "return [job.value for job in jobs]"
        ),
        ("fetch-all-tests",),
        expect="one after the other",
    ),
    Mutant(
        "fetch-all-solution",
        "greenlets spawned but never joined",
        fetch_all(
            "jobs = [gevent.spawn(fetch, url) for url in urls]\nreturn [job.value for job in jobs]"
        ),
        ("fetch-all-tests",),
        expect="input order",
    ),
    Mutant(
        "fetch-all-solution",
        "threads instead of greenlets",
        fetch_all(
            "from concurrent.futures import ThreadPoolExecutor\n"
            "\n"
            "import requests\n"
            "\n"
            "with ThreadPoolExecutor(max_workers=len(urls) or 1) as pool:\n"
            "    return list(pool.map(lambda u: requests.get(u, timeout=10).json(), urls))"
        ),
        ("fetch-all-tests",),
        expect="not threads",
    ),
]
