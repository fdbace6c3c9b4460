"""MINIDUMP_MODULE lists decoded in bulk: one ``struct`` unpack per entry instead of ~25 reads.

The layouts come from ``dumpkit.formats.bulk_tables`` (made by tools/compile-ksy from
``ksy/windows_minidump.ksy``; tests/test_bulk_tables.py checks them against the generated
parser). A module is a row (a tuple of the table's fields, :func:`field` names the index);
:func:`row_of` gives the same row for an entry the generated parser read, so one function
turns either into a :class:`dumpkit.model.Module`. A module's name and CodeView record (the
spec's ``module_name`` and ``cv_info`` instances) come as plain values, decoded from the
fixed-size heads of MINIDUMP_STRING and the CodeView layouts (their tables' fields, in order)
plus the bytes that follow them. Whenever a record breaks a limit (a bound of the spec, the end of the file, a
record too short for its head), the generated parser reads it instead, so errors read the same
either way. Only a well-formed list is decoded here; anything else goes through the parser.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from enum import IntEnum
from typing import Any

from dumpkit.formats.bulk_tables import (
    WINDOWS_MINIDUMP_AUXV_ENTRY_32,
    WINDOWS_MINIDUMP_AUXV_ENTRY_64,
    WINDOWS_MINIDUMP_CODEVIEW_RECORD_HEAD,
    WINDOWS_MINIDUMP_CV_INFO_PDB20_HEAD,
    WINDOWS_MINIDUMP_CV_INFO_PDB70_HEAD,
    WINDOWS_MINIDUMP_DIRECTORY_ENTRY,
    WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR,
    WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR64,
    WINDOWS_MINIDUMP_MINIDUMP_STRING_HEAD,
    WINDOWS_MINIDUMP_MODULE,
    WINDOWS_MINIDUMP_THREAD_HEAD,
)
from dumpkit.formats.windows_minidump import WindowsMinidump as MD

__all__ = [
    "CV_ELF", "CV_PDB20", "CV_PDB70", "MEMORY64_FIELDS", "MEMORY_FIELDS", "PDB20_FIELDS", "PDB70_FIELDS",
    "THREAD_FIELDS", "HeadTable", "StreamEntry", "auxv_rows", "auxv_rows_of", "codeview_record",
    "codeview_values", "directory_entries", "field", "memory64_rows", "memory64_rows_of", "memory_rows",
    "memory_rows_of", "module_rows", "module_rows_of", "module_string", "read_paths", "row_of",
    "thread_rows", "thread_rows_of",
]

_ENTRY = struct.Struct(WINDOWS_MINIDUMP_MODULE[0])
_PATHS = WINDOWS_MINIDUMP_MODULE[1]
ENTRY_SIZE = _ENTRY.size
_MEMORY = struct.Struct(WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR[0])
_MEMORY64 = struct.Struct(WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR64[0])
#: the fields of a thread list's row: MINIDUMP_THREAD (MINIDUMP_THREAD_EX adds a backing store,
#: which nothing reads: its 16 bytes are skipped)
THREAD_FIELDS = WINDOWS_MINIDUMP_THREAD_HEAD[1]
if THREAD_FIELDS != ("thread_id", "suspend_count", "priority_class", "priority", "teb",
                     "stack.start_of_memory_range", "stack.memory.len_data", "stack.memory.ofs_data",
                     "thread_context.len_data", "thread_context.ofs_data"):  # as _threads unpacks a row
    raise ImportError("ksy/windows_minidump.ksy's thread fields moved: update the thread list's reader")
_THREAD = struct.Struct(WINDOWS_MINIDUMP_THREAD_HEAD[0])
_THREAD_EX = struct.Struct(WINDOWS_MINIDUMP_THREAD_HEAD[0] + "16x")
#: a LinuxAuxv entry of the target's word size (``wide``: 64-bit) as (a_type, a_val)
_AUXV = {wide: struct.Struct(table[0])
         for wide, table in ((False, WINDOWS_MINIDUMP_AUXV_ENTRY_32), (True, WINDOWS_MINIDUMP_AUXV_ENTRY_64))}
if {WINDOWS_MINIDUMP_AUXV_ENTRY_32[1], WINDOWS_MINIDUMP_AUXV_ENTRY_64[1]} != {("a_type", "a_val")}:
    raise ImportError("ksy/windows_minidump.ksy's auxv entry fields moved: update auxv_rows")
_DIRECTORY = struct.Struct(WINDOWS_MINIDUMP_DIRECTORY_ENTRY[0])
if WINDOWS_MINIDUMP_DIRECTORY_ENTRY[1] != ("stream_type", "len_data", "ofs_data"):
    raise ImportError("ksy/windows_minidump.ksy's directory entry fields moved: update StreamEntry")
_STREAM_TYPES = {member.value: member for member in MD.StreamTypes}
#: the fields of a memory list's row (MINIDUMP_MEMORY_DESCRIPTOR / ..._DESCRIPTOR64), in order
MEMORY_FIELDS = WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR[1]
MEMORY64_FIELDS = WINDOWS_MINIDUMP_MEMORY_DESCRIPTOR64[1]
_CV_SIGNATURES = {member.value: member for member in MD.CvSignatures}
#: the CodeView layouts read per module, bound once (a member read through its enum class
#: costs ~0.1 us)
CV_PDB70, CV_PDB20, CV_ELF = MD.CvSignatures.pdb70, MD.CvSignatures.pdb20, MD.CvSignatures.elf_build_id


class HeadTable:
    """A bulk table of a record's fixed-size head: its ``struct``, paths and the spec's bounds."""

    def __init__(self, table: tuple[str, tuple[str, ...], dict[str, tuple[int | None, int | None]]]) -> None:
        fmt, self.paths, limits = table
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.bounds = [(self.paths.index(path), low, high) for path, (low, high) in limits.items()]

    def decode(self, buf: Any, offset: int) -> tuple[Any, ...] | None:
        """The head's values at ``offset``, or ``None`` when a value is out of the spec's bounds."""
        values: tuple[Any, ...] = self.struct.unpack_from(buf, offset)
        for index, low, high in self.bounds:
            value = values[index]
            if (low is not None and value < low) or (high is not None and value > high):
                return None
        return values

    def values_of(self, obj: Any) -> tuple[Any, ...]:
        """The same values read from an object of the generated parser."""
        return read_paths(obj, self.paths)


_STRING = HeadTable(WINDOWS_MINIDUMP_MINIDUMP_STRING_HEAD)
_CV_SIGNATURE = HeadTable(WINDOWS_MINIDUMP_CODEVIEW_RECORD_HEAD)  # the u4 (an enum) that picks the layout
_PDB70 = HeadTable(WINDOWS_MINIDUMP_CV_INFO_PDB70_HEAD)
_PDB20 = HeadTable(WINDOWS_MINIDUMP_CV_INFO_PDB20_HEAD)
PDB70_FIELDS = _PDB70.paths
PDB20_FIELDS = _PDB20.paths


def module_string(root: Any, offset: int) -> bytes:
    """The ``buffer`` of a module's name (the spec's ``module_name`` instance, a MINIDUMP_STRING
    at ``offset`` of the file); one that breaks a limit is read (and refused) by the parser."""
    io = root._io
    buf, size = io._buf, io.size()
    if offset + _STRING.size <= size:
        head = _STRING.decode(buf, offset)
        if head is not None and offset + _STRING.size + head[0] <= size:
            start = offset + _STRING.size
            return bytes(buf[start:start + head[0]])
    string = _parsed(io, offset, lambda: MD.MinidumpString(io, None, root))
    return bytes(string.buffer)


def codeview_record(root: Any, offset: int, length: int) -> tuple[Any, ...] | None:
    """A module's CodeView record (the spec's ``cv_info`` instance) of ``length`` bytes at
    ``offset`` as values: ``(signature, *head, name)`` for the PDB layouts (the head's fields in
    the order of :data:`PDB70_FIELDS` / :data:`PDB20_FIELDS`), ``(signature, build_id)`` for
    ELF, ``(signature,)`` for a layout the spec does not know; ``None`` under 4 bytes."""
    if length < 4:
        return None
    io = root._io
    values = _codeview(io._buf, io.size(), offset, length)
    if values is None:  # out of bounds: the parser reads it (and raises as it does)
        values = codeview_values(_parsed(io, offset, lambda: MD.CodeviewRecord(length, io, None, root)))
    return values


def codeview_values(record: Any) -> tuple[Any, ...]:
    """The values :func:`codeview_record` gives, from a record of the generated parser."""
    signature = record.signature
    if signature is CV_PDB70:
        return (signature, *_PDB70.values_of(record.info), record.info.pdb_file_name)
    if signature is CV_PDB20:
        return (signature, *_PDB20.values_of(record.info), record.info.pdb_file_name)
    if signature is CV_ELF:
        return (signature, record.info.build_id)
    return (signature,)


def _parsed(io: Any, offset: int, parse: Callable[[], Any]) -> Any:
    """``parse()`` with the stream at ``offset``, its position restored after."""
    pos = io.pos()
    io.seek(offset)
    try:
        return parse()
    finally:
        io.seek(pos)


def _codeview(buf: Any, size: int, offset: int, length: int) -> tuple[Any, ...] | None:
    """:func:`codeview_record`'s values from the heads' tables, or ``None`` when the record does
    not fit the file or is too short for its layout (the parser then reads it)."""
    if offset + length > size:
        return None
    raw = _CV_SIGNATURE.struct.unpack_from(buf, offset)[0]
    signature = _CV_SIGNATURES.get(raw, raw)
    start = offset + _CV_SIGNATURE.size
    if signature is CV_PDB70 or signature is CV_PDB20:
        head = _PDB70 if signature is CV_PDB70 else _PDB20
        if length < _CV_SIGNATURE.size + head.size:
            return None
        values = head.decode(buf, start)
        if values is None:
            return None
        name = buf[start + head.size:offset + length]
        end = name.find(b"\0")  # the spec's terminator: the name ends at the first NUL
        return (signature, *values, name if end < 0 else name[:end])
    if signature is CV_ELF:
        return (signature, buf[start:offset + length])
    return (signature,)


def field(path: str) -> int:
    """The index in a module row (:func:`module_rows`) of the MINIDUMP_MODULE field ``path``."""
    return _PATHS.index(path)


def row_of(entry: Any) -> tuple[Any, ...]:
    """A module entry read by the generated parser as a row like :func:`module_rows` gives."""
    return read_paths(entry, _PATHS)


def read_paths(obj: Any, paths: tuple[str, ...]) -> tuple[Any, ...]:
    """The values at a table's attribute ``paths`` (``"a.b"``: field ``b`` of field ``a``;
    ``"a[2]"``: item 2 of the repeated field ``a``) of an object of the generated parser (an
    enum field: its raw integer, as the table holds it)."""
    values = []
    for path in paths:
        value = obj
        for name in path.split("."):
            name, _, item = name.partition("[")
            value = getattr(value, name)
            if item:
                value = value[int(item[:-1])]
        values.append(int(value) if isinstance(value, IntEnum) else value)
    return tuple(values)


def module_rows(data: bytes) -> list[tuple[Any, ...]] | None:
    """The entries of a MINIDUMP_MODULE_LIST whose bytes are ``data``, one tuple of the table's
    fields each, or ``None`` when the list is not well formed (count too big for the stream):
    the generated parser then reads it."""
    return _counted_rows(data, _ENTRY)


def module_rows_of(body: Any) -> list[tuple[Any, ...]]:
    """A ModuleList the generated parser read, as :func:`module_rows` gives it."""
    return [row_of(module) for module in body.modules]


def thread_rows_of(body: Any) -> list[tuple[Any, ...]]:
    """A thread list the generated parser read, as :func:`thread_rows` gives it."""
    return [read_paths(thread, THREAD_FIELDS) for thread in body.threads]


def memory_rows_of(body: Any) -> list[tuple[Any, ...]]:
    """A MemoryList the generated parser read, as :func:`memory_rows` gives it."""
    return [read_paths(descriptor, MEMORY_FIELDS) for descriptor in body.memory_ranges]


def memory64_rows_of(body: Any) -> tuple[int, list[tuple[Any, ...]]]:
    """A Memory64List the generated parser read, as :func:`memory64_rows` gives it."""
    return body.ofs_base, [read_paths(descriptor, MEMORY64_FIELDS) for descriptor in body.memory_ranges]


def thread_rows(data: bytes, is_ex: bool) -> list[tuple[Any, ...]] | None:
    """The entries of a MINIDUMP_THREAD_LIST (``is_ex``: ..._THREAD_EX_LIST), :data:`THREAD_FIELDS`
    each, like :func:`module_rows`."""
    return _counted_rows(data, _THREAD_EX if is_ex else _THREAD)


def memory_rows(data: bytes) -> list[tuple[Any, ...]] | None:
    """The descriptors of a MINIDUMP_MEMORY_LIST (:data:`MEMORY_FIELDS` each), like :func:`module_rows`."""
    return _counted_rows(data, _MEMORY)


def memory64_rows(data: bytes) -> tuple[int, list[tuple[Any, ...]]] | None:
    """(``ofs_base``, the descriptors: :data:`MEMORY64_FIELDS` each) of a MINIDUMP_MEMORY64_LIST,
    or ``None`` when it is not well formed. Mirrors the spec: a u8 count bounded by the stream's
    size, the u8 base, then the descriptors."""
    if len(data) < 16:
        return None
    count, base = struct.unpack_from("<QQ", data)
    if count > (len(data) - 16) // _MEMORY64.size:
        return None
    return base, list(_MEMORY64.iter_unpack(data[16:16 + count * _MEMORY64.size]))


class StreamEntry:
    """A MINIDUMP_DIRECTORY entry decoded by the directory's table, with the parser's attributes:
    ``stream_type`` (the spec's enum, or the number of a type it does not name, as the parser
    resolves it), ``len_data``, ``ofs_data``, and ``body``, the parser's (its entry is read
    at the same place when a body is first asked for: most streams' bodies never are)."""

    __slots__ = ("_entry", "_offset", "_root", "len_data", "ofs_data", "stream_type")

    def __init__(self, root: Any, offset: int, row: tuple[int, int, int]) -> None:
        raw, self.len_data, self.ofs_data = row
        self.stream_type: Any = _STREAM_TYPES.get(raw, raw)
        self._root, self._offset = root, offset
        self._entry: Any = None

    @property
    def body(self) -> Any:
        if self._entry is None:
            root = self._root
            self._entry = _parsed(root._io, self._offset, lambda: MD.DirectoryEntry(root._io, root, root))
        return self._entry.body


def directory_entries(root: Any, offset: int, count: int) -> list[StreamEntry]:
    """The ``count`` entries of the stream directory at ``offset`` of the file ``root`` reads
    (the caller has checked that they lie inside the file)."""
    data = root._io._buf[offset:offset + count * _DIRECTORY.size]
    size = _DIRECTORY.size
    return [StreamEntry(root, offset + i * size, row) for i, row in enumerate(_DIRECTORY.iter_unpack(data))]


def auxv_rows(data: bytes, wide: bool) -> list[tuple[int, int]] | None:
    """The (a_type, a_val) pairs of a LinuxAuxv stream whose bytes are ``data`` (``wide``: 64-bit
    words), or ``None`` when the stream does not hold whole entries: the generated parser, whose
    list runs to the end of the stream, then reads it (and fails on the last one)."""
    entry = _AUXV[wide]
    if len(data) % entry.size:
        return None
    return list(entry.iter_unpack(data))


def auxv_rows_of(body: Any, wide: bool) -> list[tuple[int, int]]:
    """A LinuxAuxv stream the generated parser read, as :func:`auxv_rows` gives it."""
    return [(e.a_type, e.a_val) for e in (body.entries_64 if wide else body.entries_32)]


def _counted_rows(data: bytes, entry: struct.Struct) -> list[tuple[Any, ...]] | None:
    """The entries of a list of ``entry`` records with a u4 count, or ``None`` when the count is
    too big for the stream. Mirrors the spec's lists (module, memory, thread): the count at 0,
    then 4 bytes of padding when exactly 4 bytes remain."""
    if len(data) < 4:
        return None
    count = int.from_bytes(data[:4], "little")
    if count > (len(data) - 4) // entry.size:
        return None
    start = 8 if len(data) - 4 - count * entry.size == 4 else 4
    return list(entry.iter_unpack(data[start:start + count * entry.size]))
