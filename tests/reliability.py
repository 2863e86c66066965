"""Autograde every assignment's whole corpus, many times, and print what happened to each case.

    python -m tests.reliability          # 20 copies of reference and mutants, every assignment
    python -m tests.reliability --copies 2 05-locks

Each assignment is graded in its own temporary course (own gradebook), with `--workers`
assignments at a time. Reference and mutant submissions are graded `--copies` times each (as
separate students) in one `nbgrader autograde` run; every adversarial case is graded on its own
(`nbgrader autograde --student`) so its time can be reported. Exit status 1 if any outcome
differs from the one the corpus expects.
"""

import argparse
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course.syllabus import NAMES, notebook_path
from tests.corpus import check, corpus, submit_all
from tests.nbgrader_harness import ROOT, GradingRun, nbgrader


def grade_assignment(name: str, copies: int, workdir: Path) -> list[dict]:
    """Rows {assignment, kind, case, runs, ok, seconds, problem} for one assignment."""
    run = GradingRun(workdir / name, name)
    subs = corpus(run)
    repeated = [s for s in subs if s.kind in ("reference", "mutant")]
    once = [s for s in subs if s.kind not in ("reference", "mutant")]
    placed = submit_all(run, repeated, copies=copies)
    start = time.perf_counter()
    run.autograde()
    bulk_seconds = (time.perf_counter() - start) / max(1, len(placed))
    rows = []
    for sub in repeated:
        students = [st for st, s in placed.items() if s is sub]
        problems = [p for p in (check(run, st, sub) for st in students) if p]
        rows.append(
            dict(
                assignment=name,
                kind=sub.kind,
                case=sub.name,
                runs=len(students),
                ok=len(students) - len(problems),
                seconds=bulk_seconds,
                problem=problems[0] if problems else "",
            )
        )
    for sub in once:
        submit_all(run, [sub])
        start = time.perf_counter()
        run.result = nbgrader(["autograde", name, "--force", "--student", sub.student], run.root)
        seconds = time.perf_counter() - start
        problem = check(run, sub.student, sub)
        rows.append(
            dict(
                assignment=name,
                kind=sub.kind,
                case=sub.name,
                runs=1,
                ok=0 if problem else 1,
                seconds=seconds,
                problem=problem,
            )
        )
    return rows


def print_table(rows: list[dict]) -> None:
    print(f"{'assignment':22} {'kind':11} {'case':52} {'ok/runs':>8} {'s/run':>6}  problem")
    for r in rows:
        rate = f"{r['ok']}/{r['runs']}"
        case = r["case"][:52]
        seconds = f"{r['seconds']:6.1f}"
        print(f"{r['assignment']:22} {r['kind']:11} {case:52} {rate:>8} {seconds}  {r['problem']}")
    bad = [r for r in rows if r["ok"] != r["runs"]]
    total = sum(r["runs"] for r in rows)
    print(
        f"\n{total - sum(r['runs'] - r['ok'] for r in rows)} of {total} gradings as expected; "
        f"{len(bad)} case(s) with a wrong outcome"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment with a source")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    names = args.assignments or [n for n in NAMES if (ROOT / notebook_path(n)).exists()]
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        with ThreadPoolExecutor(args.workers) as pool:
            results = pool.map(lambda n: grade_assignment(n, args.copies, Path(tmp)), names)
            rows = [row for rows in results for row in rows]
    print_table(rows)
    return 0 if all(r["ok"] == r["runs"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
