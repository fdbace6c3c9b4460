"""ELF images inside a core's captured memory: build-id, soname and span, read with pyelftools.

By default Linux dumps the first page of every file-backed mapping (coredump_filter bit
4), which holds the ELF header, the program headers and usually the GNU build-id note.
pyelftools parses those structures (:mod:`dumpkit.elf_headers`: made once per kind of file)
from a file-like view of the target memory that starts at the image's ELF header; nothing
here touches section headers (they are not loaded into memory).
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import IO, Any, cast

from elftools.common.exceptions import ELFError
from elftools.common.utils import struct_parse
from elftools.construct.core import ConstructError
from elftools.elf.notes import iter_notes

from dumpkit.elf_headers import ElfHeaders
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.memory import AddressSpace, MemoryFile

__all__ = ["ELF_MAGIC", "ImageInfo", "MemoryFile", "inspect_image"]

ELF_MAGIC = b"\x7fELF"
MAX_PHDRS = 512
MAX_DYN = 1024
MAX_NOTE_BYTES = 1 << 16
MAX_STRING = 4096

#: What pyelftools (and its vendored construct) raise on garbage; this module turns them
#: into "no information" for that one image.
_ELF_ERRORS = (ELFError, ConstructError, DumpkitError, ValueError, struct.error, EOFError,
               KeyError, IndexError, TypeError, AttributeError, OverflowError, UnicodeDecodeError)


@dataclass(slots=True)
class ImageInfo:
    """Facts read from one in-memory ELF image."""

    build_id: str | None = None  # lower-case hex
    soname: str | None = None
    span: int | None = None  # bytes from the ELF header to the end of the last PT_LOAD
    elf_type: str | None = None  # "ET_DYN", "ET_EXEC"
    big_endian: bool = False


def inspect_image(space: AddressSpace, base: int, limit: int) -> ImageInfo | None:
    """Read the ELF image whose header is at ``base`` (``None`` if it is not an ELF header)."""
    try:
        if space.read(base, 4) != ELF_MAGIC:
            return None
    except DumpkitError:
        return None
    info = ImageInfo()
    stream = MemoryFile(space, base, max(limit, 64))
    try:
        elf = ElfHeaders(cast(IO[bytes], stream))
        info.elf_type = str(elf["e_type"])
        info.big_endian = not elf.little_endian
        phdrs = _program_headers(elf, stream)
    except _ELF_ERRORS:
        return info
    loads = [p for p in phdrs if p["p_type"] == "PT_LOAD"]
    if not loads:
        return info
    first = min(p["p_vaddr"] for p in loads) & ~0xFFF
    info.span = max(p["p_vaddr"] + p["p_memsz"] for p in loads) - first
    stream.size = max(stream.size, info.span)
    for p in phdrs:
        if p["p_type"] == "PT_NOTE" and info.build_id is None:
            info.build_id = _build_id(elf, p["p_vaddr"] - first, p["p_filesz"])
    dynamic = next((p for p in phdrs if p["p_type"] == "PT_DYNAMIC"), None)
    if dynamic is not None:
        info.soname = _soname(elf, space, base, first, dynamic["p_vaddr"] - first)
    return info


def _program_headers(elf: ElfHeaders, stream: MemoryFile) -> list[Any]:
    count = min(int(elf["e_phnum"]), MAX_PHDRS)
    entsize = int(elf["e_phentsize"])
    if entsize < elf.structs.Elf_Phdr.sizeof():
        return []
    out: list[Any] = []
    for i in range(count):
        try:
            pos = elf["e_phoff"] + i * entsize
            out.append(struct_parse(elf.structs.Elf_Phdr, cast(IO[bytes], stream), pos))
        except _ELF_ERRORS:
            break
    return out


def _build_id(elf: ElfHeaders, offset: int, size: int) -> str | None:
    try:
        for note in iter_notes(cast(Any, elf), offset, min(size, MAX_NOTE_BYTES)):
            if note["n_type"] == "NT_GNU_BUILD_ID" and note["n_name"] == "GNU":
                desc = note["n_desc"]
                return desc if isinstance(desc, str) and desc else None
    except _ELF_ERRORS:
        return None
    return None


def _soname(elf: ElfHeaders, space: AddressSpace, base: int, first: int, offset: int) -> str | None:
    """DT_SONAME through PT_DYNAMIC and DT_STRTAB, when those pages were captured."""
    strtab = soname = None
    dyn = elf.structs.Elf_Dyn
    try:
        for i in range(MAX_DYN):
            entry = struct_parse(dyn, elf.stream, offset + i * dyn.sizeof())
            tag = entry["d_tag"]
            if tag == "DT_NULL":
                break
            if tag == "DT_STRTAB":
                strtab = int(entry["d_ptr"])
            elif tag == "DT_SONAME":
                soname = int(entry["d_val"])
    except _ELF_ERRORS:
        pass
    if strtab is None or soname is None:
        return None
    # glibc relocates DT_STRTAB in memory on most architectures (not on MIPS / RISC-V,
    # where .dynamic is read-only): an unrelocated value is below the load address.
    address = (strtab if strtab >= base else base - first + strtab) + soname
    return read_cstring(space, address)


def read_cstring(space: AddressSpace, address: int, limit: int = MAX_STRING) -> str | None:
    """A NUL-terminated string from target memory, ``None`` when not captured or unterminated."""
    data = b""
    chunk = 64
    while len(data) < limit:
        try:
            piece = space.read(address + len(data), chunk)
        except NotCapturedError as exc:
            got = exc.address - (address + len(data))
            if got <= 0:
                return None
            try:
                piece = space.read(address + len(data), got)
            except DumpkitError:
                return None
        except DumpkitError:
            return None
        end = piece.find(b"\0")
        if end >= 0:
            return (data + piece[:end]).decode("utf-8", "replace")
        data += piece
        chunk = min(chunk * 4, limit)
    return None
