import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from course.classgrade.base import DEMO_TIME_SCALE  # noqa: E402
from course.syllabus import NAMES, notebook_path  # noqa: E402
from tests.mutants import alternatives_by_assignment, by_assignment, submissions  # noqa: E402

MUTANTS = by_assignment()
ALTERNATIVES = alternatives_by_assignment()
ASSIGNMENTS = [name for name in NAMES if (ROOT / notebook_path(name)).exists()]


def reference_runs(assignment: str) -> int:
    """Copies of the reference solution graded per assignment (env REFERENCE_RUNS overrides):
    2, to keep the suite under budget (every correct alternative is graded too);
    `make reliability` grades 20 of every assignment."""
    return int(os.environ.get("REFERENCE_RUNS", 2))


# Submissions graded at once per assignment. 1: one stock `nbgrader autograde` run; more: one
# `nbgrader autograde --student` per submission through course.classgrade. Measured here, 2 did
# not shorten the suite: each nbgrader start costs ~2 s of CPU, and both cores were busy.
GRADING_WORKERS = int(os.environ.get("GRADING_WORKERS", "1"))


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook turns the marks into "@group" node ids
def pytest_collection_modifyitems(items):
    """Keep the tests that share one expensive module-scoped fixture instance on one xdist worker.

    test_autograde.py and test_release.py share one grading run per assignment (`graded`);
    grouping its tests by assignment lets `--dist loadgroup` spread assignments over workers
    without grading any of them twice.
    """
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec and "graded" in callspec.params:
            item.add_marker(pytest.mark.xdist_group(f"grade-{callspec.params['graded']}"))


_GRADED: dict[str, object] = {}


@pytest.fixture(params=ASSIGNMENTS)
def graded(request, tmp_path_factory):
    """One autograde run of an assignment with reference, blank and mutant submissions.

    Cached by hand rather than with `scope="session"`: pytest keeps one instance of a
    parametrized higher-scoped fixture at a time and re-creates it whenever the test order
    switches between parameters (which xdist's scheduling does), grading an assignment twice.
    A failed grading is cached too, so every test of that assignment reports it once.
    """
    name = request.param
    if name not in _GRADED:
        try:
            _GRADED[name] = grade_corpus(name, tmp_path_factory.mktemp(name))
        except Exception as exc:  # noqa: BLE001 - re-raised below, in every test that asks
            _GRADED[name] = exc
    if isinstance(_GRADED[name], Exception):
        raise _GRADED[name]
    return _GRADED[name]


def grade_corpus(name: str, tmp):
    """Grade, in one stock `nbgrader autograde` run: `reference_runs` reference notebooks (the
    first whole, the others with only the cells the exercises need, proving the pruning keeps
    what grading needs), the blank release, one submission per group of mutants (mistakes and
    cheats) and one per group of correct alternatives (at most one per exercise in each), pruned
    the same way (`exercises_only`: the demos' seconds are not paid again per mutant)."""
    from tests.support.grading_run import GradingRun, exercises_only  # nbgrader: not always needed

    run = GradingRun(tmp, name)
    source = run.source_nb
    for i in range(reference_runs(name)):
        nb = run.reference()
        run.submit(f"reference-{i}", exercises_only(nb, source) if i else nb)
    run.submit("blank", run.release_nb())
    run.mutant_groups = submissions(MUTANTS.get(name, []))
    reference = run.reference_answers()
    for k, (answers, _) in enumerate(run.mutant_groups):
        nb = run.with_answers({**reference, **answers})
        run.submit(f"mutant-{k}", exercises_only(nb, source))
    run.alternative_groups = submissions(ALTERNATIVES.get(name, []))
    for k, (answers, _) in enumerate(run.alternative_groups):
        nb = run.with_answers({**reference, **answers})
        run.submit(f"alternative-{k}", exercises_only(nb, source))
    # as classgrade grades: the demos' pauses shortened, nothing graded depends on them
    run.autograde(workers=GRADING_WORKERS, COURSE_DEMO_TIME_SCALE=DEMO_TIME_SCALE)
    return run


# the browser tests' fixtures (lab, browser, page), shared by test_browser*.py
from tests.support.browser_fixtures import browser, lab, page  # noqa: E402, F401
