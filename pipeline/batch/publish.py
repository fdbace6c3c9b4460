"""The published files of a batch (``dumps.ndjson``, ``report.json``, ``report.html``) made
from the documents on disk, and the pruning of what no longer belongs to the folder."""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from typing import Any

from dumpkit.pipeline.atomic import sweep_tmp
from dumpkit.pipeline.batch.items import chunk_seconds, encode_document, existing_document, iter_items
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.faults import checkpoint

__all__ = ["publish"]

_DOC_NAME = re.compile(r"^(?:[0-9a-f]{64}|path-[0-9a-f]{64})\.json$")


def publish(layout: Layout, batch: str, run: str, made_by: str, manifest: dict[str, Any],
            openers: dict[str, Callable[[str], Any]], *, top: int = 25,
            shrink_max_size: int = 0) -> dict[str, Any]:
    """Write ``dumps.ndjson``, ``report.json`` and ``report.html`` (through ``openers``: name ->
    the ``open`` of an atomic target) from the documents on disk; prune documents of no item
    of this batch and the state of earlier batches and runs (one at a time per folder); clear
    the spool and ``tmp/``. Returns the report."""
    from dumpkit.pipeline.batch.report import ReportBuilder
    from dumpkit.pipeline.batch.report_html import render_html

    started = time.perf_counter()
    builder = ReportBuilder(batch=batch, inputs=manifest["inputs"], limits=manifest["limits"],
                            summary=manifest, top=top)
    seconds = chunk_seconds(layout, batch, run, manifest["chunks"])
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

        builder.minidumps = summary(layout, dump_shas, shrink_max_size)
    report = builder.finish(manifest["duplicates"], time.perf_counter() - started)
    with openers["report"]("w") as fh:
        fh.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    with openers["html"]("w") as fh:
        fh.write(render_html(report))
    _prune(layout, made_by, keep)
    from dumpkit.pipeline.batch.reduce import prune_minidumps

    prune_minidumps(layout, set(dump_shas) if shrink_max_size else set())
    for other in os.listdir(os.path.join(layout.work, "batches")):  # state of earlier batches
        if other != batch:
            shutil.rmtree(os.path.join(layout.work, "batches", other), ignore_errors=True)
    runs = os.path.dirname(layout.run(batch, run))
    for other in os.listdir(runs):  # and of earlier runs over this batch
        if other != run:
            shutil.rmtree(os.path.join(runs, other), ignore_errors=True)
    shutil.rmtree(layout.spool, ignore_errors=True)
    sweep_tmp(layout.tmp)
    return report


def _prune(layout: Layout, made_by: str, keep: set[str]) -> None:
    """Remove documents that belong to no item of this batch (inputs changed since), and the
    markers of other fingerprints and other documents."""
    keys = {name[: -len(".json")] for name in keep}
    with contextlib.suppress(FileNotFoundError):
        for other in os.listdir(layout.made_root):
            if other != made_by:
                shutil.rmtree(os.path.join(layout.made_root, other), ignore_errors=True)
        for key in os.listdir(os.path.join(layout.made_root, made_by)):
            if key not in keys:
                os.unlink(layout.made(made_by, key))
    for folder in (layout.docs, layout.errors):
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if _DOC_NAME.match(name) and name not in keep:
                os.unlink(os.path.join(folder, name))
