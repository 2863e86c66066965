"""Grade a whole class with stock nbgrader: collect a zip, autograde in parallel, report.

Run from the course root (the folder with nbgrader_config.py)::

    python -m course.classgrade collect 05-locks lms-download.zip
    python -m course.classgrade autograde 05-locks 06-deadlock-rlock --workers 2
    python -m course.classgrade autograde 05-locks --cluster tcp://scheduler:8786
    python -m course.classgrade report 05-locks --out reports/

Modules, bottom first (each imports only those above it; see docs/ta-guide.md):

* `base`        course settings, gradebook URL, nbgrader's environment, process-tree kill
* `jobs`        a submission as a `Job`; judging nbgrader's output; progress; summary
* `gradebook`   students created up front; an assignment's definition and a submission's
                scores carried between gradebooks (cluster)
* `forkserver`  a warm nbgrader that forks one child per run
* `local`       parallel autograde on this machine
* `cluster`     autograde on a Dask cluster (optional: `pip install '.[cluster]'`)
* `collect`     LMS zip -> submitted/ (stock `nbgrader zip_collect`)
* `report`      grades.csv, pass rates, grouped failure messages, one PNG
* `cli`         the command line (`python -m course.classgrade`)

>>> from course.classgrade import autograde, find_jobs, summary
>>> print(summary([]))
classgrade: 0 submissions, 0 graded, 0 failed
"""

from course.classgrade.base import kill_tree, nbgrader_env, sqlite_url
from course.classgrade.collect import collect, convention, named_regexp
from course.classgrade.jobs import Job, find_jobs, summary
from course.classgrade.local import autograde
from course.classgrade.report import ClassReport, collect_report, draw, pass_rate_table, report

__all__ = [
    "ClassReport",
    "Job",
    "autograde",
    "collect",
    "collect_report",
    "convention",
    "draw",
    "find_jobs",
    "kill_tree",
    "named_regexp",
    "nbgrader_env",
    "pass_rate_table",
    "report",
    "sqlite_url",
    "summary",
]
