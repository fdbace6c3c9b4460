"""Where the robustness harness (tests/mutation.py) mutates each format: its mutation plans.

A plan turns a source file and a seed into a fixed list of :class:`Mutation` (truncate at an
offset, or XOR one byte with a mask): 50 truncations and 200 single-byte flips per file, placed
where each format keeps its structure. Layouts are read here with :mod:`struct` (nothing is
shared with the readers); a file a plan cannot make sense of gets its mutations spread over
the whole file.

* ``minidump``: cuts in the header, the directory, at and inside every stream body (first
  byte, middle, last byte), then spread evenly; flips: 50 in header + directory, 100 in stream
  bodies, 50 anywhere.
* ``elf``: cuts in e_ident and the ELF header, at and inside the program header table, every
  PT_NOTE segment and its first note records, then spread evenly; flips: 50 in the ELF header
  and program headers, 100 in note segments, 50 anywhere.
* ``kdump``: cuts at and inside the disk_dump_header, the sub-header, the bitmaps, the page
  descriptors (for a flattened file: the record headers), then random; flips: 50 in the header
  (and the flattened file header), 100 in the sub-header / bitmaps / descriptors (or the record
  headers), 50 anywhere.
* ``windows_kernel``: cuts at 0, 8, 0x1000, 0x2000, 0x2040 and 45 random points; 100 flips in the
  first 0x3000 bytes (the headers) and 100 anywhere, each either one bit flipped or the byte set
  to 0xFF (an XOR with ``byte ^ 0xFF``, which leaves a byte that is already 0xFF unchanged).

Flips other than ``windows_kernel``'s XOR with a random non-zero byte. The seed of a file is
the plan's seed XOR the CRC-32 of the file's name, except for ``windows_kernel`` (seed 1 for
every file).
"""
from __future__ import annotations

import random
import struct
import zlib
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

__all__ = ["PLANS", "Mutation", "Plan", "mutations"]

N_TRUNCATIONS = 50
N_FLIPS = 200
MAX_DIRECTORY = 64  # minidump directory entries used to place mutations (a fuzzed count can be huge)
MAX_PHDRS = 256  # ELF program headers used to place mutations
MAX_RECORDS = 512  # flattened kdump record headers used to place mutations

Range = tuple[int, int]  # (offset, length)


class Mutation(NamedTuple):
    """Truncate the file at ``offset`` (``mask`` is None) or XOR the byte at ``offset`` with ``mask``."""

    offset: int
    mask: int | None = None

    @property
    def label(self) -> str:
        if self.mask is None:
            return f"truncate@{self.offset:#x}"
        return f"flip@{self.offset:#x}^{self.mask:#04x}"


class Plan(NamedTuple):
    """One format's placement: ``make(path, seed)`` gives the file's mutations."""

    make: Callable[[Path, int], list[Mutation]]
    seed: int
    salted: bool = True  # seed ^ crc32(name) per file; False: the same seed for every file


def _cuts(rng: random.Random, points: Iterable[int], size: int, *, spread: bool) -> list[Mutation]:
    """Truncations: the structural ``points`` (at most 2/3 of them, sampled), then spread or random."""
    structural = sorted(p for p in set(points) if 0 <= p < size)
    if len(structural) > N_TRUNCATIONS * 2 // 3:
        structural = sorted(rng.sample(structural, N_TRUNCATIONS * 2 // 3))
    chosen = set(structural)
    step = max(1, size // (N_TRUNCATIONS - len(chosen) + 1))
    even = iter(range(step, size, step) if spread else ())
    while len(chosen) < min(N_TRUNCATIONS, size):
        chosen.add(next(even, None) or rng.randrange(size))
    return [Mutation(n) for n in sorted(chosen)]


def _flips(rng: random.Random, size: int, header: list[Range], meta: list[Range]) -> list[Mutation]:
    """50 flips in ``header``, 100 in ``meta`` (uniform over their bytes), the rest anywhere."""

    def pick(ranges: list[Range]) -> int:
        total = sum(length for _, length in ranges)
        if not total:
            return rng.randrange(size)
        at = rng.randrange(total)
        for off, length in ranges:
            if at < length:
                return min(off + at, size - 1)
            at -= length
        return rng.randrange(size)

    offsets = [pick(header) for _ in range(50)] + [pick(meta) for _ in range(100)]
    offsets += [rng.randrange(size) for _ in range(N_FLIPS - len(offsets))]
    return [Mutation(offset, rng.randrange(1, 256)) for offset in offsets]


# -- minidump -------------------------------------------------------------------------------------
def _minidump_layout(data: bytes) -> tuple[int, list[Range]]:
    """End of the directory and the (rva, size) of each stream body that lies in the file."""
    if len(data) < 0x20:
        return len(data), []
    count, dir_rva = struct.unpack_from("<II", data, 8)
    count = min(count, MAX_DIRECTORY, max(0, (len(data) - dir_rva) // 12))
    bodies = []
    for i in range(count):
        _, size, rva = struct.unpack_from("<III", data, dir_rva + 12 * i)
        if size and rva < len(data):
            bodies.append((rva, min(size, len(data) - rva)))
    return min(len(data), dir_rva + 12 * count), bodies


def minidump(path: Path, seed: int) -> list[Mutation]:
    rng = random.Random(seed)
    data = path.read_bytes()
    size = len(data)
    dir_end, bodies = _minidump_layout(data)
    points = {0, 1, 4, 8, 12, 16, 0x1F, 0x20, 0x21, 0x2C, dir_end - 1, dir_end}
    for rva, length in bodies:
        points.update((rva, rva + 1, rva + length // 2, rva + length - 1))
    cuts = _cuts(rng, points, size, spread=True)
    return cuts + _flips(rng, size, [(0, max(dir_end, 1))], bodies) if size else cuts


# -- ELF cores ------------------------------------------------------------------------------------
def _elf_layout(head: bytes, size: int) -> tuple[list[Range], list[Range]]:
    """(header + phdr table) and PT_NOTE (offset, size) ranges, from the file's first bytes."""
    if len(head) < 0x34 or head[:4] != b"\x7fELF":
        return [(0, min(size, 64))], []
    is64, e = head[4] == 2, (">" if head[5] == 2 else "<")
    if is64:
        phoff, = struct.unpack_from(e + "Q", head, 0x20)
        entsize, phnum = struct.unpack_from(e + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(e + "I", head, 0x1C)
        entsize, phnum = struct.unpack_from(e + "HH", head, 0x2A)
    header = [(0, 64 if is64 else 52)]
    if not entsize or phoff >= size:
        return header, []
    count = min(phnum, MAX_PHDRS, (len(head) - phoff) // entsize if phoff < len(head) else 0)
    header.append((phoff, count * entsize))
    notes = []
    for i in range(count):
        at = phoff + i * entsize
        if struct.unpack_from(e + "I", head, at)[0] != 4:
            continue
        if is64:
            off, = struct.unpack_from(e + "Q", head, at + 8)
            length, = struct.unpack_from(e + "Q", head, at + 32)
        else:
            off, = struct.unpack_from(e + "I", head, at + 4)
            length, = struct.unpack_from(e + "I", head, at + 16)
        if off < size and length:
            notes.append((off, min(length, size - off)))
    return header, notes


def elf(path: Path, seed: int) -> list[Mutation]:
    rng = random.Random(seed)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    header, notes = _elf_layout(head, size)
    points = {0, 1, 4, 5, 6, 7, 16, 0x12, 0x18, 0x20, 0x2C, 0x34, 0x38, 0x40, size - 1}
    for off, length in header[1:] + notes:
        points.update((off, off + 1, off + 12, off + length // 2, off + length - 1, off + length))
    cuts = _cuts(rng, points, size, spread=True)
    return cuts + _flips(rng, size, header, notes) if size else cuts


# -- kdump-compressed and flattened ---------------------------------------------------------------
def _kdump_layout(data: bytes) -> tuple[list[Range], list[Range]]:
    """(header ranges, metadata ranges) of a kdump-compressed image."""
    for at, is_be in ((0x1AC, False), (0x1A0, False), (0x1AC, True), (0x1A0, True)):
        e = ">" if is_be else "<"
        if len(data) < at + 16:
            continue
        block, sub, bitmap_blocks, _ = struct.unpack_from(e + "iiII", data, at)
        if 512 <= block <= 1 << 18 and block & (block - 1) == 0 and 0 <= sub < 64:
            bitmaps = (1 + sub) * block
            descs = bitmaps + bitmap_blocks * block
            meta = [(block, min(sub, 2) * block or 0x68), (bitmaps, min(bitmap_blocks * block, 8192)),
                    (descs, min(24 * 64, max(0, len(data) - descs)))]
            return [(0, 0x1D0)], [(o, n) for o, n in meta if o < len(data) and n > 0]
    return [(0, min(len(data), 0x1D0))], []


def _flat_layout(data: bytes) -> tuple[list[Range], list[Range]]:
    """(file header + the first record's data, record headers) of a flattened stream."""
    headers: list[Range] = []
    pos = 4096
    while len(headers) < MAX_RECORDS and pos + 16 <= len(data):
        offset, size = struct.unpack_from(">qq", data, pos)
        headers.append((pos, 16))
        if offset < 0 or size <= 0:
            break
        pos += 16 + size
    first = [(4096 + 16, min(0x1D0, max(0, len(data) - 4096 - 16)))] if headers else []
    return [(0, 32), *first], headers


def kdump(path: Path, seed: int) -> list[Mutation]:
    rng = random.Random(seed)
    data = path.read_bytes()
    size = len(data)
    is_flat = data[:16] == b"makedumpfile\0\0\0\0"
    header, meta = _flat_layout(data) if is_flat else _kdump_layout(data)
    points = {0, 8, 12, 0x110, 0x198, 0x1A0, 0x1AC, 0x1B4, 0x1B8, 0x1C8, 0x1D0, size - 1}
    for off, length in meta:
        points.update((off, off + 1, off + 8, off + 16, off + length // 2, off + length))
    cuts = _cuts(rng, points, size, spread=False)
    return cuts + _flips(rng, size, header, meta) if size else cuts


# -- Windows kernel dumps -------------------------------------------------------------------------
def windows_kernel(path: Path, seed: int) -> list[Mutation]:
    rng = random.Random(seed)
    size = path.stat().st_size
    if not size:
        return []
    fixed = {0, 8, 0x1000, 0x2000, 0x2040}
    points = sorted({rng.randrange(0, size) for _ in range(N_TRUNCATIONS - 5)} | fixed, reverse=True)
    cuts = sorted(Mutation(cut) for cut in points[:N_TRUNCATIONS] if cut < size)
    head = min(size, 0x3000)
    offsets = [rng.randrange(0, head) for _ in range(100)] + [rng.randrange(0, size) for _ in range(100)]
    flips = []
    with open(path, "rb") as fh:
        for offset in offsets:
            if rng.random() < 0.5:
                mask = 1 << rng.randrange(8)
            else:  # set the byte to 0xFF
                fh.seek(offset)
                mask = fh.read(1)[0] ^ 0xFF
            flips.append(Mutation(offset, mask))
    return cuts + flips


PLANS: dict[str, Plan] = {
    "minidump": Plan(minidump, 0x5EED),
    "elf": Plan(elf, 0xE1F),
    "kdump": Plan(kdump, 0x6B64),
    "windows_kernel": Plan(windows_kernel, 1, salted=False),
}


def mutations(plan: str, name: str, path: Path) -> list[Mutation]:
    """The mutations of the file ``path`` (called ``name`` in reports) under ``plan``."""
    p = PLANS[plan]
    return p.make(path, p.seed ^ zlib.crc32(name.encode()) if p.salted else p.seed)
