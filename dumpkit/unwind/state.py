"""The state one stack walk carries: per-walk context and per-frame registers."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dumpkit.memory import AddressSpace
from dumpkit.model import FrameTrust, Module
from dumpkit.unwind.arch import CpuSpec
from dumpkit.unwind.memory import StackMemory
from dumpkit.unwind.modules import ModuleIndex

if TYPE_CHECKING:
    from dumpkit.symbols.store import DumpSymbols

__all__ = ["OUTERMOST", "CfiStep", "FrameState", "Walk"]


@dataclass(frozen=True, slots=True)
class CfiStep:
    """What one CFI method found for a caller: its registers, and two flags.

    ``signal``: the caller is a signal frame (its pc is the interrupted instruction, not a
    return address, so it is looked up as is). ``outermost``: the CFI says there is no
    caller (the return address column is undefined); ``registers`` is then empty.
    """

    registers: dict[str, int]
    signal: bool = False
    outermost: bool = False


#: Returned by a CFI method when the CFI says there is no caller.
OUTERMOST = CfiStep({}, outermost=True)


@dataclass(slots=True)
class FrameState:
    """One frame while walking: the registers known for it and how it was found."""

    regs: dict[str, int]
    trust: FrameTrust
    lookup: int  # pc for frame 0, return address - adjust for callers
    module: Module | None = None
    parameter_size: int = 0  # x86 STACK WIN callers pop the callee's arguments

    @property
    def pc(self) -> int:
        return self.lookup


@dataclass(slots=True)
class Walk:
    """What every unwinding method of one thread may look at."""

    spec: CpuSpec
    os: str
    stack: StackMemory
    modules: ModuleIndex
    memory: AddressSpace | None
    symbols: DumpSymbols | None = None
    notes: list[str] = field(default_factory=list)
