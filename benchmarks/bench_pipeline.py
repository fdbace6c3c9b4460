#!/usr/bin/env python3
"""Throughput and memory of ``dumpkit normalize`` (the luigi batch), and what limits it.

    .venv/bin/python benchmarks/bench_pipeline.py [--small N] [--quick] [--skip-large] [--profile]
        [--only 6 --rounds 2 --out-root /dev/shm/x --baseline ../main/.venv/bin/python]

Sections (each prints a table; the machine has 2 cores):

1. luigi's scheduler alone: N no-op tasks, local scheduler, 1 and 2 workers. This is what a
   task per dump would cost before any dump is read, and why documents are made by chunks.
2. N small minidumps (built by ``tests/builders/minidump.py``, all different): one task per
   dump (``--chunk-size 1``) against automatic chunks, 1 and 2 workers.
3. The mixed corpus (``DUMPKIT_CORPUS`` or ../shared/corpus), 1 and 2 workers.
4. 20 large sparse kernel dumps (4 GiB each, a few MB really on disk), when the kernel-dump
   builder is present: sha256 over the whole file (deduplication) against reading only the
   pages needed.
5. ``--profile``: cProfile of one in-process run over the small dumps, time split into
   discovery, reading (readers), normalizing, validating, writing, report, and luigi.
6. Scaling with cores, in one run: ``--workers 1`` against ``--workers 2`` (alternated,
   ``--rounds`` times each, best kept, and the ratio of each round) on ``--scaling-small``
   generated small minidumps and on the mixed corpus (every corpus file, ``--copies`` times,
   each copy made distinct by a trailer); docs/s, the 2-to-1 ratio, CPU seconds of all
   processes, the mean cost of one document, discovery and report seconds. ``--baseline
   PYTHON`` runs the same cases with another checkout's interpreter (before/after), in the
   same rounds. Also printed: what creating one file costs in the output folder's file system
   (a busy ext4 can make it milliseconds, then the disk, not the cores, limits the batch:
   ``--out-root`` on a tmpfs takes it out of the measure). A first, untimed run of each tree
   fills the byte-code cache (``--no-bytecode``: every process compiles dumpkit's sources, as
   where ``PYTHONDONTWRITEBYTECODE`` is set) and the page cache.
   Before each round, the *ceiling*: what two processes running the same pure-Python loop
   get done against one alone, at that moment (2.0 on two free cores; less when the host
   or other jobs take the second core: no batch scales past it).

Each run is a fresh ``dumpkit normalize`` subprocess into an empty folder; "peak RSS" is the
largest resident set of any process of the run (``wait4``), "docs/s" counts documents made.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

_NOOP = r"""
import logging, os, sys, time
import luigi
luigi.configuration.get_config().set("core", "no_configure_logging", "true")
logging.disable(logging.CRITICAL)
class Noop(luigi.Task):
    out = luigi.Parameter()
    i = luigi.IntParameter()
    def output(self):
        return luigi.LocalTarget(os.path.join(self.out, f"{self.i}"))
    def run(self):
        with self.output().open("w") as fh:
            fh.write("x")
class All(luigi.WrapperTask):
    out = luigi.Parameter()
    n = luigi.IntParameter()
    def requires(self):
        return [Noop(out=self.out, i=i) for i in range(self.n)]
n, workers, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
t = time.perf_counter()
r = luigi.build([All(out=out, n=n)], local_scheduler=True, workers=workers, detailed_summary=True)
print(time.perf_counter() - t, r.status.name)
"""


def _run(cmd: list[str]) -> tuple[float, int, str]:
    """(seconds, exit status, stdout). The command runs from a folder holding no checkout:
    ``python -m dumpkit`` puts the current directory first on ``sys.path``, so from a
    checkout every interpreter (``--baseline`` too) would run that checkout's code."""
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=_NEUTRAL, env=_ENV)
    seconds = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        print(f"   ! {' '.join(cmd[-8:])} exited {proc.returncode}: {proc.stderr.strip()[-400:]}")
    return seconds, proc.returncode, proc.stdout


#: where the benchmarked commands run from (paths given to them are absolute)
_NEUTRAL = tempfile.mkdtemp(prefix="bench-pipeline-cwd-")
#: their environment: byte code cached (``--no-bytecode``: not), see :func:`_bytecode`
_ENV = dict(os.environ)


def _bytecode(on: bool) -> None:
    """Byte code cached as an installed dumpkit has it, in a temporary ``PYTHONPYCACHEPREFIX``
    (the trees stay clean; the helpers' shells here set ``PYTHONDONTWRITEBYTECODE=1``, which
    makes every process compile dumpkit's sources: the fork server of a pool, or the one
    process of a single worker, ~0.2 s each); off: every process compiles them."""
    if on:
        _ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        _ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="bench-pipeline-pycache-")
    else:
        _ENV["PYTHONDONTWRITEBYTECODE"] = "1"
        _ENV.pop("PYTHONPYCACHEPREFIX", None)


def _normalize(inputs: list[Path], out: Path, workers: int, chunk: int = 0, extra: list[str] | None = None,
               ) -> tuple[float, int, int, dict]:
    seconds, status, peak, _, report = _normalize_cpu(inputs, out, workers, chunk, extra)
    return seconds, status, peak, report


def _normalize_cpu(inputs: list[Path], out: Path, workers: int, chunk: int = 0,
                   extra: list[str] | None = None, python: str = sys.executable,
                   ) -> tuple[float, int, int, float, dict]:
    """(seconds, exit status, peak RSS MiB, CPU seconds of every process of the run, report)."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = [python, "-m", "dumpkit", "normalize", *(str(p.resolve()) for p in inputs),
           "--out", str(out.resolve()), "--workers", str(workers), "--chunk-size", str(chunk), "-q",
           *(extra or [])]
    # RUSAGE_CHILDREN is cumulative over a process's life: measure each run from a fresh shim
    shim = [sys.executable, "-c",
            "import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
            "u = resource.getrusage(resource.RUSAGE_CHILDREN); "
            "print(u.ru_maxrss, u.ru_utime + u.ru_stime); sys.exit(r.returncode)", *cmd]
    seconds, status, stdout = _run(shim)
    last = stdout.strip().splitlines()[-1].split() if stdout.strip() else ["0", "0"]
    report = json.loads((out / "report.json").read_text()) if (out / "report.json").exists() else {}
    return seconds, status, int(last[0]) // 1024, float(last[1]), report


def section_scheduler(sizes: list[int]) -> None:
    print("\n1. luigi scheduler alone (no-op tasks, local scheduler)")
    print(f"   {'tasks':>6} {'workers':>7} {'seconds':>8} {'ms/task':>8}")
    for n in sizes:
        for workers in (1, 2):
            with tempfile.TemporaryDirectory() as tmp:
                res = subprocess.run([sys.executable, "-c", _NOOP, str(n), str(workers), tmp],
                                     capture_output=True, text=True)
                seconds = float(res.stdout.split()[0])
            print(f"   {n:>6} {workers:>7} {seconds:>8.2f} {1000 * seconds / n:>8.2f}")


def _row(label: str, seconds: float, peak: int, report: dict) -> None:
    t = report.get("totals", {})
    made = report.get("timings", {}).get("documents_made", 0)
    rate = made / seconds if seconds else 0.0
    print(f"   {label:<34} {seconds:>7.2f} s {rate:>8.1f} docs/s  peak RSS {peak:>4} MiB  "
          f"({t.get('dumps', 0)} dumps, {t.get('errors', 0)} errors, {t.get('duplicates', 0)} dups)")


def section_small(work: Path, n: int, quick: bool) -> Path:
    from tests.pipeline_samples import write_minidumps

    folder = work / "small"
    if not folder.is_dir() or len(list(folder.iterdir())) != n:
        shutil.rmtree(folder, ignore_errors=True)
        t = time.perf_counter()
        write_minidumps(folder, n)
        print(f"\n   (built {n} minidumps in {time.perf_counter() - t:.1f} s, "
              f"{sum(p.stat().st_size for p in folder.iterdir()) / 1e6:.1f} MB)")
    print(f"\n2. {n} small minidumps")
    cases = [(1, 0), (2, 0)] if quick else [(1, 1), (2, 1), (1, 0), (2, 0), (1, 20), (2, 20)]
    for workers, chunk in cases:
        seconds, _, peak, report = _normalize([folder], work / "out-small", workers, chunk)
        size = "1 task per dump" if chunk == 1 else f"chunks of {_chunk(work)}" + ("" if chunk else " (auto)")
        label = f"{workers} worker{'s' if workers > 1 else ''}, {size}"
        _row(label, seconds, peak, report)
    return folder


def _chunk(work: Path) -> int:
    for manifest in (work / "out-small" / "work" / "batches").glob("*/manifest/manifest.json"):
        return int(json.loads(manifest.read_text())["chunk_size"])
    return 0


def section_corpus(work: Path) -> None:
    from tests.conftest import corpus_root

    root = corpus_root()
    print("\n3. mixed corpus")
    if root is None:
        print("   skipped: no corpus (set DUMPKIT_CORPUS)")
        return
    for workers in (1, 2):
        seconds, _, peak, report = _normalize([root], work / "out-corpus", workers)
        _row(f"{workers} worker{'s' if workers > 1 else ''}, directory", seconds, peak, report)
        slow = report.get("timings", {}).get("slowest", [])[:3]
    for s in slow:
        print(f"      slowest: {s['path']} {s['seconds']:.3f} s")


def section_large(work: Path, count: int = 20) -> None:
    print(f"\n4. {count} large sparse kernel dumps")
    try:
        from tests.builders.kernel_dump import write_complete
        from tests.builders.kernel_image import KernelImage
    except ImportError as exc:
        print(f"   skipped: kernel-dump builder not available ({exc})")
        return
    folder = work / "large"
    if not folder.is_dir() or len(list(folder.iterdir())) != count:
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        for i in range(count):  # 4 GiB of "physical memory" each, a few hundred real pages
            img = KernelImage(arch="amd64", runs=[(1, 0x9E), (0x100, 0x100000 - 0x100 + i)])
            img.build_kernel()
            write_complete(folder / f"MEMORY-{i:02d}.DMP", img)
    logical = sum(p.stat().st_size for p in folder.iterdir())
    on_disk = sum(p.stat().st_blocks * 512 for p in folder.iterdir())
    print(f"   {logical / 2**30:.0f} GiB logical, {on_disk / 2**20:.1f} MiB on disk")
    for workers in (1, 2):
        seconds, _, peak, report = _normalize([folder], work / "out-large", workers)
        _row(f"{workers} worker{'s' if workers > 1 else ''}", seconds, peak, report)
        t = report.get("timings", {})
        print(f"      discovery (sha256 of every byte) {t.get('discovery_s', 0):.1f} s, "
              f"documents {t.get('normalize_s', 0):.2f} s")


def section_profile(folder: Path, work: Path) -> None:
    from dumpkit.pipeline.cli import build_parser

    print("\n5. profile: `dumpkit normalize` in-process (1 worker, automatic chunks) over the small dumps")
    out = work / "out-profile"
    shutil.rmtree(out, ignore_errors=True)
    args = build_parser().parse_args(["normalize", str(folder), "--out", str(out), "-q"])
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    args.func(args)
    profiler.disable()
    total = time.perf_counter() - started
    stats = pstats.Stats(profiler, stream=io.StringIO())
    cum: dict[tuple[str, str], float] = {}
    for (filename, _, name), (_, _, _, ct, _) in stats.stats.items():  # type: ignore[attr-defined]
        key = (os.path.basename(filename), name)
        cum[key] = max(ct, cum.get(key, 0.0))

    def c(file: str, name: str) -> float:
        return cum.get((file, name), 0.0)

    discovery, items, publish = c("discover.py", "discover"), c("items.py", "process_item"), \
        c("publish.py", "publish")
    warm, fingerprint = c("warm.py", "warm_up"), c("identity.py", "inputs_fingerprint")
    read, normalize, validate = c("__init__.py", "open"), c("normalize.py", "normalize"), \
        c("validate.py", "validate")
    document, write = c("normalize.py", "document_for"), c("atomic.py", "write_atomic")
    rows = [("input fingerprint (stat walk)", fingerprint),
            ("discovery (walk, sniff, sha256)", discovery),
            ("warm-up before fork (first documents)", warm),
            ("reading (dumpkit.open: the readers)", read),
            ("normalizing (model -> document)", normalize),
            ("validating (schema)", validate),
            ("rest of document_for", document - read - normalize - validate),
            ("writing documents (atomic rename)", write),
            ("rest per item (reuse check, encode)", items - document - write),
            ("report (ndjson, json, html)", publish),
            ("luigi and the rest", total - fingerprint - discovery - warm - items - publish)]
    for label, seconds in rows:
        print(f"   {label:<40} {seconds:>6.2f} s  {100 * seconds / total:>5.1f} %")
    print(f"   {'total':<40} {total:>6.2f} s")
    text = io.StringIO()
    pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(10)
    print("   top functions by own time:")
    for line in text.getvalue().splitlines():
        if line.strip() and line.lstrip()[0].isdigit():
            print("     " + line.strip()[:150])


def _create_cost(folder: Path, n: int = 500) -> float:
    """Microseconds to create (and write 2 KB to) one new file in ``folder``'s file system."""
    folder.mkdir(parents=True, exist_ok=True)
    probe = Path(tempfile.mkdtemp(dir=folder, prefix="create-probe-"))
    started = time.perf_counter()
    for i in range(n):
        (probe / f"f{i}").write_bytes(b"x" * 2048)
    seconds = time.perf_counter() - started
    shutil.rmtree(probe, ignore_errors=True)
    return 1e6 * seconds / n


def _spin(n: int) -> None:
    x = 0
    for i in range(n):
        x += i * i % 7


def _ceiling(n: int = 3_000_000) -> float:
    """What two processes get done at once, against one alone, right now: the same pure-Python
    loop run once alone, then in two forked processes at once (2.0: two free cores; on a
    shared host the second core may be busy elsewhere, and no batch can scale past this)."""
    started = time.perf_counter()
    _spin(n)
    alone = time.perf_counter() - started
    started = time.perf_counter()
    pids = []
    for _ in range(2):
        pid = os.fork()
        if pid == 0:
            try:
                _spin(n)
            finally:
                os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return 2 * alone / (time.perf_counter() - started)


def _mixed_corpus(work: Path, copies: int) -> Path | None:
    """Every corpus file, ``copies`` times; each copy ends with a trailer of its own, so that
    it is a new content (a new document), read the same way (readers ignore bytes past the
    dump's structures). Compressed files and archives come once (a trailer would break them)."""
    from tests.conftest import corpus_root

    root = corpus_root()
    if root is None:
        return None
    sources = sorted(p for p in root.rglob("*")
                     if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    folder = work / f"mixed-{copies}-copies"
    stamp = folder / ".complete"
    if not stamp.exists():
        shutil.rmtree(folder, ignore_errors=True)
        for c in range(copies):
            for src in sources:
                if c and src.name.lower().endswith((".gz", ".bz2", ".xz", ".zst", ".zip", ".tar", ".tgz")):
                    continue
                dest = folder / f"copy{c:02d}" / src.relative_to(root)
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.write_bytes(src.read_bytes() + f"\0dumpkit-bench-copy-{c:04d}\0".encode())
        stamp.write_text(str(len(sources) * copies))
    return folder


def section_scaling(work: Path, out_root: Path, n_small: int, copies: int, rounds: int,
                    baseline: str | None, mixed_too: bool = True) -> None:
    from tests.pipeline_samples import write_minidumps

    print(f"\n6. scaling: --workers 1 against --workers 2, same run, best of {rounds} "
          f"(alternated); outputs under {out_root}")
    print(f"   creating one file in {out_root}: {_create_cost(out_root):,.0f} us "
          f"(in {work}: {_create_cost(work):,.0f} us)")
    small = work / f"small-{n_small}"
    if not small.is_dir() or len(list(small.iterdir())) != n_small:
        shutil.rmtree(small, ignore_errors=True)
        write_minidumps(small, n_small)
    sets = [(f"{n_small} small minidumps", small)]
    mixed = _mixed_corpus(work, copies) if mixed_too else None
    if not mixed_too:
        pass
    elif mixed is None:
        print("   mixed corpus skipped: no corpus (set DUMPKIT_CORPUS)")
    else:
        sets.append((f"mixed corpus x{copies}", mixed))
    pythons = [("this tree", sys.executable)] + ([("baseline", baseline)] if baseline else [])
    for label, folder in sets:
        print(f"\n   {label} ({sum(1 for p in folder.rglob('*') if p.is_file() and p.name != '.complete'):,}"
              " files)")
        print(f"   {'':<10} {'workers':>7} {'seconds':>8} {'docs/s':>8} {'CPU s':>7} {'ms/doc':>7} "
              f"{'discovery':>9} {'report':>7} {'peak RSS':>9}   all runs (s)")
        ceilings: list[float] = []
        # rounds outermost, and within a round every tree with 1 then 2 workers: the load of a
        # shared host changes by the minute, so each tree sees the same moments
        runs: dict[str, dict[int, list[tuple[float, float, int, dict]]]] = {
            name: {1: [], 2: []} for name, _ in pythons}
        for _, python in pythons:  # untimed: fills the byte-code cache and the page cache
            _normalize_cpu([folder], out_root / "out-scaling", 2, python=python)
        for _ in range(rounds):
            ceilings.append(_ceiling())
            for name, python in pythons:
                for workers in (1, 2):
                    seconds, _, peak, cpu, report = _normalize_cpu(
                        [folder], out_root / "out-scaling", workers, python=python)
                    runs[name][workers].append((seconds, cpu, peak, report))
        for name, _ in pythons:
            best = {w: min(r, key=lambda x: x[0]) for w, r in runs[name].items()}
            for workers in (1, 2):
                seconds, cpu, peak, report = best[workers]
                t = report.get("timings", {})
                made = t.get("documents_made", 0)
                per_doc = 1000 * t.get("normalize_s", 0.0) / made if made else 0.0
                every = " ".join(f"{r[0]:.2f}" for r in runs[name][workers])
                print(f"   {name:<10} {workers:>7} {seconds:>8.2f} {made / seconds:>8.1f} {cpu:>7.2f} "
                      f"{per_doc:>7.3f} {t.get('discovery_s', 0):>9.2f} {t.get('report_s', 0):>7.2f} "
                      f"{peak:>5} MiB   {every}")
            per_round = sorted(a[0] / b[0] for a, b in zip(runs[name][1], runs[name][2], strict=True))
            print(f"   {name:<10} ratio 2 workers / 1 worker: {best[1][0] / best[2][0]:.2f}x (best of each); "
                  f"per round {' '.join(f'{x:.2f}' for x in per_round)}, "
                  f"median {per_round[len(per_round) // 2]:.2f}x")
        print(f"   ceiling (2 processes at once against 1, pure Python, before each round): "
              f"{' '.join(f'{c:.2f}' for c in ceilings)}")
    shutil.rmtree(out_root / "out-scaling", ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=2000, help="number of small minidumps (default 2000)")
    parser.add_argument("--quick", action="store_true", help="fewer cases")
    parser.add_argument("--skip-large", action="store_true")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--only", default="1,2,3,4,5,6", help="sections to run, e.g. 2,3 (default: all)")
    parser.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "dumpkit-bench-pipeline")
    parser.add_argument("--scaling-small", type=int, default=4000, help="small minidumps for section 6")
    parser.add_argument("--copies", type=int, default=8, help="copies of the corpus for section 6")
    parser.add_argument("--skip-mixed", action="store_true", help="section 6: the small minidumps only")
    parser.add_argument("--no-bytecode", action="store_true",
                        help="the benchmarked commands compile every source (no byte-code cache)")
    parser.add_argument("--rounds", type=int, default=2, help="runs of each case in section 6 (best kept)")
    parser.add_argument("--out-root", type=Path, default=None,
                        help="where section 6 writes its outputs (default: the work folder)")
    parser.add_argument("--baseline", default=None,
                        help="python of another checkout (../main/.venv/bin/python): section 6 runs it too")
    args = parser.parse_args()
    _bytecode(not args.no_bytecode)
    only = {int(x) for x in args.only.split(",") if x.strip()}
    args.work.mkdir(parents=True, exist_ok=True)
    load = os.getloadavg()
    print(f"dumpkit normalize benchmark: {os.cpu_count()} cores, load average {load[0]:.1f} "
          f"(other jobs share this machine), work folder {args.work}, byte-code cache "
          f"{'off' if args.no_bytecode else 'on'}")
    if 1 in only:
        section_scheduler([500, 1000, 2000] if args.quick else [250, 500, 1000, 2000, 4000])
    folder = args.work / "small"
    if 2 in only or 5 in only:
        folder = section_small(args.work, args.small, args.quick or 2 not in only)
    if 3 in only:
        section_corpus(args.work)
    if 4 in only and not args.skip_large:
        section_large(args.work)
    if 5 in only and args.profile:
        section_profile(folder, args.work)
    if 6 in only:
        section_scaling(args.work, args.out_root or args.work, args.scaling_small, args.copies, args.rounds,
                        args.baseline, mixed_too=not args.skip_mixed)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
