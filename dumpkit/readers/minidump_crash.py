"""The minidump Exception stream -> :class:`~dumpkit.model.CrashInfo`.

What the exception record's fields mean depends on who wrote the dump (docs/formats.md 1.7):
Windows writes an NTSTATUS code, flags, the faulting instruction's address and up to 15
parameters; Breakpad/Crashpad on Linux and Android write the signal number, ``si_code`` and
``si_addr``; on macOS/iOS the Mach exception type and code.
"""
from __future__ import annotations

import struct
from typing import Any

from dumpkit.formats.bulk_tables import WINDOWS_MINIDUMP_EXCEPTION_STREAM
from dumpkit.model import CrashInfo, CrashKind
from dumpkit.readers.minidump_bulk import read_paths

__all__ = ["DUMP_REQUESTED", "EXCEPTION_FIELDS", "context_of", "crash_from_exception", "exception_row",
           "exception_row_of"]

#: the fields of an exception stream's row (MINIDUMP_EXCEPTION_STREAM, its table in
#: dumpkit/formats/bulk_tables.py), in order
EXCEPTION_FIELDS = WINDOWS_MINIDUMP_EXCEPTION_STREAM[1]
_EXCEPTION = struct.Struct(WINDOWS_MINIDUMP_EXCEPTION_STREAM[0])
(_THREAD_ID, _CODE, _FLAGS, _ADDRESS, _COUNT, _INFORMATION, _CONTEXT_SIZE, _CONTEXT_RVA) = (
    EXCEPTION_FIELDS.index(name) for name in (
        "thread_id", "exception_record.exception_code", "exception_record.exception_flags",
        "exception_record.exception_address", "exception_record.num_parameters",
        "exception_record.exception_information[0]", "thread_context.len_data", "thread_context.ofs_data"))
if EXCEPTION_FIELDS[_INFORMATION + 14] != "exception_record.exception_information[14]":
    raise ImportError("ksy/windows_minidump.ksy's exception parameters moved: update minidump_crash")

DUMP_REQUESTED = 0xFFFFFFFF  # Breakpad/Crashpad "exception code" of a dump taken without a crash
#: CPUs whose minidumps carry 32-bit addresses in the 64-bit exception fields.
_ARCHES_32BIT = frozenset({"x86", "arm", "mips", "ppc", "sparc", "riscv32"})
#: Linux signals whose siginfo holds a fault address (SIGILL, SIGTRAP, SIGBUS, SIGFPE, SIGSEGV).
_FAULT_SIGNALS = frozenset({4, 5, 7, 8, 11})
#: SystemInfo.os -> (CrashInfo.kind, CrashInfo.code_space) of the exception stream's code
_CRASH_KINDS: dict[str, tuple[CrashKind, str]] = {
    "windows": ("exception", "ntstatus"),
    "linux": ("signal", "linux_signal"),
    "android": ("signal", "linux_signal"),
    "macos": ("exception", "mach"),
    "ios": ("exception", "mach"),
    "solaris": ("signal", "solaris_signal"),
    "netbsd": ("signal", "netbsd_signal"),
    "openbsd": ("signal", "openbsd_signal"),
    "freebsd": ("signal", "freebsd_signal"),
    "fuchsia": ("exception", "fuchsia"),
}

def exception_row(data: bytes) -> tuple[int, ...] | None:
    """The row (:data:`EXCEPTION_FIELDS`) of an Exception stream whose bytes are ``data``, or
    ``None`` when it is shorter than the spec's record (the generated parser then reads it, and
    fails as it does)."""
    return _EXCEPTION.unpack_from(data) if len(data) >= _EXCEPTION.size else None


def exception_row_of(body: Any) -> tuple[int, ...]:
    """The row of an Exception stream the generated parser read."""
    return read_paths(body, EXCEPTION_FIELDS)


def context_of(row: tuple[int, ...]) -> tuple[int, int]:
    """``(DataSize, Rva)`` of the crashing thread's context in an exception row."""
    return row[_CONTEXT_SIZE], row[_CONTEXT_RVA]


def crash_from_exception(row: tuple[int, ...], os: str, cpu_arch: str) -> CrashInfo:
    """Crash facts from the row of a MINIDUMP_EXCEPTION_STREAM of a dump from ``os``/``cpu_arch``."""
    kind, space = _CRASH_KINDS.get(os, ("exception", "unknown"))
    code = row[_CODE]
    if code == DUMP_REQUESTED and os != "windows":
        kind = "none"
    count = min(row[_COUNT], 15)
    address: int | None = row[_ADDRESS]
    parameters = list(row[_INFORMATION:_INFORMATION + count])
    if cpu_arch in _ARCHES_32BIT:
        # 32-bit writers sign-extend into the 64-bit fields (Breakpad's test expects 0x45
        # for breakpad_minidump_32bit_crash_addr.dmp, stored as 0xffffffff00000045)
        address = None if address is None else address & 0xFFFFFFFF
        parameters = [p & 0xFFFFFFFF for p in parameters]
    crash = CrashInfo(kind=kind, code=code, subcode=row[_FLAGS], address=address,
                      thread_id=row[_THREAD_ID], parameters=parameters, code_space=space)
    if kind == "signal" and code not in _FAULT_SIGNALS and crash.subcode is not None:
        si_code = crash.subcode - (1 << 32) if crash.subcode & 0x80000000 else crash.subcode
        if si_code <= 0 and address:
            # kill/tkill/sigqueue: Breakpad copied si_addr, which holds si_pid | si_uid << 32
            crash.sender_pid = address & 0xFFFFFFFF or None
            crash.address = None
    return crash
