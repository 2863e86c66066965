"""A synthetic class: N students, each handing in a corpus submission for every assignment.

`build_class` makes a throwaway nbgrader course (the repository's nbgrader_config.py, the
assignments' source/, `nbgrader generate_assignment` run once per assignment, so the gradebook
knows every assignment) and writes `submitted/<student>/<assignment>/<assignment>.ipynb` for
every student. What each student hands in is drawn, with a seeded random generator, from the
grading corpus of tests/support/submission_corpus.py (reference, blank release, every
mutant), so the same seed always gives the same class and every submission carries the grade
it must get (`expect`).

    course = build_class(tmp_path, students=6, assignments=["01-os-processes-threads"], seed=1)
    course.root                       # the course directory (run classgrade from here)
    course.expected["s01"]["01-os-processes-threads"]   # {test cell: points}

The choice alone, without building anything, is deterministic and cheap:

>>> kinds = ["reference", "blank", "mutant-0", "mutant-1"]
>>> choose_kinds(["s01", "s02", "s03"], ["05-locks"], kinds, seed=7) == choose_kinds(
...     ["s01", "s02", "s03"], ["05-locks"], kinds, seed=7)
True
>>> student_names(3)
['s01', 's02', 's03']
"""

import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

from course.syllabus import NAMES, notebook_path
from tests.support.grading_run import ROOT, GradingRun, nbgrader, run_module
from tests.support.submission_corpus import Submission, corpus

# How often each kind of submission is drawn: most students are right or nearly right.
# Numbered kinds (mutant-0, alternative-1, ...) share their family's weight.
WEIGHTS = {"reference": 3.0, "alternative": 1.0, "blank": 1.0, "mutant": 5.0}


def student_names(n: int) -> list[str]:
    """`n` student ids, s01, s02, ... (zero-padded so they sort in order)."""
    width = max(2, len(str(n)))
    return [f"s{k:0{width}d}" for k in range(1, n + 1)]


def choose_kinds(
    students: list[str], assignments: list[str], kinds: list[str], seed: int
) -> dict[str, dict[str, str]]:
    """{student: {assignment: kind}}: a seeded, weighted choice of `kinds` (corpus names).

    Every (student, assignment) pair draws from its own generator seeded with the pair and
    `seed`, so adding a student or an assignment never changes what the others hand in.
    """
    family = [k.split("-")[0] for k in kinds]
    weights = [WEIGHTS[f] / family.count(f) for f in family]
    return {
        st: {a: random.Random(f"{seed}:{st}:{a}").choices(kinds, weights)[0] for a in assignments}
        for st in students
    }


def available_assignments() -> list[str]:
    """Every assignment of the syllabus whose source notebook exists, in teaching order."""
    return [name for name in NAMES if (ROOT / notebook_path(name)).exists()]


def classgrade_cli(root: Path, *args: str, timeout: float = 900):
    """`python -m course.classgrade ARGS` run in course `root` (output captured)."""
    return run_module("course.classgrade", list(args), root, timeout, PYTHONPATH=str(ROOT))


def assignment_run(root: Path, assignment: str) -> GradingRun:
    """A `GradingRun` view of one assignment of an existing course (no new course is built)."""
    run = GradingRun.__new__(GradingRun)
    run.tmp, run.assignment, run.root = root.parent, assignment, root
    run.seconds, run.result = 0.0, None
    return run


def make_course(tmp: Path, assignments: list[str], config: str = "") -> Path:
    """A fresh course directory under `tmp` with `assignments` generated into its gradebook.

    `config` is appended to the course's copy of nbgrader_config.py (a `db_url`, say).
    """
    root = Path(tmp) / "course"
    (root / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", root)
    with open(root / "nbgrader_config.py", "a", encoding="utf-8") as f:
        f.write(config)
    for name in assignments:
        shutil.copytree(ROOT / "source" / name, root / "source" / name)
        done = nbgrader(["generate_assignment", name, "--force"], root)
        assert done.returncode == 0, done.stdout + done.stderr
    return root


@dataclass
class SyntheticClass:
    root: Path
    assignments: list[str]
    students: list[str]
    kinds: dict[str, dict[str, str]]  # {student: {assignment: corpus submission name}}
    expected: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)

    def submit(self, student: str, assignment: str, nb) -> Path:
        """Place notebook `nb` (or raw text) as `student`'s submission of `assignment`."""
        folder = self.root / "submitted" / student / assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{assignment}.ipynb"
        path.write_text(nb if isinstance(nb, str) else nbformat.writes(nb), encoding="utf-8")
        return path

    def run(self, assignment: str) -> GradingRun:
        return assignment_run(self.root, assignment)


def build_class(
    tmp: Path,
    students: int = 6,
    assignments: list[str] | None = None,
    seed: int = 0,
    config: str = "",
) -> SyntheticClass:
    """Build a course under `tmp` and hand in one corpus submission per student and assignment."""
    assignments = assignments or available_assignments()
    root = make_course(tmp, assignments, config)
    names = student_names(students)
    pools: dict[str, dict[str, Submission]] = {}
    for a in assignments:
        subs = corpus(assignment_run(root, a), adversarial=False)
        pools[a] = {s.student: s for s in subs}  # reference, blank, mutant-0, mutant-1 ...
    kinds = {st: {} for st in names}
    for a in assignments:
        for st, chosen in choose_kinds(names, [a], list(pools[a]), seed).items():
            kinds[st][a] = chosen[a]
    course = SyntheticClass(root, assignments, names, kinds)
    for st in names:
        course.expected[st] = {}
        for a in assignments:
            sub = pools[a][kinds[st][a]]
            course.submit(st, a, sub.content)
            course.expected[st][a] = dict(sub.expect)
    return course


def hanging_submission(course: SyntheticClass, assignment: str, pid_file: Path, cells: int = 4):
    """The reference solution preceded by `cells` top-level cells that each sleep "forever".

    nbgrader interrupts each at its 30 s cell timeout and goes on to the next, so the notebook
    takes `cells` x 30 s: only a per-submission time limit ends it sooner. The first cell writes
    the kernel's pid to `pid_file`, so a test can check the kernel did not outlive the kill.
    """
    nb = course.run(assignment).reference()
    sleeps = [new_code_cell("import time\ntime.sleep(10**6)") for _ in range(cells)]
    pid = new_code_cell(f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))")
    nb.cells[:0] = [pid, *sleeps]
    return nb
