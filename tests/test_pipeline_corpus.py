"""The whole shared corpus, packed into a tar.gz and a zip, through ``dumpkit normalize``:
every file gets a document or an error document, the report's counts add up, and every
NDJSON line validates against its schema."""
from __future__ import annotations

import bz2
import gzip
import hashlib
import json
import lzma
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest
import zstandard

from dumpkit.detect import sniff
from dumpkit.pipeline.batch.report import validate_report
from dumpkit.pipeline.document.validate import validate
from dumpkit.pipeline.inputs.archives import sniff_container
from tests.pipeline_run import documents, ndjson, run_normalize

pytestmark = [pytest.mark.corpus, pytest.mark.slow]


def _open_content(path: Path) -> Any:
    """The file's content, through one compression layer if it has one (independently of
    dumpkit.pipeline.inputs.archives: Python's own modules, chosen by the first bytes)."""
    head = path.read_bytes()[:8]
    kind = sniff_container(head)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    if kind == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(open(path, "rb"), closefd=True)
    return open(path, "rb")


def _expected(files: list[Path]) -> tuple[set[str], list[Path]]:
    """sha256 of every dump in the corpus (decompressed), and the files that hold no dump."""
    shas, others = set(), []
    for path in files:
        with _open_content(path) as fh:
            head = fh.read(64)
            if sniff(head) is None:
                others.append(path)
                continue
            digest = hashlib.sha256(head)
            while block := fh.read(1 << 20):
                digest.update(block)
            shas.add(digest.hexdigest())
    return shas, others


def test_corpus_in_a_tar_gz_and_a_zip(corpus_dir: Path, tmp_path: Path) -> None:
    files = sorted(p for p in corpus_dir.rglob("*") if p.is_file())
    tgz, zipped = tmp_path / "corpus.tar.gz", tmp_path / "corpus.zip"
    with tarfile.open(tgz, "w:gz", compresslevel=1) as tf:
        for path in files:
            tf.add(path, arcname=str(path.relative_to(corpus_dir)))
    with zipfile.ZipFile(zipped, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for path in files:
            zf.write(path, arcname=str(path.relative_to(corpus_dir)))
    out = tmp_path / "out"
    result = run_normalize([tgz, zipped], out, "--workers", "2")
    assert result.returncode in (0, 1), result.stderr
    report = json.loads((out / "report.json").read_text())
    validate_report(report)

    dump_shas, others = _expected(files)
    docs, errors = documents(out)
    missing = dump_shas - docs - errors
    assert not missing, f"dumps with no document: {sorted(missing)[:5]}"
    # each non-dump file is in both archives: an error document for each place
    unknown = [json.loads((out / "errors" / f"{k}.json").read_text())
               for k in errors if k.startswith("path-")]
    assert sorted(d["source"]["path"] for d in unknown) == sorted(
        str(p.relative_to(corpus_dir)) for p in others for _ in range(2))
    assert {d["error"]["code"] for d in unknown} == {"unknown_format"}

    totals = report["totals"]
    assert totals["files"] == 2 * len(files)
    assert totals["dumps"] == len(docs) and totals["errors"] == len(errors)
    assert totals["documents"] == len(dump_shas) + 2 * len(others) == len(docs) + len(errors)
    assert totals["dumps"] + totals["errors"] + totals["duplicates"] == totals["files"]
    assert sum(c["count"] for c in report["dumps"]["by_format"]) == totals["dumps"]
    assert sum(c["count"] for c in report["failures"]["by_reason"]) == totals["errors"]
    assert report["failures"]["items_omitted"] + len(report["failures"]["items"]) == totals["errors"]

    lines = ndjson(out)
    assert len(lines) == totals["documents"]
    for doc in lines:
        validate(doc)
    keys = [d["source"]["sha256"] or "" for d in lines if d["kind"] == "dump"]
    assert keys == sorted(keys)
    assert os.listdir(out / "work" / "tmp") == []
    assert not (out / "work" / "spool").exists()
    assert "report:" in result.stdout and result.stderr == ""
