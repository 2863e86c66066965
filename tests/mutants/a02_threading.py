from . import Mutant

ASSIGNMENT = "02-threading"

RESULT_THREAD = """
import threading


class ResultThread(threading.Thread):
{body}
"""


def result_thread(body: str) -> str:
    return RESULT_THREAD.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


FETCH_ALL = """
import threading


def fetch_all(urls):
{body}
"""


def fetch_all(body: str) -> str:
    return FETCH_ALL.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


MUTANTS = [
    Mutant(
        "result-thread-solution",
        "calls func in __init__",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    super().__init__()\n"
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
        result_thread(
            "def __init__(self, func, *args):\n"
            "    super().__init__()\n"
            "    self.func, self.args, self.result = func, args, None\n"
            "\n"
            "def start(self):\n"
            "    self.result = self.func(*self.args)"
        ),
        ("result-thread-tests",),
        expect="cannot join thread before it is started",
    ),
    Mutant(
        "result-thread-solution",
        "forgets super().__init__()",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    self.func, self.args, self.result = func, args, None\n"
            "\n"
            "def run(self):\n"
            "    self.result = self.func(*self.args)"
        ),
        ("result-thread-tests",),
        expect="__init__() not called",
    ),
    Mutant(
        "result-thread-solution",
        "run returns the value instead of storing it",
        result_thread(
            "def __init__(self, func, *args):\n"
            "    super().__init__()\n"
            "    self.func, self.args, self.result = func, args, None\n"
            "\n"
            "def run(self):\n"
            "    return self.func(*self.args)"
        ),
        ("result-thread-tests",),
        expect="should end with result 5",
    ),
    Mutant(
        "fetch-all-solution",
        "sequential, no threads",
        fetch_all("return [fetch_json(url) for url in urls]"),
        ("fetch-all-tests",),
        expect="one after another takes",
    ),
    Mutant(
        "fetch-all-solution",
        "starts and joins each thread in turn (sequential in disguise)",
        fetch_all(
            "results = [None] * len(urls)\n"
            "\n"
            "def fetch_one(i, url):\n"
            "    results[i] = fetch_json(url)\n"
            "\n"
            "for i, url in enumerate(urls):\n"
            "    t = threading.Thread(target=fetch_one, args=(i, url))\n"
            "    t.start()\n"
            "    t.join()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="Start all threads first, then join them",
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
        expect="must be in input order",
    ),
    Mutant(
        "fetch-all-solution",
        "forgets to join",
        fetch_all(
            "results = [None] * len(urls)\n"
            "\n"
            "def fetch_one(i, url):\n"
            "    results[i] = fetch_json(url)\n"
            "\n"
            "for i, url in enumerate(urls):\n"
            "    threading.Thread(target=fetch_one, args=(i, url)).start()\n"
            "return results"
        ),
        ("fetch-all-tests",),
        expect="join() each thread before returning",
    ),
]
