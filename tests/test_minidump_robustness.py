"""Garbage in, structured document out: truncated and byte-flipped minidumps.

Every corpus minidump and two builder dumps give 50 truncations and 200 single-byte flips each
(fixed seed; tests/mutation_worker.py says where they land). Each mutant goes through
``pipeline.normalize.document_for``: it must return a document that validates (a dump document
or an error document, never ``internal_error``), never raise, within 1 s, under a 200 MB address
space budget above the warm baseline, and leave its input unchanged.

The mutants run in two worker processes (one per core), each under ``RLIMIT_AS`` with a per-case
alarm, so a hang or a memory blow-up fails this test with the file and the mutation named.
Mutants that ever failed are kept below as named regression cases.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.builders.minidump import MinidumpBuilder
from tests.conftest import CORPUS_MISSING, REPO, SUMMARIES, corpus_files, corpus_id, corpus_root
from tests.test_minidump_builder import linux_amd64_breakpad, windows_amd64

SEED = 0x5EED
WORKERS = 2
BUDGET_MB = 200
CASE_SECONDS = 1.0
ABORT_SECONDS = 5.0  # the alarm: a case still running after this is a hang


def _corpus_sources() -> list[dict[str, str]]:
    return [{"name": corpus_id(p), "path": str(p)} for p in corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp")]


def _builder_sources(tmp_path: Path) -> list[dict[str, str]]:
    sources = []
    for name, make in (("windows_amd64", windows_amd64), ("linux_amd64", linux_amd64_breakpad)):
        path = make().write(tmp_path / f"{name}.dmp")
        sources.append({"name": f"builder/{name}", "path": str(path)})
    return sources


Found = list[dict[str, Any]]


def _run_workers(sources: list[dict[str, str]], tmp_path: Path) -> tuple[Found, Found]:
    """Start the workers (sources dealt round-robin by size), wait, collect failures and stats."""
    ordered = sorted(sources, key=lambda s: -os.path.getsize(s["path"]))
    shares = [ordered[i::WORKERS] for i in range(WORKERS)]
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = []
    for i, share in enumerate(shares):
        job = {"sources": share, "tmp": str(tmp_path), "seed": SEED, "budget_mb": BUDGET_MB,
               "case_seconds": CASE_SECONDS, "abort_seconds": ABORT_SECONDS}
        job_file = tmp_path / f"job-{i}.json"
        job_file.write_text(json.dumps(job))
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.mutation_worker", str(job_file)],
                                      cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    failures: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=600)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"mutation worker did not finish in 600 s; stderr tail:\n{err[-2000:]}")
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        failures += [x for x in lines if "stats" not in x]
        stats += [x["stats"] for x in lines if "stats" in x]
        if proc.returncode != 0 or not any("stats" in x for x in lines):
            pytest.fail(f"mutation worker died (exit {proc.returncode}) after "
                        f"{len(failures)} failures; stderr tail:\n{err[-3000:]}")
    return failures, stats


def _summarize(label: str, sources: list[dict[str, str]], failures: list[dict[str, Any]],
               stats: list[dict[str, Any]]) -> int:
    cases = sum(s["cases"] for s in stats)
    kinds: dict[str, int] = {}
    for s in stats:
        for k, v in s["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    slow = max(stats, key=lambda s: s["slowest_seconds"])
    SUMMARIES.append(
        f"minidump robustness ({label}): {cases} mutants of {len(sources)} files in {len(stats)} workers, "
        f"{max(s['seconds'] for s in stats):.1f} s wall; outcomes {dict(sorted(kinds.items()))}; "
        f"slowest case {slow['slowest_seconds'] * 1000:.1f} ms ({slow['slowest_case']}); "
        f"VM baseline {max(s['baseline_vm_mb'] for s in stats)} MB, limit +{BUDGET_MB} MB; "
        f"failures {len(failures)}")
    return cases


def _report(failures: list[dict[str, Any]]) -> str:
    shown = "\n\n".join(f"{f['source']} {f['mutation']}: {f['problem']} ({f['seconds']} s), kept at "
                         f"{f['kept']}\n{f['detail']}" for f in failures[:10])
    return f"{len(failures)} mutants failed; first ones:\n{shown}"


@pytest.mark.corpus
@pytest.mark.slow
def test_mutated_corpus_minidumps_give_valid_documents(tmp_path: Path) -> None:
    if corpus_root() is None:
        pytest.skip(CORPUS_MISSING)
    sources = _corpus_sources()
    failures, stats = _run_workers(sources, tmp_path)
    cases = _summarize("corpus", sources, failures, stats)
    assert cases >= len(sources) * 200
    assert not failures, _report(failures)


def test_mutated_builder_dumps_give_valid_documents(tmp_path: Path) -> None:
    """Builder dumps (no corpus needed): the same contract."""
    sources = _builder_sources(tmp_path)
    failures, stats = _run_workers(sources, tmp_path)
    cases = _summarize("builder", sources, failures, stats)
    assert cases == len(sources) * (50 + 200)
    assert not failures, _report(failures)


# ----------------------------------------------------------------------------- named regressions
def _flip(data: bytes, offset: int, mask: int) -> bytes:
    out = bytearray(data)
    out[offset] ^= mask
    return bytes(out)


def _many_unknown_streams(count: int) -> bytes:
    """``count`` directory entries: one thread list and the rest unknown stream types."""
    builder = MinidumpBuilder(arch="amd64").thread(1, regs={"rip": 0x401000, "rsp": 0x7000})
    for i in range(count - 2):
        builder.stream(0x1000 + (i % 0x8000), b"x")
    return builder.build()


def _timed_document(path: Path) -> tuple[float, dict[str, Any]]:
    from pipeline.normalize import document_for
    from pipeline.validate import validate

    document_for(str(path))  # warm
    t0 = time.perf_counter()
    doc = document_for(str(path))
    elapsed = time.perf_counter() - t0
    validate(doc)
    return elapsed, doc


@pytest.mark.corpus
def test_regression_stack_exhaustion_stream_count_flip(tmp_path: Path) -> None:
    """Found by the mutation run: breakpad_stack_exhaustion.dmp, flip@0x9^0xf0.

    NumberOfStreams 9 -> 61,449: the directory still fits in the 1 MiB file, and the reader then
    parsed every entry (garbage types, ~61k unknown-stream diagnostics): 0.77 s under a 2-worker
    load (0.44 s alone), close to the 1 s budget. The reader now refuses directories of more than
    4096 entries; either way the answer must be a valid document, quickly.
    """
    root = corpus_root()
    if root is None:
        pytest.skip(CORPUS_MISSING)
    path = tmp_path / "stack_exhaustion_flip_0x9.dmp"
    path.write_bytes(_flip((root / "mdmp/breakpad_stack_exhaustion.dmp").read_bytes(), 0x9, 0xF0))
    elapsed, doc = _timed_document(path)
    assert doc["kind"] == "dump" or doc["error"]["code"] != "internal_error", doc.get("error")
    assert elapsed < CASE_SECONDS, f"{elapsed:.3f} s"


@pytest.mark.parametrize("count", [4000, 65536])
def test_regression_many_unknown_streams_is_fast(tmp_path: Path, count: int) -> None:
    """A well-formed minidump with thousands of unknown stream types: a valid document within 1 s.

    Seen: with 65,533 unknown types the reader took 8 s (stream names kept in a list and searched
    linearly: quadratic; ``source.details['streams']`` became a 229 KB string). 4000 entries stay
    under the reader's 4096-entry directory cap, so that one must be read as a dump.
    """
    path = tmp_path / f"many_unknown_streams_{count}.dmp"
    path.write_bytes(_many_unknown_streams(count))
    elapsed, doc = _timed_document(path)
    if count <= 4096:
        assert doc["kind"] == "dump", doc.get("error")
        assert len(doc["source"]["details"].get("streams", "")) < 4096, "stream list in details is unbounded"
    else:
        assert doc["kind"] == "dump" or doc["error"]["code"] != "internal_error", doc.get("error")
    assert elapsed < CASE_SECONDS, f"{elapsed:.3f} s"
