"""The command line of classgrade: `python -m course.classgrade collect|autograde|report`.

`autograde` runs stock nbgrader's `autograde ASSIGNMENT --student STUDENT --force` per
submission, `--workers` at a time on this machine (or one Dask task each with `--cluster`),
each in its own process group with a time limit, and prints a progress line on stderr and a
summary of failures (timeouts, nbgrader's ERROR lines). See docs/ta-guide.md.
"""

import argparse
import os
import sys
from pathlib import Path

from course.classgrade.base import DEMO_TIME_SCALE
from course.classgrade.collect import collect
from course.classgrade.jobs import summary
from course.classgrade.local import autograde
from course.classgrade.report import pass_rate_table, report


def parser() -> argparse.ArgumentParser:
    """The command line of `python -m course.classgrade`.

    >>> args = parser().parse_args(["autograde", "05-locks", "--workers", "3"])
    >>> args.assignments, args.workers, args.time_limit, args.cluster
    (['05-locks'], 3, 600.0, None)
    """
    p = argparse.ArgumentParser(
        prog="python -m course.classgrade",
        description="Grade a whole class with stock nbgrader: collect, autograde, report.",
    )
    sub = p.add_subparsers(dest="command", required=True)

    g = sub.add_parser("autograde", help="autograde every submitted/<student>/<assignment>/")
    g.add_argument("assignments", nargs="+", metavar="ASSIGNMENT")
    g.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="default: cores")
    g.add_argument(
        "--time-limit", type=float, default=600.0, help="seconds per submission (default 600)"
    )
    db_help = "gradebook URL (default: nbgrader_config.py's db_url, else gradebook.db)"
    g.add_argument("--db-url", help=db_help)
    g.add_argument(
        "--busy-timeout", type=float, default=60.0, help="SQLite busy timeout, s (default 60)"
    )
    g.add_argument(
        "--cluster",
        metavar="tcp://HOST:8786",
        help="grade on this Dask scheduler's workers (pip install '.[cluster]')",
    )
    g.add_argument(
        "--demo-time-scale",
        default=DEMO_TIME_SCALE,
        help=f"speed of the demos' pauses in grading kernels (default {DEMO_TIME_SCALE}; 1: real)",
    )

    c = sub.add_parser("collect", help="unpack an LMS zip into submitted/ (nbgrader zip_collect)")
    c.add_argument("assignment", metavar="ASSIGNMENT")
    c.add_argument("archive", type=Path)

    r = sub.add_parser("report", help="grades.csv, pass rates, failure messages, one PNG")
    r.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all")
    r.add_argument("--out", type=Path, default=Path("reports"))
    r.add_argument("--db-url", help=db_help)
    return p


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand from the course root; the exit status is 1 if anything failed."""
    args = parser().parse_args(argv)
    root = Path.cwd()
    if not (root / "nbgrader_config.py").exists():
        print(
            "classgrade: run this from the course root (where nbgrader_config.py is)",
            file=sys.stderr,
        )
        return 2
    if args.command == "autograde":
        options = dict(
            time_limit=args.time_limit,
            db_url=args.db_url,
            busy_timeout=args.busy_timeout,
            demo_time_scale=args.demo_time_scale,
        )
        if args.cluster:
            from course.classgrade.cluster import autograde_on_cluster

            jobs = autograde_on_cluster(root, args.assignments, args.cluster, **options)
        else:
            jobs = autograde(root, args.assignments, workers=args.workers, **options)
        if not jobs:
            print("classgrade: no submissions found under submitted/", file=sys.stderr)
            return 1
        print(summary(jobs), file=sys.stderr)
        return 1 if any(j.failed for j in jobs) else 0
    if args.command == "collect":
        style, done, placed = collect(root, args.assignment, args.archive)
        if done.returncode != 0:
            print(done.stdout + done.stderr, file=sys.stderr)
            return 1
        print(f"classgrade: {len(placed)} submissions of {args.assignment} ({style} convention)")
        for student, files in sorted(placed.items()):
            print(f"  submitted/{student}/{args.assignment}/: {', '.join(files)}")
        return 0
    data, exported, files = report(root, args.assignments or None, args.out, args.db_url)
    print(pass_rate_table(data))
    if exported.returncode != 0:
        print(exported.stdout + exported.stderr, file=sys.stderr)
    print(
        "\nwritten: "
        + ", ".join(str(f.relative_to(root)) if f.is_relative_to(root) else str(f) for f in files)
    )
    return 0 if exported.returncode == 0 else 1
