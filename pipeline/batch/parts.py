"""A chunk's *part*: what publishing needs of the chunk's documents, written as the chunk
finishes, so that publishing merges parts instead of reading every document again.

``work/batches/<batch>/runs/<run>/parts/<index>/`` holds (each file written atomically,
before the chunk's marker):

* ``documents.ndjson``: the chunk's documents, one line each, in the chunk's (key) order:
  its stretch of ``dumps.ndjson``;
* ``counts.json`` and ``signatures.json``: the chunk's summary (:mod:`.summary`): what the
  report and the page's drill-down need, aggregated;
* ``<table>.arrow``: the chunk's rows of every table (:mod:`.tables`), Arrow IPC.

A part depends only on the chunk's documents, so a chunk run again (resumed, or by another
worker) writes the same part. :func:`ensure_part` rebuilds a missing part from the
documents on disk (a batch begun by a dumpkit that wrote no parts).
"""
from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from dumpkit.pipeline.atomic import tmp_name, write_atomic
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.batch.summary import ChunkSummary
from dumpkit.pipeline.batch.tables import TABLES, TableRows, table_bytes
from dumpkit.pipeline.faults import checkpoint

__all__ = ["PART_FILES", "PartWriter", "ensure_part", "read_part_json"]

Doc = dict[str, Any]
PART_FILES: tuple[str, ...] = ("documents.ndjson", "counts.json", "signatures.json",
                               *(f"{t}.arrow" for t in TABLES))


class PartWriter:
    """The part of one chunk, fed its documents in the chunk's order: the NDJSON streams to a
    temporary file, rows and table columns stay in memory until :meth:`finish`."""

    def __init__(self, layout: Layout, batch: str, run: str, index: int) -> None:
        self.layout, self.batch, self.run, self.index = layout, batch, run, index
        self.ndjson = tmp_name(layout.tmp, "documents.ndjson")
        self._fh = open(self.ndjson, "wb")  # noqa: SIM115 - closed by finish/close
        self.summary = ChunkSummary()
        self.tables = TableRows()

    def add(self, key: str, doc: Doc, data: bytes, document: str, seconds: float | None = None) -> None:
        """One document, its file's bytes, its path relative to DIR, and the seconds spent
        making it in this run (``None``: it was on disk)."""
        self._fh.write(data)
        self.summary.add(key, doc, document, seconds)
        self.tables.add(key, doc, document)

    def finish(self) -> None:
        """Write the part's files (each atomically)."""
        layout, where = self.layout, self.layout.part
        for name in TABLES:
            write_atomic(where(self.batch, self.run, self.index, name + ".arrow"),
                         table_bytes(self.tables.table(name)), layout.tmp)
        summary = (("counts.json", self.summary.counts()), ("signatures.json", self.summary.signatures()))
        for name, what in summary:
            data = json.dumps(what, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            write_atomic(where(self.batch, self.run, self.index, name), data, layout.tmp)
        self._fh.close()
        target = where(self.batch, self.run, self.index, "documents.ndjson")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(self.ndjson, target)
        checkpoint("part")

    def close(self) -> None:
        """Forget an unfinished part."""
        self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ndjson)


def read_part_json(layout: Layout, batch: str, run: str, index: int, name: str) -> dict[str, Any]:
    """``counts.json`` or ``signatures.json`` of chunk ``index``."""
    with open(layout.part(batch, run, index, name), "rb") as fh:
        what: dict[str, Any] = json.loads(fh.read())
    return what


def ensure_part(layout: Layout, batch: str, run: str, index: int) -> None:
    """Rebuild the part of chunk ``index`` from the documents on disk if a file of it is missing."""
    if all(os.path.exists(layout.part(batch, run, index, name)) for name in PART_FILES):
        return
    from dumpkit.pipeline.batch.items import encode_document, existing_document, load_chunk

    part = PartWriter(layout, batch, run, index)
    try:
        for item in load_chunk(layout, batch, index):
            found = existing_document(layout, item["key"])
            if found is None:
                raise FileNotFoundError(f"document of {item['display']} ({item['key']}) is missing")
            path, doc = found
            part.add(item["key"], doc, encode_document(doc), layout.relative(path))
        part.finish()
    finally:
        part.close()
