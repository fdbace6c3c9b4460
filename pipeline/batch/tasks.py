"""luigi tasks of ``dumpkit normalize``: discovery, documents by chunks of dumps, the report.

    NormalizeArchive (wrapper)
      └─ BatchReport            dumps.ndjson, tables/, report.json, report.html
           │                    (+ work/batches/<batch>/runs/<run>/published.json)
           ├─ Discover          work/batches/<batch>/manifest/  (items in chunks, duplicates)
           │    └─ InputPath    each input file or directory (external)
           └─ NormalizeChunk*N  docs/ and errors/ documents; .../runs/<run>/parts/<i>/ (what
                                publishing merges: parts.py), then .../runs/<run>/done/<i>.json
                └─ ManifestReady (external: made by Discover)

The *batch* names the inputs and their manifest; the *run* names what makes documents from
them (code, schemas, options: ``identity``), so other symbol sources or an upgrade make a
new run over the same manifest, without walking or hashing the inputs again.

The chunks are dynamic dependencies of ``BatchReport`` (their number is known once the
manifest exists). ``dumpkit normalize`` schedules them explicitly too, after discovery, so
that every worker sharing a central ``luigid`` knows them and takes its part.

Run from luigi itself::

    luigi --module dumpkit.pipeline.batch.tasks NormalizeArchive --inputs '["/data/crashes.tar.gz"]' \\
          --out out/batch --local-scheduler --workers 2

Why chunks, not one task per dump (measured with ``benchmarks/bench_pipeline.py`` on the
2-vCPU machine): luigi's cost per task grows with the number of tasks (its ``get_work``
scans every task: 2,000 no-op tasks take 6.7 s with one worker, 29 s with two, where each
task is also a forked process), and 2,000 small minidumps as 2,000 tasks took 18 s (1
worker) and 50 s (2 workers) against 2.7-4.2 s in chunks. With two or more workers every
task is a fork of the scheduling process, whose page-table copy and copy-on-write faults
cost tens of ms of system time: chunks of ~125 small dumps are what let 2 workers beat 1
(2.5 s against 3.0 s; with chunks of 20, 3.4 s against 2.7 s). ``dumpkit normalize --workers
N`` with the local scheduler no longer forks per task (a pool of N warm processes makes the
chunks: ``pool.py``); luigi's cost per task stays, and with a central scheduler the forks too.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from dumpkit.pipeline.batch.identity import batch_id, document_fingerprint, run_id, symbol_options
from dumpkit.pipeline.batch.layout import TABLES, Layout
from dumpkit.pipeline.batch.luigi_lib import luigi
from dumpkit.pipeline.batch.targets import BatchTarget, chunk_done

if TYPE_CHECKING:  # documents, parts and publishing load when a task runs: the scheduling
    # process discovers, and with a pool makes no chunk, without pyarrow
    from dumpkit.pipeline.batch.pooled import SidePublication
from dumpkit.pipeline.inputs.archives import Limits, Spool
from dumpkit.pipeline.inputs.discover import discover

__all__ = [
    "TARGET_CHUNKS",
    "BatchReport",
    "Discover",
    "InputPath",
    "ManifestReady",
    "NormalizeArchive",
    "NormalizeChunk",
    "auto_chunk_size",
]

#: about this many chunk tasks per batch, each of MIN_CHUNK to MAX_CHUNK items (see the
#: module docstring); it must not depend on --workers: workers sharing a luigid must agree
TARGET_CHUNKS = 16
MIN_CHUNK = 8
MAX_CHUNK = 500

#: set by the command line to show discovery's progress (files examined, bytes read)
DISCOVERY_PROGRESS: Callable[[int, int], None] | None = None
#: set by the command line: the publication it fed the chunks' parts as they ended (a pool
#: made them), which ``BatchReport`` finishes instead of starting one
PUBLICATION: SidePublication | None = None


def auto_chunk_size(n_items: int) -> int:
    """Items per chunk: about TARGET_CHUNKS chunks, each of MIN_CHUNK to MAX_CHUNK items."""
    return min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(n_items / TARGET_CHUNKS)))


class PathParameter(luigi.Parameter):
    """A path, made absolute (relative to the scheduling process's directory)."""

    def normalize(self, x: Any) -> Any:
        return os.path.abspath(os.fspath(x))


class PathListParameter(luigi.ListParameter):
    """Paths, made absolute, deduplicated and sorted: the same inputs name the same batch."""

    def normalize(self, x: Any) -> Any:
        paths = [x] if isinstance(x, str) else list(super().normalize(x))
        return tuple(sorted({os.path.abspath(os.fspath(p)) for p in paths}))


class _BatchTask(luigi.Task):
    """The parameters that define a batch, shared by the batch-level tasks."""

    inputs = PathListParameter(description="input files and directories")
    out = PathParameter(description="output folder")
    max_member_size = luigi.IntParameter(default=Limits.max_member_size,
                                         description="bytes of one spooled archive member, at most")
    max_ratio = luigi.IntParameter(default=Limits.max_ratio,
                                   description="bytes expanded out of one input, at most this times its size")
    max_depth = luigi.IntParameter(default=Limits.max_depth, description="containers inside containers")
    chunk_size = luigi.IntParameter(default=0, description="dumps per task; 0: automatic")
    shrink_max_size = luigi.IntParameter(default=0, description="with N > 0: also a reduced minidump of "
                                                                "each dump, at most N bytes (--shrink)")
    fingerprint = luigi.Parameter(default="", significant=True,
                                  description="state of the inputs (dumpkit normalize sets it: files added "
                                              "or changed since make a new batch); empty: paths only")
    made_by = luigi.Parameter(default="", description="what makes the documents "
                                                      "(identity.document_fingerprint); empty: this code, "
                                                      "default options")
    symbols = luigi.Parameter(default="", significant=False,
                              description="symbol sources (SymbolConfig.to_json); empty: none. Its "
                                          "fingerprint is part of made_by")

    @property
    def layout(self) -> Layout:
        return Layout(self.out)

    @property
    def limits(self) -> Limits:
        return Limits(max_member_size=self.max_member_size, max_ratio=self.max_ratio,
                      max_depth=self.max_depth)

    @property
    def batch(self) -> str:
        return batch_id(list(self.inputs), self.limits.as_dict(), self.chunk_size, self.fingerprint)

    @property
    def document_maker(self) -> str:
        return self.made_by or document_fingerprint(symbol_options(self.symbols))

    @property
    def run_key(self) -> str:
        return run_id(self.document_maker, self.shrink_max_size)


class InputPath(luigi.ExternalTask):
    """An input file or directory: made by someone else, only checked for existence."""

    path = PathParameter()

    def output(self) -> luigi.LocalTarget:
        return luigi.LocalTarget(self.path)


class Discover(_BatchTask):
    """Walk the inputs, expand containers, deduplicate; write the manifest in chunks."""

    def requires(self) -> list[InputPath]:
        return [InputPath(path=p) for p in self.inputs]

    def output(self) -> BatchTarget:
        return BatchTarget(self.layout.manifest(self.batch), self.layout.tmp)

    def run(self) -> None:
        layout, limits = self.layout, self.limits
        spool = Spool(layout.spool, layout.tmp, limits)
        found = discover(list(self.inputs), limits, spool, progress=DISCOVERY_PROGRESS,
                         exclude=[self.out])
        size = self.chunk_size or auto_chunk_size(len(found.items))
        chunks = [found.items[i:i + size] for i in range(0, len(found.items), size)]
        summary = {
            "batch": self.batch, "inputs": list(self.inputs), "limits": limits.as_dict(),
            "items": len(found.items), "chunk_size": size, "chunks": len(chunks),
            "files": found.files, "containers": found.containers, "input_bytes": found.bytes_read,
            "discovery_s": round(found.seconds, 3), "duplicates": found.duplicates,
        }
        with self.output().temporary_path() as tmp:
            os.makedirs(os.path.join(tmp, "chunks"))
            for index, items in enumerate(chunks):
                with open(os.path.join(tmp, "chunks", f"{index:05d}.json"), "w", encoding="utf-8") as fh:
                    # ASCII: real file names may hold non-UTF-8 bytes; dumps, not dump: one
                    # string from json's C encoder (dump streams through its Python one)
                    fh.write(json.dumps(items))
            with open(os.path.join(tmp, "manifest.json"), "w", encoding="utf-8") as fh:
                json.dump(summary, fh, indent=1)


class ManifestReady(luigi.ExternalTask):
    """The manifest of a batch, as ``Discover`` left it."""

    out = PathParameter()
    batch = luigi.Parameter()

    def output(self) -> BatchTarget:
        layout = Layout(self.out)
        return BatchTarget(layout.manifest(self.batch), layout.tmp)


class NormalizeChunk(luigi.Task):
    """Documents of one chunk of the manifest; its output is the chunk's marker."""

    out = PathParameter()
    batch = luigi.Parameter()
    run_key = luigi.Parameter()
    made_by = luigi.Parameter()
    index = luigi.IntParameter()
    shrink_max_size = luigi.IntParameter(default=0)
    symbols = luigi.Parameter(default="", significant=False)

    def requires(self) -> ManifestReady:
        return ManifestReady(out=self.out, batch=self.batch)

    def output(self) -> BatchTarget:
        return chunk_done(Layout(self.out), self.batch, self.run_key, self.index)

    def run(self) -> None:
        """The chunk's documents, then its part (``parts``: what publishing merges), then
        its marker (:func:`~dumpkit.pipeline.batch.chunk.make_chunk`)."""
        from dumpkit.pipeline.batch.chunk import make_chunk

        make_chunk(Layout(self.out), self.batch, self.run_key, self.made_by, self.index,
                   self.shrink_max_size, self.symbols)


def read_manifest(layout: Layout, batch: str) -> dict[str, Any]:
    with open(os.path.join(layout.manifest(batch), "manifest.json"), encoding="utf-8") as fh:
        manifest: dict[str, Any] = json.load(fh)
    return manifest


class BatchReport(_BatchTask):
    """After every chunk: ``dumps.ndjson``, ``tables/``, ``report.json``, ``report.html``."""

    def requires(self) -> Discover:
        return self.clone(Discover)

    def output(self) -> dict[str, BatchTarget]:
        layout = self.layout
        return {
            "ndjson": BatchTarget(os.path.join(self.out, "dumps.ndjson"), layout.tmp),
            "report": BatchTarget(os.path.join(self.out, "report.json"), layout.tmp),
            "html": BatchTarget(os.path.join(self.out, "report.html"), layout.tmp),
            "published": BatchTarget(layout.published(self.batch, self.run_key), layout.tmp),
            **{f"table_{name}": BatchTarget(layout.table(name), layout.tmp) for name in TABLES},
        }

    def complete(self) -> bool:
        """Done when every output exists *and* ``report.json`` is this batch's (the folder may
        have been used for other inputs since)."""
        if not super().complete():
            return False
        try:
            with open(os.path.join(self.out, "report.json"), encoding="utf-8") as fh:
                return bool(json.load(fh).get("batch") == self.batch)
        except (OSError, ValueError):
            return False

    def chunks(self) -> list[NormalizeChunk]:
        manifest = read_manifest(self.layout, self.batch)
        return [NormalizeChunk(out=self.out, batch=self.batch, run_key=self.run_key,
                               made_by=self.document_maker, index=i, shrink_max_size=self.shrink_max_size,
                               symbols=self.symbols)
                for i in range(manifest["chunks"])]

    def run(self) -> Iterator[list[NormalizeChunk]]:
        yield self.chunks()
        targets = self.output()
        openers: dict[str, Callable[[str], Any]] = {name: targets[name].open for name in ("report", "html")}
        begun = PUBLICATION
        if begun is not None and (begun.layout.out, begun.batch, begun.run) == (self.out, self.batch,
                                                                                self.run_key):
            report = begun.finish(self.document_maker, openers)  # fed as the chunks ended
        else:
            from dumpkit.pipeline.batch.publish import publish

            manifest = read_manifest(self.layout, self.batch)
            report = publish(self.layout, self.batch, self.run_key, self.document_maker, manifest,
                             openers, shrink_max_size=self.shrink_max_size)
        with targets["published"].open("w") as fh:
            json.dump({"batch": self.batch, "totals": report["totals"]}, fh)


class NormalizeArchive(luigi.WrapperTask, _BatchTask):
    """The whole batch:
    ``luigi --module dumpkit.pipeline.batch.tasks NormalizeArchive --inputs ... --out ...``."""

    def requires(self) -> BatchReport:
        return self.clone(BatchReport)
