"""The layers of CONTRIBUTING.md, checked on the import graph of the source (also imports
inside functions), and the install: everything is ``dumpkit.*``, ``import pipeline`` is not ours."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.import_graph import find_cycle, import_graph

REPO = Path(__file__).resolve().parent.parent
GRAPH = import_graph()
#: the library's core: everything but the pipeline and the converters
UPPER = ("dumpkit.pipeline", "dumpkit.converters")


def _under(module: str, *packages: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)


def _edges(source: tuple[str, ...], target: tuple[str, ...]) -> list[str]:
    return sorted(f"{m} -> {t}" for m, ts in GRAPH.items() if _under(m, *source)
                  for t in ts if _under(t, *target))


def test_the_graph_is_read() -> None:
    assert "dumpkit.pipeline.cli" in GRAPH and "dumpkit.readers.windows_minidump" in GRAPH
    assert "dumpkit.formats.windows_minidump" in GRAPH["dumpkit.readers.windows_minidump"]
    assert "dumpkit.pipeline.document.normalize" in GRAPH["dumpkit.pipeline.batch.items"]  # in a function


def test_no_import_cycle() -> None:
    assert find_cycle(GRAPH) is None


def test_generated_parsers_are_imported_by_readers_alone() -> None:
    users = {m for m, ts in GRAPH.items() for t in ts if _under(t, "dumpkit.formats")}
    assert {m for m in users if not _under(m, "dumpkit.readers", "dumpkit.formats")} == set()


def test_low_floors_never_reach_up() -> None:
    core = tuple(m for m in GRAPH if m.count(".") == 1 and not _under(m, *UPPER) and m != "dumpkit.__main__")
    assert _edges(core, UPPER) == []
    assert _edges(("dumpkit.model",), ("dumpkit.readers", "dumpkit.formats")) == []
    assert _edges(("dumpkit.readers",), (*UPPER, "dumpkit.symbols", "dumpkit.unwind")) == []
    assert _edges(("dumpkit.symbols",), (*UPPER, "dumpkit.readers", "dumpkit.unwind")) == []
    assert _edges(("dumpkit.unwind",), (*UPPER, "dumpkit.readers")) == []


def test_pipeline_and_converters_meet_only_at_the_converters_api() -> None:
    assert _edges(("dumpkit.converters",), ("dumpkit.pipeline",)) == []
    inside = [e for e in _edges(("dumpkit.pipeline",), ("dumpkit.converters",))
              if not e.endswith(" -> dumpkit.converters")]
    assert inside == []


def test_the_checkout_has_no_generic_top_level_imports() -> None:
    """Nothing in the project imports ``pipeline``, ``converters`` or ``schemas`` by those names."""
    import re

    pattern = re.compile(r"^\s*(from|import)\s+(pipeline|converters|schemas)\b", re.M)
    offenders = []
    for folder in ("dumpkit", "pipeline", "converters", "tests", "benchmarks", "tools"):
        for path in (REPO / folder).rglob("*.py"):
            if pattern.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(REPO)))
    assert offenders == []


@pytest.mark.slow
def test_installed_wheel_imports_only_under_dumpkit(tmp_path: Path) -> None:
    """A wheel built from the checkout, in a fresh venv without the checkout on its path:
    ``dumpkit.pipeline`` and the schemas are there, ``pipeline`` is not."""
    source = tmp_path / "source"  # setuptools builds inside the source tree: not in the checkout
    shutil.copytree(REPO, source, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", "node_modules", "build", "out", ".cache", ".*_cache", "golden", "__pycache__"))
    wheels = tmp_path / "wheels"
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels),
                            str(source)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = wheels.glob("dumpkit-*.whl")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)],
                               capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-2000:]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    probe = ("import importlib.resources as r, dumpkit.pipeline.cli, dumpkit.pipeline.batch.layout;"
             "print(r.files('dumpkit.schemas').joinpath('dump.schema.json').is_file())")
    ours = subprocess.run([str(python), "-c", probe], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert ours.returncode == 0 and ours.stdout.strip() == "True", ours.stderr
    for name in ("pipeline", "converters", "schemas"):
        foreign = subprocess.run([str(python), "-c", f"import {name}"], cwd=tmp_path, env=env,
                                 capture_output=True, text=True)
        assert foreign.returncode != 0 and "ModuleNotFoundError" in foreign.stderr, name
