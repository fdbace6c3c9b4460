"""Reading a dump without Python's cycle collector running in the middle.

A reader makes many small objects in a burst (65,535 program headers become 131,070 segments
and regions; every minidump module and stream is a few objects), and CPython's cycle collector
runs every ~700 allocations, each time walking the young objects and, now and then, every
tracked object: about 45% of the time spent reading a core with 65,535 program headers. Nothing
a reader makes needs collecting while it reads (plain records are freed by reference counting
as usual; the generated parsers' parent links form cycles, which the collector frees once it
runs again), so :func:`paused` switches it off for the read and back on after.
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused"]


@contextmanager
def paused() -> Iterator[None]:
    """The cycle collector off inside the block (left alone if it is already off, e.g. by an
    enclosing block or another thread)."""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
