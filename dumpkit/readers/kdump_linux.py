"""Adapters from a kdump-compressed dump to the ELF-core and Linux-kernel helpers.

* :func:`walk_note_area` decodes the copy of the crashed kernel's PT_NOTE segment
  (offset_note / size_note) with the ELF reader's note walker (:func:`elf_notes.walk_notes`)
  and register decoding. That walker takes program headers of a parsed ELF file, so the
  note bytes are wrapped in a minimal in-memory ELF image (header + one PT_NOTE) of the
  target's class, byte order and ``e_machine``; offsets in its diagnostics are moved back
  to the dump file's.
* :func:`kernel_log` is the kdump counterpart of ``linux_vmcore._kernel_log`` (which needs
  ELF program headers): it sets up :class:`linux_kernel.KernelTranslator` from VMCOREINFO
  and the sub-header's phys_base, then calls :func:`linux_kernel.read_kernel_log`.
"""
from __future__ import annotations

import io
import struct

from kaitaistruct import KaitaiStream

from dumpkit.errors import DumpkitError
from dumpkit.formats.elf_core import ElfCore
from dumpkit.memory import AddressSpace
from dumpkit.model import Dump
from dumpkit.readers.elf_notes import CoreNotes, walk_notes
from dumpkit.readers.elf_registers import (
    EM_68K,
    EM_386,
    EM_AARCH64,
    EM_ALPHA,
    EM_ARM,
    EM_LOONGARCH,
    EM_MIPS,
    EM_PARISC,
    EM_PPC,
    EM_PPC64,
    EM_RISCV,
    EM_S390,
    EM_SPARC,
    EM_SPARCV9,
    EM_X86_64,
)
from dumpkit.readers.kaitai import PARSE_ERRORS, guard
from dumpkit.readers.linux_kernel import KernelTranslator, VmcoreInfo, attach_kernel_log

__all__ = ["DIRECT_MAP_BASE", "elf_machine", "guess_machine", "kernel_log", "walk_note_area"]

EM_NONE = 0
PT_NOTE, ET_CORE, NT_PRSTATUS = 4, 4, 1
MAX_NOTES_SCANNED = 4096

#: utsname.machine prefix -> ELF e_machine (longest prefixes first where they overlap).
_MACHINES: tuple[tuple[str, int], ...] = (
    ("x86_64", EM_X86_64), ("amd64", EM_X86_64), ("i386", EM_386), ("i486", EM_386),
    ("i586", EM_386), ("i686", EM_386), ("x86", EM_386), ("aarch64", EM_AARCH64),
    ("arm64", EM_AARCH64), ("arm", EM_ARM), ("ppc64", EM_PPC64), ("ppc", EM_PPC),
    ("powerpc", EM_PPC), ("s390", EM_S390), ("riscv", EM_RISCV), ("mips", EM_MIPS),
    ("loongarch", EM_LOONGARCH), ("sparc64", EM_SPARCV9), ("sparc", EM_SPARC), ("m68k", EM_68K),
    ("alpha", EM_ALPHA), ("parisc", EM_PARISC),
)

#: Default start of the kernel direct map where VMCOREINFO does not say it (arch -> VA):
#: i386's 3G/1G split, ppc64's linear map, s390's identity map. amd64 and arm64 are
#: handled by KernelTranslator itself.
DIRECT_MAP_BASE = {"x86": 0xC0000000, "ppc64": 0xC000000000000000, "s390x": 0, "s390": 0,
                   "ppc": 0xC0000000, "arm": 0xC0000000}


def elf_machine(uts_machine: str) -> int:
    """The ELF ``e_machine`` of a ``utsname.machine`` string (0 when unknown)."""
    m = uts_machine.strip().lower()
    for prefix, machine in _MACHINES:
        if m.startswith(prefix):
            return machine
    return EM_NONE


#: (64-bit target, NT_PRSTATUS descriptor size) -> e_machine, for dumps whose utsname is empty.
_PRSTATUS_SIZES = {(True, 336): EM_X86_64, (True, 392): EM_AARCH64, (True, 504): EM_PPC64,
                   (True, 376): EM_RISCV, (False, 144): EM_386, (False, 148): EM_ARM}


def _elf_image(notes: bytes, machine: int, is_64: bool, is_be: bool) -> tuple[bytes, int]:
    """A minimal ELF core holding ``notes`` in one PT_NOTE; returns (image, note offset)."""
    order = ">" if is_be else "<"
    ident = b"\x7fELF" + bytes([2 if is_64 else 1, 2 if is_be else 1, 1]) + bytes(9)
    if is_64:
        ehdr = struct.pack(order + "HHIQQQIHHHHHH", ET_CORE, machine, 1, 0, 64, 0, 0, 64, 56, 1, 0, 0, 0)
        note_ofs = 64 + 56
        phdr = struct.pack(order + "IIQQQQQQ", PT_NOTE, 0, note_ofs, 0, 0, len(notes), len(notes), 0)
    else:
        ehdr = struct.pack(order + "HHIIIIIHHHHHH", ET_CORE, machine, 1, 0, 52, 0, 0, 52, 32, 1, 0, 0, 0)
        note_ofs = 52 + 32
        phdr = struct.pack(order + "IIIIIIII", PT_NOTE, note_ofs, 0, 0, len(notes), len(notes), 0, 0)
    return ident + ehdr + phdr + notes, note_ofs


def guess_machine(notes: bytes, *, is_64: bool, is_be: bool) -> int:
    """``e_machine`` from the size of the first NT_PRSTATUS (0 when it says nothing).

    Folklore: makedumpfile run with -d 0/1 on a vmcore without VMCOREINFO (our oracle
    tests do that) cannot read the kernel's utsname and leaves it empty.
    """
    image, _ = _elf_image(notes, EM_NONE, is_64, is_be)
    try:
        note = ElfCore(KaitaiStream(io.BytesIO(image))).body.program_headers[0].notes.first
        for _ in range(MAX_NOTES_SCANNED):
            if note is None:
                break
            if note.name == "CORE" and note.type == NT_PRSTATUS:
                return _PRSTATUS_SIZES.get((is_64, int(note.len_desc)), EM_NONE)
            note = note.next
    except PARSE_ERRORS:
        pass
    return EM_NONE


def walk_note_area(path: str, dump: Dump, notes: bytes, file_offset: int, *, machine: int,
                   is_64: bool, is_be: bool) -> CoreNotes:
    """Decode the note bytes found at ``file_offset`` of the dump with the ELF note walker."""
    image, note_ofs = _elf_image(notes, machine, is_64, is_be)
    first_diag = len(dump.diagnostics)
    try:
        with guard(path, "note area", file_offset):
            root = ElfCore(KaitaiStream(io.BytesIO(image)))
            headers = list(root.body.program_headers)
    except DumpkitError as exc:  # pragma: no cover - the image is ours
        dump.diag("bad_note_area", f"note area unreadable: {exc.message}", structure="note area",
                  offset=file_offset)
        return CoreNotes()
    out = walk_notes(path, dump, headers, machine)
    shift = file_offset - note_ofs
    for diag in dump.diagnostics[first_diag:]:
        if diag.offset is not None:
            diag.offset += shift
    for thread in out.threads:
        if thread.offset is not None:
            thread.offset += shift
    return out


def kernel_log(dump: Dump, phys: AddressSpace, info: VmcoreInfo, *, arch: str, byteorder: str,
               pointer_size: int, phys_base: int | None) -> None:
    """Put the kernel log tail and the panic message into ``dump`` when the log is readable."""
    base = info.numbers.get("phys_base", phys_base)
    translator = KernelTranslator(info, arch, phys_base=base, page_offset=DIRECT_MAP_BASE.get(arch))
    attach_kernel_log(dump, phys, info, arch=arch, byteorder=byteorder, pointer_size=pointer_size,
                      translator=translator)
