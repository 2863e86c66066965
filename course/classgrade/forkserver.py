"""A warm nbgrader: one process pays nbgrader's ~3 s of imports once and forks a child per run.

Stock `nbgrader` spends 2.6-3.3 s importing (jsonschema's `rfc3987_syntax` alone ~3 s here)
before it grades anything; a class graded one `nbgrader autograde --student` at a time pays
that for every submission. `ForkServer` starts one server process (`serve`) once
(the way multiprocessing's forkserver does): it imports nbgrader's applications, then for each
request forks a child that becomes a session leader, writes its output to a log file, changes
to the course root and runs stock `NbGraderApp` with the request's arguments, exactly what
`python -m nbgrader ARGS` runs. Children share nothing but the imported modules (copy on
write); the server holds no threads, sockets or database connections when it forks.

Protocol: one JSON object per line. Requests on the server's stdin
`{"id", "argv", "cwd", "log", "env"}`; replies on its stdout `{"id", "pid"}` when the child
starts and `{"id", "returncode"}` when it ends. EOF on stdin: the server kills its children's
process trees and exits.

>>> server = ForkServer()
>>> import tempfile; log = Path(tempfile.mkdtemp()) / "log"
>>> server.run(["--version"], cwd=log.parent, log=log, time_limit=60)
(0, False)
>>> print(log.read_text().splitlines()[-1])  # what `nbgrader --version` prints
nbgrader version ...
>>> server.close()
"""

import itertools
import json
import os
import selectors
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from course.classgrade.base import kill_tree, nbgrader_env

READY = "ready"


@dataclass
class _Run:
    """One request in flight: its child's pid once started, its return code once ended."""

    started: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    pid: int | None = None
    returncode: int | None = None


class ForkServer:
    """Client of a warm nbgrader server: `run` is thread-safe and blocks until the run ends.

    The server starts in `__init__` (its imports take a few seconds, paid once).
    """

    def __init__(self, env: dict[str, str] | None = None):
        self.proc = subprocess.Popen(
            [sys.executable, "-c", "from course.classgrade.forkserver import serve; serve()"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env or nbgrader_env(),
            text=True,
            start_new_session=True,  # Ctrl-C reaches the coordinator only; it closes us
        )
        if self.proc.stdout.readline().strip() != READY:
            self.proc.kill()
            raise RuntimeError("classgrade: the warm nbgrader server did not start")
        self._runs: dict[int, _Run] = {}
        self._ids = itertools.count()
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def run(
        self,
        argv: list[str],
        cwd: Path,
        log: Path,
        time_limit: float,
        env: dict[str, str] | None = None,
    ) -> tuple[int | None, bool]:
        """Run `nbgrader ARGV` in `cwd` in a fresh child, output to `log`.

        Returns (return code, timed out). A child still running after `time_limit` seconds
        is killed with its whole process tree (kernels included).
        """
        request = {"argv": argv, "cwd": str(cwd), "log": str(log), "env": env or {}}
        run = _Run()
        with self._lock:
            request["id"] = rid = next(self._ids)
            self._runs[rid] = run
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        try:
            if not run.ended.wait(time_limit):
                run.started.wait()
                if run.pid is not None:
                    kill_tree(run.pid)
                run.ended.wait()
                return run.returncode, True
            return run.returncode, False
        except BaseException:  # Ctrl-C: leave no grading kernel behind
            if run.pid is not None:
                kill_tree(run.pid)
            raise
        finally:
            with self._lock:
                self._runs.pop(rid, None)

    def _read(self) -> None:
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._lock:
                run = self._runs.get(msg["id"])
            if run is None:
                continue
            if "pid" in msg:
                run.pid = msg["pid"]
                run.started.set()
            else:
                run.returncode = msg["returncode"]
                run.ended.set()
        with self._lock:  # the server is gone: nothing in flight will ever end
            for run in self._runs.values():
                run.started.set()
                run.ended.set()

    def close(self) -> None:
        """Stop the server; children still running are killed with their trees."""
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                kill_tree(self.proc.pid)
                self.proc.wait()
        self._reader.join(5)

    def __enter__(self) -> "ForkServer":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# -- the server side: python -c "from course.classgrade.forkserver import serve; serve()"


def warm_up() -> None:
    """Import what every nbgrader run imports, so that forked children start warm."""
    import nbformat
    from nbgrader.apps import nbgraderapp  # noqa: F401  all of nbgrader's applications

    nbformat.validate(nbformat.v4.new_notebook())  # jsonschema's format checkers, imported late


def _reply(msg: dict) -> None:
    try:
        os.write(1, (json.dumps(msg) + "\n").encode())
    except BrokenPipeError:  # the client is gone; stdin's EOF ends the loop
        pass


def _child(request: dict) -> None:
    """In the forked child: become `nbgrader ARGV` in its own session; never returns."""
    code = 1
    try:
        os.setsid()  # own process group: the time limit's kill never reaches the server
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, 1)
        os.dup2(out, 2)
        os.close(out)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        os.chdir(request["cwd"])
        os.environ.update(request["env"])
        sys.argv = ["nbgrader", *request["argv"]]
        from nbgrader.apps.nbgraderapp import NbGraderApp

        NbGraderApp.launch_instance(argv=request["argv"])
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported through the log and the exit status
        import traceback

        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001, S110 - nothing left to report to
                pass
        os._exit(code)


def serve() -> None:
    """Warm up, say ready, then fork one child per request line until stdin closes."""
    warm_up()
    os.write(1, (READY + "\n").encode())
    selector = selectors.DefaultSelector()
    selector.register(0, selectors.EVENT_READ)
    children: dict[int, int] = {}  # pid -> request id
    pending = b""
    open_ = True
    while open_ or children:
        if open_ and selector.select(timeout=0.05):
            data = os.read(0, 1 << 16)
            open_ = bool(data)
            pending += data
            *lines, pending = pending.split(b"\n")
            for line in lines:
                request = json.loads(line)
                pid = os.fork()
                if pid == 0:
                    _child(request)
                children[pid] = request["id"]
                _reply({"id": request["id"], "pid": pid})
        elif not open_:  # the client is gone: take the running grades down with us
            for pid in children:
                kill_tree(pid)
            time.sleep(0.05)
        while children:
            pid, status = os.waitpid(-1, os.WNOHANG)
            if pid == 0:
                break
            rid = children.pop(pid, None)
            if rid is not None:
                _reply({"id": rid, "returncode": os.waitstatus_to_exitcode(status)})
