"""``dumpkit inspect --text`` (pipeline/text_view.py): an absent value is left out, never shown as "None".

The corpus-wide check runs in tests/test_corpus_documents.py (on the document it already makes);
here: the vmcore without a panic record that printed "crash: panic None (thread None)", and
documents with every field the schema lets be null set to null.
"""
from __future__ import annotations

import copy
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from dumpkit.pipeline.document.normalize import document_for, error_document
from dumpkit.pipeline.document.text_view import render
from dumpkit.pipeline.document.validate import validate
from tests.conftest import CORPUS_MISSING, corpus_root
from tests.test_minidump_builder import windows_amd64

NONE_WORD = re.compile(r"\bNone\b")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def assert_no_absent_value_shown(doc: dict[str, Any], text: str | None = None) -> str:
    """Render ``doc`` (or take ``text``); fail if "None" appears there but in no string of the document."""
    text = render(doc) if text is None else text
    if NONE_WORD.search(text) and not any(NONE_WORD.search(s) for s in _strings(doc)):
        shown = [line for line in text.splitlines() if NONE_WORD.search(line)]
        raise AssertionError(f"the text view shows an absent value as None: {shown}")
    return text


def _nullable(schema: dict[str, Any]) -> bool:
    options = schema.get("anyOf", [])
    kinds = schema.get("type", [])
    return any(o.get("type") == "null" for o in options) or (isinstance(kinds, list) and "null" in kinds)


def _nullable_fields() -> dict[str, list[str]]:
    """``$defs`` name -> its properties that may be null (from schemas/dump.schema.json)."""
    schema = json.loads(resources.files("dumpkit.schemas").joinpath("dump.schema.json").read_text())
    return {name: [k for k, v in d.get("properties", {}).items() if _nullable(v)]
            for name, d in schema["$defs"].items()}


def _null_everything(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` with every nullable field of source, system, crash, threads, frames and modules set to null."""
    fields = _nullable_fields()
    out = copy.deepcopy(doc)
    objects = [("source", out["source"]), ("system", out["system"]), ("crash", out["crash"])]
    for thread in out["threads"]:
        objects.append(("thread", thread))
        objects += [("frame", f) for f in thread["frames"]]
    objects += [("module", m) for m in out["modules"]]
    for name, obj in objects:
        for key in fields[name]:
            obj[key] = None
    return out


def test_vmcore_without_a_panic_record() -> None:
    root = corpus_root()
    if root is None:
        pytest.skip(CORPUS_MISSING)
    doc = document_for(str(root / "vmcore" / "elfutils_testfile62"))
    crash = doc["crash"]
    assert crash["kind"] == "panic" and crash["code"] is None and crash["thread_id"] is None
    lines = assert_no_absent_value_shown(doc).splitlines()
    assert "crash: panic" in lines


def test_every_nullable_field_null(tmp_path: Path) -> None:
    doc = document_for(str(windows_amd64().write(tmp_path / "w.dmp")))
    assert doc["kind"] == "dump" and any(t["frames"] for t in doc["threads"])
    nulled = _null_everything(doc)
    validate(nulled)  # still a document the schema allows
    text = assert_no_absent_value_shown(nulled)
    assert "crash: exception (thread" not in text and "crash: exception" in text.splitlines()
    assert NONE_WORD.search(render(doc)) is None


def test_error_document_of_an_unknown_format() -> None:
    doc = error_document("junk.bin", "unknown_format", "not a dump format dumpkit reads", size=3)
    validate(doc)
    assert assert_no_absent_value_shown(doc).splitlines() == [
        "junk.bin", "unreadable: not a dump format dumpkit reads [unknown_format]"]


def test_none_detector_fails_on_the_old_output() -> None:
    """The check itself can fail: the line the defect printed is caught, unless the document says "None"."""
    doc = error_document("junk.bin", "unknown_format", "x", size=3)
    old = "junk.bin  [None]\ncrash: panic None (thread None)"
    with pytest.raises(AssertionError, match="as None"):
        assert_no_absent_value_shown(doc, old)
    assert_no_absent_value_shown({**doc, "error": {**doc["error"], "message": "module None"}}, old)
