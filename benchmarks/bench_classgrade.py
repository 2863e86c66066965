"""Cost per submission: stock `nbgrader autograde` vs `classgrade` local, measured in one run.

    python benchmarks/bench_classgrade.py                       # 2 students x all assignments
    python benchmarks/bench_classgrade.py --students 40          # the 2-workers speed-up at scale
    python benchmarks/bench_classgrade.py --assignments 05-locks --students 4

One synthetic class (tests/support/synthetic_class.py) is copied into identical courses and
graded three ways:

* stock: one stock `python -m nbgrader autograde A --student S --force` per submission,
  one after the other (what classgrade did before its warm fork server);
* classgrade `--workers 1` and `--workers 2` (a warm nbgrader forks a child per submission;
  the demos' pauses scaled by COURSE_DEMO_TIME_SCALE).

It prints seconds per submission and per whole-course student (all of a student's notebooks)
for each, the start-up share per submission (an autograde of a student with no submission:
everything but grading, stock vs a forked child), the 2-vs-1 speed-up, and whether every run's
grades (Gradebook API) are identical. The machine may be shared: the load average is printed,
and ratios from one run are what this script is for.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from course.classgrade.base import nbgrader_env  # noqa: E402
from course.classgrade.forkserver import ForkServer  # noqa: E402
from course.classgrade.gradebook import read_scores  # noqa: E402
from course.classgrade.jobs import find_jobs  # noqa: E402
from course.classgrade.local import autograde_argv  # noqa: E402
from tests.support import synthetic_class  # noqa: E402


def stock(root: Path, names: list[str]) -> tuple[float, list[str]]:
    """Every submission graded by its own stock nbgrader process, serially."""
    url = f"sqlite:///{root / 'gradebook.db'}"
    failed = []
    start = time.perf_counter()
    for job in find_jobs(root, names):
        cmd = [sys.executable, "-m", "nbgrader", *autograde_argv(job.assignment, job.student, url)]
        done = subprocess.run(cmd, cwd=root, env=nbgrader_env(), capture_output=True, text=True)
        if done.returncode:
            failed.append(f"{job.assignment}/{job.student}")
    return time.perf_counter() - start, failed


def classgrade(root: Path, names: list[str], workers: int) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "course.classgrade", "autograde", *names]
    cmd += ["--workers", str(workers)]
    env = nbgrader_env(PYTHONPATH=str(ROOT))
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done.stderr


def startup(root: Path, assignment: str, repeat: int = 3) -> tuple[float, float]:
    """Median seconds of an autograde that grades nothing (a student without a submission):
    a stock nbgrader process vs a child of the warm server."""
    argv = autograde_argv(assignment, "nobody", f"sqlite:///{root / 'gradebook.db'}")
    cold = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "nbgrader", *argv], cwd=root, env=nbgrader_env(),
            capture_output=True,
        )  # fmt: skip
        cold.append(time.perf_counter() - start)
    warm = []
    with ForkServer() as server, tempfile.TemporaryDirectory() as logs:
        for _ in range(repeat):
            start = time.perf_counter()
            server.run(argv, root, Path(logs) / "log", time_limit=120)
            warm.append(time.perf_counter() - start)
    return statistics.median(cold), statistics.median(warm)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=2)
    parser.add_argument("--assignments", nargs="*", help="default: every assignment in source/")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-stock", action="store_true", help="skip the stock serial run")
    args = parser.parse_args()
    names = args.assignments or synthetic_class.available_assignments()

    with tempfile.TemporaryDirectory(prefix="bench-classgrade-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        course = synthetic_class.build_class(tmp / "base", args.students, names, args.seed)
        n = args.students * len(names)
        print(f"built {args.students} students x {len(names)} assignments = {n} submissions "
              f"in {time.perf_counter() - start:.0f} s", flush=True)  # fmt: skip
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        cold, warm = startup(course.root, names[0])
        print(f"start-up per submission (autograde of nothing): stock {cold:.2f} s, "
              f"classgrade {warm:.2f} s", flush=True)  # fmt: skip
        runs = ([] if args.no_stock else ["stock"]) + ["workers=1", "workers=2"]
        seconds, grades = {}, {}
        for run in runs:
            root = tmp / run
            shutil.copytree(course.root, root)
            if run == "stock":
                seconds[run], failed = stock(root, names)
                last = f"{len(failed)} failed {failed[:5]}"
            else:
                seconds[run], log = classgrade(root, names, int(run[-1]))
                last = log.strip().splitlines()[-1] if log.strip() else ""
                for bad in ("database is locked", "IntegrityError", "OperationalError"):
                    if bad in log:
                        print(f"  GRADEBOOK ERROR in {run}: {bad}")
            grades[run] = read_scores(f"sqlite:///{root / 'gradebook.db'}", names)
            print(f"{run:>9}: {seconds[run]:7.1f} s, {seconds[run] / n:5.1f} s per submission, "
                  f"{seconds[run] / args.students:6.1f} s per whole-course student  ({last})",
                  flush=True)  # fmt: skip
        print(f"load average after:  {os.getloadavg()[0]:.2f}")
        print(f"\nstart-up share per submission: stock {cold:.2f} s, classgrade {warm:.2f} s")
        if "stock" in seconds:
            print(
                f"classgrade --workers 1 vs stock: {seconds['stock'] / seconds['workers=1']:.2f}x"
            )
        print(f"classgrade 2 workers vs 1: {seconds['workers=1'] / seconds['workers=2']:.2f}x")
        expected = {(a, st): course.expected[st][a] for st in course.students for a in names}
        for run in runs:
            same = "identical to" if grades[run] == grades[runs[0]] else "DIFFER from"
            corpus = "as" if grades[run] == expected else "NOT as"
            print(f"grades of {run}: {same} {runs[0]}; {corpus} the corpus expects")
    return 0


if __name__ == "__main__":
    sys.exit(main())
