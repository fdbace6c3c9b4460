"""Seed inputs for a fuzz run: the shared corpus's dumps of a family plus dumps the builders write.

Seeds are written into a work folder outside the repository (the corpus is never copied into
it). Corpus files compressed with bz2, gzip or zstd are decompressed first; every seed is cut to
``max_len`` bytes (the fuzzer's input size limit: a cut dump still starts with its headers).
"""
from __future__ import annotations

import bz2
import gzip
import hashlib
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from dumpkit.detect import sniff
from tests.conftest import corpus_files
from tests.fuzz.families import FAMILIES, Family

__all__ = ["builder_seeds", "corpus_seeds", "write_seeds"]

MAX_DECOMPRESSED = 64 << 20


def _decompressed(data: bytes) -> bytes:
    """``data`` itself, or its decompressed bytes if it is a bz2/gzip/zstd stream."""
    try:
        if data[:3] == b"BZh":
            return bz2.decompress(data)
        if data[:2] == b"\x1f\x8b":
            return gzip.decompress(data)
        if data[:4] == b"\x28\xb5\x2f\xfd":
            import zstandard

            return zstandard.ZstdDecompressor().decompress(data, max_output_size=MAX_DECOMPRESSED)
    except (OSError, EOFError, ValueError, ImportError):
        return data
    except Exception as exc:  # zstandard.ZstdError
        if type(exc).__name__ == "ZstdError":
            return data
        raise
    return data


def corpus_seeds(family: Family) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each corpus file of ``family`` (none when the corpus is absent)."""
    for path in corpus_files(*family.corpus_globs):
        data = _decompressed(path.read_bytes())
        if sniff(data[:64]) in family.formats:
            yield f"corpus-{path.parent.name}-{path.name}", data


def _minidumps(tmp: Path) -> Iterator[tuple[str, bytes]]:
    from tests.test_minidump_builder import linux_amd64_breakpad, windows_amd64, windows_arm64, windows_x86

    for make in (windows_amd64, windows_x86, windows_arm64, linux_amd64_breakpad):
        yield make.__name__, make().build()


def _windows_kernel(tmp: Path) -> Iterator[tuple[str, bytes]]:
    from tests.builders.kernel_dump import BugCheck, write_small
    from tests.test_windows_crashdump import WRITERS, _image

    for arch, kind in (("amd64", "complete"), ("amd64", "sdmp"), ("amd64", "rangeA"), ("arm64", "complete"),
                       ("x86", "complete")):
        path = tmp / f"{arch}-{kind}.dmp"
        WRITERS[kind][0](path, _image(arch))
        yield f"{arch}-{kind}", path.read_bytes()
    write_small(tmp / "small.dmp", _image("amd64"), BugCheck())
    yield "amd64-small", (tmp / "small.dmp").read_bytes()


def _elf(tmp: Path) -> Iterator[tuple[str, bytes]]:
    from tests.builders.vmcore import lockless_log_vmcore, text_log_vmcore
    from tests.test_elf_core_units import LINES, _process_core

    yield "process-core", _process_core(tmp).read_bytes()
    yield "vmcore-lockless-log", lockless_log_vmcore(LINES)
    yield "vmcore-text-log", text_log_vmcore("\n".join(LINES))


def _kdump(tmp: Path) -> Iterator[tuple[str, bytes]]:
    from tests.builders.kdump import flatten
    from tests.test_kdump import _builder

    image = _builder().build()
    yield "x86_64", image
    yield "i686", _builder(is_32=True, machine="i686").build()
    yield "big-endian-ppc64", _builder(big_endian=True, machine="ppc64").build()
    yield "flattened", flatten(image, chunk=3000, shuffle=True, holes=True)


BUILDERS: dict[str, Callable[[Path], Iterator[tuple[str, bytes]]]] = {
    "minidump": _minidumps, "windows_kernel": _windows_kernel, "elf": _elf, "kdump": _kdump,
}


def builder_seeds(family: Family) -> Iterator[tuple[str, bytes]]:
    """(name, bytes) of each dump the builders in ``tests/builders/`` write for ``family``."""
    with tempfile.TemporaryDirectory(prefix="dumpkit-seeds-") as tmp:
        for name, data in BUILDERS[family.name](Path(tmp)):
            yield f"builder-{name}", data


def write_seeds(family: Family, dest: Path, max_len: int) -> int:
    """Write the family's seeds (cut to ``max_len``) into ``dest``; how many distinct seeds."""
    dest.mkdir(parents=True, exist_ok=True)
    seen: set[str] = set()
    for name, data in [*corpus_seeds(family), *builder_seeds(family)]:
        data = data[:max_len]
        digest = hashlib.sha1(data).hexdigest()
        if sniff(data[:64]) not in family.formats or digest in seen:
            continue
        seen.add(digest)
        (dest / f"{name}-{digest[:8]}").write_bytes(data)
    return len(seen)


if __name__ == "__main__":
    import sys

    for fam in sys.argv[2:] or list(FAMILIES):
        print(fam, write_seeds(FAMILIES[fam], Path(sys.argv[1]) / fam, 1 << 20))
