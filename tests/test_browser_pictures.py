"""The pictures a student sees in JupyterLab, screenshotted in headless Chromium.

Issue 17 (acceptance 5): every timeline of notebooks 01 and 05, run with Run All in the student
edition (every exercise filled with its reference answer, so nothing stops the run), is
screenshotted as `nb01-timeline-1.png`, ...; each code cell shows exactly as many images as it
has plot calls (`tl.plot(...)`, `plot_compare(...)`), and each is a real picture, not an icon.

Issue 19 (acceptance 2): a failing visible test shows, below its message, a picture of the
student's own failing run: a `Counter` without its lock (05) and a `transfer` that takes the two
accounts' locks in opposite orders for opposite transfers (06). Screenshots: `nb05-counter-no-lock`
and `nb06-transfer-deadlock` (the test cell's output area); the saved notebook tags the picture with
its kind ("race", "deadlock").

One JupyterLab serves the student edition for the module (built into a temporary folder, as in
test_browser.py); each test opens one notebook in a fresh workspace and stops its kernel after.
"""

import re
from pathlib import Path

import nbformat
import pytest

from tests.mutants.a05_locks import MUTANTS as LOCK_MUTANTS
from tests.mutants.a06_deadlock_rlock import MUTANTS as DEADLOCK_MUTANTS
from tests.support.browser_lab import (
    ARTIFACTS,
    KERNEL_WORK,
    ROOT,
    STDERR,
    Notebook,
    cell_index,
    open_notebook,
)
from tests.support.grading_run import solution_code

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]

# A call that draws one timeline: `tl.plot(`, `calls.plot(`, `plot_compare(`; not `plt.plot(`.
PLOT_CALL = re.compile(r"^(?!\s*#).*?(?:(?<!plt)\.plot\(|\bplot_compare\()", re.M)
MIN_WIDTH, MIN_HEIGHT = 300, 100  # px: smaller than this is no readable timeline


def reference_answers(name: str) -> dict[str, str]:
    """{grade_id: reference code} of every solution cell of a source notebook."""
    source = nbformat.read(ROOT / "source" / name / f"{name}.ipynb", as_version=4)
    return {
        c.metadata.nbgrader["grade_id"]: solution_code(c)
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def plot_calls(notebook: Path) -> list[int]:
    """Per cell of the notebook: how many timelines its code draws (0 for markdown)."""
    cells = nbformat.read(notebook, as_version=4).cells
    return [len(PLOT_CALL.findall(c.source)) if c.cell_type == "code" else 0 for c in cells]


def wait_for_run_all(nb: Notebook) -> None:
    """Run All has finished: every code cell shows an execution count (none `[ ]` or `[*]`), or
    a cell failed and the run stopped there (an error shown, nothing queued); then the kernel is
    idle. The notebook had no outputs before, so an error shown is one of this run."""
    nb.page.wait_for_function(
        r"""([panel, stderr]) => {
            const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputArea-prompt')];
            const failed = panel.querySelector(`.jp-OutputArea-output[data-mime-type='${stderr}']`);
            return prompts.every(p => /\[\d+\]/.test(p.textContent))
                || (failed && !prompts.some(p => p.textContent.includes('*')));
        }""",
        arg=[nb.panel.element_handle(), STDERR],
        timeout=KERNEL_WORK,
        polling=500,
    )
    nb.wait_until_idle()


def output_kinds(nb: Notebook, index: int) -> list[str]:
    """The mime types of a cell's outputs, in the order they are shown (top to bottom)."""
    return nb.cells.nth(index).evaluate(
        """cell => [...cell.querySelectorAll('.jp-OutputArea-output')]
                    .map(o => o.dataset.mimeType || '')"""
    )


def assert_real_picture(image, what: str) -> None:
    """A decoded PNG, drawn at a readable size."""
    size = image.evaluate("img => [img.naturalWidth, img.naturalHeight, img.complete]")
    assert size[2] and size[0] >= MIN_WIDTH and size[1] >= MIN_HEIGHT, f"{what}: {size}"
    box = image.bounding_box()
    assert box and box["width"] >= MIN_WIDTH and box["height"] >= MIN_HEIGHT, f"{what}: {box}"


def fill_and_run(nb: Notebook, notebook: Path, grade_id: str, code: str) -> int:
    """Type `code` into the solution cell `grade_id`, run it; return the test cell's index (the
    next graded cell), which is run too."""
    cells = nbformat.read(notebook, as_version=4).cells
    solution_at = cell_index(notebook, grade_id)
    test_at = next(
        k
        for k in range(solution_at + 1, len(cells))
        if cells[k].metadata.get("nbgrader", {}).get("grade")
    )
    nb.wait_until_idle()
    nb.set_source(solution_at, code)
    nb.run_cell(solution_at)
    nb.run_cell(test_at)
    return test_at


def saved_picture_kinds(nb: Notebook, notebook: Path, index: int) -> list:
    """Save the notebook; the `grading_failure` kind of each picture in the cell's saved outputs
    (the grading library tags its failure pictures so, e.g. "race", "deadlock")."""
    nb.save()
    outputs = nbformat.read(notebook, as_version=4).cells[index].get("outputs", [])
    return [
        o.get("metadata", {}).get("grading_failure")
        for o in outputs
        if "image/png" in o.get("data", {})
    ]


def screenshot_output(nb: Notebook, index: int, name: str) -> Path:
    """The cell's output area alone (message and picture), as a PNG in test-artifacts/."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    area = nb.cells.nth(index).locator(".jp-OutputArea").first
    area.scroll_into_view_if_needed()
    area.screenshot(path=str(path))
    return path


@pytest.mark.parametrize("name, short", [("01-os-processes-threads", "nb01"), ("05-locks", "nb05")])
def test_every_timeline_is_shown(page, lab, name, short):
    notebook = lab.root / name / f"{name}.ipynb"
    expected = plot_calls(notebook)
    assert sum(expected) >= 2, f"{name}: expected timelines in its code, found {expected}"

    nb = open_notebook(page, lab, f"{name}/{name}.ipynb", workspace=f"pictures-{short}")
    nb.wait_until_idle()
    for grade_id, code in reference_answers(name).items():  # so Run All runs every cell
        nb.set_source(cell_index(notebook, grade_id), code)
    nb.run_all()
    wait_for_run_all(nb)

    outputs = nb.outputs()
    errors = {i: out["errors"] for i, out in enumerate(outputs) if out["errors"]}
    assert not errors, f"{name}: cells wrote errors or to stderr: {errors}"
    shown = [out["images"] for out in outputs]
    assert shown == expected, (
        f"{name}: images per cell {dict(enumerate(shown))} != plot calls per cell "
        f"{dict(enumerate(expected))}"
    )

    images = nb.images()
    assert images.count() == sum(expected)
    for k in range(images.count()):
        image = images.nth(k)
        image.scroll_into_view_if_needed()
        assert_real_picture(image, f"{name} timeline {k + 1}")
        image.screenshot(path=str(ARTIFACTS / f"{short}-timeline-{k + 1}.png"))


def assert_failure_shown(page, lab, name: str, mutant, message: str, kind: str, short: str):
    """Type `mutant` into its cell of notebook `name`, run the visible test: it fails with
    `message` and, below the message, one real picture that the saved notebook tags `kind`;
    the test cell's output area is screenshotted as `short`.png."""
    notebook = lab.root / name / f"{name}.ipynb"
    nb = open_notebook(page, lab, f"{name}/{name}.ipynb", workspace=f"pictures-{short}")
    test_at = fill_and_run(nb, notebook, mutant.cell, mutant.code)

    result = nb.outputs()[test_at]
    errors = "\n".join(result["errors"])
    assert message in errors, errors
    assert "visible tests passed" not in "".join(result["texts"])
    screenshot_output(nb, test_at, short)
    kinds = output_kinds(nb, test_at)
    assert "image/png" in kinds, f"no picture below the failure: outputs {kinds}"
    assert kinds.index("image/png") > kinds.index(STDERR), f"picture above the message: {kinds}"
    picture = nb.cells.nth(test_at).locator(".jp-OutputArea-output img").first
    assert_real_picture(picture, f"{kind} picture")
    assert saved_picture_kinds(nb, notebook, test_at) == [kind]


def test_counter_without_lock_shows_the_lost_update(page, lab):
    """Issue 19: the visible test of a Counter without its lock fails with its message and,
    below it, the timeline of the failing trial."""
    no_lock = next(m for m in LOCK_MUTANTS if m.cell == "counter-solution" and m.name == "no lock")
    assert_failure_shown(
        page, lab, "05-locks", no_lock, "expected 100, got", "race", "nb05-counter-no-lock"
    )


def test_transfer_in_opposite_orders_shows_the_deadlock(page, lab):
    """Issue 19: opposite transfers taking the two locks in opposite orders (AB/BA) fail the
    visible test with 'possible deadlock' and, below it, a wait-for picture."""
    ab_ba = next(m for m in DEADLOCK_MUTANTS if m.name.startswith("AB/BA"))
    assert_failure_shown(
        page,
        lab,
        "06-deadlock-rlock",
        ab_ba,
        "possible deadlock",
        "deadlock",
        "nb06-transfer-deadlock",
    )
