"""ELF cores against outside readers: every corpus core, and cores we make with gcc + gdb.

* every ELF core of the corpus opens (or raises only DumpkitError);
* threads, pids, signal and registers agree with ``eu-readelf --notes``;
* module bases and build-ids agree with ``eu-unstrip -n --core``;
* on the self-made cores, thread count and the crashing thread's PC / SP agree with gdb.

Known divergences are skipped one at a time below, each with the reason.
"""
from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest

import dumpkit
from dumpkit.errors import DumpkitError
from dumpkit.model import PC_REGISTER, SP_REGISTER, Dump
from dumpkit.pipeline.document.normalize import document_for
from tests.conftest import SUMMARIES, corpus_files, corpus_id
from tests.elf_fixtures import HOW, CrasherCore, crasher_cores
from tests.elf_oracles import (
    EU_REGISTER_NAMES,
    HAVE_ELFUTILS,
    HAVE_GDB,
    gdb_core_facts,
    readelf_notes,
    unstrip_modules,
)

__all__ = ["crasher_cores"]  # the session fixture, re-exported so pytest sees it here

NEEDS_ELFUTILS = pytest.mark.skipif(not HAVE_ELFUTILS,
                                    reason="elfutils not installed (make test installs it)")
COMPRESSED = (".bz2", ".zst", ".gz", ".xz")


def _elf_cores() -> list[Path]:
    out = []
    for path in corpus_files("elfcore/*", "vmcore/*", "vmcore_synthetic/*"):
        if path.suffix in COMPRESSED:
            continue
        with open(path, "rb") as fh:
            if fh.read(4) == b"\x7fELF":
                out.append(path)
    return out


CORES = _elf_cores()
IDS = [corpus_id(p) for p in CORES]
OUTCOMES: Counter[str] = Counter()
AGREE: Counter[str] = Counter()

#: eu-unstrip takes minutes on the 131070-segment PN_XNUM core.
UNSTRIP_TOO_SLOW = {"elfcore/r2_core65k"}
#: Files where eu-unstrip's module base differs from ours, with the reason.
UNSTRIP_DIVERGES = {
    # a.out's RW segment maps file offset 0 again (64 KiB pages): eu-unstrip reports that
    # second mapping (0x410000); we report the first one, where the image really starts.
    "elfcore/elfutils_testfile_aarch64_core": {0x410000},
    # same pattern with 4 KiB pages: coredump_self is mapped at 0x400000 and 0x401000, both offset 0.
    "elfcore/pyelftools_core_simple64.elf": {0x401000},
    # test-core-lib.so is mapped twice (two offset-0 mappings); eu-unstrip takes the one in
    # the link_map, we take the lowest.
    "elfcore/elfutils_test-core.core": {0x7F67F2CAF000},
}


def _open(path: Path) -> Dump | None:
    try:
        return dumpkit.open(path)
    except DumpkitError:
        return None


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORES, ids=IDS)
def test_corpus_core_opens(path: Path) -> None:
    try:
        dump = dumpkit.open(path)
    except DumpkitError as exc:
        OUTCOMES["errored"] += 1
        assert exc.code != "internal"
        return
    with dump:
        assert dump.source.format == "elf_core"
        assert dump.source.variant in ("process", "vmcore")
        for thread in dump.threads:
            assert all(isinstance(v, int) and v >= 0 for v in thread.registers.values())
        assert all(m.size >= 0 and m.path for m in dump.modules)
        degraded = any(d.severity != "info" for d in dump.diagnostics)
        OUTCOMES["degraded" if degraded else "opened"] += 1
        if path.name == "r2_core65k":
            assert dump.source.details["pn_xnum"] is True
            assert len(dump.regions) == 131070


def test_corpus_outcome_summary() -> None:
    """Runs after the parametrized opens (same module, file order): record the counts."""
    if OUTCOMES:
        SUMMARIES.append(f"ELF cores: {sum(OUTCOMES.values())} corpus files; opened {OUTCOMES['opened']}, "
                         f"opened with warnings {OUTCOMES['degraded']}, DumpkitError {OUTCOMES['errored']}")


def _mask(dump: Dump) -> int:
    return (1 << 64) - 1 if dump.source.details.get("elf_class") == 64 or dump.system.cpu_arch == "amd64" \
        else (1 << 32) - 1


@pytest.mark.corpus
@NEEDS_ELFUTILS
@pytest.mark.parametrize("path", CORES, ids=IDS)
def test_threads_signal_registers_agree_with_eu_readelf(path: Path) -> None:
    dump = _open(path)
    if dump is None:
        pytest.skip("DumpkitError (checked by test_corpus_core_opens)")
    with dump:
        eu = readelf_notes(path)
        if not eu.threads:
            # elfutils 0.188 does not decode MIPS / hppa NT_PRSTATUS nor BSD notes.
            pytest.skip("eu-readelf shows no NT_PRSTATUS for this core")
        assert sorted(t.id for t in dump.threads) == sorted(t.pid for t in eu.threads)
        assert dump.threads[0].id == eu.threads[0].pid  # note order: the signalled thread first
        signal = eu.signo or eu.threads[0].cursig
        if dump.source.variant == "process":
            assert dump.crash is not None
            assert (dump.crash.code or 0) == signal
            if eu.signo and dump.crash.kind == "signal":  # "none": a SIGSTOP snapshot (gcore)
                assert dump.crash.subcode == eu.si_code
            if eu.fault_address is not None and dump.crash.address is not None:
                assert dump.crash.address == eu.fault_address
        compared = 0
        mask = _mask(dump)
        for et in eu.threads:
            ours = next(t for t in dump.threads if t.id == et.pid)
            if not ours.registers:
                continue  # architecture without a register layout here (alpha, hppa)
            for name, value in et.registers.items():
                mine = EU_REGISTER_NAMES.get(name, name)
                if mine == "fpvalid":
                    continue
                assert mine in ours.registers, f"thread {et.pid}: no register {mine} (eu-readelf {name})"
                if mine == "psw_addr" and dump.system.cpu_arch == "s390":
                    value &= 0x7FFFFFFF  # we drop the 31-bit addressing-mode bit from the PC
                assert ours.registers[mine] & mask == value & mask, f"thread {et.pid} {name}"
                compared += 1
        AGREE["readelf_files"] += 1
        AGREE["registers"] += compared


@pytest.mark.corpus
@NEEDS_ELFUTILS
@pytest.mark.parametrize("path", CORES, ids=IDS)
def test_modules_agree_with_eu_unstrip(path: Path) -> None:
    name = corpus_id(path)
    if name in UNSTRIP_TOO_SLOW:
        pytest.skip("eu-unstrip needs minutes for 131070 segments")
    dump = _open(path)
    if dump is None:
        pytest.skip("DumpkitError (checked by test_corpus_core_opens)")
    with dump:
        ours = {m.base: m for m in dump.modules}
        diverging = UNSTRIP_DIVERGES.get(name, set())
        for module in unstrip_modules(path):
            if module.base in diverging:
                continue
            assert module.base in ours, f"eu-unstrip module {module.name} at {module.base:#x} missing"
            assert ours[module.base].build_id == module.build_id, module.name
            AGREE["modules"] += 1
        AGREE["unstrip_files"] += 1


def test_agreement_summary() -> None:
    if AGREE:
        SUMMARIES.append(f"ELF cores vs elfutils: {AGREE['readelf_files']} files agree with eu-readelf "
                         f"({AGREE['registers']} register values), {AGREE['unstrip_files']} with eu-unstrip "
                         f"({AGREE['modules']} module bases + build-ids)")


# --- cores made here -----------------------------------------------------------------------

CASES = [(how, fp) for how in HOW for fp in (True, False)]
CASE_IDS = [f"{how}-{'fp' if fp else 'nofp'}" for how, fp in CASES]


@pytest.mark.skipif(not HAVE_GDB, reason="gdb not installed (make test installs it)")
@pytest.mark.parametrize(("how", "fp"), CASES, ids=CASE_IDS)
def test_self_made_core_agrees_with_gdb(crasher_cores: dict[tuple[str, bool], CrasherCore],
                                        how: str, fp: bool) -> None:
    case = crasher_cores[(how, fp)]
    with dumpkit.open(case.core) as dump:
        assert dump.system.cpu_arch in PC_REGISTER
        pc_name, sp_name = PC_REGISTER[dump.system.cpu_arch], SP_REGISTER[dump.system.cpu_arch]
        facts = gdb_core_facts(case.exe, case.core, pc_name, sp_name)  # gdb's names on x86 / arm
        assert len(dump.threads) == facts.thread_count == 4
        crashed = dump.crashing_thread
        assert crashed is not None and crashed is dump.threads[0]
        assert crashed.registers[pc_name] == facts.pc
        assert crashed.registers[sp_name] == facts.sp
        assert crashed.stack_start is not None and crashed.stack_size
        assert crashed.stack_start <= facts.sp < crashed.stack_start + crashed.stack_size
        crash = dump.crash
        assert crash is not None and crash.kind == "signal" and crash.code == case.signal
        assert crash.thread_id == crashed.id
        assert dump.process is not None and dump.process.name == case.exe.name[:15]  # comm is 15 chars
        assert dump.process.command_line is not None and how in dump.process.command_line
        if how == "segv":
            assert crash.subcode == 1 and crash.address == 0xDEAD0  # SEGV_MAPERR at our pointer
        elif how == "abrt":
            assert crash.subcode == -6 and crash.sender_pid == dump.process.pid  # SI_TKILL from abort()
        else:
            assert crash.subcode == 1 and crash.address == crashed.registers[pc_name]  # FPE_INTDIV
        exe = next(m for m in dump.modules if m.path == str(case.exe))
        assert exe.build_id and exe.debug_id and len(exe.debug_id) == 33
        assert exe.contains(crashed.registers[pc_name]) or how == "abrt"
        assert any(m.name == "linux-vdso.so.1" for m in dump.modules)
        assert dump.system.page_size and dump.system.os == "linux"


@NEEDS_ELFUTILS
@pytest.mark.skipif(not HAVE_GDB, reason="gdb not installed (make test installs it)")
@pytest.mark.parametrize(("how", "fp"), CASES, ids=CASE_IDS)
def test_self_made_core_agrees_with_elfutils(crasher_cores: dict[tuple[str, bool], CrasherCore],
                                             how: str, fp: bool) -> None:
    case = crasher_cores[(how, fp)]
    eu = readelf_notes(case.core)
    with dumpkit.open(case.core) as dump:
        assert [t.id for t in dump.threads] == [t.pid for t in eu.threads]
        for et in eu.threads:
            ours = dump.thread(et.pid)
            assert ours is not None
            for name, value in et.registers.items():
                mine = EU_REGISTER_NAMES.get(name, name)
                if mine != "fpvalid":
                    assert ours.registers[mine] == value & ((1 << 64) - 1), name
        by_base = {m.base: m for m in dump.modules}
        for module in unstrip_modules(case.core):
            assert by_base[module.base].build_id == module.build_id


def test_sysroot_build_id_mismatch_is_reported(crasher_cores: dict[tuple[str, bool], CrasherCore],
                                               tmp_path: Path) -> None:
    """``--sysroot``: each module's file there is checked against the dump's build-id."""
    core = crasher_cores[("segv", True)]
    sysroot = tmp_path / "sysroot"
    with dumpkit.open(str(core.core)) as dump:
        exe = next(m for m in dump.modules if m.name == core.exe.name)
        assert exe.build_id
    # the right binary: no mismatch
    good = sysroot / "good" / exe.path.lstrip("/")
    good.parent.mkdir(parents=True)
    shutil.copy(core.exe, good)
    doc = document_for(str(core.core), sysroot=str(sysroot / "good"))
    assert not [d for d in doc["diagnostics"] if d["code"] == "build_id_mismatch"]
    # another binary at the same path: reported, and not used
    bad = sysroot / "bad" / exe.path.lstrip("/")
    bad.parent.mkdir(parents=True)
    shutil.copy(shutil.which("true") or "/bin/true", bad)
    doc = document_for(str(core.core), sysroot=str(sysroot / "bad"))
    mismatches = [d for d in doc["diagnostics"] if d["code"] == "build_id_mismatch"]
    assert len(mismatches) == 1 and exe.build_id in mismatches[0]["message"]
