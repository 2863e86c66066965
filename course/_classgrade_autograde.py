"""Autograde a whole class in parallel with stock nbgrader, one submission per subprocess.

Design (why it is correct with the SQLite gradebook):

* Every job is one stock `nbgrader autograde ASSIGNMENT --student STUDENT --force`, so grading
  itself is exactly nbgrader's. Jobs never share a (student, assignment) pair.
* The only rows two jobs could both try to *create* are students (the assignment and its
  source cells already exist: `nbgrader generate_assignment` wrote them). So every student is
  created first, serially, through the Gradebook API; afterwards concurrent jobs only add or
  update rows that belong to their own submission.
* nbgrader commits after each gradebook write, so write transactions are short, and Python's
  sqlite3 begins a transaction only at the first write (no read-then-upgrade deadlock). A
  writer that finds the database locked waits for the SQLite busy timeout, which this module
  sets through `--CourseDirectory.db_url=sqlite:///...gradebook.db?timeout=SECONDS`.
* Each job's output is scanned for "database is locked", IntegrityError and OperationalError;
  any hit is reported as a failure, never hidden.

A per-submission time limit kills the job's whole process tree. jupyter_client starts every
kernel in a new session (its own process group), so killing nbgrader's process group alone would
leave the kernel running: the kill collects every descendant first, then kills their groups.
"""

import os
import re
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import psutil

GRADEBOOK_ERRORS = re.compile(r"database is locked|IntegrityError|OperationalError", re.I)
ERROR_LINE = re.compile(r"\|\s*ERROR\]\s*(.*)")
EXCEPTION_LINE = re.compile(r"^(?:[\w.]+\.)?(\w*(?:Error|Exception|Exit)\w*): (.+)$")


@dataclass
class Job:
    """One submission to autograde: `submitted/<student>/<assignment>/`."""

    assignment: str
    student: str
    seconds: float = 0.0
    returncode: int | None = None
    timed_out: bool = False
    output: str = ""
    reasons: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
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


def sqlite_url(db_url: str, busy_timeout: float) -> str:
    """`db_url` with a SQLite busy timeout added (other databases are returned unchanged).

    >>> sqlite_url("sqlite:////course/gradebook.db", 60)
    'sqlite:////course/gradebook.db?timeout=60'
    >>> sqlite_url("sqlite:////course/gradebook.db?timeout=5", 60)
    'sqlite:////course/gradebook.db?timeout=5'
    >>> sqlite_url("postgresql://ta@localhost/gradebook", 60)
    'postgresql://ta@localhost/gradebook'
    """
    if not db_url.startswith("sqlite") or "timeout=" in db_url:
        return db_url
    return f"{db_url}{'&' if urlsplit(db_url).query else '?'}timeout={busy_timeout:g}"


def course_setting(root: Path, name: str, default: str) -> str:
    """`CourseDirectory.<name>` as the course's nbgrader_config.py sets it, else `default`."""
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(root) / "nbgrader_config.py"
    if not path.exists():
        return default
    cfg = PyFileConfigLoader(path.name, str(path.parent)).load_config()
    return cfg.CourseDirectory.get(name, default)


def course_id(root: Path) -> str:
    """The `CourseDirectory.course_id` that the course's nbgrader_config.py sets."""
    return course_setting(root, "course_id", "default_course")


def default_db_url(root: Path) -> str:
    """The gradebook every nbgrader command of the course uses: the config's `db_url`, if it
    sets one (a PostgreSQL server, say), else `gradebook.db` in the course root."""
    return course_setting(root, "db_url", f"sqlite:///{Path(root) / 'gradebook.db'}")


def prepare_gradebook(db_url: str, root: Path, jobs: list[Job]) -> list[Job]:
    """Create the students of `jobs` serially; return the jobs whose assignment is unknown.

    Concurrent autogrades would otherwise race to insert the same student (IntegrityError).
    """
    from nbgrader.api import Gradebook

    missing = []
    with Gradebook(db_url, course_id(root)) as gb:
        known = {a.name for a in gb.assignments}
        existing = {s.id for s in gb.students}
        for st in sorted({j.student for j in jobs} - existing):
            gb.add_student(st)
        for job in jobs:
            if job.assignment not in known:
                job.reasons.append(
                    f"assignment {job.assignment!r} is not in the gradebook "
                    f"(run `nbgrader generate_assignment {job.assignment}` first)"
                )
                missing.append(job)
    return missing


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


def kill_tree(pid: int) -> None:
    """SIGKILL process `pid`, every descendant and every process group they lead."""
    try:
        procs = [psutil.Process(pid)]
        procs += procs[0].children(recursive=True)
    except psutil.NoSuchProcess:
        return
    groups = set()
    for p in procs:
        try:
            groups.add(os.getpgid(p.pid))
        except ProcessLookupError:
            pass
    groups.discard(os.getpgid(0))  # never our own group
    for g in groups:
        try:
            os.killpg(g, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    for p in procs:
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass


def nbgrader_env() -> dict[str, str]:
    """This environment with its scripts folder first on PATH (nbgrader runs `alembic`)."""
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": bin_dir + os.pathsep + os.environ.get("PATH", "")}


class Progress:
    """The one-line progress report on stderr: done / failed / running / remaining, ETA."""

    def __init__(self, total: int, workers: int, stream=None):
        self.total, self.workers = total, workers
        self.stream = stream or sys.stderr
        self.done = self.failed = self.running = 0
        self.busy_seconds = 0.0
        self.start = time.perf_counter()
        self.lock = threading.Lock()
        self.tty = getattr(self.stream, "isatty", lambda: False)()

    def line(self) -> str:
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
        with self.lock:
            self.running += 1

    def finished(self, job: Job) -> None:
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


def grade_one(job: Job, root: Path, db_url: str, time_limit: float) -> Job:
    """Run stock `nbgrader autograde` for one submission, killing it at `time_limit` seconds."""
    cmd = [
        sys.executable,
        "-m",
        "nbgrader",
        "autograde",
        job.assignment,
        "--student",
        job.student,
        "--force",
        f"--CourseDirectory.db_url={db_url}",
    ]
    start = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=nbgrader_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,  # own process group: the kill below never reaches us
    )
    try:
        out, _ = proc.communicate(timeout=time_limit)
    except subprocess.TimeoutExpired:
        kill_tree(proc.pid)
        out, _ = proc.communicate()
        job.timed_out = True
    except BaseException:  # Ctrl-C: leave no grading kernel behind
        kill_tree(proc.pid)
        proc.communicate()
        raise
    job.seconds = time.perf_counter() - start
    job.returncode, job.output = proc.returncode, out
    if job.timed_out:
        job.reasons.append(f"timeout: killed after the {time_limit:g} s time limit")
    for line in out.splitlines():
        if GRADEBOOK_ERRORS.search(line):
            job.reasons.append(f"gradebook error: {line.strip()[:200]}")
            break
    if not job.timed_out and proc.returncode != 0:
        job.reasons += failure_reasons(out) or [f"nbgrader exited with status {proc.returncode}"]
    return job


def autograde(
    root: Path,
    assignments: list[str],
    workers: int | None = None,
    time_limit: float = 600,
    db_url: str | None = None,
    busy_timeout: float = 60,
    stream=None,
) -> list[Job]:
    """Autograde every submission of `assignments` with `workers` parallel nbgrader processes.

    Returns one `Job` per submission (its `reasons` say why it failed, empty if graded).
    `db_url` defaults to the course's (`default_db_url`); SQLite URLs get a busy timeout.
    """
    root = Path(root).resolve()
    workers = workers or os.cpu_count() or 1
    url = sqlite_url(db_url or default_db_url(root), busy_timeout)
    jobs = find_jobs(root, assignments)
    if not jobs:
        return []
    unknown = prepare_gradebook(url, root, jobs)
    todo = [j for j in jobs if j not in unknown]
    progress = Progress(len(jobs), workers, stream)
    for job in unknown:
        progress.started()
        progress.finished(job)

    def run(job: Job) -> Job:
        progress.started()
        try:
            return grade_one(job, root, url, time_limit)
        finally:
            progress.finished(job)

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(run, todo))
    return jobs


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
