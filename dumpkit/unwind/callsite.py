"""Is there a call instruction just before this return address? (stack-scan filter)

A word on the stack is a return address only if the bytes before it end with a call.
Checked encodings:

* x86 / amd64: ``E8 rel32`` (5 bytes) and ``FF /2`` (call r/m) in every ModRM/SIB/
  displacement form, 2 to 7 bytes (a REX or segment prefix before ``FF`` changes nothing);
* arm64: ``BL`` (``0x94000000`` under mask ``0xFC000000``), ``BLR`` and the pointer-
  authenticating ``BLRAA/BLRAAZ/BLRAB/BLRABZ`` forms;
* arm: not checked (Thumb/ARM interworking makes it unreliable): module range only.

Returns ``None`` when the code bytes were not captured (then the caller falls back to the
module's executable range alone).
"""
from __future__ import annotations

from dumpkit.memory import AddressSpace
from dumpkit.unwind.memory import read_code

__all__ = ["follows_call"]


def _ff2_length(modrm: int, sib: int | None) -> int | None:
    """Length of ``FF modrm [sib] [disp]`` if the ModRM reg field is /2 (call)."""
    if (modrm >> 3) & 7 != 2:
        return None
    mod, rm = modrm >> 6, modrm & 7
    length = 2
    if mod == 3:
        return length
    if rm == 4:
        if sib is None:
            return None
        length += 1
        if mod == 0 and sib & 7 == 5:
            length += 4
    elif mod == 0 and rm == 5:
        length += 4  # disp32 (rip-relative on amd64)
    if mod == 1:
        length += 1
    elif mod == 2:
        length += 4
    return length


def _x86_call(code: bytes) -> bool:
    """``code`` = the 7 bytes before the return address."""
    n = len(code)
    if n >= 5 and code[n - 5] == 0xE8:
        return True
    for length in range(2, min(7, n) + 1):
        start = n - length
        if code[start] != 0xFF:
            continue
        modrm = code[start + 1]
        sib = code[start + 2] if start + 2 < n else None
        if _ff2_length(modrm, sib) == length:
            return True
    return False


def _arm64_call(insn: int) -> bool:
    if insn & 0xFC000000 == 0x94000000:  # BL imm26
        return True
    if insn & 0xFFFFFC1F == 0xD63F0000:  # BLR Xn
        return True
    return insn & 0xFEFFF800 == 0xD63F0800  # BLRAA/BLRAB(Z)


def follows_call(space: AddressSpace | None, cpu: str, return_address: int) -> bool | None:
    """True/False when the bytes before ``return_address`` were captured, else ``None``."""
    if cpu in ("x86", "amd64"):
        # The 5 bytes before first: a stack scan probes many words whose code was not captured,
        # and then the 7-byte window, which holds them, is not either. Near the start of a
        # captured range only the 5-byte window is: it still shows E8 calls.
        short = read_code(space, return_address - 5, 5)
        if short is None:
            return None
        return _x86_call(read_code(space, return_address - 7, 7) or short)
    if cpu == "arm64":
        if return_address & 3:
            return False
        code = read_code(space, return_address - 4, 4)
        return None if code is None else _arm64_call(int.from_bytes(code, "little"))
    return None
