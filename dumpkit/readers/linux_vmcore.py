"""Linux kernel dumps in ELF form (kdump ``/proc/vmcore``, makedumpfile ELF output, QEMU /
Xen guest dumps): one NT_PRSTATUS per CPU, a VMCOREINFO note, PT_LOAD by physical address.

The source keeps format "elf_core" with variant "vmcore". This module holds what is
particular to the ELF container; the kernel facts are filled by :mod:`linux_kernel_dump`
(shared with the makedumpfile reader).
"""
from __future__ import annotations

from dumpkit.memory import FileView, SegmentSpace
from dumpkit.model import Dump, MemoryRegion, SystemInfo
from dumpkit.readers.elf_layout import E_MACHINE_OFFSET, ElfLayout, load_segments, permissions
from dumpkit.readers.elf_notes import CoreNotes
from dumpkit.readers.elf_registers import has_register_layout
from dumpkit.readers.linux_kernel import parse_vmcoreinfo
from dumpkit.readers.linux_kernel_dump import KernelTarget, fill_linux_kernel

__all__ = ["EF_INCOMPLETE", "fill_vmcore", "is_kernel_dump"]

#: makedumpfile sets e_flags bit 0 in an ELF dump it could not finish.
EF_INCOMPLETE = 1


def is_kernel_dump(layout: ElfLayout, notes: CoreNotes) -> bool:
    """VMCOREINFO (or Xen's notes) mark a kernel dump; so do kernel-style cores with only
    NT_PRSTATUS notes and physical addresses in their PT_LOADs (libkdumpfile's tests)."""
    if notes.vmcoreinfo is not None or any(o.startswith("Xen") for o in notes.owners):
        return True
    if notes.prpsinfo is not None or notes.auxv or notes.files or notes.bsd_os:
        return False
    return (bool(notes.threads) and bool(layout.loads)
            and all(ld.paddr != 0 or ld.vaddr == 0 for ld in layout.loads))


def fill_vmcore(dump: Dump, view: FileView, layout: ElfLayout, notes: CoreNotes) -> None:
    """Fill ``dump`` from a kernel dump's notes and physical segments."""
    dump.source.variant = "vmcore"
    phys = SegmentSpace(view, load_segments(layout, physical=True), name="physical")
    dump.memory = phys
    dump.system = SystemInfo(os="linux", cpu_arch=layout.arch)
    if not has_register_layout(layout.machine):
        dump.diag("unsupported_architecture", f"e_machine {layout.machine}: registers are not decoded",
                  structure="ELF header", offset=E_MACHINE_OFFSET)
    if any(o.startswith("Xen") for o in notes.owners):
        dump.diag("xen_notes", "Xen hypervisor notes present; they are not decoded", severity="info",
                  structure="PT_NOTE")
    if layout.root.body.flags & EF_INCOMPLETE:
        dump.diag("incomplete_dump", "e_flags bit 0: makedumpfile marked the dump incomplete",
                  structure="ELF header")
    for ld in layout.loads:
        dump.regions.append(MemoryRegion(start=ld.paddr, size=ld.mem_size, permissions=permissions(ld.flags),
                                         type="physical"))
    info = parse_vmcoreinfo(notes.vmcoreinfo) if notes.vmcoreinfo is not None else None
    target = KernelTarget(layout.arch, layout.byte_order, layout.word)
    fill_linux_kernel(dump, phys, notes, info, target, vmcoreinfo_at="PT_NOTE",
                      hints=[(ld.vaddr, ld.paddr, ld.file_size) for ld in layout.loads])
