"""Expanding ``_``-compressed symbol-server files (``app.pd_``, ``app.ex_``: Microsoft cabinets).

The cabinet is read by ``cabextract`` (Debian package ``cabextract``; libmspack: MSZIP, LZX and
Quantum, the methods ``symstore``/``makecab`` write), run as a subprocess with a time limit: first
``cabextract -l`` to count the members (at most ``max_members``, listing output capped), then
``cabextract -p`` writing the one wanted member to a pipe that dumpkit reads and stops reading
(killing the process) past ``max_bytes``. The caps therefore hold whatever sizes a hostile
cabinet declares, and nothing is ever written outside the destination file.
"""
from __future__ import annotations

import shutil
import subprocess
import threading
import time
from typing import BinaryIO

__all__ = ["CabError", "expand_cab"]

_LIST_LIMIT = 1 << 20
_CHUNK = 1 << 16
_GLOB_CHARS = set("*?[]\\")


class CabError(Exception):
    """A cabinet that cannot be expanded within the caps (the message says why)."""


def _run_capped(argv: list[str], sink: BinaryIO | None, limit: int, timeout: float) -> tuple[int, bytes, int]:
    """Run ``argv``; stream stdout to ``sink`` (or collect it) up to ``limit`` bytes.
    Returns (exit status, collected stdout or b"", bytes seen); kills the process past the limit
    (status -1) or the deadline (``CabError``)."""
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    assert proc.stdout is not None
    timer = threading.Timer(timeout, proc.kill)  # a blocked read ends when the process dies
    timer.start()
    deadline = time.monotonic() + timeout
    collected = bytearray()
    seen = 0
    try:
        while True:
            chunk = proc.stdout.read1(_CHUNK)  # type: ignore[attr-defined]
            if time.monotonic() > deadline:
                raise CabError(f"cabextract took longer than {timeout:g} s")
            if not chunk:
                break
            seen += len(chunk)
            if seen > limit:
                return -1, b"", seen
            if sink is None:
                collected += chunk
            else:
                sink.write(chunk)
        remaining = max(0.1, deadline - time.monotonic())
        try:
            status = proc.wait(timeout=remaining)
        except subprocess.TimeoutExpired as exc:
            raise CabError(f"cabextract took longer than {timeout:g} s") from exc
        return status, bytes(collected), seen
    finally:
        timer.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()


def _members(path: str, timeout: float) -> list[tuple[int, str]]:
    status, out, _ = _run_capped(["cabextract", "-q", "-l", "--", path], None, _LIST_LIMIT, timeout)
    if status == -1:
        raise CabError(f"member list longer than {_LIST_LIMIT} bytes")
    members = []
    for line in out.decode("utf-8", "replace").splitlines():
        size, sep, rest = line.partition(" | ")
        if not sep or not size.strip().isdigit():
            continue
        _, sep, name = rest.partition(" | ")
        if sep:
            members.append((int(size), name))
    if status != 0 or not members:
        raise CabError("not a valid cabinet")
    return members


def expand_cab(path: str, want: str, sink: BinaryIO, *, max_bytes: int, max_members: int = 16,
               timeout: float = 60.0) -> int:
    """Write member ``want`` of the cabinet at ``path`` (or its only member) to ``sink``;
    returns its size. Raises :class:`CabError` for a bad cabinet or one over the caps."""
    if shutil.which("cabextract") is None:
        raise CabError("cabextract is not installed (Debian package cabextract)")
    members = _members(path, timeout)
    if len(members) > max_members:
        raise CabError(f"{len(members)} members, more than the {max_members} allowed")
    chosen = [m for m in members if m[1].lower() == want.lower()]
    if not chosen and len(members) == 1:
        chosen = members
    if len(chosen) != 1:
        raise CabError(f"no single member named {want!r}")
    size, name = chosen[0]
    if size > max_bytes:
        raise CabError(f"member {name[:80]!r} declares {size} bytes, more than the {max_bytes} byte cap")
    argv = ["cabextract", "-q", "-p"]
    if len(members) > 1:
        if _GLOB_CHARS & set(name):
            raise CabError(f"member name {name[:80]!r} cannot be selected")
        argv += ["-F", name]
    status, _, seen = _run_capped([*argv, "--", path], sink, max_bytes, timeout)
    if status == -1:
        raise CabError(f"member {name[:80]!r} expands past the {max_bytes} byte cap")
    if status != 0:
        raise CabError(f"cabextract failed on member {name[:80]!r} (exit status {status})")
    if seen == 0 and size != 0:
        raise CabError(f"member {name[:80]!r} expanded to nothing")
    return seen
