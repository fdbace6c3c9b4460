"""Windows x64 unwinding from the image's ``.pdata`` / ``UNWIND_INFO`` in the dump's memory.

Used when the PE image of the module is in the dump (full-memory minidumps, kernel dumps
whose driver pages are present). Layout facts:

* optional header (PE32+, magic 0x20B) data directory 3 = exception directory: an array
  of RUNTIME_FUNCTION ``{BeginAddress, EndAddress, UnwindInfoAddress}`` (3 x u32 RVAs),
  sorted by BeginAddress — searched with a binary search that reads 12 bytes per probe;
* UNWIND_INFO: ``Version:3|Flags:5``, ``SizeOfProlog``, ``CountOfCodes``,
  ``FrameRegister:4|FrameOffset:4`` (offset x16), then CountOfCodes 2-byte slots
  ``{CodeOffset, UnwindOp:4|OpInfo:4}`` (padded to an even count), then for
  UNW_FLAG_CHAININFO (4) a RUNTIME_FUNCTION of the parent whose codes also apply.

Unwind codes (undone in the order stored): PUSH_NONVOL (0) pops a register; ALLOC_LARGE
(1, size in the next slot x8 or the next two slots); ALLOC_SMALL (2, OpInfo x8 + 8);
SET_FPREG (3, rsp = frame register - FrameOffset x16); SAVE_NONVOL (4, [frame + slot x8]);
SAVE_NONVOL_FAR (5, 32-bit offset); EPILOG (6, version 2: two slots, nothing to undo);
SPARE/SAVE_XMM128_FAR (7, three slots); SAVE_XMM128 (8, two slots) and SAVE_XMM128_FAR
(9, three) restore XMM registers we do not track; PUSH_MACHFRAME (10: rip = [rsp], rsp =
[rsp+24], after skipping an error code when OpInfo is 1). In the function's own info, codes
whose CodeOffset lies beyond the current prolog offset have not run yet and are skipped.
A function without a RUNTIME_FUNCTION is a leaf: its return address is at [rsp] (trusted
for the context frame only). Epilogues are not emulated (gap: a crash inside an epilogue
unwinds as if the prolog were complete).
"""
from __future__ import annotations

import struct

from dumpkit.memory import AddressSpace
from dumpkit.model import Module
from dumpkit.unwind.memory import read_code
from dumpkit.unwind.state import FrameState, Walk

__all__ = ["PdataTable", "caller_by_pdata"]

_X64_REGS = ("rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
             "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15")
_NONVOLATILE = ("rbx", "rbp", "rdi", "rsi", "r12", "r13", "r14", "r15")
_MAX_ENTRIES = 1 << 21
_MAX_CHAIN = 32
_CHAININFO = 4


class PdataTable:
    """The exception directory of the PE32+ image at ``module.base``."""

    def __init__(self, space: AddressSpace, base: int, start: int, count: int) -> None:
        self.space, self.base, self.start, self.count = space, base, start, count

    @classmethod
    def load(cls, space: AddressSpace | None, module: Module) -> PdataTable | None:
        if space is None:
            return None
        base = module.base
        mz = read_code(space, base, 0x40)
        if mz is None or mz[:2] != b"MZ":
            return None
        e_lfanew = struct.unpack_from("<I", mz, 0x3C)[0]
        if not 0x40 <= e_lfanew < 0x1000:
            return None
        nt = read_code(space, base + e_lfanew, 24 + 112 + 4 * 8)
        if nt is None or nt[:4] != b"PE\0\0" or struct.unpack_from("<H", nt, 24)[0] != 0x20B:
            return None
        if struct.unpack_from("<I", nt, 24 + 108)[0] < 4:
            return None
        rva, size = struct.unpack_from("<II", nt, 24 + 112 + 3 * 8)
        count = size // 12
        if not rva or not count or count > _MAX_ENTRIES or (module.size and rva + size > module.size):
            return None
        return cls(space, base, base + rva, count)

    def entry(self, index: int) -> tuple[int, int, int] | None:
        raw = read_code(self.space, self.start + 12 * index, 12)
        return None if raw is None else struct.unpack("<III", raw)

    def find(self, rva: int) -> tuple[int, int, int] | None:
        lo, hi = 0, self.count
        while lo < hi:
            mid = (lo + hi) // 2
            entry = self.entry(mid)
            if entry is None:
                return None
            if rva < entry[0]:
                hi = mid
            elif rva >= entry[1]:
                lo = mid + 1
            else:
                return entry
        return None


def _slots(op: int, info: int) -> int:
    if op == 1:
        return 2 if info == 0 else 3
    if op in (4, 6, 8):
        return 2
    if op in (5, 7, 9):
        return 3
    return 1


def caller_by_pdata(walk: Walk, callee: FrameState, table: PdataTable) -> dict[str, int] | None:
    regs = dict(callee.regs)
    if "rsp" not in regs:
        return None
    rva = callee.lookup - table.base
    entry = table.find(rva)
    word = walk.stack.word
    if entry is None:
        if callee.trust != "context":
            return None
        rip = word(regs["rsp"])
        return None if rip is None else {**_keep(regs), "rip": rip, "rsp": regs["rsp"] + 8}
    machframe = False
    begin, _, info_rva = entry
    prolog_offset = rva - begin
    primary = True
    for _ in range(_MAX_CHAIN):
        head = read_code(table.space, table.base + info_rva, 4)
        if head is None:
            return None
        flags, prolog_size, count, frame = head[0] >> 3, head[1], head[2], head[3]
        frame_reg, frame_off = _X64_REGS[frame & 0x0F], (frame >> 4) * 16
        codes = read_code(table.space, table.base + info_rva + 4, 2 * (count + (count & 1)) + 12)
        if codes is None:
            codes = read_code(table.space, table.base + info_rva + 4, 2 * count)
            if codes is None:
                return None
        skip_prolog = primary and prolog_offset < prolog_size
        fp_established = (frame & 0x0F) != 0 and not any(
            codes[2 * i + 1] & 0x0F == 3 and codes[2 * i] > prolog_offset
            for i in range(count)) if skip_prolog else (frame & 0x0F) != 0
        base = (regs[frame_reg] - frame_off) if fp_established and frame_reg in regs else regs["rsp"]
        i = 0
        while i < count:
            code_offset, op, op_info = codes[2 * i], codes[2 * i + 1] & 0x0F, codes[2 * i + 1] >> 4
            n = _slots(op, op_info)
            if i + n > count:
                return None
            if not (skip_prolog and code_offset > prolog_offset):
                applied = _apply(op, op_info, codes, i, regs, base, frame_reg, frame_off, word)
                if applied is None:
                    return None
                machframe = machframe or applied
            i += n
        if not flags & _CHAININFO:
            break
        tail = 4 + 2 * (count + (count & 1))
        chained = read_code(table.space, table.base + info_rva + tail, 12)
        if chained is None:
            return None
        _, _, info_rva = struct.unpack("<III", chained)
        primary = False
    else:
        return None
    if not machframe:
        rip = word(regs["rsp"])
        if rip is None:
            return None
        regs["rip"], regs["rsp"] = rip, regs["rsp"] + 8
    return {**_keep(regs), "rip": regs["rip"], "rsp": regs["rsp"]}


def _keep(regs: dict[str, int]) -> dict[str, int]:
    return {r: regs[r] for r in _NONVOLATILE if r in regs}


def _apply(op: int, info: int, codes: bytes, i: int, regs: dict[str, int], base: int,
           frame_reg: str, frame_off: int, word: object) -> bool | None:
    """Undo one unwind code; True for PUSH_MACHFRAME, False otherwise, None on failure."""
    assert callable(word)

    def slot(k: int) -> int:
        return int(struct.unpack_from("<H", codes, 2 * (i + k))[0])

    if op == 0:
        value = word(regs["rsp"])
        if value is None:
            return None
        regs[_X64_REGS[info]] = value
        regs["rsp"] += 8
    elif op == 1:
        regs["rsp"] += slot(1) * 8 if info == 0 else slot(1) | (slot(2) << 16)
    elif op == 2:
        regs["rsp"] += info * 8 + 8
    elif op == 3:
        if frame_reg not in regs:
            return None
        regs["rsp"] = regs[frame_reg] - frame_off
    elif op in (4, 5):
        offset = slot(1) * 8 if op == 4 else slot(1) | (slot(2) << 16)
        value = word(base + offset)
        if value is None:
            return None
        regs[_X64_REGS[info]] = value
    elif op == 10:
        if info:
            regs["rsp"] += 8
        rip, rsp = word(regs["rsp"]), word(regs["rsp"] + 24)
        if rip is None or rsp is None:
            return None
        regs["rip"], regs["rsp"] = rip, rsp
        return True
    elif op not in (6, 7, 8, 9):
        return None
    return False
