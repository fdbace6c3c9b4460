"""The symbol cache: one directory shared by worker processes and by machines mounting it.

Files (found on a server, or expanded from a local ``.pd_``) are kept in the layouts of
:mod:`dumpkit.symbols.keys`, so the cache is itself a symbol dir::

    CACHE/app.pdb/DEBUGID/app.sym          Breakpad
    CACHE/app.pdb/DEBUGID/app.pdb          PDB (expanded if it came as app.pd_)
    CACHE/app.exe/CODEID/app.exe           PE
    CACHE/BUILDID/executable, debuginfo    ELF by build-id
    CACHE/.misses/ab/<sha256>.json         remembered misses (see below)
    CACHE/.tmp/.tmp-*                      downloads and expansions in progress

A file enters only after its id was checked, through a temporary file (``CACHE/.tmp/.tmp-*``,
the same file system), ``fsync`` and ``rename``: readers see the whole file or none, and two
writers of the same file both leave a good one. Temporary files of killed processes are pruned
after a day (:meth:`SymbolCache.prune_temp`, run when a finder starts).

A *miss* ("no remote source had it") is remembered per remote-source set for ``miss_ttl``
seconds; a lookup that met a server error for ``error_ttl`` seconds only, so a flaky server is
asked again soon.
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

__all__ = ["Miss", "SymbolCache"]


@dataclass(frozen=True, slots=True)
class Miss:
    """A remembered miss: when it expires and why it was a miss."""

    until: float
    reason: str


class SymbolCache:
    """The cache directory ``root`` (created on first write)."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def path(self, rel: tuple[str, ...]) -> str:
        """The absolute path of ``rel`` (components from :mod:`dumpkit.symbols.keys`, checked
        again here: none is empty, ``.``, ``..`` or holds a separator or NUL, so the result is
        always inside ``root``)."""
        for part in rel:
            if not part or part in (".", "..") or "/" in part or "\0" in part:
                raise ValueError(f"unsafe cache path component {part!r}")
        return os.path.join(self.root, *rel)

    def get(self, rel: tuple[str, ...]) -> str | None:
        """The cached file at ``rel``, if there is one."""
        full = self.path(rel)
        return full if os.path.isfile(full) else None

    @contextlib.contextmanager
    def writing(self, rel: tuple[str, ...]) -> Iterator[tuple[BinaryIO, str]]:
        """A temporary file (in ``root/.tmp``, the same file system) for ``rel`` and its path;
        the caller fills it and calls :meth:`commit`, else it is removed when the block ends."""
        self.path(rel)
        os.makedirs(os.path.join(self.root, ".tmp"), exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.join(self.root, ".tmp"))
        try:
            with os.fdopen(fd, "w+b") as fh:
                yield fh, tmp
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def commit(self, fh: BinaryIO, tmp: str, rel: tuple[str, ...]) -> str:
        """Make the filled temporary file ``tmp`` the cached file ``rel`` (atomically)."""
        final = self.path(rel)
        fh.flush()
        os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)
        os.makedirs(os.path.dirname(final), exist_ok=True)
        os.replace(tmp, final)
        with contextlib.suppress(OSError):  # make the rename durable too (best effort)
            dfd = os.open(os.path.dirname(final), os.O_RDONLY)
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        return final

    def prune_temp(self, older_than: float = 86400.0) -> int:
        """Remove temporary files left by killed processes (older than ``older_than`` seconds;
        a live download is bounded by the client's deadline); returns how many. Best effort."""
        removed = 0
        cutoff = time.time() - older_than
        with contextlib.suppress(OSError), os.scandir(os.path.join(self.root, ".tmp")) as entries:
            for entry in entries:
                with contextlib.suppress(OSError):
                    if entry.name.startswith(".tmp-") and entry.stat().st_mtime < cutoff:
                        os.unlink(entry.path)
                        removed += 1
        return removed

    def _miss_path(self, key: str, sources: str) -> str:
        digest = hashlib.sha256(f"{sources}\0{key}".encode("utf-8", "surrogatepass")).hexdigest()
        return self.path((".misses", digest[:2], digest + ".json"))

    def miss(self, key: str, sources: str, now: float | None = None) -> Miss | None:
        """The unexpired miss remembered for ``key`` from the remote-source set ``sources``."""
        try:
            with open(self._miss_path(key, sources), "rb") as fh:
                data = json.loads(fh.read(4096))
            entry = Miss(float(data["until"]), str(data["reason"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return entry if entry.until > (time.time() if now is None else now) else None

    def remember_miss(self, key: str, sources: str, ttl: float, reason: str) -> None:
        """Remember that ``key`` was not found (best effort: a cache that cannot be written
        only means asking again)."""
        final = self._miss_path(key, sources)
        blob = json.dumps({"key": key, "until": time.time() + ttl, "reason": reason[:500]}).encode()
        with contextlib.suppress(OSError):
            os.makedirs(os.path.dirname(final), exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(final))
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(blob)
                os.replace(tmp, final)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(tmp)
