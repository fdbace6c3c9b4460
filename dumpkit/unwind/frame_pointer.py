"""Frame-pointer unwinding: the saved frame pointer and return address sit at [fp], [fp+w].

Rules follow rust-minidump 0.25 per CPU so that results agree:

* amd64: caller rip = [rbp+8], rbp = [rbp], rsp = rbp+16; rejected unless rsp > rbp,
  caller rbp >= caller rsp and points into the stack, rip is canonical and the caller rsp
  is above the callee's and inside the stack. Not used on Windows: the x64 ABI lets the
  frame register point anywhere into the local area (``.pdata`` unwinding covers it).
* x86: eip = [ebp+4], ebp = [ebp], esp = ebp+8, no further checks.
* arm64: pc = [fp+8], fp = [fp], sp = fp+16; pointer-authentication bits stripped; a zero
  fp or a pc outside ``0x1000..0x000fffffffffffff`` ends the method.
* arm: only on iOS (r7 chains); elsewhere 32-bit ARM has no reliable frame pointer.
"""
from __future__ import annotations

from dumpkit.unwind.state import FrameState, Walk

__all__ = ["caller_by_frame_pointer", "ptr_auth_strip"]


def ptr_auth_strip(walk: Walk, value: int) -> int:
    """Clear arm64 pointer-authentication bits: keep bits up to the highest module end or 2^47."""
    top = max((1 << 47) - 1, walk.modules.highest_end)
    mask = (1 << top.bit_length()) - 1 if top < (1 << 64) else (1 << 64) - 1
    return value & mask


def caller_by_frame_pointer(walk: Walk, callee: FrameState) -> dict[str, int] | None:
    spec, stack, regs = walk.spec, walk.stack, callee.regs
    fp_name = spec.fp
    if fp_name is None or fp_name not in regs or spec.sp not in regs:
        return None
    fp, sp, w = regs[fp_name], regs[spec.sp], spec.width
    if fp >= spec.mask - 2 * w:
        return None
    if spec.name == "amd64":
        if walk.os == "windows":
            return None
        caller_pc, caller_fp = stack.word(fp + w), stack.word(fp)
        if caller_pc is None or caller_fp is None:
            return None
        caller_sp = fp + 2 * w
        if caller_sp <= fp or caller_fp < caller_sp or stack.word(caller_fp) is None:
            return None
        if not spec.plausible_pc(caller_pc) and caller_pc >= 0x1000:
            return None
        if caller_sp <= sp or stack.word(caller_sp) is None:
            return None
    elif spec.name == "x86":
        caller_pc, caller_fp = stack.word(fp + w), stack.word(fp)
        if caller_pc is None or caller_fp is None:
            return None
        caller_sp = fp + 2 * w
    elif spec.name == "arm64":
        if fp == 0:
            return None
        raw_fp, raw_pc = stack.word(fp), stack.word(fp + w)
        if raw_fp is None or raw_pc is None:
            return None
        caller_fp, caller_pc = ptr_auth_strip(walk, raw_fp), ptr_auth_strip(walk, raw_pc)
        caller_sp = fp + 2 * w
        if not 0x1000 <= caller_pc <= 0x000FFFFFFFFFFFFF:
            return None
    elif spec.name == "arm":
        if walk.os != "ios" or fp == 0:
            return None
        caller_fp, caller_pc = stack.word(fp), stack.word(fp + w)
        if caller_fp is None or caller_pc is None:
            return None
        caller_sp = fp + 2 * w
    else:
        return None
    return {spec.pc: caller_pc, spec.sp: caller_sp, fp_name: caller_fp}
