"""Run stock nbgrader on a throwaway course directory and read the grades back from the gradebook.

A `GradingRun` copies one assignment's source into a temporary course (with the repository's own
nbgrader_config.py), generates the student version, writes submissions (reference solution,
blank release, mutants, anything a test builds), runs `nbgrader autograde` once for all of them
and exposes the per-cell scores read through nbgrader's Gradebook API.

    run = GradingRun(tmp_path, "05-locks")
    run.submit("alice", run.reference())
    run.autograde()
    run.scores("alice")          # {"counter-tests": (2.0, 2.0), ...}  (score, max_score)
"""

import ast
import io
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbgrader.api import Gradebook

from course.classgrade.base import nbgrader_env

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_RE = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN_RE = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)


def run_module(module: str, args: list[str], cwd: Path, timeout: float = 900, **env):
    """`python -m module args` in `cwd` with this environment's scripts first on PATH (nbgrader
    runs `alembic` from PATH, and pytest may run without the venv activated); `env` adds
    variables. Output is captured for error messages."""
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=nbgrader_env(**env),
    )


def nbgrader(args: list[str], cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess:
    """Run a stock nbgrader command in `cwd`."""
    return run_module("nbgrader", args, cwd, timeout)


def grade_cells(nb) -> dict[str, float]:
    """{grade_id: points} of the autograded test cells of a notebook."""
    return {
        c.metadata.nbgrader["grade_id"]: float(c.metadata.nbgrader.get("points", 0))
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade")
    }


def solution_code(source_cell) -> str:
    """The reference answer of a source solution cell, markers removed."""
    return SOLUTION_RE.sub("", source_cell.source)


def notebook_text(nb) -> str:
    """All cell sources of a notebook as plain text (not JSON, whose escaping hides matches)."""
    return "\n".join(cell.source for cell in nb.cells)


def hidden_test_lines(nb) -> list[str]:
    """Meaningful lines inside the BEGIN/END HIDDEN TESTS blocks of a source notebook."""
    lines = []
    for cell in nb.cells:
        for block in HIDDEN_RE.findall(cell.source):
            lines += [ln.strip() for ln in block.splitlines() if len(ln.strip()) > 12]
    return lines


def _root(node):
    """The name an attribute or item chain starts from (`a.b[0].c` -> "a"), else None."""
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def cell_names(code: str) -> tuple[set[str], set[str], bool] | None:
    """(names a cell binds, names it reads without binding them, whether it must be kept for
    changing state it did not create: `module.flag = 1`, `registry[k] = v` on a name bound
    elsewhere or imported); None for IPython magics, shell escapes or code that does not parse
    (nothing is known about them)."""
    if any(line.lstrip().startswith(("%", "!")) for line in code.splitlines()):
        return None
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    bound, imported, read, stored_into = set(), set(), set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            (read if isinstance(node.ctx, ast.Load) else bound).add(node.id)
        elif isinstance(node, ast.Attribute | ast.Subscript) and isinstance(node.ctx, ast.Store):
            stored_into.append(_root(node))
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            imported.add((node.asname or node.name).split(".")[0])
        elif isinstance(node, ast.Global | ast.Nonlocal):
            bound.update(node.names)
    changes_state = any(root is None or root not in bound for root in stored_into)
    bound |= imported
    return bound, read - bound, changes_state


def exercises_only(nb, source=None):
    """The notebook with only the code cells its exercises need: every solution and test cell,
    each other code cell that binds a name a kept cell reads (transitively, so a demo's helper
    used by an exercise stays) or changes state it did not create, and every code cell before a
    cell that cannot be analysed (a magic). Markdown stays. `source`: the source notebook, whose
    test cells (with the hidden tests nbgrader puts back when grading) say what the tests read.

    Demo cells that only draw and print are dropped: a student may delete them too, and nbgrader
    grades what remains, so mutant and alternative submissions are graded by the same hidden
    tests without re-running seconds of demos each. Whole notebooks are graded as references
    here and by `make reliability`.

    >>> from nbformat.v4 import new_code_cell, new_notebook
    >>> cells = [new_code_cell(s) for s in ("import time", "def helper(): return 1",
    ...          "time.sleep(3); print('demo')", "def answer(): return helper()", "answer()")]
    >>> cells[3].metadata["nbgrader"] = {"solution": True}
    >>> cells[4].metadata["nbgrader"] = {"grade": True}
    >>> [c.source for c in exercises_only(new_notebook(cells=cells)).cells]
    ['def helper(): return 1', 'def answer(): return helper()', 'answer()']
    """
    tests = {
        c.metadata["nbgrader"]["grade_id"]: c.source
        for c in (source.cells if source else [])
        if c.metadata.get("nbgrader", {}).get("grade")
    }
    needed, keep, keep_all = set(), [], False
    for cell in reversed(nb.cells):
        if cell.cell_type != "code" or keep_all:
            keep.append(cell)
            continue
        nbgrader = cell.metadata.get("nbgrader", {})
        names = cell_names(tests.get(nbgrader.get("grade_id"), cell.source))
        if names is None:
            keep_all = True
        elif nbgrader.get("solution") or nbgrader.get("grade") or names[2] or names[0] & needed:
            needed |= names[1]
        else:
            continue
        keep.append(cell)
    nb.cells = keep[::-1]
    return nb


@dataclass
class GradingRun:
    tmp: Path
    assignment: str
    root: Path = field(init=False)
    seconds: float = 0.0
    result: subprocess.CompletedProcess | None = None

    def __post_init__(self):
        self.root = Path(self.tmp) / "course"
        (self.root / "source").mkdir(parents=True)
        shutil.copy(ROOT / "nbgrader_config.py", self.root)
        shutil.copytree(ROOT / "source" / self.assignment, self.root / "source" / self.assignment)
        done = nbgrader(["generate_assignment", self.assignment, "--force"], self.root)
        assert done.returncode == 0, done.stdout + done.stderr

    # -- notebooks
    @property
    def source_nb(self):
        return nbformat.read(self.root / "source" / self.assignment / f"{self.assignment}.ipynb", 4)

    def release_nb(self):
        """A fresh copy of the generated student notebook (the blank submission)."""
        name = self.assignment
        return nbformat.read(self.root / "release" / name / f"{name}.ipynb", 4)

    def with_answers(self, answers: dict[str, str]):
        """The release notebook with the given solution cells (grade_id -> code) filled in."""
        nb = self.release_nb()
        for cell in nb.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        missing = set(answers) - {c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells}
        assert not missing, f"no solution cells named {missing}"
        return nb

    def reference_answers(self) -> dict[str, str]:
        return {
            c.metadata.nbgrader["grade_id"]: solution_code(c)
            for c in self.source_nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }

    def reference(self):
        """The release notebook with every solution cell filled with the reference answer."""
        return self.with_answers(self.reference_answers())

    # -- grading
    def submit(self, student: str, nb_or_text, filename: str | None = None) -> Path:
        """Place a submission (a notebook, or raw text for broken files) for `student`."""
        folder = self.root / "submitted" / student / self.assignment
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / (filename or f"{self.assignment}.ipynb")
        text = nb_or_text if isinstance(nb_or_text, str) else nbformat.writes(nb_or_text)
        path.write_text(text, encoding="utf-8")
        return path

    def autograde(
        self, timeout: float = 900, workers: int = 1, **env: str
    ) -> subprocess.CompletedProcess:
        """Autograde every submission: one stock `nbgrader autograde` run (`env` adds variables
        to its environment), or with `workers` > 1 one stock `nbgrader autograde --student` per
        submission, `workers` at a time (course.classgrade, which sets the demo time scale);
        the result then carries all their output, and a non-zero return code if any failed."""
        start = time.perf_counter()
        if workers == 1:
            args = ["autograde", self.assignment, "--force"]
            self.result = run_module("nbgrader", args, self.root, timeout, **env)
        else:
            from course.classgrade import autograde

            jobs = autograde(
                self.root, [self.assignment], workers, time_limit=timeout, stream=io.StringIO()
            )
            output = "\n".join(job.output for job in jobs)
            failed = any(job.failed for job in jobs)
            self.result = subprocess.CompletedProcess(["classgrade"], int(failed), output, "")
        self.seconds = time.perf_counter() - start
        return self.result

    def log(self) -> str:
        return "" if self.result is None else self.result.stdout + self.result.stderr

    def scores(self, student: str) -> dict[str, tuple[float, float]]:
        """{grade_id: (score, max_score)} of the autograded test cells, from the gradebook."""
        with Gradebook(f"sqlite:///{self.root / 'gradebook.db'}") as gb:
            sub = gb.find_submission_notebook(self.assignment, self.assignment, student)
            return {
                g.name: (float(g.score), float(g.max_score))
                for g in sub.grades
                if g.cell.cell_type == "code"
            }

    def autograded_nb(self, student: str):
        path = self.root / "autograded" / student / self.assignment / f"{self.assignment}.ipynb"
        return nbformat.read(path, 4) if path.exists() else None

    def feedback(self, students: str = "*") -> subprocess.CompletedProcess:
        """Stock `nbgrader generate_feedback` for the students matching the glob `students`."""
        args = ["generate_feedback", self.assignment, "--force", f"--student={students}"]
        return nbgrader(args, self.root)

    def feedback_html(self, student: str) -> str:
        path = self.root / "feedback" / student / self.assignment / f"{self.assignment}.html"
        return path.read_text(encoding="utf-8")
