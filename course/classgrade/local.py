"""Autograde a whole class in parallel on this machine: stock nbgrader, one child per submission.

Design (why it is correct with the SQLite gradebook):

* Every job is stock nbgrader's `autograde ASSIGNMENT --student STUDENT --force`, run by a
  child forked from a warm nbgrader server (`forkserver.ForkServer`: nbgrader's imports are
  paid once per run, not once per submission), so grading itself is exactly nbgrader's. Jobs
  never share a (student, assignment) pair.
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

A per-submission time limit kills the job's whole process tree (`base.kill_tree`).
Grading kernels get `COURSE_DEMO_TIME_SCALE` (`base.DEMO_TIME_SCALE`): the demos' deliberate
pauses run faster; student code and hidden tests keep real time.

>>> autograde(Path("/nowhere"), ["05-locks"])  # no submissions: nothing to do
[]
"""

import os
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from course.classgrade.base import DEMO_TIME_SCALE, default_db_url, nbgrader_env, sqlite_url
from course.classgrade.forkserver import ForkServer
from course.classgrade.gradebook import prepare_gradebook
from course.classgrade.jobs import Job, Progress, find_jobs, judge


def autograde_argv(assignment: str, student: str, db_url: str) -> list[str]:
    """The arguments of stock `nbgrader` that grade one submission.

    >>> autograde_argv("05-locks", "ann", "sqlite:////c/gradebook.db")
    ['autograde', '05-locks', '--student', 'ann', '--force', '--CourseDirectory.db_url=sqlite:////c/gradebook.db']
    """  # noqa: E501
    return ["autograde", assignment, "--student", student, "--force"] + [
        f"--CourseDirectory.db_url={db_url}"
    ]


def grade_one(
    job: Job, root: Path, db_url: str, time_limit: float, server: ForkServer, logs: Path
) -> Job:
    """Autograde one submission in a child of `server`, killing it at `time_limit` seconds."""
    log = logs / f"{job.assignment}--{job.student}.log"
    start = time.perf_counter()
    returncode, timed_out = server.run(
        autograde_argv(job.assignment, job.student, db_url), root, log, time_limit
    )
    job.seconds = time.perf_counter() - start
    job.worker = "local"
    output = log.read_text(errors="replace") if log.exists() else ""
    judge(job, output, returncode, timed_out, time_limit)
    return job


def autograde(
    root: Path,
    assignments: list[str],
    workers: int | None = None,
    time_limit: float = 600,
    db_url: str | None = None,
    busy_timeout: float = 60,
    stream=None,
    demo_time_scale: str = DEMO_TIME_SCALE,
) -> list[Job]:
    """Autograde every submission of `assignments`, `workers` at a time.

    Returns one `Job` per submission (its `reasons` say why it failed, empty if graded).
    `db_url` defaults to the course's (`default_db_url`); SQLite URLs get a busy timeout.
    """
    root = Path(root).resolve()
    workers = workers or os.cpu_count() or 1
    jobs = find_jobs(root, assignments)
    if not jobs:
        return []
    url = sqlite_url(db_url or default_db_url(root), busy_timeout)
    unknown = prepare_gradebook(url, root, jobs)
    todo = [j for j in jobs if j not in unknown]
    progress = Progress(len(jobs), workers, stream)
    for job in unknown:
        progress.started()
        progress.finished(job)
    env = nbgrader_env(COURSE_DEMO_TIME_SCALE=demo_time_scale)
    with tempfile.TemporaryDirectory(prefix="classgrade-") as logs, ForkServer(env) as server:

        def run(job: Job) -> Job:
            progress.started()
            try:
                return grade_one(job, root, url, time_limit, server, Path(logs))
            finally:
                progress.finished(job)

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, todo))
    return jobs
