from . import Alternative, Mutant

ASSIGNMENT = "01-os-processes-threads"

CLASSIFY = """
import time


def classify(func, *args):
{body}
"""


def classify(body: str) -> str:
    return CLASSIFY.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


def finish_times(body: str, head: str = "") -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return f"{head}def finish_times(durations, cores):\n{lines}\n"


VISIBLE_ANSWERS = (
    "known = {((3, 1, 2), 1): [3, 4, 6], ((3, 1, 2), 2): [3, 1, 3],\n"
    "         ((2, 2), 4): [2, 2], ((), 2): []}\n"
)

MUTANTS = [
    # ---------------------------------------------------------------- classify: mistakes
    Mutant(
        "classify-solution",
        "slow means CPU-bound (wall time only)",
        classify(
            "start = time.perf_counter()\n"
            "func(*args)\n"
            'return "CPU-bound" if time.perf_counter() - start > 0.1 else "IO-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
    ),
    Mutant(
        "classify-solution",
        "measures CPU time with perf_counter",
        classify(
            "wall, cpu = time.perf_counter(), time.perf_counter()\n"
            "func(*args)\n"
            "wall, cpu = time.perf_counter() - wall, time.perf_counter() - cpu\n"
            'return "CPU-bound" if cpu >= 0.05 * wall else "IO-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
    ),
    Mutant(
        "classify-solution",
        "labels swapped",
        classify(
            "wall, cpu = time.perf_counter(), time.thread_time()\n"
            "func(*args)\n"
            "wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu\n"
            'return "IO-bound" if cpu >= 0.05 * wall else "CPU-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
    ),
    Mutant(
        "classify-solution",
        "calls func after measuring",
        classify(
            "wall, cpu = time.perf_counter(), time.thread_time()\n"
            "wall, cpu = time.perf_counter() - wall, time.thread_time() - cpu\n"
            "func(*args)\n"
            'return "CPU-bound" if cpu >= 0.05 * wall else "IO-bound"'
        ),
        ("classify-tests",),
        expect="expected '",
    ),
    # ---------------------------------------------------------------- classify: cheats
    Mutant(
        "classify-solution",
        "decides by the function's name",
        classify(
            "func(*args)\n"
            'waiting = {"sleep", "fetch_json", "urlopen", "wait", "select", "get"}\n'
            'return "IO-bound" if getattr(func, "__name__", "") in waiting else "CPU-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
        kind="cheat",
    ),
    Mutant(
        "classify-solution",
        "decides by the arguments' types (a float or a URL means waiting)",
        classify(
            "func(*args)\n"
            'return "IO-bound" if any(isinstance(a, (float, str)) for a in args) else "CPU-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
        kind="cheat",
    ),
    Mutant(
        "classify-solution",
        "decides by the names the function's code uses",
        classify(
            "func(*args)\n"
            'code = getattr(func, "__code__", None)\n'
            "if code is None:  # a builtin such as time.sleep\n"
            '    return "IO-bound"\n'
            'waits = {"sleep", "wait", "select", "urlopen", "fetch_json", "recv"}\n'
            'return "IO-bound" if waits & set(code.co_names) else "CPU-bound"'
        ),
        ("classify-tests",),
        expect="expected 'IO-bound', got 'CPU-bound'",
        kind="cheat",
    ),
    # ---------------------------------------------------------------- finish_times: mistakes
    Mutant(
        "finish-times-solution",
        "ignores the cores: one after another",
        finish_times(
            "out, now = [], 0\nfor d in durations:\n    now += d\n    out.append(now)\nreturn out"
        ),
        ("finish-times-tests",),
        expect="with 2 CPUs: expected [3, 1, 3]",
    ),
    Mutant(
        "finish-times-solution",
        "every task gets its own CPU",
        finish_times("return list(durations)"),
        ("finish-times-tests",),
        expect="with 1 CPU: expected [3, 4, 6]",
    ),
    Mutant(
        "finish-times-solution",
        "task i always goes to CPU i % cores",
        finish_times(
            "free_at = [0] * cores\n"
            "out = []\n"
            "for i, d in enumerate(durations):\n"
            "    free_at[i % cores] += d\n"
            "    out.append(free_at[i % cores])\n"
            "return out"
        ),
        ("finish-times-tests",),
        expect="with 2 CPUs: expected [3, 1, 3]",
    ),
    Mutant(
        "finish-times-solution",
        "finish times in completion order",
        finish_times(
            "free_at = [0] * cores\n"
            "out = []\n"
            "for d in durations:\n"
            "    cpu = free_at.index(min(free_at))\n"
            "    free_at[cpu] += d\n"
            "    out.append(free_at[cpu])\n"
            "return sorted(out)"
        ),
        ("finish-times-tests",),
        expect="with 2 CPUs: expected [3, 1, 3]",
    ),
    # ---------------------------------------------------------------- finish_times: cheats
    Mutant(
        "finish-times-solution",
        "the visible examples' answers, hard-coded",
        finish_times(
            VISIBLE_ANSWERS + "return known.get((tuple(durations), cores), list(durations))"
        ),
        ("finish-times-tests",),
        expect="expected [",
        kind="cheat",
    ),
    Mutant(
        "finish-times-solution",
        "reads the expected answer from the test's frames and globals",
        finish_times(
            "frame = sys._getframe(1)\n"
            "while frame is not None:\n"
            "    for scope in (frame.f_locals, frame.f_globals):\n"
            '        for name in ("expected", "_want", "_expected", "_reference", "_answers"):\n'
            "            value = scope.get(name)\n"
            "            if callable(value):\n"
            "                return value(durations, cores)\n"
            "            if isinstance(value, list):\n"
            "                return value\n"
            "    frame = frame.f_back\n"
            "return list(durations)",
            head="import sys\n\n\n",
        ),
        ("finish-times-tests",),
        expect="expected [",
        kind="cheat",
    ),
]

ALTERNATIVES = [
    Alternative(
        "classify-solution",
        "nanosecond clocks, measured in try/finally, integer comparison",
        classify(
            "wall0, cpu0 = time.perf_counter_ns(), time.thread_time_ns()\n"
            "try:\n"
            "    func(*args)\n"
            "finally:\n"
            "    wall = time.perf_counter_ns() - wall0\n"
            "    cpu = time.thread_time_ns() - cpu0\n"
            'return "CPU-bound" if cpu * 20 >= wall else "IO-bound"'
        ),
    ),
    Alternative(
        "classify-solution",
        "clock_gettime(CLOCK_THREAD_CPUTIME_ID) and monotonic, as a share",
        classify(
            "def thread_cpu():\n"
            "    return time.clock_gettime(time.CLOCK_THREAD_CPUTIME_ID)\n"
            "\n"
            "before = (time.monotonic(), thread_cpu())\n"
            "func(*args)\n"
            "wall, cpu = time.monotonic() - before[0], thread_cpu() - before[1]\n"
            "share = cpu / wall if wall > 0 else 1.0\n"
            'return ("IO-bound", "CPU-bound")[share >= 0.05]'
        ),
    ),
    Alternative(
        "finish-times-solution",
        "a heap of (free at, cpu)",
        finish_times(
            "free = [(0, cpu) for cpu in range(cores)]\n"
            "out = []\n"
            "for d in durations:\n"
            "    t, cpu = heapq.heappop(free)\n"
            "    out.append(t + d)\n"
            "    heapq.heappush(free, (t + d, cpu))\n"
            "return out",
            head="import heapq\n\n\n",
        ),
    ),
    Alternative(
        "finish-times-solution",
        "an event-driven simulation of the CPUs",
        finish_times(
            "queue = list(enumerate(durations))\n"
            "running = {}  # cpu -> (task index, end time)\n"
            "done = [None] * len(durations)\n"
            "now = 0\n"
            "while queue or running:\n"
            "    for cpu in range(cores):\n"
            "        if cpu not in running and queue:\n"
            "            i, d = queue.pop(0)\n"
            "            running[cpu] = (i, now + d)\n"
            "    now = min(end for _, end in running.values())\n"
            "    for cpu, (i, end) in list(running.items()):\n"
            "        if end == now:\n"
            "            done[i] = end\n"
            "            del running[cpu]\n"
            "return done"
        ),
    ),
]
