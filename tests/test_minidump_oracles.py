"""Our minidump reader against two outside readers, on every corpus minidump.

For each corpus MDMP and each outside reader (``minidump`` 0.0.24, ``udmp-parser`` 0.7.0,
see tests/minidump_oracles.py) we compare, like with like:

* thread ids and count;
* instruction and stack pointer per thread: both outside readers decode the THREAD-LIST
  context; ours gives the crashing thread the EXCEPTION context (``context_source ==
  "exception"``, docs/formats.md §1.7), which is compared with the exception context as the ``minidump``
  package decodes it with its own CONTEXT structures (udmp-parser does not expose it);
* module names, bases and sizes; versions; debug ids from udmp-parser's raw CodeView bytes;
* exception thread, code and address; OS, OS version, CSD text, CPU architecture and count,
  MiscInfo process id, unloaded modules (``minidump`` only);
* bytes read at the start of every range the outside reader can read.

A disagreement fails, unless it is listed in :data:`KNOWN` with the reason, after checking
the bytes by hand against docs/formats.md that the OTHER reader is wrong there. An outside reader
that cannot read a file skips that file with its reason. Agreement counts are printed at the
end of the run (``conftest.SUMMARIES``).

A third witness, for what neither outside reader decodes (ARM and ARM64 contexts, LinuxMaps):
the register values and memory regions lldb's own test suite asserts for the dumps in
``mdmp_from_yaml/``.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dumpkit.errors import DumpkitError
from tests.conftest import SUMMARIES, corpus_files, corpus_id
from tests.minidump_oracles import ORACLES, Facts, OracleCannotRead, read_ours

FILES = corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp")

#: (corpus file, oracle, field) -> why the OUTSIDE reader is wrong there (bytes checked by hand).
KNOWN: dict[tuple[str, str, str], str] = {
    # ExceptionStream at 0x910: ThreadId 927532, ExceptionCode 0 (macOS Crashpad: Mach exception 0),
    # address 0x7fff6f41333a. The minidump package stops at the first record whose code is 0 (its
    # EXCEPTION_NONE "padding" heuristic) and reports no exception; udmp-parser reports thread 927532.
    ("mdmp/rustminidump_simple-crashpad.dmp", "minidump", "exception"):
        "minidump 0.0.24 drops an exception record whose code is 0",
    # ExceptionStream at 0x8a: ThreadId 8567, code 0, address 0x400582 (lldb's null-signal test).
    ("mdmp_from_yaml/lldb2019_linux-x86_64_null_signal.dmp", "minidump", "exception"):
        "minidump 0.0.24 drops an exception record whose code is 0",
    # Same file: the thread's ThreadContext is DataSize 2 at RVA 0x88 (the file is 431 bytes). The
    # package ignores DataSize and decodes a full 0x4D0-byte CONTEXT from there, past the end of the
    # file (rip 0x93a6b73616d550a is text of the LinuxProcStatus stream). Ours rejects the context.
    ("mdmp_from_yaml/lldb2019_linux-x86_64_null_signal.dmp", "minidump", "pc_sp"):
        "minidump 0.0.24 ignores ThreadContext.DataSize (2 bytes here) and reads garbage",
}
# macOS Breakpad dumps pad the thread, module and memory lists: DataSize = 4 + 4 + n * entry and
# the 4 bytes after the count are zero (docs/formats.md §1.17), e.g. symbolic_crash_macos.dmp ThreadList at
# 0x78: size 0x38, count 1, 00000000, then ThreadId 775. The minidump package reads the pad as the
# start of the first entry: thread id 0, register and module garbage ('<STRING_DECODE_FAILED>'),
# memory ranges at shifted addresses. (udmp-parser refuses these files.)
for _padded in ("mdmp/symbolic_crash_macos.dmp", "mdmp/symbolicator_macos.dmp"):
    for _field in ("thread_ids", "pc_sp", "modules", "memory"):
        KNOWN[(_padded, "minidump", _field)] = "minidump 0.0.24 reads the pad after a list count as data"


@dataclass
class Tally:
    """Agreement counts of one oracle over the run."""

    files: int = 0
    skipped: list[str] = field(default_factory=list)
    agreed: Counter[str] = field(default_factory=Counter)
    total: Counter[str] = field(default_factory=Counter)
    excused: Counter[str] = field(default_factory=Counter)

    def line(self, oracle: str) -> str:
        fields = ", ".join(f"{k} {self.agreed[k]}/{self.total[k]}" for k in sorted(self.total))
        return (f"{oracle}: {self.files} files compared, {len(self.skipped)} skipped; fields agreed "
                f"{sum(self.agreed.values())}/{sum(self.total.values())} ({fields}); "
                f"known outside-reader errors excused: {sum(self.excused.values())}")


TALLIES: dict[str, Tally] = {name: Tally() for name in ORACLES}


@pytest.fixture(scope="module", autouse=True)
def _summary() -> Any:
    yield
    for name, tally in TALLIES.items():
        if tally.files or tally.skipped:
            SUMMARIES.append("minidump oracle agreement, " + tally.line(name))


class Comparison:
    """Collects field-by-field comparisons of ours against one oracle for one file."""

    def __init__(self, rel: str, oracle: str, tally: Tally) -> None:
        self.rel, self.oracle, self.tally = rel, oracle, tally
        self.failures: list[str] = []

    def check(self, name: str, ours: object, theirs: object) -> None:
        self.tally.total[name] += 1
        if ours == theirs:
            self.tally.agreed[name] += 1
            return
        reason = KNOWN.get((self.rel, self.oracle, name))
        if reason is not None:
            self.tally.excused[name] += 1
            return
        self.failures.append(f"{name}: ours {_show(ours)} != {self.oracle} {_show(theirs)}")


def _show(value: object) -> str:
    if isinstance(value, int):
        return hex(value)
    if isinstance(value, tuple):
        return "(" + ", ".join(_show(v) for v in value) + ")"
    text = repr(value)
    return text if len(text) < 300 else text[:297] + "..."


def _found_nothing(f: Facts) -> bool:
    return not (f.thread_ids or f.modules or f.exception_tid is not None or f.os or f.ranges)


@pytest.mark.corpus
@pytest.mark.parametrize("oracle", sorted(ORACLES))
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_agrees_with_outside_reader(path: Path, oracle: str) -> None:
    rel = corpus_id(path)
    tally = TALLIES[oracle]
    try:
        theirs = ORACLES[oracle](str(path))
    except OracleCannotRead as exc:
        tally.skipped.append(rel)
        pytest.skip(f"{oracle} cannot read {rel}: {exc}")
    try:
        ours = read_ours(str(path))
    except DumpkitError as exc:
        if _found_nothing(theirs):
            tally.skipped.append(rel)
            pytest.skip(f"malformed: ours refuses it ({exc.code}: {exc}), {oracle} finds nothing in it")
        raise
    tally.files += 1
    cmp = Comparison(rel, oracle, tally)
    try:
        _compare(cmp, ours, theirs)
    finally:
        if ours.close is not None:
            ours.close()
    assert not cmp.failures, f"{rel} vs {oracle}:\n  " + "\n  ".join(cmp.failures)


def _compare(cmp: Comparison, ours: Facts, theirs: Facts) -> None:
    unordered = cmp.oracle == "udmp-parser"  # its threads and modules are dicts keyed by id/base
    if theirs.thread_ids is not None:
        # sorted: ours lists the crashing thread first, the outside readers keep list order
        cmp.check("thread_ids", sorted(ours.thread_ids or []), sorted(theirs.thread_ids))
        cmp.check("thread_count", len(ours.thread_ids or []), len(theirs.thread_ids))
    for tid, regs in theirs.thread_regs.items():
        if ours.context_source.get(tid) == "exception":
            continue  # ours shows the exception context for this thread: compared below
        cmp.check("pc_sp", ours.thread_regs.get(tid), regs)
    for tid, regs in theirs.exception_regs.items():
        if ours.context_source.get(tid) == "exception":
            cmp.check("exception_pc_sp", ours.exception_regs.get(tid), regs)
    if theirs.modules is not None:
        mods = sorted(ours.modules or [], key=lambda m: m[1]) if unordered else ours.modules
        cmp.check("modules", mods, theirs.modules)
        cmp.check("module_count", len(ours.modules or []), len(theirs.modules))
    if theirs.versions is not None:
        for base, version in theirs.versions.items():
            cmp.check("module_version", (ours.versions or {}).get(base), version)
    if theirs.debug_ids is not None:
        for base, ident in theirs.debug_ids.items():
            cmp.check("module_debug_id", (ours.debug_ids or {}).get(base), ident)
    if cmp.oracle == "minidump":  # udmp-parser exposes no exception record and no system info
        their_address = theirs.exception_address
        sender = ours.exception_sender_pid
        if sender is not None and their_address is not None and (their_address & 0xFFFFFFFF) == sender:
            their_address = None
        cmp.check("exception", (ours.exception_tid, ours.exception_code, ours.exception_address),
                  (theirs.exception_tid, theirs.exception_code, their_address))
        if theirs.os is not None:
            cmp.check("os", ours.os, theirs.os)
        if theirs.cpu_arch is not None:
            cmp.check("cpu_arch", ours.cpu_arch, theirs.cpu_arch)
        if theirs.os_version is not None:
            # Linux/Android: Breakpad writes 0.0.0 and ours reports the distribution (lsb-release)
            if theirs.os not in ("linux", "android"):
                cmp.check("os_version", ours.os_version, theirs.os_version)
            cmp.check("csd", ours.csd, theirs.csd)
            # NumberOfProcessors 0 (lldb's YAML dumps) is "not recorded": None in our model
            cmp.check("cpu_count", ours.cpu_count, theirs.cpu_count or None)
        if theirs.pid is not None:
            cmp.check("pid", ours.pid, theirs.pid)
        if theirs.unloaded is not None:
            cmp.check("unloaded_modules", ours.unloaded, theirs.unloaded)
    elif theirs.exception_tid is not None or ours.exception_tid is not None:
        cmp.check("exception", ours.exception_tid, theirs.exception_tid)
    if theirs.read is not None:
        for start, size in theirs.ranges:
            n = min(size, 64)
            if n == 0:
                continue
            mine = ours.read(start, n) if ours.read is not None else None
            cmp.check("memory", mine, theirs.read(start, n))


def test_known_exceptions_name_corpus_files() -> None:
    """Every KNOWN entry names a file of the corpus (when present), an oracle and a field we compare."""
    present = {corpus_id(p) for p in FILES}
    for rel, oracle, name in KNOWN:
        assert oracle in ORACLES
        assert name in {"thread_ids", "thread_count", "pc_sp", "exception_pc_sp", "modules",
                        "module_count", "module_version", "module_debug_id", "exception", "os",
                        "cpu_arch", "os_version", "csd", "cpu_count", "pid", "unloaded_modules",
                        "memory"}
        if present:
            assert rel in present, rel


# ----------------------------------------------------------------------------- a third witness
# The lldb test suite asserts register values and memory regions for the very dumps that
# mdmp_from_yaml/ was built from (llvm-mirror/lldb, packages/Python/lldbsuite/test/
# functionalities/postmortem/minidump-new/TestMiniDumpNew.py: test_arm64_registers,
# verify_arm_registers, test_memory_regions_in_minidump). Neither outside reader decodes ARM or
# ARM64 contexts, so these values are the only outside check of those layouts on real files.
def _lldb_arm64_registers() -> dict[str, int]:
    regs = {f"x{i}": (i + 1) | (i + 2) << 32 | (i + 3) << 48 for i in range(29)}
    regs.update(fp=30 | 31 << 32 | 32 << 48, lr=31 | 32 << 32 | 33 << 48, sp=32 | 33 << 32 | 34 << 48,
                pc=0x1000, cpsr=0x11223344)
    return regs


def _lldb_arm_registers(apple: bool) -> dict[str, int]:
    # r_i = i + 1; lldb calls r11 (Linux) / r7 (Apple) "fp": value 0x0c / 0x08
    regs = {f"r{i}": i + 1 for i in range(1, 13)}
    regs.update(sp=0x0E, lr=0x0F, pc=0x10, cpsr=0x11223344)
    regs["r7" if apple else "r11"] = 0x08 if apple else 0x0C
    return regs


LLDB_REGISTERS = {
    "mdmp_from_yaml/lldb2019_arm64-macos.dmp": ("arm64", _lldb_arm64_registers()),
    "mdmp_from_yaml/lldb2019_arm-linux.dmp": ("arm", _lldb_arm_registers(apple=False)),
    "mdmp_from_yaml/lldb2019_arm-macos.dmp": ("arm", _lldb_arm_registers(apple=True)),
}

# (start, end, permissions, name) of the 19 LinuxMaps regions lldb asserts (its r/w/x flags)
_APP, _LINKER, _LOG, _LIBC = ("/system/bin/app_process", "/system/bin/linker", "/system/lib/liblog.so",
                              "/system/lib/libc.so")
LLDB_REGIONS = [
    (0x400D9000, 0x400DB000, "r-x", _APP), (0x400DB000, 0x400DC000, "r--", _APP),
    (0x400DC000, 0x400DD000, "rw-", None), (0x400DD000, 0x400EC000, "r-x", _LINKER),
    (0x400EC000, 0x400ED000, "r--", None), (0x400ED000, 0x400EE000, "r--", _LINKER),
    (0x400EE000, 0x400EF000, "rw-", _LINKER), (0x400EF000, 0x400FB000, "rw-", None),
    (0x400FB000, 0x400FC000, "r-x", _LOG), (0x400FC000, 0x400FD000, "rwx", _LOG),
    (0x400FD000, 0x400FF000, "r-x", _LOG), (0x400FF000, 0x40100000, "r--", _LOG),
    (0x40100000, 0x40101000, "rw-", _LOG), (0x40101000, 0x40122000, "r-x", _LIBC),
    (0x40122000, 0x40123000, "rwx", _LIBC), (0x40123000, 0x40167000, "r-x", _LIBC),
    (0x40167000, 0x40169000, "r--", _LIBC), (0x40169000, 0x4016B000, "rw-", _LIBC),
    (0x4016B000, 0x40176000, "rw-", None),
]


@pytest.mark.corpus
@pytest.mark.parametrize("rel", sorted(LLDB_REGISTERS))
def test_arm_registers_match_lldb_assertions(corpus_dir: Path, rel: str) -> None:
    import dumpkit

    arch, expected = LLDB_REGISTERS[rel]
    with dumpkit.open(corpus_dir / rel) as dump:
        assert dump.system.cpu_arch == arch
        assert [t.id for t in dump.threads] == [0x1000]
        regs = dump.threads[0].registers
        assert {k: regs.get(k) for k in expected} == expected


@pytest.mark.corpus
def test_linux_maps_match_lldb_assertions(corpus_dir: Path) -> None:
    import dumpkit

    with dumpkit.open(corpus_dir / "mdmp_from_yaml/lldb2019_regions-linux-map.dmp") as dump:
        got = [(r.start, r.start + r.size, r.permissions, r.path) for r in dump.regions]
    assert got == LLDB_REGIONS
