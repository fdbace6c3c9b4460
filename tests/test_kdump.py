"""makedumpfile kdump-compressed and flattened dumps: corpus facts, builder round trips, robustness.

* Corpus: every ``vmcore_synthetic/libkdumpfile_diskdump-*`` file opens and gives a valid
  document; facts are checked against MANIFEST.tsv and against the libkdumpfile test
  recipes that made the files (page 0 is libkdumpfile's ``basic.expect`` pattern).
* Builder (tests/builders/kdump.py, plain struct): pages read back byte-exact for every
  compression, excluded pages are not captured, 32-bit / big-endian / v3 / DISKDUMP
  layouts, the flattened form (shuffled, overwritten, with holes).
* Robustness: truncated and byte-flipped corpus and builder files give valid documents through
  ``document_for``, each within 1 s, under an address-space limit (the harness in tests/mutation.py).

The independent readers and writers (libkdumpfile, makedumpfile) are in test_kdump_oracles.py.
"""
from __future__ import annotations

import io
import random
import struct
import sys
from pathlib import Path
from typing import Any

import pytest

import dumpkit
from dumpkit.errors import DumpParseError, NotCapturedError
from dumpkit.memory import FileView
from dumpkit.readers.kdump_flat import index_flattened
from dumpkit.readers.kdump_pages import PageUnreadableError
from tests.builders.kdump import KdumpBuilder, arm_regs, flatten, i386_regs, x86_64_regs
from tests.conftest import corpus_files, corpus_id, manifest
from tests.mutation import check_mutants, source

CORPUS = corpus_files("vmcore_synthetic/libkdumpfile_diskdump-*")
MACHINE_ARCH = {"x86_64": "amd64", "i686": "x86", "ppc64": "ppc64", "s390x": "s390x"}
BS = 4096


def _basic_expect_ok(page: bytes) -> bool:
    """libkdumpfile's tests/basic.expect: the page its diskdump-basic recipes store at PFN 0."""
    return (len(page) == BS and page[:256] == bytes(range(256)) and page[256:768] == bytes(512)
            and page[768:1280] == b"\xff" * 512
            and page[1280:1296] == bytes.fromhex("0123456789abcdeffedcba9876543210")
            and page[-256:] == bytes(range(255, -1, -1)))


#: Facts from the libkdumpfile recipes (tests/diskdump-*) that generated the corpus files.
RECIPES: dict[str, dict[str, Any]] = {
    "basic-raw": {"max_pfn": 256, "pages": 1},
    "basic-zlib": {"max_pfn": 256, "pages": 1},
    "basic-vmcoreinfo": {"max_pfn": 256, "pages": 1, "osrelease": "6.4.3-1-default", "crashtime": 1689103980},
    "flat-raw": {"max_pfn": 256, "pages": 1, "flat": True},
    "flat-vmcoreinfo": {"max_pfn": 256, "pages": 1, "flat": True, "osrelease": "6.4.3-1-default",
                        "crashtime": 1689103980},
    "v6-ia32": {"max_pfn": 1, "pages": 1, "osrelease": "6.4.3-1-pae", "crashtime": 1689098337,
                "cpu0": (3539, "eip", 0xC04B0B5F)},
    "empty-i386": {"max_pfn": 0, "pages": 0},
    "empty-x86_64": {"max_pfn": 0, "pages": 0},
    "empty-ppc64": {"max_pfn": 0, "pages": 0, "page_size": 0x10000},
    "empty-s390x": {"max_pfn": 0, "pages": 0, "page_size": 0x10000},
}


def _recipe(path: Path) -> dict[str, Any]:
    return RECIPES[path.stem.removeprefix("libkdumpfile_diskdump-")]


def _notable(path: Path) -> dict[str, str]:
    row = manifest().get(corpus_id(path), {})
    text = row.get("notable_contents(auto-parsed)", "")
    facts = dict(part.strip().split("=", 1) for part in text.split(";") if "=" in part)
    first = text.split(";", 1)[0].strip()
    if first in ("LE", "BE"):
        facts["order"] = first
    return facts


@pytest.mark.corpus
@pytest.mark.parametrize("path", CORPUS, ids=corpus_id)
def test_corpus_kdump_opens_with_manifest_facts(path: Path) -> None:
    from dumpkit.pipeline.document.normalize import normalize
    from dumpkit.pipeline.document.validate import validate

    facts, recipe = _notable(path), _recipe(path)
    with dumpkit.open(path) as dump:
        validate(normalize(dump))
        assert dump.source.format == "kdump_compressed" and dump.source.variant == "kdump"
        assert dump.system.os == "linux" and dump.crash is not None and dump.crash.kind == "panic"
        d = dump.source.details
        if recipe.get("flat"):
            assert "flattened format" in manifest()[corpus_id(path)]["notable_contents(auto-parsed)"]
            assert d["flattened"] is True and int(d["flat_records"]) > 0
        else:
            assert d["header_version"] == int(facts["header_version"])
            assert dump.source.byte_order == {"LE": "little", "BE": "big"}[facts["order"]]
            assert dump.system.cpu_arch == MACHINE_ARCH[facts["machine"]]
            assert dump.system.os_detail is not None
            assert f" {facts['release']} " in dump.system.os_detail
            assert facts["version"] in dump.system.os_detail
        assert dump.system.page_size == recipe.get("page_size", BS)
        assert d["max_pfn"] == recipe["max_pfn"]
        assert d["vmcoreinfo"] is ("osrelease" in recipe)
        if "osrelease" in recipe:
            assert dump.system.kernel_release == recipe["osrelease"]
            assert d["crash_time"] == recipe["crashtime"]
        assert dump.source.created is not None and dump.source.created > 1_000_000_000  # header timestamp
        if "cpu0" in recipe:
            pid, reg, value = recipe["cpu0"]
            assert [(t.id, t.name, t.registers[reg]) for t in dump.threads] == [(pid, "cpu0", value)]
        space = dump.memory
        assert space is not None and space.name == "physical"
        assert sum(size for _, size in space.ranges()) == recipe["pages"] * dump.system.page_size
        if recipe["pages"]:
            assert _basic_expect_ok(space.read(0, BS))
            assert not space.is_captured(BS)
        assert not [x for x in dump.diagnostics if x.severity == "error"]


# -- builder round trips ----------------------------------------------------------------

_RNG = random.Random(0x6D64)
PAGES: dict[int, tuple[bytes, str]] = {
    0: (_RNG.randbytes(BS), "raw"),
    1: (bytes(range(256)) * 16, "zlib"),
    2: (b"zstd page " * 409 + b"zstd!!", "zstd"),
    3: (bytes(BS), "zlib"),
    7: (bytes(BS), "zstd"),  # shares the stored zero page of PFN 3
    9: (b"L" * 2000 + b"M" * 2096, "lzo"),
    10: (b"snappy" * 682 + b"snap", "snappy"),
    12: (_RNG.randbytes(BS), "zlib"),  # does not shrink: stored raw, as makedumpfile does
    300: (b"\x5a" * BS, "zlib"),  # RAM of its own (a second region)
    5000: (b"\xa5" * BS, "zstd"),  # a PFN in the second 4096-PFN rank chunk
}
VMCOREINFO = "OSRELEASE=6.1.0-kdump\nPAGESIZE=4096\nCRASHTIME=1700000123\nBUILD-ID=" + "ab" * 20 + "\n"


def _builder(**kw: Any) -> KdumpBuilder:
    b = KdumpBuilder(**kw)
    for pfn, (data, method) in PAGES.items():
        b.page(pfn, data, method)
    b.ram(0, 40).ram(4990, 5010).vmcoreinfo(VMCOREINFO).eraseinfo("erase modules size 8\n")
    if b.machine.startswith("arm"):
        regs = [arm_regs(pc=0xC0100000 + cpu, sp=0xC1000000) for cpu in range(2)]
    elif b.is_32:
        regs = [i386_regs(eip=0xC0100000 + cpu, esp=0xC1000000) for cpu in range(2)]
    else:
        regs = [x86_64_regs(rip=0xFFFFFFFF81000000 + cpu, rsp=0xFFFFC90000004000) for cpu in range(2)]
    return b.prstatus(pid=1234, regs=regs[0]).prstatus(pid=0, regs=regs[1])


def _check_round_trip(dump: dumpkit.Dump, b: KdumpBuilder) -> None:
    space = dump.memory
    assert space is not None
    for pfn, (data, _) in PAGES.items():
        assert space.read(pfn * BS, BS) == data, f"PFN {pfn}"
    assert space.read(BS - 10, 20) == PAGES[0][0][-10:] + PAGES[1][0][:10]  # across two pages
    for pfn in (4, 5, 39, 40, 4990, 5010, 6000):  # excluded RAM and beyond the bitmap
        assert not space.is_captured(pfn * BS)
        with pytest.raises(NotCapturedError):
            space.read(pfn * BS, 1)
    runs = list(space.ranges())
    assert sum(size for _, size in runs) == len(PAGES) * BS
    assert (5000 * BS, BS) in runs and (0, 4 * BS) in runs
    assert [(r.start, r.size) for r in dump.regions] == [(0, 41 * BS), (300 * BS, BS), (4990 * BS, 21 * BS)]
    assert dump.system.kernel_release == "6.1.0-kdump" and dump.system.page_size == BS
    assert dump.source.created == b.timestamp
    assert dump.source.details["kernel_build_id"] == "ab" * 20
    assert dump.annotations["eraseinfo"] == "erase modules size 8"
    assert [(t.id, t.name) for t in dump.threads] == [(1234, "cpu0"), (0, "cpu1")]
    pc = "pc" if b.machine.startswith("arm") else "eip" if b.is_32 else "rip"
    base = 0xC0100000 if b.is_32 else 0xFFFFFFFF81000000
    assert [t.registers[pc] for t in dump.threads] == [base, base + 1]


@pytest.mark.parametrize("kw", [
    {}, {"is_32": True, "machine": "i686"}, {"is_32": True, "machine": "armv7l"},
    {"big_endian": True, "machine": "x86_64"}, {"block_size": BS, "version": 5},
], ids=["x86_64", "i686-packed", "arm-padded", "big-endian", "v5"])
def test_builder_round_trip(tmp_path: Path, kw: dict[str, Any]) -> None:
    pytest.importorskip("lzallright")
    pytest.importorskip("cramjam")
    b = _builder(**kw)
    path = tmp_path / "dump.kdump"
    path.write_bytes(b.build())
    with dumpkit.open(path) as dump:
        assert dump.source.byte_order == ("big" if kw.get("big_endian") else "little")
        assert dump.system.cpu_arch == {"i686": "x86", "armv7l": "arm"}.get(kw.get("machine", ""), "amd64")
        _check_round_trip(dump, b)
        assert dump.diagnostics == []


@pytest.mark.parametrize("mode", ["plain", "shuffled", "overwritten", "holes"])
def test_flattened_round_trip(tmp_path: Path, mode: str) -> None:
    pytest.importorskip("lzallright")
    pytest.importorskip("cramjam")
    b = _builder()
    image = b.build()
    stream = flatten(image, chunk=1000, shuffle=mode in ("shuffled", "overwritten"),
                     overwrite=mode == "overwritten", holes=mode == "holes")
    path = tmp_path / "dump.flat"
    path.write_bytes(stream)
    view = FileView(path)
    flat = index_flattened(view)
    assert flat.read_upto(0, len(image) + 100) == image  # the reassembled file, byte-exact
    assert flat.read(len(image) - 3, 3) == image[-3:]
    flat.close()
    with dumpkit.open(path) as dump:
        assert dump.source.details["flattened"] is True
        _check_round_trip(dump, b)


class _CountingStream(io.RawIOBase):
    """A read-only file object over bytes that counts the bytes read through it."""

    def __init__(self, data: bytes) -> None:
        super().__init__()
        self.data, self.pos, self.count = data, 0, 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        self.pos = {io.SEEK_SET: 0, io.SEEK_CUR: self.pos, io.SEEK_END: len(self.data)}[whence] + offset
        return self.pos

    def readinto(self, buffer: Any) -> int:
        chunk = self.data[self.pos:self.pos + len(buffer)]
        memoryview(buffer)[:len(chunk)] = chunk
        self.pos += len(chunk)
        self.count += len(chunk)
        return len(chunk)


def test_flat_index_reads_only_record_headers(tmp_path: Path) -> None:
    image = _builder().build()
    path = tmp_path / "dump.flat"
    path.write_bytes(flatten(image, chunk=2048))
    counted: list[_CountingStream] = []
    direct = [0]

    class Counting(FileView):
        def stream(self) -> Any:
            counted.append(_CountingStream(path.read_bytes()))
            return counted[-1]

        def read_upto(self, offset: int, size: int) -> bytes:
            data = super().read_upto(offset, size)
            direct[0] += len(data)
            return data

        def read(self, offset: int, size: int) -> bytes:
            direct[0] += size
            return super().read(offset, size)

    flat = index_flattened(Counting(path))
    records = flat.index.num_records
    assert records == (len(image) + 2047) // 2048
    assert direct[0] + sum(c.count for c in counted) <= 32 + 16 * (records + 1)  # headers only
    flat.close()


def test_flat_overlapping_records_latest_wins(tmp_path: Path) -> None:
    rng = random.Random(11)
    for trial in range(200):
        image = bytearray(300)
        out = bytearray(b"makedumpfile".ljust(16, b"\0") + struct.pack(">qq", 1, 1)).ljust(4096, b"\0")
        for n in range(rng.randint(1, 12)):
            at, size = rng.randrange(250), rng.randint(1, 50)
            blob = bytes([n + 1]) * size
            out += struct.pack(">qq", at, size) + blob
            image[at:at + size] = blob  # what makedumpfile -R would write: later records win
        out += struct.pack(">qq", -1, -1)
        path = tmp_path / f"overlap{trial}.flat"
        path.write_bytes(out)
        flat = index_flattened(FileView(path))
        end = flat.size
        assert flat.read_upto(0, 400) == bytes(image[:end]), trial
        assert list(flat.index.starts) == sorted(flat.index.starts)
        flat.close()


def test_v3_and_diskdump_and_incomplete(tmp_path: Path) -> None:
    b = KdumpBuilder(version=3).page(0, b"x" * BS, "zlib").ram(0, 3).vmcoreinfo(VMCOREINFO)
    (tmp_path / "v3").write_bytes(b.build())
    with dumpkit.open(tmp_path / "v3") as dump:
        assert dump.system.kernel_release == "6.1.0-kdump" and dump.threads == []
        assert dump.memory is not None and dump.memory.read(0, 4) == b"xxxx"
    b = KdumpBuilder(version=1, signature=b"DISKDUMP").page(2, b"y" * BS)
    (tmp_path / "dd").write_bytes(b.build())
    with dumpkit.open(tmp_path / "dd") as dump:
        assert dump.source.variant == "diskdump" and dump.system.kernel_release == "6.1.0-test"
        assert dump.memory is not None and dump.memory.read(2 * BS, 4) == b"yyyy"
    # makedumpfile's ENOSPC case: status 0x8 and a file cut inside the page data
    b = KdumpBuilder(status=0x8).page(0, b"a" * BS).page(1, b"b" * BS).page(2, b"c" * BS)
    data = b.build()
    (tmp_path / "cut").write_bytes(data[:-BS - 100])
    with dumpkit.open(tmp_path / "cut") as dump:
        assert "incomplete_dump" in [x.code for x in dump.diagnostics]
        assert dump.memory is not None and dump.memory.read(0, 4) == b"aaaa"
        with pytest.raises(PageUnreadableError, match=r"past the end|bad page descriptor"):
            dump.memory.read(2 * BS, 4)


def test_split_file_and_flattened_stream_problems(tmp_path: Path) -> None:
    b = KdumpBuilder(split=(8, 16)).page(8, b"s" * BS).page(9, b"t" * BS).ram(0, 20)
    image = b.build()
    (tmp_path / "split").write_bytes(image)
    with dumpkit.open(tmp_path / "split") as dump:
        assert dump.source.details["split"] == 1 and dump.source.details["split_pfns"] == "0x8-0x10"
        assert "split_dump" in [x.code for x in dump.diagnostics]
        assert dump.memory is not None and dump.memory.read(9 * BS, 2) == b"tt"
    stream = flatten(image, chunk=BS)
    last_record, pos = 0, 4096
    while struct.unpack_from(">q", stream, pos)[0] >= 0:  # walk to the last data record
        last_record, pos = pos, pos + 16 + struct.unpack_from(">q", stream, pos + 8)[0]
    cases = {"cut_in_record": (stream[:-16 - 100], "flat_stream_truncated"),
             "no_end_marker": (stream[:-16], "flat_stream_truncated"),
             "bad_record": (stream[:last_record] + struct.pack(">qq", 0, -5) + stream[last_record + 16:],
                            "bad_flat_record")}
    for name, (blob, code) in cases.items():
        (tmp_path / name).write_bytes(blob)
        with dumpkit.open(tmp_path / name) as dump:
            assert code in [x.code for x in dump.diagnostics], name
            assert dump.memory is not None and dump.memory.read(8 * BS, 2) == b"ss", name


def test_unsupported_compression_is_a_diagnostic(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("lzallright")
    b = KdumpBuilder(status=0x2).page(0, b"L" * BS, "lzo").page(1, b"r" * BS)
    (tmp_path / "lzo").write_bytes(b.build())
    monkeypatch.setitem(sys.modules, "lzallright", None)  # the package is "not installed"
    with dumpkit.open(tmp_path / "lzo") as dump:
        assert "compression_unsupported" in [x.code for x in dump.diagnostics]
        assert dump.memory is not None and dump.memory.read(BS, 2) == b"rr"
        with pytest.raises(PageUnreadableError, match="compression not supported: lzo"):
            dump.memory.read(0, 1)
        assert dump.memory.is_captured(BS) and not dump.memory.is_captured(0)


def test_broken_headers_raise_parse_errors(tmp_path: Path) -> None:
    good = KdumpBuilder().page(0, b"q" * BS).build()
    cases = {"short": good[:100], "block_size": good[:0x1AC] + b"\x03\0\0\0" + good[0x1B0:],
             "flat_no_records": flatten(good)[:4096 + 8],
             "flat_bad_header": b"makedumpfile\0\0\0\0" + bytes(16)}
    for name, blob in cases.items():
        (tmp_path / name).write_bytes(blob)
        with pytest.raises(DumpParseError):
            dumpkit.open(tmp_path / name)


def test_kernel_log_matches_the_elf_vmcore(tmp_path: Path) -> None:
    """The same memory as an ELF vmcore (tests/builders/vmcore.py) and as a kdump."""
    from elftools.elf.elffile import ELFFile

    from tests.builders.vmcore import lockless_log_vmcore

    lines = ["Linux version 6.1.0-test", "sysrq: Trigger a crash",
             "Kernel panic - not syncing: sysrq triggered crash"]
    elf_path = tmp_path / "vmcore"
    elf_path.write_bytes(lockless_log_vmcore(lines))
    b = KdumpBuilder(machine="x86_64", phys_base=0, nr_cpus=2)
    with open(elf_path, "rb") as fh:
        elf = ELFFile(fh)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_NOTE":
                b.raw_notes = seg.data()
            elif seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                data = seg.data()
                for at in range(0, len(data), BS):
                    b.page((seg["p_paddr"] + at) // BS, data[at:at + BS].ljust(BS, b"\0"), "zlib")
    (tmp_path / "kdump").write_bytes(b.build())
    with dumpkit.open(elf_path) as elf_dump, dumpkit.open(tmp_path / "kdump") as dump:
        assert dump.annotations["kernel_log_tail"] == elf_dump.annotations["kernel_log_tail"]
        assert [ln.split("] ", 1)[1] for ln in dump.annotations["kernel_log_tail"].split("\n")] == lines
        assert dump.crash is not None and elf_dump.crash is not None
        assert dump.crash.message == elf_dump.crash.message == lines[-1]
        assert dump.system.kernel_release == "6.1.0-test" and dump.source.details["vmcoreinfo"] is True
        assert [(t.id, t.registers) for t in dump.threads] == [(t.id, t.registers) for t in elf_dump.threads]


# -- robustness ---------------------------------------------------------------------------

@pytest.mark.slow
def test_mutated_builder_dumps_give_valid_documents(tmp_path: Path) -> None:
    pytest.importorskip("lzallright")
    pytest.importorskip("cramjam")
    src = tmp_path / "src"
    src.mkdir()
    image = _builder().build()
    files = {"x86_64.kdump": image, "i686.kdump": _builder(is_32=True, machine="i686").build(),
             "shuffled.flat": flatten(image, chunk=3000, shuffle=True, holes=True)}
    sources = []
    for name, blob in files.items():
        (src / name).write_bytes(blob)
        sources.append(source(f"builder/{name}", src / name))
    check_mutants("kdump", "builder", sources, tmp_path, min_cases=250 * len(sources) - 50)


@pytest.mark.corpus
@pytest.mark.slow
def test_mutated_corpus_dumps_give_valid_documents(tmp_path: Path) -> None:
    if not CORPUS:
        pytest.skip("no kdump files in the corpus")
    check_mutants("kdump", "corpus", [source(corpus_id(p), p) for p in CORPUS], tmp_path,
                  min_cases=250 * len(CORPUS) - 50)
