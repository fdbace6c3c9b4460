"""Native debug files through Sentry's ``symbolic``: names, lines, inline chains and CFI.

One :class:`NativeFile` is one object of a PDB, PE, ELF (executable or separate debug
file), Mach-O/dSYM or Breakpad ``.sym`` file, chosen to match the module (its id, then its
CPU). It answers two questions, both lazily and once per file:

* :meth:`NativeFile.lookup` — a module-relative address (RVA) to the function holding its
  machine code, the offset into it, the source line, and the functions inlined there
  (symbolic's ``SymCache``: innermost location first, the physical function last);
* :meth:`NativeFile.stack_records` — the file's call frame information as Breakpad
  ``STACK CFI`` / ``STACK WIN`` records (symbolic's ``CfiCache``, whose v1 body is Breakpad
  text): DWARF ``.eh_frame``/``.debug_frame`` of ELF files, x64 ``.pdata``/unwind info of
  PE files, FPO/FrameData of x86 PDBs. They are parsed by :mod:`dumpkit.symbols.breakpad`
  so the walker's Breakpad evaluator runs them as it runs ``.sym`` files.

RVAs are relative to the module's load address, as symbolic's are to the object's
(PE: image base; ELF: the first ``PT_LOAD``'s page), so ``address - module.base`` works
for both. Anything symbolic rejects becomes a problem text, never an exception.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from dumpkit.model import InlineFrame, Module
from dumpkit.symbols.breakpad import SymFile, parse_sym
from dumpkit.symbols.identity import object_problem
from dumpkit.symbols.keys import key_for
from dumpkit.symbols.locate import FileKind, IdMismatch

__all__ = ["MAX_NATIVE_BYTES", "NativeFile", "Symbolized", "open_native"]

#: Files bigger than this are not read (a diagnostic says so); PDBs of big products reach GBs.
MAX_NATIVE_BYTES = 4 << 30
#: symbolic's "no address" marker for inline locations (they have no function start).
_NO_ADDRESS = 0xFFFFFFFF
_CFI_HEADER = b"CFIC"


@dataclass(frozen=True, slots=True)
class Symbolized:
    """What symbols say about one address of a module."""

    function: str | None
    function_offset: int | None
    source_file: str | None = None
    source_line: int | None = None
    inlined: tuple[InlineFrame, ...] = ()


def _why(exc: Exception) -> str:
    """symbolic's error text on one line (it chains causes over several)."""
    return " ".join(str(exc).split())


class NativeFile:
    """One object of a native debug file; lookups take RVAs (see module doc)."""

    def __init__(self, path: str, kind: FileKind, obj: Any) -> None:
        self.path, self.kind = path, kind
        self._obj = obj
        self.features: frozenset[str] = frozenset(obj.features)
        self.debug_id: str | None = obj.debug_id
        self.code_id: str | None = obj.code_id
        self._symcache: Any = None
        self._stack: SymFile | None = None
        self.problems: list[str] = []

    @property
    def has_names(self) -> bool:
        return bool(self.features & {"debug", "symtab"})

    @property
    def has_debug_info(self) -> bool:
        """Full debug info (every function, with lines): a scan candidate it does not cover is
        not a return address."""
        return "debug" in self.features

    def _cache(self) -> Any:
        if self._symcache is None:
            try:
                self._symcache = self._obj.make_symcache()
            except Exception as exc:  # symbolic raises its own SymbolicError family
                self.problems.append(f"{self.path}: cannot read symbols: {_why(exc)}")
                self._symcache = False
        return self._symcache or None

    def lookup(self, rva: int) -> Symbolized | None:
        """The function, line and inline chain at ``rva`` (``None`` if no function covers it)."""
        if rva < 0 or not self.has_names:
            return None
        cache = self._cache()
        if cache is None:
            return None
        try:
            locations = cache.lookup(rva)
        except Exception as exc:
            self.problems.append(f"{self.path}: lookup of {rva:#x} failed: {_why(exc)}")
            return None
        if not locations:
            return None
        outer = locations[-1]
        inlined = tuple(InlineFrame(loc.symbol or None, loc.full_path or None, loc.line or None)
                        for loc in locations[:-1])
        start = outer.sym_addr if outer.sym_addr not in (None, _NO_ADDRESS) else None
        return Symbolized(outer.symbol or None, None if start is None else rva - start,
                          outer.full_path or None, outer.line or None, inlined)

    def covers(self, rva: int) -> bool:
        return self.lookup(rva) is not None

    def stack_records(self) -> SymFile | None:
        """The file's CFI as parsed Breakpad STACK records (``None`` when it has none; always
        for ``.sym`` files, whose records dumpkit's own parser reads with the rest)."""
        if self.kind == "breakpad":
            return None
        if self._stack is None:
            self._stack = self._load_stack() or SymFile()
        return None if self._stack.empty else self._stack

    def _load_stack(self) -> SymFile | None:
        try:
            from symbolic.cfi import CfiCache

            data = CfiCache.from_object(self._obj).open_stream().read()
        except Exception as exc:
            self.problems.append(f"{self.path}: cannot read call frame information: {_why(exc)}")
            return None
        if data.startswith(_CFI_HEADER):  # a future binary CFI cache: not Breakpad text
            self.problems.append(f"{self.path}: unsupported CFI cache format")
            return None
        return parse_sym(data)


def open_native(path: str, kind: FileKind, module: Module,
                arch: str | None = None) -> tuple[NativeFile | None, str | None]:
    """The object of ``path`` that belongs to ``module`` or ``(None, problem)``."""
    import os

    try:
        size = os.path.getsize(path)
    except OSError as exc:
        return None, f"{path}: cannot read: {exc.strerror or exc}"
    if size > MAX_NATIVE_BYTES:
        return None, f"{path}: {size} bytes, larger than the {MAX_NATIVE_BYTES} byte limit"
    try:
        from symbolic.debuginfo import Archive

        objects = list(Archive.open(path).iter_objects())
    except Exception as exc:
        return None, f"{path}: not a usable {kind} file ({_why(exc)})"
    # the object carrying the module's id (dumpkit.symbols.identity); without an id to
    # compare (no key), the first object for the module's CPU
    key, _ = key_for(module, kind)
    mismatch: str | None = None
    fallback = None
    for obj in objects:
        if key is not None:
            problem = object_problem(obj, key)
            if problem is None:
                return NativeFile(path, kind, obj), None
            mismatch = IdMismatch(f"{path}: {problem} is not the module's {key.id}; not used")
            continue
        if fallback is None and (arch is None or _same_arch(obj.arch, arch)):
            fallback = obj
    if fallback is not None:
        return NativeFile(path, kind, fallback), None
    return None, mismatch or f"{path}: no object for this module's CPU"


def _same_arch(symbolic_arch: str, cpu_arch: str) -> bool:
    names = {"amd64": ("x86_64",), "x86": ("x86",), "arm64": ("arm64", "arm64e"), "arm": ("arm",)}
    return any(symbolic_arch.startswith(n) for n in names.get(cpu_arch, (cpu_arch,)))
