"""What the batch tasks do, without luigi: the output folder's layout, one item -> its
document, and the published files (``dumps.ndjson``, ``report.json``, ``report.html``).

Output folder (``DIR``)::

    docs/<sha256>.json          one validated document per dump (kind "dump"), one line of
                                compact JSON: the same bytes as its line in dumps.ndjson
    errors/<key>.json           one error document per unreadable file: <sha256> for a file
                                that looked like a dump, path-<hash of its place> otherwise
    dumps.ndjson                every document, one line each, in key order
    report.json, report.html    the batch report (schemas/report.schema.json) and its page
    work/                       manifests, chunk markers, spooled members, tmp/, luigi.log

Documents are content-addressed and shared between batches in the same folder; a batch
reuses a document already on disk when it was made by the same dumpkit version (patching
only the path and container chain when the same bytes now sit elsewhere).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dumpkit
from dumpkit.pipeline.atomic import sweep_tmp, write_atomic
from dumpkit.pipeline.faults import checkpoint

__all__ = ["Layout", "batch_id", "encode_document", "inputs_fingerprint", "iter_items", "load_chunk",
           "process_item", "publish", "warm_up", "warm_up_samples"]

Doc = dict[str, Any]
_DOC_NAME = re.compile(r"^(?:[0-9a-f]{64}|path-[0-9a-f]{64})\.json$")


def batch_id(inputs: list[str], limits: dict[str, int], chunk_size: int, fingerprint: str = "") -> str:
    """Identity of a batch: 16 hex digits of a hash of what defines its work."""
    what: dict[str, Any] = {"inputs": list(inputs), "limits": limits, "chunk_size": chunk_size}
    if fingerprint:
        what["fingerprint"] = fingerprint
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def inputs_fingerprint(inputs: list[str], exclude: str | None = None) -> str:
    """A hash of the path, size and modification time of every file under ``inputs`` (a walk
    of ``stat`` calls, no reading): a rerun after files were added or changed is a new batch.
    Directories reached through symbolic links, and ``exclude`` (the output folder), are not
    looked into."""
    digest = hashlib.sha256()
    skip = os.path.realpath(exclude) if exclude else None
    for top in sorted(os.path.abspath(p) for p in inputs):
        paths = [top]
        if os.path.isdir(top):
            paths = []
            for root, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) != skip)
                paths.extend(os.path.join(root, name) for name in sorted(files))
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class Layout:
    """Where everything lives under the output folder."""

    out: str

    @property
    def docs(self) -> str:
        return os.path.join(self.out, "docs")

    @property
    def errors(self) -> str:
        return os.path.join(self.out, "errors")

    @property
    def work(self) -> str:
        return os.path.join(self.out, "work")

    @property
    def tmp(self) -> str:
        return os.path.join(self.work, "tmp")

    @property
    def spool(self) -> str:
        return os.path.join(self.work, "spool")

    @property
    def log(self) -> str:
        return os.path.join(self.work, "luigi.log")

    def batch(self, batch: str) -> str:
        return os.path.join(self.work, "batches", batch)

    def manifest(self, batch: str) -> str:
        return os.path.join(self.batch(batch), "manifest")

    def chunk(self, batch: str, index: int) -> str:
        return os.path.join(self.manifest(batch), "chunks", f"{index:05d}.json")

    def done(self, batch: str, index: int) -> str:
        return os.path.join(self.batch(batch), "done", f"{index:05d}.json")

    def published(self, batch: str) -> str:
        return os.path.join(self.batch(batch), "published.json")

    def document(self, key: str, kind: str) -> str:
        return os.path.join(self.docs if kind == "dump" else self.errors, key + ".json")

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.out)


def warm_up(samples: Sequence[str] = ()) -> None:
    """Import every reader, build the validators and read ``samples`` (a dump or so per
    format, results thrown away) now, in the process luigi forks its task processes from:
    whatever a first document costs (lazy imports, tables, compiled schemas: ~70 ms for a
    minidump) is then paid once, not again in every task process."""
    import importlib

    from dumpkit.detect import FORMATS
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.validate import CURRENT, fast_check

    for module in sorted(set(FORMATS.values())):
        with contextlib.suppress(ImportError):
            importlib.import_module(f"dumpkit.readers.{module}")
    for kind, version in CURRENT.items():
        fast_check(kind, version)
    for path in samples:
        document_for(path)


def warm_up_samples(layout: Layout, batch: str, n_chunks: int) -> list[str]:
    """One dump of each format of the batch (the first in key order), to :func:`warm_up` on."""
    chosen: dict[str, str] = {}
    for item in iter_items(layout, batch, n_chunks):
        fmt = item["format"]
        if fmt and fmt not in chosen and item["path"] and os.path.exists(item["path"]):
            chosen[fmt] = item["path"]
    return [chosen[f] for f in sorted(chosen)]


def load_chunk(layout: Layout, batch: str, index: int) -> list[dict[str, Any]]:
    with open(layout.chunk(batch, index), encoding="utf-8") as fh:
        items: list[dict[str, Any]] = json.load(fh)
    return items


def encode_document(doc: Doc) -> bytes:
    """A document file's bytes: one line of compact JSON, exactly its line in dumps.ndjson
    (compact also keeps json's C encoder: ``indent`` would make writing ~10x slower)."""
    return (json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")


def existing_document(layout: Layout, key: str) -> tuple[str, Doc] | None:
    """The document of ``key`` already on disk (either kind), if any and readable."""
    for kind in ("dump", "error"):
        path = layout.document(key, kind)
        try:
            with open(path, encoding="utf-8") as fh:
                return path, json.load(fh)
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            return None  # damaged: make it again
    return None


def _refusal_document(item: dict[str, Any]) -> Doc:
    from dumpkit.pipeline.document.normalize import error_document

    err = item["error"]
    return error_document(item["display"], err["code"], err["message"], structure=err["structure"],
                          offset=err["offset"], size=item["size"], sha256=None, fmt=None,
                          container=item["container"])


def process_item(layout: Layout, item: dict[str, Any], shrink_max_size: int = 0) -> float | None:
    """Make the document of one manifest item (and, with ``shrink_max_size``, the reduced
    minidump of a dump); seconds spent, or ``None`` if everything was on disk already.

    A document on disk is reused when the same dumpkit version wrote it; if the same bytes
    now sit at another place, only ``source.path`` and ``source.container`` are rewritten.
    """
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.validate import validate

    started = time.perf_counter()
    key = item["key"]
    if item["error"] is not None:  # refused by discovery: the document is known already
        doc = _refusal_document(item)
        validate(doc)
        path = layout.document(key, "error")
        if _same_file(path, encode_document(doc)):
            return None
        write_atomic(path, encode_document(doc), layout.tmp)
        checkpoint("document")
        return time.perf_counter() - started
    found = existing_document(layout, key)
    made = False
    if found is not None and _reusable(found[1]):
        path, doc = found
        src = doc["source"]
        if src["path"] != item["display"] or src["container"] != item["container"]:
            src["path"], src["container"] = item["display"], list(item["container"])
            validate(doc)
            write_atomic(path, encode_document(doc), layout.tmp)
    else:
        _check_source(item)
        doc = document_for(item["path"], sha256=item["sha256"], container=list(item["container"]),
                           display_path=item["display"])
        for kind in ("dump", "error"):  # a stale document of the other kind must not stay beside it
            other = layout.document(key, kind)
            if kind != doc["kind"] and os.path.exists(other):
                os.unlink(other)
        write_atomic(layout.document(key, doc["kind"]), encode_document(doc), layout.tmp)
        checkpoint("document")
        made = True
    if shrink_max_size and doc["kind"] == "dump":
        from dumpkit.pipeline.batch.reduce import ensure_minidump

        made = ensure_minidump(layout.out, layout.tmp, key, item["path"], shrink_max_size,
                               lambda: _check_source(item)) or made
    return time.perf_counter() - started if made else None


def _reusable(doc: Doc) -> bool:
    """A document on disk is reused when this dumpkit version wrote it and it still matches
    the schema (during development the schema can move while the version stays)."""
    from dumpkit.pipeline.document.validate import DocumentInvalid, validate

    if doc.get("dumpkit_version") != dumpkit.__version__:
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


def iter_items(layout: Layout, batch: str, n_chunks: int) -> Iterator[dict[str, Any]]:
    for index in range(n_chunks):
        yield from load_chunk(layout, batch, index)


def chunk_seconds(layout: Layout, batch: str, n_chunks: int) -> dict[str, float]:
    """Seconds per key recorded by the chunk markers (timings only)."""
    seconds: dict[str, float] = {}
    for index in range(n_chunks):
        try:
            with open(layout.done(batch, index), encoding="utf-8") as fh:
                seconds.update(json.load(fh).get("seconds", {}))
        except (OSError, ValueError):
            continue
    return seconds


def publish(layout: Layout, batch: str, manifest: dict[str, Any],
            openers: dict[str, Callable[[str], Any]], *, top: int = 25,
            shrink_max_size: int = 0) -> dict[str, Any]:
    """Write ``dumps.ndjson``, ``report.json`` and ``report.html`` (through ``openers``: name ->
    the ``open`` of an atomic target) from the documents on disk; prune documents of no item
    of this batch and the state of earlier batches (one batch at a time per folder); clear
    the spool and ``tmp/``. Returns the report."""
    from dumpkit.pipeline.batch.report import ReportBuilder
    from dumpkit.pipeline.batch.report_html import render_html

    started = time.perf_counter()
    builder = ReportBuilder(batch=batch, inputs=manifest["inputs"], limits=manifest["limits"],
                            summary=manifest, top=top)
    seconds = chunk_seconds(layout, batch, manifest["chunks"])
    keep: set[str] = set()
    dump_shas: list[str] = []
    with openers["ndjson"]("w") as nd:
        for item in iter_items(layout, batch, manifest["chunks"]):
            found = existing_document(layout, item["key"])
            if found is None:
                raise FileNotFoundError(f"document of {item['display']} ({item['key']}) is missing")
            path, doc = found
            keep.add(os.path.basename(path))
            if doc["kind"] == "dump":
                dump_shas.append(item["key"])
            builder.add(item, doc, layout.relative(path))
            builder.timing(item, seconds.get(item["key"]))
            nd.write(encode_document(doc).decode("utf-8"))
    checkpoint("publish")
    if shrink_max_size:
        from dumpkit.pipeline.batch.reduce import summary

        builder.minidumps = summary(layout.out, dump_shas, shrink_max_size)
    report = builder.finish(manifest["duplicates"], time.perf_counter() - started)
    with openers["report"]("w") as fh:
        fh.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    with openers["html"]("w") as fh:
        fh.write(render_html(report))
    _prune(layout, keep)
    from dumpkit.pipeline.batch.reduce import prune_minidumps

    prune_minidumps(layout.out, set(dump_shas) if shrink_max_size else set())
    for other in os.listdir(os.path.join(layout.work, "batches")):  # state of earlier batches
        if other != batch:
            shutil.rmtree(os.path.join(layout.work, "batches", other), ignore_errors=True)
    shutil.rmtree(layout.spool, ignore_errors=True)
    sweep_tmp(layout.tmp)
    return report


def _prune(layout: Layout, keep: set[str]) -> None:
    """Remove documents that belong to no item of this batch (inputs changed since)."""
    for folder in (layout.docs, layout.errors):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if _DOC_NAME.match(name) and name not in keep:
                os.unlink(os.path.join(folder, name))
