from . import Alternative, Mutant

ASSIGNMENT = "02-threading"

RESULT_THREAD = """
import threading


class ResultThread(threading.Thread):
{body}
"""


def result_thread(body: str, head: str = "") -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return head + RESULT_THREAD.format(body=lines)


FETCH_ALL = """
import threading
import time


def fetch_all_threads(urls):
{body}
"""


def fetch_all(body: str, head: str = "") -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return head + FETCH_ALL.format(body=lines)


INIT = (
    "def __init__(self, func, *args):\n"
    "    super().__init__()\n"
    "    self.func, self.args, self.result, self.error = func, args, None, None\n"
)
CALL = (
    "try:\n"
    "    self.result = self.func(*self.args)\n"
    "except Exception as exc:\n"
    "    self.error = exc\n"
)


def indent(text: str) -> str:
    return "\n".join("    " + ln for ln in text.strip("\n").splitlines()) + "\n"


# a fetch in its own thread, the answer stored at its index
FETCH_ONE = (
    "results = [None] * len(urls)\n\ndef fetch_one(i, url):\n    results[i] = fetch_json(url)\n\n"
)

MUTANTS = [
    # ---------------------------------------------------------------- ResultThread: mistakes
    Mutant(
        "result-thread-solution",
        "calls func in __init__",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    super().__init__()\n"
            "    self.result, self.error = None, None\n"
            "    self.result = func(*args)\n"
            "\n"
            "def run(self):\n"
            "    pass"
        ),
        ("result-thread-tests",),
        expect="already in __init__",
    ),
    Mutant(
        "result-thread-solution",
        "overrides start instead of run",
        result_thread(INIT + "\ndef start(self):\n" + indent(CALL)),
        ("result-thread-tests",),
        expect="cannot join thread before it is started",
    ),
    Mutant(
        "result-thread-solution",
        "forgets super().__init__()",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    self.func, self.args, self.result, self.error = func, args, None, None\n"
            "\n"
            "def run(self):\n" + indent(CALL)
        ),
        ("result-thread-tests",),
        expect="__init__() not called",
    ),
    Mutant(
        "result-thread-solution",
        "run returns the value instead of storing it",
        result_thread(INIT + "\ndef run(self):\n    return self.func(*self.args)"),
        ("result-thread-tests",),
        expect="expected result 5 and error None, got result None",
    ),
    Mutant(
        "result-thread-solution",
        "lets the exception escape (no error kept)",
        result_thread(INIT + "\ndef run(self):\n    self.result = self.func(*self.args)"),
        ("result-thread-tests",),
        expect="expected error ZeroDivisionError and result None, got error None",
    ),
    # ---------------------------------------------------------------- ResultThread: cheats
    Mutant(
        "result-thread-solution",
        "no thread at all: start() calls func in the caller, join() does nothing",
        result_thread(
            INIT
            + "\ndef start(self):\n"
            + indent(CALL)
            + "\ndef join(self, timeout=None):\n    pass"
        ),
        ("result-thread-tests",),
        expect="should overlap",
        kind="cheat",
    ),
    Mutant(
        "result-thread-solution",
        "start() starts the thread and waits for it (one at a time)",
        result_thread(
            INIT
            + "\ndef start(self):\n    super().start()\n    super().join()\n"
            + "\ndef run(self):\n"
            + indent(CALL)
        ),
        ("result-thread-tests",),
        expect="should overlap",
        kind="cheat",
    ),
    Mutant(
        "result-thread-solution",
        "the thread does nothing; join() computes the result in the caller",
        result_thread(
            INIT
            + "\ndef run(self):\n    pass\n"
            + "\ndef join(self, timeout=None):\n"
            + "    super().join(timeout)\n"
            + "    if self.result is None and self.error is None:\n"
            + indent(indent(CALL))
        ),
        ("result-thread-tests",),
        expect="should overlap",
        kind="cheat",
    ),
    # ---------------------------------------------------------------- fetch_all_threads: mistakes
    Mutant(
        "fetch-all-solution",
        "sequential, no threads",
        fetch_all("return [fetch_json(url) for url in urls]"),
        ("fetch-all-tests",),
        expect="got at most 1 ",
    ),
    Mutant(
        "fetch-all-solution",
        "starts and joins each thread in turn (sequential in disguise)",
        fetch_all(
            FETCH_ONE + "for i, url in enumerate(urls):\n"
            "    t = threading.Thread(target=fetch_one, args=(i, url))\n"
            "    t.start()\n"
            "    t.join()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="got at most 1 ",
    ),
    Mutant(
        "fetch-all-solution",
        "answers in completion order",
        fetch_all(
            "results = []\n"
            "\n"
            "def fetch_one(url):\n"
            "    results.append(fetch_json(url))\n"
            "\n"
            "threads = [threading.Thread(target=fetch_one, args=(url,)) for url in urls]\n"
            "for t in threads:\n"
            "    t.start()\n"
            "for t in threads:\n"
            "    t.join()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="expected the answers in input order",
    ),
    Mutant(
        "fetch-all-solution",
        "forgets to join",
        fetch_all(
            FETCH_ONE + "for i, url in enumerate(urls):\n"
            "    threading.Thread(target=fetch_one, args=(i, url)).start()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="join() each thread before returning",
    ),
    Mutant(
        "fetch-all-solution",
        "a pool of 4 workers for any number of URLs",
        fetch_all(
            "with ThreadPoolExecutor(max_workers=4) as pool:\n"
            "    return list(pool.map(fetch_json, urls))",
            head="from concurrent.futures import ThreadPoolExecutor\n",
        ),
        ("fetch-all-tests",),
        expect="got at most 4 ",
    ),
    # ---------------------------------------------------------------- fetch_all_threads: cheats
    Mutant(
        "fetch-all-solution",
        "answers built from the URLs, dummy threads, no request",
        fetch_all(
            "threads = [threading.Thread(target=time.sleep, args=(0.01,)) for _ in urls]\n"
            "for t in threads:\n"
            "    t.start()\n"
            "for t in threads:\n"
            "    t.join()\n"
            "answers = []\n"
            "for url in urls:\n"
            '    path = "/" + url.split("/", 3)[3]\n'
            '    answers.append({"item": int(path.rsplit("/", 1)[1]), "path": path})\n'
            "return answers"
        ),
        ("fetch-all-tests",),
        expect="expected what the server sent",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "fetches one after another while dummy threads sleep alongside",
        fetch_all(
            "dummies = [threading.Thread(target=time.sleep, args=(0.05,)) for _ in urls]\n"
            "for t in dummies:\n"
            "    t.start()\n"
            "results = [fetch_json(url) for url in urls]\n"
            "for t in dummies:\n"
            "    t.join()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="got at most 1 ",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "sleep(0.4) instead of join (enough for the visible tests)",
        fetch_all(
            FETCH_ONE + "for i, url in enumerate(urls):\n"
            "    threading.Thread(target=fetch_one, args=(i, url), daemon=True).start()\n"
            "time.sleep(0.4)\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="expected an answer for every URL, got None",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "sleep(1.2) instead of join (longer than the fast hidden batch needs)",
        fetch_all(
            FETCH_ONE + "for i, url in enumerate(urls):\n"
            "    threading.Thread(target=fetch_one, args=(i, url), daemon=True).start()\n"
            "time.sleep(1.2)\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="expected an answer for every URL, got None",
        kind="cheat",
    ),
    Mutant(
        "fetch-all-solution",
        "sleep(1.8) instead of join (longer than the slowest hidden delay)",
        fetch_all(
            FETCH_ONE + "for i, url in enumerate(urls):\n"
            "    threading.Thread(target=fetch_one, args=(i, url), daemon=True).start()\n"
            "time.sleep(1.8)\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="expected under",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "result-thread-solution",
        "a functools.partial, try/except/else catching BaseException",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    super().__init__(daemon=True)\n"
            "    self._job = functools.partial(func, *args)\n"
            "    self.result = self.error = None\n"
            "\n"
            "def run(self):\n"
            "    try:\n"
            "        value = self._job()\n"
            "    except BaseException as exc:\n"
            "        self.error = exc\n"
            "    else:\n"
            "        self.result = value",
            head="import functools\n",
        ),
    ),
    Alternative(
        "result-thread-solution",
        "a target closure instead of overriding run()",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    self.result = None\n"
            "    self.error = None\n"
            "\n"
            "    def call():\n"
            "        try:\n"
            "            self.result = func(*args)\n"
            "        except Exception:\n"
            "            self.error = sys.exc_info()[1]\n"
            "\n"
            '    name = "result-of-" + getattr(func, "__name__", "func")\n'
            "    super().__init__(target=call, name=name)",
            head="import sys\n",
        ),
    ),
    Alternative(
        "fetch-all-solution",
        "a ThreadPoolExecutor with one worker per URL",
        fetch_all(
            "with ThreadPoolExecutor(max_workers=max(1, len(urls))) as pool:\n"
            "    return list(pool.map(fetch_json, urls))",
            head="from concurrent.futures import ThreadPoolExecutor\n",
        ),
    ),
    Alternative(
        "fetch-all-solution",
        "_thread.start_new_thread and a Condition counting down",
        fetch_all(
            "results = {}\n"
            "done = threading.Condition()\n"
            "\n"
            "def fetch_one(i, url):\n"
            "    answer = fetch_json(url)\n"
            "    with done:\n"
            "        results[i] = answer\n"
            "        done.notify()\n"
            "\n"
            "for i, url in enumerate(urls):\n"
            "    _thread.start_new_thread(fetch_one, (i, url))\n"
            "with done:\n"
            "    done.wait_for(lambda: len(results) == len(urls))\n"
            "return [results[i] for i in range(len(urls))]",
            head="import _thread\n",
        ),
    ),
    Alternative(
        "fetch-all-solution",
        "threads put (index, answer) on a queue; sorted at the end",
        fetch_all(
            "answers = queue.Queue()\n"
            "threads = [\n"
            "    threading.Thread(\n"
            "        target=lambda i, u: answers.put((i, fetch_json(u))), args=(i, url)\n"
            "    )\n"
            "    for i, url in enumerate(urls)\n"
            "]\n"
            "for t in threads:\n"
            "    t.start()\n"
            "for t in threads:\n"
            "    t.join()\n"
            "return [answer for _, answer in sorted(answers.get() for _ in urls)]",
            head="import queue\n",
        ),
    ),
]
