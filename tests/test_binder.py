"""Binder, simulated on the student edition: an environment built only from the edition's
environment.yml (pip section) and postBuild.

Binder builds the student edition (the `student` branch, see docs/student-edition.md), never the
instructor repository. repo2docker clones it, installs environment.yml (its pip section, whose
`-e .` is the edition's course package) and runs postBuild, then serves the clone with
JupyterLab. Here: the edition built by scripts/student_edition.py into a temporary folder, a
fresh venv from the Python that environment.yml pins (pyenv's 3.12 when present), `pip install`
of the pip section, postBuild run with that venv first on PATH. Then:
1. postBuild's student configuration is active in that prefix (Jupyter's own listings), and the
   notebooks carry that environment's kernel metadata;
2. the venv imports every module that the notebooks, their helper scripts and the shipped
   `course` modules import, `course` from the edition, and none of the TA-only modules;
3. JupyterLab from that venv opens the index (unmodified; no source/ in the file browser),
   follows its link to notebook 01, runs it all and shows the timeline in Chromium; Validate is
   there, the instructor tools are not.

The whole module takes a few minutes on a shared 2-core machine (the venv build about 30 s idle,
pip installing from wheels without byte-compiling), so it runs in the normal suite.
"""

import ast
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.browser_lab import (
    CHROMIUM,
    KERNEL_WORK,
    Notebook,
    chromium,
    file_browser_names,
    isolated_env,
    open_notebook,
    run_in_kernels,
    running_lab,
    screenshot,
    student_edition,
)

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("binder")]

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def pinned_python(repo: Path) -> str:
    """The interpreter matching environment.yml's `python=X.Y` (pyenv's, else on PATH)."""
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pins = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    version = pins[0].split("=", 1)[1].strip() if pins else ""
    if version:
        pyenv = sorted(Path.home().glob(f".pyenv/versions/{version}.*/bin/python"))
        if pyenv:
            return str(pyenv[-1])
        if found := shutil.which(f"python{version}"):
            return found
    return shutil.which("python3") or sys.executable


def pip_section_args(repo: Path) -> list[str]:
    """environment.yml's pip section as pip arguments; its `-e .` means the repository."""
    env = yaml.safe_load((repo / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    args = []
    for spec in map(str, pip):
        if spec.startswith("-e"):
            args += ["-e", str(repo / spec[2:].strip())]
        else:
            args.append(spec)
    return args


@pytest.fixture(scope="module")
def binder(tmp_path_factory):
    """(repo copy, venv bin folder, Jupyter state) after the Binder build steps, built once per
    test run even when xdist spreads this module's tests over several workers."""
    shared = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        shared = shared.parent  # the run's base folder, common to all workers
    tmp = shared / "binder"
    tmp.mkdir(exist_ok=True)
    with open(tmp / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the first worker builds, the others wait and reuse
        if not (tmp / ".built").exists():
            build_binder_env(tmp)
            (tmp / ".built").touch()
    state = tmp_path_factory.mktemp("binder-state")
    return tmp / "repo", tmp / "venv" / "bin", state


def build_binder_env(tmp: Path) -> None:
    repo = student_edition(tmp / "repo")  # what the `student` branch holds
    venv = tmp / "venv"
    env = isolated_env(venv / "bin", tmp / "build-state")
    # --no-compile: modules get their .pyc when first imported; saves ~40% of the install time
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--no-compile"]
    steps = [
        [pinned_python(repo), "-m", "venv", str(venv)],
        [*pip, *pip_section_args(repo)],
        [str(repo / "postBuild")],  # repo2docker runs it with the environment on PATH
    ]
    for step in steps:
        done = subprocess.run(step, cwd=repo, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"{step[:3]} failed:\n{done.stdout}\n{done.stderr}"


def _jupyter(bin_dir: Path, state: Path, *args: str) -> str:
    done = subprocess.run(
        [str(bin_dir / "jupyter"), *args],
        env=isolated_env(bin_dir, state),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return ANSI.sub("", done.stdout + done.stderr)


def test_postbuild_installed_the_student_configuration(binder):
    repo, bin_dir, state = binder
    prefix = bin_dir.parent
    assert (prefix / "etc/jupyter/jupyter_server_config.d/zz-course-student.json").exists()
    server = _jupyter(bin_dir, state, "server", "extension", "list")
    enabled = dict(
        re.findall(r"^\s+(nbgrader\.server_extensions\.\w+) (enabled|disabled)", server, re.M)
    )
    assert enabled == {
        "nbgrader.server_extensions.formgrader": "disabled",
        "nbgrader.server_extensions.assignment_list": "disabled",
        "nbgrader.server_extensions.course_list": "disabled",
        "nbgrader.server_extensions.validate_assignment": "enabled",
    }, server
    lab = _jupyter(bin_dir, state, "labextension", "list")
    disabled = set(re.findall(r"^\s+(@jupyter/nbgrader:[\w-]+)\s*$", lab, re.M))
    assert {
        "@jupyter/nbgrader:formgrader",
        "@jupyter/nbgrader:create-assignment",
        "@jupyter/nbgrader:course-list",
        "@jupyter/nbgrader:assignment-list",
    } <= disabled, lab
    assert "@jupyter/nbgrader:validate-assignment" not in disabled, lab
    assert re.search(r"@jupyter/nbgrader v[\d.]+ enabled", lab), lab
    overrides = json.loads((prefix / "share/jupyter/lab/settings/overrides.json").read_text())
    assert overrides["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"
    version = subprocess.run(
        [str(bin_dir / "python"), "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    notebooks = sorted([*repo.glob("*.ipynb"), *repo.glob("*/*.ipynb")])
    assert len(notebooks) == 11
    for notebook in notebooks:  # postBuild wrote this kernel's language_info into each
        meta = json.loads(notebook.read_text())["metadata"]
        assert meta["language_info"]["version"] == version, notebook


def imported_modules(repo: Path) -> set[str]:
    """Absolute imports in every notebook of the edition, the scripts beside them, and course/."""
    sources: list[tuple[str, str]] = []
    for notebook in sorted([*repo.glob("*.ipynb"), *repo.glob("*/*.ipynb")]):
        for cell in json.loads(notebook.read_text())["cells"]:
            if cell["cell_type"] == "code":
                code = "".join(cell["source"])
                code = "\n".join(
                    "" if line.lstrip().startswith(("%", "!")) else line
                    for line in code.splitlines()
                )
                sources.append((str(notebook), code))
    helpers = sorted(repo.glob("[0-9]*/*.py"))  # helper scripts beside a notebook
    for script in sorted([*helpers, *repo.glob("course/**/*.py")]):
        sources.append((str(script), script.read_text()))
    local = {p.stem for p in helpers}
    modules = set()
    for name, code in sources:
        flags = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT
        tree = compile(code, name, "exec", flags=flags)
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                modules.add(node.module)
    return {m for m in modules if m.split(".")[0] not in local}


def test_the_environment_imports_everything_the_course_imports(binder):
    repo, bin_dir, state = binder
    modules = sorted(imported_modules(repo))
    assert {"course.timeline", "course.grading", "gevent", "greenlet", "matplotlib"} <= set(modules)
    probe = (
        "import importlib, json, sys\n"
        "found = {}\n"
        "for name in json.loads(sys.argv[1]):\n"
        "    try:\n"
        "        found[name] = getattr(importlib.import_module(name), '__file__', None) or ''\n"
        "    except Exception as e:\n"
        "        found[name] = repr(e)\n"
        "print(json.dumps(found))\n"
    )
    ta_only = ["course.classgrade", "course.guard", "course.feedback", "course.syllabus"]
    done = subprocess.run(
        [str(bin_dir / "python"), "-c", probe, json.dumps(modules + ta_only)],
        cwd=state,  # not the edition: `course` must come from the installed package
        env=isolated_env(bin_dir, state),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout.splitlines()[-1])
    failed = {m: found[m] for m in modules if "Error(" in found[m]}
    assert not failed, failed
    for name in (m for m in modules if m.startswith("course")):
        assert Path(found[name]).is_relative_to(repo), f"{name} from {found[name]}"
    assert all("ModuleNotFoundError" in found[m] for m in ta_only), {m: found[m] for m in ta_only}


def test_binder_lab_opens_the_index_and_runs_notebook_01(binder, tmp_path):
    repo, bin_dir, state = binder
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    first = "01-os-processes-threads"
    with running_lab(bin_dir, repo, state) as lab:
        [(stdout, error)] = run_in_kernels(lab, ["index.ipynb"], "import sys; print(sys.prefix)")
        assert not error and Path(stdout.strip()) == bin_dir.parent, (stdout, error)
        with chromium(tmp_path / "profile") as browser:
            page = browser.new_page()
            index = open_notebook(page, lab, "index.ipynb", workspace="binder")
            names = file_browser_names(page)
            assert sorted(names) == sorted(p.name for p in repo.iterdir() if p.name[0] != ".")
            assert first in names and not {"source", "tests", "release"} & set(names), names
            assert not [n for n in names if n.endswith(".egg-info")], names
            index.wait_until_idle()
            assert not index.is_dirty(), "index.ipynb is marked unsaved right after opening"

            index.panel.get_by_role("link", name="Processes and threads", exact=True).click()
            nb = Notebook(page, f"{first}.ipynb")
            nb.wait_until_idle()
            nb.run_all()
            nb.images().first.wait_for(state="attached", timeout=KERNEL_WORK)
            nb.wait_until_idle()
            cells = json.loads((repo / first / f"{first}.ipynb").read_text())["cells"]
            for cell, out in zip(cells, nb.outputs(), strict=True):
                if out["errors"]:  # only an unsolved exercise may fail, and only as unsolved
                    grading = cell["metadata"].get("nbgrader", {})
                    assert grading.get("grade") or grading.get("solution"), out["errors"]
                    assert "NotImplementedError" in "".join(out["errors"]), out["errors"]
            nb.images().first.scroll_into_view_if_needed()
            screenshot(page, "binder-01-timeline")
            assert "Nbgrader" not in page.locator(".lm-MenuBar-item").all_inner_texts()
            assert page.locator("text=Create Assignment").count() == 0
            assert nb.panel.locator(".jp-Toolbar .validate-button").is_visible()
