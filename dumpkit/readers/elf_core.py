"""Reader for ELF core files: Linux process cores (kernel or gdb ``gcore``), BSD cores
(degraded), and kdump ``/proc/vmcore`` files (filled by :mod:`linux_vmcore`).

``read(path)`` parses the ELF header and program headers with the generated parser
(``ksy/elf_core.ksy``), walks the notes (:mod:`elf_notes`), maps PT_LOAD segments into a
:class:`~dumpkit.memory.SegmentSpace` (never reading their contents up front) and fills
the :class:`~dumpkit.model.Dump`.
"""
from __future__ import annotations

from bisect import bisect_right

from dumpkit.errors import DumpkitError
from dumpkit.memory import FileView, Segment, SegmentSpace
from dumpkit.model import (
    PC_REGISTER,
    SP_REGISTER,
    CrashInfo,
    Dump,
    MemoryRegion,
    Module,
    ProcessInfo,
    SourceInfo,
    SystemInfo,
    Thread,
)
from dumpkit.readers import elf_modules
from dumpkit.readers.elf_images import read_cstring
from dumpkit.readers.elf_layout import (
    E_MACHINE_OFFSET,
    ElfLayout,
    load_segments,
    note_areas,
    permissions,
    read_layout,
)
from dumpkit.readers.elf_notes import CoreNotes, id_or_none, walk_notes
from dumpkit.readers.elf_registers import has_register_layout
from dumpkit.readers.linux_vmcore import fill_vmcore, is_kernel_dump

__all__ = ["build_threads", "read", "read_view"]

SIGNALS_WITH_ADDRESS = {4, 5, 8, 11}  # SIGILL, SIGTRAP, SIGFPE, SIGSEGV (+ SIGBUS below)
SIGBUS = {"mips": 10, "mips64": 10, "sparc": 10, "sparc64": 10, "alpha": 10, "hppa": 10}
SIGSTOP = {"mips": 23, "mips64": 23, "sparc": 17, "sparc64": 17, "alpha": 17, "hppa": 24}
SENDER_CODES = {0, -1, -6}  # SI_USER, SI_QUEUE, SI_TKILL: si_pid names the sender
AT_PAGESZ, AT_PLATFORM, AT_HWCAP, AT_HWCAP2 = 6, 15, 16, 26
OSABI_NAMES = {2: "netbsd", 9: "freebsd", 12: "openbsd", 6: "solaris"}


def read(path: str) -> Dump:
    """Read the ELF core at ``path``. Raises :class:`DumpParseError` for an unusable header."""
    view = FileView(path)
    try:
        return read_view(view)
    except BaseException:
        view.close()
        raise


def read_view(view: FileView) -> Dump:
    """Read an ELF core from an open view (any object with FileView's reading methods:
    the kdump reader passes a re-assembled flattened stream)."""
    layout = read_layout(view)
    dump = Dump(source=SourceInfo(path=view.path, size=view.size, format="elf_core",
                                  byte_order=layout.byte_order))
    notes = walk_notes(view.path, dump, note_areas(view.path, dump, layout), layout.note_target)
    if not layout.num_program_headers:
        body = layout.root.body
        what = " (a section-based format such as Xen's xc_core)" if body.num_section_headers else ""
        dump.diag("no_program_headers", f"ELF core without program headers{what}: nothing decoded",
                  structure="ELF header", offset=0)
    elif not layout.note_headers:
        dump.diag("no_notes", "no PT_NOTE segment: no threads, process or signal facts",
                  structure="program headers", offset=int(layout.root.body.ofs_program_headers))
    _details(dump, layout, notes)
    short = [ld for ld in layout.loads if ld.file_size and ld.offset + ld.file_size > view.size]
    if short:
        dump.diag("truncated_file", f"{len(short)} PT_LOAD segments extend past the end of the file "
                  f"({view.size:#x} bytes): their tails read as not captured", structure="PT_LOAD",
                  offset=short[0].offset)
    if is_kernel_dump(layout, notes):
        fill_vmcore(dump, view, layout, notes)
    else:
        _fill_process(dump, view, layout, notes)
    return dump


def _details(dump: Dump, layout: ElfLayout, notes: CoreNotes) -> None:
    body = layout.root.body
    d = dump.source.details
    d["e_machine"] = layout.machine
    d["elf_class"] = 64 if layout.is_64 else 32
    d["os_abi"] = int(layout.root.ei_osabi)
    d["num_program_headers"] = layout.num_program_headers
    d["num_load_segments"] = len(layout.loads)
    d["num_notes"] = notes.count
    d["note_owners"] = ",".join(sorted(notes.owners))
    if notes.threads and notes.threads[0].regsets:
        # FP / extended-state notes of the first thread: presence and size
        d["regsets"] = ",".join(f"{name}:{size}" for name, size in notes.threads[0].regsets)
    xcr0 = next((t.xcr0 for t in notes.threads if t.xcr0 is not None), None)
    if xcr0 is not None:
        d["xcr0"] = f"{xcr0:#x}"
    if body.num_program_headers_raw == 0xFFFF:
        d["pn_xnum"] = True
    if body.flags:
        d["e_flags"] = int(body.flags)


def stack_of(space: SegmentSpace, sp: int | None) -> tuple[int, int] | None:
    """(start, captured size) of the segment holding ``sp``."""
    if sp is None:
        return None
    seg = space.find(sp)
    if seg is None or seg.file_size <= 0:
        return None
    return seg.start, min(seg.size, seg.file_size)


def build_threads(dump: Dump, space: SegmentSpace, notes: CoreNotes, arch: str,
                  crashed_tid: int | None) -> list[Thread]:
    """Threads in note order, the crashing one first."""
    threads = []
    pc_name, sp_name = PC_REGISTER.get(arch), SP_REGISTER.get(arch)
    for t in notes.threads:
        thread = Thread(id=t.tid, registers=dict(t.registers), context_source="prstatus")
        thread.crashed = crashed_tid is not None and t.tid == crashed_tid
        stack = stack_of(space, t.registers.get(sp_name) if sp_name else None)
        if stack is not None:
            thread.stack_start, thread.stack_size = stack
        if pc_name and pc_name not in t.registers and t.registers:
            dump.diag("no_pc_register", f"thread {t.tid}: no {pc_name} register", severity="info")
        threads.append(thread)
    threads.sort(key=lambda th: not th.crashed)
    return threads


def _fill_process(dump: Dump, view: FileView, layout: ElfLayout, notes: CoreNotes) -> None:
    dump.source.variant = "process"
    space = SegmentSpace(view, load_segments(layout, physical=False), name="virtual")
    dump.memory = space
    arch = layout.arch
    auxv = dict(notes.auxv)
    dump.system = SystemInfo(os=notes.bsd_os or OSABI_NAMES.get(int(layout.root.ei_osabi), "linux"),
                             cpu_arch=arch)
    page = auxv.get(AT_PAGESZ) or notes.file_page_size
    dump.system.page_size = page if page and page & (page - 1) == 0 else None
    if auxv.get(AT_PLATFORM):
        dump.system.cpu_description = read_cstring(space, auxv[AT_PLATFORM], 64)
    if auxv.get(AT_HWCAP) is not None:
        features = f"hwcap={auxv[AT_HWCAP]:#x}"
        if auxv.get(AT_HWCAP2):
            features += f" hwcap2={auxv[AT_HWCAP2]:#x}"
        dump.system.cpu_features = features
    if arch == "unknown" or not has_register_layout(layout.machine):
        dump.diag("unsupported_architecture", f"e_machine {layout.machine}: registers are not decoded",
                  structure="ELF header", offset=E_MACHINE_OFFSET)
    if notes.bsd_os:
        _fill_bsd(dump, notes)
    else:
        _fill_linux_process(dump, notes, arch)
    dump.threads = build_threads(dump, space, notes, arch,
                                 dump.crash.thread_id if dump.crash and dump.crash.kind != "none" else None)
    _regions(dump, layout, notes)
    _modules(dump, space, layout, notes, auxv)


def _decode(raw: bytes | None) -> str | None:
    if raw is None:
        return None
    text = raw.decode("utf-8", "replace").strip()
    return text or None


def _fill_linux_process(dump: Dump, notes: CoreNotes, arch: str) -> None:
    ps = notes.prpsinfo
    first = notes.threads[0] if notes.threads else None
    if ps is not None:
        dump.process = ProcessInfo(pid=id_or_none(ps.pid), ppid=id_or_none(ps.ppid),
                                   uid=id_or_none(ps.uid), gid=id_or_none(ps.gid),
                                   name=_decode(ps.fname), command_line=_decode(ps.psargs))
    elif first is not None:
        dump.process = ProcessInfo(ppid=first.ppid)
    if dump.process is not None:
        # The thread-group leader's NT_PRSTATUS carries the whole process's CPU times.
        leader = next((t for t in notes.threads if t.tid == dump.process.pid), None)
        if leader is not None:
            dump.process.user_time, dump.process.kernel_time = leader.user_time, leader.kernel_time
    si = notes.siginfo
    signo = si.signo if si is not None and si.signo else (first.signal if first else None)
    # MIPS numbers its signals differently (SIGBUS 10, SIGUSR1 16, ...): name them from its table.
    signal_space = "linux_signal_mips" if arch.startswith("mips") else "linux_signal"
    if not signo:
        dump.crash = CrashInfo(kind="none", code_space=signal_space)
        if first is None:
            dump.diag("no_threads", "the core has no NT_PRSTATUS note", structure="PT_NOTE")
        return
    if signo == SIGSTOP.get(arch, 19):
        # A snapshot of a live process (gdb / lldb gcore: every thread in a SIGSTOP stop),
        # not a crash. The signal stays recorded as the code.
        dump.crash = CrashInfo(kind="none", code=signo, code_space=signal_space,
                               message="process stopped by SIGSTOP (snapshot of a live process)")
        return
    crash = CrashInfo(kind="signal", code=signo, code_space=signal_space,
                      thread_id=first.tid if first else None)
    if si is not None and si.signo == signo:
        crash.subcode = si.code
        fault = SIGNALS_WITH_ADDRESS | {SIGBUS.get(arch, 7)}
        if si.code in SENDER_CODES:
            crash.sender_pid = id_or_none(si.sender_pid)
        elif signo in fault and si.code > 0:
            crash.address = si.addr
    dump.crash = crash


def _fill_bsd(dump: Dump, notes: CoreNotes) -> None:
    dump.diag("bsd_core", f"{notes.bsd_os} core: process facts and per-LWP registers are read where "
              "known, other notes are skipped", severity="info", structure="PT_NOTE")
    pi = notes.bsd_procinfo
    if pi is None:
        dump.crash = CrashInfo(kind="none", code_space=f"{notes.bsd_os}_signal")
        return
    dump.process = ProcessInfo(pid=id_or_none(pi.pid), ppid=id_or_none(pi.ppid), uid=id_or_none(pi.ruid),
                               gid=id_or_none(pi.rgid), name=_decode(pi.name))
    lwp = id_or_none(getattr(pi, "signal_lwp", None))
    tid = lwp if lwp else (notes.threads[0].tid if notes.threads else None)
    if pi.signo:
        dump.crash = CrashInfo(kind="signal", code=pi.signo, subcode=pi.sigcode,
                               code_space=f"{notes.bsd_os}_signal", thread_id=tid)
    else:
        dump.crash = CrashInfo(kind="none", code_space=f"{notes.bsd_os}_signal")


def _regions(dump: Dump, layout: ElfLayout, notes: CoreNotes) -> None:
    perms = [permissions(flags) for flags in range(8)]  # one string per PF_R/W/X combination
    regions = [MemoryRegion(vaddr, mem_size, perms[flags & 7])
               for vaddr, _paddr, _offset, _file_size, mem_size, flags in layout.loads]
    files = sorted(notes.files, key=lambda f: f.start)
    if files:
        starts = [f.start for f in files]
        for region in regions:
            i = bisect_right(starts, region.start) - 1
            if i >= 0 and region.start < files[i].end:
                region.path = files[i].path
    dump.regions.extend(regions)


def _modules(dump: Dump, space: SegmentSpace, layout: ElfLayout, notes: CoreNotes,
             auxv: dict[int, int]) -> None:
    flags = {(vaddr, mem_size): fl for vaddr, _paddr, _offset, _file_size, mem_size, fl in layout.loads}

    def flags_of(seg: Segment) -> int:
        return flags.get((seg.start, seg.size), 0)

    modules: list[Module | None] = []
    try:
        if not notes.files:  # no NT_FILE: the executable, the dynamic linker's list, the interpreter
            name = dump.process.name if dump.process else None
            modules.append(elf_modules.executable_module(space, auxv, name, space.find))
            starts = [seg.start for seg in space.segments]
            modules += elf_modules.modules_from_link_map(dump, space, auxv, layout.word,
                                                         layout.byte_order, starts)
            modules.append(elf_modules.interpreter_module(space, auxv))
            modules.append(elf_modules.vdso_module(space, auxv, space.find))
            found = [m for m in modules if m is not None]
            modules += elf_modules.scanned_modules(space, starts, found)
        else:
            modules += elf_modules.modules_from_files(dump, space, notes.files, space.find, flags_of)
            modules.append(elf_modules.vdso_module(space, auxv, space.find))
    except DumpkitError as exc:  # defensive: module discovery is best effort
        dump.diag("modules_unreadable", f"module list incomplete: {exc.message}")
        return
    by_base: dict[int, Module] = {}
    for module in modules:
        if module is not None and module.base not in by_base:
            by_base[module.base] = module
    dump.modules = sorted(by_base.values(), key=lambda m: m.base)
