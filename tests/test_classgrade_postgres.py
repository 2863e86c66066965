"""classgrade with a PostgreSQL gradebook, on a real server the test starts (make test-postgres).

A throwaway cluster (Debian's postgresql package: initdb, pg_ctl) listens on a free loopback
port; the synthetic class's nbgrader_config.py sets `CourseDirectory.db_url` to it, exactly as
docs/ta-guide.md tells a TA to. Then `generate_assignment`, classgrade's parallel autograde and
its report all use that database, and every grade read back must equal the corpus's expectation.
Marked slow: it needs the server package and a driver that the course itself does not
(psycopg, which SQLAlchemy 2.1 uses for postgresql:// URLs).
"""

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from course.classgrade.gradebook import read_scores
from tests.support import synthetic_class
from tests.support.synthetic_class import classgrade_cli

pytestmark = pytest.mark.slow
ASSIGNMENT = "05-locks"
STUDENTS = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def as_postgres(cmd: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the `postgres` user when we are root."""
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


@pytest.fixture(scope="module")
def postgres_url():
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("no PostgreSQL server: `make test-postgres` installs Debian's postgresql")
    pytest.importorskip("psycopg", reason="pip install psycopg[binary] (make test-postgres)")
    bin_dir = Path(bins[-1])
    data = Path(tempfile.mkdtemp(prefix="pg-gradebook-"))
    if os.geteuid() == 0:
        shutil.chown(data, "postgres", "postgres")
    port = free_port()
    run = lambda *cmd: subprocess.run(as_postgres(list(cmd)), check=True, capture_output=True)  # noqa: E731
    run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust")
    opts = f"-p {port} -k {data} -c listen_addresses=127.0.0.1"
    run(str(bin_dir / "pg_ctl"), "-D", str(data), "-o", opts, "-w", "-l", f"{data}/log", "start")
    try:
        run(str(bin_dir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "gb")
        yield f"postgresql://postgres@127.0.0.1:{port}/gb"
    finally:
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(data, ignore_errors=True)


def test_parallel_autograde_and_report_with_a_postgresql_gradebook(tmp_path, postgres_url):
    config = f"\nc.CourseDirectory.db_url = {postgres_url!r}\n"
    course = synthetic_class.build_class(
        tmp_path, students=STUDENTS, assignments=[ASSIGNMENT], seed=11, config=config
    )
    assert not (course.root / "gradebook.db").exists(), "generate_assignment ignored db_url"

    cli = classgrade_cli(course.root, "autograde", ASSIGNMENT, "--workers", "2")
    assert cli.returncode == 0, cli.stderr
    assert f"{STUDENTS} submissions, {STUDENTS} graded, 0 failed" in cli.stderr

    grades = read_scores(postgres_url, [ASSIGNMENT])
    assert grades == {(ASSIGNMENT, st): course.expected[st][ASSIGNMENT] for st in course.students}
    assert not (course.root / "gradebook.db").exists(), "a command fell back to SQLite"

    done = classgrade_cli(course.root, "report", ASSIGNMENT)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = (course.root / "reports" / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + STUDENTS
