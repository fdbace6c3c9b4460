"""JSON Schemas of dumpkit's documents and their prose contracts (imports as ``dumpkit.schemas``).

This module is the one owner of schema versions: which file holds each (kind, version), and
which version of each kind dumpkit writes now. The newest dump schema is ``dump.schema.json``;
older versions stay as ``dump.v<N>.schema.json`` so old documents keep validating.
"""
from __future__ import annotations

import os

__all__ = ["CURRENT", "SCHEMA_FILES", "schema_text"]

#: (kind, schema_version) -> schema file in this package
SCHEMA_FILES: dict[tuple[str, int], str] = {
    ("dump", 3): "dump.schema.json",
    ("dump", 2): "dump.v2.schema.json",
    ("dump", 1): "dump.v1.schema.json",
    ("error", 1): "error.schema.json",
    ("report", 2): "report.schema.json",
    ("report", 1): "report.v1.schema.json",
}
#: the version of each kind that dumpkit writes
CURRENT: dict[str, int] = {"dump": 3, "error": 1, "report": 2}


def schema_text(file: str) -> str:
    """The text of the schema file ``file`` of this package (a folder on disk: the readers mmap
    their inputs and the package is never imported from a zip, so ``importlib.resources`` and
    its ~3 ms of imports are not needed)."""
    with open(os.path.join(os.path.dirname(__file__), file), encoding="utf-8") as fp:
        return fp.read()
