"""Walk ELF notes and collect what they say.

The walker takes note bytes: the body of an ELF core's PT_NOTE segment, or the copy of
the crashed kernel's PT_NOTE segment that a kdump-compressed file keeps. They are parsed
with the generated ``ElfNotes`` parser (``ksy/elf_notes.ksy``); the area's offset in the
dump file only places diagnostics and thread notes.

Notes are keyed by (owner name, type) and each is read inside its own guard: a broken
note becomes a diagnostic and the walk of that area stops there (the notes before it are
kept). Regset notes (FP, XSTATE, ARM_*) belong to the NT_PRSTATUS before them.
"""
from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from kaitaistruct import KaitaiStream

from dumpkit.errors import DumpkitError
from dumpkit.formats.elf_notes import ElfNotes
from dumpkit.model import Dump
from dumpkit.readers.elf_registers import named_registers
from dumpkit.readers.kaitai import guard

__all__ = ["MAX_FILE_ENTRIES", "MAX_NOTES", "MAX_NOTE_SEGMENT", "CoreNotes", "MappedFile", "NoteArea",
           "NoteTarget", "ThreadNote", "parse_notes", "walk_notes"]

#: Caps on what a hostile file can make us build.
MAX_NOTES = 1 << 16
MAX_FILE_ENTRIES = 1 << 17
#: A PT_NOTE segment is read whole (it is small: ~3 KiB per thread); a bigger one is skipped.
MAX_NOTE_SEGMENT = 128 << 20

_NT = ElfNotes.NoteType
_LINUX_NT = ElfNotes.LinuxNoteType
NT_PRSTATUS, NT_FPREGSET, NT_PRPSINFO, NT_AUXV = (_NT.prstatus.value, _NT.fpregset.value,
                                                  _NT.prpsinfo.value, _NT.auxv.value)
NT_SIGINFO, NT_FILE = _NT.siginfo.value, _NT.file.value
NT_X86_XSTATE = _LINUX_NT.x86_xstate.value
#: NetBSD-CORE / OpenBSD note types (their own numbering, keyed by owner name).
NETBSD_PROCINFO, NETBSD_AUXV = 1, 2
OPENBSD_PROCINFO, OPENBSD_AUXV = 10, 11
#: NetBSD per-LWP notes carry ptrace request numbers: PT_GETREGS is PT_FIRSTMACH + 1 on
#: amd64 (33) and PT_FIRSTMACH + 0 on aarch64 (32).
NETBSD_AMD64_PT_GETREGS = 33
NETBSD_AARCH64_PT_GETREGS = 32
AT_NULL = 0

#: Regset note names for the source details, (owner, type) -> short name.
REGSET_NAMES = {
    ("CORE", NT_FPREGSET): "fpregset", ("LINUX", _LINUX_NT.prxfpreg.value): "prxfpreg",
    ("LINUX", 0x200): "386_tls", ("LINUX", 0x202): "x86_xstate", ("LINUX", 0x204): "x86_shstk",
    ("LINUX", 0x205): "x86_xsave_layout", ("LINUX", 0x400): "arm_vfp", ("LINUX", 0x401): "arm_tls",
    ("LINUX", 0x402): "arm_hw_break", ("LINUX", 0x403): "arm_hw_watch",
    ("LINUX", 0x404): "arm_system_call", ("LINUX", 0x405): "arm_sve", ("LINUX", 0x406): "arm_pac_mask",
    ("LINUX", 0x100): "ppc_vmx", ("LINUX", 0x102): "ppc_vsx", ("LINUX", 0x300): "s390_high_gprs",
    ("LINUX", 0x305): "s390_last_break", ("LINUX", 0x306): "s390_system_call",
    ("LINUX", 0x900): "riscv_csr", ("LINUX", 0x901): "riscv_vector",
}


@dataclass(frozen=True, slots=True)
class NoteTarget:
    """The target facts note layouts depend on: ``e_machine`` (0 when unknown), class, byte order."""

    machine: int
    is_64: bool
    is_be: bool


@dataclass(frozen=True, slots=True)
class NoteArea:
    """Note bytes and where they start in the dump file (for diagnostics)."""

    offset: int
    data: bytes


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
    """One NT_FILE entry: a file mapped at [start, end) from ``file_offset``."""

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


def parse_notes(data: bytes, target: NoteTarget) -> Any:
    """The generated parser over note bytes (notes parse lazily, from ``.first``)."""
    return ElfNotes(target.machine, target.is_64, target.is_be, KaitaiStream(io.BytesIO(data)))


def _iter_area_notes(path: str, dump: Dump, area: NoteArea, target: NoteTarget) -> Iterator[Any]:
    """The notes of one area; stops (with a diagnostic) at the first bad one."""
    try:
        with guard(path, "PT_NOTE", area.offset):
            note = parse_notes(area.data, target).first
    except DumpkitError as exc:
        dump.diag("bad_note_segment", f"note segment unreadable: {exc.message}",
                  structure="PT_NOTE", offset=area.offset)
        return
    while note is not None:
        yield note
        ofs = area.offset + note.ofs_next
        try:
            with guard(path, "note", ofs):
                note = note.next
        except DumpkitError as exc:
            dump.diag("bad_note", f"note record unreadable, later notes of this segment skipped: "
                      f"{exc.message}", structure="note", offset=ofs)
            return


def walk_notes(path: str, dump: Dump, areas: Iterable[NoteArea], target: NoteTarget) -> CoreNotes:
    """Read every note of ``areas`` (note bytes with their file offsets), in order."""
    out = CoreNotes()
    for area in areas:
        for note in _iter_area_notes(path, dump, area, target):
            if out.count >= MAX_NOTES:
                dump.diag("too_many_notes", f"more than {MAX_NOTES} notes; the rest are ignored",
                          structure="PT_NOTE", offset=area.offset)
                return out
            out.count += 1
            out.owners[note.name] += 1
            ofs = area.offset + note.ofs_desc
            try:
                with guard(path, f"note {note.name}/{note.type:#x}", ofs):
                    _take(out, note, target.machine, dump, path, ofs)
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
        if entry.type == AT_NULL:  # it ends the vector
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
    if thread.registers:
        thread.regsets.append((f"netbsd_{note.type}", note.len_desc))
    elif isinstance(regs, ElfNotes.NetbsdRegsAmd64) and note.type == NETBSD_AMD64_PT_GETREGS:
        thread.registers = {n: int(v) for n, v in zip(_NETBSD_AMD64, regs.regs, strict=True)}
    elif isinstance(regs, ElfNotes.NetbsdRegsAarch64) and note.type == NETBSD_AARCH64_PT_GETREGS:
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
