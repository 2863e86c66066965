"""The grading library imports downward only: no circle, lazy imports included.

The graph is read from the source (every ``import`` statement, also those inside
functions), so an import that would only run later still counts.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
MODULES = sorted((ROOT / "course" / "grading").glob("*.py")) + [
    ROOT / "course" / name for name in ("_state.py", "_frames.py", "guard.py", "servers.py")
]
BOTTOM = ("course._state", "course._frames")  # import nothing from course


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


KNOWN = {module_name(p) for p in MODULES} | {"course.grading", "course"}


def imports_of(path: Path) -> set[str]:
    """Every course module ``path`` imports, anywhere in the file."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(parent + ([node.module] if node.module else []))
            submodules = {f"{base}.{alias.name}" for alias in node.names} & KNOWN
            # `from . import _stacks` imports the submodule, not the package (already loading)
            found.update(submodules or {base})
    return {m for m in found if m in KNOWN and m != name and m != "course"}


GRAPH = {module_name(p): imports_of(p) for p in MODULES}


def test_graph_is_read():
    assert "course.grading._stacks" in GRAPH["course.grading.isolated"]
    assert "course._state" in GRAPH["course.grading.isolated"]
    assert "course.grading.isolated" in GRAPH["course.grading.lockorder"]  # a lazy import


def test_no_cycle():
    def visit(node, path):
        for nxt in sorted(GRAPH.get(node, ())):
            if nxt in path:
                cycle = path[path.index(nxt) :] + [nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            visit(nxt, path + [nxt])

    for start in GRAPH:
        visit(start, [start])


@pytest.mark.parametrize("name", BOTTOM)
def test_bottom_modules_import_nothing_from_course(name):
    assert GRAPH[name] == set()


def test_submodules_never_import_the_package():
    for name, deps in GRAPH.items():
        if name.startswith("course.grading."):
            assert "course.grading" not in deps, name
