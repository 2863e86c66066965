"""nbgrader configuration for the course. Run nbgrader from this folder (the repository root)."""

import os

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import ClearHiddenTests, GetGrades

from course.feedback import HideTestTracebacks
from course.guard import KERNEL_STARTUP

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "python-concurrency"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", ".*"]

# Per-cell timeout. nbgrader's Execute and nbconvert's ExecutePreprocessor read different traits,
# so both are set. Hidden tests bound student code with course.grading.run_isolated (seconds);
# this is only the last line of defence against a cell that hangs at top level.
c.Execute.timeout = 30
c.ExecutePreprocessor.timeout = 30
c.Execute.interrupt_on_timeout = True

# Every grading kernel starts by arming course.guard before any student code runs: the real
# `course` package is imported even if a submission ships a file that shadows it, objects the
# tests rely on are restored before each test cell, and os._exit() fails its cell instead of
# killing the kernel (which would drop all of the notebook's grades).
c.Execute.extra_arguments = [
    "--HistoryManager.hist_file=:memory:",
    f"--IPKernelApp.exec_lines={KERNEL_STARTUP}",
]

# A deleted test cell must be restored and graded, not silently skipped.
c.OverwriteCells.add_missing_cells = True

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Feedback shows scores, outputs and failure messages, never the source of hidden tests:
# ClearHiddenTests empties the source, HideTestTracebacks the tracebacks that quote it.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTests,
    HideTestTracebacks,
    CSSHTMLHeaderPreprocessor,
]
