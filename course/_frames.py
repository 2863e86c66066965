"""One rule for "whose code is this frame?": the library's, the course's, or the student's.

A bottom module (it imports nothing from ``course``): the grading checks use it to find the
student's line in a stack, and the timeline to tell a worker the student started from the
infrastructure that runs it.

* library: the standard library and installed packages (``site-packages``);
* course: this ``course`` package;
* student: everything else -- notebook cells (``/tmp/ipykernel_NNN/NNN.py``, which
  ``linecache`` knows), and the student's or the test author's own files.

>>> import os
>>> is_library_file(os.__file__), is_course_file(__file__), is_student_file(__file__)
(True, True, False)
>>> is_student_file("/tmp/ipykernel_1/42.py"), is_cell_file("/tmp/ipykernel_1/42.py")
(True, True)
"""

from __future__ import annotations

import functools
import os
import sys
import sysconfig

#: the ``course`` package's folder, with a trailing separator
COURSE_DIR = os.path.dirname(os.path.realpath(__file__)) + os.sep


def _library_dirs() -> tuple[str, ...]:
    dirs = set()
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path:
            dirs.add(os.path.realpath(path) + os.sep)
    for path in (sys.prefix, sys.base_prefix, sys.exec_prefix):
        dirs.add(os.path.realpath(os.path.join(path, "lib")) + os.sep)
    return tuple(sorted(dirs))


#: folders of the standard library and installed packages
LIBRARY_DIRS = _library_dirs()


@functools.lru_cache(maxsize=4096)
def is_library_file(filename: str) -> bool:
    """True for the standard library and installed packages (never the course package).

    >>> is_library_file(functools.__file__), is_library_file("/tmp/ipykernel_1/1.py")
    (True, False)
    """
    if not filename or filename.startswith("<"):
        return filename.startswith("<frozen")
    real = os.path.realpath(filename)
    if real.startswith(COURSE_DIR):
        return False
    return real.startswith(LIBRARY_DIRS) or "site-packages" in real or "dist-packages" in real


@functools.lru_cache(maxsize=4096)
def is_course_file(filename: str) -> bool:
    """True for a file of this ``course`` package.

    >>> is_course_file(os.path.join(COURSE_DIR, "grading", "races.py"))
    True
    """
    return bool(filename) and os.path.realpath(filename).startswith(COURSE_DIR)


def is_student_file(filename: str) -> bool:
    """True for code written by the student or the test author (neither library nor course).

    >>> is_student_file(os.__file__), is_student_file("<ipython-input-3-abc>")
    (False, True)
    """
    if not filename:
        return False
    if filename.startswith("<"):
        return filename.startswith("<ipython-input")
    return not is_course_file(filename) and not is_library_file(filename)


def is_cell_file(filename: str) -> bool:
    """True for the pseudo-files IPython creates for notebook cells.

    >>> is_cell_file("/tmp/ipykernel_7/123.py"), is_cell_file("bank.py")
    (True, False)
    """
    return "ipykernel_" in filename or filename.startswith("<ipython-input")
