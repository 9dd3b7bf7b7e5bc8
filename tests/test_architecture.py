"""Import structure of the project's own packages, read from the source (AST), lazy imports inside functions included.

No import cycle between files or between top-level packages, and imports run one way (docs/architecture.md):
a package imports only packages of a lower layer. The capability and infrastructure layers know nothing of Rasa.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, FrozenSet, List, Optional, Set, Tuple

from tests.conftest import REPO

# Lowest first. A package may import the packages of the layers below its own, never its own layer's others.
LAYERS: Tuple[Tuple[str, ...], ...] = (
    ("vntext",),                         # Vietnamese text: folding, patterns, dates (no clock, no I/O)
    ("infra",),                          # database, clock, masking, retry, metrics, Rasa API client
    ("knowledge",),                      # procedures, offices, calendars, holidays, search, answers
    ("onestop",),                        # appointments, dossiers, hand-offs and unanswered questions
    ("privacy",),                        # erasure and retention over the stores above; masked tracker stores
    ("actions", "nlu", "cluster"),       # Rasa-facing adapters: custom actions, NLU components, server plumbing
    ("connectors", "console"),           # the outer applications: platform webhooks, the staff console
)
PACKAGES = tuple(pkg for layer in LAYERS for pkg in layer)
LAYER_OF: Dict[str, int] = {pkg: i for i, layer in enumerate(LAYERS) for pkg in layer}
# The one exception to "never the same layer": the platform channels run inside the Rasa server and share its
# lock store (cluster.lock_store); kept explicit so that no other sideways import creeps in.
SIDEWAYS: Set[Tuple[str, str]] = {("connectors", "cluster")}
RASA_FREE = ("vntext", "infra", "knowledge", "onestop")

KNOWN_FILE_CYCLES: Set[FrozenSet[str]] = set()
KNOWN_PACKAGE_CYCLES: Set[FrozenSet[str]] = set()

MAX_MODULE_LINES = 400
# Modules still longer than that, each waiting to be split by responsibility (issue 12); strike one off once it is.
KNOWN_LONG_MODULES: Set[str] = set()


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


def test_every_package_has_a_layer() -> None:
    found = {p.parent.name for p in REPO.glob("*/__init__.py")} - {"tests", "bench"}
    assert found == set(PACKAGES), f"give these a layer in LAYERS: {sorted(found - set(PACKAGES))}"


def upward_imports(top: Dict[str, Set[str]]) -> List[Tuple[str, str]]:
    """(importer, imported) pairs of packages where the import does not go to a lower layer."""
    return sorted((a, b) for a, targets in top.items() for b in targets
                  if LAYER_OF[b] >= LAYER_OF[a] and (a, b) not in SIDEWAYS)


def test_layer_check_sees_an_upward_import() -> None:
    assert upward_imports({"infra": {"onestop"}, "onestop": {"infra"}, "connectors": {"cluster"}}) == \
        [("infra", "onestop")]


def test_imports_run_down_the_layers() -> None:
    graph = import_graph()
    wrong = upward_imports(package_graph(graph))
    detail = [f"{m} -> {t}" for m, ts in graph.items() for t in ts
              if (m.split(".")[0], t.split(".")[0]) in set(wrong)]
    assert not wrong, f"imports against the layers: {wrong}: {sorted(detail)[:20]}"


def test_capabilities_and_infrastructure_know_nothing_of_rasa() -> None:
    offenders = []
    for pkg in RASA_FREE:
        for path in (REPO / pkg).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                offenders += [f"{path.relative_to(REPO)}: {n}" for n in names
                              if n.split(".")[0] in ("rasa", "rasa_sdk", "sanic")]
    assert not offenders, offenders


def test_no_module_over_the_line_limit() -> None:
    long = {p.relative_to(REPO).as_posix() for pkg in PACKAGES for p in (REPO / pkg).rglob("*.py")
            if len(p.read_text(encoding="utf-8").splitlines()) > MAX_MODULE_LINES}
    assert not long - KNOWN_LONG_MODULES, \
        f"over {MAX_MODULE_LINES} lines, split by responsibility: {sorted(long - KNOWN_LONG_MODULES)}"
    assert not KNOWN_LONG_MODULES - long, \
        f"short enough now, strike them off KNOWN_LONG_MODULES: {sorted(KNOWN_LONG_MODULES - long)}"
