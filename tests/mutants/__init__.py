"""Wrong solutions (mutants) for every graded exercise, one module per assignment.

A module `aNN_topic.py` defines `ASSIGNMENT = "NN-topic"` and `MUTANTS`, a list of `Mutant`s.
Each mutant replaces one solution cell and names the test cells it must fail; every other
test cell of the notebook must still get full marks, so a mutant loses exactly its points.
"""

import importlib
import pkgutil
from dataclasses import dataclass
from textwrap import dedent


@dataclass(frozen=True)
class Mutant:
    cell: str  # grade_id of the solution cell it replaces
    name: str  # what is wrong, in a few words
    code: str  # the wrong solution
    fails: tuple[str, ...]  # grade_ids of the test cells that must score 0
    expect: str = ""  # text the failing test cells' error output must contain (the explanation)

    def __post_init__(self):
        object.__setattr__(self, "code", dedent(self.code).strip("\n"))


def by_assignment() -> dict[str, list[Mutant]]:
    """{assignment: [Mutant, ...]} from every module in this package."""
    found = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        found[module.ASSIGNMENT] = list(module.MUTANTS)
    return found


def submissions(mutants: list[Mutant]) -> list[tuple[dict[str, str], list[Mutant]]]:
    """Group mutants into as few submissions as possible: at most one mutant per solution cell each.

    Returns [(answers {cell: code}, [the mutants it carries]), ...]. Test cells of different
    exercises are independent, so one submission can carry a mutant of each.
    """
    per_cell: dict[str, list[Mutant]] = {}
    for m in mutants:
        per_cell.setdefault(m.cell, []).append(m)
    rounds = max((len(v) for v in per_cell.values()), default=0)
    out = []
    for k in range(rounds):
        chosen = [ms[k] for ms in per_cell.values() if k < len(ms)]
        out.append(({m.cell: m.code for m in chosen}, chosen))
    return out
