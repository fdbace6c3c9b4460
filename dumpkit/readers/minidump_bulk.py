"""MINIDUMP_MODULE lists decoded in bulk: one ``struct`` unpack per entry instead of ~25 reads.

The layouts come from ``dumpkit.formats.bulk_tables`` (made by tools/compile-ksy from
``ksy/windows_minidump.ksy``; tests/test_bulk_tables.py checks them against the generated
parser). A module is a row (a tuple of the table's fields, :func:`field` names the index);
:func:`row_of` gives the same row for an entry the generated parser read, so one function
turns either into a :class:`dumpkit.model.Module`. A module's name and CodeView record (the
spec's ``module_name`` and ``cv_info`` instances) come with the same fields as the spec's,
decoded from the fixed-size heads of MINIDUMP_STRING and the CodeView layouts plus the bytes
that follow them. Whenever a record breaks a limit (a bound of the spec, the end of the file, a
record too short for its head), the generated parser reads it instead, so errors read the same
either way. Only a well-formed list is decoded here; anything else goes through the parser.
"""
from __future__ import annotations

import struct
from collections import namedtuple
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, NamedTuple

from dumpkit.formats.bulk_tables import (
    WINDOWS_MINIDUMP_CV_INFO_PDB20_HEAD,
    WINDOWS_MINIDUMP_CV_INFO_PDB70_HEAD,
    WINDOWS_MINIDUMP_MINIDUMP_STRING_HEAD,
    WINDOWS_MINIDUMP_MODULE,
)
from dumpkit.formats.windows_minidump import WindowsMinidump as MD

__all__ = ["codeview_record", "field", "module_rows", "module_string", "row_of"]

_ENTRY = struct.Struct(WINDOWS_MINIDUMP_MODULE[0])
_PATHS = WINDOWS_MINIDUMP_MODULE[1]
ENTRY_SIZE = _ENTRY.size
_CV_SIGNATURE = struct.Struct("<I")  # codeview_record.signature: the u4 that picks the layout
_CV_SIGNATURES = {member.value: member for member in MD.CvSignatures}


def _shape(paths: Sequence[str], name: str, tail: tuple[str, ...] = ()) -> Callable[..., Any]:
    """A maker of objects with the fields ``paths`` name (made once per table): called with a
    row of values (and the values of the ``tail`` fields that follow the table), it returns a
    named tuple whose nested structures (``guid.data1``, ...) are named tuples too."""
    top: list[str] = []
    nested: dict[str, list[tuple[str, int]]] = {}
    for index, path in enumerate(paths):
        head, _, rest = path.partition(".")
        if "." in rest:
            raise ImportError(f"bulk table path {path!r} nests more than once")
        if head not in top:
            top.append(head)
        if rest:
            nested.setdefault(head, []).append((rest, index))
    cls = namedtuple(name, [*top, *tail])  # type: ignore[misc]
    if not nested:  # the row is the fields, in order
        return lambda row, *tail_values: cls._make(row + tail_values)
    parts: list[Callable[[tuple[Any, ...]], Any]] = []
    for top_name in top:
        if top_name in nested:
            group = namedtuple(top_name, [sub for sub, _ in nested[top_name]])  # type: ignore[misc]
            pick = itemgetter(*[index for _, index in nested[top_name]])
            parts.append(lambda row, g=group, p=pick: g._make(p(row)))  # type: ignore[misc]
        else:
            parts.append(itemgetter(paths.index(top_name)))

    def make(row: tuple[Any, ...], *tail_values: Any) -> Any:
        return cls(*[part(row) for part in parts], *tail_values)
    return make


class _Head:
    """A bulk table of a record's fixed-size head: decode it, check the spec's bounds."""

    def __init__(self, table: tuple[str, tuple[str, ...], dict[str, tuple[int | None, int | None]]],
                 name: str, tail: tuple[str, ...]) -> None:
        fmt, paths, limits = table
        self.struct = struct.Struct(fmt)
        self.size = self.struct.size
        self.bounds = [(paths.index(path), low, high) for path, (low, high) in limits.items()]
        self.make = _shape(paths, name, tail)

    def decode(self, buf: Any, offset: int) -> tuple[Any, ...] | None:
        """The head's values at ``offset``, or ``None`` when a value is out of the spec's bounds."""
        values = self.struct.unpack_from(buf, offset)
        for index, low, high in self.bounds:
            value = values[index]
            if (low is not None and value < low) or (high is not None and value > high):
                return None
        return values


_STRING = _Head(WINDOWS_MINIDUMP_MINIDUMP_STRING_HEAD, "minidump_string", ("buffer",))
_PDB70 = _Head(WINDOWS_MINIDUMP_CV_INFO_PDB70_HEAD, "cv_info_pdb70", ("pdb_file_name",))
_PDB20 = _Head(WINDOWS_MINIDUMP_CV_INFO_PDB20_HEAD, "cv_info_pdb20", ("pdb_file_name",))


class _ElfInfo(NamedTuple):
    """cv_info_elf: the record is the build-id."""

    build_id: bytes


class _Codeview(NamedTuple):
    """codeview_record of a layout the spec knows."""

    signature: Any
    info: Any


class _UnknownCodeview(NamedTuple):
    """codeview_record of a layout the spec does not know: like the parser's, it has no ``info``."""

    signature: Any


def module_string(root: Any, offset: int) -> Any:
    """The spec's ``module_name`` instance of a module: the MINIDUMP_STRING at ``offset`` of the
    file (fields ``len_buffer``, ``buffer``); one that breaks a limit is read (and refused) by the
    generated parser."""
    io = root._io
    buf, size = io._buf, io.size()
    if offset + _STRING.size <= size:
        head = _STRING.decode(buf, offset)
        if head is not None and offset + _STRING.size + head[0] <= size:
            start = offset + _STRING.size
            return _STRING.make(head, buf[start:start + head[0]])
    return _parsed(io, offset, lambda: MD.MinidumpString(io, None, root))


def codeview_record(root: Any, offset: int, length: int) -> Any:
    """The spec's ``cv_info`` instance of a module: the CodeView record of ``length`` bytes at
    ``offset`` (``None`` when shorter than 4 bytes); fields ``signature`` and, for a layout the
    spec knows, ``info``."""
    if length < 4:
        return None
    io = root._io
    value = _codeview(io._buf, io.size(), offset, length)
    if value is None:
        value = _parsed(io, offset, lambda: MD.CodeviewRecord(length, io, None, root))
    return value


def _parsed(io: Any, offset: int, parse: Callable[[], Any]) -> Any:
    """``parse()`` with the stream at ``offset``, its position restored after."""
    pos = io.pos()
    io.seek(offset)
    try:
        return parse()
    finally:
        io.seek(pos)


def _codeview(buf: Any, size: int, offset: int, length: int) -> Any | None:
    """The CodeView record of ``length`` bytes at ``offset`` from the heads' tables, or ``None``
    when it does not fit the file or is too short for its layout (the parser then reads it)."""
    if offset + length > size:
        return None
    raw = _CV_SIGNATURE.unpack_from(buf, offset)[0]
    signature = _CV_SIGNATURES.get(raw, raw)
    start = offset + _CV_SIGNATURE.size
    if signature is MD.CvSignatures.pdb70 or signature is MD.CvSignatures.pdb20:
        head = _PDB70 if signature is MD.CvSignatures.pdb70 else _PDB20
        if length < _CV_SIGNATURE.size + head.size:
            return None
        values = head.decode(buf, start)
        if values is None:
            return None
        name = buf[start + head.size:offset + length]
        end = name.find(b"\0")  # the spec's terminator: the name ends at the first NUL
        return _Codeview(signature, head.make(values, name if end < 0 else name[:end]))
    if signature is MD.CvSignatures.elf_build_id:
        return _Codeview(signature, _ElfInfo(buf[start:offset + length]))
    return _UnknownCodeview(signature)


def field(path: str) -> int:
    """The index in a module row (:func:`module_rows`) of the MINIDUMP_MODULE field ``path``."""
    return _PATHS.index(path)


def row_of(entry: Any) -> tuple[Any, ...]:
    """A module entry read by the generated parser as a row like :func:`module_rows` gives."""
    row = []
    for path in _PATHS:
        value = entry
        for name in path.split("."):
            value = getattr(value, name)
        row.append(value)
    return tuple(row)


def module_rows(data: bytes) -> list[tuple[Any, ...]] | None:
    """The entries of a MINIDUMP_MODULE_LIST whose bytes are ``data``, one tuple of the table's
    fields each, or ``None`` when the list is not well formed (count too big for the stream):
    the generated parser then reads it.

    Mirrors the spec: ``num_modules`` at 0, then 4 bytes of padding when exactly 4 bytes remain.
    """
    if len(data) < 4:
        return None
    count = int.from_bytes(data[:4], "little")
    if count > (len(data) - 4) // ENTRY_SIZE:
        return None
    start = 8 if len(data) - 4 - count * ENTRY_SIZE == 4 else 4
    return list(_ENTRY.iter_unpack(data[start:start + count * ENTRY_SIZE]))
