"""Call frame information, from whichever source a module has, best first:

1. Breakpad ``STACK WIN`` / ``STACK CFI`` records: the module's ``.sym`` file (as
   rust-minidump), then its native files through symbolic (x86 PDB FPO/FrameData, PE x64
   unwind info, ELF ``.eh_frame``/``.debug_frame``; see ``dumpkit.symbols.native``);
2. DWARF CFI of the ELF file in ``--sysroot`` through pyelftools (rows symbolic skipped);
3. DWARF ``.eh_frame`` of the image captured in the dump's memory (ELF cores);
4. Windows x64 ``.pdata`` of the PE image captured in the dump's memory.

Sources are looked up once per module per dump and cached on the :class:`CfiSources`.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dumpkit.model import Module
from dumpkit.unwind.cfi_breakpad import caller_by_sym
from dumpkit.unwind.pe_unwind import PdataTable, caller_by_pdata
from dumpkit.unwind.state import CfiStep, FrameState, Walk

if TYPE_CHECKING:  # pyelftools is imported only when DWARF CFI is actually used
    from dumpkit.unwind.elf_memory import FdeLookup

__all__ = ["CfiSources"]


class CfiSources:
    """Per-dump cache of each module's unwind tables."""

    def __init__(self) -> None:
        self._memory_fdes: dict[int, tuple[FdeLookup, int] | None] = {}
        self._pdata: dict[int, PdataTable | None] = {}

    def caller(self, walk: Walk, callee: FrameState,
               grand_callee: FrameState | None) -> CfiStep | None:
        module = callee.module
        if module is None:
            return None
        symbols = walk.symbols
        if symbols is not None:
            for records in symbols.stack_records(module):
                regs = caller_by_sym(walk, callee, grand_callee, records, module)
                if regs is not None:
                    return CfiStep(regs)
            image = symbols.elf(module)
            if image is not None:
                bias = image.bias_for(module)
                fde = image.fde_for(callee.lookup - bias)
                if fde is not None:
                    from dumpkit.unwind.dwarf_cfi import caller_by_fde

                    found = caller_by_fde(walk, callee, fde, callee.lookup - bias)
                    if found is not None:
                        return found
        if walk.os != "windows":
            found = self._memory_dwarf(walk, callee, module)
            if found is not None:
                return found
        if walk.os == "windows" and walk.spec.name == "amd64":
            table = self._table(walk, module)
            if table is not None:
                regs = caller_by_pdata(walk, callee, table)
                return None if regs is None else CfiStep(regs)
        return None

    def _memory_dwarf(self, walk: Walk, callee: FrameState, module: Module) -> CfiStep | None:
        key = id(module)
        if key not in self._memory_fdes:
            self._memory_fdes[key] = None
            if walk.memory is not None and _elf_magic(walk, module):
                from dumpkit.unwind.elf_memory import memory_cfi

                self._memory_fdes[key] = memory_cfi(walk.memory, module, walk.spec.width)
        entry = self._memory_fdes[key]
        if entry is None:
            return None
        index, bias = entry
        fde: Any = index.find(callee.lookup - bias)
        if fde is None:
            return None
        from dumpkit.unwind.dwarf_cfi import caller_by_fde

        return caller_by_fde(walk, callee, fde, callee.lookup - bias)

    def _table(self, walk: Walk, module: Module) -> PdataTable | None:
        key = id(module)
        if key not in self._pdata:
            self._pdata[key] = PdataTable.load(walk.memory, module)
        return self._pdata[key]


def _elf_magic(walk: Walk, module: Module) -> bool:
    from dumpkit.unwind.memory import read_code

    return read_code(walk.memory, module.base, 4) == b"\x7fELF"
