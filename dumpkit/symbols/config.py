"""Where to look for symbols and how hard to try: :class:`SymbolConfig`, one frozen value per run.

Built from command-line options with :meth:`SymbolConfig.from_options` (``None`` means "the
default": ``DEBUGINFOD_URLS`` for debuginfod, ``$XDG_CACHE_HOME/dumpkit/symbols`` for the
cache). :meth:`SymbolConfig.fingerprint` names what changes documents (the sources, the offline
flag, the size cap), not where the cache lives or how patient the client is, so a batch can tell
whether a document made with another configuration must be remade.
"""
from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

__all__ = ["DEFAULT_MAX_DOWNLOAD", "SymbolConfig", "debuginfod_urls_from_env", "default_cache_dir"]

#: Largest symbol file fetched or expanded (bytes). Windows' own PDBs (ntoskrnl, ntdll, ...)
#: are tens of MB and typical application PDBs, ELF debug files and ``.sym`` files are well
#: below this; it bounds what a hostile or broken server can make a worker write per module.
#: Raise it (``max_download``) for very large browser builds.
DEFAULT_MAX_DOWNLOAD = 512 * 1024 * 1024


def debuginfod_urls_from_env(environ: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """``DEBUGINFOD_URLS`` split on whitespace, as elfutils' client does."""
    env = os.environ if environ is None else environ
    return tuple(env.get("DEBUGINFOD_URLS", "").split())


def default_cache_dir(environ: Mapping[str, str] | None = None) -> str:
    """``$XDG_CACHE_HOME/dumpkit/symbols``, else ``~/.cache/dumpkit/symbols``."""
    env = os.environ if environ is None else environ
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "dumpkit", "symbols")


def _server_url(url: str) -> str:
    """An HTTP(S) base URL with one trailing slash; ``ValueError`` for anything else."""
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"not an http(s) URL: {url!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"a symbol server URL has no query or fragment: {url!r}")
    return url.rstrip("/") + "/"


@dataclass(frozen=True, slots=True)
class SymbolConfig:
    """Symbol sources (tried in this order: ``dirs``, ``sysroot``, the cache, ``servers``,
    ``debuginfod``) and the limits of the HTTP client."""

    dirs: tuple[str, ...] = ()
    servers: tuple[str, ...] = ()
    debuginfod: tuple[str, ...] = field(default_factory=debuginfod_urls_from_env)
    cache_dir: str = field(default_factory=default_cache_dir)
    offline: bool = False
    sysroot: str | None = None
    max_download: int = DEFAULT_MAX_DOWNLOAD
    timeout: float = 10.0  # seconds: connect, or no byte received for this long
    deadline: float = 300.0  # seconds: one whole download, however slowly it trickles
    retries: int = 2  # extra attempts after a timeout, a connection error, 408/429 or 5xx
    backoff: float = 0.5  # seconds before the first retry, doubled for each next one
    miss_ttl: float = 3600.0  # seconds a "no server has it" answer is remembered in the cache
    error_ttl: float = 60.0  # seconds a lookup that met a server error is remembered
    max_connections: int = 4  # concurrent requests per process
    max_cab_members: int = 16
    #: Case of symbol-server paths: ``default`` as Microsoft's symstore writes them (names as the
    #: module gives them, GUID+age upper-case); ``lower``/``upper`` for servers on case-sensitive
    #: storage that hold everything in one case (SSQP-style stores lower-case), as
    #: symbolicator's per-source ``casing`` option. ASCII letters only; debuginfod is not affected.
    casing: Literal["default", "lower", "upper"] = "default"

    def __post_init__(self) -> None:
        object.__setattr__(self, "dirs", tuple(os.path.abspath(d) for d in self.dirs))
        object.__setattr__(self, "servers", tuple(_server_url(u) for u in self.servers))
        object.__setattr__(self, "debuginfod", tuple(_server_url(u) for u in self.debuginfod))
        object.__setattr__(self, "cache_dir", os.path.abspath(self.cache_dir))
        if self.sysroot is not None:
            object.__setattr__(self, "sysroot", os.path.abspath(self.sysroot))
        for name in ("max_download", "max_connections", "max_cab_members"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be positive")
        for name in ("timeout", "deadline"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be positive")
        if self.casing not in ("default", "lower", "upper"):
            raise ValueError(f"casing must be default, lower or upper, not {self.casing!r}")
        if self.retries < 0 or self.retries > 10:
            raise ValueError("retries must be between 0 and 10")

    @classmethod
    def from_options(cls, *, symbols: Iterable[str] = (), symbol_servers: Iterable[str] = (),
                     debuginfod: Iterable[str] | None = None, symbol_cache: str | None = None,
                     offline: bool = False, sysroot: str | None = None,
                     max_download: int | None = None, timeout: float | None = None,
                     casing: str | None = None) -> SymbolConfig:
        """The configuration for CLI-style options; ``None`` keeps the default (``DEBUGINFOD_URLS``,
        the XDG cache dir). Raises ``ValueError`` with a usage message for a bad URL or limit."""
        kwargs: dict[str, object] = {"dirs": tuple(symbols), "servers": tuple(symbol_servers),
                                     "offline": offline, "sysroot": sysroot}
        if debuginfod is not None:
            kwargs["debuginfod"] = tuple(debuginfod)
        if symbol_cache is not None:
            kwargs["cache_dir"] = symbol_cache
        if max_download is not None:
            kwargs["max_download"] = max_download
        if timeout is not None:
            kwargs["timeout"] = timeout
        if casing is not None:
            kwargs["casing"] = casing
        return cls(**kwargs)  # type: ignore[arg-type]

    @property
    def remote(self) -> tuple[str, ...]:
        """Every HTTP source, symbol servers first."""
        return self.servers + self.debuginfod

    @property
    def enabled(self) -> bool:
        """Whether any source is configured (else symbol lookups can be skipped entirely)."""
        return bool(self.dirs or self.remote or self.sysroot)

    def fingerprint(self) -> str:
        """16 hex digits naming what changes documents: the sources in order, the offline flag,
        the size cap and the server path casing (not the cache path, timeouts or retries)."""
        facts = {"dirs": list(self.dirs), "servers": list(self.servers),
                 "debuginfod": list(self.debuginfod), "sysroot": self.sysroot,
                 "offline": self.offline, "max_download": self.max_download}
        if self.casing != "default":  # keeps fingerprints made before the option unchanged
            facts["casing"] = self.casing
        return _short_hash(json.dumps(facts, sort_keys=True, separators=(",", ":")).encode())

    def to_json(self) -> str:
        """The configuration as one JSON text (a luigi task parameter); :meth:`from_json` reads it."""
        return json.dumps({name: getattr(self, name) for name in self.__dataclass_fields__}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SymbolConfig:
        values: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                  for k, v in json.loads(text).items()}
        return cls(**values)

    def remote_fingerprint(self) -> str:
        """16 hex digits naming the remote sources: the key of remembered misses."""
        return _short_hash(json.dumps([list(self.servers), list(self.debuginfod), self.casing]).encode())


def _short_hash(blob: bytes) -> str:
    """16 hex digits of the SHA-256 of ``blob``."""
    import hashlib  # loads OpenSSL (~4 ms a process): not for a run without symbol sources

    return hashlib.sha256(blob).hexdigest()[:16]
