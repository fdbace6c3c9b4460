"""What a module's symbol file is looked up by, made safe: :class:`SymbolKey` and its layouts.

Module names and ids come from untrusted dumps. :func:`key_for` keeps only a name that is one
plain path component (no separators after taking the basename, no ``.``/``..``, no NUL or other
control/format characters, nothing that Unicode compatibility normalization turns into a
separator or a dot name, at most 255 UTF-8 bytes) and ids that are hex of the expected length;
anything else gets no key and one problem line. Every path and URL is made from these parts.

Layouts (relative paths, one tuple of components each)::

    breakpad   NAME/DEBUGID/NAME.sym        NAME = debug file basename; "app.pdb" -> "app.sym"
    pdb        NAME.pdb/DEBUGID/NAME.pdb    Microsoft symstore; compressed: NAME.pd_
    pe         NAME.exe/CODEID/NAME.exe     CODEID = %08X timestamp + %x SizeOfImage; NAME.ex_
    elf        .build-id/xx/rest            BUILDID/executable (debuginfod style)
    elf_debug  .build-id/xx/rest.debug      BUILDID/debuginfo

Names keep the case the module gives them and ids use the case Microsoft's ``symstore``
writes (GUID and age upper-case; timestamp upper-case, image size lower-case): servers on
case-sensitive storage hold the files under exactly those paths.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from dumpkit.model import Module
from dumpkit.symbols.locate import FileKind

__all__ = ["SymbolKey", "compressed_name", "key_for", "safe_component"]

MAX_NAME_BYTES = 255
_DEBUG_ID = re.compile(r"[0-9A-F]{32}[0-9A-F]{1,8}")
_CODE_ID = re.compile(r"([0-9A-F]{8})([0-9A-F]{1,8})")
_BUILD_ID = re.compile(r"(?:[0-9a-f]{2}){2,64}")


def safe_component(raw: str | None) -> str | None:
    """The basename of ``raw`` if it is safe as one path component and URL segment, else None."""
    if not raw:
        return None
    name = raw.replace("\\", "/").rsplit("/", 1)[-1]
    if not name or name in (".", "..") or len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        return None
    for ch in name:
        if unicodedata.category(ch)[0] == "C":  # control, format, surrogate, private, unassigned
            return None
    folded = unicodedata.normalize("NFKC", name)
    if "/" in folded or "\\" in folded or folded.strip(".") == "" or folded.strip() != folded:
        return None
    return name


def compressed_name(leaf: str) -> str:
    """The ``_``-compressed name symbol servers use: ``app.pdb`` -> ``app.pd_``."""
    return leaf[:-1] + "_"


@dataclass(frozen=True, slots=True)
class SymbolKey:
    """One file to find: ``kind``, the safe file ``name`` and the ``id`` it must carry."""

    kind: FileKind
    name: str  # the file's name in layouts ("app.pdb", "app.exe", "app.sym"); "" for build-ids
    id: str  # DEBUGID, CODEID or build-id, normalized as the layouts spell it
    dir_name: str = ""  # the first path component of name/id layouts ("app.pdb" for app.sym)

    def layouts(self) -> list[tuple[str, ...]]:
        """Relative paths of this file in every layout dumpkit knows, most specific first."""
        if self.kind in ("elf", "elf_debug"):
            bid = self.id
            if self.kind == "elf":
                return [(".build-id", bid[:2], bid[2:]), (bid, "executable")]
            return [(".build-id", bid[:2], bid[2:] + ".debug"), (bid, "debuginfo")]
        return [(self.dir_name, self.id, self.name)]

    def compressed(self) -> tuple[str, ...] | None:
        """The ``_``-compressed (CAB) path of a PDB or PE file, else None."""
        if self.kind in ("pdb", "pe"):
            return (self.dir_name, self.id, compressed_name(self.name))
        return None

    def cache_path(self) -> tuple[str, ...]:
        """Where the cache keeps this file (a layout of its own kind, so the cache is itself a
        symbol dir)."""
        return self.layouts()[-1]

    def __str__(self) -> str:
        return f"{self.kind} {self.name or 'build-id'} {self.id}"


def key_for(module: Module, kind: FileKind) -> tuple[SymbolKey | None, str | None]:
    """The key of ``module``'s ``kind`` file and a problem line; ``(None, None)`` when the module
    simply has no such file (no id of that kind)."""
    label = (module.name or "?")[:80]
    if kind in ("breakpad", "pdb"):
        if not module.debug_id:
            return None, None
        raw = module.debug_file or module.name
        if kind == "pdb" and not (raw or "").lower().endswith(".pdb"):
            return None, None
        name = safe_component(raw)
        if name is None:
            return None, f"module {label!r}: debug file name {raw[:80]!r} is not usable as a file name"
        debug_id = module.debug_id.upper()
        if not _DEBUG_ID.fullmatch(debug_id):
            return None, f"module {label!r}: debug id {module.debug_id[:80]!r} is not GUID+age hex"
        if kind == "pdb":
            return SymbolKey("pdb", name, debug_id, name), None
        leaf = (name[:-4] if name.lower().endswith(".pdb") else name) + ".sym"
        return SymbolKey("breakpad", leaf, debug_id, name), None
    if kind == "pe":
        if not module.code_id or module.build_id:
            return None, None
        name = safe_component(module.path)
        match = _CODE_ID.fullmatch(module.code_id.upper())
        if name is None:
            return None, f"module {label!r}: code file name {module.path[:80]!r} is not usable as a file name"
        if match is None:
            return None, f"module {label!r}: code id {module.code_id[:80]!r} is not TIMESTAMP+SIZE hex"
        code_id = match.group(1) + match.group(2).lower()
        return SymbolKey("pe", name, code_id, name), None
    if kind in ("elf", "elf_debug"):
        if not module.build_id:
            return None, None
        bid = module.build_id.lower()
        if not _BUILD_ID.fullmatch(bid):
            return None, f"module {label!r}: build-id {module.build_id[:80]!r} is not hex"
        return SymbolKey(kind, "", bid), None
    return None, None  # macho: no source layout yet
