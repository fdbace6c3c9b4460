#!/usr/bin/env python3
"""Build a small mixed crash archive and run ``dumpkit normalize`` on it (``make demo``).

    tools/make-demo.py OUTDIR [--fresh] [--workers N]

OUTDIR/archive/  the sample archive: minidumps (plain, gz, in a zip, in a tar.xz, one
                 duplicate), a truncated minidump, a README-like text file, a Linux core of a
                 small C program that died of SIGSEGV (gcc + gdb; skipped with a note when
                 missing), Windows kernel dumps (when the kernel-dump builder is present)
OUTDIR/result/   what ``dumpkit normalize --shrink`` wrote: report.html, report.json,
                 dumps.ndjson, docs/, errors/, minidumps/

The archive is kept between runs (a rerun resumes and finds nothing new to do); --fresh
builds it again. Exit status 0 when the batch completed (its status 1, "some files
unreadable", is expected: the archive holds a truncated dump and a text file on purpose),
otherwise that of ``dumpkit normalize``.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--fresh", action="store_true", help="rebuild the sample archive")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    archive, result = args.outdir / "archive", args.outdir / "result"
    if args.fresh:
        shutil.rmtree(args.outdir, ignore_errors=True)
    if not archive.is_dir():
        from tests.pipeline_samples import build_demo_tree

        tmp = args.outdir / "archive.partial"
        shutil.rmtree(tmp, ignore_errors=True)
        notes = build_demo_tree(tmp)
        tmp.rename(archive)
        for note in notes:
            print(f"make-demo: note: {note}")
        print(f"make-demo: sample archive in {archive}")
    else:
        print(f"make-demo: reusing the sample archive in {archive} (--fresh to rebuild it)")
    cmd = [sys.executable, "-m", "dumpkit", "normalize", str(archive), "--out", str(result),
           "--workers", str(args.workers), "--shrink"]
    print("make-demo: $ " + " ".join(["dumpkit", *cmd[3:]]), flush=True)
    status = subprocess.run(cmd, cwd=REPO).returncode
    if status in (0, 1):
        print()
        print(f"  open in a browser:  {result / 'report.html'}")
        print(f"  report as data:     {result / 'report.json'}")
        print(f"  every document:     {result / 'dumps.ndjson'}  (one JSON document a line)")
        print(f"  per dump:           {result / 'docs'}/<sha256>.json, {result / 'errors'}/<key>.json")
        print(f"  reduced minidumps:  {result / 'minidumps'}/<sha256>.dmp")
        if status == 1:
            print("  (exit status 1: some files are unreadable on purpose - see 'Unreadable files')")
        return 0
    return status


if __name__ == "__main__":
    sys.exit(main())
