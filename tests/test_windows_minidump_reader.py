"""The minidump reader (dumpkit/readers/windows_minidump.py) on the corpus and on small hand-made files.

Corpus: every MDMP opens or fails with a :class:`DumpkitError` (never a traceback), the
deliberately malformed ones included, and the facts MANIFEST.tsv records (threads=N,
modules=N, exception=0x...) come out. Hand-made files are built here with ``struct`` only
(never with our .ksy) for the reader's own rules: the 4-byte list padding, a stream past the
end of the file, unknown and duplicate streams, Memory64List offsets, contexts, privacy.
Field-by-field comparisons with outside readers live in tests/test_minidump_oracles.py.
"""
from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

import dumpkit
from dumpkit.errors import DumpkitError, DumpParseError
from dumpkit.model import Dump
from dumpkit.readers import windows_minidump
from tests.conftest import corpus_files, corpus_id, manifest

FILES = corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp")
MALFORMED = re.compile(r"malformed|INVALID|TRUNCATED")
FACT = re.compile(r"\b(threads|modules|exception)=(0x[0-9a-fA-F]+|\d+)")

THREAD_LIST, MODULE_LIST, MEMORY_LIST, EXCEPTION, SYSTEM_INFO = 3, 4, 5, 6, 7
THREAD_EX_LIST, MEMORY64_LIST, UNLOADED_MODULE_LIST, MEMORY_INFO_LIST = 8, 9, 14, 16
LINUX_PROC_STATUS, LINUX_CMD_LINE, LINUX_ENVIRON = 0x47670004, 0x47670006, 0x47670007


# ---------------------------------------------------------------------- corpus
@pytest.mark.corpus
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_corpus_file_opens_or_fails_cleanly(path: Path) -> None:
    row = manifest().get(corpus_id(path), {})
    try:
        dump = dumpkit.open(path)
    except DumpkitError as exc:
        assert exc.code, "a dumpkit error always carries a code"
        assert MALFORMED.search(row.get("remarks", "")), f"a valid dump was refused: {exc}"
        return
    with dump:
        assert dump.source.format == "minidump"
        assert all(d.code and d.message for d in dump.diagnostics)
        if dump.threads and dump.crash is not None:
            assert dump.threads[0].crashed, "the crashing thread comes first"


@pytest.mark.corpus
@pytest.mark.parametrize("path", [p for p in FILES if FACT.search(manifest().get(corpus_id(p), {})
                                                                  .get("notable_contents(auto-parsed)", ""))],
                         ids=corpus_id)
def test_corpus_facts_match_manifest(path: Path) -> None:
    row = manifest()[corpus_id(path)]
    facts = dict(FACT.findall(row["notable_contents(auto-parsed)"]))
    if MALFORMED.search(row.get("remarks", "")):
        pytest.skip("malformed on purpose: its MANIFEST facts come from a broken directory")
    with dumpkit.open(path) as dump:
        if "threads" in facts:
            assert len(dump.threads) == int(facts["threads"])
        if "modules" in facts:
            assert len(dump.modules) == int(facts["modules"])
        if "exception" in facts:
            assert dump.crash is not None and dump.crash.code == int(facts["exception"], 16)


@pytest.mark.corpus
def test_corpus_windows_and_linux_details(corpus_dir: Path) -> None:
    with dumpkit.open(corpus_dir / "mdmp/breakpad_ascii_read_av.dmp") as dump:
        system, crash = dump.system, dump.crash
        assert (system.os, system.cpu_arch, system.os_version) == ("windows", "x86", "6.1.7600")
        assert crash is not None and (crash.kind, crash.code_space) == ("exception", "ntstatus")
        crashed = dump.threads[0]
        assert crashed.crashed and crashed.context_source == "exception" and "eip" in crashed.registers
        exe = dump.modules[0]
        assert exe.code_id == f"{exe.timestamp:08X}{exe.size:x}"
        assert exe.debug_id is not None and len(exe.debug_id) >= 33 and exe.debug_file
        assert dump.memory is not None and crashed.stack_start is not None and crashed.stack_size
        assert len(dump.memory.read(crashed.stack_start, crashed.stack_size)) == crashed.stack_size
    with dumpkit.open(corpus_dir / "mdmp/lldb_unittest_linux-x86_64.dmp") as dump:
        assert dump.system.os == "linux" and dump.system.kernel_release and dump.system.page_size == 4096
        assert dump.crash is not None and (dump.crash.kind, dump.crash.code) == ("signal", 11)
        assert dump.process is not None and dump.process.pid == dump.crash.thread_id
        elf = dump.modules[0]
        assert elf.build_id and elf.code_id == elf.build_id and elf.debug_id and elf.debug_id.endswith("0")
        assert dump.regions and "linux_proc_status" in dump.annotations
        assert "LinuxEnviron" not in str(dump.annotations) and dump.source.details["linux_environ"]


# ---------------------------------------------------------------------- hand-made files
class _File:
    """A minidump laid out by hand: header, directory, then blobs appended in order."""

    def __init__(self, num_streams: int) -> None:
        self.data = bytearray(32 + 12 * num_streams)
        self.directory: list[tuple[int, int, int]] = []

    def blob(self, payload: bytes) -> int:
        rva = len(self.data)
        self.data += payload + bytes(-len(payload) % 4)
        return rva

    def stream(self, kind: int, payload: bytes) -> int:
        rva = self.blob(payload)
        self.directory.append((kind, len(payload), rva))
        return rva

    def entry(self, kind: int, size: int, rva: int) -> None:
        self.directory.append((kind, size, rva))

    def build(self, *, version: int = 0xA793) -> bytes:
        out = bytearray(self.data)
        out[0:32] = struct.pack("<4sIIIIIQ", b"MDMP", version, len(self.directory), 32, 0, 1_700_000_000, 0)
        for i, (kind, size, rva) in enumerate(self.directory):
            out[32 + 12 * i:44 + 12 * i] = struct.pack("<III", kind, size, rva)
        return bytes(out)


def _string(text: str) -> bytes:
    raw = text.encode("utf-16-le")
    return struct.pack("<I", len(raw)) + raw + b"\0\0"


def _system_info(arch: int = 9, platform: int = 2, csd_rva: int = 0) -> bytes:
    return struct.pack("<HHHBBIIIIIHH", arch, 6, 0x3A09, 4, 1, 10, 0, 19041, platform, csd_rva, 0, 0) \
        + b"GenuineIntel" + bytes(12)


def _amd64_context(rip: int, rsp: int, flags: int = 0x10000B) -> bytes:
    ctx = bytearray(0x4D0)
    struct.pack_into("<I", ctx, 0x30, flags)
    struct.pack_into("<Q", ctx, 0x98, rsp)
    struct.pack_into("<Q", ctx, 0xF8, rip)
    return bytes(ctx)


def _thread(tid: int, stack: tuple[int, int, int], context: tuple[int, int]) -> bytes:
    start, size, rva = stack
    return struct.pack("<IIIIQQIIII", tid, 0, 0x20, 0, 0x7FF000, start, size, rva, *context)


def _module(base: int, size: int, name_rva: int, timestamp: int = 0x5F000000) -> bytes:
    version = struct.pack("<13I", 0xFEEF04BD, 0x10000, 0x000A0000, 0x4A610001, *([0] * 9))
    return struct.pack("<QIIII", base, size, 0, timestamp, name_rva) + version + bytes(8 + 8 + 16)


def _open(tmp_path: Path, data: bytes) -> Dump:
    path = tmp_path / "made.dmp"
    path.write_bytes(data)
    return dumpkit.open(path)


@pytest.mark.parametrize("padded", [False, True], ids=["unpadded", "padded"])
def test_count_prefixed_lists_with_and_without_padding(tmp_path: Path, padded: bool) -> None:
    pad = bytes(4) if padded else b""
    f = _File(4)
    f.stream(SYSTEM_INFO, _system_info())
    ctx = f.blob(_amd64_context(rip=0x7FF612340000, rsp=0x1000F0))
    stack_bytes = bytes(range(256)) * 2
    stack = f.blob(stack_bytes)
    name = f.blob(_string("C:\\app\\app.exe"))
    f.stream(THREAD_LIST, struct.pack("<I", 1) + pad + _thread(77, (0x100000, 512, stack), (0x4D0, ctx)))
    f.stream(MODULE_LIST, struct.pack("<I", 1) + pad + _module(0x7FF612300000, 0x50000, name))
    f.stream(MEMORY_LIST, struct.pack("<I", 1) + pad + struct.pack("<QII", 0x100000, 512, stack))
    with _open(tmp_path, f.build()) as dump:
        assert not dump.diagnostics
        [thread] = dump.threads
        assert (thread.id, thread.registers["rip"], thread.registers["rsp"]) == (77, 0x7FF612340000, 0x1000F0)
        assert thread.context_source == "thread_list" and thread.stack_size == 512
        [module] = dump.modules
        assert (module.base, module.size, module.path) == (0x7FF612300000, 0x50000, "C:\\app\\app.exe")
        assert module.version == "10.0.19041.1" and module.code_id == "5F00000050000"
        assert dump.memory is not None and dump.memory.read(0x100010, 4) == stack_bytes[0x10:0x14]


def test_stream_past_end_of_file_is_a_diagnostic(tmp_path: Path) -> None:
    f = _File(2)
    f.stream(SYSTEM_INFO, _system_info())
    f.entry(MODULE_LIST, 112, 0x100000)
    with _open(tmp_path, f.build()) as dump:
        assert dump.system.os == "windows" and dump.modules == []
        [diag] = dump.diagnostics
        assert (diag.code, diag.structure, diag.offset) == ("truncated_stream", "ModuleListStream", 0x100000)


def test_malformed_stream_spoils_only_itself(tmp_path: Path) -> None:
    f = _File(2)
    f.stream(SYSTEM_INFO, _system_info())
    f.stream(MODULE_LIST, struct.pack("<I", 1000) + bytes(108))  # count larger than the stream holds
    with _open(tmp_path, f.build()) as dump:
        assert dump.system.cpu_arch == "amd64" and dump.modules == []
        assert [d.structure for d in dump.diagnostics] == ["ModuleListStream"]


def test_unknown_stream_is_an_info_diagnostic(tmp_path: Path) -> None:
    f = _File(2)
    f.stream(0x12345678, b"opaque vendor data")
    f.stream(SYSTEM_INFO, _system_info())
    with _open(tmp_path, f.build()) as dump:
        [diag] = dump.diagnostics
        assert (diag.code, diag.severity) == ("unknown_stream", "info")
        assert dump.system.os == "windows" and "0x12345678" in str(dump.source.details["streams"])


def test_duplicate_stream_keeps_the_last_one(tmp_path: Path) -> None:
    f = _File(2)
    f.stream(SYSTEM_INFO, _system_info(arch=0))
    f.stream(SYSTEM_INFO, _system_info(arch=12))
    with _open(tmp_path, f.build()) as dump:
        assert dump.system.cpu_arch == "arm64"
        assert [(d.code, d.severity) for d in dump.diagnostics] == [("duplicate_stream", "warning")]


def test_memory64_offsets_are_a_running_sum_and_rva0_stacks_use_them(tmp_path: Path) -> None:
    f = _File(3)
    f.stream(SYSTEM_INFO, _system_info())
    ctx = f.blob(_amd64_context(rip=0x401000, rsp=0x20010))
    f.stream(THREAD_LIST, struct.pack("<I", 1) + _thread(5, (0x20000, 0, 0), (0x4D0, ctx)))
    ranges = [(0x10000, 0x100), (0x20000, 0x200), (0x20200, 0x100)]  # the last two are contiguous
    base = len(f.data) + 16 + 16 * len(ranges)  # data right after the descriptors
    body = struct.pack("<QQ", len(ranges), base) + b"".join(struct.pack("<QQ", a, n) for a, n in ranges)
    f.stream(MEMORY64_LIST, body)
    assert len(f.data) == base
    f.blob(b"\x11" * 0x100 + b"\x22" * 0x200 + b"\x33" * 0x100)
    with _open(tmp_path, f.build()) as dump:
        assert not dump.diagnostics and dump.source.variant == "full-memory"
        assert dump.memory is not None
        assert dump.memory.read(0x100FF, 1) == b"\x11"
        assert dump.memory.read(0x201FE, 4) == b"\x22\x22\x33\x33"
        assert (dump.threads[0].stack_start, dump.threads[0].stack_size) == (0x20000, 0x300)


def test_header_sized_lists_use_their_entry_stride(tmp_path: Path) -> None:
    """MemoryInfoList / UnloadedModuleList start at SizeOfHeader and stride by SizeOfEntry."""
    f = _File(4)
    f.stream(SYSTEM_INFO, _system_info())
    name = f.blob(_string("C:\\old.dll"))
    infos = [(0x10000, 0x1000, 0x1000, 0x20, 0x1000000), (0x11000, 0x3000, 0x2000, 0, 0x20000),
             (0x14000, 0x1000, 0x10000, 1, 0)]
    entry = b"".join(struct.pack("<QQIIQIIII", base, base, 4, 0, size, state, protect, kind, 0) + b"EXTRA..."
                     for base, size, state, protect, kind in infos)
    f.stream(MEMORY_INFO_LIST, struct.pack("<IIQ", 24, 56, len(infos)) + bytes(8) + entry)
    unloaded = struct.pack("<QIIII", 0x6000000, 0x2000, 7, 0x5F000001, name) + bytes(4)
    f.stream(UNLOADED_MODULE_LIST, struct.pack("<III", 16, 28, 1) + bytes(4) + unloaded)
    ctx = f.blob(_amd64_context(rip=0x1234, rsp=0x5678))
    f.stream(THREAD_EX_LIST, struct.pack("<I", 1) + _thread(9, (0, 0, 0), (0x4D0, ctx)) + bytes(16))
    with _open(tmp_path, f.build()) as dump:
        assert not dump.diagnostics
        assert [(r.start, r.size, r.permissions, r.state, r.type) for r in dump.regions] == [
            (0x10000, 0x1000, "r-x", "commit", "image"), (0x11000, 0x3000, None, "reserve", "private"),
            (0x14000, 0x1000, None, "free", None)]
        [old] = dump.unloaded_modules
        assert (old.base, old.size, old.path, old.checksum, old.code_id) == (
            0x6000000, 0x2000, "C:\\old.dll", 7, "5F0000012000")
        assert [(t.id, t.registers["rip"]) for t in dump.threads] == [(9, 0x1234)]


def test_unusable_context_gives_a_diagnostic_and_no_registers(tmp_path: Path) -> None:
    f = _File(2)
    f.stream(SYSTEM_INFO, _system_info())
    ctx = f.blob(_amd64_context(rip=1, rsp=2)[:64])
    wrong_cpu = f.blob(_amd64_context(rip=1, rsp=2, flags=0x1003F))  # x86 CPU bits
    f.stream(THREAD_LIST, struct.pack("<I", 2) + _thread(1, (0, 0, 0), (64, ctx))
             + _thread(2, (0, 0, 0), (0x4D0, wrong_cpu)))
    with _open(tmp_path, f.build()) as dump:
        assert [t.registers for t in dump.threads] == [{}, {}]
        assert [d.code for d in dump.diagnostics] == ["bad_context", "bad_context"]
        assert dump.diagnostics[0].structure == "ThreadListStream[0].ThreadContext"


def test_linux_streams_and_environment_privacy(tmp_path: Path) -> None:
    f = _File(5)
    csd = f.blob(_string("Linux 6.1.0-18-amd64 #1 SMP PREEMPT_DYNAMIC x86_64"))
    f.stream(SYSTEM_INFO, _system_info(platform=0x8201, csd_rva=csd))
    f.stream(LINUX_PROC_STATUS, b"Name:\tcrashy\nPid:\t4242\nPPid:\t1\nUid:\t1000\t1000\t1000\t1000\n")
    f.stream(LINUX_CMD_LINE, b"./crashy\0--flag\0")
    f.stream(LINUX_ENVIRON, b"API_TOKEN=hunter2\0")
    exc = struct.pack("<IIIIQQII", 4242, 0, 11, 1, 0, 0xDEAD, 0, 0) + bytes(15 * 8) + struct.pack("<II", 0, 0)
    f.stream(EXCEPTION, exc)
    with _open(tmp_path, f.build()) as dump:
        assert dump.system.kernel_release == "6.1.0-18-amd64"
        process, crash = dump.process, dump.crash
        assert process is not None and crash is not None
        assert (process.pid, process.ppid, process.uid, process.name) == (4242, 1, 1000, "crashy")
        assert process.command_line == "./crashy --flag"
        assert (crash.kind, crash.code, crash.subcode, crash.address) == ("signal", 11, 1, 0xDEAD)
        assert "hunter2" not in repr(dump)
        assert dump.threads[0].crashed and dump.threads[0].id == 4242  # added from the exception stream


@pytest.mark.parametrize("data", [
    b"",
    b"MDMP",
    b"PMDM" + bytes(60),  # big-endian
    struct.pack("<4sIIIIIQ", b"MDMP", 0xBEEF, 0, 32, 0, 0, 0),  # wrong version
    struct.pack("<4sIIIIIQ", b"MDMP", 0xA793, 1000, 32, 0, 0, 0),  # directory past the end
], ids=["empty", "short", "big-endian", "version", "directory"])
def test_unreadable_header_or_directory_fails_cleanly(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "bad.dmp"
    path.write_bytes(data)
    with pytest.raises(DumpParseError):
        windows_minidump.read(str(path))


def test_utf16_reads_like_bytes_decode() -> None:
    """``utf16`` (the codec function, with ``final``) gives ``bytes.decode("utf-16-le",
    "replace")`` cut at the first NUL: odd lengths, lone surrogates, NULs anywhere."""
    import random

    from dumpkit.readers.minidump_common import utf16

    rng = random.Random(16)
    for _ in range(20000):
        units = (0, 0x41, 0xD8, 0xDC, 0xFF, rng.randrange(256))
        raw = bytes(rng.choice(units) for _ in range(rng.randrange(12)))
        assert utf16(raw) == raw.decode("utf-16-le", errors="replace").split("\0", 1)[0], raw
