"""Where symbols come from: Breakpad ``.sym`` trees and a sysroot of ELF binaries.

:class:`SymbolStore` is built once (``--symbols DIR``, ``--sysroot DIR``) and may serve many
dumps: parsed files are cached by path. Breakpad layout, as the symbol servers and
rust-minidump use it::

    DIR/NAME/DEBUG_ID/NAME.sym      NAME = basename of the module's debug file
                                   ("crasher", "app.pdb" -> "app.sym")

A sysroot holds the target's files under their absolute paths (``SYSROOT/usr/lib/...``);
a file is used only if its GNU build-id matches the module's (when both are known).

:class:`DumpSymbols` is the per-dump view the walker uses; it remembers which modules had
unusable symbol files so the dump gets one diagnostic for each.
"""
from __future__ import annotations

import os
from typing import TYPE_CHECKING

from dumpkit.model import Dump, Module
from dumpkit.symbols.breakpad import MAX_SYM_BYTES, Func, SymFile, parse_sym

if TYPE_CHECKING:  # pyelftools is imported only when a sysroot is used
    from dumpkit.symbols.elf import ElfImage

__all__ = ["DumpSymbols", "SymbolStore", "sym_path"]


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


def sym_path(root: str, module: Module) -> str | None:
    """``root/NAME/DEBUG_ID/NAME.sym`` for ``module``, or ``None`` without a debug id."""
    name = _basename(module.debug_file or "") or module.name
    if not name or not module.debug_id:
        return None
    leaf = name[:-4] + ".sym" if name.lower().endswith(".pdb") else name + ".sym"
    return os.path.join(root, name, module.debug_id.upper(), leaf)


class SymbolStore:
    """Symbol sources shared by every dump of a run (thread-unsafe; one per worker)."""

    def __init__(self, symbols_dir: str | None = None, sysroot: str | None = None) -> None:
        self.symbols_dir = symbols_dir
        self.sysroot = sysroot
        self._syms: dict[str, tuple[SymFile | None, str | None]] = {}
        self._elves: dict[str, tuple[ElfImage | None, str | None]] = {}

    def sym_file(self, module: Module) -> tuple[SymFile | None, str | None]:
        """The parsed ``.sym`` for ``module`` and a problem text, both ``None`` if there is none."""
        if not self.symbols_dir:
            return None, None
        path = sym_path(self.symbols_dir, module)
        if path is None:
            return None, None
        if path not in self._syms:
            self._syms[path] = _load_sym(path)
        return self._syms[path]

    def elf_image(self, module: Module) -> tuple[ElfImage | None, str | None]:
        if not self.sysroot or not module.path:
            return None, None
        for candidate in self._sysroot_candidates(module):
            if candidate not in self._elves:
                from dumpkit.symbols.elf import open_elf

                self._elves[candidate] = open_elf(candidate)
            image, problem = self._elves[candidate]
            if image is None:
                if problem is not None and os.path.exists(candidate):
                    return None, problem
                continue
            if module.build_id and image.build_id and image.build_id != module.build_id.lower():
                return None, BuildIdMismatch(f"{candidate}: build-id {image.build_id} does not match "
                                             f"the dump's {module.build_id}; not used")
            return image, None
        return None, None

    def _sysroot_candidates(self, module: Module) -> list[str]:
        assert self.sysroot is not None
        out = []
        path = module.path.replace("\\", "/")
        if path.startswith("/"):
            out.append(os.path.join(self.sysroot, path.lstrip("/")))
        out.append(os.path.join(self.sysroot, module.name))
        if module.build_id and len(module.build_id) > 2:
            bid = module.build_id.lower()
            out.append(os.path.join(self.sysroot, ".build-id", bid[:2], bid[2:] + ".debug"))
        return out

    def close(self) -> None:
        for image, _ in self._elves.values():
            if image is not None:
                image.close()
        self._elves.clear()


def _load_sym(path: str) -> tuple[SymFile | None, str | None]:
    try:
        size = os.path.getsize(path)
        if size > MAX_SYM_BYTES:
            return None, f"{path}: {size} bytes, larger than the {MAX_SYM_BYTES} byte limit"
        with open(path, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"
    sym = parse_sym(data)
    problem = None
    if sym.bad_lines:
        problem = (f"{path}: {sym.bad_lines} malformed line(s) skipped, first at line "
                   f"{sym.first_bad_line}")
    if sym.module is None and sym.empty:
        return None, problem or f"{path}: not a Breakpad symbol file"
    return sym, problem


class BuildIdMismatch(str):
    """A sysroot file whose build-id is not the one the dump recorded for the module."""


class DumpSymbols:
    """The symbol view of one dump: per-module lookups plus problems to report."""

    def __init__(self, store: SymbolStore, dump: Dump) -> None:
        self.store = store
        self.dump = dump
        self._reported: set[str] = set()
        self._syms: dict[int, SymFile | None] = {}
        self._elves: dict[int, ElfImage | None] = {}

    def _report(self, module: Module, problem: str | None) -> None:
        if problem and problem not in self._reported:
            self._reported.add(problem)
            code = "build_id_mismatch" if isinstance(problem, BuildIdMismatch) else "bad_symbols"
            self.dump.diag(code, str(problem), structure=f"symbols:{module.name}")

    def check_sysroot(self) -> None:
        """Compare every ELF module's build-id with its file in the sysroot (diagnostics)."""
        if not self.store.sysroot:
            return
        for module in self.dump.modules:
            if module.build_id:
                self.elf(module)

    def sym(self, module: Module) -> SymFile | None:
        key = id(module)
        if key not in self._syms:
            sym, problem = self.store.sym_file(module)
            self._report(module, problem)
            self._syms[key] = sym
        return self._syms[key]

    def elf(self, module: Module) -> ElfImage | None:
        key = id(module)
        if key not in self._elves:
            image, problem = self.store.elf_image(module)
            self._report(module, problem)
            self._elves[key] = image
        return self._elves[key]

    def has_function(self, module: Module, rva: int) -> bool | None:
        """Whether the module's ``.sym`` names a function at ``rva``; ``None`` without one."""
        sym = self.sym(module)
        if sym is None:
            return None
        func = sym.function(rva)
        if func is not None:
            return bool(func.name)
        public = sym.public(rva)
        return public is not None and bool(public[2])

    def lookup(self, module: Module, address: int) -> tuple[str, int, str | None, int | None] | None:
        """(function, offset, source file, line) for an address, ``.sym`` first, then ELF."""
        rva = address - module.base
        sym = self.sym(module)
        if sym is not None:
            func: Func | None = sym.function(rva)
            if func is not None:
                source, line = None, None
                hit = func.line_at(rva)
                if hit is not None:
                    line, source = hit[0], sym.files.get(hit[1])
                return func.name, rva - func.address, source, line
            public = sym.public(rva)
            if public is not None:
                return public[2], rva - public[0], None, None
        image = self.elf(module)
        if image is not None:
            found = image.symbol_at(address - image.bias_for(module))
            if found is not None:
                name, offset = found
                return name, offset, None, None
        return None
