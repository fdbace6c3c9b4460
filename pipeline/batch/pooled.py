"""The chunks of a local batch with ``--workers N`` (N > 1), made by the warm pool
(:mod:`.pool`) and merged into the published files as they end (:class:`_Feed`), so that
publishing overlaps the chunks still running; ``BatchReport`` then finishes that publication
(``tasks.PUBLICATION``).

The publication runs in the pool's side process (:class:`SidePublication`), forked from the
warm server, not in the scheduling process: that one then never loads pyarrow (~0.25 s of
CPU, taken from the chunks while they run).
"""
from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from concurrent.futures import ProcessPoolExecutor

    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.pool import ChunkPool
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.pipeline.batch.tasks import BatchReport, NormalizeChunk

__all__ = ["SidePublication", "make_chunks", "start_pool"]

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
    ended = _Feed(lambda: SidePublication(pool.side(), layout, report.batch, report.run_key,
                                          report.shrink_max_size),
                  [c.index for c in chunks if c.index not in todo])
    try:
        workers = pool.workers if pool.run(job, todo, ended) else 1
        pool.close()  # the processes end while luigi publishes
        if workers == 1:
            ended.feed()  # the chunks made before this run, when the pool made none
            ended.sync()
    except BaseException:
        ended.close()
        raise
    if ended.failed or workers > 1:  # BatchReport publishes from the start
        ended.close()
    tasks.PUBLICATION = ended.publication
    return workers


class SidePublication:
    """The batch's :class:`~dumpkit.pipeline.batch.publish.Publication`, made in ``side`` (a
    one-process executor: the pool's side process), driven from here: :meth:`add` hands a
    chunk over and returns, the calls run there in order; :meth:`finish` waits for the
    report. A call that failed there fails every later one (:meth:`sync` says so first)."""

    def __init__(self, side: ProcessPoolExecutor, layout: Layout, batch: str, run: str,
                 shrink_max_size: int) -> None:
        self.layout, self.batch, self.run = layout, batch, run
        self.added = 0  # chunks 0..added-1 handed over
        self._side = side
        self._last: Future[Any] = side.submit(_side_start, layout, batch, run, shrink_max_size)

    def add(self, index: int) -> None:
        if index != self.added:
            raise ValueError(f"chunk {index} published before chunk {self.added}")
        self._last = self._side.submit(_side_call, "add", index)
        self.added += 1

    def sync(self) -> None:
        """Wait for the chunks handed over so far; raises what failed there."""
        self._last.result()

    def finish(self, made_by: str, openers: dict[str, Callable[[str], Any]]) -> dict[str, Any]:
        report: dict[str, Any] = self._side.submit(_side_call, "finish", made_by, openers).result()
        return report

    def close(self) -> None:
        """Forget what :meth:`finish` did not put into place (there, if that process lives)."""
        with contextlib.suppress(Exception):  # a dead or closed side process keeps nothing
            self._side.submit(_side_call, "close").result()


#: in the side process: the publication :class:`SidePublication` drives, or why it failed
_SIDE: Publication | None = None
_SIDE_FAILED: BaseException | None = None


def _side_start(layout: Layout, batch: str, run: str, shrink_max_size: int) -> None:
    global _SIDE, _SIDE_FAILED
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.pipeline.batch.tasks import read_manifest

    _SIDE, _SIDE_FAILED = None, None
    try:
        _SIDE = Publication(layout, batch, run, read_manifest(layout, batch), shrink_max_size=shrink_max_size)
    except BaseException as exc:
        _SIDE_FAILED = exc
        raise


def _side_call(method: str, *args: Any) -> Any:
    global _SIDE, _SIDE_FAILED
    publication = _SIDE
    if method == "close":
        _SIDE = None
        if publication is not None:
            publication.close()
        return None
    if _SIDE_FAILED is not None or publication is None:
        raise RuntimeError(f"the publication failed earlier: {_SIDE_FAILED!r}")
    try:
        return getattr(publication, method)(*args)
    except BaseException as exc:
        _SIDE_FAILED = exc
        raise


class _Feed:
    """Called as each chunk ends (in any order): feeds the publication the chunks ended so far,
    in order, so that publishing overlaps the chunks still running. The publication starts
    (``start()``) at the first chunk's end, not before: the chunks are all handed to the pool
    first. A failure here is logged; ``failed`` then says to publish from the start."""

    def __init__(self, start: Callable[[], SidePublication], ended: list[int]) -> None:
        self.start = start
        self.publication: SidePublication | None = None
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

    def sync(self) -> None:
        """Wait for the publication to take the chunks fed so far; a failure there is logged,
        and ``failed`` then says to publish from the start."""
        if self.publication is None or self.failed:
            return
        try:
            self.publication.sync()
        except Exception:
            log.exception("publishing the chunks as they end failed; the report publishes them "
                          "from the start")
            self.failed = True

    def close(self) -> None:
        """Drop the publication (its temporary files)."""
        if self.publication is not None:
            self.publication.close()
            self.publication = None
