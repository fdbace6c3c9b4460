#!/usr/bin/env python3
"""Benchmark: dumpkit on ELF cores vs elfutils (``eu-readelf --notes`` + ``eu-unstrip -n --core``).

    .venv/bin/python benchmarks/bench_elf_core.py [--rounds N] [--big-mib 2048] [--workdir DIR]
                                                   [--corpus DIR] [--no-corpus]

Files: a small self-made core (tests/fixtures/crasher.c, 4 threads, cored by gdb), the same
program after it allocated and touched ``--big-mib`` MiB (a ~2 GiB core), and every
uncompressed ELF core of the corpus. The self-made cores are cached in ``--workdir``.

Per file, each tool runs in a fresh process (so its peak RSS is its own):

* dumpkit open: ``dumpkit.open`` + the facts elfutils prints (threads with registers, signal,
  modules with build-ids), mean of N warm rounds in that process, imports excluded;
* dumpkit doc: ``normalize.document_for`` (open + normalize + validation), if present;
* elfutils: wall time of ``eu-readelf --notes`` plus ``eu-unstrip -n --core`` (two processes,
  C code, including their start-up), mean of N rounds; peak RSS is the larger of the two.

Prints milliseconds, the ratio elfutils / dumpkit-open, and peak RSS (MiB) for each; then, over
the files elfutils finished, the mean / p50 / p99 / max per tool and the totals (dumpkit doc vs
elfutils is the issue-13 goal). ``--baseline DIR`` also times another checkout's dumpkit (e.g. an
export of ``main``) in the same run, in its own column.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

CHILD = r"""
import json, resource, sys, time
sys.path.insert(0, sys.argv[1])
import dumpkit
from dumpkit.errors import DumpkitError
try:
    from dumpkit.pipeline.document.normalize import document_for
except ImportError:
    document_for = None
path, rounds = sys.argv[2], int(sys.argv[3])
def facts():
    try:
        with dumpkit.open(path) as d:
            return ([(t.id, dict(t.registers)) for t in d.threads], d.crash,
                    [(m.base, m.build_id) for m in d.modules])
    except DumpkitError:
        return None
base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
facts()  # warm: parser classes, first page faults of the mapping
t = time.perf_counter()
for _ in range(rounds):
    facts()
open_ms = (time.perf_counter() - t) * 1000 / rounds
open_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
doc_ms = None
if document_for is not None:
    document_for(path)
    t = time.perf_counter()
    for _ in range(rounds):
        document_for(path)
    doc_ms = (time.perf_counter() - t) * 1000 / rounds
print(json.dumps({"open_ms": open_ms, "doc_ms": doc_ms, "base_rss_kb": base_rss, "open_rss_kb": open_rss,
                  "rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def self_made_cores(workdir: Path, big_mib: int) -> list[Path]:
    from tests.elf_fixtures import build_crasher, make_core, tools_missing

    if tools_missing():
        print(f"self-made cores skipped: {tools_missing()}")
        return []
    workdir.mkdir(parents=True, exist_ok=True)
    exe = workdir / "crasher"
    if not exe.exists():
        build_crasher(exe, frame_pointer=True)
    small, big = workdir / "crasher.segv.core", workdir / f"crasher.{big_mib}MiB.core"
    if not small.exists():
        make_core(exe, small, "segv")
    if big_mib and not big.exists():
        print(f"making a {big_mib} MiB core with gdb (cached in {workdir}) ...", flush=True)
        t = time.perf_counter()
        make_core(exe, big, "segv", str(big_mib), timeout=1800)
        print(f"  {big.stat().st_size / 2**30:.2f} GiB in {time.perf_counter() - t:.0f} s", flush=True)
    return [small] + ([big] if big_mib else [])


def corpus_cores(explicit: str | None) -> list[Path]:
    root = Path(explicit or os.environ.get("DUMPKIT_CORPUS") or REPO.parent / "shared" / "corpus")
    if not root.is_dir():
        print(f"corpus not found at {root}: corpus files skipped")
        return []
    out = []
    for sub in ("elfcore", "vmcore", "vmcore_synthetic"):
        for path in sorted((root / sub).glob("*")):
            if path.suffix in (".bz2", ".zst", ".gz", ".xz") or not path.is_file():
                continue
            with open(path, "rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    out.append(path)
    return out


def run_dumpkit(path: Path, rounds: int, repo: Path = REPO) -> dict[str, float | None]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(repo), str(path), str(rounds)],
                          capture_output=True, text=True, check=True, timeout=3600)
    result: dict[str, float | None] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None


def _timed(cmd: list[str], timeout: float) -> tuple[float, int]:
    """Wall seconds and peak RSS (KiB; 0 when unknown) of one command, (-1, 0) on timeout.

    The RSS comes from GNU time's %M: ``wait4`` on a child forked from this Python process
    would count the Python pages it had before exec.
    """
    wrapped = [GNU_TIME, "-f", "%M", *cmd] if GNU_TIME else cmd
    t = time.perf_counter()
    try:
        proc = subprocess.run(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        return -1.0, 0
    seconds = time.perf_counter() - t
    last = proc.stderr.strip().splitlines()[-1:] if GNU_TIME else []
    return seconds, int(last[0]) if last and last[0].isdigit() else 0


def run_elfutils(path: Path, rounds: int, timeout: float) -> tuple[float | None, int]:
    total, peak = 0.0, 0
    for _ in range(rounds):
        for cmd in (["eu-readelf", "--notes", str(path)], ["eu-unstrip", "-n", "--core", str(path)]):
            seconds, rss = _timed(cmd, timeout)
            if seconds < 0:
                return None, peak
            total += seconds
            peak = max(peak, rss)
    return total * 1000 / rounds, peak


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--big-mib", type=int, default=2048, help="size of the big self-made core (0: none)")
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/dumpkit-bench-elf"))
    ap.add_argument("--corpus", default=None)
    ap.add_argument("--no-corpus", action="store_true")
    ap.add_argument("--eu-timeout", type=float, default=30.0,
                    help="seconds before an elfutils run is dropped")
    ap.add_argument("--baseline", type=Path, default=None,
                    help="another checkout whose dumpkit doc is timed too")
    args = ap.parse_args()
    files = self_made_cores(args.workdir, args.big_mib)
    files += [] if args.no_corpus else corpus_cores(args.corpus)
    print("times in ms (mean of warm rounds); RSS in MiB: dumpkit = whole Python process "
          "(baseline after imports shown at the end), elfutils = max of its two tools")
    print(f"{'file':46s} {'size':>9s} {'dk open':>8s} {'dk doc':>8s} {'elfutils':>9s} {'eu/dk':>6s}"
          f" {'dk RSS':>7s} {'eu RSS':>7s}" + (f" {'base doc':>9s}" if args.baseline else ""))
    baselines = []
    totals = [0.0, 0.0, 0.0]
    per_file: dict[str, list[float]] = {"dk open": [], "dk doc": [], "elfutils": [], "base doc": []}
    for path in files:
        dk = run_dumpkit(path, args.rounds)
        base_doc = run_dumpkit(path, args.rounds, args.baseline)["doc_ms"] if args.baseline else None
        baselines.append(float(dk["base_rss_kb"] or 0) / 1024)
        eu_ms, eu_rss = run_elfutils(path, min(args.rounds, 3), args.eu_timeout)
        size = path.stat().st_size
        human = f"{size / 2**30:.2f}G" if size >= 2**30 else f"{size / 2**20:.1f}M" if size >= 2**20 \
            else f"{size / 2**10:.0f}K"
        doc = f"{dk['doc_ms']:.1f}" if dk["doc_ms"] is not None else "-"
        open_ms = float(dk["open_ms"] or 0.0)
        ratio = f"{eu_ms / open_ms:.1f}" if eu_ms and open_ms else "-"
        eu_text = f"{eu_ms:.1f}" if eu_ms is not None else "timeout"
        rss = float(dk["rss_kb"] or 0) / 1024  # whole process: interpreter + imports + this file
        base_text = f" {base_doc:9.1f}" if base_doc is not None else (f" {'-':>9s}" if args.baseline else "")
        print(f"{path.name[:46]:46s} {human:>9s} {open_ms:8.1f} {doc:>8s} {eu_text:>9s} {ratio:>6s}"
              f" {rss:7.1f} {eu_rss / 1024:7.1f}{base_text}", flush=True)
        if eu_ms is not None:
            totals[0] += open_ms
            totals[1] += float(dk["doc_ms"] or 0.0)
            totals[2] += eu_ms
            per_file["dk open"].append(open_ms)
            per_file["dk doc"].append(float(dk["doc_ms"] or 0.0))
            per_file["elfutils"].append(eu_ms)
            if base_doc is not None:
                per_file["base doc"].append(base_doc)
    if totals[0]:
        print(f"{'total (files elfutils finished)':46s} {'':>9s} {totals[0]:8.1f} {totals[1]:8.1f} "
              f"{totals[2]:9.1f} {totals[2] / totals[0]:6.1f}")
    if per_file["dk open"]:
        print(f"over the {len(per_file['dk open'])} files elfutils finished (ms per file):")
        print(f"{'tool':10s} {'mean':>8s} {'p50':>8s} {'p99':>8s} {'max':>8s} {'total':>9s}")
        for name, values in per_file.items():
            if values:
                ordered = sorted(values)
                p50 = ordered[math.ceil(0.5 * len(ordered)) - 1]
                p99 = ordered[math.ceil(0.99 * len(ordered)) - 1]
                print(f"{name:10s} {statistics.fmean(values):8.2f} {p50:8.2f} {p99:8.2f} {max(values):8.2f}"
                      f" {sum(values):9.1f}")
        print(f"goal: dumpkit doc total / elfutils total = {totals[1] / max(totals[2], 1e-9):.2f}x (<= 1.0x)")
    if baselines:
        print(f"dumpkit process RSS after imports, before the first file: {min(baselines):.1f}-"
              f"{max(baselines):.1f} MiB")
    print(f"(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
