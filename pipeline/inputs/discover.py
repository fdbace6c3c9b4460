"""Discovery: every input (file or directory, containers expanded) -> the batch manifest.

The manifest is the list of *items*, one per document the batch will write, sorted by
``key``, and the list of duplicates:

* a file whose first bytes are a dump format is keyed by its content sha256; a second file
  with the same content is a *duplicate*: recorded, not processed again;
* everything else found (a file that is no dump, a damaged or hostile container or member,
  a directory loop) is keyed by a hash of its place (container chain + path) and carries
  the reason it gives no dump; it becomes an error document.

Every regular file counts: a crash archive is made of dumps, so a stray README gets an
``unknown_format`` error document like any unreadable file (and the exit status says so).

Directories are walked in name order; symbolic links to directories are followed, except
one that leads back to a directory being walked (a loop: an error document) or to one
already walked (skipped: its files were examined under their first path).
"""
from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from dumpkit.pipeline.inputs.archives import Limits, Spool
from dumpkit.pipeline.inputs.unpack import Found, Refused, Unpacker

__all__ = ["MAX_DIR_DEPTH", "Manifest", "discover", "path_key", "printable", "walk"]

MAX_DIR_DEPTH = 128
Item = dict[str, Any]
Progress = Callable[[int, int], None]


def path_key(display: str, chain: tuple[str, ...] | list[str]) -> str:
    """Key of an error document that has no content hash: its place in the archive."""
    where = json.dumps([*chain, display], ensure_ascii=False).encode("utf-8")
    return "path-" + hashlib.sha256(where).hexdigest()


@dataclass
class Manifest:
    """What discovery found: items (sorted by key), duplicates, and counts."""

    items: list[Item] = field(default_factory=list)
    duplicates: list[Item] = field(default_factory=list)
    files: int = 0  # files and members examined (each gives an item or a duplicate)
    containers: int = 0
    bytes_read: int = 0
    seconds: float = 0.0


def printable(name: str) -> str:
    """A name as valid Unicode for the documents: bytes that are not UTF-8 (kept by Python as
    lone surrogates) become U+FFFD. The file itself is still opened by its real name."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _refusal_item(r: Refused) -> Item:
    display, chain = printable(r.display), [printable(c) for c in r.chain]
    return {
        "key": path_key(display, chain), "sha256": None, "path": None, "display": display,
        "container": chain, "size": r.size, "format": None, "spooled": False,
        "error": {"code": r.code, "message": r.message, "structure": r.structure,
                  "offset": r.offset},
    }


def _found_item(f: Found) -> Item:
    return {
        "key": f.sha256, "sha256": f.sha256, "path": f.path, "display": printable(f.display),
        "container": [printable(c) for c in f.chain], "size": f.size, "format": f.fmt, "spooled": f.spooled,
        "error": None,
    }


def walk(top: str, visited: set[tuple[int, int]] | None = None,
         ancestors: frozenset[tuple[int, int]] = frozenset(), depth: int = 0) -> Iterator[str | Refused]:
    """Paths of the regular files under directory ``top`` (name order), and refusals."""
    visited = set() if visited is None else visited
    try:
        st = os.stat(top)
        ident = (st.st_dev, st.st_ino)
        visited.add(ident)
        with os.scandir(top) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        yield Refused(top, (), "io_error", f"cannot list directory: {exc.strerror or exc}")
        return
    here = ancestors | {ident}
    for entry in entries:
        path = entry.path
        try:
            if entry.is_dir(follow_symlinks=True):
                sub = os.stat(path)
                sub_id = (sub.st_dev, sub.st_ino)
                if sub_id in here:
                    yield Refused(path, (), "directory_loop",
                                  f"leads back to {os.path.realpath(path)}, a directory being walked: "
                                  "not followed")
                elif sub_id in visited:
                    continue  # reached again through a link: its files were examined already
                elif depth + 1 > MAX_DIR_DEPTH:
                    yield Refused(path, (), "nesting_limit",
                                  f"directories nested deeper than {MAX_DIR_DEPTH} levels")
                else:
                    yield from walk(path, visited, here, depth + 1)
            elif entry.is_file(follow_symlinks=True):
                yield path
            elif entry.is_symlink():
                yield Refused(path, (), "io_error", f"broken symbolic link -> {os.readlink(path)!r}")
            else:
                mode = entry.stat(follow_symlinks=False).st_mode
                what = "FIFO" if stat.S_ISFIFO(mode) else "socket" if stat.S_ISSOCK(mode) else "device"
                yield Refused(path, (), "not_regular_file", f"{what} file: not read")
        except OSError as exc:
            yield Refused(path, (), "io_error", f"cannot examine: {exc.strerror or exc}")


def _files(inputs: list[str], skip: set[tuple[int, int]]) -> Iterator[str | Refused]:
    """Regular files of the inputs (each path once: inputs may overlap), and refusals."""
    seen: set[str] = set()
    for entry in _entries(inputs, skip):
        if isinstance(entry, str):
            if entry in seen:
                continue
            seen.add(entry)
        yield entry


def _entries(inputs: list[str], skip: set[tuple[int, int]]) -> Iterator[str | Refused]:
    for top in inputs:
        try:
            mode = os.stat(top).st_mode
        except OSError as exc:
            yield Refused(top, (), "io_error", f"cannot open: {exc.strerror or exc}")
            continue
        if stat.S_ISDIR(mode):
            yield from walk(top, skip)
        elif stat.S_ISREG(mode):
            yield top
        else:
            yield Refused(top, (), "not_regular_file", "not a regular file or directory: not read")


#: files at most this big are examined in the walking thread: for them a hand-off to a
#: thread costs more than the work (4,000 minidumps of 23 KB: 0.17 s inline, 0.9 s through
#: the threads, each result waiting for the GIL to change hands)
INLINE_MAX = 256 * 1024
#: ... unless their name says they expand (a small .bz2 may hold megabytes): only a guess, for
#: where the work runs; what a file is comes from its bytes
_CONTAINER_SUFFIXES = (".gz", ".tgz", ".z", ".bz2", ".tbz2", ".tbz", ".xz", ".txz", ".zst", ".zstd",
                       ".tzst", ".tar", ".zip")


def _examined(unpacker: Unpacker, entries: Iterator[str | Refused],
              threads: int) -> Iterator[tuple[int, list[Found | Refused]]]:
    """``(size on disk, what it holds)`` of each entry, in entry order; files over
    :data:`INLINE_MAX` go to ``threads`` threads (hashing and decompressing release the GIL,
    so big files hash in parallel), smaller ones are examined here."""
    Examined = tuple[int, list[Found | Refused]]

    def one(entry: str, size: int) -> Examined:
        return size, list(unpacker.examine(entry, entry))

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="discover") as pool:
        window: deque[Future[Examined] | Examined] = deque()  # results, and futures of them
        running = 0  # futures in the window
        for entry in entries:
            if isinstance(entry, Refused):
                window.append((0, [entry]))
            else:
                size = 0
                with contextlib.suppress(OSError):
                    size = os.stat(entry).st_size
                if size > INLINE_MAX or entry.lower().endswith(_CONTAINER_SUFFIXES):
                    window.append(pool.submit(one, entry, size))
                    running += 1
                else:
                    window.append(one(entry, size))
            while window and (running >= 2 * threads or len(window) > 1024
                              or not isinstance(window[0], Future) or window[0].done()):
                head = window.popleft()
                if isinstance(head, Future):
                    running -= 1
                    yield head.result()
                else:
                    yield head
        for head in window:
            yield head.result() if isinstance(head, Future) else head


def discover(inputs: list[str], limits: Limits, spool: Spool, progress: Progress | None = None,
             threads: int | None = None, exclude: list[str] | None = None) -> Manifest:
    """Walk ``inputs``, expand containers (spooling dumps found inside them), deduplicate.

    The first place a content is seen (in walk order: inputs sorted, directories by name,
    archives in stored order) names its document; later ones are duplicates. Directories in
    ``exclude`` (the output folder, when it lies inside an input) are not walked."""
    started = time.monotonic()
    unpacker = Unpacker(spool, limits)
    manifest = Manifest()
    by_key: dict[str, Item] = {}
    threads = threads or min(4, os.cpu_count() or 1)
    skip: set[tuple[int, int]] = set()
    for folder in exclude or []:
        with contextlib.suppress(OSError):
            st = os.stat(folder)
            skip.add((st.st_dev, st.st_ino))
    for size, things in _examined(unpacker, _files(inputs, skip), threads):
        manifest.bytes_read += size
        for thing in things:
            manifest.files += 1
            item = _refusal_item(thing) if isinstance(thing, Refused) else _found_item(thing)
            first = by_key.get(item["key"])
            if first is None:
                by_key[item["key"]] = item
            elif item["sha256"] is not None:
                manifest.duplicates.append({
                    "sha256": item["sha256"], "path": item["display"], "container": item["container"],
                    "duplicate_of": {"path": first["display"], "container": first["container"]},
                })
        if progress is not None:
            progress(manifest.files, manifest.bytes_read)
    manifest.items = [by_key[k] for k in sorted(by_key)]
    manifest.containers = unpacker.containers
    manifest.seconds = time.monotonic() - started
    return manifest
