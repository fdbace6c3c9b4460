"""Per-CPU facts the unwinder needs: register names, pointer width, ABI rules.

One :class:`CpuSpec` per CPU family. Register names are the model's (``dumpkit/model.py``
PC_REGISTER / SP_REGISTER / FP_REGISTER and the readers' register dicts); DWARF and
Breakpad register names are mapped onto them here, nowhere else.

``return_adjust`` is how far before a return address the unwinder looks things up (module,
CFI row, symbol): the return address itself may already belong to the next function or
line. rust-minidump and Breakpad use 1 on x86/amd64, 4 on arm64 and 2 on arm, and report
that address as the caller frame's instruction; so do we (``Frame.module_offset``).
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["CPU_SPECS", "CpuSpec", "spec_for"]


@dataclass(frozen=True, slots=True)
class CpuSpec:
    """The facts of one CPU family the unwinder uses."""

    name: str
    width: int  # pointer size in bytes
    pc: str
    sp: str
    fp: str | None
    lr: str | None  # link register (arm, arm64)
    callee_saved: tuple[str, ...]  # forwarded from callee to caller unless CFI says otherwise
    return_adjust: int
    #: DWARF register number -> model register name (``ra`` column is the pc).
    dwarf: dict[int, str] = field(default_factory=dict)
    dwarf_ra: int = -1
    #: Breakpad CFI register aliases (x29 -> fp, ...).
    aliases: dict[str, str] = field(default_factory=dict)

    @property
    def mask(self) -> int:
        return (1 << (8 * self.width)) - 1

    def canonical(self, name: str) -> str:
        return self.aliases.get(name, name)

    def plausible_pc(self, value: int) -> bool:
        """Rejects addresses no user or kernel code can have (non-canonical, first page)."""
        if value < 0x1000 or value > self.mask:
            return False
        if self.name == "amd64":
            return not 0x7FFFFFFFFFFF < value < 0xFFFF800000000000
        return True


_AMD64_DWARF = {0: "rax", 1: "rdx", 2: "rcx", 3: "rbx", 4: "rsi", 5: "rdi", 6: "rbp", 7: "rsp",
                **{i: f"r{i}" for i in range(8, 16)}, 16: "rip"}
_X86_DWARF = {0: "eax", 1: "ecx", 2: "edx", 3: "ebx", 4: "esp", 5: "ebp", 6: "esi", 7: "edi", 8: "eip"}
_ARM64_DWARF = {**{i: f"x{i}" for i in range(29)}, 29: "fp", 30: "lr", 31: "sp"}
_ARM_DWARF = {**{i: f"r{i}" for i in range(13)}, 13: "sp", 14: "lr", 15: "pc"}

CPU_SPECS: dict[str, CpuSpec] = {
    "amd64": CpuSpec("amd64", 8, "rip", "rsp", "rbp", None,
                     ("rbx", "rbp", "r12", "r13", "r14", "r15"), 1, _AMD64_DWARF, 16),
    "x86": CpuSpec("x86", 4, "eip", "esp", "ebp", None, ("ebp", "ebx", "edi", "esi"), 1,
                   _X86_DWARF, 8),
    "arm64": CpuSpec("arm64", 8, "pc", "sp", "fp", "lr",
                     (*(f"x{i}" for i in range(19, 29)), "fp"), 4, _ARM64_DWARF, 30,
                     {"x29": "fp", "x30": "lr", "x31": "sp"}),
    "arm": CpuSpec("arm", 4, "pc", "sp", "r11", "lr",
                   ("r4", "r5", "r6", "r7", "r8", "r9", "r10", "r11"), 2, _ARM_DWARF, 14,
                   {"fp": "r11", "r13": "sp", "r14": "lr", "r15": "pc", "ip": "r12"}),
}


def spec_for(cpu_arch: str) -> CpuSpec | None:
    """The spec for a model ``cpu_arch``, or ``None`` when dumpkit cannot unwind that CPU."""
    return CPU_SPECS.get(cpu_arch)
