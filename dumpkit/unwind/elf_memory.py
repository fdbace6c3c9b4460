"""CFI of an ELF image captured in a core's memory (``.eh_frame`` found from the program headers).

The program headers give ``PT_GNU_EH_FRAME`` -> ``.eh_frame_hdr`` -> the start of
``.eh_frame`` and (nearly always) a sorted search table of its FDEs: then a lookup reads and
parses only the FDE it lands on and its CIE, from memory (:class:`SearchTableIndex`). Without
the table the section's extent is found by walking its length fields to the zero terminator,
and it is parsed whole, only when every byte was captured. (Linux dumps file-backed text only
with ``coredump_filter`` bit 2/3, so captured CFI is the exception, not the rule.)
"""
from __future__ import annotations

import io
import struct
from typing import IO, Any, cast

from elftools.common.utils import struct_parse
from elftools.dwarf.callframe import FDE, CallFrameInfo
from elftools.dwarf.structs import DWARFStructs

from dumpkit.elf_headers import ElfHeaders
from dumpkit.memory import AddressSpace, MemoryFile
from dumpkit.model import Module
from dumpkit.symbols.elf import ELF_ERRORS, MAX_EH_FRAME, FdeIndex
from dumpkit.unwind.memory import read_code

__all__ = ["FdeLookup", "SearchTableIndex", "memory_cfi"]


def _eh_pointer(data: bytes, pos: int, encoding: int, section_address: int) -> tuple[int, int] | None:
    """Decode one DW_EH_PE-encoded value of .eh_frame_hdr -> (value, new position)."""
    kind = encoding & 0x0F
    pick = {0x2: "<H", 0x3: "<I", 0x4: "<Q", 0xA: "<h", 0xB: "<i", 0xC: "<q"}.get(kind)
    if encoding == 0xFF or pick is None:
        return None
    size = struct.calcsize(pick)
    if pos + size > len(data):
        return None
    (value,) = struct.unpack_from(pick, data, pos)
    application = encoding & 0x70
    if application == 0x10:  # pcrel
        value += section_address + pos
    elif application == 0x30:  # datarel (relative to .eh_frame_hdr)
        value += section_address
    elif application != 0:
        return None
    return value & 0xFFFFFFFFFFFFFFFF, pos + size


def _program_headers(space: AddressSpace, base: int, limit: int) -> list[Any] | None:
    """The program headers (pyelftools containers) of the ELF image whose header is at
    ``base``, read as ``ELFFile`` reads them from a ``limit``-byte view (its header through
    :class:`dumpkit.elf_headers.ElfHeaders`); ``None`` when a part is not captured or does not
    parse."""
    try:
        header = ElfHeaders(cast(IO[bytes], MemoryFile(space, base, limit)))
    except ELF_ERRORS:
        return None
    structs = header.structs
    offset, count, stride = header["e_phoff"], header["e_phnum"], header["e_phentsize"]
    if count == 0xFFFF or (count and stride < structs.Elf_Phdr.sizeof()):
        return None  # PN_XNUM (the count is in a section header, never loaded) or a bad size
    end = offset + max(count - 1, 0) * stride + structs.Elf_Phdr.sizeof()
    if count and end > limit:
        return None
    table = read_code(space, base + offset, end - offset) if count else b""
    if table is None:
        return None
    stream = io.BytesIO(table)
    try:
        return [struct_parse(structs.Elf_Phdr, stream, index * stride) for index in range(count)]
    except ELF_ERRORS:
        return None


class SearchTableIndex:
    """FDEs looked up through ``.eh_frame_hdr``'s sorted search table (initial location, FDE
    address; both ``DW_EH_PE_datarel | DW_EH_PE_sdata4``, as every linker writes it): a lookup
    parses the one FDE it lands on (and its CIE), not the whole ``.eh_frame``. Answers like
    :class:`~dumpkit.symbols.elf.FdeIndex` over the same section."""

    ENCODING = 0x3B
    _PAIR = struct.Struct("<ii")

    def __init__(self, table: bytes, hdr_address: int, eh_frame: int, bias: int, cfi: CallFrameInfo) -> None:
        self._table, self._hdr, self._eh_frame = table, hdr_address, eh_frame
        self._bias, self._cfi = bias, cfi
        self._count = len(table) // self._PAIR.size

    def __len__(self) -> int:
        return self._count

    def find(self, address: int) -> Any | None:
        """The FDE covering link-time ``address``, or ``None``."""
        target = address + self._bias - self._hdr  # the table's values are relative to the header
        lo, hi = 0, self._count
        while lo < hi:  # the last entry whose initial location is <= target
            mid = (lo + hi) // 2
            if self._PAIR.unpack_from(self._table, mid * self._PAIR.size)[0] <= target:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return None
        fde_address = self._hdr + self._PAIR.unpack_from(self._table, (lo - 1) * self._PAIR.size)[1]
        try:
            # pyelftools parses one entry (and its CIE) at a section offset: a private method,
            # checked against the whole-section index by tests/test_elf_memory.py
            entry = self._cfi._parse_entry_at(fde_address - self._eh_frame)
        except ELF_ERRORS:
            return None
        if not isinstance(entry, FDE):
            return None
        start = entry.header["initial_location"]
        return entry if start <= address < start + entry.header["address_range"] else None


#: what :func:`memory_cfi` gives: either index, one ``find(link-time address)`` each
FdeLookup = FdeIndex | SearchTableIndex


def memory_cfi(space: AddressSpace, module: Module, width: int) -> tuple[FdeLookup, int] | None:
    """(FDE index, load bias) for an image mapped at ``module.base`` in a core, or ``None``."""
    if read_code(space, module.base + 5, 1) != b"\x01":
        return None  # EI_DATA: the CFI below is decoded as little-endian
    phdrs = _program_headers(space, module.base, max(module.size, 0x1000))
    if phdrs is None:
        return None
    loads = [p for p in phdrs if p["p_type"] == "PT_LOAD"]
    hdr = next((p for p in phdrs if p["p_type"] == "PT_GNU_EH_FRAME"), None)
    if not loads or hdr is None:
        return None
    bias = module.base - (min(p["p_vaddr"] for p in loads) & ~0xFFF)
    hdr_address = hdr["p_vaddr"] + bias
    head = read_code(space, hdr_address, 16)
    if head is None or head[0] != 1:
        return None
    decoded = _eh_pointer(head, 4, head[1], hdr_address)
    if decoded is None:
        return None
    eh_frame, pos = decoded
    structs = DWARFStructs(little_endian=True, dwarf_format=32, address_size=width)
    table = _search_table(space, head, pos, hdr_address)
    if table is not None:  # FDEs are read one by one, from memory, as lookups land on them
        segment = next((p for p in loads if 0 <= eh_frame - bias - p["p_vaddr"] < p["p_memsz"]), None)
        if segment is None:
            return None
        size = min(segment["p_vaddr"] + bias + segment["p_memsz"] - eh_frame, MAX_EH_FRAME)
        stream = cast(IO[bytes], MemoryFile(space, eh_frame, size))
        cfi = CallFrameInfo(stream, size, eh_frame - bias, structs, for_eh_frame=True)
        return SearchTableIndex(table, hdr_address, eh_frame, bias, cfi), bias
    data = _whole_section(space, eh_frame)
    if data is None:
        return None
    try:
        cfi = CallFrameInfo(io.BytesIO(data), len(data), eh_frame - bias, structs, for_eh_frame=True)
        return FdeIndex(cfi.get_entries()), bias
    except ELF_ERRORS:
        return None


def _whole_section(space: AddressSpace, eh_frame: int) -> bytes | None:
    """The ``.eh_frame`` at ``eh_frame``, found by walking its length fields to the zero
    terminator; ``None`` unless every byte was captured."""
    cursor = eh_frame
    while cursor - eh_frame < MAX_EH_FRAME:
        raw = read_code(space, cursor, 4)
        if raw is None:
            return None
        length = int.from_bytes(raw, "little")
        if length == 0:
            break
        if length == 0xFFFFFFFF:
            return None  # 64-bit DWARF lengths do not occur in .eh_frame in practice
        cursor += 4 + length
    else:
        return None
    return read_code(space, eh_frame, cursor - eh_frame + 4)


def _search_table(space: AddressSpace, head: bytes, pos: int, hdr_address: int) -> bytes | None:
    """The search table of the ``.eh_frame_hdr`` whose first bytes are ``head`` (``pos``: just
    past its eh_frame_ptr), or ``None`` when it has none, another encoding, or was not captured."""
    if head[3] != SearchTableIndex.ENCODING or head[2] & 0x70:  # a count is stored as is
        return None
    decoded = _eh_pointer(head, pos, head[2], hdr_address)
    if decoded is None:
        return None
    count, pos = decoded
    if not 0 < count <= MAX_EH_FRAME // 8:
        return None
    return read_code(space, hdr_address + pos, count * 8)
