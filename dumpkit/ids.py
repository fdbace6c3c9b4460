"""Symbol-server identifiers of modules: the keys that Microsoft's and Breakpad's symbol
servers (and crash-stats, Sentry, rust-minidump) use to find a module's symbols.

* code id of a PE image: ``%08X%x`` of TimeDateStamp and SizeOfImage;
* debug id of a PDB: the CodeView GUID (Data1, Data2, Data3 as numbers, Data4 as bytes)
  and the age, upper-case hex;
* debug id of an ELF image: Breakpad's rule — the first 16 bytes of the GNU build-id
  (zero-padded) read as a GUID whose first three fields are byte-swapped when the ELF file
  is little-endian (big-endian files already hold them in network order), and age 0.
"""
from __future__ import annotations

from typing import Literal

__all__ = ["elf_debug_id", "guid_hex", "pdb_debug_id", "pe_code_id"]


def pe_code_id(timestamp: int, size_of_image: int) -> str:
    return f"{timestamp:08X}{size_of_image:x}"


def guid_hex(raw: bytes, *, little_endian: bool = True) -> str:
    """16 GUID bytes as ``%08X%04X%04X`` + Data4 hex; Data1-3 stored in the given byte order."""
    order: Literal["little", "big"] = "little" if little_endian else "big"
    return (f"{int.from_bytes(raw[0:4], order):08X}{int.from_bytes(raw[4:6], order):04X}"
            f"{int.from_bytes(raw[6:8], order):04X}{raw[8:16].hex().upper()}")


def pdb_debug_id(guid: bytes, age: int) -> str:
    """Debug id of a PDB from its on-disk (little-endian) GUID and age."""
    return f"{guid_hex(guid)}{age:X}"


def elf_debug_id(build_id: bytes | str, *, big_endian: bool = False) -> str:
    """Breakpad's debug id of an ELF file from its build-id (bytes or hex)."""
    raw = bytes.fromhex(build_id) if isinstance(build_id, str) else build_id
    return guid_hex((raw + bytes(16))[:16], little_endian=not big_endian) + "0"
