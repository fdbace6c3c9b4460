#!/usr/bin/env python3
"""Benchmark: stack walking in dumpkit vs rust-minidump's ``minidump-stackwalk --json``.

    .venv/bin/python benchmarks/bench_unwind.py [--rounds N] [--corpus DIR] [--stackwalk PATH]

Files: every corpus minidump (``mdmp/``, ``mdmp_from_yaml/``) that minidump-stackwalk 0.25
reads (installed by ``make oracles``). Same run, same files:

* dumpkit: ``dumpkit.pipeline.document.normalize.document_for`` (open, walk the crashing thread, normalize,
  validate) plus :func:`dumpkit.pipeline.document.signature.stack_signature`, all files in one process, the
  way a batch runs; mean per dump over ``--rounds`` warm rounds (imports excluded; the
  cold first round and siggen's import time are printed separately). The walk alone
  (``dumpkit.unwind.unwind_dump`` after ``dumpkit.open``) is timed too.
* rust-minidump: ``minidump-stackwalk --json FILE`` in one process per file (how a user
  batches it), wall time including its start-up, mean per dump over the rounds.

Prints milliseconds per dump, the ratio (rust / dumpkit; > 1 means dumpkit is faster) and
the crashing-thread frame agreement (see tests/unwind_oracles.py for how frames compare).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _files(corpus: Path) -> list[Path]:
    return sorted(p for pattern in ("mdmp/*", "mdmp_from_yaml/*.dmp") for p in corpus.glob(pattern)
                  if p.is_file())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--corpus", type=Path,
                        default=Path(os.environ.get("DUMPKIT_CORPUS", REPO.parent / "shared" / "corpus")))
    parser.add_argument("--stackwalk", type=Path,
                        default=REPO / "tests" / ".cache" / "bin" / "minidump-stackwalk")
    args = parser.parse_args()
    if not args.stackwalk.exists():
        print(f"{args.stackwalk} missing: run `make oracles`", file=sys.stderr)
        return 2
    files, rust_docs = [], {}
    for path in _files(args.corpus):
        proc = subprocess.run([str(args.stackwalk), "--json", str(path)], capture_output=True, check=False)
        if proc.returncode == 0:
            files.append(path)
            rust_docs[path] = json.loads(proc.stdout)
    if not files:
        print("no corpus minidump readable by minidump-stackwalk", file=sys.stderr)
        return 2

    # rust-minidump: one process per file
    rust_total = 0.0
    for _ in range(args.rounds):
        start = time.perf_counter()
        for path in files:
            subprocess.run([str(args.stackwalk), "--json", str(path)], capture_output=True, check=False)
        rust_total += time.perf_counter() - start
    rust_ms = 1000 * rust_total / (args.rounds * len(files))

    # dumpkit: one process, all files
    start = time.perf_counter()
    import dumpkit
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.unwind import unwind_dump
    imports_ms = 1000 * (time.perf_counter() - start)
    start = time.perf_counter()
    import siggen.generator  # noqa: F401  (what stack_signature imports on first use)
    siggen_ms = 1000 * (time.perf_counter() - start)
    from dumpkit.pipeline.document.signature import stack_signature

    def one_round() -> tuple[float, float, float]:
        doc_s = walk_s = sig_s = 0.0
        for path in files:
            t0 = time.perf_counter()
            document_for(str(path))
            t1 = time.perf_counter()
            try:
                dump = dumpkit.open(path)
            except dumpkit.DumpkitError:
                continue
            with dump:
                t2 = time.perf_counter()
                unwind_dump(dump)
                t3 = time.perf_counter()
                stack_signature(dump)
                t4 = time.perf_counter()
            doc_s, walk_s, sig_s = doc_s + (t1 - t0), walk_s + (t3 - t2), sig_s + (t4 - t3)
        return doc_s, walk_s, sig_s

    cold = one_round()
    totals = [0.0, 0.0, 0.0]
    for _ in range(args.rounds):
        for i, value in enumerate(one_round()):
            totals[i] += value
    n = args.rounds * len(files)
    doc_ms, walk_ms, sig_ms = (1000 * t / n for t in totals)
    ours_ms = doc_ms + sig_ms

    from tests.unwind_oracles import Agreement, compare_frames

    total = Agreement()
    for path in files:
        crashing = rust_docs[path].get("crashing_thread")
        if not crashing:
            continue
        try:
            dump = dumpkit.open(path)
        except dumpkit.DumpkitError:
            continue
        with dump:
            unwind_dump(dump)
            if dump.crashing_thread is not None:
                total.add(compare_frames(dump, dump.crashing_thread.frames, crashing["frames"]))

    print(f"files: {len(files)} corpus minidumps readable by minidump-stackwalk; rounds: {args.rounds}")
    print(f"imports: dumpkit+normalize {imports_ms:.0f} ms, siggen {siggen_ms:.0f} ms (first signature only)")
    print(f"cold first round: {1000 * sum(cold) / len(files):.2f} ms/dump")
    print(f"dumpkit document_for (open+walk+normalize+validate): {doc_ms:.2f} ms/dump; "
          f"walk alone {walk_ms:.3f} ms/dump; signature {sig_ms:.3f} ms/dump")
    print(f"rust-minidump minidump-stackwalk --json (process per file): {rust_ms:.2f} ms/dump")
    print(f"ratio rust / dumpkit (document + signature): {rust_ms / ours_ms:.2f}x")
    print(f"agreement: context/cfi/frame-pointer frames {total.trusted_same}/{total.trusted}; "
          f"scanned-and-after {total.guessed_same}/{total.guessed} "
          f"({100 * total.guessed_same / max(1, total.guessed):.0f}%), "
          f"{total.rust_false_positive} rust scan hits without a call instruction before them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
