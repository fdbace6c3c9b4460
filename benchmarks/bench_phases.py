"""Where a minidump document's time goes, phase by phase, beside the ``minidump`` package.

    .venv/bin/python benchmarks/bench_phases.py [--rounds N] [--corpus DIR]

Every corpus minidump both dumpkit and the ``minidump`` package read (``mdmp/*``,
``mdmp_from_yaml/*.dmp``; the ``r2fuzz`` files are left out: the package loops over their
claimed directories), in one warm process; per file the CPU time (``time.process_time``) of each
phase, the minimum of N rounds (default 5):

* ``open``: ``dumpkit.open`` and the facts a document uses (threads, registers, modules, crash);
* ``unwind``: walking the crashing thread (``unwind_dump``);
* ``signature``: ``stack_signature`` alone;
* ``normalize``: the document's dict (it computes the signature again: included);
* ``validate``: the compiled schema check;
* ``document``: ``document_for``, the whole job (what a batch pays per file);
* ``minidump``: the ``minidump`` package's ``MinidumpFile.parse`` of the same file.

Prints mean / p50 / p99 / max / total (ms) per phase and document / minidump at mean and p50.
To compare a checkout (e.g. an export of main), run this script from inside it with this venv.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(os.getcwd())
sys.path.insert(0, str(REPO))  # the checkout this is run from, first


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--corpus", default=os.environ.get("DUMPKIT_CORPUS")
                    or str(REPO.parent / "shared" / "corpus"))
    args = ap.parse_args()
    logging.disable(logging.CRITICAL)
    from minidump.minidumpfile import MinidumpFile

    import dumpkit
    from dumpkit.pipeline.document import normalize
    from dumpkit.pipeline.document.signature import stack_signature
    from dumpkit.pipeline.document.validate import validate
    from dumpkit.unwind import unwind_dump

    root = Path(args.corpus)
    files = [p for p in sorted([*root.glob("mdmp/*"), *root.glob("mdmp_from_yaml/*.dmp")])
             if "r2fuzz" not in p.name]
    if not files:
        raise SystemExit(f"no corpus minidumps under {root}: pass --corpus or set DUMPKIT_CORPUS")
    clock = time.process_time
    phases = ("open", "unwind", "signature", "normalize", "validate", "document", "minidump")
    per_file: dict[str, list[float]] = {name: [] for name in phases}
    for path in files:
        name = str(path)
        try:
            normalize.document_for(name)
            with dumpkit.open(name) as dump:
                normalize.normalize(dump)
            MinidumpFile.parse(name)
        except Exception:  # a file either reader refuses is left out
            continue
        best = dict.fromkeys(phases, float("inf"))
        for _ in range(args.rounds):
            t0 = clock()
            with dumpkit.open(name) as dump:
                for thread in dump.threads:
                    _ = thread.registers
                _ = (dump.modules, dump.crash, dump.system)
                t1 = clock()
                unwind_dump(dump)
                t2 = clock()
                stack_signature(dump)
                t3 = clock()
                doc = normalize.normalize(dump)
                t4 = clock()
            validate(doc)
            t5 = clock()
            normalize.document_for(name)
            t6 = clock()
            MinidumpFile.parse(name)
            t7 = clock()
            for phase, spent in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, t5 - t4, t6 - t5, t7 - t6),
                                    strict=True):
                best[phase] = min(best[phase], spent)
        for phase in phases:
            per_file[phase].append(best[phase] * 1000)
    count = len(per_file["document"])
    print(f"{REPO}: {count} minidumps, CPU ms per file (min of {args.rounds} rounds)")
    print(f"{'phase':10} {'mean':>7} {'p50':>7} {'p99':>7} {'max':>7} {'total':>8}")
    for phase, values in per_file.items():
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
        print(f"{phase:10} {statistics.mean(values):7.3f} {statistics.median(values):7.3f} {p99:7.3f} "
              f"{max(values):7.3f} {sum(values):8.1f}")
    ours, theirs = per_file["document"], per_file["minidump"]
    print(f"document / minidump: mean {sum(ours) / sum(theirs):.2f}x, "
          f"p50 {statistics.median(ours) / statistics.median(theirs):.2f}x (issue-13 goal: <= 1.0x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
