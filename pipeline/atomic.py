"""Atomic files for the batch: written in the work area's ``tmp/``, then renamed into place.

Every file the batch publishes (documents, report, NDJSON, manifests, markers) is written
to a temporary file in ``<out>/work/tmp/`` and moved onto its name with ``os.replace``
(same file system: atomic). Output folders therefore only ever hold whole files, whatever
moment a run is killed at; the leftovers in ``tmp/`` are removed by :func:`sweep_tmp`.
Temporary names start with ``<host>.<pid>.`` so a sweep can tell a dead writer's file.

Temporary files are created (``O_EXCL``) with the mode a plain ``open`` gives (0666 less the
umask), so published files are as readable as the user's umask says.
Their names are ``<host>.<pid>.<n>.<final name>``, ``n`` counting in the process: no random
names to draw and no ``chmod`` per file (a document is one such file: its cost counts).
"""
from __future__ import annotations

import contextlib
import itertools
import os
import shutil
import socket
import time

__all__ = ["sweep_tmp", "tmp_name", "tmp_prefix", "write_atomic"]

_HOST = socket.gethostname().replace(".", "_")  # no dots: names are split on them


def tmp_prefix() -> str:
    """``<host>.<pid>.``: how every temporary file of the batch starts."""
    return f"{_HOST}.{os.getpid()}."


_COUNTER = itertools.count()


def _create(tmp_dir: str, final: str) -> tuple[int, str]:
    """A new temporary file in ``tmp_dir`` named after ``final``: (descriptor open for
    writing, path)."""
    suffix = "." + os.path.basename(final)[:40]
    while True:
        path = os.path.join(tmp_dir, f"{tmp_prefix()}{next(_COUNTER)}{suffix}")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666), path
        except FileExistsError:  # left by a dead process that had this pid: take the next
            continue
        except FileNotFoundError:
            os.makedirs(tmp_dir, exist_ok=True)


def tmp_name(tmp_dir: str, final: str) -> str:
    """A new, empty temporary file in ``tmp_dir`` named after ``final``."""
    fd, path = _create(tmp_dir, final)
    os.close(fd)
    return path


def write_atomic(path: str, data: bytes, tmp_dir: str) -> None:
    """Write ``data`` to ``path`` through a temporary file in ``tmp_dir`` (folders made as needed)."""
    fd, tmp = _create(tmp_dir, path)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
        finally:
            os.close(fd)
        try:
            os.replace(tmp, path)
        except FileNotFoundError:  # the destination folder does not exist yet
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _alive(pid: int) -> bool:
    """Is ``pid`` a running process? A zombie is not: a killed worker whose parent died too
    stays one until init reaps it, and some inits (containers, micro-VMs) are slow at that."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rpartition(b")")[2].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True


def sweep_tmp(tmp_dir: str, stale_after: float = 3600.0) -> int:
    """Remove leftovers of killed writers from ``tmp_dir``: files of dead processes on this
    host, and anything older than ``stale_after`` seconds. Returns how many were removed."""
    removed = 0
    now = time.time()
    try:
        entries = list(os.scandir(tmp_dir))
    except FileNotFoundError:
        return 0
    for entry in entries:
        host, _, rest = entry.name.partition(".")
        pid_text = rest.partition(".")[0]
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except FileNotFoundError:
            continue
        dead = (host == _HOST and pid_text.isdigit() and int(pid_text) != os.getpid()
                and not _alive(int(pid_text)))
        if dead or age > stale_after:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(entry.path)
            removed += 1
    return removed
