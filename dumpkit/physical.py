"""Physical address spaces of Windows kernel dumps: page runs, page bitmaps, page ranges.

Every space here maps a *physical* address to bytes of the dump file and raises
:class:`~dumpkit.errors.NotCapturedError` (``space="physical"``) for a page the dump does
not hold — never zeros.

* :func:`run_space` — complete dumps (DumpType 1) and RDMP range dumps: pages stored back to
  back in run order, so a :class:`~dumpkit.memory.SegmentSpace` does the lookup.
* :class:`BitmapSpace` — kernel / full bitmap dumps: bit *n* of the bitmap says whether PFN
  *n* is stored; the page of the *k*-th set bit is at ``first_page + k * 0x1000``
  (:class:`~dumpkit.bitmap.PageBitmap`: rank index built on the first read, so a
  header-only question never touches the bitmap).
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator

from dumpkit.bitmap import PageBitmap
from dumpkit.errors import NotCapturedError
from dumpkit.memory import AddressSpace, FileView, Segment, SegmentSpace

__all__ = ["PAGE_SIZE", "BitmapSpace", "page_of", "run_space"]

PAGE_SIZE = 0x1000


def page_of(space: AddressSpace, pfn: int) -> bytes:
    """The 4 KiB page with frame number ``pfn``."""
    return space.read(pfn * PAGE_SIZE, PAGE_SIZE)


def run_space(view: FileView, runs: Iterable[tuple[int, int]], first_offset: int, *,
              owns_view: bool = False) -> SegmentSpace:
    """A physical space over ``(base_pfn, num_pages)`` runs stored back to back from ``first_offset``.

    Each run is cut to what the file holds; pages past the end of the file read as not captured.
    """
    segments = []
    offset = first_offset
    for base, count in runs:
        size = count * PAGE_SIZE
        in_file = max(0, min(size, view.size - offset))
        segments.append(Segment(base * PAGE_SIZE, size, offset, in_file))
        offset += size
    return SegmentSpace(view, segments, name="physical", owns_view=owns_view)


class BitmapSpace(AddressSpace):
    """Physical memory of a bitmap dump: page of PFN *n* = ``first_page + rank(n) * 0x1000``."""

    name = "physical"

    def __init__(self, view: FileView, bitmap_offset: int, num_bits: int, first_page_offset: int,
                 *, expected_pages: int | None = None, owns_view: bool = False) -> None:
        self.view = view
        #: Stored pages according to the header (checked against the popcount by readers).
        self.expected_pages = expected_pages
        self.bitmap = PageBitmap(view, bitmap_offset, num_bits)
        self.first_page_offset = first_page_offset
        self._owns_view = owns_view

    @property
    def num_bits(self) -> int:
        """PFNs covered, cut to the bitmap bytes the file holds."""
        return self.bitmap.num_bits

    @property
    def bitmap_size(self) -> int:
        """Bytes of bitmap in use."""
        return self.bitmap.num_bytes

    @property
    def index_built(self) -> bool:
        return self.bitmap.index_built

    @property
    def present_pages(self) -> int:
        """Number of set bits (stored pages); builds the index."""
        return self.bitmap.total

    def has_page(self, pfn: int) -> bool:
        return self.bitmap.has(pfn)

    def page_offset(self, pfn: int) -> int | None:
        """File offset of page ``pfn``, or ``None`` when the page is not stored."""
        rank = self.bitmap.rank(pfn)
        return None if rank is None else self.first_page_offset + rank * PAGE_SIZE

    def read(self, address: int, size: int) -> bytes:
        chunks = []
        cursor, remaining = address, size
        while remaining > 0:
            pfn, within = divmod(cursor, PAGE_SIZE)
            take = min(remaining, PAGE_SIZE - within)
            offset = self.page_offset(pfn)
            if offset is None or offset + within + take > self.view.size:
                raise NotCapturedError(cursor, remaining, space=self.name)
            chunks.append(self.view.read(offset + within, take))
            cursor += take
            remaining -= take
        return b"".join(chunks)

    def ranges(self) -> Iterator[tuple[int, int]]:
        """Runs of stored pages (one step per run, never one per bit)."""
        for first, count in self.bitmap.runs():
            yield first * PAGE_SIZE, count * PAGE_SIZE

    def close(self) -> None:
        if self._owns_view:
            self.view.close()
