"""Unwinding with DWARF call frame information (``.eh_frame`` / ``.debug_frame``).

The FDE covering the lookup address is decoded by pyelftools into rows; the last row at or
before the address gives the CFA rule and one rule per saved register:

* CFA = register + offset, or a DWARF expression;
* ``offset(N)`` -> load from CFA+N, ``val_offset(N)`` -> CFA+N, ``register(R)`` -> callee's
  R, ``same_value`` -> callee's value, ``undefined`` -> unknown, ``expression`` /
  ``val_expression`` -> a small DWARF expression evaluator (the ``breg``/``deref``/constant
  /arithmetic operations glibc's signal trampolines use);
* the return-address column gives the caller's pc (``undefined`` there marks the outermost
  frame: the walk ends); the CFA is the caller's stack pointer.

An FDE whose CIE augmentation has ``S`` describes a signal frame: its caller's pc is the
interrupted instruction, not a return address, and is looked up as is.
"""
from __future__ import annotations

from typing import Any, cast

from elftools.dwarf.callframe import CFARule, RegisterRule
from elftools.dwarf.dwarf_expr import DWARFExprParser
from elftools.dwarf.structs import DWARFStructs

from dumpkit.symbols.elf import ELF_ERRORS
from dumpkit.unwind.state import OUTERMOST, CfiStep, FrameState, Walk

__all__ = ["caller_by_fde"]
_MAX_OPS = 64
_decoded: dict[int, Any] = {}


def _rows(fde: Any) -> list[dict[Any, Any]] | None:
    key = id(fde)
    if key not in _decoded:
        if len(_decoded) > 4096:
            _decoded.clear()
        try:
            _decoded[key] = (fde, fde.get_decoded().table)
        except ELF_ERRORS:
            _decoded[key] = (fde, None)
    rows: list[dict[Any, Any]] | None = _decoded[key][1]
    return rows


def _eval_expr(expr: list[int], walk: Walk, regs: dict[str, int], push: int | None) -> int | None:
    structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=walk.spec.width)
    try:
        ops = DWARFExprParser(structs).parse_expr(expr)
    except ELF_ERRORS:
        return None
    if len(ops) > _MAX_OPS:
        return None
    mask, dwarf = walk.spec.mask, walk.spec.dwarf
    stack: list[int] = [] if push is None else [push]
    for op in ops:
        name, args = op.op_name, op.args
        if name.startswith("DW_OP_breg") and name != "DW_OP_bregx":
            reg = dwarf.get(int(name[10:]))
            if reg is None or reg not in regs:
                return None
            stack.append((regs[reg] + args[0]) & mask)
        elif name == "DW_OP_bregx":
            reg = dwarf.get(args[0])
            if reg is None or reg not in regs:
                return None
            stack.append((regs[reg] + args[1]) & mask)
        elif name.startswith("DW_OP_lit"):
            stack.append(int(name[9:]))
        elif name.startswith("DW_OP_const"):
            stack.append(args[0] & mask)
        elif name == "DW_OP_deref":
            if not stack:
                return None
            value = walk.stack.word(stack.pop())
            if value is None:
                return None
            stack.append(value)
        elif name == "DW_OP_plus_uconst":
            if not stack:
                return None
            stack.append((stack.pop() + args[0]) & mask)
        elif name in ("DW_OP_plus", "DW_OP_minus", "DW_OP_and", "DW_OP_mul"):
            if len(stack) < 2:
                return None
            rhs, lhs = stack.pop(), stack.pop()
            result = {"DW_OP_plus": lhs + rhs, "DW_OP_minus": lhs - rhs, "DW_OP_and": lhs & rhs,
                      "DW_OP_mul": lhs * rhs}[name]
            stack.append(result & mask)
        elif name == "DW_OP_dup":
            if not stack:
                return None
            stack.append(stack[-1])
        else:
            return None
    return stack[-1] if stack else None


def caller_by_fde(walk: Walk, callee: FrameState, fde: Any, link_address: int) -> CfiStep | None:
    """The caller's registers from the FDE row covering ``link_address``."""
    rows = _rows(fde)
    if not rows:
        return None
    row = None
    for candidate in rows:
        if candidate["pc"] <= link_address:
            row = candidate
        else:
            break
    if row is None:
        return None
    spec, regs, word = walk.spec, callee.regs, walk.stack.word
    cfa_rule: CFARule = row["cfa"]
    if cfa_rule.expr is not None:
        cfa = _eval_expr(cfa_rule.expr, walk, regs, None)
    else:
        reg = spec.dwarf.get(cfa_rule.reg) if cfa_rule.reg is not None else None
        cfa = None if reg is None or reg not in regs else (regs[reg] + (cfa_rule.offset or 0)) & spec.mask
    if cfa is None:
        return None
    try:
        ra_column = fde.cie["return_address_register"]
        signal = "S" in (fde.cie["augmentation"] or b"").decode("ascii", "replace")
    except ELF_ERRORS:
        return None
    caller = {r: regs[r] for r in spec.callee_saved if r in regs}
    ra: int | None = None
    ra_known = False
    for column, rule in row.items():
        if not isinstance(column, int) or not isinstance(rule, RegisterRule):
            continue
        if rule.type == RegisterRule.SAME_VALUE:
            same = spec.dwarf.get(column)
            value = regs.get(same) if same else None
        else:
            value = _apply(rule, walk, regs, cfa, word)
        if column == ra_column:
            ra_known = True
            if rule.type == RegisterRule.UNDEFINED:
                return OUTERMOST
            ra = value
            continue
        name = spec.dwarf.get(column)
        if name is None:
            continue
        if value is None:
            caller.pop(name, None)
        else:
            caller[name] = value
    if not ra_known:
        ra_name = spec.dwarf.get(ra_column)
        ra = regs.get(ra_name) if ra_name else None
    if ra is None:
        return None
    caller[spec.pc] = ra
    caller[spec.sp] = cfa
    return CfiStep(caller, signal=signal)


def _apply(rule: RegisterRule, walk: Walk, regs: dict[str, int], cfa: int, word: Any) -> int | None:
    kind, arg = rule.type, cast(Any, rule.arg)
    if kind == RegisterRule.OFFSET:
        result: int | None = word((cfa + arg) & walk.spec.mask)
        return result
    if kind == RegisterRule.VAL_OFFSET:
        return (cfa + arg) & walk.spec.mask
    if kind == RegisterRule.REGISTER:
        name = walk.spec.dwarf.get(arg)
        return regs.get(name) if name else None
    if kind == RegisterRule.EXPRESSION:
        address = _eval_expr(arg, walk, regs, cfa)
        return None if address is None else word(address)
    if kind == RegisterRule.VAL_EXPRESSION:
        return _eval_expr(arg, walk, regs, cfa)
    return None
