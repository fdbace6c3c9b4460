"""Independent readers and writers of kdump files agree with ours (skipped when absent).

* libkdumpfile (Debian ``python3-libkdumpfile``, run under the system Python by
  tests/kdump_libkdumpfile_probe.py) reads the same pages, registers and VMCOREINFO from the
  corpus files and from builder files;
* makedumpfile (Debian) writes kdump-compressed files (zlib, LZO), flattened streams and
  flattened ELF from an ELF vmcore: we read them back against the ELF reader's view of the
  source; ``makedumpfile -R`` reassembles flattened streams (ours, its own, the corpus') into
  exactly the bytes our flattened index serves.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import dumpkit
from dumpkit.memory import FileView
from dumpkit.readers.kdump_flat import index_flattened
from dumpkit.readers.kdump_pages import KdumpPhysicalSpace
from tests.builders.kdump import flatten
from tests.conftest import REPO, SUMMARIES, corpus_id
from tests.test_kdump import BS, CORPUS, _builder, _recipe

SYSTEM_PYTHON = "/usr/bin/python3"
PROBE = REPO / "tests" / "kdump_libkdumpfile_probe.py"


def _libkdumpfile_available() -> bool:
    if not os.path.exists(SYSTEM_PYTHON):
        return False
    return subprocess.run([SYSTEM_PYTHON, "-c", "import kdumpfile"], capture_output=True).returncode == 0


needs_libkdumpfile = pytest.mark.skipif(not _libkdumpfile_available(),
                                        reason="python3-libkdumpfile (Debian) not installed")
needs_makedumpfile = pytest.mark.skipif(shutil.which("makedumpfile") is None,
                                        reason="makedumpfile (Debian) not installed")


def _oracle(paths: list[Path], max_pfns: int = 8192) -> list[dict[str, Any]]:
    proc = subprocess.run([SYSTEM_PYTHON, str(PROBE), str(max_pfns), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


def _compare(path: Path, facts: dict[str, Any]) -> int:
    """Assert our reading of ``path`` agrees with libkdumpfile's; returns pages compared."""
    assert "error" not in facts, facts
    with dumpkit.open(path) as dump:
        assert dump.memory is not None
        assert dump.source.details["max_pfn"] == facts["max_pfn"]
        assert dump.system.page_size == facts["page_size"]
        uts = facts["uts"]
        assert dump.system.os_detail is not None
        # libkdumpfile reports VMCOREINFO's OSRELEASE as the uts release when there is one
        assert uts["release"] in (dump.system.kernel_release, dump.system.os_detail.split()[2])
        assert dump.system.os_detail.endswith(uts["machine"])
        if facts["vmcoreinfo"] is not None:
            assert dump.system.kernel_release == facts["vmcoreinfo"].get("OSRELEASE", uts["release"])
        assert len(dump.threads) == len(facts["cpus"])
        for thread, cpu in zip(dump.threads, facts["cpus"], strict=True):
            assert thread.id == cpu["pid"]
            common = set(thread.registers) & set(cpu["regs"])
            assert len(common) >= 8
            assert {r: thread.registers[r] for r in common} == {r: cpu["regs"][r] for r in common}
        for pfn, digest in facts["pages"].items():
            at = int(pfn) * facts["page_size"]
            if digest is None:
                assert not dump.memory.is_captured(at), f"PFN {pfn}: libkdumpfile has no data"
            else:
                assert hashlib.sha256(dump.memory.read(at, facts["page_size"])).hexdigest() == digest
        return len(facts["pages"])


def _reassemble(flat: Path, out: Path) -> Path:
    with open(flat, "rb") as fh:
        proc = subprocess.run(["makedumpfile", "-R", str(out)], stdin=fh, capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


@needs_libkdumpfile
def test_libkdumpfile_agrees_on_builder_dumps(tmp_path: Path) -> None:
    pytest.importorskip("lzallright")
    pytest.importorskip("cramjam")
    # Known divergence, left out: Debian's libkdumpfile 0.5.1 reads every 32-bit sub-header with
    # the packed i386 layout, so on an ARM (8-aligned) dump it finds max_mapnr_64 = 0 (seen here;
    # the 8-aligned layout came to libkdumpfile later, with its diskdump-v6-arm test).
    variants: dict[str, dict[str, Any]] = {"x86_64": {}, "i686": {"is_32": True, "machine": "i686"},
                                           "be": {"big_endian": True}}
    paths = []
    for name, kw in variants.items():
        path = tmp_path / f"{name}.kdump"
        path.write_bytes(_builder(**kw).build())
        paths.append(path)
    pages = sum(_compare(p, f) for p, f in zip(paths, _oracle(paths), strict=True))
    SUMMARIES.append(f"kdump vs libkdumpfile (builder): {len(paths)} files, {pages} PFNs agree")


@pytest.mark.corpus
@needs_libkdumpfile
def test_libkdumpfile_agrees_on_corpus(tmp_path: Path) -> None:
    if not CORPUS:
        pytest.skip("no kdump files in the corpus")
    paths = []
    for p in CORPUS:
        if _recipe(p).get("flat"):  # libkdumpfile 0.5.1 cannot read flattened files
            if shutil.which("makedumpfile") is None:
                continue
            paths.append(_reassemble(p, tmp_path / (p.name + ".reassembled")))
        else:
            paths.append(p)
    pages = sum(_compare(p, f) for p, f in zip(paths, _oracle(paths), strict=True))
    SUMMARIES.append(f"kdump vs libkdumpfile (corpus): {len(paths)} files, {pages} PFNs agree")


@needs_makedumpfile
def test_makedumpfile_reassembles_our_flattened_streams(tmp_path: Path) -> None:
    image = _builder().build()
    for mode in ("plain", "shuffled", "overwritten"):
        flat = tmp_path / f"{mode}.flat"
        flat.write_bytes(flatten(image, chunk=1000, shuffle=mode != "plain", overwrite=mode == "overwritten"))
        assert _reassemble(flat, tmp_path / f"{mode}.out").read_bytes() == image
        view = FileView(flat)
        fv = index_flattened(view)
        assert fv.read_upto(0, fv.size) == image
        fv.close()


@pytest.mark.corpus
@needs_makedumpfile
@pytest.mark.parametrize("path", [p for p in CORPUS if "flat-" in p.name], ids=corpus_id)
def test_corpus_flattened_equals_makedumpfile_reassembly(tmp_path: Path, path: Path) -> None:
    out = _reassemble(path, tmp_path / "reassembled").read_bytes()
    flat = index_flattened(FileView(path))
    assert flat.read_upto(0, flat.size) == out
    flat.close()


def _elf_vmcore() -> bytes:
    """An x86_64 kernel-style ELF vmcore without VMCOREINFO (makedumpfile then needs no symbols)."""
    from tests.builders.elf_core import NT_PRSTATUS, ElfCoreBuilder, prstatus

    b = ElfCoreBuilder(machine=62)
    for cpu in range(3):
        regs = [0x1000 + i for i in range(27)]
        regs[16], regs[19] = 0xFFFFFFFF81000000 + cpu, 0xFFFFC90000004000 + cpu
        b.note("CORE", NT_PRSTATUS, prstatus(b, pid=100 + cpu, regs=regs))
    rng = random.Random(7)
    ram = bytearray()
    for i in range(40):  # random, patterned and zero pages
        ram += (bytes(rng.randrange(256) for _ in range(BS)) if i % 3 == 0 else
                bytes(BS) if i % 3 == 1 else bytes([i]) * BS)
    b.load(0xFFFF888000100000, bytes(ram), paddr=0x100000, flags=7)
    b.load(0xFFFF888001000000, bytes(range(256)) * 16 * 4, paddr=0x1000000, flags=7)
    return b.build()


@needs_makedumpfile
@pytest.mark.parametrize("option", ["-c", "-l", "-F -c", "-F -l", "-E -F"])
def test_makedumpfile_output_matches_the_elf_source(tmp_path: Path, option: str) -> None:
    source = tmp_path / "vmcore"
    source.write_bytes(_elf_vmcore())
    out = tmp_path / "dump"
    args = ["makedumpfile", *option.split(), "-d", "1", str(source)]
    if "-F" in option:
        with open(out, "wb") as fh:
            proc = subprocess.run(args, stdout=fh, stderr=subprocess.PIPE, timeout=120)
    else:
        proc = subprocess.run([*args, str(out)], capture_output=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    if "-l" in option:
        pytest.importorskip("lzallright")
    with dumpkit.open(source) as elf, dumpkit.open(out) as dump:
        assert dump.source.details.get("flattened", False) is ("-F" in option)
        assert [(t.id, t.registers) for t in dump.threads] == [(t.id, t.registers) for t in elf.threads]
        assert elf.memory is not None and dump.memory is not None
        compared = 0
        for start, size in elf.memory.ranges():
            for at in range(start, start + size, BS):
                assert dump.memory.read(at, BS) == elf.memory.read(at, BS)
                compared += 1
        if "-E" in option:  # ELF output streamed: read by the ELF reader through our index
            assert (dump.source.format, dump.source.variant) == ("elf_core", "vmcore")
            assert dump.source.size == out.stat().st_size
        else:
            assert dump.source.details["compression"] == ("lzo" if "-l" in option else "zlib")
            assert dump.source.details["dump_level"] == 1
            assert dump.system.cpu_arch == "amd64"  # guessed: no VMCOREINFO, so no utsname
            space = dump.memory
            assert isinstance(space, KdumpPhysicalSpace)
            zero_targets = {int(space.page_desc(at // BS).ofs_data)  # -d 1: one stored zero page
                            for start, size in elf.memory.ranges() for at in range(start, start + size, BS)
                            if elf.memory.read(at, BS) == bytes(BS)}
            assert len(zero_targets) == 1
            assert [(r.start, r.size) for r in dump.regions] == list(elf.memory.ranges())
            assert list(space.ranges()) == list(elf.memory.ranges())
    if "-F" in option:  # its own flattened stream: our index serves what -R writes
        reassembled = _reassemble(out, tmp_path / "reassembled").read_bytes()
        flat = index_flattened(FileView(out))
        assert flat.size == len(reassembled) and flat.read_upto(0, flat.size) == reassembled
        flat.close()
    SUMMARIES.append(f"makedumpfile {option} -d 1: {compared} pages equal to the ELF source")


def test_probe_script_stands_alone() -> None:
    text = PROBE.read_text()
    imports = [ln for ln in text.splitlines() if ln.startswith(("import ", "from "))]
    assert not [ln for ln in imports if "dumpkit" in ln or "tests" in ln]  # runs under the system Python
    compile(text, str(PROBE), "exec")
