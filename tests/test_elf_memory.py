"""The program headers of an ELF image in a dump's memory, as the unwinder reads them
(``dumpkit.unwind.elf_memory._program_headers``: pyelftools' structures, made once per kind
of file) against ``ELFFile`` on the same bytes, which builds them anew for each file: on ELF
files of this machine, damaged copies of them, and every ELF image the corpus dumps captured."""
from __future__ import annotations

import io
import random
import shutil
import sys
from pathlib import Path
from typing import IO, Any, cast

import pytest
from elftools.dwarf.callframe import CallFrameInfo
from elftools.elf.elffile import ELFFile

import dumpkit
from dumpkit.elf_headers import ElfHeaders
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.memory import AddressSpace, MemoryFile
from dumpkit.symbols.elf import ELF_ERRORS, FdeIndex
from dumpkit.unwind.elf_memory import SearchTableIndex, _program_headers, _whole_section, memory_cfi
from tests.conftest import corpus_files, corpus_id
from tests.elf_fixtures import CrasherCore, crasher_cores

__all__ = ["crasher_cores"]  # the session fixture, re-exported so pytest sees it here

BASE = 0x400000


class BytesSpace(AddressSpace):
    """``data`` captured at :data:`BASE`, nothing else."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def read(self, address: int, size: int) -> bytes:
        start = address - BASE
        if start < 0 or size < 0 or start + size > len(self.data):
            raise NotCapturedError(address, size)
        return self.data[start:start + size]


def _outcome(read: Any) -> Any:
    try:
        headers = read()
    except ELF_ERRORS:
        return None
    return None if headers is None else [dict(header) for header in headers]


def _agree(space: AddressSpace, base: int, limit: int) -> Any:
    """Both readings of the image at ``base`` (viewing ``limit`` bytes); fails where they differ."""
    ours = _outcome(lambda: _program_headers(space, base, limit))
    theirs = _outcome(lambda: _pyelftools_headers(ELFFile(cast(IO[bytes], MemoryFile(space, base, limit)))))
    assert ours == theirs
    return ours


def _pyelftools_headers(elf: ELFFile) -> list[Any]:
    """The program headers as ``ELFFile`` parses them (not ``iter_segments()``, whose segment
    objects read section headers for PT_DYNAMIC: those are not loaded in a process's memory,
    and reading them there failed the whole image before)."""
    return [elf._get_segment_header(index) for index in range(elf.num_segments())]


def _local_elves() -> list[Path]:
    found = [Path(sys.executable).resolve()]
    for name in ("ls", "gdb", "gcc"):
        where = shutil.which(name)
        if where:
            found.append(Path(where).resolve())
    found.extend(sorted(Path("/lib/x86_64-linux-gnu").glob("libc.so.*"))[:1])
    return [path for path in found if path.read_bytes()[:4] == b"\x7fELF"]


@pytest.mark.parametrize("path", _local_elves(), ids=lambda p: p.name)
def test_program_headers_of_local_files(path: Path) -> None:
    data = path.read_bytes()[:0x10000]
    headers = _agree(BytesSpace(data), BASE, 0x10000)
    assert headers, f"{path}: no program headers read"  # a real file must give its table
    assert any(h["p_type"] == "PT_LOAD" for h in headers)


def test_program_headers_of_damaged_images() -> None:
    """Header bytes overwritten at random, fewer bytes captured, a smaller view: same
    answers (a table, or nothing) both ways."""
    data = Path(sys.executable).resolve().read_bytes()[:0x4000]
    rng = random.Random(1234)
    tables = nones = 0
    for _ in range(1500):
        damaged = bytearray(data)
        for _ in range(rng.randint(1, 4)):
            at = rng.choice((4, 5, 7, 16, 18, 32, 33, 38, 54, 56, 57, 58)) if rng.random() < 0.7 \
                else rng.randrange(0, 0x200)
            damaged[at] = rng.randrange(256)
        captured = bytes(damaged[:rng.choice((16, 40, 64, 0x100, 0x200, 0x4000))])
        limit = rng.choice((0x40, 0x100, 0x1000, 0x4000, rng.randrange(0x40, 0x800)))
        if _agree(BytesSpace(captured), BASE, limit) is None:
            nones += 1
        else:
            tables += 1
    assert tables > 40 and nones > 400, (tables, nones)  # both outcomes were exercised (seeded)


def test_elf_headers_read_like_elffile() -> None:
    """``ElfHeaders`` (structures made once per kind of file) gives ``ELFFile``'s header and the
    same structures, or fails where it fails, on local files and damaged copies of them."""
    rng = random.Random(99)
    for path in _local_elves():
        data = path.read_bytes()[:0x1000]
        for attempt in range(300):
            damaged = bytearray(data)
            if attempt:
                for _ in range(rng.randint(1, 3)):
                    damaged[rng.choice((0, 4, 5, 6, 7, 16, 17, 18, 19, 40, 52))] = rng.randrange(256)
            try:
                theirs: Any = ELFFile(io.BytesIO(bytes(damaged)))
            except ELF_ERRORS:
                theirs = None
            try:
                ours: Any = ElfHeaders(io.BytesIO(bytes(damaged)))
            except ELF_ERRORS:
                ours = None
            assert (ours is None) == (theirs is None), (path, attempt)
            if ours is not None:
                assert dict(ours.header) == dict(theirs.header)
                assert (ours.little_endian, ours.elfclass) == (theirs.little_endian, theirs.elfclass)
                for name in ("Elf_Phdr", "Elf_Nhdr", "Elf_Dyn"):
                    ours_struct, theirs_struct = getattr(ours.structs, name), getattr(theirs.structs, name)
                    assert ours_struct.sizeof() == theirs_struct.sizeof(), name
                    raw = bytes(data[64:64 + ours_struct.sizeof()])
                    assert dict(ours_struct.parse(raw)) == dict(theirs_struct.parse(raw)), name


def test_view_ending_at_the_table() -> None:
    """The table is read when the view ends exactly at its end, not one byte earlier."""
    data = Path(sys.executable).resolve().read_bytes()[:0x4000]
    headers = _agree(BytesSpace(data), BASE, 0x4000)
    phoff, count, stride = (int.from_bytes(data[at:at + size], "little")
                            for at, size in ((32, 8), (56, 2), (54, 2)))
    assert data[4] == 2 and len(headers) == count  # an ELF64 file, as this test assumes
    end = phoff + count * stride
    assert _agree(BytesSpace(data), BASE, end) == headers
    assert _agree(BytesSpace(data), BASE, end - 1) is None
    assert _agree(BytesSpace(data[:end - 1]), BASE, 0x4000) is None


def test_not_an_elf_header() -> None:
    assert _program_headers(BytesSpace(b"MZ" + bytes(200)), BASE, 0x1000) is None
    assert _program_headers(BytesSpace(b""), BASE, 0x1000) is None


_DUMPS = [path for path in corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp", "elfcore/*")
          if path.suffix not in (".bz2", ".zst", ".gz", ".xz")]  # dumpkit.open reads no archives


@pytest.mark.parametrize("path", _DUMPS, ids=corpus_id)
def test_program_headers_of_corpus_images(path: Path) -> None:
    try:
        dump = dumpkit.open(path)
    except DumpkitError:
        pytest.skip("the dump does not open (malformed on purpose)")
    with dump:
        space = dump.memory
        if space is None:
            pytest.skip("no memory captured")
        for module in dump.modules[:64]:
            if space.read_or_none(module.base, 4) == b"\x7fELF":
                _agree(space, module.base, max(module.size, 0x1000))


def _compare_fde_lookups(dump: Any) -> int:
    """Every image of ``dump`` whose CFI the unwinder reads through the search table: its
    answers against the whole section's :class:`FdeIndex`, at each FDE's edges, inside, and
    in the gaps. Returns how many addresses were compared."""
    compared = 0
    for module in dump.modules[:64]:
        found = memory_cfi(dump.memory, module, 8 if dump.system.cpu_arch in ("amd64", "arm64") else 4)
        if found is None:
            continue
        lazy, bias = found
        if not isinstance(lazy, SearchTableIndex):
            continue
        data = _whole_section(dump.memory, lazy._eh_frame)
        if data is None:  # not all captured: only the lookups can be checked against each other
            continue
        try:
            whole = FdeIndex(CallFrameInfo(io.BytesIO(data), len(data), lazy._eh_frame - bias,
                                           lazy._cfi.base_structs, for_eh_frame=True).get_entries())
        except ELF_ERRORS:  # the whole section does not parse (this index never did either)
            continue
        # the table may list more FDEs than the walk to the first zero length finds (a zero
        # entry inside the section ends the walk early: seen in an x32 core): every FDE the
        # walk found must be answered the same way at its edges and inside
        assert len(lazy) >= len(whole), module.name
        for start, end, _ in whole._fdes:
            for address in (start - 1, start, (start + end) // 2, end - 1, end):
                if not 0 <= address < 1 << 64:
                    continue  # pyelftools decodes some vDSO starts past 2**64: no pc is there
                ours, theirs = lazy.find(address), whole.find(address)
                if theirs is None and address in (start - 1, end):
                    continue  # a gap for the walk; the table may know the FDE there
                assert ours is not None and theirs is not None, (module.name, hex(address))
                assert dict(ours.header) == dict(theirs.header), (module.name, hex(address))
                assert _steps(ours) == _steps(theirs), (module.name, hex(address))
                compared += 1
    return compared


def _steps(fde: Any) -> list[tuple[Any, ...]]:
    """An FDE's CFA instructions as values (pyelftools' instruction objects compare by identity)."""
    return [(step.opcode, *step.args) for step in fde.instructions]


_CORES = [path for path in corpus_files("elfcore/*") if path.suffix not in (".bz2", ".zst", ".gz", ".xz")
          and "65k" not in path.name]


@pytest.mark.corpus
def test_search_table_agrees_with_the_whole_section_on_the_corpus() -> None:
    if not _CORES:
        pytest.skip("the corpus is absent (DUMPKIT_CORPUS or ../shared/corpus)")
    compared = 0
    for path in _CORES:
        try:
            dump = dumpkit.open(path)
        except DumpkitError:
            continue
        with dump:
            if dump.memory is not None:
                compared += _compare_fde_lookups(dump)
    assert compared > 10000  # libc's whole .eh_frame is in some of them


def test_search_table_agrees_with_the_whole_section_on_a_gdb_core(
        crasher_cores: dict[tuple[str, bool], CrasherCore]) -> None:
    core = crasher_cores[("segv", False)].core
    with dumpkit.open(core) as dump:
        assert _compare_fde_lookups(dump) >= 10  # the program's own FDEs, up to 5 addresses each
