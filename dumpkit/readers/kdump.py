"""Reader for makedumpfile's compressed kernel dumps (``KDUMP   ``, legacy ``DISKDUMP``) and
their flattened stream form (``makedumpfile -F``).

``read(path)`` picks the target's byte order and word size from the header's sanity rules
(docs/formats.md 6), parses the header and sub-header with the generated parser
(``ksy/kdump_compressed.ksy``), decodes the note copy (per-CPU NT_PRSTATUS, VMCOREINFO)
with the ELF note walker, and maps physical memory through the page bitmap
(:mod:`kdump_pages`). A flattened file is indexed once (:mod:`kdump_flat`) and read as the
file it stands for. The kernel facts are filled by :mod:`linux_kernel_dump`, as for an ELF
vmcore: a Linux panic with one thread per CPU, the kernel log tail and the panic message
when the log is captured.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from dumpkit.bitmap import PageBitmap
from dumpkit.errors import DumpkitError, DumpParseError
from dumpkit.formats.kdump_compressed import KdumpCompressed
from dumpkit.memory import FileView
from dumpkit.model import Dump, MemoryRegion, SourceInfo, SystemInfo
from dumpkit.readers import elf_core
from dumpkit.readers.elf_notes import CoreNotes, NoteArea, NoteTarget, walk_notes
from dumpkit.readers.elf_registers import cpu_arch, has_register_layout
from dumpkit.readers.kaitai import guard, stream_of
from dumpkit.readers.kdump_flat import FlatView, index_flattened
from dumpkit.readers.kdump_linux import elf_machine, guess_machine
from dumpkit.readers.kdump_pages import (
    COMPRESSION_NAMES,
    ByteSource,
    KdumpPhysicalSpace,
    decompressor_available,
)
from dumpkit.readers.linux_kernel import VmcoreInfo, parse_vmcoreinfo
from dumpkit.readers.linux_kernel_dump import KernelTarget, fill_linux_kernel

__all__ = ["HeaderLayout", "probe_layout", "read"]

FLAT_MAGIC = b"makedumpfile\0\0\0\0"
MIN_BLOCK_SIZE, MAX_BLOCK_SIZE = 512, 1 << 18  # Linux pages are 4 KiB .. 256 KiB
MAX_HEADER_VERSION = 64
MAX_NOTE_BYTES = 16 << 20
MAX_VMCOREINFO_BYTES = 1 << 20
MAX_ERASEINFO_BYTES = 1 << 16
MAX_REGIONS = 4096
STATUS_INCOMPLETE = 0x8
#: 32-bit machines (utsname.machine prefixes): i386 packs u64 on 4 bytes, the rest align to 8.
_PACKED_32 = ("i386", "i486", "i586", "i686", "x86")
_KNOWN_32 = (*_PACKED_32, "arm", "ppc", "powerpc", "mips", "sparc", "m68k", "riscv32", "s390")
_KNOWN_64 = ("x86_64", "amd64", "aarch64", "arm64", "ppc64", "s390x", "riscv64", "mips64",
             "loongarch64", "sparc64", "alpha", "parisc64", "ia64")
Layout: Any = KdumpCompressed.SubHeaderLayout  # the generated enum (untyped module)


@dataclass(frozen=True, slots=True)
class HeaderLayout:
    """The target's byte order, word size and sub-header layout, as probed."""

    is_be: bool
    is_32: bool
    sub_layout: Any  # KdumpCompressed.SubHeaderLayout
    machine: str


def _word_size_of(machine: str) -> int | None:
    m = machine.lower()
    if m.startswith(_KNOWN_64):
        return 64
    if m.startswith(_KNOWN_32):
        return 32
    return None


def _sane(head: bytes, is_32: bool, is_be: bool) -> bool:
    """libkdumpfile's rules (docs/formats.md 6) plus a plausible header_version."""
    order: Literal["little", "big"] = "big" if is_be else "little"
    at = 0x1A0 if is_32 else 0x1AC  # block_size; bitmap_blocks and max_mapnr follow sub_hdr_size
    if len(head) < at + 16:
        return False
    version = int.from_bytes(head[8:12], order, signed=True)
    block = int.from_bytes(head[at:at + 4], order, signed=True)
    sub_blocks = int.from_bytes(head[at + 4:at + 8], order, signed=True)
    bitmap_blocks = int.from_bytes(head[at + 8:at + 12], order)
    max_mapnr = int.from_bytes(head[at + 12:at + 16], order)
    return (0 <= version <= MAX_HEADER_VERSION and MIN_BLOCK_SIZE <= block <= MAX_BLOCK_SIZE
            and block & (block - 1) == 0 and sub_blocks >= 0 and 8 * bitmap_blocks * block >= max_mapnr)


def probe_layout(src: ByteSource) -> HeaderLayout:
    """Byte order and word size of the dump in ``src``; :class:`DumpParseError` when none fits."""
    head = src.read_upto(0, 0x1D0)
    machine = head[0x110:0x151].split(b"\0", 1)[0].decode("ascii", "replace").strip()
    word = _word_size_of(machine)
    fits = [(is_32, is_be) for is_32 in (False, True) for is_be in (False, True) if _sane(head, is_32, is_be)]
    if not fits:
        raise DumpParseError("no byte order and word size give a sane disk_dump_header (block_size, "
                             "bitmap_blocks, max_mapnr)", path=src.path, structure="disk_dump_header",
                             offset=0, code="invalid_value")
    if word is not None:  # several readings fit: the machine name decides
        fits.sort(key=lambda f: (f[0] != (word == 32)))
    is_32, is_be = fits[0]
    if not is_32:
        layout = Layout.lp64
    elif machine.lower().startswith(_PACKED_32):
        layout = Layout.ilp32_packed
    else:
        layout = Layout.ilp32_padded if word == 32 else _guess_32bit_layout(src, head, is_be)
    return HeaderLayout(is_be, is_32, layout, machine)


def _guess_32bit_layout(src: ByteSource, head: bytes, is_be: bool) -> Any:
    """Unknown 32-bit machine: the packed layout fits when its VMCOREINFO pointer is plausible
    (absent, or inside the sub-header blocks), as libkdumpfile decides."""
    order: Literal["little", "big"] = "big" if is_be else "little"
    block = int.from_bytes(head[0x1A0:0x1A4], order)
    sub_blocks = int.from_bytes(head[0x1A4:0x1A8], order)
    raw = src.read_upto(block + 0x14, 12)
    if len(raw) < 12:
        return Layout.ilp32_padded
    ofs, size = int.from_bytes(raw[:8], order), int.from_bytes(raw[8:], order)
    if (ofs, size) == (0, 0) or (ofs > block and ofs + size <= block * (1 + sub_blocks)):
        return Layout.ilp32_packed
    return Layout.ilp32_padded


def read(path: str) -> Dump:
    """Read the kdump-compressed (or flattened) dump at ``path``."""
    view = FileView(path)
    try:
        return _read(view)
    except BaseException:
        view.close()
        raise


def _field(obj: Any, name: str) -> int | None:
    """A version-gated sub-header field (absent before its version)."""
    value = getattr(obj, name, None) if obj is not None else None
    return int(value) if value is not None else None


def _read(view: FileView) -> Dump:
    src: FileView | FlatView = view
    flat: FlatView | None = None
    if view.read_upto(0, 16) == FLAT_MAGIC:
        flat = index_flattened(view)
        src = flat
        head = flat.read_upto(0, 8)
        if head[:4] == b"\x7fELF":
            return _flattened_elf(view, flat)
        if head not in (b"KDUMP   ", b"DISKDUMP"):
            raise DumpParseError(f"the flattened stream holds neither a kdump-compressed nor an ELF file "
                                 f"(first bytes {head.hex(' ')})", path=view.path,
                                 structure="disk_dump_header", offset=0, code="invalid_value")
    layout = probe_layout(src)
    stream = stream_of(src)  # type: ignore[arg-type]  # a FlatView reads like a FileView
    with guard(view.path, "disk_dump_header", 0):
        root = KdumpCompressed(layout.is_be, layout.is_32, layout.sub_layout, stream)
        hdr = root.header32 if layout.is_32 else root.header64
        uts = hdr.utsname
        version, block = int(hdr.header_version), int(hdr.block_size)
    dump = Dump(source=SourceInfo(path=view.path, size=view.size, format="kdump_compressed",
                                  variant="diskdump" if root.is_diskdump else "kdump",
                                  byte_order="big" if layout.is_be else "little"))
    if flat is not None:
        _flat_facts(dump, flat)
    sub = _sub_header(dump, root, layout, version)
    note_ofs = _field(sub, "ofs_note") if version >= 4 else None
    raw_notes = _area(dump, src, note_ofs, _field(sub, "len_note"), MAX_NOTE_BYTES, "note")
    machine = elf_machine(layout.machine)
    if not machine and raw_notes:
        machine = guess_machine(raw_notes, is_64=not layout.is_32, is_be=layout.is_be)
        if machine:
            dump.diag("machine_guessed", "utsname.machine is empty: the architecture is guessed from "
                      "the NT_PRSTATUS size", severity="info", structure="disk_dump_header", offset=0x110)
    arch = cpu_arch(machine, not layout.is_32) if machine else "unknown"
    _header_facts(dump, hdr, sub, uts, arch, block, version)
    notes = CoreNotes()
    if raw_notes and note_ofs is not None:
        notes = walk_notes(src.path, dump, [NoteArea(note_ofs, raw_notes)],
                           NoteTarget(machine, not layout.is_32, layout.is_be))
    info = _vmcoreinfo(dump, src, sub, notes, version)
    if notes.threads and machine and not has_register_layout(machine):
        dump.diag("unsupported_architecture", f"{arch}: registers are not decoded", structure="NT_PRSTATUS")
    phys = _physical(dump, src, root, sub, version, block, layout)
    dump.memory = phys
    target = KernelTarget(arch, "big" if layout.is_be else "little", 4 if layout.is_32 else 8)
    fill_linux_kernel(dump, phys, notes, info, target, vmcoreinfo_at="kdump_sub_header",
                      phys_base=_field(sub, "phys_base"))
    if phys.problems:
        what = ", ".join(f"{reason} ({n})" for reason, n in sorted(phys.problems.items()))
        dump.diag("unreadable_pages", f"dumped pages that could not be read: {what}", structure="page data")
    return dump


def _flattened_elf(view: FileView, flat: FlatView) -> Dump:
    """``makedumpfile -E -F``: an ELF vmcore in the flattened stream, read by the ELF reader.

    :func:`elf_core.read_view` reads through ``path``/``size``/``read``/``read_upto``/
    ``stream``, which :class:`FlatView` provides.
    """
    dump: Dump = elf_core.read_view(flat)  # type: ignore[arg-type]
    dump.source.size = view.size
    _flat_facts(dump, flat)
    return dump


def _flat_facts(dump: Dump, flat: FlatView) -> None:
    d = dump.source.details
    d["flattened"] = True
    d["flat_records"] = flat.index.num_records
    for code, message, offset in flat.index.problems:
        dump.diag(code, message, structure="flattened record", offset=offset)


def _sub_header(dump: Dump, root: Any, layout: HeaderLayout, version: int) -> Any:
    if version < 1:  # kdump_sub_header is read from header version 1 on (libkdumpfile does the same)
        return None
    # Folklore: libkdumpfile's diskdump-empty-* files say sub_hdr_size = 0 yet hold a full
    # sub-header at block 1 (the file ends right after it), so it is read whatever that size says.
    name = f"sub_header_{layout.sub_layout.name}"
    try:
        with guard(dump.source.path, "kdump_sub_header", int(root.block_size)):
            return getattr(root, name)
    except DumpkitError as exc:
        dump.diag("bad_sub_header", f"kdump_sub_header unreadable: {exc.message}",
                  structure="kdump_sub_header", offset=int(root.block_size))
        return None


def _header_facts(dump: Dump, hdr: Any, sub: Any, uts: Any, arch: str, block: int, version: int) -> None:
    d = dump.source.details
    status = int(hdr.status)
    d["header_version"] = version
    d["status"] = f"{status:#x}"
    methods = [name for bit, name in COMPRESSION_NAMES.items() if status & bit]
    if methods:
        d["compression"] = ",".join(methods)
    d["max_mapnr"] = int(hdr.max_mapnr)
    d["current_cpu"] = int(hdr.current_cpu)
    for key in ("dump_level", "split"):
        value = _field(sub, key)
        if value is not None:
            d[key] = value
    phys_base = _field(sub, "phys_base")
    if phys_base is not None:
        d["phys_base"] = f"{phys_base:#x}"
    if sub is not None and _field(sub, "split"):
        d["split_pfns"] = f"{_field(sub, 'start_pfn_64') or _field(sub, 'start_pfn') or 0:#x}-" \
                          f"{_field(sub, 'end_pfn_64') or _field(sub, 'end_pfn') or 0:#x}"
        dump.diag("split_dump", "one file of a --split dump: only its PFN range is present",
                  severity="info", structure="kdump_sub_header")
    for bit in (b for b in COMPRESSION_NAMES if status & b):
        if not decompressor_available(bit):
            dump.diag("compression_unsupported", f"{COMPRESSION_NAMES[bit]} pages cannot be read: "
                      "its Python package is not installed", structure="disk_dump_header")
    if status & STATUS_INCOMPLETE:
        dump.diag("incomplete_dump", "makedumpfile marked the dump incomplete (it was cut short): "
                  "missing pages are not captured", structure="disk_dump_header")
    sysname, release, machine = uts.sysname.strip(), uts.release.strip(), uts.machine.strip()
    uname = " ".join(p for p in (sysname, uts.nodename.strip(), release, uts.version.strip(), machine) if p)
    nr_cpus = int(hdr.nr_cpus)
    sec = int(hdr.timestamp_sec)
    dump.source.created = sec if sec > 0 else None
    dump.system = SystemInfo(os="linux", kernel_release=release or None, os_detail=uname or None,
                             cpu_arch=arch, cpu_count=nr_cpus if nr_cpus > 0 else None, page_size=block)
    if arch == "unknown":
        what = f"utsname.machine {machine!r} is not a known architecture" if machine else \
            "utsname.machine is empty and the architecture could not be guessed"
        dump.diag("unknown_machine", what, structure="disk_dump_header", offset=0x110)


def _area(dump: Dump, src: ByteSource, ofs: int | None, size: int | None, cap: int,
          what: str) -> bytes | None:
    """``size`` bytes at ``ofs`` when they are present and reasonable, else a diagnostic."""
    if not ofs or not size:
        return None
    if ofs < 0 or size > cap or ofs + size > src.size:
        dump.diag(f"bad_{what}", f"{what} area of {size:#x} bytes at {ofs:#x} is outside the file "
                  f"({src.size:#x} bytes) or larger than {cap:#x}", structure="kdump_sub_header", offset=ofs)
        return None
    return src.read_upto(ofs, size)


def _vmcoreinfo(dump: Dump, src: ByteSource, sub: Any, notes: CoreNotes, version: int) -> VmcoreInfo | None:
    text = notes.vmcoreinfo
    if text is None and version >= 3:
        raw = _area(dump, src, _field(sub, "ofs_vmcoreinfo"), _field(sub, "len_vmcoreinfo"),
                    MAX_VMCOREINFO_BYTES, "vmcoreinfo")
        text = raw.decode("latin-1") if raw is not None else None
    if version >= 5:
        erase = _area(dump, src, _field(sub, "ofs_eraseinfo"), _field(sub, "len_eraseinfo"),
                      MAX_ERASEINFO_BYTES, "eraseinfo")
        if erase:
            dump.annotations["eraseinfo"] = erase.decode("utf-8", "replace").strip()
    dump.source.details["vmcoreinfo"] = text is not None
    return parse_vmcoreinfo(text) if text is not None else None


def _stored_end(src: FileView | FlatView, offset: int) -> int:
    """Where the bytes stored from ``offset`` end (the file's end, or a flattened file's big hole)."""
    return src.contiguous_end(offset) if isinstance(src, FlatView) else src.size


def _physical(dump: Dump, src: FileView | FlatView, root: Any, sub: Any, version: int, block: int,
              layout: HeaderLayout) -> KdumpPhysicalSpace:
    """The physical space over the 2nd bitmap; RAM runs of the 1st bitmap become regions."""
    max_pfn = int(root.max_mapnr)
    if version >= 6 and _field(sub, "max_mapnr_64") is not None:
        max_pfn = _field(sub, "max_mapnr_64") or 0
    ofs, length = int(root.ofs_bitmaps), int(root.len_bitmaps)
    bits = length * 8
    if max_pfn <= bits // 2:
        first, second, bits = ofs, ofs + length // 2, bits // 2
    else:  # an area too small for two bitmaps holds one (old diskdump; libkdumpfile reads it so)
        first = second = ofs
        dump.diag("single_bitmap", "the bitmap area holds one bitmap, read as the dumped-page map",
                  severity="info", structure="bitmap", offset=ofs)
    if max_pfn > bits:
        dump.diag("bitmap_too_small", f"max_mapnr {max_pfn:#x} exceeds the {bits:#x} PFNs of the bitmap",
                  structure="bitmap", offset=ofs)
    num_pfns = min(max_pfn, bits, max(0, _stored_end(src, second) - second) * 8)
    if num_pfns < min(max_pfn, bits):
        dump.diag("truncated_bitmap", "the file ends inside the page bitmap", structure="bitmap",
                  offset=second)
    dump.source.details["max_pfn"] = max_pfn
    status = int(root.status)
    phys = KdumpPhysicalSpace(src, block_size=block, bitmap_offset=second, num_pfns=num_pfns,
                              page_descs_offset=int(root.ofs_page_descs), is_le=not layout.is_be,
                              incomplete=bool(status & STATUS_INCOMPLETE), owns_source=True)
    ram_pfns = min(max_pfn, bits, max(0, _stored_end(src, first) - first) * 8)
    for n, (start, count) in enumerate(PageBitmap(src, first, ram_pfns).runs()):
        if n >= MAX_REGIONS:
            dump.diag("too_many_regions", f"more than {MAX_REGIONS} RAM ranges in the 1st bitmap; "
                      "the rest are not listed", severity="info", structure="bitmap", offset=first)
            break
        dump.regions.append(MemoryRegion(start=start * block, size=count * block, type="physical",
                                         state="ram"))
    return phys
