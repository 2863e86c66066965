"""Autograde on a Dask distributed cluster: one task per submission, grades written here.

`autograde_on_cluster` (the coordinator, run from the course root) makes every
`submitted/<student>/<assignment>/` one task. What a task carries (no shared filesystem is
needed; the price is shipping bytes, ~100 KB per submission):

* the course bundle, scattered once per run: the course's nbgrader_config.py, the files of
  `source/<assignment>/`, and a small SQLite gradebook holding only the assignments'
  definitions (notebooks and cells as the course gradebook has them, copied with
  `gradebook.assignment_snapshot` / `restore_assignment`);
* the submission's files and the per-submission time limit.

A worker (`grade_task`) builds a scratch course in a temporary folder with that gradebook,
runs stock nbgrader's
`autograde ASSIGNMENT --student STUDENT --force` in a child of its warm nbgrader
(`forkserver.ForkServer`, one per worker process) with the time limit and process-tree kill
of local mode, and returns nbgrader's output, the scores it wrote and the autograded files.
The coordinator alone writes: the files into `autograded/<student>/<assignment>/`, the scores
into the course's gradebook (`gradebook.store_result`), one submission at a time, so a
SQLite gradebook is never written by two machines (nor two processes).

A worker that dies mid-task (killed, connection lost) makes the scheduler run the task again
on another worker; the coordinator sets the scheduler's `allowed_failures` to 1, so a second
death ends the task with `KilledWorker`, reported as a failed submission. A submission's
result is written once, when its future completes: never graded twice into the gradebook.

Needs `pip install '.[cluster]'` (dask, distributed) on the coordinator and every worker.

>>> bundle_files(Path("/nowhere"))
{}
"""

import shutil
import socket
import tempfile
import threading
import time
import uuid
from pathlib import Path

from course.classgrade.base import (
    DEMO_TIME_SCALE,
    course_id,
    default_db_url,
    nbgrader_env,
    sqlite_url,
)
from course.classgrade.forkserver import ForkServer
from course.classgrade.gradebook import (
    assignment_snapshot,
    prepare_gradebook,
    restore_assignment,
    store_result,
    submission_result,
)
from course.classgrade.jobs import Job, Progress, find_jobs, judge
from course.classgrade.local import autograde_argv

_SERVERS: dict[str, ForkServer] = {}  # per worker process: demo time scale -> warm nbgrader
_LOCK = threading.Lock()


def bundle_files(folder: Path) -> dict[str, bytes]:
    """{relative path: bytes} of every file under `folder` ({} if it does not exist).

    >>> d = Path(tempfile.mkdtemp()); _ = (d / "a.txt").write_text("hi")
    >>> bundle_files(d)
    {'a.txt': b'hi'}
    """
    folder = Path(folder)
    if not folder.is_dir():
        return {}
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def write_files(folder: Path, files: dict[str, bytes]) -> None:
    """Write `bundle_files` output under `folder`.

    >>> d = Path(tempfile.mkdtemp()); write_files(d, {"x/a.txt": b"hi"})
    >>> (d / "x" / "a.txt").read_text()
    'hi'
    """
    for rel, data in files.items():
        path = Path(folder) / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def course_bundle(root: Path, assignments: list[str], db_url: str) -> dict:
    """What every task needs from the course: its config, the assignments' source files, and
    a SQLite gradebook (bytes) holding only the assignments' definitions.

    The gradebook is made here, once per run: creating one runs `alembic` (seconds), which no
    task should pay.
    """
    course = course_id(root)
    with tempfile.TemporaryDirectory(prefix="classgrade-bundle-") as tmp:
        template = Path(tmp) / "gradebook.db"
        for a in assignments:
            snapshot = assignment_snapshot(db_url, course, a)
            restore_assignment(f"sqlite:///{template}", course, snapshot)
        gradebook = template.read_bytes()
    return {
        "course_id": course,
        "config": (Path(root) / "nbgrader_config.py").read_text(),
        "source": {a: bundle_files(Path(root) / "source" / a) for a in assignments},
        "gradebook": gradebook,
    }


def _warm_server(demo_time_scale: str) -> ForkServer:
    """This worker process's warm nbgrader (started by its first task)."""
    with _LOCK:
        server = _SERVERS.get(demo_time_scale)
        if server is None or server.proc.poll() is not None:
            env = nbgrader_env(COURSE_DEMO_TIME_SCALE=demo_time_scale)
            server = _SERVERS[demo_time_scale] = ForkServer(env)
        return server


def warm_up(demo_time_scale: str = DEMO_TIME_SCALE) -> None:
    """On a worker: start its warm nbgrader and import nbgrader's gradebook now rather than
    in its first task."""
    import nbgrader.api  # noqa: F401  read by grade_task after each run

    _warm_server(demo_time_scale)


def _where() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError):  # not inside a Dask worker
        return socket.gethostname()


def grade_task(
    bundle: dict,
    assignment: str,
    student: str,
    files: dict[str, bytes],
    time_limit: float,
    demo_time_scale: str = DEMO_TIME_SCALE,
) -> dict:
    """On a worker: autograde one submission in a scratch course; return what happened.

    Returns {"returncode", "timed_out", "output", "seconds", "worker", "result" (the scores
    nbgrader wrote, or None), "autograded" ({path: bytes}, or None if nbgrader left none)}.
    """
    a, course = assignment, bundle["course_id"]
    with tempfile.TemporaryDirectory(prefix="classgrade-task-") as tmp:
        root = Path(tmp) / "course"
        write_files(root, {"nbgrader_config.py": bundle["config"].encode()})
        write_files(root / "source" / a, bundle["source"][a])
        write_files(root / "submitted" / student / a, files)
        write_files(root, {"gradebook.db": bundle["gradebook"]})
        url = f"sqlite:///{root / 'gradebook.db'}"  # nbgrader creates the student itself
        log = Path(tmp) / "nbgrader.log"
        start = time.perf_counter()
        returncode, timed_out = _warm_server(demo_time_scale).run(
            autograde_argv(a, student, url), root, log, time_limit
        )
        seconds = time.perf_counter() - start
        try:
            result = submission_result(url, course, a, student)
        except Exception:  # noqa: BLE001 - nbgrader stopped before it created the submission
            result = None
        out = root / "autograded" / student / a
        return {
            "returncode": returncode,
            "timed_out": timed_out,
            "output": log.read_text(errors="replace") if log.exists() else "",
            "seconds": seconds,
            "worker": _where(),
            "result": result,
            "autograded": bundle_files(out) if out.is_dir() else None,
        }


def _one_retry(dask_scheduler) -> None:
    """On the scheduler: a task whose worker died runs once more elsewhere, then fails."""
    dask_scheduler.allowed_failures = 1


def apply_result(root: Path, db_url: str, course: str, job: Job, got: dict, time_limit: float):
    """Write one task's outcome into the course: autograded files, gradebook scores, `job`."""
    job.seconds, job.worker = got["seconds"], got["worker"]
    judge(job, got["output"], got["returncode"], got["timed_out"], time_limit)
    if got["autograded"] is not None or got["result"] is not None:
        dest = Path(root) / "autograded" / job.student / job.assignment
        shutil.rmtree(dest, ignore_errors=True)  # as nbgrader's --force does
        if got["autograded"] is not None:
            write_files(dest, got["autograded"])
    if got["result"] is not None:
        try:
            store_result(db_url, course, job.assignment, job.student, got["result"])
        except Exception as exc:  # noqa: BLE001 - reported, never hidden
            job.reasons.append(f"gradebook error: {type(exc).__name__}: {exc}"[:200])


def autograde_on_cluster(
    root: Path,
    assignments: list[str],
    address,
    time_limit: float = 600,
    db_url: str | None = None,
    busy_timeout: float = 60,
    stream=None,
    demo_time_scale: str = DEMO_TIME_SCALE,
) -> list[Job]:
    """Autograde every submission of `assignments` on the Dask cluster at `address` (a
    scheduler address such as "tcp://10.0.0.5:8786", or a `distributed.Client`).

    Same result as local `autograde`: one `Job` per submission, grades in the course gradebook.
    """
    from distributed import Client, as_completed

    root = Path(root).resolve()
    jobs = find_jobs(root, assignments)
    if not jobs:
        return []
    url = sqlite_url(db_url or default_db_url(root), busy_timeout)
    course = course_id(root)
    unknown = prepare_gradebook(url, root, jobs)
    todo = [j for j in jobs if j not in unknown]
    client = address if isinstance(address, Client) else Client(address)
    progress = Progress(len(jobs), len(client.scheduler_info()["workers"]), stream)
    for job in unknown:
        progress.started()
        progress.finished(job)
    futures = {}
    try:
        client.run_on_scheduler(_one_retry)
        client.run(warm_up, demo_time_scale)  # every worker imports nbgrader once, in parallel
        names = sorted({j.assignment for j in todo})
        bundle = client.scatter(course_bundle(root, names, url), hash=False) if todo else None
        for job in todo:
            files = bundle_files(root / "submitted" / job.student / job.assignment)
            args = (bundle, job.assignment, job.student, files, time_limit, demo_time_scale)
            key = f"classgrade-{job.assignment}-{job.student}-{uuid.uuid4().hex[:8]}"
            future = client.submit(grade_task, *args, key=key, retries=0)
            futures[future] = job
            progress.started()
        for future in as_completed(futures):
            job = futures[future]
            if future.status == "finished":
                apply_result(root, url, course, job, future.result(), time_limit)
            else:
                try:
                    exc = future.exception()
                except BaseException as cancelled:  # noqa: BLE001 - cancelled on the scheduler
                    exc = cancelled
                job.reasons.append(f"not graded: {type(exc).__name__}: {exc}"[:300])
            progress.finished(job)
    finally:
        client.cancel(list(futures))
        if client is not address:
            client.close()
    return jobs
