"""The repository keeps its promises: canonical notebooks, lint, one environment, README."""

import re
import subprocess
import sys
import tomllib

import yaml

from course.syllabus import NOTEBOOKS
from tests.support.grading_run import ROOT

RUFF = [sys.executable, "-m", "ruff"]
LINTED = ["course", "tests", "scripts", "benchmarks", "nbgrader_config.py"]


def test_notebooks_are_canonical():
    done = subprocess.run(
        [sys.executable, "scripts/notebooks.py", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_ruff_lint_and_format():
    paths = [p for p in LINTED if (ROOT / p).exists()]
    lint = subprocess.run([*RUFF, "check", *paths], cwd=ROOT, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run(
        [*RUFF, "format", "--check", *paths], cwd=ROOT, capture_output=True, text=True
    )
    assert fmt.returncode == 0, fmt.stdout


def _requirement_names(specs):
    return {re.split(r"[<>=!~ \[]", spec, maxsplit=1)[0].lower() for spec in specs}


def test_environment_yml_matches_pyproject():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    specs = [s for s in pip if not s.startswith("-e")]
    assert sorted(specs) == sorted(project["dependencies"]), "same packages, same ranges"
    assert "-e ." in pip, "Binder installs the course package itself"
    python = next(d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python"))
    assert python >= "python=3.12"


def test_readme_commands_are_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.M), ".ci/run must run the README's test command"


def test_course_map_lists_every_notebook():
    readme = (ROOT / "README.md").read_text()
    for nb in NOTEBOOKS:
        assert f"release/{nb.name}/{nb.name}.ipynb" in readme, nb.name


def test_no_merge_leftovers_or_editor_backups_are_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    leftovers = [f for f in tracked if re.search(r"(\.orig|\.rej|~|\.swp|\.bak)$", f)]
    assert not leftovers, f"stale copies committed: {leftovers}"


def test_tests_need_no_demo_cell():
    """A test cell (hidden part included) reads no name that only a demo cell binds: a student
    may edit or delete demos, and a test must then still grade the exercise, not the demo."""
    import nbformat

    from tests.support.grading_run import cell_names

    found = []
    for nb_info in NOTEBOOKS:
        nb = nbformat.read(ROOT / "source" / nb_info.name / f"{nb_info.name}.ipynb", 4)
        demo_bound, exercise_bound = set(), set()
        for cell in nb.cells:
            names = cell_names(cell.source) if cell.cell_type == "code" else None
            if names is None:
                continue
            bound, reads, _ = names
            role = cell.metadata.get("nbgrader", {})
            if role.get("grade"):
                found += [
                    f"{nb_info.name} {role['grade_id']}: {name}"
                    for name in sorted((reads - exercise_bound) & demo_bound)
                ]
            if role.get("grade") or role.get("solution"):
                exercise_bound |= bound
            else:
                demo_bound |= bound
    assert not found, f"tests that read a name only a demo cell binds: {found}"
