"""Benchmark: dumpkit's minidump document vs the ``minidump`` package (and udmp-parser) per file.

    .venv/bin/python benchmarks/bench_minidump.py [--rounds N] [--corpus DIR]

For every corpus minidump (``mdmp/*``, ``mdmp_from_yaml/*.dmp``), in ONE warm process (imports
done, every file read once before timing), times per file, as the median of N rounds:

* dumpkit: ``normalize.document_for`` = ``dumpkit.open`` + normalize + schema validation
  (the whole job for one file);
* minidump 0.0.24: ``MinidumpFile.parse`` (eager: every stream it knows) + reading its threads
  (with contexts), modules, exception and system info;
* dk-open: ``dumpkit.open`` + the same facts (threads with registers, modules, crash, system):
  the reader alone, like for like with the ``minidump`` package;
* udmp-parser 0.7.0, for reference: ``UserDumpParser().Parse`` + ``Threads()`` + ``Modules()``;
* rust-minidump 0.25.0 ``minidump-stackwalk --json FILE`` (from ``tools/fetch-stackwalk``, looked
  up in ``tests/.cache/bin`` or ``$PATH``): one process per file and round, start-up included.

Prints per-file milliseconds, the ratio minidump / dumpkit, totals over the files both read, and
per reader the mean, p50, p99 and max of the per-file medians (``--no-stackwalk`` skips rust).
Files an outside reader cannot read (or, for the ``minidump`` package, whose stream directory
does not fit in the file: it then loops over millions of entries) are shown as ``-``.
"""
from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

Runner = Callable[[str], object]


def corpus_dir(explicit: str | None) -> Path:
    root = Path(explicit or os.environ.get("DUMPKIT_CORPUS") or REPO.parent / "shared" / "corpus")
    if not root.is_dir():
        raise SystemExit(f"corpus not found at {root}: pass --corpus or set DUMPKIT_CORPUS")
    return root


def run_dumpkit(path: str) -> object:
    from dumpkit.pipeline.document.normalize import document_for

    return document_for(path)


def run_dumpkit_open(path: str) -> object:
    """Only the reader (like the ``minidump`` package's work): open + the same facts, no document."""
    import dumpkit
    from dumpkit.errors import DumpkitError

    try:
        with dumpkit.open(path) as dump:
            return ([(t.id, t.registers) for t in dump.threads], [(m.path, m.base) for m in dump.modules],
                    dump.crash, dump.system)
    except DumpkitError:
        return None


def run_minidump(path: str) -> object:
    from minidump.minidumpfile import MinidumpFile

    with open(path, "rb") as fh:
        head = fh.read(0x20)
        size = os.fstat(fh.fileno()).st_size
    count, rva = struct.unpack_from("<II", head, 8)
    if rva + 12 * count > size:
        raise ValueError("stream directory does not fit in the file")
    mf = MinidumpFile.parse(path)
    try:
        facts: list[object] = []
        if mf.threads is not None:
            facts += [(t.ThreadId, getattr(t, "ContextObject", None)) for t in mf.threads.threads]
        if mf.modules is not None:
            facts += [(m.name, m.baseaddress, m.size, m.versioninfo) for m in mf.modules.modules]
        if mf.exception is not None:
            facts += [(e.ThreadId, e.ExceptionRecord.ExceptionCode_raw, e.ExceptionRecord.ExceptionAddress)
                      for e in mf.exception.exception_records]
        if mf.sysinfo is not None:
            s = mf.sysinfo
            facts.append((s.ProcessorArchitecture, s.PlatformId, s.MajorVersion, s.BuildNumber, s.CSDVersion))
        return facts
    finally:
        mf.file_handle.close()


def run_udmp(path: str) -> object:
    import udmp_parser

    parser = udmp_parser.UserDumpParser()
    if not parser.Parse(Path(path)):
        raise ValueError("Parse() returned False")
    return len(parser.Threads()), len(parser.Modules())


def stackwalk_binary() -> str | None:
    local = REPO / "tests" / ".cache" / "bin" / "minidump-stackwalk"
    return str(local) if os.access(local, os.X_OK) else shutil.which("minidump-stackwalk")


def run_stackwalk(path: str) -> object:
    """rust-minidump, one process (its whole job for one file, start-up included)."""
    binary = stackwalk_binary()
    if binary is None:
        raise FileNotFoundError("minidump-stackwalk")
    proc = subprocess.run([binary, "--json", path], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                          timeout=60, check=False)
    if proc.returncode != 0:
        raise ValueError(f"minidump-stackwalk exit {proc.returncode}")
    return proc.returncode


RUNNERS: dict[str, Runner] = {"dumpkit": run_dumpkit, "dk-open": run_dumpkit_open, "minidump": run_minidump,
                              "udmp-parser": run_udmp, "rust-stackwalk": run_stackwalk}


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values``, nearest rank (p99 of 70 files is the largest but one)."""
    ordered = sorted(values)
    rank = max(1, math.ceil(q * len(ordered)))
    return ordered[rank - 1]


def summary_lines(mean: dict[str, dict[str, float]], files: list[str]) -> list[str]:
    """Mean / p50 / p99 / max of per-file milliseconds for each reader, over ``files``."""
    lines = [f"{'reader':15s} {'files':>5s} {'mean':>8s} {'p50':>8s} {'p99':>8s} {'max':>8s}  (ms per file)"]
    for name in RUNNERS:
        values = [mean[name][f] for f in files if f in mean[name]]
        if not values:
            lines.append(f"{name:15s} {0:5d} {'-':>8s} {'-':>8s} {'-':>8s} {'-':>8s}")
            continue
        lines.append(f"{name:15s} {len(values):5d} {statistics.fmean(values):8.3f} "
                     f"{percentile(values, 0.5):8.3f} {percentile(values, 0.99):8.3f} {max(values):8.3f}")
    return lines


def usable(runner: Runner, path: str) -> bool:
    try:
        runner(path)
    except Exception:
        return False
    return True


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=20, help="timed rounds per file (default 20)")
    ap.add_argument("--corpus", help="corpus folder (default: DUMPKIT_CORPUS or ../shared/corpus)")
    ap.add_argument("--no-stackwalk", action="store_true", help="do not run rust-minidump")
    args = ap.parse_args()
    if args.no_stackwalk or stackwalk_binary() is None:
        RUNNERS.pop("rust-stackwalk")
    logging.disable(logging.CRITICAL)  # the minidump package logs tracebacks while guessing the PEB
    root = corpus_dir(args.corpus)
    found = (p for pattern in ("mdmp/*", "mdmp_from_yaml/*.dmp") for p in root.glob(pattern))
    files = {str(p.relative_to(root)): str(p) for p in sorted(found) if p.is_file()}
    # warm-up: imports, schema validators, parser classes; and which reader can read which file
    ok = {name: {f: usable(fn, path) for f, path in files.items()} for name, fn in RUNNERS.items()}
    samples: dict[str, dict[str, list[float]]] = {name: {} for name in RUNNERS}
    for _ in range(args.rounds):
        for f, path in files.items():
            for name, fn in RUNNERS.items():
                if not ok[name][f]:
                    continue
                t0 = time.perf_counter()
                fn(path)
                samples[name].setdefault(f, []).append((time.perf_counter() - t0) * 1000)
    # per file: the median of the rounds (a shared machine's load spikes would dominate a mean)
    mean = {name: {f: statistics.median(ts) for f, ts in per.items()} for name, per in samples.items()}

    def cell(name: str, f: str) -> str:
        return f"{mean[name][f]:9.3f}" if f in mean[name] else f"{'-':>9s}"

    width = max(len(f) for f in files)
    print(f"{len(files)} files, {args.rounds} rounds, warm, one process; ms per file (median of the rounds)")
    heads = {"dumpkit": "dumpkit", "dk-open": "dk-open", "minidump": "minidump", "udmp-parser": "udmp",
             "rust-stackwalk": "rust"}
    print(f"{'file':{width}s} " + " ".join(f"{heads[name]:>9s}" for name in RUNNERS) + f" {'mdp/dk':>7s}")
    ratios = []
    for f in files:
        ratio = ""
        if f in mean["dumpkit"] and f in mean["minidump"]:
            r = mean["minidump"][f] / max(mean["dumpkit"][f], 1e-9)
            ratios.append(r)
            ratio = f"{r:6.2f}x"
        cells = " ".join(cell(name, f) for name in RUNNERS)
        print(f"{f:{width}s} {cells} {ratio:>7s}")
    both = [f for f in mean["minidump"] if f in mean["dumpkit"]]
    dk = sum(mean["dumpkit"][f] for f in both)
    dko = sum(mean["dk-open"][f] for f in both)
    mp = sum(mean["minidump"][f] for f in both)
    ud_files = [f for f in mean["udmp-parser"] if f in mean["dumpkit"]]
    ud = sum(mean["udmp-parser"][f] for f in ud_files)
    dk_ud = sum(mean["dumpkit"][f] for f in ud_files)
    geo = math.exp(sum(math.log(r) for r in ratios) / len(ratios)) if ratios else float("nan")
    print(f"files read by dumpkit and minidump: {len(both)}; total ms dumpkit {dk:.2f}, minidump {mp:.2f} "
          f"(minidump/dumpkit {mp / max(dk, 1e-9):.2f}x, geometric mean of per-file ratios {geo:.2f}x); "
          f"dumpkit reader alone (dk-open) {dko:.2f} (minidump/dk-open {mp / max(dko, 1e-9):.2f}x)")
    print(f"files read by dumpkit and udmp-parser: {len(ud_files)}; total ms dumpkit {dk_ud:.2f}, "
          f"udmp-parser {ud:.2f} (udmp-parser/dumpkit {ud / max(dk_ud, 1e-9):.2f}x)")
    print(f"timed: dumpkit {len(mean['dumpkit'])}/{len(files)} files (unreadable ones give error documents, "
          f"timed too), minidump {len(mean['minidump'])}, udmp-parser {len(mean['udmp-parser'])}")
    print()
    print(f"per reader over the {len(both)} files both dumpkit and minidump read:")
    print("\n".join(summary_lines(mean, both)))
    p = {name: [mean[name][f] for f in both if f in mean[name]] for name in ("dumpkit", "minidump")}
    if p["dumpkit"]:
        print("goal: dumpkit document <= minidump bare parse; ratio dumpkit/minidump "
              f"mean {statistics.fmean(p['dumpkit']) / statistics.fmean(p['minidump']):.2f}x, "
              f"p50 {percentile(p['dumpkit'], 0.5) / percentile(p['minidump'], 0.5):.2f}x, "
              f"p99 {percentile(p['dumpkit'], 0.99) / percentile(p['minidump'], 0.99):.2f}x, "
              f"max {max(p['dumpkit']) / max(p['minidump']):.2f}x")
    print(f"per reader over every file it read ({len(files)} files):")
    print("\n".join(summary_lines(mean, list(files))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
