"""Benchmark: ``dumpkit shrink`` cost must follow the OUTPUT size, not the input size.

    .venv/bin/python benchmarks/bench_shrink.py [--size-mib 2048] [--workdir DIR] [--core2md PATH]

Makes (once; kept in ``--workdir``, default /tmp/dumpkit-bench-shrink, and reused):

* ``small.core``: tests/fixtures/crasher.c (4 threads) dead of SIGSEGV at once, saved by gdb's
  gcore (tens of MiB);
* ``big.core``: the same program after it touched ``--size-mib`` MiB of heap (default 2 GiB),
  saved by gcore, plus copies of its /proc files (what Breakpad's core2md wants);
* ``big.full.dmp``: a full-memory minidump (Memory64List) of everything ``big.core`` captured,
  written by dumpkit's writer in full-memory mode (no real multi-GiB full-memory minidump is
  at hand).

Then runs each job in a fresh subprocess and reports wall time and peak RSS (the child's
``ru_maxrss`` from ``os.wait4``):

* ``dumpkit shrink`` of small.core, big.core and big.full.dmp (default budget 1 MiB), and of
  big.core with ``--verify`` (re-reads OUT and normalizes IN and OUT);
* Breakpad's ``core2md big.core procdir out`` when ``--core2md`` names a built binary (the npm
  package ``minidump`` ships Breakpad's source with core2md.cc but no core2md binary).

Aim: under 1 s and 150 MB for each shrink, whatever the input size. Exit status 1 when a
shrink misses the aim, so the script can guard against regressions.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

AIM_SECONDS, AIM_RSS_MB = 1.0, 150.0

#: the project's crasher (4 threads; ``crasher segv MIB`` first touches MIB MiB of heap)
CRASHER = REPO / "tests" / "fixtures" / "crasher.c"
_PROC_FILES = ("auxv", "cmdline", "environ", "maps", "status")


def make_core(work: Path, name: str, mib: int) -> Path:
    """gcore of the program after touching ``mib`` MiB, and its /proc files in ``name``.proc/."""
    core = work / f"{name}.core"
    if core.is_file() and core.stat().st_size >= mib << 20:
        return core
    exe = work / "crasher"
    if not exe.is_file():
        subprocess.run(["gcc", "-g", "-O1", "-pthread", "-o", str(exe), str(CRASHER)], check=True)
    procdir = work / f"{name}.proc"
    procdir.mkdir(exist_ok=True)
    copy = ("python import gdb, shutil; pid = gdb.selected_inferior().pid; "
            f"[shutil.copy(f'/proc/{{pid}}/{{n}}', '{procdir}/' + n) for n in {_PROC_FILES!r}]")
    started = time.perf_counter()
    subprocess.run(["gdb", "-q", "-batch", "-nx", "-ex", "run", "-ex", copy, "-ex", f"gcore {core}",
                    "--args", str(exe), "segv", str(mib)], check=True, capture_output=True, timeout=3600)
    print(f"made {core.name}: {core.stat().st_size / 2**20:.0f} MiB in {time.perf_counter() - started:.1f} s")
    return core


def make_full_mdmp(core: Path) -> Path:
    """Written by a child process: this one must never map the big files (see :func:`measure`)."""
    out = core.with_suffix(".full.dmp")
    if out.is_file() and out.stat().st_size >= core.stat().st_size // 2:
        return out
    code = ("import sys, dumpkit; from dumpkit.converters.shrink import write_full_memory\n"
            "with dumpkit.open(sys.argv[1]) as dump:\n"
            "    r = write_full_memory(dump, sys.argv[2])\n"
            "print(f'{r.size / 2**20:.0f} MiB, {r.memory_ranges} ranges')")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(core), str(out)], check=True, cwd=REPO,
                          capture_output=True, text=True)
    print(f"made {out.name}: {done.stdout.strip()} in {time.perf_counter() - started:.1f} s")
    return out


def measure(cmd: list[str]) -> tuple[float, float, int]:
    """(wall seconds, peak RSS MB, exit status) of ``cmd`` in its own process.

    Linux carries the parent's RSS high-water mark into a child's ``ru_maxrss`` across
    fork/vfork + exec, so this process keeps its own RSS small: big inputs are made and
    mapped only by child processes.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode and proc.stderr is not None:
        sys.stderr.write(proc.stderr.read().decode(errors="replace")[-2000:])
    return wall, usage.ru_maxrss / 1024, proc.returncode  # ru_maxrss is KiB on Linux


def shrink_cmd(src: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "dumpkit", "shrink", str(src), "-o", str(out)]


@dataclass
class Row:
    job: str
    input_bytes: int
    output_bytes: int | None
    seconds: float
    peak_rss_mb: float
    status: int


def run_job(job: str, src: Path, out: Path, cmd: list[str]) -> Row:
    out.unlink(missing_ok=True)  # core2md refuses to overwrite
    wall, rss, status = measure(cmd)
    return Row(job, src.stat().st_size, out.stat().st_size if out.is_file() else None,
               round(wall, 3), round(rss, 1), status)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size-mib", type=int, default=2048, help="heap the big process touches (MiB)")
    parser.add_argument("--workdir", default="/tmp/dumpkit-bench-shrink", help="where the inputs are kept")
    parser.add_argument("--core2md", default=None, help="a built Breakpad core2md to compare with")
    args = parser.parse_args()
    if not (shutil.which("gcc") and shutil.which("gdb")):
        raise SystemExit("gcc and gdb are needed (make deps)")
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    os.chdir(REPO)
    small = make_core(work, "small", 0)
    big = make_core(work, "big", args.size_mib)
    full = make_full_mdmp(big)
    baseline = measure([sys.executable, "-c",
                        "import dumpkit, dumpkit.converters.shrink, dumpkit.pipeline.document.normalize"])
    jobs: list[tuple[str, Path, list[str]]] = [
        ("shrink small core", small, []), ("shrink big core", big, []),
        ("shrink full-memory MDMP", full, []), ("shrink big core --verify", big, ["--verify"])]
    rows = []
    for label, src, extra in jobs:
        out = work / f"{src.name}.small.dmp"
        rows.append(run_job(label, src, out, shrink_cmd(src, out) + extra))
    if args.core2md:
        out = work / "big.core2md.dmp"
        rows.append(run_job("Breakpad core2md big core", big, out,
                            [args.core2md, str(big), str(work / "big.proc"), str(out)]))
    print(f"python + imports alone: {baseline[0]:.3f} s, {baseline[1]:.1f} MB")
    print(f"{'job':28} {'input':>12} {'output':>10} {'seconds':>8} {'peak RSS':>9}")
    for r in rows:
        print(f"{r.job:28} {r.input_bytes / 2**20:10.1f}Mi {(r.output_bytes or 0) / 2**10:8.1f}Ki "
              f"{r.seconds:8.3f} {r.peak_rss_mb:7.1f}MB" + (f"  exit {r.status}" if r.status else ""))
    print(json.dumps({"bench": "shrink", "rows": [asdict(r) for r in rows]}))
    missed = [r.job for r in rows if r.job.startswith("shrink") and
              (r.status or r.seconds > AIM_SECONDS or r.peak_rss_mb > AIM_RSS_MB)]
    if missed:
        print(f"missed the aim (< {AIM_SECONDS} s, < {AIM_RSS_MB} MB): {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
