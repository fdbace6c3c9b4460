"""One manifest item -> its document on disk (made, or reused when the same code and
options made it), and the chunk files that list the items."""
from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, NamedTuple

from dumpkit.pipeline.atomic import write_atomic
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.faults import checkpoint

if TYPE_CHECKING:
    from dumpkit.symbols.store import SymbolStore

__all__ = ["Made", "encode_document", "existing_document", "iter_items", "load_chunk", "process_item"]

Doc = dict[str, Any]


def load_chunk(layout: Layout, batch: str, index: int) -> list[dict[str, Any]]:
    with open(layout.chunk(batch, index), encoding="utf-8") as fh:
        items: list[dict[str, Any]] = json.load(fh)
    return items


def iter_items(layout: Layout, batch: str, n_chunks: int) -> Iterator[dict[str, Any]]:
    for index in range(n_chunks):
        yield from load_chunk(layout, batch, index)


def encode_document(doc: Doc) -> bytes:
    """A document file's bytes: one line of compact JSON, exactly its line in dumps.ndjson
    (compact also keeps json's C encoder: ``indent`` would make writing ~10x slower)."""
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def existing_document(layout: Layout, key: str) -> tuple[str, Doc] | None:
    """The document of ``key`` already on disk (either kind), if any and readable."""
    found = _existing(layout, key)
    return None if found is None else (found[0], found[1])


def _existing(layout: Layout, key: str) -> tuple[str, Doc, bytes] | None:
    """:func:`existing_document` and the file's bytes."""
    for kind in ("dump", "error"):
        path = layout.document(key, kind)
        try:
            with open(path, "rb") as fh:
                data = fh.read()
            return path, json.loads(data), data
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            return None  # damaged: make it again
    return None


class Made(NamedTuple):
    """What :func:`process_item` leaves on disk for one item: its document, the file's bytes and
    path, and the seconds spent (``None``: everything was on disk already)."""

    doc: Doc
    data: bytes
    path: str
    seconds: float | None


def _refusal_document(item: dict[str, Any]) -> Doc:
    from dumpkit.pipeline.document.normalize import error_document

    err = item["error"]
    return error_document(item["display"], err["code"], err["message"], structure=err["structure"],
                          offset=err["offset"], size=item["size"], sha256=None, fmt=None,
                          container=item["container"])


def process_item(layout: Layout, item: dict[str, Any], made_by: str, shrink_max_size: int = 0,
                 symbols: SymbolStore | None = None) -> Made:
    """Make the document of one manifest item (and, with ``shrink_max_size``, the reduced
    minidump of a dump), or find it on disk.

    A document on disk is reused when ``made_by`` (``identity.document_fingerprint``: code,
    schemas, options) made it, as its marker ``work/made/<made_by>/<key>`` says; if the same
    bytes now sit at another place, only ``source.path`` and ``source.container`` are rewritten.
    ``symbols`` (one per worker process) names frames and gives CFI; ``made_by`` includes its
    sources, so other sources remake the documents.
    """
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.validate import validate

    started = time.perf_counter()
    key = item["key"]
    if item["error"] is not None:  # refused by discovery: the document is known already
        doc = _refusal_document(item)
        validate(doc)
        path = layout.document(key, "error")
        data = encode_document(doc)
        if _same_file(path, data):
            _mark(layout, made_by, key)
            return Made(doc, data, path, None)
        _unmark(layout, key)
        write_atomic(path, data, layout.tmp)
        checkpoint("document")
        _mark(layout, made_by, key)
        return Made(doc, data, path, time.perf_counter() - started)
    found = _existing(layout, key)
    made = False
    if found is not None and _reusable(layout, key, found[1], made_by):
        path, doc, data = found
        src = doc["source"]
        if src["path"] != item["display"] or src["container"] != item["container"]:
            src["path"], src["container"] = item["display"], list(item["container"])
            validate(doc)
            data = encode_document(doc)
            write_atomic(path, data, layout.tmp)
    else:
        _check_source(item)
        doc = document_for(item["path"], sha256=item["sha256"], container=list(item["container"]),
                           display_path=item["display"], symbols=symbols)
        _unmark(layout, key)  # before the document changes: no marker may claim the new one
        for kind in ("dump", "error"):  # a stale document of the other kind must not stay beside it
            other = layout.document(key, kind)
            if kind != doc["kind"] and os.path.exists(other):
                os.unlink(other)
        path, data = layout.document(key, doc["kind"]), encode_document(doc)
        write_atomic(path, data, layout.tmp)
        checkpoint("document")
        _mark(layout, made_by, key)
        made = True
    if shrink_max_size and doc["kind"] == "dump":
        from dumpkit.pipeline.batch.reduce import ensure_minidump

        made = ensure_minidump(layout, key, item["path"], shrink_max_size,
                               lambda: _check_source(item)) or made
    return Made(doc, data, path, time.perf_counter() - started if made else None)


def _mark(layout: Layout, made_by: str, key: str) -> None:
    """Record that ``made_by`` made the document of ``key`` (an empty file, after the document)."""
    path = layout.made(made_by, key)
    try:
        open(path, "xb").close()
    except FileExistsError:
        pass
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        open(path, "ab").close()


def _unmark(layout: Layout, key: str) -> None:
    """Forget what made the document of ``key`` (it is about to change)."""
    root = layout.made_root
    with contextlib.suppress(FileNotFoundError):
        for made_by in os.listdir(root):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(os.path.join(root, made_by, key))


def _reusable(layout: Layout, key: str, doc: Doc, made_by: str) -> bool:
    """A document on disk is reused when ``made_by`` made it and it still matches the schema."""
    from dumpkit.pipeline.document.validate import DocumentInvalid, validate

    if not os.path.exists(layout.made(made_by, key)):
        return False
    try:
        validate(doc)
    except DocumentInvalid:
        return False
    return True


def _check_source(item: dict[str, Any]) -> None:
    if item["spooled"] and not os.path.exists(item["path"]):
        raise FileNotFoundError(f"spooled copy of {item['display']} is gone ({item['path']}): "
                                "rerun with --rescan to expand the archives again")


def _same_file(path: str, data: bytes) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read() == data
    except OSError:
        return False
