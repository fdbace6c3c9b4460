"""The physical address space of a kernel dump, chosen by DumpType (docs/formats.md 2.3-2.7).

Header facts only are read here; for bitmap dumps the bitmap itself is left to
:class:`~dumpkit.physical.BitmapSpace`, which indexes it on first use.
"""
from __future__ import annotations

from typing import Any

from dumpkit.errors import DumpkitError
from dumpkit.formats.windows_crashdump import WindowsCrashdump
from dumpkit.memory import AddressSpace, FileView
from dumpkit.model import Dump
from dumpkit.physical import PAGE_SIZE, BitmapSpace, run_space
from dumpkit.readers.kaitai import PARSE_ERRORS

__all__ = ["bitmap_checks", "physical_for"]

DT = WindowsCrashdump.DumpType
_BITMAP_TYPES = {DT.summary.value, DT.bitmap_full.value, DT.bitmap_kernel.value, DT.automatic.value}
_RANGE_TYPES = {DT.kernel_range.value, DT.kernel_and_user_range.value, DT.complete_range.value}
_MAX_PFN_BITS = 1 << 40  # 4 EiB of RAM: anything above is garbage


def physical_for(dump: Dump, view: FileView, root: Any, hdr: Any, dump_type: int) -> AddressSpace | None:
    """The physical space owning ``view``, or None (header-only or unreadable; a diagnostic says why)."""
    try:
        if dump_type == DT.full.value:
            return _runs(dump, view, hdr, root.len_header)
        if dump_type in _BITMAP_TYPES:
            return _bitmap(dump, view, root)
        if dump_type in _RANGE_TYPES:
            return _ranges(dump, view, root, dump_type)
    except DumpkitError as exc:
        dump.diag("physical_memory", exc.message, structure=exc.structure)
        return None
    except PARSE_ERRORS as exc:
        dump.diag("physical_memory", f"malformed page-data header: {exc}"[:300], structure="page data",
                  offset=root.len_header)
        return None
    if dump_type != DT.header.value:
        dump.diag("unknown_dump_type", f"DumpType {dump_type:#x}: no page data read", structure="DumpType")
    return None


def _check_size(dump: Dump, view: FileView, first: int, pages: int, what: str) -> None:
    need = first + pages * PAGE_SIZE
    if need > view.size:
        dump.diag("page_data_truncated", f"{what} claims {pages} pages ({need:#x} bytes with the header) "
                  f"but the file has {view.size:#x} bytes; missing pages read as not captured",
                  structure=what, offset=first)


def _runs(dump: Dump, view: FileView, hdr: Any, first: int) -> AddressSpace | None:
    pmd = hdr.physical_memory_block
    runs = pmd.runs
    if runs is None:
        dump.diag("physical_memory_block", f"NumberOfRuns {pmd.num_runs:#x} does not fit the descriptor",
                  structure="PhysicalMemoryBlock")
        return None
    pairs = [(r.base_page, r.num_pages) for r in runs]
    total = sum(n for _, n in pairs)
    if total != pmd.num_pages:
        dump.diag("physical_memory_block", f"runs hold {total} pages, NumberOfPages says {pmd.num_pages}",
                  structure="PhysicalMemoryBlock")
    _check_size(dump, view, first, total, "PhysicalMemoryBlock")
    dump.source.details["physical_pages"] = total
    return run_space(view, pairs, first, owns_view=True)


def _bitmap(dump: Dump, view: FileView, root: Any) -> AddressSpace | None:
    try:
        bh = root.bitmap_header
    except PARSE_ERRORS as exc:
        legacy = _legacy_bitmap(dump, view, root)
        if legacy is not None:
            return legacy
        dump.diag("bitmap_header", f"no SDMP/FDMP header at {root.len_header:#x}: {exc}"[:300],
                  structure="BitmapHeader", offset=root.len_header)
        return None
    ofs_bitmap = root.ofs_bitmap
    num_bits = bh.num_bits
    if not 0 < num_bits <= _MAX_PFN_BITS:
        dump.diag("bitmap_header", f"bitmap size {num_bits:#x} bits is implausible", structure="BitmapHeader")
        return None
    end_bitmap = ofs_bitmap + root.len_bitmap
    if end_bitmap > view.size:
        dump.diag("bitmap_truncated", f"the bitmap ends at {end_bitmap:#x}, past the end of the file "
                  f"({view.size:#x}); it is cut to the file", structure="BitmapHeader", offset=ofs_bitmap)
    if bh.ofs_first_page < min(end_bitmap, view.size):
        dump.diag("bitmap_header", f"first page offset {bh.ofs_first_page:#x} overlaps the bitmap",
                  structure="BitmapHeader")
        return None
    _check_size(dump, view, bh.ofs_first_page, bh.num_present_pages, "BitmapHeader")
    d = dump.source.details
    d.update(bitmap_signature=bh.magic, bitmap_offset=ofs_bitmap, bitmap_size=(num_bits + 7) // 8,
             bitmap_pages=bh.num_present_pages, first_page_offset=bh.ofs_first_page)
    return BitmapSpace(view, ofs_bitmap, num_bits, bh.ofs_first_page,
                       expected_pages=bh.num_present_pages, owns_view=True)


def _legacy_bitmap(dump: Dump, view: FileView, root: Any) -> AddressSpace | None:
    """XP-era 32-bit SUMMARY_DUMP (unverified layout), accepted only when self-consistent."""
    if root.is_64:
        return None
    try:
        lh = root.summary_header32_legacy
    except PARSE_ERRORS:
        return None
    ofs_bitmap = 0x1000 + 0x20
    if not 0 < lh.num_bits <= _MAX_PFN_BITS or lh.ofs_first_page < ofs_bitmap + (lh.num_bits + 7) // 8:
        return None
    dump.diag("legacy_summary_header", "read the XP-era 32-bit summary header (unverified layout)",
              severity="info", structure="SUMMARY_DUMP32")
    _check_size(dump, view, lh.ofs_first_page, lh.num_present_pages, "SUMMARY_DUMP32")
    return BitmapSpace(view, ofs_bitmap, lh.num_bits, lh.ofs_first_page,
                       expected_pages=lh.num_present_pages, owns_view=True)


def _ranges(dump: Dump, view: FileView, root: Any, dump_type: int) -> AddressSpace | None:
    rh = root.rdmp_header
    if rh is None:
        dump.diag("rdmp_header", "range dumps need a 64-bit header", structure="RDMP")
        return None
    pairs: list[tuple[int, int]] = []
    if dump_type == DT.complete_range.value:
        info = root.rdmp_full_info
        total, remaining = info.total_num_pages, info.total_num_pages
        for r in rh.ranges:
            if remaining <= 0 or r.num_pages == 0:
                break
            take = min(r.num_pages, remaining)
            pairs.append((r.base_page, take))
            remaining -= take
        if remaining > 0:
            dump.diag("rdmp_ranges", f"ranges hold {total - remaining} of {total} pages", structure="RDMP")
    else:
        pairs = [(r.base_page, r.num_pages) for r in rh.ranges if r.base_page != 0]
    if rh.len_metadata - 0x20 != rh.ofs_first_page - 0x2040:
        dump.diag("rdmp_header", "MetadataSize and FirstPageOffset disagree", structure="RDMP")
    _check_size(dump, view, rh.ofs_first_page, sum(n for _, n in pairs), "RDMP")
    dump.source.details["first_page_offset"] = rh.ofs_first_page
    return run_space(view, pairs, rh.ofs_first_page, owns_view=True)


def bitmap_checks(dump: Dump, physical: AddressSpace) -> None:
    """Once the bitmap has been indexed: does its popcount match the header's page count?"""
    if not isinstance(physical, BitmapSpace) or not physical.index_built:
        return
    expected = physical.expected_pages
    if expected is not None and physical.present_pages != expected:
        dump.diag("bitmap_count", f"the bitmap has {physical.present_pages} set bits, the header says "
                  f"{expected} pages", structure="BitmapHeader")
