"""``--shrink``: a reduced minidump of each dump of the batch, ``minidumps/<sha256>.dmp``.

The reduction itself is ``dumpkit.converters.shrink`` (full-memory minidumps, ELF process cores,
Windows kernel dumps; stacks, code around instruction pointers and module headers within a
size budget). Here: when to make one, where it goes, and what the report says about it.

Each dump gets a record, ``work/shrink/<sha256>.json``: written (and the file's size) or
skipped (the converter's reason: ``unsupported_source``, ``unsupported_cpu``, ...), with the
size budget and the code that made it (``identity.code_fingerprint("minidump")``). The
minidump is renamed into place before its record is written, so a record always describes a
whole file, and a run killed between the two makes the (same) minidump again.
"""
from __future__ import annotations

import contextlib
import json
import logging
import os
from collections import Counter
from collections.abc import Callable
from typing import Any

import dumpkit
from dumpkit.pipeline.atomic import tmp_name, write_atomic
from dumpkit.pipeline.batch.identity import code_fingerprint
from dumpkit.pipeline.batch.layout import Layout
from dumpkit.pipeline.faults import checkpoint

__all__ = ["ensure_minidump", "prune_minidumps", "summary"]

log = logging.getLogger(__name__)


def _record(layout: Layout, sha: str) -> dict[str, Any] | None:
    try:
        with open(layout.shrink_record(sha), encoding="utf-8") as fh:
            record: dict[str, Any] = json.load(fh)
            return record
    except (OSError, ValueError):
        return None


def ensure_minidump(layout: Layout, sha: str, source: str, max_size: int,
                    check_source: Callable[[], None] | None = None) -> bool:
    """Make the reduced minidump of the dump at ``source`` unless its record says it exists
    (or cannot be made) for this budget and this code. Returns whether any work was done.
    ``check_source`` raises when the source is needed but gone."""
    from dumpkit.converters import ShrinkOptions, shrink_dump
    from dumpkit.errors import DumpkitError

    record = _record(layout, sha)
    target = layout.minidump(sha)
    made_by = code_fingerprint("minidump")
    if (record is not None and record.get("max_size") == max_size
            and record.get("made_by") == made_by
            and (record.get("status") == "skipped" or os.path.exists(target))):
        return False
    if check_source is not None:
        check_source()
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tmp_name(layout.tmp, target)
    new: dict[str, Any] = {"sha256": sha, "max_size": max_size, "made_by": made_by}
    try:
        with dumpkit.open(source) as dump:
            # the header's time: the dump's own, else 0 ("unknown"), never the time of the
            # run: the same batch must give the same bytes however often it runs
            stamp = int(dump.source.created or 0)
            shrink_dump(dump, tmp, ShrinkOptions(max_size=max_size, timestamp=stamp))
        new.update(status="written", size=os.path.getsize(tmp))
        os.replace(tmp, target)
        checkpoint("minidump")
    except DumpkitError as exc:
        new.update(status="skipped", code=exc.code, message=exc.message)
    except Exception as exc:  # a converter bug must not stop the batch: report it instead
        log.exception("shrinking %s failed", source)
        new.update(status="skipped", code="internal_error", message=f"{type(exc).__name__}: {exc}")
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    if new["status"] == "skipped":
        with contextlib.suppress(FileNotFoundError):
            os.unlink(target)
    write_atomic(layout.shrink_record(sha), json.dumps(new, sort_keys=True).encode("utf-8"), layout.tmp)
    return True


def summary(layout: Layout, shas: list[str], max_size: int) -> dict[str, Any]:
    """The report's ``minidumps`` section, from the records of the batch's dumps."""
    written = total = 0
    skipped: Counter[str] = Counter()
    for sha in shas:
        record = _record(layout, sha) or {"status": "skipped", "code": "missing"}
        if record["status"] == "written":
            written += 1
            total += int(record["size"])
        else:
            skipped[record["code"]] += 1
    from dumpkit.pipeline.batch.report import counts

    return {"folder": "minidumps/", "max_size": max_size, "written": written, "bytes": total,
            "skipped": counts(skipped)}


def prune_minidumps(layout: Layout, keep: set[str]) -> None:
    """Remove minidumps and records of dumps that are not in this batch (or all of them,
    for a batch without ``--shrink``)."""
    places = ((os.path.dirname(layout.minidump("x")), ".dmp"),
              (os.path.dirname(layout.shrink_record("x")), ".json"))
    for folder, suffix in places:
        try:
            names = os.listdir(folder)
        except FileNotFoundError:
            continue
        for name in names:
            if name.endswith(suffix) and name[: -len(suffix)] not in keep:
                os.unlink(os.path.join(folder, name))
