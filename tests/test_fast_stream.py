"""FastStream against the Kaitai runtime's own KaitaiStream: same values, positions and errors.

Random reads, seeks and terminator scans run on both streams over the same bytes (as a
substream over ``bytes`` and as the root stream over an ``mmap``); every result, exception
type and message, and the position after each step must be equal.
"""
from __future__ import annotations

import io
import mmap
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from kaitaistruct import KaitaiStream

from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.readers.fast_stream import FastStream

READS = ["read_u1", "read_s1", "read_u2le", "read_s2le", "read_u4le", "read_s4le", "read_u8le", "read_s8le",
         "read_u2be", "read_s2be", "read_u4be", "read_s4be", "read_u8be", "read_s8be",
         "read_f4le", "read_f8le", "read_f4be", "read_f8be"]


def _outcome(fn: Callable[[], Any]) -> tuple[str, Any]:
    try:
        value = fn()
    except Exception as exc:  # compared by type and message
        return "error", (type(exc).__name__, str(exc))
    if isinstance(value, float) and value != value:  # NaN != NaN
        return "nan", None
    return "value", value


def _step(rng: random.Random, size: int) -> tuple[str, tuple[Any, ...]]:
    kind = rng.random()
    if kind < 0.55:
        return rng.choice(READS), ()
    if kind < 0.70:
        return "seek", (rng.choice([0, size, size + 3, -1, rng.randrange(0, size + 8)]),)
    if kind < 0.82:
        return "read_bytes", (rng.choice([0, 1, 3, 16, size, -2, 9 << 20, rng.randrange(0, size + 8)]),)
    if kind < 0.90:
        return "read_bytes_term", (rng.choice([0, 0x41]), rng.random() < 0.5, rng.random() < 0.5,
                                   rng.random() < 0.5)
    if kind < 0.95:
        return "read_bytes_full", ()
    return rng.choice(["pos", "size", "is_eof"]), ()


def _compare(ours: KaitaiStream, theirs: KaitaiStream, rng: random.Random, size: int, steps: int) -> None:
    for _ in range(steps):
        name, args = _step(rng, size)
        got = _outcome(lambda: getattr(ours, name)(*args))  # noqa: B023
        want = _outcome(lambda: getattr(theirs, name)(*args))  # noqa: B023
        assert got == want, (name, args)
        assert ours.pos() == theirs.pos(), (name, args)


@pytest.mark.parametrize("seed", range(40))
def test_substream_over_bytes_matches_the_runtime(seed: int) -> None:
    rng = random.Random(seed)
    data = bytes(rng.choice([0, 0x41, rng.randrange(256)]) for _ in range(rng.randrange(0, 64)))
    _compare(FastStream(data), KaitaiStream(io.BytesIO(data)), rng, len(data), 200)


@pytest.mark.parametrize("seed", range(20))
def test_root_stream_over_mmap_matches_the_runtime(seed: int, tmp_path: Path) -> None:
    rng = random.Random(1000 + seed)
    data = bytes(rng.choice([0, 0x41, rng.randrange(256)]) for _ in range(rng.randrange(1, 64)))
    path = tmp_path / "f.bin"
    path.write_bytes(data)
    with open(path, "rb") as fh:
        ours_map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
        theirs_map = mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ)
    try:
        _compare(FastStream(ours_map), KaitaiStream(theirs_map), rng, len(data), 200)
    finally:
        ours_map.close()
        theirs_map.close()


def test_resolve_enum_matches_the_runtime() -> None:
    enum = WindowsMinidump.StreamTypes
    for value in [0, 3, 4, 7, 0x47670001, 0xFFFF, 12345678, -1]:
        assert FastStream.resolve_enum(enum, value) == KaitaiStream.resolve_enum(enum, value)
        assert type(FastStream.resolve_enum(enum, value)) is type(KaitaiStream.resolve_enum(enum, value))
