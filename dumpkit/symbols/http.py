"""A small, bounded HTTP(S) GET client for symbol servers and debuginfod (stdlib ``urllib``).

Why ``urllib``: it streams, follows the redirects symbol servers use (Microsoft's sends clients on
to a CDN), honours ``*_proxy`` variables and the system's CA store, and adds no dependency;
everything dumpkit needs beyond it is a few lines here:

- ``timeout``: connect, and no byte received for this long;
- ``deadline``: a watchdog shuts the request's sockets down when one whole attempt (headers and
  body) takes longer, so a server trickling bytes cannot hold a worker;
- ``max_bytes``: a declared ``Content-Length`` over the cap is refused, a body is streamed to the
  caller's file and cut off past the cap (memory use is one 64 KiB chunk);
- retries with doubling backoff (bounded: ``retries`` extra attempts, at most 8 s apart) after
  timeouts, connection errors, garbage instead of HTTP, 408, 429 and 5xx (not after a spent
  deadline); other 4xx are misses;
- ``max_connections`` requests at a time per process (a semaphore).

:meth:`HttpClient.get` never raises for network or server trouble: its :class:`Fetched` says
``ok``, ``missing`` or ``error`` with a one-line reason.
"""
from __future__ import annotations

import contextlib
import http.client
import socket
import ssl
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any, BinaryIO, Literal

__all__ = ["Fetched", "HttpClient"]

_CHUNK = 1 << 16
_MAX_BACKOFF = 8.0
USER_AGENT = "dumpkit-symbols/1"


@dataclass(frozen=True, slots=True)
class Fetched:
    """The outcome of one GET: ``ok`` (body written), ``missing`` (the server has no such file),
    ``refused`` (a file over the size cap) or ``error`` (the server failed: timeout, connection,
    5xx, garbage); ``reason`` for all but ``ok``."""

    status: Literal["ok", "missing", "refused", "error"]
    reason: str = ""
    size: int = 0


class _Watch:
    """The sockets of one attempt, shut down together when its deadline passes."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.socks: list[socket.socket] = []
        self.expired = False

    def add(self, sock: socket.socket) -> None:
        with self.lock:
            self.socks.append(sock)
            if self.expired:
                self._shut(sock)

    def expire(self) -> None:
        with self.lock:
            self.expired = True
            for sock in self.socks:
                self._shut(sock)

    @staticmethod
    def _shut(sock: socket.socket) -> None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)


def _watched(base: type[http.client.HTTPConnection], watch: _Watch) -> type[http.client.HTTPConnection]:
    class Watched(base):  # type: ignore[valid-type,misc]
        def connect(self) -> None:
            super().connect()
            watch.add(self.sock)

    return Watched


def _handlers(watch: _Watch, client: HttpClient) -> list[urllib.request.BaseHandler]:
    """Stock urllib handlers whose connections ``watch`` sees and whose redirects go to http(s)
    only (never ftp or file). Instances are patched rather than classes subclassed: some
    libraries (volatility3) instantiate every ``BaseHandler`` subclass in the process."""
    plain = urllib.request.HTTPHandler()
    secure = urllib.request.HTTPSHandler()
    redirects = urllib.request.HTTPRedirectHandler()
    stock_redirect = redirects.redirect_request

    def http_open(req: urllib.request.Request) -> http.client.HTTPResponse:
        return plain.do_open(_watched(http.client.HTTPConnection, watch), req)

    def https_open(req: urllib.request.Request) -> http.client.HTTPResponse:
        return secure.do_open(_watched(http.client.HTTPSConnection, watch), req,
                              context=client.ssl_context())

    def redirect_request(req: urllib.request.Request, fp: Any, code: int, msg: str, headers: Any,
                         newurl: str) -> urllib.request.Request | None:
        if not newurl.lower().startswith(("http://", "https://")):
            raise urllib.error.HTTPError(req.full_url, code, f"redirect to {newurl[:80]!r} refused",
                                         headers, fp)
        return stock_redirect(req, fp, code, msg, headers, newurl)

    plain.http_open = http_open  # type: ignore[method-assign]
    secure.https_open = https_open  # type: ignore[method-assign]
    redirects.redirect_request = redirect_request  # type: ignore[method-assign]
    return [plain, secure, redirects]


class _Retry(Exception):
    """A failure worth another attempt."""


class HttpClient:
    """GETs with caps, timeouts and retries; one per process (thread-safe)."""

    def __init__(self, *, timeout: float = 10.0, deadline: float = 300.0, retries: int = 2,
                 backoff: float = 0.5, max_bytes: int = 512 << 20, max_connections: int = 4) -> None:
        self.timeout = timeout
        self.deadline = deadline
        self.retries = retries
        self.backoff = backoff
        self.max_bytes = max_bytes
        self._slots = threading.BoundedSemaphore(max_connections)
        self._ssl_context: ssl.SSLContext | None = None  # made on first use: loading CAs takes ~60 ms
        self._ssl_lock = threading.Lock()

    def ssl_context(self) -> ssl.SSLContext:
        """The TLS context (system CAs), made on first use."""
        with self._ssl_lock:
            if self._ssl_context is None:
                self._ssl_context = ssl.create_default_context()
            return self._ssl_context

    def get(self, url: str, sink: BinaryIO) -> Fetched:
        """GET ``url`` into ``sink`` (truncated before each attempt)."""
        reason = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(_MAX_BACKOFF, self.backoff * 2 ** (attempt - 1)))
            sink.seek(0)
            sink.truncate()
            try:
                with self._slots:
                    return self._attempt(url, sink)
            except _Retry as exc:
                reason = str(exc)
        tries = self.retries + 1
        return Fetched("error", f"{reason} ({tries} attempt{'s' if tries > 1 else ''})")

    def _attempt(self, url: str, sink: BinaryIO) -> Fetched:
        watch = _Watch()
        timer = threading.Timer(self.deadline, watch.expire)
        timer.daemon = True
        opener = urllib.request.build_opener(*_handlers(watch, self))
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        timer.start()
        try:
            try:
                response = opener.open(request, timeout=self.timeout)
            except urllib.error.HTTPError as exc:
                exc.close()
                if exc.code in (408, 429) or exc.code >= 500:
                    raise _Retry(f"HTTP {exc.code}") from None
                if 300 <= exc.code < 400:  # a redirect refused, or too many of them
                    return Fetched("refused", f"HTTP {exc.code}: {exc.reason}")
                return Fetched("missing", f"HTTP {exc.code}")
            with response:
                return self._body(response, sink, watch)
        except _Retry:
            if watch.expired:  # a whole deadline spent: not worth another one
                return Fetched("error", self._late(watch))
            raise
        except (TimeoutError, urllib.error.URLError, http.client.HTTPException, OSError) as exc:
            if watch.expired:  # a whole deadline spent: not worth another one
                return Fetched("error", self._late(watch))
            if isinstance(exc, TimeoutError) or (isinstance(exc, urllib.error.URLError)
                                                 and isinstance(exc.reason, TimeoutError)):
                raise _Retry(self._late(watch)) from None
            if isinstance(exc, urllib.error.URLError):
                raise _Retry(f"cannot connect: {exc.reason}") from None
            raise _Retry(f"bad response: {type(exc).__name__}: {exc}"[:200]) from None
        finally:
            timer.cancel()

    def _late(self, watch: _Watch) -> str:
        if watch.expired:
            return f"did not finish within {self.deadline:g} s"
        return f"timed out after {self.timeout:g} s"

    def _body(self, response: http.client.HTTPResponse, sink: BinaryIO, watch: _Watch) -> Fetched:
        declared = response.headers.get("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_bytes:
            return Fetched("refused", f"declares {int(declared)} bytes, more than the {self.max_bytes} "
                                    "byte cap")
        size = 0
        while True:
            chunk = response.read1(_CHUNK)
            if watch.expired:
                raise _Retry(self._late(watch))
            if not chunk:
                break
            size += len(chunk)
            if size > self.max_bytes:
                return Fetched("refused", f"sent more than the {self.max_bytes} byte cap")
            sink.write(chunk)
        if declared is not None and declared.strip().isdigit() and size < int(declared):
            raise _Retry(f"body ended after {size} of {int(declared)} bytes")
        return Fetched("ok", size=size)
