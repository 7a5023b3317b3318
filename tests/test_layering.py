"""The import graph: no cycles between modules (the contracts themselves: lint-imports).

pyproject.toml's import-linter contracts (run by scripts/lint.sh, so by CI) keep storage
below pipeline and Airflow out of both; this test adds what import-linter does not
check: that no two modules of pipeline, storage or seeds import each other, directly
or around a longer loop (imports inside functions included).
"""

from __future__ import annotations

from pathlib import Path

import grimp


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append(
                        (child, iter(sorted(graph.find_modules_directly_imported_by(child))))
                    )
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
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


def test_no_import_cycles() -> None:
    graph = grimp.build_graph("pipeline", "storage", "seeds")
    assert _cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle() -> None:
    graph = grimp.ImportGraph()
    for name in ("a", "a.x", "a.y", "a.z"):
        graph.add_module(name)
    graph.add_import(importer="a.x", imported="a.y")
    graph.add_import(importer="a.y", imported="a.z")
    graph.add_import(importer="a.z", imported="a.x")
    assert _cycles(graph) == [["a.x", "a.y", "a.z"]]


def test_modules_stay_small_and_dags_stay_glue() -> None:
    from tests.support.paths import ROOT

    def lines(path: object) -> int:
        return len(Path(str(path)).read_text(encoding="utf-8").splitlines())

    big = {
        str(p.relative_to(ROOT)): lines(p)
        for top in ("pipeline", "storage")
        for p in (ROOT / top).rglob("*.py")
        if "migrations" not in p.parts and lines(p) > 400
    }
    assert big == {}, "one responsibility per module: split these"
    dags = {p.name: lines(p) for p in (ROOT / "dags").glob("*.py")}
    assert dags.pop("_newsmon_common.py") <= 250
    assert all(n < 150 for n in dags.values()), dags
