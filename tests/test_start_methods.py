"""The process notebooks run under every start method, not only under Linux's default (fork).

Spawn is the default on macOS and Windows, forkserver on Linux from Python 3.14. Each source
notebook whose cells start processes is executed with one extra first cell,
`multiprocessing.set_start_method(<method>, force=True)`, and must run without an error and
without stderr output, exactly as under the default method (tests/test_notebooks.py).
"""

import multiprocessing

import nbformat
import pytest

from course.syllabus import NAMES, notebook_path
from tests.support.executed import executed, notebook_group, problems
from tests.support.grading_run import ROOT

METHODS = [m for m in ("spawn", "forkserver") if m in multiprocessing.get_all_start_methods()]
MARKERS = ("multiprocessing", "ProcessPoolExecutor")


def starts_processes(name: str) -> bool:
    path = ROOT / notebook_path(name)
    if not path.exists():
        return False
    nb = nbformat.read(path, 4)
    return any(c.cell_type == "code" and any(m in c.source for m in MARKERS) for c in nb.cells)


PROCESS_NOTEBOOKS = [name for name in NAMES if starts_processes(name)]


def test_the_process_notebooks_are_found():
    assert {"03-multiprocessing", "04-ipc"} <= set(PROCESS_NOTEBOOKS), PROCESS_NOTEBOOKS


@pytest.mark.parametrize(
    "name, method",
    [pytest.param(n, m, marks=notebook_group(n, m)) for n in PROCESS_NOTEBOOKS for m in METHODS],
)
def test_source_notebook_runs_under(name, method):
    nb, _ = executed(name, method)
    found = problems(nb)
    assert not found, f"{name} under {method}:\n" + "\n".join(found)
    shown = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert shown.strip() == method, f"start method at the end: {shown.strip()!r}, not {method}"
