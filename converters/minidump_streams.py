"""Encoders of minidump records (docs/formats.md §1), each from model objects to ``bytes``.

Pure functions, no file access: the writer (``converters/minidump_writer.py``) places what
they return and passes in the RVAs of the records they point to. All little-endian, packed to
4 bytes as the format is (struct's ``<`` adds no padding).
"""
from __future__ import annotations

import re
import struct
from collections.abc import Iterable

from dumpkit.model import CrashInfo, Dump, MemoryRegion, Module, ProcessInfo, SystemInfo, Thread

__all__ = [
    "ARCH_CODES",
    "MAX_EXCEPTION_PARAMETERS",
    "MODULE_SIZE",
    "PLATFORM_CODES",
    "STREAM",
    "THREAD_SIZE",
    "codeview_record",
    "exception_stream",
    "fixed_file_info",
    "linux_cmdline",
    "linux_lsb_release",
    "linux_maps",
    "linux_proc_status",
    "memory64_list",
    "memory_info_list",
    "memory_list",
    "minidump_string",
    "misc_info",
    "module_entry",
    "system_info",
    "thread_entry",
    "unloaded_module_list",
]

#: MINIDUMP_STREAM_TYPE values written here (§1.3)
STREAM = {
    "ThreadList": 3, "ModuleList": 4, "MemoryList": 5, "Exception": 6, "SystemInfo": 7,
    "Memory64List": 9, "CommentA": 10, "UnloadedModuleList": 14, "MiscInfo": 15, "MemoryInfoList": 16,
    "LinuxCpuInfo": 0x47670003, "LinuxProcStatus": 0x47670004, "LinuxLsbRelease": 0x47670005,
    "LinuxCmdLine": 0x47670006, "LinuxEnviron": 0x47670007, "LinuxAuxv": 0x47670008,
    "LinuxMaps": 0x47670009,
}
#: model cpu_arch -> MINIDUMP_SYSTEM_INFO.ProcessorArchitecture (§1.8)
ARCH_CODES = {"x86": 0, "mips": 1, "ppc": 3, "arm": 5, "ia64": 6, "amd64": 9, "arm64": 12,
              "sparc": 0x8001, "ppc64": 0x8002, "mips64": 0x8004, "riscv32": 0x8005,
              "riscv64": 0x8006}
ARCH_UNKNOWN = 0xFFFF
#: model os -> MINIDUMP_SYSTEM_INFO.PlatformId (§1.8; Breakpad's values beyond Windows)
PLATFORM_CODES = {"windows": 2, "unix": 0x8000, "macos": 0x8101, "ios": 0x8102, "linux": 0x8201,
                  "solaris": 0x8202, "android": 0x8203, "ps3": 0x8204, "nacl": 0x8205,
                  "fuchsia": 0x8206}
_UNIX_NAMES = {"netbsd": "NetBSD", "openbsd": "OpenBSD", "freebsd": "FreeBSD"}
_PRODUCT_TYPES = {"workstation": 1, "domain_controller": 2, "server": 3}  # VER_NT_*

THREAD_SIZE = 0x30
MODULE_SIZE = 0x6C
EXCEPTION_STREAM_SIZE = 0xA8
MAX_EXCEPTION_PARAMETERS = 15
_VS_FFI_SIGNATURE, _VS_FFI_STRUCVERSION = 0xFEEF04BD, 0x00010000
_MISC1_PROCESS_ID, _MISC1_PROCESS_TIMES = 0x1, 0x2
_U32 = 0xFFFFFFFF
_U64 = 0xFFFFFFFFFFFFFFFF  # every value is cut to its field: a bad source value never breaks struct
#: Breakpad's exception code of a dump taken without a crash (Linux cores without a signal)
_DUMP_REQUESTED = 0xFFFFFFFF


def minidump_string(text: str) -> bytes:
    """MINIDUMP_STRING: byte length (without terminator), UTF-16LE, 2-byte NUL."""
    raw = text.encode("utf-16-le", errors="replace")
    return struct.pack("<I", len(raw)) + raw + b"\0\0"


def _version_numbers(*texts: str | None) -> tuple[int, int, int]:
    """The first ``a.b.c`` numbers found in ``texts`` (missing parts are 0)."""
    for text in texts:
        if not text:
            continue
        numbers = [int(n) & _U32 for n in re.findall(r"\d+", text)[:3]]
        if numbers:
            padded = [*numbers, 0, 0, 0]
            return padded[0], padded[1], padded[2]
    return 0, 0, 0


def _cpu_ids(system: SystemInfo) -> tuple[int, int]:
    """ProcessorLevel and ProcessorRevision from a "family F model M stepping S" description."""
    text = system.cpu_description or ""
    family = re.search(r"family\s+(0x[0-9a-f]+|\d+)", text, re.I)
    model = re.search(r"model\s+(0x[0-9a-f]+|\d+)", text, re.I)
    stepping = re.search(r"stepping\s+(0x[0-9a-f]+|\d+)", text, re.I)
    if family is None or system.cpu_arch not in ("x86", "amd64"):
        return 0, 0
    level = int(family.group(1), 0) & 0xFFFF
    revision = ((int(model.group(1), 0) & 0xFF) << 8 if model else 0) | (
        int(stepping.group(1), 0) & 0xFF if stepping else 0)
    return level, revision


def system_info(system: SystemInfo, csd_rva: int) -> bytes:
    """MINIDUMP_SYSTEM_INFO (0x38) for ``system``; ``csd_rva`` points at its CSD string."""
    if system.os == "windows":
        major, minor, build = _version_numbers(system.os_version)
    else:  # Breakpad stores the kernel release (uname -r) in the version numbers
        major, minor, build = _version_numbers(system.kernel_release, system.os_version)
    if system.os_build is not None:
        build = system.os_build & _U32
    level, revision = _cpu_ids(system)
    cpu = bytes(24)
    if system.cpu_arch in ("x86", "amd64") and system.cpu_vendor and len(system.cpu_vendor) == 12:
        # VendorId[3] = cpuid(0).EBX, EDX, ECX: the 12 vendor characters in reading order
        cpu = system.cpu_vendor.encode("ascii", errors="replace") + bytes(12)
    return struct.pack(
        "<HHHBBIIIIIHH", ARCH_CODES.get(system.cpu_arch, ARCH_UNKNOWN), level, revision,
        min(system.cpu_count or 0, 255), _PRODUCT_TYPES.get(system.product_type or "", 0),
        major, minor, build, PLATFORM_CODES.get(system.os, PLATFORM_CODES["unix"]), csd_rva, 0, 0,
    ) + cpu


def csd_text(system: SystemInfo) -> str:
    """The CSDVersion string: the service pack / uname string the source recorded."""
    unix = _UNIX_NAMES.get(system.os)
    if unix is not None:
        # PlatformId MD_OS_UNIX does not say which Unix: the CSD string's first word does
        # (dumpkit's minidump reader reads it back: dumpkit/readers/minidump_common.UNIX_CSD_NAMES)
        detail = system.os_detail or ""
        return detail if detail.split(" ", 1)[0] == unix else f"{unix} {detail}".strip()
    if system.os_detail:
        return system.os_detail
    if system.os in ("linux", "android") and system.kernel_release:
        return f"Linux {system.kernel_release}"
    return ""


def misc_info(process: ProcessInfo | None) -> bytes | None:
    """MINIDUMP_MISC_INFO (version 1, 24 bytes): process id and times when known, else None."""
    if process is None:
        return None
    flags = 0
    if process.pid is not None:
        flags |= _MISC1_PROCESS_ID
    times = (process.start_time, process.user_time, process.kernel_time)
    if any(t is not None for t in times):
        flags |= _MISC1_PROCESS_TIMES
    if not flags:
        return None
    return struct.pack("<6I", 24, flags, (process.pid or 0) & _U32, int(process.start_time or 0) & _U32,
                       int(process.user_time or 0) & _U32, int(process.kernel_time or 0) & _U32)


def fixed_file_info(module: Module, os: str) -> bytes:
    """VS_FIXEDFILEINFO (52 bytes) from ``module.version`` ("a.b.c.d"); zeros when unknown."""
    parts = re.findall(r"\d+", module.version or "")
    if len(parts) < 2:
        return bytes(52)
    a, b, c, d = ([int(p) & 0xFFFF for p in parts[:4]] + [0, 0])[:4]
    ms, ls = (a << 16) | b, (c << 16) | d
    file_os, file_type = 0, 0
    if os == "windows":
        file_os = 0x40004  # VOS_NT_WINDOWS32
        ext = module.name.lower().rsplit(".", 1)[-1]
        file_type = {"exe": 1, "sys": 3}.get(ext, 2)  # VFT_APP / VFT_DRV / VFT_DLL
    return struct.pack("<13I", _VS_FFI_SIGNATURE, _VS_FFI_STRUCVERSION, ms, ls, ms, ls,
                       0x3F, 0, file_os, file_type, 0, 0, 0)


def _guid_bytes(text: str) -> bytes:
    """32 hex digits "%08X%04X%04X" + Data4 -> the 16 on-disk GUID bytes."""
    d1, d2, d3 = int(text[0:8], 16), int(text[8:12], 16), int(text[12:16], 16)
    return struct.pack("<IHH", d1, d2, d3) + bytes.fromhex(text[16:32])


def codeview_record(module: Module) -> bytes | None:
    """The CodeView record of ``module`` (§1.5b), or None when it has no identity.

    ELF modules with a build-id get Breakpad's ``BpEL`` record; otherwise the debug id picks
    the record: 32 hex digits + age -> ``RSDS`` (PDB 7.0), 8 hex digits + age -> ``NB10``.
    """
    if module.build_id:
        try:
            return struct.pack("<I", 0x4270454C) + bytes.fromhex(module.build_id)
        except ValueError:
            pass
    ident = (module.debug_id or "").strip()
    if not re.fullmatch(r"[0-9A-Fa-f]{9,40}", ident):
        return None
    name = (module.debug_file or "").encode("utf-8", errors="replace") + b"\0"
    if len(ident) >= 33:
        return b"RSDS" + _guid_bytes(ident) + struct.pack("<I", int(ident[32:], 16) & _U32) + name
    return b"NB10" + struct.pack("<III", 0, int(ident[:8], 16), int(ident[8:], 16) & _U32) + name


def module_entry(module: Module, os: str, name_rva: int, cv: tuple[int, int]) -> bytes:
    """MINIDUMP_MODULE (108 bytes); ``cv`` = (DataSize, Rva) of its CodeView record."""
    return struct.pack("<QIIII", module.base & _U64, module.size & _U32, (module.checksum or 0) & _U32,
                       (module.timestamp or 0) & _U32, name_rva) + fixed_file_info(module, os) + \
        struct.pack("<IIIIQQ", cv[0], cv[1], 0, 0, 0, 0)


def unloaded_module_list(modules: list[Module], name_rvas: list[int]) -> bytes:
    """MINIDUMP_UNLOADED_MODULE_LIST: 12-byte header, 24-byte entries."""
    out = [struct.pack("<III", 12, 24, len(modules))]
    for module, rva in zip(modules, name_rvas, strict=True):
        out.append(struct.pack("<QIIII", module.base & _U64, module.size & _U32,
                               (module.checksum or 0) & _U32, (module.timestamp or 0) & _U32, rva))
    return b"".join(out)


def thread_entry(thread: Thread, stack: tuple[int, int, int], context: tuple[int, int]) -> bytes:
    """MINIDUMP_THREAD (0x30); ``stack`` = (start, DataSize, Rva), ``context`` = (DataSize, Rva)."""
    return struct.pack("<IIIIQQIIII", thread.id & _U32, (thread.suspend_count or 0) & _U32, 0,
                       (thread.priority or 0) & _U32, (thread.teb or 0) & _U64, stack[0], stack[1], stack[2],
                       context[0], context[1])


def exception_stream(crash: CrashInfo, thread_id: int, context: tuple[int, int]) -> bytes:
    """MINIDUMP_EXCEPTION_STREAM (0xA8).

    Windows exceptions keep code, flags, address and parameters; Linux signals follow Breakpad
    (code = signal, flags = si_code, address = fault address); bugchecks put the bugcheck code
    in ExceptionCode and its four parameters in ExceptionInformation.
    """
    params = [p & _U64 for p in crash.parameters[:MAX_EXCEPTION_PARAMETERS]]
    info = params + [0] * (MAX_EXCEPTION_PARAMETERS - len(params))
    code = crash.code if crash.code is not None and crash.kind != "none" else _DUMP_REQUESTED
    return struct.pack("<IIIIQQII15QII", thread_id & _U32, 0, code & _U32, (crash.subcode or 0) & _U32,
                       0, (crash.address or 0) & _U64, len(params), 0, *info,
                       context[0], context[1])


def memory_list(ranges: list[tuple[int, int, int]]) -> bytes:
    """MINIDUMP_MEMORY_LIST from (start, size, rva) triples."""
    return struct.pack("<I", len(ranges)) + b"".join(struct.pack("<QII", s, n, r) for s, n, r in ranges)


def memory64_list(ranges: list[tuple[int, int]], base_rva: int) -> bytes:
    """MINIDUMP_MEMORY64_LIST from (start, size) pairs stored back to back from ``base_rva``."""
    return struct.pack("<QQ", len(ranges), base_rva) + b"".join(struct.pack("<QQ", s, n) for s, n in ranges)


#: "rwx" permissions -> PAGE_* protection (§1.10); W without R is still PAGE_READWRITE
_PROTECT = {"---": 0x01, "r--": 0x02, "rw-": 0x04, "-w-": 0x04, "--x": 0x10, "r-x": 0x20,
            "rwx": 0x40, "-wx": 0x40}
_STATE = {"commit": 0x1000, "reserve": 0x2000, "free": 0x10000}
_TYPE = {"image": 0x1000000, "mapped": 0x40000, "private": 0x20000}


def memory_info_list(regions: Iterable[MemoryRegion]) -> bytes:
    """MINIDUMP_MEMORY_INFO_LIST (§1.10): 16-byte header, 48-byte entries; unknown state = commit."""
    entries = []
    for region in regions:
        protect = _PROTECT.get((region.permissions or "")[:3], 0)
        state = _STATE.get(region.state or "commit", 0x1000)
        kind = _TYPE.get(region.type or "", 0) if state != 0x10000 else 0
        start = region.start & _U64
        entries.append(struct.pack("<QQIIQIIII", start, start, protect, 0, region.size & _U64,
                                   state, protect, kind, 0))
    return struct.pack("<IIQ", 16, 48, len(entries)) + b"".join(entries)


# ------------------------------------------------------------------ Breakpad Linux text streams
def linux_maps(dump: Dump) -> bytes | None:
    """``/proc/PID/maps`` text from the regions the source recorded (else from its modules)."""
    regions: Iterable[MemoryRegion] = dump.regions
    if not dump.regions:
        regions = [MemoryRegion(m.base, m.size, "r-x", path=m.path) for m in dump.modules if m.size]
    lines = []
    for region in sorted(regions, key=lambda r: r.start):
        perms = (region.permissions or "---")[:3].ljust(3, "-") + "p"
        line = f"{region.start:08x}-{region.start + region.size:08x} {perms} 00000000 00:00 0"
        if region.path:
            line = f"{line.ljust(73)}{region.path}"
        lines.append(line + "\n")
    return "".join(lines).encode("utf-8", errors="replace") if lines else None


def linux_proc_status(process: ProcessInfo | None) -> bytes | None:
    """A ``/proc/PID/status`` with the fields the source knew (Name, Pid, PPid, Uid, Gid)."""
    if process is None:
        return None
    lines = []
    if process.name:
        lines.append(f"Name:\t{process.name}")
    if process.pid is not None:
        lines += [f"Tgid:\t{process.pid}", f"Pid:\t{process.pid}"]
    if process.ppid is not None:
        lines.append(f"PPid:\t{process.ppid}")
    if process.uid is not None:
        lines.append("Uid:\t" + "\t".join([str(process.uid)] * 4))
    if process.gid is not None:
        lines.append("Gid:\t" + "\t".join([str(process.gid)] * 4))
    return ("\n".join(lines) + "\n").encode() if lines else None


def linux_cmdline(process: ProcessInfo | None) -> bytes | None:
    """``/proc/PID/cmdline``: the model keeps arguments joined by spaces, so split them there."""
    if process is None or not process.command_line:
        return None
    return process.command_line.replace(" ", "\0").encode("utf-8", errors="replace") + b"\0"


def linux_lsb_release(system: SystemInfo) -> bytes | None:
    """An lsb-release file naming the distribution, when the source recorded it."""
    if system.os not in ("linux", "android") or not system.os_version:
        return None
    text = system.os_version.replace('"', "'")
    return f'DISTRIB_DESCRIPTION="{text}"\n'.encode()
