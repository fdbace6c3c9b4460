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
    assert _under(loaded, "glom") == []  # siggen's lookups are answered without it (probes.deferred)


def test_the_batch_loads_luigi_without_its_jsonschema_probe() -> None:
    loaded = _loaded_after("import dumpkit.pipeline.batch.tasks\nimport luigi.parameter\n"
                           "assert not luigi.parameter._JSONSCHEMA_ENABLED\n"
                           "import jsonschema  # still importable")
    assert "luigi" in loaded and "jsonschema" in loaded
    assert _under(_loaded_after("import dumpkit.pipeline.batch.tasks"), "jsonschema") == []


def test_a_deferred_module_loads_when_one_of_its_functions_is_first_called() -> None:
    code = "\n".join([
        "import sys",
        "from dumpkit.pipeline.probes import deferred",
        "with deferred('colorsys', ('rgb_to_hsv',)):",
        "    from colorsys import rgb_to_hsv",
        "    try:",
        "        from colorsys import hsv_to_rgb",
        "    except ImportError:",
        "        pass",
        "    else:",
        "        raise AssertionError('a name not deferred was given')",
        "assert 'colorsys' not in sys.modules",  # the stand-in is gone, nothing loaded
        "assert rgb_to_hsv(1.0, 0.0, 0.0) == (0.0, 1.0, 1.0)",  # the call loads the real one
        "import colorsys",
        "assert colorsys.rgb_to_hsv is not rgb_to_hsv",
        "assert colorsys.hsv_to_rgb(0.0, 1.0, 1.0) == (1.0, 0.0, 0.0)",
    ])
    assert "colorsys" in _loaded_after(code)
    assert "colorsys" not in _loaded_after(code.split("assert rgb_to_hsv")[0])
