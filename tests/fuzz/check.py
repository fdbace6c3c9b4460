"""One fuzz input through the real path: ``dumpkit.open`` -> ``normalize`` -> ``validate``.

The contract (the same as the truncation/byte-flip harness in ``tests/mutation.py``): bad input
gives a dump document that validates, or an error document that validates; nothing else.
:func:`check_input` returns the outcome's name and raises on anything else:

* :class:`Finding` for an ``internal_error`` (as an error code or as a diagnostic) or a
  document that fails its schema;
* any other exception escapes as it is (a reader bug), with its traceback.

Inputs whose magic names another family are not read (the fuzzer mutates the magic too).
"""
from __future__ import annotations

import os
from pathlib import Path

import dumpkit
from dumpkit.detect import sniff
from dumpkit.errors import DumpkitError
from dumpkit.pipeline.document.normalize import error_document, normalize
from dumpkit.pipeline.document.validate import DocumentInvalid, validate
from tests.fuzz.families import Family

__all__ = ["INTERNAL_ERROR", "Finding", "check_file", "check_input"]

INTERNAL_ERROR = "internal_error"


class Finding(AssertionError):
    """The input broke the contract in a way that is not an exception of its own."""


def check_file(path: Path, family: Family) -> str:
    """Read the dump at ``path`` into a validated document; the outcome (``document``, ``error:CODE``)."""
    with open(path, "rb") as fh:
        fmt = sniff(fh.read(64))
    if fmt not in family.formats:
        return "other_format"
    try:
        with dumpkit.open(path) as dump:
            doc = normalize(dump)
    except DumpkitError as exc:
        if exc.code == INTERNAL_ERROR:
            raise Finding(f"{INTERNAL_ERROR}: {exc}") from exc
        doc = error_document(os.fspath(path), exc.code, exc.message, structure=exc.structure,
                             offset=exc.offset, size=os.path.getsize(path), fmt=fmt)
    try:
        validate(doc)
    except DocumentInvalid as exc:
        raise Finding(f"the {doc.get('kind')} document fails its schema: {exc}") from exc
    bugs = [d for d in doc.get("diagnostics", []) if d.get("code") == INTERNAL_ERROR]
    if bugs:
        raise Finding(f"{INTERNAL_ERROR} diagnostic: {bugs[0]}")
    if doc["kind"] == "error":
        return f"error:{doc['error']['code']}"
    return "document"


def check_input(data: bytes, family: Family, scratch: Path) -> str:
    """:func:`check_file` on ``data`` written to ``scratch`` (overwritten each call)."""
    if sniff(data[:64]) not in family.formats:
        return "other_format"
    scratch.write_bytes(data)
    return check_file(scratch, family)
