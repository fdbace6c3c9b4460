"""A synthetic batch of N documents, published by the real publishing code, without
normalizing N dumps.

How: 12 small minidumps (``pipeline_samples.minidump_variant``) are normalized for real into
template documents; document *i* is template ``i % 12`` with its own sha256 (of ``"synthetic
i"``), path and container, ``source.created`` (one every 37 s from 2024-01-01), OS version,
main-module version and crash signature (drawn from ~2,000 signatures with a Zipf-like law,
so a few signatures are common and most are rare, as in a real crash archive). Every
document is validated against the dump schema. The batch's state is then written as
``dumpkit normalize`` writes it (manifest, chunk lists, each chunk's part through
``parts.PartWriter``, chunk markers), and :func:`publish_synthetic` runs ``publish`` over it.
With ``documents=True`` the documents are also written to ``docs/`` (what publishing used to
read), for the benchmark's baseline.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from dumpkit.pipeline.atomic import write_atomic
from dumpkit.pipeline.batch.items import encode_document
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.batch.parts import PartWriter
from tests.pipeline_samples import minidump_variant

__all__ = ["BATCH", "RUN", "make_synthetic", "publish_synthetic", "synthetic_documents"]

BATCH, RUN, MADE_BY = "5e5e5e5e5e5e5e5e", "7a7a7a7a7a7a7a7a", "synthetic"
CHUNK = 500
_START = datetime(2024, 1, 1, tzinfo=UTC)
#: hostile names among the synthetic ones: the page must escape them
HOSTILE = ['<script>alert("x")</script>.dmp', "it's \"quoted\" & <b>bold</b>.dmp"]


def _templates() -> list[dict[str, Any]]:
    from dumpkit.pipeline.document.normalize import document_for

    docs = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(12):
            path = Path(tmp, f"t{i}.dmp")
            path.write_bytes(minidump_variant(i))
            doc = document_for(str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(),
                               container=[], display_path=str(path))
            assert doc["kind"] == "dump", doc
            docs.append(doc)
    return docs


def _signature(i: int) -> str:
    """Signature number ``k`` with probability ~ 1/(k+1): a few common, most rare."""
    h = int.from_bytes(hashlib.sha256(b"sig%d" % i).digest()[:8], "little") / 2**64
    k = int(2000 ** h) - 1  # log-uniform over 1..2000
    if k % 97 == 5:
        return f"{HOSTILE[0]} | frame_{k}"
    return f"app.exe!Module{k % 37}::Function{k}(int, char const*)"


def synthetic_documents(n: int, templates_from: Path | None = None) -> Iterator[tuple[str, dict[str, Any]]]:
    """(sha256, document) for i in 0..n-1, in key (sha256) order, as discovery orders items;
    ``templates_from``: a folder of dump documents to vary instead of the 12 small minidumps
    (e.g. the ``docs/`` of a corpus batch, for documents of real sizes)."""
    from dumpkit.pipeline.document.validate import validate

    if templates_from is None:
        texts = [json.dumps(doc) for doc in _templates()]  # json.loads copies ~10x faster than deepcopy
    else:
        texts = [p.read_text(encoding="utf-8") for p in sorted(templates_from.glob("*.json"))]
    templates = texts
    keys = sorted((hashlib.sha256(b"synthetic %d" % i).hexdigest(), i) for i in range(n))
    for sha, i in keys:
        doc = json.loads(templates[i % len(templates)])
        src = doc["source"]
        src["sha256"] = sha
        name = HOSTILE[i % 2] if i % 1000 == 7 else f"crash-{i:07d}.dmp"
        src["path"] = f"upload/{i % 300:03d}/{name}"
        src["container"] = [f"/data/uploads/day-{i % 60:02d}.tar.gz"] if i % 3 else []
        src["created"] = (_START + timedelta(seconds=37 * i)).strftime("%Y-%m-%dT%H:%M:%SZ")
        if doc["crash"] is not None:
            doc["crash"]["signature"] = _signature(i)
        if doc["modules"]:
            doc["modules"][0]["version"] = f"1.{i % 7}.{i % 3}.0"
        if doc["system"]["os"] == "windows":
            doc["system"]["os_version"] = f"10.0.{19041 + i % 5}"
        validate(doc)
        yield sha, doc


def make_synthetic(out: Path, n: int, *, documents: bool = False,
                   templates_from: Path | None = None) -> Layout:
    """The state of a batch of ``n`` synthetic documents under ``out``, ready to publish."""
    layout = Layout(str(out))
    items: list[dict[str, Any]] = []
    index = 0
    part: PartWriter | None = None
    with ExitStack() as stack:
        for sha, doc in synthetic_documents(n, templates_from):
            if part is None:
                part = PartWriter(layout, BATCH, RUN, index)
                stack.callback(part.close)
            data = encode_document(doc)
            rel = f"docs/{sha}.json"
            if documents:
                write_atomic(layout.document(sha, "dump"), data, layout.tmp)
            part.add(sha, doc, data, rel)
            items.append({"key": sha, "sha256": sha, "display": doc["source"]["path"],
                          "container": doc["source"]["container"], "format": "minidump", "error": None,
                          "path": doc["source"]["path"], "spooled": False, "size": doc["source"]["size"]})
            if len(items) == CHUNK:
                _finish_chunk(layout, index, items, part)
                index, items, part = index + 1, [], None
        if part is not None:
            _finish_chunk(layout, index, items, part)
            index += 1
    limits = {"max_member_size": 1 << 36, "max_ratio": 10000, "ratio_floor": 1 << 30, "max_depth": 8,
              "max_members": 1_000_000, "min_free": 1 << 30}
    manifest = {"batch": BATCH, "inputs": ["/data/uploads"], "limits": limits, "items": n,
                "chunk_size": CHUNK, "chunks": index, "files": n, "containers": 60, "input_bytes": 0,
                "discovery_s": 0.0, "duplicates": []}
    write_atomic(os.path.join(layout.manifest(BATCH), "manifest.json"), json.dumps(manifest).encode(),
                 layout.tmp)
    return layout


def _finish_chunk(layout: Layout, index: int, items: list[dict[str, Any]], part: PartWriter) -> None:
    part.finish()
    write_atomic(layout.chunk(BATCH, index), json.dumps(items).encode(), layout.tmp)
    write_atomic(layout.done(BATCH, RUN, index), json.dumps({"batch": BATCH, "index": index}).encode(),
                 layout.tmp)


def publish_synthetic(layout: Layout) -> dict[str, Any]:
    """Publish the synthetic batch into its folder (``dumps.ndjson``, tables, report); the report."""
    from dumpkit.pipeline.batch.publish import publish
    from dumpkit.pipeline.batch.targets import BatchTarget

    with open(os.path.join(layout.manifest(BATCH), "manifest.json"), encoding="utf-8") as fh:
        manifest = json.load(fh)
    targets = {name: BatchTarget(os.path.join(layout.out, file), layout.tmp)
               for name, file in (("report", "report.json"), ("html", "report.html"))}
    return publish(layout, BATCH, RUN, MADE_BY, manifest, {k: t.open for k, t in targets.items()})
