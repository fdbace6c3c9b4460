"""What a kdump-compressed dump needs from the ELF side: the target's ``e_machine``.

* :func:`elf_machine` maps the header's ``utsname.machine`` to an ELF ``e_machine``;
* :func:`guess_machine` guesses it from the size of the first NT_PRSTATUS note when
  utsname is empty.

The note copy itself is walked by :func:`elf_notes.walk_notes` (it takes note bytes) and
the kernel facts are filled by :mod:`linux_kernel_dump`.
"""
from __future__ import annotations

from dumpkit.readers.elf_notes import NT_PRSTATUS, NoteTarget, parse_notes
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
from dumpkit.readers.kaitai import PARSE_ERRORS

__all__ = ["elf_machine", "guess_machine"]

EM_NONE = 0
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


def guess_machine(notes: bytes, *, is_64: bool, is_be: bool) -> int:
    """``e_machine`` from the size of the first NT_PRSTATUS (0 when it says nothing).

    Folklore: makedumpfile run with -d 0/1 on a vmcore without VMCOREINFO (our oracle
    tests do that) cannot read the kernel's utsname and leaves it empty.
    """
    try:
        note = parse_notes(notes, NoteTarget(EM_NONE, is_64, is_be)).first
        for _ in range(MAX_NOTES_SCANNED):
            if note is None:
                break
            if note.name == "CORE" and note.type == NT_PRSTATUS:
                return _PRSTATUS_SIZES.get((is_64, int(note.len_desc)), EM_NONE)
            note = note.next
    except PARSE_ERRORS:
        pass
    return EM_NONE
