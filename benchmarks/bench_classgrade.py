"""Speed-up of `python -m course.classgrade autograde` with 2 workers over 1, measured in one run.

    python benchmarks/bench_classgrade.py                      # 8 students x 2 assignments
    python benchmarks/bench_classgrade.py --students 40 --all  # the issue's full acceptance
    python benchmarks/bench_classgrade.py --stock              # also stock serial nbgrader

One synthetic class (tests/synthetic_class.py) is copied into identical courses, graded with
`--workers 1` and `--workers 2` (and, with --stock, by one stock `nbgrader autograde ASSIGNMENT`
per assignment), and the grades of every run are compared through the Gradebook API. The load
average is printed before and after, since the machine may be shared: ratios from one run are
what this script is for, not absolute times.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests import synthetic_class  # noqa: E402
from tests.nbgrader_harness import nbgrader  # noqa: E402
from tests.test_classgrade import read_grades  # noqa: E402


def classgrade(root: Path, assignments: list[str], workers: int) -> tuple[float, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "course.classgrade", "autograde", *assignments]
    cmd += ["--workers", str(workers)]
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=env)
    return time.perf_counter() - start, done.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=8)
    parser.add_argument("--assignments", nargs="*", default=["01-os-processes-threads", "05-locks"])
    parser.add_argument("--all", action="store_true", help="every assignment in source/")
    parser.add_argument("--stock", action="store_true", help="also time stock serial nbgrader")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = synthetic_class.available_assignments() if args.all else args.assignments

    with tempfile.TemporaryDirectory(prefix="bench-classgrade-") as tmp:
        tmp = Path(tmp)
        start = time.perf_counter()
        course = synthetic_class.build_class(tmp / "base", args.students, names, args.seed)
        print(
            f"built {args.students} students x {len(names)} assignments "
            f"in {time.perf_counter() - start:.0f} s",
            flush=True,
        )
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        results, grades = {}, {}
        runs = [1, 2] + (["stock"] if args.stock else [])
        for run in runs:
            root = tmp / f"run-{run}"
            shutil.copytree(course.root, root)
            if run == "stock":
                start = time.perf_counter()
                for a in names:
                    nbgrader(["autograde", a, "--force"], root)
                seconds, log = time.perf_counter() - start, ""
            else:
                seconds, log = classgrade(root, names, run)
            results[run], grades[run] = seconds, read_grades(root, names)
            last = log.strip().splitlines()[-1] if log.strip() else ""
            print(f"workers={run}: {seconds:6.1f} s  {last}", flush=True)
            for bad in ("database is locked", "IntegrityError", "OperationalError"):
                if bad in log:
                    print(f"  GRADEBOOK ERROR in run {run}: {bad}")
        print(f"load average after:  {os.getloadavg()[0]:.2f}")
        n = args.students * len(names)
        print(f"\n{n} submissions; speed-up 2 workers vs 1: {results[1] / results[2]:.2f}x")
        if "stock" in results:
            print(
                f"speed-up 2 workers vs stock serial nbgrader: {results['stock'] / results[2]:.2f}x"
            )
        expected = {(a, st): course.expected[st][a] for st in course.students for a in names}
        for run in runs:
            same = grades[run] == grades[1]
            print(
                f"grades of run {run}: {'equal to' if same else 'DIFFER from'} workers=1; "
                f"{'as' if grades[run] == expected else 'NOT as'} the corpus expects"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
