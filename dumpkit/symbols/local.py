"""A :class:`~dumpkit.symbols.locate.Finder` over local paths: a Breakpad dir, a sysroot, files.

This is the small, local source the contents side needs on its own (``--symbols DIR``,
``--sysroot DIR``, and explicit native files in tests); symbol servers, debuginfod,
symstore/build-id dirs and the shared cache are other finders of the same contract.

* ``breakpad``: ``DIR/NAME/DEBUG_ID/NAME.sym`` (NAME = the debug file's base name,
  ``app.pdb`` -> ``app.sym``), as rust-minidump and the Breakpad symbol servers lay it out;
* ``elf``: the module's path (then its name) under the sysroot;
* ``elf_debug``: ``SYSROOT/.build-id/xx/rest.debug``, then
  ``SYSROOT/usr/lib/debug/.build-id/xx/rest.debug`` (where distributions install them);
* any kind: one of ``files``, when the file's own id (PDB GUID+age, PE timestamp+size,
  ELF build-id) is the module's — read once, at construction, with symbolic.

Module names and ids come from untrusted dumps: a name is reduced to its base name and a
path that leaves the root (``..``, NUL, over-long) is never formed.
"""
from __future__ import annotations

import os
from collections.abc import Iterable

from dumpkit.model import Module
from dumpkit.symbols.locate import FileKind, Located, Lookup
from dumpkit.symbols.native import ids_match

__all__ = ["LocalFinder", "safe_name", "sym_path"]

_MAX_NAME = 255


def safe_name(name: str | None) -> str | None:
    """The base name of ``name`` if it is a usable single path component, else ``None``."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    if not base or base in (".", "..") or "\0" in base or len(base.encode("utf-8", "replace")) > _MAX_NAME:
        return None
    return base


def _safe_id(value: str | None) -> str | None:
    return value.upper() if value and value.isalnum() and len(value) <= 80 else None


def sym_path(root: str, module: Module) -> str | None:
    """``root/NAME/DEBUG_ID/NAME.sym`` for ``module``, or ``None`` without a usable name and id."""
    name = safe_name(module.debug_file) or safe_name(module.name)
    debug_id = _safe_id(module.debug_id)
    if not name or not debug_id:
        return None
    leaf = name[:-4] + ".sym" if name.lower().endswith(".pdb") else name + ".sym"
    return os.path.join(root, name, debug_id, leaf)


class LocalFinder:
    """Finds symbol files under a Breakpad dir, a sysroot, and among explicit files."""

    def __init__(self, symbols_dir: str | None = None, sysroot: str | None = None,
                 files: Iterable[str] = ()) -> None:
        self.symbols_dir = symbols_dir
        self.sysroot = sysroot
        self._files: list[tuple[str, FileKind, str | None, str | None]] = []
        self.problems: list[str] = []
        for path in files:
            self._index(path)

    def _index(self, path: str) -> None:
        try:
            from symbolic.debuginfo import Archive

            objects = list(Archive.open(path).iter_objects())
        except Exception as exc:  # symbolic's SymbolicError family, OSError
            self.problems.append(f"{path}: not a symbol file symbolic reads ({' '.join(str(exc).split())})")
            return
        for obj in objects:
            fmt = obj.file_format
            kind: FileKind = ("pdb" if fmt == "pdb" else "pe" if fmt == "pe" else
                              "breakpad" if fmt == "breakpad" else "macho" if fmt == "macho" else
                              "elf_debug" if fmt == "elf" and obj.kind == "dbg" else "elf")
            self._files.append((path, kind, obj.debug_id, obj.code_id))
            if fmt == "elf" and obj.kind != "dbg" and "debug" in obj.features:
                # an unstripped ELF is its own debug file
                self._files.append((path, "elf_debug", obj.debug_id, obj.code_id))

    def find(self, module: Module, kind: FileKind) -> Lookup:
        """The file of ``kind`` for ``module``; unreadable explicit files come as problems."""
        found = self._find(module, kind)
        return Lookup(found.file, tuple(self.problems)) if self.problems else found

    def _find(self, module: Module, kind: FileKind) -> Lookup:
        for path, file_kind, debug_id, code_id in self._files:
            if file_kind == kind and ids_match(module, kind, debug_id, code_id):
                return Lookup(Located(path, kind, "file"))
        if kind == "breakpad" and self.symbols_dir:
            sym = sym_path(self.symbols_dir, module)
            if sym is not None and os.path.isfile(sym):
                return Lookup(Located(sym, kind, self.symbols_dir))
        if kind in ("elf", "elf_debug") and self.sysroot:
            for path in self.sysroot_candidates(module):
                by_build_id = os.sep + ".build-id" + os.sep in path
                if by_build_id == (kind == "elf_debug") and os.path.isfile(path):
                    return Lookup(Located(path, kind, "sysroot"))
        return Lookup()

    def sysroot_candidates(self, module: Module) -> list[str]:
        """Where a module's ELF file may sit in the sysroot: its path, its name, its build-id."""
        if not self.sysroot:
            return []
        out = []
        path = (module.path or "").replace("\\", "/")
        parts = [p for p in path.split("/") if p]
        if path.startswith("/") and parts and ".." not in parts and "\0" not in path:
            out.append(os.path.join(self.sysroot, *parts))
        name = safe_name(module.name)
        if name:
            out.append(os.path.join(self.sysroot, name))
        bid = (module.build_id or "").lower()
        if len(bid) > 2 and all(c in "0123456789abcdef" for c in bid):
            out.append(os.path.join(self.sysroot, ".build-id", bid[:2], bid[2:] + ".debug"))
            # where distributions install debug files (gdb's debug-file-directory)
            out.append(os.path.join(self.sysroot, "usr", "lib", "debug", ".build-id", bid[:2],
                                    bid[2:] + ".debug"))
        return out
