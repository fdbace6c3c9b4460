"""Garbage in, structured document out: truncated and byte-flipped minidumps.

Every corpus minidump and two builder dumps give 50 truncations and 200 single-byte flips each
(fixed seed; tests/mutation_plans.py says where they land), run by the robustness harness
(tests/mutation.py) under its contract: ``normalize.document_for`` returns a document
that validates (never ``internal_error``), never raises, within 1 s, under a 200 MB address
space budget above the warm baseline, and leaves its input unchanged.

Mutants that ever failed are kept below as named regression cases.
"""
from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest

from tests.builders.minidump import MinidumpBuilder
from tests.conftest import CORPUS_MISSING, corpus_files, corpus_id, corpus_root
from tests.mutation import CASE_SECONDS, check_mutants, source
from tests.test_minidump_builder import linux_amd64_breakpad, windows_amd64


@pytest.mark.corpus
@pytest.mark.slow
def test_mutated_corpus_minidumps_give_valid_documents(tmp_path: Path) -> None:
    if corpus_root() is None:
        pytest.skip(CORPUS_MISSING)
    sources = [source(corpus_id(p), p) for p in corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp")]
    check_mutants("minidump", "corpus", sources, tmp_path, min_cases=len(sources) * 200)


def test_mutated_builder_dumps_give_valid_documents(tmp_path: Path) -> None:
    """Builder dumps (no corpus needed): the same contract."""
    sources = []
    for name, make in (("windows_amd64", windows_amd64), ("linux_amd64", linux_amd64_breakpad)):
        sources.append(source(f"builder/{name}", make().write(tmp_path / f"{name}.dmp")))
    check_mutants("minidump", "builder", sources, tmp_path, min_cases=len(sources) * (50 + 200))


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
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.validate import validate

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
