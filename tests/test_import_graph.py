"""dumpkit's modules import each other without a cycle (DESIGN.md, "Layers").

The graph is built from the source with :mod:`ast`: every ``import`` / ``from ... import``
statement counts, at module level or inside a function (a deferred import hides a cycle,
it does not remove it). An imported name that is a submodule is an edge to that module;
any other name is an edge to the module it comes from.
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "dumpkit"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".") if is_package else name.split(".")[:-1]
                base = base[:len(base) - node.level + 1]
                origin = ".".join(base + ([node.module] if node.module else []))
            else:
                origin = node.module or ""
            for alias in node.names:
                sub = f"{origin}.{alias.name}"
                out.add(sub if sub in known else origin)
    return {m for m in out if m in known and m != name}


def import_graph() -> dict[str, set[str]]:
    """dumpkit module -> the dumpkit modules it imports."""
    modules = _modules()
    known = set(modules)
    return {name: _imports(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle of ``graph`` (first module repeated at the end), or None."""
    state: dict[str, int] = {}  # 1 on the current path, 2 done
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt):], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for start in sorted(graph):
        if start not in state:
            found = visit(start)
            if found:
                return found
    return None


def test_the_graph_sees_the_readers_and_deferred_imports() -> None:
    graph = import_graph()
    assert "dumpkit.readers.elf_core" in graph["dumpkit.readers.kdump"]
    assert "dumpkit.formats.elf_notes" in graph["dumpkit.formats.elf_core"]  # a relative import
    tree = {"a": {"b"}, "b": {"c"}, "c": set()}
    assert find_cycle(tree) is None
    assert find_cycle({**tree, "c": {"a"}}) == ["a", "b", "c", "a"]


def test_a_function_level_import_is_an_edge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "dumpkit"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from dumpkit import b\n")
    (pkg / "b.py").write_text("def f():\n    from dumpkit.a import x\n    return x\n")
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    monkeypatch.setitem(globals(), "PACKAGE", pkg)
    assert find_cycle(import_graph()) == ["dumpkit.a", "dumpkit.b", "dumpkit.a"]


def test_no_import_cycle_in_dumpkit() -> None:
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])
