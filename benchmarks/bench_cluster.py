"""classgrade on a Dask cluster vs `--workers 2` locally, same class, measured in one run.

    python benchmarks/bench_cluster.py                    # 4 students x 2 assignments
    python benchmarks/bench_cluster.py --students 8 --assignments 05-locks

One synthetic class (tests/support/synthetic_class.py) is copied into two identical courses:
one is graded by `python -m course.classgrade autograde --workers 2`, the other by
`--cluster` against a `distributed.LocalCluster` of two single-threaded worker processes
started here (the same cores: on this machine the cluster cannot be faster, so what is printed
is its overhead per task: shipping files and scores, the scratch course, the scheduler).
Needs `pip install -e '.[cluster]'`.
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

from course.classgrade.base import nbgrader_env  # noqa: E402
from course.classgrade.gradebook import read_scores  # noqa: E402
from tests.support import synthetic_class  # noqa: E402


def classgrade(root: Path, names: list[str], *options: str) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "course.classgrade", "autograde", *names, *options]
    start = time.perf_counter()
    done = subprocess.run(
        cmd, cwd=root, capture_output=True, text=True, env=nbgrader_env(PYTHONPATH=str(ROOT))
    )
    return time.perf_counter() - start, done.stderr


def main() -> int:
    from distributed import LocalCluster

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=4)
    parser.add_argument("--assignments", nargs="*", default=["01-os-processes-threads", "05-locks"])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    names = args.assignments
    n = args.students * len(names)
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as tmp:
        tmp = Path(tmp)
        course = synthetic_class.build_class(tmp / "base", args.students, names, args.seed)
        print(f"{args.students} students x {len(names)} assignments = {n} submissions")
        print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
        seconds, grades = {}, {}
        with LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            for run in ("local --workers 2", "cluster (2 worker processes)"):
                root = tmp / run.split()[0]
                shutil.copytree(course.root, root)
                if run.startswith("local"):
                    seconds[run], log = classgrade(root, names, "--workers", "2")
                else:
                    seconds[run], log = classgrade(
                        root, names, "--cluster", cluster.scheduler_address
                    )
                grades[run] = read_scores(f"sqlite:///{root / 'gradebook.db'}", names)
                last = log.strip().splitlines()[-1] if log.strip() else ""
                print(f"{run:>28}: {seconds[run]:6.1f} s, {seconds[run] / n:5.1f} s per "
                      f"submission  ({last})", flush=True)  # fmt: skip
        print(f"load average after:  {os.getloadavg()[0]:.2f}")
        local, remote = seconds.values()
        print(f"\ncluster vs local --workers 2: {remote / local:.2f}x the time; overhead per "
              f"task {(remote - local) / n:+.2f} s (2 tasks at a time in both)")  # fmt: skip
        expected = {(a, st): course.expected[st][a] for st in course.students for a in names}
        a, b = grades.values()
        print(f"grades: {'identical' if a == b else 'DIFFERENT'}; "
              f"{'as' if a == expected else 'NOT as'} the corpus expects")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
