"""ELF files on disk through pyelftools: build-id, function symbols and DWARF call frame info.

:func:`open_elf` opens a file from ``--sysroot`` or a symbol source (executables, libraries,
``.debug`` files): ``.symtab``/``.dynsym`` function symbols, ``.eh_frame`` and
``.debug_frame``. (CFI of an image captured in a core's memory is read by
``dumpkit.unwind.elf_memory`` with the same :class:`FdeIndex`.)

FDEs are indexed by start address once per image; an FDE's rows are decoded on first use.
Anything malformed gives "no CFI here", never an exception.
"""
from __future__ import annotations

import struct
from bisect import bisect_right
from typing import IO, Any, cast

from elftools.common.exceptions import DWARFError, ELFError
from elftools.construct.core import ConstructError
from elftools.dwarf.callframe import FDE
from elftools.elf.elffile import ELFFile

from dumpkit.errors import DumpkitError
from dumpkit.model import Module

__all__ = ["ELF_ERRORS", "ElfImage", "FdeIndex", "open_elf"]

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
