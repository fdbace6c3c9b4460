"""A builder of synthetic ELF core files (docs/formats.md §4-5), chainable:

    core = (ElfCoreBuilder(machine=62, is_64=True)
            .note("CORE", NT_PRSTATUS, prstatus(b, pid=7, signal=11, regs=[...]))
            .load(0x400000, b"\\x7fELF...", flags=5)
            .build())

Plain :mod:`struct`; shares nothing with ``ksy/`` or ``dumpkit/``. Descriptor helpers take
the builder (for byte order and word size) so one test can make a big-endian ELF32 core
and a little-endian ELF64 one from the same facts.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["NT_AUXV", "NT_FILE", "NT_PRPSINFO", "NT_PRSTATUS", "NT_SIGINFO", "ElfCoreBuilder",
           "auxv", "mapped_files", "prpsinfo", "prstatus", "siginfo"]

NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV = 1, 2, 3, 6
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
EM_WORD = {3: 4, 40: 4, 20: 4, 62: 8, 183: 8, 21: 8}


@dataclass
class _Load:
    vaddr: int
    data: bytes
    memsz: int
    flags: int
    paddr: int


@dataclass
class ElfCoreBuilder:
    machine: int = 62
    is_64: bool = True
    big_endian: bool = False
    osabi: int = 0
    pn_xnum: bool = False  # write e_phnum = 0xFFFF and the count in section header 0
    extra_phdrs: int = 0  # PT_NULL entries added to the table (PN_XNUM tests)
    notes: list[tuple[str, int, bytes]] = field(default_factory=list)
    loads: list[_Load] = field(default_factory=list)

    @property
    def e(self) -> str:
        return ">" if self.big_endian else "<"

    @property
    def word(self) -> int:
        """The ABI long: fixed by the machine where it has one width, else the class."""
        return EM_WORD.get(self.machine, 8 if self.is_64 else 4)

    def w(self, fmt: str) -> str:
        """A struct format with ``L`` meaning the ABI long."""
        return self.e + fmt.replace("L", "Q" if self.word == 8 else "I")

    def note(self, name: str, ntype: int, desc: bytes) -> ElfCoreBuilder:
        self.notes.append((name, ntype, desc))
        return self

    def load(self, vaddr: int, data: bytes, *, memsz: int | None = None, flags: int = 6,
             paddr: int = 0) -> ElfCoreBuilder:
        self.loads.append(_Load(vaddr, data, len(data) if memsz is None else memsz, flags, paddr))
        return self

    def _note_bytes(self) -> bytes:
        out = bytearray()
        for name, ntype, desc in self.notes:
            raw = name.encode() + b"\0"
            out += struct.pack(self.e + "III", len(raw), len(desc), ntype)
            out += raw.ljust((len(raw) + 3) & ~3, b"\0") + desc.ljust((len(desc) + 3) & ~3, b"\0")
        return bytes(out)

    def build(self) -> bytes:
        e = self.e
        ehsize, phentsize, shentsize = (64, 56, 64) if self.is_64 else (52, 32, 40)
        nphdr = (1 if self.notes else 0) + len(self.loads) + self.extra_phdrs
        phoff = ehsize
        shoff = phoff + nphdr * phentsize if self.pn_xnum else 0
        data_start = (shoff + shentsize if self.pn_xnum else phoff + nphdr * phentsize)
        notes = self._note_bytes()
        cursor = (data_start + 15) & ~15
        segments: list[tuple[int, int, int, int, int, int, int]] = []  # type, flags, off, va, pa, fs, ms
        blobs: list[tuple[int, bytes]] = []
        if self.notes:
            segments.append((4, 4, cursor, 0, 0, len(notes), len(notes)))
            blobs.append((cursor, notes))
            cursor = (cursor + len(notes) + 0xFFF) & ~0xFFF
        for ld in self.loads:
            segments.append((1, ld.flags, cursor, ld.vaddr, ld.paddr, len(ld.data), ld.memsz))
            blobs.append((cursor, ld.data))
            cursor = (cursor + len(ld.data) + 0xFFF) & ~0xFFF
        segments += [(0, 0, 0, 0, 0, 0, 0)] * self.extra_phdrs
        ident = b"\x7fELF" + bytes([2 if self.is_64 else 1, 2 if self.big_endian else 1, 1, self.osabi])
        ident = ident.ljust(16, b"\0")
        phnum = 0xFFFF if self.pn_xnum else nphdr
        if self.is_64:
            header = struct.pack(e + "HHIQQQIHHHHHH", 4, self.machine, 1, 0, phoff, shoff, 0, ehsize,
                                 phentsize, phnum, shentsize, 1 if self.pn_xnum else 0, 0)
        else:
            header = struct.pack(e + "HHIIIIIHHHHHH", 4, self.machine, 1, 0, phoff, shoff, 0, ehsize,
                                 phentsize, phnum, shentsize, 1 if self.pn_xnum else 0, 0)
        out = bytearray(ident + header)
        for p_type, flags, off, va, pa, fs, ms in segments:
            if self.is_64:
                out += struct.pack(e + "IIQQQQQQ", p_type, flags, off, va, pa, fs, ms, 0x1000)
            else:
                out += struct.pack(e + "IIIIIIII", p_type, off, va, pa, fs, ms, flags, 0x1000)
        if self.pn_xnum:
            if self.is_64:
                out += struct.pack(e + "IIQQQQIIQQ", 0, 0, 0, 0, 0, 0, 0, nphdr, 0, 0)
            else:
                out += struct.pack(e + "IIIIIIIIII", 0, 0, 0, 0, 0, 0, 0, nphdr, 0, 0)
        for off, blob in blobs:
            out += b"\0" * (off - len(out))
            out += blob
        return bytes(out)

    def write(self, path: Path) -> Path:
        path.write_bytes(self.build())
        return path


def prstatus(b: ElfCoreBuilder, *, pid: int, signal: int = 0, ppid: int = 1, regs: list[int],
             reg_width: int | None = None) -> bytes:
    """struct elf_prstatus: 0x70-byte LP64 / 0x48-byte ILP32 prefix, pr_reg words, pr_fpvalid."""
    width = reg_width or b.word
    head = struct.pack(b.w("iiih2xLLiiii"), signal, 0, 0, signal, 0, 0, pid, ppid, pid, pid)
    head += struct.pack(b.w("LL"), 3, 250000) + struct.pack(b.w("LL"), 1, 500000) + b"\0" * (4 * b.word)
    body = struct.pack(b.e + ("Q" if width == 8 else "I") * len(regs), *regs)
    blob = head + body + struct.pack(b.e + "i", 1)
    return blob.ljust((len(blob) + b.word - 1) // b.word * b.word, b"\0")


def prpsinfo(b: ElfCoreBuilder, *, pid: int, ppid: int = 1, uid: int = 1000, gid: int = 100,
             fname: bytes, args: bytes, uid16: bool = False) -> bytes:
    """struct elf_prpsinfo (136 bytes LP64; 124 with 16-bit ids or 128 on ILP32)."""
    ids = struct.pack(b.e + ("HH" if uid16 else "II"), uid, gid)
    if b.word == 8:
        head = struct.pack(b.e + "bcbb4xQ", 0, b"R", 0, 0, 0)
    else:
        head = struct.pack(b.e + "bcbbI", 0, b"R", 0, 0, 0)
    return head + ids + struct.pack(b.e + "iiii", pid, ppid, pid, pid) + fname.ljust(16, b"\0")[:16] \
        + args.ljust(80, b"\0")[:80]


def siginfo(b: ElfCoreBuilder, *, signo: int, code: int, addr: int = 0, sender: int = 0) -> bytes:
    """User siginfo_t (128 bytes): signo, errno, code, then the union at 0x10 (LP64) / 0x0C."""
    head = struct.pack(b.e + "iii", signo, 0, code) + (b"\0" * 4 if b.word == 8 else b"")
    union = struct.pack(b.w("L"), addr) if addr else struct.pack(b.e + "iI", sender, 0)
    return (head + union).ljust(128, b"\0")


def auxv(b: ElfCoreBuilder, pairs: list[tuple[int, int]]) -> bytes:
    return b"".join(struct.pack(b.w("LL"), t, v) for t, v in [*pairs, (0, 0)])


def mapped_files(b: ElfCoreBuilder, page: int, entries: list[tuple[int, int, int, str]],
                 count: int | None = None) -> bytes:
    """NT_FILE: count, page size, (start, end, page offset) triples, NUL-terminated paths."""
    out = struct.pack(b.w("LL"), len(entries) if count is None else count, page)
    out += b"".join(struct.pack(b.w("LLL"), s, e, o // page) for s, e, o, _ in entries)
    return out + b"".join(p.encode() + b"\0" for *_, p in entries)
