"""What every classgrade module shares: the course's settings, the gradebook URL, the environment
nbgrader runs in, and the process-tree kill. This module imports nothing else of classgrade.

>>> sqlite_url("sqlite:////course/gradebook.db", 60)
'sqlite:////course/gradebook.db?timeout=60'
>>> nbgrader_env(COURSE_DEMO_TIME_SCALE="0.2")["COURSE_DEMO_TIME_SCALE"]
'0.2'
"""

import os
import signal
import sys
from pathlib import Path
from urllib.parse import urlsplit

import psutil

# Grading kernels run the demos' deliberate pauses (timelines of sleeping threads) this much
# faster: course.timeline's demo helpers read it; student code and hidden tests keep real time.
DEMO_TIME_SCALE = "0.2"


def course_setting(root: Path, name: str, default: str) -> str:
    """`CourseDirectory.<name>` as the course's nbgrader_config.py sets it, else `default`.

    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = (root / "nbgrader_config.py").write_text("c = get_config()\\n"
    ...                                              "c.CourseDirectory.course_id = 'py'\\n")
    >>> course_setting(root, "course_id", "default_course"), course_setting(root, "db_url", "-")
    ('py', '-')
    """
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(root) / "nbgrader_config.py"
    if not path.exists():
        return default
    cfg = PyFileConfigLoader(path.name, str(path.parent)).load_config()
    return cfg.CourseDirectory.get(name, default)


def course_id(root: Path) -> str:
    """The `CourseDirectory.course_id` that the course's nbgrader_config.py sets.

    >>> import tempfile
    >>> course_id(Path(tempfile.mkdtemp()))  # no config: nbgrader's default
    'default_course'
    """
    return course_setting(root, "course_id", "default_course")


def default_db_url(root: Path) -> str:
    """The gradebook every nbgrader command of the course uses: the config's `db_url`, if it
    sets one (a PostgreSQL server, say), else `gradebook.db` in the course root.

    >>> default_db_url(Path("/nowhere"))
    'sqlite:////nowhere/gradebook.db'
    """
    return course_setting(root, "db_url", f"sqlite:///{Path(root) / 'gradebook.db'}")


def sqlite_url(db_url: str, busy_timeout: float) -> str:
    """`db_url` with a SQLite busy timeout added (other databases are returned unchanged).

    >>> sqlite_url("sqlite:////course/gradebook.db?timeout=5", 60)
    'sqlite:////course/gradebook.db?timeout=5'
    >>> sqlite_url("postgresql://ta@localhost/gradebook", 60)
    'postgresql://ta@localhost/gradebook'
    """
    if not db_url.startswith("sqlite") or "timeout=" in db_url:
        return db_url
    return f"{db_url}{'&' if urlsplit(db_url).query else '?'}timeout={busy_timeout:g}"


def nbgrader_env(**extra: str) -> dict[str, str]:
    """This environment with its scripts folder first on PATH (nbgrader runs `alembic` from
    PATH, and Python may run without the venv activated), plus the `extra` variables.

    >>> env = nbgrader_env()
    >>> env["PATH"].split(os.pathsep)[0] == str(Path(sys.executable).parent)
    True
    """
    bin_dir = str(Path(sys.executable).parent)
    path = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return {**os.environ, "PATH": path, **extra}


def kill_tree(pid: int) -> None:
    """SIGKILL process `pid`, every descendant and every process group they lead.

    jupyter_client starts each kernel in a new session, so killing one process group alone
    would leave the kernel running. Our own process group is never killed.

    >>> import subprocess
    >>> p = subprocess.Popen(["sleep", "60"], start_new_session=True)
    >>> kill_tree(p.pid); p.wait()
    -9
    """
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
    groups.discard(os.getpgid(0))
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
