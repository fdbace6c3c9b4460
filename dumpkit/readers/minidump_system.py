"""The SystemInfo stream (MINIDUMP_SYSTEM_INFO) -> the model's :class:`~dumpkit.model.SystemInfo`:
OS and CPU names, versions, the CSD text (Linux kernel release, the Unix flavour) and CPU
identification.

The stream is read as a :class:`SystemRecord`: from its bytes, through the tables
``tools/compile-ksy`` makes from the spec (the leading fields of ``system_info``, then
``cpu_info_x86`` or ``cpu_info_arm`` as the spec's ``cpu`` switch picks them), or from the
generated parser's body when the stream is shorter than the spec's 56 bytes (its error is
then the diagnostic). ``tests/test_bulk_tables.py`` compares both on the corpus and on built
dumps of each architecture.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, NamedTuple

from dumpkit.formats.bulk_tables import (
    WINDOWS_MINIDUMP_CPU_INFO_ARM,
    WINDOWS_MINIDUMP_CPU_INFO_X86,
    WINDOWS_MINIDUMP_SYSTEM_INFO_HEAD,
)
from dumpkit.formats.windows_minidump import WindowsMinidump as MD
from dumpkit.model import SystemInfo
from dumpkit.readers.minidump_common import ARCH_NAMES, OS_NAMES, UNIX_CSD_NAMES, utf16
from dumpkit.readers.windows_common import product_type

__all__ = ["SystemRecord", "system_info", "system_record", "system_record_of"]


class SystemRecord(NamedTuple):
    """What a document takes from MINIDUMP_SYSTEM_INFO. The enum fields hold the spec's enum
    member, or the number of a value it does not name (as the parser resolves them)."""

    processor_architecture: Any
    processor_level: int
    processor_revision: int
    num_processors: int
    product_type: Any
    major_version: int
    minor_version: int
    build_number: int
    platform_id: Any
    ofs_csd_version: int
    vendor_id: bytes | None  # CPU_INFORMATION.X86CpuInfo.VendorId
    cpuid: int | None  # Breakpad's ARM CPU information: the MIDR


_HEAD = struct.Struct(WINDOWS_MINIDUMP_SYSTEM_INFO_HEAD[0])
if WINDOWS_MINIDUMP_SYSTEM_INFO_HEAD[1][:10] != SystemRecord._fields[:10]:
    raise ImportError("ksy/windows_minidump.ksy's system_info fields moved: update SystemRecord")
_X86 = struct.Struct(WINDOWS_MINIDUMP_CPU_INFO_X86[0])
_ARM = struct.Struct(WINDOWS_MINIDUMP_CPU_INFO_ARM[0])
if WINDOWS_MINIDUMP_CPU_INFO_X86[1][0] != "vendor_id" or WINDOWS_MINIDUMP_CPU_INFO_ARM[1][0] != "cpuid":
    raise ImportError("ksy/windows_minidump.ksy's CPU information fields moved: update system_record")
_CPU_SIZE = 24  # the spec's `cpu: size: 24`
_ARCHITECTURES = {member.value: member for member in MD.ProcessorArchitectures}
_PRODUCT_TYPES = {member.value: member for member in MD.ProductTypes}
_PLATFORMS = {member.value: member for member in MD.PlatformIds}
#: the spec's `cpu` switch: these architectures have X86CpuInfo, arm has Breakpad's ARM layout
_X86_ARCHITECTURES = (MD.ProcessorArchitectures.intel, MD.ProcessorArchitectures.amd64,
                      MD.ProcessorArchitectures.ia32_on_win64)


def system_record(data: bytes) -> SystemRecord | None:
    """The record of a SystemInfo stream whose bytes are ``data``, or ``None`` when it is shorter
    than the spec's 56 bytes (the generated parser then reads it, and fails as it does)."""
    if len(data) < _HEAD.size + _CPU_SIZE:
        return None
    head = _HEAD.unpack_from(data)
    architecture = _ARCHITECTURES.get(head[0], head[0])
    vendor = cpuid = None
    if architecture in _X86_ARCHITECTURES:
        vendor = _X86.unpack_from(data, _HEAD.size)[0]
    elif architecture is MD.ProcessorArchitectures.arm:
        cpuid = _ARM.unpack_from(data, _HEAD.size)[0]
    return SystemRecord(architecture, head[1], head[2], head[3], _PRODUCT_TYPES.get(head[4], head[4]),
                        head[5], head[6], head[7], _PLATFORMS.get(head[8], head[8]), head[9], vendor, cpuid)


def system_record_of(body: Any) -> SystemRecord:
    """The record of a SystemInfo body the generated parser read."""
    cpu = body.cpu
    return SystemRecord(body.processor_architecture, body.processor_level, body.processor_revision,
                        body.num_processors, body.product_type, body.major_version, body.minor_version,
                        body.build_number, body.platform_id, body.ofs_csd_version,
                        cpu.vendor_id if isinstance(cpu, MD.CpuInfoX86) else None,
                        cpu.cpuid if isinstance(cpu, MD.CpuInfoArm) else None)


def system_info(system: SystemInfo, record: SystemRecord, csd_buffer: Callable[[int], bytes],
                read: Callable[[Callable[[], str]], str | None]) -> None:
    """Fill ``system`` from ``record``; ``csd_buffer(rva)`` is the MINIDUMP_STRING buffer at
    ``rva`` (the spec's ``csd_version``), ``read(fn)`` runs ``fn`` and gives ``None`` (with a
    diagnostic) when the part it reads (the CSD string) is malformed."""
    system.os = OS_NAMES.get(int(record.platform_id), "unknown")
    system.cpu_arch = ARCH_NAMES.get(int(record.processor_architecture), "unknown")
    version = (record.major_version, record.minor_version, record.build_number)
    if any(version):  # 0.0.0 means "not recorded" (lldb's YAML dumps, some Breakpad writers)
        system.os_version = ".".join(map(str, version))
    if system.os == "windows":
        system.os_build = record.build_number or None
    # elsewhere BuildNumber is the patch level; macOS / iOS builds ("20G630") are in the CSD
    system.cpu_count = record.num_processors or None
    if system.os == "windows":
        system.product_type = product_type(record.product_type)
    if record.ofs_csd_version:
        csd = read(lambda: utf16(csd_buffer(record.ofs_csd_version)))
        system.os_detail = csd or None
        words = csd.split() if csd else []
        if system.os in ("linux", "android") and len(words) > 1 and words[0] == "Linux":
            system.kernel_release = words[1]  # `uname -srvmo`: "Linux 6.1.0-18-amd64 #1 SMP ..."
        elif system.os == "unix" and words and words[0] in UNIX_CSD_NAMES:
            system.os = UNIX_CSD_NAMES[words[0]]
    if record.vendor_id is not None:
        # dbghelp fills OtherCpuInfo (feature bits) on AMD64 Windows: keep only a plausible vendor
        vendor = record.vendor_id
        if all(0x20 <= c < 0x7F for c in vendor):
            system.cpu_vendor = vendor.decode("ascii").strip() or None
        revision = record.processor_revision
        if record.processor_level or revision:
            system.cpu_description = (f"family {record.processor_level} model {revision >> 8} "
                                      f"stepping {revision & 0xFF}")
    elif record.cpuid:
        system.cpu_description = f"midr {record.cpuid:#010x}"
