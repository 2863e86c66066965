from . import Mutant

ASSIGNMENT = "01-os-processes-threads"

CLASSIFY = """
import time


def classify(func, *args):
{body}
"""


def classify(body: str) -> str:
    return CLASSIFY.format(body="\n".join("    " + ln for ln in body.strip("\n").splitlines()))


def finish_times(body: str) -> str:
    lines = "\n".join("    " + ln for ln in body.strip("\n").splitlines())
    return f"def finish_times(durations, cores):\n{lines}\n"


MUTANTS = [
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
    Mutant(
        "finish-times-solution",
        "ignores the cores: one after another",
        finish_times(
            "out, now = [], 0\nfor d in durations:\n    now += d\n    out.append(now)\nreturn out"
        ),
        ("finish-times-tests",),
        expect="2 CPUs: expected [3, 1, 3]",
    ),
    Mutant(
        "finish-times-solution",
        "every task gets its own CPU",
        finish_times("return list(durations)"),
        ("finish-times-tests",),
        expect="1 CPU: expected [3, 4, 6]",
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
        expect="2 CPUs: expected [3, 1, 3]",
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
        expect="2 CPUs: expected [3, 1, 3]",
    ),
]
