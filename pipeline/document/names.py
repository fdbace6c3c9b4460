"""Names for humans: exception codes, signals and their codes, Mach exceptions, bugchecks.

Flat lookups over tables, each with one fallback for unknown values (a hex or decimal
rendering), in the spirit of pyelftools' ``describe_*``. Values come from public headers
(winnt.h / ntstatus.h, Linux ``asm-generic/signal.h`` and ``siginfo.h``, Mach
``exception_types.h``); bugcheck names live in :mod:`dumpkit.pipeline.document.bugcheck_names`.
"""
from __future__ import annotations

__all__ = [
    "crash_code_name",
    "crash_subcode_name",
    "describe_bugcheck",
    "describe_ntstatus",
    "describe_signal",
]

NTSTATUS_NAMES = {
    0x40010005: "DBG_CONTROL_C",
    0x40010008: "DBG_CONTROL_BREAK",
    0x4000001F: "STATUS_WX86_BREAKPOINT",
    0x406D1388: "MS_VC_EXCEPTION",  # SetThreadName
    0x80000001: "EXCEPTION_GUARD_PAGE",
    0x80000002: "EXCEPTION_DATATYPE_MISALIGNMENT",
    0x80000003: "EXCEPTION_BREAKPOINT",
    0x80000004: "EXCEPTION_SINGLE_STEP",
    0x80000029: "STATUS_UNWIND_CONSOLIDATE",
    0xC0000005: "EXCEPTION_ACCESS_VIOLATION",
    0xC0000006: "EXCEPTION_IN_PAGE_ERROR",
    0xC0000008: "EXCEPTION_INVALID_HANDLE",
    0xC000000D: "STATUS_INVALID_PARAMETER",
    0xC0000017: "STATUS_NO_MEMORY",
    0xC000001D: "EXCEPTION_ILLEGAL_INSTRUCTION",
    0xC0000025: "EXCEPTION_NONCONTINUABLE_EXCEPTION",
    0xC0000026: "EXCEPTION_INVALID_DISPOSITION",
    0xC0000027: "STATUS_UNWIND",
    0xC0000028: "STATUS_BAD_STACK",
    0xC0000029: "STATUS_INVALID_UNWIND_TARGET",
    0xC000008C: "EXCEPTION_ARRAY_BOUNDS_EXCEEDED",
    0xC000008D: "EXCEPTION_FLT_DENORMAL_OPERAND",
    0xC000008E: "EXCEPTION_FLT_DIVIDE_BY_ZERO",
    0xC000008F: "EXCEPTION_FLT_INEXACT_RESULT",
    0xC0000090: "EXCEPTION_FLT_INVALID_OPERATION",
    0xC0000091: "EXCEPTION_FLT_OVERFLOW",
    0xC0000092: "EXCEPTION_FLT_STACK_CHECK",
    0xC0000093: "EXCEPTION_FLT_UNDERFLOW",
    0xC0000094: "EXCEPTION_INT_DIVIDE_BY_ZERO",
    0xC0000095: "EXCEPTION_INT_OVERFLOW",
    0xC0000096: "EXCEPTION_PRIV_INSTRUCTION",
    0xC00000FD: "EXCEPTION_STACK_OVERFLOW",
    0xC0000135: "STATUS_DLL_NOT_FOUND",
    0xC0000142: "STATUS_DLL_INIT_FAILED",
    0xC0000144: "STATUS_UNHANDLED_EXCEPTION",
    0xC0000194: "EXCEPTION_POSSIBLE_DEADLOCK",
    0xC00002B4: "STATUS_FLOAT_MULTIPLE_FAULTS",
    0xC00002B5: "STATUS_FLOAT_MULTIPLE_TRAPS",
    0xC0000374: "STATUS_HEAP_CORRUPTION",
    0xC0000409: "STATUS_STACK_BUFFER_OVERRUN",
    0xC0000417: "STATUS_INVALID_CRUNTIME_PARAMETER",
    0xC000041D: "STATUS_FATAL_USER_CALLBACK_EXCEPTION",
    0xC0000420: "STATUS_ASSERTION_FAILURE",
    0xC0000602: "STATUS_FAIL_FAST_EXCEPTION",
    0xE06D7363: "CPP_EH_EXCEPTION",  # MSVC C++ throw ('msc')
}

#: ExceptionInformation[0] of EXCEPTION_ACCESS_VIOLATION / EXCEPTION_IN_PAGE_ERROR.
ACCESS_TYPES = {0: "READ", 1: "WRITE", 8: "EXEC"}

#: ExceptionInformation[0] of STATUS_STACK_BUFFER_OVERRUN (__fastfail codes, winnt.h).
FAST_FAIL_CODES = {
    0: "FAST_FAIL_LEGACY_GS_VIOLATION", 1: "FAST_FAIL_VTGUARD_CHECK_FAILURE",
    2: "FAST_FAIL_STACK_COOKIE_CHECK_FAILURE", 3: "FAST_FAIL_CORRUPT_LIST_ENTRY",
    4: "FAST_FAIL_INCORRECT_STACK", 5: "FAST_FAIL_INVALID_ARG", 6: "FAST_FAIL_GS_COOKIE_INIT",
    7: "FAST_FAIL_FATAL_APP_EXIT", 8: "FAST_FAIL_RANGE_CHECK_FAILURE",
    9: "FAST_FAIL_UNSAFE_REGISTRY_ACCESS", 10: "FAST_FAIL_GUARD_ICALL_CHECK_FAILURE",
    11: "FAST_FAIL_GUARD_WRITE_CHECK_FAILURE", 12: "FAST_FAIL_INVALID_FIBER_SWITCH",
    13: "FAST_FAIL_INVALID_SET_OF_CONTEXT", 14: "FAST_FAIL_INVALID_REFERENCE_COUNT",
    18: "FAST_FAIL_INVALID_JUMP_BUFFER", 19: "FAST_FAIL_MRDATA_MODIFIED",
    20: "FAST_FAIL_CERTIFICATION_FAILURE", 21: "FAST_FAIL_INVALID_EXCEPTION_CHAIN",
    22: "FAST_FAIL_CRYPTO_LIBRARY", 23: "FAST_FAIL_INVALID_CALL_IN_DLL_CALLOUT",
    24: "FAST_FAIL_INVALID_IMAGE_BASE", 25: "FAST_FAIL_DLOAD_PROTECTION_FAILURE",
    26: "FAST_FAIL_UNSAFE_EXTENSION_CALL", 27: "FAST_FAIL_DEPRECATED_SERVICE_INVOKED",
    28: "FAST_FAIL_INVALID_BUFFER_ACCESS", 29: "FAST_FAIL_INVALID_BALANCED_TREE",
    30: "FAST_FAIL_INVALID_NEXT_THREAD", 31: "FAST_FAIL_GUARD_ICALL_CHECK_SUPPRESSED",
    32: "FAST_FAIL_APCS_DISABLED", 33: "FAST_FAIL_INVALID_IDLE_STATE",
    34: "FAST_FAIL_MRDATA_PROTECTION_FAILURE", 35: "FAST_FAIL_UNEXPECTED_HEAP_EXCEPTION",
    36: "FAST_FAIL_INVALID_LOCK_STATE", 37: "FAST_FAIL_GUARD_JUMPTABLE",
    38: "FAST_FAIL_INVALID_LONGJUMP_TARGET", 39: "FAST_FAIL_INVALID_DISPATCH_CONTEXT",
    40: "FAST_FAIL_INVALID_THREAD", 41: "FAST_FAIL_INVALID_SYSCALL_NUMBER",
    42: "FAST_FAIL_INVALID_FILE_OPERATION", 43: "FAST_FAIL_LPAC_ACCESS_DENIED",
    44: "FAST_FAIL_GUARD_SS_FAILURE", 45: "FAST_FAIL_LOADER_CONTINUITY_FAILURE",
    46: "FAST_FAIL_GUARD_EXPORT_SUPPRESSION_FAILURE", 47: "FAST_FAIL_INVALID_CONTROL_STACK",
    48: "FAST_FAIL_SET_CONTEXT_DENIED", 49: "FAST_FAIL_INVALID_IAT",
    50: "FAST_FAIL_HEAP_METADATA_CORRUPTION", 51: "FAST_FAIL_PAYLOAD_RESTRICTION_VIOLATION",
}

_GENERIC_SIGNALS = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGBUS", "SIGFPE", "SIGKILL",
    "SIGUSR1", "SIGSEGV", "SIGUSR2", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGSTKFLT", "SIGCHLD",
    "SIGCONT", "SIGSTOP", "SIGTSTP", "SIGTTIN", "SIGTTOU", "SIGURG", "SIGXCPU", "SIGXFSZ",
    "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGIO", "SIGPWR", "SIGSYS",
]
_MIPS_SIGNALS = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGEMT", "SIGFPE", "SIGKILL",
    "SIGBUS", "SIGSEGV", "SIGSYS", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGUSR1", "SIGUSR2",
    "SIGCHLD", "SIGPWR", "SIGWINCH", "SIGURG", "SIGIO", "SIGSTOP", "SIGTSTP", "SIGCONT",
    "SIGTTIN", "SIGTTOU", "SIGVTALRM", "SIGPROF", "SIGXCPU", "SIGXFSZ",
]
_BSD_SIGNALS = [
    "SIGHUP", "SIGINT", "SIGQUIT", "SIGILL", "SIGTRAP", "SIGABRT", "SIGEMT", "SIGFPE", "SIGKILL",
    "SIGBUS", "SIGSEGV", "SIGSYS", "SIGPIPE", "SIGALRM", "SIGTERM", "SIGURG", "SIGSTOP",
    "SIGTSTP", "SIGCONT", "SIGCHLD", "SIGTTIN", "SIGTTOU", "SIGIO", "SIGXCPU", "SIGXFSZ",
    "SIGVTALRM", "SIGPROF", "SIGWINCH", "SIGINFO", "SIGUSR1", "SIGUSR2",
]
SIGNAL_TABLES = {
    "linux_signal": {i + 1: n for i, n in enumerate(_GENERIC_SIGNALS)},
    "linux_signal_mips": {i + 1: n for i, n in enumerate(_MIPS_SIGNALS)},
    "bsd_signal": {i + 1: n for i, n in enumerate(_BSD_SIGNALS)},
}
for _bsd in ("netbsd", "openbsd", "freebsd"):
    SIGNAL_TABLES[f"{_bsd}_signal"] = SIGNAL_TABLES["bsd_signal"]
#: BSD si_code values that Linux does not have.
BSD_SI_CODES = {32767: "SI_NOINFO"}  # NetBSD, OpenBSD: no siginfo was recorded

#: si_code values shared by every signal (asm-generic/siginfo.h).
SI_CODES_GENERIC = {0: "SI_USER", 0x80: "SI_KERNEL", -1: "SI_QUEUE", -2: "SI_TIMER",
                    -3: "SI_MESGQ", -4: "SI_ASYNCIO", -5: "SI_SIGIO", -6: "SI_TKILL",
                    -7: "SI_DETHREAD", -60: "SI_ASYNCNL"}
#: Per-signal si_code values (> 0), keyed by signal name.
SI_CODES = {
    "SIGILL": ["ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP", "ILL_PRVOPC", "ILL_PRVREG",
               "ILL_COPROC", "ILL_BADSTK", "ILL_BADIADDR"],
    "SIGFPE": ["FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF", "FPE_FLTUND", "FPE_FLTRES",
               "FPE_FLTINV", "FPE_FLTSUB", "FPE_FLTUNK", "FPE_CONDTRAP"],
    "SIGSEGV": ["SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR", "SEGV_PKUERR", "SEGV_ACCADI",
                "SEGV_ADIDERR", "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR", "SEGV_CPERR"],
    "SIGBUS": ["BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR", "BUS_MCEERR_AR", "BUS_MCEERR_AO"],
    "SIGTRAP": ["TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT", "TRAP_UNK", "TRAP_PERF"],
    "SIGCHLD": ["CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED", "CLD_STOPPED",
                "CLD_CONTINUED"],
    "SIGSYS": ["SYS_SECCOMP", "SYS_USER_DISPATCH"],
}

MACH_EXCEPTIONS = {
    1: "EXC_BAD_ACCESS", 2: "EXC_BAD_INSTRUCTION", 3: "EXC_ARITHMETIC", 4: "EXC_EMULATION",
    5: "EXC_SOFTWARE", 6: "EXC_BREAKPOINT", 7: "EXC_SYSCALL", 8: "EXC_MACH_SYSCALL",
    9: "EXC_RPC_ALERT", 10: "EXC_CRASH", 11: "EXC_RESOURCE", 12: "EXC_GUARD",
    13: "EXC_CORPSE_NOTIFY",
}
#: Breakpad/Crashpad "no crash" marker in the exception stream (MD_EXCEPTION_CODE_..._DUMP_REQUESTED).
DUMP_REQUESTED = 0xFFFFFFFF


def _unknown(value: int) -> str:
    return f"0x{value & 0xFFFFFFFF:08x}" if value >= 0 else str(value)


def describe_ntstatus(code: int, parameters: list[int] | None = None) -> str:
    """``EXCEPTION_ACCESS_VIOLATION_WRITE``, ``STATUS_STACK_BUFFER_OVERRUN`` / fast-fail, ..."""
    name = NTSTATUS_NAMES.get(code, _unknown(code))
    params = parameters or []
    if code in (0xC0000005, 0xC0000006) and params:
        access = ACCESS_TYPES.get(params[0])
        if access:
            name = f"{name}_{access}"
    return name


def describe_signal(signo: int, space: str = "linux_signal") -> str:
    return SIGNAL_TABLES.get(space, SIGNAL_TABLES["linux_signal"]).get(signo, f"signal {signo}")


def describe_si_code(signal_name: str, si_code: int) -> str:
    if si_code > 0 and signal_name in SI_CODES:
        table = SI_CODES[signal_name]
        if si_code <= len(table):
            return table[si_code - 1]
    return SI_CODES_GENERIC.get(si_code, str(si_code))


def describe_bugcheck(code: int) -> str:
    """The bugcheck's name (its 0x10000000 "Ex" bit masked), or ``BUGCHECK_0x<code>``."""
    from dumpkit.pipeline.document.bugcheck_names import bugcheck_name

    return bugcheck_name(code) or f"BUGCHECK_0x{code:X}"


def crash_code_name(code: int | None, space: str, parameters: list[int] | None = None) -> str | None:
    """The human name of a crash code in its numbering space."""
    if code is None:
        return None
    if code == DUMP_REQUESTED and space in ("linux_signal", "mach", "linux_signal_mips", "bsd_signal"):
        return "DUMP_REQUESTED"
    if space == "ntstatus":
        return describe_ntstatus(code, parameters)
    if space in SIGNAL_TABLES:
        return describe_signal(code, space)
    if space == "mach":
        return MACH_EXCEPTIONS.get(code, _unknown(code))
    if space == "bugcheck":
        return describe_bugcheck(code)
    return _unknown(code)


def crash_subcode_name(code: int | None, subcode: int | None, space: str,
                       parameters: list[int] | None = None) -> str | None:
    """si_code name for signals, fast-fail code for stack-buffer overruns, else ``None``."""
    if code is None:
        return None
    if space in SIGNAL_TABLES and subcode is not None:
        if space != "linux_signal" and space != "linux_signal_mips" and subcode in BSD_SI_CODES:
            return BSD_SI_CODES[subcode]
        return describe_si_code(describe_signal(code, space), _signed32(subcode))
    if space == "ntstatus" and code == 0xC0000409 and parameters:
        return FAST_FAIL_CODES.get(parameters[0])
    return None


def _signed32(value: int) -> int:
    value &= 0xFFFFFFFF
    return value - (1 << 32) if value & 0x80000000 else value
