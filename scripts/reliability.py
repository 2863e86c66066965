"""Autograde every assignment's whole corpus, many times, and print what happened to each case.

    python scripts/reliability.py          # 20 copies of reference and mutants, every assignment
    python scripts/reliability.py --copies 2 05-locks

Each assignment is graded in its own temporary course (own gradebook), `--workers` assignments
at a time, each with `--jobs` submissions at a time through `course.classgrade` (one stock
`nbgrader autograde --student` per submission, so every case gets its own time). Reference,
mutant and alternative submissions are graded `--copies` times each, as separate students;
mutants are grouped as in the test suite (one submission carries a mutant of each exercise),
so a row names every
mutant it carries. Adversarial cases are graded once. Exit status 1 if any outcome differs from
the one the corpus expects.
"""

import argparse
import sys
import tempfile
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path
from statistics import mean

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from course.classgrade import autograde  # noqa: E402
from course.syllabus import NAMES, notebook_path  # noqa: E402
from tests.support.grading_run import ROOT, GradingRun  # noqa: E402
from tests.support.submission_corpus import check, corpus, submit_all  # noqa: E402


def grade_assignment(name: str, copies: int, jobs: int, workdir: Path) -> list[dict]:
    """Rows {assignment, kind, case, runs, ok, seconds, problem} for one assignment."""
    run = GradingRun(workdir / name, name)
    subs = corpus(run, group_mutants=True)
    placed = {}
    for sub in subs:
        repeated = sub.kind in ("reference", "mutant", "alternative")
        placed |= submit_all(run, [sub], copies=copies if repeated else 1)
    graded = {job.student: job for job in autograde(run.root, [name], workers=jobs)}
    by_case = defaultdict(list)
    for student, sub in placed.items():
        job = graded[student]
        by_case[id(sub)].append((check(run, student, sub, log=job.output), job.seconds))
    rows = []
    for sub in subs:
        results = by_case[id(sub)]
        problems = [p for p, _ in results if p]
        rows.append(
            dict(
                assignment=name,
                kind=sub.kind,
                case=sub.name,
                runs=len(results),
                ok=len(results) - len(problems),
                seconds=mean(s for _, s in results),
                problem=problems[0] if problems else "",
            )
        )
    return rows


HEADER = f"{'assignment':22} {'kind':11} {'case':60} {'ok/runs':>8} {'s/run':>6}  problem"


def table_rows(rows: list[dict]) -> str:
    lines = []
    for r in rows:
        rate = f"{r['ok']}/{r['runs']}"
        case, seconds = r["case"][:60], f"{r['seconds']:6.1f}"
        lines.append(
            f"{r['assignment']:22} {r['kind']:11} {case:60} {rate:>8} {seconds}  {r['problem']}"
        )
    return "\n".join(lines)


def totals(rows: list[dict]) -> str:
    bad = [r for r in rows if r["ok"] != r["runs"]]
    total = sum(r["runs"] for r in rows)
    ok = total - sum(r["runs"] - r["ok"] for r in rows)
    return f"{ok} of {total} gradings as expected; {len(bad)} case(s) with a wrong outcome"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*", help="default: every assignment with a source")
    parser.add_argument("--copies", type=int, default=20)
    parser.add_argument("--workers", type=int, default=2, help="assignments at a time")
    parser.add_argument("--jobs", type=int, default=2, help="submissions at a time, each")
    args = parser.parse_args(argv)
    names = args.assignments or [n for n in NAMES if (ROOT / notebook_path(n)).exists()]
    rows = []
    print(HEADER, flush=True)  # each assignment's rows as soon as it is graded
    with tempfile.TemporaryDirectory(prefix="reliability-") as tmp:
        with ThreadPoolExecutor(args.workers) as pool:
            futures = [
                pool.submit(grade_assignment, n, args.copies, args.jobs, Path(tmp)) for n in names
            ]
            for future in as_completed(futures):
                rows += future.result()
                print(table_rows(future.result()), flush=True)
    print("\n" + totals(rows))
    return 0 if all(r["ok"] == r["runs"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
