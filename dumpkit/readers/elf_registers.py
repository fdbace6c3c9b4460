"""ELF core register sets: ``pr_reg`` of NT_PRSTATUS -> named registers, per architecture.

The generated parser decodes ``pr_reg`` into one ``gregs_*`` object per architecture
(``ksy/elf_core.ksy``); this module only names the values. Register names follow the
model's conventions (``dumpkit.model.PC_REGISTER`` / ``SP_REGISTER`` / ``FP_REGISTER``):
PowerPC's ``nip`` is stored as ``srr0``, AArch64's ``pstate`` as ``cpsr``.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["ELF_MACHINE_ARCH", "cpu_arch", "has_register_layout", "named_registers"]

EM_SPARC, EM_386, EM_68K, EM_MIPS, EM_PARISC = 2, 3, 4, 8, 15
EM_PPC, EM_PPC64, EM_S390, EM_ARM, EM_SPARCV9 = 20, 21, 22, 40, 43
EM_X86_64, EM_AARCH64, EM_RISCV, EM_LOONGARCH, EM_ALPHA = 62, 183, 243, 258, 0x9026

#: e_machine -> (arch name for ELF32, arch name for ELF64)
ELF_MACHINE_ARCH: dict[int, tuple[str, str]] = {
    EM_386: ("x86", "x86"),
    EM_X86_64: ("amd64", "amd64"),  # ELF32 + EM_X86_64 is an x32 process: amd64 registers
    EM_AARCH64: ("arm64", "arm64"),
    EM_ARM: ("arm", "arm"),
    EM_PPC64: ("ppc64", "ppc64"),
    EM_PPC: ("ppc", "ppc"),
    EM_S390: ("s390", "s390x"),
    EM_RISCV: ("riscv32", "riscv64"),
    EM_MIPS: ("mips", "mips64"),
    EM_LOONGARCH: ("loongarch32", "loongarch64"),
    EM_SPARC: ("sparc", "sparc"),
    EM_SPARCV9: ("sparc64", "sparc64"),
    EM_68K: ("m68k", "m68k"),
    EM_PARISC: ("hppa", "hppa64"),
    EM_ALPHA: ("alpha", "alpha"),
}


def cpu_arch(machine: int, is_64: bool) -> str:
    """The model's CPU architecture name for an ELF ``e_machine`` and class."""
    names = ELF_MACHINE_ARCH.get(int(machine))
    if names is None:
        return "unknown"
    return names[1] if is_64 else names[0]


_SEGMENT_REGISTERS = ("cs", "ss", "ds", "es", "fs", "gs")


def _x86_64(r: Any) -> dict[str, int]:
    names = ("rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9", "r10", "r11",
             "r12", "r13", "r14", "r15", "rip", "eflags", "fs_base", "gs_base", "orig_rax")
    out = {n: getattr(r, n) for n in names}
    # Selectors are 16-bit; lldb's gcore_linux-x86_64.core leaves garbage in the upper bits.
    out.update({n: getattr(r, n) & 0xFFFF for n in _SEGMENT_REGISTERS})
    return out


def _i386(r: Any) -> dict[str, int]:
    names = ("eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags", "orig_eax")
    out = {n: getattr(r, n) for n in names}
    out.update({n: getattr(r, n) & 0xFFFF for n in _SEGMENT_REGISTERS})
    return out


def _aarch64(r: Any) -> dict[str, int]:
    out = {f"x{i}": v for i, v in enumerate(r.x[:29])}
    out.update(fp=r.x[29], lr=r.x[30], sp=r.sp, pc=r.pc, cpsr=r.pstate)
    return out


def _arm(r: Any) -> dict[str, int]:
    out = {f"r{i}": v for i, v in enumerate(r.r[:13])}
    out.update(sp=r.r[13], lr=r.r[14], pc=r.r[15], cpsr=r.cpsr, orig_r0=r.orig_r0)
    return out


_PPC_OTHERS = ("srr0", "msr", "orig_gpr3", "ctr", "lr", "xer", "cr", "softe", "trap", "dar",
               "dsisr", "result")


def _ppc(r: Any) -> dict[str, int]:
    out = {f"r{i}": v for i, v in enumerate(r.gpr)}
    out.update(zip(_PPC_OTHERS, r.others, strict=True))
    return out


def _ppc32(r: Any) -> dict[str, int]:
    out = _ppc(r)
    out["mq"] = out.pop("softe")  # slot 8 is MQ on 32-bit PowerPC
    return out


def _s390(r: Any) -> dict[str, int]:
    addr = r.psw_addr
    if r.psw_mask <= 0xFFFFFFFF:
        # 31-bit s390: the PSW's top address bit is the addressing mode, not part of the
        # address (seen in elfutils' backtrace.s390.core: 0x8040c4a2 for code at 0x40c4a2).
        addr &= 0x7FFFFFFF
    out = {"psw_mask": r.psw_mask, "psw_addr": addr}
    out.update({f"r{i}": v for i, v in enumerate(r.gprs)})
    out.update({f"a{i}": v for i, v in enumerate(r.acrs)})
    out["orig_gpr2"] = r.orig_gpr2
    return out


_RISCV_X = ("ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0", "a1", "a2", "a3", "a4",
            "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
            "t3", "t4", "t5", "t6")


def _riscv(r: Any) -> dict[str, int]:
    out = {"pc": r.pc}
    out.update(zip(_RISCV_X, r.x, strict=True))
    return out


def _mips(r: Any) -> dict[str, int]:
    out = {f"r{i}": v for i, v in enumerate(r.r)}
    lo, hi, epc, badvaddr, status, cause = r.others
    out.update(sp=r.r[29], fp=r.r[30], ra=r.r[31], lo=lo, hi=hi, pc=epc, badvaddr=badvaddr,
               status=status, cause=cause)
    return out


def _loongarch(r: Any) -> dict[str, int]:
    out = {f"r{i}": v for i, v in enumerate(r.r)}
    out.update(ra=r.r[1], tp=r.r[2], sp=r.r[3], fp=r.r[22], pc=r.csr_era, orig_a0=r.orig_a0,
               badv=r.csr_badv)
    return out


def _sparc64(r: Any) -> dict[str, int]:
    out: dict[str, int] = {}
    for bank_no, bank in enumerate("goli"):
        for i in range(8):
            out[f"{bank}{i}"] = r.r[bank_no * 8 + i]
    # o6 is the stack pointer and i6 the frame pointer, both biased by 2047 in 64-bit code.
    out.update(sp=out["o6"], fp=out["i6"], tstate=r.tstate, pc=r.tpc, npc=r.tnpc, y=r.y)
    return out


def _m68k(r: Any) -> dict[str, int]:
    out = {"d0": r.d0}
    out.update({f"d{i + 1}": v for i, v in enumerate(r.d1_d7)})
    out.update({f"a{i}": v for i, v in enumerate(r.a0_a6)})
    out.update(a7=r.usp, sp=r.usp, orig_d0=r.orig_d0, sr=r.sr, pc=r.pc)
    return out


_BY_MACHINE: dict[int, Callable[[Any], dict[str, int]]] = {
    EM_X86_64: _x86_64, EM_386: _i386, EM_AARCH64: _aarch64, EM_ARM: _arm, EM_PPC: _ppc32,
    EM_PPC64: _ppc, EM_S390: _s390, EM_RISCV: _riscv, EM_MIPS: _mips,
    EM_LOONGARCH: _loongarch, EM_SPARCV9: _sparc64, EM_68K: _m68k,
}


def has_register_layout(machine: int) -> bool:
    """True when ``pr_reg`` of this ``e_machine`` is decoded into named registers."""
    return int(machine) in _BY_MACHINE


def named_registers(machine: int, gregs: Any) -> dict[str, int]:
    """Named register values from a generated ``gregs_*`` object (``{}`` when unknown)."""
    fn = _BY_MACHINE.get(int(machine))
    if fn is None or gregs is None:
        return {}
    return {name: int(value) for name, value in fn(gregs).items()}
