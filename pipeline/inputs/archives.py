"""Containers in a crash archive: compressed streams (gzip, bzip2, xz, zstd), zip and tar, nested.

Everything is read as a stream, 1 MiB at a time, and identified by its first bytes (never by
its name). Dumps found inside a container are *spooled*: copied, while hashed, into a
content-addressed file under the batch's work area, so that a worker on any machine can
read them by sha256. Nothing is ever written under a member's own name, so a hostile name
(``../x``, ``/etc/x``, a symlink) cannot place a file outside the work area; such members
are refused all the same and reported.

Caps, all in :class:`Limits` (configurable from the command line):

* ``max_member_size``: bytes of one spooled member (where bytes reach the disk);
* ``max_ratio``: bytes expanded out of one top-level input, over its size on disk (checked
  once that total passes ``ratio_floor``): nested and many-member bombs trip it;
* ``max_depth``: containers inside containers; ``max_members``: members of one container;
* ``min_free``: spooling stops while the work area's disk has less free space than this.

Members whose first bytes are neither a dump nor a container are not read further: a
"10 GB of zeros" member costs one 512-byte read.
"""
from __future__ import annotations

import bz2
import contextlib
import gzip
import hashlib
import io
import lzma
import os
import shutil
import tarfile
import tempfile
import zipfile
import zlib
from typing import IO, Any

from dumpkit.pipeline.atomic import tmp_prefix
from dumpkit.pipeline.faults import checkpoint
from dumpkit.pipeline.inputs.limits import Limits

__all__ = [
    "CHUNK",
    "COMPRESSIONS",
    "SNIFF_BYTES",
    "ArchiveError",
    "Budget",
    "BudgetExceeded",
    "Counted",
    "HeadedStream",
    "LimitExceeded",
    "Limits",
    "Spool",
    "decompressor",
    "read_head",
    "sniff_container",
    "unsafe_name",
]

CHUNK = 1 << 20
SNIFF_BYTES = 512  # enough for the tar header's "ustar" magic at offset 257
COMPRESSIONS = ("gzip", "bzip2", "xz", "zstd")


class ArchiveError(Exception):
    """A container or member could not be read; ``code`` becomes the error document's code."""

    def __init__(self, code: str, message: str, *, offset: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.offset = offset


class LimitExceeded(ArchiveError):
    """A cap of :class:`Limits` was reached while expanding a member."""

    def __init__(self, message: str, *, code: str = "decompression_limit") -> None:
        super().__init__(code, message)


class BudgetExceeded(LimitExceeded):
    """The whole top-level input expands beyond ``max_ratio`` x its size: stop reading it."""


class Budget:
    """Bytes expanded out of one top-level input, against ``max_ratio`` x its size."""

    def __init__(self, limits: Limits, input_size: int) -> None:
        self.allowed = max(limits.ratio_floor, limits.max_ratio * max(input_size, 1))
        self.ratio = limits.max_ratio
        self.used = 0

    def charge(self, nbytes: int) -> None:
        self.used += nbytes
        if self.used > self.allowed:
            raise BudgetExceeded(f"archive expands beyond {self.ratio}x its size "
                                 f"({self.used:,} bytes out so far; limit {self.allowed:,})")


def sniff_container(head: bytes) -> str | None:
    """Name the container kind from a stream's first bytes, or ``None``."""
    if head[:2] == b"\x1f\x8b":
        return "gzip"
    if head[:3] == b"BZh" and head[3:4].isdigit():
        return "bzip2"
    if head[:6] == b"\xfd7zXZ\x00":
        return "xz"
    if head[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return "zip"
    if len(head) >= 262 and head[257:262] == b"ustar":
        return "tar"
    return None


def unsafe_name(name: str) -> str | None:
    """Why an archive member's name is refused, or ``None`` when it is harmless."""
    if not name or "\x00" in name:
        return "empty or NUL in member name"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or (len(norm) > 1 and norm[1] == ":" and norm[0].isalpha()):
        return "absolute member path"
    if ".." in norm.split("/"):
        return "member path escapes the archive (..)"
    return None


class HeadedStream(io.RawIOBase):
    """A forward-only stream whose first bytes were already read (to sniff them)."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        super().__init__()
        self._head = memoryview(head)
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._rest.read(len(view))
        if not data:
            return 0
        view[: len(data)] = data
        return len(data)


def read_head(stream: IO[bytes], size: int = SNIFF_BYTES) -> bytes:
    """Up to ``size`` first bytes (short reads from decompressors are retried)."""
    parts: list[bytes] = []
    got = 0
    while got < size:
        block = stream.read(size - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _read_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "this compressed or archived data is damaged"."""
    errors: list[type[BaseException]] = [OSError, EOFError, ValueError, zlib.error, lzma.LZMAError,
                                         zipfile.BadZipFile, tarfile.TarError]
    try:
        import zstandard

        errors.append(zstandard.ZstdError)
    except ImportError:  # pragma: no cover - zstandard is a runtime dependency
        pass
    return tuple(errors)


class Counted(io.RawIOBase):
    """Charges the bytes read from a decompressing stream to the input's :class:`Budget`,
    and turns the decompressors' own exceptions into :class:`ArchiveError`."""

    def __init__(self, inner: IO[bytes], budget: Budget, what: str) -> None:
        super().__init__()
        self._inner = inner
        self._budget = budget
        self._what = what
        self._errors = _read_errors()

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        try:
            data = self._inner.read(min(len(view), CHUNK))
        except ArchiveError:
            raise
        except self._errors as exc:
            raise ArchiveError("decompression_error", f"{self._what}: {exc}") from exc
        n = len(data)
        if n:
            self._budget.charge(n)
            view[:n] = data
        return n

    def close(self) -> None:
        try:
            self._inner.close()
        finally:
            super().close()


def decompressor(kind: str, raw: IO[bytes], budget: Budget, what: str) -> IO[bytes]:
    """A buffered stream of the decompressed bytes of ``raw`` (gzip/bzip2/xz/zstd)."""
    inner: Any
    if kind == "gzip":
        inner = gzip.GzipFile(fileobj=raw, mode="rb")
    elif kind == "bzip2":
        inner = bz2.BZ2File(raw, mode="rb")
    elif kind == "xz":
        inner = lzma.LZMAFile(raw, mode="rb")  # noqa: SIM115 - closed with the returned stream
    elif kind == "zstd":
        import zstandard

        inner = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True)
    else:
        raise ValueError(f"not a compression: {kind}")
    return io.BufferedReader(Counted(inner, budget, what), buffer_size=CHUNK)


class Spool:
    """Content-addressed copies of archive members (``blobs/<sha256>``) and scratch files.

    Temporary files live in ``tmp_dir`` (same file system, renamed into place when whole),
    so an interrupted copy never shows up under a blob's name.
    """

    def __init__(self, blob_dir: str, tmp_dir: str, limits: Limits) -> None:
        self.blob_dir = blob_dir
        self.tmp_dir = tmp_dir
        self.limits = limits
        os.makedirs(blob_dir, exist_ok=True)
        os.makedirs(tmp_dir, exist_ok=True)

    def _check_free(self) -> None:
        free = shutil.disk_usage(self.tmp_dir).free
        if free < self.limits.min_free:
            raise LimitExceeded(f"work area is full: {free:,} bytes free, "
                                f"{self.limits.min_free:,} must stay free", code="spool_full")

    def _copy(self, stream: IO[bytes], out: IO[bytes], cap: int, what: str,
              digest: Any | None) -> int:
        total = 0
        self._check_free()
        while block := stream.read(CHUNK):
            total += len(block)
            if total > cap:
                raise LimitExceeded(f"{what} is larger than the {cap:,}-byte member limit")
            if digest is not None:
                digest.update(block)
            out.write(block)
            if total % (64 * CHUNK) < len(block):
                self._check_free()
        return total

    def store(self, stream: IO[bytes], what: str) -> tuple[str, str, int]:
        """Copy ``stream`` into the blob store: ``(path, sha256, size)``."""
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"{tmp_prefix()}spool.")
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                size = self._copy(stream, out, self.limits.max_member_size, what, digest)
            sha = digest.hexdigest()
            final = os.path.join(self.blob_dir, sha)
            if os.path.exists(final):
                os.unlink(tmp)
            else:
                os.replace(tmp, final)
            checkpoint("spool")
            return final, sha, size
        except BaseException:
            _unlink(tmp)
            raise

    def scratch(self, stream: IO[bytes], what: str) -> str:
        """Copy ``stream`` to a scratch file (e.g. a zip found inside a stream); caller deletes it."""
        fd, tmp = tempfile.mkstemp(dir=self.tmp_dir, prefix=f"{tmp_prefix()}scratch.")
        try:
            with os.fdopen(fd, "wb") as out:
                self._copy(stream, out, self.limits.max_member_size, what, None)
            return tmp
        except BaseException:
            _unlink(tmp)
            raise


def _unlink(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
