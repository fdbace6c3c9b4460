"""Corpus minidumps: our crashing-thread stack against rust-minidump's (minidump-stackwalk 0.25).

Every frame rust-minidump finds from the context, CFI or frame pointers before its first
scanned frame must agree with ours on module and module offset. Scanned frames (and what
follows them) are heuristics on both sides: their agreement rate is reported, and the
disagreements where rust-minidump's candidate has no call instruction before it (code
captured) are counted as its false positives. See ``tests/unwind_oracles.py``.
"""
from __future__ import annotations

from pathlib import Path

import pytest

import dumpkit
from dumpkit.errors import DumpkitError
from dumpkit.unwind import unwind_dump
from tests.conftest import SUMMARIES, corpus_files, corpus_id
from tests.unwind_oracles import Agreement, compare_frames, stackwalk_json

FILES = corpus_files("mdmp/*", "mdmp_from_yaml/*.dmp")
TOTAL = Agreement()
COUNTED: set[str] = set()


@pytest.mark.corpus
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_crashing_thread_agrees_with_rust_minidump(path: Path) -> None:
    theirs = stackwalk_json(path)
    if theirs is None or not theirs.get("crashing_thread"):
        pytest.skip("rust-minidump reports no crashing thread for this file")
    try:
        dump = dumpkit.open(path)
    except DumpkitError as exc:
        pytest.skip(f"dumpkit cannot read it ({exc.code}) while rust-minidump can")
    with dump:
        unwind_dump(dump)
        thread = dump.crashing_thread
        assert thread is not None
        result = compare_frames(dump, thread.frames, theirs["crashing_thread"]["frames"])
    if path.name not in COUNTED:
        COUNTED.add(path.name)
        TOTAL.add(result)
    assert result.trusted_same == result.trusted, "\n".join(result.mismatches)


def test_zz_report_agreement() -> None:
    """Summary line (runs after the parametrized cases in file order)."""
    if not TOTAL.trusted:
        pytest.skip("no corpus file compared")
    wrong = TOTAL.guessed - TOTAL.guessed_same
    SUMMARIES.append(
        f"unwind vs rust-minidump ({len(COUNTED)} minidumps): context/CFI/frame-pointer frames "
        f"{TOTAL.trusted_same}/{TOTAL.trusted}; scanned-and-after frames {TOTAL.guessed_same}/"
        f"{TOTAL.guessed} ({100 * TOTAL.guessed_same / max(1, TOTAL.guessed):.0f}%), of the "
        f"{wrong} differences {TOTAL.rust_false_positive} are rust-minidump scan hits with no "
        "call instruction before them")
