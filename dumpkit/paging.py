"""Virtual -> physical translation over a physical address space (docs/formats.md section 3).

* :class:`X64Paging` — x86-64 4-level (``levels=5`` for LA57), 2 MiB / 1 GiB pages;
* :class:`X86PaePaging` — 32-bit PAE (PDPT of 4 entries, 2 MiB pages);
* :class:`X86Paging` — 32-bit non-PAE (4 MiB pages, PSE-36 high bits);
* :class:`Arm64Paging` — AArch64, 4 KiB granule, 48-bit VA, 1 GiB / 2 MiB blocks. Windows
  uses one root for both halves (the dump header's DirectoryTableBase); the L0 index is
  VA[47:39] for user and kernel addresses alike.

A not-present entry raises :class:`NotCapturedError` with ``space="virtual"``; so does a
page table that the dump does not hold. Windows *transition* PTEs (present bit clear,
bit 11 set, bit 10 clear: the page is still in RAM on a standby/modified list) are read
on x86/x64 leaf PTEs when ``transition=True`` (docs/formats.md 3.3); prototype and paged-out
PTEs are not captured. L1TF-swizzled invalid PTEs are not un-swizzled.

:class:`VirtualSpace` reads bytes through a translator and keeps small LRU caches of
page-table pages and of recent translations, so walking a module list is cheap.
"""
from __future__ import annotations

import struct
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterator

from dumpkit.errors import NotCapturedError
from dumpkit.memory import AddressSpace

__all__ = ["Arm64Paging", "Paging", "VirtualSpace", "X64Paging", "X86PaePaging", "X86Paging"]

PAGE = 0x1000
_X64_PFN = 0x000F_FFFF_FFFF_F000
#: Transition PFNs: volatility3 limits them to MAXPHYADDR 45 on x64 (Windows keeps flags above).
_X64_TRANSITION_PFN = (1 << 45) - PAGE
_ARM64_OA = 0x0000_FFFF_FFFF_F000


class Paging:
    """Walks one architecture's page tables; subclasses implement :meth:`translate`."""

    entry_size = 8
    va_bits = 64

    def __init__(self, physical: AddressSpace, root: int, *, transition: bool = True,
                 cache_pages: int = 64) -> None:
        self.physical = physical
        self.root = root
        self.transition = transition
        self._tables: OrderedDict[int, bytes] = OrderedDict()
        self._cache_pages = cache_pages
        self._fmt = "<Q" if self.entry_size == 8 else "<I"

    def _entry(self, table: int, index: int, va: int) -> int:
        """Entry ``index`` of the table at physical ``table`` (pages cached, LRU)."""
        page = self._tables.get(table)
        if page is None:
            try:
                page = self.physical.read(table, PAGE)
            except NotCapturedError as exc:
                raise NotCapturedError(va, 1, space="virtual") from exc
            self._tables[table] = page
            if len(self._tables) > self._cache_pages:
                self._tables.popitem(last=False)
        else:
            self._tables.move_to_end(table)
        value: int = struct.unpack_from(self._fmt, page, index * self.entry_size)[0]
        return value

    def translate(self, va: int) -> tuple[int, int]:  # pragma: no cover - interface
        """``(physical address, size of the page that maps it)``; raises NotCapturedError."""
        raise NotImplementedError

    def mappings(self) -> Iterator[tuple[int, int, int]]:  # pragma: no cover - interface
        """``(va, pa, size)`` of every present leaf mapping, in ascending VA order."""
        raise NotImplementedError

    def _classify(self, entry: int, shift: int) -> tuple[str, int, int] | None:  # pragma: no cover
        """``("table", pa, 0)``, ``("leaf", pa, size)`` or None (not present) for an entry."""
        raise NotImplementedError

    def _walk(self, table: int, shift: int, base_va: int, top_bit: int, count: int = 512,
              ) -> Iterator[tuple[int, int, int]]:
        """Enumerate one table (unreadable tables are skipped); ``top_bit`` sign-extends VAs."""
        try:
            page = self.physical.read(table, count * self.entry_size)
        except NotCapturedError:
            return
        fmt = self._fmt[1]
        for index, (entry,) in enumerate(struct.iter_unpack("<" + fmt, page)):
            kind = self._classify(entry, shift)
            if kind is None:
                continue
            va = base_va | (index << shift)
            if top_bit and va >> top_bit & 1:
                va |= ~((1 << top_bit) - 1) & 0xFFFF_FFFF_FFFF_FFFF
            what, pa, size = kind
            if what == "leaf":
                yield va, pa, size
            else:
                yield from self._walk(pa, shift - (10 if count == 1024 else 9), va, 0, count)

    def _missing(self, va: int) -> NotCapturedError:
        return NotCapturedError(va, 1, space="virtual")

    def _leaf(self, pte: int, va: int, pfn_mask: int, transition_mask: int) -> tuple[int, int]:
        if pte & 1:
            return (pte & pfn_mask) | (va & 0xFFF), PAGE
        if self.transition and pte & 0x800 and not pte & 0x400:
            return (pte & transition_mask) | (va & 0xFFF), PAGE
        raise self._missing(va)


class X64Paging(Paging):
    """x86-64 4-level (or 5-level) paging."""

    def __init__(self, physical: AddressSpace, dtb: int, *, levels: int = 4, **kw: object) -> None:
        # strip PCID (bits 11:0) and the no-flush hint (bit 63)
        super().__init__(physical, dtb & _X64_PFN, **kw)  # type: ignore[arg-type]
        self.levels = levels
        self.va_bits = 57 if levels == 5 else 48

    def translate(self, va: int) -> tuple[int, int]:
        top = va >> (self.va_bits - 1)
        if top not in (0, (1 << (65 - self.va_bits)) - 1):
            raise self._missing(va)  # non-canonical
        table = self.root
        shift = 48 if self.levels == 5 else 39
        while shift > 12:
            entry = self._entry(table, (va >> shift) & 0x1FF, va)
            if not entry & 1:
                raise self._missing(va)
            if entry & 0x80 and shift in (30, 21):
                size = 1 << shift
                base = entry & _X64_PFN & ~(size - 1)  # clears the PAT bit (12) too
                return base | (va & (size - 1)), size
            table = entry & _X64_PFN
            shift -= 9
        pte = self._entry(table, (va >> 12) & 0x1FF, va)
        return self._leaf(pte, va, _X64_PFN, _X64_TRANSITION_PFN)

    def _classify(self, entry: int, shift: int) -> tuple[str, int, int] | None:
        if not entry & 1:
            return None
        if shift == 12:
            return "leaf", entry & _X64_PFN, PAGE
        if entry & 0x80 and shift in (30, 21):
            size = 1 << shift
            return "leaf", entry & _X64_PFN & ~(size - 1), size
        return "table", entry & _X64_PFN, 0

    def mappings(self) -> Iterator[tuple[int, int, int]]:
        top = 48 if self.levels == 5 else 39
        return self._walk(self.root, top, 0, self.va_bits - 1)


class X86PaePaging(Paging):
    """32-bit PAE: CR3[31:5] -> 4 PDPTEs, 2 MiB large pages."""

    va_bits = 32

    def __init__(self, physical: AddressSpace, dtb: int, **kw: object) -> None:
        super().__init__(physical, dtb & 0xFFFF_FFE0, **kw)  # type: ignore[arg-type]

    def translate(self, va: int) -> tuple[int, int]:
        if va >> 32:
            raise self._missing(va)
        try:
            raw = self.physical.read(self.root + ((va >> 30) & 3) * 8, 8)
        except NotCapturedError as exc:
            raise self._missing(va) from exc
        pdpte = int.from_bytes(raw, "little")
        if not pdpte & 1:
            raise self._missing(va)
        pde = self._entry(pdpte & _X64_PFN, (va >> 21) & 0x1FF, va)
        if not pde & 1:
            raise self._missing(va)
        if pde & 0x80:
            return (pde & _X64_PFN & ~0x1F_FFFF) | (va & 0x1F_FFFF), 0x20_0000
        pte = self._entry(pde & _X64_PFN, (va >> 12) & 0x1FF, va)
        return self._leaf(pte, va, _X64_PFN, _X64_PFN)

    def _classify(self, entry: int, shift: int) -> tuple[str, int, int] | None:
        if not entry & 1:
            return None
        if shift == 12:
            return "leaf", entry & _X64_PFN, PAGE
        if shift == 21 and entry & 0x80:
            return "leaf", entry & _X64_PFN & ~0x1F_FFFF, 0x20_0000
        return "table", entry & _X64_PFN, 0

    def mappings(self) -> Iterator[tuple[int, int, int]]:
        try:
            pdptes = struct.unpack("<4Q", self.physical.read(self.root, 32))
        except NotCapturedError:
            return
        for index, pdpte in enumerate(pdptes):
            if pdpte & 1:
                yield from self._walk(pdpte & _X64_PFN, 21, index << 30, 0)


class X86Paging(Paging):
    """32-bit non-PAE: 1024-entry directory and tables, 4 MiB large pages."""

    entry_size = 4
    va_bits = 32

    def __init__(self, physical: AddressSpace, dtb: int, **kw: object) -> None:
        super().__init__(physical, dtb & 0xFFFF_F000, **kw)  # type: ignore[arg-type]

    def translate(self, va: int) -> tuple[int, int]:
        if va >> 32:
            raise self._missing(va)
        pde = self._entry(self.root, va >> 22, va)
        if not pde & 1:
            raise self._missing(va)
        if pde & 0x80:
            base = (pde & 0xFFC0_0000) | ((pde >> 13) & 0xFF) << 32  # PSE-36 high bits
            return base | (va & 0x3F_FFFF), 0x40_0000
        pte = self._entry(pde & 0xFFFF_F000, (va >> 12) & 0x3FF, va)
        return self._leaf(pte, va, 0xFFFF_F000, 0xFFFF_F000)

    def _classify(self, entry: int, shift: int) -> tuple[str, int, int] | None:
        if not entry & 1:
            return None
        if shift == 12:
            return "leaf", entry & 0xFFFF_F000, PAGE
        if entry & 0x80:
            return "leaf", (entry & 0xFFC0_0000) | ((entry >> 13) & 0xFF) << 32, 0x40_0000
        return "table", entry & 0xFFFF_F000, 0

    def mappings(self) -> Iterator[tuple[int, int, int]]:
        return self._walk(self.root, 22, 0, 0, 1024)


class Arm64Paging(Paging):
    """AArch64 4 KiB granule, 48-bit VA; one root table for both halves."""

    va_bits = 48

    def __init__(self, physical: AddressSpace, dtb: int, **kw: object) -> None:
        kw["transition"] = False  # Windows ARM64 software PTEs are not covered here
        super().__init__(physical, dtb & _ARM64_OA, **kw)  # type: ignore[arg-type]

    def translate(self, va: int) -> tuple[int, int]:
        top = va >> 48
        if top not in (0, 0xFFFF):
            raise self._missing(va)
        table = self.root
        for shift in (39, 30, 21):
            desc = self._entry(table, (va >> shift) & 0x1FF, va)
            kind = desc & 3
            if kind == 1 and shift in (30, 21):  # block
                size = 1 << shift
                return (desc & _ARM64_OA & ~(size - 1)) | (va & (size - 1)), size
            if kind != 3:
                raise self._missing(va)
            table = desc & _ARM64_OA
        desc = self._entry(table, (va >> 12) & 0x1FF, va)
        if desc & 3 != 3:
            raise self._missing(va)
        return (desc & _ARM64_OA) | (va & 0xFFF), PAGE

    def _classify(self, entry: int, shift: int) -> tuple[str, int, int] | None:
        kind = entry & 3
        if kind == 1 and shift in (30, 21):
            size = 1 << shift
            return "leaf", entry & _ARM64_OA & ~(size - 1), size
        if kind != 3:
            return None
        return ("leaf" if shift == 12 else "table"), entry & _ARM64_OA, PAGE if shift == 12 else 0

    def mappings(self) -> Iterator[tuple[int, int, int]]:
        return self._walk(self.root, 39, 0, 47)


class VirtualSpace(AddressSpace):
    """Reads target virtual addresses through a :class:`Paging` walker."""

    name = "virtual"

    def __init__(self, paging: Paging, *, cache_translations: int = 256) -> None:
        self.paging = paging
        self.physical = paging.physical
        self._tlb: OrderedDict[int, int] = OrderedDict()
        self._tlb_size = cache_translations

    @property
    def summary_space(self) -> AddressSpace:
        """The physical space: its ``ranges()`` are cheap, a page-table walk is not."""
        return self.physical

    def translate(self, va: int) -> int:
        """Physical address of ``va``; raises :class:`NotCapturedError` (space "virtual")."""
        page = va & ~0xFFF
        base = self._tlb.get(page)
        if base is None:
            base = self.paging.translate(page)[0]
            self._tlb[page] = base
            if len(self._tlb) > self._tlb_size:
                self._tlb.popitem(last=False)
        return base | (va & 0xFFF)

    def read(self, address: int, size: int) -> bytes:
        chunks = []
        cursor, remaining = address, size
        while remaining > 0:
            take = min(remaining, PAGE - (cursor & 0xFFF))
            try:
                chunks.append(self.physical.read(self.translate(cursor), take))
            except NotCapturedError as exc:
                raise NotCapturedError(cursor, remaining, space=self.name) from exc
            cursor += take
            remaining -= take
        return b"".join(chunks)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """Captured ``(va, size)`` ranges, from a walk of the page tables (present leaves only).

        Costs one read per page-table page plus one pass over the physical ranges; use it for
        enumeration, not on a hot path.
        """
        phys = sorted(self.physical.ranges())
        starts = [start for start, _ in phys]
        run_va, run_len = -1, 0
        for va, pa, size in self.paging.mappings():
            for sub_va, sub_len in _captured_parts(va, pa, size, phys, starts):
                if run_len and run_va + run_len == sub_va:
                    run_len += sub_len
                    continue
                if run_len:
                    yield run_va, run_len
                run_va, run_len = sub_va, sub_len
        if run_len:
            yield run_va, run_len

    def close(self) -> None:
        self.physical.close()


def _captured_parts(va: int, pa: int, size: int, phys: list[tuple[int, int]],
                    starts: list[int]) -> Iterator[tuple[int, int]]:
    """The parts of the mapping ``va -> [pa, pa + size)`` that the physical ranges hold."""
    i = max(0, bisect_right(starts, pa) - 1)
    end = pa + size
    while i < len(phys) and phys[i][0] < end:
        lo, hi = max(pa, phys[i][0]), min(end, phys[i][0] + phys[i][1])
        if lo < hi:
            yield va + (lo - pa), hi - lo
        i += 1
