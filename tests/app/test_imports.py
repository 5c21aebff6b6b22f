"""The import graph of service/ has no cycle, read from the source with ast (not from what Python happened to
import): an independent check of the layers (scoring knows nothing above it, the views nothing of the app)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.support.models import ROOT

PACKAGE = ROOT / "service"


def module_name(path: Path, root: Path) -> str:
    parts = path.relative_to(root.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph(root: Path) -> dict[str, set[str]]:
    """module -> the modules of the package it imports (at any depth of its code: lazy imports count too)."""
    modules = {module_name(path, root): path for path in root.rglob("*.py")}
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
                # `from a import b` imports a.b when b is a module, else a
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                           for alias in node.names]
            else:
                continue
            graph[name] |= {target for target in targets if target in modules and target != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle found by a depth-first walk, each as the path that closes it."""
    found, state = [], dict.fromkeys(graph, "new")

    def visit(module: str, path: list[str]) -> None:
        state[module] = "open"
        for target in sorted(graph[module]):
            if state[target] == "open":
                found.append([*path[path.index(target):], target])
            elif state[target] == "new":
                visit(target, [*path, target])
        state[module] = "done"

    for module in sorted(graph):
        if state[module] == "new":
            visit(module, [module])
    return found


def test_the_service_has_no_import_cycle() -> None:
    graph = import_graph(PACKAGE)
    assert len(graph) > 20 and graph["service.app"], "the graph was read"
    assert cycles(graph) == []


def test_the_scoring_core_imports_nothing_above_it() -> None:
    graph = import_graph(PACKAGE)
    for module, targets in graph.items():
        if module.startswith("service.scoring"):
            assert all(target.startswith("service.scoring") for target in targets), (module, targets)


def test_the_check_catches_a_cycle(tmp_path: Path) -> None:
    """A package where a -> b -> c -> a, once through `from . import`, once through a lazy import in a function."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from pkg import b\n")
    (package / "b.py").write_text("from .c import thing\n")
    (package / "c.py").write_text("thing = 1\n\ndef later():\n    import pkg.a\n")
    (package / "d.py").write_text("from pkg import a, c\n")  # into the cycle, not part of it
    assert cycles(import_graph(package)) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    (package / "c.py").write_text("thing = 1\n")
    assert cycles(import_graph(package)) == []
