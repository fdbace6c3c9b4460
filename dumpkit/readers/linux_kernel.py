"""Linux kernel facts shared by the kernel-dump readers (ELF vmcore, makedumpfile).

* :func:`parse_vmcoreinfo` turns the VMCOREINFO note text into a :class:`VmcoreInfo`.
* :class:`KernelTranslator` maps kernel virtual addresses to physical ones without page
  tables (docs/formats.md 3.5): the kernel-image rule (VA - __START_KERNEL_map + phys_base on
  x86_64, VA - kimage_voffset on arm64) and the direct map (VA - PAGE_OFFSET + PHYS_OFFSET).
* :func:`read_kernel_log` reads the kernel log from physical memory: the lockless printk
  ring buffer (5.10+), the record-based ``log_buf`` (3.5-5.9) or the plain-text
  ``log_buf`` of older kernels. Best effort: missing symbols or pages give fewer lines.

Nothing here knows a dump container; callers pass a physical :class:`AddressSpace`.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from dumpkit.errors import DumpkitError
from dumpkit.memory import AddressSpace
from dumpkit.model import Dump

__all__ = [
    "MAX_LOG_LINES",
    "KernelTranslator",
    "VmcoreInfo",
    "panic_message",
    "parse_vmcoreinfo",
    "read_kernel_log",
]

MAX_LOG_LINES = 100_000
MAX_LOG_BYTES = 32 << 20
MAX_DESCRIPTOR_MISSES = 256
MAX_VMCOREINFO_LINES = 10_000
X86_64_START_KERNEL_MAP = 0xFFFFFFFF80000000
X86_64_PAGE_OFFSET_4LEVEL = 0xFFFF880000000000  # before 4.20 (and the 4.20+ KASLR-off default is below)
X86_64_PAGE_OFFSET_4LEVEL_NEW = 0xFFFF888000000000
X86_64_PAGE_OFFSET_5LEVEL = 0xFF11000000000000


@dataclass(slots=True)
class VmcoreInfo:
    """The VMCOREINFO note, split by key kind. Every key is optional."""

    osrelease: str | None = None
    build_id: str | None = None
    page_size: int | None = None
    crash_time: int | None = None
    kernel_offset: int | None = None
    symbols: dict[str, int] = field(default_factory=dict)  # SYMBOL(name)
    sizes: dict[str, int] = field(default_factory=dict)  # SIZE(type)
    offsets: dict[str, int] = field(default_factory=dict)  # OFFSET(type.field)
    lengths: dict[str, int] = field(default_factory=dict)  # LENGTH(name)
    numbers: dict[str, int] = field(default_factory=dict)  # NUMBER(name)
    configs: dict[str, str] = field(default_factory=dict)  # CONFIG_X
    other: dict[str, str] = field(default_factory=dict)  # anything else, raw text

    def offset(self, key: str) -> int:
        """OFFSET(key); raises KeyError when absent (callers treat that as "no log")."""
        return self.offsets[key]


def _int(text: str, base: int) -> int:
    t = text.strip()
    neg = t.startswith("-")
    if neg:
        t = t[1:]
    value = int(t[2:], 16) if t[:2].lower() == "0x" else int(t, base)
    return -value if neg else value


def parse_vmcoreinfo(text: str) -> VmcoreInfo:
    """Parse ``KEY=value`` lines (docs/formats.md 5). Malformed lines are skipped."""
    info = VmcoreInfo()
    kinds = {"SYMBOL": (info.symbols, 16), "SIZE": (info.sizes, 10), "OFFSET": (info.offsets, 10),
             "LENGTH": (info.lengths, 10), "NUMBER": (info.numbers, 10)}
    for line in text.split("\n")[:MAX_VMCOREINFO_LINES]:
        key, sep, value = line.strip("\0\r ").partition("=")
        if not sep or not key:
            continue
        try:
            if key.endswith(")") and "(" in key:
                kind, _, name = key[:-1].partition("(")
                if kind in kinds:
                    table, base = kinds[kind]
                    table[name] = _int(value, base)
                    continue
            if key == "OSRELEASE":
                info.osrelease = value.strip()
            elif key == "BUILD-ID":
                info.build_id = value.strip().lower()
            elif key == "PAGESIZE":
                info.page_size = _int(value, 10)
            elif key == "CRASHTIME":
                info.crash_time = _int(value, 10)
            elif key == "KERNELOFFSET":
                info.kernel_offset = _int(value, 16)
            elif key.startswith("CONFIG_"):
                info.configs[key] = value.strip()
            else:
                info.other[key] = value.strip()
        except ValueError:
            info.other[key] = value.strip()
    return info


class KernelTranslator:
    """Kernel VA -> PA without page tables, from VMCOREINFO and optional dump hints.

    ``hints`` are (virtual start, physical start, size) triples a container knows (the
    PT_LOAD segments of an ELF vmcore); they win over the rules.
    """

    def __init__(self, info: VmcoreInfo, arch: str, *,
                 hints: Iterable[tuple[int, int, int]] = (), phys_base: int | None = None,
                 page_offset: int | None = None) -> None:
        self.info, self.arch = info, arch
        self.hints = sorted((v, p, s) for v, p, s in hints if s > 0 and v not in (0, 2**64 - 1))
        self.phys_base = phys_base if phys_base is not None else info.numbers.get("phys_base")
        self.page_offset = page_offset

    def candidates(self, va: int) -> list[int]:
        """Physical addresses ``va`` may translate to, most likely first."""
        out = [p + (va - v) for v, p, s in self.hints if v <= va < v + s]
        n = self.info.numbers
        if self.arch == "amd64":
            if va >= X86_64_START_KERNEL_MAP:  # phys_base may be printed signed (%ld)
                out.append((va - X86_64_START_KERNEL_MAP + (self.phys_base or 0)) & (2**64 - 1))
            else:
                if self.page_offset is not None:
                    out.append(va - self.page_offset)
                bases = ([X86_64_PAGE_OFFSET_5LEVEL] if n.get("pgtable_l5_enabled") else
                         [X86_64_PAGE_OFFSET_4LEVEL_NEW, X86_64_PAGE_OFFSET_4LEVEL])
                out.extend(va - b for b in bases if va >= b)
        elif self.arch == "arm64":
            if "kimage_voffset" in n:
                out.append((va - n["kimage_voffset"]) & (2**64 - 1))
            va_bits = n.get("VA_BITS")
            if va_bits:
                page_offset = (2**64 - (1 << va_bits)) & (2**64 - 1)
                out.append(va - page_offset + n.get("PHYS_OFFSET", 0))
        elif self.page_offset is not None and va >= self.page_offset:
            out.append(va - self.page_offset)
        return [pa for pa in out if 0 <= pa < 2**64]

    def read(self, phys: AddressSpace, va: int, size: int) -> bytes:
        """``size`` bytes at kernel VA ``va``; raises :class:`DumpkitError` if none is captured."""
        last: DumpkitError | None = None
        for pa in self.candidates(va):
            try:
                return phys.read(pa, size)
            except DumpkitError as exc:
                last = exc
        raise last or DumpkitError(f"kernel address {va:#x} has no physical translation",
                                   structure="kernel_va", code="not_captured")


@dataclass(slots=True)
class _Reader:
    """Kernel virtual memory of one dump, read through its page tables."""

    phys: AddressSpace
    tr: KernelTranslator
    width: int
    order: str

    def bytes(self, va: int, size: int) -> bytes:
        return self.tr.read(self.phys, va, size)

    def uint(self, va: int, size: int) -> int:
        return int.from_bytes(self.bytes(va, size), self.order)  # type: ignore[arg-type]

    def ptr(self, va: int) -> int:
        return self.uint(va, self.width)


def read_kernel_log(phys: AddressSpace, info: VmcoreInfo, *, arch: str = "amd64",
                    byteorder: str = "little", pointer_size: int = 8,
                    translator: KernelTranslator | None = None) -> list[str]:
    """The kernel log lines (oldest first), ``[]`` when it cannot be found or read."""
    r = _Reader(phys, translator or KernelTranslator(info, arch), pointer_size, byteorder)
    readers: list[Callable[[_Reader, VmcoreInfo], list[str]]] = []
    if "prb" in info.symbols:
        readers.append(_lockless_log)
    if "log_buf" in info.symbols and ("printk_log" in info.sizes or "log" in info.sizes):
        readers.append(_record_log)
    if "log_buf" in info.symbols and "log_end" in info.symbols:
        readers.append(_text_log)
    for fn in readers:
        try:
            lines = fn(r, info)
        except (DumpkitError, KeyError, ValueError, OverflowError, MemoryError):
            continue
        if lines:
            return lines[-MAX_LOG_LINES:]
    return []


def _line(ts_nsec: int, text: bytes) -> list[str]:
    stamp = f"[{ts_nsec // 1_000_000_000:5d}.{ts_nsec % 1_000_000_000 // 1000:06d}] "
    return [stamp + part for part in text.decode("utf-8", "replace").split("\n")]


def _lockless_log(r: _Reader, info: VmcoreInfo) -> list[str]:
    """printk ring buffer (5.10+): descriptors + info array + text data ring."""
    o = info.offsets
    prb = r.ptr(info.symbols["prb"])
    desc_ring = prb + o["printk_ringbuffer.desc_ring"]
    text_ring = prb + o["printk_ringbuffer.text_data_ring"]
    count_bits = r.uint(desc_ring + o["prb_desc_ring.count_bits"], 4)
    descs = r.ptr(desc_ring + o["prb_desc_ring.descs"])
    infos = r.ptr(desc_ring + o["prb_desc_ring.infos"])
    counter = o.get("atomic_long_t.counter", 0)
    head_id = r.ptr(desc_ring + o["prb_desc_ring.head_id"] + counter)
    tail_id = r.ptr(desc_ring + o["prb_desc_ring.tail_id"] + counter)
    size_bits = r.uint(text_ring + o["prb_data_ring.size_bits"], 4)
    data = r.ptr(text_ring + o["prb_data_ring.data"])
    if count_bits > 24 or size_bits > 31:
        return []
    desc_size, info_size = info.sizes["prb_desc"], info.sizes["printk_info"]
    data_size = 1 << size_bits
    bits = 8 * r.width
    state_shift = bits - 2
    id_mask = (1 << state_shift) - 1
    mask = (1 << count_bits) - 1
    lpos_begin = o["prb_desc.text_blk_lpos"] + o["prb_data_blk_lpos.begin"]
    lpos_next = o["prb_desc.text_blk_lpos"] + o["prb_data_blk_lpos.next"]
    lines: list[str] = []
    ident = tail_id
    misses = 0  # a real ring has few unusable descriptors between tail and head
    for _ in range(min(1 << count_bits, MAX_LOG_LINES)):
        if misses > MAX_DESCRIPTOR_MISSES:
            break
        index = ident & mask
        desc = descs + index * desc_size
        try:
            state_var = r.ptr(desc + o["prb_desc.state_var"] + counter)
            state = state_var >> state_shift
            if state in (1, 2) and (state_var & id_mask) == (ident & id_mask):  # committed / finalized
                begin, nxt = r.ptr(desc + lpos_begin), r.ptr(desc + lpos_next)
                rec = infos + index * info_size
                text_len = r.uint(rec + o["printk_info.text_len"], 2)
                ts = r.uint(rec + o["printk_info.ts_nsec"], 8)
                misses = 0
                if not begin & 1 and text_len:  # bit 0 set: a data-less record
                    start = begin % data_size
                    if begin // data_size != nxt // data_size:  # the block wrapped to offset 0
                        start = 0
                    text = r.bytes(data + start + r.width, text_len)  # after the block's id word
                    lines.extend(_line(ts, text))
            else:
                misses += 1
        except DumpkitError:
            misses += 1
        if ident & id_mask == head_id & id_mask:
            break
        ident = (ident + 1) & id_mask
    return lines


def _record_log(r: _Reader, info: VmcoreInfo) -> list[str]:
    """Variable-length printk_log records in log_buf (3.5 - 5.9)."""
    kind = "printk_log" if "printk_log" in info.sizes else "log"
    o, hdr = info.offsets, info.sizes[kind]
    buf = r.ptr(info.symbols["log_buf"])
    length = r.uint(info.symbols["log_buf_len"], 4)
    first = r.uint(info.symbols["log_first_idx"], 4)
    nxt = r.uint(info.symbols["log_next_idx"], 4)
    if not 0 < length <= MAX_LOG_BYTES:
        return []
    raw = r.bytes(buf, length)
    lines: list[str] = []
    idx, wrapped = first, False
    order = r.order

    def field(at: int, name: str, size: int) -> int:
        ofs = at + o[f"{kind}.{name}"]
        return int.from_bytes(raw[ofs:ofs + size], order)  # type: ignore[arg-type]

    for _ in range(MAX_LOG_LINES):
        if idx == nxt or idx + hdr > length:
            break
        rec_len = field(idx, "len", 2)
        if rec_len == 0:  # wrap marker: the next record is at the start of the buffer
            if wrapped:
                break
            idx, wrapped = 0, True
            continue
        text_len = field(idx, "text_len", 2)
        lines.extend(_line(field(idx, "ts_nsec", 8), raw[idx + hdr: idx + hdr + text_len]))
        idx += rec_len
    return lines


def _text_log(r: _Reader, info: VmcoreInfo) -> list[str]:
    """The plain character ring of kernels before 3.5 (log_buf, log_end, log_buf_len)."""
    buf = r.ptr(info.symbols["log_buf"])
    length = r.uint(info.symbols["log_buf_len"], 4)
    end = r.uint(info.symbols["log_end"], 4)
    if not 0 < length <= MAX_LOG_BYTES or length & (length - 1):
        return []
    raw = r.bytes(buf, length)
    if end > length:  # the ring wrapped: oldest bytes start at log_end
        pos = end & (length - 1)
        raw = raw[pos:] + raw[:pos]
    else:
        raw = raw[:end]
    text = raw.replace(b"\0", b"").decode("utf-8", "replace")
    return [line for line in text.split("\n") if line]


def panic_message(lines: list[str]) -> str | None:
    """The last "Kernel panic - not syncing: ..." line (without the timestamp), if any."""
    for line in reversed(lines):
        at = line.find("Kernel panic - not syncing")
        if at >= 0:
            return line[at:].strip()
    for line in reversed(lines):
        for marker in ("BUG: ", "Oops", "general protection fault", "Unable to handle kernel"):
            at = line.find(marker)
            if at >= 0:
                return line[at:].strip()
    return None


#: How many of the kernel log's last lines go into ``annotations["kernel_log_tail"]``.
LOG_TAIL_LINES = 50


def attach_kernel_log(dump: Dump, phys: AddressSpace, info: VmcoreInfo, *, arch: str, byteorder: str,
                      pointer_size: int, translator: KernelTranslator) -> None:
    """Put the kernel log tail and the panic message into ``dump`` when the log is readable."""
    lines = read_kernel_log(phys, info, arch=arch, byteorder=byteorder, pointer_size=pointer_size,
                            translator=translator)
    if not lines:
        if "prb" in info.symbols or "log_buf" in info.symbols:
            dump.diag("no_kernel_log", "the kernel log buffer is not captured or not readable",
                      severity="info", structure="VMCOREINFO")
        return
    dump.annotations["kernel_log_tail"] = "\n".join(lines[-LOG_TAIL_LINES:])
    if dump.crash is not None:
        dump.crash.message = panic_message(lines)
