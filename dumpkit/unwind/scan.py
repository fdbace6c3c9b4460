"""Stack scanning: the first stack word above sp that looks like a return address.

Window: 160 words when scanning from the context frame (the innermost frame is often
mid-prologue or in code without unwind data), 40 words otherwise — rust-minidump's and
Breakpad's numbers, so scanned frames can be compared with theirs.

A candidate must (in this order): lie (minus the return-address adjustment) inside a
module's executable range; be a plausible address for the CPU; lie past the module's file
header; have a function there when that module's ``.sym`` file is loaded (rust-minidump's
rule); and, when the code bytes before it were captured, follow a call instruction
(:mod:`callsite`). The last two checks make dumpkit stricter than rust-minidump, which accepts
any in-module word.

On x86/amd64 the caller's frame pointer is recovered when the word below the return
address is a saved frame pointer (the callee used the standard prologue), else the
callee's is kept when it still points above the new sp.
"""
from __future__ import annotations

from dumpkit.model import Module
from dumpkit.unwind.callsite import follows_call
from dumpkit.unwind.state import FrameState, Walk

__all__ = ["SCAN_WORDS", "SCAN_WORDS_CONTEXT", "caller_by_scan", "seems_return_address"]

SCAN_WORDS = 40
SCAN_WORDS_CONTEXT = 160
_MAX_FRAME_GAP = 128 * 1024
#: Bytes at the start of a module that are its file header (ELF64 header = 64 bytes; a PE's
#: MZ + PE headers are longer still).
_IMAGE_HEADER_BYTES = 0x40


def seems_return_address(walk: Walk, value: int) -> bool:
    lookup = value - 1
    module = walk.modules.code_module(lookup) if lookup > 0 else None
    return module is not None and _returns_into(walk, value, module)


def _returns_into(walk: Walk, value: int, module: Module) -> bool:
    """The checks of a candidate ``value`` whose ``value - 1`` lies in ``module``'s code."""
    spec = walk.spec
    if spec.name == "amd64" and 0x7FFFFFFFFFFF < value < 0xFFFF800000000000:
        return False
    if spec.name == "arm64" and not 0x1000 <= value <= 0x000FFFFFFFFFFFFF:
        return False
    offset = value - 1 - module.base
    if offset < _IMAGE_HEADER_BYTES:
        # The first bytes of every ELF or PE image are its file header, never code: a stack
        # word there is data (seen: base+0x40 = AT_PHDR in the aux vector atop the stack).
        return False
    if walk.symbols is not None:
        has_name = walk.symbols.has_function(module, offset)
        if has_name is False:
            return False
    return follows_call(walk.memory, spec.name, value) is not False


def caller_by_scan(walk: Walk, callee: FrameState) -> dict[str, int] | None:
    spec, stack, regs = walk.spec, walk.stack, callee.regs
    if spec.sp not in regs:
        return None
    sp, w = regs[spec.sp], spec.width
    last_fp = regs.get(spec.fp) if spec.fp else None
    count = SCAN_WORDS_CONTEXT if callee.trust == "context" else SCAN_WORDS
    modules = walk.modules
    low, high, code_module = modules.lowest, modules.highest_end, modules.code_module
    for i, value in enumerate(stack.words(sp, count)):  # the scan ends at the first unreadable word
        # value - 1 outside every module's code is no return address: skip the checks at once
        if not low < value <= high:
            continue
        module = code_module(value - 1)
        if module is None or not _returns_into(walk, value, module):
            continue
        address = sp + i * w
        caller_sp = address + w
        caller = {spec.pc: value, spec.sp: caller_sp}
        if spec.name in ("x86", "amd64") and i > 0 and spec.fp:
            fp = _caller_frame_pointer(walk, address, caller_sp, last_fp)
            if fp is not None:
                caller[spec.fp] = fp
        return caller
    return None


def _caller_frame_pointer(walk: Walk, address: int, caller_sp: int, last_fp: int | None) -> int | None:
    """The caller's frame pointer after a scanned return address at ``address`` (x86/amd64)."""
    stack, w = walk.stack, walk.spec.width
    saved = stack.word(address - w)
    if saved is None:
        return None
    if walk.spec.name == "amd64" and last_fp is None:
        return None
    standard = saved > address and saved - (address - w) <= _MAX_FRAME_GAP
    if walk.spec.name == "amd64":
        standard = standard and last_fp == address - w
    if standard:
        return saved if stack.word(saved) is not None else None
    if (last_fp is not None and last_fp >= caller_sp
            and (walk.spec.name == "amd64" or stack.word(last_fp) is not None)):
        return last_fp
    return None
