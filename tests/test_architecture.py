"""The shape of the `course` package: imports run one way, every public name is documented,
and docs/architecture.md maps every module.

Imports are read from the source (`ast`), lazy imports inside functions included, so a cycle
that only closes at run time is caught too.
"""

import ast
import importlib
import inspect
from pathlib import Path

import pytest

from tests.support.grading_run import ROOT

PACKAGE = ROOT / "course"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imports_of(name: str) -> set[str]:
    """The `course` modules that module `name` imports, anywhere in its body."""
    path = MODULES[name]
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            # `from pkg import sub` imports the submodule `pkg.sub` when there is one
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in MODULES else base for a in node.names
            ]
        else:
            continue
        found |= {t for t in targets if t in MODULES and t != name}
    return found


GRAPH = {name: imports_of(name) for name in MODULES}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return out


def test_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_among_course_modules():
    assert not cycles(GRAPH), f"import cycles: {cycles(GRAPH)}"


def test_no_module_imports_its_own_package_back():
    """A submodule never imports its package's __init__ (which imports the submodules)."""
    back = [
        (name, target)
        for name, targets in GRAPH.items()
        for target in targets
        if MODULES[target].name == "__init__.py" and name.startswith(target + ".")
    ]
    assert not back, f"imports that run back up to the package: {back}"


def public_names(module) -> list[str]:
    names = getattr(module, "__all__", None) or [n for n in vars(module) if not n.startswith("_")]
    own = []
    for n in names:
        obj = getattr(module, n, None)
        if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == module.__name__:
            own.append(n)
    return own


OPTIONAL = {"course.classgrade.cluster"}  # needs the [cluster] extra


@pytest.mark.parametrize("name", sorted(MODULES))
def test_public_names_have_docstrings(name):
    try:
        module = importlib.import_module(name)
    except ImportError:
        if name in OPTIONAL:
            pytest.skip(f"{name} needs an optional extra")
        raise
    assert module.__doc__, f"{name} has no module docstring"
    missing = [n for n in public_names(module) if not inspect.getdoc(getattr(module, n))]
    assert not missing, f"{name}: public names without a docstring: {missing}"


def test_architecture_map_lists_every_module():
    page = (ROOT / "docs" / "architecture.md").read_text()
    missing = [name for name in MODULES if f"`{name}`" not in page]
    assert not missing, f"docs/architecture.md does not list: {missing}"
