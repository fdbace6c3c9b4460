"""The headers of an ELF image in a dump's memory, read with pyelftools' structures.

``ELFFile`` builds its set of structures anew for every file it opens, which costs about a
millisecond: more than everything else a reader or the unwinder does with a small image. The
structures depend only on the kind of file (byte order, class, and for the program header and
note layouts the type, machine and OS ABI), so :func:`structs_for` makes each set once per
process. :class:`ElfHeaders` is what the readers (build-id, soname, span) and the unwinder
(where ``.eh_frame_hdr`` is) use of ``ELFFile``: its structures, its stream and its header.
"""
from __future__ import annotations

from typing import IO, Any

from elftools.common.exceptions import ELFError
from elftools.common.utils import struct_parse
from elftools.elf.structs import ELFStructs

__all__ = ["ElfHeaders", "structs_for"]

_STRUCTS: dict[tuple[Any, ...], ELFStructs] = {}
#: kinds kept at most (a batch meets a handful; damaged headers could name thousands)
_MAX_KINDS = 64


def structs_for(little_endian: bool, elfclass: int, *header: Any) -> ELFStructs:
    """pyelftools' structures for ``(little_endian, elfclass)``, and with ``header`` (``e_type``,
    ``e_machine``, ``EI_OSABI`` as the ELF header parses them) the advanced ones too."""
    key = (little_endian, elfclass, *header)
    structs = _STRUCTS.get(key)
    if structs is None:
        structs = ELFStructs(little_endian=little_endian, elfclass=elfclass)
        structs.create_basic_structs()
        if header:
            structs.create_advanced_structs(*header)
        if len(_STRUCTS) < _MAX_KINDS:
            _STRUCTS[key] = structs
    return structs


class ElfHeaders:
    """The ELF header of the image a file-like ``stream`` starts with, as ``ELFFile(stream)``
    reads it (the same checks and the same errors), with structures from :func:`structs_for`.

    Offers what the callers use of ``ELFFile``: ``structs``, ``stream``, ``little_endian``,
    ``elfclass``, ``header`` and ``headers["e_type"]``-style item access; it is enough for
    ``elftools.elf.notes.iter_notes``.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream
        stream.seek(0)
        ident = stream.read(16)
        if ident[:4] != b"\x7fELF":
            raise ELFError(f"Magic number does not match: {ident[:4]!r}")
        if len(ident) < 16 or ident[4] not in (1, 2) or ident[5] not in (1, 2):
            raise ELFError(f"Invalid EI_CLASS / EI_DATA: {ident[4:6]!r}")
        self.elfclass = 32 * ident[4]
        self.little_endian = ident[5] == 1
        basic = structs_for(self.little_endian, self.elfclass)
        self.header = struct_parse(basic.Elf_Ehdr, stream, 0)
        self.structs = structs_for(self.little_endian, self.elfclass, self.header["e_type"],
                                   self.header["e_machine"], self.header["e_ident"]["EI_OSABI"])

    def __getitem__(self, name: str) -> Any:
        return self.header[name]
