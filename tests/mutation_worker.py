"""Mutation worker: feed truncated and byte-flipped minidumps through ``document_for``.

Run by tests/test_minidump_robustness.py as ``python -m tests.mutation_worker JOB.json``.
One process runs many mutants under ``RLIMIT_AS`` = its warm baseline + a budget, with
a per-case alarm, so a hang or a memory blow-up becomes a recorded failure, not a dead run.

Every mutant must give a document that validates (a dump document or an error document whose
code is not ``internal_error``), within ``case_seconds``, and leave its input unchanged. The
worker prints one JSON line per failure, then one ``{"stats": ...}`` line.

Mutants of a source file (deterministic for a seed):

* truncations at up to 50 lengths: inside the header, the directory, at and inside every
  stream body (first byte, middle, last byte), then evenly spread over the file;
* 200 single-byte flips (XOR with a random non-zero byte): 50 in the header and directory,
  100 in stream bodies, 50 anywhere.
"""
from __future__ import annotations

import json
import logging
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

__all__ = ["Mutant", "main", "mutants"]

N_TRUNCATIONS = 50
N_FLIPS = 200
MAX_DIRECTORY = 64  # entries used to place mutations (a fuzzed count can be huge)

Mutant = tuple[str, bytes]  # (description, bytes)


def _layout(data: bytes) -> tuple[int, list[tuple[int, int]]]:
    """End of the directory and the (rva, size) of each stream body that lies in the file."""
    if len(data) < 0x20:
        return len(data), []
    count, dir_rva = struct.unpack_from("<II", data, 8)
    count = min(count, MAX_DIRECTORY, max(0, (len(data) - dir_rva) // 12))
    bodies = []
    for i in range(count):
        _, size, rva = struct.unpack_from("<III", data, dir_rva + 12 * i)
        if size and rva < len(data):
            bodies.append((rva, min(size, len(data) - rva)))
    return min(len(data), dir_rva + 12 * count), bodies


def mutants(data: bytes, seed: int) -> Iterator[Mutant]:
    """The truncations and flips of ``data`` (see the module docstring), made one at a time."""
    rng = random.Random(seed)
    size = len(data)
    dir_end, bodies = _layout(data)
    points = {0, 1, 4, 8, 12, 16, 0x1F, 0x20, 0x21, 0x2C, dir_end - 1, dir_end}
    for rva, length in bodies:
        points.update((rva, rva + 1, rva + length // 2, rva + length - 1))
    structural = sorted(p for p in points if 0 <= p < size)
    if len(structural) > N_TRUNCATIONS * 2 // 3:
        structural = sorted(rng.sample(structural, N_TRUNCATIONS * 2 // 3))
    cuts = set(structural)
    step = max(1, size // (N_TRUNCATIONS - len(cuts) + 1))
    spread = iter(range(step, size, step))
    while len(cuts) < min(N_TRUNCATIONS, size):
        cuts.add(next(spread, None) or rng.randrange(size))
    for n in sorted(cuts):
        yield f"truncate@{n:#x}", data[:n]
    if size == 0:
        return
    offsets = [rng.randrange(min(size, max(dir_end, 1))) for _ in range(50)]
    total_body = sum(length for _, length in bodies)
    for _ in range(100):
        if not total_body:
            offsets.append(rng.randrange(size))
            continue
        pick = rng.randrange(total_body)  # uniform over the bytes of all stream bodies
        for rva, length in bodies:
            if pick < length:
                offsets.append(rva + pick)
                break
            pick -= length
    offsets += [rng.randrange(size) for _ in range(N_FLIPS - len(offsets))]
    for offset in offsets:
        mask = rng.randrange(1, 256)
        mutated = bytearray(data)
        mutated[offset] ^= mask
        yield f"flip@{offset:#x}^{mask:#04x}", bytes(mutated)


class CaseTimeout(BaseException):
    """Raised by the alarm: a BaseException so that ``document_for`` cannot swallow it."""


class _LastError(logging.Handler):
    """Keeps the traceback ``document_for`` logs for an ``internal_error``."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.text = record.getMessage()
        if record.exc_info:
            self.text += "\n" + "".join(traceback.format_exception(*record.exc_info))


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    from pipeline.normalize import document_for
    from pipeline.validate import validate

    log = _LastError()
    logging.getLogger().addHandler(log)
    logging.getLogger().setLevel(logging.ERROR)
    for src in job["sources"]:  # warm: imports, schema validators, parser classes
        document_for(src["path"])
    baseline = _vm_size()
    limit = baseline + job["budget_mb"] * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _on_alarm)
    scratch = Path(job["tmp"]) / f"mutant-{os.getpid()}.dmp"
    failures_dir = Path(job["tmp"]) / "failures"
    kinds: Counter[str] = Counter()
    cases, slowest = 0, (0.0, "")
    start = time.perf_counter()
    for src in job["sources"]:
        data = Path(src["path"]).read_bytes()
        seed = job["seed"] ^ zlib.crc32(src["name"].encode())
        for what, blob in mutants(data, seed):
            cases += 1
            scratch.write_bytes(blob)
            log.text = None
            problem, detail, kind = None, None, "?"
            t0 = time.perf_counter()
            signal.setitimer(signal.ITIMER_REAL, job["abort_seconds"])
            try:
                doc = document_for(str(scratch))
                signal.setitimer(signal.ITIMER_REAL, 0)
                kind = doc.get("kind", "?")
                if kind == "error":
                    kind = f"error:{doc['error']['code']}"
                validate(doc)
                if kind == "error:internal_error":
                    problem, detail = "internal_error", log.text or doc["error"]["message"]
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
            if problem is None and scratch.read_bytes() != blob:
                problem, detail = "modified_input", "the mutant file changed while being read"
            if problem is not None:
                failures_dir.mkdir(exist_ok=True)
                label = what.replace("@", "_").replace("^", "_")
                keep = failures_dir / f"{src['name'].replace('/', '_')}.{label}"
                keep.write_bytes(blob)
                print(json.dumps({"source": src["name"], "mutation": what, "problem": problem,
                                  "seconds": round(elapsed, 4), "kept": str(keep), "detail": detail}),
                      flush=True)
    print(json.dumps({"stats": {"cases": cases, "kinds": dict(kinds), "seconds": time.perf_counter() - start,
                                "slowest_seconds": slowest[0], "slowest_case": slowest[1],
                                "baseline_vm_mb": baseline // (1 << 20), "limit_vm_mb": limit // (1 << 20)}}),
          flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
