"""What the unwinder reads: the thread's stack, and code bytes, through the dump's AddressSpace.

:class:`StackMemory` is one captured range around the stack pointer (the thread's recorded
stack when it holds sp, else the captured range that does, found page by page), read in
chunks on demand and cached, so a walk costs the stack pages it touches. Like
rust-minidump, every value a walk dereferences (frame pointers, saved registers, scanned
words) must come from this range: a pointer elsewhere ends that method, not the walk.
"""
from __future__ import annotations

import struct
from functools import lru_cache
from typing import Any

from dumpkit.memory import AddressSpace, SegmentSpace

__all__ = ["MAX_STACK", "StackMemory", "read_code"]

#: Largest stack range one thread's walk may use (Linux main threads map 8 MiB).
MAX_STACK = 8 << 20
_CHUNK = 0x4000
_PAGE = 0x1000
_WORD = {4: struct.Struct("<I"), 8: struct.Struct("<Q")}


class StackMemory:
    """``[start, end)`` of target memory, read lazily ``_CHUNK`` bytes at a time; or, when the
    whole range is one file-backed stretch of a :class:`SegmentSpace` (the usual case), read
    straight from the file's mapping (no copy for a word, none of the chunk bookkeeping)."""

    def __init__(self, space: AddressSpace, start: int, end: int, width: int) -> None:
        self.space, self.start, self.end, self.width = space, start, end, width
        self._chunks: dict[int, bytes | None] = {}
        self._word = _WORD[width].unpack_from
        self._mapped: Any = None  # the file's mapping, when the whole range is in it
        self._delta = 0  # file offset - target address inside it
        if isinstance(space, SegmentSpace) and end > start:
            seg = space.find(start)
            if seg is not None:
                delta = seg.file_offset - seg.start
                in_file = seg.start + min(seg.size, seg.file_size)
                if end <= in_file and end + delta <= space.view.size and space.view.size:
                    self._mapped, self._delta = space.view.buffer, delta

    @classmethod
    def around(cls, space: AddressSpace | None, sp: int, width: int, *,
               stack_start: int | None = None, stack_size: int | None = None) -> StackMemory | None:
        """The stack range holding ``sp``, or ``None`` if ``sp`` itself is not captured."""
        if space is None:
            return None
        if stack_start is not None and stack_size and stack_start <= sp < stack_start + stack_size:
            end = min(stack_start + stack_size, stack_start + MAX_STACK)
            if _captured(space, sp, width):
                return cls(space, stack_start, end, width)
        if not _captured(space, sp, width):
            return None
        if isinstance(space, SegmentSpace):
            seg = space.find(sp)
            if seg is not None:
                end = min(seg.start + min(seg.size, seg.file_size), sp + MAX_STACK)
                return cls(space, max(seg.start, sp - MAX_STACK), end, width)
        # Generic space: probe whole pages upward from sp.
        start = sp & ~(_PAGE - 1)
        end = start + _PAGE
        while end - start < MAX_STACK and _captured(space, end, _PAGE):
            end += _PAGE
        return cls(space, start, end, width)

    def contains(self, address: int, size: int | None = None) -> bool:
        return self.start <= address and address + (size or self.width) <= self.end

    def _chunk(self, index: int) -> bytes | None:
        if index in self._chunks:
            return self._chunks[index]
        lo = max(self.start, index * _CHUNK)
        hi = min(self.end, (index + 1) * _CHUNK)
        data = self.space.read_or_none(lo, hi - lo) if hi > lo else None
        self._chunks[index] = data
        return data

    def read(self, address: int, size: int) -> bytes | None:
        """``size`` bytes at ``address`` inside the range, or ``None``."""
        if address < self.start or address + size > self.end or size <= 0:
            return None
        if self._mapped is not None:
            at = address + self._delta
            return self._mapped[at:at + size]
        first, last = address // _CHUNK, (address + size - 1) // _CHUNK
        if first == last:  # the common case: inside one chunk
            chunk = self._chunks[first] if first in self._chunks else self._chunk(first)
            if chunk is None:
                return None
            lo = address - max(self.start, first * _CHUNK)
            data = chunk[lo:lo + size]
            return data if len(data) == size else None
        parts = []
        for index in range(first, last + 1):
            chunk = self._chunk(index)
            if chunk is None:
                return None
            base = max(self.start, index * _CHUNK)
            lo = max(address, base) - base
            hi = min(address + size, base + len(chunk)) - base
            parts.append(chunk[lo:hi])
        data = b"".join(parts)
        return data if len(data) == size else None

    def words(self, address: int, count: int) -> tuple[int, ...]:
        """Up to ``count`` consecutive pointer-sized values from ``address``: as many as can be
        read before the first one that cannot (outside the stack or not captured)."""
        width = self.width
        if address < self.start or count <= 0:
            return ()
        count = min(count, (self.end - address) // width)
        if count <= 0:
            return ()
        if self._mapped is not None:  # all in the mapping: one unpack
            return _words(width, count).unpack_from(self._mapped, address + self._delta)
        data = self.read(address, count * width)
        if data is not None:
            return _words(width, count).unpack(data)
        values: list[int] = []  # a chunk is missing somewhere: word by word up to it
        for index in range(count):
            value = self.word(address + index * width)
            if value is None:
                break
            values.append(value)
        return tuple(values)

    def word(self, address: int) -> int | None:
        """One little-endian pointer-sized value, or ``None`` outside the stack."""
        if self._mapped is not None:
            if address < self.start or address + self.width > self.end:
                return None
            value: int = self._word(self._mapped, address + self._delta)[0]
            return value
        data = self.read(address, self.width)  # read's one-chunk path is the common case
        return None if data is None else int.from_bytes(data, "little")


@lru_cache(maxsize=64)
def _words(width: int, count: int) -> struct.Struct:
    """The layout of ``count`` little-endian words of ``width`` bytes."""
    return struct.Struct(f"<{count}{'Q' if width == 8 else 'I'}")


def _captured(space: AddressSpace, address: int, size: int) -> bool:
    return space.read_or_none(address, size) is not None


def read_code(space: AddressSpace | None, address: int, size: int) -> bytes | None:
    """Code (or any) bytes at ``address``, or ``None`` when not all were captured."""
    if space is None or address < 0:
        return None
    return space.read_or_none(address, size)
