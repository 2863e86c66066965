"""How a failed check looks in a notebook: the student's lines and the message, nothing else.

IPython hides a frame whose locals hold ``__tracebackhide__ = True``, except the innermost
one, which for a failed check is always a line of ``course/grading`` (the ``raise``).  So
every public check is wrapped by :func:`hides_frames`: it sets ``__tracebackhide__`` (pytest
and IPython honour it) and gives the ``AssertionError`` a ``_render_traceback_`` method,
which IPython calls instead of formatting the traceback itself.  The rendering lists only
the frames of notebook cells and of the student's own files (``Cell In[7], line 12`` and
that line), then ``AssertionError: <the check's message>`` -- five lines for a failed
``stress``, never a line of this package.
"""

from __future__ import annotations

import functools
import linecache
import os
import sys

from . import _stacks

_RULE = "-" * 75
#: set to "0" to record and draw no failure pictures (to measure what they cost)
PICTURES_ENV = "COURSE_GRADING_PICTURES"


def pictures_enabled() -> bool:
    """False when the environment switches failure pictures off.

    >>> pictures_enabled() in (True, False)
    True
    """
    return os.environ.get(PICTURES_ENV, "1") != "0"


def hides_frames(func):
    """Decorator for a public check: its frames never show in a notebook's traceback.

    >>> @hides_frames
    ... def check(x):
    ...     assert x == 1, f"expected 1, got {x}"
    >>> try:
    ...     check(2)
    ... except AssertionError as exc:
    ...     print(exc._render_traceback_()[-1])
    AssertionError: expected 1, got 2
    """

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        __tracebackhide__ = True  # noqa: F841 - read by IPython and pytest
        try:
            return func(*args, **kwargs)
        except AssertionError as exc:
            if "_render_traceback_" not in vars(exc):
                exc._render_traceback_ = functools.partial(render, exc)
                facts = getattr(exc, "grading_facts", None)
                if facts:
                    show_after_cell(facts)
            raise

    return wrapper


def render(exc: BaseException, limit: int = 3) -> list[str]:
    """IPython's structured traceback for ``exc`` with only the student's frames (never raises).

    >>> render(AssertionError("expected 1, got 2"))[-1]
    'AssertionError: expected 1, got 2'
    """
    try:
        lines = [_RULE, f"{type(exc).__name__:<42}Traceback (most recent call last)"]
        frames = []
        tb = exc.__traceback__
        while tb is not None:
            code = tb.tb_frame.f_code
            if _stacks.is_student_file(code.co_filename):
                frames.append((code.co_filename, tb.tb_lineno, code.co_name))
            tb = tb.tb_next
        for filename, lineno, name in frames[-limit:]:
            place = _stacks.cell_name(filename)
            place = place[0].upper() + place[1:]
            head = f"{place}, line {lineno}"
            if name not in ("<module>", "<lambda>"):
                head += f", in {name}()"
            lines.append(head)
            text = linecache.getline(filename, lineno).rstrip()
            if text:
                lines.append(f"---> {lineno} {text.strip()}")
        lines.append(f"{type(exc).__name__}: {exc}")
        return lines
    except Exception:  # noqa: BLE001 - the display must never fail
        return [f"{type(exc).__name__}: {exc}"]


def show_after_cell(facts: dict) -> bool:
    """In a notebook, draw ``facts`` (see :mod:`course.grading.pictures`) below the failed
    cell's error, once; elsewhere do nothing.  Returns True when a picture was scheduled.

    >>> show_after_cell({"kind": "race", "accesses": []})   # not in a kernel
    False
    """
    ipython = sys.modules.get("IPython")
    if not pictures_enabled():
        return False
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None or not hasattr(shell, "events"):
        return False

    def once(*_result):
        try:
            shell.events.unregister("post_run_cell", once)
        except ValueError:
            pass
        try:
            from IPython.display import Image, display

            from . import pictures

            png = pictures.png_for(facts)
            if png:  # the kind in the metadata: the TA class report groups failures by it
                display(
                    Image(data=png, format="png"), metadata={"grading_failure": facts.get("kind")}
                )
        except Exception:  # noqa: BLE001 - a picture must never become an error or stderr
            pass

    shell.events.register("post_run_cell", once)
    return True
