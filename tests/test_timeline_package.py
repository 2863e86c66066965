"""course.timeline is a package whose modules import downward only.

Checked from the source (``ast``), so imports inside functions count too.
"""

import ast
from pathlib import Path

import pytest

import course.timeline

PACKAGE = Path(course.timeline.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__")


def _tree(name):
    return ast.parse((PACKAGE / f"{name}.py").read_text(encoding="utf-8"))


def package_imports(name) -> set[str]:
    """Modules of the package that module ``name`` imports ("__init__" = the package)."""
    found = set()
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.ImportFrom):
            if node.level == 1:
                base = node.module
                found.update([base] if base else [a.name for a in node.names])
            elif node.module == "course.timeline":
                found.add("__init__")
            elif (node.module or "").startswith("course.timeline."):
                found.add(node.module.split(".")[2])
            elif node.module == "course":
                found.update("__init__" for a in node.names if a.name == "timeline")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "course.timeline":
                    found.add("__init__")
                elif alias.name.startswith("course.timeline."):
                    found.add(alias.name.split(".")[2])
    return found


def test_every_module_is_imported_by_the_package_or_the_recorder():
    reachable = package_imports("__init__") | package_imports("recorder")
    assert set(MODULES) - {"recorder"} <= reachable | {"pictures"}


@pytest.mark.parametrize("name", MODULES)
def test_no_module_imports_the_package_back(name):
    assert "__init__" not in package_imports(name)


def test_imports_form_no_cycle():
    graph = {name: package_imports(name) for name in MODULES}
    order = []  # a topological order, bottom first

    def visit(name, path):
        assert name not in path, " -> ".join([*path, name])
        if name in order:
            return
        for dep in sorted(graph[name]):
            visit(dep, [*path, name])
        order.append(name)

    for name in MODULES:
        visit(name, [])
    assert order.index("base") < order.index("lanes") < order.index("recorder")
    assert graph["base"] == set()


def _private_attributes(name) -> set[str]:
    """``self._x`` attributes a module's classes set."""
    names = set()
    for node in ast.walk(_tree(name)):
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.ctx, ast.Store)
            and isinstance(node.value, ast.Name)
            and node.value.id == "self"
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
        ):
            names.add(node.attr)
    return names


@pytest.mark.parametrize("name", MODULES)
def test_no_module_reaches_into_another_modules_private_state(name):
    others = set().union(*(_private_attributes(m) for m in MODULES if m != name))
    others -= _private_attributes(name)
    for node in ast.walk(_tree(name)):
        if isinstance(node, ast.Attribute) and node.attr in others:
            owner = node.value
            assert isinstance(owner, ast.Name) and owner.id in ("self", "cls"), (
                f"{name}.py:{node.lineno} reads .{node.attr} of another module's object"
            )
