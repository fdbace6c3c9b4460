"""Every corpus file, whatever its format, gives a valid document or a clean error document.

This is the batch contract seen from one file: no traceback, no ``internal_error`` (a bug
of ours), and the fast validation engine agrees with the reference one on real documents.
The document's text view (``inspect --text``) never shows an absent value as "None".
Compressed originals kept beside their decompressed copies are containers, not dumps: the
pipeline tests feed those.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from dumpkit.pipeline.document.normalize import document_for
from dumpkit.pipeline.document.validate import fast_check, reference_errors
from tests.conftest import corpus_files, corpus_id, manifest
from tests.test_text_view import assert_no_absent_value_shown

CONTAINER_SUFFIXES = (".bz2", ".gz", ".zst", ".xz", ".zip")
FILES = [p for p in corpus_files("*/*") if not p.name.endswith(CONTAINER_SUFFIXES)]


def _malformed_on_purpose(path: Path) -> bool:
    row = manifest().get(f"{path.parent.name}/{path.name}", {})
    remarks = (row.get("remarks", "") + row.get("notable_contents(auto-parsed)", "")).lower()
    return any(word in remarks for word in ("malformed", "invalid", "truncated", "fuzzer"))


@pytest.mark.parametrize("path", FILES, ids=corpus_id)
def test_corpus_file_gives_a_valid_document(path: Path) -> None:
    doc = document_for(str(path))
    assert not reference_errors(doc, doc["kind"], doc["schema_version"])
    check = fast_check(doc["kind"], doc["schema_version"])
    if check is not None:
        assert check(doc), "jsonschema-rs rejects a document jsonschema accepts"
    assert_no_absent_value_shown(doc)
    if doc["kind"] == "error":
        assert doc["error"]["code"] != "internal_error", doc["error"]["message"]
        assert _malformed_on_purpose(path), f"a well-formed dump was unreadable: {doc['error']}"
