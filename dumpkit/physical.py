"""Physical address spaces of Windows kernel dumps: page runs, page bitmaps, page ranges.

Every space here maps a *physical* address to bytes of the dump file and raises
:class:`~dumpkit.errors.NotCapturedError` (``space="physical"``) for a page the dump does
not hold — never zeros.

* :func:`run_space` — complete dumps (DumpType 1) and RDMP range dumps: pages stored back to
  back in run order, so a :class:`~dumpkit.memory.SegmentSpace` does the lookup.
* :class:`BitmapSpace` — kernel / full bitmap dumps: bit *n* of the bitmap says whether PFN
  *n* is stored; the page of the *k*-th set bit is at ``first_page + k * 0x1000``. The rank
  index (set bits before each block of the bitmap) is built once, on the first read, with
  bytes-level popcounts: a header-only question never touches the bitmap.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator

from dumpkit.errors import NotCapturedError
from dumpkit.memory import AddressSpace, FileView, Segment, SegmentSpace

__all__ = ["PAGE_SIZE", "BitmapSpace", "page_of", "run_space"]

PAGE_SIZE = 0x1000
#: Bitmap bytes per rank-index entry (4096 pages per entry).
_BLOCK = 512


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
    """Physical memory of a bitmap dump, with a lazily built rank index over the bitmap."""

    name = "physical"

    def __init__(self, view: FileView, bitmap_offset: int, num_bits: int, first_page_offset: int,
                 *, expected_pages: int | None = None, owns_view: bool = False) -> None:
        self.view = view
        #: Stored pages according to the header (checked against the popcount by readers).
        self.expected_pages = expected_pages
        self.bitmap_offset = bitmap_offset
        #: PFNs covered, cut to the bitmap bytes the file holds.
        self.num_bits = max(0, min(num_bits, (view.size - bitmap_offset) * 8))
        self.first_page_offset = first_page_offset
        self._owns_view = owns_view
        self._rank: array[int] | None = None
        self._total = 0

    @property
    def bitmap_size(self) -> int:
        """Bytes of bitmap in use."""
        return (self.num_bits + 7) // 8

    @property
    def index_built(self) -> bool:
        return self._rank is not None

    def _index(self) -> array[int]:
        """Set bits before each 512-byte block of the bitmap (built once, no per-page loop)."""
        if self._rank is None:
            rank = array("Q")
            total = 0
            mm = self.view.buffer
            start, end = self.bitmap_offset, self.bitmap_offset + self.bitmap_size
            for pos in range(start, end, _BLOCK):
                rank.append(total)
                total += int.from_bytes(mm[pos:min(end, pos + _BLOCK)], "little").bit_count()
            # the last byte may hold bits past num_bits: they do not count
            tail = self.num_bits % 8
            if tail and end > start:
                total -= (mm[end - 1] >> tail).bit_count()
            self._rank, self._total = rank, total
        return self._rank

    @property
    def present_pages(self) -> int:
        """Number of set bits (stored pages); builds the index."""
        self._index()
        return self._total

    def has_page(self, pfn: int) -> bool:
        if pfn < 0 or pfn >= self.num_bits:
            return False
        byte = self.view.buffer[self.bitmap_offset + (pfn >> 3)]
        return bool((byte >> (pfn & 7)) & 1)

    def page_offset(self, pfn: int) -> int | None:
        """File offset of page ``pfn``, or ``None`` when the page is not stored."""
        if not self.has_page(pfn):
            return None
        rank = self._index()
        block, byte_index = divmod(pfn >> 3, _BLOCK)
        base = self.bitmap_offset + block * _BLOCK
        mm = self.view.buffer
        before = rank[block] + int.from_bytes(mm[base:base + byte_index], "little").bit_count()
        before += (mm[base + byte_index] & ((1 << (pfn & 7)) - 1)).bit_count()
        return self.first_page_offset + before * PAGE_SIZE

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
        """Runs of stored pages, found with big-integer bit tricks (one step per run, no bit loop)."""
        mm = self.view.buffer
        start = self.bitmap_offset
        end = start + self.bitmap_size
        run_start = run_end = -1
        for pos in range(start, end, _BLOCK):
            bits = int.from_bytes(mm[pos:min(end, pos + _BLOCK)], "little")
            pfn = (pos - start) * 8
            while bits:
                low = (bits & -bits).bit_length() - 1  # zeros before the next run
                bits >>= low
                pfn += low
                ones = (bits ^ (bits + 1)).bit_length() - 1  # length of the run
                bits >>= ones
                first, last = pfn, min(pfn + ones, self.num_bits)
                pfn += ones
                if first >= last:
                    continue
                if first == run_end:
                    run_end = last
                    continue
                if run_end > run_start >= 0:
                    yield run_start * PAGE_SIZE, (run_end - run_start) * PAGE_SIZE
                run_start, run_end = first, last
        if run_end > run_start >= 0:
            yield run_start * PAGE_SIZE, (run_end - run_start) * PAGE_SIZE

    def close(self) -> None:
        if self._owns_view:
            self.view.close()
