"""The work of one chunk of the manifest: its documents, its part (what publishing merges:
:mod:`.parts`), then its marker ``work/batches/<batch>/runs/<run>/done/<index>.json``.

Run by the luigi task :class:`~dumpkit.pipeline.batch.tasks.NormalizeChunk`, or by a process of
the warm pool (:mod:`.pool`): the same files either way, the marker last.
"""
from __future__ import annotations

import json
import os
import socket
from typing import Any

from dumpkit.pipeline.atomic import write_atomic
from dumpkit.pipeline.batch.items import load_chunk, process_item
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.batch.parts import PartWriter
from dumpkit.pipeline.batch.symbols import symbol_store

__all__ = ["make_chunk"]


def make_chunk(layout: Layout, batch: str, run_key: str, made_by: str, index: int,
               shrink_max_size: int = 0, symbols: str = "") -> dict[str, Any]:
    """The chunk's documents, then its part, then its marker (written atomically, without
    luigi: a process of the pool has none; luigi's target for it is ``targets.chunk_done``);
    returns the marker."""
    processed: list[str] = []
    seconds: dict[str, float] = {}
    reused = 0
    part = PartWriter(layout, batch, run_key, index)
    store = symbol_store(symbols)
    try:
        for item in load_chunk(layout, batch, index):
            made = process_item(layout, item, made_by, shrink_max_size, store)
            part.add(item["key"], made.doc, made.data, layout.relative(made.path), made.seconds)
            if made.seconds is None:
                reused += 1
            else:
                processed.append(item["key"])
                seconds[item["key"]] = round(made.seconds, 6)
        part.finish()
    finally:
        part.close()
    marker = {"batch": batch, "index": index, "worker": f"{socket.gethostname()}:{os.getpid()}",
              "processed": processed, "reused": reused, "seconds": seconds}
    write_atomic(layout.done(batch, run_key, index), json.dumps(marker).encode("ascii"), layout.tmp)
    return marker
