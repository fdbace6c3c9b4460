"""A synthetic Windows kernel in synthetic physical memory, for kernel-dump tests.

Written with :mod:`struct` from docs/formats.md §2.9-2.10 and §3 (shares nothing with ``ksy/`` or
``dumpkit/``). :class:`KernelImage` owns sparse physical pages, real page tables (x64
4-level, x86 PAE, ARM64 4 KiB granule), and lays out: an ``nt`` image with a KDBG, the
PsLoadedModuleList head and KiProcessorBlock; KLDR entries with names; PE headers with a
CodeView RSDS record per driver; one KPRCB + CONTEXT per CPU. What it wrote is kept in
plain attributes (``drivers``, ``cpu_regs``, ``kdbg_va``...) for the tests to compare with.
"""
from __future__ import annotations

import struct
import uuid
from dataclasses import dataclass, field

__all__ = ["PAGE", "BDriver", "KernelImage", "amd64_context", "arm64_context", "x86_context"]

PAGE = 0x1000


@dataclass
class BDriver:
    name: str
    base: int
    size: int
    timestamp: int
    pdb: str
    guid: uuid.UUID
    age: int
    headers_mapped: bool = True  # False: the PE header page is "paged out"
    full_name_mapped: bool = True  # False: FullDllName's buffer is not mapped

    @property
    def path(self) -> str:
        return "\\SystemRoot\\system32\\drivers\\" + self.name

    @property
    def debug_id(self) -> str:
        g = self.guid.bytes_le
        d1, d2, d3 = struct.unpack_from("<IHH", g)
        return f"{d1:08X}{d2:04X}{d3:04X}{g[8:].hex().upper()}{self.age:X}"

    @property
    def code_id(self) -> str:
        return f"{self.timestamp:08X}{self.size:x}"


def amd64_context(regs: dict[str, int]) -> bytes:
    """AMD64 CONTEXT (0x4D0) from docs/formats.md §1.16."""
    b = bytearray(0x4D0)
    struct.pack_into("<II", b, 0x30, 0x10001F, 0x1F80)
    struct.pack_into("<6H", b, 0x38, 0x10, 0x2B, 0x2B, 0x53, 0x2B, 0x18)
    struct.pack_into("<I", b, 0x44, regs.get("eflags", 0x282))
    names = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
             "r13", "r14", "r15", "rip"]
    for i, n in enumerate(names):
        struct.pack_into("<Q", b, 0x78 + 8 * i, regs.get(n, 0))
    struct.pack_into("<I", b, 0x100 + 0x18, 0x1F80)  # FltSave.MxCsr == MxCsr
    return bytes(b)


def x86_context(regs: dict[str, int]) -> bytes:
    """x86 CONTEXT (0x2CC) from docs/formats.md §1.16."""
    b = bytearray(0x2CC)
    struct.pack_into("<I", b, 0, 0x1001F)
    struct.pack_into("<4I", b, 0x8C, 0x30, 0x23, 0x23, 0x23)
    for off, n in ((0x9C, "edi"), (0xA0, "esi"), (0xA4, "ebx"), (0xA8, "edx"), (0xAC, "ecx"), (0xB0, "eax"),
                   (0xB4, "ebp"), (0xB8, "eip"), (0xC4, "esp")):
        struct.pack_into("<I", b, off, regs.get(n, 0))
    struct.pack_into("<III", b, 0xBC, 0x8, regs.get("eflags", 0x202), regs.get("esp", 0))
    struct.pack_into("<I", b, 0xC8, 0x10)
    return bytes(b)


def arm64_context(regs: dict[str, int]) -> bytes:
    """Windows ARM64 CONTEXT (0x390) from docs/formats.md §1.16."""
    b = bytearray(0x390)
    struct.pack_into("<II", b, 0, 0x40000F, regs.get("cpsr", 0x60000005))
    for i in range(29):
        struct.pack_into("<Q", b, 8 + 8 * i, regs.get(f"x{i}", 0))
    struct.pack_into("<4Q", b, 0xF0, *(regs.get(n, 0) for n in ("fp", "lr", "sp", "pc")))
    return bytes(b)


CONTEXT_WRITERS = {"amd64": amd64_context, "x86": x86_context, "arm64": arm64_context}


@dataclass
class KernelImage:
    """Physical memory + page tables + kernel structures of one synthetic machine."""

    arch: str = "amd64"  # "amd64", "x86" (PAE), "arm64"
    runs: list[tuple[int, int]] = field(default_factory=lambda: [(1, 0x9E), (0x100, 0x700)])
    ncpu: int = 2
    build: int = 19041
    encoded_kdbg: bool = False
    pae: bool = True  # x86 only: False = classic 2-level paging with 4-byte entries

    def __post_init__(self) -> None:
        self.pages: dict[int, bytearray] = {}
        self._free = (pfn for base, n in self.runs for pfn in range(base, base + n))
        self.vmap: dict[int, int] = {}  # va page -> pfn (the builder's own truth)
        self.ptr = 4 if self.arch == "x86" else 8
        self.width = 4 if self.arch == "x86" and not self.pae else 8  # page-table entry size
        if self.arch == "x86" and self.pae:
            pdpt_page = self.alloc()
            self.dtb = pdpt_page * PAGE + 0x20  # 32-byte aligned, deliberately not page aligned
        else:
            self.dtb = self.alloc() * PAGE
        self.drivers: list[BDriver] = []
        self.cpu_regs: list[dict[str, int]] = []
        if self.arch == "x86":
            self.kbase, self.pool = 0x80400000, 0x82000000
        else:
            self.kbase, self.pool = 0xFFFFF80000400000, 0xFFFFA08000000000
        self._pool_next = self.pool

    # -- physical memory ---------------------------------------------------------------
    def alloc(self) -> int:
        pfn = next(self._free)
        self.pages[pfn] = bytearray(PAGE)
        return pfn

    def pwrite(self, pa: int, data: bytes) -> None:
        while data:
            pfn, off = divmod(pa, PAGE)
            take = min(len(data), PAGE - off)
            self.pages.setdefault(pfn, bytearray(PAGE))[off:off + take] = data[:take]
            pa, data = pa + take, data[take:]

    def pread(self, pa: int, n: int) -> bytes:
        return bytes(self.pages[pa // PAGE][pa % PAGE:pa % PAGE + n])

    # -- page tables -------------------------------------------------------------------
    def _child(self, table_pa: int, index: int, width: int, table_flags: int) -> int:
        raw = int.from_bytes(self.pread(table_pa + index * width, width), "little")
        if raw & 1:
            return raw & 0x0000FFFFFFFFF000
        pfn = self.alloc()
        self.pwrite(table_pa + index * width, (pfn * PAGE | table_flags).to_bytes(width, "little"))
        return pfn * PAGE

    def _leaf_slot(self, va: int, level_shift: int = 12) -> int:
        """Physical address of the entry mapping ``va`` at the level ending at ``level_shift``."""
        if self.width == 4:
            if level_shift == 22:
                return self.dtb + (va >> 22) * 4
            pt = self._child(self.dtb, va >> 22, 4, 0x63)
            return pt + ((va >> 12) & 0x3FF) * 4
        if self.arch == "x86":
            pd = self._child(self.dtb, (va >> 30) & 3, 8, 0x1)
            if level_shift == 21:
                return pd + ((va >> 21) & 0x1FF) * 8
            pt = self._child(pd, (va >> 21) & 0x1FF, 8, 0x63)
            return pt + ((va >> 12) & 0x1FF) * 8
        flags = 0x3 if self.arch == "arm64" else 0x63
        table = self.dtb
        for shift in (39, 30, 21):
            if shift == level_shift:
                return table + ((va >> shift) & 0x1FF) * 8
            table = self._child(table, (va >> shift) & 0x1FF, 8, flags)
        return table + ((va >> 12) & 0x1FF) * 8

    def map_page(self, va: int, pfn: int) -> None:
        flags = 0x403 | 0x700 if self.arch == "arm64" else 0x163  # ARM64: page|AF|SH; x86: P|RW|A|D|G
        self.pwrite(self._leaf_slot(va), (pfn * PAGE | flags).to_bytes(self.width, "little"))
        self.vmap[va & ~0xFFF] = pfn

    def map_large(self, va: int, pa: int, size: int) -> None:
        """A 2 MiB / 4 MiB (non-PAE) / 1 GiB page or block mapping; ``pa`` need not be captured."""
        shift = {0x200000: 21, 0x400000: 22}.get(size, 30)
        flags = 0x401 if self.arch == "arm64" else 0xE3  # ARM64 block|AF; x86 P|RW|A|D|PS
        self.pwrite(self._leaf_slot(va, shift), (pa | flags).to_bytes(self.width, "little"))

    def set_pte(self, va: int, value: int) -> None:
        self.pwrite(self._leaf_slot(va), value.to_bytes(self.width, "little"))
        self.vmap.pop(va & ~0xFFF, None)

    def translate(self, va: int) -> int | None:
        pfn = self.vmap.get(va & ~0xFFF)
        return None if pfn is None else pfn * PAGE + (va & 0xFFF)

    # -- virtual memory ------------------------------------------------------------------
    def vwrite(self, va: int, data: bytes) -> None:
        while data:
            page, off = va & ~0xFFF, va & 0xFFF
            if page not in self.vmap:
                self.map_page(page, self.alloc())
            take = min(len(data), PAGE - off)
            self.pwrite(self.vmap[page] * PAGE + off, data[:take])
            va, data = va + take, data[take:]

    def vread(self, va: int, n: int) -> bytes:
        out = bytearray()
        while n:
            take = min(n, PAGE - (va & 0xFFF))
            out += self.pread(self.vmap[va & ~0xFFF] * PAGE + (va & 0xFFF), take)
            va, n = va + take, n - take
        return bytes(out)

    def pool_alloc(self, size: int, align: int = 16) -> int:
        va = (self._pool_next + align - 1) & ~(align - 1)
        self._pool_next = va + size
        return va

    def _p(self, value: int) -> bytes:
        return value.to_bytes(self.ptr, "little")

    def _kp(self, value: int) -> bytes:
        """A KDBG pointer: 64-bit, sign-extended on x86."""
        if self.arch == "x86" and value & 0x80000000:
            value |= 0xFFFFFFFF00000000
        return struct.pack("<Q", value)

    # -- kernel structures ---------------------------------------------------------------
    def pe_headers(self, drv: BDriver) -> bytes:
        """MZ + PE + optional header (PE32 or PE32+) + debug directory + RSDS, in one page."""
        b = bytearray(PAGE)
        b[0:2] = b"MZ"
        struct.pack_into("<I", b, 0x3C, 0x80)
        pe32p = self.ptr == 8
        machine = {"amd64": 0x8664, "x86": 0x14C, "arm64": 0xAA64}[self.arch]
        opt_size = 0xF0 if pe32p else 0xE0
        b[0x80:0x84] = b"PE\0\0"
        struct.pack_into("<HHIIIHH", b, 0x84, machine, 0, drv.timestamp, 0, 0, opt_size, 0x22)
        opt = 0x98
        struct.pack_into("<H", b, opt, 0x20B if pe32p else 0x10B)
        struct.pack_into("<III", b, opt + 56, drv.size, 0x400, 0xC0FFEE)
        dirs = opt + (112 if pe32p else 96)
        struct.pack_into("<I", b, dirs - 4, 16)
        struct.pack_into("<II", b, dirs + 6 * 8, 0x300, 28)
        pdb = drv.pdb.encode() + b"\0"
        struct.pack_into("<IIHHIIII", b, 0x300, 0, drv.timestamp, 0, 0, 2, 24 + len(pdb), 0x340, 0x340)
        b[0x340:0x344] = b"RSDS"
        b[0x344:0x354] = drv.guid.bytes_le
        struct.pack_into("<I", b, 0x354, drv.age)
        b[0x358:0x358 + len(pdb)] = pdb
        return bytes(b)

    def unicode_string(self, text: str, mapped: bool = True) -> bytes:
        data = text.encode("utf-16-le")
        va = self.pool_alloc(len(data) + 2) if mapped else self.pool + 0x07F00000
        if mapped:
            self.vwrite(va, data + b"\0\0")
        if self.ptr == 8:
            return struct.pack("<HHIQ", len(data), len(data) + 2, 0, va)
        return struct.pack("<HHI", len(data), len(data) + 2, va)

    def kldr_entry(self, drv: BDriver, flink: int, blink: int) -> bytes:
        """KLDR_DATA_TABLE_ENTRY (docs/formats.md §2.10), enough of it for the reader."""
        full = self.unicode_string(drv.path, drv.full_name_mapped)
        base = self.unicode_string(drv.name)
        if self.ptr == 8:
            b = bytearray(0xA0)
            struct.pack_into("<QQ", b, 0, flink, blink)
            struct.pack_into("<QQI", b, 0x30, drv.base, drv.base + 0x1000, drv.size)
            b[0x48:0x58], b[0x58:0x68] = full, base
            struct.pack_into("<I", b, 0x78, 0xC0FFEE)
            struct.pack_into("<I", b, 0x9C, drv.timestamp)
        else:
            b = bytearray(0x50)
            struct.pack_into("<II", b, 0, flink, blink)
            struct.pack_into("<III", b, 0x18, drv.base, drv.base + 0x1000, drv.size)
            b[0x24:0x2C], b[0x2C:0x34] = full, base
            struct.pack_into("<I", b, 0x40, 0xC0FFEE)
        return bytes(b)

    def add_standard_drivers(self, count: int = 4) -> None:
        names = ["ntoskrnl.exe", "hal.dll", "disk.sys", "evil.sys", "tcpip.sys", "ndis.sys"]
        step = 0x200000 if self.ptr == 8 else 0x100000
        for i in range(count):
            name = names[i % len(names)] if i < len(names) else f"drv{i}.sys"
            self.drivers.append(BDriver(
                name=name, base=self.kbase + i * step, size=0x80000 + 0x1000 * i,
                timestamp=0x5F000000 + i, pdb=name.rsplit(".", 1)[0] + ".pdb",
                guid=uuid.UUID(int=0x1234567890ABCDEF0011223344556600 + i), age=i + 1,
                headers_mapped=(i != 2), full_name_mapped=(i != 3)))

    def build_kernel(self, loop: bool = False) -> None:
        """PE headers, module list, KDBG, KiProcessorBlock, KPRCBs and CPU contexts."""
        if not self.drivers:
            self.add_standard_drivers()
        for drv in self.drivers:
            if drv.headers_mapped:
                self.vwrite(drv.base, self.pe_headers(drv))
        nt = self.kbase
        self.module_list_va = nt + 0x20000
        self.kdbg_va = nt + 0x10000
        self.processor_block_va = nt + 0x21000
        esz = 0xA0 if self.ptr == 8 else 0x50
        entries = [self.pool_alloc(esz) for _ in self.drivers]
        ring = [self.module_list_va, *entries]
        for i, drv in enumerate(self.drivers):
            flink = ring[(i + 2) % len(ring)]
            if loop and i == len(self.drivers) - 1:
                flink = entries[1]  # back into the list: a loop that never reaches the head
            self.vwrite(entries[i], self.kldr_entry(drv, flink, ring[i]))
        self.vwrite(self.module_list_va, self._p(entries[0]) + self._p(entries[-1]))
        self._cpus()
        self.vwrite(self.kdbg_va, self.kdbg())

    def _cpus(self) -> None:
        writer = CONTEXT_WRITERS[self.arch]
        prcbs = []
        for cpu in range(self.ncpu):
            prcb = self.pool_alloc(0x1000, 0x1000)
            ctx_va = self.pool_alloc(0x500, 0x40)
            regs = self.cpu_registers(cpu)
            self.cpu_regs.append(regs)
            self.vwrite(ctx_va, writer(regs))
            page = bytearray(0x800)
            page[0x40:0x40 + self.ptr] = self._p(ctx_va)  # KPRCB.Context (pointer)
            struct.pack_into("<H", page, 0x24, cpu)  # KPRCB.Number
            page[0x100:0x100 + len(writer(regs))] = writer(regs)  # ProcessorState.ContextFrame
            self.vwrite(prcb, bytes(page))
            prcbs.append(prcb)
        self.vwrite(self.processor_block_va, b"".join(self._p(p) for p in prcbs))

    def cpu_registers(self, cpu: int) -> dict[str, int]:
        if self.arch == "amd64":
            return {"rip": self.kbase + 0x1234 + cpu, "rsp": 0xFFFFF68000010000 + cpu * 0x1000,
                    "rax": 0xAA00 + cpu, "rbp": 0xFFFFF68000010100, "r15": 0x15, "eflags": 0x246}
        if self.arch == "x86":
            return {"eip": self.kbase + 0x1234 + cpu, "esp": 0x8F000000 + cpu * 0x1000, "eax": 0xAA00 + cpu,
                    "ebp": 0x8F000100, "eflags": 0x246}
        return {"pc": self.kbase + 0x1234 + cpu, "sp": 0xFFFF800000010000 + cpu * 0x1000,
                "x0": 0xAA00 + cpu, "x5": 0x5, "fp": 0xFFFF800000010100, "lr": self.kbase + 0x10}

    def kdbg(self) -> bytes:
        """KDDEBUGGER_DATA64 (docs/formats.md §2.9), size 0x3A0."""
        b = bytearray(0x3A0)
        b[0:16] = self._kp(self.kdbg_va) * 2
        b[0x10:0x14] = b"KDBG" if not self.encoded_kdbg else b"\x13\x37\xbe\xef"
        struct.pack_into("<I", b, 0x14, 0x3A0)
        b[0x18:0x20] = self._kp(self.kbase)
        b[0x48:0x50] = self._kp(self.module_list_va)
        b[0x50:0x58] = self._kp(self.kbase + 0x30000)
        b[0x218:0x220] = self._kp(self.processor_block_va)
        struct.pack_into("<H", b, 0x2B4, 0x8)  # OffsetPrcbCurrentThread
        struct.pack_into("<H", b, 0x2BC, 0x100)  # OffsetPrcbProcStateContext
        struct.pack_into("<H", b, 0x2BE, 0x24)  # OffsetPrcbNumber
        struct.pack_into("<H", b, 0x338, 0x40)  # OffsetPrcbContext
        return bytes(b)

    def captured_pages(self) -> list[int]:
        return sorted(self.pages)
