"""The test builder, cross-checked by two outside readers, then our reader against the builder.

1. Every dump :class:`MinidumpBuilder` makes is read by the ``minidump`` package and by
   ``udmp-parser``; each must report what the builder was told (for the fields it reads). So a
   layout mistake shared by our builder and our reader cannot hide: the outside readers would
   disagree with the builder.
2. Then ``dumpkit.open`` must report the same facts, plus the ones no outside reader exposes
   (thread names, MiscInfo pid, unloaded modules, Breakpad Linux streams, debug ids of BpEL).

Outside readers' blind spots (so some facts are checked by one reader only, or by none):
``minidump`` cannot read ARM64 (12) SystemInfo at all and decodes only x86/AMD64 contexts;
``udmp-parser`` decodes only x86/AMD64 contexts, exposes no exception record or system info,
reads memory only from Memory64List and refuses a Memory64List without a MemoryInfoList.
ARM64 register layouts are therefore checked against our reader only (see
test_minidump_oracles for real ARM64 dumps).
"""
from __future__ import annotations

import struct
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.builders.minidump import (
    MinidumpBuilder,
    elf_build_id,
    elf_debug_id,
    nb10,
    pdb70_debug_id,
    rsds,
)
from tests.builders.minidump_records import PC, SP
from tests.minidump_oracles import ORACLES, Facts, OracleCannotRead

GUID_APP = uuid.UUID("6c1c8b5e-2d4f-4a8e-9d3b-0f1e2a3b4c5d")
GUID_NTDLL = uuid.UUID("0a1b2c3d-4e5f-6071-8293-a4b5c6d7e8f9")
BUILD_ID = bytes.fromhex("a1b2c3d4e5f60718293a4b5c6d7e8f9001122334")
BUILD_ID_LIBC = bytes.fromhex("00112233445566778899aabbccddeeff00112233")


def _stack(seed: int, size: int = 0x1000) -> bytes:
    return bytes((seed + i * 7) & 0xFF for i in range(size))


def windows_amd64() -> MinidumpBuilder:
    return (MinidumpBuilder(arch="amd64", os="windows", flags=0x1000)
            .system_info(major=10, minor=0, build=19041, csd="Service Pack 1", cpu_count=8)
            .thread(0x1A0, regs={"rip": 0x7FF6A0011234, "rsp": 0xBF7E5FF800, "rbp": 0xBF7E5FF900,
                                 "rax": 0x1111, "r15": 0xF15, "eflags": 0x10246, "cs": 0x33},
                    stack=(0xBF7E5FF000, _stack(1)), teb=0xBF7E41E000)
            .thread(0x2B0, regs={"rip": 0x7FFA00009000, "rsp": 0xBF7E6FF700, "rbx": 0x2222},
                    stack=(0xBF7E6FF000, _stack(2)), suspend_count=1)
            .thread(0x3C0, regs={"rip": 0x7FFA00009010, "rsp": 0xBF7E7FF600},
                    stack=(0xBF7E7FF000, _stack(3, 0x800)))
            .module(0x7FF6A0000000, 0x25000, r"C:\app\app.exe", cv=rsds(GUID_APP, 3, r"C:\build\app.pdb"),
                    version=(1, 2, 3, 4), timestamp=0x5F3A1B2C, checksum=0x2F00D)
            .module(0x7FFA00000000, 0x1F0000, r"C:\Windows\System32\ntdll.dll",
                    cv=rsds(GUID_NTDLL, 1, "ntdll.pdb"), version=(10, 0, 19041, 1202), timestamp=0x12345678)
            .module(0x7FFA10000000, 0x9000, r"C:\Windows\System32\old.dll", cv=nb10(0x3A2B1C0D, 2, "old.pdb"),
                    timestamp=0x3A2B1C0D)
            .unloaded_module(0x7FFA20000000, 0x4000, r"C:\Windows\System32\gone.dll", timestamp=0x11111111)
            .exception(0x1A0, 0xC0000005, 0x7FF6A0011240, [1, 0x10], flags=0,
                       regs={"rip": 0x7FF6A0011240, "rsp": 0xBF7E5FF7C0, "rbp": 0xBF7E5FF900, "rax": 0x10})
            .memory(0x7FF6A0011200, bytes(range(0x80)))
            .misc_info(pid=4321, create_time=0x5F3A0000, version=2)
            .thread_names({0x1A0: "main", 0x2B0: "worker #1"}))


def windows_x86() -> MinidumpBuilder:
    return (MinidumpBuilder(arch="x86", os="windows", version_high=0x61B0)
            .system_info(major=6, minor=1, build=7601, csd="Service Pack 1", cpu_count=2)
            .thread(0x10C, regs={"eip": 0x00401234, "esp": 0x0012FF40, "ebp": 0x0012FF80, "eax": 0xDEADBEEF,
                                 "eflags": 0x246, "cs": 0x1B},
                    stack=(0x0012F000, _stack(4)), teb=0x7FFDF000)
            .thread(0x220, regs={"eip": 0x7C90E514, "esp": 0x0097F000}, stack=(0x0097E000, _stack(5)))
            .module(0x00400000, 0x2D000, r"c:\test_app.exe", cv=rsds(GUID_APP, 1, r"c:\test_app.pdb"),
                    version=(1, 0, 0, 1), timestamp=0x45D35F6C)
            .module(0x7C900000, 0xB0000, r"C:\WINDOWS\system32\ntdll.dll",
                    cv=nb10(0x411096B4, 2, "ntdll.pdb"), version=(5, 1, 2600, 2180), timestamp=0x411096B4)
            .exception(0x10C, 0xC0000094, 0x00401236, [], regs={"eip": 0x00401236, "esp": 0x0012FF30})
            .memory(0x00401200, b"\x90" * 0x40 + b"\xf7\xf1" + b"\xcc" * 0x3E)
            .misc_info(pid=3000))


def linux_amd64_breakpad() -> MinidumpBuilder:
    b = (MinidumpBuilder(arch="amd64", os="linux", timestamp=0x60000000)
         .system_info(major=0, minor=0, build=0, csd="Linux 5.15.0-91-generic #101-Ubuntu SMP x86_64",
                      cpu_count=4, product_type=0, suite_mask=0)
         .thread(0x4E21, regs={"rip": 0x55D0C0DE1000, "rsp": 0x7FFC00001F00, "rbp": 0x7FFC00001F40},
                 stack=(0x7FFC00001000, _stack(6)))
         .thread(0x4E22, regs={"rip": 0x7F0000012345, "rsp": 0x7F00FFFFE000},
                 stack=(0x7F00FFFFD000, _stack(7)))
         .module(0x55D0C0DE0000, 0x5000, "/usr/bin/crasher", cv=elf_build_id(BUILD_ID))
         .module(0x7F0000000000, 0x1E6000, "/lib/x86_64-linux-gnu/libc.so.6", cv=elf_build_id(BUILD_ID_LIBC))
         .exception(0x4E21, 11, 0x10, [], flags=1,
                    regs={"rip": 0x55D0C0DE1010, "rsp": 0x7FFC00001EF0, "rbp": 0x7FFC00001F40})
         .linux_stream("cpu_info", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Test CPU\n")
         .linux_stream("proc_status", "Name:\tcrasher\nState:\tR (running)\nPid:\t20001\nPPid:\t1\n"
                                      "Uid:\t1000\t1000\t1000\t1000\nGid:\t1000\t1000\t1000\t1000\n")
         .linux_stream("lsb_release", "DISTRIB_ID=Ubuntu\nDISTRIB_RELEASE=22.04\n"
                                      'DISTRIB_DESCRIPTION="Ubuntu 22.04.3 LTS"\n')
         .linux_stream("cmd_line", b"/usr/bin/crasher\0--now\0")
         .linux_stream("maps", "55d0c0de0000-55d0c0de5000 r-xp 00000000 08:01 42 /usr/bin/crasher\n"))
    # Breakpad rewrites streams it could not produce as type 0, size 0 (docs/formats.md §1.17)
    return b.stream(0, b"").stream(0, b"")


def windows_arm64() -> MinidumpBuilder:
    regs = {f"x{n}": 0x1000 + n for n in range(29)}
    regs.update(fp=0x2000FF0, lr=0x7FF700001111, sp=0x2000F00, pc=0x7FF700002222, cpsr=0x60000000)
    return (MinidumpBuilder(arch="arm64", os="windows")
            .system_info(major=10, minor=0, build=22621, csd="", cpu_count=8, level=8, revision=0)
            .thread(0x700, regs=regs, stack=(0x2000000, _stack(8)))
            .thread(0x704, regs={"pc": 0x7FF700003333, "sp": 0x3000E00}, stack=(0x3000000, _stack(9)))
            .module(0x7FF700000000, 0x10000, r"C:\arm\app.exe", cv=rsds(GUID_APP, 5, "app.pdb"),
                    timestamp=0x63000000, version=(2, 0, 0, 0))
            .exception(0x704, 0x80000003, 0x7FF700003333, [0]))


def linux_arm64() -> MinidumpBuilder:
    return (MinidumpBuilder(arch="arm64", os="linux")
            .system_info(major=0, minor=0, build=0, csd="Linux 6.1.0 aarch64", product_type=0, suite_mask=0)
            .thread(0x99, regs={"pc": 0xAAAA00001000, "sp": 0xFFFFC0000F00, "x0": 7, "lr": 0xAAAA00000FF0},
                    stack=(0xFFFFC0000000, _stack(10)))
            .module(0xAAAA00000000, 0x20000, "/usr/bin/arm-crasher", cv=elf_build_id(BUILD_ID[:16]))
            .exception(0x99, 6, 0, [], flags=0))


def full_memory_amd64() -> MinidumpBuilder:
    return (MinidumpBuilder(arch="amd64", os="windows", full_memory=True)
            .thread(0x44, regs={"rip": 0x140001000, "rsp": 0x14FE00}, stack=(0x14F000, _stack(11)))
            .thread(0x48, regs={"rip": 0x140001100, "rsp": 0x24FE00}, stack=(0x24F000, _stack(12)))
            .module(0x140000000, 0x8000, r"C:\full\full.exe", version=(3, 1, 0, 7), timestamp=0x61000000)
            .memory64(0x140001000, b"\x48\x89\x5c\x24\x08" + bytes(0xFFB))
            .memory64(0x7FFE0000, _stack(13, 0x1000))
            .memory_info(0x14F000, 0x1000).memory_info(0x24F000, 0x1000)
            .memory_info(0x140001000, 0x1000, protect=0x20, type_=0x1000000)
            .memory_info(0x7FFE0000, 0x1000, protect=0x02)
            .exception(0x48, 0xC000001D, 0x140001100))


def padded_lists_x86() -> MinidumpBuilder:
    """Thread/module/memory lists with 4 bytes of padding after their counts (docs/formats.md §1.17)."""
    return (MinidumpBuilder(arch="x86", os="windows", pad_lists=True)
            .thread(0x1, regs={"eip": 0x401000, "esp": 0x12FF00}, stack=(0x12F000, _stack(14)))
            .thread(0x2, regs={"eip": 0x401100, "esp": 0x22FF00}, stack=(0x22F000, _stack(15)))
            .module(0x400000, 0x3000, r"C:\pad\pad.exe", timestamp=0x50000000)
            .module(0x10000000, 0x6000, r"C:\pad\pad.dll", timestamp=0x50000001)
            .memory(0x500000, b"padded")
            .thread_names({0x2: "second"}))


SCENARIOS: dict[str, Callable[[], MinidumpBuilder]] = {
    "windows_amd64": windows_amd64,
    "windows_x86": windows_x86,
    "linux_amd64_breakpad": linux_amd64_breakpad,
    "windows_arm64": windows_arm64,
    "linux_arm64": linux_arm64,
    "full_memory_amd64": full_memory_amd64,
    "padded_lists_x86": padded_lists_x86,
}

# What each outside reader cannot do, by scenario (checked: it must indeed fail or be blind).
CANNOT_READ = {
    ("windows_arm64", "minidump"): "minidump 0.0.24: ProcessorArchitecture 12 (ARM64) is not in its enum",
    ("linux_arm64", "minidump"): "minidump 0.0.24: ProcessorArchitecture 12 (ARM64) is not in its enum",
    ("padded_lists_x86", "udmp-parser"): "udmp-parser 0.7.0 rejects lists padded after their count",
}
# Outside readers that read the file but misread it, on purpose-built edge cases.
MISREADS = {
    # Seen: thread ids [0, 8288] for [1, 2]: the package reads the 4 pad bytes as the first entry.
    # The padding itself is checked byte by byte in test_padded_lists_have_the_padding.
    ("padded_lists_x86", "minidump"): "minidump 0.0.24 reads the pad after a list count as the first entry",
}
CONTEXT_ARCHES = ("x86", "amd64")  # the only contexts either outside reader decodes


def _expected_debug_id(cv: bytes | None) -> str | None:
    if not cv:
        return None
    if cv[:4] == b"RSDS":
        return pdb70_debug_id(uuid.UUID(bytes_le=cv[4:20]), int.from_bytes(cv[20:24], "little"))
    if cv[:4] == b"NB10":
        return f"{int.from_bytes(cv[8:12], 'little'):08X}{int.from_bytes(cv[12:16], 'little'):X}"
    return elf_debug_id(cv[4:])


def _version(v: tuple[int, int, int, int] | None) -> str | None:
    return None if v is None else ".".join(map(str, v))


@pytest.fixture(params=sorted(SCENARIOS))
def built(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[str, MinidumpBuilder, Path]:
    name = request.param
    builder = SCENARIOS[name]()
    path = builder.write(tmp_path / f"{name}.dmp")
    return name, builder, path


# ----------------------------------------------------------------------------- 1. outside readers
@pytest.mark.parametrize("oracle", sorted(ORACLES))
def test_outside_reader_agrees_with_builder(built: tuple[str, MinidumpBuilder, Path], oracle: str) -> None:
    name, b, path = built
    reason = CANNOT_READ.get((name, oracle))
    try:
        facts = ORACLES[oracle](str(path))
    except OracleCannotRead as exc:
        if reason is None:
            raise
        pytest.skip(f"{reason} ({exc})")
    assert reason is None, f"{oracle} was expected to fail ({reason}) but read the file: update CANNOT_READ"
    misread = MISREADS.get((name, oracle))
    if misread is not None:
        with pytest.raises(AssertionError):
            _check_against_builder(facts, b, oracle)
        pytest.skip(f"known misread: {misread}")
    _check_against_builder(facts, b, oracle)


def _check_against_builder(facts: Facts, b: MinidumpBuilder, oracle: str) -> None:
    tids = [t.tid for t in b.threads]
    assert facts.thread_ids is not None
    if oracle == "udmp-parser":  # keyed by tid: order not kept
        assert facts.thread_ids == sorted(tids)
    else:
        assert facts.thread_ids == tids
    if b.arch in CONTEXT_ARCHES:
        pc, sp = PC[b.arch], SP[b.arch]
        assert facts.thread_regs == {t.tid: (t.regs[pc], t.regs[sp]) for t in b.threads}
    else:
        assert facts.thread_regs == {}, "an outside reader decoded a context it does not support"
    mods = [(m.path, m.base, m.size) for m in b.modules]
    assert facts.modules == (sorted(mods, key=lambda m: m[1]) if oracle == "udmp-parser" else mods)
    assert facts.versions == {m.base: _version(m.version) for m in b.modules}
    if facts.debug_ids is not None:  # udmp-parser hands out the raw CodeView bytes
        assert facts.debug_ids == {m.base: _expected_debug_id(m.cv) for m in b.modules if m.cv}
    exc = b.exc
    assert exc is not None
    assert facts.exception_tid == exc.tid
    if oracle == "minidump":
        assert (facts.exception_code, facts.exception_address, facts.exception_params) == (
            exc.code, exc.address, exc.params)
        assert facts.os == b.os and facts.cpu_arch == b.arch
        assert b.sys is not None
        version = f"{b.sys.major}.{b.sys.minor}.{b.sys.build}"
        assert facts.os_version == (None if version == "0.0.0" else version)  # all zero: not recorded
        assert (facts.csd, facts.cpu_count) == (b.sys.csd or "", b.sys.cpu_count)
        assert facts.pid == (b.misc["pid"] if b.misc is not None and b.misc["pid"] >= 0 else None)
        assert (facts.unloaded or []) == [(m.path, m.base, m.size) for m in b.unloaded]
        if b.arch in CONTEXT_ARCHES and exc.regs is not None:
            assert facts.exception_regs == {exc.tid: (exc.regs[PC[b.arch]], exc.regs[SP[b.arch]])}
    _check_memory(facts, b, oracle)


def _captured(b: MinidumpBuilder) -> list[tuple[int, bytes]]:
    """Every range the builder captured: memory list (with stacks) and memory64."""
    stacks = [t.stack for t in b.threads if t.stack is not None]
    return stacks + b.mem + b.mem64


def _check_memory(facts: Facts, b: MinidumpBuilder, oracle: str) -> None:
    # which ranges each outside reader can read: see the module docstring
    if oracle == "udmp-parser" or b.mem64 or b.full_memory:
        readable = ([t.stack for t in b.threads if t.stack is not None] if b.full_memory else []) + b.mem64
        if oracle == "udmp-parser" and not readable:
            return
    else:
        readable = _captured(b)
    assert facts.read is not None, f"{oracle} offers no memory reader"
    assert sorted(facts.ranges) == sorted((a, len(d)) for a, d in readable)
    for address, data in readable:
        assert facts.read(address, len(data)) == data
        assert facts.read(address + len(data) - 3, 3) == data[-3:]


# ----------------------------------------------------------------------------- 2. our reader
def test_our_reader_agrees_with_builder(built: tuple[str, MinidumpBuilder, Path]) -> None:
    import dumpkit
    from dumpkit.errors import NotCapturedError

    name, b, path = built
    with dumpkit.open(path) as dump:
        assert dump.source.format == "minidump"
        assert dump.system.cpu_arch == ("arm64" if b.arch == "arm64_old" else b.arch)
        assert dump.system.os == b.os
        if b.sys is not None:
            assert dump.system.cpu_count == b.sys.cpu_count
            if b.sys.csd:
                assert dump.system.os_detail == b.sys.csd or b.sys.csd in (dump.system.os_detail or "")
        # threads: ids, order (list order, the crashing thread moved first), registers; the
        # crashing thread carries the EXCEPTION context
        exc = b.exc
        order = sorted(b.threads, key=lambda t: not (exc is not None and t.tid == exc.tid))
        assert [t.id for t in dump.threads] == [t.tid for t in order]
        for bt, t in zip(order, dump.threads, strict=True):
            crashed = exc is not None and bt.tid == exc.tid
            assert t.crashed == crashed
            want = dict(exc.regs) if crashed and exc is not None and exc.regs is not None else bt.regs
            if crashed:
                assert t.context_source == "exception"
            got = {k: t.registers[k] for k in want if k in t.registers}
            assert PC[_ctx_arch(b.arch)] in got and SP[_ctx_arch(b.arch)] in got, sorted(t.registers)
            assert got == {k: want[k] for k in got}
            if bt.stack is not None:
                assert (t.stack_start, t.stack_size) == (bt.stack[0], len(bt.stack[1]))
            assert t.name == b.names.get(bt.tid)
        # modules
        assert [(m.path, m.base, m.size) for m in dump.modules] == [
            (m.path, m.base, m.size) for m in b.modules]
        for bm, m in zip(b.modules, dump.modules, strict=True):
            assert m.version == _version(bm.version), m.path
            assert m.timestamp == (bm.timestamp or None)
            assert m.debug_id == _expected_debug_id(bm.cv), m.path
            if bm.cv and bm.cv[:4] == b"LEpB":
                assert m.code_id == m.build_id == bm.cv[4:].hex()
            elif b.os == "windows" and bm.timestamp:
                assert m.code_id == f"{bm.timestamp:08X}{bm.size:x}"
            if bm.cv and bm.cv[:4] == b"RSDS":
                assert m.debug_file == bm.cv[24:-1].decode()
        assert [(m.path, m.base, m.size) for m in dump.unloaded_modules] == [
            (m.path, m.base, m.size) for m in b.unloaded]
        # crash
        if exc is None:
            assert dump.crash is None
        else:
            assert dump.crash is not None
            c = dump.crash
            assert (c.thread_id, c.code, c.address, c.parameters) == (
                exc.tid, exc.code, exc.address, exc.params)
            assert c.kind == ("exception" if b.os == "windows" else "signal")
            if b.os != "windows":
                assert c.subcode == exc.flags
        if b.misc is not None and b.misc["pid"] >= 0:
            assert dump.process is not None and dump.process.pid == b.misc["pid"]
        # memory: every captured range reads back; just past it does not
        captured = _captured(b)
        if captured:
            assert dump.memory is not None
            for address, data in captured:
                assert dump.memory.read(address, len(data)) == data
            last_address, last_data = max(captured)
            with pytest.raises(NotCapturedError):
                dump.memory.read(last_address + len(last_data), 1)
        bad = [d for d in dump.diagnostics if d.severity != "info"]
        assert not bad, f"{name}: a clean builder dump gave diagnostics {bad}"
        if name == "linux_amd64_breakpad":
            _check_linux_streams(dump)


def _ctx_arch(arch: str) -> str:
    return "arm64" if arch == "arm64_old" else arch


def _check_linux_streams(dump: object) -> None:
    from dumpkit.model import Dump

    assert isinstance(dump, Dump)
    assert dump.process is not None
    assert (dump.process.pid, dump.process.ppid, dump.process.name) == (20001, 1, "crasher")
    assert (dump.process.uid, dump.process.gid) == (1000, 1000)
    assert dump.process.command_line == "/usr/bin/crasher --now"
    assert "Ubuntu 22.04.3 LTS" in (dump.system.os_version or "") + (dump.system.os_detail or "") + " ".join(
        dump.annotations.values())


def test_builder_dumps_give_valid_documents(built: tuple[str, MinidumpBuilder, Path]) -> None:
    from dumpkit.pipeline.document.normalize import document_for

    _, b, path = built
    doc = document_for(str(path))
    assert doc["kind"] == "dump", doc.get("error")
    assert len(doc["threads"]) == len(b.threads)
    assert len(doc["modules"]) == len(b.modules)


def test_padded_lists_have_the_padding() -> None:
    """The padded variant: count, 4 zero bytes, then the entries (docs/formats.md §1.17), for each list."""
    data = padded_lists_x86().build()
    count = int.from_bytes(data[8:12], "little")
    streams = {}
    for i in range(count):
        stype, size, rva = struct.unpack_from("<III", data, 0x20 + 12 * i)
        streams[stype] = (size, rva)
    for stype, entry_size, first in ((3, 48, 1), (4, 108, 0x400000), (5, 16, 0x12F000), (24, 12, 2)):
        size, rva = streams[stype]
        n = int.from_bytes(data[rva:rva + 4], "little")
        assert data[rva + 4:rva + 8] == bytes(4)
        assert size == 8 + n * entry_size
        width = 8 if stype in (4, 5) else 4
        assert int.from_bytes(data[rva + 8:rva + 8 + width], "little") == first


def test_builder_refuses_unknown_registers() -> None:
    with pytest.raises(KeyError):
        MinidumpBuilder(arch="amd64").thread(1, regs={"eip": 1}).build()
