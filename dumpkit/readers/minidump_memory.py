"""Minidump memory descriptions: MemoryInfoList entries -> regions; stacks found in Memory64List."""
from __future__ import annotations

from bisect import bisect_right
from typing import Any

from dumpkit.memory import SegmentSpace
from dumpkit.model import MemoryRegion, Thread

__all__ = ["region_from_info", "stacks_from_memory"]

#: PAGE_* protection (low byte; GUARD / NOCACHE / WRITECOMBINE modifiers ignored) -> permissions
_PERMISSIONS = {0x01: "---", 0x02: "r--", 0x04: "rw-", 0x08: "rw-", 0x10: "--x", 0x20: "r-x",
                0x40: "rwx", 0x80: "rwx"}
_STATES = {0x1000: "commit", 0x2000: "reserve", 0x10000: "free"}
_TYPES = {0x20000: "private", 0x40000: "mapped", 0x1000000: "image"}


def region_from_info(info: Any) -> MemoryRegion:
    """One MINIDUMP_MEMORY_INFO (permissions only for committed / reserved regions)."""
    state = _STATES.get(int(info.state))
    protect = info.protect
    return MemoryRegion(start=info.base_address, size=info.region_size,
                        permissions=_PERMISSIONS.get(protect & 0xFF) if protect and state != "free" else None,
                        state=state, type=_TYPES.get(int(info.type)))


def stacks_from_memory(threads: list[Thread], space: SegmentSpace) -> None:
    """Stack extents of threads whose descriptor has no file offset (full-memory dumps): the size
    recorded, else the run of contiguous captured segments that starts at the stack's start."""
    segments = space.segments
    starts = [seg.start for seg in segments]
    run_end = [seg.end for seg in segments]  # end of the contiguous run each segment begins
    for i in range(len(segments) - 2, -1, -1):
        if segments[i + 1].start == segments[i].end:
            run_end[i] = run_end[i + 1]
    for thread in threads:
        start = thread.stack_start
        if start is None or thread.stack_size:
            continue
        i = bisect_right(starts, start) - 1
        if i >= 0 and start < segments[i].end:
            thread.stack_size = run_end[i] - start
