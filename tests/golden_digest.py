"""Golden digests of the corpus (docs/practices.md practice 11): the facts that matter, per corpus file.

One compact JSON digest per corpus file, committed under ``tests/golden/<folder>/<name>.json``
and checked by ``tests/test_golden.py``; ``tools/update-golden`` (``make golden``) rewrites
them, so every change in dumpkit's output is reviewed as a ``git diff tests/golden``.

A digest is built from the normalized document (:func:`dumpkit.pipeline.document.normalize.document_for`) and
keeps only facts, never bytes of the dump, never a machine-dependent value: the corpus-relative
id instead of the path, no timings, no ``dumpkit_version``, no diagnostic messages (they may
quote paths). Long lists are capped; a count and a SHA-1 of the whole (digested) list show
changes beyond the cap.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from dumpkit.model import PC_REGISTER, SP_REGISTER
from dumpkit.pipeline.document.normalize import document_for

__all__ = [
    "CONTAINER_SUFFIXES",
    "GOLDEN_DIR",
    "MAX_FRAMES",
    "MAX_MODULES",
    "MAX_THREADS",
    "UPDATE_HINT",
    "corpus_dumps",
    "digest",
    "digest_file",
    "golden_path",
    "render",
    "stale_goldens",
    "unified_diff",
]

REPO = Path(__file__).resolve().parent.parent
GOLDEN_DIR = REPO / "tests" / "golden"
#: Compressed originals kept beside their decompressed copies: containers, not dumps
#: (the same selection as tests/test_corpus_documents.py).
CONTAINER_SUFFIXES = (".bz2", ".gz", ".zst", ".xz", ".zip")
MAX_THREADS = 32
MAX_FRAMES = 8
MAX_MODULES = 50
UPDATE_HINT = ("if the change is intended, run `make golden` (or `.venv/bin/python tools/update-golden`), "
               "then review `git diff tests/golden` and commit it with the change")

Doc = dict[str, Any]


def corpus_dumps(root: Path | None) -> list[Path]:
    """The corpus files that get a golden digest (sorted); ``[]`` when ``root`` is ``None``."""
    if root is None:
        return []
    return sorted(p for p in root.glob("*/*")
                  if p.is_file() and p.name not in ("MANIFEST.tsv", "README.md")
                  and not p.name.endswith(CONTAINER_SUFFIXES))


def golden_path(file_id: str) -> Path:
    """Where the digest of corpus file ``folder/name`` is committed."""
    return GOLDEN_DIR / f"{file_id}.json"


def stale_goldens(ids: set[str]) -> list[Path]:
    """Committed digests whose corpus file (an id in ``ids``) is gone."""
    return sorted(p for p in GOLDEN_DIR.rglob("*.json")
                  if p.relative_to(GOLDEN_DIR).as_posix().removesuffix(".json") not in ids)


def _sha1(items: list[Any]) -> str:
    text = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _capped(items: list[Any], cap: int) -> Doc:
    """``{"count", "sha1", "first"}``: the first ``cap`` items, with a hash over all of them."""
    return {"count": len(items), "sha1": _sha1(items), "first": items[:cap]}


def _frame(frame: Doc) -> str:
    where = (f"{frame['module']}+{frame['module_offset']}" if frame.get("module")
             and frame.get("module_offset") is not None else str(frame.get("pc")))
    return f"{where}/{frame.get('trust')}"


def _thread(thread: Doc, arch: str) -> Doc:
    regs = thread.get("registers") or {}
    pc_name, sp_name = PC_REGISTER.get(arch), SP_REGISTER.get(arch)
    frames = thread.get("frames") or []
    return {
        "id": thread["id"],
        "crashed": thread["crashed"],
        "pc": regs.get(pc_name) if pc_name else None,
        "sp": regs.get(sp_name) if sp_name else None,
        "registers": len(regs),
        "frame_count": len(frames),
        "frames": [_frame(f) for f in frames[:MAX_FRAMES]],
    }


def _module(module: Doc) -> Doc:
    return {key: module.get(key) for key in ("name", "base", "size", "code_id", "debug_id")}


def _pick(section: Doc | None, keys: tuple[str, ...]) -> Doc | None:
    return None if section is None else {key: section.get(key) for key in keys}


def digest(doc: Doc, file_id: str) -> Doc:
    """The golden digest of one normalized (dump or error) document."""
    if doc["kind"] == "error":
        return {
            "id": file_id,
            "kind": "error",
            "format": doc["source"].get("format"),
            "error": _pick(doc["error"], ("code", "structure", "offset")),
        }
    arch = doc["system"].get("cpu_arch") or "unknown"
    threads = [_thread(t, arch) for t in doc["threads"]]
    modules = [_module(m) for m in doc["modules"]]
    return {
        "id": file_id,
        "kind": doc["kind"],
        "source": _pick(doc["source"], ("format", "variant", "byte_order")),
        "system": _pick(doc["system"], ("os", "os_version", "os_build", "cpu_arch", "cpu_count",
                                        "page_size", "kernel_release")),
        "process": _pick(doc["process"], ("pid", "ppid", "name")),
        "crash": _pick(doc["crash"], ("kind", "code", "code_name", "subcode_name", "address",
                                      "parameters", "thread_id", "module", "module_offset",
                                      "signature", "short_signature", "message")),
        "threads": _capped(threads, MAX_THREADS),
        "modules": _capped(modules, MAX_MODULES),
        "unloaded_modules": len(doc.get("unloaded_modules") or []),
        "memory": doc["memory"],
        "diagnostics": dict(Counter(f"{d['severity']}:{d['code']}" for d in doc["diagnostics"])),
    }


def digest_file(path: Path, root: Path) -> tuple[str, Doc]:
    """``(corpus id, digest)`` for one corpus file under ``root``."""
    file_id = path.relative_to(root).as_posix()
    return file_id, digest(document_for(str(path), display_path=file_id), file_id)


def render(value: Doc) -> str:
    """The committed text of a digest: sorted keys, indent 1, trailing newline."""
    return json.dumps(value, sort_keys=True, indent=1, ensure_ascii=False) + "\n"


def unified_diff(committed: str, current: str, file_id: str, max_lines: int = 200) -> str:
    """A readable diff from the committed digest to the current one (capped)."""
    lines = list(difflib.unified_diff(committed.splitlines(), current.splitlines(),
                                      f"tests/golden/{file_id}.json (committed)",
                                      f"{file_id} (current dumpkit)", lineterm=""))
    if len(lines) > max_lines:
        lines = [*lines[:max_lines], f"... ({len(lines) - max_lines} more diff lines)"]
    return "\n".join(lines)
