"""The ELF-level layout of a core: header facts, PT_LOAD segments and PT_NOTE bytes.

Shared by the process-core reader (:mod:`elf_core`) and the kernel-dump filler for ELF
vmcores (:mod:`linux_vmcore`); it knows nothing of what the notes say.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from dumpkit.errors import DumpkitError, DumpParseError
from dumpkit.formats.elf_core import ElfCore
from dumpkit.memory import FileView, Segment
from dumpkit.model import Dump
from dumpkit.readers.elf_notes import MAX_NOTE_SEGMENT, NoteArea, NoteTarget
from dumpkit.readers.elf_phdrs import Load, read_program_headers
from dumpkit.readers.elf_registers import cpu_arch
from dumpkit.readers.kaitai import guard, parse

__all__ = ["MAX_PROGRAM_HEADERS", "ElfLayout", "load_segments", "note_areas", "permissions", "read_layout"]

#: More program headers than any kernel writes (max_map_count is 65530 by default; the
#: corpus has a synthetic 131070-segment PN_XNUM core).
MAX_PROGRAM_HEADERS = 1 << 20
#: e_ident, then e_type (2), then e_machine: where a diagnostic about the machine points.
E_MACHINE_OFFSET = 0x12

_PERMISSIONS = tuple(("r" if f & 4 else "-") + ("w" if f & 2 else "-") + ("x" if f & 1 else "-")
                     for f in range(8))


@dataclass(slots=True)
class ElfLayout:
    """The ELF-level facts a reader needs after parsing the headers."""

    root: Any
    machine: int
    is_64: bool
    byte_order: Literal["little", "big"]
    loads: list[Load] = field(default_factory=list)
    note_headers: list[Any] = field(default_factory=list)
    num_program_headers: int = 0

    @property
    def arch(self) -> str:
        return cpu_arch(self.machine, self.is_64)

    @property
    def word(self) -> int:
        return int(self.root.body.len_word)

    @property
    def note_target(self) -> NoteTarget:
        return NoteTarget(self.machine, self.is_64, self.byte_order == "big")


def read_layout(view: FileView) -> ElfLayout:
    """Parse the ELF header and program header table (checked to fit the file)."""
    root = parse(ElfCore, view, "ELF header")
    body = root.body
    with guard(view.path, "ELF header", 0):
        machine, is_64 = int(body.machine), bool(root.is_64)
        order: Literal["little", "big"] = "big" if root.ei_data == ElfCore.ByteOrder.be else "little"
        entsize = 56 if is_64 else 32
    with guard(view.path, "section header 0 (PN_XNUM)", body.ofs_section_headers):
        count = int(body.num_program_headers)
    if count and body.len_program_header != entsize:
        raise DumpParseError(f"e_phentsize is {body.len_program_header}, expected {entsize}",
                             path=view.path, structure="ELF header", offset=0x2A if not is_64 else 0x36,
                             code="invalid_value")
    end = body.ofs_program_headers + count * entsize
    if count > MAX_PROGRAM_HEADERS or end > view.size:
        raise DumpParseError(f"{count} program headers at {body.ofs_program_headers:#x} do not fit "
                             f"in the {view.size:#x}-byte file", path=view.path,
                             structure="program headers", offset=body.ofs_program_headers,
                             code="truncated")
    layout = ElfLayout(root, machine, is_64, order, num_program_headers=count)
    layout.loads, layout.note_headers = read_program_headers(view, root, count)
    return layout


def note_areas(path: str, dump: Dump, layout: ElfLayout) -> list[NoteArea]:
    """The bytes of each PT_NOTE segment; a segment too big or outside the file is a diagnostic."""
    areas = []
    for ph in layout.note_headers:
        if ph.len_body_in_file > MAX_NOTE_SEGMENT:
            dump.diag("note_segment_too_big", f"PT_NOTE segment of {ph.len_body_in_file:#x} bytes skipped "
                      f"(limit {MAX_NOTE_SEGMENT:#x})", structure="PT_NOTE", offset=ph.ofs_body)
            continue
        try:
            with guard(path, "PT_NOTE", ph.ofs_body):
                areas.append(NoteArea(int(ph.ofs_body), bytes(ph.note_bytes)))
        except DumpkitError as exc:
            dump.diag("bad_note_segment", f"note segment unreadable: {exc.message}",
                      structure="PT_NOTE", offset=ph.ofs_body)
    return areas


def load_segments(layout: ElfLayout, *, physical: bool) -> list[Segment]:
    new = tuple.__new__  # Segment(...) minus the NamedTuple's argument handling: 65,535 of them
    if physical:
        return [new(Segment, (paddr, mem_size, offset, file_size))
                for _vaddr, paddr, offset, file_size, mem_size, _flags in layout.loads]
    return [new(Segment, (vaddr, mem_size, offset, file_size))
            for vaddr, _paddr, offset, file_size, mem_size, _flags in layout.loads]


def permissions(flags: int) -> str:
    """PF_R/PF_W/PF_X as "rwx" with dashes."""
    return _PERMISSIONS[flags & 7]
