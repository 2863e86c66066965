"""The grading corpus: every kind of submission a TA may meet, built from the real notebooks.

For one assignment `corpus(run)` returns `Submission`s: the reference solution, the blank
release, every mutant of tests/mutants, and adversarial submissions (a hung or looping top-level
cell, os._exit and sys.exit at top level and inside the graded functions, a small fork bomb, 10 MB
of output, stderr from a solution, an edited visible test, a deleted test cell, a renamed
notebook, invalid JSON, a module shadowing `course`, monkeypatched grading helpers, a patched
clock and random seed). Each carries the grade that is right for it (`expect`), so the
reliability run and the class-scale tests can check every outcome, not only count them.

>>> [case.name for case in ADVERSARIAL][:3]
['top-level deadlock', 'top-level endless loop', 'top-level os._exit']
"""

import ast
from dataclasses import dataclass, field

from nbformat.v4 import new_code_cell

from tests.mutants import Mutant, alternatives_by_assignment, by_assignment, submissions
from tests.support.grading_run import GradingRun, grade_cells

FULL, MUTANT, ZERO, MISSING = "full marks", "the mutant's score", "zero", "flagged, not graded"


@dataclass
class Submission:
    student: str
    kind: str  # reference | blank | mutant | alternative | adversarial
    name: str
    content: object  # a notebook, or raw text for a broken file
    filename: str | None = None
    files: dict[str, str] = field(default_factory=dict)  # extra files shipped with it
    expect: dict[str, float] | None = None  # {test cell: score}; None: not graded (flagged)


@dataclass(frozen=True)
class Case:
    name: str
    base: str  # FULL: built on the reference; MUTANT: on the first mutant
    top_level: str = ""  # code of a cell inserted before the first exercise
    in_functions: str = ""  # code put first in every function of the first solution cell
    solution_suffix: str = ""  # code appended to the first solution cell
    outcome: str = FULL  # FULL | MUTANT | ZERO (the first exercise) | MISSING


# every way a solution cell could tamper with the grading library or hide a failure (each is
# undone by course.guard before the next statement; docs/adversarial-submissions.md)
TAMPER_TOP_LEVEL = """\
import sys, course.grading as _g, course.grading.races as _r, course.grading.isolated as _i
import course.servers as _s
from IPython import get_ipython
_r._window = lambda delay: None
_r.stress.__code__ = (lambda *args, **kwargs: None).__code__
_i._run_forked = lambda target, timeout, label: None
_g.Probe.peak = lambda self: 10**6
_s.DelayServer.stats = lambda self: (10**6, 10**6, ())
_ip = get_ipython()
_ip.showtraceback = lambda *args, **kwargs: None
_ip.set_custom_exc((Exception,), lambda *args, **kwargs: None)
sys.excepthook = lambda *args: None
_ip.events.callbacks["pre_run_cell"].clear()
_ip.events.callbacks["post_run_cell"].clear()
"""

ADVERSARIAL = [
    Case(
        "top-level deadlock",
        FULL,
        top_level="import threading\n_l = threading.Lock()\n_l.acquire()\n_l.acquire()",
    ),
    Case("top-level endless loop", FULL, top_level="while True:\n    pass"),
    Case("top-level os._exit", FULL, top_level="import os\nos._exit(1)"),
    Case("top-level sys.exit", FULL, top_level="import sys\nsys.exit(3)"),
    Case("top-level raise SystemExit", FULL, top_level="raise SystemExit"),
    Case(
        "small fork bomb",
        FULL,
        top_level=(
            "import os, time\n"
            "for _ in range(20):\n"
            "    if os.fork() == 0:\n"
            "        time.sleep(0.5)\n"
            "        os._exit(0)"
        ),
    ),
    Case("10 MB of output", FULL, top_level="print('x' * 10_000_000)"),
    Case(
        "stderr from a solution",
        FULL,
        solution_suffix="import sys\nprint('warning!', file=sys.stderr)",
    ),
    Case(
        "os._exit in the graded function", FULL, in_functions="import os\nos._exit(1)", outcome=ZERO
    ),
    Case(
        "sys.exit in the graded function",
        FULL,
        in_functions="import sys\nsys.exit(2)",
        outcome=ZERO,
    ),
    Case(
        "deadlock in the graded function",
        FULL,
        in_functions="import threading\n_l = threading.Lock()\n_l.acquire()\n_l.acquire()",
        outcome=ZERO,
    ),
    Case(
        "patched grading helpers",
        MUTANT,
        top_level=(
            "import course.grading\n"
            "course.grading.run_isolated = lambda f, *a, timeout=None, **k: None\n"
            "course.grading.stress = lambda *a, **k: None"
        ),
        outcome=MUTANT,
    ),
    Case(
        "patched threading.Lock and clock",
        MUTANT,
        top_level=(
            "import threading, time, random\n"
            "threading.Lock = threading.RLock\n"
            "time.sleep = lambda s: None\n"
            "time.perf_counter = lambda: 0.0\n"
            "random.seed(0)"
        ),
        outcome=MUTANT,
    ),
    Case(
        "tampered grading internals and error display",
        MUTANT,
        top_level=TAMPER_TOP_LEVEL,
        outcome=MUTANT,
    ),
    Case(
        "grading library patched inside the graded function",
        FULL,
        in_functions=(
            "import course.grading.races as _r\n"
            "_r._window = lambda delay: None\n"
            "_r.set_access_hook(lambda *args: True)"
        ),
        outcome=ZERO,
    ),
]


def _functions_first(code: str, prelude: str) -> str:
    """`code` with `prelude` as the first statement of every function and method it defines."""
    tree = ast.parse(code)
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            node.body[:0] = ast.parse(prelude).body
    return ast.unparse(tree)


def _insert_before(nb, grade_id: str, src: str):
    index = next(i for i, c in enumerate(nb.cells) if c.get("id") == grade_id)
    nb.cells.insert(index, new_code_cell(src))
    return nb


def corpus(
    run: GradingRun, mutants: list[Mutant] | None = None, adversarial=True, group_mutants=False
):
    """Every submission for `run.assignment`, each with its expected scores.

    With `group_mutants`, one submission carries a mutant of every exercise at once (as the
    test suite grades them: exercises are independent), so there are fewer to grade.
    """
    mutants = by_assignment().get(run.assignment, []) if mutants is None else mutants
    cells = grade_cells(run.source_nb)
    reference = run.reference_answers()
    first = next(iter(reference))
    full = dict(cells)
    out = [
        Submission("reference", "reference", "reference", run.reference(), expect=full),
        Submission(
            "blank", "blank", "blank release", run.release_nb(), expect=dict.fromkeys(cells, 0.0)
        ),
    ]
    groups = submissions(mutants) if group_mutants else [({m.cell: m.code}, [m]) for m in mutants]
    for k, (answers, carried) in enumerate(groups):
        failing = {g for m in carried for g in m.fails}
        expect = {g: 0.0 if g in failing else p for g, p in cells.items()}
        nb = run.with_answers({**reference, **answers})
        name = " + ".join(f"{m.cell}: {m.name}" for m in carried)
        out.append(Submission(f"mutant-{k}", "mutant", name, nb, expect=expect))
    alternatives = alternatives_by_assignment().get(run.assignment, [])
    groups = (
        submissions(alternatives)
        if group_mutants
        else [({a.cell: a.code}, [a]) for a in alternatives]
    )
    for k, (answers, carried) in enumerate(groups):
        nb = run.with_answers({**reference, **answers})
        name = " + ".join(f"{a.cell}: {a.name}" for a in carried)
        out.append(Submission(f"alternative-{k}", "alternative", name, nb, expect=full))
    if not adversarial:
        return out

    first_mutant = next((m for m in mutants if m.cell == first), None)
    first_tests = _tests_of(run, first)
    for k, case in enumerate(ADVERSARIAL):
        if case.base == MUTANT and first_mutant is None:
            continue
        answers = dict(reference)
        if case.base == MUTANT:
            answers[first] = first_mutant.code
        if case.in_functions:
            answers[first] = _functions_first(answers[first], case.in_functions)
        if case.solution_suffix:
            answers[first] += "\n" + case.solution_suffix
        nb = run.with_answers(answers)
        if case.top_level:
            _insert_before(nb, first, case.top_level)
        if case.outcome == FULL:
            expect = full
        elif case.outcome == MUTANT:
            expect = {g: 0.0 if g in first_mutant.fails else p for g, p in cells.items()}
        else:
            expect = {g: 0.0 if g in first_tests else p for g, p in cells.items()}
        out.append(Submission(f"adversary-{k}", "adversarial", case.name, nb, expect=expect))

    n = len(ADVERSARIAL)
    edited = run.with_answers({**reference, first: first_mutant.code}) if first_mutant else None
    if edited is not None:
        for cell in edited.cells:
            if cell.get("id") in first_tests:
                cell.source = "assert True"
        expect = {g: 0.0 if g in first_mutant.fails else p for g, p in cells.items()}
        out.append(
            Submission(
                f"adversary-{n}", "adversarial", "visible test edited", edited, expect=expect
            )
        )
        shadow = run.with_answers({**reference, first: first_mutant.code})
        fake = "def run_isolated(f, *a, timeout=None, **k):\n    return None\n"
        out.append(
            Submission(
                f"adversary-{n + 1}",
                "adversarial",
                "module shadowing course",
                shadow,
                files={"course/__init__.py": "", "course/grading.py": fake},
                expect=expect,
            )
        )
    deleted = run.reference()
    deleted.cells = [c for c in deleted.cells if c.get("id") not in first_tests]
    out.append(
        Submission(f"adversary-{n + 2}", "adversarial", "test cell deleted", deleted, expect=full)
    )
    out.append(
        Submission(
            f"adversary-{n + 3}",
            "adversarial",
            "notebook renamed",
            run.reference(),
            filename="renamed.ipynb",
            expect=dict.fromkeys(cells, 0.0),
        )
    )
    out.append(
        Submission(f"adversary-{n + 4}", "adversarial", "invalid JSON", '{"cells": [', expect=None)
    )
    return out


def _tests_of(run: GradingRun, solution_id: str) -> set[str]:
    """The test cells that follow a solution cell, up to the next solution cell."""
    found, inside = set(), False
    for cell in run.source_nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            inside = meta.get("grade_id") == solution_id
        elif inside and meta.get("grade"):
            found.add(meta["grade_id"])
    return found


def submit_all(
    run: GradingRun, submissions: list[Submission], copies: int = 1
) -> dict[str, Submission]:
    """Write each submission `copies` times (students suffixed -r0, -r1 ...); map student -> it."""
    placed = {}
    for sub in submissions:
        for r in range(copies):
            student = sub.student if copies == 1 else f"{sub.student}-r{r}"
            path = run.submit(student, sub.content, sub.filename)
            for name, text in sub.files.items():
                (path.parent / name).parent.mkdir(parents=True, exist_ok=True)
                (path.parent / name).write_text(text)
            placed[student] = sub
    return placed


def check(run: GradingRun, student: str, sub: Submission, log: str | None = None) -> str:
    """'' if the graded outcome is the expected one, else what went wrong.

    `log` is nbgrader's output for this submission (default: the run's last autograde).
    """
    if sub.expect is None:
        if run.autograded_nb(student) is not None:
            return "graded, but should have been flagged"
        return "" if student in (run.log() if log is None else log) else "not named in the log"
    try:
        scores = run.scores(student)
    except Exception as exc:  # noqa: BLE001 - the gradebook has no such submission
        return f"no grades: {type(exc).__name__}: {exc}"
    wrong = {
        g: (scores.get(g, (None,))[0], want)
        for g, want in sub.expect.items()
        if scores.get(g, (None,))[0] != want
    }
    return (
        ""
        if not wrong
        else "; ".join(f"{g}: got {got}, expected {want}" for g, (got, want) in wrong.items())
    )
