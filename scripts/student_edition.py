"""The student edition: the course as students get it, without a single answer.

    python scripts/student_edition.py build      # -> dist/student/ (skipped when up to date)
    python scripts/student_edition.py files      # the edition's files and total size
    python scripts/student_edition.py publish    # a commit on branch `student` (own history)

The instructor repository holds every reference solution (source/) and every hidden test; the
edition holds only what a student needs, in a layout made for them:

    index.ipynb                the course index, its links pointing at the folders below
    NN-topic/NN-topic.ipynb    release/NN-topic/ (the nbgrader student version) and its files
    course/                    the modules the notebooks and their visible tests import (closure
                               of their imports); the TA-only modules (classgrade, guard,
                               feedback, ...) stay behind
    pyproject.toml             installs that package (`pip install -e .`), generated
    nbgrader_config.py         what nbgrader's Validate button needs (per-cell timeouts), generated
    environment.yml, postBuild, jupyter-config/   the Binder environment
    README.md, LICENSE         start, validate, submit; the licence

The build is deterministic (same inputs, same bytes) and staleness-aware: a manifest beside the
output (`dist/student.manifest.json`) records a digest of every input and of every file written.
If the inputs have not changed, nothing is rebuilt. If a built file was changed afterwards (a
student's work saved through `make lab`), the build stops instead of overwriting it.

Publishing commits the edition's tree to branch `student` with git plumbing (a temporary index,
`commit-tree`, `update-ref`): the main work tree, its index and HEAD are never touched, and the
branch's history holds only editions (its first commit has no parent).
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from course.syllabus import NAMES, NOTEBOOKS  # noqa: E402
from scripts.notebooks import kernel_metadata  # noqa: E402

OUT = ROOT / "dist" / "student"
BRANCH = "student"
README_TEMPLATE = ROOT / "scripts" / "student-README.md"
BINDER_REPO = os.environ.get(
    "BINDER_REPO", "OWNER/STUDENT-REPO"
)  # the public repository Binder builds
COPIED = ["environment.yml", "postBuild", "LICENSE"]  # shipped as they are in the repository
IGNORED = re.compile(r"(^|/)(\.ipynb_checkpoints|__pycache__|\.[^/]*)(/|$)|\.pyc$")
EXECUTABLE = {"postBuild"}
INPUTS = [  # what the edition is built from (for the publish message)
    "index.ipynb",
    "release",
    "course",
    "pyproject.toml",
    "environment.yml",
    "postBuild",
    "jupyter-config",
    "LICENSE",
    "scripts/student-README.md",
    "scripts/student_edition.py",
    "scripts/notebooks.py",
]

STUDENT_NBGRADER_CONFIG = '''\
"""nbgrader settings for the Validate button (the course team grades with its own settings)."""

c = get_config()  # noqa: F821  (provided by traitlets when it loads this file)

c.CourseDirectory.course_id = "python-concurrency"
# Per-cell time limit while validating, as when grading: a cell that hangs is interrupted.
c.Execute.timeout = 30
c.ExecutePreprocessor.timeout = 30
c.Execute.interrupt_on_timeout = True
'''

ENVIRONMENT_HEADER = (
    "# Binder (repo2docker) builds the course environment from this file, then runs postBuild.\n"
    "# `-e .` installs the course package (pyproject.toml) from this folder.\n"
)


# ---------------------------------------------------------------- which course modules ship
def imported_course_modules(code: str, module: str = "", is_package: bool = False) -> set[str]:
    """Names of the `course` modules that `code` imports (absolute or relative to `module`).

    `from course import x` counts `course.x` (whether x is a module is settled later).

    >>> sorted(imported_course_modules("from course.grading import explore\\nimport os"))
    ['course', 'course.grading', 'course.grading.explore']
    >>> sorted(imported_course_modules("from . import _stacks", "course.grading.isolated"))
    ['course', 'course.grading', 'course.grading._stacks']
    """
    tree = ast.parse(code)
    package = module if is_package else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*parts, base] if base else parts)
            names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            if name == "course" or name.startswith("course."):
                parts = name.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return found


def module_file(name: str, root: Path = ROOT) -> Path | None:
    """The source file of module `name` under `root` (a package's __init__.py), or None."""
    path = root.joinpath(*name.split("."))
    if (path / "__init__.py").is_file():
        return path / "__init__.py"
    if path.with_suffix(".py").is_file():
        return path.with_suffix(".py")
    return None


def notebook_code(path: Path) -> str:
    """The code cells of a notebook, IPython magics and shell lines blanked out."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    code = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return "\n".join(
        "" if line.lstrip().startswith(("%", "!")) else line for line in code.splitlines()
    )


def course_closure(codes: list[str], root: Path = ROOT) -> list[Path]:
    """The files of every `course` module the given code imports, directly or through other
    course modules, relative to `root`, sorted."""
    todo = set().union(*(imported_course_modules(_top_level_ok(c)) for c in codes))
    files: dict[str, Path] = {}
    while todo:
        name = todo.pop()
        path = module_file(name, root)
        if path is None or name in files:
            continue  # `from course.x import function`: not a module
        files[name] = path
        is_package = path.name == "__init__.py"
        todo |= imported_course_modules(path.read_text(encoding="utf-8"), name, is_package)
    return sorted(p.relative_to(root) for p in files.values())


def _top_level_ok(code: str) -> str:
    """Notebook code may use top-level `await`; ast.parse needs it inside a function."""
    try:
        ast.parse(code)
        return code
    except SyntaxError:
        body = "\n".join("    " + line for line in code.splitlines())
        return f"async def _cell():\n{body or '    pass'}\n"


# ---------------------------------------------------------------- the edition's files
def _notebook_text(text: str, links: list[tuple[str, str]], metadata: dict) -> str:
    """A notebook's JSON (nbformat's canonical layout) with markdown links rewritten and the
    kernel metadata of the Python building the edition (the one `make lab` runs)."""
    nb = json.loads(text)
    nb["metadata"] = metadata
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            source = "".join(cell["source"])
            for old, new in links:
                source = source.replace(old, new)
            cell["source"] = source.splitlines(keepends=True)
    return json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def _course_map() -> str:
    rows = ["| # | notebook | what you learn |", "|---|---|---|"]
    for nb in NOTEBOOKS:
        rows.append(f"| {nb.name[:2]} | [{nb.title}]({nb.name}/{nb.name}.ipynb) | {nb.topics} |")
    return "\n".join(rows)


def _pyproject(shipped_packages: list[str]) -> str:
    """A pyproject.toml that installs the shipped `course` modules with the course's
    dependencies (the repository's, without its test extras)."""
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    project = pyproject["project"]
    licence = project["license"]
    licence = f'"{licence}"' if isinstance(licence, str) else f'{{ text = "{licence["text"]}" }}'
    deps = "".join(f'    "{d}",\n' for d in project["dependencies"])
    packages = ", ".join(f'"{p}"' for p in shipped_packages)
    return (
        "[build-system]\n"
        f"requires = {json.dumps(pyproject['build-system']['requires'])}\n"
        'build-backend = "setuptools.build_meta"\n\n'
        "[project]\n"
        f'name = "{project["name"]}"\n'
        f'version = "{project["version"]}"\n'
        f'description = "{project["description"]}"\n'
        'readme = "README.md"\n'
        f'requires-python = "{project["requires-python"]}"\n'
        f"license = {licence}\n"
        'license-files = ["LICENSE"]\n'
        f"dependencies = [\n{deps}]\n\n"
        f"[tool.setuptools]\npackages = [{packages}]\n"
    )


def edition_files() -> dict[str, bytes]:
    """{relative path: content} of the whole edition, computed from the repository."""
    metadata = kernel_metadata()
    files: dict[str, bytes] = {}
    # index.ipynb: the course map links to release/NN/...; here the folders sit beside it
    index_links = [(f"](release/{name}/", f"]({name}/") for name in NAMES]
    index = (ROOT / "index.ipynb").read_text(encoding="utf-8")
    files["index.ipynb"] = _notebook_text(index, index_links, metadata).encode()
    codes = [notebook_code(ROOT / "index.ipynb")]
    for name in NAMES:
        folder = ROOT / "release" / name
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = path.relative_to(folder).as_posix()
            if IGNORED.search(rel):
                continue
            if path.suffix == ".ipynb":
                nav = [("](../../index.ipynb)", "](../index.ipynb)")]
                text = _notebook_text(path.read_text(encoding="utf-8"), nav, metadata)
                files[f"{name}/{rel}"] = text.encode()
                codes.append(notebook_code(path))
            else:
                files[f"{name}/{rel}"] = path.read_bytes()
                if path.suffix == ".py":
                    codes.append(path.read_text(encoding="utf-8"))
    modules = course_closure(codes)
    for rel in modules:
        files[rel.as_posix()] = (ROOT / rel).read_bytes()
    packages = sorted({rel.parent.as_posix().replace("/", ".") for rel in modules})
    files["pyproject.toml"] = _pyproject(packages).encode()
    files["nbgrader_config.py"] = STUDENT_NBGRADER_CONFIG.encode()
    for name in COPIED:
        files[name] = (ROOT / name).read_bytes()
    env = (ROOT / "environment.yml").read_text(encoding="utf-8")
    env = re.sub(r"\A(#.*\n)+", "", env)  # the repository's own notes are about its tests
    files["environment.yml"] = (ENVIRONMENT_HEADER + env).encode()
    for path in sorted((ROOT / "jupyter-config").rglob("*")):
        if path.is_file() and not IGNORED.search(path.relative_to(ROOT).as_posix()):
            files[path.relative_to(ROOT).as_posix()] = path.read_bytes()
    readme = README_TEMPLATE.read_text(encoding="utf-8")
    readme = readme.replace("{{course_map}}", _course_map()).replace("{{binder_repo}}", BINDER_REPO)
    files["README.md"] = readme.encode()
    return dict(sorted(files.items()))


# ---------------------------------------------------------------- build, with a manifest
def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def manifest_path(out: Path) -> Path:
    """Where the build records what it wrote: beside the edition, never inside it."""
    return out.with_name(out.name + ".manifest.json")


def changed_since_build(out: Path) -> list[str]:
    """Files of `out` that differ from what the last build wrote, plus files it did not write
    (JupyterLab's checkpoints and caches aside)."""
    manifest = manifest_path(out)
    if not manifest.exists():
        return sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    written = json.loads(manifest.read_text())["files"]
    present = {
        p.relative_to(out).as_posix(): p
        for p in out.rglob("*")
        if p.is_file() and not IGNORED.search(p.relative_to(out).as_posix())
    }
    changed = [rel for rel, p in present.items() if written.get(rel) != _digest(p.read_bytes())]
    return sorted(changed + [rel for rel in written if rel not in present])


def build(out: Path = OUT, force: bool = False) -> bool:
    """Write the edition to `out` unless it is up to date; True if it was (re)written.

    Stops (SystemExit) rather than overwrite files changed since the last build, unless `force`.
    """
    files = edition_files()
    inputs = _digest(json.dumps({k: _digest(v) for k, v in files.items()}).encode())
    manifest = manifest_path(out)
    if out.exists():
        changed = changed_since_build(out)
        if not changed and manifest.exists():
            if json.loads(manifest.read_text())["inputs"] == inputs:
                print(f"{_shown(out)} is up to date")
                return False
        if changed and not force:
            listed = "\n  ".join(changed[:20])
            raise SystemExit(
                f"{_shown(out)} has files changed since it was built (your work?):\n  {listed}\n"
                "Copy what you want to keep elsewhere, then rebuild with "
                "`make student FORCE=1` (or `--force`)."
            )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))  # then one rename
    for rel, data in files.items():
        path = tmp / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(0o755 if rel in EXECUTABLE else 0o644)
    for folder in [tmp, *(p for p in tmp.rglob("*") if p.is_dir())]:
        folder.chmod(0o755)
    if out.exists():
        shutil.rmtree(out)
    tmp.rename(out)
    record = {"inputs": inputs, "files": {k: _digest(v) for k, v in files.items()}}
    manifest.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
    print(f"{_shown(out)}: student edition built ({len(files)} files)")
    return True


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def listing(out: Path = OUT) -> str:
    """The edition's files with their sizes, and the total."""
    paths = sorted(p for p in out.rglob("*") if p.is_file())
    lines = [f"{p.stat().st_size:>9,}  {p.relative_to(out).as_posix()}" for p in paths]
    total = sum(p.stat().st_size for p in paths)
    lines.append(f"{total:>9,}  total, {len(paths)} files ({total / 1024:.0f} KiB)")
    return "\n".join(lines)


# ---------------------------------------------------------------- publish to a branch
def _git(*args: str, repo: Path = ROOT, env: dict | None = None, data: str | None = None) -> str:
    done = subprocess.run(
        ["git", *args],
        cwd=repo,
        input=data,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
    )
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(args)} failed:\n{done.stderr}")
    return done.stdout.strip()


def _built_from() -> str:
    """', built from the course repository at <commit>' (and whether the inputs had uncommitted
    changes), or '' outside a git repository."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True)
    if head.returncode != 0:
        return ""
    text = f", built from the course repository at {head.stdout.decode().strip()}"
    if _git("status", "--porcelain", "--", *INPUTS):
        text += " with uncommitted changes"
    return text


def publish(out: Path = OUT, branch: str = BRANCH, repo: Path = ROOT) -> str | None:
    """Commit the edition's tree to `branch` of `repo` (its previous tip as the only parent, none
    the first time); return the new commit, or None if the edition did not change."""
    files = json.loads(manifest_path(out).read_text())["files"]
    if changed_since_build(out):
        raise SystemExit(f"{_shown(out)} differs from its build: run `make student FORCE=1` first")
    with tempfile.TemporaryDirectory() as tmp:
        env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}  # never the work tree's index
        paths = list(files)
        blobs = _git(
            "hash-object",
            "-w",
            "--stdin-paths",
            repo=repo,
            data="".join(f"{out / p}\n" for p in paths),
        ).splitlines()
        entries = "".join(
            f"{'100755' if p in EXECUTABLE else '100644'} {blob}\t{p}\n"
            for p, blob in zip(paths, blobs, strict=True)
        )
        _git("update-index", "--add", "--index-info", repo=repo, env=env, data=entries)
        tree = _git("write-tree", repo=repo, env=env)
    ref = f"refs/heads/{branch}"
    parent = _git("for-each-ref", "--format=%(objectname)", ref, repo=repo)
    if parent and _git("rev-parse", f"{parent}^{{tree}}", repo=repo) == tree:
        print(f"branch {branch} already holds this edition ({parent[:12]})")
        return None
    message = "Student edition" + _built_from()
    commit = _git(
        "commit-tree", tree, *(["-p", parent] if parent else []), "-m", message, repo=repo
    )
    _git("update-ref", ref, commit, *([parent] if parent else []), repo=repo)
    print(f"branch {branch}: {commit[:12]} ({len(files)} files)")
    print(f"push it to the public student repository: git push <student-remote> {branch}")
    return commit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["build", "files", "publish"])
    parser.add_argument("--out", type=Path, default=OUT, help="edition folder (dist/student)")
    parser.add_argument("--force", action="store_true", help="overwrite changed files")
    parser.add_argument("--branch", default=BRANCH, help="branch `publish` commits to")
    parser.add_argument("--repo", type=Path, default=ROOT, help="git repository to publish in")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    if args.command in ("build", "publish"):
        build(out, force=args.force)
    if args.command == "files":
        print(listing(out))
    if args.command == "publish":
        publish(out, args.branch, args.repo.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
