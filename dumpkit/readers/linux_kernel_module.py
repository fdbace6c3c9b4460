"""The crashed Linux kernel as a :class:`~dumpkit.model.Module`, so symbol sources can name its frames.

A vmcore lists no modules, but VMCOREINFO says which kernel it is: ``BUILD-ID`` (the GNU
build-id of ``vmlinux``, 5.x+ kernels) and ``SYMBOL(_stext)`` (where the kernel text runs,
KASLR applied). With both, the kernel is module ``vmlinux``: ``build_id``/``code_id`` for
debuginfod and build-id symbol dirs (``elf_debug`` = the vmlinux debug info, as drgn and
crash(8) use it), ``debug_id`` for Breakpad ``.sym`` files, as for any ELF module.

The base is the runtime ``_stext``, which on x86-64 is also ``_text``, the start of vmlinux's
first ``PT_LOAD`` (``arch/x86/kernel/vmlinux.lds.S``), so module-relative addresses are those
symbol readers use. Other architectures put ``_stext`` past the image start (arm64's head),
so they get no kernel module yet. The size is the container's kernel-text segment holding
``_stext`` when it has one (an ELF vmcore's PT_LOAD), else :data:`DEFAULT_SIZE`.
"""
from __future__ import annotations

import re
from collections.abc import Sequence

from dumpkit.ids import elf_debug_id
from dumpkit.model import Module
from dumpkit.readers.linux_kernel import VmcoreInfo

__all__ = ["DEFAULT_SIZE", "kernel_module"]

#: Span given to the kernel without a segment to measure: text + rodata + data of a distribution
#: kernel fit, and it stays below x86-64's module area (``MODULES_VADDR``, 512 MiB or more above).
DEFAULT_SIZE = 64 << 20
_BUILD_ID = re.compile(r"(?:[0-9a-f]{2}){2,64}")


def kernel_module(info: VmcoreInfo, arch: str, hints: Sequence[tuple[int, int, int]] = ()) -> Module | None:
    """Module ``vmlinux`` of the crashed kernel, or ``None`` when VMCOREINFO cannot place it."""
    build_id = (info.build_id or "").lower()
    base = info.symbols.get("_stext")
    if arch != "amd64" or base is None or not _BUILD_ID.fullmatch(build_id):
        return None
    size = next((vsize - (base - vaddr) for vaddr, _, vsize in hints if vaddr <= base < vaddr + vsize),
                DEFAULT_SIZE)
    return Module(base=base, size=size, path="vmlinux", build_id=build_id, code_id=build_id,
                  debug_id=elf_debug_id(build_id), debug_file="vmlinux")
