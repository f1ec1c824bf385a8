"""The import graph of ``forum/``: no cycles, and no imports hidden inside functions.

Built from the source with ``ast`` (nothing is imported), counting module-level imports and
those inside functions alike, so a cycle cannot hide behind a function-local import. Imports
under ``if TYPE_CHECKING:`` are left out: they never run.
"""
from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = "forum"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    local: bool  # inside a function (or any other non-module scope)


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted((ROOT / PACKAGE).rglob("*.py"))}


def _is_type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.Module) -> list[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import node with whether it is function-local; TYPE_CHECKING blocks skipped."""
    found: list[tuple[ast.Import | ast.ImportFrom, bool]] = []

    def visit(node: ast.AST, local: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child.test):
                for other in child.orelse:
                    visit_one(other, local)
                continue
            visit_one(child, local)

    def visit_one(node: ast.AST, local: bool) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            found.append((node, local))
            return
        inner = local or isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        visit(node, inner)

    visit(tree, False)
    return found


def _resolve(module: str, path: Path, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    parts = package.split(".")
    base = parts[: len(parts) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _edges() -> list[Edge]:
    modules = _modules()
    known = set(modules)

    def target_of(name: str) -> str | None:
        # The module itself, or the nearest enclosing module that exists (``forum.models.X``).
        while name:
            if name in known:
                return name
            name = name.rpartition(".")[0]
        return None

    edges: list[Edge] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, local in _imports(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                base = _resolve(module, path, node)
                # ``from . import x`` imports the submodule x when there is one.
                names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            for name in dict.fromkeys(names):
                if name != PACKAGE and not name.startswith(PACKAGE + "."):
                    continue
                target = target_of(name)
                if target is not None and target != module:
                    edges.append(Edge(module, target, node.lineno, local))
    return edges


def _find_cycle(edges: list[Edge]) -> list[str] | None:
    graph: dict[str, list[str]] = {}
    for e in edges:
        graph.setdefault(e.source, [])
        if e.target not in graph[e.source]:
            graph[e.source].append(e.target)
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def walk(node: str) -> list[str] | None:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            if nxt not in state:
                found = walk(nxt)
                if found:
                    return found
        path.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = walk(start)
            if found:
                return found
    return None


def test_the_graph_is_built_from_every_module() -> None:
    edges = _edges()
    sources = {e.source for e in edges}
    assert "forum.services.answers" in sources
    assert any(e.source == "forum.services.answers" and e.target == "forum.events" for e in edges)
    assert any(e.target == "forum.models" for e in edges)


def test_no_import_cycle_among_forum_modules() -> None:
    cycle = _find_cycle(_edges())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_no_function_local_import_between_forum_modules() -> None:
    local = [f"{e.source}:{e.line} imports {e.target}" for e in _edges() if e.local]
    assert not local, "function-local imports between forum modules:\n" + "\n".join(local)


def test_no_private_name_is_imported_from_another_forum_module() -> None:
    # A leading underscore says "only this module relies on me": importing it elsewhere hides a
    # dependency that a refactor of the owning module would silently break.
    found = []
    for module, path in _modules().items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node, _local in _imports(tree):
            if not isinstance(node, ast.ImportFrom):
                continue
            base = _resolve(module, path, node)
            if base != PACKAGE and not base.startswith(PACKAGE + "."):
                continue
            found += [f"{module}:{node.lineno} imports {base}.{a.name}" for a in node.names
                      if a.name.startswith("_") and not a.name.startswith("__")]
    assert not found, "private names imported across modules:\n" + "\n".join(found)
