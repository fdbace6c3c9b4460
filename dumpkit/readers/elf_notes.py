"""Walk the PT_NOTE segments of an ELF core and collect what the notes say.

Notes are keyed by (owner name, type) and each is read inside its own guard: a broken
note becomes a diagnostic and the walk of that segment stops there (the notes before
it are kept). Regset notes (FP, XSTATE, ARM_*) belong to the NT_PRSTATUS before them.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dumpkit.errors import DumpkitError
from dumpkit.formats.elf_core import ElfCore
from dumpkit.model import Dump
from dumpkit.readers.elf_registers import named_registers
from dumpkit.readers.kaitai import guard

__all__ = ["MAX_FILE_ENTRIES", "MAX_NOTES", "MAX_NOTE_SEGMENT", "CoreNotes", "MappedFile", "ThreadNote",
           "walk_notes"]

#: Caps on what a hostile file can make us build.
MAX_NOTES = 1 << 16
MAX_FILE_ENTRIES = 1 << 17
#: A PT_NOTE segment is read whole (it is small: ~3 KiB per thread); a bigger one is skipped.
MAX_NOTE_SEGMENT = 128 << 20

NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV = 1, 2, 3, 6
NT_SIGINFO, NT_FILE = 0x53494749, 0x46494C45
NT_X86_XSTATE = 0x202
NETBSD_PROCINFO, NETBSD_AUXV = 1, 2
OPENBSD_PROCINFO, OPENBSD_AUXV = 10, 11

#: Regset note names for the source details, (owner, type) -> short name.
REGSET_NAMES = {
    ("CORE", NT_FPREGSET): "fpregset", ("LINUX", 0x46E62B7F): "prxfpreg",
    ("LINUX", 0x200): "386_tls", ("LINUX", 0x202): "x86_xstate", ("LINUX", 0x204): "x86_shstk",
    ("LINUX", 0x205): "x86_xsave_layout", ("LINUX", 0x400): "arm_vfp", ("LINUX", 0x401): "arm_tls",
    ("LINUX", 0x402): "arm_hw_break", ("LINUX", 0x403): "arm_hw_watch",
    ("LINUX", 0x404): "arm_system_call", ("LINUX", 0x405): "arm_sve", ("LINUX", 0x406): "arm_pac_mask",
    ("LINUX", 0x100): "ppc_vmx", ("LINUX", 0x102): "ppc_vsx", ("LINUX", 0x300): "s390_high_gprs",
    ("LINUX", 0x305): "s390_last_break", ("LINUX", 0x306): "s390_system_call",
    ("LINUX", 0x900): "riscv_csr", ("LINUX", 0x901): "riscv_vector",
}


@dataclass(slots=True)
class ThreadNote:
    """One NT_PRSTATUS (or BSD per-LWP register note) and the regsets that follow it."""

    tid: int
    registers: dict[str, int] = field(default_factory=dict)
    signal: int | None = None  # pr_cursig
    si_code: int | None = None
    ppid: int | None = None
    user_time: float | None = None
    kernel_time: float | None = None
    #: (regset name, descriptor size) in note order
    regsets: list[tuple[str, int]] = field(default_factory=list)
    xcr0: int | None = None
    offset: int | None = None


@dataclass(slots=True)
class MappedFile:
    start: int
    end: int
    file_offset: int  # bytes
    path: str


@dataclass(slots=True)
class CoreNotes:
    """Everything the notes of one core said."""

    threads: list[ThreadNote] = field(default_factory=list)
    prpsinfo: Any = None
    siginfo: Any = None
    auxv: list[tuple[int, int]] = field(default_factory=list)
    files: list[MappedFile] = field(default_factory=list)
    file_page_size: int | None = None
    vmcoreinfo: str | None = None
    owners: Counter[str] = field(default_factory=Counter)
    count: int = 0
    bsd_procinfo: Any = None  # NetBSD / OpenBSD procinfo
    bsd_os: str | None = None  # "netbsd" / "openbsd" / "freebsd"


def _iter_segment_notes(path: str, dump: Dump, seg_ofs: int, ph: Any) -> Iterator[Any]:
    """The notes of one PT_NOTE segment; stops (with a diagnostic) at the first bad one."""
    try:
        with guard(path, "PT_NOTE", seg_ofs):
            note = ph.notes.first if ph.notes is not None else None
    except DumpkitError as exc:
        dump.diag("bad_note_segment", f"note segment unreadable: {exc.message}",
                  structure="PT_NOTE", offset=seg_ofs)
        return
    while note is not None:
        yield note
        ofs = seg_ofs + note.ofs_next
        try:
            with guard(path, "note", ofs):
                note = note.next
        except DumpkitError as exc:
            dump.diag("bad_note", f"note record unreadable, later notes of this segment skipped: "
                      f"{exc.message}", structure="note", offset=ofs)
            return


def walk_notes(path: str, dump: Dump, note_headers: list[Any], machine: int) -> CoreNotes:
    """Read every note of the PT_NOTE program headers ``note_headers``."""
    out = CoreNotes()
    for ph in note_headers:
        if ph.len_body_in_file > MAX_NOTE_SEGMENT:
            dump.diag("note_segment_too_big", f"PT_NOTE segment of {ph.len_body_in_file:#x} bytes skipped "
                      f"(limit {MAX_NOTE_SEGMENT:#x})", structure="PT_NOTE", offset=ph.ofs_body)
            continue
        for note in _iter_segment_notes(path, dump, ph.ofs_body, ph):
            if out.count >= MAX_NOTES:
                dump.diag("too_many_notes", f"more than {MAX_NOTES} notes; the rest are ignored",
                          structure="PT_NOTE", offset=ph.ofs_body)
                return out
            out.count += 1
            out.owners[note.name] += 1
            ofs = ph.ofs_body + note.ofs_desc
            try:
                with guard(path, f"note {note.name}/{note.type:#x}", ofs):
                    _take(out, note, machine, dump, path, ofs)
            except DumpkitError as exc:
                dump.diag("bad_note", f"{note.name} note type {note.type:#x} unreadable: {exc.message}",
                          structure=f"note {note.name}/{note.type:#x}", offset=ofs)
    return out


def _take(out: CoreNotes, note: Any, machine: int, dump: Dump, path: str, ofs: int) -> None:
    name, ntype, desc = note.name, note.type, note.desc
    if name == "CORE":
        if ntype == NT_PRSTATUS:
            out.threads.append(_thread(desc.prstatus, machine, dump, path, ofs))
            return
        if ntype == NT_PRPSINFO:
            if out.prpsinfo is None:
                out.prpsinfo = desc.prpsinfo
                _ = out.prpsinfo.psargs  # parse now, inside the guard
            return
        if ntype == NT_SIGINFO:
            if out.siginfo is None:  # gdb writes one per thread; the first is the signalled one
                out.siginfo = desc.siginfo
                _ = out.siginfo.code
            return
        if ntype == NT_AUXV:
            if not out.auxv:
                out.auxv = _auxv(desc.auxv.entries)
            return
        if ntype == NT_FILE:
            if not out.files:
                _files(out, desc, note.len_desc, dump, ofs)
            return
    elif name == "VMCOREINFO":
        if out.vmcoreinfo is None:
            out.vmcoreinfo = desc.vmcoreinfo
        return
    elif name.startswith("NetBSD-CORE"):
        out.bsd_os = "netbsd"
        _netbsd(out, note, desc)
        return
    elif name.startswith("OpenBSD"):
        out.bsd_os = "openbsd"
        _openbsd(out, note, desc)
        return
    elif name.startswith("FreeBSD"):
        out.bsd_os = "freebsd"
        return
    regset = REGSET_NAMES.get((name, ntype))
    if regset is not None and out.threads:
        thread = out.threads[-1]
        thread.regsets.append((regset, note.len_desc))
        if (name, ntype) == ("LINUX", NT_X86_XSTATE) and desc.x86_xstate.xcr0 is not None:
            thread.xcr0 = desc.x86_xstate.xcr0


def _seconds(tv: Any) -> float:
    return float(tv.sec) + float(tv.usec) / 1e6


def id_or_none(value: int | None) -> int | None:
    """A pid/uid read as a signed C int: negative values are not ids (seen in damaged cores)."""
    return value if value is not None and value >= 0 else None


def _thread(ps: Any, machine: int, dump: Dump, path: str, ofs: int) -> ThreadNote:
    # pr_pid is a signed pid_t; a thread always needs an id, so keep its unsigned bits.
    thread = ThreadNote(tid=ps.pid & 0xFFFFFFFF, signal=ps.cursig, si_code=ps.si_code,
                        ppid=id_or_none(ps.ppid),
                        user_time=_seconds(ps.utime), kernel_time=_seconds(ps.stime), offset=ofs)
    try:
        with guard(path, "NT_PRSTATUS.pr_reg", ofs + ps.ofs_registers):
            thread.registers = named_registers(machine, ps.registers)
    except DumpkitError as exc:
        dump.diag("bad_registers", f"thread {ps.pid}: registers unreadable: {exc.message}",
                  structure="NT_PRSTATUS.pr_reg", offset=ofs + ps.ofs_registers)
    return thread


def _auxv(entries: list[Any]) -> list[tuple[int, int]]:
    out = []
    for entry in entries:
        if entry.type == 0:  # AT_NULL ends the vector
            break
        out.append((entry.type, entry.value))
    return out


def _sane_files(mf: Any, len_desc: int) -> bool:
    w = mf.len_word
    n = mf.num_entries
    ps = mf.page_size
    return (n <= MAX_FILE_ENTRIES and (2 + 3 * n) * w <= len_desc
            and (n == 0 or (ps > 0 and ps & (ps - 1) == 0)))


def _files(out: CoreNotes, desc: Any, len_desc: int, dump: Dump, ofs: int) -> None:
    mf = desc.mapped_files
    if not _sane_files(mf, len_desc):
        # Folklore: lldb's linux-mipsel-gnuabio32.core (an o32 process on a 64-bit kernel)
        # writes NT_FILE with 8-byte words although the core is ELF32.
        alt = desc.mapped_files_other_width
        if not _sane_files(alt, len_desc):
            dump.diag("bad_nt_file", f"NT_FILE count {mf.num_entries} / page size {mf.page_size} "
                      f"do not fit its {len_desc}-byte descriptor", structure="NT_FILE", offset=ofs)
            return
        dump.diag("nt_file_word_width", f"NT_FILE uses {alt.len_word}-byte words, not the ABI's "
                  f"{mf.len_word}", severity="info", structure="NT_FILE", offset=ofs)
        mf = alt
    paths = mf.paths
    out.file_page_size = mf.page_size
    for entry, raw in zip(mf.entries, paths, strict=False):
        out.files.append(MappedFile(entry.start, entry.end, entry.file_page_offset * mf.page_size,
                                    raw.decode("utf-8", "surrogateescape")))


_NETBSD_AMD64 = ("rdi", "rsi", "rdx", "rcx", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
                 "rbp", "rbx", "rax", "gs", "fs", "es", "ds", "trapno", "err", "rip", "cs",
                 "eflags", "rsp", "ss")


def _bsd_thread(out: CoreNotes, note_name: str) -> ThreadNote | None:
    """The thread a BSD per-LWP note (named ``NAME@LWPID``) belongs to, created on first sight."""
    try:
        tid = int(note_name.split("@", 1)[1])
    except (ValueError, IndexError):
        return None
    thread = next((t for t in out.threads if t.tid == tid), None)
    if thread is None:
        thread = ThreadNote(tid=tid)
        out.threads.append(thread)
    return thread


def _netbsd(out: CoreNotes, note: Any, desc: Any) -> None:
    if note.name == "NetBSD-CORE":
        if note.type == NETBSD_PROCINFO and out.bsd_procinfo is None:
            out.bsd_procinfo = desc.netbsd_procinfo
            _ = out.bsd_procinfo.name
        elif note.type == NETBSD_AUXV and not out.auxv:
            out.auxv = _auxv(desc.auxv.entries)
        return
    thread = _bsd_thread(out, note.name)
    if thread is None:
        return
    regs = desc.netbsd_regs
    if isinstance(regs, ElfCore.Body.NetbsdRegsAmd64) and note.type == 33 and not thread.registers:
        thread.registers = {n: int(v) for n, v in zip(_NETBSD_AMD64, regs.regs, strict=True)}
    elif isinstance(regs, ElfCore.Body.NetbsdRegsAarch64) and note.type == 32 and not thread.registers:
        named = {f"x{i}": int(v) for i, v in enumerate(regs.x[:29])}
        named.update(fp=regs.x[29], lr=regs.x[30], sp=regs.sp, pc=regs.pc, cpsr=regs.spsr)
        thread.registers = named
    else:
        thread.regsets.append((f"netbsd_{note.type}", note.len_desc))


def _openbsd(out: CoreNotes, note: Any, desc: Any) -> None:
    if note.name == "OpenBSD":
        if note.type == OPENBSD_PROCINFO and out.bsd_procinfo is None:
            out.bsd_procinfo = desc.openbsd_procinfo
            _ = out.bsd_procinfo.name
        elif note.type == OPENBSD_AUXV and not out.auxv:
            out.auxv = _auxv(desc.auxv.entries)
        return
    thread = _bsd_thread(out, note.name)
    if thread is None:
        return
    thread.regsets.append((f"openbsd_{note.type}", note.len_desc))
