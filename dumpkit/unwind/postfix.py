"""Breakpad's postfix (RPN) unwind programs: ``STACK CFI`` rules and ``STACK WIN`` programs.

STACK CFI: ``REG: EXPR REG: EXPR ...`` where REG is ``.cfa``, ``.ra`` or a register
(``$rax`` or ``x29``), EXPR a postfix expression over callee registers, integers, ``.cfa``
and the operators ``+ - * / % @`` (align down) and ``^`` (load a pointer from the stack).
Later rules for a register replace earlier ones (INIT first, then the deltas in order).
``.cfa`` is evaluated first (it may not refer to itself) and becomes the caller's stack
pointer, ``.ra`` the caller's pc; other registers that fail to evaluate are dropped.

STACK WIN (x86 FrameData): a program of assignments ``$T0 $ebp = $eip $T0 4 + ^ = ...``
over variables seeded with ``$esp``, ``$ebp``, ``$ebx`` and ``.cbParams``, ``.cbSavedRegs``,
``.cbLocals``, ``.cbCalleeParams``, ``.raSearch``/``.raSearchStart``; 32-bit arithmetic.
Both evaluators return ``None`` for any malformed program or unreadable memory.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping

__all__ = ["eval_cfi_rules", "eval_win_program", "parse_cfi_rules"]

Deref = Callable[[int], "int | None"]
_MAX_TOKENS = 256


def parse_cfi_rules(rule_lines: list[str]) -> dict[str, str] | None:
    """``{register: expression}`` from INIT + deltas, later rules winning; ``None`` if malformed."""
    out: dict[str, str] = {}
    for rules in rule_lines:
        reg: str | None = None
        expr: list[str] = []
        for token in rules.split():
            if token.endswith(":"):
                if reg is not None:
                    if not expr:
                        return None
                    out[reg] = " ".join(expr)
                reg, expr = token[:-1].lstrip("$"), []
            elif reg is None:
                return None
            else:
                expr.append(token)
        if reg is None or not expr:
            return None
        out[reg] = " ".join(expr)
    return out


def _binary(op: str, lhs: int, rhs: int, mask: int) -> int | None:
    if op == "+":
        return (lhs + rhs) & mask
    if op == "-":
        return (lhs - rhs) & mask
    if op == "*":
        return (lhs * rhs) & mask
    if op in ("/", "%"):
        if rhs == 0:
            return None
        return (lhs // rhs if op == "/" else lhs % rhs) & mask
    if op == "@":
        if rhs == 0 or rhs & (rhs - 1):
            return None
        return lhs & ~(rhs - 1) & mask
    return None


def _eval_expr(expr: str, regs: Mapping[str, int], deref: Deref, cfa: int | None,
               mask: int, alias: Callable[[str], str]) -> int | None:
    stack: list[int] = []
    tokens = expr.split()
    if len(tokens) > _MAX_TOKENS:
        return None
    for token in tokens:
        if token in ("+", "-", "*", "/", "%", "@"):
            if len(stack) < 2:
                return None
            rhs, lhs = stack.pop(), stack.pop()
            value = _binary(token, lhs, rhs, mask)
            if value is None:
                return None
            stack.append(value)
        elif token == "^":
            if not stack:
                return None
            loaded = deref(stack.pop())
            if loaded is None:
                return None
            stack.append(loaded)
        elif token == ".cfa":
            if cfa is None:
                return None
            stack.append(cfa)
        elif token == ".undef":
            return None
        else:
            name = token.lstrip("$")
            value_reg = regs.get(alias(name))
            if value_reg is not None and not _is_int(token):
                stack.append(value_reg)
            elif _is_int(token):
                stack.append(int(token) & mask)
            else:
                return None
    return stack[0] if len(stack) == 1 else None


def _is_int(token: str) -> bool:
    body = token[1:] if token[:1] == "-" else token
    return body.isdigit()


def eval_cfi_rules(rules: Mapping[str, str], regs: Mapping[str, int], deref: Deref, mask: int,
                   alias: Callable[[str], str]) -> tuple[int, int, dict[str, int | None]] | None:
    """``(cfa, ra, {register: value or None})`` for the caller, or ``None``."""
    if ".cfa" not in rules or ".ra" not in rules:
        return None
    cfa = _eval_expr(rules[".cfa"], regs, deref, None, mask, alias)
    if cfa is None:
        return None
    ra = _eval_expr(rules[".ra"], regs, deref, cfa, mask, alias)
    if ra is None:
        return None
    others: dict[str, int | None] = {}
    for reg, expr in rules.items():
        if reg not in (".cfa", ".ra"):
            others[alias(reg)] = _eval_expr(expr, regs, deref, cfa, mask, alias)
    return cfa, ra, others


def eval_win_program(program: str, variables: dict[str, int], deref: Deref) -> dict[str, int] | None:
    """Run a STACK WIN program over ``variables`` (32-bit); the final variables, or ``None``."""
    mask = 0xFFFFFFFF
    tokens: list[str] = []
    for token in program.split():
        # Some toolchains write "=$ebp" for "= $ebp".
        if token.startswith("=") and len(token) > 1:
            tokens += ["=", token[1:]]
        else:
            tokens.append(token)
    if len(tokens) > _MAX_TOKENS:
        return None
    stack: list[int | str | None] = []  # ints, variable names, None for .undef

    def value(item: int | str | None) -> int | None:
        if isinstance(item, str):
            return variables.get(item)
        return item

    for token in tokens:
        if token in ("+", "-", "*", "/", "%", "@"):
            if len(stack) < 2:
                return None
            rhs, lhs = value(stack.pop()), value(stack.pop())
            if rhs is None or lhs is None:
                return None
            result = _binary(token, lhs, rhs, mask)
            if result is None:
                return None
            stack.append(result)
        elif token == "=":
            if len(stack) < 2:
                return None
            rhs_item, target = stack.pop(), stack.pop()
            if not isinstance(target, str):
                return None
            if rhs_item is None:
                variables.pop(target, None)
                continue
            rhs = value(rhs_item)
            if rhs is None:
                return None
            variables[target] = rhs
        elif token == "^":
            if not stack:
                return None
            address = value(stack.pop())
            loaded = None if address is None else deref(address)
            if loaded is None:
                return None
            stack.append(loaded & mask)
        elif token == ".undef":
            stack.append(None)
        elif token.startswith(("$", ".")):
            stack.append(token)
        elif _is_int(token):
            stack.append(int(token) & mask)
        else:
            return None
    return variables
