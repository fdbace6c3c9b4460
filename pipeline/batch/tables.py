"""The batch's typed tables (``DIR/tables/*.parquet``, contract: ``schemas/TABLES.md``).

One fixed pyarrow schema per table (:data:`SCHEMAS`), never inferred from the data: addresses
and sizes are ``uint64`` (the documents' hex strings parsed), times are UTC timestamps, codes
are integers with their names in the next column. :class:`TableRows` collects the rows of a
chunk's documents column by column; :func:`table_bytes` makes the chunk's part file (Arrow
IPC); :func:`merge_tables` streams the parts, in chunk order, into the published Parquet files.

Why pyarrow rather than DuckDB's writer (``benchmarks/bench_publish.py --writers`` measures
both on the same Arrow tables; 10,000 synthetic documents: pyarrow 1.7 s, DuckDB 4.5 s with
one thread; 100,000: 3.1 s against 16.5 s, on a busy 2-core machine): the rows start as
Python values in a chunk task, pyarrow builds typed columns from them directly, and writing
needs no database. Parts are Arrow IPC, not
Parquet: reading 40 Parquet parts back cost more than writing the merged file (per column
chunk overhead: ~0.2 ms per document in all), IPC parts are memory-mapped. The files carry
no write time and row groups are cut by the rows' bytes, so one clean run, a resumed one and
a distributed one write the same bytes.
"""
from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dumpkit.pipeline.atomic import tmp_name
from dumpkit.pipeline.batch.layout import TABLES
from dumpkit.pipeline.faults import checkpoint
from dumpkit.pipeline.probes import hidden

__all__ = ["SCHEMAS", "TABLES", "TableMerger", "TableRows", "merge_tables", "table_bytes"]

Doc = dict[str, Any]

_S, _U64, _U32, _I64 = pa.string(), pa.uint64(), pa.uint32(), pa.int64()
_TS = pa.timestamp("s", tz="UTC")
_B = pa.bool_()
_STRS = pa.list_(pa.string())
_INLINED = pa.list_(pa.struct([pa.field("function", _S), pa.field("source_file", _S),
                               pa.field("source_line", _U32)]))


_PROBED = False


def _answer_pandas_probe() -> None:
    """pyarrow's first array from Python values asks once whether pandas is installed (to
    tell pandas values apart), importing it when it is: ~0.25 s per process (more than the
    rest of a pool process's warm-up), for values the batch never has (its rows are plain
    Python values). That question is answered "no" here, before any array: the tables come
    out as where pandas is not installed (a plain install: pandas is a test extra for
    dumpkit), byte for byte. pandas stays importable, and pyarrow's own conversions to and
    from pandas (``to_pandas``) import it when they are asked for."""
    global _PROBED
    if _PROBED or "pandas" in sys.modules:
        return
    _PROBED = True
    with hidden("pandas"):
        pa.array([None])  # the probe: pyarrow's import of pandas fails, and is not tried again


def _schema(*fields: tuple[str, pa.DataType, bool]) -> pa.Schema:
    return pa.schema([pa.field(name, typ, nullable=nullable) for name, typ, nullable in fields])


#: table name -> its schema; column order is the schema's order
SCHEMAS: dict[str, pa.Schema] = {
    "dumps": _schema(
        ("sha256", _S, False), ("path", _S, False), ("container", _STRS, False), ("size", _U64, False),
        ("format", _S, False), ("variant", _S, True), ("byte_order", _S, False), ("created", _TS, True),
        ("os", _S, False), ("os_version", _S, True), ("os_build", _U64, True), ("os_detail", _S, True),
        ("kernel_release", _S, True), ("cpu_arch", _S, False), ("cpu_count", _U32, True),
        ("cpu_vendor", _S, True), ("cpu_description", _S, True), ("page_size", _U64, True),
        ("product_type", _S, True),
        ("pid", _U64, True), ("ppid", _U64, True), ("process_name", _S, True), ("command_line", _S, True),
        ("uid", _U64, True), ("gid", _U64, True), ("process_start_time", _TS, True),
        ("crash_kind", _S, True), ("crash_code", _I64, True), ("crash_code_name", _S, True),
        ("crash_code_space", _S, True), ("crash_subcode", _I64, True), ("crash_subcode_name", _S, True),
        ("crash_address", _U64, True), ("crash_parameters", pa.list_(_U64), True),
        ("crash_thread_id", _U64, True), ("crash_sender_pid", _U64, True), ("crash_module", _S, True),
        ("crash_module_offset", _U64, True), ("crash_message", _S, True), ("signature", _S, True),
        ("short_signature", _S, True), ("main_module", _S, True), ("main_module_version", _S, True),
        ("threads", _U32, False), ("modules", _U32, False), ("unloaded_modules", _U32, False),
        ("diagnostics", _U32, False),
        ("memory_address_space", _S, False), ("memory_captured_ranges", _U64, False),
        ("memory_captured_bytes", _U64, False), ("memory_lowest", _U64, True),
        ("memory_highest", _U64, True), ("memory_largest_gap", _U64, True), ("memory_regions", _U64, False),
        ("document", _S, False), ("schema_version", _U32, False), ("dumpkit_version", _S, False)),
    "threads": _schema(
        ("sha256", _S, False), ("thread_id", _U64, False), ("thread_index", _U32, False), ("name", _S, True),
        ("crashed", _B, False), ("stack_start", _U64, True), ("stack_size", _U64, True),
        ("context_source", _S, True), ("frames", _U32, False),
        ("registers", pa.map_(_S, _U64), False)),
    "frames": _schema(
        ("sha256", _S, False), ("thread_id", _U64, False), ("thread_index", _U32, False),
        ("frame_index", _U32, False), ("crashed", _B, False), ("pc", _U64, False), ("sp", _U64, True),
        ("trust", _S, False), ("module", _S, True), ("module_offset", _U64, True), ("function", _S, True),
        ("function_offset", _U64, True), ("source_file", _S, True), ("source_line", _U32, True),
        ("inlined", _INLINED, False)),
    "modules": _schema(
        ("sha256", _S, False), ("module_index", _U32, False), ("unloaded", _B, False), ("name", _S, False),
        ("path", _S, False), ("base", _U64, False), ("size", _U64, False), ("version", _S, True),
        ("timestamp", _TS, True), ("checksum", _U64, True), ("code_id", _S, True), ("debug_id", _S, True),
        ("debug_file", _S, True), ("build_id", _S, True), ("soname", _S, True)),
    "diagnostics": _schema(
        ("sha256", _S, False), ("diagnostic_index", _U32, False), ("severity", _S, False),
        ("code", _S, False), ("message", _S, False), ("structure", _S, True), ("offset", _U64, True)),
    "errors": _schema(
        ("key", _S, False), ("sha256", _S, True), ("path", _S, False), ("container", _STRS, False),
        ("size", _U64, True), ("format", _S, True), ("code", _S, False), ("message", _S, False),
        ("structure", _S, True), ("offset", _U64, True), ("document", _S, False),
        ("dumpkit_version", _S, False)),
}
if tuple(SCHEMAS) != TABLES:  # the layout names the files: one list of tables
    raise ImportError(f"tables.SCHEMAS names {tuple(SCHEMAS)}, layout.TABLES {TABLES}")


def _hex(value: str | None) -> int | None:
    return None if value is None else int(value, 16)


def _time(value: str | None) -> int | None:
    """Seconds since the epoch of a document's ``YYYY-MM-DDTHH:MM:SSZ``."""
    return None if value is None else int(datetime.fromisoformat(value).timestamp())


class TableRows:
    """The rows of some documents, column by column, for every table."""

    def __init__(self) -> None:
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in SCHEMAS}

    def add(self, key: str, doc: Doc, document: str) -> None:
        """One document (either kind) and its path relative to DIR."""
        if doc["kind"] == "dump":
            self._dump(doc, document)
        else:
            self._error(key, doc, document)

    def _put(self, table: str, values: tuple[Any, ...]) -> None:
        self.rows[table].append(values)

    def _dump(self, doc: Doc, document: str) -> None:
        src, system, mem = doc["source"], doc["system"], doc["memory"]
        sha = src["sha256"]
        proc = doc["process"] or {}
        crash = doc["crash"] or {}
        modules = doc["modules"]
        main = modules[0] if modules else None
        self._put("dumps", (
            sha, src["path"], list(src["container"]), src["size"], src["format"], src["variant"],
            src["byte_order"], _time(src["created"]),
            system["os"], system["os_version"], system["os_build"], system["os_detail"],
            system["kernel_release"], system["cpu_arch"], system["cpu_count"], system["cpu_vendor"],
            system["cpu_description"], system["page_size"], system["product_type"],
            proc.get("pid"), proc.get("ppid"), proc.get("name"), proc.get("command_line"), proc.get("uid"),
            proc.get("gid"), _time(proc.get("start_time")),
            crash.get("kind"), crash.get("code"), crash.get("code_name"), crash.get("code_space"),
            crash.get("subcode"), crash.get("subcode_name"), _hex(crash.get("address")),
            [int(p, 16) for p in crash["parameters"]] if crash else None, crash.get("thread_id"),
            crash.get("sender_pid"), crash.get("module"), _hex(crash.get("module_offset")),
            crash.get("message"), crash.get("signature"), crash.get("short_signature"),
            main["name"] if main else None, main["version"] if main else None,
            len(doc["threads"]), len(modules), len(doc["unloaded_modules"]), len(doc["diagnostics"]),
            mem["address_space"], mem["captured_ranges"], mem["captured_bytes"], _hex(mem["lowest"]),
            _hex(mem["highest"]), _hex(mem["largest_gap"]), mem["regions"],
            document, doc["schema_version"], doc["dumpkit_version"]))
        frame_row = self.rows["frames"].append
        for t_index, thread in enumerate(doc["threads"]):
            tid, crashed, stack = thread["id"], thread["crashed"], thread["stack"]
            self._put("threads", (
                sha, tid, t_index, thread["name"], crashed,
                _hex(stack["start"]) if stack else None, stack["size"] if stack else None,
                thread["context_source"], len(thread["frames"]),
                [(name, int(value, 16)) for name, value in thread["registers"].items()]))
            for f_index, f in enumerate(thread["frames"]):
                frame_row((sha, tid, t_index, f_index, crashed, int(f["pc"], 16), _hex(f["sp"]), f["trust"],
                           f["module"], _hex(f["module_offset"]), f["function"], _hex(f["function_offset"]),
                           f["source_file"], f["source_line"],
                           [(i["function"], i["source_file"], i["source_line"])
                            for i in f.get("inlined") or ()]))
        index = 0
        for unloaded, group in ((False, modules), (True, doc["unloaded_modules"])):
            for m in group:
                self._put("modules", (
                    sha, index, unloaded, m["name"], m["path"], int(m["base"], 16), m["size"], m["version"],
                    m["timestamp"], _hex(m["checksum"]), m["code_id"], m["debug_id"], m["debug_file"],
                    m["build_id"], m["soname"]))
                index += 1
        for d_index, d in enumerate(doc["diagnostics"]):
            self._put("diagnostics", (sha, d_index, d["severity"], d["code"], d["message"], d["structure"],
                                      _hex(d["offset"])))

    def _error(self, key: str, doc: Doc, document: str) -> None:
        src, err = doc["source"], doc["error"]
        self._put("errors", (
            key, src["sha256"], src["path"], list(src["container"]), src["size"], src["format"], err["code"],
            err["message"], err["structure"], _hex(err["offset"]), document, doc["dumpkit_version"]))

    def table(self, name: str) -> pa.Table:
        _answer_pandas_probe()
        schema, rows = SCHEMAS[name], self.rows[name]
        columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
        return pa.table([pa.array(column, type=f.type) for column, f in zip(columns, schema, strict=True)],
                        schema=schema)


#: a published row group holds at least this many bytes of rows (unless the table is smaller):
#: big enough that per-group costs vanish, small enough that memory stays flat
ROW_GROUP_BYTES = 8 << 20


def table_bytes(table: pa.Table) -> bytes:
    """A table as the bytes of an Arrow IPC file (a chunk's part: read back memory-mapped at
    almost no cost, where a Parquet part would be decoded and encoded again)."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    return bytes(sink.getvalue())


def merge_tables(part: Callable[[int, str], str], n_parts: int, final: Callable[[str], str],
                 tmp_dir: str) -> dict[str, int]:
    """For every table, the parts ``part(index, file name)`` of chunks ``0..n_parts-1``, in
    order, as one Parquet file at ``final(name)`` (:class:`TableMerger`). Returns rows per table."""
    merger = TableMerger(part, final, tmp_dir)
    try:
        for index in range(n_parts):
            merger.add(index)
        return merger.finish()
    finally:
        merger.close()


class TableMerger:
    """Every table's Parquet file (zstd; a row group per ROW_GROUP_BYTES of rows, so the
    bytes depend only on the rows), fed the chunks' parts ``part(index, file name)`` one chunk
    at a time, in order, as they are ready; written through ``tmp_dir``, renamed onto
    ``final(name)`` by :meth:`finish`. Memory: the rows of a row group per table, at most."""

    def __init__(self, part: Callable[[int, str], str], final: Callable[[str], str], tmp_dir: str) -> None:
        _answer_pandas_probe()
        self.part, self.final = part, final
        self.rows: dict[str, int] = dict.fromkeys(SCHEMAS, 0)
        self.tmp: dict[str, str] = {}
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.pending: dict[str, list[pa.Table]] = {name: [] for name in SCHEMAS}
        self.size: dict[str, int] = dict.fromkeys(SCHEMAS, 0)
        try:
            for name, schema in SCHEMAS.items():
                os.makedirs(os.path.dirname(final(name)), exist_ok=True)
                self.tmp[name] = tmp_name(tmp_dir, final(name))
                self.writers[name] = pq.ParquetWriter(self.tmp[name], schema, compression="zstd",
                                                      write_statistics=True)
        except BaseException:
            self.close()
            raise

    def add(self, index: int) -> None:
        """The rows of chunk ``index`` (chunks in order)."""
        for name in SCHEMAS:
            with pa.memory_map(self.part(index, name + ".arrow")) as source:
                table = pa.ipc.open_file(source).read_all()
            if not table.num_rows:
                continue
            self.pending[name].append(table)
            self.size[name] += table.nbytes
            self.rows[name] += table.num_rows
            if self.size[name] >= ROW_GROUP_BYTES:
                _flush(self.writers[name], self.pending[name])
                self.pending[name], self.size[name] = [], 0

    def finish(self) -> dict[str, int]:
        """Write the last row groups, rename every file into place; rows per table."""
        for name in SCHEMAS:
            _flush(self.writers[name], self.pending[name])
            self.pending[name] = []
            self.writers.pop(name).close()
            os.replace(self.tmp.pop(name), self.final(name))
            checkpoint("table")
        return dict(self.rows)

    def close(self) -> None:
        """Forget what :meth:`finish` did not rename into place."""
        for writer in self.writers.values():
            with contextlib.suppress(Exception):
                writer.close()
        self.writers.clear()
        for tmp in self.tmp.values():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.tmp.clear()


def _flush(writer: pq.ParquetWriter, tables: list[pa.Table]) -> None:
    """The rows of ``tables`` as one row group."""
    if tables:
        group = pa.concat_tables(tables)
        writer.write_table(group, row_group_size=group.num_rows)
