"""What ``dumpkit`` loads at start-up (``sys.modules`` of a fresh interpreter): the command line
imports no heavy library, and ``inspect`` loads only what a document needs — no luigi, no batch
or archive modules, no symbol sources or HTTP stack without symbol options, no reference
validator. A guard of the lazy imports (``benchmarks/bench_start.py`` measures the time)."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO, corpus_files

SMALL_MINIDUMP = corpus_files("mdmp/breakpad_ascii_read_av.dmp")


def _loaded_after(code: str) -> set[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    script = f"{code}\nimport json, sys\nprint(json.dumps(sorted(sys.modules)))"
    proc = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True,
                          check=True, timeout=120)
    loaded: list[str] = json.loads(proc.stdout.splitlines()[-1])
    return set(loaded)


def _under(loaded: set[str], *roots: str) -> list[str]:
    return sorted(m for m in loaded if any(m == r or m.startswith(r + ".") for r in roots))


#: never needed by ``inspect`` without symbol options
NOT_FOR_INSPECT = ("luigi", "jsonschema", "http", "ssl", "dumpkit.pipeline.batch",
                   "dumpkit.pipeline.inputs.archives", "dumpkit.symbols.store", "dumpkit.symbols.sources",
                   "dumpkit.symbols.http", "dumpkit.symbols.native", "dumpkit.symbols.breakpad",
                   "dumpkit.converters", "logging")


def test_the_command_line_module_imports_nothing_heavy() -> None:
    loaded = _loaded_after("import dumpkit.pipeline.cli")
    assert _under(loaded, *NOT_FOR_INSPECT, "siggen", "glom", "jsonschema_rs", "kaitaistruct",
                  "dumpkit.formats", "dumpkit.readers", "dumpkit.unwind", "dumpkit.pipeline.document") == []


def test_the_document_module_leaves_signatures_and_symbols_for_later() -> None:
    loaded = _loaded_after("import dumpkit.pipeline.document.normalize")
    assert _under(loaded, *NOT_FOR_INSPECT, "siggen", "jsonschema_rs") == []


@pytest.mark.parametrize("path", SMALL_MINIDUMP, ids=lambda p: p.name)
def test_inspect_loads_what_a_document_needs(path: object) -> None:
    loaded = _loaded_after("import contextlib, io\nfrom dumpkit.pipeline.cli import main\n"
                           "with contextlib.redirect_stdout(io.StringIO()):\n"
                           f"    assert main(['inspect', {str(path)!r}]) == 0")
    assert _under(loaded, *NOT_FOR_INSPECT) == []
    # what it does need: the reader, the signature generator and the compiled validator
    assert {"dumpkit.readers.windows_minidump", "siggen.generator", "jsonschema_rs"} <= loaded
