"""The SystemInfo stream (MINIDUMP_SYSTEM_INFO) -> the model's :class:`~dumpkit.model.SystemInfo`:
OS and CPU names, versions, the CSD text (Linux kernel release, the Unix flavour) and CPU
identification."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from dumpkit.formats.windows_minidump import WindowsMinidump as MD
from dumpkit.model import SystemInfo
from dumpkit.readers.minidump_common import ARCH_NAMES, OS_NAMES, UNIX_CSD_NAMES, utf16
from dumpkit.readers.windows_common import product_type

__all__ = ["system_info"]


def system_info(system: SystemInfo, body: Any, read: Callable[[Callable[[], str]], str | None]) -> None:
    """Fill ``system`` from a parsed SystemInfo ``body``; ``read(fn)`` runs ``fn`` and gives
    ``None`` (with a diagnostic) when the part it reads (the CSD string) is malformed."""
    system.os = OS_NAMES.get(int(body.platform_id), "unknown")
    system.cpu_arch = ARCH_NAMES.get(int(body.processor_architecture), "unknown")
    version = (body.major_version, body.minor_version, body.build_number)
    if any(version):  # 0.0.0 means "not recorded" (lldb's YAML dumps, some Breakpad writers)
        system.os_version = ".".join(map(str, version))
    if system.os == "windows":
        system.os_build = body.build_number or None
    # elsewhere BuildNumber is the patch level; macOS / iOS builds ("20G630") are in the CSD
    system.cpu_count = body.num_processors or None
    if system.os == "windows":
        system.product_type = product_type(body.product_type)
    if body.ofs_csd_version:
        csd = read(lambda: utf16(body.csd_version.buffer))
        system.os_detail = csd or None
        words = csd.split() if csd else []
        if system.os in ("linux", "android") and len(words) > 1 and words[0] == "Linux":
            system.kernel_release = words[1]  # `uname -srvmo`: "Linux 6.1.0-18-amd64 #1 SMP ..."
        elif system.os == "unix" and words and words[0] in UNIX_CSD_NAMES:
            system.os = UNIX_CSD_NAMES[words[0]]
    cpu = body.cpu
    if isinstance(cpu, MD.CpuInfoX86):
        # dbghelp fills OtherCpuInfo (feature bits) on AMD64 Windows: keep only a plausible vendor
        vendor = cpu.vendor_id
        if all(0x20 <= c < 0x7F for c in vendor):
            system.cpu_vendor = vendor.decode("ascii").strip() or None
        revision = body.processor_revision
        if body.processor_level or revision:
            system.cpu_description = (f"family {body.processor_level} model {revision >> 8} "
                                      f"stepping {revision & 0xFF}")
    elif isinstance(cpu, MD.CpuInfoArm) and cpu.cpuid:
        system.cpu_description = f"midr {cpu.cpuid:#010x}"
