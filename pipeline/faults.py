"""Fault injection for the resume tests: die by SIGKILL at a named point of the batch.

``DUMPKIT_KILL_AT=<point>:<n>`` makes the process group of the *n*-th arrival at ``point``
(counted per process) receive SIGKILL there, as a crash or an operator's ``kill -9`` would.
Points: ``spool`` (a member was just spooled during discovery), ``document`` (a document was
just written), ``part`` (a chunk's part is written, its marker not yet), ``publish``
(``dumps.ndjson`` is written, ``report.json`` not yet), ``table`` (a table of ``tables/`` was
just written). Unset, a
checkpoint costs one dictionary lookup.
"""
from __future__ import annotations

import os
import signal

__all__ = ["checkpoint"]

_seen: dict[str, int] = {}


def checkpoint(point: str) -> None:
    """Die here if ``DUMPKIT_KILL_AT`` names this point and its count is reached."""
    wanted = os.environ.get("DUMPKIT_KILL_AT")
    if not wanted:
        return
    name, _, count = wanted.partition(":")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] >= int(count or 1):
        os.killpg(os.getpgrp(), signal.SIGKILL)
