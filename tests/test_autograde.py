"""Every assignment, graded for real: reference solutions, blank releases, mutants (mistakes and
cheats) and correct alternatives.

The `graded` fixture in conftest.py grades all of an assignment's submissions in one stock
`nbgrader autograde` run (GRADING_WORKERS > 1: one run per submission, that many at a time);
scores are read from the gradebook. `reference_runs` (2, env REFERENCE_RUNS) copies of the
reference solution are graded, the first as a whole notebook; mutants and alternatives carry only
the cells their exercises need (`exercises_only`); `make reliability` grades 20 whole copies of
everything.
"""

import ast
import html
import re
from pathlib import Path

import pytest

from course.grading.pictures import failure_picture
from tests.conftest import ALTERNATIVES, MUTANTS, reference_runs
from tests.support.grading_run import grade_cells, hidden_test_lines, notebook_text


def graded_cell(nb, grade_id: str):
    """The cell of an autograded notebook with this grade id."""
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def cell_text(nb, grade_id: str) -> str:
    """All output text (streams, errors with tracebacks) of one cell, ANSI codes removed."""
    cell = graded_cell(nb, grade_id)
    parts = []
    for out in cell.get("outputs", []):
        parts.append(out.get("text", ""))
        parts += [out.get("ename", ""), out.get("evalue", "")] + out.get("traceback", [])
    return re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(parts))


def test_autograde_run_is_clean(graded):
    assert graded.result.returncode == 0, graded.log()[-3000:]


def test_reference_gets_full_marks_every_time(graded):
    cells = grade_cells(graded.source_nb)
    for i in range(reference_runs(graded.assignment)):
        scores = graded.scores(f"reference-{i}")
        nb = graded.autograded_nb(f"reference-{i}")
        for grade_id, points in cells.items():
            assert scores[grade_id] == (points, points), (
                f"reference run {i}: {grade_id} scored {scores[grade_id]}\n"
                + cell_text(nb, grade_id)[-2000:]
            )


def test_blank_release_scores_zero(graded):
    scores = graded.scores("blank")
    assert scores, "the blank submission has no graded cells"
    assert all(score == 0 for score, _ in scores.values()), scores


def test_each_mutant_loses_exactly_its_points(graded):
    cells = grade_cells(graded.source_nb)
    for k, (_, mutants) in enumerate(graded.mutant_groups):
        student = f"mutant-{k}"
        scores = graded.scores(student)
        nb = graded.autograded_nb(student)
        failing = {f for m in mutants for f in m.fails}
        for grade_id, points in cells.items():
            expected = 0.0 if grade_id in failing else points
            who = ", ".join(f"{m.cell}: {m.name}" for m in mutants)
            assert scores[grade_id][0] == expected, (
                f"{student} ({who}): {grade_id} scored {scores[grade_id][0]}, expected {expected}\n"
                + cell_text(nb, grade_id)[-2000:]
            )
        for m in mutants:
            for grade_id in m.fails:
                text = cell_text(nb, grade_id)
                assert "CellTimeoutError" not in text, f"{m.name}: hit the cell timeout\n{text}"
                assert m.expect in text, f"{m.name}: message lacks {m.expect!r}\n{text[-2000:]}"


def test_correct_alternatives_get_full_marks(graded):
    cells = grade_cells(graded.source_nb)
    for k, (_, alternatives) in enumerate(graded.alternative_groups):
        student = f"alternative-{k}"
        scores = graded.scores(student)
        nb = graded.autograded_nb(student)
        who = ", ".join(f"{a.cell}: {a.name}" for a in alternatives)
        for grade_id, points in cells.items():
            assert scores[grade_id] == (points, points), (
                f"{student} ({who}): {grade_id} scored {scores[grade_id]}\n"
                + cell_text(nb, grade_id)[-2000:]
            )


def test_every_exercise_has_mutants_cheats_and_alternatives(graded):
    """At least 3 realistic mistakes, 2 cheats and 2 correct alternatives per graded exercise."""
    counts = {cell: [0, 0, 0] for cell in graded.reference_answers()}
    for m in MUTANTS.get(graded.assignment, []):
        counts[m.cell][0 if m.kind == "mistake" else 1] += 1
    for a in ALTERNATIVES.get(graded.assignment, []):
        counts[a.cell][2] += 1
    short = {c: n for c, n in counts.items() if n[0] < 3 or n[1] < 2 or n[2] < 2}
    assert not short, f"(mistakes, cheats, alternatives) per exercise: {short}"


GRADING_SOURCE = Path(__file__).resolve().parent.parent / "course" / "grading"
# Failures that are not a comparison of values (a hang, a crash, a broken rule) say what happened.
NOT_A_COMPARISON = ("Timed out", "not written yet", "deadlock", "raised", "ended the process")
LONGEST: dict[str, int] = {}


def grading_source_lines() -> set[str]:
    """Distinctive code lines of the grading library (none may show in a failure); docstrings
    are left out: their examples quote what a failure looks like."""
    lines = set()
    for path in GRADING_SOURCE.glob("*.py"):
        text = path.read_text()
        docs = set()
        for node in ast.walk(ast.parse(text)):
            body = getattr(node, "body", None)
            if isinstance(body, list) and body and isinstance(body[0], ast.Expr):
                if isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
                    docs |= set(range(body[0].lineno, body[0].end_lineno + 1))
        for number, line in enumerate(text.splitlines(), 1):
            line = line.strip()
            if number not in docs and len(line) > 24 and not line.startswith("#"):
                lines.add(line)
    return lines


def test_failure_messages_can_be_acted_on(graded):
    """Every failing test cell of a mutant or cheat names what was expected and what the student's
    code gave (or what happened instead: a hang, a crash, a broken rule) and shows no line of the
    grading library; the longest failure output is printed."""
    library = grading_source_lines()
    longest = (0, "")
    for k, (_, mutants) in enumerate(graded.mutant_groups):
        nb = graded.autograded_nb(f"mutant-{k}")
        for m in mutants:
            for grade_id in m.fails:
                text = cell_text(nb, grade_id)
                shown = [ln.strip() for ln in text.splitlines() if ln.strip()]
                leaked = [ln for ln in shown if ln in library]
                assert not leaked, f"{m.name}: grading-library source in the output: {leaked[:3]}"
                compares = re.search(r"expected\b.*\b(got|returned|gave)\b", text, re.I | re.S)
                assert compares or any(w in text for w in NOT_A_COMPARISON), (
                    f"{m.name}: the failure names neither expected vs actual nor what happened\n"
                    + text[-2000:]
                )
                if len(shown) > longest[0]:
                    longest = (len(shown), f"{m.cell}: {m.name}")
    LONGEST[graded.assignment] = longest[0]
    print(f"{graded.assignment}: longest failure output {longest[0]} lines ({longest[1]})")


def test_feedback_shows_results_but_no_hidden_tests(graded):
    """The feedback HTML of a reference and of a mutant: the failure's explanation, no line of
    the hidden tests (whose text nbgrader strips whatever the submission)."""
    done = graded.feedback("[rm]*-0")  # reference-0 and mutant-0: a glob, one nbgrader run
    assert done.returncode == 0, done.stdout + done.stderr
    release = notebook_text(graded.release_nb())
    hidden = [line for line in hidden_test_lines(graded.source_nb) if line not in release]
    assert hidden, "the source notebook has no distinctive hidden-test lines"
    assert not (graded.root / "feedback" / "blank").exists(), "feedback for unasked students"
    for student in ["reference-0", "mutant-0"]:
        page = html.unescape(re.sub(r"<[^>]+>", "", graded.feedback_html(student)))
        leaked = [line for line in hidden if line in page]
        assert not leaked, f"hidden test source in {student}'s feedback: {leaked[:3]}"
    assert "Timed out" in page or "expected" in page, "feedback lacks the failure explanation"


def test_blank_release_fails_only_at_the_exercise_stubs(graded):
    """The student version runs top to bottom; the only errors come from the unwritten exercises."""
    nb = graded.autograded_nb("blank")
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "error":
                text = out.ename + out.evalue + "".join(out.traceback)
                assert "NotImplementedError" in text, f"{cell.get('id')}: {out.ename}: {out.evalue}"


PICTURED = {  # kind of failure picture: (assignment, mutant name, failing test cell)
    "race": ("05-locks", "no lock", "counter-tests"),
    "schedule": ("08-queues", "`if` instead of `while` around wait() in get", "bounded-tests"),
    "deadlock": ("06-deadlock-rlock", "AB/BA: source lock first", "transfer-tests"),
    "limit": ("07-event-semaphore", "no limit at all", "limiter-tests"),
    "events": ("09-coroutines", "producer never closes the pipeline", "pipeline-tests"),
}


@pytest.mark.parametrize("graded", sorted({a for a, _, _ in PICTURED.values()}), indirect=True)
def test_a_failing_check_shows_the_picture_of_the_run(graded):
    """Issue 19: a mutant's failing test cell shows, below the error, the picture of its own run
    (tagged with its kind); the feedback HTML embeds it and holds no hidden-test line; no test
    cell of the reference draws anything."""
    for kind, (assignment, name, grade_id) in PICTURED.items():
        if assignment != graded.assignment:
            continue
        groups = [[m.name for m in mutants] for _, mutants in graded.mutant_groups]
        student = f"mutant-{next(k for k, names in enumerate(groups) if name in names)}"
        outputs = graded_cell(graded.autograded_nb(student), grade_id).outputs
        types = [o.output_type for o in outputs]
        assert "error" in types and "image/png" in outputs[-1].get("data", {}), (name, types)
        assert not [o for o in outputs if o.get("name") == "stderr"], outputs
        got_kind, png = failure_picture(outputs)
        assert got_kind == kind and png.startswith(b"\x89PNG"), (name, got_kind)

        done = graded.feedback(student)
        assert done.returncode == 0, done.stdout + done.stderr
        page = graded.feedback_html(student)
        assert outputs[-1]["data"]["image/png"].strip()[:200] in page.replace("\n", "")
        leaked = [line for line in hidden_test_lines(graded.source_nb) if line in page]
        assert not leaked, leaked[:5]
    for cell in graded.autograded_nb("reference-0").cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            images = [o for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
            assert not images, f"{cell.metadata.nbgrader['grade_id']} of the reference drew"
