"""Windows programs with PDBs, made here, and minidumps of their real crash state.

``tests/fixtures/inline_chain.c`` is compiled for x86-64 and i686 Windows with Debian's
clang and lld (``-O2 -g -gcodeview``, ``lld-link /debug``): an executable and its PDB. The
program is freestanding, so it runs as is in the Unicorn CPU emulator: the image is mapped
at its preferred base, ``start(1)`` is called on an emulated stack, and the emulator stops
on the write to address 0. Registers and the stack at that moment are the crash state the
real CPU would have had; the test builders write them into a minidump (thread list, stack
memory, an access-violation exception, the module with its CodeView record), so walkers
are checked against a state made by the compiler and a CPU, not by hand.

Only the PE headers needed to map the image are read here (``struct``, no dumpkit code).
"""
from __future__ import annotations

import shutil
import struct
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.builders.minidump import MinidumpBuilder

__all__ = ["ARCHES", "PeProgram", "build_pe_program", "tools_missing"]

SOURCE = Path(__file__).resolve().parent / "fixtures" / "inline_chain.c"
#: dumpkit CPU name -> clang target
ARCHES = {"amd64": "x86_64-pc-windows-msvc", "x86": "i686-pc-windows-msvc"}
MODULE_PATH = "C:\\symtest\\inline_chain.exe"
_STACK_TOP = {"amd64": 0x7FF000000, "x86": 0x00300000}
_STACK_SIZE = 0x10000
_SENTINEL_RETURN = 0  # where start() would return: nowhere, so walks end there


@dataclass(frozen=True)
class PeProgram:
    arch: str
    exe: Path
    pdb: Path
    dump: Path
    base: int
    size: int


def tools_missing() -> str | None:
    missing = [t for t in ("clang", "lld-link") if shutil.which(t) is None]
    return f"{' and '.join(missing)} not installed (make test installs clang and lld)" if missing else None


def _pe_layout(image: bytes) -> tuple[int, int, int, int, list[tuple[int, int, int, int]]]:
    """(image base, size of image, timestamp, entry rva, sections as (rva, vsize, raw ptr, raw size))."""
    pe = struct.unpack_from("<I", image, 0x3C)[0]
    assert image[pe:pe + 4] == b"PE\0\0"
    nsections, timestamp = struct.unpack_from("<HI", image, pe + 6)
    opt_size = struct.unpack_from("<H", image, pe + 20)[0]
    opt = pe + 24
    magic = struct.unpack_from("<H", image, opt)[0]
    entry = struct.unpack_from("<I", image, opt + 16)[0]
    if magic == 0x20B:  # PE32+
        base = struct.unpack_from("<Q", image, opt + 24)[0]
    else:
        base = struct.unpack_from("<I", image, opt + 28)[0]
    size = struct.unpack_from("<I", image, opt + 56)[0]
    sections = []
    for i in range(nsections):
        at = opt + opt_size + 40 * i
        vsize, rva, raw_size, raw_ptr = struct.unpack_from("<IIII", image, at + 8)
        sections.append((rva, vsize, raw_ptr, raw_size))
    return base, size, timestamp, entry, sections


def _codeview(image: bytes) -> bytes:
    """The RSDS CodeView record (GUID, age, PDB path) lld-link wrote into the image."""
    at = image.find(b"RSDS")
    assert at >= 0, "no CodeView record"
    end = image.index(b"\0", at + 24)
    return image[at:end + 1]


def _emulate(arch: str, image: bytes) -> tuple[dict[str, int], int, bytes]:
    """Run ``start(1)`` to its crash: (registers, stack start, stack bytes)."""
    unicorn = pytest.importorskip("unicorn")
    from unicorn import x86_const as X

    base, size, _, entry, sections = _pe_layout(image)
    mode = unicorn.UC_MODE_64 if arch == "amd64" else unicorn.UC_MODE_32
    uc = unicorn.Uc(unicorn.UC_ARCH_X86, mode)
    uc.mem_map(base, (size + 0xFFF) & ~0xFFF)
    uc.mem_write(base, image[:0x400])
    for rva, vsize, raw_ptr, raw_size in sections:
        uc.mem_write(base + rva, image[raw_ptr:raw_ptr + min(raw_size, vsize or raw_size)])
    top = _STACK_TOP[arch]
    uc.mem_map(top - _STACK_SIZE, _STACK_SIZE)
    if arch == "amd64":
        sp = top - 0x100
        sp -= 8
        uc.mem_write(sp, struct.pack("<Q", _SENTINEL_RETURN))
        uc.reg_write(X.UC_X86_REG_RSP, sp)
        uc.reg_write(X.UC_X86_REG_RCX, 1)
        pc_reg, names = X.UC_X86_REG_RIP, {
            "rax": X.UC_X86_REG_RAX, "rbx": X.UC_X86_REG_RBX, "rcx": X.UC_X86_REG_RCX,
            "rdx": X.UC_X86_REG_RDX, "rsi": X.UC_X86_REG_RSI, "rdi": X.UC_X86_REG_RDI,
            "rbp": X.UC_X86_REG_RBP, "rsp": X.UC_X86_REG_RSP, "r8": X.UC_X86_REG_R8,
            "r9": X.UC_X86_REG_R9, "r10": X.UC_X86_REG_R10, "r11": X.UC_X86_REG_R11,
            "r12": X.UC_X86_REG_R12, "r13": X.UC_X86_REG_R13, "r14": X.UC_X86_REG_R14,
            "r15": X.UC_X86_REG_R15, "rip": X.UC_X86_REG_RIP}
    else:
        sp = top - 0x100
        sp -= 8
        uc.mem_write(sp, struct.pack("<II", _SENTINEL_RETURN, 1))  # return address, n = 1
        uc.reg_write(X.UC_X86_REG_ESP, sp)
        pc_reg, names = X.UC_X86_REG_EIP, {
            "eax": X.UC_X86_REG_EAX, "ebx": X.UC_X86_REG_EBX, "ecx": X.UC_X86_REG_ECX,
            "edx": X.UC_X86_REG_EDX, "esi": X.UC_X86_REG_ESI, "edi": X.UC_X86_REG_EDI,
            "ebp": X.UC_X86_REG_EBP, "esp": X.UC_X86_REG_ESP, "eip": X.UC_X86_REG_EIP}
    try:
        uc.emu_start(base + entry, _SENTINEL_RETURN, count=100_000)
    except unicorn.UcError as exc:
        assert exc.errno == unicorn.UC_ERR_WRITE_UNMAPPED, exc
    else:
        raise AssertionError("the program did not crash in the emulator")
    regs = {name: uc.reg_read(reg) for name, reg in names.items()}
    assert regs["rip" if arch == "amd64" else "eip"] == uc.reg_read(pc_reg)
    low = top - _STACK_SIZE
    return regs, low, bytes(uc.mem_read(low, _STACK_SIZE))


def build_pe_program(root: Path, arch: str) -> PeProgram:
    """Compile, link, run to the crash and write ``inline_chain-ARCH.dmp`` under ``root``."""
    obj, exe, pdb = (root / f"inline_chain-{arch}.{ext}" for ext in ("obj", "exe", "pdb"))
    subprocess.run(["clang", f"--target={ARCHES[arch]}", "-O2", "-g", "-gcodeview", "-c", str(SOURCE),
                    "-o", str(obj)], check=True, capture_output=True, timeout=120)
    subprocess.run(["lld-link", "/debug", "/entry:start", "/subsystem:console", "/nodefaultlib",
                    f"/out:{exe}", f"/pdb:{pdb}", str(obj)], check=True, capture_output=True, timeout=120)
    image = exe.read_bytes()
    base, size, timestamp, _, _ = _pe_layout(image)
    regs, stack_low, stack = _emulate(arch, image)
    sp = regs["rsp" if arch == "amd64" else "esp"]
    pc = regs["rip" if arch == "amd64" else "eip"]
    stack_from = sp & ~0xF
    builder = MinidumpBuilder(arch)
    builder.module(base, size, MODULE_PATH, cv=_codeview(image), timestamp=timestamp)
    builder.thread(1, regs, stack=(stack_from, stack[stack_from - stack_low:]))
    builder.exception(1, 0xC0000005, pc, [1, 0])
    dump = builder.write(root / f"inline_chain-{arch}.dmp")
    return PeProgram(arch, exe, pdb, dump, base, size)
