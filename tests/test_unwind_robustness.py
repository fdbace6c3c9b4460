"""Bad stacks and bad symbol files end in diagnostics, never exceptions, within a second."""
from __future__ import annotations

import random
import time
from pathlib import Path

from dumpkit.model import Module
from dumpkit.unwind import MAX_FRAMES, unwind_dump
from tests.symbol_servers import local_store
from tests.unwind_builders import make_dump, words

CODE = 0x400000
STACK = 0x7FFF0000


def _module(tmp: Path) -> Module:
    return Module(base=CODE, size=0x10000, path="/bin/app", debug_id="0123456789ABCDEF0123456789ABCDEF0",
                  debug_file="app")


def _timed(dump: object, **kwargs: object) -> float:
    start = time.perf_counter()
    unwind_dump(dump, **kwargs)  # type: ignore[arg-type]
    return time.perf_counter() - start


def test_garbage_stack_ends_quickly(tmp_path: Path) -> None:
    rng = random.Random(7)
    for arch, width in (("amd64", 8), ("x86", 4), ("arm64", 8), ("arm", 4)):
        garbage = bytes(rng.getrandbits(8) for _ in range(64 * 1024))
        # sprinkle in-module words so that scanning finds candidates
        data = bytearray(garbage)
        for offset in range(0, len(data), 40):
            data[offset:offset + width] = (CODE + rng.randrange(0x10000)).to_bytes(width, "little")
        pc, sp = {"amd64": ("rip", "rsp"), "x86": ("eip", "esp"), "arm64": ("pc", "sp"),
                  "arm": ("pc", "sp")}[arch]
        fp = {"amd64": "rbp", "x86": "ebp", "arm64": "fp", "arm": "r11"}[arch]
        dump = make_dump(tmp_path, arch=arch, regs={pc: CODE + 0x10, sp: STACK, fp: STACK + 64},
                         segments={STACK: bytes(data)}, modules=[_module(tmp_path)])
        assert _timed(dump) < 1.0
        frames = dump.threads[0].frames
        assert 1 <= len(frames) <= MAX_FRAMES
        sps = [f.sp for f in frames if f.sp is not None]
        assert sps == sorted(sps)


def test_cyclic_frame_pointers_stop(tmp_path: Path) -> None:
    # x86: ebp -> A, [A] = B, [B] = A: a two-frame cycle with in-module return addresses.
    a, b = STACK + 0x20, STACK + 0x40
    stack = bytearray(0x100)
    stack[0x20:0x28] = words(b, CODE + 0x100, width=4)
    stack[0x40:0x48] = words(a, CODE + 0x200, width=4)
    dump = make_dump(tmp_path, arch="x86", regs={"eip": CODE + 5, "esp": STACK, "ebp": a},
                     segments={STACK: bytes(stack)}, modules=[_module(tmp_path)])
    assert _timed(dump) < 1.0
    frames = dump.threads[0].frames
    assert len(frames) <= 4
    assert any(d.code == "unwind_stopped" and "not above" in d.message for d in dump.diagnostics)


def test_self_pointing_frame_pointer_amd64(tmp_path: Path) -> None:
    stack = words(STACK, CODE + 0x100) + bytes(0x100)
    dump = make_dump(tmp_path, arch="amd64", regs={"rip": CODE + 5, "rsp": STACK, "rbp": STACK},
                     segments={STACK: stack}, modules=[_module(tmp_path)])
    assert _timed(dump) < 1.0
    assert len(dump.threads[0].frames) < 8


def test_stack_pointer_outside_captured_memory(tmp_path: Path) -> None:
    dump = make_dump(tmp_path, arch="amd64", regs={"rip": CODE + 5, "rsp": 0x1234000, "rbp": 0},
                     segments={STACK: bytes(64)}, modules=[_module(tmp_path)])
    unwind_dump(dump)
    frames = dump.threads[0].frames
    assert [f.trust for f in frames] == ["context"]
    assert frames[0].module == "app" and frames[0].module_offset == 5
    assert any(d.code == "unwind_stopped" and "not in captured memory" in d.message
               for d in dump.diagnostics)


def test_no_context_and_unsupported_cpu(tmp_path: Path) -> None:
    dump = make_dump(tmp_path, arch="amd64", regs={}, segments={STACK: bytes(8)})
    unwind_dump(dump)
    assert dump.threads[0].frames == []
    assert any(d.code == "unwind_stopped" for d in dump.diagnostics)
    dump = make_dump(tmp_path, arch="s390x", regs={"psw_addr": 1}, segments={STACK: bytes(8)})
    unwind_dump(dump)
    assert any(d.code == "unwind_unsupported" for d in dump.diagnostics)


def test_frame_limit(tmp_path: Path) -> None:
    # Every word is a return address right after an E8 call: scanning never runs out.
    code = bytearray(0x1000)
    code[0x100:0x105] = b"\xe8\x00\x00\x00\x00"  # past the image header: code lives there
    stack = words(*([CODE + 0x105] * 4096))
    dump = make_dump(tmp_path, arch="amd64", regs={"rip": CODE + 0x105, "rsp": STACK},
                     segments={STACK: stack, CODE: bytes(code)}, modules=[_module(tmp_path)])
    assert _timed(dump) < 1.0
    assert len(dump.threads[0].frames) == MAX_FRAMES
    assert any("frame limit" in d.message for d in dump.diagnostics)


CORRUPT_SYMS = [
    b"",
    b"\x00\xff garbage \x80\n" * 50,
    b"MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app\nFUNC zz 10 0 broken\n"
    b"10 nothex 3 1\nSTACK CFI INIT 10 20 .cfa: $rsp 8 +\nSTACK CFI 12\nSTACK WIN 4 10\n"
    b"PUBLIC\nFILE x y\nSTACK CFI INIT 100 10 .cfa: $rsp 99999999999999999999999 + .ra: .cfa ^ ^ ^\n"
    b"STACK CFI INIT 200 10 .cfa: .cfa .ra: .undef\nFUNC 300 ffffffffffffffffffff 0 huge\n",
    b"MODULE Linux x86_64 0123456789ABCDEF0123456789ABCDEF0 app\n" + b"FUNC 0 1 0 f\n" * 3
    + b"STACK CFI INIT 0 10000 .cfa: $rsp 16 + .ra: .cfa -8 + ^ $rbx: .cfa 0 / \n" + b"x" * 100000,
]


def test_corrupt_sym_files_become_diagnostics(tmp_path: Path) -> None:
    module = _module(tmp_path)
    folder = tmp_path / "syms" / "app" / module.debug_id  # type: ignore[operator]
    folder.mkdir(parents=True)
    stack = words(*([CODE + 0x15] * 64))
    for index, text in enumerate(CORRUPT_SYMS):
        (folder / "app.sym").write_bytes(text)
        dump = make_dump(tmp_path, arch="amd64", regs={"rip": CODE + 0x10, "rsp": STACK, "rbp": 0},
                         segments={STACK: stack}, modules=[module])
        assert _timed(dump, symbols=local_store(tmp_path / "syms")) < 1.0, index
        assert dump.threads[0].frames, index
        if index < 3:
            assert any(d.code == "bad_symbols" for d in dump.diagnostics), index


def test_sysroot_with_non_elf_files(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_bytes(b"\x7fELF" + bytes(60))
    dump = make_dump(tmp_path, arch="amd64", regs={"rip": CODE + 0x10, "rsp": STACK, "rbp": 0},
                     segments={STACK: words(CODE + 0x15)}, modules=[_module(tmp_path)])
    unwind_dump(dump, sysroot=str(root))
    assert any(d.code == "bad_symbols" for d in dump.diagnostics)
