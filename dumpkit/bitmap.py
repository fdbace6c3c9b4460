"""Page bitmaps: one bit per page frame, LSB first, with a lazily built rank index.

Windows bitmap kernel dumps (``SDMP``/``FDMP``) and makedumpfile's kdump files both say
which pages they store with such a bitmap, and both store the pages in the order of the
set bits: the page (or page descriptor) of frame *n* is the *k*-th one, *k* being the
number of set bits before *n* — its rank.

:class:`PageBitmap` answers ``has(n)``, ``rank(n)`` and ``runs()`` by reading the bitmap
through ``read_upto(offset, size)`` (a :class:`~dumpkit.memory.FileView` or any view with
that method). The rank index (set bits before each 512-byte block, i.e. 4096 frames) is
built once, on the first ``rank`` or ``total`` question, with bytes-level popcounts: no
Python loop per page, and a question that reads no page never touches the bitmap.
"""
from __future__ import annotations

from array import array
from collections.abc import Iterator
from typing import Protocol

__all__ = ["BLOCK", "ByteSource", "PageBitmap"]

#: Bitmap bytes per rank-index entry (4096 frames, as makedumpfile indexes it).
BLOCK = 512
#: Bitmap bytes read at a time while building the index or finding runs.
READ_CHUNK = 1 << 20
#: Bitmap bytes looked at as one integer while finding runs.
RUN_PIECE = 4096
_ZEROS, _ONES = bytes(RUN_PIECE), b"\xff" * RUN_PIECE


class ByteSource(Protocol):
    """What a bitmap (or a page store) reads from."""

    path: str
    size: int

    def read_upto(self, offset: int, size: int) -> bytes: ...

    def close(self) -> None: ...


class PageBitmap:
    """``num_bits`` bits at file ``offset`` of ``source``; bit *n* set = frame *n* present."""

    def __init__(self, source: ByteSource, offset: int, num_bits: int) -> None:
        self.source = source
        self.offset = offset
        #: Frames covered, cut to the bitmap bytes the file holds.
        self.num_bits = max(0, min(num_bits, (source.size - offset) * 8))
        self._rank: array[int] | None = None
        self._total = 0

    @property
    def num_bytes(self) -> int:
        return (self.num_bits + 7) // 8

    @property
    def index_built(self) -> bool:
        return self._rank is not None

    def _index(self) -> array[int]:
        if self._rank is None:
            rank, total = array("Q"), 0
            nbytes = self.num_bytes
            for pos in range(0, nbytes, READ_CHUNK):
                data = self.source.read_upto(self.offset + pos, min(READ_CHUNK, nbytes - pos))
                for i in range(0, len(data), BLOCK):
                    rank.append(total)
                    total += int.from_bytes(data[i:i + BLOCK], "little").bit_count()
            tail = self.num_bits % 8
            if tail and nbytes:
                last = self.source.read_upto(self.offset + nbytes - 1, 1)
                if last:
                    total -= (last[0] >> tail).bit_count()  # bits past num_bits do not count
            self._rank, self._total = rank, total
        return self._rank

    @property
    def total(self) -> int:
        """Number of set bits (present frames); builds the index."""
        self._index()
        return self._total

    def has(self, n: int) -> bool:
        if n < 0 or n >= self.num_bits:
            return False
        byte = self.source.read_upto(self.offset + (n >> 3), 1)
        return bool(byte) and bool((byte[0] >> (n & 7)) & 1)

    def rank(self, n: int) -> int | None:
        """Set bits before bit ``n`` when bit ``n`` is set, else ``None``."""
        if not self.has(n):
            return None
        rank = self._index()
        block, within = divmod(n >> 3, BLOCK)
        if block >= len(rank):
            return None
        prefix = self.source.read_upto(self.offset + block * BLOCK, within + 1)
        if len(prefix) < within + 1:
            return None
        before = int.from_bytes(prefix[:within], "little").bit_count()
        before += (prefix[within] & ((1 << (n & 7)) - 1)).bit_count()
        return int(rank[block]) + before

    def runs(self) -> Iterator[tuple[int, int]]:
        """Maximal runs ``(first bit, count)`` of set bits, ascending.

        Empty and full 4 KiB pieces are taken whole; the others one big-integer step per
        run, never one step per bit.
        """
        run_start = run_end = -1
        for first, last in self._pieces():
            last = min(last, self.num_bits)
            if first >= last:
                continue
            if first == run_end:
                run_end = last
                continue
            if run_end > run_start >= 0:
                yield run_start, run_end - run_start
            run_start, run_end = first, last
        if run_end > run_start >= 0:
            yield run_start, run_end - run_start

    def _pieces(self) -> Iterator[tuple[int, int]]:
        """Runs in file order as ``(first, end)``, possibly touching each other."""
        nbytes = self.num_bytes
        for pos in range(0, nbytes, READ_CHUNK):
            want = min(READ_CHUNK, nbytes - pos)
            data = self.source.read_upto(self.offset + pos, want)
            for at in range(0, len(data), RUN_PIECE):
                piece = data[at:at + RUN_PIECE]
                bit = (pos + at) * 8
                if piece == _ZEROS[:len(piece)]:
                    continue
                if piece == _ONES[:len(piece)]:
                    yield bit, bit + 8 * len(piece)
                    continue
                bits = int.from_bytes(piece, "little")
                while bits:
                    zeros = (bits & -bits).bit_length() - 1
                    bits >>= zeros
                    bit += zeros
                    ones = (bits ^ (bits + 1)).bit_length() - 1
                    bits >>= ones
                    yield bit, bit + ones
                    bit += ones
            if len(data) < want:
                return  # the file ends inside the bitmap
