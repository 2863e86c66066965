"""The course gradebook, through nbgrader's Gradebook API: what classgrade reads and writes.

* `prepare_gradebook`: create every student of a run serially before parallel grading starts
  (concurrent autogrades would race to insert the same student: IntegrityError).
* For the cluster: `assignment_snapshot` / `restore_assignment` carry an assignment's
  definition (notebooks and cells, as `generate_assignment` wrote them) into a worker's scratch
  gradebook, and `submission_result` / `store_result` carry the autograde scores back into
  the course's gradebook, the same rows and fields a local `nbgrader autograde` writes.

>>> import tempfile
>>> url = f"sqlite:///{tempfile.mkdtemp()}/gb.db"
>>> restore_assignment(url, "py", {"name": "05-locks", "duedate": None, "notebooks": []})
>>> with open_gradebook(url, "py") as gb:
...     [a.name for a in gb.assignments]
['05-locks']
"""

import os
import sys
from pathlib import Path

from course.classgrade.base import course_id
from course.classgrade.jobs import Job

CELL_FIELDS = {
    "grade_cells": ("max_score", "cell_type"),
    "solution_cells": (),
    "source_cells": ("cell_type", "locked", "source", "checksum"),
    "task_cells": ("max_score", "cell_type"),
}


def open_gradebook(db_url: str, course: str | None = None):
    """nbgrader's `Gradebook(db_url, course)`, with this environment's scripts on PATH first:
    creating a gradebook runs `alembic`, which a worker or a test may not have on its PATH."""
    from nbgrader.api import Gradebook

    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    return Gradebook(db_url, course) if course else Gradebook(db_url)


def prepare_gradebook(db_url: str, root: Path, jobs: list[Job]) -> list[Job]:
    """Create the students of `jobs` serially; return the jobs whose assignment is unknown
    (each with a reason saying so)."""
    missing = []
    with open_gradebook(db_url, course_id(root)) as gb:
        known = {a.name for a in gb.assignments}
        existing = {s.id for s in gb.students}
        for st in sorted({j.student for j in jobs} - existing):
            gb.add_student(st)
        for job in jobs:
            if job.assignment not in known:
                job.reasons.append(
                    f"assignment {job.assignment!r} is not in the gradebook "
                    f"(run `nbgrader generate_assignment {job.assignment}` first)"
                )
                missing.append(job)
    return missing


def read_scores(db_url: str, assignments: list[str]) -> dict[tuple[str, str], dict[str, float]]:
    """{(assignment, student): {test cell: score}} of every submission of `assignments`.

    >>> import tempfile
    >>> read_scores(f"sqlite:///{tempfile.mkdtemp()}/gb.db", [])
    {}
    """
    out = {}
    with open_gradebook(db_url) as gb:
        for a in assignments:
            for sub in gb.assignment_submissions(a):
                for nb in sub.notebooks:
                    out[(a, sub.student.id)] = {
                        g.name: float(g.score) for g in nb.grades if g.cell.cell_type == "code"
                    }
    return out


def assignment_snapshot(db_url: str, course: str, name: str) -> dict:
    """Assignment `name` as plain data: its due date, notebooks and their cells."""
    with open_gradebook(db_url, course) as gb:
        a = gb.find_assignment(name)
        notebooks = []
        for nb in a.notebooks:
            cells = {
                kind: [
                    {"name": c.name, **{f: getattr(c, f) for f in fields}}
                    for c in getattr(nb, kind)
                ]
                for kind, fields in CELL_FIELDS.items()
            }
            notebooks.append({"name": nb.name, **cells})
        return {"name": a.name, "duedate": a.duedate, "notebooks": notebooks}


def restore_assignment(db_url: str, course: str, snapshot: dict) -> None:
    """Write an `assignment_snapshot` into the gradebook at `db_url` (a worker's scratch one)."""
    with open_gradebook(db_url, course) as gb:
        a = snapshot["name"]
        gb.update_or_create_assignment(a, duedate=snapshot["duedate"])
        for nb in snapshot["notebooks"]:
            gb.update_or_create_notebook(nb["name"], a)
            for kind in CELL_FIELDS:
                create = getattr(gb, f"update_or_create_{kind[:-1]}")
                for cell in nb[kind]:
                    fields = {k: v for k, v in cell.items() if k != "name"}
                    create(cell["name"], nb["name"], a, **fields)


def submission_result(db_url: str, course: str, assignment: str, student: str) -> dict:
    """What autograde wrote for one submission: its timestamp, and per notebook the late
    penalty, every grade's automatic score and every comment's automatic text."""
    with open_gradebook(db_url, course) as gb:
        sub = gb.find_submission(assignment, student)
        return {
            "timestamp": sub.timestamp,
            "notebooks": {
                nb.name: {
                    "late_submission_penalty": nb.late_submission_penalty,
                    "grades": {g.name: [g.auto_score, g.needs_manual_grade] for g in nb.grades},
                    "comments": {c.name: c.auto_comment for c in nb.comments},
                }
                for nb in sub.notebooks
            },
        }


def store_result(db_url: str, course: str, assignment: str, student: str, result: dict) -> None:
    """Write a `submission_result` into the course gradebook, as nbgrader's autograde does
    (manual scores and extra credit a TA gave earlier are kept, as a local re-grade keeps them)."""
    with open_gradebook(db_url, course) as gb:
        gb.update_or_create_student(student)
        kwargs = {"timestamp": result["timestamp"]} if result["timestamp"] else {}
        gb.update_or_create_submission(assignment, student, **kwargs)
        for name, data in result["notebooks"].items():
            nb = gb.find_submission_notebook(name, assignment, student)
            nb.late_submission_penalty = data["late_submission_penalty"]
            for grade in nb.grades:
                if grade.name in data["grades"]:
                    grade.auto_score, grade.needs_manual_grade = data["grades"][grade.name]
            for comment in nb.comments:
                if comment.name in data["comments"]:
                    comment.auto_comment = data["comments"][comment.name]
        gb.db.commit()
