"""Bad and hostile submissions are graded or flagged with a reason, and never touch anyone else.

One real `nbgrader autograde` run of 05-locks grades a correct control submission next to
submissions that are broken (invalid JSON, a deleted test cell, a renamed notebook), that kill
or try to kill the kernel, or that try to fake a pass (an edited visible test, a shipped module
shadowing `course`, monkeypatched grading helpers or `time.sleep`).
The decision for each case is written next to it and documented in docs/adversarial-submissions.md.
"""

import nbformat
import pytest
from nbformat.v4 import new_code_cell

from tests.mutants.a05_locks import MUTANTS
from tests.support.grading_run import GradingRun, grade_cells
from tests.support.submission_corpus import TAMPER_TOP_LEVEL, _functions_first

ASSIGNMENT = "05-locks"
NO_LOCK = next(m.code for m in MUTANTS if m.cell == "counter-solution" and m.name == "no lock")

FAKE_COURSE = {
    "course/__init__.py": "",
    "course/grading.py": (
        "def run_isolated(func, *args, timeout=None, **kwargs):\n"
        "    return 4000 if func.__name__ == '_four_threads' else 2\n"
        "def stress(*args, **kwargs):\n"
        "    return None\n"
        "def racy(cls, *names):\n"
        "    return cls\n"
    ),
}
PATCH_HELPERS = """
import course.grading
_real = course.grading.run_isolated
course.grading.stress = lambda *args, **kwargs: None
course.grading.run_isolated = lambda f, *a, timeout=None, **k: (
    None if f is course.grading.stress else _real(f, *a, timeout=timeout, **k))
"""
PATCH_SLEEP = "import time\ntime.sleep = lambda seconds: None\n"
# inside every function of the (correct) counter solution: turn the race window off at run time
PATCH_AT_RUN_TIME = "import course.grading.races as _r\n_r._window = lambda delay: None"


def _add_cell(nb, src, before="counter-solution"):
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == before)
    nb.cells.insert(index, new_code_cell(src))
    return nb


def _no_lock(run):
    return run.with_answers({**run.reference_answers(), "counter-solution": NO_LOCK})


# one grading run shared by the module's tests: keep them on one xdist worker
pytestmark = pytest.mark.xdist_group("adversarial")


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    run = GradingRun(tmp_path_factory.mktemp("adversarial"), ASSIGNMENT)
    run.submit("control", run.reference())
    run.submit("invalid-json", '{"cells": [ this is not json')

    deleted = run.reference()
    deleted.cells = [c for c in deleted.cells if c.get("id") != "counter-tests"]
    run.submit("deleted-test-cell", deleted)

    run.submit("renamed", run.reference(), filename="my-locks.ipynb")

    edited = _no_lock(run)
    next(c for c in edited.cells if c.get("id") == "counter-tests").source = "assert True"
    run.submit("edited-visible-test", edited)

    run.submit("exit-top-level", _add_cell(run.reference(), "import os\nos._exit(1)"))
    run.submit(
        "kill-kernel",
        _add_cell(run.reference(), "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"),
    )

    shadow = run.submit("shadow-course", _no_lock(run)).parent
    for name, text in FAKE_COURSE.items():
        (shadow / name).parent.mkdir(exist_ok=True)
        (shadow / name).write_text(text)

    run.submit("patch-helpers", _add_cell(_no_lock(run), PATCH_HELPERS))
    run.submit("patch-sleep", _add_cell(_no_lock(run), PATCH_SLEEP))
    run.submit("patch-internals", _add_cell(_no_lock(run), TAMPER_TOP_LEVEL))
    answers = run.reference_answers()
    answers["counter-solution"] = _functions_first(answers["counter-solution"], PATCH_AT_RUN_TIME)
    run.submit("patch-at-run-time", run.with_answers(answers))
    run.autograde()
    run.cells = grade_cells(run.source_nb)
    return run


def full(run):
    return {g: (p, p) for g, p in run.cells.items()}


def test_control_is_unaffected(hostile):
    assert hostile.scores("control") == full(hostile), hostile.log()[-3000:]


def test_invalid_json_is_flagged_and_others_graded(hostile):
    """Decision: nbgrader cannot read it; the run names the student instead of a silent 0."""
    assert hostile.result.returncode != 0
    assert "invalid-json" in hostile.log()
    assert hostile.autograded_nb("invalid-json") is None


def test_deleted_test_cell_is_restored_and_graded(hostile):
    """Decision: the test cell comes back from the gradebook (add_missing_cells) and is graded."""
    assert hostile.scores("deleted-test-cell") == full(hostile)


def test_renamed_notebook_scores_zero_with_a_warning(hostile):
    """Decision: nbgrader grades the expected file name only; a renamed notebook is missing."""
    assert "my-locks.ipynb" in hostile.log() or "missing" in hostile.log().lower()
    scores = hostile.scores("renamed")
    assert all(score == 0 for score, _ in scores.values()), scores


def test_edited_visible_test_is_restored(hostile):
    """Decision: locked test cells are restored, so `assert True` cannot hide a missing lock."""
    assert hostile.scores("edited-visible-test")["counter-tests"][0] == 0


def test_top_level_os_exit_fails_its_cell_only(hostile):
    """Decision: course.guard turns os._exit into an error; the notebook is graded as usual."""
    assert hostile.scores("exit-top-level") == full(hostile)
    nb = hostile.autograded_nb("exit-top-level")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    assert any("os._exit(1) was called" in o.evalue for o in errors), errors


def test_killed_kernel_is_flagged_and_others_graded(hostile):
    """Decision: a kernel killed from outside Python cannot be saved; nbgrader names the student."""
    assert "kill-kernel" in hostile.log()
    assert hostile.autograded_nb("kill-kernel") is None
    assert hostile.scores("control") == full(hostile)


@pytest.mark.parametrize(
    "student", ["shadow-course", "patch-helpers", "patch-sleep", "patch-internals"]
)
def test_tampering_cannot_raise_the_score(hostile, student):
    """Decision: the tests run on the real course package and the original objects."""
    scores = hostile.scores(student)
    assert scores["counter-tests"][0] == 0, f"{student} faked a pass"
    assert scores["withdraw-tests"][0] == hostile.cells["withdraw-tests"]


def test_tampering_at_run_time_scores_zero(hostile):
    """Decision: a correct solution that patches the grading library while the tests run
    loses the points of every test cell that ran it (the check fails in the grading child,
    or the guard writes its note on stderr in the kernel); other exercises are unaffected."""
    scores = hostile.scores("patch-at-run-time")
    assert scores["counter-tests"][0] == 0, scores
    assert scores["withdraw-tests"][0] == hostile.cells["withdraw-tests"], scores


@pytest.mark.parametrize("student", ["patch-helpers", "patch-sleep", "patch-internals"])
def test_tampering_is_reported_in_the_graded_notebook(hostile, student):
    nb = hostile.autograded_nb(student)
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    assert "grader note: the submission had replaced" in text


def test_untouched_copy_of_the_release_is_unchanged(hostile):
    nb = nbformat.read(hostile.root / "release" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    assert nb.cells, "sanity: the release notebook is readable"
