"""What a run's symbol files say, per module: :class:`SymbolStore` and the per-dump :class:`DumpSymbols`.

:class:`SymbolStore` is built once per run from a :class:`~dumpkit.symbols.config.SymbolConfig`
(:meth:`SymbolStore.from_config`: symbol dirs, servers, debuginfod, the cache, ``--offline``,
``--sysroot``, all through one :class:`~dumpkit.symbols.finder.SymbolFinder`; tests may give any
other :class:`~dumpkit.symbols.locate.Finder`) and may serve many dumps: every file is opened
and parsed once, cached by path. Per module it holds, when the finder has them:

* the Breakpad ``.sym`` file (names, lines, ``STACK CFI``/``STACK WIN``), parsed by
  :mod:`dumpkit.symbols.breakpad`;
* native files read through symbolic (:mod:`dumpkit.symbols.native`): the PDB, the
  separate ELF debug file or the dSYM (names, lines, inline chains, x86 STACK WIN), and the
  executable itself (PE unwind info, ELF ``.eh_frame``, ``.symtab``);
* the ELF file the finder found in the sysroot (its build-id checked by the finder) through
  pyelftools (:mod:`dumpkit.symbols.elf`): its DWARF CFI and symbols are the fallback when
  symbolic has no rows for an address. A module without a build-id gets the file at its
  path in the sysroot, unchecked (there is nothing to check it by).

:class:`DumpSymbols` is the per-dump view the walker uses; it remembers which modules had
unusable symbol files so the dump gets one diagnostic for each.
"""
from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from dumpkit.model import Dump, Module
from dumpkit.symbols.breakpad import MAX_SYM_BYTES, SymFile, parse_sym
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.locate import FileKind, Finder, IdMismatch
from dumpkit.symbols.native import NativeFile, Symbolized, open_native
from dumpkit.symbols.sources import Sysroot

if TYPE_CHECKING:  # pyelftools is imported only when a sysroot is used
    from dumpkit.symbols.elf import ElfImage

__all__ = ["NATIVE_KINDS", "DumpSymbols", "SymbolStore", "Symbolized"]
_T = TypeVar("_T")

#: Files read through symbolic, in the order their names are preferred: debug files (full
#: debug info: lines, inlines), then the Breakpad ``.sym`` file (symbolic reads its INLINE
#: records; its STACK records come from dumpkit's parser, see :meth:`SymbolStore.sym_file`),
#: then executables (symbol tables, unwind info).
NATIVE_KINDS: tuple[FileKind, ...] = ("pdb", "elf_debug", "macho", "breakpad", "elf", "pe")


class SymbolStore:
    """Symbol files shared by every dump of a run (thread-unsafe; one per worker)."""

    def __init__(self, finder: Finder, config: SymbolConfig | None = None) -> None:
        self.finder = finder
        self.config = config
        self.sysroot: Sysroot | None = Sysroot(config.sysroot) if config and config.sysroot else None
        self._syms: dict[str, tuple[SymFile | None, str | None]] = {}
        self._natives: dict[tuple[str, str], tuple[NativeFile | None, str | None]] = {}
        self._elves: dict[str, tuple[ElfImage | None, str | None]] = {}

    @classmethod
    def from_config(cls, config: SymbolConfig) -> SymbolStore:
        """The store of a run: every file through one SymbolFinder of ``config``."""
        from dumpkit.symbols.finder import SymbolFinder

        return cls(SymbolFinder(config), config)

    def sym_file(self, module: Module) -> tuple[SymFile | None, list[str]]:
        """The parsed ``.sym`` for ``module`` and the problems met."""
        found = self.finder.find(module, "breakpad")
        problems = list(found.problems)
        if found.file is None:
            return None, problems
        path = found.file.path
        if path not in self._syms:
            self._syms[path] = _load_sym(path)
        sym, problem = self._syms[path]
        return sym, problems + ([problem] if problem else [])

    def native_files(self, module: Module, arch: str | None) -> tuple[list[NativeFile], list[str]]:
        """The module's native files (see :data:`NATIVE_KINDS`) and the problems met."""
        out: list[NativeFile] = []
        problems: list[str] = []
        for kind in NATIVE_KINDS:
            found = self.finder.find(module, kind)
            problems.extend(found.problems)
            if found.file is None:
                continue
            key = (found.file.path, kind)
            if key not in self._natives:
                self._natives[key] = open_native(found.file.path, kind, module, arch)
            native, problem = self._natives[key]
            if problem:
                problems.append(problem)
            if native is not None and native not in out:
                out.append(native)
        return out, problems

    def elf_image(self, module: Module) -> tuple[ElfImage | None, list[str]]:
        """The module's ELF file in the sysroot, read by pyelftools, and the problems met."""
        if self.sysroot is None:
            return None, []
        problems: list[str] = []
        path = None
        for kind in ("elf", "elf_debug"):
            found = self.finder.find(module, kind)
            problems.extend(found.problems)
            if found.file is not None and found.file.origin == "sysroot":
                path = found.file.path
                break
        if path is None and not module.build_id:
            path = next((c for c in self.sysroot.candidates(module, "elf") if os.path.isfile(c)), None)
        if path is None:
            return None, problems
        if path not in self._elves:
            from dumpkit.symbols.elf import open_elf

            self._elves[path] = open_elf(path)
        image, problem = self._elves[path]
        return image, problems + ([problem] if problem else [])

    def close(self) -> None:
        for image, _ in self._elves.values():
            if image is not None:
                image.close()
        self._elves.clear()
        self._natives.clear()


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


class DumpSymbols:
    """The symbol view of one dump: per-module lookups plus problems to report."""

    def __init__(self, store: SymbolStore, dump: Dump) -> None:
        self.store = store
        self.dump = dump
        self._reported: set[str] = set()
        self._syms: dict[int, SymFile | None] = {}
        self._natives: dict[int, list[NativeFile]] = {}
        self._elves: dict[int, ElfImage | None] = {}

    def _report(self, module: Module, problem: str | None) -> None:
        if problem and problem not in self._reported:
            self._reported.add(problem)
            code = ("build_id_mismatch" if isinstance(problem, IdMismatch) and "build-id" in problem
                    else "bad_symbols")
            self.dump.diag(code, str(problem), structure=f"symbols:{module.name}")

    def check_sysroot(self) -> None:
        """Compare every ELF module's build-id with its file in the sysroot (diagnostics)."""
        if not self.store.sysroot:
            return
        for module in self.dump.modules:
            if module.build_id:
                self.elf(module)

    def sym(self, module: Module) -> SymFile | None:
        return self._once(self._syms, module, self.store.sym_file)

    def natives(self, module: Module) -> list[NativeFile]:
        return self._once(self._natives, module,
                          lambda m: self.store.native_files(m, self.dump.system.cpu_arch))

    def _native_problems(self, module: Module) -> None:
        for native in self.natives(module):
            while native.problems:
                self._report(module, native.problems.pop(0))

    def elf(self, module: Module) -> ElfImage | None:
        return self._once(self._elves, module, self.store.elf_image)

    def _once(self, memo: dict[int, _T], module: Module,
              fetch: Callable[[Module], tuple[_T, list[str]]]) -> _T:
        """``fetch(module)``'s answer, asked once per module of this dump; its problems are
        reported (once per module) as they come."""
        key = id(module)
        if key not in memo:
            answer, problems = fetch(module)
            for problem in problems:
                self._report(module, problem)
            memo[key] = answer
        return memo[key]

    def stack_records(self, module: Module) -> list[SymFile]:
        """Breakpad STACK records for the module: its ``.sym`` file's, then its native files'."""
        out = []
        sym = self.sym(module)
        if sym is not None:
            out.append(sym)
        for native in self.natives(module):
            records = native.stack_records()
            if records is not None:
                out.append(records)
        self._native_problems(module)
        return out

    def has_function(self, module: Module, rva: int) -> bool | None:
        """Whether symbols put a function at ``rva``; ``None`` when they cannot say.

        The ``.sym`` file decides when there is one (rust-minidump's rule); else native files
        with full debug info or CFI decide (Sentry symbolicator's rule: an address in a
        module whose debug info or CFI exists but does not cover it is not code).
        """
        sym = self.sym(module)
        if sym is not None:
            func = sym.function(rva)
            if func is not None:
                return bool(func.name)
            public = sym.public(rva)
            return public is not None and bool(public[2])
        natives = self.natives(module)
        judges = [n for n in natives if n.has_debug_info]
        if any(n.covers(rva) for n in judges):
            return True
        cfi = [records for n in natives if (records := n.stack_records()) is not None]
        if any(records.cfi(rva) is not None or records.win(rva) is not None for records in cfi):
            return True
        self._native_problems(module)
        return False if (judges or cfi) else None

    def lookup(self, module: Module, address: int) -> Symbolized | None:
        """Function, offset, source line and inline chain at ``address``: native debug files
        first (they carry inlines), then the ``.sym`` file, then the sysroot ELF's symbols."""
        rva = address - module.base
        sym = self.sym(module)
        for native in self.natives(module):
            if native.kind == "breakpad" and (sym is None or not sym.has_inlines):
                continue  # dumpkit's parse of the same .sym says all it says, faster per lookup
            found = native.lookup(rva)
            if found is not None and found.function:
                return found
        self._native_problems(module)
        if sym is not None:
            func = sym.function(rva)
            if func is not None:
                source, line = None, None
                hit = func.line_at(rva)
                if hit is not None:
                    line, source = hit[0], sym.files.get(hit[1])
                return Symbolized(func.name, rva - func.address, source, line)
            public = sym.public(rva)
            if public is not None:
                return Symbolized(public[2], rva - public[0])
        image = self.elf(module)
        if image is not None:
            hit_symbol = image.symbol_at(address - image.bias_for(module))
            if hit_symbol is not None:
                return Symbolized(hit_symbol[0], hit_symbol[1])
        return None
