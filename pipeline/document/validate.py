"""Validate documents against the JSON Schemas in ``schemas/`` (Draft 2020-12).

Two engines, one schema:

* ``jsonschema`` (Python) is the reference: it explains every failure and backs
  ``dumpkit validate``;
* ``jsonschema-rs`` (Rust, same draft) answers the hot-path question "is this document
  valid?" ~300x faster (13 us instead of 4 ms for a 26-module minidump document), which is
  what keeps a small dump under the 2 ms budget in a batch. When it says "invalid", the
  reference engine produces the error list. If the compiled engine is unavailable on a
  platform, the reference engine does everything. ``tests/test_validators.py`` checks that
  both engines agree, valid and invalid documents alike.

Validators are built once per process; both libraries are imported on first use.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from typing import Any

from dumpkit.pipeline.probes import build_date_parsed
from dumpkit.schemas import CURRENT, SCHEMA_FILES, schema_text

__all__ = [
    "CURRENT",
    "SCHEMA_FILES",
    "DocumentInvalid",
    "fast_check",
    "load_schema",
    "reference_errors",
    "schema_key",
    "validate",
]

class DocumentInvalid(ValueError):
    """A document does not match its schema; ``errors`` lists "path: message" strings."""

    def __init__(self, kind: str, errors: list[str]) -> None:
        super().__init__(f"{kind} document invalid: " + "; ".join(errors[:5])
                         + (f" (+{len(errors) - 5} more)" if len(errors) > 5 else ""))
        self.kind = kind
        self.errors = errors


@cache
def load_schema(kind: str, version: int | None = None) -> dict[str, Any]:
    """The schema of ``kind`` documents at ``version`` (default: the current one)."""
    key = (kind, CURRENT.get(kind, 0) if version is None else version)
    if key not in SCHEMA_FILES:
        raise KeyError(f"no schema for {kind!r} documents version {key[1]}")
    schema: dict[str, Any] = json.loads(schema_text(SCHEMA_FILES[key]))
    return schema


@cache
def _reference_validator(kind: str, version: int) -> Any:
    from jsonschema import Draft202012Validator

    schema = load_schema(kind, version)
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


@cache
def fast_check(kind: str, version: int) -> Callable[[Any], bool] | None:
    """The compiled engine's ``is_valid`` for ``kind``, or ``None`` where it is unavailable."""
    try:
        with build_date_parsed():  # its build facts parse a date: no email.utils for that
            import jsonschema_rs
    except ImportError:  # pragma: no cover - platform without the wheel
        return None
    validator = jsonschema_rs.Draft202012Validator(load_schema(kind, version), validate_formats=False)
    check: Callable[[Any], bool] = validator.is_valid
    return check


def schema_key(doc: Any) -> tuple[str, int]:
    """``(kind, schema_version)`` of a document, or :class:`DocumentInvalid` if there is no schema."""
    kind = doc.get("kind") if isinstance(doc, dict) else None
    version = doc.get("schema_version") if isinstance(doc, dict) else None
    if (kind, version) not in SCHEMA_FILES:
        known = ", ".join(f"{k} v{v}" for k, v in sorted(SCHEMA_FILES))
        raise DocumentInvalid(str(kind), [f"$: no schema for kind={kind!r} schema_version={version!r} "
                                          f"(known: {known})"])
    return kind, version  # type: ignore[return-value]


def reference_errors(doc: Any, kind: str, version: int | None = None) -> list[str]:
    """Every schema violation of ``doc`` as "json-path: message", by the reference engine."""
    validator = _reference_validator(kind, CURRENT[kind] if version is None else version)
    return sorted(f"{err.json_path}: {err.message}" for err in validator.iter_errors(doc))


def validate(doc: Any) -> None:
    """Raise :class:`DocumentInvalid` unless ``doc`` matches the schema its kind and version name."""
    kind, version = schema_key(doc)
    check = fast_check(kind, version)
    if check is not None and check(doc):
        return
    errors = reference_errors(doc, kind, version)
    if errors:
        raise DocumentInvalid(kind, errors)
    if check is not None:  # the engines disagree: the reference decides, but say so
        import logging  # only here: a short ``inspect`` never needs it

        logging.getLogger(__name__).warning(
            "jsonschema-rs rejected a %s document that jsonschema accepts; please report", kind)
