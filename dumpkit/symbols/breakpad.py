"""Breakpad text symbol files (``.sym``): functions, lines, publics and unwind rules.

Record types read (one per line, fields separated by single spaces):

* ``MODULE os arch debug_id name``; ``INFO ...`` (ignored)
* ``FILE number name``
* ``FUNC [m] address size parameter_size name`` followed by line records
  ``address size line file_number`` (hex, hex, decimal, decimal)
* ``PUBLIC [m] address parameter_size name``
* ``STACK CFI INIT address size rules`` and ``STACK CFI address rules`` (deltas for the
  preceding INIT), rules being ``REG: postfix-expression`` pairs
* ``STACK WIN type rva code_size prologue_size epilogue_size parameter_size
  saved_register_size local_size max_stack_size has_program_string (program_string |
  allocates_base_pointer)`` — type 4 (FrameData, with a program string) and 0 (FPO)
* ``INLINE``/``INLINE_ORIGIN`` are only noted (:attr:`SymFile.has_inlines`): inline chains
  of a ``.sym`` file are read through symbolic (``dumpkit.symbols.native``).

Addresses are relative to the module's load address. A line that does not parse is
counted and skipped (:attr:`SymFile.bad_lines`); the caller turns that into a diagnostic.
Parsing happens once per file, when a frame first needs it (see ``symbols.SymbolStore``).
"""
from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["CfiEntry", "Func", "SymFile", "WinInfo", "numbered_lines", "parse_sym"]

#: Files bigger than this are not parsed (a diagnostic says so).
MAX_SYM_BYTES = 1 << 30


@dataclass(slots=True)
class Func:
    """A FUNC record of a Breakpad symbol file, with its line records."""

    address: int
    size: int
    parameter_size: int
    name: str
    lines: list[tuple[int, int, int, int]] = field(default_factory=list)  # addr, size, line, file

    def line_at(self, rva: int) -> tuple[int, int] | None:
        """(line, file number) of the line record covering ``rva``."""
        lines = self.lines
        lo, hi = 0, len(lines)
        while lo < hi:
            mid = (lo + hi) // 2
            if lines[mid][0] <= rva:
                lo = mid + 1
            else:
                hi = mid
        if lo and rva < lines[lo - 1][0] + lines[lo - 1][1]:
            return lines[lo - 1][2], lines[lo - 1][3]
        return None


@dataclass(slots=True)
class CfiEntry:
    """A STACK CFI INIT record and the STACK CFI deltas that follow it."""

    address: int
    size: int
    rules: str
    deltas: list[tuple[int, str]] = field(default_factory=list)

    def rules_at(self, rva: int) -> list[str]:
        """The INIT rules then every delta at or before ``rva``, in file order."""
        return [self.rules, *(rules for address, rules in self.deltas if address <= rva)]


@dataclass(slots=True)
class WinInfo:
    """A STACK WIN record: the frame facts of a 32-bit Windows function (FPO or frame data)."""

    type: int
    address: int
    size: int
    prologue_size: int
    epilogue_size: int
    parameter_size: int
    saved_register_size: int
    local_size: int
    max_stack_size: int
    program: str | None  # FrameData program string
    allocates_base_pointer: bool  # FPO


class _Ranges:
    """Sorted, possibly overlapping ``(address, size, value)`` ranges with a covering lookup."""

    def __init__(self, items: list[tuple[int, int, object]]) -> None:
        items.sort(key=lambda item: item[0])
        self.items = items
        self.starts = [item[0] for item in items]

    def covering(self, rva: int) -> object | None:
        i = bisect_right(self.starts, rva) - 1
        for j in range(i, max(-1, i - 8), -1):  # a few overlaps at most
            start, size, value = self.items[j]
            if start <= rva < start + size:
                return value
        return None


class SymFile:
    """A parsed ``.sym`` file; lookups take module-relative addresses (RVAs)."""

    def __init__(self) -> None:
        self.module: tuple[str, str, str, str] | None = None  # os, arch, debug id, name
        self.files: dict[int, str] = {}
        self.bad_lines = 0
        self.first_bad_line: int | None = None
        self.has_inlines = False  # INLINE records present (see the module doc)
        self._funcs: list[Func] = []
        self._publics: list[tuple[int, int, str]] = []
        self._cfi: list[CfiEntry] = []
        self._win: dict[int, list[WinInfo]] = {4: [], 0: []}
        self._func_ranges = _Ranges([])
        self._func_starts: list[int] = []
        self._public_starts: list[int] = []
        self._cfi_ranges = _Ranges([])
        self._win_ranges: dict[int, _Ranges] = {}

    def _finish(self) -> None:
        if self.module is None:  # a file without its MODULE line counts one bad line
            self._bad(1)
        self._funcs.sort(key=lambda f: f.address)
        for func in self._funcs:
            func.lines.sort()
        self._func_ranges = _Ranges([(f.address, f.size, f) for f in self._funcs])
        self._func_starts = self._func_ranges.starts
        self._publics.sort()
        self._public_starts = [p[0] for p in self._publics]
        self._cfi_ranges = _Ranges([(c.address, c.size, c) for c in self._cfi])
        self._win_ranges = {t: _Ranges([(w.address, w.size, w) for w in infos])
                            for t, infos in self._win.items()}

    # -- lookups -----------------------------------------------------------------------
    @property
    def empty(self) -> bool:
        return not (self._funcs or self._publics or self._cfi or any(self._win.values()))

    def function(self, rva: int) -> Func | None:
        value = self._func_ranges.covering(rva)
        return value if isinstance(value, Func) else None

    def public(self, rva: int) -> tuple[int, int, str] | None:
        """The nearest PUBLIC at or before ``rva`` unless a FUNC starts between them."""
        i = bisect_right(self._public_starts, rva) - 1
        if i < 0:
            return None
        public = self._publics[i]
        # Like rust-minidump: a FUNC that starts after the PUBLIC and before rva ends it.
        j = bisect_right(self._func_starts, rva) - 1
        if j >= 0 and self._func_starts[j] != rva and public[0] <= self._func_starts[j]:
            return None
        return public

    def cfi(self, rva: int) -> list[str] | None:
        value = self._cfi_ranges.covering(rva)
        return value.rules_at(rva) if isinstance(value, CfiEntry) else None

    def win(self, rva: int) -> WinInfo | None:
        """STACK WIN covering ``rva``: FrameData (type 4) preferred over FPO (type 0)."""
        for kind in (4, 0):
            ranges = self._win_ranges.get(kind)
            value = ranges.covering(rva) if ranges else None
            if isinstance(value, WinInfo):
                return value
        return None

    def parameter_size(self, rva: int) -> int | None:
        win = self.win(rva)
        if win is not None:
            return win.parameter_size
        func = self.function(rva)
        return func.parameter_size if func else None

    # -- parsing -----------------------------------------------------------------------
    def _bad(self, number: int) -> None:
        self.bad_lines += 1
        if self.first_bad_line is None:
            self.first_bad_line = number

    def _parse_line(self, line: str, number: int, state: dict[str, object]) -> None:
        head = line[:6]
        if head.startswith("FUNC "):
            parts = _record_fields(line, 4)
            if len(parts) < 4:
                raise ValueError("short FUNC")
            func = Func(int(parts[1], 16), int(parts[2], 16), int(parts[3], 16),
                        parts[4] if len(parts) > 4 else "")
            self._funcs.append(func)
            state["func"] = func
        elif head.startswith("FILE "):
            _, number_s, name = line.split(" ", 2)
            self.files[int(number_s)] = name
        elif head.startswith("PUBLIC"):
            parts = _record_fields(line, 3)
            if len(parts) < 3:
                raise ValueError("short PUBLIC")
            self._publics.append((int(parts[1], 16), int(parts[2], 16),
                                  parts[3] if len(parts) > 3 else ""))
            state["func"] = None
        elif head.startswith("STACK "):
            self._parse_stack(line, state)
        elif head.startswith(("MODULE", "INFO", "INLINE")):
            if head.startswith("MODULE"):
                parts = line.split(" ", 4)
                if len(parts) != 5:
                    raise ValueError("bad MODULE")
                self.module = (parts[1], parts[2], parts[3], parts[4])
            elif head.startswith("INLINE"):
                self.has_inlines = True
            else:
                state["func"] = None
        else:
            _add_line_record(line, state)

    def _parse_stack(self, line: str, state: dict[str, object]) -> None:
        if line.startswith("STACK CFI INIT "):
            _, _, _, address, size, rules = line.split(" ", 5)
            entry = CfiEntry(int(address, 16), int(size, 16), rules)
            self._cfi.append(entry)
            state["cfi"] = entry
        elif line.startswith("STACK CFI "):
            _add_cfi_delta(line, state)
        elif line.startswith("STACK WIN "):
            parts = line.split(" ", 12)
            if len(parts) < 13:
                raise ValueError("short STACK WIN")
            kind = int(parts[2], 16)
            nums = [int(p, 16) for p in parts[3:11]]
            has_program = parts[11] != "0"
            if kind not in self._win:
                return  # types 1-3 (trap, TSS, standard) carry nothing usable
            info = WinInfo(kind, nums[0], nums[1], nums[2], nums[3], nums[4], nums[5], nums[6],
                           nums[7], parts[12] if has_program else None,
                           (not has_program) and parts[12].strip() not in ("0", ""))
            if kind == 4 and info.program is None:
                raise ValueError("FrameData without program string")
            self._win[kind].append(info)
        else:
            raise ValueError("unknown STACK record")


def parse_sym(data: bytes) -> SymFile:
    """Parse a whole ``.sym`` file; never raises on bad content (see ``bad_lines``)."""
    sym = SymFile()
    state: dict[str, object] = {}
    for number, line in numbered_lines(data):
        try:
            # line records and STACK CFI deltas are most of a big file: straight to their reader
            if line[0] in _LINE_RECORD_START:
                _add_line_record(line, state)
            elif line.startswith("STACK CFI ") and not line.startswith("STACK CFI INIT "):
                _add_cfi_delta(line, state)
            else:
                sym._parse_line(line, number, state)
        except (ValueError, IndexError):
            sym._bad(number)
    sym._finish()
    return sym


def numbered_lines(data: bytes) -> Iterator[tuple[int, str]]:
    """The non-empty lines of a ``.sym`` file's bytes, with their 1-based line numbers."""
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
        line = line.rstrip("\r")
        if line:
            yield number, line


def _add_line_record(line: str, state: dict[str, object]) -> None:
    """``address size line file_number``, to the FUNC it follows (``ValueError`` if none)."""
    current, parts = state.get("func"), line.split(" ")
    if not isinstance(current, Func) or len(parts) != 4:
        raise ValueError("stray line record")
    current.lines.append((int(parts[0], 16), int(parts[1], 16), int(parts[2]), int(parts[3])))


def _add_cfi_delta(line: str, state: dict[str, object]) -> None:
    """``STACK CFI address rules``, to the INIT it follows (``ValueError`` if none)."""
    _, _, address, rules = line.split(" ", 3)
    entry = state.get("cfi")
    if not isinstance(entry, CfiEntry):
        raise ValueError("STACK CFI without INIT")
    entry.deltas.append((int(address, 16), rules))


#: First characters of a line record (a lower-case hex address); every other record starts
#: with an upper-case keyword.
_LINE_RECORD_START = frozenset("0123456789abcdef")


def _record_fields(line: str, maxsplit: int) -> list[str]:
    """A FUNC / PUBLIC record split into fields, without its optional ``m`` (multiple) flag."""
    parts = line.split(" ", maxsplit)
    if len(parts) > 1 and parts[1] == "m":
        parts = line.split(" ", maxsplit + 1)
        del parts[1]
    return parts
