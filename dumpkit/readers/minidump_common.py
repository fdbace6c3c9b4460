"""Helpers shared by the minidump reader modules: guarded reads, text decoding, name tables."""
from __future__ import annotations

from codecs import utf_16_le_decode as _utf16_le
from collections.abc import Callable
from typing import Any, TypeVar

from dumpkit.errors import DumpkitError
from dumpkit.memory import FileView
from dumpkit.model import Dump
from dumpkit.readers.kaitai import PARSE_ERRORS, guard

__all__ = ["ARCH_NAMES", "OS_NAMES", "attempt", "peek_u32", "text", "utf16"]

T = TypeVar("T")
#: what a malformed structure can raise while it is read (:func:`attempt` describes each)
_CAUGHT = (DumpkitError, RecursionError, *PARSE_ERRORS)

#: SystemInfo.PlatformId -> SystemInfo.os
OS_NAMES = {
    0: "windows", 1: "windows", 2: "windows", 3: "windows",  # Win32s, 9x, NT, CE
    0x8000: "unix", 0x8101: "macos", 0x8102: "ios", 0x8201: "linux", 0x8202: "solaris",
    0x8203: "android", 0x8204: "ps3", 0x8205: "nacl", 0x8206: "fuchsia",
}

#: First word of the CSD string of a PlatformId MD_OS_UNIX dump -> SystemInfo.os: the BSDs have
#: no platform id of their own; dumpkit's writer names them there (converters/minidump_streams.py).
UNIX_CSD_NAMES = {"NetBSD": "netbsd", "OpenBSD": "openbsd", "FreeBSD": "freebsd"}

#: SystemInfo.ProcessorArchitecture -> SystemInfo.cpu_arch
ARCH_NAMES = {
    0: "x86", 1: "mips", 3: "ppc", 5: "arm", 6: "ia64", 9: "amd64", 10: "x86", 12: "arm64",
    0x8001: "sparc", 0x8002: "ppc64", 0x8003: "arm64", 0x8004: "mips64", 0x8005: "riscv32",
    0x8006: "riscv64",
}


def attempt(dump: Dump, structure: str | Callable[[], str], offset: int | None, fn: Callable[..., T],
            *args: Any) -> T | None:
    """``fn(*args)``, or ``None`` with a diagnostic on the dump when the structure is malformed.

    The happy path is a plain call (this runs per module: a caller can pass ``fn``'s arguments
    instead of a closure, and ``structure`` as a function that names it, called on failure
    only); a failure is re-raised through :func:`dumpkit.readers.kaitai.guard` so it is
    described like every other parse error.
    """
    try:
        return fn(*args)
    except _CAUGHT as failure:
        if not isinstance(structure, str):
            structure = structure()
        try:
            with guard(dump.source.path, structure, offset):
                raise failure
        except DumpkitError as exc:
            code = "truncated_stream" if exc.code == "truncated" else "bad_stream"
            dump.diag(code, exc.message, structure=structure, offset=offset)
        return None


def utf16(raw: bytes) -> str:
    """A MINIDUMP_STRING / WCHAR buffer as text: cut at the first NUL, bad code units replaced."""
    return _utf16_le(raw, "replace", True)[0].partition("\0")[0]  # bytes.decode(...), 4x faster


def text(raw: bytes, cap: int | None = None) -> str:
    """Bytes of a text file copied into the dump (UTF-8, trailing NULs dropped), at most ``cap`` bytes."""
    if cap is not None and len(raw) > cap:
        raw = raw[:cap]
    return raw.rstrip(b"\0").decode("utf-8", "replace")


def peek_u32(view: FileView, offset: int) -> int | None:
    """The little-endian u32 at file ``offset`` (a list count, checked before the list is parsed)."""
    raw = view.read_upto(offset, 4)
    return int.from_bytes(raw, "little") if len(raw) == 4 else None
