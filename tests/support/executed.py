"""Source notebooks executed once per test session, shared by the tests that read their outputs.

`executed(name)` runs the source notebook (solutions and hidden tests included) in a real
ipykernel with nbclient, top to bottom, errors recorded rather than raised;
`executed(name, method)` first forces a multiprocessing start method, and adds a last cell that
prints the method in force. Each result is cached for the session (per xdist worker: tests that
share one run carry the same `xdist_group`, see `notebook_group`).
"""

import functools
import time

import nbformat
import pytest
from nbclient import NotebookClient
from nbformat import v4

from course.syllabus import notebook_path
from tests.support.grading_run import ROOT


def notebook_group(name: str, method: str | None = None):
    """The xdist group of every test that reads `executed(name, method)`."""
    return pytest.mark.xdist_group(f"run-{name}-{method or 'default'}")


@functools.cache
def executed(name: str, method: str | None = None) -> tuple[object, float]:
    """(the executed notebook, seconds the execution took, kernel start included)."""
    path = ROOT / notebook_path(name)
    nb = nbformat.read(path, 4)
    if method:
        first = v4.new_code_cell(
            f"import multiprocessing\nmultiprocessing.set_start_method({method!r}, force=True)"
        )
        first.id = "force-start-method"
        last = v4.new_code_cell("import multiprocessing\nprint(multiprocessing.get_start_method())")
        last.id = "show-start-method"
        nb.cells = [first, *nb.cells, last]
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def problems(nb) -> list[str]:
    """Every error and every stderr output of an executed notebook, one line each."""
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                found.append(f"[{cell.get('id')}] {out.ename}: {out.evalue}")
            elif out.get("name") == "stderr":
                found.append(f"[{cell.get('id')}] stderr: {out.text[:300]}")
    return found
