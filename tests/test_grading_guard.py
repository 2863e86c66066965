"""course.guard in a REAL ipykernel: tampering is undone before every cell, and a cell
that tampers while it runs gets stderr output (nbgrader scores such a test cell 0).

Each cell below is what a submission might do; the cell after it shows the grading library,
the instruments and IPython's error display are back to the originals.
"""

import json
import sys
import textwrap

import nbformat
import pytest
from nbclient import NotebookClient

from course import _state, guard

ROOT = str(__import__("pathlib").Path(__file__).resolve().parent.parent)

CELLS = {
    "arm": f"""
        import sys, threading, time
        sys.path.insert(0, {ROOT!r})
        import course.guard as _g; _g.arm(); del _g
        import course.grading.races as races, course.grading.isolated as isolated
        from course.grading import Probe, run_isolated, stress
        from course.servers import DelayServer
    """,
    "plain": "x = 1\nprint('plain cell')",
    "private": "races._window = lambda delay: None\nprint(races._window.__name__)",
    "private-after": "print(races._window.__name__)",
    "code": "isolated._run_forked.__code__ = (lambda *a: 7).__code__",
    "code-after": "print(isolated._run_forked.__code__.co_name)",
    "reading": "Probe.peak = lambda self: 99\nDelayServer.stats = lambda self: (9, 9, ())",
    "reading-after": "print(Probe().peak(), DelayServer.__dict__['stats'].__class__.__name__)",
    "display": """
        ip = get_ipython()
        ip.showtraceback = lambda *a, **k: None
        ip.set_custom_exc((AssertionError,), lambda *a, **k: None)
        sys.excepthook = lambda *a: None
        ip.events.callbacks['pre_run_cell'].clear()
        ip.events.callbacks['post_run_cell'].clear()
    """,
    "display-after": "assert False, 'expected 1, got 2'",
    "runtime": """
        def sneaky():
            get_ipython().showtraceback = lambda *a, **k: None
            raise AssertionError('expected 3, got 4')
        sneaky()
    """,
    "runtime-pass": """
        def quiet():
            races._window = lambda delay: None
            return 5
        assert quiet() == 5
    """,
    "child": """
        def trial():
            races._window = lambda delay: None
            return 1, 1
        try:
            run_isolated(stress, trial, repeat=2, timeout=10)
        except AssertionError as exc:
            print(exc)
    """,
    "honest": """
        stats = run_isolated(stress, lambda: (1, 1), repeat=3, timeout=10)
        print(stats.trials)
    """,
}


@pytest.fixture
def kernel_env(tmp_path, monkeypatch):
    """A kernelspec that runs THIS interpreter (not whatever `python` is on PATH)."""
    spec = tmp_path / "jupyter" / "kernels" / "guard-test"
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    spec.joinpath("kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "guard-test", "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path / "runtime"))
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    return tmp_path


@pytest.fixture
def outputs(kernel_env):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(textwrap.dedent(src)) for src in CELLS.values()]
    client = NotebookClient(
        nb,
        kernel_name="guard-test",
        timeout=60,
        allow_errors=True,
        resources={"metadata": {"path": str(kernel_env)}},
    )
    client.execute()
    return dict(zip(CELLS, [cell.outputs for cell in nb.cells], strict=True))


def _text(outs, name):
    return "".join(o.get("text", "") for o in outs if o.get("name") == name)


def _error(outs):
    return next((o for o in outs if o.output_type == "error"), None)


def test_guard_in_a_real_kernel(outputs):
    clean = ["arm", "plain", "private-after", "code-after", "reading-after", "honest"]
    for name in clean:  # honest cells: no stderr, no error, no note
        assert not _text(outputs[name], "stderr") and _error(outputs[name]) is None, (
            name,
            outputs[name],
        )
    assert _text(outputs["plain"], "stdout") == "plain cell\n"

    # tampering cells are flagged on stderr (a test cell doing this scores 0) ...
    for name, what in [
        ("private", "course.grading.races._window"),
        ("code", "course.grading.isolated._run_forked.__code__"),
        ("reading", "course.grading.probe.Probe.peak"),
        ("display-after", "shell.showtraceback"),  # "display" removed the after-cell check
        ("runtime", "shell.showtraceback"),
        ("runtime-pass", "course.grading.races._window"),
    ]:
        note = _text(outputs[name], "stderr")
        assert "grader note: the submission had replaced" in note and what in note, (name, note)
    assert "course.servers.DelayServer.stats" in _text(outputs["reading"], "stderr")

    # ... and the next cell runs on the originals
    assert _text(outputs["private-after"], "stdout") == "_window\n"
    assert _text(outputs["code-after"], "stdout") == "_run_forked\n"
    assert _text(outputs["reading-after"], "stdout") == "0 _ReadingMethod\n"
    error = _error(outputs["display-after"])  # the failure is displayed again
    assert error is not None and error["evalue"] == "expected 1, got 2"

    # a failure whose display was silenced while the cell ran is shown after all
    error = _error(outputs["runtime"])
    assert error is not None and error["evalue"] == "expected 3, got 4"

    # inside a grading child, tampering fails the check
    assert "your code changed the grading library while the check ran" in _text(
        outputs["child"], "stdout"
    )
    assert "course.grading.races._window" in _text(outputs["child"], "stdout")
    assert _text(outputs["honest"], "stdout") == "3\n"


def test_snapshot_covers_private_names_code_and_classes():
    import course.grading.races as races
    from course.grading import Probe

    snap = guard.take_snapshot()
    real_window, real_code, real_peak = races._window, races.racy.__code__, Probe.__dict__["peak"]
    try:
        races._window = lambda delay: None
        races.racy.__code__ = (lambda *a, **k: None).__code__
        Probe.peak = lambda self: 99
        Probe.extra = 1
        changed = guard.restore(snap)
    finally:
        races._window, races.racy.__code__ = real_window, real_code
    assert races._window is real_window and races.racy.__code__ is real_code
    assert Probe.__dict__["peak"] is real_peak and not hasattr(Probe, "extra")
    text = ", ".join(changed)
    for name in (
        "course.grading.races._window",
        "course.grading.races.racy.__code__",
        "course.grading.probe.Probe.peak",
        "course.grading.probe.Probe.extra",
    ):
        assert name in text, changed
    assert guard.restore(snap) == []


def test_other_course_modules_are_restored_quietly():
    """Lazily set globals of e.g. course.timeline are put back without a tampering note."""
    import course.timeline.lanes as lanes

    snap = guard.take_snapshot()
    old = lanes._greenlet_getcurrent
    lanes._greenlet_getcurrent = print
    try:
        assert guard.restore(snap) == []
        assert lanes._greenlet_getcurrent is old
    finally:
        lanes._greenlet_getcurrent = old
    assert not _state.is_strict("course.timeline.lanes._greenlet_getcurrent", "dict")
