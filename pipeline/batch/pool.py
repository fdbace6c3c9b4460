"""Warm worker processes for ``dumpkit normalize --workers N`` (N > 1, local scheduler).

With more than one luigi worker, luigi runs each task in a fork of the scheduling process:
per chunk, a fork of a process that holds luigi and the manifest, whose pages the child then
copies as it touches them (copy-on-write), and a cold start of whatever the chunk's documents
build lazily. Here the chunks' work (:func:`~dumpkit.pipeline.batch.chunk.make_chunk`) runs in
a pool of N processes that make chunk after chunk, the biggest first. luigi still runs
discovery and the report, and finds the chunks complete (their markers exist); nothing
changes on disk.

The pool's processes come from a fork server (``multiprocessing``'s ``forkserver``), started
first thing, which warms up once (imports, validators: :mod:`.pool_server`) while the
scheduling process loads luigi and discovers the inputs; the N processes forked from it when
the chunks are known start warm. So that warm-up is paid once, on the core discovery leaves
free, not N times on cores discovery needs.

A process of the pool that dies (a crash in a native library, the OOM killer) fails the
chunk it was making: the pool stops, the log says so, and the chunks left (that one too) go
to luigi's own task processes, where a chunk that kills its process again fails alone. The
fork server dying mid-batch does the same (the pool loses sight of its processes).
Processes of the pool ignore SIGINT: Ctrl-C reaches the scheduling process, which stops them.
"""
from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from multiprocessing import forkserver
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the scheduling process imports this module before luigi and pyarrow
    from dumpkit.pipeline.batch.layout import Layout

__all__ = ["ChunkJob", "ChunkPool"]

log = logging.getLogger(__name__)

#: (layout, batch, run key, made_by, shrink_max_size, symbols): what every chunk shares
ChunkJob = tuple["Layout", str, str, str, int, str]

#: what the fork server imports as it starts: the warm-up
_PRELOAD = ["dumpkit.pipeline.batch.pool_server"]


def _ready(log_path: str, pool_started: float) -> None:
    """First thing in a process of the pool: Ctrl-C is for the scheduling process; the log is
    the batch's; then whatever a first document costs that the fork server did not pay.
    ``pool_started``: ``time.time()`` when the pool started (the log says how long after it
    this process was ready: the fork server's start and warm-up, when they were not done
    before the first chunk was handed over)."""
    from dumpkit.pipeline.batch.scheduling import log_to
    from dumpkit.pipeline.batch.warm import warm_up

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_to(log_path)
    started, cpu = time.perf_counter(), time.process_time()
    warm_up(readers=False)  # a no-op after the fork server's, else its failure shows here
    gc.freeze()  # the collector leaves what exists now alone: fewer objects to walk
    log.info("pool process %d warmed up in %.3f s (CPU %.3f s), ready %.3f s after the pool started",
             os.getpid(), time.perf_counter() - started, time.process_time() - cpu,
             time.time() - pool_started)


def _side_ready(log_path: str) -> None:
    """First thing in the pool's side process (:meth:`ChunkPool.side`): as :func:`_ready`,
    without the warm-up of a chunk's documents."""
    from dumpkit.pipeline.batch.scheduling import log_to

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    log_to(log_path)
    log.info("side process %d of the pool ready", os.getpid())


def _run(job: ChunkJob, index: int) -> tuple[int, int, float, float]:
    """Chunk ``index``: (pid, documents, seconds, CPU seconds)."""
    from dumpkit.pipeline.batch.chunk import make_chunk

    layout, batch, run_key, made_by, shrink_max_size, symbols = job
    started, cpu = time.perf_counter(), time.process_time()
    marker = make_chunk(layout, batch, run_key, made_by, index, shrink_max_size, symbols)
    return (os.getpid(), len(marker["processed"]) + marker["reused"], time.perf_counter() - started,
            time.process_time() - cpu)


class ChunkPool:
    """``workers`` processes for the whole batch, logging to ``log_path``: the fork server
    they come from starts (and warms up) now, they start with the first chunks."""

    def __init__(self, workers: int, log_path: str) -> None:
        self.workers = workers
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(_PRELOAD)
        forkserver.ensure_running()  # returns at once: the server warms up on its own
        self._executor: ProcessPoolExecutor | None = ProcessPoolExecutor(
            workers, mp_context=context, initializer=_ready, initargs=(log_path, time.time()))
        self._context, self._log_path = context, log_path
        self._side: ProcessPoolExecutor | None = None
        self._started = time.perf_counter()

    def side(self) -> ProcessPoolExecutor:
        """One more process, forked from the same warm server when first asked for, that runs
        what it is handed one call after another (the publication, :mod:`.pooled`), beside
        the chunks and after them: it lives until :meth:`join` (or an interrupting
        :meth:`close`)."""
        if self._side is None:
            if self._executor is None:
                raise RuntimeError("the pool is closed")
            self._side = ProcessPoolExecutor(1, mp_context=self._context, initializer=_side_ready,
                                             initargs=(self._log_path,))
        return self._side

    def run(self, job: ChunkJob, indices: Sequence[int],
            finished: Callable[[int], Any] | None = None) -> list[int]:
        """Make the chunks ``indices`` (in that order of start: biggest first is best), calling
        ``finished(index)`` here as each one ends. Returns the chunks not made: empty, or
        every chunk not finished when a process of the pool died or a chunk failed (the
        pool is then stopped; the log says which and why)."""
        executor = self._executor
        if executor is None:
            return list(indices)
        pending: dict[Future[tuple[int, int, float, float]], int] = {}
        left = set(indices)
        log.info("%d chunks handed to the pool %.3f s after it started", len(indices),
                 time.perf_counter() - self._started)
        try:
            for i in indices:  # the first ones fork the processes, from the (warm) server
                pending[executor.submit(_run, job, i)] = i
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    index = pending.pop(future)
                    pid, n, seconds, cpu = future.result()
                    log.info("chunk %d: %d documents in %.3f s (CPU %.3f s), pool process %d",
                             index, n, seconds, cpu, pid)
                    left.discard(index)
                    if finished is not None:
                        finished(index)
        except BrokenProcessPool:
            log.error("a worker process of the pool died (a crash, or killed; or the fork server they "
                      "come from) while making chunks %s: "
                      "they fail here, and run again in task processes of their own",
                      sorted(left))
            self.close(interrupted=True)
        except Exception:
            log.exception("a chunk failed in the pool; the chunks left (%s) run again in task "
                          "processes of their own", sorted(left))
            self.close(interrupted=True)
        return sorted(left)

    def close(self, interrupted: bool = False) -> None:
        """Stop the processes: at once when ``interrupted``, else once their work is done
        (without waiting here: :meth:`join` does)."""
        executor = self._executor
        if executor is None:
            return
        for pool in (executor, self._side) if interrupted else (executor,):
            if pool is None:
                continue
            if interrupted:
                for process in list((getattr(pool, "_processes", None) or {}).values()):
                    with contextlib.suppress(OSError, AttributeError):
                        process.kill()
            pool.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Wait for the processes to end (after :meth:`close`), then for the fork server: a
        process that runs batches one after another keeps no warm server between them, and
        the server's CPU time counts in this process's children's."""
        executor, self._executor = self._executor, None
        side, self._side = self._side, None
        if side is not None:
            side.shutdown(wait=True, cancel_futures=True)
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
            started = time.perf_counter()
            stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)  # 3.11-3.14
            if stop is not None:
                with contextlib.suppress(OSError, ChildProcessError):
                    stop()
            log.info("fork server stopped in %.3f s", time.perf_counter() - started)
