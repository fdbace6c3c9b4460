"""Mutation worker for kdump-compressed and flattened files: truncated and byte-flipped copies.

Run by tests/test_kdump.py as ``python -m tests.kdump_mutation_worker JOB.json``. The worker
warms up, then caps its address space at its baseline + ``budget_mb`` (``RLIMIT_AS``) and
runs every mutant under an alarm. A mutant must open -- and then give up its threads, the
pages of its captured ranges and a valid document -- or raise
:class:`~dumpkit.errors.DumpkitError`, nothing else, within ``case_seconds``. One JSON line
per failure, then one ``{"stats": ...}`` line.

Mutants of a source file (deterministic for a seed):

* 50 truncations: at and inside the disk_dump_header fields, the sub-header, the bitmaps, the
  page descriptors and the page data (for a flattened file: at and inside record headers),
  then spread evenly;
* 200 single-byte flips (XOR with a random non-zero byte): 50 in the header (and the
  flattened file header), 100 in the sub-header / notes / bitmaps / descriptors (or the
  record headers of a flattened file), 50 anywhere.

The layout used to place mutations is read here with :mod:`struct` (it shares nothing with
the reader); a file it cannot make sense of gets its mutations spread over the whole file.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import signal
import struct
import sys
import time
import traceback
import zlib
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["main", "mutations"]

N_TRUNCATIONS = 50
N_FLIPS = 200
MAX_RECORDS = 512
PAGES_READ = 64

Range = tuple[int, int]  # (offset, length)


def _kdump_layout(data: bytes) -> tuple[list[Range], list[Range]]:
    """(header ranges, metadata ranges) of a kdump-compressed image."""
    for at, is_be in ((0x1AC, False), (0x1A0, False), (0x1AC, True), (0x1A0, True)):
        e = ">" if is_be else "<"
        if len(data) < at + 16:
            continue
        block, sub, bitmap_blocks, _ = struct.unpack_from(e + "iiII", data, at)
        if 512 <= block <= 1 << 18 and block & (block - 1) == 0 and 0 <= sub < 64:
            bitmaps = (1 + sub) * block
            descs = bitmaps + bitmap_blocks * block
            meta = [(block, min(sub, 2) * block or 0x68), (bitmaps, min(bitmap_blocks * block, 8192)),
                    (descs, min(24 * 64, max(0, len(data) - descs)))]
            return [(0, 0x1D0)], [(o, n) for o, n in meta if o < len(data) and n > 0]
    return [(0, min(len(data), 0x1D0))], []


def _flat_layout(data: bytes) -> tuple[list[Range], list[Range]]:
    """(file header + the first record's data, record headers) of a flattened stream."""
    headers: list[Range] = []
    pos = 4096
    while len(headers) < MAX_RECORDS and pos + 16 <= len(data):
        offset, size = struct.unpack_from(">qq", data, pos)
        headers.append((pos, 16))
        if offset < 0 or size <= 0:
            break
        pos += 16 + size
    first = [(4096 + 16, min(0x1D0, max(0, len(data) - 4096 - 16)))] if headers else []
    return [(0, 32), *first], headers


def mutations(path: Path, seed: int) -> Iterator[tuple[str, int, int]]:
    """``(description, offset, xor mask)``; mask 0 means "truncate at offset"."""
    rng = random.Random(seed)
    data = path.read_bytes()
    size = len(data)
    if data[:16] == b"makedumpfile\0\0\0\0":
        header, meta = _flat_layout(data)
    else:
        header, meta = _kdump_layout(data)
    points = {0, 8, 12, 0x110, 0x198, 0x1A0, 0x1AC, 0x1B4, 0x1B8, 0x1C8, 0x1D0, size - 1}
    for off, length in meta:
        points.update((off, off + 1, off + 8, off + 16, off + length // 2, off + length))
    cuts = sorted(p for p in points if 0 <= p < size)
    if len(cuts) > N_TRUNCATIONS * 2 // 3:
        cuts = sorted(rng.sample(cuts, N_TRUNCATIONS * 2 // 3))
    chosen = set(cuts)
    while len(chosen) < min(N_TRUNCATIONS, size):
        chosen.add(rng.randrange(size))
    for n in sorted(chosen):
        yield f"truncate@{n:#x}", n, 0

    def pick(ranges: list[Range]) -> int:
        total = sum(length for _, length in ranges)
        if not total:
            return rng.randrange(size)
        at = rng.randrange(total)
        for off, length in ranges:
            if at < length:
                return min(off + at, size - 1)
            at -= length
        return rng.randrange(size)

    offsets = [pick(header) for _ in range(50)] + [pick(meta) for _ in range(100)]
    offsets += [rng.randrange(size) for _ in range(N_FLIPS - len(offsets))]
    for offset in offsets:
        mask = rng.randrange(1, 256)
        yield f"flip@{offset:#x}^{mask:#04x}", offset, mask


class CaseTimeout(BaseException):
    """Raised by the alarm (a BaseException, so no ``except Exception`` swallows it)."""


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _consume(path: str, normalize: Any, validate: Any) -> str:
    """Open the dump and touch what a consumer touches; returns the outcome kind."""
    import dumpkit
    from dumpkit.errors import DumpkitError

    try:
        dump = dumpkit.open(path)
    except DumpkitError as exc:
        return f"error:{exc.code}"
    with dump:
        for thread in dump.threads:
            _ = dict(thread.registers)
        space = dump.memory
        read = 0
        if space is not None:
            page = dump.system.page_size or 4096
            for start, length in space.ranges():
                for at in range(start, start + length, page):
                    if read >= PAGES_READ:
                        break
                    read += 1
                    with contextlib.suppress(DumpkitError):
                        space.read(at, page)
        if normalize is not None:
            validate(normalize(dump))
        return "dump"


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    normalize: Any = None
    validate: Any = None
    with contextlib.suppress(ImportError):  # the pipeline is optional for this contract
        import pipeline.normalize
        import pipeline.validate

        normalize, validate = pipeline.normalize.normalize, pipeline.validate.validate
    for src in job["sources"]:  # warm up imports and parser classes
        with contextlib.suppress(Exception):
            _consume(src["path"], normalize, validate)
    baseline = _vm_size()
    limit = baseline + job["budget_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _on_alarm)
    tmp = Path(job["tmp"])
    scratch = tmp / f"mutant-{os.getpid()}.kdump"
    kinds: Counter[str] = Counter()
    cases, slowest = 0, (0.0, "")
    start = time.perf_counter()
    for src in job["sources"]:
        source = Path(src["path"])
        original = source.read_bytes()
        seed = job["seed"] ^ zlib.crc32(src["name"].encode())
        for what, offset, mask in mutations(source, seed):
            cases += 1
            if mask:
                mutant = bytearray(original)
                mutant[offset] ^= mask
                scratch.write_bytes(mutant)
            else:
                scratch.write_bytes(original[:offset])
            problem, detail, kind = None, None, "?"
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, job["abort_seconds"])
            try:
                kind = _consume(str(scratch), normalize, validate)
                signal.setitimer(signal.ITIMER_REAL, 0)
            except CaseTimeout:
                problem, detail = "hang", f"aborted after {job['abort_seconds']} s"
            except BaseException as exc:  # every escape is the finding
                signal.setitimer(signal.ITIMER_REAL, 0)
                problem, detail = f"raised {type(exc).__name__}", traceback.format_exc()
            elapsed = time.perf_counter() - t0
            kinds[kind] += 1
            slowest = max(slowest, (elapsed, f"{src['name']} {what}"))
            if problem is None and elapsed > job["case_seconds"]:
                problem, detail = "slow", f"{elapsed:.3f} s > {job['case_seconds']} s"
            if problem is not None:
                keep = tmp / "failures" / f"{src['name'].replace('/', '_')}.{what.replace('@', '_')}"
                keep.parent.mkdir(exist_ok=True)
                keep.write_bytes(scratch.read_bytes())
                print(json.dumps({"source": src["name"], "mutation": what, "problem": problem,
                                  "seconds": round(elapsed, 4), "kept": str(keep), "detail": detail}),
                      flush=True)
    scratch.unlink(missing_ok=True)
    print(json.dumps({"stats": {"cases": cases, "kinds": dict(kinds), "seconds": time.perf_counter() - start,
                                "slowest_seconds": slowest[0], "slowest_case": slowest[1]}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
