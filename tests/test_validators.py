"""The fast validation engine (jsonschema-rs) and the reference one (jsonschema) agree."""
from __future__ import annotations

import copy
import random
from typing import Any

import pytest

from dumpkit.pipeline.document.normalize import error_document, normalize
from dumpkit.pipeline.document.validate import SCHEMA_FILES, fast_check, reference_errors
from tests.test_documents import _sample_dump


def _mutants(doc: dict[str, Any], seed: int = 7, count: int = 200) -> list[dict[str, Any]]:
    """Documents broken in small ways: wrong types, bad hex, extra keys, missing keys."""
    rng = random.Random(seed)
    paths: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((node, key))
                walk(value)
        elif isinstance(node, list):
            for i, value in enumerate(node):
                paths.append((node, i))
                walk(value)

    out = []
    for _ in range(count):
        clone = copy.deepcopy(doc)
        paths.clear()
        walk(clone)
        parent, key = rng.choice(paths)
        action = rng.randrange(5)
        if action == 0:
            parent[key] = rng.choice([None, 1, -1, "x", "0XFF", [], {}, True, 1.5])
        elif action == 1 and isinstance(parent, dict):
            del parent[key]
        elif action == 2 and isinstance(parent, dict):
            parent["unexpected_" + str(key)] = 1
        elif action == 3:
            parent[key] = "0x" + "g" * rng.randrange(1, 4)
        else:
            parent[key] = {"nested": parent[key]}
        out.append(clone)
    return out


def _engines_agree(doc: dict[str, Any]) -> None:
    kind, version = doc["kind"], doc["schema_version"]
    check = fast_check(kind, version)
    if check is None:
        pytest.skip("jsonschema-rs not installed")
    assert check(doc) == (not reference_errors(doc, kind, version)), doc


def test_engines_agree_on_valid_documents() -> None:
    for doc in (normalize(_sample_dump()), error_document("a", "truncated", "short", offset=3)):
        assert not reference_errors(doc, doc["kind"])
        _engines_agree(doc)


def test_engines_agree_on_broken_documents() -> None:
    base = normalize(_sample_dump())
    rejected = 0
    for mutant in _mutants(base):
        key = (mutant.get("kind"), mutant.get("schema_version"))
        if not all(isinstance(k, str | int) for k in key) or key not in SCHEMA_FILES:
            continue
        _engines_agree(mutant)
        rejected += bool(reference_errors(mutant, mutant["kind"], mutant["schema_version"]))
    assert rejected > 100  # the mutations do break documents, so agreement means something
