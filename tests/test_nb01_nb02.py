"""Notebook-specific checks for 01-os-processes-threads and 02-threading.

* The process cells of notebook 01 run under every start method: the notebook is executed with
  `multiprocessing.set_start_method(<method>, force=True)` injected as its first cell
  (spawn is the default on macOS and Windows, forkserver on Linux from Python 3.14).
* The Music/Blog script of notebook 02 really shows the daemon behaviour of a program that exits.
"""

import multiprocessing
import re

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from course.syllabus import notebook_path
from tests.nbgrader_harness import ROOT


def run_with_start_method(name: str, method: str):
    path = ROOT / notebook_path(name)
    nb = nbformat.read(path, 4)
    first = f"import multiprocessing\nmultiprocessing.set_start_method({method!r}, force=True)"
    nb.cells.insert(0, v4.new_code_cell(first))
    NotebookClient(
        nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    return nb


def cell_output(nb, needle: str) -> str:
    """The stdout of the first code cell whose source contains `needle`."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize(
    "method", [m for m in ("spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
)
def test_nb01_process_cells_work_under(method):
    nb = run_with_start_method("01-os-processes-threads", method)
    isolated = cell_output(nb, "added by a child process")
    assert "[1, 2, 3] | child exit code: 0" in isolated, isolated
    timeline = cell_output(nb, "process_recorder()")
    assert re.search(r"two processes: \d+\.\d+ s", timeline), timeline
    code_outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert any("image/png" in o.get("data", {}) for o in code_outputs)


def test_nb02_daemon_script_variants():
    nb = nbformat.read(ROOT / notebook_path("02-threading"), 4)
    setup = next(c.source for c in nb.cells if c.cell_type == "code" and "SCRIPT = " in c.source)
    scope: dict = {}
    exec(setup, scope)
    run = scope["run_program"]

    def said(lines):
        return [line.split(" ", 1)[1] for line in lines]

    both = said(run("music", "blog"))
    # Daemon threads are cut off: neither ends. (Under load a daemon may even print its first
    # line after "program exits", so the order of the begin lines is not asserted.)
    assert "end music" not in both and "end blog" not in both, both
    assert both.index("end") < both.index("program exits"), both
    blog_daemon = said(run("blog"))
    assert "end music" in blog_daemon and "end blog" not in blog_daemon, blog_daemon
    no_daemon = said(run())
    assert no_daemon[-3:] == ["end music", "end blog", "program exits"], no_daemon
