"""Mutation worker for kernel-dump robustness tests (run in a child process with RLIMIT_AS).

    python -m tests.kernel_dump_mutate FILE WORKDIR [SEED]

Truncates a copy of FILE at 50 points and flips bytes at 200 offsets (half in the headers,
half anywhere), opening each variant with :func:`dumpkit.open` and touching its modules,
threads and a little memory. Prints one JSON line: the number of variants, failures (a
non-DumpkitError exception), and the slowest open in seconds.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import shutil
import sys
import time
import traceback

import dumpkit
from dumpkit.errors import DumpkitError
from pipeline.normalize import normalize
from pipeline.validate import validate


def _exercise(path: str) -> None:
    try:
        with dumpkit.open(path) as dump:
            _ = [m.path for m in dump.modules], [t.registers for t in dump.threads]
            if dump.memory is not None:
                for start, _size in list(_first(dump.memory.ranges(), 3)):
                    dump.memory.read(start, 16)
                for module in dump.modules[:3]:
                    with contextlib.suppress(DumpkitError):
                        dump.memory.read(module.base, 64)
            validate(normalize(dump))  # the whole document (unwinding included) must be valid
    except DumpkitError:
        pass


def _first(it: object, n: int) -> list[tuple[int, int]]:
    out = []
    for item in it:  # type: ignore[attr-defined]
        out.append(item)
        if len(out) >= n:
            break
    return out


def main(argv: list[str]) -> int:
    src, work = argv[0], argv[1]
    rng = random.Random(int(argv[2]) if len(argv) > 2 else 1)
    size = os.path.getsize(src)
    copy = os.path.join(work, "mutant.dmp")
    failures: list[str] = []
    slowest = 0.0
    count = 0

    def run(label: str) -> None:
        nonlocal slowest, count
        count += 1
        t0 = time.perf_counter()
        try:
            _exercise(copy)
        except Exception:  # anything but DumpkitError is what the test looks for
            failures.append(f"{label}: {traceback.format_exc(limit=3)}")
        slowest = max(slowest, time.perf_counter() - t0)

    shutil.copyfile(src, copy)
    fixed = {0, 8, 0x1000, 0x2000, 0x2040}
    points = sorted({rng.randrange(0, size) for _ in range(45)} | fixed, reverse=True)
    for cut in points[:50]:
        if cut < size:
            os.truncate(copy, cut)
            run(f"truncate@{cut:#x}")
    shutil.copyfile(src, copy)
    head = min(size, 0x3000)
    offsets = [rng.randrange(0, head) for _ in range(100)] + [rng.randrange(0, size) for _ in range(100)]
    with open(copy, "r+b") as fh:
        for off in offsets:
            fh.seek(off)
            old = fh.read(1)
            fh.seek(off)
            fh.write(bytes([old[0] ^ (1 << rng.randrange(8)) if rng.random() < 0.5 else 0xFF]))
            fh.flush()
            run(f"flip@{off:#x}")
            fh.seek(off)
            fh.write(old)
            fh.flush()
    print(json.dumps({"count": count, "failures": failures[:5], "nfail": len(failures), "slowest": slowest}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
