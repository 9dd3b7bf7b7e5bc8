"""Import structure of the project's own packages, read from the source (AST), lazy imports inside functions included.

No new import cycle may appear, between files or between top-level packages. The cycles that still exist are
listed below; the list may only shrink (a listed cycle that is gone fails the test too, so it is struck off).
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set

from tests.conftest import REPO

PACKAGES = ("actions", "cluster", "connectors", "infra", "knowledge", "nlu", "privacy")

# To be removed by the package restructuring (issue 12); never add to these.
KNOWN_FILE_CYCLES: Set[FrozenSet[str]] = set()
KNOWN_PACKAGE_CYCLES: Set[FrozenSet[str]] = {
    frozenset({"actions", "knowledge"}),  # the console (in knowledge/) imports actions.db, .handoff, .knowledge_client
}


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> Dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")}


def _resolve(name: str, modules: Dict[str, Path]) -> Optional[str]:
    """The project module an imported name lives in (``a.b.c`` -> ``a.b`` when c is a name inside a.b)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph() -> Dict[str, Set[str]]:
    """Module -> the project modules it imports."""
    modules = _modules()
    graph: Dict[str, Set[str]] = {m: set() for m in modules}
    for module, path in modules.items():
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = package[:len(package) - node.level + 1] if node.level else []
                prefix = ".".join(base + [node.module] if node.module else base)
                names = [prefix] + [f"{prefix}.{alias.name}" for alias in node.names]
            else:
                continue
            for name in names:
                target = _resolve(name, modules)
                if target and target != module:
                    graph[module].add(target)
    return graph


def cycles(graph: Dict[str, Set[str]]) -> Set[FrozenSet[str]]:
    """Strongly connected components of more than one node (Tarjan, iterative)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    found: Set[FrozenSet[str]] = set()
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def package_graph(graph: Dict[str, Set[str]]) -> Dict[str, Set[str]]:
    """Top-level package -> the other top-level packages it imports."""
    top: Dict[str, Set[str]] = {pkg: set() for pkg in PACKAGES}
    for module, targets in graph.items():
        for target in targets:
            a, b = module.split(".")[0], target.split(".")[0]
            if a != b:
                top[a].add(b)
    return top


def _show(found: Set[FrozenSet[str]]) -> List[List[str]]:
    return sorted(sorted(c) for c in found)


def test_cycle_finder_sees_direct_and_indirect_cycles() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": {"e"}}
    assert cycles(graph) == {frozenset({"a", "b", "c"})}


def test_no_new_import_cycle_between_files() -> None:
    found = cycles(import_graph())
    assert not found - KNOWN_FILE_CYCLES, f"new import cycles: {_show(found - KNOWN_FILE_CYCLES)}"
    assert not KNOWN_FILE_CYCLES - found, f"gone, strike them off KNOWN_FILE_CYCLES: {_show(KNOWN_FILE_CYCLES - found)}"


def test_no_new_import_cycle_between_packages() -> None:
    found = cycles(package_graph(import_graph()))
    assert not found - KNOWN_PACKAGE_CYCLES, f"new package cycles: {_show(found - KNOWN_PACKAGE_CYCLES)}"
    assert not KNOWN_PACKAGE_CYCLES - found, \
        f"gone, strike them off KNOWN_PACKAGE_CYCLES: {_show(KNOWN_PACKAGE_CYCLES - found)}"
