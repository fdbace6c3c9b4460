"""The program headers of an ELF image in a dump's memory, as the unwinder reads them
(``dumpkit.unwind.elf_memory._program_headers``: pyelftools' structures, made once per kind
of file) against ``ELFFile`` on the same bytes, which builds them anew for each file: on ELF
files of this machine, damaged copies of them, and every ELF image the corpus dumps captured."""
from __future__ import annotations

import random
import shutil
import sys
from pathlib import Path
from typing import IO, Any, cast

import pytest
from elftools.elf.elffile import ELFFile

import dumpkit
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.memory import AddressSpace, MemoryFile
from dumpkit.symbols.elf import ELF_ERRORS
from dumpkit.unwind.elf_memory import _program_headers
from tests.conftest import corpus_files, corpus_id

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
