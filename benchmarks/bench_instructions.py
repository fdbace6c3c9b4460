"""Instructions a minidump document costs, beside the ``minidump`` package's parse: counted, not timed.

    .venv/bin/python benchmarks/bench_instructions.py [--rounds N] [--corpus DIR] [--baseline DIR]

On a shared machine wall and CPU times of the same work vary by tens of percent from run to
run; the number of instructions a process executes does not. This runs, under valgrind's
``cachegrind`` (instruction counting only, no cache simulation, ``PYTHONHASHSEED=0``), a child
that reads every corpus minidump both readers read once (warm-up) and then N more rounds, and
the same child with no extra round; the difference / N is one round's instructions. It does so
for:

* ``dumpkit``: ``normalize.document_for`` of each file (the whole job);
* ``baseline`` (with ``--baseline DIR``, another checkout, e.g. an export of ``main``): the same;
* ``minidump``: the ``minidump`` package's ``MinidumpFile.parse`` of each file.

Prints millions of instructions per round and each row's ratio to ``minidump``. Instructions are
not time: the same count runs slower when it misses the caches more (CPython's dispatch, a
validator in Rust, several C libraries), so the issue's goal is judged on CPU time
(``bench_phases.py``, ``bench_minidump.py``); this shows progress without the host's noise.
Needs valgrind (Debian package ``valgrind``).
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

CHILD = r"""
import glob, logging, os, sys
sys.path.insert(0, sys.argv[1])
logging.disable(logging.CRITICAL)
from minidump.minidumpfile import MinidumpFile
from dumpkit.pipeline.document.normalize import document_for
corpus, rounds, who = sys.argv[2], int(sys.argv[3]), sys.argv[4]
files = sorted(glob.glob(os.path.join(corpus, "mdmp", "*"))
               + glob.glob(os.path.join(corpus, "mdmp_from_yaml", "*.dmp")))
files = [f for f in files if "r2fuzz" not in f]
work = MinidumpFile.parse if who == "minidump" else document_for
both = []
for f in files:  # the files both readers read (the same set as bench_phases.py)
    try:
        MinidumpFile.parse(f)
        if document_for(f)["kind"] == "dump":
            both.append(f)
    except Exception:
        pass
for f in both:
    work(f)
for _ in range(rounds):
    for f in both:
        work(f)
print(len(both))
"""


def instructions(checkout: Path, corpus: str, rounds: int, who: str) -> tuple[int, int]:
    """(instructions executed, files) of one child run under cachegrind."""
    with tempfile.TemporaryDirectory() as tmp:
        script = Path(tmp) / "child.py"
        script.write_text(CHILD)
        env = {**os.environ, "PYTHONHASHSEED": "0"}
        proc = subprocess.run(
            ["valgrind", "--tool=cachegrind", "--cache-sim=no", f"--cachegrind-out-file={tmp}/cg.out",
             sys.executable, str(script), str(checkout), corpus, str(rounds), who],
            capture_output=True, text=True, env=env, cwd=tmp, check=False)
    found = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    if proc.returncode != 0 or found is None:
        raise SystemExit(f"{who}: the child failed under valgrind:\n{proc.stderr[-2000:]}")
    return int(found.group(1).replace(",", "")), int(proc.stdout.split()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--corpus", default=os.environ.get("DUMPKIT_CORPUS")
                    or str(REPO.parent / "shared" / "corpus"))
    ap.add_argument("--baseline", metavar="DIR", help="another checkout, counted the same way")
    args = ap.parse_args()
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind not found (Debian package valgrind)")
    rows = [("dumpkit", REPO, "dumpkit")]
    if args.baseline:
        rows.append(("baseline", Path(args.baseline).resolve(), "dumpkit"))
    rows.append(("minidump", REPO, "minidump"))
    per_round: dict[str, float] = {}
    for label, checkout, who in rows:
        base, files = instructions(checkout, args.corpus, 0, who)
        more, _ = instructions(checkout, args.corpus, args.rounds, who)
        per_round[label] = (more - base) / args.rounds / 1e6
        print(f"{label:10} {per_round[label]:9.1f} M instructions per round of {files} files "
              f"({per_round[label] / files:.2f} M per file)", flush=True)
    for label in per_round:
        if label != "minidump":
            print(f"{label} / minidump: {per_round[label] / per_round['minidump']:.2f}x instructions")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
