"""Mutation worker for ELF cores: truncated and byte-flipped cores through ``dumpkit.open``.

Run by tests/test_elf_core_robustness.py as ``python -m tests.elf_mutation_worker JOB.json``.
One process runs many mutants under ``RLIMIT_AS`` = its warm baseline + a budget, with a
per-case alarm. Each mutant must open (then normalize, when the pipeline is there) or raise
:class:`~dumpkit.errors.DumpkitError` -- nothing else -- within ``case_seconds``. The worker
prints one JSON line per failure, then one ``{"stats": ...}`` line.

Mutants of a source core (deterministic for a seed):

* 50 truncations: inside e_ident and the ELF header, at and inside the program header
  table, at and inside every PT_NOTE segment and its first note records, then spread evenly;
* 200 single-byte flips (XOR with a random non-zero byte): 50 in the ELF header and
  program header table, 100 in note segments, 50 anywhere.

Big cores are not copied per mutant: a flip patches one byte of a scratch copy and puts it
back; a truncation copies the first N bytes with ``os.copy_file_range``.
"""
from __future__ import annotations

import contextlib
import json
import os
import random
import resource
import shutil
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

__all__ = ["Mutation", "main", "mutations"]

N_TRUNCATIONS = 50
N_FLIPS = 200
MAX_PHDRS = 256  # entries used to place mutations

Mutation = tuple[str, int, int]  # (description, truncate-at or flip offset, xor mask or 0 for truncation)


def _layout(head: bytes, size: int) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """(header + phdr table) and PT_NOTE (offset, size) ranges, from the file's first bytes."""
    if len(head) < 0x34 or head[:4] != b"\x7fELF":
        return [(0, min(size, 64))], []
    is64, e = head[4] == 2, (">" if head[5] == 2 else "<")
    if is64:
        phoff, = struct.unpack_from(e + "Q", head, 0x20)
        entsize, phnum = struct.unpack_from(e + "HH", head, 0x36)
    else:
        phoff, = struct.unpack_from(e + "I", head, 0x1C)
        entsize, phnum = struct.unpack_from(e + "HH", head, 0x2A)
    header = [(0, 64 if is64 else 52)]
    if not entsize or phoff >= size:
        return header, []
    count = min(phnum, MAX_PHDRS, (len(head) - phoff) // entsize if phoff < len(head) else 0)
    header.append((phoff, count * entsize))
    notes = []
    for i in range(count):
        at = phoff + i * entsize
        if struct.unpack_from(e + "I", head, at)[0] != 4:
            continue
        if is64:
            off, = struct.unpack_from(e + "Q", head, at + 8)
            length, = struct.unpack_from(e + "Q", head, at + 32)
        else:
            off, = struct.unpack_from(e + "I", head, at + 4)
            length, = struct.unpack_from(e + "I", head, at + 16)
        if off < size and length:
            notes.append((off, min(length, size - off)))
    return header, notes


def mutations(path: Path, seed: int) -> Iterator[Mutation]:
    rng = random.Random(seed)
    size = path.stat().st_size
    with open(path, "rb") as fh:
        head = fh.read(1 << 20)
    header, notes = _layout(head, size)
    points = {0, 1, 4, 5, 6, 7, 16, 0x12, 0x18, 0x20, 0x2C, 0x34, 0x38, 0x40, size - 1}
    for off, length in header[1:] + notes:
        points.update((off, off + 1, off + 12, off + length // 2, off + length - 1, off + length))
    cuts = sorted(p for p in points if 0 <= p < size)
    if len(cuts) > N_TRUNCATIONS * 2 // 3:
        cuts = sorted(rng.sample(cuts, N_TRUNCATIONS * 2 // 3))
    chosen = set(cuts)
    step = max(1, size // (N_TRUNCATIONS - len(chosen) + 1))
    spread = iter(range(step, size, step))
    while len(chosen) < min(N_TRUNCATIONS, size):
        chosen.add(next(spread, None) or rng.randrange(size))
    for n in sorted(chosen):
        yield f"truncate@{n:#x}", n, 0
    if not size:
        return

    def pick(ranges: list[tuple[int, int]]) -> int:
        total = sum(length for _, length in ranges)
        if not total:
            return rng.randrange(size)
        at = rng.randrange(total)
        for off, length in ranges:
            if at < length:
                return min(off + at, size - 1)
            at -= length
        return rng.randrange(size)

    offsets = [pick(header) for _ in range(50)] + [pick(notes) for _ in range(100)]
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


def _consume(path: str, normalize: Any) -> str:
    """Open the core and touch what a consumer touches; returns the outcome kind."""
    import dumpkit
    from dumpkit.errors import DumpkitError

    try:
        dump = dumpkit.open(path)
    except DumpkitError as exc:
        return f"error:{exc.code}"
    with dump:
        for thread in dump.threads:
            _ = dict(thread.registers)
        _ = [(m.base, m.size, m.build_id) for m in dump.modules]
        if normalize is not None:
            from pipeline.validate import validate

            validate(normalize(dump))  # the document must match its schema, not just exist
        return "dump"


def _copy_prefix(src: Path, dst: Path, n: int) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        left = n
        while left > 0:
            done = os.copy_file_range(fin.fileno(), fout.fileno(), left)
            if done <= 0:
                break
            left -= done


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    normalize: Any = None
    with contextlib.suppress(ImportError):  # the pipeline is optional for this contract
        from pipeline.normalize import normalize
    for src in job["sources"]:  # warm up imports and parser classes
        with contextlib.suppress(Exception):  # a failing original shows up again as a mutant
            _consume(src["path"], normalize)
    baseline = _vm_size()
    limit = baseline + job["budget_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _on_alarm)
    tmp = Path(job["tmp"])
    flip_copy, cut_copy = tmp / f"flip-{os.getpid()}.core", tmp / f"cut-{os.getpid()}.core"
    kinds: Counter[str] = Counter()
    cases, slowest = 0, (0.0, "")
    start = time.perf_counter()
    for src in job["sources"]:
        source = Path(src["path"])
        shutil.copyfile(source, flip_copy)
        seed = job["seed"] ^ zlib.crc32(src["name"].encode())
        for what, offset, mask in mutations(source, seed):
            cases += 1
            if mask:
                with open(flip_copy, "r+b") as fh:
                    fh.seek(offset)
                    original = fh.read(1)
                    fh.seek(offset)
                    fh.write(bytes([original[0] ^ mask]))
                target = flip_copy
            else:
                _copy_prefix(source, cut_copy, offset)
                target = cut_copy
            problem, detail, kind = None, None, "?"
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, job["abort_seconds"])
            try:
                kind = _consume(str(target), normalize)
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
                _copy_prefix(target, keep, target.stat().st_size)
                print(json.dumps({"source": src["name"], "mutation": what, "problem": problem,
                                  "seconds": round(elapsed, 4), "kept": str(keep), "detail": detail}),
                      flush=True)
            if mask:
                with open(flip_copy, "r+b") as fh:
                    fh.seek(offset)
                    fh.write(original)
    for scratch in (flip_copy, cut_copy):
        scratch.unlink(missing_ok=True)
    print(json.dumps({"stats": {"cases": cases, "kinds": dict(kinds), "seconds": time.perf_counter() - start,
                                "slowest_seconds": slowest[0], "slowest_case": slowest[1],
                                "baseline_vm_mb": baseline // (1 << 20), "limit_vm_mb": limit // (1 << 20)}}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
