"""The contract between symbol *sources* and symbol *contents*.

A source is asked for one module's file of one kind and answers with a :class:`Lookup`: the
local file (never modified by dumpkit; in a symbol dir, the sysroot or the cache) or nothing,
plus one line per problem met on the way (naming the source and the reason), which the
per-dump view turns into document diagnostics.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from dumpkit.model import Module

__all__ = ["FILE_KINDS", "FileKind", "Finder", "IdMismatch", "Located", "Lookup"]

#: What a located file is:
#: ``breakpad``   a Breakpad text symbol file (``NAME.sym``)
#: ``pdb``        a Microsoft PDB (by the module's debug file name and GUID+age)
#: ``pe``         a PE image (by code file name and TIMESTAMP+SIZEOFIMAGE): ``.pdata`` CFI
#: ``elf``        an ELF executable or library by build-id (``.eh_frame`` CFI, ``.symtab``)
#: ``elf_debug``  an ELF separate debug file by build-id or ``.gnu_debuglink`` (DWARF)
#: ``macho``      a Mach-O binary or dSYM companion by UUID
FileKind = Literal["breakpad", "pdb", "pe", "elf", "elf_debug", "macho"]
FILE_KINDS: tuple[FileKind, ...] = ("breakpad", "pdb", "pe", "elf", "elf_debug", "macho")


class IdMismatch(str):
    """A problem line: a file carries another id (PDB GUID+age, PE timestamp+size, ELF build-id)
    than the module's, so it is not used. Documents report those naming a build-id as
    ``build_id_mismatch``, others as ``bad_symbols``."""


@dataclass(frozen=True, slots=True)
class Located:
    """A local file holding ``kind`` symbols of a module; ``origin`` says where it came from
    (a symbol dir, a server URL, ``debuginfod <URL>``, ``sysroot``), for diagnostics."""

    path: str
    kind: FileKind
    origin: str


@dataclass(frozen=True, slots=True)
class Lookup:
    """The answer to one question: the file, if any, and the problems met (one line each,
    e.g. ``"https://symbols.example: timed out after 10 s"``)."""

    file: Located | None = None
    problems: tuple[str, ...] = ()


class Finder(Protocol):
    """Anything that can find a module's symbol files (a chain of sources, with a cache)."""

    def find(self, module: Module, kind: FileKind) -> Lookup:
        """The local file of ``kind`` for ``module``; never raises for missing or bad sources."""
        ...
