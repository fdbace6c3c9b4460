"""Address spaces: from a target address to bytes of the dump file, without reading it whole.

* :class:`FileView` is the dump file, memory-mapped read-only: ``read(offset, n)`` copies
  only the ``n`` bytes asked for.
* :class:`SegmentSpace` maps an address space made of captured segments (minidump memory
  lists, ELF ``PT_LOAD`` segments, kernel-dump physical runs) onto the file, looking
  segments up with ``bisect``. Overlapping segments are resolved once, first one wins.
  A segment may be shorter in the file than in the target (``file_size < size``, an ELF
  ``p_filesz < p_memsz``): the tail is reported as not captured, never as zeros.

Errors: :class:`~dumpkit.errors.NotCapturedError` for an address outside the captured
memory, :class:`~dumpkit.errors.DumpIOError` for a file shorter than its headers claim.
"""
from __future__ import annotations

import io
import mmap
import os
import struct
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from operator import attrgetter
from typing import Literal, NamedTuple

from dumpkit.errors import DumpIOError, DumpkitError, NotCapturedError

__all__ = ["MAX_READ", "AddressSpace", "FileView", "MemoryFile", "Segment", "SegmentSpace"]

#: The most one :class:`MemoryFile` read returns (a hostile length field cannot make us allocate more).
MAX_READ = 1 << 20
_WINDOW = 4096  # MemoryFile's read-ahead: pyelftools reads a few bytes at a time


class FileView:
    """A read-only, memory-mapped view of a dump file."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = os.fspath(path)
        try:
            fd = os.open(self.path, os.O_RDONLY)  # no buffered file object: only the map is used
            try:
                self.size = os.fstat(fd).st_size
                self._mm: mmap.mmap | None = mmap.mmap(fd, 0, access=mmap.ACCESS_READ) if self.size else None
            finally:
                os.close(fd)
        except OSError as exc:
            raise DumpIOError(f"cannot open: {exc.strerror or exc}", path=self.path) from exc

    @property
    def buffer(self) -> mmap.mmap | bytes:
        """The mapping itself (``b""`` for an empty file): slice it to copy bytes out."""
        return self._mm if self._mm is not None else b""

    def stream(self) -> mmap.mmap | io.BytesIO:
        """The mapping as a file-like object at offset 0, for parsers that read a stream.

        The mapping is shared and keeps one position, so every call rewinds it.
        """
        if self._mm is None:
            return io.BytesIO(b"")
        self._mm.seek(0)
        return self._mm

    def read(self, offset: int, size: int) -> bytes:
        """Exactly ``size`` bytes at ``offset``, or :class:`DumpIOError` if the file is shorter."""
        if offset < 0 or size < 0 or offset + size > self.size:
            raise DumpIOError(f"read of {size:#x} bytes past the end of the file ({self.size:#x} bytes)",
                              path=self.path, offset=offset, code="truncated")
        if self._mm is None:
            return b""
        return self._mm[offset:offset + size]

    def read_upto(self, offset: int, size: int) -> bytes:
        """Up to ``size`` bytes at ``offset`` (fewer at the end of the file)."""
        if self._mm is None or offset >= self.size or offset < 0:
            return b""
        return self._mm[offset:min(self.size, offset + size)]

    def close(self) -> None:
        if self._mm is not None:
            self._mm.close()
            self._mm = None


class Segment(NamedTuple):
    """``size`` target bytes from ``start``; the first ``file_size`` of them are in the file.

    A named tuple (immutable, and about twice as cheap to make as a frozen dataclass: a core
    can have 65,535 segments).
    """

    start: int
    size: int
    file_offset: int
    file_size: int

    @property
    def end(self) -> int:
        return self.start + self.size


_start_of = attrgetter("start")


class AddressSpace:
    """Interface of every address space: read bytes at a target address."""

    name = "virtual"

    def read(self, address: int, size: int) -> bytes:  # pragma: no cover - interface
        raise NotImplementedError

    def ranges(self) -> Iterator[tuple[int, int]]:  # pragma: no cover - interface
        """Captured ``(start, size)`` ranges in ascending order."""
        raise NotImplementedError

    @property
    def summary_space(self) -> AddressSpace:
        """The space whose ``ranges()`` cheaply describe what was captured.

        A translation layer (virtual over physical) returns its physical layer, so that a
        summary never walks every page table.
        """
        return self

    def is_captured(self, address: int, size: int = 1) -> bool:
        try:
            self.read(address, size)
        except NotCapturedError:
            return False
        return True

    def read_or_none(self, address: int, size: int) -> bytes | None:
        """:meth:`read`, or ``None`` where it would raise (callers that probe, like the unwinder)."""
        try:
            return self.read(address, size)
        except DumpkitError:
            return None

    def read_uint(self, address: int, width: int, byteorder: Literal["little", "big"] = "little") -> int:
        return int.from_bytes(self.read(address, width), byteorder)

    def read_pointers(self, address: int, count: int, width: int = 8,
                      byteorder: Literal["little", "big"] = "little") -> tuple[int, ...]:
        fmt = ("<" if byteorder == "little" else ">") + ("Q" if width == 8 else "I") * count
        values: tuple[int, ...] = struct.unpack(fmt, self.read(address, width * count))
        return values

    def close(self) -> None:
        """Release the file (only the space that owns the :class:`FileView` closes it)."""


class SegmentSpace(AddressSpace):
    """An address space made of file-backed segments, looked up with ``bisect``."""

    def __init__(self, view: FileView, segments: Iterable[Segment], *, name: str = "virtual",
                 owns_view: bool = True) -> None:
        self.view = view
        self.name = name
        self._owns_view = owns_view
        self.segments = self._disjoint(segments)
        self._starts = [s.start for s in self.segments]

    @staticmethod
    def _disjoint(segments: Iterable[Segment]) -> list[Segment]:
        """Sort by start and trim overlaps (the segment listed first keeps the bytes)."""
        out: list[Segment] = []
        append = out.append
        covered_to = -1
        for seg in sorted(segments, key=_start_of):
            start, size, file_offset, file_size = seg
            if size <= 0:
                continue
            end = start + size
            if end <= covered_to:
                continue
            if start < covered_to:
                cut = covered_to - start
                seg = Segment(covered_to, size - cut, file_offset + cut, max(0, file_size - cut))
            append(seg)
            covered_to = end
        return out

    def find(self, address: int) -> Segment | None:
        i = bisect_right(self._starts, address) - 1
        if i >= 0 and address < self.segments[i].end:
            return self.segments[i]
        return None

    def read(self, address: int, size: int) -> bytes:
        data = self._gather(address, size)
        if isinstance(data, bytes):
            return data
        raise NotCapturedError(*data, space=self.name)

    def read_or_none(self, address: int, size: int) -> bytes | None:
        data = self._gather(address, size)  # no exception built for a miss: the unwinder probes a lot
        return data if isinstance(data, bytes) else None

    def _gather(self, address: int, size: int) -> bytes | tuple[int, int]:
        """The bytes, or ``(address, size)`` of the first part that is not captured."""
        chunks = []
        cursor, remaining = address, size
        while remaining > 0:
            seg = self.find(cursor)
            if seg is None:
                return cursor, remaining
            rel = cursor - seg.start
            in_file = seg.file_size - rel
            if in_file <= 0:
                return cursor, remaining
            take = min(remaining, seg.end - cursor, in_file)
            data = self.view.read_upto(seg.file_offset + rel, take)
            if len(data) < take:  # file truncated inside the segment
                return cursor + len(data), remaining - len(data)
            chunks.append(data)
            cursor += take
            remaining -= take
        return b"".join(chunks)

    def ranges(self) -> Iterator[tuple[int, int]]:
        file_size = self.view.size
        for start, size, file_offset, in_file in self.segments:
            captured = size if size < in_file else in_file
            left = file_size - file_offset  # bytes of the file from the segment's offset
            if left < captured:
                captured = left
            if captured > 0:
                yield start, captured

    def close(self) -> None:
        if self._owns_view:
            self.view.close()


class MemoryFile(io.RawIOBase):
    """A read-only file over ``size`` bytes of target memory from ``base``.

    Bytes that were not captured end a read early (like EOF), so a parser sees a short
    file instead of invented zeros. Reads are clamped to :data:`MAX_READ` so a hostile
    length field cannot make us allocate much. Small reads are served from a window of up
    to :data:`_WINDOW` captured bytes read ahead (pyelftools reads field by field); a window
    ends early only where the capture does, so a read past it gives the same bytes.
    """

    def __init__(self, space: AddressSpace, base: int, size: int) -> None:
        super().__init__()
        self.space, self.base, self.size = space, base, size
        self.pos = 0
        self._window_at = 0
        self._window = b""

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_SET:
            self.pos = offset
        elif whence == io.SEEK_CUR:
            self.pos += offset
        else:
            self.pos = self.size + offset
        self.pos = max(0, self.pos)
        return self.pos

    def tell(self) -> int:
        return self.pos

    def read(self, size: int | None = -1) -> bytes:
        pos = self.pos
        want = self.size - pos if size is None or size < 0 else size
        want = max(0, min(want, self.size - pos, MAX_READ))
        if want == 0:
            return b""
        at = self._window_at
        if at <= pos and pos + want <= at + len(self._window):
            data = self._window[pos - at:pos + want - at]
        elif want < _WINDOW:
            self._window_at, self._window = pos, self._captured(pos, min(_WINDOW, self.size - pos))
            data = self._window[:want]
        else:
            data = self._captured(pos, want)
        self.pos = pos + len(data)
        return data

    def _captured(self, pos: int, want: int) -> bytes:
        """The ``want`` bytes at ``pos``, or those before the first byte not captured."""
        address = self.base + pos
        try:
            return self.space.read(address, want)
        except NotCapturedError as exc:
            got = max(0, exc.address - address)
            try:
                return self.space.read(address, got) if got else b""
            except DumpkitError:
                return b""

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)
