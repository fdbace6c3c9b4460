"""A chunk's *part*: what publishing needs of the chunk's documents, written as the chunk
finishes, so that publishing merges parts instead of reading every document again.

``work/batches/<batch>/runs/<run>/parts/<index>/`` holds (each file written atomically,
before the chunk's marker):

* ``documents.ndjson``: the chunk's documents, one line each, in the chunk's (key) order:
  its stretch of ``dumps.ndjson``;
* ``rows.json``: one compact summary row per document (:func:`summary_row`, a list in
  :data:`ROW_FIELDS` order: half the parsing time of objects): what the report and the
  page's drill-down need; the frames only in the chunk's first row of each signature (the
  report shows the frames of a signature's first dump in key order, which is always such a row);
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
from dumpkit.pipeline.batch.tables import TABLES, TableRows, table_bytes

__all__ = ["FRAMES_KEPT", "PART_FILES", "ROW_FIELDS", "PartWriter", "ensure_part", "read_rows", "summary_row"]

Doc = dict[str, Any]
#: frames of the crashing thread kept in a row (the drill-down's stack)
FRAMES_KEPT = 16
PART_FILES: tuple[str, ...] = ("documents.ndjson", "rows.json", *(f"{t}.arrow" for t in TABLES))


def _crashing_frames(doc: Doc) -> list[list[str | None]]:
    """``[module, function, module_offset]`` of the crashing thread's first frames."""
    crash = doc["crash"]
    wanted = crash["thread_id"] if crash else None
    threads = doc["threads"]
    thread = next((t for t in threads if t["crashed"]), None) or next(
        (t for t in threads if t["id"] == wanted), None)
    if thread is None:
        return []
    frames = thread["frames"][:FRAMES_KEPT]
    return [[f["module"], f["function"], f["module_offset"] or f["pc"]] for f in frames]


#: a summary row's fields, in the order ``rows.json`` stores them (a list per row)
ROW_FIELDS: tuple[str, ...] = (
    "key", "kind", "path", "container", "format", "variant", "created", "os", "os_version", "arch",
    "module", "module_version", "crash_kind", "reason", "signature", "diagnostics", "frames",
    "code", "message", "offset")


def summary_row(key: str, doc: Doc, *, frames: bool = True) -> dict[str, Any]:
    """One document as the report sees it (``frames``: with the crashing thread's first frames)."""
    src = doc["source"]
    if doc["kind"] != "dump":
        err = doc["error"]
        return {"key": key, "kind": "error", "path": src["path"], "container": src["container"],
                "format": src["format"], "variant": None, "created": None, "os": None, "os_version": None,
                "arch": None, "module": None, "module_version": None, "crash_kind": None, "reason": None,
                "signature": None, "diagnostics": [], "frames": [],
                "code": err["code"], "message": err["message"], "offset": err["offset"]}
    system, crash, modules = doc["system"], doc["crash"], doc["modules"]
    main = modules[0] if modules else None
    return {
        "key": key, "kind": "dump", "path": src["path"], "container": src["container"],
        "format": src["format"], "variant": src["variant"], "created": src["created"],
        "os": system["os"], "os_version": system["os_version"], "arch": system["cpu_arch"],
        "module": main["name"] if main else None, "module_version": main["version"] if main else None,
        "crash_kind": crash["kind"] if crash else None, "reason": crash["code_name"] if crash else None,
        "signature": crash["signature"] if crash else None,
        "diagnostics": sorted({d["code"] for d in doc["diagnostics"]}),
        "frames": _crashing_frames(doc) if frames else [], "code": None, "message": None, "offset": None,
    }


class PartWriter:
    """The part of one chunk, fed its documents in the chunk's order: the NDJSON streams to a
    temporary file, rows and table columns stay in memory until :meth:`finish`."""

    def __init__(self, layout: Layout, batch: str, run: str, index: int) -> None:
        self.layout, self.batch, self.run, self.index = layout, batch, run, index
        self.ndjson = tmp_name(layout.tmp, "documents.ndjson")
        self._fh = open(self.ndjson, "wb")  # noqa: SIM115 - closed by finish/close
        self.rows: list[list[Any]] = []
        self.signatures: set[str | None] = set()
        self.tables = TableRows()

    def add(self, key: str, doc: Doc, data: bytes, document: str) -> None:
        """One document, its file's bytes and its path relative to DIR."""
        self._fh.write(data)
        signature = doc["crash"]["signature"] if doc["kind"] == "dump" and doc["crash"] else None
        row = summary_row(key, doc, frames=signature not in self.signatures)
        self.signatures.add(signature)
        self.rows.append([row[name] for name in ROW_FIELDS])
        self.tables.add(key, doc, document)

    def finish(self) -> None:
        """Write the part's files (each atomically)."""
        layout, where = self.layout, self.layout.part
        for name in TABLES:
            write_atomic(where(self.batch, self.run, self.index, name + ".arrow"),
                         table_bytes(self.tables.table(name)), layout.tmp)
        rows = json.dumps(self.rows, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        write_atomic(where(self.batch, self.run, self.index, "rows.json"), rows, layout.tmp)
        self._fh.close()
        target = where(self.batch, self.run, self.index, "documents.ndjson")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.replace(self.ndjson, target)

    def close(self) -> None:
        """Forget an unfinished part."""
        self._fh.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ndjson)


def read_rows(layout: Layout, batch: str, run: str, index: int) -> list[dict[str, Any]]:
    """The summary rows of chunk ``index``, as dictionaries."""
    with open(layout.part(batch, run, index, "rows.json"), "rb") as fh:
        rows: list[list[Any]] = json.loads(fh.read())
    return [dict(zip(ROW_FIELDS, row, strict=True)) for row in rows]


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
