"""The notebooks' prose keeps two promises a lecturer relies on.

1. Predictions wait: after a "Predict before you run" prompt the next cell is the code that
   produces the answer, and the explanation after that code sits in a collapsed
   `<details>` block, so a student sees no answer before running the cell.
2. True on every machine: no markdown states a core count or a measured speed-up; code prints
   what this machine measured.
"""

import re

import nbformat
import pytest

from tests.conftest import ASSIGNMENTS
from tests.support.grading_run import ROOT

PROMPT = re.compile(r"predict\b[^.\n]*before|\bpredict:", re.I)
RECAP = re.compile(r"guess before you run", re.I)
MACHINE_FIGURES = [
    # "2 cores", "two CPUs", "a machine with four cores"
    re.compile(r"\b(\d+|two|three|four|six|eight)[ -](cores?|CPUs?|processors?)\b", re.I),
    # "1.7x faster", "about 2x", "4× the time"
    re.compile(r"\b\d+(\.\d+)?\s*[x×](?=\W|$)(?!\s*\d)", re.I),
    re.compile(r"\b\d+(\.\d+)?\s*times\s+(faster|slower|as fast|quicker)", re.I),
]


def cells(name: str):
    return nbformat.read(ROOT / "source" / name / f"{name}.ipynb", 4).cells


def prose(cell) -> str:
    """Markdown without code spans and fenced blocks (code may print figures)."""
    text = re.sub(r"```.*?```", "", cell.source, flags=re.S)
    return re.sub(r"`[^`]*`", "", text)


@pytest.mark.parametrize("name", ASSIGNMENTS)
def test_predictions_wait_for_the_run(name):
    nb = cells(name)
    problems = []
    for i, cell in enumerate(nb):
        if cell.cell_type != "markdown" or not PROMPT.search(cell.source):
            continue
        if RECAP.search(cell.source):
            continue
        if i + 1 >= len(nb) or nb[i + 1].cell_type != "code":
            problems.append(f"cell {i}: the prompt is not followed by the code that answers it")
            continue
        j = i + 1
        while j < len(nb) and nb[j].cell_type == "code":
            j += 1
        if j < len(nb) and nb[j].cell_type == "markdown":
            after = nb[j].source.lstrip()
            if not after.startswith("<details") and not after.startswith("#"):
                problems.append(
                    f"cell {j}: the explanation after prediction {i} is visible before the run "
                    "(wrap it in <details><summary>What happened, and why</summary>...)"
                )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", ASSIGNMENTS + ["index"])
def test_no_machine_specific_figures_in_prose(name):
    path = ROOT / "index.ipynb" if name == "index" else None
    nb = nbformat.read(path, 4).cells if path else cells(name)
    found = [
        f"cell {i}: {m.group(0)!r}"
        for i, cell in enumerate(nb)
        if cell.cell_type == "markdown"
        for pattern in MACHINE_FIGURES
        for m in pattern.finditer(prose(cell))
    ]
    assert not found, "machine-specific figures in markdown (print them from code):\n" + "\n".join(
        found
    )
