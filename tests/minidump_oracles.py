"""Outside readers of minidumps, pinned (pyproject ``test`` extra), reduced to comparable facts.

* ``minidump`` 0.0.24 (skelsec, pure Python): threads with the THREAD-LIST context (x86 and
  AMD64 only), modules, exception records, system info, memory (MemoryList, or Memory64List
  when the dump has one).
* ``udmp-parser`` 0.7.0 (C++ with Python bindings): threads with the THREAD-LIST context
  (x86/AMD64), modules with their raw CodeView bytes, the foreground (exception) thread id, and
  memory only from Memory64List (plus MemoryInfoList for the block map). It exposes neither the
  exception record nor system info.
* ``ours``: ``dumpkit.open`` -> :class:`dumpkit.model.Dump`.

Each adapter returns :class:`Facts`. A reader that cannot read a file raises
:class:`OracleCannotRead` with the reason (the tests skip that file for that oracle).
"""
from __future__ import annotations

import logging
import os
import struct
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "ARCH_NAMES",
    "ORACLES",
    "OS_NAMES",
    "Facts",
    "OracleCannotRead",
    "cv_debug_id",
    "read_minidump_pkg",
    "read_ours",
    "read_udmp",
]

#: MINIDUMP_SYSTEM_INFO.ProcessorArchitecture -> dumpkit's cpu_arch vocabulary (docs/formats.md §1.8)
ARCH_NAMES = {0: "x86", 5: "arm", 9: "amd64", 12: "arm64", 0x8003: "arm64", 6: "ia64",
              0x8002: "ppc64", 0x8004: "mips64", 0x8006: "riscv64", 1: "mips", 3: "ppc"}
#: MINIDUMP_SYSTEM_INFO.PlatformId -> dumpkit's os vocabulary (docs/formats.md §1.8)
OS_NAMES = {2: "windows", 0x8101: "macos", 0x8102: "ios", 0x8201: "linux", 0x8202: "solaris",
            0x8203: "android", 0x8206: "fuchsia"}


class OracleCannotRead(Exception):
    """The outside reader cannot read this file (it raised, or returned failure)."""


@dataclass
class Facts:
    """What one reader says about one minidump; ``None`` = this reader does not tell."""

    reader: str
    thread_ids: list[int] | None = None
    #: tid -> (pc, sp) from the THREAD-LIST context; a tid is missing when no context was read
    thread_regs: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: tid -> (pc, sp) from the EXCEPTION stream's context
    exception_regs: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: (name as stored, base, size) in list order
    modules: list[tuple[str, int, int]] | None = None
    #: base -> debug id (RSDS/NB10/BpEL), computed from the reader's CodeView bytes
    debug_ids: dict[int, str] | None = None
    #: base -> "major.minor.build.revision" (None without VS_FIXEDFILEINFO)
    versions: dict[int, str | None] | None = None
    exception_tid: int | None = None
    exception_code: int | None = None
    exception_address: int | None = None
    exception_sender_pid: int | None = None  # ours only: decoded from the raw address field
    exception_params: list[int] | None = None
    os: str | None = None
    cpu_arch: str | None = None
    os_version: str | None = None  # "major.minor.build"
    csd: str | None = None  # CSDVersion text ("" when empty)
    cpu_count: int | None = None
    pid: int | None = None
    #: (name as stored, base, size) of UnloadedModuleList entries
    unloaded: list[tuple[str, int, int]] | None = None
    #: ranges this reader can read, (start, size)
    ranges: list[tuple[int, int]] = field(default_factory=list)
    read: Callable[[int, int], bytes | None] | None = None
    #: how ours labelled each thread's registers ("exception" / "thread_list" / ...)
    context_source: dict[int, str | None] = field(default_factory=dict)
    #: releases the reader's file (ours keeps the dump open for ``read``)
    close: Callable[[], None] | None = None


def cv_debug_id(cv: bytes) -> str | None:
    """Symbol-server debug id from CodeView bytes (docs/formats.md §1.5b); None if not recognised."""
    if len(cv) >= 24 and cv[:4] == b"RSDS":
        age = struct.unpack_from("<I", cv, 20)[0]
        return uuid.UUID(bytes_le=bytes(cv[4:20])).hex.upper() + f"{age:X}"
    if len(cv) >= 16 and cv[:4] == b"NB10":
        sig, age = struct.unpack_from("<II", cv, 8)
        return f"{sig:08X}{age:X}"
    if len(cv) >= 4 and struct.unpack_from("<I", cv)[0] == 0x4270454C:
        first = bytes(cv[4:20]).ljust(16, b"\0")
        return uuid.UUID(bytes_le=first).hex.upper() + "0"
    return None


def _version(ms: int, ls: int, signature: int) -> str | None:
    if signature != 0xFEEF04BD:
        return None
    return f"{ms >> 16}.{ms & 0xFFFF}.{ls >> 16}.{ls & 0xFFFF}"


@contextmanager
def _quiet() -> Iterator[None]:
    """The ``minidump`` package logs tracebacks (PEB guessing) on the root logger: mute them."""
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)
    try:
        yield
    finally:
        logging.disable(previous)


# ---------------------------------------------------------------------------- minidump (skelsec)
def _directory_fits(path: str) -> None:
    """Refuse files whose stream directory cannot fit: the package would loop over every entry.

    Seen: mdmp/r2fuzz_mdmp-dos claims 16,774,400 streams in a 60-byte file; ``MinidumpFile.parse``
    spent 104 s seeking through them.
    """
    with open(path, "rb") as fh:
        head = fh.read(0x20)
        size = os.fstat(fh.fileno()).st_size
    if len(head) < 0x20:
        raise OracleCannotRead(f"header truncated ({len(head)} bytes)")
    count, rva = struct.unpack_from("<II", head, 8)
    if rva + 12 * count > size:
        raise OracleCannotRead(f"minidump package not run: stream directory of {count} entries at "
                               f"{rva:#x} does not fit in the file ({size:#x} bytes); it would loop over all")


def _pkg_regs(ctx: object) -> tuple[int, int] | None:
    for pc, sp in (("Rip", "Rsp"), ("Eip", "Esp")):
        if hasattr(ctx, pc):
            return int(getattr(ctx, pc)), int(getattr(ctx, sp))
    return None


def read_minidump_pkg(path: str) -> Facts:
    """Facts from the ``minidump`` package (``MinidumpFile.parse``)."""
    from minidump.minidumpfile import MinidumpFile
    from minidump.streams.ContextStream import CONTEXT, WOW64_CONTEXT

    _directory_fits(path)
    try:
        with _quiet():
            mf = MinidumpFile.parse(path)
    except Exception as exc:
        raise OracleCannotRead(f"minidump package: {type(exc).__name__}: {exc}") from exc
    try:
        facts = Facts("minidump")
        arch = mf.sysinfo.ProcessorArchitecture.value if mf.sysinfo else None
        if mf.sysinfo is not None:
            si = mf.sysinfo
            facts.cpu_arch = ARCH_NAMES.get(arch, "unknown") if arch is not None else None
            facts.os = OS_NAMES.get(si.PlatformId.value, "unknown")
            facts.os_version = f"{si.MajorVersion}.{si.MinorVersion}.{si.BuildNumber}"
            if facts.os_version == "0.0.0":
                facts.os_version = None  # all zero = not recorded: dumpkit reports null
            facts.csd = si.CSDVersion or ""
            facts.cpu_count = si.NumberOfProcessors
        if mf.misc_info is not None and mf.misc_info.ProcessId is not None:  # set iff MISC1_PROCESS_ID
            facts.pid = int(mf.misc_info.ProcessId)
        if mf.unloaded_modules is not None:
            facts.unloaded = [(m.name, m.baseaddress, m.size) for m in mf.unloaded_modules.modules]
        if mf.threads is not None:
            facts.thread_ids = [int(t.ThreadId) for t in mf.threads.threads]
            for t in mf.threads.threads:
                ctx = getattr(t, "ContextObject", None)
                regs = _pkg_regs(ctx) if ctx is not None else None
                if regs is not None:
                    facts.thread_regs[int(t.ThreadId)] = regs
        if mf.modules is not None:
            facts.modules = [(m.name, m.baseaddress, m.size) for m in mf.modules.modules]
            facts.versions = {m.baseaddress: _version(m.versioninfo.dwFileVersionMS,
                                                      m.versioninfo.dwFileVersionLS,
                                                      m.versioninfo.dwSignature)
                              for m in mf.modules.modules}
        if mf.exception is not None and mf.exception.exception_records:
            rec = mf.exception.exception_records[0]
            er = rec.ExceptionRecord
            facts.exception_tid = int(rec.ThreadId)
            facts.exception_code = int(er.ExceptionCode_raw)
            facts.exception_address = int(er.ExceptionAddress)
            facts.exception_params = [int(x) for x in er.ExceptionInformation[:er.NumberParameters]]
            # the exception context, decoded by the package's own CONTEXT structures
            ctx_cls = {9: CONTEXT, 0: WOW64_CONTEXT}.get(arch) if arch is not None else None
            loc = rec.ThreadContext
            if ctx_cls is not None and loc.DataSize and loc.Rva:
                mf.file_handle.seek(loc.Rva)
                regs = _pkg_regs(ctx_cls.parse(mf.file_handle))
                if regs is not None:
                    facts.exception_regs[int(rec.ThreadId)] = regs
        segments = []
        if mf.memory_segments_64 is not None:
            segments = mf.memory_segments_64.memory_segments
        elif mf.memory_segments is not None:
            segments = mf.memory_segments.memory_segments
        facts.ranges = [(s.start_virtual_address, s.size) for s in segments]
        facts.read = _pkg_reader(mf)
    except Exception as exc:
        raise OracleCannotRead(f"minidump package: {type(exc).__name__}: {exc}") from exc
    return facts


def _pkg_reader(mf: object) -> Callable[[int, int], bytes | None] | None:
    """The package's memory reader; None when it refuses (no modules, unknown CPU, ...)."""
    try:
        with _quiet():
            reader = mf.get_reader()  # type: ignore[attr-defined]
    except Exception:
        return None

    def read(address: int, size: int) -> bytes | None:
        try:
            with _quiet():
                data = bytes(reader.read(address, size))
        except Exception:
            return None
        return data if len(data) == size else None

    return read


# ---------------------------------------------------------------------------- udmp-parser
def read_udmp(path: str) -> Facts:
    """Facts from ``udmp_parser.UserDumpParser().Parse``."""
    import udmp_parser

    parser = udmp_parser.UserDumpParser()
    try:
        ok = parser.Parse(Path(path))
    except Exception as exc:
        raise OracleCannotRead(f"udmp-parser: {type(exc).__name__}: {exc}") from exc
    if not ok:
        raise OracleCannotRead("udmp-parser: Parse() returned False")
    facts = Facts("udmp-parser")
    threads = parser.Threads()
    facts.thread_ids = sorted(threads)  # a dict keyed by tid: list order is not kept
    for tid, t in threads.items():
        ctx = t.Context
        regs = _pkg_regs(ctx)
        if regs is not None and type(ctx).__name__ != "UnknownContext":
            facts.thread_regs[tid] = regs
    mods = parser.Modules()
    facts.modules = sorted(((m.ModuleName, base, m.SizeOfImage) for base, m in mods.items()),
                           key=lambda x: x[1])
    facts.debug_ids = {}
    facts.versions = {}
    for base, m in mods.items():
        cv = bytes(m.CvRecord)
        ident = cv_debug_id(cv) if cv else None
        if ident is not None:
            facts.debug_ids[base] = ident
        vi = m.VersionInfo
        facts.versions[base] = _version(vi.FileVersionMS, vi.FileVersionLS, vi.Signature)
    facts.exception_tid = parser.ForegroundThreadId()
    facts.ranges = [(b.BaseAddress, b.DataSize) for b in parser.Memory().values() if b.DataSize]

    def read(address: int, size: int) -> bytes | None:
        data = parser.ReadMemory(address, size)
        return bytes(data) if data is not None and len(data) == size else None

    facts.read = read
    return facts


# ---------------------------------------------------------------------------- ours
def read_ours(path: str) -> Facts:
    """Facts from ``dumpkit.open`` (the code under test: errors propagate)."""
    import dumpkit
    from dumpkit.errors import NotCapturedError
    from dumpkit.model import PC_REGISTER, SP_REGISTER

    dump = dumpkit.open(os.fspath(path))
    facts = Facts("ours")
    arch = dump.system.cpu_arch
    facts.cpu_arch, facts.os = arch, dump.system.os
    facts.os_version, facts.csd = dump.system.os_version, dump.system.os_detail or ""
    facts.cpu_count = dump.system.cpu_count
    facts.pid = dump.process.pid if dump.process is not None else None
    facts.unloaded = [(m.path, m.base, m.size) for m in dump.unloaded_modules]
    facts.thread_ids = [t.id for t in dump.threads]
    pc_name, sp_name = PC_REGISTER.get(arch), SP_REGISTER.get(arch)
    for t in dump.threads:
        facts.context_source[t.id] = t.context_source
        if pc_name in t.registers and sp_name in t.registers:
            regs = (t.registers[pc_name], t.registers[sp_name])
            if t.context_source == "exception":
                facts.exception_regs[t.id] = regs
            else:
                facts.thread_regs[t.id] = regs
    facts.modules = [(m.path, m.base, m.size) for m in dump.modules]
    facts.debug_ids = {m.base: m.debug_id for m in dump.modules if m.debug_id}
    facts.versions = {m.base: m.version for m in dump.modules}
    if dump.crash is not None:
        facts.exception_tid = dump.crash.thread_id
        facts.exception_code = dump.crash.code
        facts.exception_address = dump.crash.address
        if dump.crash.sender_pid is not None and dump.crash.address is None:
            # we decode a kill/tkill siginfo union (si_pid | si_uid << 32) into sender_pid;
            # the oracles show the raw field, so compare its pid half
            facts.exception_sender_pid = dump.crash.sender_pid
        facts.exception_params = list(dump.crash.parameters)
    memory = dump.memory
    if memory is not None:
        facts.ranges = list(memory.ranges())

        def read(address: int, size: int) -> bytes | None:
            try:
                return memory.read(address, size)
            except NotCapturedError:
                return None

        facts.read = read
    facts.close = dump.close  # the mapping stays open while ``read`` is used
    return facts


ORACLES: dict[str, Callable[[str], Facts]] = {"minidump": read_minidump_pkg, "udmp-parser": read_udmp}
