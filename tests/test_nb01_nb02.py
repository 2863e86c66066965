"""Notebook-specific checks for 01-os-processes-threads and 02-threading.

* The process cells of notebook 01 run under every start method: the notebook is executed with
  `multiprocessing.set_start_method(<method>, force=True)` injected as its first cell
  (spawn is the default on macOS and Windows, forkserver on Linux from Python 3.14).
* The Music/Blog script of notebook 02 really shows the daemon behaviour of a program that exits.
* Predictions wait: every "Predict before you run" prompt is followed by the code cell that answers
  it, and the explanation comes only after that cell, collapsed in a `<details>` block.
* "Kernel" is never ambiguous in the prose: it is the Jupyter kernel or the OS kernel.
* Notebook 02's convoy demo and exception demo show what the prose says they show.
"""

import multiprocessing
import re

import nbformat
import pytest

from course.syllabus import notebook_path
from tests.support.executed import executed, notebook_group, problems
from tests.support.grading_run import ROOT


def cell_output(nb, needle: str) -> str:
    """The stdout of the first code cell whose source contains `needle`."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and needle in c.source)
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout")


@pytest.mark.parametrize(
    "method",
    [
        pytest.param(m, marks=notebook_group("01-os-processes-threads", m))
        for m in ("spawn", "forkserver")
        if m in multiprocessing.get_all_start_methods()
    ],
)
def test_nb01_process_cells_work_under(method):
    """The run of test_start_methods.py (one per start method), read for 01's own outputs."""
    nb, _ = executed("01-os-processes-threads", method)
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


NOTEBOOKS = ["01-os-processes-threads", "02-threading"]
ANSWER = "<details><summary>What happened, and why</summary>"


def markdown_and_code(name):
    return nbformat.read(ROOT / notebook_path(name), 4).cells


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_predictions_wait_for_the_run(name):
    cells = markdown_and_code(name)
    prompts = [i for i, c in enumerate(cells) if "Predict before you run" in c.source]
    assert prompts, f"{name} has no prediction prompts"
    for i in prompts:
        assert cells[i].cell_type == "markdown", f"{name} cell {i}: a prompt in a code cell"
        assert cells[i + 1].cell_type == "code", (
            f"{name} cell {i}: the prompt is not followed by its run"
        )
        answer = cells[i + 2]
        assert answer.cell_type == "markdown" and answer.source.startswith(ANSWER), (
            f"{name} cell {i + 2}: the explanation after the run should be in {ANSWER!r}, "
            f"got {answer.source[:80]!r}"
        )


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_kernel_always_says_which(name):
    for i, cell in enumerate(markdown_and_code(name)):
        if cell.cell_type != "markdown":
            continue
        for match in re.finditer(r"(\S+ )?\bkernels?\b", cell.source):
            before = (match.group(1) or "").strip("*( ")
            assert before in ("Jupyter", "OS", "a", "the"), f"{name} cell {i}: {match.group(0)!r}"
            if before in ("a", "the"):  # "a kernel" only where both kinds are named in the sentence
                sentence = cell.source[max(0, match.start() - 80) : match.end() + 80]
                assert "Jupyter" in sentence and "OS" in sentence, f"{name} cell {i}: {sentence!r}"


@notebook_group("02-threading")
def test_nb02_convoy_and_thread_exception_demos():
    """Read from the run of test_notebooks.py."""
    nb, _ = executed("02-threading")
    code = [c for c in nb.cells if c.cell_type == "code"]
    out = {c.get("id"): "".join(o.get("text", "") for o in c.outputs) for c in code}
    late = re.search(r"alone ([\d.]+) ms, next to a computing thread ([\d.]+) ms", out["convoy"])
    assert late, out["convoy"]
    alone, crowded = map(float, late.groups())
    if (
        "GIL enabled: True" in out["convoy"]
    ):  # a step waits up to a 5 ms switch interval for the GIL
        assert crowded > max(alone, 2.5), f"no convoy effect: {out['convoy']}"
    assert "ZeroDivisionError" in out["thread-exception"], out["thread-exception"]
    assert "join() returned normally" in out["thread-exception"], out["thread-exception"]
    assert "divider-2: ZeroDivisionError" in out["excepthook-demo"], out["excepthook-demo"]
    assert re.search(
        r"free-threaded build: (True|False), GIL enabled now: (True|False)",
        out["free-threaded-check"],
    )
    assert not problems(nb), problems(nb)
