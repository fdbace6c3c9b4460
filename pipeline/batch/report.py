"""The batch report (``report.json``, schema ``schemas/report.schema.json``), built from the
summary rows of the documents (``parts.summary_row``), so that it is the same whether the
batch ran in one go or was killed and resumed: everything but ``timings`` depends only on the
manifest and the documents.

:class:`ReportBuilder` reads the rows twice, in key order: :meth:`~ReportBuilder.add` counts
(memory grows with distinct names and signatures, not with dumps), :meth:`~ReportBuilder.select`
picks the top signatures, :meth:`~ReportBuilder.detail` collects their drill-down (capped
lists); :meth:`~ReportBuilder.finish` returns the report, validated.
"""
from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from typing import Any

import dumpkit
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.document.validate import DocumentInvalid, load_schema, validate
from dumpkit.schemas import CURRENT

__all__ = ["DUMPS_LISTED", "MAX_LISTED", "SIGNATURES_LISTED", "ReportBuilder", "ReportInvalid", "counts",
           "load_report_schema", "validate_report"]

MAX_LISTED = 5000  # failures and duplicates listed in report.json (dumps.ndjson has them all)
SIGNATURES_LISTED = 100  # top signatures with their drill-down (the tables have them all)
DUMPS_LISTED = 50  # dumps listed per top signature, the most recent first
BREAKDOWN_LISTED = 10  # names per breakdown of one signature
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


def _os_version(row: dict[str, Any]) -> str:
    return f"{row['os']} {row['os_version']}" if row["os_version"] else row["os"]


def _main_module(row: dict[str, Any]) -> str:
    if row["module"] is None:
        return "unknown"
    return f"{row['module']} {row['module_version']}" if row["module_version"] else row["module"]


class _Signature:
    """What the report says of one top signature, gathered by :meth:`ReportBuilder.detail`."""

    def __init__(self) -> None:
        self.example: dict[str, Any] | None = None
        self.frames: list[list[str | None]] = []
        self.dumps: list[tuple[str, str, dict[str, Any]]] = []  # (created, key, entry), heap: newest kept
        self.by: dict[str, Counter[str]] = {"os": Counter(), "arch": Counter(), "module": Counter()}

    def add(self, row: dict[str, Any]) -> None:
        if self.example is None:
            self.example = {"sha256": row["key"], "path": row["path"], "container": list(row["container"])}
            self.frames = row["frames"]
        self.by["os"][_os_version(row)] += 1
        self.by["arch"][row["arch"]] += 1
        self.by["module"][_main_module(row)] += 1
        entry = (row["created"] or "", row["key"], row)
        if len(self.dumps) < DUMPS_LISTED:
            heapq.heappush(self.dumps, entry)
        elif entry[:2] > self.dumps[0][:2]:
            heapq.heapreplace(self.dumps, entry)


class ReportBuilder:
    """Aggregates summary rows into the report; memory grows with distinct names, not dumps."""

    def __init__(self, *, batch: str, inputs: Iterable[str], limits: dict[str, int],
                 summary: dict[str, Any], top: int = SIGNATURES_LISTED) -> None:
        self.batch = batch
        self.inputs = list(inputs)
        self.limits = dict(limits)
        self.summary = summary
        self.top = top
        self.n_dumps = self.n_errors = self.with_diag = 0
        self.c: dict[str, Counter[str]] = {k: Counter() for k in (
            "format", "variant", "os", "os_version", "arch", "module", "crash_kind", "crash", "diag",
            "reason", "fail_format")}
        self.signatures: dict[str, list[Any]] = {}  # signature -> [count, first seen, last seen]
        self.chosen: dict[str, _Signature] = {}
        self.failures: list[dict[str, Any]] = []
        self.failures_omitted = 0
        self.per_format: dict[str, list[float]] = {}  # format -> [count, total s, max s]
        self.slowest: list[tuple[float, str, dict[str, Any]]] = []  # heap of the 10 slowest
        self.made = self.reused = 0
        self.minidumps: dict[str, Any] | None = None  # set by --shrink batches
        self.tables: dict[str, Any] | None = None  # set when the tables are written

    def add(self, row: dict[str, Any]) -> None:
        """One document's summary row (``parts.summary_row``), in key order."""
        if row["kind"] == "dump":
            self._dump(row)
        else:
            self._error(row)

    def _dump(self, row: dict[str, Any]) -> None:
        self.n_dumps += 1
        c = self.c
        c["format"][row["format"]] += 1
        c["variant"][row["variant"] or "unknown"] += 1
        c["os"][row["os"] or "unknown"] += 1
        c["os_version"][_os_version(row) or "unknown"] += 1
        c["arch"][row["arch"] or "unknown"] += 1
        c["module"][_main_module(row)] += 1
        if row["crash_kind"] is None:
            c["crash_kind"]["none"] += 1
            c["crash"]["none"] += 1
        else:
            c["crash_kind"][row["crash_kind"]] += 1
            c["crash"][row["reason"] or "unknown"] += 1
            created = row["created"]
            seen = self.signatures.get(row["signature"])
            if seen is None:
                self.signatures[row["signature"]] = [1, created, created]
            else:
                seen[0] += 1
                if created is not None:
                    if seen[1] is None or created < seen[1]:
                        seen[1] = created
                    if seen[2] is None or created > seen[2]:
                        seen[2] = created
        codes = row["diagnostics"]
        c["diag"].update(codes)
        self.with_diag += bool(codes)

    def _error(self, row: dict[str, Any]) -> None:
        self.n_errors += 1
        self.c["reason"][row["code"]] += 1
        self.c["fail_format"][row["format"] or "unknown"] += 1
        if len(self.failures) >= MAX_LISTED:
            self.failures_omitted += 1
            return
        self.failures.append({"key": row["key"], "path": row["path"], "container": list(row["container"]),
                              "code": row["code"], "message": row["message"], "offset": row["offset"],
                              "document": Layout.document_name(row["key"], "error")})

    def select(self) -> None:
        """After every row went through :meth:`add`: pick the signatures to detail."""
        ranked = sorted(self.signatures.items(), key=lambda kv: (-kv[1][0], kv[0]))[: self.top]
        self.chosen = {sig: _Signature() for sig, _ in ranked}

    def detail(self, row: dict[str, Any]) -> None:
        """Second reading of the rows, in key order: the chosen signatures' dumps and stacks."""
        if row["kind"] == "dump" and row["crash_kind"] is not None:
            chosen = self.chosen.get(row["signature"])
            if chosen is not None:
                chosen.add(row)

    def timing(self, row: dict[str, Any], seconds: float | None) -> None:
        """Time spent making the row's document in this run (``None``: it was on disk)."""
        if seconds is None:
            self.reused += 1
            return
        self.made += 1
        fmt = row["format"] or "unknown"
        agg = self.per_format.setdefault(fmt, [0, 0.0, 0.0])
        agg[0] += 1
        agg[1] += seconds
        agg[2] = max(agg[2], seconds)
        entry = (seconds, row["key"], row)
        if len(self.slowest) < 10:
            heapq.heappush(self.slowest, entry)
        elif entry[:2] > self.slowest[0][:2]:
            heapq.heapreplace(self.slowest, entry)

    def _timings(self, report_s: float) -> dict[str, Any]:
        slow = sorted(self.slowest, key=lambda e: (-e[0], e[1]))
        return {
            "discovery_s": round(float(self.summary.get("discovery_s", 0.0)), 3),
            "normalize_s": round(sum(agg[1] for agg in self.per_format.values()), 3),
            "report_s": round(report_s, 3),
            "documents_made": self.made,
            "documents_reused": self.reused,
            "by_format": [{"format": f, "count": int(n), "total_s": round(total, 3),
                           "mean_ms": round(1000 * total / n, 3), "max_ms": round(1000 * peak, 3)}
                          for f, (n, total, peak) in sorted(self.per_format.items())],
            "slowest": [{"path": row["path"], "container": list(row["container"]),
                         "format": row["format"], "seconds": round(s, 4)} for s, _, row in slow],
        }

    def _top_signatures(self) -> list[dict[str, Any]]:
        top = []
        for sig, detail in self.chosen.items():
            count, first, last = self.signatures[sig]
            assert detail.example is not None, "detail() was not fed the rows"
            dumps = sorted(detail.dumps, key=lambda e: (e[0], e[1]), reverse=True)
            top.append({
                "signature": sig, "count": count, "share": round(count / self.n_dumps, 6),
                "first_seen": first, "last_seen": last, "example": detail.example,
                "by_os": counts(detail.by["os"])[:BREAKDOWN_LISTED],
                "by_arch": counts(detail.by["arch"])[:BREAKDOWN_LISTED],
                "by_main_module": counts(detail.by["module"])[:BREAKDOWN_LISTED],
                "frames": [{"module": m, "function": f, "offset": o} for m, f, o in detail.frames],
                "dumps": [{"sha256": row["key"], "path": row["path"], "container": list(row["container"]),
                           "created": row["created"], "reason": row["reason"],
                           "document": Layout.document_name(row["key"], "dump")}
                          for _, _, row in dumps],
                "dumps_omitted": count - len(dumps),
            })
        return top

    def finish(self, duplicates: list[dict[str, Any]], report_s: float) -> dict[str, Any]:
        c = self.c
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
                "by_os": counts(c["os"]), "by_os_version": counts(c["os_version"]),
                "by_arch": counts(c["arch"]), "by_main_module": counts(c["module"]),
                "by_crash_kind": counts(c["crash_kind"]), "by_crash": counts(c["crash"]),
                "top_signatures": self._top_signatures(),
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
            "tables": self.tables,
            "outputs": {"docs": "docs/", "errors": "errors/", "ndjson": "dumps.ndjson",
                        "html": "report.html", "tables": "tables/"},
            "listed": {"signatures": self.top, "dumps_per_signature": DUMPS_LISTED,
                       "failures": MAX_LISTED, "duplicates": MAX_LISTED},
            "timings": self._timings(report_s),
        }
        validate_report(report)
        return report
