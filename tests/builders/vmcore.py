"""Synthetic x86_64 kdump vmcores (docs/formats.md §5) with a kernel log to find.

``lockless_log_vmcore`` lays out a 5.10+ printk ring buffer (struct printk_ringbuffer,
prb_desc_ring, prb_data_ring, prb_desc, printk_info with 64-bit kernel offsets) in one
RAM segment and describes it in VMCOREINFO; ``text_log_vmcore`` writes the pre-3.5
character ring (log_buf / log_end / log_buf_len). Plain :mod:`struct`; shares nothing
with ``dumpkit/``.
"""
from __future__ import annotations

import struct

from tests.builders.elf_core import NT_PRSTATUS, ElfCoreBuilder, prstatus

__all__ = ["KERNEL_TEXT", "PAGE_OFFSET", "PHYS_BASE", "lockless_log_vmcore", "text_log_vmcore"]

KERNEL_TEXT = 0xFFFFFFFF80000000  # __START_KERNEL_map
PAGE_OFFSET = 0xFFFF888000000000
PHYS_BASE = 0x1000000
RAM_PA = 0x4000000  # the one RAM segment: 64 KiB of "physical memory"
RAM_SIZE = 0x10000
TEXT_PA = PHYS_BASE + 0x1000000  # where VA 0xffffffff81000000 lives


def _regs(rip: int, rsp: int) -> list[int]:
    regs = [0] * 27
    regs[16], regs[19] = rip, rsp
    return regs


def _base(osrelease: str, ncpu: int) -> ElfCoreBuilder:
    b = ElfCoreBuilder(machine=62, is_64=True)
    for cpu in range(ncpu):
        b.note("CORE", NT_PRSTATUS, prstatus(b, pid=100 + cpu if cpu == 0 else 0, signal=0,
                                             regs=_regs(0xFFFFFFFF81234560 + cpu, 0xFFFFC90000004000)))
    return b


def lockless_log_vmcore(lines: list[str], *, with_vaddr: bool = True, wrap: bool = True) -> bytes:
    """A vmcore whose printk ring buffer holds ``lines`` (the last one wraps around the data ring)."""
    ram = bytearray(RAM_SIZE)
    text = bytearray(0x1000)  # one page of kernel .data at VA 0xffffffff81000000
    count_bits, size_bits = 3, 10
    data_size = 1 << size_bits
    descs_pa, infos_pa, data_pa, prb_pa = RAM_PA + 0x1000, RAM_PA + 0x2000, RAM_PA + 0x4000, RAM_PA + 0x8000

    def dm(pa: int) -> int:  # direct-map VA
        return PAGE_OFFSET + pa

    # struct printk_ringbuffer { prb_desc_ring @0 (count_bits 0, descs 8, infos 16, head_id 24,
    # tail_id 32); prb_data_ring @48 (size_bits 0, data 8, head_lpos 16, tail_lpos 24); fail @80 }
    first_id = 0x3FFFFFFFFFFFFFFD  # ids near the 62-bit wrap, as a fresh kernel has them
    mask = (1 << 62) - 1
    records = []  # (begin lpos, next lpos, offset in the data ring, text)
    cursor = 256  # leave the start of the ring free for the wrapped record
    for i, line in enumerate(lines):
        blob = line.encode()
        size = (8 + len(blob) + 7) & ~7
        if wrap and i == len(lines) - 1:  # no room before the end: the block goes to offset 0
            begin = data_size - 16
            records.append((begin, data_size + size, 0, blob))
        else:
            records.append((cursor, cursor + size, cursor, blob))
            cursor += size
    head_id = first_id
    for i, (begin, nxt, at, blob) in enumerate(records):
        ident = (first_id + i) & mask
        index = ident & ((1 << count_bits) - 1)
        struct.pack_into("<QQ", ram, data_pa - RAM_PA + at, ident, 0)
        ram[data_pa - RAM_PA + at + 8: data_pa - RAM_PA + at + 8 + len(blob)] = blob
        struct.pack_into("<QQQ", ram, descs_pa - RAM_PA + index * 24, (2 << 62) | ident, begin, nxt)
        struct.pack_into("<QQHBBI", ram, infos_pa - RAM_PA + index * 88, i, (i + 1) * 1_500_000_000 + 250_000,
                         len(blob), 0, 0, 0)
        head_id = ident
    struct.pack_into("<I4xQQQQ", ram, prb_pa - RAM_PA, count_bits, dm(descs_pa), dm(infos_pa), head_id,
                     first_id & mask)
    struct.pack_into("<I4xQQQ", ram, prb_pa - RAM_PA + 48, size_bits, dm(data_pa), 0, 0)
    prb_var_va = 0xFFFFFFFF81000100  # the `prb` pointer variable, in kernel .data
    struct.pack_into("<Q", text, 0x100, dm(prb_pa))
    info = "\n".join([
        "OSRELEASE=6.1.0-test", "PAGESIZE=4096", f"SYMBOL(prb)={prb_var_va:x}",
        "SIZE(printk_ringbuffer)=88", "OFFSET(printk_ringbuffer.desc_ring)=0",
        "OFFSET(printk_ringbuffer.text_data_ring)=48", "OFFSET(printk_ringbuffer.fail)=80",
        "SIZE(prb_desc_ring)=48", "OFFSET(prb_desc_ring.count_bits)=0", "OFFSET(prb_desc_ring.descs)=8",
        "OFFSET(prb_desc_ring.infos)=16", "OFFSET(prb_desc_ring.head_id)=24",
        "OFFSET(prb_desc_ring.tail_id)=32", "SIZE(prb_desc)=24", "OFFSET(prb_desc.state_var)=0",
        "OFFSET(prb_desc.text_blk_lpos)=8", "OFFSET(prb_data_blk_lpos.begin)=0",
        "OFFSET(prb_data_blk_lpos.next)=8", "SIZE(printk_info)=88", "OFFSET(printk_info.seq)=0",
        "OFFSET(printk_info.ts_nsec)=8", "OFFSET(printk_info.text_len)=16",
        "OFFSET(printk_info.caller_id)=20", "OFFSET(printk_info.dev_info)=24",
        "OFFSET(prb_data_ring.size_bits)=0", "OFFSET(prb_data_ring.data)=8",
        "OFFSET(prb_data_ring.head_lpos)=16", "OFFSET(prb_data_ring.tail_lpos)=24",
        "SIZE(atomic_long_t)=8", "OFFSET(atomic_long_t.counter)=0",
        f"NUMBER(phys_base)={PHYS_BASE}", "CRASHTIME=1700000000", "",
    ])
    b = _base("6.1.0-test", 2).note("VMCOREINFO", 0, info.encode())
    text_va = 0xFFFFFFFF81000000 if with_vaddr else 0
    ram_va = dm(RAM_PA) if with_vaddr else 0
    b.load(text_va, bytes(text), paddr=TEXT_PA, flags=7)
    b.load(ram_va, bytes(ram), paddr=RAM_PA, flags=7)
    b.load(0 if not with_vaddr else dm(0x100000), b"", memsz=0x100000, paddr=0x100000, flags=7)
    return b.build()


def text_log_vmcore(text: str, *, buf_len: int = 0x1000) -> bytes:
    """A 2.6-style vmcore: ``char *log_buf`` ring of ``buf_len`` bytes, ``log_end`` index."""
    raw = text.encode()
    ram = bytearray(RAM_SIZE)
    kdata = bytearray(0x1000)
    buf_pa = RAM_PA + 0x1000
    end = len(raw)
    for i, byte in enumerate(raw):
        ram[buf_pa - RAM_PA + (i % buf_len)] = byte
    struct.pack_into("<QII", kdata, 0x200, PAGE_OFFSET + buf_pa, buf_len, end)
    info = "\n".join([
        "OSRELEASE=2.6.35-test", "PAGESIZE=4096", "SYMBOL(log_buf)=ffffffff81000200",
        "SYMBOL(log_buf_len)=ffffffff81000208", "SYMBOL(log_end)=ffffffff8100020c", "",
    ])
    b = _base("2.6.35-test", 1).note("VMCOREINFO", 0, info.encode())
    b.load(0xFFFFFFFF81000000, bytes(kdata), paddr=TEXT_PA, flags=7)
    b.load(PAGE_OFFSET + RAM_PA, bytes(ram), paddr=RAM_PA, flags=7)
    return b.build()
