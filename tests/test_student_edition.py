"""The student edition (scripts/student_edition.py): what it holds, and nothing that gives away
an answer.

The edition is built into a temporary folder with the real command. Every file in it is scanned
for every secret of every source notebook: each solution (the code between the SOLUTION markers,
or the whole cell without markers), each hidden-test block, compared line by line and as whole
blocks with whitespace normalised, and for nbgrader's marker strings. A line counts as secret
only if no public part of the course (the source notebooks outside solutions and hidden tests,
the index) shows it too. A planted leak proves the scan finds one.
"""

import ast
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest

from course.syllabus import NAMES, notebook_path
from tests.support.browser_lab import free_port, fresh_clone, isolated_env

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = Path("scripts") / "student_edition.py"
SOLUTION_BLOCK = re.compile(r"### BEGIN SOLUTION[^\n]*\n(.*?)[ \t]*### END SOLUTION", re.S)
HIDDEN_BLOCK = re.compile(r"### BEGIN HIDDEN TESTS[^\n]*\n(.*?)[ \t]*### END HIDDEN TESTS", re.S)
MARKERS = ["BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"]
MEANINGFUL = 12  # characters: shorter lines (`t.join()`, `return x`) say nothing on their own
RUN = 3  # consecutive secret lines that count as a leak outside the notebooks

STUDENT_MODULES = ["timeline", "servers", "workers", "ipc_workers", "grading"]
# The edition's files, as patterns: anything else fails the test.
ALLOWED = [
    "README.md",
    "LICENSE",
    "index.ipynb",
    "pyproject.toml",
    "nbgrader_config.py",
    "environment.yml",
    "postBuild",
    "jupyter-config/etc/jupyter/labconfig/page_config.json",
    "jupyter-config/etc/jupyter/jupyter_server_config.d/zz-course-student.json",
    "jupyter-config/share/jupyter/lab/settings/overrides.json",
    "course/__init__.py",
    "course/_*.py",  # private modules the ones below share (TA-only names are refused below)
    # what notebooks import (a module or a package of modules): timelines, local servers, worker
    # functions, and the checks the visible tests call (run_isolated, explore, LockOrderChecker)
    *(f"course/{m}{tail}" for m in STUDENT_MODULES for tail in (".py", "/*.py")),
    *(f"{name}/*" for name in NAMES),  # each assignment's folder: notebook and helper scripts
]
REQUIRED = [
    "README.md",
    "LICENSE",
    "index.ipynb",
    "pyproject.toml",
    "environment.yml",
    "postBuild",
    "nbgrader_config.py",
    "course/__init__.py",
    "course/grading/__init__.py",
    "course/timeline/__init__.py",
    *(f"{name}/{name}.ipynb" for name in NAMES),
]


def build(repo: Path, out: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    """scripts/student_edition.py build, run from the repository snapshot `repo`."""
    return subprocess.run(
        [sys.executable, str(repo / SCRIPT), "build", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
    )


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    """The repository as a fresh clone has it, frozen for this module's tests (the working tree
    may change while they run; builds and scans must see one state)."""
    return fresh_clone(tmp_path_factory.mktemp("repo"))


@pytest.fixture(scope="module")
def edition(repo, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("edition") / "student"
    done = build(repo, out)
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def files_of(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


# ---------------------------------------------------------------- secrets of source/
def squash(text: str) -> str:
    """Whitespace normalised: every run of blanks, tabs and newlines becomes one space."""
    return " ".join(text.split())


def secret_blocks(nb) -> list[str]:
    """The solutions and hidden-test blocks of a source notebook."""
    blocks = []
    for cell in nb.cells:
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution"):
            found = SOLUTION_BLOCK.findall(cell.source)
            blocks += found if found else [cell.source]  # no markers: the whole cell is hidden
        blocks += HIDDEN_BLOCK.findall(cell.source)
    return [b for b in blocks if b.strip()]


def public_text(nb) -> str:
    """What a source notebook shows students: every cell with its secrets cut out."""
    text = []
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution") and not SOLUTION_BLOCK.search(
            cell.source
        ):
            continue
        text.append(HIDDEN_BLOCK.sub("", SOLUTION_BLOCK.sub("", cell.source)))
    return "\n".join(text)


def meaningful(text: str) -> list[str]:
    return [s for s in (ln.strip() for ln in text.splitlines()) if len(s) > MEANINGFUL]


def runs(lines: list[str], n: int = RUN) -> set[tuple[str, ...]]:
    return {tuple(lines[i : i + n]) for i in range(len(lines) - n + 1)}


def secrets(root: Path = ROOT) -> tuple[set[str], set[tuple[str, ...]], set[str]]:
    """(secret lines, runs of RUN consecutive secret lines, squashed secret blocks) over every
    source notebook. What the course shows publicly (the source notebooks outside their secrets,
    the helper files beside them, the index) is not secret."""
    notebooks = [nbformat.read(root / notebook_path(n), 4) for n in NAMES]
    index = nbformat.read(root / "index.ipynb", 4)
    public = [public_text(nb) for nb in notebooks] + [c.source for c in index.cells]
    public += [
        p.read_text() for n in NAMES for p in (root / "source" / n).iterdir() if p.suffix == ".py"
    ]
    public_lines = {ln.strip() for text in public for ln in text.splitlines()}
    public_flat = squash("\n".join(public))
    lines, chains, blocks = set(), set(), set()
    for nb in notebooks:
        for block in secret_blocks(nb):
            if len(squash(block)) > MEANINGFUL and squash(block) not in public_flat:
                blocks.add(squash(block))
            mine = meaningful(block)
            lines |= set(mine) - public_lines
            chains |= {run for run in runs(mine) if not set(run) <= public_lines}
    return lines, chains, blocks


def readable_text(path: Path) -> str:
    """A file as text; a notebook as its cells' sources and outputs (not JSON, whose escaping
    would hide a match)."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = nbformat.reads(text, 4)
        parts = []
        for cell in nb.cells:
            parts.append(cell.source)
            for out in cell.get("outputs", []):
                parts.append(json.dumps(out, ensure_ascii=False))
        text = "\n".join(parts)
    return text


def leaks(folder: Path, root: Path = ROOT) -> list[str]:
    """Every secret block, marker string or secret line found in any file under `folder`.

    In notebooks and the helper scripts beside them a single secret line counts. The `course`
    package shares vocabulary with the answers (a traced lock's `return self._lock.locked()`
    beside `__enter__ = acquire`: two lines in a row occur today), so there RUN consecutive
    lines of one secret block count, or a whole block.
    """
    lines, chains, blocks = secrets(root)
    found = []
    for rel in files_of(folder):
        text = readable_text(folder / rel)
        flat = squash(text)
        found += [f"{rel}: block {b[:60]!r}..." for b in sorted(blocks) if b in flat]
        found += [f"{rel}: marker {m!r}" for m in MARKERS if m in text]
        mine = meaningful(text)
        if re.match(r"(index\.ipynb|\d\d-[^/]+/)", rel):
            hits = sorted(lines & set(mine))
        else:
            hits = sorted(" / ".join(run) for run in chains & runs(mine))
        found += [f"{rel}: solution/hidden-test line {hit!r}" for hit in hits]
    return found


# ---------------------------------------------------------------- the tests
def test_the_edition_holds_exactly_the_allowed_files(repo, edition):
    files = files_of(edition)
    unexpected = [f for f in files if not any(fnmatch(f, pattern) for pattern in ALLOWED)]
    assert not unexpected, f"not part of the student edition: {unexpected}"
    assert not [r for r in REQUIRED if r not in files], "missing from the edition"
    for name in NAMES:  # each assignment folder holds exactly its release folder's files
        release = repo / "release" / name
        shipped = [f.split("/", 1)[1] for f in files if f.startswith(f"{name}/")]
        assert shipped == files_of(release), name
    total = sum((edition / f).stat().st_size for f in files)
    print(f"\nstudent edition: {len(files)} files, {total:,} bytes ({total / 1024:.0f} KiB)")
    for f in files:
        print(f"{(edition / f).stat().st_size:>9,}  {f}")


def test_no_solution_or_hidden_test_text_anywhere_in_the_edition(repo, edition):
    lines, chains, blocks = secrets(repo)
    assert min(len(lines), len(chains), len(blocks)) > 30, "too few secrets to look for"
    found = leaks(edition, repo)
    assert not found, "\n".join(found[:30])


def test_the_scan_finds_a_planted_leak(repo, edition, tmp_path):
    """The scan can fail: a copy of the edition with 05's first hidden-test block appended to a
    course module, one solution line typed into a markdown cell of 05's notebook, and the raw
    source notebook beside it, is caught three ways."""
    planted = tmp_path / "planted"
    shutil.copytree(edition, planted)
    source = nbformat.read(repo / notebook_path("05-locks"), 4)
    hidden = next(b for c in source.cells for b in HIDDEN_BLOCK.findall(c.source))
    with open(planted / "course" / "servers.py", "a") as f:
        f.write("\n\ndef _checks():\n" + hidden)
    lines, _, _ = secrets(repo)
    solution_line = next(
        ln
        for b in secret_blocks(source)
        if "assert" not in b
        for ln in meaningful(b)
        if ln in lines
    )
    notebook = planted / "05-locks" / "05-locks.ipynb"
    nb = nbformat.read(notebook, 4)
    nb.cells.append(nbformat.v4.new_markdown_cell(f"Hint:\n\n    {solution_line}"))
    nbformat.write(nb, notebook)
    shutil.copy(repo / notebook_path("05-locks"), planted / "05-locks" / "answers.ipynb")
    found = leaks(planted, repo)
    assert [f for f in found if f.startswith("course/servers.py: block")], found
    assert [f for f in found if f.startswith("course/servers.py: solution/hidden-test line")]
    assert f"05-locks/05-locks.ipynb: solution/hidden-test line {solution_line!r}" in found
    assert [f for f in found if f.startswith("05-locks/answers.ipynb: marker")]
    assert not [f for f in found if f.startswith(("index.ipynb", "course/timeline"))]


def test_links_point_inside_the_edition(edition):
    """The index and every notebook link to files that exist in the edition."""
    link = re.compile(r"\]\(([^)#\s]+\.(?:ipynb|md|py))\)")
    for rel in [f for f in files_of(edition) if f.endswith(".ipynb")]:
        nb = nbformat.read(edition / rel, 4)
        for cell in nb.cells:
            if cell.cell_type != "markdown":
                continue
            for target in link.findall(cell.source):
                if "://" in target:
                    continue
                assert ((edition / rel).parent / target).resolve().is_file(), f"{rel}: {target}"
    index = nbformat.read(edition / "index.ipynb", 4)
    linked = set(link.findall("\n".join(c.source for c in index.cells)))
    assert {f"{n}/{n}.ipynb" for n in NAMES} <= linked
    readme = (edition / "README.md").read_text()
    assert {f"{n}/{n}.ipynb" for n in NAMES} <= set(link.findall(readme))


def test_the_shipped_course_package_is_complete(edition, tmp_path):
    """With `course` taken from the edition only (the repository's editable install switched
    off), every module the notebooks and their scripts import, and every shipped module, imports;
    and nothing TA-only ships."""
    wanted = set()
    for rel in files_of(edition):
        path = edition / rel
        if rel.endswith(".ipynb"):
            code = "\n".join(
                c.source for c in nbformat.read(path, 4).cells if c.cell_type == "code"
            )
            code = "\n".join(
                ln for ln in code.splitlines() if not ln.lstrip().startswith(("%", "!"))
            )
        elif rel.endswith(".py") and not rel.startswith(("course/", "nbgrader_config")):
            code = path.read_text()
        else:
            continue
        flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        for node in ast.walk(compile(code, rel, "exec", flags=flags)):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                wanted.add(node.module)
            elif isinstance(node, ast.Import):
                wanted |= {a.name for a in node.names}
    shipped = {
        f[:-3].replace("/", ".").removesuffix(".__init__")
        for f in files_of(edition)
        if f.startswith("course/")
    }
    assert {m for m in wanted if m.startswith("course")} <= shipped | {"course"}
    assert not [m for m in shipped if re.search(r"classgrade|guard|feedback|syllabus", m)]
    probe = (
        "import importlib, json, sys\n"
        "sys.meta_path[:] = [f for f in sys.meta_path if 'editable' not in repr(f).lower()]\n"
        "bad = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        module = importlib.import_module(name)\n"
        "        origin = getattr(module, '__file__', '') or ''\n"
        "        if name.startswith('course') and not origin.startswith(sys.argv[2]):\n"
        "            bad[name] = 'imported from ' + origin\n"
        "    except Exception as e:\n"
        "        bad[name] = repr(e)\n"
        "print(json.dumps(bad))\n"
    )
    local = {Path(f).stem for f in files_of(edition) if re.match(r"\d\d-.*\.py$", f)}
    names = sorted((wanted | shipped) - local)
    env = {**os.environ, "PYTHONPATH": str(edition), "MPLBACKEND": "Agg"}
    done = subprocess.run(
        [sys.executable, "-c", probe, json.dumps(names), str(edition)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {}


def test_build_is_deterministic_and_staleness_aware(repo, edition, tmp_path):
    again = tmp_path / "student"
    assert build(repo, again).returncode == 0
    assert files_of(again) == files_of(edition)
    assert all((again / f).read_bytes() == (edition / f).read_bytes() for f in files_of(edition))
    assert os.access(again / "postBuild", os.X_OK)

    done = build(repo, again)
    assert done.returncode == 0 and "up to date" in done.stdout, done.stdout + done.stderr

    manifest = again.with_name("student.manifest.json")  # inputs changed: rebuilt
    record = json.loads(manifest.read_text())
    manifest.write_text(json.dumps({**record, "inputs": "changed"}))
    done = build(repo, again)
    assert done.returncode == 0 and "built" in done.stdout, done.stdout + done.stderr

    work = again / "05-locks" / "05-locks.ipynb"  # a student's saved work is never overwritten
    work.write_text(work.read_text().replace("Locks", "My notes on locks", 1))
    manifest.write_text(json.dumps({**record, "inputs": "changed"}))
    done = build(repo, again)
    assert done.returncode != 0 and "05-locks/05-locks.ipynb" in done.stderr, done.stderr
    assert "My notes on locks" in work.read_text()
    done = build(repo, again, "--force")
    assert done.returncode == 0 and "My notes" not in work.read_text()


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_publish_commits_the_edition_to_its_own_branch(repo, edition, tmp_path):
    """One commit per publish on `student`, the first without parent; the repository's branch,
    index and work tree stay as they were."""
    course = tmp_path / "course"  # a git repository with work in progress on main
    course.mkdir()
    git(course, "init", "-q", "-b", "main")
    git(course, "config", "user.email", "ta@example.org")
    git(course, "config", "user.name", "TA")
    (course / "notes.txt").write_text("main's own file\n")
    git(course, "add", "notes.txt")
    git(course, "commit", "-q", "-m", "main")
    (course / "notes.txt").write_text("staged change\n")
    git(course, "add", "notes.txt")
    (course / "notes.txt").write_text("unstaged change\n")
    before = (git(course, "rev-parse", "HEAD"), git(course, "status", "--porcelain"))

    def publish(out=edition, **env):  # builds first if stale, as `make publish-student` does
        return subprocess.run(
            [sys.executable, str(repo / SCRIPT), "publish", "--out", str(out), "--repo", course],
            capture_output=True,
            text=True,
            timeout=300,
            env={**os.environ, **env},
        )

    first = publish()
    assert first.returncode == 0, first.stdout + first.stderr
    tip = git(course, "rev-parse", "student")
    assert git(course, "rev-list", "--count", "student") == "1"
    tree = git(course, "ls-tree", "-r", "--name-only", "student").splitlines()
    assert sorted(tree) == files_of(edition)
    assert "100755 blob" in git(course, "ls-tree", "student", "postBuild")
    again = publish()
    assert again.returncode == 0 and "already holds" in again.stdout, again.stdout + again.stderr
    assert git(course, "rev-parse", "student") == tip

    (edition / "README.md").write_text((edition / "README.md").read_text() + "\nUpdated.\n")
    try:
        assert publish().returncode != 0  # a changed edition must be rebuilt before publishing
    finally:
        assert build(repo, edition, "--force").returncode == 0

    other = tmp_path / "other" / "student"  # a new edition: one more commit on top
    done = publish(other, BINDER_REPO="acme/concurrency-student")
    assert done.returncode == 0, done.stdout + done.stderr
    assert git(course, "rev-list", "--count", "student") == "2"
    assert git(course, "rev-parse", "student^") == tip
    readme = git(course, "show", "student:README.md")
    badge = "mybinder.org/v2/gh/acme/concurrency-student/student?urlpath=lab/tree/index.ipynb"
    assert badge in readme
    assert (git(course, "rev-parse", "HEAD"), git(course, "status", "--porcelain")) == before
    assert git(course, "branch", "--show-current") == "main"


def test_make_lab_on_a_fresh_clone_serves_the_student_edition(tmp_path):
    """`make lab`, the README's first command, run on a fresh clone (this environment's venv
    linked in, so nothing is installed): it builds the edition and JupyterLab serves it. The
    served root, listed through the Jupyter contents API, has no source/ and no tests/."""
    clone = fresh_clone(tmp_path / "clone")
    venv = Path(sys.executable).parent.parent
    (clone / ".venv").symlink_to(venv, target_is_directory=True)
    token, port = "t" + os.urandom(8).hex(), free_port()
    env = isolated_env(venv / "bin", tmp_path / "state")
    make = [
        "make",
        "--no-print-directory",
        "-o",
        ".venv/.installed",  # installed already: the venv is this one
        "lab",
        f"JUPYTER_PORT={port}",
        f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --IdentityProvider.token={token}",
    ]
    log = tmp_path / "make-lab.log"
    with open(log, "w") as out:
        lab = subprocess.Popen(
            make, cwd=clone, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        listing = None
        deadline = time.monotonic() + 300  # the edition's build, then a server start
        while listing is None and time.monotonic() < deadline:
            assert lab.poll() is None, f"make lab exited:\n{log.read_text()}"
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/api/contents/",
                headers={"Authorization": f"token {token}"},
            )
            try:
                with urllib.request.urlopen(request, timeout=10) as reply:
                    listing = json.loads(reply.read())
            except OSError:
                time.sleep(0.5)
        assert listing is not None, f"no server on port {port}:\n{log.read_text()}"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)  # make and the jupyter it started
        lab.wait(timeout=60)
    names = sorted(item["name"] for item in listing["content"])
    assert "index.ipynb" in names and set(NAMES) <= set(names), names
    assert not {"source", "tests", "release", "autograded", "docs", "scripts"} & set(names)
    assert names == files_top_level(clone / "dist" / "student"), names
    assert "student edition built" in log.read_text()


def files_top_level(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
