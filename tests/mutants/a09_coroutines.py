from . import Alternative, Mutant

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


def fetch_all_gevent(urls):
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
        expect="expected producer to return",
    ),
    Mutant(
        "pipeline-solution",
        "consumer is an object with send/close, not a generator",
        pipeline(
            consumer="""


class _Eater:
    def __init__(self, log):
        self.log = log

    def send(self, item):
        self.log("consume", item)
        return f"ate baozi {item}"

    def close(self):
        self.log("closed")


def consumer(log):
    return _Eater(log)
"""
        ),
        ("consumer-tests",),
        expect="generator",
        kind="cheat",
    ),
    Mutant(
        "pipeline-solution",
        "filter does the consumer's work itself (never sends on)",
        pipeline(
            filter_stage=swap(
                FILTER,
                "reply = target.send(item) if keep(item) else None",
                "reply = None\n"
                "            if keep(item):\n"
                '                log("consume", item)\n'
                '                reply = f"ate baozi {item}"',
            )
        ),
        ("pipeline-tests",),
        expect="target to see",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "sequential fetch",
        fetch_all("return [fetch_gevent(url) for url in urls]"),
        ("fetch-all-tests",),
        expect="one after the other",
    ),
    Mutant(
        "fetch-all-solution",
        "results in completion order",
        fetch_all(
            """
results = []
jobs = [gevent.spawn(lambda u: results.append(fetch_gevent(u)), url) for url in urls]
gevent.joinall(jobs)
return results
"""
        ),
        ("fetch-all-tests",),
        expect="in the order of urls",
    ),
    Mutant(
        "fetch-all-solution",
        "each greenlet joined right after it is spawned",
        fetch_all(
            "results = []\n"
            "for url in urls:\n"
            "    job = gevent.spawn(fetch_gevent, url)\n"
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
            "jobs = [gevent.spawn(fetch_gevent, url) for url in urls]\n"
            "return [job.value for job in jobs]"
        ),
        ("fetch-all-tests",),
        expect="in the order of urls",
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
        expect="more thread(s)",
    ),
    Mutant(
        "fetch-all-solution",
        "answers made up from the URLs, the server never asked",
        fetch_all(
            r"""
import re

gevent.sleep(0.3)
return [{"item": int(re.search(r"/item/(\d+)", url).group(1)), "path": url} for url in urls]
"""
        ),
        ("fetch-all-tests",),
        expect="server's own answer",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "requests in gevent's own threadpool (dodges a spy on Thread.start)",
        fetch_all(
            """
import requests

pool = gevent.get_hub().threadpool
pool.maxsize = max(len(urls), 1)
jobs = [pool.spawn(lambda u: requests.get(u, timeout=10).json(), url) for url in urls]
return [job.get() for job in jobs]
"""
        ),
        ("fetch-all-tests",),
        expect="more thread(s)",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "pipeline-solution",
        "send(None) to prime, except GeneratorExit, contextlib.closing",
        """
import contextlib
import functools


def coroutine(func):
    @functools.wraps(func)
    def start(*args, **kwargs):
        gen = func(*args, **kwargs)
        gen.send(None)
        return gen

    return start


@coroutine
def consumer(log):
    reply = None
    while True:
        try:
            item = yield reply
        except GeneratorExit:
            log("closed")
            return
        log("consume", item)
        reply = "ate baozi " + str(item)


@coroutine
def filter_stage(keep, target, log):
    reply = None
    while True:
        try:
            item = yield reply
        except GeneratorExit:
            target.close()
            return
        log("filter", item)
        if keep(item):
            reply = target.send(item)
        else:
            reply = None


def producer(items, target, log):
    with contextlib.closing(target):
        replies = []
        for item in items:
            log("produce", item)
            replies.append(target.send(item))
    return [r for r in replies if r is not None]
""",
    ),
    Alternative(
        "pipeline-solution",
        "a class-based decorator and yield from a helper generator",
        """
import functools


class coroutine:
    def __init__(self, func):
        self.func = func
        functools.update_wrapper(self, func)

    def __call__(self, *args, **kwargs):
        gen = self.func(*args, **kwargs)
        next(gen)
        return gen


def _eat(log):
    answer = None
    while True:
        item = yield answer
        log("consume", item)
        answer = f"ate baozi {item}"


@coroutine
def consumer(log):
    try:
        yield from _eat(log)
    finally:
        log("closed")


@coroutine
def filter_stage(keep, target, log):
    out = None
    try:
        while True:
            item = yield out
            log("filter", item)
            out = target.send(item) if keep(item) else None
    finally:
        target.close()


def producer(items, target, log):
    results = []
    for item in items:
        log("produce", item)
        if (reply := target.send(item)) is not None:
            results.append(reply)
    target.close()
    return results
""",
    ),
    Alternative(
        "fetch-all-solution",
        "a gevent.pool.Group map",
        fetch_all(
            """
from gevent.pool import Group

return Group().map(fetch_gevent, urls)
"""
        ),
    ),
    Alternative(
        "fetch-all-solution",
        "spawn all, then get() each in order",
        fetch_all(
            """
greenlets = {}
for i, url in enumerate(urls):
    greenlets[i] = gevent.spawn(fetch_gevent, url)
return [greenlets[i].get(timeout=10) for i in range(len(urls))]
"""
        ),
    ),
]
