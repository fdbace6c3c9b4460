"""Hand-made dumps for unwinder tests: a :class:`Dump` whose memory is a few segments of a
small file in a temporary directory (built with ``struct``, sharing nothing with readers)."""
from __future__ import annotations

import struct
from pathlib import Path

from dumpkit.memory import FileView, Segment, SegmentSpace
from dumpkit.model import CrashInfo, Dump, Module, SourceFormat, SourceInfo, SystemInfo, Thread

__all__ = ["make_dump", "words"]


def words(*values: int, width: int = 8) -> bytes:
    return struct.pack(f"<{len(values)}{'Q' if width == 8 else 'I'}", *values)


def make_dump(tmp: Path, *, arch: str, regs: dict[str, int], segments: dict[int, bytes],
              modules: list[Module] | None = None, os: str = "linux", stack: tuple[int, int] | None = None,
              fmt: SourceFormat = "minidump") -> Dump:
    """``segments`` maps target addresses to their bytes; ``stack`` = (start, size) of the thread."""
    path = tmp / f"dump{len(list(tmp.iterdir()))}.bin"
    blob, segs = b"", []
    for address, data in sorted(segments.items()):
        segs.append(Segment(address, len(data), len(blob), len(data)))
        blob += data
    path.write_bytes(blob)
    view = FileView(path)
    thread = Thread(id=1, registers=dict(regs), crashed=True,
                    stack_start=stack[0] if stack else None, stack_size=stack[1] if stack else None)
    return Dump(source=SourceInfo(path=str(path), size=len(blob), format=fmt),
                system=SystemInfo(os=os, cpu_arch=arch), threads=[thread], modules=modules or [],
                crash=CrashInfo(kind="signal", code=11, thread_id=1, code_space="linux_signal"),
                memory=SegmentSpace(view, segs))
