"""release/ is exactly what stock nbgrader generates from source/, and gives nothing away."""

import filecmp
import re

import nbformat
import pytest

from course.syllabus import notebook_path
from tests.conftest import ASSIGNMENTS
from tests.support.grading_run import HIDDEN_RE, ROOT, SOLUTION_RE, notebook_text


def _solution_lines(nb) -> set[str]:
    """Distinctive lines of the reference solutions: inside solution blocks, nowhere else."""
    inside, outside = set(), set()
    for cell in nb.cells:
        blocks = re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", cell.source, re.S)
        for block in blocks:
            inside |= {ln.strip() for ln in block.splitlines() if len(ln.strip()) > 15}
        rest = re.sub(r"### BEGIN SOLUTION\n.*?### END SOLUTION", "", cell.source, flags=re.S)
        outside |= {ln.strip() for ln in rest.splitlines()}
    return inside - outside


def test_release_is_a_fresh_regeneration(graded):
    """The grading run generated the release afresh with stock nbgrader: it must equal release/."""
    name = graded.assignment
    fresh, committed = graded.root / "release" / name, ROOT / "release" / name
    assert committed.is_dir(), f"release/{name} is missing: run `make release`"
    compare = filecmp.dircmp(fresh, committed, ignore=["__pycache__", ".ipynb_checkpoints"])
    assert not (compare.left_only or compare.right_only), compare.report()
    for file in compare.common_files:
        assert (fresh / file).read_bytes() == (committed / file).read_bytes(), (
            f"release/{name}/{file} differs from a fresh `nbgrader generate_assignment`: "
            "run `make release`"
        )


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_release_holds_no_solutions_hidden_tests_or_outputs(name):
    source = nbformat.read(ROOT / notebook_path(name), 4)
    release = nbformat.read(ROOT / notebook_path(name, "release"), 4)
    text = notebook_text(release)
    assert not SOLUTION_RE.search(text) and "HIDDEN TESTS" not in text
    release_lines = {line.strip() for line in text.splitlines()}
    leaked = [line for line in _solution_lines(source) if line in release_lines]
    assert not leaked, f"solution code in release/{name}: {leaked[:3]}"
    for block in (b for c in source.cells for b in HIDDEN_RE.findall(c.source)):
        assert block.strip() not in text
    assert all(not c.get("outputs") for c in release.cells if c.cell_type == "code")
