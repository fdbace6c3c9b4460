"""Hostile archives through ``dumpkit normalize``, with its address space capped (RLIMIT_AS):
path traversal, link and device members, a zip bomb, 10 GiB of zeros in a gzip, a 0-byte
file, a directory loop, a FIFO. Each yields an error document, the run ends, and nothing is
written outside the output folder."""
from __future__ import annotations

import gzip
import io
import json
import os
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.pipeline_run import documents, ndjson, run_normalize
from tests.pipeline_samples import minidump_variant

pytestmark = pytest.mark.slow

MEMORY_CAP = 768 << 20  # address space of the whole run (each process), bytes
DUMP = minidump_variant(7)


def _gzip_of_zeros(path: Path, total: int, head: bytes = b"", member: int = 64 << 20) -> None:
    """``head`` + zeros, ``total`` bytes once decompressed, written without ever holding them:
    one compressed member of zeros, repeated (a gzip file may hold many members)."""
    zeros = gzip.compress(bytes(member), compresslevel=9, mtime=0)
    with open(path, "wb") as fh:
        if head:
            fh.write(gzip.compress(head, mtime=0))
        for _ in range(0, total, member):
            fh.write(zeros)


def _hostile_tree(root: Path, outside: Path) -> dict[tuple[str, str], str]:
    """Writes the inputs; returns (container or "", path) -> the expected error code."""
    root.mkdir()
    expected: dict[tuple[str, str], str] = {}
    tar_path = root / "traversal.tar"
    with tarfile.open(tar_path, "w") as tf:
        for name in ("../../escape.dmp", str(outside / "abs-escape.dmp")):
            info = tarfile.TarInfo(name)
            info.size = len(DUMP)
            tf.addfile(info, io.BytesIO(DUMP))
            expected[(str(tar_path), name)] = "unsafe_member"
        for kind, name in ((tarfile.SYMTYPE, "sym.dmp"), (tarfile.LNKTYPE, "hard.dmp")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, str(outside / "target")
            tf.addfile(info)
            expected[(str(tar_path), name)] = "unsafe_member"
        info = tarfile.TarInfo("sda")
        info.type, info.devmajor, info.devminor = tarfile.BLKTYPE, 8, 0
        tf.addfile(info)
        expected[(str(tar_path), "sda")] = "unsafe_member"
    zip_path = root / "evil.zip"
    with zipfile.ZipFile(zip_path, "w") as zf:
        zf.writestr("../escape2.dmp", DUMP)
        link = zipfile.ZipInfo("link.dmp")
        link.create_system, link.external_attr = 3, (stat.S_IFLNK | 0o777) << 16
        zf.writestr(link, str(outside / "target"))
    expected[(str(zip_path), "../escape2.dmp")] = "unsafe_member"
    expected[(str(zip_path), "link.dmp")] = "unsafe_member"
    bomb = root / "bomb.zip"  # 256 MiB of "dump" deflated to ~250 KB
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf, \
            zf.open("bomb.dmp", "w", force_zip64=True) as m:
        m.write(DUMP[:64])
        block = bytes(1 << 20)
        for _ in range(256):
            m.write(block)
    expected[(str(bomb), "bomb.dmp")] = "decompression_limit"
    _gzip_of_zeros(root / "zeros.gz", 10 << 30)  # 10 GiB of zeros, ~10 MB on disk
    expected[(str(root / "zeros.gz"), "zeros")] = "unknown_format"
    _gzip_of_zeros(root / "fake.dmp.gz", 10 << 30, head=DUMP[:64])  # looks like a dump
    expected[(str(root / "fake.dmp.gz"), "fake.dmp")] = "decompression_limit"
    (root / "empty.dmp").write_bytes(b"")
    expected[("", str(root / "empty.dmp"))] = "unknown_format"
    (root / "sub").mkdir()
    os.symlink("..", root / "sub" / "up")
    expected[("", str(root / "sub" / "up"))] = "directory_loop"
    os.mkfifo(root / "sub" / "pipe")
    expected[("", str(root / "sub" / "pipe"))] = "not_regular_file"
    (root / "sub" / "fine.dmp").write_bytes(DUMP)
    return expected


def test_hostile_archives_end_in_error_documents(tmp_path: Path) -> None:
    outside = tmp_path / "outside"  # where an unsafe extraction would land
    outside.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    inputs = tmp_path / "hostile"
    expected = _hostile_tree(inputs, outside)
    out = tmp_path / "out"
    started = time.monotonic()
    result = run_normalize([inputs], out, "--workers", "2", "--max-member-size", "64M",
                           cwd=cwd, rlimit_as=MEMORY_CAP, timeout=120)
    assert result.returncode == 1, result.stderr
    assert time.monotonic() - started < 60

    errors = {}
    for doc in ndjson(out):
        if doc["kind"] == "error":
            chain = doc["source"]["container"]
            errors[(chain[-1] if chain else "", doc["source"]["path"])] = doc["error"]["code"]
    assert errors == expected
    docs, _ = documents(out)
    assert len(docs) == 1  # sub/fine.dmp, the only dump
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["errors"] == len(expected)

    assert os.listdir(outside) == [] and os.listdir(cwd) == []
    assert not (tmp_path.parent / "escape.dmp").exists() and not (tmp_path / "escape2.dmp").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cwd", "hostile", "out", "outside"]
    assert sorted(os.listdir(out)) == ["docs", "dumps.ndjson", "errors", "report.html", "report.json",
                                       "tables", "work"]
    assert os.listdir(out / "work" / "tmp") == []
