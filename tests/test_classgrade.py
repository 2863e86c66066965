"""`python -m course.classgrade`: parallel autograde, zip intake and the class report.

One synthetic class (4 students x 2 assignments, tests/support/synthetic_class.py) is graded by
classgrade with 2 workers; every grade read through the Gradebook API must equal the grade the
corpus expects of that submission, which is the grade stock serial nbgrader gives it
(tests/test_autograde.py checks every corpus submission so; benchmarks/bench_classgrade.py
compares parallel and serial runs of whole classes). The run also carries a submission that
hangs past nbgrader's cell timeout (killed at its time limit, kernel included) and one with
invalid JSON (reported with nbgrader's ERROR).
"""

import csv
import io
import shutil
import time
import zipfile

import nbformat
import psutil
import pytest

from course.classgrade.gradebook import read_scores
from course.grading.pictures import KINDS
from tests.support import synthetic_class
from tests.support.grading_run import ROOT
from tests.support.synthetic_class import classgrade_cli

ASSIGNMENTS = ["01-os-processes-threads", "05-locks"]
STUDENTS = 4
pytestmark = pytest.mark.xdist_group("classgrade")  # one graded class for the module's tests
# s per submission: a normal one takes ~5-10 s here and ~25 s when 8 helpers share the 2 cores,
# so 60 s leaves room; the hanging submission sleeps 6 x 30 s, well past it.
TIME_LIMIT = 60


def read_grades(root, assignments):
    return read_scores(f"sqlite:///{root / 'gradebook.db'}", assignments)


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The class graded in parallel by classgrade, with a hanging and a broken submission."""
    tmp = tmp_path_factory.mktemp("classgrade")
    course = synthetic_class.build_class(tmp, students=STUDENTS, assignments=ASSIGNMENTS, seed=3)

    pid_file = tmp / "hang.pid"
    course.submit(
        "zz-hangs",
        ASSIGNMENTS[0],
        synthetic_class.hanging_submission(course, ASSIGNMENTS[0], pid_file, cells=6),
    )
    course.submit("zz-broken", ASSIGNMENTS[1], '{"cells": [')
    start = time.perf_counter()
    cli = classgrade_cli(
        course.root, "autograde", *ASSIGNMENTS, "--workers", "2", "--time-limit", str(TIME_LIMIT)
    )
    seconds = time.perf_counter() - start
    return course, cli, seconds, pid_file


def test_parallel_grades_equal_the_expected_grades(graded_class):
    course, cli, _, _ = graded_class
    parallel = read_grades(course.root, ASSIGNMENTS)
    parallel.pop((ASSIGNMENTS[0], "zz-hangs"), None)  # both are in the gradebook, all zero
    parallel.pop((ASSIGNMENTS[1], "zz-broken"), None)
    expected = {(a, st): course.expected[st][a] for st in course.students for a in ASSIGNMENTS}
    assert parallel == expected, "a grade differs from the corpus's expectation"
    out = cli.stdout + cli.stderr
    for bad in ("database is locked", "IntegrityError", "OperationalError"):
        assert bad not in out


def test_progress_and_failure_summary(graded_class):
    _, cli, _, _ = graded_class
    assert cli.returncode == 1, "failures must give exit status 1"
    n = STUDENTS * len(ASSIGNMENTS) + 2
    assert f"{n}/{n} done, 2 failed, 0 running, 0 remaining" in cli.stderr
    assert f"{n} submissions, {n - 2} graded, 2 failed" in cli.stderr
    lines = cli.stderr.splitlines()
    hang = next(ln for ln in lines if "/ zz-hangs:" in ln)
    assert f"timeout: killed after the {TIME_LIMIT} s time limit" in hang
    broken = lines.index(next(ln for ln in lines if "/ zz-broken:" in ln))
    assert "NotJSONError" in "\n".join(lines[broken : broken + 4]), cli.stderr


def test_hung_submission_is_killed_with_its_kernel(graded_class):
    course, _, seconds, pid_file = graded_class
    kernel = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while psutil.pid_exists(kernel) and time.monotonic() < deadline:
        if psutil.Process(kernel).status() == psutil.STATUS_ZOMBIE:
            break
        time.sleep(0.2)
    alive = psutil.pid_exists(kernel) and psutil.Process(kernel).status() != "zombie"
    assert not alive, "the hung submission's kernel outlived the time limit"
    assert seconds < 3 * TIME_LIMIT


def test_report_pass_rates_messages_and_png(graded_class):
    course, _, _, _ = graded_class
    done = classgrade_cli(course.root, "report", *ASSIGNMENTS, "--out", "reports")
    assert done.returncode == 0, done.stdout + done.stderr
    out = course.root / "reports"
    png = (out / "class-report.png").read_bytes()
    assert png.startswith(b"\x89PNG")
    grades = (out / "grades.csv").read_text().splitlines()
    assert grades[0].startswith("assignment,duedate,timestamp,student_id")
    students = STUDENTS + 2  # zz-hangs and zz-broken
    assert len(grades) == 1 + students * len(ASSIGNMENTS)  # export: every student x assignment

    rows = [ln.split(",") for ln in (out / "pass-rates.csv").read_text().splitlines()[1:]]
    for a, test, _, passed, total, _ in rows:
        want = sum(course.expected[st][a][test] > 0 for st in course.students)
        extra = 1  # zz-hangs / zz-broken: in the gradebook with zero scores
        assert (int(passed), int(total)) == (want, len(course.students) + extra), (a, test)
        assert f"{a}  " in done.stdout and test in done.stdout

    messages = (out / "failure-messages.csv").read_text()
    failing = {(a, t) for a, t, _, p, n, _ in rows if int(p) < int(n)}
    for a, t in failing:
        assert f"{a},{t}," in messages
    assert "not graded (no autograded notebook)" in messages

    # issue 19: per failing test, its kinds of failure, each with one example picture if drawn
    kinds = list(csv.DictReader((out / "failure-kinds.csv").open()))
    page = (out / "failure-kinds.html").read_text()
    for a, t, _, p, n, _ in rows:
        counted = sum(int(k["count"]) for k in kinds if (k["assignment"], k["test"]) == (a, t))
        assert counted == int(n) - int(p), (a, t, kinds)
    pictured = [k for k in kinds if k["kind"] in KINDS]
    assert pictured, f"no failure of the class drew a picture: {kinds}"
    for k in pictured:
        assert f"alt='{k['kind']} of {k['example_student']}' src='data:image/png;base64," in page


def test_collect_flat_and_folder_archives(tmp_path):
    root = tmp_path / "course"
    name = ASSIGNMENTS[1]
    (root / "release" / name).mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    shutil.copy(ROOT / "release" / name / f"{name}.ipynb", root / "release" / name)
    text = nbformat.writes(nbformat.v4.new_notebook())
    flat, folders = tmp_path / "flat.zip", tmp_path / "folders.zip"
    with zipfile.ZipFile(flat, "w") as zf:
        zf.writestr(f"ann_1234_attempt_2024-05-01_{name}.ipynb", text)
        zf.writestr(f"bo_{name}.ipynb", text)
        zf.writestr("readme.txt", "not a notebook")
    with zipfile.ZipFile(folders, "w") as zf:
        zf.writestr(f"export/cy/{name}.ipynb", text)
        zf.writestr(f"export/dee/{name}.ipynb", text)
    done = classgrade_cli(root, "collect", name, str(flat), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "flat convention" in done.stdout
    done = classgrade_cli(root, "collect", name, str(folders), timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "folders convention" in done.stdout
    for student in ("ann", "bo", "cy", "dee"):
        assert (root / "submitted" / student / name / f"{name}.ipynb").exists(), student


def test_synthetic_class_choice_is_seeded():
    kinds = ["reference", "blank", "mutant-0", "mutant-1", "mutant-2"]
    students = synthetic_class.student_names(40)
    one = synthetic_class.choose_kinds(students, ASSIGNMENTS, kinds, seed=5)
    assert one == synthetic_class.choose_kinds(students, ASSIGNMENTS, kinds, seed=5)
    assert one != synthetic_class.choose_kinds(students, ASSIGNMENTS, kinds, seed=6)
    drawn = {k for per in one.values() for k in per.values()}
    assert {"reference", "blank"} <= drawn and any(k.startswith("mutant") for k in drawn)


# slow: one classgrade run per assignment on top of the suite's stock ones (make test-cluster);
# the stock grading in `graded` plus this one took over 10 minutes on the shared 2-core machine
@pytest.mark.slow
@pytest.mark.timeout(3600)
def test_grades_equal_stock_nbgrader_on_every_corpus_submission(graded, tmp_path):
    """classgrade (warm children, scaled demo pauses) vs the stock `nbgrader autograde` run of
    conftest's `graded`: reference copies, the blank release, every mutant group and every
    correct alternative of the assignment, compared through the Gradebook API."""
    from nbgrader.api import Gradebook

    from course.classgrade import autograde

    root = tmp_path / "course"
    shutil.copytree(graded.root, root, ignore=shutil.ignore_patterns("autograded", "feedback"))
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:  # keep only the assignment
        for sub in gb.assignment_submissions(graded.assignment):
            gb.remove_submission(graded.assignment, sub.student.id)
    jobs = autograde(root, [graded.assignment], workers=2, time_limit=300, stream=io.StringIO())
    assert jobs and not [(j.student, j.reasons) for j in jobs if j.failed]
    stock = read_grades(graded.root, [graded.assignment])
    assert read_grades(root, [graded.assignment]) == stock
    assert len(stock) == len(jobs)
