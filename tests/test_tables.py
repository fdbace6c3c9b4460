"""``DIR/tables/*.parquet`` read back by DuckDB (an independent Parquet reader): the documented
types, as many rows as the documents hold, the same values as the documents, frames that
join threads and dumps; the example queries of ``schemas/TABLES.md`` and README run; and
every published file gets the mode the umask says."""
from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from dumpkit.pipeline.batch.tables import SCHEMAS
from tests.pipeline_run import REPO, ndjson, normalize_cmd, run_normalize
from tests.pipeline_samples import write_minidumps

duckdb = pytest.importorskip("duckdb", reason="duckdb not installed (pip install -e .[test])")

pytestmark = pytest.mark.slow

#: Arrow type -> how DuckDB reads it
DUCKDB_TYPES = {"string": "VARCHAR", "uint64": "UBIGINT", "uint32": "UINTEGER", "int64": "BIGINT",
                "bool": "BOOLEAN", "timestamp[s, tz=UTC]": "TIMESTAMP WITH TIME ZONE",
                "list<item: string>": "VARCHAR[]", "list<item: uint64>": "UBIGINT[]",
                "map<string, uint64>": "MAP(VARCHAR, UBIGINT)",
                "list<item: struct<function: string, source_file: string, source_line: uint32>>":
                    "STRUCT(\"function\" VARCHAR, source_file VARCHAR, source_line UINTEGER)[]"}


@pytest.fixture(scope="module")
def batch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("tables")
    inputs = root / "in"
    write_minidumps(inputs, 40)
    (inputs / "notes.txt").write_text("not a dump\n")
    (inputs / "cut.dmp").write_bytes((inputs / "crash-00001.dmp").read_bytes()[:100])
    out = root / "out"
    result = run_normalize([inputs], out, "--workers", "2")
    assert result.returncode == 1, result.stderr
    return out


def _sql(out: Path, query: str) -> list[tuple[Any, ...]]:
    con = duckdb.connect()
    try:
        con.execute(f"SET file_search_path = '{out}'")
        rows: list[tuple[Any, ...]] = con.execute(query).fetchall()
        return rows
    finally:
        con.close()


def test_tables_md_documents_the_schema() -> None:
    text = (REPO / "schemas" / "TABLES.md").read_text(encoding="utf-8")
    sections = re.split(r"^## ", text, flags=re.M)
    documented = {}
    for section in sections[1:]:
        name = section.split()[0]
        documented[name] = re.findall(r"^\| `([a-z0-9_]+)` \| `([^`]+)` \|", section, flags=re.M)
    for name, schema in SCHEMAS.items():
        assert documented.get(name) == [(f.name, str(f.type)) for f in schema], name


def test_duckdb_reads_the_documented_types(batch: Path) -> None:
    for name, schema in SCHEMAS.items():
        described = _sql(batch, f"DESCRIBE SELECT * FROM 'tables/{name}.parquet'")
        assert [(r[0], r[1]) for r in described] == [(f.name, DUCKDB_TYPES[str(f.type)]) for f in schema]


def test_rows_match_the_documents(batch: Path) -> None:
    docs = ndjson(batch)
    dumps = [d for d in docs if d["kind"] == "dump"]
    errors = [d for d in docs if d["kind"] == "error"]
    assert len(dumps) >= 40 and errors  # notes.txt; cut.dmp is read as far as it goes
    count = {name: _sql(batch, f"SELECT count(*) FROM 'tables/{name}.parquet'")[0][0] for name in SCHEMAS}
    assert count["dumps"] + count["errors"] == len(docs)
    assert count["errors"] == len(errors)
    assert count["threads"] == sum(len(d["threads"]) for d in dumps)
    assert count["frames"] == sum(len(t["frames"]) for d in dumps for t in d["threads"]) > 0
    assert count["modules"] == sum(len(d["modules"]) + len(d["unloaded_modules"]) for d in dumps)
    assert count["diagnostics"] == sum(len(d["diagnostics"]) for d in dumps)
    report = json.loads((batch / "report.json").read_text(encoding="utf-8"))
    assert report["tables"]["rows"] == count
    # in key order, the values of the documents, typed
    rows = _sql(batch, "SELECT sha256, path, epoch(created)::BIGINT, crash_code, crash_code_name, "
                       "crash_address, signature, main_module_version, memory_captured_bytes "
                       "FROM 'tables/dumps.parquet'")
    assert [r[0] for r in rows] == sorted(d["source"]["sha256"] for d in dumps)
    by_sha = {d["source"]["sha256"]: d for d in dumps}
    from datetime import datetime

    for sha, path, created, code, code_name, address, signature, version, captured in rows:
        d = by_sha[sha]
        assert path == d["source"]["path"]
        created_doc = d["source"]["created"]
        assert created == (created_doc and int(datetime.fromisoformat(created_doc).timestamp()))
        crash = d["crash"] or {"code": None, "code_name": None, "address": None, "signature": None}
        assert (code, code_name, signature) == (crash["code"], crash["code_name"], crash["signature"])
        assert address == (crash["address"] and int(crash["address"], 16))
        assert version == (d["modules"][0]["version"] if d["modules"] else None)
        assert captured == d["memory"]["captured_bytes"]
    frames = _sql(batch, "SELECT sha256, thread_id, frame_index, pc, sp, module_offset "
                         "FROM 'tables/frames.parquet'")
    expected = [(d["source"]["sha256"], t["id"], i, int(f["pc"], 16), f["sp"] and int(f["sp"], 16),
                 f["module_offset"] and int(f["module_offset"], 16))
                for d in sorted(dumps, key=lambda d: d["source"]["sha256"]) for t in d["threads"]
                for i, f in enumerate(t["frames"])]
    assert frames == expected
    registers = _sql(batch, "SELECT registers FROM 'tables/threads.parquet' LIMIT 1")[0][0]
    first = sorted(dumps, key=lambda d: d["source"]["sha256"])[0]["threads"][0]["registers"]
    assert dict(registers) == {k: int(v, 16) for k, v in first.items()}


def test_frames_join_threads_and_dumps(batch: Path) -> None:
    (frames,) = _sql(batch, "SELECT count(*) FROM 'tables/frames.parquet'")[0]
    (joined,) = _sql(batch, """
        SELECT count(*) FROM 'tables/frames.parquet' f
        JOIN 'tables/threads.parquet' t USING (sha256, thread_id)
        JOIN 'tables/dumps.parquet' d USING (sha256)""")[0]
    assert joined == frames > 0


def _queries(text: str) -> list[str]:
    blocks = re.findall(r"```sql\n(.*?)```", text, flags=re.S)
    return [q.strip() for block in blocks for q in block.split(";") if q.strip()
            and not all(line.startswith("--") for line in q.strip().splitlines())]


def test_documented_queries_run(batch: Path) -> None:
    sha = ndjson(batch)[0]["source"]["sha256"]
    queries = _queries((REPO / "schemas" / "TABLES.md").read_text(encoding="utf-8"))
    assert len(queries) == 3
    top, per_version, frames = (_sql(batch, q.replace("<sha256>", sha)) for q in queries)
    signatures = Counter(d["crash"]["signature"] for d in ndjson(batch) if d["kind"] == "dump" and d["crash"])
    assert [r[:2] for r in top] == sorted(signatures.items(), key=lambda kv: (-kv[1], kv[0]))[:20]
    assert per_version and frames
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    query = re.search(r"\n    (SELECT .*?;)\n", readme, flags=re.S)
    assert query is not None, "README shows a DuckDB query over the tables"
    rows = _sql(batch.parent, " ".join(line.strip() for line in query.group(1).splitlines()))
    assert rows and all(n > 0 for *_, n in rows)


def _modes(out: Path) -> dict[str, int]:
    modes = {}
    for path in out.rglob("*"):
        if path.is_file() and "work" not in path.relative_to(out).parts:
            modes[str(path.relative_to(out))] = stat.S_IMODE(path.stat().st_mode)
    return modes


@pytest.mark.parametrize("umask", [0o022, 0o007])
def test_published_files_honour_the_umask(umask: int, tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_minidumps(inputs, 6)
    (inputs / "notes.txt").write_text("not a dump\n")
    out = tmp_path / "out"

    def set_umask() -> None:
        os.umask(umask)

    env = {k: v for k, v in os.environ.items() if k != "DUMPKIT_KILL_AT"}
    done = subprocess.run(normalize_cmd([inputs], out, "--shrink"), cwd=REPO, env=env, capture_output=True,
                          text=True, preexec_fn=set_umask, timeout=300, check=False)
    assert done.returncode == 1, done.stderr
    modes = _modes(out)
    kinds = {name.split("/")[0] if "/" in name else name for name in modes}
    assert kinds == {"docs", "errors", "minidumps", "tables", "dumps.ndjson", "report.json", "report.html"}
    wanted = 0o666 & ~umask
    assert {name: oct(mode) for name, mode in modes.items() if mode != wanted} == {}


@pytest.mark.parametrize("library", ["pandas", "polars"])
def test_documented_dataframe_examples_run(library: str, batch: Path) -> None:
    pytest.importorskip(library, reason=f"{library} not installed (pip install -e .[test])")
    text = (REPO / "schemas" / "TABLES.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, flags=re.S) if f"import {library}" in b]
    assert len(blocks) == 1
    sha = ndjson(batch)[0]["source"]["sha256"]
    done = subprocess.run([sys.executable, "-c", blocks[0].replace("<sha256>", sha)], cwd=batch,
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    signatures = {d["crash"]["signature"] for d in ndjson(batch) if d["kind"] == "dump" and d["crash"]}
    assert any(sig[:20] in done.stdout for sig in signatures), done.stdout


def test_a_batch_of_nothing_has_empty_typed_tables(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    out = tmp_path / "out"
    result = run_normalize([tmp_path / "in"], out)
    assert result.returncode == 0, result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["totals"]["documents"] == 0 and set(report["tables"]["rows"].values()) == {0}
    for name, schema in SCHEMAS.items():
        described = _sql(out, f"DESCRIBE SELECT * FROM 'tables/{name}.parquet'")
        assert [r[0] for r in described] == schema.names
