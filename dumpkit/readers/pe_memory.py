"""Identity of a PE image mapped in a dump's memory: TimeDateStamp, SizeOfImage, CodeView PDB.

Reads only the headers and the debug directory (a few hundred bytes) through an
:class:`~dumpkit.memory.AddressSpace`; any page that is not captured or any value that
does not make sense gives ``None`` for that part, never an exception.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from dumpkit.errors import DumpkitError
from dumpkit.memory import AddressSpace

__all__ = ["PeIdentity", "pe_identity"]

_IMAGE_DEBUG_TYPE_CODEVIEW = 2
_MAX_DEBUG_ENTRIES = 16


@dataclass(slots=True)
class PeIdentity:
    """What identifies a PE image found in memory: its header's stamp, size and checksum, and its
    CodeView PDB reference when present."""

    timestamp: int
    size_of_image: int
    checksum: int
    pdb_name: str | None = None
    pdb_guid: bytes | None = None
    pdb_age: int | None = None


def _read(space: AddressSpace, address: int, size: int) -> bytes | None:
    try:
        return space.read(address, size)
    except DumpkitError:
        return None


def pe_identity(space: AddressSpace, base: int, limit: int | None = None) -> PeIdentity | None:
    """Headers of the image at ``base`` (``limit`` = image size from the loader, to bound RVAs)."""
    mz = _read(space, base, 0x40)
    if mz is None or mz[:2] != b"MZ":
        return None
    e_lfanew = struct.unpack_from("<I", mz, 0x3C)[0]
    if not 0x40 <= e_lfanew <= 0x1000 - 0x108:
        return None
    nt = _read(space, base + e_lfanew, 0x108)
    if nt is None or nt[:4] != b"PE\0\0":
        return None
    timestamp = struct.unpack_from("<I", nt, 8)[0]
    opt = 24
    magic = struct.unpack_from("<H", nt, opt)[0]
    if magic not in (0x10B, 0x20B):
        return None
    size_of_image, _, checksum = struct.unpack_from("<III", nt, opt + 56)
    ident = PeIdentity(timestamp, size_of_image, checksum)
    dirs = opt + (96 if magic == 0x10B else 112)
    num_dirs = struct.unpack_from("<I", nt, dirs - 4)[0]
    if num_dirs <= 6:
        return ident
    rva, size = struct.unpack_from("<II", nt, dirs + 6 * 8)
    bound = limit or size_of_image
    if not rva or not size or rva + size > bound:
        return ident
    table = _read(space, base + rva, min(size, _MAX_DEBUG_ENTRIES * 28))
    if table is None:
        return ident
    for pos in range(0, len(table) - 27, 28):
        kind, data_size, data_rva = struct.unpack_from("<III", table, pos + 12)
        if kind != _IMAGE_DEBUG_TYPE_CODEVIEW or not 24 < data_size <= 0x400 or data_rva + data_size > bound:
            continue
        cv = _read(space, base + data_rva, data_size)
        if cv is None or cv[:4] != b"RSDS":
            continue
        ident.pdb_guid = cv[4:20]
        ident.pdb_age = struct.unpack_from("<I", cv, 20)[0]
        ident.pdb_name = cv[24:].split(b"\0", 1)[0].decode("utf-8", "replace")
        break
    return ident
