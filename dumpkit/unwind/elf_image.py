"""ELF images for the unwinder, through pyelftools: symbols and DWARF call frame info.

Two sources:

* :func:`open_elf` — a file from ``--sysroot`` (executables, libraries, ``.debug`` files):
  ``.symtab``/``.dynsym`` function symbols, ``.eh_frame`` and ``.debug_frame``;
* :func:`memory_cfi` — an image mapped in a core's captured memory: the program headers
  give ``PT_GNU_EH_FRAME`` -> ``.eh_frame_hdr`` -> the start of ``.eh_frame``, whose extent
  is found by walking its length fields to the zero terminator. It is used only when every
  byte of ``.eh_frame`` was captured (Linux dumps file-backed text only with
  ``coredump_filter`` bit 2/3, so this is the exception, not the rule).

FDEs are indexed by start address once per image; an FDE's rows are decoded on first use.
Anything malformed gives "no CFI here", never an exception.
"""
from __future__ import annotations

import io
import struct
from bisect import bisect_right
from typing import IO, Any, cast

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError
from elftools.dwarf.callframe import FDE, CallFrameInfo
from elftools.dwarf.structs import DWARFStructs
from elftools.elf.elffile import ELFFile

from dumpkit.errors import DumpkitError
from dumpkit.memory import AddressSpace
from dumpkit.model import Module
from dumpkit.unwind.memory import read_code

__all__ = ["ELF_ERRORS", "ElfImage", "FdeIndex", "memory_cfi", "open_elf"]

ELF_ERRORS = (ELFError, DWARFError, ConstructError, DumpkitError, ValueError, struct.error,
              EOFError, KeyError, IndexError, TypeError, AttributeError, OverflowError,
              UnicodeDecodeError, AssertionError, OSError)
MAX_EH_FRAME = 32 << 20
MAX_SYMBOLS = 2_000_000


class FdeIndex:
    """FDEs sorted by start address (link-time addresses of the image)."""

    def __init__(self, entries: list[Any]) -> None:
        fdes = []
        for entry in entries:
            if isinstance(entry, FDE):
                start, size = entry.header["initial_location"], entry.header["address_range"]
                if size > 0:
                    fdes.append((start, start + size, entry))
        fdes.sort(key=lambda item: item[0])
        self._fdes = fdes
        self._starts = [f[0] for f in fdes]

    def __len__(self) -> int:
        return len(self._fdes)

    def find(self, address: int) -> Any | None:
        i = bisect_right(self._starts, address) - 1
        if i >= 0 and address < self._fdes[i][1]:
            return self._fdes[i][2]
        return None


class ElfImage:
    """One ELF file: its build-id, link base, function symbols and CFI (all lazy)."""

    def __init__(self, path: str, fh: IO[bytes], elf: ELFFile) -> None:
        self.path, self._fh, self.elf = path, fh, elf
        self.width = elf.elfclass // 8
        loads = [seg for seg in elf.iter_segments() if seg["p_type"] == "PT_LOAD"]
        self.link_base = (min(seg["p_vaddr"] for seg in loads) & ~0xFFF) if loads else 0
        self.build_id = self._build_id()
        self._symbols: tuple[list[int], list[tuple[int, int, str]]] | None = None
        self._cfi: list[FdeIndex] | None = None

    def bias_for(self, module: Module) -> int:
        return module.base - self.link_base

    def _build_id(self) -> str | None:
        try:
            for section in self.elf.iter_sections():
                if section["sh_type"] == "SHT_NOTE":
                    for note in cast(Any, section).iter_notes():
                        if note["n_type"] == "NT_GNU_BUILD_ID":
                            desc = note["n_desc"]
                            return desc.lower() if isinstance(desc, str) else None
        except ELF_ERRORS:
            return None
        return None

    def symbol_at(self, address: int) -> tuple[str, int] | None:
        """(name, offset) of the function symbol covering a link-time ``address``."""
        if self._symbols is None:
            self._symbols = self._load_symbols()
        starts, syms = self._symbols
        i = bisect_right(starts, address) - 1
        while i >= 0:
            start, size, name = syms[i]
            if address < start + max(size, 1) or (size == 0 and i == len(syms) - 1):
                return name, address - start
            if size == 0 and (i + 1 >= len(syms) or address < syms[i + 1][0]):
                return name, address - start
            if size:
                return None
            i -= 1
        return None

    def _load_symbols(self) -> tuple[list[int], list[tuple[int, int, str]]]:
        found: dict[int, tuple[int, int, str]] = {}
        try:
            for name in (".symtab", ".dynsym"):
                section = self.elf.get_section_by_name(name)
                if section is None or not hasattr(section, "iter_symbols"):
                    continue
                for sym in section.iter_symbols():
                    if len(found) >= MAX_SYMBOLS:
                        break
                    if sym["st_info"]["type"] not in ("STT_FUNC", "STT_GNU_IFUNC") or not sym["st_value"]:
                        continue
                    value = sym["st_value"] & ~1 if self.elf["e_machine"] == "EM_ARM" else sym["st_value"]
                    if value not in found or (sym["st_size"] and not found[value][1]):
                        found[value] = (value, sym["st_size"], sym.name)
        except ELF_ERRORS:
            pass
        syms = sorted(found.values())
        return [s[0] for s in syms], syms

    def fde_for(self, address: int) -> Any | None:
        if self._cfi is None:
            self._cfi = self._load_cfi()
        for index in self._cfi:
            fde = index.find(address)
            if fde is not None:
                return fde
        return None

    def _load_cfi(self) -> list[FdeIndex]:
        out = []
        try:
            if not self.elf.has_dwarf_info() and self.elf.get_section_by_name(".eh_frame") is None:
                return []
            info = self.elf.get_dwarf_info(relocate_dwarf_sections=False)
        except ELF_ERRORS:
            return []
        for getter, present in ((info.EH_CFI_entries, info.has_EH_CFI),
                                (info.CFI_entries, info.has_CFI)):
            try:
                if present():
                    out.append(FdeIndex(getter()))
            except ELF_ERRORS:
                continue
        return out

    def close(self) -> None:
        self._fh.close()


def open_elf(path: str) -> tuple[ElfImage | None, str | None]:
    """The ELF at ``path`` or ``(None, problem)``; a missing file is ``(None, None)``."""
    try:
        fh = open(path, "rb")  # noqa: SIM115 - kept open for lazy parsing, closed by close()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"
    try:
        return ElfImage(path, fh, ELFFile(fh)), None
    except ELF_ERRORS as exc:
        fh.close()
        return None, f"{path}: not a usable ELF file ({type(exc).__name__})"


def _eh_pointer(data: bytes, pos: int, encoding: int, section_address: int) -> tuple[int, int] | None:
    """Decode one DW_EH_PE-encoded value of .eh_frame_hdr -> (value, new position)."""
    kind = encoding & 0x0F
    pick = {0x2: "<H", 0x3: "<I", 0x4: "<Q", 0xA: "<h", 0xB: "<i", 0xC: "<q"}.get(kind)
    if encoding == 0xFF or pick is None:
        return None
    size = struct.calcsize(pick)
    if pos + size > len(data):
        return None
    (value,) = struct.unpack_from(pick, data, pos)
    application = encoding & 0x70
    if application == 0x10:  # pcrel
        value += section_address + pos
    elif application == 0x30:  # datarel (relative to .eh_frame_hdr)
        value += section_address
    elif application != 0:
        return None
    return value & 0xFFFFFFFFFFFFFFFF, pos + size


def memory_cfi(space: AddressSpace, module: Module, width: int) -> tuple[FdeIndex, int] | None:
    """(FDE index, load bias) for an image mapped at ``module.base`` in a core, or ``None``."""
    from dumpkit.readers.elf_images import MemoryFile

    stream = MemoryFile(space, module.base, max(module.size, 0x1000))
    try:
        elf = ELFFile(cast(IO[bytes], stream))
        phdrs = list(elf.iter_segments())
    except ELF_ERRORS:
        return None
    loads = [p for p in phdrs if p["p_type"] == "PT_LOAD"]
    hdr = next((p for p in phdrs if p["p_type"] == "PT_GNU_EH_FRAME"), None)
    if not loads or hdr is None:
        return None
    bias = module.base - (min(p["p_vaddr"] for p in loads) & ~0xFFF)
    hdr_address = hdr["p_vaddr"] + bias
    head = read_code(space, hdr_address, 16)
    if head is None or head[0] != 1:
        return None
    decoded = _eh_pointer(head, 4, head[1], hdr_address)
    if decoded is None:
        return None
    eh_frame = decoded[0]
    # Walk the length fields to the zero terminator: the whole section must be captured.
    cursor = eh_frame
    while cursor - eh_frame < MAX_EH_FRAME:
        raw = read_code(space, cursor, 4)
        if raw is None:
            return None
        length = int.from_bytes(raw, "little")
        if length == 0:
            break
        if length == 0xFFFFFFFF:
            return None  # 64-bit DWARF lengths do not occur in .eh_frame in practice
        cursor += 4 + length
    else:
        return None
    data = read_code(space, eh_frame, cursor - eh_frame + 4)
    if data is None:
        return None
    structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=width)
    try:
        cfi = CallFrameInfo(io.BytesIO(data), len(data), eh_frame - bias, structs, for_eh_frame=True)
        return FdeIndex(cfi.get_entries()), bias
    except ELF_ERRORS:
        return None
