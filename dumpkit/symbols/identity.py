"""Does a file carry the module's id? :func:`check_identity` answers with a reason when not.

Native files (PDB, PE, ELF) are read with Sentry's ``symbolic`` (``symbolic.debuginfo.Archive``:
``debug_id`` of a PDB is GUID+age, ``code_id`` of a PE is TIMESTAMP+SIZEOFIMAGE, of an ELF file
its GNU build-id); a Breakpad ``.sym`` file by its first line, ``MODULE os arch ID name``.
A file of another id, an executable asked for as a debug file (or the reverse), or something
that is not such a file at all is rejected: the reason names what was found.
"""
from __future__ import annotations

from typing import Any

from dumpkit.symbols.keys import SymbolKey

__all__ = ["check_identity", "object_problem"]

_MAX_HEADER = 64 * 1024
_FORMATS = {"pdb": "pdb", "pe": "pe", "elf": "elf", "elf_debug": "elf", "breakpad": "breakpad"}


def check_identity(path: str, key: SymbolKey) -> str | None:
    """``None`` if the file at ``path`` is ``key``'s file, else why not (one short phrase)."""
    if key.kind == "breakpad":
        return _check_sym(path, key)
    return _check_native(path, key)


def _check_sym(path: str, key: SymbolKey) -> str | None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(_MAX_HEADER)
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    parts = line.split(b" ", 4)
    if len(parts) < 4 or parts[0] != b"MODULE":
        return "not a Breakpad symbol file (no MODULE line)"
    found = parts[3].decode("ascii", "replace").upper()
    if found != key.id:
        return f"MODULE line has id {found[:48]}, not {key.id}"
    return None


def _normal_debug_id(debug_id: str) -> str:
    """symbolic's ``GUID-age`` as Breakpad writes it (symbolic leaves out an age of 0)."""
    hexed = debug_id.replace("-", "").upper()
    return hexed + "0" if len(hexed) == 32 else hexed


def _check_native(path: str, key: SymbolKey) -> str | None:
    from symbolic.debuginfo import Archive
    from symbolic.exceptions import SymbolicError

    want_format = _FORMATS[key.kind]
    try:
        archive = Archive.open(path)
        objects = list(archive.iter_objects())
    except SymbolicError as exc:
        return f"not a {want_format.upper()} file: {exc}"
    except OSError as exc:
        return f"cannot read: {exc.strerror or exc}"
    seen: list[str] = []
    for obj in objects:
        problem = object_problem(obj, key)
        if problem is None:
            return None
        seen.append(problem)
    if not seen:
        return f"not a {want_format.upper()} file"
    return f"has {', '.join(seen[:3])}, not {key.id}"


def object_problem(obj: Any, key: SymbolKey) -> str | None:
    """``None`` if symbolic's object ``obj`` (of ``Archive.iter_objects``) is ``key``'s, else what
    it is instead (``"debug id X"``, ``"build-id Y"``, ``"a pe file"``, ...)."""
    want_format = _FORMATS[key.kind]
    if obj.file_format != want_format:
        return f"a {obj.file_format} file"
    if key.kind in ("pdb", "breakpad"):
        found = _normal_debug_id(str(obj.debug_id))
        return None if found == key.id else f"debug id {found}"
    found = str(obj.code_id or "").lower()
    if found != key.id.lower():
        return f"{'build-id' if want_format == 'elf' else 'code id'} {found or 'none'}"
    if key.kind == "elf" and obj.kind == "dbg" and "unwind" not in set(obj.features):
        # symbolic calls every ELF executable without an interpreter "dbg" (static binaries, a
        # vmlinux); a debug-only companion (objcopy --only-keep-debug) is the one whose code and
        # .eh_frame are gone (NOBITS), so it has no unwind info
        return "a debug-only file, not the executable"
    if key.kind == "elf_debug" and "debug" not in set(obj.features):
        return "an ELF file without debug information"
    return None
