"""The program header table of an ELF core: PT_LOAD segments as plain tuples, PT_NOTE
headers as generated-parser objects (their notes are parsed from them).

Tables of up to :data:`BULK_THRESHOLD` entries are read entry by entry with the generated
parser. Bigger ones (processes with tens of thousands of mappings; the corpus has a
131070-segment PN_XNUM core) are decoded in bulk with ``struct.iter_unpack``, which is
~50x faster than one Kaitai object per entry. The bulk layouts are the spec's (tables made by
tools/compile-ksy, one per byte order since the spec calculates it; tests/test_bulk_tables.py
compares them with the generated parser), checked again against it on the first and last entry
of each table read, and every PT_NOTE entry is re-read with the generated parser, so
``ksy/elf_core.ksy`` stays the reference.
"""
from __future__ import annotations

import struct
from typing import Any, NamedTuple

from kaitaistruct import KaitaiStream

from dumpkit.errors import DumpParseError
from dumpkit.formats.bulk_tables import (
    ELF_CORE_BODY_PROGRAM_HEADER_32_BE,
    ELF_CORE_BODY_PROGRAM_HEADER_32_LE,
    ELF_CORE_BODY_PROGRAM_HEADER_64_BE,
    ELF_CORE_BODY_PROGRAM_HEADER_64_LE,
)
from dumpkit.formats.elf_core import ElfCore
from dumpkit.memory import FileView
from dumpkit.readers.kaitai import guard

__all__ = ["BULK_THRESHOLD", "Load", "read_program_headers"]

BULK_THRESHOLD = 2048
PT_LOAD, PT_NOTE = 1, 4
#: the field order the unpacking below is written for (Elf64_Phdr moves p_flags to second)
_ORDER = {
    True: ("type", "flags", "ofs_body", "vaddr", "paddr", "len_body_in_file", "len_body_in_memory", "align"),
    False: ("type", "ofs_body", "vaddr", "paddr", "len_body_in_file", "len_body_in_memory", "flags", "align"),
}
#: (is_64, big-endian) -> the spec's table of one program header
_TABLES = {
    (False, False): ELF_CORE_BODY_PROGRAM_HEADER_32_LE, (False, True): ELF_CORE_BODY_PROGRAM_HEADER_32_BE,
    (True, False): ELF_CORE_BODY_PROGRAM_HEADER_64_LE, (True, True): ELF_CORE_BODY_PROGRAM_HEADER_64_BE,
}
if any(paths != _ORDER[is_64] for (is_64, _), (_, paths, _) in _TABLES.items()):
    raise ImportError("ksy/elf_core.ksy's program header fields moved: update dumpkit/readers/elf_phdrs.py")
_LAYOUTS = {key: struct.Struct(fmt) for key, (fmt, _, _) in _TABLES.items()}


class Load(NamedTuple):
    """One PT_LOAD program header, as plain ints."""

    vaddr: int
    paddr: int
    offset: int
    file_size: int  # min(p_filesz, p_memsz)
    mem_size: int
    flags: int


def _one(root: Any, offset: int) -> Any:
    """The generated parser's program header at file ``offset``."""
    body = root.body
    io: KaitaiStream = root._io
    io.seek(offset)
    cls = ElfCore.Body.ProgramHeader64 if root.is_64 else ElfCore.Body.ProgramHeader32
    return cls(io, body, root, body._is_le)


def _as_tuple(ph: Any) -> tuple[int, ...]:
    return (int(ph.type), ph.ofs_body, ph.vaddr, ph.paddr, ph.len_body_in_file, ph.len_body_in_memory,
            ph.flags)


def read_program_headers(view: FileView, root: Any, count: int) -> tuple[list[Load], list[Any]]:
    """(PT_LOAD segments, PT_NOTE program headers) of a table already checked to fit the file."""
    body = root.body
    loads: list[Load] = []
    notes: list[Any] = []
    if count <= BULK_THRESHOLD:
        with guard(view.path, "program headers", body.ofs_program_headers):
            for ph in body.program_headers if count else []:
                if ph.type == PT_LOAD:
                    memsz = ph.len_body_in_memory
                    loads.append(Load(ph.vaddr, ph.paddr, ph.ofs_body, min(ph.len_body_in_file, memsz),
                                      memsz, ph.flags))
                elif ph.type == PT_NOTE:
                    notes.append(ph)
        return loads, notes
    is_64 = bool(root.is_64)
    layout = _LAYOUTS[(is_64, root.ei_data == ElfCore.ByteOrder.be)]
    size = layout.size
    start = body.ofs_program_headers
    table = view.read(start, count * size)
    raw = list(layout.iter_unpack(table))

    def ordered(row: tuple[int, ...]) -> tuple[int, ...]:
        """(type, offset, vaddr, paddr, filesz, memsz, flags) of one raw row."""
        if is_64:
            t, fl, o, v, p, fs, ms, _a = row
            return (t, o, v, p, fs, ms, fl)
        return row[:7]

    with guard(view.path, "program headers", start):
        for index in (0, count - 1):
            if _as_tuple(_one(root, start + index * size)) != ordered(raw[index]):
                raise DumpParseError("bulk program header decoding disagrees with the generated parser",
                                     path=view.path, structure="program headers",
                                     offset=start + index * size, code="internal")
        new_load = tuple.__new__  # Load(...) minus the NamedTuple's argument handling: 65,535 of them
        if is_64:
            loads = [new_load(Load, (v, p, o, fs if fs < ms else ms, ms, fl))
                     for t, fl, o, v, p, fs, ms, _a in raw if t == PT_LOAD]
        else:
            loads = [new_load(Load, (v, p, o, fs if fs < ms else ms, ms, fl))
                     for t, o, v, p, fs, ms, fl, _a in raw if t == PT_LOAD]
        notes = [_one(root, start + index * size) for index, row in enumerate(raw) if row[0] == PT_NOTE]
    return loads, notes
