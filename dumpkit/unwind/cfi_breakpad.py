"""Unwinding with a Breakpad ``.sym`` file: ``STACK WIN`` (x86) then ``STACK CFI``.

Semantics follow Breakpad / rust-minidump so that frames agree:

* STACK CFI: the caller starts with the callee's callee-saved registers, then ``.cfa``
  becomes its stack pointer, ``.ra`` its pc, and every other rule sets (or, when it cannot
  be evaluated, drops) one register.
* STACK WIN FrameData (type 4): the program runs over ``$esp``/``$ebp``/``$ebx`` and the
  frame constants; ``.raSearch`` is ``$esp + locals + saved registers + the grand-callee's
  parameter size``, or ``$ebp + 4`` when the program aligns the stack (contains ``@``).
  Only the registers the program assigns (``$eip $esp $ebp $ebx $esi $edi``) carry over.
* STACK WIN FPO (type 0): return address at ``$esp + frame size`` (skipping a leftover
  copy of the context frame's own pc), ``$ebp`` reloaded when the function allocates it,
  otherwise ``$ebp`` and ``$ebx`` forwarded.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dumpkit.model import Module
from dumpkit.unwind.postfix import eval_cfi_rules, eval_win_program, parse_cfi_rules
from dumpkit.unwind.state import FrameState, Walk

if TYPE_CHECKING:
    from dumpkit.symbols.breakpad import SymFile, WinInfo

__all__ = ["caller_by_sym"]


def caller_by_sym(walk: Walk, callee: FrameState, grand_callee: FrameState | None,
                  sym: SymFile, module: Module) -> dict[str, int] | None:
    rva = callee.lookup - module.base
    if walk.spec.name == "x86":
        win = sym.win(rva)
        if win is not None:
            grand = grand_callee.parameter_size if grand_callee is not None else 0
            result = (_win_framedata(walk, callee, win, grand) if win.program is not None
                      else _win_fpo(walk, callee, win, grand, grand_callee is None))
            if result is not None:
                return result
    rule_lines = sym.cfi(rva)
    if rule_lines is None:
        return None
    return apply_cfi_rules(walk, callee, rule_lines)


def apply_cfi_rules(walk: Walk, callee: FrameState, rule_lines: list[str]) -> dict[str, int] | None:
    spec = walk.spec
    rules = parse_cfi_rules(rule_lines)
    if rules is None:
        return None
    evaluated = eval_cfi_rules(rules, callee.regs, walk.stack.word, spec.mask, spec.canonical)
    if evaluated is None:
        return None
    cfa, ra, others = evaluated
    caller = {r: callee.regs[r] for r in spec.callee_saved if r in callee.regs}
    caller[spec.sp] = cfa
    caller[spec.pc] = ra
    for reg, value in others.items():
        if value is None:
            caller.pop(reg, None)
        else:
            caller[reg] = value
    if spec.pc not in caller or spec.sp not in caller:
        return None
    return caller


def _win_framedata(walk: Walk, callee: FrameState, win: WinInfo, grand: int) -> dict[str, int] | None:
    regs = callee.regs
    if "esp" not in regs or "ebp" not in regs or win.program is None:
        return None
    esp, ebp = regs["esp"] & 0xFFFFFFFF, regs["ebp"] & 0xFFFFFFFF
    frame_size = win.local_size + win.saved_register_size + grand
    search = ebp + 4 if "@" in win.program else esp + frame_size
    variables = {"$esp": esp, "$ebp": ebp, ".cbParams": win.parameter_size,
                 ".cbCalleeParams": grand, ".cbSavedRegs": win.saved_register_size,
                 ".cbLocals": win.local_size, ".raSearch": search & 0xFFFFFFFF,
                 ".raSearchStart": search & 0xFFFFFFFF}
    if "ebx" in regs:
        variables["$ebx"] = regs["ebx"] & 0xFFFFFFFF
    out = eval_win_program(win.program, variables, walk.stack.word)
    if out is None or "$eip" not in out or "$esp" not in out:
        return None
    return {reg: out[f"${reg}"] for reg in ("eip", "esp", "ebp", "ebx", "esi", "edi") if f"${reg}" in out}


def _win_fpo(walk: Walk, callee: FrameState, win: WinInfo, grand: int,
             is_context: bool) -> dict[str, int] | None:
    regs, word = callee.regs, walk.stack.word
    if "esp" not in regs:
        return None
    esp = regs["esp"]
    eip_address = esp + win.local_size + win.saved_register_size + grand
    eip = word(eip_address)
    if eip is None:
        return None
    if is_context and eip == regs.get("eip"):  # leftover return address of a syscall stub
        eip_address += 4
        eip = word(eip_address)
        if eip is None:
            return None
    caller = {"eip": eip, "esp": eip_address + 4}
    if win.allocates_base_pointer:
        ebp = word(esp + grand + win.saved_register_size - 8)
        if ebp is None:
            return None
        caller["ebp"] = ebp
    else:
        if "ebp" not in regs:
            return None
        caller["ebp"] = regs["ebp"]
        if "ebx" in regs:
            caller["ebx"] = regs["ebx"]
    return caller
