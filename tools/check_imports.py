"""Find import cycles among the ``camsift`` modules; exit 1 listing them, 0 when there are none.

    python tools/check_imports.py [SRC]      # SRC: the folder holding the package (default: src)

Every ``import`` counts, at module level or inside a function (a function-level import
is still a dependency: it only moves the cycle from import time to call time), except
those under ``if TYPE_CHECKING:``. ``from camsift.a import b`` depends on ``camsift.a.b``
when that is a module, else on ``camsift.a`` (grimp's rule: a package's ``__init__`` is
not counted as a dependency of its submodules). Each cycle is printed as one chain of
modules, with the line of each import that closes a link.
"""

from __future__ import annotations

import ast
import itertools
import sys
from collections import deque
from pathlib import Path

PACKAGE = "camsift"

Graph = dict[str, dict[str, int]]
"""module -> {imported module: line of the first such import}."""


def modules(src: Path) -> dict[str, Path]:
    """Every module of the package under ``src``, by dotted name."""
    found = {}
    for path in sorted((src / PACKAGE).rglob("*.py")):
        parts = path.relative_to(src).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """The import statements of ``tree``, leaving out the bodies of ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
        elif isinstance(node, ast.If) and _type_checking(node.test):
            todo.extend(node.orelse)
        else:
            todo.extend(ast.iter_child_nodes(node))
    return found


def graph(src: Path) -> Graph:
    """The import graph of the package's modules (edges to modules outside it are dropped)."""
    known = modules(src)
    edges: Graph = {}
    for name, path in known.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        out: dict[str, int] = {}
        for node in _imports(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names]
            for target in targets:
                while target and target not in known:  # `import camsift.a.b` of a name in camsift.a
                    target = target.rpartition(".")[0]
                if target and target != name:
                    out.setdefault(target, node.lineno)
        edges[name] = out
    return edges


def cycles(edges: Graph) -> list[tuple[list[str], set[str]]]:
    """Each strongly connected group of modules (Tarjan), with its shortest cycle through its first module
    as ``[a, b, …, a]``; sorted by that cycle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[set[str]] = []

    def visit(start: str) -> None:  # iterative Tarjan: the graph may be deep
        work = [(start, iter(sorted(edges[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.add(member)
                        if member == node:
                            break
                    if len(group) > 1:
                        groups.append(group)

    for name in sorted(edges):
        if name not in index:
            visit(name)
    return sorted(((_shortest_cycle(edges, group), group) for group in groups), key=lambda found: found[0])


def _shortest_cycle(edges: Graph, group: set[str]) -> list[str]:
    """The shortest cycle through the first module (by name) of ``group``, within it (breadth first)."""
    start = min(group)
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for child in sorted(edges[node]):
            if child not in group:
                continue
            if child == start:
                chain = [node]
                while chain[-1] != start:
                    chain.append(came_from[chain[-1]])
                return [*reversed(chain), start]
            if child not in came_from:
                came_from[child] = node
                queue.append(child)
    raise AssertionError(f"no cycle through {start}")  # a strongly connected group always has one


def main(argv: list[str]) -> int:
    src = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parent.parent / "src"
    edges = graph(src)
    found = cycles(edges)
    for chain, group in found:
        print(f"import cycle: {' -> '.join(chain)}")
        for a, b in itertools.pairwise(chain):
            print(f"  {a} -> {b} (line {edges[a][b]})")
        if len(group) > len(chain) - 1:
            print(f"  (one of the cycles among {', '.join(sorted(group))})")
    if found:
        print(f"{len(found)} import cycle(s) among the {PACKAGE} modules", file=sys.stderr)
        return 1
    print(f"no import cycles among the {len(edges)} {PACKAGE} modules")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
