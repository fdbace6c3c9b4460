"""The batch report (``report.json``, schema ``schemas/report.schema.json``), merged from the
chunks' summaries (:mod:`.summary`), so that it is the same whether the batch ran in one go
or was killed and resumed: everything but ``timings`` depends only on the manifest and the
documents.

:class:`ReportBuilder` is fed the chunks in order, twice: :meth:`~ReportBuilder.add` their
counts (memory grows with distinct names and signatures, not with dumps),
:meth:`~ReportBuilder.select` picks the top signatures, :meth:`~ReportBuilder.detail` merges
their drill-down (capped lists); :meth:`~ReportBuilder.finish` returns the report, validated.
"""
from __future__ import annotations

import heapq
from collections import Counter
from collections.abc import Iterable
from typing import Any

import dumpkit
from dumpkit.pipeline.batch.summary import BREAKDOWN_LISTED, COUNTS, DUMPS_LISTED, MAX_LISTED, newest
from dumpkit.pipeline.document.validate import DocumentInvalid, load_schema, validate
from dumpkit.schemas import CURRENT

__all__ = ["DUMPS_LISTED", "MAX_LISTED", "SIGNATURES_LISTED", "ReportBuilder", "ReportInvalid", "counts",
           "load_report_schema", "validate_report"]

SIGNATURES_LISTED = 100  # top signatures with their drill-down (the tables have them all)
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
    """Merges chunk summaries into the report; memory grows with distinct names, not dumps."""

    def __init__(self, *, batch: str, inputs: Iterable[str], limits: dict[str, int],
                 summary: dict[str, Any], top: int = SIGNATURES_LISTED) -> None:
        self.batch = batch
        self.inputs = list(inputs)
        self.limits = dict(limits)
        self.summary = summary
        self.top = top
        self.n: Counter[str] = Counter()
        self.c: dict[str, Counter[str]] = {k: Counter() for k in COUNTS}
        self.signatures: dict[str, list[Any]] = {}  # signature -> [count, first seen, last seen]
        self.chosen: dict[str, dict[str, Any] | None] = {}
        self.failures: list[dict[str, Any]] = []
        self.failures_omitted = 0
        self.per_format: dict[str, list[float]] = {}  # format -> [count, total s, max s]
        self.slowest: list[list[Any]] = []  # [seconds, key, path, container, format]
        self.minidumps: dict[str, Any] | None = None  # set by --shrink batches
        self.tables: dict[str, Any] | None = None  # set when the tables are written

    def add(self, counts: dict[str, Any]) -> None:
        """A chunk's ``counts.json`` (``summary.ChunkSummary.counts``), chunks in order."""
        self.n.update(counts["n"])
        for name, values in counts["counts"].items():
            self.c[name].update(values)
        sigs = self.signatures
        for sig, count, first, last in counts["signatures"]:
            seen = sigs.get(sig)
            if seen is None:
                sigs[sig] = [count, first, last]
                continue
            seen[0] += count
            if first is not None and (seen[1] is None or first < seen[1]):
                seen[1] = first
            if last is not None and (seen[2] is None or last > seen[2]):
                seen[2] = last
        room = MAX_LISTED - len(self.failures)
        self.failures.extend(counts["failures"][:room])
        self.failures_omitted += counts["n"]["errors"] - min(room, len(counts["failures"]))
        timing = counts["timing"]
        for fmt, (n, total, peak) in timing["per_format"].items():
            agg = self.per_format.setdefault(fmt, [0, 0.0, 0.0])
            agg[0] += n
            agg[1] += total
            agg[2] = max(agg[2], peak)
        self.slowest = heapq.nlargest(10, self.slowest + timing["slowest"], key=lambda e: (e[0], e[1]))

    def select(self) -> None:
        """After every chunk went through :meth:`add`: pick the signatures to detail."""
        ranked = sorted(self.signatures.items(), key=lambda kv: (-kv[1][0], kv[0]))[: self.top]
        self.chosen = {sig: None for sig, _ in ranked}

    def detail(self, signatures: dict[str, Any]) -> None:
        """A chunk's ``signatures.json``, chunks in order: the chosen signatures' drill-down."""
        for sig, more in signatures.items():
            if sig not in self.chosen:
                continue
            have = self.chosen[sig]
            if have is None:  # the first chunk with the signature holds its example
                self.chosen[sig] = more
                continue
            for name in ("by_os", "by_arch", "by_main_module"):
                counter = have[name]
                for value, n in more[name].items():
                    counter[value] = counter.get(value, 0) + n
            have["dumps"] = newest(have["dumps"], more["dumps"])

    def _timings(self, report_s: float) -> dict[str, Any]:
        return {
            "discovery_s": round(float(self.summary.get("discovery_s", 0.0)), 3),
            "normalize_s": round(sum(agg[1] for agg in self.per_format.values()), 3),
            "report_s": round(report_s, 3),
            "documents_made": self.n["made"],
            "documents_reused": self.n["reused"],
            "by_format": [{"format": f, "count": int(n), "total_s": round(total, 3),
                           "mean_ms": round(1000 * total / n, 3), "max_ms": round(1000 * peak, 3)}
                          for f, (n, total, peak) in sorted(self.per_format.items())],
            "slowest": [{"path": path, "container": list(container), "format": fmt, "seconds": round(s, 4)}
                        for s, _, path, container, fmt in self.slowest],
        }

    def _top_signatures(self) -> list[dict[str, Any]]:
        top = []
        for sig, detail in self.chosen.items():
            assert detail is not None, f"detail() was not fed the signature {sig!r}"
            count, first, last = self.signatures[sig]
            top.append({
                "signature": sig, "count": count, "share": round(count / self.n["dumps"], 6),
                "first_seen": first, "last_seen": last, "example": detail["example"],
                "by_os": counts(Counter(detail["by_os"]))[:BREAKDOWN_LISTED],
                "by_arch": counts(Counter(detail["by_arch"]))[:BREAKDOWN_LISTED],
                "by_main_module": counts(Counter(detail["by_main_module"]))[:BREAKDOWN_LISTED],
                "frames": [{"module": m, "function": f, "offset": o} for m, f, o in detail["frames"]],
                "dumps": [{"sha256": key, "path": path, "container": list(container),
                           "created": created or None, "reason": reason, "document": document}
                          for created, key, path, container, reason, document in detail["dumps"]],
                "dumps_omitted": count - len(detail["dumps"]),
            })
        return top

    def finish(self, duplicates: list[dict[str, Any]], report_s: float) -> dict[str, Any]:
        c, n = self.c, self.n
        report = {
            "schema_version": CURRENT["report"],
            "dumpkit_version": dumpkit.__version__,
            "kind": "report",
            "batch": self.batch,
            "inputs": self.inputs,
            "limits": self.limits,
            "totals": {
                "files": n["dumps"] + n["errors"] + len(duplicates),
                "documents": n["dumps"] + n["errors"],
                "dumps": n["dumps"],
                "errors": n["errors"],
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
                "with_diagnostics": n["with_diagnostics"],
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
