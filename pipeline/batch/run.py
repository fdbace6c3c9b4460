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
chunks' parts are merged into the published files as the chunks end
(:class:`~dumpkit.pipeline.batch.publish.Publication`); luigi then finds every chunk complete
and runs ``BatchReport`` here, which finishes the publication. With a central scheduler (or
once a pool process died), luigi's own workers run the chunks, a forked process per task.

A worker that finds a step running elsewhere waits for it (``luigid`` hands each task to one
worker). luigi's own log goes to ``DIR/work/luigi.log``; the terminal gets a live line
(count, rate, ETA) when it is one, and a summary at the end.

It returns the report's totals, or raises :class:`BatchError` (bad options, no scheduler, a
task failed: see the log); the CLI turns both into exit codes.
"""
from __future__ import annotations

import gc
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dumpkit.pipeline.inputs.limits import Limits

if TYPE_CHECKING:
    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.pool import ChunkPool
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.symbols.config import SymbolConfig

__all__ = ["BatchError", "BatchOptions", "run_batch"]

#: luigi outcomes after which a worker sharing a central scheduler waits and asks again: the
#: tasks left are running on other workers ("not granted run permission" is luigi's NOT_RUN)
_WAIT = ("SUCCESS", "SUCCESS_WITH_RETRY", "NOT_RUN")


@dataclass(frozen=True)
class BatchOptions:
    """What ``dumpkit normalize`` was asked to do."""

    inputs: list[str]
    out: str
    workers: int = 1
    shrink_max_size: int = 0  # > 0: --shrink with this budget
    scheduler_host: str | None = None
    scheduler_port: int = 8082
    limits: Limits = field(default_factory=Limits)
    chunk_size: int = 0
    rescan: bool = False
    quiet: bool = False
    symbols: SymbolConfig | None = None  # symbol sources; None: no symbols


class BatchError(Exception):
    """The batch could not run or did not complete (a usage or environment error)."""


def _check(opts: BatchOptions) -> None:
    if opts.shrink_max_size and opts.shrink_max_size < 4096:
        raise BatchError("--shrink-max-size must be at least 4K")
    for path in opts.inputs:
        if not os.path.exists(path):
            raise BatchError(f"{path}: no such file or directory")
    if opts.workers < 1 or opts.limits.max_ratio < 1 or opts.limits.max_depth < 1 or opts.chunk_size < 0:
        raise BatchError("--workers, --max-ratio and --max-depth must be at least 1, --chunk-size at least 0")
    try:
        os.makedirs(os.path.join(opts.out, "work", "tmp"), exist_ok=True)
    except OSError as exc:
        raise BatchError(f"{opts.out}: cannot create the output folder: {exc.strerror or exc}") from None
    if not os.access(opts.out, os.W_OK):
        raise BatchError(f"{opts.out}: not writable")
    if opts.scheduler_host is not None:
        _check_scheduler(opts.scheduler_host, opts.scheduler_port)


def scheduler_url(host: str, port: int) -> str:
    return f"http://{host}:{port}/"


def _check_scheduler(host: str, port: int, timeout: float = 5.0) -> None:
    """Ask ``luigid`` at ``host:port`` for its worker list before anything runs (luigi itself
    would retry for a minute or more, then fail with a traceback)."""
    import urllib.error
    import urllib.request

    url = scheduler_url(host, port)
    try:
        with urllib.request.urlopen(url + "api/worker_list?data=%7B%7D", timeout=timeout) as response:
            json.loads(response.read(1 << 20))["response"]
    except urllib.error.HTTPError as exc:
        raise BatchError(f"the luigi scheduler at {url} answered HTTP {exc.code}: is it luigid?") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        if isinstance(exc, (ValueError, KeyError, TypeError)):
            raise BatchError(f"{url} answered, but not as a luigi scheduler does") from None
        reason = getattr(exc, "reason", None) or exc
        raise BatchError(f"cannot reach the luigi scheduler at {url}: {reason}") from None


def _setup_logging(log_path: str) -> None:
    """luigi (and everything else) logs to ``log_path``, not the terminal."""
    import luigi

    config = luigi.configuration.get_config()
    config.set("core", "no_configure_logging", "true")
    handler = logging.FileHandler(log_path, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(process)d %(name)s %(levelname)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("luigi", "luigi-interface"):
        logging.getLogger(name).setLevel(logging.INFO)
    logging.captureWarnings(True)


class _Progress:
    """Live count / rate / ETA on stderr, from the markers of documents made appearing on disk
    (so it counts the work of every worker sharing the folder); nothing when stderr is not a
    terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0
        self._final: Callable[[], int] | None = None

    def discovering(self, files: int, nbytes: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(desc="discovering", unit=" files", file=sys.stderr, **_width())
        if now - self._last > 0.2:
            self.bar.n = files
            self.bar.set_postfix_str(f"{nbytes / 1e6:,.0f} MB read", refresh=False)
            self.bar.refresh()
            self._last = now

    def documents(self, folder: str, expected: set[str]) -> None:
        """Count the keys of ``expected`` appearing in ``folder`` (markers of documents made)."""
        self.close()
        if not self.enabled or not expected:
            return
        from tqdm import tqdm

        self._final = lambda: _count_done(folder, expected)
        done = _count_done(folder, expected)
        self.bar = tqdm(total=len(expected), initial=done, desc="documents", unit=" docs",
                        file=sys.stderr, smoothing=0.1, **_width())

        def poll() -> None:
            while not self._stop.wait(0.5):
                n = _count_done(folder, expected)
                if n > self.bar.n:
                    self.bar.update(n - self.bar.n)

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._stop.clear()
        if self.bar is not None:
            if self._final is not None:  # the last documents since the last poll
                n = self._final()
                if n > self.bar.n:
                    self.bar.update(n - self.bar.n)
            self.bar.close()
            self.bar = None
        self._final = None


def _width() -> dict[str, Any]:
    """Follow the terminal's size; one that reports none (0x0, e.g. a bare pty) gets 100x24
    (tqdm would otherwise hide the bar: it draws no line beyond a 0-row screen)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        size = os.terminal_size((0, 0))
    if size.columns > 0 and size.lines > 0:
        return {"dynamic_ncols": True}
    return {"ncols": size.columns or 100, "nrows": size.lines or 24}


def _count_done(folder: str, expected: set[str]) -> int:
    try:
        return len(expected.intersection(os.listdir(folder)))
    except OSError:
        return 0


def _build(tasks: list[Any], env: dict[str, Any]) -> Any:
    import luigi

    return luigi.build(tasks, detailed_summary=True, **env)


def _until_complete(target: Any, tasks: list[Any], env: dict[str, Any], remote: bool) -> tuple[bool, Any]:
    """Run ``tasks``; with a central scheduler, wait while another worker finishes ``target``."""
    while True:
        result = _build(tasks, env)
        if target.complete():
            return True, result
        if not remote or result.status.name not in _WAIT:
            return False, result
        time.sleep(0.5)  # running on another worker: luigid hands it back if that worker dies


def _failed(result: Any, layout: Any) -> BatchError:
    lines = [f"the batch did not complete ({result.status.name.lower()}: "
             f"{result.status.value[1]}); details in {layout.log}"]
    show = False
    for line in result.summary_text.splitlines():
        if line.startswith("* "):
            show = any(word in line for word in ("fail", "missing", "not granted", "disabled"))
            if show:
                lines.append("  " + line[2:])
        elif show and line.startswith("    - "):
            lines.append("    " + line[6:])
    return BatchError("\n".join(lines))


def run_batch(opts: BatchOptions) -> dict[str, Any]:
    """Run the batch; returns ``report.json``'s totals. Raises :class:`BatchError`, or
    ``KeyboardInterrupt`` (the batch resumes when run again)."""
    _check(opts)
    from dumpkit.pipeline.batch.layout import Layout

    layout = Layout(os.path.abspath(opts.out))
    _setup_logging(layout.log)
    remote = opts.scheduler_host is not None
    # with a local scheduler, N workers are a pool of N processes forked now, from this still
    # lean process, that warm up while discovery runs here and then make every chunk
    pool = _pool(opts.workers) if opts.workers > 1 and not remote else None
    try:
        return _run(opts, layout, pool)
    except BaseException:
        if pool is not None:
            pool.close(interrupted=True)
        raise
    finally:
        if pool is not None:
            pool.join()


def _pool(workers: int) -> ChunkPool:
    from dumpkit.pipeline.batch.pool import ChunkPool

    return ChunkPool(workers)


def _run(opts: BatchOptions, layout: Layout, pool: ChunkPool | None) -> dict[str, Any]:
    """The batch, once the pool (if any: ``pool.ChunkPool``) is started."""
    from dumpkit.pipeline.batch import tasks
    from dumpkit.pipeline.batch.identity import document_fingerprint, inputs_fingerprint, symbol_options
    from dumpkit.pipeline.batch.items import iter_items
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
        import luigi

        env.update(scheduler_host=opts.scheduler_host, scheduler_port=opts.scheduler_port)
        config = luigi.configuration.get_config()
        config.set("worker", "keep_alive", "true")  # stay while others run what we wait for
        config.set("worker", "wait_interval", "0.5")
        # a scheduler that goes away mid-batch: a few quick retries, not luigi's minutes
        config.set("core", "rpc-retry-attempts", "3")
        config.set("core", "rpc-retry-wait", "2")
        config.set("core", "rpc-connect-timeout", "5.0")
    if opts.rescan:
        _forget(layout, discover.batch)
    progress = _Progress(enabled=not opts.quiet and sys.stderr.isatty())
    started = time.monotonic()
    try:
        tasks.DISCOVERY_PROGRESS = progress.discovering
        ok, result = _until_complete(discover, [discover], env, remote)
        progress.close()
        if not ok:
            raise _failed(result, layout)
        chunks = report_task.chunks()
        if pool is None:
            # the first document's costs, once: before luigi forks a process per task (a
            # central scheduler), each of which would pay for them again
            warm_up(warm_up_samples(layout, discover.batch, len(chunks)))
            gc.freeze()  # the garbage collector leaves what exists now alone: no copy-on-write of it
        expected = {item["key"] for item in iter_items(layout, discover.batch, len(chunks))}
        done = os.path.join(layout.made_root, made_by)
        done_before = _count_done(done, expected)
        progress.documents(done, expected)
        if pool is not None:
            todo = [c.index for c in chunks if not c.complete()]
            job = (layout, discover.batch, report_task.run_key, report_task.document_maker,
                   opts.shrink_max_size, symbols)
            tasks.PUBLICATION = _publication(layout, discover.batch, report_task.run_key,
                                             opts.shrink_max_size)
            ended = _Feed(tasks.PUBLICATION, [c.index for c in chunks if c.index not in todo])
            # every chunk made: luigi finds them complete and publishes in this process; else
            # (a process of the pool died) luigi's task processes make what is left
            workers = opts.workers if pool.run(job, todo, ended) else 1
            pool.close()  # the processes end while luigi publishes
            if ended.failed or workers > 1:  # BatchReport publishes from the start
                tasks.PUBLICATION.close()
                tasks.PUBLICATION = None
        ok, result = _until_complete(report_task, [*chunks, report_task], {**env, "workers": workers},
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
        raise _failed(result, layout)
    made = _count_done(done, expected) - done_before
    return _summary(layout, time.monotonic() - started, made, opts.quiet)


def _publication(layout: Layout, batch: str, run: str, shrink_max_size: int) -> Publication:
    from dumpkit.pipeline.batch.publish import Publication
    from dumpkit.pipeline.batch.tasks import read_manifest

    return Publication(layout, batch, run, read_manifest(layout, batch), shrink_max_size=shrink_max_size)


class _Feed:
    """Called as each chunk ends (in any order): feeds ``publication`` the chunks ended so far,
    in order, so that publishing overlaps the chunks still running. A failure here is logged;
    ``failed`` then says to publish from the start."""

    def __init__(self, publication: Publication, ended: list[int]) -> None:
        self.publication = publication
        self.ended = set(ended)
        self.failed = False
        self.feed()

    def __call__(self, index: int) -> None:
        self.ended.add(index)
        self.feed()

    def feed(self) -> None:
        publication = self.publication
        try:
            while not self.failed and publication.added in self.ended:
                publication.add(publication.added)
        except Exception:
            logging.getLogger(__name__).exception("publishing the chunks as they end failed; "
                                                  "the report publishes them from the start")
            self.failed = True


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
