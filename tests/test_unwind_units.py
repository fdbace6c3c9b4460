"""Unit tests of the unwinder's pieces on hand-made inputs: postfix programs, .sym parsing,
Breakpad CFI and STACK WIN walks, Windows x64 unwind codes, call-site checks."""
from __future__ import annotations

import struct
from pathlib import Path

from dumpkit.memory import FileView, Segment, SegmentSpace
from dumpkit.model import Module
from dumpkit.symbols.breakpad import parse_sym
from dumpkit.unwind import SymbolStore, unwind_dump
from dumpkit.unwind.callsite import _arm64_call, _x86_call
from dumpkit.unwind.memory import StackMemory
from dumpkit.unwind.postfix import eval_cfi_rules, eval_win_program, parse_cfi_rules
from tests.symbol_servers import local_store
from tests.unwind_builders import make_dump, words

SYM = b"""MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app
INFO CODE_ID 0123
FILE 0 /src/app.c
FUNC 1000 40 0 crash_here
1000 10 5 0
1010 30 6 0
FUNC m 1040 20 8 caller(int)
1040 20 12 0
PUBLIC 2000 0 public_thing
FUNC 2100 10 0 after_public
PUBLIC 3000 4 last_public
STACK CFI INIT 1000 40 .cfa: $rsp 8 + .ra: .cfa -8 + ^
STACK CFI 1001 .cfa: $rsp 16 + $rbp: .cfa -16 + ^
STACK CFI 1004 .cfa: $rbp 16 +
"""


def test_sym_lookups() -> None:
    sym = parse_sym(SYM)
    assert sym.bad_lines == 0 and sym.module is not None
    func = sym.function(0x1015)
    assert func is not None and func.name == "crash_here" and func.line_at(0x1015) == (6, 0)
    assert sym.function(0x1045).name == "caller(int)"  # type: ignore[union-attr]
    assert sym.public(0x2050) == (0x2000, 0, "public_thing")
    assert sym.public(0x2150) is None  # a FUNC after the PUBLIC ends it (rust-minidump's rule)
    assert sym.public(0x3100) == (0x3000, 4, "last_public")
    assert sym.cfi(0x1002) == [".cfa: $rsp 8 + .ra: .cfa -8 + ^", ".cfa: $rsp 16 + $rbp: .cfa -16 + ^"]
    assert len(sym.cfi(0x1010) or []) == 3 and sym.cfi(0x1040) is None


def test_cfi_rules_evaluate() -> None:
    rules = parse_cfi_rules([".cfa: $rsp 8 + .ra: .cfa -8 + ^", ".cfa: $rsp 16 + $rbp: .cfa -16 + ^"])
    assert rules == {".cfa": "$rsp 16 +", ".ra": ".cfa -8 + ^", "rbp": ".cfa -16 + ^"}
    memory = {0x1008: 0xAAAA, 0x1000: 0xBBBB}
    out = eval_cfi_rules(rules, {"rsp": 0x1000}, memory.get, (1 << 64) - 1, lambda r: r)
    assert out == (0x1010, 0xAAAA, {"rbp": 0xBBBB})
    assert parse_cfi_rules(["$rax 8 +"]) is None
    assert eval_cfi_rules({".cfa": "$rsp 0 /", ".ra": "0"}, {"rsp": 1}, memory.get, 0xFF, str) is None


def test_win_program() -> None:
    memory = {20: 0x401000, 16: 0x55}
    out = eval_win_program("$T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =",
                           {"$ebp": 16, "$esp": 1600}, memory.get)
    assert out is not None and (out["$eip"], out["$ebp"], out["$esp"]) == (0x401000, 0x55, 24)
    assert eval_win_program("$eip 1 0 / =", {}, memory.get) is None
    assert eval_win_program("=$eip", {}, memory.get) is None


def _module() -> Module:
    return Module(base=0x400000, size=0x10000, path="/bin/app",
                  debug_id="0123456789ABCDEF0123456789ABCDEF0", debug_file="app")


def _store(tmp: Path, text: bytes) -> SymbolStore:
    folder = tmp / "syms" / "app" / "0123456789ABCDEF0123456789ABCDEF0"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "app.sym").write_bytes(text)
    return local_store(tmp / "syms")


def test_breakpad_cfi_walk_and_names(tmp_path: Path) -> None:
    # crash_here at 0x1020 (rbp-based: cfa = rbp + 16), called from caller() at 0x1045.
    stack_base = 0x7FFF0000
    stack = bytearray(0x100)
    stack[0x40:0x50] = words(0x7FFF00F0, 0x400000 + 0x1046)  # saved rbp, return address
    regs = {"rip": 0x401020, "rsp": stack_base, "rbp": stack_base + 0x40}
    dump = make_dump(tmp_path, arch="amd64", regs=regs,
                     segments={stack_base: bytes(stack)}, modules=[_module()])
    unwind_dump(dump, symbols=_store(tmp_path, SYM))
    frames = dump.threads[0].frames
    assert [(f.trust, f.function, f.module_offset) for f in frames[:2]] == [
        ("context", "crash_here", 0x1020), ("cfi", "caller(int)", 0x1045)]
    top = frames[0]
    assert (top.source_file, top.source_line, top.function_offset) == ("/src/app.c", 6, 0x20)
    assert frames[1].pc == 0x401046 and frames[1].sp == stack_base + 0x50


def test_stack_win_framedata_x86(tmp_path: Path) -> None:
    sym = (b"MODULE windows x86 0123456789ABCDEF0123456789ABCDEF0 app.pdb\n"
           b"FUNC 1000 100 0 f\nFUNC 2000 100 0 g\n"
           b"STACK WIN 4 1000 100 3 0 0 0 4 0 1 $T0 $ebp = $eip $T0 4 + ^ = $ebp $T0 ^ = $esp $T0 8 + =\n")
    folder = tmp_path / "syms" / "app.pdb" / "0123456789ABCDEF0123456789ABCDEF0"
    folder.mkdir(parents=True)
    (folder / "app.sym").write_bytes(sym)
    module = Module(base=0x400000, size=0x10000, path="C:\\app.exe",
                    debug_id="0123456789ABCDEF0123456789ABCDEF0", debug_file="C:\\b\\app.pdb")
    base = 0x100000
    stack = bytearray(0x40)
    stack[0x10:0x18] = words(base + 0x30, 0x402010, width=4)  # saved ebp, return into g
    regs = {"eip": 0x401010, "esp": base, "ebp": base + 0x10}
    dump = make_dump(tmp_path, arch="x86", os="windows", regs=regs,
                     segments={base: bytes(stack)}, modules=[module])
    unwind_dump(dump, symbols=local_store(tmp_path / "syms"))
    frames = dump.threads[0].frames
    assert [(f.trust, f.function) for f in frames[:2]] == [("context", "f"), ("cfi", "g")]


def _pe_image(unwind_infos: dict[int, bytes], functions: list[tuple[int, int, int]]) -> bytes:
    image = bytearray(0x4000)
    image[0:2] = b"MZ"
    struct.pack_into("<I", image, 0x3C, 0x80)
    image[0x80:0x84] = b"PE\0\0"
    struct.pack_into("<H", image, 0x84, 0x8664)
    opt = 0x80 + 24
    struct.pack_into("<H", image, opt, 0x20B)
    struct.pack_into("<I", image, opt + 108, 16)
    struct.pack_into("<II", image, opt + 112 + 3 * 8, 0x2000, 12 * len(functions))
    for i, entry in enumerate(functions):
        struct.pack_into("<III", image, 0x2000 + 12 * i, *entry)
    for rva, info in unwind_infos.items():
        image[rva:rva + len(info)] = info
    return bytes(image)


def _unwind_info(codes: list[tuple[int, int, int]], *, prolog: int, frame: int = 0, flags: int = 0,
                 extra: list[int] | None = None, chain: tuple[int, int, int] | None = None) -> bytes:
    slots = [offset | ((info << 4 | op) << 8) for offset, op, info in codes] + (extra or [])
    raw = bytes([1 | flags << 3, prolog, len(slots), frame]) + struct.pack(f"<{len(slots)}H", *slots)
    if len(slots) & 1:
        raw += b"\0\0"
    if chain is not None:
        raw += struct.pack("<III", *chain)
    return raw


def test_windows_x64_unwind_codes(tmp_path: Path) -> None:
    base, stack = 0x140000000, 0x10000
    # f (0x1000): push rbp; push rbx; sub rsp, 0x20   (codes are stored last-first)
    f = _unwind_info([(6, 2, 3), (2, 0, 3), (1, 0, 5)], prolog=6)
    # g (0x1100): push rbp; sub rsp, 0x40; lea rbp, [rsp+0x10]; mov [rsp+0x30], rsi
    g = _unwind_info([(15, 4, 6)], prolog=16, frame=5 | 1 << 4,
                     extra=[6, 10 | (3 << 8), 5 | (2 | 7 << 4) << 8, 1 | (0 | 5 << 4) << 8])
    # h (0x1200): no codes of its own, chained to f's unwind info
    h = _unwind_info([], prolog=0, flags=4, chain=(0x1000, 0x1100, 0x3000))
    image = _pe_image({0x3000: f, 0x3100: g, 0x3200: h},
                      [(0x1000, 0x1100, 0x3000), (0x1100, 0x1200, 0x3100), (0x1200, 0x1300, 0x3200)])
    memory = bytearray(0x400)
    r = stack + 0x38  # g's rsp; f's frame is below it
    t = r + 0x50  # h's rsp
    struct.pack_into("<QQQ", memory, 0x20, 0xB0B0, r + 0x10, base + 0x1160)  # f: rbx, rbp, return
    struct.pack_into("<Q", memory, r - stack + 0x30, 0x5151)  # g: saved rsi
    struct.pack_into("<QQ", memory, r - stack + 0x40, 0x7777, base + 0x1250)  # g: rbp, return
    struct.pack_into("<QQQ", memory, t - stack + 0x20, 1, 2, base + 0x1010)  # h (as f): rbx, rbp, ret
    dump = make_dump(tmp_path, arch="amd64", os="windows",
                     regs={"rip": base + 0x1050, "rsp": stack, "rbp": 0x42, "rbx": 1},
                     segments={stack: bytes(memory), base: image},
                     modules=[Module(base=base, size=0x4000, path="C:\\app.exe")])
    unwind_dump(dump)
    frames = dump.threads[0].frames
    assert [(f.trust, f.module_offset, f.sp) for f in frames[:4]] == [
        ("context", 0x1050, stack), ("cfi", 0x115F, r), ("cfi", 0x124F, t), ("cfi", 0x100F, t + 0x38)]


def test_call_site_encodings() -> None:
    assert _x86_call(b"\x00\x00\xe8\x10\x20\x30\x40")  # call rel32
    assert _x86_call(b"\x00\x00\x00\x00\x00\xff\xd0")  # call rax
    assert _x86_call(b"\x00\x00\x00\x00\x41\xff\xd3")  # call r11
    assert _x86_call(b"\x00\xff\x15\x10\x20\x30\x40")  # call [rip+disp32]
    assert _x86_call(b"\x00\x00\x00\x00\xff\x50\x08")  # call [rax+8]
    assert _x86_call(b"\x00\x00\x00\xff\x54\x24\x08")  # call [rsp+8] (SIB)
    assert not _x86_call(b"\x00\x00\xe9\x10\x20\x30\x40")  # jmp rel32
    assert not _x86_call(b"\x89\x45\xf8\x5d\xc3\x00\x90")
    assert _arm64_call(0x94000010) and _arm64_call(0xD63F0100) and not _arm64_call(0xD65F03C0)


def test_stack_words_read_like_word_by_word(tmp_path: Path) -> None:
    """``StackMemory.words`` (the scan's bulk read) gives what ``word`` gives one by one, up to
    the first word that cannot be read: inside a chunk, across chunks, into a hole, past the end."""
    data = bytes(range(256)) * 0x80  # 0x8000 bytes
    path = tmp_path / "mem.bin"
    path.write_bytes(data)
    # captured: [0x1000, 0x5000) and [0x6000, 0x7000); the stack range is [0x1000, 0x7000)
    space = SegmentSpace(FileView(path), [Segment(0x1000, 0x4000, 0, 0x4000),
                                          Segment(0x6000, 0x1000, 0x5000, 0x1000)])
    for width in (4, 8):
        stack = StackMemory(space, 0x1000, 0x7000, width)
        for start in (0xFF8, 0x1000, 0x1004, 0x3FF0, 0x3FFC, 0x4FF0, 0x5000, 0x6FF0, 0x6FFC, 0x7000):
            for count in (0, 1, 3, 40, 160):
                expected = []
                for index in range(count):
                    value = stack.word(start + index * width)
                    if value is None:
                        break
                    expected.append(value)
                assert list(stack.words(start, count)) == expected, (width, hex(start), count)


def test_stack_read_from_the_mapping_like_through_the_space(tmp_path: Path) -> None:
    """A stack range inside one file-backed segment is read straight from the file's mapping;
    ``word``, ``read`` and ``words`` answer as the chunked reads through the space do (a space
    that is not a :class:`SegmentSpace` takes that path), at and past every edge."""
    from dumpkit.memory import AddressSpace

    class Through(AddressSpace):
        def __init__(self, inner: AddressSpace) -> None:
            self.inner = inner

        def read(self, address: int, size: int) -> bytes:
            return self.inner.read(address, size)

    data = bytes(range(251)) * 0xA0  # more than the segment: bytes past its file part exist
    path = tmp_path / "mem.bin"
    path.write_bytes(data)
    # one segment, partly file-backed: [0x10000, 0x18000) in the file from offset 0x100
    space = SegmentSpace(FileView(path), [Segment(0x10000, 0x9000, 0x100, 0x8000)])
    for width in (4, 8):
        for lo, hi, mapped in ((0x10000, 0x18000, True), (0x10010, 0x14000, True), (0x10000, 0x19000, False)):
            fast, plain = StackMemory(space, lo, hi, width), StackMemory(Through(space), lo, hi, width)
            assert (fast._mapped is not None) is mapped and plain._mapped is None
            edges = (lo - width, lo - 1, lo, lo + 1, lo + 0x3FFC, hi - 2 * width, hi - width, hi - 1, hi)
            for address in edges:
                assert fast.word(address) == plain.word(address), (width, hex(lo), hex(address))
                for size in (1, width, 3 * width, 0x5000):
                    assert fast.read(address, size) == plain.read(address, size), (hex(address), size)
                assert fast.words(address, 50) == plain.words(address, 50)


def test_module_index_code_ranges_match_a_plain_search() -> None:
    """``ModuleIndex.code_module`` (executable regions found by bisection) answers like a search
    of every region, on random, overlapping module and region lists."""
    import random

    from dumpkit.model import Dump, MemoryRegion, SourceInfo
    from dumpkit.unwind.modules import ModuleIndex

    rng = random.Random(7)
    flat = 0  # lists whose code ranges do not overlap: one bisection (else the long way)
    for _ in range(200):
        modules = [Module(base=rng.randrange(0, 0x10000, 0x100), size=rng.randrange(0, 0x3000, 0x80),
                          path=f"m{i}") for i in range(rng.randint(1, 8))]
        regions = [MemoryRegion(start=rng.randrange(0, 0x12000, 0x40), size=rng.randrange(0, 0x4000, 0x40),
                                permissions=rng.choice(["r-x", "rw-", "r--", "rwx", ""]))
                   for _ in range(rng.randint(0, 12))]
        dump = Dump(source=SourceInfo(path="x", size=0, format="minidump"), modules=modules, regions=regions)
        index = ModuleIndex(dump)
        flat += index.code_ranges is not None
        code = [r for r in regions if r.permissions and "x" in r.permissions]
        for address in range(0, 0x13000, 0x40):
            module = index.at(address)
            expected = module
            if module is not None and any(r.permissions for r in regions):
                end = module.base + module.size
                spans = [r for r in code if r.start < end and module.base < r.start + r.size]
                if spans and not any(max(r.start, module.base) <= address < min(r.start + r.size, end)
                                     for r in spans):
                    expected = None
            assert index.code_module(address) is expected, (hex(address), modules, regions)
    assert 20 < flat < 180, flat  # both ways were taken
