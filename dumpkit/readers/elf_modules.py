"""Modules of a process core: NT_FILE mappings grouped per file, the vDSO, and the
dynamic linker's ``link_map`` list when the core has no NT_FILE note.

Each module is joined with its in-memory ELF image (``elf_images.inspect_image``) for
the GNU build-id (code_id / build_id / Breakpad debug_id) and the soname.
"""
from __future__ import annotations

import struct
from bisect import bisect_right
from collections.abc import Callable

from dumpkit.errors import DumpkitError
from dumpkit.ids import elf_debug_id
from dumpkit.memory import AddressSpace, Segment
from dumpkit.model import Dump, Module
from dumpkit.readers.elf_images import inspect_image, read_cstring
from dumpkit.readers.elf_notes import MappedFile

__all__ = ["MAX_MODULES", "executable_module", "interpreter_module", "modules_from_files",
           "modules_from_link_map", "scanned_modules", "vdso_module"]

MAX_MODULES = 4096
MAX_LINK_MAP = 1024
PF_X = 1
AT_PHDR, AT_PHNUM, AT_BASE, AT_SYSINFO_EHDR = 3, 5, 7, 33
PT_LOAD, PT_DYNAMIC, PT_PHDR = 1, 2, 6
DT_NULL, DT_DEBUG = 0, 21

#: Finds the PT_LOAD segment of the core that contains an address (or None).
SegmentLookup = Callable[[int], "Segment | None"]


def _module(space: AddressSpace, base: int, size: int, path: str, *, require_elf: bool) -> Module | None:
    image = inspect_image(space, base, size)
    if image is None and require_elf:
        return None
    module = Module(base=base, size=size, path=path)
    if image is not None:
        if image.build_id:
            module.build_id = module.code_id = image.build_id
            module.debug_id = elf_debug_id(image.build_id, big_endian=image.big_endian)
        module.soname = image.soname
    module.debug_file = module.soname or module.name
    return module


def modules_from_files(dump: Dump, space: AddressSpace, files: list[MappedFile],
                       segment_at: SegmentLookup, flags_of: Callable[[Segment], int]) -> list[Module]:
    """One module per ELF file of NT_FILE: base = its mapping at file offset 0, size = span.

    Files whose first page was captured but is not an ELF header (locale archives, fonts,
    caches) are not modules; files whose first page is absent count when one of their
    mappings is executable.
    """
    by_path: dict[str, list[MappedFile]] = {}
    for entry in files:
        by_path.setdefault(entry.path, []).append(entry)
    out: list[Module] = []
    for path, entries in by_path.items():
        if len(out) >= MAX_MODULES:
            dump.diag("too_many_modules", f"more than {MAX_MODULES} mapped files; the rest are ignored",
                      structure="NT_FILE")
            break
        heads = [e.start for e in entries if e.file_offset == 0]
        base = min(heads) if heads else min(e.start for e in entries)
        size = max((e.end for e in entries if e.end > base), default=base) - base
        if size <= 0:  # seen in mutated cores: an end below the start; not a usable module
            dump.diag("bad_nt_file", f"mapping of {path!r} has no extent", structure="NT_FILE")
            continue
        executable = any((seg := segment_at(e.start)) is not None and flags_of(seg) & PF_X
                         for e in entries)
        captured = space.is_captured(base, 4)
        module = _module(space, base, size, path, require_elf=captured or not executable)
        if module is not None:
            out.append(module)
    return out


def vdso_module(space: AddressSpace, auxv: dict[int, int], segment_at: SegmentLookup) -> Module | None:
    """The vDSO (AT_SYSINFO_EHDR) as a module, when its pages were captured."""
    base = auxv.get(AT_SYSINFO_EHDR)
    if not base:
        return None
    seg = segment_at(base)
    limit = seg.end - base if seg is not None else 0x2000
    image = inspect_image(space, base, limit)
    if image is None:
        return None
    size = image.span or limit
    name = image.soname or "linux-vdso.so.1"
    module = Module(base=base, size=size, path=name, soname=image.soname, debug_file=name)
    if image.build_id:
        module.build_id = module.code_id = image.build_id
        module.debug_id = elf_debug_id(image.build_id, big_endian=image.big_endian)
    return module


def _words(space: AddressSpace, address: int, count: int, width: int, order: str) -> tuple[int, ...]:
    fmt = ("<" if order == "little" else ">") + ("Q" if width == 8 else "I") * count
    return struct.unpack(fmt, space.read(address, width * count))


def executable_module(space: AddressSpace, auxv: dict[int, int], name: str | None,
                      segment_at: SegmentLookup) -> Module | None:
    """The main executable found through AT_PHDR (its ELF header precedes its phdrs).

    When that page was not captured (NetBSD cores) the module still exists: it spans the
    PT_LOAD segment that holds AT_PHDR, without a build-id.
    """
    phdr = auxv.get(AT_PHDR)
    if not phdr:
        return None
    for candidate in (phdr - 0x40, phdr - 0x34, phdr & ~0xFFF):
        image = inspect_image(space, candidate, 1 << 30) if candidate > 0 else None
        if image is not None:
            return _module(space, candidate, image.span or 0x1000, name or "[exe]", require_elf=True)
    seg = segment_at(phdr)
    if seg is None:
        return None
    return Module(base=seg.start, size=seg.size, path=name or "[exe]", debug_file=name or "[exe]")


def interpreter_module(space: AddressSpace, auxv: dict[int, int]) -> Module | None:
    """The program interpreter (ld.so) loaded at AT_BASE, when its ELF header was captured."""
    base = auxv.get(AT_BASE)
    if not base:
        return None
    image = inspect_image(space, base, 1 << 30)
    if image is None:
        return None
    return _module(space, base, image.span or 0x1000, image.soname or "[interpreter]", require_elf=True)


def scanned_modules(space: AddressSpace, segment_starts: list[int], known: list[Module]) -> list[Module]:
    """ELF headers at the start of captured segments that no known module covers.

    Last resort for cores without NT_FILE (elfutils' testfile66 has ld64.so.1 away from
    AT_BASE; OpenBSD cores carry no file list at all).
    """
    out: list[Module] = []
    covered = [(m.base, m.base + m.size) for m in known]
    for start in segment_starts[:MAX_MODULES]:
        if any(lo <= start < hi for lo, hi in covered):
            continue
        image = inspect_image(space, start, 1 << 30)
        if image is None:
            continue
        size = image.span or 0x1000
        module = _module(space, start, size, image.soname or "[unknown]", require_elf=True)
        if module is not None:
            out.append(module)
            covered.append((start, start + size))
    return out


def modules_from_link_map(dump: Dump, space: AddressSpace, auxv: dict[int, int], width: int,
                          order: str, segment_starts: list[int]) -> list[Module]:
    """Walk r_debug.r_map (found through the executable's DT_DEBUG) into modules.

    Used when a core has no NT_FILE note (kernels before 3.7, some gdb cores). Needs the
    executable's program headers and its writable .dynamic to be captured. An entry's ELF
    header is at l_addr for ordinary shared objects; for prelinked ones (l_addr 0) it is
    the nearest captured ELF header below l_ld.
    """
    phdr, phnum = auxv.get(AT_PHDR), auxv.get(AT_PHNUM)
    if not phdr or not phnum:
        return []
    try:
        r_map = _r_map(space, phdr, min(phnum, 128), width, order)
    except DumpkitError:
        return []
    out: list[Module] = []
    seen: set[int] = set()
    node = r_map or 0
    while node and node not in seen and len(seen) < MAX_LINK_MAP:
        seen.add(node)
        try:
            l_addr, l_name, l_ld, l_next = _words(space, node, 4, width, order)
        except DumpkitError:
            dump.diag("bad_link_map", f"link_map entry at {node:#x} not captured", structure="link_map")
            break
        name = read_cstring(space, l_name) if l_name else None
        if name:  # the executable's entry has an empty name; it is found through AT_PHDR
            module = _link_map_module(space, name, l_addr, l_ld, segment_starts)
            if module is not None:
                out.append(module)
        node = l_next
    return out


def _link_map_module(space: AddressSpace, name: str, l_addr: int, l_ld: int,
                     segment_starts: list[int]) -> Module | None:
    at = bisect_right(segment_starts, l_ld)
    # Lowest first: with 64 KiB pages a small library's data mapping also starts with its
    # ELF header (file offset 0), as in elfutils' testcore-rtlib-ppc.
    below = sorted(segment_starts[max(at - 8, 0):at])
    for base in ([l_addr] if l_addr else []) + below:
        image = inspect_image(space, base, 1 << 30)
        if image is not None and image.span and base <= l_ld < base + image.span:
            return _module(space, base, image.span, name, require_elf=True)
    return None


def _r_map(space: AddressSpace, phdr: int, phnum: int, width: int, order: str) -> int | None:
    """Address of the first link_map, from the executable's DT_DEBUG -> r_debug.r_map."""
    ent = 56 if width == 8 else 32
    e = "<" if order == "little" else ">"
    headers = []
    for i in range(phnum):
        raw = space.read(phdr + i * ent, ent)
        if width == 8:
            p_type, _fl, _off, vaddr, _pa, _fs, memsz, _al = struct.unpack(e + "IIQQQQQQ", raw)
        else:
            p_type, _off, vaddr, _pa, _fs, memsz, _fl, _al = struct.unpack(e + "IIIIIIII", raw)
        headers.append((p_type, vaddr, memsz))
    pt_phdr = next((h for h in headers if h[0] == PT_PHDR), None)
    bias = phdr - pt_phdr[1] if pt_phdr is not None else 0
    dynamic = next((h for h in headers if h[0] == PT_DYNAMIC), None)
    if dynamic is None:
        return None
    address = bias + dynamic[1]
    for i in range(min(dynamic[2] // (2 * width), 512)):
        tag, value = _words(space, address + i * 2 * width, 2, width, order)
        if tag == DT_NULL:
            break
        if tag == DT_DEBUG and value:
            return _words(space, value + width, 1, width, order)[0]  # r_version is an int, padded
    return None
