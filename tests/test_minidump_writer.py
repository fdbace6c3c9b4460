"""The minidump writer and the shrink policy on hand-made :class:`Dump` objects (amd64, x86, arm64, arm).

Each written file is read back three ways: a tiny ``struct`` reader in this file (shares no
code with the writer), ``dumpkit.open``, and the outside readers ``minidump`` / ``udmp-parser``.
"""
from __future__ import annotations

import argparse
import os
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest

import dumpkit
from dumpkit.converters.minidump_contexts import build_context, canonical_registers
from dumpkit.converters.minidump_writer import MinidumpWriter, WriterOptions
from dumpkit.converters.shrink import ShrinkError, ShrinkOptions, shrink_dump
from dumpkit.errors import NotCapturedError
from dumpkit.memory import AddressSpace
from dumpkit.model import (
    PC_REGISTER,
    SP_REGISTER,
    CrashInfo,
    Dump,
    MemoryRegion,
    Module,
    ProcessInfo,
    SourceInfo,
    SystemInfo,
    Thread,
)
from dumpkit.pipeline.cli_options import parse_size
from tests.minidump_oracles import OracleCannotRead, read_minidump_pkg, read_udmp


class DictSpace(AddressSpace):
    """Captured memory as {start: bytes}; anything else raises NotCapturedError."""

    def __init__(self, segments: dict[int, bytes]) -> None:
        self.segments = dict(sorted(segments.items()))

    def read(self, address: int, size: int) -> bytes:
        for start, data in self.segments.items():
            if start <= address and address + size <= start + len(data):
                return data[address - start:address - start + size]
        for start, data in self.segments.items():  # report where the capture stops
            if start <= address < start + len(data):
                raise NotCapturedError(start + len(data), size)
        raise NotCapturedError(address, size)

    def ranges(self) -> Iterator[tuple[int, int]]:
        for start, data in self.segments.items():
            yield start, len(data)


REGS = {
    "amd64": {"rip": 0x401010, "rsp": 0x7FF800, "rax": 0x1111, "rbx": 0x2222, "rcx": 3, "rdx": 4,
              "rsi": 5, "rdi": 6, "rbp": 0x7FF900, "r8": 8, "r9": 9, "r10": 10, "r11": 11, "r12": 12,
              "r13": 13, "r14": 14, "r15": 0xFFFFFFFFFFFFFFFF, "eflags": 0x246, "cs": 0x33, "ss": 0x2B,
              "ds": 0, "es": 0, "fs": 0, "gs": 0, "fs_base": 0x7F00, "orig_rax": 0xFFFFFFFFFFFFFFFF},
    "x86": {"eip": 0x401010, "esp": 0x7FF800, "eax": 1, "ebx": 2, "ecx": 3, "edx": 4, "esi": 5,
            "edi": 6, "ebp": 0x7FF900, "eflags": 0x282, "cs": 0x23, "ss": 0x2B, "ds": 0x2B,
            "es": 0x2B, "fs": 0, "gs": 0x63},
    "arm64": {**{f"x{i}": 0x100 + i for i in range(29)}, "fp": 0x7FF900, "lr": 0x401000,
              "sp": 0x7FF800, "pc": 0x401010, "cpsr": 0x60000000},
    "arm": {**{f"r{i}": 0x100 + i for i in range(13)}, "sp": 0x7FF800, "lr": 0x401000,
            "pc": 0x401010, "cpsr": 0x60000010},
}
LINUX_BUILD_ID = "00112233445566778899aabbccddeeff01020304"
PDB_DEBUG_ID = "0123456789ABCDEF0123456789ABCDEF1"
STACK = bytes(range(256)) * 64  # 16 KiB at 0x7F8000..0x7FC000 (sp at 0x7FF800 is past it)


def make_dump(arch: str, os_name: str = "windows", *, stack_size: int = 0x10000) -> Dump:
    """Two threads (the first crashed), a PE and an ELF module, stacks and code in memory."""
    regs = dict(REGS[arch])
    other = dict(regs)
    other[SP_REGISTER[arch]] = 0x6FF000
    stack_base = 0x7F0000
    memory = {stack_base: bytes((i * 7) & 0xFF for i in range(stack_size)),
              0x6F0000: bytes(range(256)) * 0x100,
              0x400000: b"MZ" + bytes(0x1FFE)}
    crash = (CrashInfo("exception", 0xC0000005, 0, 0x401010, [1, 0x10], 0x10) if os_name == "windows"
             else CrashInfo("signal", 11, 1, 0x10, [], 0x10, code_space="linux_signal"))
    return Dump(
        source=SourceInfo("made-up", 0, "minidump"),
        system=SystemInfo(os=os_name, os_version="10.0.19041" if os_name == "windows" else None,
                          kernel_release="6.1.0" if os_name == "linux" else None,
                          cpu_arch=arch, cpu_count=4, cpu_vendor="GenuineIntel"),
        process=ProcessInfo(pid=1234, name="app", command_line="app --flag", ppid=1, uid=0, gid=0),
        crash=crash,
        threads=[Thread(0x10, regs, crashed=True), Thread(0x11, other)],
        modules=[Module(0x400000, 0x2000, r"C:\app.exe", version="1.2.3.4", timestamp=0x5F000000,
                        debug_id=PDB_DEBUG_ID, debug_file="app.pdb"),
                 Module(0x500000, 0x3000, "/lib/libc.so.6", build_id=LINUX_BUILD_ID)],
        regions=[MemoryRegion(stack_base, 0x10000, "rw-"), MemoryRegion(0x6F0000, 0x10000, "rw-"),
                 MemoryRegion(0x400000, 0x2000, "r-x", path=r"C:\app.exe")],
        memory=DictSpace(memory),
    )


# ---------------------------------------------------------------------------- independent reader
def read_streams(data: bytes) -> dict[int, bytes]:
    """Stream type -> body, straight from the header and directory (docs/formats.md §1.1-1.2)."""
    sig, version, count, rva = struct.unpack_from("<IIII", data, 0)
    assert sig == 0x504D444D and version & 0xFFFF == 0xA793
    out = {}
    for i in range(count):
        stype, size, srva = struct.unpack_from("<III", data, rva + 12 * i)
        assert srva + size <= len(data)
        out[stype] = data[srva:srva + size]
    return out


def test_layout_read_back_by_struct(tmp_path: Path) -> None:
    dump = make_dump("amd64")
    out = tmp_path / "a.dmp"
    MinidumpWriter(dump).write(out, [(0x400000, 0x100), (0x7FF000, 0x1000)], {0x10: (0x7FF000, 0x1000)})
    data = out.read_bytes()
    streams = read_streams(data)
    assert sorted(streams) == [3, 4, 5, 6, 7, 15, 16]  # + MemoryInfoList: a Windows source's regions
    count = struct.unpack_from("<IIQ", streams[16])
    assert count == (16, 48, 3)
    assert struct.unpack_from("<QQIIQIII", streams[16], 16) == (0x400000, 0x400000, 0x20, 0, 0x2000,
                                                                 0x1000, 0x20, 0)
    # ThreadList: 2 threads; thread 0x10's stack descriptor points at the bytes of 0x7FF000
    threads = streams[3]
    assert struct.unpack_from("<I", threads)[0] == 2
    tid, _, _, _, _, start, size, rva, ctx_size, ctx_rva = struct.unpack_from("<IIIIQQIIII", threads, 4)
    assert (tid, start, size, ctx_size) == (0x10, 0x7FF000, 0x1000, 0x4D0)
    assert data[rva:rva + size] == dump.memory.read(0x7FF000, 0x1000)  # type: ignore[union-attr]
    flags = struct.unpack_from("<I", data, ctx_rva + 0x30)[0]
    assert flags == 0x00100000 | 0x7  # AMD64 + CONTROL|INTEGER|SEGMENTS (no debug / FP filled)
    assert struct.unpack_from("<Q", data, ctx_rva + 0xF8)[0] == 0x401010  # Rip
    assert struct.unpack_from("<Q", data, ctx_rva + 0x98)[0] == 0x7FF800  # Rsp
    # MemoryList: both ranges, in order, bytes at their RVAs
    mem = streams[5]
    assert struct.unpack_from("<I", mem)[0] == 2
    s0, n0, r0 = struct.unpack_from("<QII", mem, 4)
    assert (s0, n0) == (0x400000, 0x100) and data[r0:r0 + 2] == b"MZ"
    # Exception: thread, code, address, parameters, the same context
    exc = streams[6]
    tid, _, code, flags, _, address, nparams = struct.unpack_from("<IIIIQQI", exc, 0)
    assert (tid, code, address, nparams) == (0x10, 0xC0000005, 0x401010, 2)
    assert struct.unpack_from("<2Q", exc, 0x28) == (1, 0x10)
    assert struct.unpack_from("<II", exc, 0xA0) == (0x4D0, ctx_rva)
    # SystemInfo: AMD64, Windows NT, 10.0.19041, 4 CPUs, vendor string
    arch, _, _, ncpu, _, major, minor, build, platform = struct.unpack_from("<HHHBBIIII", streams[7])
    assert (arch, ncpu, major, minor, build, platform) == (9, 4, 10, 0, 19041, 2)
    assert streams[7][0x20:0x2C] == b"GenuineIntel"
    # ModuleList: 108-byte entries, RSDS and BpEL CodeView records
    modules = streams[4]
    assert struct.unpack_from("<I", modules)[0] == 2 and len(modules) == 4 + 2 * 108
    cv_size, cv_rva = struct.unpack_from("<II", modules, 4 + 0x4C)
    assert data[cv_rva:cv_rva + 4] == b"RSDS" and data[cv_rva + cv_size - 8:cv_rva + cv_size] == b"app.pdb\0"
    cv_size, cv_rva = struct.unpack_from("<II", modules, 4 + 108 + 0x4C)
    assert data[cv_rva:cv_rva + 4] == b"LEpB" and data[cv_rva + 4:cv_rva + cv_size].hex() == LINUX_BUILD_ID
    assert struct.unpack_from("<IIII", modules, 4 + 0x18)[:4] == (0xFEEF04BD, 0x10000, 0x10002, 0x30004)
    # MiscInfo v1 with the pid
    assert struct.unpack_from("<III", streams[15]) == (24, 1, 1234)


@pytest.mark.parametrize("arch", ["amd64", "x86", "arm64", "arm"])
def test_written_dump_reads_back(tmp_path: Path, arch: str) -> None:
    dump = make_dump(arch, "linux")
    out = tmp_path / f"{arch}.dmp"
    report = shrink_dump(dump, out, ShrinkOptions(max_size=64 * 1024))
    assert out.stat().st_size == report.output.size <= 64 * 1024
    with dumpkit.open(out) as back:
        assert (back.system.os, back.system.cpu_arch, back.system.cpu_count) == ("linux", arch, 4)
        assert [t.id for t in back.threads] == [0x10, 0x11]
        want = canonical_registers(arch, REGS[arch])
        got = back.threads[0].registers
        for name, value in got.items():
            if name in want:
                assert value == want[name], name
        assert got[PC_REGISTER[arch]] == 0x401010 and got[SP_REGISTER[arch]] == 0x7FF800
        assert back.crash is not None
        crash = back.crash
        assert (crash.kind, crash.code, crash.subcode, crash.address) == ("signal", 11, 1, 0x10)
        assert [(m.path, m.base, m.size) for m in back.modules] == \
            [(m.path, m.base, m.size) for m in dump.modules]
        assert back.modules[0].debug_id == PDB_DEBUG_ID
        assert back.modules[1].build_id == LINUX_BUILD_ID
        assert back.process is not None and back.process.pid == 1234
        assert back.process.command_line == "app --flag"
        # the crashing thread's stack: from sp - red zone to the end of its region, bytes equal
        stack = back.threads[0]
        assert stack.stack_start is not None and stack.stack_size
        assert back.memory is not None and dump.memory is not None
        assert back.memory.read(stack.stack_start, stack.stack_size) == dump.memory.read(
            stack.stack_start, stack.stack_size)
        assert stack.stack_start + stack.stack_size == 0x800000


@pytest.mark.parametrize("arch", ["amd64", "x86"])
def test_outside_readers_agree(tmp_path: Path, arch: str) -> None:
    dump = make_dump(arch)
    out = tmp_path / f"{arch}.dmp"
    shrink_dump(dump, out)
    for reader in (read_minidump_pkg, read_udmp):
        facts = reader(str(out))
        assert sorted(facts.thread_ids or []) == [0x10, 0x11]
        assert facts.thread_regs[0x10] == (0x401010, 0x7FF800)
        assert facts.thread_regs[0x11] == (0x401010, 0x6FF000)
        assert sorted(facts.modules or []) == sorted((m.path, m.base, m.size) for m in dump.modules)
        assert facts.exception_tid == 0x10


def test_arm64_outside_readers(tmp_path: Path) -> None:
    """udmp-parser reads ARM64 threads and modules (no registers); the ``minidump`` package
    rejects ProcessorArchitecture 12 (ARM64) outright, a known limit of 0.0.24."""
    out = tmp_path / "arm64.dmp"
    shrink_dump(make_dump("arm64"), out)
    facts = read_udmp(str(out))
    assert sorted(facts.thread_ids or []) == [0x10, 0x11]
    assert len(facts.modules or []) == 2
    with pytest.raises(OracleCannotRead, match="PROCESSOR_ARCHITECTURE"):
        read_minidump_pkg(str(out))


def test_context_flags_follow_what_is_filled() -> None:
    ctx = build_context("x86", {"eip": 1, "esp": 2})
    assert struct.unpack_from("<I", ctx)[0] == 0x00010000 | 0x1  # CONTROL only
    assert len(ctx) == 0x2CC
    ctx = build_context("arm64", {"pc": 1, "sp": 2, "x0": 3})
    assert struct.unpack_from("<I", ctx)[0] == 0x00400000 | 0x3 and len(ctx) == 0x390
    assert struct.unpack_from("<Q", ctx, 0x108)[0] == 1
    ctx = build_context("arm", {"pc": 1, "r13": 2})  # alias r13 -> sp
    assert struct.unpack_from("<I", ctx)[0] == 0x40000002 and len(ctx) == 0x170
    assert struct.unpack_from("<II", ctx, 0x04 + 13 * 4) == (2, 0)


# ---------------------------------------------------------------------------- budget and policy
@pytest.mark.parametrize("max_size", [6 * 1024, 9 * 1024, 20 * 1024, 40 * 1024, 1 << 20])
def test_budget_is_never_exceeded(tmp_path: Path, max_size: int) -> None:
    dump = make_dump("amd64")
    out = tmp_path / "b.dmp"
    report = shrink_dump(dump, out, ShrinkOptions(max_size=max_size))
    assert out.stat().st_size <= max_size
    assert report.kept.get("crash_stack", 0) > 0  # the crashing thread's stack comes first
    if max_size < 20 * 1024:
        assert "crash_stack" in report.truncated or "stacks" in report.truncated


def test_crash_stack_first_then_others(tmp_path: Path) -> None:
    dump = make_dump("amd64")
    room = MinidumpWriter(dump).overhead(0) + 16 + 1000
    small = shrink_dump(dump, tmp_path / "s.dmp", ShrinkOptions(max_size=room))
    assert small.kept == {"crash_stack": 1000} and small.truncated[0] == "crash_stack"
    assert small.stacks == {0x10: (0x7FF800 - 128, 1000)}
    both = shrink_dump(dump, tmp_path / "l.dmp", ShrinkOptions(max_size=1 << 20))
    assert both.kept["crash_stack"] == 0x800000 - (0x7FF800 - 128)  # sp - red zone .. end of stack
    assert both.stacks[0x11][0] == 0x6FF000 - 128 and both.kept["stacks"] > 0
    only = shrink_dump(dump, tmp_path / "o.dmp", ShrinkOptions(other_stacks=False))
    assert 0x11 not in only.stacks and "stacks" not in only.kept


def test_uncaptured_parts_are_skipped(tmp_path: Path) -> None:
    dump = make_dump("amd64", stack_size=0x8000)  # the stack region says 64 KiB, 32 KiB captured
    dump.threads[0].registers["rsp"] = 0x7F1000
    report = shrink_dump(dump, tmp_path / "c.dmp")
    assert report.stacks[0x10] == (0x7F1000 - 128, 0x7F8000 - (0x7F1000 - 128))
    assert report.output.zero_filled == 0
    dump.threads[0].registers["rsp"] = 0x7F9000  # stack pointer not captured: no stack at all
    report = shrink_dump(dump, tmp_path / "d.dmp")
    assert 0x10 not in report.stacks


def test_big_optional_stream_dropped_before_failing(tmp_path: Path) -> None:
    dump = make_dump("amd64", "linux")
    dump.regions = [MemoryRegion(0x10000000 + i * 0x1000, 0x1000, "r--", path=f"/lib/f{i}")
                    for i in range(2000)]
    report = shrink_dump(dump, tmp_path / "m.dmp", ShrinkOptions(max_size=64 * 1024))
    assert "stream LinuxMaps" in report.truncated and "LinuxMaps" not in report.output.streams
    with pytest.raises(ShrinkError) as info:
        shrink_dump(dump, tmp_path / "n.dmp", ShrinkOptions(max_size=512))
    assert info.value.code == "budget_too_small"
    assert not (tmp_path / "n.dmp").exists()


def test_atomic_write_leaves_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "x.dmp"
    out.write_bytes(b"old")
    dump = make_dump("amd64")

    class Boom(Exception):
        pass

    def broken(address: int, size: int) -> bytes:
        raise Boom

    dump.memory.read = broken  # type: ignore[method-assign,union-attr]
    with pytest.raises(Boom):
        MinidumpWriter(dump).write(out, [(0x400000, 0x100)])
    assert out.read_bytes() == b"old" and os.listdir(tmp_path) == ["x.dmp"]


def test_full_memory_mode_uses_memory64(tmp_path: Path) -> None:
    dump = make_dump("amd64")
    ranges = sorted(dump.memory.ranges())  # type: ignore[union-attr]
    out = tmp_path / "full.dmp"
    MinidumpWriter(dump, WriterOptions(full_memory=True)).write(out, ranges, {0x10: (0x7FF780, 0x880)})
    data = out.read_bytes()
    assert struct.unpack_from("<Q", data, 0x18)[0] == 0x2  # MiniDumpWithFullMemory
    streams = read_streams(data)
    assert 9 in streams and 5 not in streams
    count, base = struct.unpack_from("<QQ", streams[9])
    assert count == len(ranges) and base + sum(n for _, n in ranges) == len(data)
    with dumpkit.open(out) as back:
        assert back.memory is not None
        for start, size in ranges:
            assert back.memory.read(start, size) == dump.memory.read(start, size)  # type: ignore[union-attr]
    facts = read_udmp(str(out))
    assert sorted(facts.ranges) == ranges


@pytest.mark.parametrize(("text", "value"), [("1M", 1 << 20), ("512K", 512 << 10), ("4096", 4096),
                                             ("1.5MiB", 3 << 19), ("2g", 2 << 30), ("64G", 64 << 30),
                                             ("512m", 512 << 20), ("10", 10), ("1T", 1 << 40),
                                             ("3 KiB", 3 << 10), ("7b", 7)])
def test_parse_size(text: str, value: int) -> None:
    assert parse_size(text) == value


@pytest.mark.parametrize("text", ["", "1Q", "-1M", "0", "M", "lots", "1e3"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError):
        parse_size(text)
