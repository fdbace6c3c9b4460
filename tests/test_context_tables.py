"""CPU contexts through their bulk tables (``tools/compile-ksy``: the spec's ``context_*``
types, ``repeat: expr`` with a literal count flattened to ``x[0]``, ``x[1]``, ...) agree with the
generated parser: every layout read over every context of the corpus minidumps and of
minidumps the builder writes for each CPU, value by value."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from dumpkit.formats.windows_minidump import WindowsMinidump as MD
from dumpkit.memory import FileView
from dumpkit.readers.fast_stream import FastStream
from dumpkit.readers.minidump_context import NOMINAL_SIZES, ContextRef, register_values
from tests.builders.minidump import MinidumpBuilder
from tests.conftest import corpus_files


def _locations(root: Any) -> list[Any]:
    """Every thread and exception context location of a parsed minidump (what parses)."""
    found: list[Any] = []
    for entry in root.directory:
        try:
            if entry.stream_type in (MD.StreamTypes.thread_list, MD.StreamTypes.thread_ex_list):
                found.extend(thread.thread_context for thread in entry.body.threads)
            elif entry.stream_type == MD.StreamTypes.exception:
                found.append(entry.body.thread_context)
        except Exception:  # a malformed stream: the reader reports it; nothing to compare here
            continue
    return found


def _compare(path: Path) -> int:
    """Both readings of every layout over every context of ``path`` that is big enough for it;
    returns how many (context, layout) pairs were compared."""
    view = FileView(path)
    try:
        try:
            root = MD(FastStream(view.buffer))
            locations = _locations(root)
        except Exception:
            return 0
        compared = 0
        for location in locations:
            if location.len_data >= 4 and location.ofs_data + 4 <= view.size:
                ref = ContextRef(location.len_data, location.ofs_data, root)  # a thread list's rows
                assert ref.first_u4 == location.first_u4, (path, location.ofs_data)
            for layout, size in NOMINAL_SIZES.items():
                if location.len_data < size or location.ofs_data + location.len_data > view.size:
                    continue
                ours = register_values(location, layout, str(path), "ctx")
                theirs = register_values(location, layout, str(path), "ctx", parser=True)
                assert ours == theirs, (path, layout, location.ofs_data)
                compared += 1
        return compared
    finally:
        view.close()


def test_layouts_have_the_documented_sizes() -> None:
    # CONTEXT as dbghelp (x86, amd64, arm64) and Breakpad (arm, arm64_old) write it
    assert NOMINAL_SIZES == {"x86": 0x2CC, "amd64": 0x4D0, "arm": 0x170, "arm64": 0x390, "arm64_old": 0x31C}


@pytest.mark.parametrize("arch", ["x86", "amd64", "arm64"])  # the CPUs the builder writes
def test_tables_match_the_parser_on_built_contexts(tmp_path: Path, arch: str) -> None:
    builder = MinidumpBuilder(arch=arch)
    pc = {"x86": "eip", "amd64": "rip", "arm": "pc", "arm64": "pc"}[arch]
    for tid in range(3):
        builder.thread(tid + 1, regs={pc: 0x1000 + tid})
    builder.exception(1, 0xC0000005, 0x1234)
    path = builder.write(tmp_path / f"{arch}.dmp")
    assert _compare(path) >= 4  # three threads and the exception, at least their own layout


@pytest.mark.corpus
def test_tables_match_the_parser_on_the_corpus() -> None:
    files = [p for p in corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp") if p.read_bytes()[:4] == b"MDMP"]
    if not files:
        pytest.skip("the corpus is absent (DUMPKIT_CORPUS or ../shared/corpus)")
    assert sum(_compare(p) for p in files) > 500
