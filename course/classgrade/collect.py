"""Zip intake: an LMS download of submissions -> `submitted/<student>/<assignment>/`.

Stock `nbgrader zip_collect` does the work; this module only places the archive where
ZipCollect looks for it (`downloaded/<assignment>/archive/`) and configures its
`FileNameCollectorPlugin.named_regexp` for one of two file-name conventions inside the archive:

* flat:    `<student>_<anything>_<assignment>.ipynb` or `<student>_<assignment>.ipynb`
           (the student id has no underscore; Moodle/Canvas-style names)
* folders: `<student>/<assignment>.ipynb`, at any depth (the folder right above the notebook
           names the student)

The convention is detected from the archive's notebook names (`convention`).
"""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from course.classgrade.base import nbgrader_env


def convention(names: list[str], assignment: str) -> str:
    """'folders' if every notebook sits in a folder and is named `<assignment>.ipynb`, else 'flat'.

    >>> convention(["ann/05-locks.ipynb", "bo/05-locks.ipynb"], "05-locks")
    'folders'
    >>> convention(["ann_attempt1_05-locks.ipynb", "bo_05-locks.ipynb"], "05-locks")
    'flat'
    """
    notebooks = [n for n in names if n.endswith(".ipynb") and "__MACOSX" not in n]
    if notebooks and all(
        "/" in n and n.rsplit("/", 1)[1] == f"{assignment}.ipynb" for n in notebooks
    ):
        return "folders"
    return "flat"


def named_regexp(extracted: Path, assignment: str, style: str) -> str:
    """The `FileNameCollectorPlugin.named_regexp` for `style`, anchored at `extracted`.

    ZipCollect matches it against each extracted file's absolute path.

    >>> rx = named_regexp(Path("/c/x"), "05-locks", "flat")
    >>> re.match(rx, "/c/x/ann_attempt_2024_05-locks.ipynb").group("student_id", "file_id")
    ('ann', '05-locks')
    >>> rx = named_regexp(Path("/c/x"), "05-locks", "folders")
    >>> re.match(rx, "/c/x/export/ann/05-locks.ipynb").group("student_id", "file_id")
    ('ann', '05-locks')
    """
    base = re.escape(str(extracted).rstrip("/")) + "/"
    a = re.escape(assignment)
    if style == "folders":
        return base + rf"(?:.*/)?(?P<student_id>[^/]+)/(?P<file_id>{a})\.ipynb$"
    return base + rf"(?:.*/)?(?P<student_id>[^/_]+)_(?:[^/]*_)?(?P<file_id>{a})\.ipynb$"


def collect(root: Path, assignment: str, archive: Path, force: bool = True):
    """Run stock `nbgrader zip_collect` on `archive` for `assignment` in course `root`.

    Returns (the convention used, nbgrader's CompletedProcess, {student: [files]}).
    """
    root, archive = Path(root).resolve(), Path(archive).resolve()
    with zipfile.ZipFile(archive) as zf:
        style = convention(zf.namelist(), assignment)
    downloaded = root / "downloaded" / assignment
    (downloaded / "archive").mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, downloaded / "archive" / archive.name)
    regexp = named_regexp(downloaded / "extracted", assignment, style)
    cmd = [sys.executable, "-m", "nbgrader", "zip_collect", assignment]
    cmd += [f"--FileNameCollectorPlugin.named_regexp={regexp}"]
    cmd += ["--force"] if force else []
    done = subprocess.run(cmd, cwd=root, env=nbgrader_env(), capture_output=True, text=True)
    placed = {
        p.parent.parent.name: sorted(f.name for f in p.parent.iterdir())
        for p in (root / "submitted").glob(f"*/{assignment}/{assignment}.ipynb")
    }
    return style, done, placed
