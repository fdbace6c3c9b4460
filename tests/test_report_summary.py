"""The report merged from chunk summaries does not depend on how the documents were cut into
chunks, and follows its contract: counts, first/last seen from the dumps' own times (some
recording none), newest dumps first, capped lists."""
from __future__ import annotations

import copy
from typing import Any

from dumpkit.pipeline.batch.report import ReportBuilder
from dumpkit.pipeline.batch.summary import DUMPS_LISTED, ChunkSummary
from tests.synthetic_batch import synthetic_documents

LIMITS = {"max_member_size": 1, "max_ratio": 1, "ratio_floor": 1, "max_depth": 1, "max_members": 1,
          "min_free": 0}


def _report(docs: list[tuple[str, dict[str, Any]]], chunk: int) -> dict[str, Any]:
    builder = ReportBuilder(batch="0" * 16, inputs=["/x"], limits=LIMITS, summary={}, top=30)
    parts = []
    for start in range(0, len(docs), chunk):
        summary = ChunkSummary()
        for key, doc in docs[start:start + chunk]:
            summary.add(key, doc, f"docs/{key}.json", None)
        parts.append((summary.counts(), summary.signatures()))
    for counts, _ in parts:
        builder.add(copy.deepcopy(counts))
    builder.select()
    for _, signatures in parts:
        builder.detail(copy.deepcopy(signatures))
    report = builder.finish([], 0.0)
    report.pop("timings")
    return report


def test_the_report_does_not_depend_on_the_chunks() -> None:
    docs = list(synthetic_documents(600))
    for i, (_, doc) in enumerate(docs):
        if i % 5 == 0:
            doc["source"]["created"] = None  # some dumps record no time
    whole = _report(docs, len(docs))
    assert _report(docs, 7) == whole == _report(docs, 250)
    top = whole["dumps"]["top_signatures"]
    assert len(top) == 30 and whole["dumps"]["signatures"] > 30
    for sig in top:
        mine = [doc for _, doc in docs if doc["crash"] and doc["crash"]["signature"] == sig["signature"]]
        times = sorted(d["source"]["created"] for d in mine if d["source"]["created"])
        assert sig["count"] == len(mine)
        assert (sig["first_seen"], sig["last_seen"]) == ((times[0], times[-1]) if times else (None, None))
        listed = [(d["created"] or "", d["sha256"]) for d in sig["dumps"]]
        assert listed == sorted(((d["source"]["created"] or "", d["source"]["sha256"]) for d in mine),
                                reverse=True)[:DUMPS_LISTED]
        assert sig["dumps_omitted"] == len(mine) - len(listed)
        assert sig["example"]["sha256"] == min(d["source"]["sha256"] for d in mine)
        assert sum(c["count"] for c in sig["by_arch"]) == len(mine)
