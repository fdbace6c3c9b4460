"""A chunk's summary: what the report needs of the chunk's documents, aggregated as the chunk
finishes, so that publishing merges a few counts per chunk instead of a row per document.

Two files per chunk part (``parts``):

* ``counts.json`` (:meth:`ChunkSummary.counts`): documents by kind, counts by name (format,
  OS, CPU, main module, crash...), every signature with its count and first/last
  ``source.created``, the chunk's error items, the keys of its documents, and the time spent
  making them;
* ``signatures.json`` (:meth:`ChunkSummary.signatures`): per signature, what its drill-down
  shows: the first dump (the chunk's, in key order) with its frames, breakdowns by OS, CPU
  and main module, and its newest dumps.

Both depend only on the chunk's documents (and, for ``timing``, on this run), and merge in
chunk order into the batch's report (``report.ReportBuilder``).
"""
from __future__ import annotations

import heapq
from collections import Counter
from operator import itemgetter
from typing import Any

__all__ = ["BREAKDOWN_LISTED", "COUNTS", "DUMPS_LISTED", "FRAMES_KEPT", "MAX_LISTED", "ChunkSummary",
           "main_module_name", "newest", "os_version_name"]

MAX_LISTED = 5000  # failures and duplicates listed in report.json (dumps.ndjson has them all)
DUMPS_LISTED = 50  # dumps listed per top signature, the most recent first
BREAKDOWN_LISTED = 10  # names per breakdown of one signature
FRAMES_KEPT = 16  # frames of the crashing thread shown for a signature
#: the report's counts by name
COUNTS = ("format", "variant", "os", "os_version", "arch", "module", "crash_kind", "crash", "diag",
          "reason", "fail_format")

Doc = dict[str, Any]
_NEWEST = itemgetter(0, 1)


def os_version_name(os: str, version: str | None) -> str:
    return f"{os} {version}" if version else os


def main_module_name(modules: list[dict[str, Any]]) -> str:
    """The document's first module (the executable of a user dump, the kernel of a kernel
    dump) and its version."""
    if not modules:
        return "unknown"
    main = modules[0]
    return f"{main['name']} {main['version']}" if main["version"] else main["name"]


def _frames(doc: Doc) -> list[list[str | None]]:
    """``[module, function, module_offset or pc]`` of the crashing thread's first frames."""
    crash = doc["crash"]
    wanted = crash["thread_id"] if crash else None
    threads = doc["threads"]
    thread = next((t for t in threads if t["crashed"]), None) or next(
        (t for t in threads if t["id"] == wanted), None)
    if thread is None:
        return []
    frames = thread["frames"][:FRAMES_KEPT]
    return [[f["module"], f["function"], f["module_offset"] or f["pc"]] for f in frames]


def newest(entries: list[list[Any]], more: list[list[Any]]) -> list[list[Any]]:
    """The DUMPS_LISTED newest of two lists of ``[created, key, ...]`` (newest first;
    ``created`` is "" for a dump that records no time)."""
    return sorted(entries + more, key=_NEWEST, reverse=True)[:DUMPS_LISTED]


class ChunkSummary:
    """The summary of one chunk, fed its documents in key order."""

    def __init__(self) -> None:
        self.n = {"dumps": 0, "errors": 0, "with_diagnostics": 0, "made": 0, "reused": 0}
        self.c: dict[str, Counter[str]] = {k: Counter() for k in COUNTS}
        self.sigs: dict[str, list[Any]] = {}  # signature -> [count, first, last]
        self.detail: dict[str, dict[str, Any]] = {}
        self.failures: list[dict[str, Any]] = []
        self.dump_keys: list[str] = []
        self.error_keys: list[str] = []
        self.per_format: dict[str, list[float]] = {}  # format -> [count, total s, max s]
        self.slowest: list[list[Any]] = []  # [seconds, key, path, container, format]

    def add(self, key: str, doc: Doc, document: str, seconds: float | None) -> None:
        """One document, its path relative to DIR, and the seconds spent making it in this
        run (``None``: it was on disk)."""
        src = doc["source"]
        if doc["kind"] == "dump":
            self._dump(key, doc, document)
        else:
            self._error(key, doc, document)
        if seconds is None:
            self.n["reused"] += 1
            return
        self.n["made"] += 1
        fmt = src["format"] or "unknown"
        agg = self.per_format.setdefault(fmt, [0, 0.0, 0.0])
        agg[0] += 1
        agg[1] += seconds
        agg[2] = max(agg[2], seconds)
        if len(self.slowest) < 10 or seconds > self.slowest[-1][0]:  # kept largest first
            entry = [seconds, key, src["path"], src["container"], fmt]
            self.slowest = heapq.nlargest(10, [*self.slowest, entry], key=lambda e: (e[0], e[1]))

    def _dump(self, key: str, doc: Doc, document: str) -> None:
        self.n["dumps"] += 1
        self.dump_keys.append(key)
        src, system, crash = doc["source"], doc["system"], doc["crash"]
        c = self.c
        os_version = os_version_name(system["os"] or "unknown", system["os_version"])
        module = main_module_name(doc["modules"])
        c["format"][src["format"]] += 1
        c["variant"][src["variant"] or "unknown"] += 1
        c["os"][system["os"] or "unknown"] += 1
        c["os_version"][os_version] += 1
        c["arch"][system["cpu_arch"] or "unknown"] += 1
        c["module"][module] += 1
        codes = {d["code"] for d in doc["diagnostics"]}
        c["diag"].update(codes)
        self.n["with_diagnostics"] += bool(codes)
        if crash is None:
            c["crash_kind"]["none"] += 1
            c["crash"]["none"] += 1
            return
        c["crash_kind"][crash["kind"]] += 1
        c["crash"][crash["code_name"] or "unknown"] += 1
        sig, created = crash["signature"], src["created"]
        seen = self.sigs.get(sig)
        entry = [created or "", key, src["path"], src["container"], crash["code_name"], document]
        if seen is None:
            self.sigs[sig] = [1, created, created]
            self.detail[sig] = {
                "example": {"sha256": key, "path": src["path"], "container": list(src["container"])},
                "frames": _frames(doc), "by_os": {os_version: 1}, "by_arch": {system["cpu_arch"]: 1},
                "by_main_module": {module: 1}, "dumps": [entry]}
            return
        seen[0] += 1
        if created is not None:
            if seen[1] is None or created < seen[1]:
                seen[1] = created
            if seen[2] is None or created > seen[2]:
                seen[2] = created
        detail = self.detail[sig]
        for name, value in (("by_os", os_version), ("by_arch", system["cpu_arch"]),
                            ("by_main_module", module)):
            detail[name][value] = detail[name].get(value, 0) + 1
        dumps = detail["dumps"]
        dumps.append(entry)
        if len(dumps) >= 2 * DUMPS_LISTED:
            detail["dumps"] = newest(dumps, [])

    def _error(self, key: str, doc: Doc, document: str) -> None:
        self.n["errors"] += 1
        self.error_keys.append(key)
        err, src = doc["error"], doc["source"]
        self.c["reason"][err["code"]] += 1
        self.c["fail_format"][src["format"] or "unknown"] += 1
        if len(self.failures) < MAX_LISTED:
            self.failures.append({"key": key, "path": src["path"], "container": list(src["container"]),
                                  "code": err["code"], "message": err["message"], "offset": err["offset"],
                                  "document": document})

    def counts(self) -> dict[str, Any]:
        """``counts.json``."""
        return {"n": self.n, "counts": {k: dict(v) for k, v in self.c.items()},
                "signatures": [[sig, *seen] for sig, seen in self.sigs.items()],
                "failures": self.failures, "dump_keys": self.dump_keys, "error_keys": self.error_keys,
                "timing": {"per_format": self.per_format, "slowest": self.slowest}}

    def signatures(self) -> dict[str, Any]:
        """``signatures.json``."""
        for detail in self.detail.values():
            detail["dumps"] = newest(detail["dumps"], [])
        return self.detail
