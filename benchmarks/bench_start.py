"""Benchmark: one ``dumpkit inspect`` process on one small minidump vs rust-minidump's process.

    .venv/bin/python benchmarks/bench_start.py [--runs N] [--file DUMP] [--baseline DIR]

Runs, interleaved, N times each (wall time of the whole process, start-up included):

* ``dumpkit``: ``python -m dumpkit inspect FILE`` from this checkout (imports, read, unwind,
  signature, validation, printing: everything a user waits for);
* ``baseline`` (with ``--baseline DIR``): the same command from another checkout, e.g. an
  export of ``main`` (``git archive main | tar -x -C DIR``), with this venv;
* ``python``: ``python -c pass`` with this venv, the interpreter's own floor;
* ``deps``: ``python -c "import siggen.generator, jsonschema_rs"``: the third-party modules a
  document needs (Socorro's signature generator, the schema validator) as they load plainly
  (dumpkit keeps siggen's ``glom``, ``importlib.metadata`` and ``importlib.resources`` and
  jsonschema_rs's ``email.utils`` from loading: :mod:`dumpkit.pipeline.probes`);
* ``floor``: those, plus the signature generator built as dumpkit builds it and the compiled
  validator of the dump schema (the model and the schema modules come with them): what any
  document costs before dumpkit reads a byte;
* ``rust``: rust-minidump's ``minidump-stackwalk --json FILE`` (``tools/fetch-stackwalk``).

Prints min / p50 / mean wall milliseconds and min / p50 CPU milliseconds (the process's user +
system time) per command, each Python row's ratio to rust, and the slowest imports of one
``-X importtime`` run of dumpkit (cumulative microseconds).

Python processes run with byte-code caching on, as an installed dumpkit has it: caches go to a
temporary ``PYTHONPYCACHEPREFIX`` (the tree stays clean) and ``PYTHONDONTWRITEBYTECODE`` is
dropped; ``--no-bytecode`` times them compiling every source instead.
"""
from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FILE = "mdmp/breakpad_ascii_read_av.dmp"


def corpus_file(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    root = Path(os.environ.get("DUMPKIT_CORPUS") or REPO.parent / "shared" / "corpus")
    path = root / DEFAULT_FILE
    if not path.is_file():
        raise SystemExit(f"{path} not found: pass --file or set DUMPKIT_CORPUS")
    return path


def stackwalk_binary() -> str | None:
    local = REPO / "tests" / ".cache" / "bin" / "minidump-stackwalk"
    return str(local) if os.access(local, os.X_OK) else shutil.which("minidump-stackwalk")


ENV = dict(os.environ)

#: what any document of this checkout needs before dumpkit's own work: the signature generator
#: built as dumpkit builds it, and the compiled validator of the dump schema
FLOOR = ("from dumpkit.pipeline.document.signature_tool import generator; generator(); "
         "from dumpkit.pipeline.document.validate import fast_check; fast_check('dump', 3)")


def run_ms(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one whole process; CPU is its user + system time (from
    ``wait4``), steadier than wall time when other jobs share the machine."""
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = (time.perf_counter() - t) * 1000
    proc.returncode = os.waitstatus_to_exitcode(status)
    # inspect exits 1 for an unreadable dump (still a whole run); anything else must succeed
    allowed = (0, 1) if cmd[1:3] == ["-m", "dumpkit"] else (0,)
    if proc.returncode not in allowed:
        raise SystemExit(f"{' '.join(cmd)}: exit {proc.returncode}")
    return elapsed, (usage.ru_utime + usage.ru_stime) * 1000


def slowest_imports(cwd: Path, path: Path, top: int) -> list[str]:
    proc = subprocess.run([sys.executable, "-X", "importtime", "-m", "dumpkit", "inspect", str(path)],
                          cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                          check=False)
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit() and not parts[2].startswith("  "):
            rows.append((int(parts[1]), parts[2].strip()))  # top-level imports only
    rows.sort(reverse=True)
    return [f"  {us / 1000:7.1f} ms  {name}" for us, name in rows[:top]]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--file", help=f"the dump (default: $DUMPKIT_CORPUS/{DEFAULT_FILE})")
    ap.add_argument("--baseline", type=Path, help="another checkout to time the same way (e.g. main)")
    ap.add_argument("--no-bytecode", action="store_true", help="compile every source in every process")
    args = ap.parse_args()
    if args.no_bytecode:
        ENV["PYTHONDONTWRITEBYTECODE"] = "1"
        ENV.pop("PYTHONPYCACHEPREFIX", None)
    else:
        ENV.pop("PYTHONDONTWRITEBYTECODE", None)
        ENV["PYTHONPYCACHEPREFIX"] = tempfile.mkdtemp(prefix="dumpkit-bench-pycache-")
    path = corpus_file(args.file)
    py = sys.executable
    commands: dict[str, tuple[list[str], Path]] = {
        "dumpkit": ([py, "-m", "dumpkit", "inspect", str(path)], REPO),
    }
    if args.baseline:
        commands["baseline"] = ([py, "-m", "dumpkit", "inspect", str(path)], args.baseline.resolve())
    commands["python"] = ([py, "-c", "pass"], REPO)
    commands["deps"] = ([py, "-c", "import siggen.generator, jsonschema_rs"], REPO)
    commands["floor"] = ([py, "-c", FLOOR], REPO)
    rust = stackwalk_binary()
    if rust:
        commands["rust"] = ([rust, "--json", str(path)], REPO)
    for cmd, cwd in commands.values():  # warm the page cache and .pyc files
        run_ms(cmd, cwd)
    wall: dict[str, list[float]] = {name: [] for name in commands}
    cpu: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, (cmd, cwd) in commands.items():
            wall_ms, cpu_ms = run_ms(cmd, cwd)
            wall[name].append(wall_ms)
            cpu[name].append(cpu_ms)
    print(f"{path.name} ({path.stat().st_size} bytes), {args.runs} runs each, interleaved; "
          f"ms per process; byte-code cache {'off' if args.no_bytecode else 'on'}")
    print(f"{'command':10s} {'wall min':>9s} {'p50':>8s} {'mean':>8s}  {'CPU min':>8s} {'p50':>8s}")
    med = statistics.median
    for name in commands:
        w, c = wall[name], cpu[name]
        mean = statistics.fmean(w)
        print(f"{name:10s} {min(w):9.1f} {med(w):8.1f} {mean:8.1f}  {min(c):8.1f} {med(c):8.1f}")

    def ratios(a: str, b: str) -> str:
        return (f"wall p50 {med(wall[a]) / med(wall[b]):.2f}x, min {min(wall[a]) / min(wall[b]):.2f}x; "
                f"CPU p50 {med(cpu[a]) / med(cpu[b]):.2f}x, min {min(cpu[a]) / min(cpu[b]):.2f}x")

    for name in ("dumpkit", "baseline", "floor", "deps", "python"):
        if "rust" in wall and name in wall:
            print(f"{name} / rust: {ratios(name, 'rust')}" + (" (goal: <= 20x)" if name == "dumpkit" else ""))
    if "baseline" in wall:
        print(f"dumpkit / baseline: {ratios('dumpkit', 'baseline')}")
    print("slowest top-level imports of one `dumpkit inspect` (cumulative):")
    print("\n".join(slowest_imports(REPO, path, 12)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
