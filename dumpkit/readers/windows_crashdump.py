"""Windows kernel crash dumps (``PAGEDUMP`` / ``PAGEDU64``) -> :class:`~dumpkit.model.Dump`.

The header is parsed by the generated ``WindowsCrashdump``; the DumpType decides where the
memory is: runs (complete), a page bitmap (kernel / full bitmap), RDMP ranges, or the
triage sections (small dumps, see :mod:`windows_triage`). Virtual memory goes through
:mod:`dumpkit.paging` over the physical space of :mod:`dumpkit.physical`; the module list
and per-CPU contexts come from :mod:`windows_kernel`.

Cost follows the metadata: the header, the few pages the kernel structures live in and,
for bitmap dumps, one popcount pass over the bitmap when memory is first read.
"""
from __future__ import annotations

from typing import Any

from dumpkit.errors import DumpkitError, DumpParseError
from dumpkit.formats.windows_crashdump import WindowsCrashdump
from dumpkit.memory import AddressSpace, FileView
from dumpkit.model import CrashInfo, Dump, SourceFormat, SourceInfo, SystemInfo
from dumpkit.paging import Arm64Paging, Paging, VirtualSpace, X64Paging, X86PaePaging, X86Paging
from dumpkit.readers import windows_kernel as kernel
from dumpkit.readers.kaitai import guard, parse
from dumpkit.readers.windows_common import product_type
from dumpkit.readers.windows_kcontext import MACHINE_ARCH, registers_of
from dumpkit.readers.windows_physical import bitmap_checks, physical_for
from dumpkit.readers.windows_triage import crash_thread, read_triage

__all__ = ["VARIANTS", "os_version_for_build", "physical_space", "read", "unset"]

FORMAT: SourceFormat = "windows_kernel_dump"
PAGE_FILL32 = 0x45474150
PAGE_FILL64 = 0x4547415045474150
DT = WindowsCrashdump.DumpType
VARIANTS = {DT.full.value: "complete", DT.summary.value: "summary", DT.header.value: "header-only",
            DT.triage.value: "small", DT.bitmap_full.value: "bitmap-full", DT.bitmap_kernel.value: "kernel",
            DT.automatic.value: "automatic", DT.kernel_range.value: "kernel-range",
            DT.kernel_and_user_range.value: "kernel-and-user-range",
            DT.complete_range.value: "complete-range"}
#: Pointer width (bytes) of each machine: a header of the other width contradicts itself.
MACHINE_WIDTH = {"x86": 4, "arm": 4, "amd64": 8, "arm64": 8, "ia64": 8}
#: File offset of MachineImageType in DUMP_HEADER32 / DUMP_HEADER64, by header width.
MACHINE_FIELD_OFFSET = {4: 0x20, 8: 0x30}
#: Bugchecks whose second parameter is the faulting address.
EXCEPTION_BUGCHECKS = {0x1E, 0x7E, 0x8E, 0x1000007E, 0x1000008E}
_FILETIME_UNIX = 116444736000000000


def unset(value: int | None, width: int = 4) -> int | None:
    """``None`` for a field still holding the header's ``PAGE`` fill pattern."""
    if value is None or value == (PAGE_FILL64 if width == 8 else PAGE_FILL32):
        return None
    return value


def os_version_for_build(build: int) -> str | None:
    """NT major.minor of a Windows build number."""
    if build >= 10240:
        return "10.0"
    for low, version in ((9600, "6.3"), (9200, "6.2"), (7600, "6.1"), (6000, "6.0"),
                         (3790, "5.2"), (2600, "5.1"), (2195, "5.0")):
        if build >= low:
            return version
    return None


def physical_space(dump: Dump) -> AddressSpace | None:
    """The physical address space behind ``dump.memory`` (None for small dumps)."""
    memory = dump.memory
    return memory.physical if isinstance(memory, VirtualSpace) else None


def read(path: str) -> Dump:
    """Read a kernel crash dump; raises only :class:`DumpkitError`."""
    view = FileView(path)
    try:
        return _read(path, view)
    except BaseException:
        view.close()
        raise


def _read(path: str, view: FileView) -> Dump:
    root = parse(WindowsCrashdump, view, "DUMP_HEADER")
    is64 = root.is_64
    name = "DUMP_HEADER64" if is64 else "DUMP_HEADER32"
    with guard(path, name, 0):
        hdr = root.header64 if is64 else root.header32
    width = 8 if is64 else 4
    machine = int(hdr.machine_image_type)
    arch = MACHINE_ARCH.get(machine, "unknown")
    dump_type = int(hdr.dump_type)
    dump = Dump(source=SourceInfo(path=path, size=view.size, format=FORMAT,
                                  variant=VARIANTS.get(dump_type, f"type-{dump_type:#x}")))
    if MACHINE_WIDTH.get(arch, width) != width:
        dump.diag("machine_mismatch", f"{name} is a {8 * width}-bit header but MachineImageType "
                  f"{machine:#x} names {arch}, a {8 * MACHINE_WIDTH[arch]}-bit machine: the header "
                  "contradicts itself, so its registers and page tables are not interpreted",
                  severity="error", structure=f"{name}.MachineImageType", offset=MACHINE_FIELD_OFFSET[width])
        arch = "unknown"
    _fill_header_facts(dump, hdr, width, arch, dump_type)
    header_regs = None
    if hdr.context_record is not None and not isinstance(hdr.context_record, bytes):
        header_regs = registers_of(arch, hdr.context_record)
    if dump_type == DT.triage.value:
        try:
            with guard(path, "TRIAGE_DUMP", root.len_header):
                triage = root.triage64 if is64 else root.triage32
        except DumpParseError as exc:
            dump.diag("triage_header", exc.message, structure="TRIAGE_DUMP", offset=root.len_header)
            view.close()
            _header_thread(dump, header_regs)
            return dump
        regs, dump.memory = read_triage(dump, view, triage, hdr, arch, width)
        crash_thread(dump, regs, triage)
        if dump.crash is not None and dump.threads:
            dump.crash.thread_id = dump.threads[0].id
        return dump
    physical = physical_for(dump, view, root, hdr, dump_type)
    if physical is None:
        view.close()
        _header_thread(dump, header_regs)
        return dump
    paging = _paging(dump, physical, hdr, arch, is64)
    if paging is None:
        _header_thread(dump, header_regs)
        dump.memory = _PhysicalOnly(physical)
        return dump
    memory = VirtualSpace(paging)
    dump.memory = memory
    _read_kernel(dump, memory, hdr, arch, width, header_regs)
    return dump


class _PhysicalOnly(AddressSpace):
    """Memory of a dump whose paging we cannot walk: only the physical space (name "physical")."""

    name = "physical"

    def __init__(self, physical: AddressSpace) -> None:
        self.physical = physical

    @property
    def summary_space(self) -> AddressSpace:
        return self.physical

    def read(self, address: int, size: int) -> bytes:
        return self.physical.read(address, size)

    def ranges(self) -> Any:
        return self.physical.ranges()

    def close(self) -> None:
        self.physical.close()


def _header_thread(dump: Dump, regs: dict[str, int] | None) -> None:
    kernel.merge_threads(dump, dump.system.cpu_arch, regs, [])


def _fill_header_facts(dump: Dump, hdr: Any, width: int, arch: str, dump_type: int) -> None:
    build = unset(hdr.minor_version)
    major = unset(hdr.major_version)
    system = SystemInfo(os="windows", cpu_arch=arch, page_size=4096,
                        cpu_count=unset(hdr.number_processors),
                        product_type=product_type(hdr.product_type))
    if build is not None and build < 0x10000:
        system.os_build = build
        version = os_version_for_build(build)
        system.os_version = f"{version}.{build}" if version else None
    if major in (0xF, 0xC):
        system.os_detail = "free build" if major == 0xF else "checked build"
    dump.system = system

    d = dump.source.details
    d["dump_type"] = dump_type
    d["header"] = "DUMP_HEADER64" if width == 8 else "DUMP_HEADER32"
    for key, value in (("required_dump_space", unset(hdr.required_dump_space, 8)),
                       ("dtb", unset(hdr.directory_table_base, width)),
                       ("machine_image_type", hdr.machine_image_type),
                       ("mini_dump_fields", unset(hdr.mini_dump_fields)),
                       ("writer_status", unset(hdr.writer_status)),
                       ("kd_debugger_data_block", unset(hdr.kd_debugger_data_block, width)),
                       ("ps_loaded_module_list", unset(hdr.ps_loaded_module_list, width)),
                       ("secondary_data_state", unset(hdr.secondary_data_state)),
                       ("attributes", unset(hdr.attributes))):
        if value is not None:
            d[key] = int(value)
    if width == 4:
        d["pae_enabled"] = bool(hdr.pae_enabled == 1)
    comment = hdr.comment.split(b"\0", 1)[0]
    if comment and not comment.startswith(b"PAGEPAGE"):
        d["comment"] = comment.decode("latin-1")
    created = unset(hdr.system_time, 8)
    if created and created > _FILETIME_UNIX:
        dump.source.created = (created - _FILETIME_UNIX) // 10_000_000

    code = unset(hdr.bug_check_code)
    if code is None:
        return
    params = [p for p in (unset(p, width) for p in hdr.bug_check_parameters)]
    crash = CrashInfo(kind="bugcheck", code=code, code_space="bugcheck",
                      parameters=[p if p is not None else 0 for p in params])
    if code in EXCEPTION_BUGCHECKS and params[1] is not None:
        crash.address = params[1]
    else:
        exc = hdr.exception
        code_ok = unset(exc.exception_code) is not None
        addr = unset(exc.exception_address, width)
        if code_ok and addr:
            crash.address = addr
    dump.crash = crash


def _paging(dump: Dump, physical: AddressSpace, hdr: Any, arch: str, is64: bool) -> Paging | None:
    dtb = unset(hdr.directory_table_base, 8 if is64 else 4)
    if dtb is None:
        dump.diag("no_dtb", "DirectoryTableBase is not set: only physical memory is readable",
                  structure="DUMP_HEADER")
        return None
    if arch == "amd64":
        return X64Paging(physical, dtb)
    if arch == "arm64":
        return Arm64Paging(physical, dtb)
    if arch == "x86":
        return X86PaePaging(physical, dtb) if hdr.pae_enabled == 1 else X86Paging(physical, dtb)
    dump.diag("unsupported_paging", f"no page-table walker for {arch}: only physical memory is readable",
              structure="DUMP_HEADER")
    return None


def _read_kernel(dump: Dump, memory: VirtualSpace, hdr: Any, arch: str, width: int,
                 header_regs: dict[str, int] | None) -> None:
    head = unset(hdr.ps_loaded_module_list, width)
    kdbg_va = unset(hdr.kd_debugger_data_block, width)
    probe = head or kdbg_va
    if probe and arch == "amd64" and not memory.is_captured(probe, width):
        la57 = X64Paging(memory.physical, memory.paging.root, levels=5)
        try:
            la57.translate(probe)
        except DumpkitError:
            pass
        else:
            memory.paging = la57
            dump.diag("la57", "4-level translation failed for kernel addresses; 5-level paging (LA57) "
                      "works and is used", severity="info")
    kdbg = kernel.read_kdbg(dump, memory, kdbg_va) if kdbg_va else None
    if kdbg is not None:
        dump.source.details["kernel_base"] = kdbg.kern_base & ((1 << (8 * width)) - 1)
        if head is None:
            head = kernel.kdbg_field(kdbg, "ps_loaded_module_list", 0x50)
    if head:
        dump.modules = kernel.walk_modules(dump, memory, head, width)
    cpus: list[tuple[int, dict[str, int]]] = []
    if kdbg is not None:
        try:
            cpus = kernel.cpu_contexts(dump, memory, kdbg, arch, dump.system.cpu_count or 0, width)
        except DumpkitError as exc:
            dump.diag("prcb_context", exc.message, structure="KPRCB")
    kernel.merge_threads(dump, arch, header_regs, cpus)
    if dump.crash is not None and dump.threads and dump.threads[0].crashed:
        dump.crash.thread_id = dump.threads[0].id
    bitmap_checks(dump, memory.physical)
