"""Imported by the fork server of the chunk pool (:mod:`.pool`) as it starts, and only there:
the import warms that process up (every reader, the validators, pyarrow's first table: what
a first document and a chunk's part cost), so that each process of the pool, forked from it, starts warm and
shares those pages with the others instead of paying for them again.

This runs while the scheduling process loads luigi and discovers the inputs. A failure here
is left for the processes of the pool to meet again as they start, where it is logged.
"""
from __future__ import annotations

import gc
import warnings


def _warm() -> None:
    with warnings.catch_warnings():  # this process has no log: its stderr is the terminal
        warnings.simplefilter("ignore")
        try:
            import dumpkit.pipeline.batch.chunk  # noqa: F401 - what a chunk needs beyond a document
            from dumpkit.pipeline.batch.warm import warm_up

            warm_up(readers=True)
        except Exception:  # met again, and logged, by each process of the pool
            return
    gc.freeze()  # the collector leaves what exists now alone, here and in every process forked


_warm()
