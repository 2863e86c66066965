"""Every notebook runs top to bottom in a real ipykernel, quickly, and draws at least one timeline.

Source notebooks (with solutions) must run without any error. (Release notebooks are run by
the blank submission of tests/test_autograde.py.)
"""

import time

import nbformat
import pytest
from nbclient import NotebookClient

from course.syllabus import notebook_path
from tests.conftest import ASSIGNMENTS
from tests.support.grading_run import ROOT

SOURCE_BUDGET_S = 30  # DESIGN.md asks <= 15 s idle; the suite runs 3 workers on 2 cores


def execute(path):
    nb = nbformat.read(path, 4)
    client = NotebookClient(
        nb,
        timeout=120,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    client.execute()
    return nb, time.perf_counter() - start


def outputs(nb, kind):
    return [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if kind(o)]


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_source_notebook_runs_clean_and_fast(name):
    nb, seconds = execute(ROOT / notebook_path(name))
    assert seconds < SOURCE_BUDGET_S, f"{name} took {seconds:.1f} s"
    images = outputs(nb, lambda o: "image/png" in o.get("data", {}))
    assert images, f"{name} draws no timeline (end a cell with tl.plot(...), no ';')"
    stderr = outputs(nb, lambda o: o.get("name") == "stderr")
    assert not stderr, f"{name} writes to stderr: {[o.text[:300] for o in stderr]}"
