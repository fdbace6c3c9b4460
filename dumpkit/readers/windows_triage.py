"""Small memory ("triage") kernel dumps: the TRIAGE_DUMP sections -> model facts.

Drivers come from the driver list + string pool, unloaded drivers from their list, the
crashing context and exception from their sections, and the only memory there is — call
stack, data page, KDBG copy and data blocks — becomes a :class:`SegmentSpace` over those
target VA ranges.

Checked on a real Windows 10 x64 triage dump (corpus ``rizin_triage_x64.dmp``): DUMP_STRING
lengths count UTF-16 characters, and the stack bytes cover
``[TopOfStack, TopOfStack + SizeOfCallStack)`` (the context's Rsp lies inside), as
docs/formats.md 2.8 records; an earlier guess of ``[TopOfStack - size, TopOfStack)`` was wrong.
"""
from __future__ import annotations

from typing import Any

from dumpkit.errors import DumpkitError
from dumpkit.ids import pe_code_id
from dumpkit.memory import FileView, Segment, SegmentSpace
from dumpkit.model import Dump, Module, Thread
from dumpkit.readers.kaitai import PARSE_ERRORS
from dumpkit.readers.windows_kcontext import CONTEXT_SIZE, parse_context, registers_of
from dumpkit.readers.windows_kernel import KDBG_TAG, add_pe_identity, kdbg_field

__all__ = ["read_triage"]

TRIAGE_VALID = b"TRGD"
#: MiniDumpFields bits.
F_CONTEXT, F_EXCEPTION, F_STACK, F_DRIVERS = 0x1, 0x2, 0x20, 0x40


def _guarded(dump: Dump, structure: str, fn: Any) -> Any:
    try:
        return fn()
    except DumpkitError as exc:
        dump.diag("triage_section", exc.message, structure=structure)
    except PARSE_ERRORS as exc:
        dump.diag("triage_section", f"malformed: {exc}"[:200], structure=structure)
    return None


def read_triage(dump: Dump, view: FileView, triage: Any, header: Any, arch: str,
                ptr: int) -> tuple[dict[str, int] | None, SegmentSpace]:
    """Fill modules / unloaded modules / details; return the crashing registers and the memory."""
    d = dump.source.details
    d.update(triage_offset_prcb=triage.ofs_prcb, triage_offset_process=triage.ofs_process,
             triage_offset_thread=triage.ofs_thread, triage_options=triage.triage_options)
    tag = _guarded(dump, "TRIAGE_DUMP.ValidOffset", lambda: triage.valid_tag)
    if tag != TRIAGE_VALID:
        dump.diag("triage_incomplete", "the TRGD validity tag is missing: the dump may be incomplete",
                  structure="TRIAGE_DUMP.ValidOffset", offset=triage.ofs_valid)

    segments = _memory_segments(dump, view, triage, header, ptr)
    space = SegmentSpace(view, segments, name="virtual")
    regs = _guarded(dump, "TRIAGE_DUMP.ContextOffset", lambda: _context(view, triage, arch))
    _guarded(dump, "TRIAGE_DUMP.DriverListOffset", lambda: _drivers(dump, triage, space, ptr))
    _guarded(dump, "TRIAGE_DUMP.UnloadedDriversOffset", lambda: _unloaded(dump, triage))
    return regs, space


def _context(view: FileView, triage: Any, arch: str) -> dict[str, int] | None:
    size = CONTEXT_SIZE.get(arch)
    if not triage.ofs_context or size is None:
        return None
    ctx = parse_context(arch, view.read(triage.ofs_context, size))
    return registers_of(arch, ctx) if ctx is not None else None


def _drivers(dump: Dump, triage: Any, space: SegmentSpace, ptr: int) -> None:
    entries = triage.drivers
    if entries is None:
        if triage.num_drivers:
            dump.diag("triage_driver_list", f"driver list ({triage.num_drivers} entries at "
                      f"{triage.ofs_driver_list:#x}) does not fit the file", structure="TRIAGE_DUMP")
        return
    mask = (1 << (8 * ptr)) - 1
    for i, entry in enumerate(entries):
        ldr = entry.ldr_entry
        name = None
        try:
            if entry.driver_name is not None:
                name = entry.driver_name.value.rstrip("\0")
        except PARSE_ERRORS:
            dump.diag("triage_string_pool", f"driver {i}: bad DUMP_STRING at {entry.ofs_driver_name:#x}",
                      structure="DUMP_STRING", offset=entry.ofs_driver_name)
        module = Module(base=ldr.dll_base & mask, size=ldr.size_of_image,
                        path=name or f"<driver at {ldr.dll_base & mask:#x}>", checksum=ldr.checksum or None)
        add_pe_identity(space, module)
        if module.timestamp is None and ptr == 8 and entry.time_date_stamp:
            module.timestamp = entry.time_date_stamp
            module.code_id = pe_code_id(entry.time_date_stamp, ldr.size_of_image)
        dump.modules.append(module)


def _unloaded(dump: Dump, triage: Any) -> None:
    lst = triage.unloaded_drivers
    if lst is None:
        return
    for entry in lst.entries:
        start, end = entry.start_address, entry.end_address
        name = entry.driver_name.split("\0", 1)[0]
        if end < start:
            continue
        dump.unloaded_modules.append(Module(base=start, size=end - start, path=name))


def _memory_segments(dump: Dump, view: FileView, triage: Any, header: Any, ptr: int) -> list[Segment]:
    mask = (1 << (8 * ptr)) - 1
    segs: list[Segment] = []

    def add(address: int, offset: int, size: int, what: str) -> None:
        if not size or not offset:
            return
        if offset + size > view.size:
            dump.diag("triage_section_truncated", f"{what} ({size:#x} bytes at {offset:#x}) passes the "
                      "end of the file", structure="TRIAGE_DUMP", offset=offset)
        segs.append(Segment(address & mask, size, offset, max(0, min(size, view.size - offset))))

    add(triage.top_of_stack, triage.ofs_call_stack, triage.len_call_stack, "call stack")
    add(triage.data_page_address, triage.ofs_data_page, triage.len_data_page, "data page")
    if triage.ofs_debugger_data and triage.len_debugger_data:
        add(header.kd_debugger_data_block, triage.ofs_debugger_data, triage.len_debugger_data, "KDBG copy")
        _kdbg_facts(dump, view, triage)
    blocks = _guarded(dump, "TRIAGE_DUMP.DataBlocksOffset", lambda: triage.data_blocks)
    if blocks is None and triage.num_data_blocks:
        dump.diag("triage_data_blocks", f"{triage.num_data_blocks} data blocks at "
                  f"{triage.ofs_data_blocks:#x} do not fit the file", structure="TRIAGE_DUMP")
    for block in blocks or ():
        add(block.address, block.ofs_data, block.len_data, "data block")
    return segs


def _kdbg_facts(dump: Dump, view: FileView, triage: Any) -> None:
    kdbg = _guarded(dump, "TRIAGE_DUMP.DebuggerDataOffset", lambda: triage.debugger_data)
    if kdbg is None:
        return
    if kdbg.owner_tag != KDBG_TAG:
        dump.diag("kdbg_encoded", "the KDBG copy's OwnerTag is not 'KDBG' (encoded block)",
                  structure="KDDEBUGGER_DATA64", offset=triage.ofs_debugger_data)
        return
    dump.source.details["kernel_base"] = kdbg.kern_base
    off_number = kdbg_field(kdbg, "offset_prcb_number", 0x2C0)
    if off_number and triage.ofs_prcb and triage.ofs_prcb + off_number + 2 <= view.size:
        cpu = int.from_bytes(view.read(triage.ofs_prcb + off_number, 2), "little")
        if dump.system.cpu_count is None or cpu < dump.system.cpu_count:
            dump.source.details["crash_cpu"] = cpu


def crash_thread(dump: Dump, regs: dict[str, int] | None, triage: Any) -> None:
    """The one thread of a triage dump: the crashing CPU's context and its saved stack."""
    if regs is None:
        return
    cpu = dump.source.details.get("crash_cpu")
    thread = Thread(id=cpu if isinstance(cpu, int) else 0, registers=regs, crashed=True,
                    context_source="triage")
    if triage.len_call_stack and triage.ofs_call_stack:
        thread.stack_start = triage.top_of_stack
        thread.stack_size = triage.len_call_stack
    dump.threads.append(thread)
