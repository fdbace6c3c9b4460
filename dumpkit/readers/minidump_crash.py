"""The minidump Exception stream -> :class:`~dumpkit.model.CrashInfo`.

What the exception record's fields mean depends on who wrote the dump (docs/formats.md 1.7):
Windows writes an NTSTATUS code, flags, the faulting instruction's address and up to 15
parameters; Breakpad/Crashpad on Linux and Android write the signal number, ``si_code`` and
``si_addr``; on macOS/iOS the Mach exception type and code.
"""
from __future__ import annotations

from typing import Any

from dumpkit.model import CrashInfo, CrashKind

__all__ = ["DUMP_REQUESTED", "crash_from_exception"]

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

def crash_from_exception(body: Any, os: str, cpu_arch: str) -> CrashInfo:
    """Crash facts from a parsed MINIDUMP_EXCEPTION_STREAM of a dump from ``os``/``cpu_arch``."""
    record = body.exception_record
    kind, space = _CRASH_KINDS.get(os, ("exception", "unknown"))
    code = record.exception_code
    if code == DUMP_REQUESTED and os != "windows":
        kind = "none"
    count = min(record.num_parameters, 15)
    address: int | None = record.exception_address
    parameters = list(record.exception_information[:count])
    if cpu_arch in _ARCHES_32BIT:
        # 32-bit writers sign-extend into the 64-bit fields (Breakpad's test expects 0x45
        # for breakpad_minidump_32bit_crash_addr.dmp, stored as 0xffffffff00000045)
        address = None if address is None else address & 0xFFFFFFFF
        parameters = [p & 0xFFFFFFFF for p in parameters]
    crash = CrashInfo(kind=kind, code=code, subcode=record.exception_flags, address=address,
                      thread_id=body.thread_id, parameters=parameters, code_space=space)
    if kind == "signal" and code not in _FAULT_SIGNALS and crash.subcode is not None:
        si_code = crash.subcode - (1 << 32) if crash.subcode & 0x80000000 else crash.subcode
        if si_code <= 0 and address:
            # kill/tkill/sigqueue: Breakpad copied si_addr, which holds si_pid | si_uid << 32
            crash.sender_pid = address & 0xFFFFFFFF or None
            crash.address = None
    return crash
