"""Linux kernel dumps in ELF form (kdump ``/proc/vmcore``, makedumpfile ELF output, QEMU /
Xen guest dumps): one NT_PRSTATUS per CPU, a VMCOREINFO note, PT_LOAD by physical address.

The source keeps format "elf_core" with variant "vmcore". VMCOREINFO parsing and the
kernel log live in :mod:`linux_kernel` (shared with the makedumpfile reader).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dumpkit.memory import FileView, SegmentSpace
from dumpkit.model import CrashInfo, Dump, MemoryRegion, SystemInfo
from dumpkit.readers.elf_core import build_threads, load_segments, permissions
from dumpkit.readers.elf_notes import CoreNotes
from dumpkit.readers.elf_registers import has_register_layout
from dumpkit.readers.linux_kernel import (
    X86_64_START_KERNEL_MAP,
    KernelTranslator,
    VmcoreInfo,
    attach_kernel_log,
    parse_vmcoreinfo,
)

if TYPE_CHECKING:
    from dumpkit.readers.elf_core import ElfLayout

__all__ = ["fill_vmcore"]



def fill_vmcore(dump: Dump, view: FileView, layout: ElfLayout, notes: CoreNotes) -> None:
    """Fill ``dump`` from a kernel dump's notes and physical segments."""
    dump.source.variant = "vmcore"
    arch = layout.arch
    phys = SegmentSpace(view, load_segments(layout, physical=True), name="physical")
    dump.memory = phys
    info = parse_vmcoreinfo(notes.vmcoreinfo) if notes.vmcoreinfo is not None else None
    dump.system = SystemInfo(os="linux", cpu_arch=arch, cpu_count=len(notes.threads) or None)
    if not has_register_layout(layout.machine):
        dump.diag("unsupported_architecture", f"e_machine {layout.machine}: registers are not decoded",
                  structure="ELF header", offset=0x12)
    if any(o.startswith("Xen") for o in notes.owners):
        dump.diag("xen_notes", "Xen hypervisor notes present; they are not decoded", severity="info",
                  structure="PT_NOTE")
    if info is None:
        dump.diag("no_vmcoreinfo", "kernel-style ELF dump without a VMCOREINFO note", severity="info",
                  structure="PT_NOTE")
    else:
        dump.system.kernel_release = info.osrelease
        dump.system.page_size = info.page_size
        dump.source.created = info.crash_time
        if info.build_id:
            dump.source.details["kernel_build_id"] = info.build_id
        if info.kernel_offset is not None:
            dump.source.details["kernel_offset"] = f"{info.kernel_offset:#x}"
    if layout.root.body.flags & 1:
        dump.diag("incomplete_dump", "e_flags bit 0: makedumpfile marked the dump incomplete",
                  structure="ELF header")
    dump.crash = CrashInfo(kind="panic", code_space="linux_panic")
    threads = build_threads(dump, phys, notes, arch, None)
    for cpu, thread in enumerate(threads):
        thread.name = f"cpu{cpu}"
        thread.stack_start = thread.stack_size = None  # SP is a kernel VA, not physical
    dump.threads = threads
    for ld in layout.loads:
        dump.regions.append(MemoryRegion(start=ld.paddr, size=ld.mem_size, permissions=permissions(ld.flags),
                                         type="physical"))
    if info is not None:
        _kernel_log(dump, phys, layout, info)


def _kernel_log(dump: Dump, phys: SegmentSpace, layout: ElfLayout, info: VmcoreInfo) -> None:
    hints = [(ld.vaddr, ld.paddr, ld.file_size) for ld in layout.loads]
    phys_base = info.numbers.get("phys_base")
    if phys_base is None and layout.arch == "amd64":
        # The kernel-text PT_LOAD says where __START_KERNEL_map landed (crash(8) does the same).
        text = [(v, p) for v, p, _ in hints if v >= X86_64_START_KERNEL_MAP]
        if text:
            phys_base = text[0][1] - (text[0][0] - X86_64_START_KERNEL_MAP)
    direct = [v - p for v, p, _ in hints if 0 < v < X86_64_START_KERNEL_MAP and v > p]
    translator = KernelTranslator(info, layout.arch, hints=hints, phys_base=phys_base,
                                  page_offset=direct[0] if direct else None)
    attach_kernel_log(dump, phys, info, arch=layout.arch, byteorder=layout.byte_order,
                      pointer_size=layout.word, translator=translator)
