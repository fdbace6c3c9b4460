"""makedumpfile's flattened stream (``makedumpfile -F``) read as the file it stands for.

A flattened file is a 4096-byte header then records ``{offset, size}`` (big-endian i64)
each followed by ``size`` bytes that belong at ``offset`` of the reassembled file
(FORMATS.md 6.6). :func:`index_flattened` walks the record headers once, seeking past the
data (never loading it), and returns a :class:`FlatView`: the reassembled file served
through that index, with the same read interface as :class:`~dumpkit.memory.FileView`
(``read``, ``read_upto``, ``size``, ``path``, ``close``) and a seekable stream for the
generated parser. No temporary copy is made.

Bytes of the reassembled file that no record covers read as zeros (the holes of the
sparse file ``makedumpfile -R`` would write). Where records overlap, the later record's
bytes win (a later write of the same offset).
"""
from __future__ import annotations

import io
from array import array
from bisect import bisect_right
from dataclasses import dataclass, field
from itertools import pairwise

from kaitaistruct import KaitaiStream

from dumpkit.errors import DumpIOError, DumpkitError, DumpParseError
from dumpkit.formats.kdump_compressed import KdumpCompressed
from dumpkit.memory import FileView
from dumpkit.readers.kaitai import guard

__all__ = ["FLAT_HEADER_SIZE", "MAX_FLAT_RECORDS", "FlatView", "index_flattened"]

FLAT_HEADER_SIZE = 4096
RECORD_HEADER_SIZE = 16
#: More records than makedumpfile writes for a multi-terabyte dump (it flushes big buffers).
MAX_FLAT_RECORDS = 1 << 22
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

    def stream(self) -> KaitaiStream:
        """A Kaitai stream over the reassembled file."""
        return KaitaiStream(_FlatRaw(self))

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
    records: list[tuple[int, int, int]] = []  # (target offset, size, file position of data)
    pos = FLAT_HEADER_SIZE
    while True:
        if len(records) >= MAX_FLAT_RECORDS:
            index.problems.append(("too_many_flat_records", f"more than {MAX_FLAT_RECORDS} flattened "
                                   "records; the rest are ignored", pos))
            break
        raw = view.read_upto(pos, RECORD_HEADER_SIZE)
        if len(raw) < RECORD_HEADER_SIZE:
            index.problems.append(("flat_stream_truncated",
                                   "the flattened stream ends without its end record", pos))
            break
        try:
            with guard(view.path, "flattened record header", pos):
                rec = KdumpCompressed.FlatRecordHeader(KaitaiStream(io.BytesIO(raw)))
                target, size, is_end = rec.ofs_target, rec.len_data, rec.is_end
        except DumpkitError as exc:  # pragma: no cover - 16 bytes always parse
            index.problems.append(("bad_flat_record", exc.message, pos))
            break
        if is_end:
            index.end_marker = True
            break
        data_pos = pos + RECORD_HEADER_SIZE
        if target < 0 or size <= 0 or target + size > MAX_TARGET_END:
            index.problems.append(("bad_flat_record", f"flattened record with offset {target} and size "
                                   f"{size}: the rest of the stream is ignored", pos))
            break
        if data_pos + size > view.size:
            index.problems.append(("flat_stream_truncated", f"flattened record of {size:#x} bytes is cut "
                                   "by the end of the file; its bytes that are present are kept", pos))
            if view.size > data_pos:
                records.append((target, view.size - data_pos, data_pos))
            break
        records.append((target, size, data_pos))
        pos = data_pos + size
    index.num_records = len(records)
    if not records:
        raise DumpParseError("the flattened stream holds no data record", path=view.path,
                             structure="flattened record", offset=FLAT_HEADER_SIZE, code="truncated")
    _build(index, records)
    return FlatView(view, index)


def _build(index: FlatIndex, records: list[tuple[int, int, int]]) -> None:
    """Fill the disjoint, sorted pieces of ``index`` from the records in stream order."""
    ordered = sorted(range(len(records)), key=lambda i: records[i][0])
    overlaps = any(records[a][0] + records[a][1] > records[b][0]
                   for a, b in pairwise(ordered))
    if not overlaps:  # the usual case: makedumpfile writes every byte once
        for i in ordered:
            target, size, fpos = records[i]
            index.starts.append(target)
            index.ends.append(target + size)
            index.file_pos.append(fpos)
        return
    # Paint from the last record back: each record fills only what later ones left free.
    pieces: list[tuple[int, int, int]] = []  # disjoint (start, end, file pos), kept sorted
    for target, size, fpos in reversed(records):
        cursor, end = target, target + size
        i = bisect_right(pieces, (cursor, 2**63, 0)) - 1
        if i >= 0 and pieces[i][1] > cursor:
            cursor = pieces[i][1]
        i += 1
        new = []
        while cursor < end:
            next_start = pieces[i][0] if i < len(pieces) else end
            if cursor < next_start:
                stop = min(end, next_start)
                new.append((cursor, stop, fpos + (cursor - target)))
                cursor = stop
            if i < len(pieces) and cursor >= pieces[i][0]:
                cursor = max(cursor, pieces[i][1])
                i += 1
        for piece in new:
            pieces.insert(bisect_right(pieces, piece), piece)
    for start, end, fpos in pieces:
        index.starts.append(start)
        index.ends.append(end)
        index.file_pos.append(fpos)
