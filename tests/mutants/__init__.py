"""Wrong and right solutions for every graded exercise, one module per assignment.

A module `aNN_topic.py` defines `ASSIGNMENT = "NN-topic"`, `MUTANTS` (a list of `Mutant`s) and
`ALTERNATIVES` (a list of `Alternative`s).

- A `Mutant` replaces one solution cell with a wrong solution and names the test cells it must
  fail; every other test cell must still get full marks, so a mutant loses exactly its points.
  `kind="mistake"` is a realistic error (no lock, `if` instead of `while` ...); `kind="cheat"`
  is a submission that games the tests (the answer without the work, dummy workers, sleeping
  instead of synchronising, tampering with `course.*`): at least 2 per exercise.
- An `Alternative` is a *correct* solution in another style than the reference (a `Condition`
  instead of an `Event`, an executor instead of threads, `try/finally` instead of `with` ...):
  it must get full marks every time. At least 2 per exercise.
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
    kind: str = "mistake"  # "mistake" (a realistic error) or "cheat" (games the tests)

    def __post_init__(self):
        object.__setattr__(self, "code", dedent(self.code).strip("\n"))
        assert self.kind in ("mistake", "cheat"), self.kind


@dataclass(frozen=True)
class Alternative:
    cell: str  # grade_id of the solution cell it replaces
    name: str  # the style, in a few words
    code: str  # a correct solution

    def __post_init__(self):
        object.__setattr__(self, "code", dedent(self.code).strip("\n"))


def _modules():
    for info in pkgutil.iter_modules(__path__):
        yield importlib.import_module(f"{__name__}.{info.name}")


def by_assignment() -> dict[str, list[Mutant]]:
    """{assignment: [Mutant, ...]} from every module in this package."""
    return {module.ASSIGNMENT: list(module.MUTANTS) for module in _modules()}


def alternatives_by_assignment() -> dict[str, list[Alternative]]:
    """{assignment: [Alternative, ...]} from every module in this package."""
    return {module.ASSIGNMENT: list(getattr(module, "ALTERNATIVES", [])) for module in _modules()}


def submissions(mutants: list) -> list[tuple[dict[str, str], list]]:
    """Group mutants (or alternatives) into as few submissions as possible: at most one per
    solution cell each.

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
