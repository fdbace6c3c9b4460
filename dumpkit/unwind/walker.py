"""The stack walk: frame 0 from the thread's context, then callers by CFI, frame pointer, scan.

Per caller frame, methods are tried in order of trust (``cfi``, ``frame_pointer``,
``scan``); the first that yields a pc and sp wins. The frame is then checked as
rust-minidump does: a pc in the first page ends the walk (end of stack), and the stack
pointer must increase (on arm64 it may stay equal once, for a leaf context frame) — this
is the loop guard. Limits: :data:`MAX_FRAMES` frames per thread; scans read at most
160/40 words per frame; every dereference stays within the thread's stack range.

Caller frames record the return address as ``pc`` and the address just before it
(``pc - 1`` on x86/amd64, ``- 4`` arm64, ``- 2`` arm) as the lookup address: module,
``module_offset``, CFI and symbols all use the lookup address, as rust-minidump's
``instruction`` and Socorro's ``module_offset`` do.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from dumpkit.memory import AddressSpace
from dumpkit.model import Dump, Frame, FrameTrust, Thread
from dumpkit.unwind.arch import CpuSpec
from dumpkit.unwind.cfi import CfiSources
from dumpkit.unwind.frame_pointer import caller_by_frame_pointer
from dumpkit.unwind.memory import StackMemory
from dumpkit.unwind.modules import ModuleIndex
from dumpkit.unwind.scan import caller_by_scan
from dumpkit.unwind.state import FrameState, Walk

if TYPE_CHECKING:
    from dumpkit.symbols.store import DumpSymbols

__all__ = ["MAX_FRAMES", "walk_thread"]

MAX_FRAMES = 1024
_NO_MEMORY = AddressSpace()


def _parameter_size(walk: Walk, state: FrameState) -> int:
    """Bytes of arguments the frame's function pops on return (x86 STACK WIN / FUNC / PUBLIC)."""
    if walk.symbols is None or state.module is None:
        return 0
    rva = state.lookup - state.module.base
    for records in walk.symbols.stack_records(state.module):
        if records.win(rva) is not None or records.function(rva) is not None:
            return records.parameter_size(rva) or 0
        public = records.public(rva)
        if public is not None:
            return public[1]
    return 0


def _frame(walk: Walk, state: FrameState, pc: int) -> Frame:
    module = state.module
    frame = Frame(pc=pc, trust=state.trust, sp=state.regs.get(walk.spec.sp), module=None)
    if module is not None:
        frame.module = module.name or None
        frame.module_offset = state.lookup - module.base
        if walk.symbols is not None:
            found = walk.symbols.lookup(module, state.lookup)
            if found is not None:
                frame.function, frame.function_offset = found.function, found.function_offset
                frame.source_file, frame.source_line = found.source_file, found.source_line
                frame.inlined = list(found.inlined)
    return frame


def walk_thread(dump: Dump, thread: Thread, spec: CpuSpec, modules: ModuleIndex,
                symbols: DumpSymbols | None, cfi: CfiSources) -> str | None:
    """Fill ``thread.frames``; returns why the walk stopped early (``None`` if it ended normally)."""
    mask = spec.mask
    regs = {name: value & mask for name, value in thread.registers.items() if isinstance(value, int)}
    if spec.pc not in regs:
        return "the thread's context has no instruction pointer"
    pc = regs[spec.pc]
    frame0 = FrameState(regs, "context", pc, modules.at(pc))
    thread.frames = []
    sp = regs.get(spec.sp)
    stack = None
    if sp is not None:
        stack = StackMemory.around(dump.memory, sp, spec.width, stack_start=thread.stack_start,
                                   stack_size=thread.stack_size)
    walk = Walk(spec, dump.system.os, stack or StackMemory(_NO_MEMORY, 0, 0, spec.width), modules,
                dump.memory, symbols)
    frame0.parameter_size = _parameter_size(walk, frame0)
    thread.frames.append(_frame(walk, frame0, pc))
    if sp is None:
        return "the thread's context has no stack pointer"
    if stack is None:
        return f"stack pointer {sp:#x} is not in captured memory"
    callee, grand_callee = frame0, None
    trust: FrameTrust
    while len(thread.frames) < MAX_FRAMES:
        step, trust = cfi.caller(walk, callee, grand_callee), "cfi"
        if step is not None and step.outermost:
            return None
        caller, signal = (step.registers, step.signal) if step is not None else (None, False)
        if caller is None:
            caller, trust = caller_by_frame_pointer(walk, callee), "frame_pointer"
        if caller is None:
            caller, trust = caller_by_scan(walk, callee), "scan"
        if caller is None:
            return None
        caller_pc, caller_sp = caller[spec.pc], caller[spec.sp]
        if caller_pc < 0x1000:
            return None
        callee_sp = callee.regs[spec.sp]
        if caller_sp < callee_sp or (caller_sp == callee_sp and not _may_keep_sp(spec, callee, caller_pc)):
            if trust == "scan":
                return None
            return (f"{trust} unwinding from frame {len(thread.frames) - 1} gave a stack pointer "
                    f"{caller_sp:#x} not above {callee_sp:#x} (loop or corrupt stack)")
        lookup = caller_pc if signal else caller_pc - spec.return_adjust
        state = FrameState(caller, trust, lookup, modules.at(lookup))
        state.parameter_size = _parameter_size(walk, state)
        thread.frames.append(_frame(walk, state, caller_pc))
        callee, grand_callee = state, callee
    return f"frame limit ({MAX_FRAMES}) reached"


def _may_keep_sp(spec: CpuSpec, callee: FrameState, caller_pc: int) -> bool:
    """arm/arm64 leaf functions may return without touching the stack (rust-minidump 0.25)."""
    return spec.name in ("arm", "arm64") and callee.trust == "context" and caller_pc != callee.regs[spec.pc]
