"""The places a symbol file can come from, each asked for one :class:`SymbolKey` at a time.

- :class:`LocalDir`: a directory in any layout of :mod:`dumpkit.symbols.keys`, and ``_``-compressed
  PDB/PE files in it (expanded into the cache);
- :class:`Sysroot`: the target's files under their absolute paths, and its
  ``usr/lib/debug/.build-id`` tree (ELF kinds only);
- :class:`SymbolServer`: an HTTP(S) server in Breakpad / Microsoft symstore / build-id layout,
  tried as symbol-server clients do: the file, then its ``_``-compressed form;
- :class:`Debuginfod`: ``GET URL/buildid/BUILDID/debuginfo`` or ``/executable``.

Every file is checked to carry the key's id before it is used or cached; a file of another id
is a problem line naming where it was found. Remote sources stop asking a server that just
failed (for ``error_ttl`` seconds, doubled for each failure in a row, at most ``miss_ttl``), so
a hanging server costs one timeout budget now and then, not one per module.
"""
from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO
from urllib.parse import quote

from dumpkit.model import Module
from dumpkit.symbols.cab import CabError, expand_cab
from dumpkit.symbols.cache import SymbolCache
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.http import HttpClient
from dumpkit.symbols.identity import check_identity
from dumpkit.symbols.keys import SymbolKey, safe_component
from dumpkit.symbols.locate import FileKind, IdMismatch

__all__ = ["Answer", "Debuginfod", "LocalDir", "SymbolServer", "Sysroot"]


@dataclass(slots=True)
class Answer:
    """A source's answer: the file (``path``), problems met, and whether a server failed."""

    path: str | None = None
    problems: list[str] = field(default_factory=list)
    error: bool = False
    down: str | None = None  # the server itself failed (timeout, 5xx, garbage): why


def _ascii_case(text: str, change: Callable[[str], str]) -> str:
    """``text`` with its ASCII letters (only) changed by ``change``."""
    return "".join(change(ch) if ch.isascii() else ch for ch in text)


def _inside(root: str, rel: tuple[str, ...]) -> str | None:
    """``root/rel`` if it stays inside ``root`` lexically, else None."""
    full = os.path.normpath(os.path.join(root, *rel))
    return full if os.path.commonpath([root, full]) == root else None


def _expand_into_cache(packed: str, key: SymbolKey, cache: SymbolCache, cfg: SymbolConfig,
                       origin: str) -> Answer:
    """Expand the cabinet ``packed`` into the cache as ``key``'s file, if it carries the id."""
    try:
        with cache.writing(key.cache_path()) as (fh, tmp):
            expand_cab(packed, key.name, fh, max_bytes=cfg.max_download,
                       max_members=cfg.max_cab_members, timeout=max(cfg.timeout, 60.0))
            fh.flush()
            reason = check_identity(tmp, key)
            if reason is not None:
                return Answer(problems=[IdMismatch(f"{origin}: {reason}; rejected")], error=True)
            return Answer(cache.commit(fh, tmp, key.cache_path()))
    except CabError as exc:
        return Answer(problems=[f"{origin}: {exc}; rejected"], error=True)
    except OSError as exc:
        return Answer(problems=[f"cache {cache.root}: cannot write: {exc.strerror or exc}"], error=True)


class LocalDir:
    """A symbol directory (never written to)."""

    def __init__(self, root: str, cache: SymbolCache, cfg: SymbolConfig) -> None:
        self.root = os.path.abspath(root)
        self.cache = cache
        self.cfg = cfg

    def find(self, key: SymbolKey) -> Answer:
        answer = _first_verified((_inside(self.root, rel) for rel in key.layouts()), key)
        if answer.path is not None:
            return answer
        packed_rel = key.compressed()
        packed = _inside(self.root, packed_rel) if packed_rel else None
        if packed is not None and os.path.isfile(packed):
            cached = self.cache.get(key.cache_path())  # expanded by an earlier lookup
            if cached is not None:
                answer.path = cached
                return answer
            expanded = _expand_into_cache(packed, key, self.cache, self.cfg, packed)
            answer.path = expanded.path
            answer.problems += expanded.problems
        return answer


class Sysroot:
    """The target's file system: ELF files by the module's path or name, and debug files in its
    ``.build-id`` trees (``SYSROOT/.build-id`` and ``SYSROOT/usr/lib/debug/.build-id``, where
    distributions install them), each checked by build-id."""

    def __init__(self, root: str) -> None:
        self.root = os.path.abspath(root)

    def candidates(self, module: Module, kind: FileKind) -> list[str]:
        """Where the module's ``elf`` or ``elf_debug`` file may sit, inside the root, in order."""
        rels: list[tuple[str, ...]] = []
        bid = (module.build_id or "").lower()
        by_id = len(bid) > 2 and all(c in "0123456789abcdef" for c in bid)
        if kind == "elf":
            path = (module.path or "").replace("\\", "/")
            parts = tuple(p for p in path.split("/") if p)
            if path.startswith("/") and parts and not any(p in ("..", ".") or "\0" in p for p in parts):
                rels.append(parts)
            name = safe_component(module.name)
            if name is not None:
                rels.append((name,))
            if by_id:
                rels.append(("usr", "lib", "debug", ".build-id", bid[:2], bid[2:]))
        elif kind == "elf_debug" and by_id:
            rels.append((".build-id", bid[:2], bid[2:] + ".debug"))
            rels.append(("usr", "lib", "debug", ".build-id", bid[:2], bid[2:] + ".debug"))
        out: list[str] = []
        for rel in rels:
            full = _inside(self.root, rel)
            if full is not None and full not in out:
                out.append(full)
        return out

    def find(self, module: Module, key: SymbolKey) -> Answer:
        return _first_verified(self.candidates(module, key.kind), key)


def _first_verified(paths: Iterable[str | None], key: SymbolKey) -> Answer:
    """The first existing file of ``paths`` that carries ``key``'s id; one problem per file of
    another id met before it."""
    answer = Answer()
    for path in paths:
        if path is None or not os.path.isfile(path):
            continue
        reason = check_identity(path, key)
        if reason is None:
            answer.path = path
            return answer
        answer.problems.append(IdMismatch(f"{path}: {reason}; not used"))
    return answer


class _Remote:
    """An HTTP source: paths to try per key, with a cool-down after a failure."""

    def __init__(self, base: str, client: HttpClient, cache: SymbolCache, cfg: SymbolConfig) -> None:
        self.base = base
        self.client = client
        self.cache = cache
        self.cfg = cfg
        self._lock = threading.Lock()
        self._down_until = 0.0
        self._down_reason = ""
        self._failures = 0

    def paths(self, key: SymbolKey) -> list[tuple[tuple[str, ...], bool]]:
        """(relative path, is compressed) pairs to try for ``key``, in order."""
        raise NotImplementedError

    def url(self, rel: tuple[str, ...]) -> str:
        """The URL of ``rel`` under the base: every component percent-encoded (no ``/``)."""
        return self.base + "/".join(quote(part, safe="") for part in rel)

    def find(self, key: SymbolKey) -> Answer:
        with self._lock:
            if time.monotonic() < self._down_until:
                return Answer(problems=[f"{self.base}: not asked: {self._down_reason}"], error=True)
        answer = Answer()
        for rel, packed in self.paths(key):
            url = self.url(rel)
            got = self._fetch(url, key, packed)
            answer.problems += got.problems
            if got.path is not None:
                with self._lock:
                    self._failures = 0
                answer.path = got.path
                return answer
            answer.error |= got.error
            if got.down is not None:
                with self._lock:  # rest error_ttl, doubled for each failure in a row (to miss_ttl)
                    self._failures += 1
                    rest = min(self.cfg.error_ttl * 2 ** (self._failures - 1),
                               max(self.cfg.miss_ttl, self.cfg.error_ttl))
                    self._down_until = time.monotonic() + rest
                    self._down_reason = f"it failed {self._failures} time(s) in a row, last: {got.down}"
                break
        else:
            with self._lock:
                self._failures = 0
        return answer

    def _fetch(self, url: str, key: SymbolKey, packed: bool) -> Answer:
        try:
            with self.cache.writing(key.cache_path()) as (fh, tmp):
                fetched = self.client.get(url, fh)
                if fetched.status == "missing":
                    return Answer()
                if fetched.status == "refused":  # this file, not the server: go on asking it
                    return Answer(problems=[f"{url}: {fetched.reason}; refused"], error=True)
                if fetched.status == "error":
                    return Answer(problems=[f"{url}: {fetched.reason}"], error=True, down=fetched.reason)
                fh.flush()
                if packed:
                    return _expand_into_cache(tmp, key, self.cache, self.cfg, url)
                return self._keep(url, key, fh, tmp)
        except OSError as exc:
            return Answer(problems=[f"cache {self.cache.root}: cannot write: {exc.strerror or exc}"],
                          error=True)

    def _keep(self, url: str, key: SymbolKey, fh: BinaryIO, tmp: str) -> Answer:
        reason = check_identity(tmp, key)
        if reason is not None:
            return Answer(problems=[IdMismatch(f"{url}: {reason}; rejected")], error=True)
        return Answer(self.cache.commit(fh, tmp, key.cache_path()))


class SymbolServer(_Remote):
    """A Breakpad / Microsoft symstore / build-id HTTP symbol server."""

    def url(self, rel: tuple[str, ...]) -> str:
        if self.cfg.casing == "lower":
            rel = tuple(_ascii_case(part, str.lower) for part in rel)
        elif self.cfg.casing == "upper":
            rel = tuple(_ascii_case(part, str.upper) for part in rel)
        return super().url(rel)

    def paths(self, key: SymbolKey) -> list[tuple[tuple[str, ...], bool]]:
        out = [(key.layouts()[0], False)]
        packed = key.compressed()
        if packed is not None:
            out.append((packed, True))
        return out


class Debuginfod(_Remote):
    """An elfutils debuginfod server."""

    def paths(self, key: SymbolKey) -> list[tuple[tuple[str, ...], bool]]:
        if key.kind == "elf":
            return [(("buildid", key.id, "executable"), False)]
        if key.kind == "elf_debug":
            return [(("buildid", key.id, "debuginfo"), False)]
        return []

