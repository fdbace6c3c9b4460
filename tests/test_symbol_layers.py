"""Layers (DESIGN.md): ``dumpkit/symbols`` knows modules and files, never a reader or the
unwinder; ``dumpkit/unwind`` reads the model, memory and symbols, never a reader."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent / "dumpkit"
FORBIDDEN = {
    "symbols": ("dumpkit.readers", "dumpkit.formats", "dumpkit.unwind", "pipeline", "converters"),
    "unwind": ("dumpkit.readers", "dumpkit.formats", "pipeline", "converters"),
}


def _imports(path: Path) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_stay_in_their_layer(package: str) -> None:
    files = sorted((ROOT / package).glob("*.py"))
    assert files
    leaks = [f"{path.name} imports {name}" for path in files for name in _imports(path)
             if name.startswith(FORBIDDEN[package])]
    assert not leaks
