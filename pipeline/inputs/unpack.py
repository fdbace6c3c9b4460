"""Open one input file, recursively through its containers, into dumps and refusals.

:meth:`Unpacker.examine` yields, in a deterministic order (archive order, as stored):

* :class:`Found` - a file whose first bytes are a dump format (``dumpkit.detect.sniff``):
  on disk already (``spooled=False``) or copied into the blob store (``spooled=True``), with
  its sha256;
* :class:`Refused` - a file or container that yields no dump: not a dump format, damaged,
  over a limit, or a hostile member (absolute path, ``..``, link, device). It becomes an
  error document.

Naming, for the documents: ``display`` is the member's name inside its innermost container
(the path as given, for a file on disk) and ``chain`` the containers, outermost first. A
compression layer wrapping an archive counts as one container (``a.tar.gz``), a compression
layer around a single file is a container whose member is the name without the suffix
(``/x/core.bz2`` holds ``core``).
"""
from __future__ import annotations

import io
import os
import stat
import tarfile
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from dumpkit.detect import sniff
from dumpkit.pipeline.inputs.archives import (
    CHUNK,
    COMPRESSIONS,
    ArchiveError,
    Budget,
    BudgetExceeded,
    Counted,
    HeadedStream,
    Limits,
    Spool,
    decompressor,
    read_head,
    sniff_container,
    unsafe_name,
)

__all__ = ["Found", "Refused", "Unpacker", "unknown_format_message"]

_SUFFIXES = {"gzip": (".gz", ".tgz", ".z"), "bzip2": (".bz2", ".tbz2", ".tbz"),
             "xz": (".xz", ".txz"), "zstd": (".zst", ".zstd", ".tzst")}
_TAR_ALIASES = {".tgz", ".tbz2", ".tbz", ".txz", ".tzst"}


@dataclass(frozen=True)
class Found:
    """A dump candidate: ``path`` is where its bytes are now."""

    display: str
    chain: tuple[str, ...]
    path: str
    sha256: str
    size: int
    fmt: str
    spooled: bool


@dataclass(frozen=True)
class Refused:
    """A file or container that yields no dump (becomes an error document)."""

    display: str
    chain: tuple[str, ...]
    code: str
    message: str
    size: int | None = None
    structure: str | None = None
    offset: int | None = None


def unknown_format_message(head: bytes) -> str:
    """Same words as ``dumpkit.detect.detect`` for a file that is no dump."""
    what = "an empty file" if not head else f"first bytes {head[:8].hex(' ')}"
    return f"not a dump format dumpkit reads ({what})"


def _inner_name(display: str, kind: str) -> str:
    """The name of what a compressed file holds: ``/x/core.bz2`` -> ``core``, ``a.tgz`` ->
    ``a.tar``; a name without the usual suffix is kept (the chain has the full path)."""
    base = display.replace("\\", "/").rsplit("/", 1)[-1] or display
    low = base.lower()
    for suffix in _SUFFIXES[kind]:
        if low.endswith(suffix) and len(base) > len(suffix):
            stem = base[: -len(suffix)]
            return stem + ".tar" if suffix in _TAR_ALIASES else stem
    return base


class Unpacker:
    """Expands input files through their containers within :class:`Limits`."""

    def __init__(self, spool: Spool, limits: Limits) -> None:
        self.spool = spool
        self.limits = limits
        self.containers = 0  # containers opened, for the report
        self._lock = threading.Lock()  # examine() may run in several threads

    # -- entry point ---------------------------------------------------------------------
    def examine(self, path: str, display: str) -> Iterator[Found | Refused]:
        """Everything found in the file at ``path`` (a regular file on disk)."""
        try:
            size = os.stat(path).st_size
            fh = open(path, "rb")  # noqa: SIM115 - closed in the finally below
        except OSError as exc:
            yield Refused(display, (), "io_error", f"cannot open: {exc.strerror or exc}")
            return
        budget = Budget(self.limits, size)
        try:
            head = read_head(fh)
            fmt = sniff(head[:64])
            if fmt is not None:
                yield self._hash_on_disk(fh, path, display, size, fmt)
                return
            kind = sniff_container(head)
            if kind is None:
                yield Refused(display, (), "unknown_format", unknown_format_message(head), size=size,
                              structure="magic", offset=0)
                return
            fh.seek(0)
            yield from self._container(kind, fh, display, (), budget, 1, disk_path=path)
        except BudgetExceeded as exc:
            yield Refused(display, (), exc.code, exc.message, size=size)
        except OSError as exc:
            yield Refused(display, (), "io_error", f"read failed: {exc.strerror or exc}", size=size)
        finally:
            fh.close()

    def _hash_on_disk(self, fh: IO[bytes], path: str, display: str, size: int, fmt: str) -> Found:
        import hashlib

        fh.seek(0)
        digest = hashlib.sha256()
        while block := fh.read(CHUNK):
            digest.update(block)
        return Found(display, (), path, digest.hexdigest(), size, fmt, spooled=False)

    # -- containers ----------------------------------------------------------------------
    def _container(self, kind: str, stream: IO[bytes], display: str, chain: tuple[str, ...],
                   budget: Budget, depth: int, *, disk_path: str | None = None,
                   merged: bool = False) -> Iterator[Found | Refused]:
        """``merged``: this archive came straight out of a compression layer, which already
        stands for it in ``chain`` (``a.tar.gz`` is one container, not two)."""
        if depth > self.limits.max_depth:
            yield Refused(display, chain, "nesting_limit",
                          f"{kind} container nested deeper than {self.limits.max_depth} levels")
            return
        if not merged:  # a .tar.gz counts once
            with self._lock:
                self.containers += 1
        members_chain = chain if merged else (*chain, display)
        if kind in COMPRESSIONS:
            inner = decompressor(kind, stream, budget, display)
            yield from self._stream(inner, _inner_name(display, kind), (*chain, display), None,
                                    budget, depth, from_compression=True)
        elif kind == "tar":
            yield from self._tar(stream, display, chain, members_chain, budget, depth)
        else:
            yield from self._zip(stream, display, chain, members_chain, budget, depth, disk_path)

    def _stream(self, stream: IO[bytes], display: str, chain: tuple[str, ...], size: int | None,
                budget: Budget, depth: int, *, from_compression: bool = False) -> Iterator[Found | Refused]:
        """One member (or decompressed stream): sniff it, then spool, recurse or refuse."""
        try:
            head = read_head(stream)
        except BudgetExceeded:
            raise
        except ArchiveError as exc:
            yield Refused(display, chain, exc.code, exc.message, size=size, offset=exc.offset)
            return
        fmt = sniff(head[:64])
        if fmt is not None:
            try:
                whole = io.BufferedReader(HeadedStream(head, stream), CHUNK)
                path, sha, stored = self.spool.store(whole, display)
            except BudgetExceeded:
                raise
            except ArchiveError as exc:
                yield Refused(display, chain, exc.code, exc.message, size=size, offset=exc.offset)
                return
            yield Found(display, chain, path, sha, stored, fmt, spooled=True)
            return
        kind = sniff_container(head)
        if kind is None:
            known = len(head) if len(head) < 512 else size
            yield Refused(display, chain, "unknown_format", unknown_format_message(head), size=known,
                          structure="magic", offset=0)
            return
        rest = io.BufferedReader(HeadedStream(head, stream), buffer_size=CHUNK)
        yield from self._container(kind, rest, display, chain, budget, depth + 1,
                                   merged=from_compression and kind in ("tar", "zip"))

    def _tar(self, stream: IO[bytes], display: str, chain: tuple[str, ...],
             members_chain: tuple[str, ...], budget: Budget, depth: int) -> Iterator[Found | Refused]:
        count = 0
        try:
            tf = tarfile.open(fileobj=stream, mode="r|")  # noqa: SIM115 - the caller owns stream
            for member in tf:
                tf.members = []  # type: ignore[attr-defined]  # stream mode keeps every header otherwise: memory grows with members
                count += 1
                if count > self.limits.max_members:
                    yield Refused(display, chain, "member_limit",
                                  f"more than {self.limits.max_members:,} members; the rest are not read")
                    return
                if member.isdir():
                    continue
                why = _tar_refusal(member)
                if why is not None:
                    yield Refused(member.name, members_chain, "unsafe_member", why, size=member.size)
                    continue
                fh = tf.extractfile(member)
                if fh is None:  # pragma: no cover - isreg() members always have data
                    continue
                yield from self._stream(fh, member.name, members_chain, member.size, budget, depth)
        except BudgetExceeded:
            raise
        except ArchiveError as exc:
            yield Refused(display, chain, exc.code, exc.message, offset=exc.offset)
        except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
            yield Refused(display, chain, "corrupt_archive", f"tar: {exc or type(exc).__name__}")

    def _zip(self, stream: IO[bytes], display: str, chain: tuple[str, ...],
             members_chain: tuple[str, ...], budget: Budget, depth: int,
             disk_path: str | None) -> Iterator[Found | Refused]:
        scratch = None
        try:
            if disk_path is None:  # zip needs seeking: copy the stream aside first
                scratch = self.spool.scratch(stream, display)
            with zipfile.ZipFile(disk_path or scratch or "") as zf:
                infos = zf.infolist()
                if len(infos) > self.limits.max_members:
                    yield Refused(display, chain, "member_limit",
                                  f"{len(infos):,} members, more than {self.limits.max_members:,}")
                    return
                for info in infos:
                    if info.is_dir():
                        continue
                    why = _zip_refusal(info, self.limits)
                    if why is not None:
                        yield Refused(info.filename, members_chain, why[0], why[1], size=info.file_size)
                        continue
                    try:
                        member = zf.open(info)
                    except (NotImplementedError, zipfile.BadZipFile, RuntimeError, ValueError) as exc:
                        yield Refused(info.filename, members_chain, "unsupported_member", f"zip: {exc}",
                                      size=info.file_size)
                        continue
                    with member:
                        data = io.BufferedReader(Counted(member, budget, info.filename), buffer_size=CHUNK)
                        yield from self._stream(data, info.filename, members_chain, info.file_size,
                                                budget, depth)
        except BudgetExceeded:
            raise
        except ArchiveError as exc:
            yield Refused(display, chain, exc.code, exc.message, offset=exc.offset)
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            yield Refused(display, chain, "corrupt_archive", f"zip: {exc or type(exc).__name__}")
        finally:
            if scratch is not None:
                os.unlink(scratch)


def _tar_refusal(member: tarfile.TarInfo) -> str | None:
    why = unsafe_name(member.name)
    if why is not None:
        return why
    if member.issym() or member.islnk():
        kind = "symbolic" if member.issym() else "hard"
        return f"{kind} link member -> {member.linkname!r} (links are not followed)"
    if member.ischr() or member.isblk() or member.isfifo():
        return "device or FIFO member"
    if not member.isreg():
        return f"unsupported tar member type {member.type!r}"
    return None


def _zip_refusal(info: zipfile.ZipInfo, limits: Limits) -> tuple[str, str] | None:
    why = unsafe_name(info.filename)
    if why is not None:
        return "unsafe_member", why
    mode = info.external_attr >> 16
    if info.create_system == 3 and stat.S_IFMT(mode):  # unix attributes recorded
        if stat.S_ISLNK(mode):
            return "unsafe_member", "symbolic link member (links are not followed)"
        if not stat.S_ISREG(mode):
            return "unsafe_member", "device, FIFO or other special member"
    if info.flag_bits & 0x1:
        return "encrypted_member", "encrypted zip member"
    if info.file_size > limits.max_member_size:
        return "decompression_limit", (f"declared size {info.file_size:,} is over the "
                                       f"{limits.max_member_size:,}-byte member limit")
    return None
