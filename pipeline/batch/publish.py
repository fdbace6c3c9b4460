"""The published files of a batch (``dumps.ndjson``, ``tables/``, ``report.json``,
``report.html``) merged from the parts its chunks wrote (``parts``), and the pruning of what no
longer belongs to the folder.

Publishing reads no document: it concatenates the chunks' NDJSON, streams their table parts
into Parquet and merges their summaries (counts, then the top signatures' drill-down), one
chunk at a time, so its cost per document is small and its memory does not grow with the
batch (but for the set of document names kept, and the counts by name).
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from typing import Any

from dumpkit.pipeline.atomic import sweep_tmp, tmp_name
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.batch.parts import ensure_part, read_part_json
from dumpkit.pipeline.faults import checkpoint

__all__ = ["Publication", "publish"]

_DOC_NAME = re.compile(r"^(?:[0-9a-f]{64}|path-[0-9a-f]{64})\.json$")


def publish(layout: Layout, batch: str, run: str, made_by: str, manifest: dict[str, Any],
            openers: dict[str, Callable[[str], Any]], *, top: int | None = None,
            shrink_max_size: int = 0) -> dict[str, Any]:
    """Write ``dumps.ndjson`` and ``tables/`` from the chunks' parts, and ``report.json`` and
    ``report.html`` (through ``openers``: name -> the ``open`` of an atomic target); prune
    documents of no item of this batch and the state of earlier batches and runs (one at a
    time per folder); clear the spool and ``tmp/``. Returns the report."""
    publication = Publication(layout, batch, run, manifest, top=top, shrink_max_size=shrink_max_size)
    try:
        return publication.finish(made_by, openers)
    finally:
        publication.close()


class Publication:
    """Publishing a batch, fed the chunks' parts in order as the chunks end (:meth:`add`), so
    that most of its work overlaps the making of the last chunks; :meth:`finish` adds what is
    left and writes everything into place. Nothing is visible before :meth:`finish`."""

    def __init__(self, layout: Layout, batch: str, run: str, manifest: dict[str, Any], *,
                 top: int | None = None, shrink_max_size: int = 0) -> None:
        from dumpkit.pipeline.batch.report import ReportBuilder
        from dumpkit.pipeline.batch.tables import TableMerger

        self.layout, self.batch, self.run, self.manifest = layout, batch, run, manifest
        self.shrink_max_size = shrink_max_size
        self.seconds = 0.0  # spent here: the report's report_s
        started = time.perf_counter()
        extra = {} if top is None else {"top": top}
        self.builder = ReportBuilder(batch=batch, inputs=manifest["inputs"], limits=manifest["limits"],
                                     summary=manifest, **extra)
        self.added = 0  # chunks 0..added-1 are in
        self.keep: set[str] = set()
        self.dump_shas: list[str] = []
        self.ndjson = tmp_name(layout.tmp, "dumps.ndjson")
        self._nd = open(self.ndjson, "wb")  # noqa: SIM115 - closed by finish/close
        self.tables = TableMerger(lambda index, name: layout.part(batch, run, index, name),
                                  layout.table, layout.tmp)
        self.seconds += time.perf_counter() - started

    def add(self, index: int) -> None:
        """Chunk ``index``'s part (its marker exists); chunks in order."""
        if index != self.added:
            raise ValueError(f"chunk {index} published before chunk {self.added}")
        started = time.perf_counter()
        layout, batch, run = self.layout, self.batch, self.run
        ensure_part(layout, batch, run, index)
        with open(layout.part(batch, run, index, "documents.ndjson"), "rb") as part:
            shutil.copyfileobj(part, self._nd, 1 << 20)
        counts = read_part_json(layout, batch, run, index, "counts.json")
        self.keep.update(key + ".json" for key in counts["dump_keys"])
        self.keep.update(key + ".json" for key in counts["error_keys"])
        if self.shrink_max_size:
            self.dump_shas.extend(counts["dump_keys"])
        self.builder.add(counts)
        self.tables.add(index)
        self.added += 1
        self.seconds += time.perf_counter() - started

    def finish(self, made_by: str, openers: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
        """The chunks not added yet, then every file into place (``openers``: name -> the
        ``open`` of an atomic target, for ``report`` and ``html``); the pruning. The report."""
        from dumpkit.pipeline.batch.report_html import render_html

        for index in range(self.added, self.manifest["chunks"]):
            self.add(index)
        started = time.perf_counter()
        layout, batch, run, builder = self.layout, self.batch, self.run, self.builder
        self._nd.close()
        os.replace(self.ndjson, layout.ndjson)
        checkpoint("publish")
        builder.tables = {"folder": "tables/", "rows": self.tables.finish()}
        builder.select()
        for index in range(self.manifest["chunks"]):
            builder.detail(read_part_json(layout, batch, run, index, "signatures.json"))
        if self.shrink_max_size:
            from dumpkit.pipeline.batch.reduce import summary

            builder.minidumps = summary(layout, self.dump_shas, self.shrink_max_size)
        report = builder.finish(self.manifest["duplicates"], self.seconds + time.perf_counter() - started)
        with openers["report"]("w") as fh:
            # compact: json's C encoder (``indent`` takes the pure-Python one, ~10x slower)
            fh.write(json.dumps(report, ensure_ascii=False, separators=(",", ":")) + "\n")
        with openers["html"]("w") as fh:
            fh.write(render_html(report))
        _prune(layout, made_by, self.keep)
        from dumpkit.pipeline.batch.reduce import prune_minidumps

        prune_minidumps(layout, set(self.dump_shas))
        for other in os.listdir(os.path.join(layout.work, "batches")):  # state of earlier batches
            if other != batch:
                shutil.rmtree(os.path.join(layout.work, "batches", other), ignore_errors=True)
        runs = os.path.dirname(layout.run(batch, run))
        with contextlib.suppress(FileNotFoundError):  # no runs/ at all: a batch of no files
            for other in os.listdir(runs):  # and of earlier runs over this batch
                if other != run:
                    shutil.rmtree(os.path.join(runs, other), ignore_errors=True)
        shutil.rmtree(layout.spool, ignore_errors=True)
        sweep_tmp(layout.tmp)
        return report

    def close(self) -> None:
        """Forget what :meth:`finish` did not put into place."""
        self._nd.close()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.ndjson)
        self.tables.close()


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
