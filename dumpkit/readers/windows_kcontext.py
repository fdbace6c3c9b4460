"""CONTEXT records of Windows kernel dumps (x86, AMD64, ARM64) -> register dictionaries.

The layouts are the generated ``WindowsCrashdump.Context*`` types; this module only picks
the type for a machine and names the registers the way the model does (``rip``/``rsp``,
``eip``/``esp``, ``pc``/``sp``/``fp``).
"""
from __future__ import annotations

from typing import Any

from kaitaistruct import BytesIO, KaitaiStream

from dumpkit.formats.windows_crashdump import WindowsCrashdump as W

__all__ = ["CONTEXT_SIZE", "MACHINE_ARCH", "parse_context", "registers_of"]

#: MachineImageType -> model cpu_arch.
_MT = W.MachineType
MACHINE_ARCH = {_MT.i386.value: "x86", _MT.amd64.value: "amd64", _MT.arm64.value: "arm64",
                _MT.armnt.value: "arm", _MT.ia64.value: "ia64"}
#: Bytes of a CONTEXT per model cpu_arch.
CONTEXT_SIZE = {"x86": 0x2CC, "amd64": 0x4D0, "arm64": 0x390}
_TYPES: dict[str, Any] = {"x86": W.ContextX86, "amd64": W.ContextAmd64, "arm64": W.ContextArm64}

_AMD64 = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12",
          "r13", "r14", "r15", "rip", "eflags", "dr0", "dr1", "dr2", "dr3", "dr6", "dr7")
_AMD64_SEG = ("cs", "ds", "es", "fs", "gs", "ss")
_X86 = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags",
        "dr0", "dr1", "dr2", "dr3", "dr6", "dr7")


def parse_context(arch: str, data: bytes) -> Any | None:
    """The generated CONTEXT object for ``arch`` from ``data``, or ``None`` (unknown arch / short data)."""
    cls = _TYPES.get(arch)
    if cls is None or len(data) < CONTEXT_SIZE[arch]:
        return None
    return cls(KaitaiStream(BytesIO(data)))


def registers_of(arch: str, ctx: Any) -> dict[str, int]:
    """Register name -> value for a parsed CONTEXT of ``arch``."""
    if arch == "amd64":
        regs = {name: getattr(ctx, name) for name in _AMD64}
        regs.update({seg: getattr(ctx, "seg_" + seg) for seg in _AMD64_SEG})
        regs["mxcsr"] = ctx.mx_csr
        return regs
    if arch == "x86":
        regs = {name: getattr(ctx, name) for name in _X86}
        regs.update({seg: getattr(ctx, "seg_" + seg) for seg in _AMD64_SEG})
        return regs
    if arch == "arm64":
        regs = {f"x{i}": value for i, value in enumerate(ctx.x)}
        regs.update(fp=ctx.fp, lr=ctx.lr, sp=ctx.sp, pc=ctx.pc, cpsr=ctx.cpsr,
                    fpcr=ctx.fpcr, fpsr=ctx.fpsr)
        return regs
    return {}
