"""What the class missed: grades export, per-test pass rates, grouped failure messages, the
kinds of failure with one example picture each, one PNG.

Scores come from the gradebook (nbgrader's Gradebook API); failure messages from the autograded
notebooks: the first line of each failing test cell's error `evalue` (or of its stderr output,
which also scores 0 in nbgrader). Messages are grouped with their numbers masked, so
"lost 3 updates" and "lost 17 updates" count as one explanation. The kind of a failure (a race,
a deadlock, a broken limit, ... or a timeout, a crash) comes from the picture the grading check
drew below its message (`course.grading.pictures.failure_picture`); `failure-kinds.html` shows,
per test, the most common kinds with one student's picture of each.
"""

import base64
import csv
import html
import re
import subprocess
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from course.classgrade.base import course_id, default_db_url, nbgrader_env
from course.grading.pictures import failure_picture

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
NUMBER = re.compile(r"\d+(?:\.\d+)?")
NOT_GRADED = "not graded (no autograded notebook)"


def first_line(text: str) -> str:
    """The first non-empty line of `text`, without terminal colours, at most 160 characters.

    >>> first_line("\\x1b[31mAssertionError\\x1b[0m\\n  more")
    'AssertionError'
    """
    for line in ANSI.sub("", text or "").splitlines():
        if line.strip():
            return line.strip()[:160]
    return ""


def message_key(message: str) -> str:
    """`message` with its numbers masked: the grouping key of failure messages.

    >>> message_key("lost 3 of 100 updates") == message_key("lost 17 of 100 updates")
    True
    """
    return NUMBER.sub("#", message)


def failure_message(cell) -> str:
    """Why a graded test cell failed, from its outputs ('' if it shows no error).

    >>> from nbformat.v4 import new_code_cell, new_output
    >>> cell = new_code_cell("check()")
    >>> cell.outputs = [new_output("error", ename="AssertionError", evalue="lost 3 updates\\nmore",
    ...                            traceback=[])]
    >>> failure_message(cell)
    'lost 3 updates'
    """
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            return first_line(out.get("evalue", "")) or out.get("ename", "error")
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream" and out.get("name") == "stderr":
            return "output on stderr: " + first_line(out.get("text", ""))
    if cell.get("execution_count") is None and not cell.get("outputs"):
        return "not executed (grading did not finish)"
    return ""


@dataclass
class TestStats:
    """Pass rate and grouped failure messages of one test cell of one assignment."""

    __test__ = False  # a test's statistics, not a pytest test class

    assignment: str
    test: str
    points: float
    passed: int = 0
    total: int = 0
    messages: Counter = field(default_factory=Counter)  # message key -> count
    examples: dict = field(default_factory=dict)  # message key -> first message seen
    kinds: Counter = field(default_factory=Counter)  # failure kind -> count
    pictures: dict = field(default_factory=dict)  # kind -> (student, message, png) of one failure

    @property
    def rate(self) -> float:
        return self.passed / self.total if self.total else 0.0

    def common(self, n: int = 3) -> list[tuple[str, int]]:
        """The `n` most common failure messages (an example of each group) with their counts."""
        return [(self.examples[k], c) for k, c in self.messages.most_common(n)]

    def add_failure(self, student: str, message: str, cell) -> None:
        """Count one failing submission: its message group, and the kind of failure its cell's
        outputs show (the first picture of a kind is kept as the example)."""
        self.messages[message_key(message)] += 1
        self.examples.setdefault(message_key(message), message)
        kind, png = failure_picture(cell.get("outputs", [])) if cell else ("not graded", None)
        self.kinds[kind] += 1
        if png and kind not in self.pictures:
            self.pictures[kind] = (student, message, png)


@dataclass
class ClassReport:
    """The class's results: per-test statistics and every submission's score fraction."""

    tests: list[TestStats]
    scores: dict[str, list[float]]  # assignment -> each submission's score as a fraction of max

    def most_failed(self, n: int = 6) -> list[TestStats]:
        failing = [t for t in self.tests if t.total and t.passed < t.total]
        return sorted(failing, key=lambda t: (t.rate, t.assignment, t.test))[:n]


def collect_report(root: Path, assignments: list[str] | None, db_url: str) -> ClassReport:
    """Read scores (Gradebook API) and failure messages (autograded notebooks) of `assignments`."""
    from nbgrader.api import Gradebook

    root = Path(root)
    tests: dict[tuple[str, str], TestStats] = {}
    scores: dict[str, list[float]] = defaultdict(list)
    with Gradebook(db_url, course_id(root)) as gb:
        names = assignments or sorted(a.name for a in gb.assignments)
        for a in names:
            assignment = gb.find_assignment(a)
            for notebook in assignment.notebooks:
                answers = {c.name for c in notebook.solution_cells}  # graded answers: by hand
                for sub in notebook.submissions:
                    student = sub.student.id
                    path = root / "autograded" / student / a / f"{notebook.name}.ipynb"
                    cells = _cells_by_id(path)
                    total = sum(g.max_score for g in sub.grades)
                    scores[a].append(sub.score / total if total else 0.0)
                    for g in sub.grades:
                        if g.cell.cell_type != "code" or g.name in answers:
                            continue
                        key = (a, g.name)
                        stats = tests.setdefault(key, TestStats(a, g.name, g.max_score))
                        stats.total += 1
                        if g.score >= g.max_score:
                            stats.passed += 1
                            continue
                        cell = cells.get(g.name) if cells is not None else None
                        if cells is None:
                            message = NOT_GRADED
                        else:
                            message = (failure_message(cell) if cell else "") or "no error shown"
                        stats.add_failure(student, message, cell)
    ordered = sorted(tests.values(), key=lambda t: (names.index(t.assignment), t.test))
    return ClassReport(ordered, dict(scores))


def _cells_by_id(path: Path):
    """{grade_id: cell} of an autograded notebook, or None if it does not exist or is broken."""
    if not path.exists():
        return None
    try:
        nb = nbformat.read(path, 4)
    except Exception:  # noqa: BLE001 - a broken file is reported as not graded
        return None
    return {
        c.metadata["nbgrader"]["grade_id"]: c
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("grade_id")
    }


def pass_rate_table(report: ClassReport) -> str:
    """The per-test table printed by `classgrade report`.

    >>> t = TestStats("05-locks", "counter-tests", 2.0, passed=3, total=4)
    >>> t.messages["lost # updates"] = 1; t.examples["lost # updates"] = "lost 9 updates"
    >>> print(pass_rate_table(ClassReport([t], {"05-locks": [1.0]})))
    assignment  test           points  passed  rate  most common failure messages
    05-locks    counter-tests     2.0     3/4   75%  1x lost 9 updates
    """
    rows = [("assignment", "test", "points", "passed", "rate", "most common failure messages")]
    for t in report.tests:
        common = " | ".join(f"{c}x {_wrap(m, 90)}" for m, c in t.common(2))
        rows.append(
            (
                t.assignment,
                t.test,
                f"{t.points:.1f}",
                f"{t.passed}/{t.total}",
                f"{t.rate:.0%}",
                common,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(5)]
    lines = []
    for r in rows:
        cells = [r[0].ljust(widths[0]), r[1].ljust(widths[1])]
        cells += [r[i].rjust(widths[i]) for i in (2, 3, 4)]
        lines.append("  ".join(cells + [r[5]]).rstrip())
    return "\n".join(lines)


def write_csvs(report: ClassReport, out: Path) -> tuple[Path, Path]:
    """pass-rates.csv (one row per test) and failure-messages.csv (one row per message group)."""
    out.mkdir(parents=True, exist_ok=True)
    rates, messages = out / "pass-rates.csv", out / "failure-messages.csv"
    with rates.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["assignment", "test", "points", "passed", "submissions", "pass_rate"])
        for t in report.tests:
            w.writerow([t.assignment, t.test, t.points, t.passed, t.total, f"{t.rate:.3f}"])
    with messages.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["assignment", "test", "count", "message"])
        for t in report.tests:
            for message, count in t.common(n=len(t.messages)):
                w.writerow([t.assignment, t.test, count, message])
    return rates, messages


def write_failure_kinds(report: ClassReport, out: Path) -> tuple[Path, Path]:
    """failure-kinds.csv (one row per test and kind) and failure-kinds.html: per test that failed,
    its kinds of failure, most common first, each with one example picture when a check drew one.

    >>> t = TestStats("05-locks", "counter-tests", 2.0, passed=1, total=2)
    >>> t.kinds["race"] = 1
    >>> t.pictures["race"] = ("alice", "expected 100, got 61", b"PNG")
    >>> csv_path, page = write_failure_kinds(ClassReport([t], {}), Path(getfixture("tmp_path")))
    >>> csv_path.read_text().splitlines()[1]
    '05-locks,counter-tests,race,1,alice,"expected 100, got 61"'
    >>> "data:image/png;base64," in page.read_text()
    True
    """
    out.mkdir(parents=True, exist_ok=True)
    table, page = out / "failure-kinds.csv", out / "failure-kinds.html"
    parts = [
        "<!doctype html><meta charset='utf-8'><title>Failure kinds</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}"
        "img{max-width:100%;border:1px solid #ccc}</style>",
        "<h1>What kind of failure, per test</h1>",
    ]
    with table.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["assignment", "test", "kind", "count", "example_student", "example_message"])
        for t in report.tests:
            if not t.kinds:
                continue
            parts.append(f"<h2>{html.escape(t.assignment)}: {html.escape(t.test)}</h2>")
            parts.append(f"<p>{t.total - t.passed} of {t.total} submissions failed.</p>")
            for kind, count in t.kinds.most_common():
                student, message, png = t.pictures.get(kind, ("", "", None))
                w.writerow([t.assignment, t.test, kind, count, student, message])
                parts.append(f"<h3>{html.escape(kind)}: {count}</h3>")
                if png:
                    data = base64.b64encode(png).decode("ascii")
                    parts.append(
                        f"<p>{html.escape(student)}: {html.escape(message)}</p>"
                        f"<img alt='{html.escape(kind)} of {html.escape(student)}' "
                        f"src='data:image/png;base64,{data}'>"
                    )
    page.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return table, page


def export_grades(root: Path, out: Path, db_url: str) -> subprocess.CompletedProcess:
    """Stock `nbgrader export` (its CSV plugin) to `out/grades.csv`."""
    out.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "nbgrader", "export", "--to", str(out / "grades.csv")]
    cmd.append(f"--CourseDirectory.db_url={db_url}")
    return subprocess.run(cmd, cwd=root, env=nbgrader_env(), capture_output=True, text=True)


def _wrap(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def draw(report: ClassReport, path: Path, top: int = 6) -> Path:
    """One PNG: score distribution per assignment, and the most-failed tests with their messages."""
    import textwrap

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    worst = report.most_failed(top)
    rows = max(1, len(worst))
    fig = plt.figure(figsize=(14, 4.0 + 1.15 * rows), layout="constrained")
    grid = fig.add_gridspec(2, 2, height_ratios=[3.0, 1.15 * rows], width_ratios=[1, 2.3])
    ax = fig.add_subplot(grid[0, :])
    names = list(report.scores)
    data = [[100 * s for s in report.scores[a]] for a in names]
    ax.hist(data, bins=list(range(0, 101, 10)), stacked=True, label=names, edgecolor="white")
    ax.set_xlim(0, 100)
    ax.set_xlabel("score (% of the assignment's points)")
    ax.set_ylabel("submissions")
    n = sum(len(d) for d in data)
    ax.set_title(f"Score distribution ({n} submissions)", loc="left", fontsize=13)
    ax.legend(title="assignment", fontsize=9, loc="upper left", ncols=1 + len(names) // 6)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.spines[["top", "right"]].set_visible(False)

    bx = fig.add_subplot(grid[1, 0])
    tx = fig.add_subplot(grid[1, 1], sharey=bx)
    tx.set_axis_off()
    bx.set_title("Most-failed tests (fail rate)", loc="left", fontsize=13)
    tx.set_title("most common failure messages (count x message)", loc="left", fontsize=13)
    if not worst:
        bx.text(0.5, 0.5, "every test passed", ha="center", va="center")
        bx.set_axis_off()
    else:
        ys = list(range(len(worst)))[::-1]
        fails = [100 * (1 - t.rate) for t in worst]
        bx.barh(ys, fails, color="#c0392b", height=0.6)
        bx.set_yticks(ys, [f"{t.assignment}\n{t.test}" for t in worst], fontsize=9)
        bx.set_ylim(-0.6, len(worst) - 0.4)
        bx.set_xlim(0, 118)
        bx.set_xticks([0, 50, 100], ["0%", "50%", "100%"])
        bx.spines[["top", "right"]].set_visible(False)
        for y, t, f in zip(ys, worst, fails, strict=True):
            bx.text(f + 2, y, f"{t.total - t.passed}/{t.total}", va="center", fontsize=9)
            msgs = []
            for m, c in t.common(2):
                body = textwrap.shorten(m, 150, placeholder=" …")
                msgs.append(textwrap.fill(f"{c}x {body}", 95, subsequent_indent="   "))
            tx.text(0, y, "\n".join(msgs), va="center", fontsize=8.5, family="monospace")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report(root: Path, assignments: list[str] | None, out: Path, db_url: str | None = None):
    """Export grades, write the pass-rate and message CSVs and the PNG into `out`; return them."""
    root = Path(root).resolve()
    out = Path(out) if Path(out).is_absolute() else root / out
    url = db_url or default_db_url(root)
    exported = export_grades(root, out, url)
    data = collect_report(root, assignments, url)
    rates, messages = write_csvs(data, out)
    kinds, kinds_page = write_failure_kinds(data, out)
    png = draw(data, out / "class-report.png")
    return data, exported, [out / "grades.csv", rates, messages, kinds, kinds_page, png]
