"""Benchmark: what symbols cost a batch when the symbol cache is warm (issue 12: <= 1.3x).

    .venv/bin/python benchmarks/bench_symbolicated_batch.py [--cores 12] [--rounds 3] [--workdir DIR]

Makes (once; kept in ``--workdir``, default /tmp/dumpkit-bench-symbols) a stripped build of
``tests/fixtures/crasher.c`` (``-g -O2``, its debug file split off with objcopy), gdb cores of
it dying in its three ways with different heap sizes (all different bytes), a build-id symbol
dir with the debug file, and an HTTP symbol server (stdlib, in this process) serving the same
file by build-id in debuginfod's layout. Then, in fresh output folders, the same batch:

* ``plain``: no symbol sources;
* ``dir``: ``--symbols DIR`` (a local build-id dir: the files read where they lie);
* ``debuginfod``: ``--debuginfod URL`` with a warm cache (a first run filled it; the timed
  runs find every file in the cache, no request is made).

It prints the batch's own per-document time (``report.json`` timings: ``normalize_s`` /
``documents_made``) and the wall time of the whole command, with the ratio to ``plain``.
"""
from __future__ import annotations

import argparse
import http.server
import json
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.elf_fixtures import CRASHER_SOURCE, HOW, make_core  # noqa: E402
from tests.symbol_servers import elf_build_id  # noqa: E402


def prepare(work: Path, n_cores: int) -> tuple[Path, Path, Path, str]:
    """(cores folder, symbol dir, debuginfod-layout folder, build-id)."""
    exe, cores, syms, served = work / "crasher", work / "cores", work / "syms", work / "served"
    if not exe.exists():
        subprocess.run(["gcc", "-g", "-O2", "-pthread", str(CRASHER_SOURCE), "-o", str(exe)], check=True)
        subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(work / "crasher.debug")], check=True)
        subprocess.run(["objcopy", "--strip-all", str(exe)], check=True)
    build_id = elf_build_id(exe)
    cores.mkdir(exist_ok=True)
    ways = list(HOW)
    for i in range(n_cores):
        core = cores / f"crasher.{i}.core"
        if not core.exists():
            make_core(exe, core, ways[i % len(ways)], str(i // len(ways)))
    target = syms / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "crasher.debug", target)
    served_file = served / "buildid" / build_id / "debuginfo"
    if not served_file.exists():
        served_file.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(work / "crasher.debug", served_file)
    return cores, syms, served, build_id


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


def serve(root: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    handler = lambda *a, **k: _Quiet(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def run(cores: Path, out: Path, *args: str) -> tuple[float, float, int]:
    """(wall s, normalize s per document made, documents made)."""
    shutil.rmtree(out, ignore_errors=True)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dumpkit", "normalize", str(cores), "--out", str(out), "-q",
                           *args], cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"normalize failed ({done.returncode}): {done.stderr[-2000:]}")
    timings = json.loads((out / "report.json").read_text())["timings"]
    made = timings["documents_made"]
    return wall, timings["normalize_s"] / max(made, 1), made


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cores", type=int, default=12)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/dumpkit-bench-symbols"))
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    cores, syms, served, _ = prepare(args.workdir, args.cores)
    server, url = serve(served)
    scratch = Path(tempfile.mkdtemp(prefix="bench-symbols-"))
    cache = scratch / "cache"
    try:
        cases = {"plain": ["--symbol-cache", str(cache)],
                 "dir": ["--symbols", str(syms), "--symbol-cache", str(cache)],
                 "debuginfod": ["--debuginfod", url, "--symbol-cache", str(cache)]}
        run(cores, scratch / "warm", *cases["debuginfod"])  # fills the cache
        best: dict[str, tuple[float, float, int]] = {}
        for _ in range(args.rounds):
            for name, extra in cases.items():
                result = run(cores, scratch / name, *extra)
                if name not in best or result[1] < best[name][1]:
                    best[name] = result
        base_wall, base_doc, _ = best["plain"]
        print(f"{args.cores} stripped crasher cores, best of {args.rounds} rounds, warm symbol cache")
        print(f"{'case':<12}{'ms/doc':>10}{'x plain':>9}{'wall s':>9}{'x plain':>9}{'made':>6}")
        for name, (wall, per_doc, made) in best.items():
            print(f"{name:<12}{per_doc * 1000:>10.2f}{per_doc / base_doc:>9.2f}{wall:>9.2f}"
                  f"{wall / base_wall:>9.2f}{made:>6}")
    finally:
        server.shutdown()
        shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
