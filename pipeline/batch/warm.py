"""Warm-up: whatever a first document costs (lazy imports, tables, compiled schemas: ~70 ms
for a minidump) paid once, up front: before luigi forks its task processes, or in each process
of the pool as it starts (:mod:`.pool`)."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

from dumpkit.pipeline.batch.items import iter_items
from dumpkit.pipeline.batch.layout import Layout

__all__ = ["warm_up", "warm_up_samples"]


def warm_up(samples: Sequence[str] = (), readers: bool = True) -> None:
    """Import every reader (unless not ``readers``: each then loads with its first dump),
    build the validators, the signature generator (siggen's import and rules: ~50 ms), the
    first table of a chunk's part, and read ``samples`` (a dump or
    so per format, results thrown away) now, in the process luigi forks its task processes
    from, or in each process of the pool as it starts (:mod:`.pool`): whatever a first
    document costs (lazy imports, tables, compiled schemas: ~70 ms for a minidump) is then
    paid once, not again in every task process."""
    import importlib

    from dumpkit.detect import FORMATS
    from dumpkit.pipeline.batch.tables import TABLES, TableRows
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.signature import stack_generator
    from dumpkit.pipeline.document.validate import CURRENT, fast_check

    for module in sorted(set(FORMATS.values())) if readers else ():
        with contextlib.suppress(ImportError):
            importlib.import_module(f"dumpkit.readers.{module}")
    for kind, version in CURRENT.items():
        fast_check(kind, version)
    stack_generator()
    TableRows().table(TABLES[0])  # pyarrow's first array (tables.py: without pandas)
    for path in samples:
        document_for(path)


def warm_up_samples(layout: Layout, batch: str, n_chunks: int) -> list[str]:
    """One dump of each format of the batch (the first in key order), to :func:`warm_up` on."""
    chosen: dict[str, str] = {}
    for item in iter_items(layout, batch, n_chunks):
        fmt = item["format"]
        if fmt and fmt not in chosen and item["path"] and os.path.exists(item["path"]):
            chosen[fmt] = item["path"]
    return [chosen[f] for f in sorted(chosen)]
