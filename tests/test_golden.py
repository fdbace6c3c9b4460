"""Golden digests (docs/practices.md practice 11): dumpkit's facts for every corpus file equal the
committed ones.

The digests live in ``tests/golden/<folder>/<name>.json`` (built by ``tests/golden_digest.py``).
A mismatch shows a unified diff from the committed digest to the current one; when the change
is intended, ``make golden`` rewrites them and ``git diff tests/golden`` is the review.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import corpus_files, corpus_id, corpus_root
from tests.golden_digest import (
    CONTAINER_SUFFIXES,
    GOLDEN_DIR,
    UPDATE_HINT,
    corpus_dumps,
    digest_file,
    golden_path,
    render,
    stale_goldens,
    unified_diff,
)

FILES = [p for p in corpus_files("*/*") if not p.name.endswith(CONTAINER_SUFFIXES)]


@pytest.mark.corpus
@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_digest_matches_golden(path: Path, corpus_dir: Path) -> None:
    file_id, value = digest_file(path, corpus_dir)
    target = golden_path(file_id)
    if not target.exists():
        pytest.fail(f"no golden digest for {file_id} (tests/golden/{file_id}.json); {UPDATE_HINT}",
                    pytrace=False)
    committed, current = target.read_text(encoding="utf-8"), render(value)
    if committed != current:
        pytest.fail(f"dumpkit's facts for {file_id} changed:\n"
                    f"{unified_diff(committed, current, file_id)}\n{UPDATE_HINT}", pytrace=False)


@pytest.mark.corpus
def test_no_stale_golden(corpus_dir: Path) -> None:
    """Every committed digest belongs to a corpus file that still exists."""
    ids = {p.relative_to(corpus_dir).as_posix() for p in corpus_dumps(corpus_dir)}
    stale = [p.relative_to(GOLDEN_DIR.parent.parent).as_posix() for p in stale_goldens(ids)]
    if stale:
        pytest.fail(f"stale golden digests (their corpus file is gone): {', '.join(stale)}; "
                    "`make golden` removes them, then review `git diff tests/golden`", pytrace=False)


def test_same_selection_as_the_tool() -> None:
    """The test and tools/update-golden see the same corpus files."""
    assert corpus_dumps(corpus_root()) == FILES
