"""Kernel structures of a memory-bearing Windows dump, without symbol files.

* :func:`read_kdbg` — KDDEBUGGER_DATA64 at the header's KdDebuggerDataBlock (an encoded
  block, OwnerTag != ``KDBG``, is reported and not used);
* :func:`walk_modules` — PsLoadedModuleList over KLDR_DATA_TABLE_ENTRY, with a visited set
  and a cap, each driver's identity taken from its PE headers when they are paged in;
* :func:`cpu_contexts` — per-processor CONTEXTs via KiProcessorBlock and the KPRCB offsets
  the KDBG publishes.

Everything here reads through an :class:`AddressSpace` and turns a missing page or a bad
value into a diagnostic on the dump.
"""
from __future__ import annotations

from typing import Any

from kaitaistruct import BytesIO, KaitaiStream

from dumpkit.errors import DumpkitError
from dumpkit.formats.windows_crashdump import WindowsCrashdump as W
from dumpkit.ids import pdb_debug_id, pe_code_id
from dumpkit.memory import AddressSpace
from dumpkit.model import Dump, Module, Thread
from dumpkit.readers.kaitai import PARSE_ERRORS
from dumpkit.readers.pe_memory import pe_identity
from dumpkit.readers.windows_kcontext import CONTEXT_SIZE, parse_context, registers_of

__all__ = [
    "KDBG_TAG",
    "MAX_MODULES",
    "cpu_contexts",
    "parse_kdbg",
    "read_kdbg",
    "read_unicode",
    "walk_modules",
]

KDBG_TAG = 0x4742444B  # bytes "KDBG"
KDBG_READ_SIZE = 0x3A0
MAX_MODULES = 4096
MAX_CPUS = 1024
_KLDR_SIZE = {8: 0x88, 4: 0x48}
_MAX_NAME_BYTES = 0x1000


def parse_kdbg(data: bytes) -> Any | None:
    """The generated KDDEBUGGER_DATA64 over ``data`` (None when too short to hold the fixed part)."""
    if len(data) < 0x2C8:
        return None
    try:
        return W.KddebuggerData64(KaitaiStream(BytesIO(data)))
    except PARSE_ERRORS:
        return None


def read_kdbg(dump: Dump, space: AddressSpace, address: int) -> Any | None:
    """Read and check the KDBG block at ``address``; diagnostics say why it is unusable."""
    data = b""
    for size in (KDBG_READ_SIZE, 0x340, 0x2C8):  # older blocks may end at a page edge
        try:
            data = space.read(address, size)
            break
        except DumpkitError:
            continue
    if not data:
        dump.diag("kdbg_not_captured", f"KdDebuggerDataBlock at {address:#x} is not readable",
                  structure="KDDEBUGGER_DATA64")
        return None
    kdbg = parse_kdbg(data)
    if kdbg is None:
        return None
    if kdbg.owner_tag != KDBG_TAG:
        dump.diag("kdbg_encoded", "KDDEBUGGER_DATA64 OwnerTag is not 'KDBG' (encoded block, "
                  "KdpDataBlockEncoded); its fields are not used", structure="KDDEBUGGER_DATA64")
        return None
    if not 0x2C8 <= kdbg.len_block <= 0x1000:
        dump.diag("kdbg_size", f"KDDEBUGGER_DATA64 Size {kdbg.len_block:#x} is implausible",
                  structure="KDDEBUGGER_DATA64")
        return None
    return kdbg


def read_unicode(space: AddressSpace, length: int, buffer: int) -> str | None:
    """A UNICODE_STRING's text, or None when empty, too long or not captured."""
    if not length or length > _MAX_NAME_BYTES or length % 2 or not buffer:
        return None
    try:
        return space.read(buffer, length).decode("utf-16-le", "replace")
    except DumpkitError:
        return None


def _parse_kldr(data: bytes, ptr: int) -> Any:
    cls = W.KldrDataTableEntry64 if ptr == 8 else W.KldrDataTableEntry32
    return cls(KaitaiStream(BytesIO(data)))


def walk_modules(dump: Dump, space: AddressSpace, head: int, ptr: int) -> list[Module]:
    """Drivers on the PsLoadedModuleList at ``head`` (pointer size ``ptr``), loop- and length-guarded."""
    modules: list[Module] = []
    where = "PsLoadedModuleList"
    mask = (1 << (8 * ptr)) - 1
    try:
        flink = space.read_uint(head, ptr)
    except DumpkitError as exc:
        dump.diag("module_list_unreadable", f"list head at {head:#x}: {exc.message}", structure=where)
        return modules
    seen = {head}
    while flink != head:
        if flink in seen:
            dump.diag("module_list_loop", f"loop in the module list at entry {flink:#x}", structure=where)
            break
        if len(modules) >= MAX_MODULES:
            dump.diag("module_list_too_long", f"more than {MAX_MODULES} modules; the rest is ignored",
                      structure=where)
            break
        seen.add(flink)
        try:
            entry = _parse_kldr(space.read(flink, _KLDR_SIZE[ptr]), ptr)
        except DumpkitError as exc:
            dump.diag("module_list_truncated", f"entry at {flink:#x}: {exc.message}", structure=where)
            break
        except PARSE_ERRORS:
            break
        path = (read_unicode(space, entry.full_dll_name.len_bytes, entry.full_dll_name.buffer)
                or read_unicode(space, entry.base_dll_name.len_bytes, entry.base_dll_name.buffer)
                or f"<module at {entry.dll_base:#x}>")
        modules.append(_module(space, entry.dll_base & mask, entry.size_of_image, path, entry.checksum))
        flink = entry.flink & mask
    return modules


def _module(space: AddressSpace, base: int, size: int, path: str, checksum: int | None) -> Module:
    module = Module(base=base, size=size, path=path, checksum=checksum or None)
    add_pe_identity(space, module)
    return module


def add_pe_identity(space: AddressSpace, module: Module) -> None:
    """Fill timestamp / code_id / debug_id / debug_file from the image headers when captured."""
    ident = pe_identity(space, module.base, module.size or None)
    if ident is None:
        return
    module.timestamp = ident.timestamp
    module.code_id = pe_code_id(ident.timestamp, ident.size_of_image)
    if not module.size:
        module.size = ident.size_of_image
    if module.checksum is None and ident.checksum:
        module.checksum = ident.checksum
    if ident.pdb_guid is not None and ident.pdb_age is not None:
        module.debug_id = pdb_debug_id(ident.pdb_guid, ident.pdb_age)
        module.debug_file = ident.pdb_name


def kdbg_field(kdbg: Any, name: str, end: int) -> int | None:
    """A KDBG field that ends at offset ``end``, or None when the block is shorter."""
    if kdbg is None or kdbg.len_block < end:
        return None
    value = getattr(kdbg, name)
    return int(value) if value is not None else None


def cpu_contexts(dump: Dump, space: AddressSpace, kdbg: Any, arch: str, ncpu: int,
                 ptr: int) -> list[tuple[int, dict[str, int]]]:
    """``(cpu index, registers)`` for each processor whose KPRCB context is captured."""
    where = "KiProcessorBlock"
    mask = (1 << (8 * ptr)) - 1
    block = kdbg_field(kdbg, "ki_processor_block", 0x220)
    if not block or arch not in CONTEXT_SIZE or not 0 < ncpu <= MAX_CPUS:
        return []
    off_ptr = kdbg_field(kdbg, "offset_prcb_context", 0x33A) or 0
    off_frame = kdbg_field(kdbg, "offset_prcb_proc_state_context", 0x2BE) or 0
    if not off_ptr and not off_frame:
        return []
    try:
        prcbs = space.read_pointers(block & mask, ncpu, ptr)
    except DumpkitError as exc:
        dump.diag("prcb_not_captured", f"KiProcessorBlock: {exc.message}", structure=where)
        return []
    out = []
    for cpu, prcb in enumerate(prcbs):
        prcb &= mask
        if not prcb:
            continue
        try:
            address = space.read_uint(prcb + off_ptr, ptr) if off_ptr else prcb + off_frame
            ctx = parse_context(arch, space.read(address & mask, CONTEXT_SIZE[arch]))
        except DumpkitError as exc:
            dump.diag("prcb_context_not_captured", f"CPU {cpu}: {exc.message}", structure=where)
            continue
        except PARSE_ERRORS:
            continue
        if ctx is not None:
            out.append((cpu, registers_of(arch, ctx)))
    return out


def merge_threads(dump: Dump, arch: str, header_regs: dict[str, int] | None,
                  cpus: list[tuple[int, dict[str, int]]]) -> None:
    """Header context (crashing CPU) + the other CPUs' contexts -> ``dump.threads``."""
    sp = {"amd64": "rsp", "x86": "esp", "arm64": "sp"}.get(arch, "sp")
    crash_cpu = None
    if header_regs is not None:
        for cpu, regs in cpus:
            if regs.get(sp) == header_regs.get(sp):
                crash_cpu = cpu
                break
        dump.threads.append(Thread(id=crash_cpu or 0, registers=header_regs, crashed=True,
                                   context_source="header"))
    for cpu, regs in cpus:
        if cpu == crash_cpu or (header_regs is not None and crash_cpu is None and cpu == 0):
            continue
        dump.threads.append(Thread(id=cpu, registers=regs, context_source="prcb"))
