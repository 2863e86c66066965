"""Describe where threads are stuck, in words a student can act on.

Design rationale
----------------
When a student's code times out we have, for every thread, a Python stack
(``sys._current_frames()``).  A raw traceback is noise to a beginner, so we
reduce each stack to one sentence::

    Thread-2 (transfer): line 7 of cell In[4], in transfer() `with b.lock:` waits to
    acquire b.lock while holding a.lock

* *Which line*: the innermost "student frame" -- a frame whose file is not in
  the standard library, not in site-packages and not in the ``course`` package
  (``course._frames``; notebook cells are files like ``/tmp/ipykernel_NNN/NNN.py``
  that ``linecache`` knows about), named by its cell's number ``In[N]``.
* *What it waits for*: blocking C calls (``Lock.acquire``, ``time.sleep``) have
  no Python frame, so we look first at the first library frame called by the
  student line (``Thread.join``, ``Condition.wait``, ``Queue.get`` ...) and
  otherwise at the AST of the student line itself (``with X:``,
  ``X.acquire()``, ``t.join()`` ...).
* *While holding*: the ``with X:`` blocks enclosing the line and the earlier
  unmatched ``X.acquire()`` calls of every student frame on the stack, taken
  from the AST of the function's source.  Only lock-like objects (having
  ``acquire`` and ``release``) are named.

Everything here is best effort and must never raise: it runs inside a
watchdog in a process that is about to be killed.
"""

from __future__ import annotations

import ast
import functools
import linecache
import os
import re
import sys
import threading

from course import _frames


def is_student_file(filename: str) -> bool:
    """True for code written by the student or the test author (``course._frames``' rule).

    >>> is_student_file(os.__file__)
    False
    """
    return _frames.is_student_file(filename)


is_cell_file = _frames.is_cell_file


def cell_name(filename: str) -> str:
    """``cell In[5]`` for a notebook cell that ran as the 5th execution, else the cell's first
    line, so two cells in one message are never confused; a file's base name otherwise.

    >>> cell_name("/work/bank.py")
    'bank.py'
    """
    if not is_cell_file(filename):
        return os.path.basename(filename)
    number = _execution_count(filename)
    if number is not None:
        return f"cell In[{number}]"
    first = next((ln.strip() for ln in linecache.getlines(filename) if ln.strip()), "")
    if len(first) > 40:
        first = first[:37] + "..."
    return f"the cell that starts `{first}`" if first else "your cell"


def _execution_count(filename: str) -> int | None:
    match = re.match(r"<ipython-input-(\d+)-", filename)
    if match:
        return int(match.group(1))
    ipython = sys.modules.get("IPython")  # never import it: only a kernel has cells
    try:
        shell = ipython.get_ipython() if ipython is not None else None
        return shell.compile._filename_map.get(filename) if shell is not None else None
    except Exception:
        return None


def where(filename: str, lineno: int, funcname: str | None = None) -> str:
    """``line 7 of cell In[3]`` / ``line 7 of bank.py`` (+ function name).

    >>> where("/work/bank.py", 7, "transfer")
    'line 7 of bank.py, in transfer()'
    """
    text = f"line {lineno} of {cell_name(filename)}"
    if funcname and funcname not in ("<module>", "<lambda>"):
        text += f", in {funcname}()"
    return text


def source_line(filename: str, lineno: int) -> str:
    """The stripped source line (empty string if unknown)."""
    try:
        return linecache.getline(filename, lineno).strip()
    except Exception:
        return ""


@functools.lru_cache(maxsize=256)
def _parse(filename: str, size: int) -> ast.Module | None:
    try:
        return ast.parse("".join(linecache.getlines(filename)))
    except Exception:
        return None


def _tree(filename: str) -> ast.Module | None:
    lines = linecache.getlines(filename)
    if not lines:
        return None
    return _parse(filename, sum(map(len, lines)))


def _segment(filename: str, node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:
        return "?"


def _function_node(tree: ast.Module, code) -> ast.AST | None:
    """The (Async)FunctionDef whose code object is ``code`` (or the module)."""
    if code.co_name == "<module>":
        return tree
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            if first == code.co_firstlineno or node.lineno == code.co_firstlineno:
                if getattr(node, "name", "<lambda>") == code.co_name or best is None:
                    best = node
    return best


def _own_nodes(func: ast.AST):
    """Walk a function body without descending into nested functions/classes."""
    stack = list(ast.iter_child_nodes(func))
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        stack.extend(ast.iter_child_nodes(node))


def _resolve(expr: ast.AST, frame):
    """Value of a simple ``name.attr.attr`` expression in ``frame`` (no calls)."""
    if isinstance(expr, ast.Name):
        for scope in (frame.f_locals, frame.f_globals, frame.f_builtins):
            if expr.id in scope:
                return scope[expr.id]
        raise LookupError(expr.id)
    if isinstance(expr, ast.Attribute):
        obj = _resolve(expr.value, frame)
        # never trigger properties (racy objects sleep in them): instance dict first
        d = getattr(obj, "__dict__", None)
        if isinstance(d, dict) and expr.attr in d:
            return d[expr.attr]
        return getattr(obj, expr.attr)
    if isinstance(expr, ast.Subscript) and isinstance(expr.slice, ast.Constant):
        return _resolve(expr.value, frame)[expr.slice.value]
    raise LookupError("not simple")


_LOCKY_WORDS = ("lock", "mutex", "cond", "sem", "cv")


def _lock_like(expr: ast.AST, frame) -> bool:
    try:
        obj = _resolve(expr, frame)
    except Exception:
        text = _segment("", expr).lower()
        return any(w in text for w in _LOCKY_WORDS)
    return hasattr(obj, "acquire") and hasattr(obj, "release")


# expression text -> id(object), filled while describing one thread
_seen: dict[str, int] = {}


_names: dict[str, str] = {}
_waited: list = []


def _remember(frame, expr) -> None:
    try:
        obj = _resolve(expr, frame)
    except Exception:
        return
    text = _segment("", expr)
    _seen[text] = id(obj)
    name = getattr(obj, "name", None)
    if isinstance(name, str) and hasattr(obj, "acquire"):
        _names[text] = name


def held_locks(frame) -> list[tuple[str, int]]:
    """Lock expressions held by this student frame at its current line.

    Returns ``[(expression text, line where it was taken), ...]``.
    """
    try:
        tree = _tree(frame.f_code.co_filename)
        if tree is None:
            return []
        func = _function_node(tree, frame.f_code)
        if func is None:
            return []
        line = frame.f_lineno
        held: list[tuple[str, int]] = []
        for node in _own_nodes(func):
            if isinstance(node, ast.With | ast.AsyncWith) and node.body:
                if node.body[0].lineno <= line <= (node.end_lineno or 0):
                    for item in node.items:
                        if _lock_like(item.context_expr, frame):
                            held.append((_segment("", item.context_expr), node.lineno))
                            _remember(frame, item.context_expr)
        acquired: dict[str, int] = {}
        calls = [
            n
            for n in _own_nodes(func)
            if isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr in ("acquire", "release")
            and n.lineno < line
        ]
        for call in sorted(calls, key=lambda n: (n.lineno, n.col_offset)):
            text = _segment("", call.func.value)
            if call.func.attr == "acquire":
                acquired[text] = call.lineno
                _remember(frame, call.func.value)
            else:
                acquired.pop(text, None)
        held.extend(sorted(acquired.items(), key=lambda kv: kv[1]))
        held.sort(key=lambda kv: kv[1])
        return held
    except Exception:
        return []


# first library frame called from the student's line -> what the thread waits for
_LIBRARY_WAITS = {
    "Thread.join": "waits for a thread to finish",
    "Thread._wait_for_tstate_lock": "waits for a thread to finish",
    "Condition.wait": "waits on a condition (is anybody calling notify()?)",
    "Condition.wait_for": "waits on a condition (is anybody calling notify()?)",
    "Event.wait": "waits for an event to be set (is anybody calling set()?)",
    "Semaphore.acquire": "waits for a free slot of a semaphore",
    "BoundedSemaphore.acquire": "waits for a free slot of a semaphore",
    "Barrier.wait": "waits at a barrier for the other threads",
    "Queue.get": "waits to get an item from an empty queue",
    "Queue.put": "waits to put an item into a full queue",
    "Queue.join": "waits for every queue item to be marked task_done()",
    "BaseProcess.join": "waits for a process to finish",
    "Popen.wait": "waits for a process to finish",
    "Connection.recv": "waits to receive from a pipe",
    "Connection.recv_bytes": "waits to receive from a pipe",
    "BaseEventLoop.run_until_complete": "runs the asyncio event loop",
    "BaseEventLoop.run_forever": "runs the asyncio event loop",
}


def _library_wait(frames: list, i: int) -> str | None:
    """What the library call starting at frames[i] (called by a student line) waits for."""
    for frame in frames[i:]:
        code = frame.f_code
        qual = getattr(code, "co_qualname", code.co_name)
        base = os.path.basename(code.co_filename)
        if qual in _LIBRARY_WAITS:
            text = _LIBRARY_WAITS[qual]
            if qual == "Thread.join":
                target = frame.f_locals.get("self")
                name = getattr(target, "name", None)
                if name:
                    text = f"waits for thread {name} to finish"
            return text
        if "Lock" in qual and qual.endswith(("acquire", "__enter__")):
            lock = frame.f_locals.get("self")
            name = getattr(lock, "name", None)
            _waited.append(lock)
            return f"waits to acquire {name}" if name else "waits to acquire a lock"
        if base.startswith(("socket", "selectors", "ssl")):
            return "waits for network I/O"
        if qual.startswith(("Queue.", "SimpleQueue.")) and "multiprocessing" in code.co_filename:
            return "waits on a multiprocessing queue"
    return None


def _line_wait(frame) -> str:
    """What a student line waits for, when the blocking call is a C function."""
    line = frame.f_lineno
    tree = _tree(frame.f_code.co_filename)
    if tree is None:
        return "is running"
    nodes = [
        n for n in ast.walk(tree) if getattr(n, "lineno", None) == line and isinstance(n, ast.stmt)
    ]
    # a `with` header on this line: waits to acquire its (lock-like) items
    for node in nodes:
        if isinstance(node, ast.With | ast.AsyncWith):
            locks = [_segment("", i.context_expr) for i in node.items]
            return "waits to acquire " + " / ".join(locks)
    calls = [
        n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n, "lineno", None) == line
    ]
    for call in calls:
        f = call.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        obj = _segment("", f.value) if isinstance(f, ast.Attribute) else ""
        if name == "acquire":
            return f"waits to acquire {obj}"
        if name == "join":
            return f"waits for {obj} to finish" if obj else "waits for a thread to finish"
        if name == "sleep":
            return "is sleeping"
        if name in ("get", "put") and obj:
            return f"waits on {obj}.{name}()"
        if name in ("wait", "wait_for"):
            return f"waits on {obj}" if obj else "waits"
        if name in ("recv", "recvfrom", "accept", "connect", "send", "sendall", "select"):
            return "waits for network I/O"
        if name == "input":
            return "waits for keyboard input (input() cannot work in a graded test)"
    for node in nodes:
        if isinstance(node, ast.While | ast.For):
            return "is running a loop (one that never ends?)"
    return "is running (a loop that never ends?)"


def describe_stack(name: str, frames: list) -> str | None:
    """One sentence for one thread; ``frames`` are outermost first.

    Returns None when the stack has no student frame at all.
    """
    info = _describe(name, frames)
    return info["text"] if info else None


def _describe(name: str, frames: list) -> dict | None:
    student = [i for i, f in enumerate(frames) if is_student_file(f.f_code.co_filename)]
    if not student:
        return None
    _seen.clear()
    _names.clear()
    _waited.clear()
    i = student[-1]
    frame = frames[i]
    code = frame.f_code
    text = source_line(code.co_filename, frame.f_lineno)
    wait = _library_wait(frames, i + 1) if i + 1 < len(frames) else None
    if wait is None:
        wait = _line_wait(frame)
    waited_id = id(_waited[0]) if _waited else None
    if waited_id is None and wait.startswith("waits to acquire "):
        waited = wait[len("waits to acquire ") :]
        try:
            waited_id = id(_resolve(ast.parse(waited, mode="eval").body, frame))
        except Exception:
            waited_id = None
    held: list[str] = []
    for j in student:
        for expr, _line in held_locks(frames[j]):
            if expr not in held:
                held.append(expr)
    held_ids = {_seen[h] for h in held if h in _seen}
    held_names = [_names.get(h, h) for h in held]
    if waited_id is not None and waited_id in held_ids:
        held_names = [_names.get(h, h) for h in held if _seen.get(h) != waited_id]
        wait += (
            " which this same thread already holds (a Lock is not reentrant: "
            "it waits for itself forever; use an RLock or do not take it twice)"
        )
    sentence = f"{name}: {where(code.co_filename, frame.f_lineno, code.co_name)}"
    if text:
        sentence += f" `{text}`"
    sentence += f" {wait}"
    pairs = [(_names.get(h, h), _seen.get(h)) for h in held]
    waited_name = wait[len("waits to acquire ") :] if wait.startswith("waits to acquire ") else None
    return {
        "text": sentence,
        "held": held_names,
        "held_ids": held_ids,
        "waited_id": waited_id,
        "held_pairs": pairs,
        "waited_name": waited_name,
    }


#: code objects above which frames belong to the caller, not to the checked code
CUT_CODES: set = set()


def stack_of(frame) -> list:
    """Frames from the outermost to ``frame``, without the frames of the caller
    of a grading check (everything up to a frame whose code is in CUT_CODES)."""
    frames = []
    while frame is not None:
        if frame.f_code in CUT_CODES:
            break
        frames.append(frame)
        frame = frame.f_back
    frames.reverse()
    return frames


def describe_threads(frames_by_ident: dict, names: dict, skip: set | None = None) -> list[str]:
    """Sentences for every thread that runs student code (best effort, never raises).

    ``names`` maps thread ident to name, in the order threads should be listed
    (the main thread is listed last).
    """
    return stuck_threads(frames_by_ident, names, skip)[0]


def stuck_threads(frames_by_ident: dict, names: dict, skip: set | None = None):
    """``(sentences, held, waiting)``: :func:`describe_threads`'s sentences, and the wait-for
    graph they describe -- ``held`` {thread: [locks it holds]}, ``waiting`` {thread: the lock
    it waits for}, each lock named once (as its first holder's code names it)."""
    infos = []
    order = [i for i in names if i in frames_by_ident] + [
        i for i in frames_by_ident if i not in names
    ]
    main = threading.main_thread().ident
    order.sort(key=lambda i: i == main)
    for ident in order:
        if skip and ident in skip:
            continue
        try:
            info = _describe(names.get(ident, f"thread {ident}"), stack_of(frames_by_ident[ident]))
        except Exception as exc:  # pragma: no cover - defensive
            info = {"text": f"{names.get(ident, ident)}: (could not describe: {exc!r})"}
        if info:
            info["name"] = names.get(ident, f"thread {ident}")
            infos.append(info)
    lines = []
    for info in infos:
        text = info["text"]
        waited = info.get("waited_id")
        if waited is not None:
            owners = [o["name"] for o in infos if o is not info and waited in o.get("held_ids", ())]
            if owners:
                text += f" (held by {', '.join(owners)})"
        if info.get("held"):
            text += " while holding " + ", ".join(info["held"])
        lines.append(text)
    held, waiting = _wait_for_graph(infos)
    return lines, held, waiting


def _wait_for_graph(infos: list[dict]) -> tuple[dict, dict]:
    label: dict = {}  # lock id -> its name, unique (two threads may call theirs `a.lock`)
    for info in infos:
        for name, ident in info.get("held_pairs", ()):
            if ident is not None and ident not in label:
                taken, unique, n = set(label.values()), name, 1
                while unique in taken:
                    n += 1
                    unique = f"{name} ({n})"
                label[ident] = unique
    held = {
        info["name"]: [label.get(ident, name) for name, ident in info.get("held_pairs", ())]
        for info in infos
        if info.get("held_pairs")
    }
    waiting = {}
    for info in infos:
        ident, name = info.get("waited_id"), info.get("waited_name")
        if ident is not None or name:
            waiting[info["name"]] = label.get(ident) or name or "a lock"
    return held, waiting


def not_written_yet(exc: BaseException) -> str | None:
    """``"increment() is not written yet ..."`` for a NotImplementedError raised by a student
    function (the stub of an exercise), else None.

    >>> not_written_yet(ValueError()) is None
    True
    """
    if not isinstance(exc, NotImplementedError):
        return None
    name = None
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if is_student_file(code.co_filename) and code.co_name not in ("<module>", "<lambda>"):
            name = code.co_name
        tb = tb.tb_next
    what = f"{name}()" if name else "your code"
    return (
        f"{what} is not written yet (it raises NotImplementedError): write it in its "
        "solution cell, run that cell, then run this test again"
    )


def student_traceback(tb, limit: int = 6) -> str:
    """A short traceback listing only student frames (innermost last)."""
    entries = []
    while tb is not None:
        frame = tb.tb_frame
        code = frame.f_code
        if is_student_file(code.co_filename):
            text = source_line(code.co_filename, tb.tb_lineno)
            entries.append(f"  {where(code.co_filename, tb.tb_lineno, code.co_name)}: {text}")
        tb = tb.tb_next
    return "\n".join(entries[-limit:])
