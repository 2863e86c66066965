"""Keep the notebooks reviewable: canonical JSON, no outputs, stable ids, generated navigation.

    python scripts/notebooks.py format     # rewrite source notebooks (and index.ipynb) canonically
    python scripts/notebooks.py check      # exit 1 and list the notebooks `format` would change
    python scripts/notebooks.py release    # regenerate release/ with nbgrader generate_assignment

Authoring helpers for scripts that build a notebook cell by cell:

>>> cell = solution("counter-solution", "x = 1")
>>> cell.metadata.nbgrader["solution"], cell.id
(True, 'counter-solution')
"""

import argparse
import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat import v4

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course.syllabus import NAMES, NOTEBOOKS, notebook_path  # noqa: E402

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
NAV_TOP, NAV_BOTTOM = "nav-top", "nav-bottom"
INDEX = "index.ipynb"


def kernel_metadata() -> dict:
    """The notebook metadata JupyterLab writes when it opens a notebook with this Python's kernel.

    On opening, JupyterLab copies the kernel's `language_info` (its Python version included) and
    kernelspec into the notebook and marks the notebook unsaved if they differ from the stored
    ones. Storing exactly these keeps a notebook nobody has touched clean.

    >>> meta = kernel_metadata()
    >>> meta["kernelspec"]["name"], meta["language_info"]["pygments_lexer"]
    ('python3', 'ipython3')
    >>> import platform; meta["language_info"]["version"] == platform.python_version()
    True
    """
    try:
        from ipykernel.ipkernel import IPythonKernel

        language_info = dict(IPythonKernel.language_info)
    except ImportError:  # the same fields, as ipykernel 6-7 reports them
        import platform

        language_info = {
            "codemirror_mode": {"name": "ipython", "version": 3},
            "file_extension": ".py",
            "mimetype": "text/x-python",
            "name": "python",
            "nbconvert_exporter": "python",
            "pygments_lexer": "ipython3",
            "version": platform.python_version(),
        }
    return {"kernelspec": dict(KERNELSPEC), "language_info": language_info}


# ---------------------------------------------------------------- authoring helpers
def md(text: str, cell_id: str | None = None):
    """A markdown cell."""
    cell = v4.new_markdown_cell(text.strip("\n"))
    if cell_id:
        cell.id = cell_id
    return cell


def code(src: str, cell_id: str | None = None):
    """A plain code cell (students may edit it)."""
    cell = v4.new_code_cell(src.strip("\n"))
    if cell_id:
        cell.id = cell_id
    return cell


def _nbgrader(cell, grade_id, *, grade=False, solution=False, locked=False, points=None):
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": 3,
        "solution": solution,
        "task": False,
    }
    if points is not None:
        meta["points"] = points
    cell.metadata["nbgrader"] = meta
    cell.id = grade_id
    return cell


def solution(grade_id: str, src: str):
    """A code cell the student fills in; wrap the answer in ### BEGIN/END SOLUTION."""
    return _nbgrader(code(src), grade_id, solution=True)


def tests(grade_id: str, src: str, points: int):
    """An autograded test cell: visible asserts, then ### BEGIN/END HIDDEN TESTS."""
    return _nbgrader(code(src), grade_id, grade=True, locked=True, points=points)


def locked(grade_id: str, src: str):
    """A read-only code cell (e.g. the shared objects an exercise must use)."""
    return _nbgrader(code(src), grade_id, locked=True)


def new_notebook(cells):
    """A notebook with the course kernelspec; call `write(nb, path)` to store it canonically."""
    return v4.new_notebook(cells=cells)


# ---------------------------------------------------------------- canonical form
def _nav_line(name: str) -> str:
    i = NAMES.index(name)
    parts = [f"[Course index](../../{INDEX})"]
    if i > 0:
        prev = NOTEBOOKS[i - 1]
        parts.insert(0, f"← [{prev.name[:2]} · {prev.title}](../{prev.name}/{prev.name}.ipynb)")
    if i + 1 < len(NOTEBOOKS):
        nxt = NOTEBOOKS[i + 1]
        parts.append(f"[{nxt.name[:2]} · {nxt.title}](../{nxt.name}/{nxt.name}.ipynb) →")
    return " | ".join(parts)


def _set_nav(nb, name: str) -> None:
    """Put the generated navigation line in the first and last cell (ids nav-top, nav-bottom)."""
    line = _nav_line(name)
    cells = [c for c in nb.cells if c.get("id") not in (NAV_TOP, NAV_BOTTOM)]
    nb.cells = [md(line, NAV_TOP), *cells, md(line, NAV_BOTTOM)]


def canonical(nb, name: str | None = None) -> str:
    """The canonical JSON text of `nb`: outputs cleared, metadata trimmed to what this Python's
    kernel reports (`kernel_metadata`), nav regenerated."""
    nb.metadata = kernel_metadata()
    nb.nbformat, nb.nbformat_minor = 4, 5
    if name in NAMES:
        _set_nav(nb, name)
    seen = set()
    for index, cell in enumerate(nb.cells):
        keep = {k: cell.metadata[k] for k in ("nbgrader", "tags") if k in cell.metadata}
        cell.metadata = keep
        grade_id = keep.get("nbgrader", {}).get("grade_id")
        if grade_id:
            cell.id = grade_id
        if not cell.get("id") or cell.id in seen:
            cell.id = f"cell-{index:03d}"
        seen.add(cell.id)
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        if "attachments" in cell and not cell.attachments:
            del cell["attachments"]
    nbformat.validate(nb)
    return nbformat.writes(nb) + "\n"


def write(nb, path: Path) -> None:
    """Store `nb` at `path` in canonical form (the notebook name is taken from the file stem)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(canonical(nb, path.stem), encoding="utf-8")


def authored_notebooks() -> list[Path]:
    """Every notebook kept in canonical form: the source notebooks and the course index."""
    paths = sorted((ROOT / "source").glob("*/*.ipynb"))
    if (ROOT / INDEX).exists():
        paths.append(ROOT / INDEX)
    return paths


def out_of_form() -> list[Path]:
    """Notebooks whose stored text differs from their canonical form."""
    bad = []
    for path in authored_notebooks():
        text = path.read_text(encoding="utf-8")
        if canonical(nbformat.reads(text, as_version=4), path.stem) != text:
            bad.append(path)
    return bad


def release(names: list[str]) -> None:
    """Regenerate release/<name>/ with stock nbgrader, from the repository root."""
    # nbgrader runs `alembic` from PATH: this environment's scripts come first
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for name in names:
        if not (ROOT / notebook_path(name)).exists():
            continue
        done = subprocess.run(
            [sys.executable, "-m", "nbgrader", "generate_assignment", name, "--force"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            env=env,
        )
        if done.returncode != 0:
            sys.exit(f"nbgrader generate_assignment {name} failed:\n{done.stdout}{done.stderr}")
        print(f"release/{name} regenerated")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["format", "check", "release"])
    parser.add_argument("names", nargs="*", help="assignments (default: all)")
    args = parser.parse_args(argv)
    if args.command == "format":
        for path in authored_notebooks():
            write(nbformat.read(path, as_version=4), path)
    elif args.command == "check":
        bad = out_of_form()
        for path in bad:
            print(f"not canonical: {path.relative_to(ROOT)} (run: make format)")
        return 1 if bad else 0
    else:
        release(args.names or NAMES)
    return 0


if __name__ == "__main__":
    sys.exit(main())
