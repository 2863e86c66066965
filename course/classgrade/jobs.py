"""Submissions as jobs: finding them, judging nbgrader's output, the progress line, the summary.

Shared by local and cluster grading; imports nothing else of classgrade.

>>> job = Job("05-locks", "ann")
>>> judge(job, "[AutogradeApp | INFO] done", returncode=0, timed_out=False, time_limit=60)
>>> job.failed
False
"""

import re
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

GRADEBOOK_ERRORS = re.compile(r"database is locked|IntegrityError|OperationalError", re.I)
ERROR_LINE = re.compile(r"\|\s*ERROR\]\s*(.*)")
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Exit)\w*): (.+)$")


@dataclass
class Job:
    """One submission to autograde: `submitted/<student>/<assignment>/`.

    >>> Job("05-locks", "ann", reasons=["timeout"]).failed
    True
    """

    assignment: str
    student: str
    seconds: float = 0.0
    returncode: int | None = None
    timed_out: bool = False
    output: str = ""
    reasons: list[str] = field(default_factory=list)
    worker: str = ""  # where it was graded: "local", or a Dask worker's address
    attempts: int = 0  # cluster: times a worker started it (a dead worker's task is retried)

    @property
    def failed(self) -> bool:
        """True if the submission was not graded cleanly (`reasons` says why)."""
        return bool(self.reasons)


def find_jobs(root: Path, assignments: list[str]) -> list[Job]:
    """Every `submitted/<student>/<assignment>/` folder under `root`, assignment by assignment.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for st in ("bob", "alice"):
    ...     (root / "submitted" / st / "05-locks").mkdir(parents=True)
    >>> [(j.assignment, j.student) for j in find_jobs(root, ["05-locks", "06-deadlock-rlock"])]
    [('05-locks', 'alice'), ('05-locks', 'bob')]
    """
    submitted = Path(root) / "submitted"
    jobs = []
    for a in assignments:
        students = sorted(p.parent.name for p in submitted.glob(f"*/{a}") if p.is_dir())
        jobs += [Job(a, st) for st in students if not st.startswith(".")]
    return jobs


def failure_reasons(output: str) -> list[str]:
    """nbgrader's ERROR lines and the exceptions named in its output, de-duplicated.

    >>> failure_reasons('''[AutogradeApp | ERROR] There was an error processing assignment
    ... nbformat.reader.NotJSONError: Notebook does not appear to be JSON: '{"cells": ['
    ... [AutogradeApp | ERROR] There was an error processing assignment''')[:2]
    ['There was an error processing assignment', 'NotJSONError: Notebook does not appear to be JSON: \\'{"cells": [\\'']
    """  # noqa: E501
    found: list[str] = []
    for line in output.splitlines():
        line = line.strip()
        m = ERROR_LINE.search(line) or EXCEPTION_LINE.match(line)
        if not m:
            continue
        text = m.group(1) if m.re is ERROR_LINE else f"{m.group(1)}: {m.group(2)}"
        text = text[:200]
        if text and text not in found:
            found.append(text)
    return found


def judge(job: Job, output: str, returncode: int | None, timed_out: bool, time_limit: float):
    """Record one nbgrader run's outcome in `job`: a timeout, a gradebook error, a failure.

    >>> job = Job("05-locks", "bo")
    >>> judge(job, "", returncode=-9, timed_out=True, time_limit=60)
    >>> job.reasons
    ['timeout: killed after the 60 s time limit']
    """
    job.returncode, job.output, job.timed_out = returncode, output, timed_out
    if timed_out:
        job.reasons.append(f"timeout: killed after the {time_limit:g} s time limit")
    for line in output.splitlines():
        if GRADEBOOK_ERRORS.search(line):
            job.reasons.append(f"gradebook error: {line.strip()[:200]}")
            break
    if not timed_out and returncode != 0:
        job.reasons += failure_reasons(output) or [f"nbgrader exited with status {returncode}"]


class Progress:
    """The one-line progress report on stderr: done / failed / running / remaining, ETA.

    >>> import io
    >>> p = Progress(2, workers=1, stream=io.StringIO())
    >>> p.started(); p.finished(Job("05-locks", "ann"))
    >>> p.stream.getvalue()
    'classgrade: 1/2 done, 0 failed, 0 running, 1 remaining, ETA 0:00\\n'
    """

    def __init__(self, total: int, workers: int, stream=None):
        self.total, self.workers = total, workers
        self.stream = stream or sys.stderr
        self.done = self.failed = self.running = 0
        self.busy_seconds = 0.0
        self.start = time.perf_counter()
        self.lock = threading.Lock()
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def line(self) -> str:
        """The current progress line."""
        remaining = self.total - self.done
        if self.done:
            per_job = (time.perf_counter() - self.start) / self.done
            eta = f"ETA {_clock(per_job * remaining)}"
        else:
            eta = "ETA --:--"
        return (
            f"classgrade: {self.done}/{self.total} done, {self.failed} failed, "
            f"{self.running} running, {remaining} remaining, {eta}"
        )

    def started(self) -> None:
        """A job started running."""
        with self.lock:
            self.running += 1

    def finished(self, job: Job) -> None:
        """`job` ended (graded or failed): count it and print the line."""
        with self.lock:
            self.running -= 1
            self.done += 1
            self.failed += job.failed
            self.busy_seconds += job.seconds
            end = "\r" if self.tty and self.done < self.total else "\n"
            self.stream.write(self.line() + end)
            self.stream.flush()


def _clock(seconds: float) -> str:
    """m:ss, e.g. _clock(75) == '1:15'."""
    seconds = int(round(seconds))
    return f"{seconds // 60}:{seconds % 60:02d}"


def summary(jobs: list[Job]) -> str:
    """The end-of-run report: counts, then one block per failed submission with its reasons.

    >>> print(summary([Job("05-locks", "ann"), Job("05-locks", "bo", reasons=["timeout"])]))
    classgrade: 2 submissions, 1 graded, 1 failed
    failed submissions:
      05-locks / bo: timeout
    """
    failed = [j for j in jobs if j.failed]
    lines = [
        f"classgrade: {len(jobs)} submissions, {len(jobs) - len(failed)} graded, "
        f"{len(failed)} failed"
    ]
    if failed:
        lines.append("failed submissions:")
        for j in failed:
            lines.append(f"  {j.assignment} / {j.student}: {j.reasons[0]}")
            lines += [f"      {r}" for r in j.reasons[1:4]]
    return "\n".join(lines)
