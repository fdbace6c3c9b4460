"""Publishing a batch (``dumps.ndjson``, ``tables/``, ``report.json``, ``report.html``): cost per
document and peak memory, at 10,000 and 100,000 documents (issue 13, goal 5: <= 0.1 ms per
document; RSS at 100,000 <= RSS at 10,000 + 50 MB).

The batches are synthetic (``tests/synthetic_batch.py``: real documents of 12 small minidumps,
varied and validated, with their chunk parts written by the real ``PartWriter``), with their
documents on disk too. Each measurement runs in a fresh process (imports done before the
clock starts; peak RSS from ``getrusage``):

* **publish** (now): ``publish`` over the chunk parts, the real code;
* **re-read** (before): what publishing did before parts existed, at the least: read and
  parse every document on disk and write its NDJSON line (the old report aggregation came
  on top, so the ratio understates the change).

``--writers`` also compares the Parquet writers on the same Arrow tables (pyarrow, DuckDB);
``--templates DIR`` varies the documents in DIR (e.g. a corpus batch's ``docs/``: documents of
real sizes, ~12 frames and ~22 modules each) instead of the 12 small minidumps.

    .venv/bin/python benchmarks/bench_publish.py [--sizes 10000 100000] [--writers] [--templates DIR]
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

_MAKE = """
import sys
sys.path.insert(0, {repo!r})
from pathlib import Path
from tests.synthetic_batch import make_synthetic
templates = {templates!r}
make_synthetic(Path({out!r}), {n}, documents=True, templates_from=Path(templates) if templates else None)
"""

_PUBLISH = """
import json, resource, sys, time
sys.path.insert(0, {repo!r})
import luigi, pyarrow.parquet, jsonschema
from dumpkit.pipeline.batch import publish, report, report_html, tables, targets
from dumpkit.pipeline.document.validate import fast_check
from dumpkit.pipeline.batch.layout import Layout
from tests.synthetic_batch import publish_synthetic
fast_check("report", 2)
spent = {{"tables_cpu": 0.0}}
merge = tables.merge_tables


def timed_merge(*args, **kwargs):
    cpu = time.process_time()
    try:
        return merge(*args, **kwargs)
    finally:
        spent["tables_cpu"] += time.process_time() - cpu


tables.merge_tables = timed_merge
started, cpu = time.perf_counter(), time.process_time()
publish_synthetic(Layout({out!r}))
print(json.dumps({{"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu, **spent,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_REREAD = """
import json, os, resource, sys, time
sys.path.insert(0, {repo!r})
from dumpkit.pipeline.batch.items import encode_document, existing_document, iter_items
from dumpkit.pipeline.batch.layout import Layout
from tests.synthetic_batch import BATCH
layout = Layout({out!r})
with open(os.path.join(layout.manifest(BATCH), "manifest.json")) as fh:
    chunks = json.load(fh)["chunks"]
started, cpu = time.perf_counter(), time.process_time()
with open(os.path.join(layout.out, "reread.ndjson"), "w", encoding="utf-8") as nd:
    for item in iter_items(layout, BATCH, chunks):
        path, doc = existing_document(layout, item["key"])
        nd.write(encode_document(doc).decode("utf-8"))
print(json.dumps({{"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""

_WRITERS = """
import glob, json, os, sys, time
import duckdb, pyarrow as pa, pyarrow.parquet as pq
sys.path.insert(0, {repo!r})
from dumpkit.pipeline.batch.tables import SCHEMAS
out = {out!r}
result = {{"pyarrow": 0.0, "duckdb_1_thread": 0.0, "duckdb_2_threads": 0.0}}
for name in SCHEMAS:
    pattern = os.path.join(out, "work", "batches", "*", "runs", "*", "parts", "*", name + ".arrow")
    parts = sorted(glob.glob(pattern))
    table = pa.concat_tables([pa.ipc.open_file(pa.memory_map(p)).read_all() for p in parts])
    started = time.perf_counter()
    pq.write_table(table, os.path.join(out, "w.parquet"), compression="zstd",
                   row_group_size=max(1, table.num_rows))
    result["pyarrow"] += time.perf_counter() - started
    for threads, key in ((1, "duckdb_1_thread"), (2, "duckdb_2_threads")):
        con = duckdb.connect()
        con.execute(f"set threads={{threads}}")
        con.register("t", table)
        started = time.perf_counter()
        con.execute(f"copy (select * from t) to '{{out}}/w.parquet' (format parquet, compression zstd)")
        result[key] += time.perf_counter() - started
        con.close()
print(json.dumps(result))
"""


def _run(code: str) -> dict[str, float]:
    """Run ``code`` in a fresh interpreter; the JSON object it prints last."""
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(done.stderr)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    ap.add_argument("--writers", action="store_true", help="also compare pyarrow and DuckDB writers")
    ap.add_argument("--keep", action="store_true", help="keep the synthetic batches")
    ap.add_argument("--templates", default="", help="a folder of dump documents to vary (e.g. the docs/ of "
                                                    "a corpus batch) instead of 12 small minidumps")
    args = ap.parse_args()
    rows: dict[int, dict[str, dict[str, float]]] = {}
    for n in args.sizes:
        out = Path(tempfile.mkdtemp(prefix=f"dumpkit-publish-{n}-"))
        try:
            started = time.perf_counter()
            make = _MAKE.format(repo=str(REPO), out=str(out), n=n, templates=args.templates)
            subprocess.run([sys.executable, "-c", make],
                           cwd=REPO, check=True)
            print(f"{n:,} synthetic documents made in {time.perf_counter() - started:.1f} s ({out})")
            rows[n] = {"publish": _run(_PUBLISH.format(repo=str(REPO), out=str(out))),
                       "re-read": _run(_REREAD.format(repo=str(REPO), out=str(out)))}
            for name in ("publish", "re-read"):
                r = rows[n][name]
                print(f"  {name:8s} {r['seconds']:8.2f} s wall {1e3 * r['seconds'] / n:7.3f} ms/doc, "
                      f"{r['cpu']:8.2f} s CPU {1e3 * r['cpu'] / n:7.3f} ms/doc, "
                      f"peak RSS {r['rss_mb']:7.1f} MB")
            tables_cpu = rows[n]["publish"]["tables_cpu"]
            print(f"  of which the Parquet tables {tables_cpu:.2f} s CPU "
                  f"({1e3 * tables_cpu / n:.3f} ms/doc); "
                  f"NDJSON + report + page {rows[n]['publish']['cpu'] - tables_cpu:.2f} s CPU "
                  f"({1e3 * (rows[n]['publish']['cpu'] - tables_cpu) / n:.3f} ms/doc)")
            ratio = rows[n]["publish"]["seconds"] / rows[n]["re-read"]["seconds"]
            cpu_ratio = rows[n]["publish"]["cpu"] / rows[n]["re-read"]["cpu"]
            print(f"  publish / re-read: {ratio:.3f}x wall, {cpu_ratio:.3f}x CPU")
            if args.writers:
                w = _run(_WRITERS.format(repo=str(REPO), out=str(out)))
                print("  Parquet writers, same tables: " + ", ".join(f"{k} {v:.2f} s" for k, v in w.items())
                      + f"; DuckDB (1 thread) / pyarrow: {w['duckdb_1_thread'] / w['pyarrow']:.2f}x")
        finally:
            if not args.keep:
                shutil.rmtree(out, ignore_errors=True)
    if len(rows) >= 2:
        small, big = min(rows), max(rows)
        grow = rows[big]["publish"]["rss_mb"] - rows[small]["publish"]["rss_mb"]
        per = [1e3 * rows[n]["publish"]["seconds"] / n for n in (small, big)]
        cpu = [1e3 * rows[n]["publish"]["cpu"] / n for n in (small, big)]
        print(f"publish: {per[0]:.3f} ms/doc at {small:,}, {per[1]:.3f} ms/doc at {big:,} wall "
              f"({cpu[0]:.3f} and {cpu[1]:.3f} CPU; goal <= 0.1); "
              f"peak RSS {big:,} - {small:,}: {grow:+.1f} MB (goal <= +50)")


if __name__ == "__main__":
    main()
