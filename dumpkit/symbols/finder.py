""":class:`SymbolFinder`: the chain of symbol sources with one cache, a :class:`Finder`.

``find(module, kind)`` tries, in order: the local symbol dirs, the sysroot (ELF kinds), the
cache, a remembered miss, then the symbol servers and debuginfod servers (not with
``offline``). Each answer is memoized for the process (one fetch per module and kind however
many dumps share it; thread-safe), except that an answer spoiled by a server error holds for
``error_ttl`` seconds only; other processes share work through the cache. It never
raises: every trouble is a problem line in the :class:`Lookup`.
"""
from __future__ import annotations

import threading
import time

from dumpkit.model import Module
from dumpkit.symbols.cache import SymbolCache
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.http import HttpClient
from dumpkit.symbols.keys import SymbolKey, key_for
from dumpkit.symbols.locate import FileKind, Located, Lookup
from dumpkit.symbols.sources import Debuginfod, LocalDir, SymbolServer, Sysroot

__all__ = ["SymbolFinder"]

_NEVER = float("inf")


class SymbolFinder:
    """Finds modules' symbol files through the sources of ``config`` (one per process)."""

    def __init__(self, config: SymbolConfig) -> None:
        self.config = config
        self.cache = SymbolCache(config.cache_dir)
        self.cache.prune_temp()
        self.client = HttpClient(timeout=config.timeout, deadline=config.deadline,
                                 retries=config.retries, backoff=config.backoff,
                                 max_bytes=config.max_download, max_connections=config.max_connections)
        self.dirs = [LocalDir(d, self.cache, config) for d in config.dirs]
        self.sysroot = Sysroot(config.sysroot) if config.sysroot else None
        self.remote = ([SymbolServer(u, self.client, self.cache, config) for u in config.servers]
                       + [Debuginfod(u, self.client, self.cache, config) for u in config.debuginfod])
        self._remote_fp = config.remote_fingerprint()
        # answers, each with the time.monotonic() it expires at (never, unless a server failed)
        self._memo: dict[tuple[object, ...], tuple[Lookup, float]] = {}
        self._seen: dict[tuple[str | None, ...], tuple[Lookup, float]] = {}
        self._locks: dict[tuple[object, ...], threading.Lock] = {}
        self._guard = threading.Lock()

    def find(self, module: Module, kind: FileKind) -> Lookup:
        """The local file of ``kind`` for ``module`` (see the module docstring)."""
        raw = (kind, module.path, module.debug_file, module.debug_id, module.code_id, module.build_id)
        seen = self._seen.get(raw)  # the same module asked again: skip even making its key
        if seen is not None and seen[1] > time.monotonic():
            return seen[0]
        found = self._find_key(module, kind)
        self._seen[raw] = found
        return found[0]

    def _find_key(self, module: Module, kind: FileKind) -> tuple[Lookup, float]:
        key, problem = key_for(module, kind)
        if key is None:
            return Lookup(problems=(problem,) if problem else ()), _NEVER
        memo_key: tuple[object, ...] = (key,)
        if self.sysroot is not None and kind == "elf":
            memo_key = (key, module.path)
        with self._guard:
            lock = self._locks.setdefault(memo_key, threading.Lock())
        with lock:
            found = self._memo.get(memo_key)
            if found is None or found[1] <= time.monotonic():
                try:
                    lookup, ttl = self._find(module, key)
                except Exception as exc:  # a bug must not fail a document: say it instead
                    lookup, ttl = Lookup(problems=(f"symbol lookup of {key} failed: "
                                                   f"{type(exc).__name__}: {exc}",)), _NEVER
                found = (lookup, time.monotonic() + ttl)
                self._memo[memo_key] = found
            return found

    def _find(self, module: Module, key: SymbolKey) -> tuple[Lookup, float]:
        """The answer and for how long it holds in this process (a server error: briefly)."""
        lookup, errors = self._search(module, key)
        return lookup, (self.config.error_ttl if errors else _NEVER)

    def _search(self, module: Module, key: SymbolKey) -> tuple[Lookup, bool]:
        problems: list[str] = []
        for local in self.dirs:
            answer = local.find(key)
            problems += answer.problems
            if answer.path is not None:
                return Lookup(Located(answer.path, key.kind, local.root), tuple(problems)), False
        if self.sysroot is not None and key.kind in ("elf", "elf_debug"):
            answer = self.sysroot.find(module, key)
            problems += answer.problems
            if answer.path is not None:
                return Lookup(Located(answer.path, key.kind, "sysroot"), tuple(problems)), False
        cached = self.cache.get(key.cache_path())
        if cached is not None:
            return Lookup(Located(cached, key.kind, "cache"), tuple(problems)), False
        remote = [r for r in self.remote if r.paths(key)]
        if not remote or self.config.offline:
            return Lookup(None, tuple(problems)), False
        miss = self.cache.miss(str(key), self._remote_fp)
        if miss is not None:
            if miss.reason:
                problems.append(f"{miss.reason} (remembered)")
            return Lookup(None, tuple(problems)), bool(miss.reason)
        errors: list[str] = []
        for source in remote:
            answer = source.find(key)
            problems += answer.problems
            if answer.error:
                errors += answer.problems
            if answer.path is not None:
                return Lookup(Located(answer.path, key.kind, source.base), tuple(problems)), False
        ttl = self.config.error_ttl if errors else self.config.miss_ttl
        self.cache.remember_miss(str(key), self._remote_fp, ttl, "; ".join(errors))
        return Lookup(None, tuple(problems)), bool(errors)
