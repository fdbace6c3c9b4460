"""``dumpkit shrink`` end to end: every shrinkable source in the corpus plus cores made here.

For each source IN, OUT = shrink(IN) must
* stay within ``--max-size``;
* normalize to the same crash, thread ids, crashing-thread registers, modules and system
  (``dumpkit.converters.roundtrip``);
* hold the crashing thread's stack bytes exactly as IN has them at the same addresses;
* open in the outside readers ``minidump`` and ``udmp-parser`` and in ``lldb`` with the same
  threads (ids, pc/sp) and modules (names, bases, sizes) as IN.

Known divergences of the outside readers, skipped one by one with the reason:
* ``minidump`` 0.0.24 rejects ProcessorArchitecture 12 (ARM64) and reads registers of x86 /
  AMD64 contexts only; ``udmp-parser`` reads registers of x86 / AMD64 only;
* a source thread without a usable context gets none in OUT (DataSize 0): udmp-parser then
  refuses the file and lldb drops the thread;
* lldb keeps one module per file name (a Breakpad dump listing one ELF file twice shows it
  once) and shows an ARM pc with the Thumb bit cleared.
"""
from __future__ import annotations

import random
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import dumpkit
from dumpkit.converters.shrink import ShrinkOptions, ShrinkReport, shrink_file, write_full_memory
from dumpkit.errors import DumpkitError
from dumpkit.model import PC_REGISTER, SP_REGISTER, Dump
from dumpkit.pipeline.cli import main as cli_main
from dumpkit.pipeline.cli import roundtrip_differences
from tests.builders.kernel_dump import write_bitmap, write_complete
from tests.builders.kernel_image import KernelImage
from tests.conftest import SUMMARIES, corpus_files, corpus_id, corpus_root, manifest
from tests.elf_fixtures import HOW, CrasherCore, crasher_cores
from tests.minidump_oracles import OracleCannotRead, read_minidump_pkg, read_udmp

__all__ = ["crasher_cores"]  # the session fixture, re-exported so pytest sees it here

#: manifest ``arch`` values whose CPU has a standard minidump context
_ELF_ARCHES = {"x86_64", "i386", "aarch64", "arm", "x32"}
_MDMP_ARCHES = {"amd64", "x86", "arm64", "arm"}
_WIDTH = {"x86": 0xFFFFFFFF, "arm": 0xFFFFFFFF}
HAVE_LLDB = shutil.which("lldb") is not None

def _shrinkable_corpus() -> list[Path]:
    rows = manifest()
    root = corpus_root()
    out = []
    for path in corpus_files("elfcore/*", "mdmp/*", "mdmp_from_yaml/*.dmp", "windows_kernel/*"):
        row = rows.get(str(path.relative_to(root))) if root else None
        if row is None:
            continue
        fmt, arch = row.get("format", ""), row.get("arch", "")
        owners = row.get("notable_contents(auto-parsed)", "")
        linux_core = "NetBSD" not in owners and "OpenBSD" not in owners
        if (fmt == "ELF core" and arch in _ELF_ARCHES and linux_core) or \
                (fmt == "MDMP" and arch in _MDMP_ARCHES) or fmt.startswith("PAGEDU"):
            out.append(path)
    return out


CORPUS = _shrinkable_corpus()


# ---------------------------------------------------------------------------- self-made sources
@pytest.fixture(scope="session")
def gdb_core(request: pytest.FixtureRequest) -> Path:
    """tests/fixtures/crasher.c (4 threads) dead of SIGSEGV at 0xdead0, cored by gdb."""
    cores: dict[tuple[str, bool], CrasherCore] = request.getfixturevalue("crasher_cores")
    return cores[("segv", True)].core


@pytest.fixture(scope="session")
def full_memory_mdmp(gdb_core: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A full-memory minidump (Memory64List) of everything the gdb core captured."""
    out = tmp_path_factory.mktemp("full") / "crasher.full.dmp"
    with dumpkit.open(gdb_core) as dump:
        write_full_memory(dump, out)
    return out


SELF_MADE = [f"crasher:{how}:{'fp' if fp else 'nofp'}" for how in HOW for fp in (True, False)]
SELF_MADE.append("full_memory_mdmp")
SOURCES = [pytest.param(p, id=corpus_id(p)) for p in CORPUS] + [pytest.param(n, id=n) for n in SELF_MADE]


# ---------------------------------------------------------------------------- shrinking, cached
_CACHE: dict[str, tuple[Path, ShrinkReport]] = {}


@pytest.fixture
def source(request: pytest.FixtureRequest) -> Path:
    param = request.param
    if isinstance(param, str) and param.startswith("crasher:"):
        _, how, fp = param.split(":")
        cores: dict[tuple[str, bool], CrasherCore] = request.getfixturevalue("crasher_cores")
        return cores[(how, fp == "fp")].core
    if isinstance(param, str):
        path: Path = request.getfixturevalue(param)
        return path
    return Path(param)


@pytest.fixture
def shrunk(source: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ShrinkReport]:
    key = str(source)
    if key not in _CACHE:
        out = tmp_path_factory.mktemp("shrunk") / (source.name + ".dmp")
        _CACHE[key] = (out, shrink_file(source, out, ShrinkOptions()))
    return _CACHE[key]


def _expected(path: Path) -> dict[str, Any]:
    """What OUT should say, from IN's model: thread ids, pc/sp per thread, modules."""
    with dumpkit.open(path) as dump:
        return _facts_of(dump)


def _facts_of(dump: Dump) -> dict[str, Any]:
    arch = dump.system.cpu_arch
    pc, sp, mask = PC_REGISTER[arch], SP_REGISTER[arch], _WIDTH.get(arch, (1 << 64) - 1)
    return {
        "arch": arch,
        "ids": sorted(t.id for t in dump.threads),
        "regs": {t.id: (t.registers[pc] & mask, t.registers[sp] & mask)
                 for t in dump.threads if pc in t.registers and sp in t.registers},
        "no_context": [t.id for t in dump.threads if not t.registers],
        "modules": sorted((m.path, m.base, m.size) for m in dump.modules),
    }


# ---------------------------------------------------------------------------- the round trip
@pytest.mark.corpus
@pytest.mark.parametrize("source", SOURCES, indirect=True)
def test_roundtrip(source: Path, shrunk: tuple[Path, ShrinkReport]) -> None:
    out, report = shrunk
    assert out.stat().st_size == report.output.size <= ShrinkOptions().max_size
    assert report.output.zero_filled == 0
    assert roundtrip_differences(source, out) == []


@pytest.mark.corpus
@pytest.mark.parametrize("source", SOURCES, indirect=True)
def test_crash_stack_bytes_equal(source: Path, shrunk: tuple[Path, ShrinkReport]) -> None:
    out, _ = shrunk
    with dumpkit.open(out) as small, dumpkit.open(source) as big:
        crashed = small.crashing_thread or (small.threads[0] if small.threads else None)
        if crashed is None or not crashed.stack_size or crashed.stack_start is None:
            source_thread = big.crashing_thread or (big.threads[0] if big.threads else None)
            sp = source_thread.registers.get(SP_REGISTER[big.system.cpu_arch]) if source_thread else None
            assert sp is None or big.memory is None or not big.memory.is_captured(sp), \
                "the source holds the crashing thread's stack but the output has none"
            pytest.skip("the source captured no stack memory for its crashing thread")
        assert small.memory is not None and big.memory is not None
        start, size = crashed.stack_start, crashed.stack_size
        assert small.memory.read(start, size) == big.memory.read(start, size)
        sp = crashed.registers.get(SP_REGISTER[small.system.cpu_arch])
        assert sp is not None and start <= sp < start + size


# ---------------------------------------------------------------------------- outside readers
_AGREE: dict[str, list[int]] = {}


def _count(reader: str, ok: bool) -> None:
    tally = _AGREE.setdefault(reader, [0, 0])
    tally[0 if ok else 1] += 1
    line = f"shrink outputs, {reader} agrees: {tally[0]} agree, {tally[1]} differ"
    SUMMARIES[:] = [s for s in SUMMARIES if not s.startswith(f"shrink outputs, {reader} ")] + [line]


@pytest.mark.corpus
@pytest.mark.parametrize("reader", ["minidump", "udmp-parser"])
@pytest.mark.parametrize("source", SOURCES, indirect=True)
def test_outside_readers_agree(source: Path, shrunk: tuple[Path, ShrinkReport], reader: str) -> None:
    out, _ = shrunk
    want = _expected(source)
    if reader == "minidump" and want["arch"] == "arm64":
        pytest.skip("the minidump package (0.0.24) rejects ProcessorArchitecture 12 (ARM64)")
    if reader == "udmp-parser" and want["no_context"]:
        pytest.skip(f"threads {want['no_context']} have no usable context in the source; OUT writes "
                    "none (DataSize 0), which udmp-parser refuses")
    try:
        facts = (read_minidump_pkg if reader == "minidump" else read_udmp)(str(out))
    except OracleCannotRead as exc:
        _count(reader, False)
        pytest.fail(f"{reader} cannot read the shrunk file: {exc}")
    problems = []
    if sorted(facts.thread_ids or []) != want["ids"]:
        problems.append(f"thread ids {sorted(facts.thread_ids or [])} != {want['ids']}")
    for tid, regs in facts.thread_regs.items():
        if tid in want["regs"] and regs != want["regs"][tid]:
            problems.append(f"thread {tid} pc/sp {regs} != {want['regs'][tid]}")
    if want["arch"] in ("x86", "amd64"):
        missing = set(want["regs"]) - set(facts.thread_regs)
        if missing:
            problems.append(f"no registers read for threads {sorted(missing)}")
    if sorted(facts.modules or []) != want["modules"]:
        problems.append(f"modules differ: {sorted(set(facts.modules or []) ^ set(want['modules']))[:4]}")
    _count(reader, not problems)
    assert problems == []


def _lldb(path: Path) -> tuple[dict[int, int], list[tuple[int, str]]]:
    proc = subprocess.run(["lldb", "--batch", "-c", str(path), "-o", "thread list", "-o", "image list"],
                          capture_output=True, text=True, errors="replace", timeout=120)
    threads = {int(m.group(1), 0): int(m.group(2), 16)
               for m in re.finditer(r"thread #\d+: tid = (\w+), (0x[0-9a-f]+)", proc.stdout)}
    modules = [(int(m.group(1), 16), m.group(2).strip())
               for m in re.finditer(r"^\[\s*\d+\]\s+(?:\S+\s+)?(0x[0-9a-f]+) (.*)$", proc.stdout, re.M)]
    return threads, modules


def _basename(path: str) -> str:
    return path.replace("\\", "/").rsplit("/", 1)[-1]


@pytest.mark.corpus
@pytest.mark.skipif(not HAVE_LLDB, reason="lldb not installed (make deps installs Debian's lldb)")
@pytest.mark.parametrize("source", SOURCES, indirect=True)
def test_lldb_agrees(source: Path, shrunk: tuple[Path, ShrinkReport]) -> None:
    out, _ = shrunk
    want = _expected(source)
    if want["no_context"]:
        pytest.skip(f"threads {want['no_context']} have no usable context in the source; lldb drops "
                    "threads without one")
    threads, modules = _lldb(out)
    problems = []
    if sorted(threads) != want["ids"]:
        problems.append(f"thread ids {sorted(threads)} != {want['ids']}")
    thumb = ~1 if want["arch"] == "arm" else ~0  # lldb shows ARM pcs without the Thumb bit
    for tid, pc in threads.items():
        if tid in want["regs"] and pc != want["regs"][tid][0] & thumb:
            problems.append(f"thread {tid} pc {pc:#x} != {want['regs'][tid][0]:#x}")
    lowest: dict[str, int] = {}  # lldb keeps one module per file name: the lowest one
    for path, base, _ in want["modules"]:
        name = _basename(path)
        lowest[name] = min(base, lowest.get(name, base))
    expected = sorted((base, name) for name, base in lowest.items())
    got = sorted((base, _basename(name)) for base, name in modules)
    if got != expected:
        problems.append(f"modules differ: {sorted(set(got) ^ set(expected))[:4]}")
    _count("lldb", not problems)
    assert problems == []


# ---------------------------------------------------------------------------- budgets and the CLI
@pytest.mark.parametrize("max_size", [16 * 1024, 64 * 1024, 256 * 1024])
def test_self_made_core_within_budget(gdb_core: Path, tmp_path: Path, max_size: int) -> None:
    out = tmp_path / "small.dmp"
    report = shrink_file(gdb_core, out, ShrinkOptions(max_size=max_size))
    assert out.stat().st_size <= max_size
    assert report.kept.get("crash_stack", 0) > 0
    assert roundtrip_differences(gdb_core, out) == []


def test_self_made_core_facts(gdb_core: Path, shrunk_core: tuple[Path, ShrinkReport]) -> None:
    out, report = shrunk_core
    assert report.threads == 4 and len(report.stacks) == 4
    with dumpkit.open(out) as dump:
        assert dump.system.os == "linux" and dump.crash is not None
        assert (dump.crash.kind, dump.crash.code, dump.crash.address) == ("signal", 11, 0xDEAD0)
        names = {m.name for m in dump.modules}
        assert any(n.startswith("crasher") for n in names) and any(n.startswith("libc") for n in names)
        assert all(m.build_id for m in dump.modules if m.name.startswith(("crasher", "libc")))
        assert "linux_maps" in str(dump.source.details.get("streams")) and dump.regions
        assert dump.process is not None and dump.process.pid is not None
        crashed = dump.crashing_thread
        assert crashed is not None and crashed.stack_size and crashed.stack_size > 1024


@pytest.fixture
def shrunk_core(gdb_core: Path, tmp_path: Path) -> tuple[Path, ShrinkReport]:
    out = tmp_path / "core.dmp"
    return out, shrink_file(gdb_core, out)


def test_full_memory_mdmp_matches_its_core(gdb_core: Path, full_memory_mdmp: Path) -> None:
    assert roundtrip_differences(gdb_core, full_memory_mdmp) == []
    with dumpkit.open(full_memory_mdmp) as full, dumpkit.open(gdb_core) as core:
        assert full.source.variant == "full-memory" or full.memory is not None
        assert full.memory is not None and core.memory is not None
        captured = list(core.memory.ranges())
        assert sum(n for _, n in full.memory.ranges()) == sum(n for _, n in captured)
        start, size = max(captured, key=lambda r: r[1])
        assert full.memory.read(start, min(size, 1 << 20)) == core.memory.read(start, min(size, 1 << 20))


def test_cli_shrink(gdb_core: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "cli.dmp"
    assert cli_main(["shrink", str(gdb_core), "-o", str(out), "--max-size", "512K", "--verify"]) == 0
    text = capsys.readouterr().out
    assert "verify: same crash" in text and "threads: 4, with stack bytes: 4" in text
    assert out.stat().st_size <= 512 * 1024
    assert cli_main(["shrink", str(gdb_core), "-o", str(out), "--no-stacks-of-other-threads"]) == 0
    assert "with stack bytes: 1" in capsys.readouterr().out


def test_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a dump at all" * 10)
    out = tmp_path / "o.dmp"
    assert cli_main(["shrink", str(junk), "-o", str(out)]) == 1  # unreadable input
    assert cli_main(["shrink", str(tmp_path / "missing"), "-o", str(out)]) == 2
    assert cli_main(["shrink", str(junk), "-o", str(out), "--max-size", "lots"]) == 2
    assert cli_main(["shrink", str(junk)]) == 2  # -o is required
    assert not out.exists()
    capsys.readouterr()


def test_cli_budget_too_small_is_usage(gdb_core: Path, tmp_path: Path) -> None:
    assert cli_main(["shrink", str(gdb_core), "-o", str(tmp_path / "t.dmp"), "--max-size", "1K"]) == 2


@pytest.mark.corpus
def test_unsupported_cpu_is_refused(tmp_path: Path) -> None:
    others = [p for p in corpus_files("elfcore/*") if manifest().get(corpus_id(p), {}).get("arch") == "s390x"]
    if not others:
        pytest.skip("no s390x core in the corpus")
    assert cli_main(["shrink", str(others[0]), "-o", str(tmp_path / "s.dmp")]) == 1


# ---------------------------------------------------------------------------- kernel dumps (built)
KERNEL_CASES = [("amd64", "complete"), ("amd64", "sdmp"), ("amd64", "fdmp"), ("arm64", "complete"),
                ("x86", "complete")]


@pytest.mark.parametrize(("arch", "kind"), KERNEL_CASES)
def test_kernel_dump_shrinks(tmp_path: Path, arch: str, kind: str) -> None:
    """Complete / kernel / bitmap dumps: the crashing processor's context, its kernel stack read
    through the page tables, the bugcheck as the exception record, drivers as modules."""
    img = KernelImage(arch=arch)
    img.build_kernel()
    pc, sp = PC_REGISTER[arch], SP_REGISTER[arch]
    low = min(r[sp] for r in img.cpu_regs) - 0x1000
    high = max(r[sp] for r in img.cpu_regs) + 0x3000
    img.vwrite(low, bytes((i * 13) & 0xFF for i in range(high - low)))  # the kernel stacks, mapped
    for regs in img.cpu_regs:
        img.vwrite(regs[pc] & ~0xFFF, b"\xcc" * 0x1000)  # code at every processor's pc
    path = tmp_path / f"{arch}_{kind}.dmp"
    if kind == "complete":
        write_complete(path, img)
    else:
        write_bitmap(path, img, kind.upper())
    out = tmp_path / "small.dmp"
    report = shrink_file(path, out, ShrinkOptions(max_size=256 * 1024))
    assert out.stat().st_size <= 256 * 1024 and report.output.zero_filled == 0
    assert roundtrip_differences(path, out) == []
    with dumpkit.open(path) as big, dumpkit.open(out) as small:
        assert big.crash is not None and small.crash is not None
        assert small.crash.kind == "exception"  # a minidump has no bugcheck record: its code and
        assert (small.crash.code, small.crash.parameters) == (big.crash.code, big.crash.parameters)
        crashed = small.crashing_thread
        assert crashed is not None and crashed.stack_start is not None and crashed.stack_size
        assert crashed.stack_start + crashed.stack_size == high  # up to the end of what was captured
        assert small.memory is not None and big.memory is not None
        assert small.memory.read(crashed.stack_start, crashed.stack_size) == \
            big.memory.read(crashed.stack_start, crashed.stack_size)
        assert small.memory.read(crashed.registers[pc], 16) == b"\xcc" * 16
        ids = [(m.code_id, m.debug_id) for m in small.modules]
        assert ids == [(m.code_id, m.debug_id) for m in big.modules]
        assert any(m.debug_id for m in small.modules)
    if arch in ("amd64", "x86"):
        facts = read_udmp(str(out))
        assert sorted(facts.thread_ids or []) == sorted(t.id for t in big.threads)


# ---------------------------------------------------------------------------- garbage in
@pytest.mark.corpus
def test_mutated_inputs_fail_cleanly(tmp_path: Path) -> None:
    """Bytes flipped in real dumps: shrink either works or raises DumpkitError, never another error."""
    picks = [p for p in CORPUS if p.stat().st_size < 2 << 20][:8]
    if not picks:
        pytest.skip("no small shrinkable corpus files")
    rng = random.Random(20261126)
    bad = tmp_path / "mutant.bin"
    outcomes = {"ok": 0, "refused": 0}
    for i in range(160):
        data = bytearray(picks[i % len(picks)].read_bytes())
        for _ in range(rng.choice((1, 4, 16, 64))):
            limit = len(data) if rng.random() < 0.2 else min(len(data), 0x2000)
            data[rng.randrange(limit)] = rng.randrange(256)
        bad.write_bytes(bytes(data))
        try:
            shrink_file(bad, tmp_path / "mutant.dmp", ShrinkOptions(max_size=64 * 1024))
        except DumpkitError:
            outcomes["refused"] += 1
            continue
        outcomes["ok"] += 1
        assert (tmp_path / "mutant.dmp").stat().st_size <= 64 * 1024
    assert outcomes["ok"] > 0 and outcomes["refused"] > 0
