"""What ``dumpkit`` loads at start-up (``sys.modules`` of a fresh interpreter): the command line
imports no heavy library, and ``inspect`` loads only what a document needs — no luigi, no batch
or archive modules, no symbol sources or HTTP stack without symbol options, no reference
validator. A guard of the lazy imports (``benchmarks/bench_start.py`` measures the time)."""
from __future__ import annotations

import importlib
import json
import subprocess
import sys
from typing import Any

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
                   "dumpkit.pipeline.inputs", "dumpkit.symbols.store", "dumpkit.symbols.sources",
                   "dumpkit.symbols.http", "dumpkit.symbols.native", "dumpkit.symbols.breakpad",
                   "dumpkit.converters", "logging", "hashlib", "shutil")


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
    assert _under(loaded, "importlib.metadata") == []  # siggen's version: probes.versions_read
    # siggen's list files and the schemas are found without it (probes.deferred, schema_text)
    assert _under(loaded, "importlib.resources", "zipfile") == []
    # jsonschema_rs's build date: probes.build_date_parsed (the bare ``email`` package is empty)
    assert [name for name in loaded if name.startswith("email.")] == []


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


def test_versions_read_answers_as_importlib_metadata() -> None:
    code = "\n".join([
        "import sys",
        "NAMES = ('siggen', 'jsonschema-rs', 'luigi', 'Pygments', 'python-dateutil')",
        "from dumpkit.pipeline.probes import versions_read",
        "with versions_read():",
        "    from importlib.metadata import PackageNotFoundError, version",
        "    answers = [version(name) for name in NAMES]",
        "    try:",
        "        version('no-such-distribution')",
        "    except PackageNotFoundError as exc:",
        "        assert isinstance(exc, ModuleNotFoundError)",
        "    else:",
        "        raise AssertionError('a missing distribution has a version')",
        "    assert 'importlib.metadata' in sys.modules  # the missing one asked the real module",
        "assert type(sys.modules.get('importlib.metadata')).__name__ == 'module'",
        "import importlib.metadata as real",
        "assert real.version is not version",
        "assert answers == [real.version(name) for name in NAMES]",
    ])
    _loaded_after(code)
    # a version found in its METADATA file needs no importlib.metadata
    found = _loaded_after("from dumpkit.pipeline.probes import versions_read\nwith versions_read():\n"
                          "    from importlib.metadata import version\n    assert version('siggen')")
    assert _under(found, "importlib.metadata") == []


DATES = [
    "Thu, 12 Nov 2026 07:50:16 +0000", "Mon, 1 Jan 2024 00:00:00 +0530", "Sat, 29 Feb 2020 23:59:59 -0800",
    "Sun, 06 Dec 2026 16:30:00 -0000", "Tue, 31 Dec 1999 12:00:00 +1400", "Wed, 3 Mar 2021 01:02:03 GMT",
    "3 Mar 2021 01:02:03 +0100", "Fri, 13 Foo 2026 07:50:16 +0000", "not a date",
]


@pytest.mark.parametrize("text", DATES)
def test_build_date_parsed_answers_as_email_utils(text: str) -> None:
    import email.utils

    from dumpkit.pipeline.probes import build_date_parsed

    def outcome(parse: Any) -> tuple[str, object]:
        try:
            parsed = parse(text)
        except Exception as exc:  # the real parser's error must be ours too
            return "raises", type(exc)
        return "parsed", (parsed, parsed.utcoffset())

    with build_date_parsed():  # email.utils is imported here: the real module stays
        assert sys.modules["email.utils"] is email.utils
    stand_in = _stand_in_parser()
    assert outcome(stand_in) == outcome(email.utils.parsedate_to_datetime)


def _stand_in_parser() -> Any:
    """The stand-in's ``parsedate_to_datetime``, taken while ``email.utils`` is away."""
    from dumpkit.pipeline.probes import build_date_parsed

    saved = {name: sys.modules.pop(name) for name in list(sys.modules) if name == "email.utils"}
    try:
        with build_date_parsed():
            stand_in = importlib.import_module("email.utils")
            assert getattr(stand_in, "__stand_in__", False)
        return stand_in.parsedate_to_datetime
    finally:
        sys.modules.update(saved)


def test_jsonschema_rs_loads_without_email_and_with_its_build_date() -> None:
    show = "import jsonschema_rs.jsonschema_rs as j\nprint(repr(j.__build__['info-time']))"
    probed = ("from dumpkit.pipeline.probes import build_date_parsed\nwith build_date_parsed():\n"
              "    import jsonschema_rs\n" + show)
    runs = [subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                           timeout=120).stdout for code in (probed, show)]
    assert runs[0] == runs[1] and "datetime.datetime(" in runs[0]
    loaded = _loaded_after(probed.split("\nimport jsonschema_rs.jsonschema_rs")[0])
    assert "jsonschema_rs" in loaded and [name for name in loaded if name.startswith("email.")] == []
