"""Dump model -> the normalized JSON document (``schemas/dump.schema.json``, contract in
``schemas/README.md``), and unreadable file -> error document (``schemas/error.schema.json``).

Every document leaving :func:`document_for` has been validated. Addresses are lower-case
hex strings; names for codes come from :mod:`dumpkit.pipeline.document.names`.
"""
from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dumpkit
from dumpkit import gc_pause
from dumpkit.errors import INTERNAL_ERROR, INTERNAL_ERROR_LOG_FLAG, DumpkitError
from dumpkit.model import PC_REGISTER, CrashInfo, Dump, Frame, Module, Thread
from dumpkit.pipeline.document import names
from dumpkit.pipeline.document.signature import short_signature, stack_signature, symbolicated_frames
from dumpkit.pipeline.document.validate import DocumentInvalid, validate
from dumpkit.schemas import CURRENT
from dumpkit.unwind import unwind_dump

if TYPE_CHECKING:
    import logging

    from dumpkit.symbols.store import SymbolStore

__all__ = [
    "document_for",
    "error_document",
    "file_sha256",
    "normalize",
]


def _log() -> logging.Logger:
    """This module's logger; ``logging`` is imported on the first internal error only (a
    document that reads cleanly never logs, and a short ``inspect`` saves its import)."""
    import logging

    return logging.getLogger(__name__)


Doc = dict[str, Any]


_U64 = 0xFFFFFFFFFFFFFFFF  # addresses are shown as 64-bit unsigned values


def _hex(value: int | None) -> str | None:
    return None if value is None else hex(value & _U64)  # "0x..." lower case


def _iso(seconds: float | None) -> str | None:
    if seconds is None or seconds <= 0:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (OverflowError, OSError, ValueError):
        return None


def _json_safe(value: str | int | bool) -> str | int | bool:
    """Integers beyond JSON's exact range (2**53) become hex strings, like addresses."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_EXACT_INT:
        return _hex(value) or "0x0"
    return value


_MAX_EXACT_INT = 2**53 - 1


def file_sha256(path: str, chunk: int = 1 << 20) -> str:
    """Content hash of a file, streamed (never the whole file in memory)."""
    import hashlib  # loads OpenSSL (~4 ms a process): only where a document asks for the hash

    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _faulting_pc(dump: Dump, crash: CrashInfo) -> int | None:
    """The instruction address the crash is attributed to."""
    if crash.kind in ("exception", "bugcheck") and crash.address and crash.code_space != "mach":
        return crash.address  # 0 is no address here: fall back to the thread's pc
    thread = dump.crashing_thread
    reg = PC_REGISTER.get(dump.system.cpu_arch)
    if thread is not None and reg is not None and reg in thread.registers:
        return thread.registers[reg]
    return crash.address


def _crash(dump: Dump) -> Doc | None:
    crash = dump.crash
    if crash is None:
        return None
    code_name = names.crash_code_name(crash.code, crash.code_space, crash.parameters)
    pc = _faulting_pc(dump, crash)
    module = dump.module_at(pc) if pc is not None else None
    short = short_signature(code_name, module, pc)
    return {
        "kind": crash.kind,
        "code": crash.code,
        "code_name": code_name,
        "code_space": crash.code_space,
        "subcode": crash.subcode,
        "subcode_name": names.crash_subcode_name(crash.code, crash.subcode, crash.code_space,
                                                 crash.parameters),
        "address": _hex(crash.address),
        "parameters": [_hex(p) for p in crash.parameters[:15]],
        "thread_id": crash.thread_id,
        "sender_pid": crash.sender_pid,
        "module": module.name if module else None,
        "module_offset": _hex(pc - module.base) if module and pc is not None else None,
        "message": crash.message,
        "signature": stack_signature(dump) or short,
        "short_signature": short,
        "symbolicated_frames": symbolicated_frames(dump),
    }


def _thread(thread: Thread, crashing: Thread | None) -> Doc:
    stack = None
    if thread.stack_start is not None and thread.stack_size is not None:
        stack = {"start": _hex(thread.stack_start), "size": thread.stack_size}
    return {
        "id": thread.id,
        "name": thread.name,
        "crashed": thread is crashing,  # Dump.crashing_thread owns the rule
        "registers": {name: hex(value & _U64) for name, value in thread.registers.items()},  # _hex, inlined
        "stack": stack,
        "context_source": thread.context_source,
        "frames": [_frame(f) for f in thread.frames[:1024]],
    }


def _frame(frame: Frame) -> Doc:
    # _hex inlined: a document has ~100 addresses, and each call costs more than its work
    sp, offset, function_offset = frame.sp, frame.module_offset, frame.function_offset
    return {
        "pc": hex(frame.pc & _U64),
        "trust": frame.trust,
        "sp": None if sp is None else hex(sp & _U64),
        "module": frame.module,
        "module_offset": None if offset is None else hex(offset & _U64),
        "function": frame.function,
        "function_offset": None if function_offset is None else hex(function_offset & _U64),
        "source_file": frame.source_file,
        "source_line": frame.source_line,
        "inlined": [{"function": i.function, "source_file": i.source_file, "source_line": i.source_line}
                    for i in frame.inlined[:64]],
    }


def _module(module: Module) -> Doc:
    return {
        "name": module.name,
        "path": module.path,
        "base": hex(module.base & _U64),
        "size": module.size,
        "version": module.version,
        "timestamp": module.timestamp,
        "checksum": hex(module.checksum & _U64) if module.checksum else None,
        "code_id": module.code_id,
        "debug_id": module.debug_id,
        "debug_file": module.debug_file,
        "build_id": module.build_id,
        "soname": module.soname,
    }


def _memory(dump: Dump) -> Doc:
    count = total = 0
    lowest = highest = None
    largest_gap = 0
    space_name = "none"
    if dump.memory is not None:
        space = dump.memory.summary_space
        space_name = space.name
        prev_end = None
        for start, size in space.ranges():
            count += 1
            total += size
            if lowest is None:
                lowest = start
            if prev_end is not None and start > prev_end:
                largest_gap = max(largest_gap, start - prev_end)
            prev_end = start + size
            highest = prev_end - 1
    return {
        "address_space": space_name,
        "captured_ranges": count,
        "captured_bytes": total,
        "lowest": _hex(lowest),
        "highest": _hex(highest),
        "largest_gap": _hex(largest_gap) if count > 1 else None,
        "regions": len(dump.regions),
    }


def normalize(dump: Dump, *, sha256: str | None = None, container: list[str] | None = None,
              symbols: SymbolStore | None = None, sysroot: str | None = None) -> Doc:
    """The document for ``dump`` (not yet validated: :func:`document_for` validates).

    The crashing thread's stack is walked first (``dumpkit.unwind``) unless a thread
    already has frames; ``symbols``/``sysroot`` name functions and add CFI.
    """
    if not any(t.frames for t in dump.threads):
        unwind_dump(dump, symbols=symbols, sysroot=sysroot)
    src, sysinfo, proc = dump.source, dump.system, dump.process
    crashing = dump.crashing_thread
    return {
        "schema_version": CURRENT["dump"],
        "dumpkit_version": dumpkit.__version__,
        "kind": "dump",
        "source": {
            "path": src.path,
            "size": src.size,
            "sha256": sha256 or src.sha256,
            "format": src.format,
            "variant": src.variant,
            "container": list(container if container is not None else src.container),
            "created": _iso(src.created),
            "byte_order": src.byte_order,
            "details": {k: _json_safe(v) for k, v in src.details.items()},
        },
        "system": {
            "os": sysinfo.os,
            "os_version": sysinfo.os_version,
            "os_build": sysinfo.os_build,
            "os_detail": sysinfo.os_detail,
            "kernel_release": sysinfo.kernel_release,
            "cpu_arch": sysinfo.cpu_arch,
            "cpu_count": sysinfo.cpu_count,
            "cpu_vendor": sysinfo.cpu_vendor,
            "cpu_description": sysinfo.cpu_description,
            "cpu_features": sysinfo.cpu_features,
            "page_size": sysinfo.page_size,
            "product_type": sysinfo.product_type,
        },
        "process": None if proc is None else {
            "pid": proc.pid,
            "ppid": proc.ppid,
            "name": proc.name,
            "command_line": proc.command_line,
            "uid": proc.uid,
            "gid": proc.gid,
            "start_time": _iso(proc.start_time),
            "user_time_s": proc.user_time,
            "kernel_time_s": proc.kernel_time,
        },
        "crash": _crash(dump),
        "threads": [_thread(t, crashing) for t in dump.threads],
        "modules": [_module(m) for m in dump.modules],
        "unloaded_modules": [_module(m) for m in dump.unloaded_modules],
        "memory": _memory(dump),
        "annotations": dict(dump.annotations),
        "diagnostics": [
            {"severity": d.severity, "code": d.code, "message": d.message,
             "structure": d.structure, "offset": _hex(d.offset)}
            for d in dump.diagnostics
        ],
    }


def error_document(path: str, code: str, message: str, *, structure: str | None = None,
                   offset: int | None = None, size: int | None = None, sha256: str | None = None,
                   fmt: str | None = None, container: list[str] | None = None) -> Doc:
    """The document for a file that could not be read at all."""
    return {
        "schema_version": CURRENT["error"],
        "dumpkit_version": dumpkit.__version__,
        "kind": "error",
        "source": {"path": path, "size": size, "sha256": sha256, "format": fmt,
                   "container": list(container or [])},
        "error": {"code": code, "message": message, "structure": structure, "offset": _hex(offset)},
    }


def _size_of(path: str) -> int | None:
    try:
        return os.stat(path).st_size
    except OSError:
        return None


def document_for(path: str, *, sha256: str | None = None, container: list[str] | None = None,
                 display_path: str | None = None, symbols: SymbolStore | None = None,
                 sysroot: str | None = None) -> Doc:
    """Read, normalize and validate one file; an unreadable file gives an error document.

    Never raises for bad input. A bug of ours (an unexpected exception, or a document that
    fails its schema) becomes an error document with code ``internal_error`` and is logged.
    """
    shown = display_path or path
    try:
        with gc_pause.paused(), dumpkit.open(path) as dump:  # see dumpkit.gc_pause
            dump.source.path = shown
            doc = normalize(dump, sha256=sha256, container=container, symbols=symbols, sysroot=sysroot)
        validate(doc)
        return doc
    except DumpkitError as exc:
        code, message, structure, offset = exc.code, exc.message, exc.structure, exc.offset
    except DocumentInvalid as exc:
        _log().error("%s: document failed its schema: %s", shown, exc, extra={INTERNAL_ERROR_LOG_FLAG: True})
        code, message, structure, offset = INTERNAL_ERROR, str(exc), None, None
    except Exception as exc:  # a reader bug must not stop a batch
        _log().exception("%s: unexpected error while reading", shown, extra={INTERNAL_ERROR_LOG_FLAG: True})
        code, message, structure, offset = INTERNAL_ERROR, f"{type(exc).__name__}: {exc}", None, None
    fmt = None
    with contextlib.suppress(DumpkitError):
        fmt = dumpkit.detect(path)
    doc = error_document(shown, code, message, structure=structure, offset=offset,
                         size=_size_of(path), sha256=sha256, fmt=fmt, container=container)
    validate(doc)
    return doc
