"""Minidump CPU contexts (thread and exception ``ThreadContext``) -> register dicts.

The layout of a context is not stored next to it: it follows SystemInfo.ProcessorArchitecture,
and the CPU bits of ContextFlags (``flags & 0xFFFFFF00``) must agree. ARM64 has two layouts:
Windows / new Breakpad (u32 flags, CPU bit 0x00400000) and Breakpad's arm64_old (u64 flags,
CPU bit 0x80000000); they are told apart by the flags, not by ProcessorArchitecture (lldb's
macOS ARM64 test dump says ARM64 (12) but carries an arm64_old context).
"""
from __future__ import annotations

from typing import Any

from dumpkit.errors import DumpkitError
from dumpkit.readers.kaitai import guard

__all__ = ["MAX_CONTEXT_SIZE", "NOMINAL_SIZES", "ContextError", "context_layout", "read_registers"]

#: Size of each layout as written by dbghelp / Breakpad (XSTATE data may make it larger).
NOMINAL_SIZES = {"x86": 0x2CC, "amd64": 0x4D0, "arm": 0x170, "arm64": 0x390, "arm64_old": 0x31C}
_LAYOUT_BY_SIZE = {size: layout for layout, size in NOMINAL_SIZES.items()}
#: Larger contexts are refused (XSTATE with AVX-512 is a few KiB); each parse copies DataSize bytes.
MAX_CONTEXT_SIZE = 0x10000

#: Accepted ContextFlags CPU bits (``flags & 0xFFFFFF00``) per layout.
_CPU_BITS = {
    "x86": {0x00010000},
    "amd64": {0x00100000},
    "arm": {0x40000000, 0x00200000},  # Breakpad ARM; winnt.h CONTEXT_ARM (same register prefix)
    "arm64": {0x00400000},
    "arm64_old": {0x80000000},
}
_OLD_ARM_FLAG = 0x40  # obsolete Breakpad ARM flag, in the low byte

_X86 = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
        "cs", "ds", "es", "fs", "gs", "ss")
_AMD64 = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
          "r12", "r13", "r14", "r15", "rip", "eflags", "cs", "ds", "es", "fs", "gs", "ss")
_ARM = ("r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11", "r12",
        "sp", "lr", "pc", "cpsr")
_ARM64_X = tuple(f"x{i}" for i in range(29))
_ARM64_TAIL = ("fp", "lr", "sp", "pc", "cpsr")


class ContextError(DumpkitError):
    """A thread context that cannot be used (missing, too small, out of the file, wrong CPU)."""

    code = "bad_context"


def context_layout(cpu_arch: str, location: Any) -> str | None:
    """The layout name for a ``context_location``, or ``None`` if dumpkit has none for the CPU.

    Without SystemInfo (``cpu_arch == "unknown"``) the layout is guessed from the nominal size.
    """
    if cpu_arch in ("x86", "amd64", "arm"):
        return cpu_arch
    if cpu_arch == "arm64":
        if location.len_data < 4:
            return "arm64"
        return "arm64_old" if location.first_u4 & 0x80000000 else "arm64"
    if cpu_arch == "unknown":
        return _LAYOUT_BY_SIZE.get(location.len_data)
    return None


def read_registers(location: Any, cpu_arch: str, file_size: int, path: str, structure: str) -> dict[str, int]:
    """Integer, control and segment registers of the context at ``location`` (lower-case names).

    Raises :class:`ContextError` when the context cannot be used.
    """
    size, rva = location.len_data, location.ofs_data
    if size == 0:
        raise ContextError("no context recorded (DataSize 0)", structure=structure, offset=rva)
    if size > MAX_CONTEXT_SIZE:
        raise ContextError(f"implausible context size {size:#x} (more than {MAX_CONTEXT_SIZE:#x})",
                           structure=structure, offset=rva)
    if rva + size > file_size:
        raise ContextError(f"context of {size:#x} bytes at {rva:#x} runs past the end of the file",
                           structure=structure, offset=rva)
    layout = context_layout(cpu_arch, location)
    if layout is None:
        raise ContextError(f"no register layout for CPU {cpu_arch!r} (DataSize {size:#x})",
                           structure=structure, offset=rva)
    need = NOMINAL_SIZES[layout]
    if size < need:
        raise ContextError(f"{layout} context too small: DataSize {size:#x}, layout needs {need:#x}",
                           structure=structure, offset=rva)
    try:
        with guard(path, structure, rva):
            ctx = getattr(location, layout)
            flags = ctx.context_flags
            cpu_bits = flags & 0xFFFFFF00
            if cpu_bits not in _CPU_BITS[layout] and not (
                    layout == "arm" and cpu_bits == 0 and flags & _OLD_ARM_FLAG):
                raise ContextError(f"ContextFlags {flags:#x} do not describe a {layout} context",
                                   structure=structure, offset=rva)
            return _REGISTERS[layout](ctx)
    except ContextError:
        raise
    except DumpkitError as exc:
        raise ContextError(exc.message, structure=structure, offset=rva) from exc


def _named(ctx: Any, names: tuple[str, ...]) -> dict[str, int]:
    return {name: getattr(ctx, name) for name in names}


def _arm64(ctx: Any) -> dict[str, int]:
    regs = dict(zip(_ARM64_X, ctx.x, strict=True))
    regs.update(_named(ctx, _ARM64_TAIL))
    return regs


_REGISTERS = {
    "x86": lambda ctx: _named(ctx, _X86),
    "amd64": lambda ctx: _named(ctx, _AMD64),
    "arm": lambda ctx: _named(ctx, _ARM),
    "arm64": _arm64,
    "arm64_old": _arm64,
}
