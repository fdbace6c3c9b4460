"""Synthetic makedumpfile kdump-compressed files (docs/formats.md 6) and their flattened form.

Plain :mod:`struct`; shares nothing with ``ksy/kdump_compressed.ksy`` or ``dumpkit/``, so a
layout mistake on either side shows up as a test failure.

    data = (KdumpBuilder(machine="x86_64")
            .page(0, b"A" * 4096, "zlib").page(5, b"B" * 4096, "zstd").ram(1, 5)
            .vmcoreinfo("OSRELEASE=6.1.0\\n").prstatus(pid=7, regs=x86_64_regs(rip=0x1234))
            .build())
    stream = flatten(data, chunk=1000, shuffle=True)

Pages can be stored raw or compressed with zlib, zstd, lzo (``lzallright``) or snappy
(``cramjam``); like makedumpfile, a page that does not shrink is stored raw. Every
all-zero page may share one stored zero page (``shared_zero``). PFNs given to
:meth:`KdumpBuilder.ram` but not to :meth:`KdumpBuilder.page` are RAM that was excluded
(1st bitmap set, 2nd clear).
"""
from __future__ import annotations

import random
import struct
import zlib
from dataclasses import dataclass, field

__all__ = ["KdumpBuilder", "arm_regs", "flatten", "i386_regs", "x86_64_regs"]

ZLIB, LZO, SNAPPY, INCOMPLETE, ZSTD = 0x1, 0x2, 0x4, 0x8, 0x20
FLAGS = {"raw": 0, "zlib": ZLIB, "lzo": LZO, "snappy": SNAPPY, "zstd": ZSTD}
NT_PRSTATUS = 1
X86_64_ORDER = ("r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8", "rax", "rcx", "rdx",
                "rsi", "rdi", "orig_rax", "rip", "cs", "eflags", "rsp", "ss", "fs_base", "gs_base",
                "ds", "es", "fs", "gs")
I386_ORDER = ("ebx", "ecx", "edx", "esi", "edi", "ebp", "eax", "ds", "es", "fs", "gs", "orig_eax",
              "eip", "cs", "eflags", "esp", "ss")


def x86_64_regs(**values: int) -> list[int]:
    """user_regs_struct of x86_64 (27 values) with the named registers set."""
    return [values.get(name, 0) for name in X86_64_ORDER]


def i386_regs(**values: int) -> list[int]:
    """user_regs_struct of i386 (17 values) with the named registers set."""
    return [values.get(name, 0) for name in I386_ORDER]


def arm_regs(**values: int) -> list[int]:
    """ARM pt_regs (18 values: r0-r12, sp, lr, pc, cpsr, orig_r0) with the named registers set."""
    names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "cpsr", "orig_r0"]
    return [values.get(name, 0) for name in names]


def _compress(method: str, data: bytes) -> bytes:
    if method == "zlib":
        return zlib.compress(data)
    if method == "zstd":
        import zstandard

        return zstandard.ZstdCompressor().compress(data)
    if method == "lzo":
        import lzallright

        return bytes(lzallright.LZOCompressor().compress(data))
    if method == "snappy":
        import cramjam

        return bytes(cramjam.snappy.compress_raw(data))
    raise ValueError(method)


@dataclass
class KdumpBuilder:
    machine: str = "x86_64"
    block_size: int = 4096
    version: int = 6
    big_endian: bool = False
    is_32: bool = False
    signature: bytes = b"KDUMP   "
    release: str = "6.1.0-test"
    nodename: str = "testhost"
    timestamp: int = 1_700_000_000
    nr_cpus: int = 1
    status: int = 0
    dump_level: int = 31
    phys_base: int = 0x1000000
    max_pfn: int | None = None  # default: highest page or RAM PFN + 1
    shared_zero: bool = True
    split: tuple[int, int] | None = None
    pages: dict[int, tuple[bytes, str]] = field(default_factory=dict)
    ram_pfns: set[int] = field(default_factory=set)
    notes: list[tuple[str, int, bytes]] = field(default_factory=list)
    raw_notes: bytes | None = None
    vmcoreinfo_text: str | None = None
    eraseinfo_text: str | None = None

    # -- inputs ---------------------------------------------------------------------
    @property
    def e(self) -> str:
        return ">" if self.big_endian else "<"

    @property
    def packed(self) -> bool:
        """i386 packs u64 on 4 bytes; other 32-bit ABIs align it to 8."""
        return self.is_32 and self.machine.startswith(("i3", "i4", "i5", "i6"))

    def page(self, pfn: int, data: bytes, method: str = "raw") -> KdumpBuilder:
        assert len(data) == self.block_size and method in FLAGS
        self.pages[pfn] = (data, method)
        self.ram_pfns.add(pfn)
        return self

    def ram(self, first: int, last: int) -> KdumpBuilder:
        """PFNs ``first``..``last`` (inclusive) are RAM; those without a page are excluded."""
        self.ram_pfns.update(range(first, last + 1))
        return self

    def note(self, name: str, ntype: int, desc: bytes) -> KdumpBuilder:
        self.notes.append((name, ntype, desc))
        return self

    def vmcoreinfo(self, text: str) -> KdumpBuilder:
        self.vmcoreinfo_text = text
        return self

    def eraseinfo(self, text: str) -> KdumpBuilder:
        self.eraseinfo_text = text
        return self

    def prstatus(self, *, pid: int, regs: list[int], ppid: int = 0) -> KdumpBuilder:
        """An NT_PRSTATUS note: the ILP32 or LP64 elf_prstatus head, then ``regs`` as longs."""
        e = self.e
        if self.is_32:
            head = struct.pack(e + "iiihxxIIiiii", 0, 0, 0, 0, 0, 0, pid, ppid, pid, pid) + bytes(32)
            desc = head + struct.pack(e + f"{len(regs)}I", *regs) + bytes(4)
        else:
            head = struct.pack(e + "iiihxxQQiiii", 0, 0, 0, 0, 0, 0, pid, ppid, pid, pid) + bytes(64)
            desc = head + struct.pack(e + f"{len(regs)}Q", *regs) + bytes(8)
        return self.note("CORE", NT_PRSTATUS, desc)

    # -- layout ---------------------------------------------------------------------
    def _note_bytes(self) -> tuple[bytes, int | None]:
        """The note area and the offset of the VMCOREINFO text inside it (v4+)."""
        out = bytearray()
        vmci_at = None
        notes = list(self.notes)
        if self.vmcoreinfo_text is not None and self.version >= 4:
            notes.append(("VMCOREINFO", 0, self.vmcoreinfo_text.encode()))
        for name, ntype, desc in notes:
            raw = name.encode() + b"\0"
            out += struct.pack(self.e + "III", len(raw), len(desc), ntype)
            out += raw.ljust((len(raw) + 3) & ~3, b"\0")
            if name == "VMCOREINFO":
                vmci_at = len(out)
            out += desc.ljust((len(desc) + 3) & ~3, b"\0")
        if self.raw_notes is not None:
            return self.raw_notes, None
        return bytes(out), vmci_at

    def _header(self, sub_blocks: int, bitmap_blocks: int, max_pfn: int) -> bytes:
        e = self.e
        uts = b"".join(s.encode().ljust(65, b"\0") for s in
                       ("Linux", self.nodename, self.release, "#1 SMP PREEMPT_DYNAMIC test", self.machine,
                        "(none)"))
        written = len(self.pages)
        if self.is_32:
            tail = struct.pack(e + "iiIiiIIIIIIi", self.timestamp, 0, self.status, self.block_size,
                               sub_blocks, bitmap_blocks, max_pfn & 0xFFFFFFFF, len(self.ram_pfns), 0,
                               written, 0, self.nr_cpus)
            return self.signature + struct.pack(e + "i", self.version) + uts + bytes(2) + tail
        tail = struct.pack(e + "qqIiiIIIIIIi", self.timestamp, 0, self.status, self.block_size,
                           sub_blocks, bitmap_blocks, max_pfn & 0xFFFFFFFF, len(self.ram_pfns), 0, written, 0,
                           self.nr_cpus)
        return self.signature + struct.pack(e + "i", self.version) + uts + bytes(6) + tail

    def _sub_header(self, ofs_vmci: int, len_vmci: int, ofs_note: int, len_note: int, ofs_erase: int,
                    len_erase: int, max_pfn: int) -> bytes:
        e = self.e
        split, (start, end) = (1, self.split) if self.split else (0, (0, 0))
        values = (self.phys_base, self.dump_level, split, start, end, ofs_vmci, len_vmci, ofs_note, len_note,
                  ofs_erase, len_erase, start, end, max_pfn)
        if not self.is_32:
            return struct.pack(e + "QiiQQqQqQqQQQQ", *values)
        if self.packed:
            return struct.pack(e + "IiiIIqIqIqIQQQ", *values)
        return struct.pack(e + "IiiII4xqI4xqI4xqI4xQQQ", *values)

    def build(self) -> bytes:
        bs = self.block_size
        top = max([*self.ram_pfns, *self.pages, -1]) + 1
        max_pfn = self.max_pfn if self.max_pfn is not None else top
        sub_len = 0x50 if self.packed else 0x60 if self.is_32 else 0x68
        notes, vmci_in_notes = self._note_bytes() if self.version >= 4 else (b"", None)
        ofs_note = bs + ((sub_len + 7) & ~7)
        vmci_raw = self.vmcoreinfo_text.encode() if self.vmcoreinfo_text is not None else b""
        if self.version >= 4:
            ofs_vmci = ofs_note + vmci_in_notes if vmci_in_notes is not None else 0
            len_vmci = len(vmci_raw) if vmci_in_notes is not None else 0
            meta_end = ofs_note + len(notes)
        else:  # v3: VMCOREINFO text right after the sub-header
            ofs_vmci, len_vmci = (ofs_note, len(vmci_raw)) if vmci_raw else (0, 0)
            meta_end = ofs_note + len(vmci_raw)
        sub_blocks = max(1, (meta_end - bs + bs - 1) // bs)
        bitmap_bytes = (max_pfn + 7) // 8
        half_blocks = (bitmap_bytes + bs - 1) // bs
        bitmap_blocks = 2 * half_blocks
        first, second = bytearray(half_blocks * bs), bytearray(half_blocks * bs)
        for pfn in self.ram_pfns:
            if pfn < max_pfn:
                first[pfn >> 3] |= 1 << (pfn & 7)
        dumped = sorted(p for p in self.pages if p < max_pfn)
        for pfn in dumped:
            second[pfn >> 3] |= 1 << (pfn & 7)
        descs_at = (1 + sub_blocks + bitmap_blocks) * bs
        data_at = descs_at + 24 * len(dumped)
        descs, data = bytearray(), bytearray()
        zero_desc: tuple[int, int, int] | None = None
        for pfn in dumped:
            page, method = self.pages[pfn]
            if self.shared_zero and page == bytes(bs) and zero_desc is not None:
                descs += struct.pack(self.e + "qIIQ", zero_desc[0], zero_desc[1], zero_desc[2], 0)
                continue
            stored, flags = page, 0
            if method != "raw":
                packed = _compress(method, page)
                if len(packed) < bs:
                    stored, flags = packed, FLAGS[method]
            entry = (data_at + len(data), len(stored), flags)
            if page == bytes(bs):
                zero_desc = entry
            descs += struct.pack(self.e + "qIIQ", entry[0], entry[1], entry[2], 0)
            data += stored
        erase = self.eraseinfo_text.encode() if self.eraseinfo_text and self.version >= 5 else b""
        ofs_erase = data_at + len(data) if erase else 0
        out = bytearray(self._header(sub_blocks, bitmap_blocks, max_pfn).ljust(bs, b"\0"))
        out += self._sub_header(ofs_vmci, len_vmci, ofs_note if notes else 0, len(notes), ofs_erase,
                                len(erase), max_pfn)
        out += bytes(ofs_note - len(out))
        out += notes if self.version >= 4 else vmci_raw
        out += bytes((1 + sub_blocks) * bs - len(out))
        out += first + second + descs + data + erase
        return bytes(out)


def flatten(image: bytes, *, chunk: int = 4096, shuffle: bool = False, overwrite: bool = False,
            holes: bool = False, seed: int = 1) -> bytes:
    """The flattened stream (``makedumpfile -F``) of ``image``.

    ``shuffle`` writes the records in random order; ``overwrite`` first writes garbage over
    some ranges that later records put right (the later record wins); ``holes`` leaves out
    all-zero chunks (they read back as zeros). The last chunk is always written.
    """
    rng = random.Random(seed)
    pieces = [(at, image[at:at + chunk]) for at in range(0, len(image), chunk)]
    if holes:
        pieces = [p for i, p in enumerate(pieces) if any(p[1]) or i == len(pieces) - 1]
    if shuffle:
        rng.shuffle(pieces)
    out = bytearray(b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)).ljust(4096, b"\0")
    if overwrite:
        for at, blob in rng.sample(pieces, min(3, len(pieces))):
            junk = bytes(rng.randrange(256) for _ in range(len(blob)))
            out += struct.pack(">qq", at, len(junk)) + junk
    for at, blob in pieces:
        out += struct.pack(">qq", at, len(blob)) + blob
    out += struct.pack(">qq", -1, -1)
    return bytes(out)
