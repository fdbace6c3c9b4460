"""parse_sym's fast paths (line records, STACK CFI deltas: most of a big ``.sym`` file) read
every line as the general record dispatcher (``SymFile._parse_line``) does: same records, same
bad-line count and first bad line, on tricky and on randomly damaged files."""
from __future__ import annotations

import random

from dumpkit.symbols.breakpad import SymFile, numbered_lines, parse_sym

VALID = """MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 t.so
INFO CODE_ID 0123
FILE 0 /src/a.c
FILE 1 /src/b.c
FUNC 1000 30 0 main
1000 10 7 0
1010 10 8 1
1020 10 9 0
FUNC m 1030 20 4 other(int)
1030 20 12 1
PUBLIC 1050 0 pub
PUBLIC m 1060 8 pub2
STACK CFI INIT 1000 30 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI 1001 .cfa: $rsp 16 +
STACK CFI 1004 .cfa: $rbp 16 + $rbp: .cfa -16 + ^
STACK WIN 4 1000 30 4 0 8 0 10 0 1 $T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ =
STACK WIN 0 1030 20 1 0 4 0 0 0 0 1
"""

TRICKY = [
    "1000 10 7 0",                 # a line record before any FUNC: stray
    "ABCD 10 7 0",                 # upper-case hex: not the fast path, still a line record
    "1000 10 7",                   # short
    "1000 10 7 0 9",               # long
    "10zz 10 7 0",                 # bad hex
    "0x10 4 1 0",                  # int() accepts the prefix
    "1_0 4 1 0",                   # and underscores
    "STACK CFI 1001 .cfa: $rsp 16 +",   # a delta before any INIT
    "STACK CFI 1001",              # short delta
    "STACK CFI zz .cfa: $rsp 8 +",  # bad address
    "STACK CFI INIT 1000 30 .cfa: $rsp 8 +",
    "STACK CFI  1001 rules",       # two spaces
    "PUBLIC 1070 0 after",
    "1070 4 1 0",                  # a line record after a PUBLIC: stray
    "FUNC 2000 10 0 f",
    "2000 10 1 0\r",
    "",
    "  ",
    "STACK WIN 4 1000 30",
    "INLINE 0 1 2 3",
    "bogus",
]


def _reference(data: bytes) -> SymFile:
    """Every line through the general dispatcher, as parse_sym did before its fast paths."""
    sym = SymFile()
    state: dict[str, object] = {}
    for number, line in numbered_lines(data):
        try:
            sym._parse_line(line, number, state)
        except (ValueError, IndexError):
            sym._bad(number)
    sym._finish()
    return sym


def _facts(sym: SymFile) -> tuple[object, ...]:
    return (sym.module, sym.files, sym.bad_lines, sym.first_bad_line, sym.has_inlines,
            [(f.address, f.size, f.parameter_size, f.name, f.lines) for f in sym._funcs],
            sym._publics, [(c.address, c.size, c.rules, c.deltas) for c in sym._cfi],
            {kind: [(w.address, w.size, w.program) for w in infos] for kind, infos in sym._win.items()})


def test_tricky_lines_read_as_the_dispatcher_reads_them() -> None:
    for position in range(len(VALID.splitlines()) + 1):
        for line in TRICKY:
            lines = VALID.splitlines()
            lines.insert(position, line)
            data = "\n".join(lines).encode()
            assert _facts(parse_sym(data)) == _facts(_reference(data)), (position, line)


def test_damaged_files_read_as_the_dispatcher_reads_them() -> None:
    rng = random.Random(5)
    base = VALID.encode()
    for _ in range(3000):
        data = bytearray(base)
        for _ in range(rng.randint(1, 6)):
            at = rng.randrange(len(data))
            data[at:at + 1] = bytes([rng.choice(b"0123456789abcdefABCDEF \n\r\tSTACKFUNCm-+.xz_")])
        assert _facts(parse_sym(bytes(data))) == _facts(_reference(bytes(data))), bytes(data)
