"""Validate documents against the JSON Schemas in ``schemas/`` (Draft 2020-12).

Validators are built once per process and cached; ``jsonschema`` is imported on first use
so that commands that never validate don't pay for it.
"""
from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["SCHEMA_FILES", "DocumentInvalid", "load_schema", "validate", "validator_for"]

SCHEMA_FILES = {"dump": "dump.schema.json", "error": "error.schema.json"}


class DocumentInvalid(ValueError):
    """A document does not match its schema; ``errors`` lists "path: message" strings."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        super().__init__(f"{kind} document invalid: " + "; ".join(errors[:5])
                         + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))
        self.kind = kind
        self.errors = errors


@cache
def load_schema(kind: str) -> dict[str, Any]:
    if kind not in SCHEMA_FILES:
        raise KeyError(f"no schema for document kind {kind!r}")
    text = resources.files("schemas").joinpath(SCHEMA_FILES[kind]).read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@cache
def validator_for(kind: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema(kind)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def validate(doc: Any) -> None:
    """Raise :class:`DocumentInvalid` unless ``doc`` matches the schema its ``kind`` names."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    if kind not in SCHEMA_FILES:
        raise DocumentInvalid(str(kind), [f"$.kind: expected one of {sorted(SCHEMA_FILES)}, got {kind!r}"])
    validator = validator_for(kind)
    errors = [f"{err.json_path}: {err.message}" for err in validator.iter_errors(doc)]
    if errors:
        raise DocumentInvalid(kind, sorted(errors))
