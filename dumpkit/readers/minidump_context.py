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
from dumpkit.formats.bulk_tables import (
    WINDOWS_MINIDUMP_CONTEXT_AMD64_HEAD,
    WINDOWS_MINIDUMP_CONTEXT_ARM64_HEAD,
    WINDOWS_MINIDUMP_CONTEXT_ARM64_OLD_HEAD,
    WINDOWS_MINIDUMP_CONTEXT_ARM_HEAD,
    WINDOWS_MINIDUMP_CONTEXT_X86_HEAD,
)
from dumpkit.readers.fast_stream import FastStream
from dumpkit.readers.kaitai import guard
from dumpkit.readers.minidump_bulk import HeadTable, read_paths

__all__ = ["MAX_CONTEXT_SIZE", "NOMINAL_SIZES", "ContextError", "ContextRef", "context_layout",
           "read_registers", "register_values"]

#: Each layout as a table (tools/compile-ksy, from the spec's context types; checked against the
#: generated parser by tests/test_context_tables.py): a context is one ``struct`` unpack.
_TABLES = {layout: HeadTable(table) for layout, table in (
    ("x86", WINDOWS_MINIDUMP_CONTEXT_X86_HEAD), ("amd64", WINDOWS_MINIDUMP_CONTEXT_AMD64_HEAD),
    ("arm", WINDOWS_MINIDUMP_CONTEXT_ARM_HEAD), ("arm64", WINDOWS_MINIDUMP_CONTEXT_ARM64_HEAD),
    ("arm64_old", WINDOWS_MINIDUMP_CONTEXT_ARM64_OLD_HEAD))}
#: Size of each layout as written by dbghelp / Breakpad (XSTATE data may make it larger).
NOMINAL_SIZES = {layout: table.size for layout, table in _TABLES.items()}
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


class ContextRef:
    """A context's ``(DataSize, Rva)`` from a list read as rows (a thread list), standing in for
    the generated parser's ``context_location``: what :func:`read_registers` uses of it. Only
    over a file read through a :class:`FastStream` (every minidump reader's), so the layouts are
    always unpacked from the file's buffer."""

    __slots__ = ("_root", "len_data", "ofs_data")

    def __init__(self, len_data: int, ofs_data: int, root: Any) -> None:
        if not isinstance(root._io, FastStream):
            raise TypeError("ContextRef needs a file read through FastStream")
        self.len_data, self.ofs_data, self._root = len_data, ofs_data, root

    @property
    def first_u4(self) -> int:
        """The spec's ``first_u4`` instance: the context's first 4 bytes, little-endian."""
        return int.from_bytes(self._root._io._buf[self.ofs_data:self.ofs_data + 4], "little")


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
    values = register_values(location, layout, path, structure)
    flags = values[_FLAGS[layout]]
    cpu_bits = flags & 0xFFFFFF00
    if cpu_bits not in _CPU_BITS[layout] and not (
            layout == "arm" and cpu_bits == 0 and flags & _OLD_ARM_FLAG):
        raise ContextError(f"ContextFlags {flags:#x} do not describe a {layout} context",
                           structure=structure, offset=rva)
    return {name: values[index] for name, index in _REGISTERS[layout]}


def register_values(location: Any, layout: str, path: str, structure: str, *,
                    parser: bool = False) -> tuple[Any, ...]:
    """The values of the ``layout`` context at ``location``, in its table's order: unpacked from
    the file's buffer, or (``parser``, or a stream that is not over the file's buffer) read by
    the generated parser. The caller has checked that the context fits in the file and is at
    least the layout's size, so the parser cannot fail on it; if it does, that is a
    :class:`ContextError`."""
    io = location._root._io
    if not parser and isinstance(io, FastStream):
        return _TABLES[layout].struct.unpack_from(io._buf, location.ofs_data)
    try:
        with guard(path, structure, location.ofs_data):
            return read_paths(getattr(location, layout), _TABLES[layout].paths)
    except DumpkitError as exc:
        raise ContextError(exc.message, structure=structure, offset=location.ofs_data) from exc


def _index(layout: str, names: tuple[str, ...]) -> tuple[tuple[str, int], ...]:
    """(register, index of its value in the layout's table) for each of ``names``; the spec's
    repeated ``x`` of arm64 holds x0..x28."""
    paths = _TABLES[layout].paths
    return tuple((name, paths.index(f"x[{name[1:]}]" if name in _ARM64_X else name)) for name in names)


_REGISTERS = {
    "x86": _index("x86", _X86),
    "amd64": _index("amd64", _AMD64),
    "arm": _index("arm", _ARM),
    "arm64": _index("arm64", _ARM64_X + _ARM64_TAIL),
    "arm64_old": _index("arm64_old", _ARM64_X + _ARM64_TAIL),
}
_FLAGS = {layout: table.paths.index("context_flags") for layout, table in _TABLES.items()}
