"""``dumpkit normalize ARCHIVE... --out DIR``: the batch command (called from pipeline/cli.py).

Importing this module is cheap (argparse only); luigi and the readers load when it runs.

It runs the luigi tasks of :mod:`dumpkit.pipeline.batch.tasks` in two steps, so that several workers (on
one machine or many, sharing one ``luigid`` and one output folder) all know every task:

1. ``Discover`` (one task: walks and expands the inputs, writes the manifest);
2. every ``NormalizeChunk`` (documents, and with ``--shrink`` reduced minidumps) plus
   ``BatchReport``.

A worker that finds a step running elsewhere waits for it (``luigid`` hands each task to one
worker). luigi's own log goes to ``DIR/work/luigi.log``; the terminal gets a live line
(count, rate, ETA) when it is one, and a summary at the end.

Exit status: 0 every file read; 1 some files gave error documents (the report is complete);
2 usage or environment error (bad arguments, missing inputs, a task failed: see the log).
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

from dumpkit.pipeline.inputs.archives import Limits, parse_size

__all__ = ["EXIT_OK", "EXIT_UNREADABLE", "EXIT_USAGE", "add_arguments", "run"]

EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2
#: luigi outcomes after which a worker sharing a central scheduler waits and asks again: the
#: tasks left are running on other workers ("not granted run permission" is luigi's NOT_RUN)
_WAIT = ("SUCCESS", "SUCCESS_WITH_RETRY", "NOT_RUN")


def _size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The ``normalize`` sub-command's arguments."""
    p.add_argument("inputs", nargs="+", metavar="ARCHIVE",
                   help="dump files, directories, or containers (gz, bz2, xz, zst, zip, tar.*), nested")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="parallel tasks on this machine")
    p.add_argument("--shrink", action="store_true",
                   help="also write a reduced minidump of each dump to DIR/minidumps/<sha256>.dmp")
    p.add_argument("--shrink-max-size", type=_size, default=1 << 20, metavar="SIZE",
                   help="largest reduced minidump, e.g. 1M (default), 512K")
    p.add_argument("--scheduler-host", metavar="H",
                   help="use the central luigid at H (workers on many machines share it and DIR)")
    p.add_argument("--scheduler-port", type=int, default=8082, metavar="P", help="luigid port (default 8082)")
    p.add_argument("--max-member-size", type=_size, default=Limits.max_member_size, metavar="SIZE",
                   help="largest archive member to expand, e.g. 64G (default)")
    p.add_argument("--max-ratio", type=int, default=Limits.max_ratio, metavar="N",
                   help=f"stop expanding an input past N times its size (default {Limits.max_ratio})")
    p.add_argument("--max-depth", type=int, default=Limits.max_depth, metavar="N",
                   help=f"containers inside containers (default {Limits.max_depth})")
    p.add_argument("--chunk-size", type=int, default=0, metavar="N",
                   help="dumps per task (default: automatic)")
    p.add_argument("--rescan", action="store_true",
                   help="walk and expand the inputs again even if this batch was discovered before")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line and no summary")


def _usage_error(message: str) -> int:
    print(f"dumpkit normalize: {message}", file=sys.stderr)
    return EXIT_USAGE


def _check(args: argparse.Namespace) -> str | None:
    if args.shrink and args.shrink_max_size < 4096:
        return "--shrink-max-size must be at least 4K"
    for path in args.inputs:
        if not os.path.exists(path):
            return f"{path}: no such file or directory"
    if args.workers < 1 or args.max_ratio < 1 or args.max_depth < 1 or args.chunk_size < 0:
        return "--workers, --max-ratio and --max-depth must be at least 1, --chunk-size at least 0"
    try:
        os.makedirs(os.path.join(args.out, "work", "tmp"), exist_ok=True)
    except OSError as exc:
        return f"{args.out}: cannot create the output folder: {exc.strerror or exc}"
    if not os.access(args.out, os.W_OK):
        return f"{args.out}: not writable"
    return None


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
    """Live count / rate / ETA on stderr, from the documents appearing on disk (so it counts
    the work of every worker sharing the folder); nothing when stderr is not a terminal."""

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

    def documents(self, layout: Any, expected: dict[str, str]) -> None:
        self.close()
        if not self.enabled or not expected:
            return
        from tqdm import tqdm

        self._final = lambda: _count_done(layout, expected)
        done = _count_done(layout, expected)
        self.bar = tqdm(total=len(expected), initial=done, desc="documents", unit=" docs",
                        file=sys.stderr, smoothing=0.1, **_width())

        def poll() -> None:
            while not self._stop.wait(0.5):
                n = _count_done(layout, expected)
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


def _count_done(layout: Any, expected: dict[str, str]) -> int:
    present: set[str] = set()
    for folder in (layout.docs, layout.errors):
        with contextlib.suppress(OSError):
            present.update(os.listdir(folder))
    return sum(1 for name in expected if name in present)


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


def _failed(result: Any, layout: Any) -> int:
    print(f"dumpkit normalize: the batch did not complete ({result.status.name.lower()}: "
          f"{result.status.value[1]}); details in {layout.log}", file=sys.stderr)
    show = False
    for line in result.summary_text.splitlines():
        if line.startswith("* "):
            show = any(word in line for word in ("fail", "missing", "not granted", "disabled"))
            if show:
                print("  " + line[2:], file=sys.stderr)
        elif show and line.startswith("    - "):
            print("    " + line[6:], file=sys.stderr)
    return EXIT_USAGE


def run(args: argparse.Namespace) -> int:
    """The ``normalize`` command."""
    problem = _check(args)
    if problem is not None:
        return _usage_error(problem)
    from dumpkit.pipeline.batch import tasks
    from dumpkit.pipeline.batch.batchwork import Layout, inputs_fingerprint, warm_up, warm_up_samples

    layout = Layout(os.path.abspath(args.out))
    _setup_logging(layout.log)
    params = {"inputs": args.inputs, "out": layout.out, "max_member_size": args.max_member_size,
              "max_ratio": args.max_ratio, "max_depth": args.max_depth, "chunk_size": args.chunk_size,
              "shrink_max_size": args.shrink_max_size if args.shrink else 0,
              "fingerprint": inputs_fingerprint(args.inputs, exclude=layout.out)}
    discover = tasks.Discover(**params)
    report_task = tasks.BatchReport(**params)
    remote = args.scheduler_host is not None
    env: dict[str, Any] = {"local_scheduler": not remote, "workers": 1}
    if remote:
        import luigi

        env.update(scheduler_host=args.scheduler_host, scheduler_port=args.scheduler_port)
        config = luigi.configuration.get_config()
        config.set("worker", "keep_alive", "true")  # stay while others run what we wait for
        config.set("worker", "wait_interval", "0.5")
    if args.rescan:
        _forget(layout, discover.batch)
    progress = _Progress(enabled=not args.quiet and sys.stderr.isatty())
    started = time.monotonic()
    try:
        tasks.DISCOVERY_PROGRESS = progress.discovering
        ok, result = _until_complete(discover, [discover], env, remote)
        progress.close()
        if not ok:
            return _failed(result, layout)
        chunks = report_task.chunks()
        # before luigi forks a process per task, each of which would pay for it again
        warm_up(warm_up_samples(layout, discover.batch, len(chunks)))
        gc.freeze()  # the garbage collector leaves what exists now alone: no copy-on-write of it
        expected = _expected_documents(layout, discover.batch, len(chunks))
        done_before = _count_done(layout, expected)
        progress.documents(layout, expected)
        ok, result = _until_complete(report_task, [*chunks, report_task], {**env, "workers": args.workers},
                                     remote)
    except KeyboardInterrupt:
        progress.close()
        print("dumpkit normalize: interrupted; run the same command again to resume", file=sys.stderr)
        return 130
    except OSError as exc:  # the output folder or the scheduler went away under us
        progress.close()
        logging.getLogger(__name__).exception("batch stopped")
        print(f"dumpkit normalize: {exc}; details in {layout.log}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
        tasks.DISCOVERY_PROGRESS = None
    if not ok:
        return _failed(result, layout)
    made = _count_done(layout, expected) - done_before
    return _summary(layout, time.monotonic() - started, made, args.quiet)


def _forget(layout: Any, batch: str) -> None:
    """``--rescan``: drop this batch's manifest and markers (documents stay: content-addressed)."""
    import shutil

    shutil.rmtree(layout.batch(batch), ignore_errors=True)


def _expected_documents(layout: Any, batch: str, n_chunks: int) -> dict[str, str]:
    """File name of each item's document -> its key (either folder)."""
    from dumpkit.pipeline.batch.batchwork import iter_items

    return {item["key"] + ".json": item["key"] for item in iter_items(layout, batch, n_chunks)}


def _summary(layout: Any, seconds: float, made: int, quiet: bool) -> int:
    """The closing lines; ``made``: documents this run added (the rest were on disk)."""
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
    return EXIT_UNREADABLE if t["errors"] else EXIT_OK
