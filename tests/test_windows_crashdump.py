"""Windows kernel crash dumps: corpus facts, built dumps vs kdmp-parser / volatility3, robustness."""
from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

import dumpkit
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.paging import VirtualSpace
from dumpkit.physical import BitmapSpace
from dumpkit.pipeline.document.normalize import document_for
from dumpkit.readers.windows_crashdump import os_version_for_build, physical_space
from tests.builders.kernel_dump import (
    MACHINE,
    BugCheck,
    write_bitmap,
    write_complete,
    write_ranges,
    write_small,
)
from tests.builders.kernel_image import PAGE, KernelImage
from tests.conftest import CORPUS_MISSING, corpus_files, corpus_id, manifest
from tests.kernel_dump_oracles import kdmp_open, vol_open, vol_translator
from tests.mutation import check_mutants, source

KERNEL_CORPUS = corpus_files("windows_kernel/*")


def _open(path: Path) -> dumpkit.Dump:
    return dumpkit.open(path)


# -- corpus ---------------------------------------------------------------------------------
def _manifest_facts(path: Path) -> dict[str, object]:
    row = manifest()[str(path.relative_to(path.parent.parent))]
    notes = row["notable_contents(auto-parsed)"]
    m = re.search(r"bugcheck=(0x[0-9a-f]+)\(([^)]*)\)", notes)
    assert m, notes
    return {"code": int(m.group(1), 16), "params": [int(p, 16) for p in m.group(2).split(",")],
            "nproc": int(re.search(r"nproc=(\d+)", notes).group(1)),  # type: ignore[union-attr]
            "build": int(re.search(r"NT 15\.(\d+)", notes).group(1)), "arch": row["arch"]}  # type: ignore[union-attr]


@pytest.mark.corpus
@pytest.mark.parametrize("path", KERNEL_CORPUS, ids=lambda p: p.name)
def test_corpus_matches_manifest(path: Path) -> None:
    facts = _manifest_facts(path)
    with _open(path) as dump:
        assert dump.crash is not None and dump.crash.kind == "bugcheck"
        assert dump.crash.code == facts["code"]
        assert dump.crash.parameters == facts["params"]
        assert dump.system.cpu_count == facts["nproc"]
        assert dump.system.os_build == facts["build"]
        assert dump.system.os_version == f"10.0.{facts['build']}"
        assert dump.system.cpu_arch == facts["arch"]
        assert dump.threads and dump.threads[0].crashed


@pytest.mark.corpus
def test_corpus_triage_details(corpus_dir: Path) -> None:
    with _open(corpus_dir / "windows_kernel/rizin_triage_x64.dmp") as dump:
        assert dump.source.variant == "small"
        assert dump.crash is not None and dump.crash.address == 0xFFFFF8048B58334C  # P2 of 0x1000007E
        assert len(dump.modules) == 151
        assert dump.modules[0].path == r"\SystemRoot\system32\ntoskrnl.exe"
        assert dump.modules[0].base == 0xFFFFF8047BA00000 and dump.modules[0].size == 0x1046000
        assert dump.modules[1].path.endswith("hal.dll")
        # ntoskrnl's PE header is in a data block: its TimeDateStamp equals the driver entry's +0x88
        assert dump.modules[0].code_id == "0D8333E61046000"
        assert [m.name for m in dump.unloaded_modules] == ["dam.sys", "WdBoot.sys", "hwpolicy.sys",
                                                          "mcupdate.dll"]
        thread = dump.threads[0]
        assert thread.registers["rip"] == 0xFFFFF8048B58334C
        assert thread.stack_start is not None and thread.stack_size is not None
        assert thread.stack_start <= thread.registers["rsp"] < thread.stack_start + thread.stack_size
        assert dump.memory is not None
        assert len(dump.memory.read(thread.registers["rsp"], 64)) == 64
        kdbg = dump.memory.read(dump.source.details["kd_debugger_data_block"], 0x18)  # type: ignore[arg-type]
        assert kdbg[0x10:0x14] == b"KDBG"
        assert dump.source.created == 1613871502
        assert not dump.diagnostics


@pytest.mark.corpus
def test_corpus_full_header_vs_kdmp(corpus_dir: Path) -> None:
    path = corpus_dir / "windows_kernel/imhex_dmp64.hexpat.bin"
    kd = kdmp_open(str(path))
    assert kd is not None
    hdr = kd.GetDumpHeader()
    with _open(path) as dump:
        assert dump.source.variant == "complete"
        assert dump.crash is not None and dump.crash.code == hdr.BugCheckCode
        assert dump.crash.parameters == list(hdr.BugCheckCodeParameter)
        assert dump.source.details["dtb"] == hdr.DirectoryTableBase
        assert dump.system.cpu_count == hdr.NumberProcessors
        assert dump.threads[0].registers["rip"] == kd.GetContext().Rip
        assert dump.source.details["physical_pages"] == hdr.PhysicalMemoryBlock.NumberOfPages
        codes = {d.code for d in dump.diagnostics}
        assert "page_data_truncated" in codes  # 16 KiB of a 2 GiB dump


def test_os_version_table() -> None:
    assert [os_version_for_build(b) for b in (2600, 3790, 6002, 7601, 9200, 9600, 19041)] == \
        ["5.1", "5.2", "6.0", "6.1", "6.2", "6.3", "10.0"]


# -- built dumps vs kdmp-parser -----------------------------------------------------------------
def _image(arch: str = "amd64", **kw: object) -> KernelImage:
    img = KernelImage(arch=arch, **kw)  # type: ignore[arg-type]
    img.build_kernel()
    if arch != "x86":
        img.map_large(0xFFFFF80040000000, 0x200000, 0x200000)  # 2 MiB page, captured
        img.map_large(0xFFFFF80080000000, 0x40000000, 0x40000000)  # 1 GiB page, not captured
    else:
        img.map_large(0x90000000, 0x200000, 0x200000)
    return img


WRITERS = {
    "complete": (write_complete, "complete"),
    "sdmp": (lambda p, img: write_bitmap(p, img, "SDMP"), "kernel"),
    "fdmp": (lambda p, img: write_bitmap(p, img, "FDMP"), "bitmap-full"),
    "range8": (lambda p, img: write_ranges(p, img, 8), "kernel-range"),
    "range9": (lambda p, img: write_ranges(p, img, 9), "kernel-and-user-range"),
    "rangeA": (lambda p, img: write_ranges(p, img, 0xA), "complete-range"),
}
CASES = [("amd64", w) for w in WRITERS] + [("arm64", "complete"), ("arm64", "sdmp")]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], tuple[Path, KernelImage]]:
    out = {}
    root = tmp_path_factory.mktemp("kdumps")
    for arch, kind in CASES:
        img = _image(arch)
        path = root / f"{arch}_{kind}.dmp"
        WRITERS[kind][0](path, img)
        out[(arch, kind)] = (path, img)
    return out


@pytest.mark.parametrize(("arch", "kind"), CASES)
def test_built_dump_model(built: dict, arch: str, kind: str) -> None:
    path, img = built[(arch, kind)]
    with _open(path) as dump:
        assert dump.source.variant == WRITERS[kind][1]
        assert dump.system.cpu_arch == arch and dump.system.os_version == "10.0.19041"
        assert not dump.diagnostics, dump.diagnostics
        assert [m.base for m in dump.modules] == [d.base for d in img.drivers]
        for mod, drv in zip(dump.modules, img.drivers, strict=True):
            assert mod.path == (drv.path if drv.full_name_mapped else drv.name)
            assert mod.size == drv.size
            if drv.headers_mapped:
                assert (mod.code_id, mod.debug_id, mod.debug_file) == (drv.code_id, drv.debug_id, drv.pdb)
            else:
                assert mod.code_id is None
        pc = {"amd64": "rip", "arm64": "pc", "x86": "eip"}[arch]
        by_id = {t.id: t for t in dump.threads}
        assert by_id[1].crashed and by_id[1].context_source == "header"
        assert by_id[0].context_source == "prcb" and by_id[0].registers[pc] == img.cpu_regs[0][pc]
        assert dump.crash is not None and dump.crash.thread_id == 1
        assert dump.crash.address == 0xFFFFF80000401234
        assert dump.source.created == 1613785502


@pytest.mark.parametrize(("arch", "kind"), CASES)
def test_built_dump_vs_kdmp(built: dict, arch: str, kind: str) -> None:
    path, img = built[(arch, kind)]
    kd = kdmp_open(str(path))
    assert kd is not None, "kdmp-parser rejected the built dump"
    hdr = kd.GetDumpHeader()
    with _open(path) as dump:
        assert dump.crash is not None
        assert (dump.crash.code, dump.crash.parameters) == (hdr.BugCheckCode, list(hdr.BugCheckCodeParameter))
        assert dump.source.details["dtb"] == hdr.DirectoryTableBase
        assert dump.source.details["dump_type"] == int(hdr.DumpType.value)
        assert dump.source.details["machine_image_type"] == hdr.MachineImageType
        phys = physical_space(dump)
        assert phys is not None
        pages = sorted(kd.GetPhysmem())
        assert pages, "kdmp-parser lists no pages"
        ours = {pa for start, size in phys.ranges() for pa in range(start, start + size, PAGE)}
        assert ours == set(pages)
        for pa in sorted(img.pages)[:300]:
            assert phys.read(pa * PAGE, PAGE) == bytes(kd.GetPhysicalPage(pa * PAGE)), hex(pa)
        if arch != "amd64":
            return
        memory = dump.memory
        assert isinstance(memory, VirtualSpace)
        vas = [*sorted(img.vmap), 0xFFFFF80040000000 + 0x12345, 0xFFFFF80080000000 + 0x3456789]
        for va in vas:
            assert memory.translate(va) == kd.VirtTranslate(va, 0), hex(va)
        rng = random.Random(7)  # unmapped and large-page addresses: both fail or both agree
        for va in (rng.randrange(0xFFFFF80000000000, 0xFFFFF80100000000) for _ in range(200)):
            try:
                got: int | None = memory.translate(va)
            except NotCapturedError:
                got = None
            assert got == kd.VirtTranslate(va, 0), hex(va)


@pytest.mark.parametrize(("arch", "kind"), [*CASES, ("x86", "complete")])
def test_built_translation_and_ranges(tmp_path: Path, arch: str, kind: str) -> None:
    """Our walk vs the builder's own page tables (the only oracle for ARM64), and ranges()."""
    img = _image(arch)
    path = tmp_path / "t.dmp"
    WRITERS[kind][0](path, img)
    with _open(path) as dump:
        memory = dump.memory
        assert isinstance(memory, VirtualSpace)
        for va in sorted(img.vmap):
            assert memory.translate(va + 0x123) == img.translate(va + 0x123), hex(va)
        large = 0x90000000 if arch == "x86" else 0xFFFFF80040000000
        pages = {va for start, size in memory.ranges() for va in range(start, start + size, PAGE)}
        assert pages == set(img.vmap) | set(range(large, large + 0x200000, PAGE))


@pytest.mark.parametrize("kind", ["complete", "fdmp"])
def test_built_vs_volatility(built: dict, kind: str) -> None:
    path, img = built[("amd64", kind)]
    ctx, layer = vol_open(str(path), is64=True)
    hdr = layer.get_header()
    with _open(path) as dump:
        assert dump.crash is not None and dump.crash.code == hdr.BugCheckCode
        assert dump.source.details["dtb"] == hdr.DirectoryTableBase
        assert dump.system.cpu_count == hdr.NumberProcessors
        phys = physical_space(dump)
        assert phys is not None
        for pa in sorted(img.pages):
            assert phys.read(pa * PAGE, PAGE) == layer.read(pa * PAGE, PAGE)
        virt = vol_translator(ctx, img.dtb, pae=False)
        memory = dump.memory
        assert isinstance(memory, VirtualSpace)
        for va in [*sorted(img.vmap), 0xFFFFF80040000000 + 0x12345]:
            assert memory.translate(va) == virt.translate(va)[0], hex(va)


def test_summary_type2_with_bitmap_header(tmp_path: Path) -> None:
    img = _image()
    path = tmp_path / "summary.dmp"
    write_bitmap(path, img, "SDMP")
    data = bytearray(path.read_bytes())
    data[0xF98:0xF9C] = (2).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with _open(path) as dump:
        assert dump.source.variant == "summary" and not dump.diagnostics
        assert len(dump.modules) == len(img.drivers)


def test_built_x86_pae_vs_volatility(tmp_path: Path) -> None:
    img = _image("x86")
    path = tmp_path / "x86.dmp"
    write_complete(path, img)
    ctx, layer = vol_open(str(path), is64=False)
    hdr = layer.get_header()
    with _open(path) as dump:
        assert dump.source.details["header"] == "DUMP_HEADER32" and dump.source.details["pae_enabled"]
        assert dump.crash is not None and dump.crash.code == hdr.BugCheckCode
        assert dump.source.details["dtb"] == hdr.DirectoryTableBase == img.dtb
        assert not dump.diagnostics, dump.diagnostics
        assert [m.base for m in dump.modules] == [d.base for d in img.drivers]
        assert dump.modules[0].debug_id == img.drivers[0].debug_id
        phys = physical_space(dump)
        assert phys is not None
        for pa in sorted(img.pages):
            assert phys.read(pa * PAGE, PAGE) == layer.read(pa * PAGE, PAGE)
        virt = vol_translator(ctx, img.dtb, pae=True)
        memory = dump.memory
        assert isinstance(memory, VirtualSpace)
        for va in [*sorted(img.vmap), 0x90012345]:
            assert memory.translate(va) == virt.translate(va)[0], hex(va)


def test_built_x86_non_pae_vs_volatility(tmp_path: Path) -> None:
    img = KernelImage(arch="x86", pae=False)
    img.build_kernel()
    img.map_large(0x90000000, 0x400000, 0x400000)  # 4 MiB page
    path = tmp_path / "x86np.dmp"
    write_complete(path, img)
    ctx, _layer = vol_open(str(path), is64=False)
    with _open(path) as dump:
        assert dump.source.details["pae_enabled"] is False and not dump.diagnostics, dump.diagnostics
        assert [m.code_id for m in dump.modules] == [d.code_id if d.headers_mapped else None
                                                      for d in img.drivers]
        from volatility3.framework.layers import intel

        ctx.config["virt.memory_layer"] = "crash"
        ctx.config["virt.page_map_offset"] = img.dtb
        virt = intel.Intel(ctx, "virt", "virt")
        memory = dump.memory
        assert isinstance(memory, VirtualSpace)
        for va in [*sorted(img.vmap), 0x90123456]:
            assert memory.translate(va) == virt.translate(va)[0], hex(va)
        pages = {va for start, size in memory.ranges() for va in range(start, start + size, PAGE)}
        assert set(img.vmap) <= pages


def test_built_small_dump(tmp_path: Path) -> None:
    img = _image()
    path = tmp_path / "small.dmp"
    facts = write_small(path, img)
    assert kdmp_open(str(path)) is None  # kdmp-parser does not read triage dumps
    with _open(path) as dump:
        assert dump.source.variant == "small" and not dump.diagnostics, dump.diagnostics
        assert [m.path for m in dump.modules] == [d.path for d in img.drivers]
        assert [m.code_id for m in dump.modules] == [d.code_id for d in img.drivers]
        assert dump.modules[0].debug_id == img.drivers[0].debug_id  # PE header in a data block
        assert [(m.name, m.base) for m in dump.unloaded_modules] == [(n, s) for n, s, _ in facts["unloaded"]]
        thread = dump.threads[0]
        assert (thread.id, thread.crashed, thread.stack_start) == (1, True, facts["top_of_stack"])
        assert thread.registers["rip"] == img.cpu_regs[1]["rip"]
        assert dump.memory is not None
        assert dump.memory.read(facts["top_of_stack"], 0x1000) == facts["stack"]
        for va, data in facts["blocks"]:
            assert dump.memory.read(va, len(data)) == data
        with pytest.raises(NotCapturedError):
            dump.memory.read(0x1000, 1)


# -- translation details and broken structures ---------------------------------------------------
def test_transition_and_not_present(tmp_path: Path) -> None:
    img = _image()
    target = img.drivers[1].base + 0x5000
    img.vwrite(target, b"transition page")
    pfn = img.vmap[target]
    img.set_pte(target, pfn * PAGE | 0x800 | 0x80)  # Transition=1, Prototype=0, Present=0
    absent = img.drivers[1].base + 0x6000
    img.set_pte(absent, 0x12340000_0000_0080)  # paged out (PageFileHigh set)
    path = tmp_path / "t.dmp"
    write_complete(path, img)
    with _open(path) as dump:
        assert dump.memory is not None
        assert dump.memory.read(target, 15) == b"transition page"
        with pytest.raises(NotCapturedError) as err:
            dump.memory.read(absent, 4)
        assert err.value.space == "virtual"
        with pytest.raises(NotCapturedError):  # 1 GiB page maps memory the dump does not hold
            dump.memory.read(0xFFFFF80080000000, 4)
        expected = bytes(img.pages.get(0x200, bytearray(PAGE))[0x100:0x108])  # a zero page if unused
        assert dump.memory.read(0xFFFFF80040000000 + 0x100, 8) == expected


def test_module_list_loop(tmp_path: Path) -> None:
    img = KernelImage()
    img.build_kernel(loop=True)
    path = tmp_path / "loop.dmp"
    write_complete(path, img)
    with _open(path) as dump:
        assert "module_list_loop" in {d.code for d in dump.diagnostics}
        assert len(dump.modules) == len(img.drivers)


def test_page_table_outside_dump(tmp_path: Path) -> None:
    img = _image()
    drv = img.drivers[3]
    img.map_large(drv.base & ~0x1FFFFF, 0x7FF00000000, 0x200000)  # PDE -> PFN far past the runs
    slot = img._leaf_slot(0xFFFFF80000400000, 30)  # PDPTE of the kernel image -> table outside
    img.pwrite(slot + 8 * 1, (0x123456789000 | 0x63).to_bytes(8, "little"))
    path = tmp_path / "outside.dmp"
    write_complete(path, img)
    with _open(path) as dump:
        assert dump.modules  # the list itself is intact
        assert dump.modules[3].code_id is None  # its headers now point outside the dump
        with pytest.raises(NotCapturedError):
            dump.memory.read(0xFFFFF80040000000, 1)  # type: ignore[union-attr]


def test_bitmap_claims_more_than_file(tmp_path: Path) -> None:
    img = _image()
    path = tmp_path / "claims.dmp"
    write_bitmap(path, img, "SDMP", claim_pages=10**6)
    with _open(path) as dump:
        codes = {d.code for d in dump.diagnostics}
        assert "page_data_truncated" in codes and "bitmap_count" in codes
        assert dump.modules


def test_encoded_kdbg(tmp_path: Path) -> None:
    img = KernelImage(encoded_kdbg=True)
    img.build_kernel()
    path = tmp_path / "enc.dmp"
    write_complete(path, img)
    with _open(path) as dump:
        assert "kdbg_encoded" in {d.code for d in dump.diagnostics}
        assert len(dump.modules) == len(img.drivers)  # the header's PsLoadedModuleList still works
        assert [t.context_source for t in dump.threads] == ["header"]


def test_bitmap_index_is_lazy(tmp_path: Path) -> None:
    img = _image()
    path = tmp_path / "lazy.dmp"
    write_bitmap(path, img, "SDMP")
    from dumpkit.memory import FileView

    view = FileView(path)
    space = BitmapSpace(view, 0x2038, 0x800, 0x3000)
    assert not space.index_built
    assert space.has_page(1) and not space.index_built
    space.read(PAGE, 8)
    assert space.index_built and space.present_pages == sum(n for _, n in img.runs)
    view.close()


def test_bitmap_ranges_and_rank_vs_naive(tmp_path: Path) -> None:
    """BitmapSpace's run finder and rank index against a per-bit reference on random bitmaps."""
    from dumpkit.memory import FileView

    rng = random.Random(5)
    for trial in range(25):
        nbits = rng.randrange(1, 40000)
        bm = bytearray(rng.choice([0, 0xFF, rng.randrange(256)]) for _ in range((nbits + 7) // 8))
        for _ in range(rng.randrange(5)):
            a = rng.randrange(len(bm))
            b = min(len(bm), a + rng.randrange(2000))
            bm[a:b] = bytes([rng.choice([0, 255])]) * (b - a)
        path = tmp_path / f"bm{trial}"
        path.write_bytes(b"\0" * 0x38 + bm)
        bit = [bool(bm[i >> 3] >> (i & 7) & 1) for i in range(nbits)]
        runs, i = [], 0
        while i < nbits:
            if bit[i]:
                j = i
                while j < nbits and bit[j]:
                    j += 1
                runs.append((i * PAGE, (j - i) * PAGE))
                i = j
            else:
                i += 1
        view = FileView(path)
        space = BitmapSpace(view, 0x38, nbits, 0x100000)
        assert list(space.ranges()) == runs
        assert space.present_pages == sum(bit)
        for pfn in rng.sample(range(nbits), min(nbits, 40)):
            expected = 0x100000 + sum(bit[:pfn]) * PAGE if bit[pfn] else None
            assert space.page_offset(pfn) == expected
        view.close()


def test_header_only_and_garbage(tmp_path: Path) -> None:
    img = _image()
    path = tmp_path / "hdr.dmp"
    write_complete(path, img)
    data = bytearray(path.read_bytes()[:0x2000])
    data[0xF98:0xF9C] = (3).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    with _open(path) as dump:
        assert dump.source.variant == "header-only" and dump.memory is None
        assert dump.crash is not None and dump.threads
    path.write_bytes(b"PAGEDU64" + b"\0" * 100)
    with pytest.raises(DumpkitError):
        _open(path)


@pytest.mark.parametrize(("arch", "machine", "writer"), [
    ("amd64", 0x14C, "complete"), ("amd64", 0x14C, "small"), ("x86", 0x8664, "complete"),
    ("x86", 0xAA64, "complete")])
def test_header_width_contradicting_its_machine(tmp_path: Path, arch: str, machine: int, writer: str) -> None:
    """Regression: a PAGEDU64 header naming x86 (0x14c) ended in an AttributeError (no
    pae_enabled in DUMP_HEADER64). A header whose width contradicts its machine is bad input:
    an error diagnostic at MachineImageType, the rest of the header still read."""
    img = _image(arch)
    path = tmp_path / f"{writer}.dmp"
    (write_small if writer == "small" else write_complete)(path, img)
    data = bytearray(path.read_bytes())
    at = 0x30 if arch == "amd64" else 0x20
    assert int.from_bytes(data[at:at + 4], "little") == MACHINE[arch]
    data[at:at + 4] = machine.to_bytes(4, "little")
    path.write_bytes(bytes(data))
    doc = document_for(str(path))
    assert doc["kind"] == "dump", doc.get("error")
    [diag] = [d for d in doc["diagnostics"] if d["code"] == "machine_mismatch"]
    assert (diag["severity"], diag["structure"], diag["offset"]) == ("error", diag["structure"], hex(at))
    assert diag["structure"].endswith(".MachineImageType")
    assert doc["system"]["cpu_arch"] == "unknown"
    assert doc["crash"]["kind"] == "bugcheck" and doc["crash"]["code"] == 0x1000007E


# -- robustness ---------------------------------------------------------------------------------
# Truncated and byte-flipped dumps through the robustness harness (tests/mutation.py; where the
# mutants land: tests/mutation_plans.py): every mutant gives a document that validates, never
# internal_error, within 1 s, under 200 MB above the warm baseline, its input unchanged.

@pytest.mark.slow
@pytest.mark.corpus
def test_mutated_corpus_dumps_give_valid_documents(tmp_path: Path) -> None:
    if not KERNEL_CORPUS:
        pytest.skip(CORPUS_MISSING)
    sources = [source(corpus_id(p), p) for p in KERNEL_CORPUS]
    check_mutants("windows_kernel", "corpus", sources, tmp_path, min_cases=200 * len(sources))


@pytest.mark.slow
def test_mutated_built_dumps_give_valid_documents(tmp_path: Path) -> None:
    sources = []
    for kind in ("complete", "sdmp", "small", "rangeA", "x86"):
        img = _image("x86" if kind == "x86" else "amd64")
        path = tmp_path / f"{kind}.dmp"
        if kind == "small":
            write_small(path, img, BugCheck())
        elif kind == "x86":
            write_complete(path, img)
        else:
            WRITERS[kind][0](path, img)
        sources.append(source(f"built/{kind}", path))
    check_mutants("windows_kernel", "built", sources, tmp_path, min_cases=200 * len(sources))
