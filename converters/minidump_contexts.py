"""CPU context records for minidump threads and exceptions, built from the model's registers.

One table per layout (docs/formats.md §1.16): x86 CONTEXT (0x2CC), AMD64 CONTEXT (0x4D0), the
Windows / new-Breakpad ARM64 context (0x390) and Breakpad's 32-bit ARM context (0x170). Each
field names the model register it carries, the group of ContextFlags it belongs to and its
width. ContextFlags get the CPU bit plus the group bits of the fields actually filled, so a
reader never trusts a group we left empty.

Register names are the model's (``dumpkit/readers/elf_registers.py``,
``dumpkit/readers/minidump_context.py``): ``rip``/``rsp``, ``eip``/``esp``, arm64
``x0..x28, fp, lr, sp, pc, cpsr``, arm ``r0..r12, sp, lr, pc, cpsr``. A few other spellings
(``x29``, ``pstate``, ``r13``, ``rflags``, ``xcs``, ...) are accepted as aliases.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

__all__ = [
    "CONTEXT_ARCHES",
    "LAYOUTS",
    "ContextLayout",
    "build_context",
    "canonical_registers",
    "carried_registers",
    "register_width",
]

# ContextFlags group bits (winnt.h; Breakpad uses the same low bits).
CONTROL, INTEGER, SEGMENTS, FLOATING_POINT, DEBUG_REGISTERS = 0x1, 0x2, 0x4, 0x8, 0x10
ARM64_FLOATING_POINT = 0x4  # ARM64 numbers its groups differently (no SEGMENTS)


@dataclass(frozen=True, slots=True)
class Field:
    """One register of a minidump CONTEXT layout."""

    name: str  # model register name
    offset: int
    fmt: str  # struct format of the field: "H", "I" or "Q"
    group: int


@dataclass(frozen=True, slots=True)
class ContextLayout:
    """A CPU's minidump CONTEXT record: its size, its CPU flag and where each register sits."""

    arch: str
    size: int
    cpu_flag: int
    flags_offset: int
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


def _amd64() -> ContextLayout:
    fields = [Field("mxcsr", 0x34, "I", FLOATING_POINT)]
    for i, seg in enumerate(("cs", "ds", "es", "fs", "gs", "ss")):
        fields.append(Field(seg, 0x38 + 2 * i, "H", CONTROL if seg in ("cs", "ss") else SEGMENTS))
    fields.append(Field("eflags", 0x44, "I", CONTROL))
    for i, dr in enumerate(("dr0", "dr1", "dr2", "dr3", "dr6", "dr7")):
        fields.append(Field(dr, 0x48 + 8 * i, "Q", DEBUG_REGISTERS))
    gprs = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
            "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "rip")
    for i, reg in enumerate(gprs):
        fields.append(Field(reg, 0x78 + 8 * i, "Q", CONTROL if reg in ("rsp", "rip") else INTEGER))
    return ContextLayout("amd64", 0x4D0, 0x00100000, 0x30, tuple(fields))


def _x86() -> ContextLayout:
    fields = [Field(dr, 0x04 + 4 * i, "I", DEBUG_REGISTERS)
              for i, dr in enumerate(("dr0", "dr1", "dr2", "dr3", "dr6", "dr7"))]
    order = (("gs", SEGMENTS), ("fs", SEGMENTS), ("es", SEGMENTS), ("ds", SEGMENTS),
             ("edi", INTEGER), ("esi", INTEGER), ("ebx", INTEGER), ("edx", INTEGER),
             ("ecx", INTEGER), ("eax", INTEGER), ("ebp", CONTROL), ("eip", CONTROL),
             ("cs", CONTROL), ("eflags", CONTROL), ("esp", CONTROL), ("ss", CONTROL))
    fields += [Field(name, 0x8C + 4 * i, "I", group) for i, (name, group) in enumerate(order)]
    return ContextLayout("x86", 0x2CC, 0x00010000, 0x00, tuple(fields))


def _arm64() -> ContextLayout:
    fields = [Field("cpsr", 0x004, "I", CONTROL)]
    fields += [Field(f"x{i}", 0x008 + 8 * i, "Q", INTEGER) for i in range(29)]
    fields += [Field(name, 0x0F0 + 8 * i, "Q", CONTROL) for i, name in enumerate(("fp", "lr", "sp", "pc"))]
    fields += [Field("fpcr", 0x310, "I", ARM64_FLOATING_POINT),
               Field("fpsr", 0x314, "I", ARM64_FLOATING_POINT)]
    return ContextLayout("arm64", 0x390, 0x00400000, 0x00, tuple(fields))


def _arm() -> ContextLayout:
    names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc"]
    fields = [Field(name, 0x04 + 4 * i, "I", INTEGER) for i, name in enumerate(names)]
    fields.append(Field("cpsr", 0x44, "I", INTEGER))  # Breakpad: cpsr is part of the integer group
    fields.append(Field("fpscr", 0x48, "Q", ARM64_FLOATING_POINT))
    return ContextLayout("arm", 0x170, 0x40000000, 0x00, tuple(fields))


#: model cpu_arch -> context layout
LAYOUTS: dict[str, ContextLayout] = {"amd64": _amd64(), "x86": _x86(), "arm64": _arm64(), "arm": _arm()}
CONTEXT_ARCHES = frozenset(LAYOUTS)

#: other spellings of a register -> the model's name, per CPU
_ALIASES: dict[str, dict[str, str]] = {
    "amd64": {"rflags": "eflags"},
    "x86": {"xcs": "cs", "xds": "ds", "xes": "es", "xfs": "fs", "xgs": "gs", "xss": "ss"},
    "arm64": {"x29": "fp", "x30": "lr", "pstate": "cpsr", "x31": "sp"},
    "arm": {"r13": "sp", "r14": "lr", "r15": "pc", "fp": "r11", "ip": "r12"},
}

#: registers that are not "general" (the round trip compares only the general ones)
_NOT_GENERAL = frozenset({"mxcsr", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7", "fpcr", "fpsr", "fpscr"})


def canonical_registers(arch: str, registers: dict[str, int]) -> dict[str, int]:
    """``registers`` with aliases renamed to the model's names (the model's name wins)."""
    aliases = _ALIASES.get(arch, {})
    out = {aliases.get(name, name): value for name, value in registers.items() if name in aliases}
    out.update({name: value for name, value in registers.items() if name not in aliases})
    return out


def carried_registers(arch: str, *, general_only: bool = True) -> tuple[str, ...]:
    """Names of the registers the context of ``arch`` can carry (``()`` for other CPUs)."""
    layout = LAYOUTS.get(arch)
    if layout is None:
        return ()
    return tuple(f.name for f in layout.fields if not (general_only and f.name in _NOT_GENERAL))


def register_width(arch: str, name: str) -> int | None:
    """Bytes the context of ``arch`` keeps of register ``name`` (``None`` if not carried)."""
    layout = LAYOUTS.get(arch)
    field = layout.field(name) if layout is not None else None
    return struct.calcsize("<" + field.fmt) if field is not None else None


def build_context(arch: str, registers: dict[str, int]) -> bytes:
    """The context record of ``arch`` holding ``registers`` (values truncated to each field's width).

    Raises ``KeyError`` for a CPU without a standard minidump context.
    """
    layout = LAYOUTS[arch]
    regs = canonical_registers(arch, registers)
    buf = bytearray(layout.size)
    flags = layout.cpu_flag
    for f in layout.fields:
        value = regs.get(f.name)
        if value is None:
            continue
        width = struct.calcsize("<" + f.fmt)
        struct.pack_into("<" + f.fmt, buf, f.offset, value & ((1 << (8 * width)) - 1))
        flags |= f.group
    if arch == "amd64" and "mxcsr" in regs:
        struct.pack_into("<I", buf, 0x100 + 0x18, regs["mxcsr"] & 0xFFFFFFFF)  # FltSave.MxCsr mirrors it
    struct.pack_into("<I", buf, layout.flags_offset, flags)
    return bytes(buf)
