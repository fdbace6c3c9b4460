"""The batch report (``report.json``, schema ``schemas/report.schema.json``), built from the
documents on disk, so that it is the same whether the batch ran in one go or was killed and
resumed: everything but ``timings`` depends only on the manifest and the documents.

:class:`ReportBuilder` is fed the manifest's items in key order, with their documents;
:meth:`ReportBuilder.finish` returns the report, validated.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import dumpkit
from dumpkit.pipeline.document.validate import DocumentInvalid, load_schema, validate
from dumpkit.schemas import CURRENT

__all__ = ["MAX_LISTED", "ReportBuilder", "ReportInvalid", "counts",
           "load_report_schema", "validate_report"]

MAX_LISTED = 5000  # failures and duplicates listed in report.json (dumps.ndjson has them all)
Doc = dict[str, Any]


class ReportInvalid(ValueError):
    """The report does not match ``schemas/report.schema.json`` (a bug of ours)."""


def load_report_schema() -> dict[str, Any]:
    return load_schema("report", CURRENT["report"])


def validate_report(report: Any) -> None:
    """Raise :class:`ReportInvalid` unless ``report`` matches the report schema."""
    try:
        validate(report)
    except DocumentInvalid as exc:
        raise ReportInvalid(f"report invalid: {exc}") from exc


def counts(counter: Counter[str]) -> list[dict[str, Any]]:
    """``[{"name", "count"}]``, largest count first, ties by name: stable across runs."""
    return [{"name": name, "count": n}
            for name, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))]


class ReportBuilder:
    """Aggregates documents into the report; memory grows with distinct names, not dumps."""

    def __init__(self, *, batch: str, inputs: Iterable[str], limits: dict[str, int],
                 summary: dict[str, Any], top: int = 25) -> None:
        self.batch = batch
        self.inputs = list(inputs)
        self.limits = dict(limits)
        self.summary = summary
        self.top = top
        self.n_dumps = self.n_errors = self.with_diag = 0
        self.c: dict[str, Counter[str]] = {k: Counter() for k in (
            "format", "variant", "os", "arch", "crash_kind", "crash", "diag", "reason", "fail_format")}
        self.signatures: Counter[str] = Counter()
        self.examples: dict[str, dict[str, Any]] = {}
        self.failures: list[dict[str, Any]] = []
        self.failures_omitted = 0
        self.timing_rows: list[tuple[str, dict[str, Any], float]] = []
        self.made = self.reused = 0
        self.minidumps: dict[str, Any] | None = None  # set by --shrink batches

    def add(self, item: dict[str, Any], doc: Doc, document: str) -> None:
        """One item of the manifest, its document, and the document's path (relative)."""
        if doc["kind"] == "dump":
            self._dump(doc)
        else:
            self._error(item, doc, document)

    def _dump(self, doc: Doc) -> None:
        self.n_dumps += 1
        src, system, crash = doc["source"], doc["system"], doc["crash"]
        c = self.c
        c["format"][src["format"]] += 1
        c["variant"][src["variant"] or "unknown"] += 1
        c["os"][system["os"] or "unknown"] += 1
        c["arch"][system["cpu_arch"] or "unknown"] += 1
        if crash is None:
            c["crash_kind"]["none"] += 1
            c["crash"]["none"] += 1
        else:
            c["crash_kind"][crash["kind"]] += 1
            c["crash"][crash["code_name"] or "unknown"] += 1
            sig = crash["signature"]
            self.signatures[sig] += 1
            if sig not in self.examples:  # items come in key order: the example is stable
                self.examples[sig] = {"sha256": src["sha256"], "path": src["path"],
                                      "container": list(src["container"])}
        codes = {d["code"] for d in doc["diagnostics"]}
        c["diag"].update(codes)
        self.with_diag += bool(codes)

    def _error(self, item: dict[str, Any], doc: Doc, document: str) -> None:
        self.n_errors += 1
        err, src = doc["error"], doc["source"]
        self.c["reason"][err["code"]] += 1
        self.c["fail_format"][src["format"] or "unknown"] += 1
        if len(self.failures) >= MAX_LISTED:
            self.failures_omitted += 1
            return
        self.failures.append({"key": item["key"], "path": src["path"], "container": list(src["container"]),
                              "code": err["code"], "message": err["message"], "offset": err["offset"],
                              "document": document})

    def timing(self, item: dict[str, Any], seconds: float | None) -> None:
        """Time spent making the item's document in this run (``None``: it was on disk)."""
        if seconds is None:
            self.reused += 1
        else:
            self.made += 1
            self.timing_rows.append((item["format"] or "", item, seconds))

    def _timings(self, report_s: float) -> dict[str, Any]:
        per: dict[str, list[float]] = {}
        for fmt, _, s in self.timing_rows:
            per.setdefault(fmt or "unknown", []).append(s)
        slow = sorted(self.timing_rows, key=lambda r: -r[2])[:10]
        return {
            "discovery_s": round(float(self.summary.get("discovery_s", 0.0)), 3),
            "normalize_s": round(sum(r[2] for r in self.timing_rows), 3),
            "report_s": round(report_s, 3),
            "documents_made": self.made,
            "documents_reused": self.reused,
            "by_format": [{"format": f, "count": len(v), "total_s": round(sum(v), 3),
                           "mean_ms": round(1000 * sum(v) / len(v), 3), "max_ms": round(1000 * max(v), 3)}
                          for f, v in sorted(per.items())],
            "slowest": [{"path": item["display"], "container": list(item["container"]),
                         "format": item["format"], "seconds": round(s, 4)} for _, item, s in slow],
        }

    def finish(self, duplicates: list[dict[str, Any]], report_s: float) -> dict[str, Any]:
        c = self.c
        top = sorted(self.signatures.items(), key=lambda kv: (-kv[1], kv[0]))[: self.top]
        report = {
            "schema_version": CURRENT["report"],
            "dumpkit_version": dumpkit.__version__,
            "kind": "report",
            "batch": self.batch,
            "inputs": self.inputs,
            "limits": self.limits,
            "totals": {
                "files": self.n_dumps + self.n_errors + len(duplicates),
                "documents": self.n_dumps + self.n_errors,
                "dumps": self.n_dumps,
                "errors": self.n_errors,
                "duplicates": len(duplicates),
                "containers": int(self.summary.get("containers", 0)),
                "input_bytes": int(self.summary.get("input_bytes", 0)),
            },
            "dumps": {
                "by_format": counts(c["format"]), "by_variant": counts(c["variant"]),
                "by_os": counts(c["os"]), "by_arch": counts(c["arch"]),
                "by_crash_kind": counts(c["crash_kind"]), "by_crash": counts(c["crash"]),
                "top_signatures": [{"signature": s, "count": n, "example": self.examples[s]} for s, n in top],
                "signatures": len(self.signatures),
                "diagnostics": counts(c["diag"]),
                "with_diagnostics": self.with_diag,
            },
            "failures": {
                "by_reason": counts(c["reason"]), "by_format": counts(c["fail_format"]),
                "items": self.failures, "items_omitted": self.failures_omitted,
            },
            "duplicates": {
                "count": len(duplicates), "items": duplicates[:MAX_LISTED],
                "items_omitted": max(0, len(duplicates) - MAX_LISTED),
            },
            "minidumps": self.minidumps,
            "outputs": {"docs": "docs/", "errors": "errors/", "ndjson": "dumps.ndjson",
                        "html": "report.html"},
            "timings": self._timings(report_s),
        }
        validate_report(report)
        return report
