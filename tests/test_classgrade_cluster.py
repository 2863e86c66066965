"""`python -m course.classgrade autograde --cluster`: a real Dask cluster (make test-cluster).

A `distributed.LocalCluster` with two worker processes (each under its nanny, as `dask worker`
runs them) grades a synthetic class through the command line, while the test kills one worker
process in the middle of a submission. The class also holds a submission that hangs past
nbgrader's cell timeout. Checked: every grade (Gradebook API) equals a local `--workers 1` run
of the same class, the killed worker's submission was graded once, elsewhere, the hung one was
killed at its time limit, and nothing was graded twice.

Marked slow (not in `make test`; `make test-cluster` runs it). Needs `pip install -e '.[cluster]'`.
"""

import os
import shutil
import signal
import subprocess
import sys
import time

import psutil
import pytest

from course.classgrade import autograde
from course.classgrade.gradebook import read_scores
from tests.support import synthetic_class
from tests.support.grading_run import ROOT

distributed = pytest.importorskip("distributed", reason="pip install -e '.[cluster]'")
# The fixture grades the class twice; on a 2-core machine shared with other work that took
# over 10 minutes, pytest's default timeout here.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(2400),
    pytest.mark.xdist_group("classgrade-cluster"),  # one cluster, one graded class
]
ASSIGNMENT = "01-os-processes-threads"
STUDENTS = 3
TIME_LIMIT = 90  # s per submission: a normal one takes 5-25 s here; the hang sleeps 6 x 30 s


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def grades(root):
    return read_scores(f"sqlite:///{root / 'gradebook.db'}", [ASSIGNMENT])


@pytest.fixture(scope="module")
def cluster():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as lc,
        distributed.Client(lc) as client,
    ):
        yield lc, client


@pytest.fixture(scope="module")
def graded(tmp_path_factory, cluster):
    """The class graded locally (--workers 1) and on the cluster, with a worker killed."""
    lc, client = cluster
    tmp = tmp_path_factory.mktemp("cluster")
    course = synthetic_class.build_class(tmp, students=STUDENTS, assignments=[ASSIGNMENT], seed=4)
    local_root = tmp / "local"
    shutil.copytree(course.root, local_root)
    local = autograde(local_root, [ASSIGNMENT], workers=1, time_limit=TIME_LIMIT)
    assert not [j.reasons for j in local if j.failed]

    pid_file = tmp / "hang.pid"
    nb = synthetic_class.hanging_submission(course, ASSIGNMENT, pid_file, cells=6)
    course.submit("zz-hangs", ASSIGNMENT, nb)
    cmd = [sys.executable, "-m", "course.classgrade", "autograde", ASSIGNMENT]
    cmd += ["--cluster", lc.scheduler_address, "--time-limit", str(TIME_LIMIT)]
    start = time.perf_counter()
    cli = subprocess.Popen(
        cmd,
        cwd=course.root,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    killed = kill_a_worker_mid_task(client, avoid="zz-hangs")
    out, err = cli.communicate(timeout=900)
    seconds = time.perf_counter() - start
    return course, local_root, cli.returncode, err, killed, seconds, pid_file


def kill_a_worker_mid_task(client, avoid: str, timeout: float = 300) -> tuple[str, str]:
    """SIGKILL the process of a worker busy with a submission (not `avoid`), once it has
    graded for a few seconds; return (its address, the student it was grading)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for address, keys in client.processing().items():
            busy = [k for k in keys if k.startswith("classgrade-") and avoid not in k]
            if busy:
                time.sleep(3)  # mid-task: the child is grading by now
                if busy[0] not in client.processing().get(address, ()):
                    break  # it finished meanwhile: pick again
                pid = client.run(os.getpid, workers=[address])[address]
                os.kill(pid, signal.SIGKILL)
                return address, busy[0].split("-")[-2]
        time.sleep(0.2)
    pytest.fail("no worker was ever busy with a submission")


def test_cluster_grades_equal_local_workers_1(graded):
    course, local_root, returncode, err, _, _, _ = graded
    cluster = grades(course.root)
    assert cluster.pop((ASSIGNMENT, "zz-hangs")) == dict.fromkeys(cluster[(ASSIGNMENT, "s01")], 0)
    assert cluster == grades(local_root)
    assert cluster == {(ASSIGNMENT, st): course.expected[st][ASSIGNMENT] for st in course.students}
    for st in course.students:
        assert (course.root / "autograded" / st / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()


def test_killed_worker_loses_nothing_and_grades_nothing_twice(graded):
    course, _, returncode, err, (address, student), _, _ = graded
    n = STUDENTS + 1
    assert f"{n}/{n} done, 1 failed, 0 running, 0 remaining" in err, err
    assert f"{n} submissions, {n - 1} graded, 1 failed" in err, err
    assert err.count(f"{n}/{n} done") == 1
    assert student in course.students, student
    assert returncode == 1  # the hung submission


def test_hung_submission_killed_at_its_limit_on_the_worker(graded):
    course, _, _, err, _, seconds, pid_file = graded
    hang = next(ln for ln in err.splitlines() if "/ zz-hangs:" in ln)
    assert f"timeout: killed after the {TIME_LIMIT} s time limit" in hang
    kernel = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while alive(kernel) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not alive(kernel), "the hung submission's kernel outlived the time limit"
    assert seconds < 3 * TIME_LIMIT + 120
