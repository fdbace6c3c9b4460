"""makedumpfile's flattened stream (``makedumpfile -F``) read as the file it stands for.

A flattened file is a 4096-byte header then records ``{offset, size}`` (big-endian i64)
each followed by ``size`` bytes that belong at ``offset`` of the reassembled file
(docs/formats.md 6.6). :func:`index_flattened` walks the record headers once, seeking past the
data (never loading it), and returns a :class:`FlatView`: the reassembled file served
through that index, with the same read interface as :class:`~dumpkit.memory.FileView`
(``read``, ``read_upto``, ``size``, ``path``, ``close``, ``stream``), so the generated
parsers and the ELF reader can read it. No temporary copy is made.

Bytes of the reassembled file that no record covers read as zeros (the holes of the
sparse file ``makedumpfile -R`` would write). Where records overlap, the later record's
bytes win (a later write of the same offset).
"""
from __future__ import annotations

import heapq
import io
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from kaitaistruct import KaitaiStream

from dumpkit.errors import DumpIOError, DumpParseError
from dumpkit.formats.kdump_compressed import KdumpCompressed
from dumpkit.memory import FileView
from dumpkit.readers.kaitai import guard

__all__ = ["FLAT_HEADER_SIZE", "MAX_FLAT_RECORDS", "FlatView", "index_flattened"]

FLAT_HEADER_SIZE = 4096
RECORD_HEADER_SIZE = 16
#: makedumpfile -F writes one record per 64 KiB buffer (page size << block order 4), so this
#: covers about 128 GiB of stored dump; past it, reassemble with ``makedumpfile -R``.
MAX_FLAT_RECORDS = 1 << 21
#: A reassembled file claiming more than this (1 PiB) is a broken record, not a dump.
MAX_TARGET_END = 1 << 50
#: Holes inside a structure makedumpfile writes whole (the bitmaps) are at most this big.
MAX_HOLE = 1 << 16


@dataclass(slots=True)
class FlatIndex:
    """Disjoint pieces of the reassembled file, sorted by target offset."""

    starts: array[int] = field(default_factory=lambda: array("q"))
    ends: array[int] = field(default_factory=lambda: array("q"))
    file_pos: array[int] = field(default_factory=lambda: array("q"))
    num_records: int = 0
    end_marker: bool = False
    problems: list[tuple[str, str, int]] = field(default_factory=list)  # (code, message, offset)


class FlatView:
    """The reassembled file of a flattened stream, read through its record index."""

    def __init__(self, view: FileView, index: FlatIndex) -> None:
        self.view = view
        self.path = view.path
        self.index = index
        self.size = index.ends[-1] if len(index.ends) else 0

    def read_upto(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` of the reassembled file (fewer at its end)."""
        if offset < 0 or size <= 0 or offset >= self.size:
            return b""
        end = min(self.size, offset + size)
        out = bytearray()
        starts, ends, fpos = self.index.starts, self.index.ends, self.index.file_pos
        i = max(0, bisect_right(starts, offset) - 1)
        cursor = offset
        while cursor < end:
            if i < len(starts) and starts[i] <= cursor < ends[i]:
                take = min(end, ends[i]) - cursor
                out += self.view.read_upto(fpos[i] + (cursor - starts[i]), take)
                cursor += take
                i += 1
                continue
            if i < len(starts) and ends[i] <= cursor:
                i += 1
                continue
            hole_end = min(end, starts[i]) if i < len(starts) else end
            out += bytes(hole_end - cursor)  # a hole of the sparse reassembled file
            cursor = hole_end
        return bytes(out)

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or :class:`DumpIOError` past the end."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise DumpIOError(f"read of {size:#x} bytes past the end of the reassembled file "
                              f"({self.size:#x} bytes)", path=self.path, offset=offset, code="truncated")
        return self.read_upto(offset, size)

    def contiguous_end(self, offset: int, max_gap: int = MAX_HOLE) -> int:
        """End of the data from ``offset`` on, crossing holes of at most ``max_gap`` bytes.

        A structure that must be stored (a bitmap) is not read past this point: a broken
        record far away would otherwise make a huge hole look like part of it.
        """
        starts, ends = self.index.starts, self.index.ends
        i = bisect_right(starts, offset) - 1
        if i < 0 or ends[i] <= offset:
            i += 1
            if i >= len(starts) or starts[i] - offset > max_gap:
                return offset
        end = ends[i]
        for j in range(i + 1, len(starts)):
            if starts[j] - end > max_gap:
                break
            end = ends[j]
        return max(end, offset)

    def stream(self) -> io.RawIOBase:
        """A seekable file object over the reassembled file at offset 0 (as ``FileView.stream``)."""
        return _FlatRaw(self)

    def close(self) -> None:
        self.view.close()


class _FlatRaw(io.RawIOBase):
    """A seekable, read-only file object over a :class:`FlatView`."""

    def __init__(self, flat: FlatView) -> None:
        super().__init__()
        self._flat = flat
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._flat.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self._flat.read_upto(self._pos, len(buffer))
        n = len(data)
        memoryview(buffer)[:n] = data
        self._pos += n
        return n


def index_flattened(view: FileView) -> FlatView:
    """Index the records of the flattened file in ``view`` (one pass over record headers).

    Raises :class:`DumpParseError` for a bad file header or a stream with no usable record;
    later problems (a truncated stream, a bad record) end the walk and are kept in
    ``FlatView.index.problems`` for the reader to report.
    """
    with guard(view.path, "flattened header", 0):
        KdumpCompressed.FlatHeader(KaitaiStream(io.BytesIO(view.read(0, 32))))
    index = FlatIndex()
    with guard(view.path, "flattened record header", FLAT_HEADER_SIZE):  # 16 bytes always parse
        targets, sizes, data_at = _walk(view, index)
    index.num_records = len(targets)
    if not targets:
        raise DumpParseError("the flattened stream holds no data record", path=view.path,
                             structure="flattened record", offset=FLAT_HEADER_SIZE, code="truncated")
    _build(index, targets, sizes, data_at)
    return FlatView(view, index)


def _walk(view: FileView, index: FlatIndex) -> tuple[array[int], array[int], array[int]]:
    """(target offset, size, file position of the data) of each record, in stream order."""
    targets, sizes, data_at = array("q"), array("q"), array("q")
    stream = KaitaiStream(view.stream())  # one stream for every record header: no copy per record
    pos = FLAT_HEADER_SIZE
    problem: tuple[str, str, int] | None = None
    while problem is None:
        if len(targets) >= MAX_FLAT_RECORDS:
            problem = ("too_many_flat_records", f"more than {MAX_FLAT_RECORDS} flattened records; the "
                       "rest are ignored (reassemble the file with makedumpfile -R)", pos)
            break
        if pos + RECORD_HEADER_SIZE > view.size:
            problem = ("flat_stream_truncated", "the flattened stream ends without its end record", pos)
            break
        stream.seek(pos)
        rec = KdumpCompressed.FlatRecordHeader(stream)
        target, size = rec.ofs_target, rec.len_data
        if rec.is_end:
            index.end_marker = True
            break
        first = pos + RECORD_HEADER_SIZE
        if target < 0 or size <= 0 or target + size > MAX_TARGET_END:
            problem = ("bad_flat_record", f"flattened record with offset {target} and size {size}: the "
                       "rest of the stream is ignored", pos)
            break
        if first + size > view.size:
            problem = ("flat_stream_truncated", f"flattened record of {size:#x} bytes is cut by the end "
                       "of the file; its bytes that are present are kept", pos)
            size = view.size - first
            if size <= 0:
                break
        targets.append(target)
        sizes.append(size)
        data_at.append(first)
        pos = first + size
    if problem is not None:
        index.problems.append(problem)
    return targets, sizes, data_at


def _build(index: FlatIndex, targets: array[int], sizes: array[int], data_at: array[int]) -> None:
    """Fill the disjoint, sorted pieces of ``index`` from the records (in stream order)."""
    ordered = sorted(range(len(targets)), key=targets.__getitem__)
    overlaps = any(targets[a] + sizes[a] > targets[b] for a, b in pairwise(ordered))
    if not overlaps:  # the usual case: makedumpfile writes every byte once
        for i in ordered:
            index.starts.append(targets[i])
            index.ends.append(targets[i] + sizes[i])
            index.file_pos.append(data_at[i])
        return
    # Overlaps: sweep the record boundaries; on each stretch between two boundaries the
    # latest record covering it wins (a heap of record numbers, O(n log n) whatever the file).
    points = sorted(set(targets) | {t + n for t, n in zip(targets, sizes, strict=True)})
    heap: list[int] = []  # -record number, so the latest record is on top
    last_owner = -1
    nxt = 0
    for k, point in enumerate(points[:-1]):
        while nxt < len(ordered) and targets[ordered[nxt]] == point:
            heapq.heappush(heap, -ordered[nxt])
            nxt += 1
        while heap and targets[-heap[0]] + sizes[-heap[0]] <= point:
            heapq.heappop(heap)  # the latest record ended; an older one may still cover
        if not heap:
            continue
        owner = -heap[0]
        if owner == last_owner and index.ends[-1] == point:
            index.ends[-1] = points[k + 1]
        else:
            index.starts.append(point)
            index.ends.append(points[k + 1])
            index.file_pos.append(data_at[owner] + (point - targets[owner]))
            last_owner = owner
