"""Format detection by magic bytes (the first bytes of the file, never its extension)."""
from __future__ import annotations

import os

from dumpkit.errors import DumpIOError, UnknownFormatError

__all__ = ["FORMATS", "detect", "sniff"]

#: format name -> reader module under dumpkit.readers
FORMATS = {
    "minidump": "windows_minidump",
    "windows_kernel_dump": "windows_crashdump",
    "elf_core": "elf_core",
    "kdump_compressed": "kdump",
    "makedumpfile_flattened": "kdump",
}

_ELF_MAGIC = b"\x7fELF"


def sniff(head: bytes) -> str | None:
    """Name the format of a file from its first 64 bytes, or ``None``."""
    if head[:4] == b"MDMP" or head[:4] == b"PMDM":
        return "minidump"
    if head[:8] in (b"PAGEDUMP", b"PAGEDU64"):
        return "windows_kernel_dump"
    if head[:4] == _ELF_MAGIC and len(head) >= 0x12:
        e_type = head[0x10:0x12]
        big = head[5:6] == b"\x02"
        if int.from_bytes(e_type, "big" if big else "little") == 4:  # ET_CORE
            return "elf_core"
        return None
    if head[:8] in (b"KDUMP   ", b"DISKDUMP"):
        return "kdump_compressed"
    if head[:16] == b"makedumpfile\0\0\0\0":
        return "makedumpfile_flattened"
    return None


def detect(path: str | os.PathLike[str]) -> str:
    """The format name of the file at ``path``; raises :class:`UnknownFormatError`."""
    p = os.fspath(path)
    try:  # a bare descriptor: a buffered file object costs twice as much, per dump
        fd = os.open(p, os.O_RDONLY)
        try:
            head = os.read(fd, 64)
        finally:
            os.close(fd)
    except OSError as exc:
        raise DumpIOError(f"cannot open: {exc.strerror or exc}", path=p) from exc
    fmt = sniff(head)
    if fmt is None:
        what = "an empty file" if not head else f"first bytes {head[:8].hex(' ')}"
        raise UnknownFormatError(f"not a dump format dumpkit reads ({what})", path=p,
                                 structure="magic", offset=0)
    return fmt
