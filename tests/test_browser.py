"""A student's session in JupyterLab, driven in headless Chromium.

One JupyterLab (this environment, isolated Jupyter state) serves the student edition, built
into a temporary folder by scripts/student_edition.py (as `make lab` serves dist/student); the
repository is never modified. The tests open the index and run it, then for notebooks 02, 05
and 09: follow the index's link to the notebook, run all cells (Run menu), check the timeline
image and that the only errors are the unfinished exercises' `NotImplementedError`, type the
reference answer of the first exercise (taken from the source notebook) into its cell, run its
visible test, then press nbgrader's Validate. Further tests: opening a notebook leaves it
unmodified (no unsaved marker); Validate fails a Counter without its lock and passes the
solution; a notebook worked through and saved in JupyterLab, handed in inside an LMS zip, gets
the same grade from `course.classgrade collect` + `autograde` as the same answers written into
the release notebook. Screenshots go to test-artifacts/.
"""

import json
import platform
import re
import zipfile
from pathlib import Path

import nbformat
import pytest

from course.syllabus import NOTEBOOKS
from tests.mutants.a05_locks import MUTANTS as LOCK_MUTANTS
from tests.support.browser_lab import (
    KERNEL_WORK,
    ROOT,
    Notebook,
    cell_index,
    file_browser_names,
    first_exercise,
    open_notebook,
    run_in_kernels,
    screenshot,
)
from tests.support.grading_run import GradingRun, run_module, solution_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

BROWSED = ["02-threading", "05-locks", "09-coroutines"]
TITLES = {nb.name: nb.title for nb in NOTEBOOKS}


def assert_student_ui(page, nb: Notebook) -> None:
    """What postBuild's student configuration promises: Validate, no instructor tools."""
    menus = page.locator(".lm-MenuBar-item").all_inner_texts()
    assert "Nbgrader" not in menus, f"instructor menu visible: {menus}"
    assert nb.panel.locator(".jp-Toolbar .validate-button").is_visible(), "no Validate button"
    assert page.locator("text=Create Assignment").count() == 0, "create-assignment is enabled"
    assert page.locator("text=official Jupyter news").count() == 0, "news popup shown"


def run_all_and_check(nb: Notebook, notebook_file: Path) -> list[dict]:
    """Run all cells, wait for the kernel, check the timeline image and the error outputs."""
    nb.wait_until_idle()
    nb.run_all()
    nb.images().first.wait_for(state="attached", timeout=KERNEL_WORK)
    nb.wait_until_idle()
    outputs = nb.outputs()
    cells = nbformat.read(notebook_file, as_version=4).cells
    assert len(outputs) == len(cells), "every cell of the notebook is shown"
    failed = [i for i, out in enumerate(outputs) if out["errors"]]
    for i in failed:
        grading = cells[i].metadata.get("nbgrader", {})
        text = "\n".join(outputs[i]["errors"])
        assert grading.get("grade") or grading.get("solution"), (
            f"cell {i} (not an exercise) wrote an error or to stderr:\n{text}"
        )
        assert "NotImplementedError" in text, f"exercise cell {i} failed unexpectedly:\n{text}"
    stop = failed[0] if failed else len(cells)  # Run All stops at the first error
    not_run = [
        i
        for i in range(stop)
        if cells[i].cell_type == "code" and not re.search(r"\[\d+\]", outputs[i]["prompt"])
    ]
    assert not not_run, f"cells {not_run} (before the first exercise error) were not run"
    assert sum(out["images"] for out in outputs) >= 1, "no timeline image"
    return outputs


def test_index_runs_and_shows_a_timeline(page, lab):
    nb = open_notebook(page, lab, "index.ipynb", workspace="index")
    run_all_and_check(nb, lab.root / "index.ipynb")
    image = nb.images().first
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    assert box and box["width"] > 300 and box["height"] > 100, f"timeline image too small: {box}"
    screenshot(page, "browser-index-timeline")
    assert_student_ui(page, nb)
    names = file_browser_names(page)  # the student edition: no answers one click away
    assert "01-os-processes-threads" in names and "index.ipynb" in names, names
    assert not {"source", "tests", "release", "autograded", "docs"} & set(names), names


@pytest.mark.parametrize("name", BROWSED)
def test_student_works_through_a_notebook(page, lab, name):
    release = lab.root / name / f"{name}.ipynb"
    source = ROOT / "source" / name / f"{name}.ipynb"
    exercise = first_exercise(source)
    solution_at, test_at = (
        cell_index(release, exercise.solution_id),
        cell_index(release, exercise.test_id),
    )

    # the index's course map links to the notebook; the link opens it in JupyterLab
    index = open_notebook(page, lab, "index.ipynb", workspace=name)
    index.panel.get_by_role("link", name=TITLES[name], exact=True).click()
    nb = Notebook(page, release.name)

    run_all_and_check(nb, release)
    nb.images().first.scroll_into_view_if_needed()
    screenshot(page, f"browser-{name}-1-run-all")

    nb.set_source(solution_at, exercise.solution)
    nb.cells.nth(solution_at).scroll_into_view_if_needed()
    screenshot(page, f"browser-{name}-2-solution-typed")
    nb.run_cell(solution_at)
    nb.run_cell(test_at)
    result = nb.outputs()[test_at]
    assert not result["errors"], "\n".join(result["errors"])
    assert "visible tests passed" in "".join(result["texts"])
    nb.cells.nth(test_at).locator(".jp-OutputArea-output").last.scroll_into_view_if_needed()
    screenshot(page, f"browser-{name}-3-visible-test-passed")

    dialog = nb.validate()  # saves the notebook, then nbgrader validates the saved file
    message = dialog.locator("#validation-message")
    message.evaluate(  # scroll to the end: the last failure's final line names its error
        """m => { for (let e = m; e && !e.classList.contains('jp-Dialog'); e = e.parentElement)
                      e.scrollTop = e.scrollHeight; }"""
    )
    screenshot(page, f"browser-{name}-4-validate")
    verdict = message.get_attribute("class") or ""
    text = message.inner_text()
    assert dialog.locator(".jp-Dialog-header").inner_text().strip() == "Validation Results"
    if "validation-success" in verdict:
        assert "passes all the tests" in text
    else:
        assert "validation-failed" in verdict, f"Validate could not run:\n{text}"
        pres = message.locator("pre").all_inner_texts()
        failed_sources, errors = pres[0::2], pres[1::2]
        assert failed_sources, text
        assert not [s for s in failed_sources if exercise.test_docstring in s], (
            f"Validate reports the solved exercise's test ({exercise.test_id}) as failing:\n{text}"
        )
        for error in errors:
            assert "NotImplementedError" in error, (
                f"an unsolved exercise failed otherwise:\n{error}"
            )
    dialog.locator(".jp-Dialog-footer button").last.click()

    saved = nbformat.read(release, as_version=4).cells[solution_at].source
    assert saved.rstrip() == exercise.solution.rstrip(), "the typed answer is not what was saved"
    assert_student_ui(page, nb)


def test_course_is_importable_from_every_release_notebook(lab):
    """`make lab` semantics: a notebook's kernel runs in the notebook's folder and imports
    `course` from the installed package (the edition's course/ sits one folder up)."""
    paths = sorted(p.relative_to(lab.root).as_posix() for p in lab.root.glob("[0-9]*/*.ipynb"))
    assert paths, "no release notebook"
    code = "import os, course.timeline, course.grading\nprint(os.getcwd())\nprint(course.__file__)"
    results = run_in_kernels(lab, paths, code)
    for path, (stdout, error) in zip(paths, results, strict=True):
        assert not error, f"{path}: {error}"
        cwd, course_file = stdout.split()
        assert Path(cwd) == (lab.root / path).parent, f"{path}: kernel runs in {cwd}"
        assert not Path(course_file).is_relative_to(lab.root), f"{path}: course from {course_file}"


@pytest.mark.parametrize(
    "path, dirty",
    [
        ("index.ipynb", False),
        ("04-ipc/04-ipc.ipynb", False),
        ("stale-metadata.ipynb", True),  # the control: metadata JupyterLab rewrites on opening
    ],
)
def test_opening_a_notebook_leaves_it_unmodified(page, lab, path, dirty):
    """The edition's notebooks carry the kernelspec and language_info this kernel reports, so
    JupyterLab has nothing to change on opening: no unsaved marker on the tab."""
    if path == "stale-metadata.ipynb":
        nb = json.loads((lab.root / "04-ipc" / "04-ipc.ipynb").read_text())
        nb["metadata"]["language_info"] = {"name": "python"}
        (lab.root / path).write_text(json.dumps(nb))
    nb = open_notebook(page, lab, path, workspace="clean-" + Path(path).stem)
    nb.wait_until_idle()  # the kernel has answered: its language_info has been applied
    for _ in range(12):  # and stays applied for 3 s
        if nb.is_dirty():
            break
        page.wait_for_timeout(250)
    assert nb.is_dirty() == dirty, f"{path}: unsaved marker {'missing' if dirty else 'shown'}"


def test_validate_fails_a_counter_without_lock_and_passes_the_solution(page, lab):
    """Issue 15, acceptance 2: Validate says so when the Counter has no lock."""
    name = "05-locks"
    notebook = lab.root / name / f"{name}.ipynb"
    source = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", 4)
    answers = {
        c.metadata.nbgrader["grade_id"]: solution_code(c)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    no_lock = next(m for m in LOCK_MUTANTS if m.cell == "counter-solution" and m.name == "no lock")
    nb = open_notebook(page, lab, f"{name}/{name}.ipynb", workspace="validate-lock")
    nb.wait_until_idle()
    for grade_id, code in {**answers, "counter-solution": no_lock.code}.items():
        nb.set_source(cell_index(notebook, grade_id), code)

    def validate() -> tuple[str, str]:
        dialog = nb.validate()
        message = dialog.locator("#validation-message")
        verdict, text = message.get_attribute("class") or "", message.inner_text()
        screenshot(page, f"browser-validate-{'fails' if 'failed' in verdict else 'passes'}")
        dialog.locator(".jp-Dialog-footer button").last.click()
        return verdict, text

    verdict, text = validate()
    assert "validation-failed" in verdict, text
    assert "Counter.increment adds 1" in text  # the counter test's docstring, quoted as failing
    assert "withdraw checks the balance" not in text  # the solved withdraw passes

    nb.set_source(cell_index(notebook, "counter-solution"), answers["counter-solution"])
    verdict, text = validate()
    assert "validation-success" in verdict and "passes all the tests" in text, text


ROUND_TRIP = "01-os-processes-threads"


def test_saved_in_jupyterlab_handed_in_and_graded_like_the_release(page, lab, tmp_path):
    """A student solves every exercise in the edition, runs the notebook and saves it in
    JupyterLab; the TA collects it from an LMS zip and autogrades it: the same scores as the
    same answers written into the release notebook, which are full marks."""
    name = ROUND_TRIP
    notebook = lab.root / name / f"{name}.ipynb"
    run = GradingRun(tmp_path, name)  # a course folder: source/ and generated release/
    answers = run.reference_answers()

    nb = open_notebook(page, lab, f"{name}/{name}.ipynb", workspace="round-trip")
    nb.wait_until_idle()
    for grade_id, code in answers.items():
        nb.set_source(cell_index(notebook, grade_id), code)
    nb.run_all()
    nb.wait_until_idle()
    assert not [o["errors"] for o in nb.outputs() if o["errors"]], "a cell failed"
    nb.save()

    saved = nbformat.read(notebook, 4)  # what JupyterLab wrote
    assert saved.metadata.language_info["version"] == platform.python_version()
    assert sum(len(c.get("outputs", [])) for c in saved.cells if c.cell_type == "code") > 5
    assert any(c.get("execution_count") for c in saved.cells if c.cell_type == "code")

    archive = tmp_path / "lms-download.zip"  # Moodle-style names: <student>_<...>_<file>
    with zipfile.ZipFile(archive, "w") as zf:
        zf.write(notebook, f"edition_1001_assignsubmission_file_{name}.ipynb")
        zf.writestr(f"release_{name}.ipynb", nbformat.writes(run.reference()))
    for args in (["collect", name, str(archive)], ["autograde", name, "--workers", "1"]):
        done = run_module("course.classgrade", args, run.root, PYTHONPATH=str(ROOT))
        assert done.returncode == 0, done.stdout + done.stderr
    from_lab, from_release = run.scores("edition"), run.scores("release")
    assert from_lab == from_release, (from_lab, from_release)
    assert all(score == top for score, top in from_lab.values()), from_lab
