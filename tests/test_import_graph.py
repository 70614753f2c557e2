"""No import cycles among the modules of bot/ (grimp, which import-linter ships).

Every import counts: module level, inside functions and under ``TYPE_CHECKING``, because
each is an arrow a reader has to follow. A cycle fails with one concrete loop, file and line.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable

import grimp
import pytest

# Cycles accepted for now (none): the test fails when one of them changes or disappears, so this list
# only ever shrinks.
KNOWN_CYCLES: set[frozenset[str]] = set()

Edges = Callable[[str], Iterable[str]]


def strongly_connected(nodes: Iterable[str], edges: Edges) -> list[list[str]]:
    """Tarjan's components with more than one member, iteratively (no recursion limit).

    A module importing itself is no loop between modules (bot/app/worker.py does, to run as ``-m``).
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    work: list[tuple[str, list[str]]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        work.append((node, sorted(edges(node))))

    for start in sorted(nodes):
        if start in index:
            continue
        visit(start)
        while work:
            node, successors = work[-1]
            if successors:
                nxt = successors.pop(0)
                if nxt not in index:
                    visit(nxt)
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def one_loop(component: list[str], edges: Edges) -> list[str]:
    """The shortest path from the component's first module back to itself, staying inside the component."""
    members, start = set(component), component[0]
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(edges(node)):
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start]
            if nxt in members and nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    raise AssertionError(f"no loop through {start} in {component}")


def describe(graph: grimp.ImportGraph, loop: list[str]) -> str:
    lines = []
    for importer, imported in zip(loop, loop[1:], strict=False):
        where = sorted({d["line_number"] for d in graph.get_import_details(importer=importer, imported=imported)})
        lines.append(f"  {importer} -> {imported} (line {', '.join(map(str, where))})")
    return "\n".join(lines)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("bot", exclude_type_checking_imports=False)


def test_no_module_of_bot_takes_part_in_an_import_cycle(graph: grimp.ImportGraph) -> None:
    def edges(module: str) -> set[str]:
        return graph.find_modules_directly_imported_by(module)

    cycles = [c for c in strongly_connected(graph.modules, edges) if frozenset(c) not in KNOWN_CYCLES]
    report = "\n".join(f"{' <-> '.join(c)}:\n{describe(graph, one_loop(c, edges))}" for c in cycles)
    assert not cycles, f"import cycles in bot/:\n{report}"
    current = {frozenset(c) for c in strongly_connected(graph.modules, edges)}
    assert KNOWN_CYCLES <= current, f"known cycles gone, drop them from KNOWN_CYCLES: {KNOWN_CYCLES - current}"


def test_the_cycle_finder_finds_and_prints_a_loop() -> None:
    imports = {"a": {"b"}, "b": {"c"}, "c": {"a", "d"}, "d": {"d"}, "e": {"f"}, "f": {"e"}}

    def edges(module: str) -> set[str]:
        return imports[module]

    assert strongly_connected(imports, edges) == [["a", "b", "c"], ["e", "f"]]
    assert one_loop(["a", "b", "c"], edges) == ["a", "b", "c", "a"]
    assert one_loop(["e", "f"], edges) == ["e", "f", "e"]
    assert strongly_connected({"a": 0, "b": 0}, {"a": {"b"}, "b": set()}.__getitem__) == []
