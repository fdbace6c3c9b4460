"""Writers of synthetic Windows kernel crash dumps (docs/formats.md §2), from a :class:`KernelImage`.

    img = KernelImage(arch="amd64"); img.build_kernel()
    write_complete(path, img)                 # DumpType 1, pages by runs
    write_bitmap(path, img, "SDMP")           # DumpType 6 (or "FDMP": 5), bitmap + pages
    write_ranges(path, img, 8)                # DumpType 8 / 9 / 0xA, RDMP range table
    write_small(path, img)                    # DumpType 4, triage sections

Plain :mod:`struct`; shares nothing with ``ksy/`` or ``dumpkit/``. Files are written with
seek + truncate, so a 16 GiB dump with a few hundred real pages is sparse on disk.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders.kernel_image import CONTEXT_WRITERS, PAGE, KernelImage

__all__ = ["FILETIME_2021", "BugCheck", "write_bitmap", "write_complete", "write_ranges", "write_small"]

FILETIME_2021 = 132582591020000000  # 2021-02-20 01:45:02 UTC
MACHINE = {"amd64": 0x8664, "x86": 0x14C, "arm64": 0xAA64}


@dataclass
class BugCheck:
    code: int = 0x1000007E
    params: list[int] = field(default_factory=lambda: [0xFFFFFFFFC0000005, 0xFFFFF80000401234,
                                                       0xFFFF800000011EE8, 0xFFFF800000011720])
    exception_code: int | None = 0xC0000005
    exception_address: int = 0xFFFFF80000401234


def _fill(size: int) -> bytearray:
    return bytearray(b"PAGE" * (size // 4))


def header64(img: KernelImage, dump_type: int, bug: BugCheck, required: int,
             runs: list[tuple[int, int]] | None = None) -> bytearray:
    """DUMP_HEADER64 (0x2000), docs/formats.md §2.2."""
    h = _fill(0x2000)
    h[0:8] = b"PAGEDU64"
    struct.pack_into("<IIQQQQ", h, 0x8, 0xF, img.build, img.dtb, 0xFFFFFA8000000000,
                     img.module_list_va, img.kbase + 0x30000)
    struct.pack_into("<III", h, 0x30, MACHINE[img.arch], img.ncpu, bug.code)
    struct.pack_into("<4Q", h, 0x40, *bug.params)
    struct.pack_into("<Q", h, 0x80, img.kdbg_va)
    if runs is not None:
        struct.pack_into("<IIQ", h, 0x88, len(runs), 0, sum(n for _, n in runs))
        for i, (base, n) in enumerate(runs):
            struct.pack_into("<QQ", h, 0x98 + 16 * i, base, n)
    ctx = CONTEXT_WRITERS[img.arch](img.cpu_regs[1 % img.ncpu])  # CPU 1 crashed
    h[0x348:0x348 + 3000] = ctx.ljust(3000, b"\0")
    if bug.exception_code is not None:
        struct.pack_into("<IIQQII", h, 0xF00, bug.exception_code, 0, 0, bug.exception_address, 2, 0)
        struct.pack_into("<2Q", h, 0xF20, 0, 0x10)
    struct.pack_into("<IIqQ", h, 0xF98, dump_type, 0, required, FILETIME_2021)
    struct.pack_into("<QIIIII", h, 0x1030, 123456789, 0x1 if dump_type != 4 else 0xCFF, 0, 1, 0x110, 0)
    struct.pack_into("<BBH", h, 0x104C, 0, 0, 0)
    return h


def header32(img: KernelImage, dump_type: int, bug: BugCheck, required: int,
             runs: list[tuple[int, int]] | None = None) -> bytearray:
    """DUMP_HEADER32 (0x1000), docs/formats.md §2.1."""
    h = _fill(0x1000)
    h[0:8] = b"PAGEDUMP"
    struct.pack_into("<IIIIIIIII", h, 0x8, 0xF, img.build, img.dtb, 0x84000000, img.module_list_va,
                     img.kbase + 0x30000, MACHINE[img.arch], img.ncpu, bug.code)
    struct.pack_into("<4I", h, 0x2C, *(p & 0xFFFFFFFF for p in bug.params))
    struct.pack_into("<BBH", h, 0x5C, 1 if img.pae else 0, 0, 0)
    struct.pack_into("<I", h, 0x60, img.kdbg_va)
    if runs is not None:
        struct.pack_into("<II", h, 0x64, len(runs), sum(n for _, n in runs))
        for i, (base, n) in enumerate(runs):
            struct.pack_into("<II", h, 0x6C + 8 * i, base, n)
    ctx = CONTEXT_WRITERS[img.arch](img.cpu_regs[1 % img.ncpu])
    h[0x320:0x320 + 1200] = ctx.ljust(1200, b"\0")
    if bug.exception_code is not None:
        struct.pack_into("<IIIII", h, 0x7D0, bug.exception_code, 0, 0, bug.exception_address & 0xFFFFFFFF, 0)
    struct.pack_into("<IIIIII", h, 0xF88, dump_type, 0, 0, 1, 0x110, 0)
    struct.pack_into("<q", h, 0xFA0, required)
    struct.pack_into("<QQ", h, 0xFB8, 123456789, FILETIME_2021)
    return h


def _header(img: KernelImage, dump_type: int, bug: BugCheck, required: int,
            runs: list[tuple[int, int]] | None = None) -> bytearray:
    return (header32 if img.ptr == 4 else header64)(img, dump_type, bug, required, runs)


def _write_pages(path: Path, head: bytes, img: KernelImage, layout: list[tuple[int, int, int]],
                 total: int) -> None:
    """``layout`` = (base pfn, count, file offset of its first page); sparse beyond real pages."""
    with open(path, "wb") as fh:
        fh.write(head)
        for base, count, offset in layout:
            for pfn, data in img.pages.items():
                if base <= pfn < base + count and any(data):
                    fh.seek(offset + (pfn - base) * PAGE)
                    fh.write(data)
        fh.truncate(total)


def _layout(intervals: list[tuple[int, int]], first: int) -> list[tuple[int, int, int]]:
    out, offset = [], first
    for base, count in intervals:
        out.append((base, count, offset))
        offset += count * PAGE
    return out


def write_complete(path: Path, img: KernelImage, bug: BugCheck | None = None) -> None:
    bug = bug or BugCheck()
    hsize = 0x2000 if img.ptr == 8 else 0x1000
    total = hsize + sum(n for _, n in img.runs) * PAGE
    _write_pages(path, bytes(_header(img, 1, bug, total, img.runs)), img, _layout(img.runs, hsize), total)


def write_bitmap(path: Path, img: KernelImage, signature: str = "SDMP", bug: BugCheck | None = None,
                 present: list[tuple[int, int]] | None = None, claim_pages: int | None = None) -> None:
    """Bitmap dump (docs/formats.md §2.6): ``present`` PFN intervals (default: the image's runs)."""
    bug = bug or BugCheck()
    present = sorted(present or img.runs)
    hsize = 0x2000 if img.ptr == 8 else 0x1000
    nbits = max(b + n for b, n in img.runs)
    nbits = (nbits + 63) // 64 * 64
    bitmap = bytearray(nbits // 8)
    for base, count in present:
        end = base + count
        pfn = base
        while pfn < end:
            if pfn % 8 == 0 and end - pfn >= 8:
                k = (end - pfn) // 8
                bitmap[pfn // 8:pfn // 8 + k] = b"\xff" * k
                pfn += 8 * k
            else:
                bitmap[pfn // 8] |= 1 << (pfn % 8)
                pfn += 1
    npages = sum(n for _, n in present)
    first = (hsize + 0x38 + len(bitmap) + PAGE - 1) // PAGE * PAGE
    sub = bytearray(0x38)
    sub[0:8] = signature.encode() + b"DUMP"
    struct.pack_into("<I", sub, 8, 0x1)
    struct.pack_into("<QQQ", sub, 0x20, first, claim_pages if claim_pages is not None else npages, nbits)
    total = first + npages * PAGE
    dump_type = 6 if signature == "SDMP" else 5
    head = _header(img, dump_type, bug, total) + sub + bitmap
    _write_pages(path, bytes(head), img, _layout(present, first), total)


def write_ranges(path: Path, img: KernelImage, dump_type: int = 8, bug: BugCheck | None = None) -> None:
    """RDMP range dump (docs/formats.md §2.7), 64-bit only."""
    bug = bug or BugCheck()
    ranges = img.runs
    table = b"".join(struct.pack("<QQ", b, n) for b, n in ranges) + bytes(16)
    first = (0x2030 + len(table) + PAGE - 1) // PAGE * PAGE
    rd = bytearray(0x30)
    struct.pack_into("<I", rd, 0, 0x40)
    rd[4:12] = b"RDMPDUMP"
    struct.pack_into("<QQ", rd, 0x10, first - 0x2040 + 0x20, first)
    npages = sum(n for _, n in ranges)
    if dump_type == 0xA:
        struct.pack_into("<IHHQ", rd, 0x20, len(ranges), 0, 0, npages)
    total = first + npages * PAGE
    head = header64(img, dump_type, bug, total) + rd + table
    _write_pages(path, bytes(head), img, _layout(ranges, first), total)


def write_small(path: Path, img: KernelImage, bug: BugCheck | None = None, *, crash_cpu: int = 1) -> dict:
    """Small memory (triage) dump, 64-bit (docs/formats.md §2.8). Returns the section offsets written."""
    bug = bug or BugCheck()
    body = bytearray()
    base = 0x2080

    def put(data: bytes, align: int = 8) -> int:
        while (base + len(body)) % align:
            body.append(0)
        offset = base + len(body)
        body.extend(data)
        return offset

    regs = img.cpu_regs[crash_cpu]
    mm = put(struct.pack("<IIIIII7Q", 1, 0x50, 0, 0, 0, 0, *range(7)))
    unloaded = [("old.sys", 0xFFFFF80001000000, 0xFFFFF80001010000), ("gone.sys", 0xFFFFF80002000000,
                                                                          0xFFFFF80002008000)]
    ul = struct.pack("<Q", len(unloaded))
    for name, start, end in unloaded:
        n = name.encode("utf-16-le")
        ul += struct.pack("<HHIQ", len(n), len(n), 0, 0) + n.ljust(24, b"\0") + struct.pack("<QQ", start, end)
    ofs_unloaded = put(ul)
    prcb = bytearray(0x800)
    struct.pack_into("<H", prcb, 0x24, crash_cpu)
    ofs_prcb = put(bytes(prcb))
    ofs_process, ofs_thread = put(b"P" * 0x100), put(b"T" * 0x100)
    top = (regs["rsp"] - 0x200) & ~0xF
    stack = bytes((i * 7) & 0xFF for i in range(0x1000))
    ofs_stack = put(stack)
    # string pool first (offsets needed by the driver entries)
    pool = bytearray()
    name_offsets = []
    pool_base_guess = len(img.drivers) * 0x90  # driver list precedes the pool
    for drv in img.drivers:
        name_offsets.append(len(pool))
        text = drv.path.encode("utf-16-le")
        pool += struct.pack("<I", len(drv.path)) + text + b"\0\0"
        while len(pool) % 8:
            pool.append(0)
    drivers_at = base + len(body)
    while drivers_at % 8:
        drivers_at += 1
    pool_at = drivers_at + pool_base_guess
    entries = bytearray()
    for drv, noff in zip(img.drivers, name_offsets, strict=True):
        e = bytearray(0x90)
        struct.pack_into("<I", e, 0, pool_at + noff)
        struct.pack_into("<QQI", e, 8 + 0x30, drv.base, drv.base + 0x1000, drv.size)
        struct.pack_into("<I", e, 8 + 0x78, 0xC0FFEE)
        struct.pack_into("<I", e, 8 + 0x80, drv.timestamp)
        entries += e
    assert put(bytes(entries)) == drivers_at
    assert put(bytes(pool)) == pool_at
    ofs_kdbg = put(img.kdbg())
    blocks = [(img.kbase, img.vread(img.kbase, PAGE)),  # ntoskrnl headers
              (img.drivers[1].base, img.vread(img.drivers[1].base, 0x400)),
              (img.kdbg_va + 0x1000, b"\x11" * 0x80)]
    table_at = put(bytes(16 * len(blocks)))
    for i, (va, data) in enumerate(blocks):
        off = put(data)
        struct.pack_into("<QII", body, table_at - base + 16 * i, va, off, len(data))
    valid = put(b"TRGD" + b"DumpBlob", 4)
    total = base + len(body)
    tri = bytearray(0x80)
    struct.pack_into("<18I", tri, 0, 0, total, valid, 0x348, 0xF00, mm, ofs_unloaded, ofs_prcb, ofs_process,
                     ofs_thread, ofs_stack, len(stack), drivers_at, len(img.drivers), pool_at, len(pool), 0,
                     0xFFFFFFFF)
    struct.pack_into("<Q", tri, 0x48, top)
    struct.pack_into("<QIIIIII", tri, 0x60, 0, 0, 0, ofs_kdbg, 0x3A0, table_at, len(blocks))
    head = header64(img, 4, bug, total)
    img_ctx = CONTEXT_WRITERS[img.arch](regs)
    head[0x348:0x348 + len(img_ctx)] = img_ctx
    data = bytes(head) + bytes(tri) + bytes(body)
    Path(path).write_bytes(data)
    return {"top_of_stack": top, "stack": stack, "blocks": blocks, "unloaded": unloaded, "total": total}
