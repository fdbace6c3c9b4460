"""The bulk tables (dumpkit/formats/bulk_tables.py) agree with the generated parsers.

Every module list of every corpus minidump, and of a minidump the builder writes, is read
twice: by the generated ``WindowsMinidump`` parser and by the bulk table
(``dumpkit.readers.minidump_bulk``); every field of the table and the ``module_name`` and
``cv_info`` instances must be equal.
"""
from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest

from dumpkit.formats.bulk_tables import WINDOWS_MINIDUMP_MODULE
from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.memory import FileView
from dumpkit.readers.fast_stream import FastStream
from dumpkit.readers.minidump_bulk import module_records
from tests.builders.minidump import MinidumpBuilder
from tests.builders.minidump_records import elf_build_id, nb10, rsds

MD = WindowsMinidump


def _get(obj: Any, path: str) -> Any:
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def _plain(value: Any) -> Any:
    """A parsed object as nested tuples of its fields (for comparing two parses)."""
    if isinstance(value, MD.MinidumpString):
        return ("string", value.len_buffer, value.buffer)
    if isinstance(value, MD.CodeviewRecord):
        info = value.info
        fields = {k: v for k, v in vars(info).items() if not k.startswith("_")} if info is not None else {}
        guid = fields.pop("guid", None)
        if guid is not None:
            fields["guid"] = (guid.data1, guid.data2, guid.data3, guid.data4)
        return ("cv", value.signature, sorted(fields.items()))
    return value


def _compare(path: Path) -> int:
    """Compare both readings of ``path``'s module list; returns the number of modules compared."""
    view = FileView(path)
    try:
        try:
            root = MD(FastStream(view.buffer))
            entries = [e for e in root.directory if e.stream_type == MD.StreamTypes.module_list]
        except Exception:  # no readable directory: the reader rejects the file before any module list
            return 0
        if not entries:
            return 0
        entry = entries[-1]
        try:
            generated = entry.body.modules
        except Exception:  # a malformed list: the bulk reader must refuse it too (or agree on a prefix)
            return 0
        records = module_records(root, view.read(entry.ofs_data, entry.len_data))
        assert records is not None, f"{path}: bulk decoding refused a list the parser reads"
        assert len(records) == len(generated)
        for ours, theirs in zip(records, generated, strict=True):
            for field in WINDOWS_MINIDUMP_MODULE[1]:
                assert _get(ours, field) == _get(theirs, field), (path, field)
            for instance in ("module_name", "cv_info"):
                want: tuple[object, ...]
                got: tuple[object, ...]
                try:
                    want = ("value", _plain(getattr(theirs, instance)))
                except Exception as exc:
                    want = ("error", type(exc).__name__, str(exc))
                try:
                    got = ("value", _plain(getattr(ours, instance)))
                except Exception as exc:
                    got = ("error", type(exc).__name__, str(exc))
                assert got == want, (path, instance)
        return len(records)
    finally:
        view.close()


def test_module_table_has_the_spec_size() -> None:
    fmt, paths = WINDOWS_MINIDUMP_MODULE
    assert struct.calcsize(fmt) == 108  # MINIDUMP_MODULE
    assert len(paths) == len(struct.unpack(fmt, bytes(108)))


def test_module_table_matches_the_parser_on_a_built_minidump(tmp_path: Path) -> None:
    builder = MinidumpBuilder()
    cvs = [None, rsds("12345678-1234-5678-9abc-def012345678", 3, "a.pdb"), nb10(0x1234, 2, "b.pdb"),
           elf_build_id(bytes(range(20))), b"XY"]
    for i, cv in enumerate(cvs):
        builder.module(0x400000 + i * 0x10000, 0x1000 + i, f"C:\\mod{i}.dll", cv=cv,
                       version=(1, 2, 3, i), timestamp=0x5000 + i, checksum=i)
    path = builder.write(tmp_path / "built.dmp")
    assert _compare(path) == len(cvs)


@pytest.mark.corpus
def test_module_table_matches_the_parser_on_the_corpus(corpus_dir: Path) -> None:
    files = [p for pattern in ("mdmp/*", "mdmp_from_yaml/*.dmp") for p in sorted(corpus_dir.glob(pattern))
             if p.is_file() and p.read_bytes()[:4] == b"MDMP"]
    assert files
    compared = sum(_compare(p) for p in files)
    assert compared > 1000  # the corpus holds thousands of module entries
