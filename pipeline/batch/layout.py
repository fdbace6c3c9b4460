"""Where everything lives under the batch's output folder (``DIR``)::

    docs/<sha256>.json          one validated document per dump (kind "dump"), one line of
                                compact JSON: the same bytes as its line in dumps.ndjson
    errors/<key>.json           one error document per unreadable file: <sha256> for a file
                                that looked like a dump, path-<hash of its place> otherwise
    dumps.ndjson                every document, one line each, in key order
    report.json, report.html    the batch report (schemas/report.schema.json) and its page
    tables/<name>.parquet       typed tables: dumps, threads, frames, modules, diagnostics,
                                errors (schemas/TABLES.md)
    minidumps/<sha256>.dmp      with --shrink: the reduced minidump of each dump
    work/                       manifests, chunk markers and parts (what publishing merges),
                                what made each document, shrink records, spooled members,
                                tmp/, luigi.log

:class:`Layout` is the one place that builds these paths.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property

__all__ = ["TABLES", "Layout"]

#: the tables of ``tables/``, in order (their schemas: :mod:`.tables`, which checks these names);
#: here, so that naming the batch's files needs no pyarrow
TABLES: tuple[str, ...] = ("dumps", "threads", "frames", "modules", "diagnostics", "errors")


@dataclass(frozen=True)
class Layout:
    """Where everything lives under the output folder."""

    out: str

    @cached_property
    def docs(self) -> str:
        return os.path.join(self.out, "docs")

    @cached_property
    def errors(self) -> str:
        return os.path.join(self.out, "errors")

    @cached_property
    def work(self) -> str:
        return os.path.join(self.out, "work")

    @cached_property
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

    def run(self, batch: str, run: str) -> str:
        """State of one run over a batch's manifest: ``run`` is what makes its documents
        (``identity.run_id``), so other options or other code are another run, same manifest."""
        return os.path.join(self.batch(batch), "runs", run)

    def done(self, batch: str, run: str, index: int) -> str:
        return os.path.join(self.run(batch, run), "done", f"{index:05d}.json")

    def part(self, batch: str, run: str, index: int, name: str) -> str:
        """One file of a chunk's part (``parts.PART_FILES``): what publishing merges instead of
        reading the chunk's documents again."""
        return os.path.join(self.run(batch, run), "parts", f"{index:05d}", name)

    @property
    def ndjson(self) -> str:
        return os.path.join(self.out, "dumps.ndjson")

    @property
    def tables(self) -> str:
        return os.path.join(self.out, "tables")

    def table(self, name: str) -> str:
        return os.path.join(self.tables, name + ".parquet")

    def published(self, batch: str, run: str) -> str:
        return os.path.join(self.run(batch, run), "published.json")

    def document(self, key: str, kind: str) -> str:
        return os.path.join(self.docs if kind == "dump" else self.errors, key + ".json")

    @cached_property
    def made_root(self) -> str:
        return os.path.join(self.work, "made")

    def made(self, made_by: str, key: str) -> str:
        """The marker saying that ``made_by`` (``identity.document_fingerprint``) made the
        document of ``key``."""
        return os.path.join(self.made_root, made_by, key)

    def minidump(self, sha: str) -> str:
        return os.path.join(self.out, "minidumps", sha + ".dmp")

    def shrink_record(self, sha: str) -> str:
        return os.path.join(self.work, "shrink", sha + ".json")

    def relative(self, path: str) -> str:
        return os.path.relpath(path, self.out)
