"""What identifies a batch, and what makes its documents.

Two keys, so that changing how documents are made never re-reads the inputs:

* the **batch** (:func:`batch_id`): the inputs (paths and, from :func:`inputs_fingerprint`,
  their sizes and times), the expansion limits and the chunk size. It names the manifest
  that discovery wrote (every dump found, hashed once);
* the **run** (:func:`run_id`): what makes each document from a dump: the code and schemas
  (:func:`code_fingerprint`), the libraries whose output lands in documents, and the options
  (symbol sources, ``--shrink`` budget). A document on disk is reused only when the run that
  made it had the same document fingerprint (``work/made/<key>``), so an upgrade that fixes a
  fact, or other symbol options, remakes the documents while an identical rerun skips them.
"""
from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["batch_id", "code_fingerprint", "document_fingerprint", "inputs_fingerprint", "run_id",
           "symbol_options"]

#: libraries whose behaviour shapes a document's content
_LIBRARIES = ("kaitaistruct", "pyelftools", "siggen", "symbolic")
#: parts of the dumpkit package that do not shape a document (they run batches, expand
#: archives, parse arguments or write minidumps)
_NOT_DOCUMENT = ("pipeline/batch", "pipeline/inputs", "pipeline/cli.py", "converters")


def _digest(what: Any) -> str:
    return hashlib.sha256(json.dumps(what, sort_keys=True).encode("utf-8")).hexdigest()[:16]


def batch_id(inputs: list[str], limits: dict[str, int], chunk_size: int, fingerprint: str = "") -> str:
    """Identity of a batch: 16 hex digits of a hash of what defines its manifest."""
    what: dict[str, Any] = {"inputs": list(inputs), "limits": limits, "chunk_size": chunk_size}
    if fingerprint:
        what["fingerprint"] = fingerprint
    return _digest(what)


def inputs_fingerprint(inputs: list[str], exclude: str | None = None) -> str:
    """A hash of the path, size and modification time of every file under ``inputs`` (a walk
    of ``stat`` calls, no reading): a rerun after files were added or changed is a new batch.
    Directories reached through symbolic links, and ``exclude`` (the output folder), are not
    looked into."""
    digest = hashlib.sha256()
    skip = os.path.realpath(exclude) if exclude else None
    for top in sorted(os.path.abspath(p) for p in inputs):
        paths = [top]
        if os.path.isdir(top):
            paths = []
            for root, dirs, files in os.walk(top):
                dirs[:] = sorted(d for d in dirs if os.path.realpath(os.path.join(root, d)) != skip)
                paths.extend(os.path.join(root, name) for name in sorted(files))
        for path in paths:
            try:
                st = os.stat(path)
            except OSError:
                continue
            digest.update(f"{path}\0{st.st_size}\0{st.st_mtime_ns}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()[:16]


@cache
def code_fingerprint(part: str = "document") -> str:
    """A hash of the source and schema files of the dumpkit package that make a ``part``
    ("document": readers, model, unwinding, symbols, normalization, schemas; "minidump": the
    same plus the converters), and of the versions of the libraries in ``_LIBRARIES``.
    Read once per process (about a hundred small files)."""
    import dumpkit

    root = os.path.dirname(dumpkit.__file__)
    skip = [p for p in _NOT_DOCUMENT if not (part == "minidump" and p == "converters")]
    files: list[str] = []
    for folder, dirs, names in os.walk(root, followlinks=True):  # a checkout links pipeline/ etc.
        dirs[:] = [d for d in dirs if d != "__pycache__"]
        rel_dir = os.path.relpath(folder, root).replace(os.sep, "/")
        files += [name if rel_dir == "." else f"{rel_dir}/{name}" for name in names
                  if name.endswith((".py", ".json"))]
    digest = hashlib.sha256()
    for rel in sorted(files):
        if any(rel == s or rel.startswith(s + "/") for s in skip):
            continue
        digest.update(rel.encode("utf-8") + b"\0" + Path(root, rel).read_bytes() + b"\0")
    for name in _LIBRARIES:
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            version = "-"
        digest.update(f"{name}={version}\n".encode())
    return digest.hexdigest()[:16]


def document_fingerprint(options: Mapping[str, Any] | None = None) -> str:
    """What makes a document: the code (:func:`code_fingerprint`) and the ``options`` that
    change its content (symbol sources...; JSON-able values)."""
    return _digest({"code": code_fingerprint("document"), "options": dict(options or {})})


def symbol_options(symbols: str) -> dict[str, Any]:
    """The document options of symbol sources given as ``SymbolConfig.to_json`` text (empty:
    none): their fingerprint, so that other sources remake documents."""
    if not symbols:
        return {}
    from dumpkit.symbols.config import SymbolConfig

    config = SymbolConfig.from_json(symbols)
    return {"symbols": config.fingerprint()} if config.enabled else {}


def run_id(document: str, shrink_max_size: int = 0) -> str:
    """A run over a manifest: the document fingerprint and, with ``--shrink``, the budget and
    the converters' code."""
    what: dict[str, Any] = {"document": document}
    if shrink_max_size:
        what["shrink"] = [shrink_max_size, code_fingerprint("minidump")]
    return _digest(what)
