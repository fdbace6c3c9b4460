"""Shared test fixtures: where the shared corpus of real dumps is, and what MANIFEST.tsv says.

The corpus lives outside the repository (never copied into it). Tests find it through the
``DUMPKIT_CORPUS`` environment variable, else ``<repo>/../shared/corpus``. When it is absent,
corpus tests are SKIPPED with a reason that says how to point at it:

* the ``corpus_dir`` fixture skips the test;
* ``corpus_files(...)`` returns ``[]``, so ``pytest.mark.parametrize`` makes one skipped
  param, whose reason :func:`pytest_collection_modifyitems` rewrites to the clear one below.
"""
from __future__ import annotations

import csv
import functools
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dumpkit.errors import INTERNAL_ERROR_LOG_FLAG

REPO = Path(__file__).resolve().parent.parent
CORPUS_MISSING = ("shared corpus not found: set DUMPKIT_CORPUS to the corpus folder "
                  f"(default {REPO.parent / 'shared' / 'corpus'})")

__all__ = ["CORPUS_MISSING", "REPO", "SUMMARIES", "corpus_files", "corpus_id", "corpus_root", "manifest"]

#: One-line summaries tests want shown at the end of the run (agreement counts, timings).
SUMMARIES: list[str] = []


def corpus_root() -> Path | None:
    """The corpus folder, or ``None`` when it is absent."""
    env = os.environ.get("DUMPKIT_CORPUS")
    root = Path(env) if env else REPO.parent / "shared" / "corpus"
    return root if root.is_dir() else None


def corpus_files(*globs: str) -> list[Path]:
    """Corpus files matching any of ``globs`` (relative to the corpus root), sorted; ``[]`` if absent.

    Only regular files; MANIFEST.tsv and README.md are never returned.
    """
    root = corpus_root()
    if root is None:
        return []
    found: set[Path] = set()
    for pattern in globs:
        found.update(p for p in root.glob(pattern)
                     if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md"))
    return sorted(found)


def corpus_id(path: Path) -> str:
    """A short test id for a corpus file: its path relative to the corpus root."""
    root = corpus_root()
    return str(path.relative_to(root)) if root is not None and path.is_relative_to(root) else path.name


@functools.cache
def manifest() -> dict[str, dict[str, str]]:
    """MANIFEST.tsv parsed: ``local_file`` -> its row (column name -> text); ``{}`` if absent."""
    root = corpus_root()
    if root is None or not (root / "MANIFEST.tsv").is_file():
        return {}
    with open(root / "MANIFEST.tsv", newline="", encoding="utf-8") as fh:
        rows = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        return {row["local_file"]: row for row in rows if row.get("local_file")}


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The corpus folder; skips the test when it is absent."""
    root = corpus_root()
    if root is None:
        pytest.skip(CORPUS_MISSING)
    return root


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without a corpus, give empty corpus parametrizations the clear skip reason."""
    if corpus_root() is not None:
        return
    for item in items:
        for mark in item.iter_markers(name="skip"):
            if str(mark.kwargs.get("reason", "")).startswith("got empty parameter set"):
                item.add_marker(pytest.mark.skip(reason=CORPUS_MISSING), append=False)
                break


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print the lines tests added to :data:`SUMMARIES` (e.g. outside-reader agreement counts)."""
    if SUMMARIES:
        terminalreporter.section("dumpkit summaries")
        for line in SUMMARIES:
            terminalreporter.write_line(line)


class _InternalErrors(logging.Handler):
    """Collects the log records dumpkit flags as internal errors (bugs, never bad input)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if getattr(record, INTERNAL_ERROR_LOG_FLAG, False):
            self.records.append(record)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "internal_error_expected: the test provokes an internal_error "
                            "on purpose (tests/conftest.py)")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    """Fail any test during which dumpkit reported an ``internal_error`` (a reader or converter
    bug turned into an error document or a skipped minidump), unless the test is marked
    ``internal_error_expected``."""
    handler = _InternalErrors()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        result = yield
    finally:
        root.removeHandler(handler)
    if handler.records and item.get_closest_marker("internal_error_expected") is None:
        first = handler.records[0]
        text = first.getMessage()
        if first.exc_info and first.exc_info[1] is not None:
            text += f" ({type(first.exc_info[1]).__name__}: {first.exc_info[1]})"
        pytest.fail(f"{len(handler.records)} internal_error(s) reported, first: {text}")
    return result
