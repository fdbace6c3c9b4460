"""The chunks of a local batch with ``--workers N`` (N > 1), made by the warm pool
(:mod:`.pool`) and merged into the published files as they end (:class:`_Feed`), so that
publishing overlaps the chunks still running; ``BatchReport`` then finishes that publication
(``tasks.PUBLICATION``)."""
from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.pool import ChunkPool
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.pipeline.batch.tasks import BatchReport, NormalizeChunk

__all__ = ["make_chunks", "start_pool"]

log = logging.getLogger(__name__)


def start_pool(workers: int, log_path: str) -> ChunkPool | None:
    """A pool of ``workers`` processes (:class:`~dumpkit.pipeline.batch.pool.ChunkPool`), its
    fork server started now; None (luigi's task processes then make the chunks) if that
    cannot start."""
    from dumpkit.pipeline.batch.pool import ChunkPool

    try:
        return ChunkPool(workers, log_path)
    except OSError:
        log.exception("the pool of worker processes could not start; luigi's task processes "
                      "make the chunks")
        return None


def make_chunks(pool: ChunkPool, layout: Layout, report: BatchReport, chunks: list[NormalizeChunk]) -> int:
    """Make the chunks not complete yet in ``pool``, publishing them as they end; returns the
    luigi workers to run the rest with: 1 when the pool made every chunk (luigi finds them
    complete and finishes the publication here), else the pool's size (a process of the pool
    died: luigi's task processes make the chunks left, and the report publishes from the
    start). The pool is closed."""
    from dumpkit.pipeline.batch import tasks

    todo = [c.index for c in chunks if not c.complete()]
    job = (layout, report.batch, report.run_key, report.document_maker, report.shrink_max_size,
           report.symbols)
    ended = _Feed(lambda: _publication(layout, report.batch, report.run_key, report.shrink_max_size),
                  [c.index for c in chunks if c.index not in todo])
    try:
        workers = pool.workers if pool.run(job, todo, ended) else 1
        pool.close()  # the processes end while luigi publishes
        if workers == 1:
            ended.feed()  # the chunks made before this run, when the pool made none
    except BaseException:
        ended.close()
        raise
    if ended.failed or workers > 1:  # BatchReport publishes from the start
        ended.close()
    tasks.PUBLICATION = ended.publication
    return workers


def _publication(layout: Layout, batch: str, run: str, shrink_max_size: int) -> Publication:
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.pipeline.batch.tasks import read_manifest

    return Publication(layout, batch, run, read_manifest(layout, batch), shrink_max_size=shrink_max_size)


class _Feed:
    """Called as each chunk ends (in any order): feeds the publication the chunks ended so far,
    in order, so that publishing overlaps the chunks still running. The publication starts
    (``start()``) at the first chunk's end, not before: the chunks are all handed to the pool
    first. A failure here is logged; ``failed`` then says to publish from the start."""

    def __init__(self, start: Callable[[], Publication], ended: list[int]) -> None:
        self.start = start
        self.publication: Publication | None = None
        self.ended = set(ended)  # chunks complete before this run: fed with the first that ends
        self.failed = False

    def __call__(self, index: int) -> None:
        self.ended.add(index)
        self.feed()

    def feed(self) -> None:
        try:
            if self.publication is None and not self.failed:
                self.publication = self.start()
            publication = self.publication
            while not self.failed and publication is not None and publication.added in self.ended:
                publication.add(publication.added)
        except Exception:
            log.exception("publishing the chunks as they end failed; the report publishes them "
                          "from the start")
            self.failed = True

    def close(self) -> None:
        """Drop the publication (its temporary files)."""
        if self.publication is not None:
            self.publication.close()
            self.publication = None
