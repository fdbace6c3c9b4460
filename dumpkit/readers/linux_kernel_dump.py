"""The Linux-kernel part of a kernel dump, whatever container holds it.

An ELF vmcore (:mod:`linux_vmcore`) and a makedumpfile file (:mod:`kdump`) differ in how
they store notes and pages; what they say about the kernel is the same and is filled
here, once: a panic, one thread per CPU from the NT_PRSTATUS notes, the VMCOREINFO facts,
the kernel as module ``vmlinux`` (:mod:`linux_kernel_module`) and the kernel log tail with
the panic message.

The ``created`` rule: the time the container records for the dump itself (the kdump
header's timestamp) comes first; VMCOREINFO's CRASHTIME (the kernel's clock when it
panicked) fills ``created`` only when the container has none (an ELF vmcore has none),
and is always kept as the ``crash_time`` detail.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from dumpkit.memory import AddressSpace
from dumpkit.model import PC_REGISTER, CrashInfo, Dump, Thread
from dumpkit.readers.elf_notes import CoreNotes
from dumpkit.readers.linux_kernel import (
    X86_64_START_KERNEL_MAP,
    KernelTranslator,
    VmcoreInfo,
    attach_kernel_log,
)
from dumpkit.readers.linux_kernel_module import kernel_module

__all__ = ["DIRECT_MAP_BASE", "KernelTarget", "cpu_threads", "fill_linux_kernel"]

#: Default start of the kernel direct map where VMCOREINFO and the container do not say it
#: (arch -> VA): i386's 3G/1G split, ppc64's linear map, s390's identity map. amd64 and
#: arm64 are handled by KernelTranslator itself.
DIRECT_MAP_BASE = {"x86": 0xC0000000, "ppc64": 0xC000000000000000, "s390x": 0, "s390": 0,
                   "ppc": 0xC0000000, "arm": 0xC0000000}


@dataclass(frozen=True, slots=True)
class KernelTarget:
    """The crashed kernel's CPU architecture, byte order and pointer size."""

    arch: str
    byteorder: Literal["little", "big"]
    pointer_size: int


def cpu_threads(dump: Dump, notes: CoreNotes, arch: str) -> list[Thread]:
    """One thread per NT_PRSTATUS note, named ``cpuN`` in note order (no stacks: SPs are kernel VAs)."""
    pc_name = PC_REGISTER.get(arch)
    threads = []
    for cpu, note in enumerate(notes.threads):
        threads.append(Thread(id=note.tid, registers=dict(note.registers), name=f"cpu{cpu}",
                              context_source="prstatus"))
        if pc_name and note.registers and pc_name not in note.registers:
            dump.diag("no_pc_register", f"cpu{cpu}: no {pc_name} register", severity="info")
    return threads


def fill_linux_kernel(dump: Dump, phys: AddressSpace, notes: CoreNotes, info: VmcoreInfo | None,
                      target: KernelTarget, *, vmcoreinfo_at: str,
                      hints: Sequence[tuple[int, int, int]] = (), phys_base: int | None = None) -> None:
    """Fill ``dump``'s kernel facts; the container has set ``source`` and ``system`` first.

    ``vmcoreinfo_at`` names where VMCOREINFO was looked for (for the diagnostic when it is
    absent); ``hints`` are (virtual, physical, size) ranges the container knows (an ELF
    vmcore's PT_LOADs); ``phys_base`` is the container's copy of it (a kdump sub-header's).
    """
    dump.system.os = "linux"
    dump.crash = CrashInfo(kind="panic", code_space="linux_panic")
    dump.threads = cpu_threads(dump, notes, target.arch)
    if dump.system.cpu_count is None:
        dump.system.cpu_count = len(dump.threads) or None
    if info is None:
        dump.diag("no_vmcoreinfo", "no VMCOREINFO: no kernel log or kernel facts", severity="info",
                  structure=vmcoreinfo_at)
        return
    dump.system.kernel_release = info.osrelease or dump.system.kernel_release
    dump.system.page_size = dump.system.page_size or info.page_size
    if info.crash_time is not None:
        dump.source.details["crash_time"] = info.crash_time
        if dump.source.created is None:
            dump.source.created = info.crash_time
    if info.build_id:
        dump.source.details["kernel_build_id"] = info.build_id
    kernel = kernel_module(info, target.arch, hints)
    if kernel is not None:
        dump.modules.append(kernel)
    if info.kernel_offset is not None:
        dump.source.details["kernel_offset"] = f"{info.kernel_offset:#x}"
    translator = _translator(info, target.arch, hints, phys_base)
    attach_kernel_log(dump, phys, info, arch=target.arch, byteorder=target.byteorder,
                      pointer_size=target.pointer_size, translator=translator)


def _translator(info: VmcoreInfo, arch: str, hints: Sequence[tuple[int, int, int]],
                phys_base: int | None) -> KernelTranslator:
    """VMCOREINFO's phys_base first, then the container's, then (amd64) the kernel-text hint."""
    base = info.numbers.get("phys_base", phys_base)
    if base is None and arch == "amd64":
        # The kernel-text PT_LOAD says where __START_KERNEL_map landed (crash(8) does the same).
        text = [(v, p) for v, p, _ in hints if v >= X86_64_START_KERNEL_MAP]
        if text:
            base = text[0][1] - (text[0][0] - X86_64_START_KERNEL_MAP)
    direct = [v - p for v, p, _ in hints if 0 < v < X86_64_START_KERNEL_MAP and v > p]
    page_offset = direct[0] if direct else DIRECT_MAP_BASE.get(arch)
    return KernelTranslator(info, arch, hints=hints, phys_base=base, page_offset=page_offset)
