"""Running a batch (``dumpkit normalize``; the arguments are parsed in ``pipeline/cli.py``).

Importing this module is cheap; luigi and the readers load when a batch runs.

:func:`run_batch` runs the luigi tasks of :mod:`dumpkit.pipeline.batch.tasks` in two steps, so
that several workers (on one machine or many, sharing one ``luigid`` and one output folder) all
know every task:

1. ``Discover`` (one task: walks and expands the inputs, writes the manifest);
2. every ``NormalizeChunk`` (documents, and with ``--shrink`` reduced minidumps) plus
   ``BatchReport``.

With the local scheduler and ``--workers N`` (N > 1), the chunks are made by a pool of N
processes forked at the start, which warm up while discovery runs (:mod:`.pool`), and the
chunks' parts are merged into the published files as the chunks end, by one more process
of the pool (:class:`~dumpkit.pipeline.batch.pooled.SidePublication`: this process never
loads pyarrow); luigi then finds every chunk complete and runs ``BatchReport`` here, which has
that process finish the publication. With a central scheduler (or
once a pool process died), luigi's own workers run the chunks, a forked process per task.

A worker that finds a step running elsewhere waits for it (``luigid`` hands each task to one
worker). luigi's own log goes to ``DIR/work/luigi.log``; the terminal gets a live line
(count, rate, ETA) when it is one, and a summary at the end.

It returns the report's totals, or raises :class:`BatchError` (bad options, no scheduler, a
task failed: see the log); the CLI turns both into exit codes.

Alongside: :mod:`.options` (what was asked, and whether it can run), :mod:`.scheduling`
(luigi's log and scheduler, running tasks to completion), :mod:`.pooled` (the chunks made
by the pool and published as they end), :mod:`.progress` (the live line).
"""
from __future__ import annotations

import gc
import json
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Any

from dumpkit.pipeline.batch.options import BatchError, BatchOptions, check

if TYPE_CHECKING:
    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.pool import ChunkPool

__all__ = ["BatchError", "BatchOptions", "run_batch"]


def run_batch(opts: BatchOptions) -> dict[str, Any]:
    """Run the batch; returns ``report.json``'s totals. Raises :class:`BatchError`, or
    ``KeyboardInterrupt`` (the batch resumes when run again).

    With ``workers`` > 1 and no central scheduler, the pool's processes start from a fork
    server (:mod:`.pool`), which, as for any ``multiprocessing`` program not using ``fork``,
    runs the main script again in them: a script calling this guards its work with
    ``if __name__ == "__main__":`` (``python -m dumpkit`` and the ``dumpkit`` command do)."""
    check(opts)
    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.scheduling import check_scheduler, setup_logging

    if opts.scheduler_host is not None:
        check_scheduler(opts.scheduler_host, opts.scheduler_port)

    layout = Layout(os.path.abspath(opts.out))
    # with a local scheduler, N workers are a pool of N processes that make every chunk: its
    # fork server starts first, and warms up while this process loads luigi and discovers
    pool = None
    if opts.workers > 1 and opts.scheduler_host is None:
        from dumpkit.pipeline.batch.pooled import start_pool

        pool = start_pool(opts.workers, layout.log)
    setup_logging(layout.log)
    try:
        return _run(opts, layout, pool)
    except BaseException:
        if pool is not None:
            pool.close(interrupted=True)
        raise
    finally:
        if pool is not None:
            pool.join()


def _run(opts: BatchOptions, layout: Layout, pool: ChunkPool | None) -> dict[str, Any]:
    """The batch, once the pool (if any: ``pool.ChunkPool``) is started."""
    from dumpkit.pipeline.batch import tasks
    from dumpkit.pipeline.batch.identity import document_fingerprint, inputs_fingerprint, symbol_options
    from dumpkit.pipeline.batch.items import iter_items
    from dumpkit.pipeline.batch.pooled import make_chunks
    from dumpkit.pipeline.batch.progress import Progress, count_done
    from dumpkit.pipeline.batch.scheduling import failed, remote_config, scheduler_url, until_complete
    from dumpkit.pipeline.batch.warm import warm_up, warm_up_samples

    symbols = opts.symbols.to_json() if opts.symbols is not None and opts.symbols.enabled else ""
    made_by = document_fingerprint(symbol_options(symbols))
    limits = opts.limits
    params = {"inputs": opts.inputs, "out": layout.out, "max_member_size": limits.max_member_size,
              "max_ratio": limits.max_ratio, "max_depth": limits.max_depth, "chunk_size": opts.chunk_size,
              "shrink_max_size": opts.shrink_max_size, "made_by": made_by, "symbols": symbols,
              "fingerprint": inputs_fingerprint(opts.inputs, exclude=layout.out)}
    discover = tasks.Discover(**params)
    report_task = tasks.BatchReport(**params)
    remote = opts.scheduler_host is not None
    workers = opts.workers
    env: dict[str, Any] = {"local_scheduler": not remote, "workers": 1}
    if remote:
        env.update(scheduler_host=opts.scheduler_host, scheduler_port=opts.scheduler_port)
        remote_config()
    if opts.rescan:
        _forget(layout, discover.batch)
    progress = Progress(enabled=not opts.quiet and sys.stderr.isatty())
    started = time.monotonic()
    try:
        tasks.DISCOVERY_PROGRESS = progress.discovering
        ok, result = until_complete(discover, [discover], env, remote)
        progress.close()
        if not ok:
            raise failed(result, layout.log)
        chunks = report_task.chunks()
        if pool is None:
            # the first document's costs, once: before luigi forks a process per task (a
            # central scheduler), each of which would pay for them again
            warm_up(warm_up_samples(layout, discover.batch, len(chunks)))
            gc.freeze()  # the garbage collector leaves what exists now alone: no copy-on-write of it
        expected = {item["key"] for item in iter_items(layout, discover.batch, len(chunks))}
        done = os.path.join(layout.made_root, made_by)
        done_before = count_done(done, expected)
        progress.documents(done, expected)
        if pool is not None:
            # every chunk made: luigi finds them complete and publishes in this process; else
            # (a process of the pool died) luigi's task processes make what is left
            workers = make_chunks(pool, layout, report_task, chunks)
        ok, result = until_complete(report_task, [*chunks, report_task], {**env, "workers": workers},
                                    remote)
    except OSError as exc:  # the output folder went away under us
        logging.getLogger(__name__).exception("batch stopped")
        raise BatchError(f"{exc}; details in {layout.log}") from None
    except Exception as exc:  # luigi's RPC errors when the scheduler goes away mid-batch
        if not remote or type(exc).__module__.split(".")[0] != "luigi":
            raise
        logging.getLogger(__name__).exception("batch stopped")
        url = scheduler_url(opts.scheduler_host or "", opts.scheduler_port)
        raise BatchError(f"lost the luigi scheduler at {url}: {exc}; details in {layout.log}") from None
    finally:
        progress.close()
        tasks.DISCOVERY_PROGRESS = None
        if tasks.PUBLICATION is not None:
            tasks.PUBLICATION.close()
            tasks.PUBLICATION = None
    if not ok:
        raise failed(result, layout.log)
    made = count_done(done, expected) - done_before
    return _summary(layout, time.monotonic() - started, made, opts.quiet)


def _forget(layout: Any, batch: str) -> None:
    """``--rescan``: drop this batch's manifest and markers (documents stay: content-addressed)."""
    import shutil

    shutil.rmtree(layout.batch(batch), ignore_errors=True)


def _summary(layout: Any, seconds: float, made: int, quiet: bool) -> dict[str, Any]:
    """The closing lines; ``made``: documents this run made (the rest were on disk)."""
    with open(os.path.join(layout.out, "report.json"), encoding="utf-8") as fh:
        report = json.load(fh)
    t = report["totals"]
    if not quiet:
        rate = f", {made:,} new documents, {made / seconds:,.1f}/s" if made and seconds > 0 else \
            ", nothing new to do"
        print(f"dumpkit normalize: {t['files']:,} files: {t['dumps']:,} dumps read, {t['errors']:,} "
              f"unreadable, {t['duplicates']:,} duplicates, in {seconds:,.1f} s{rate}")
        if t["errors"]:
            reasons = ", ".join(f"{r['name']} {r['count']}" for r in report["failures"]["by_reason"][:6])
            print(f"  unreadable: {reasons}")
        mini = report.get("minidumps")
        if mini:
            skipped = ", ".join(f"{r['name']} {r['count']}" for r in mini["skipped"])
            print(f"  minidumps: {mini['written']:,} in {os.path.join(layout.out, 'minidumps')}"
                  + (f" (not shrunk: {skipped})" if skipped else ""))
        print(f"  report: {os.path.join(layout.out, 'report.html')}  (data: report.json, dumps.ndjson)")
    totals: dict[str, Any] = t
    return totals
