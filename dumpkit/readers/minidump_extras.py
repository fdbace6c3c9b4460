"""Minidump extension streams -> annotations and small facts.

Breakpad's Linux streams (lsb-release, /proc/PID/status, cmdline, cpuinfo, auxv), Breakpad's
BreakpadInfo and AssertionInfo, Crashpad's simple annotations, and the comment streams. The
environment stream is never read (it may hold secrets).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.model import Dump
from dumpkit.readers import minidump_linux
from dumpkit.readers.minidump_bulk import auxv_rows, auxv_rows_of
from dumpkit.readers.minidump_common import attempt, text, utf16

__all__ = [
    "ANNOTATION_CAP",
    "MAX_CRASHPAD_ANNOTATIONS",
    "MAX_TEXT_STREAM",
    "apply",
    "linux_streams",
    "stream_text",
]

ST = WindowsMinidump.StreamTypes
Body = Callable[..., Any]

#: Text streams larger than this are not read at all.
MAX_TEXT_STREAM = 1 << 24
#: At most this many bytes of one text stream are kept as an annotation.
ANNOTATION_CAP = 1 << 16
MAX_CRASHPAD_ANNOTATIONS = 256
_ANNOTATION_STRING = 1  # MinidumpAnnotation type of a UTF-8 string
_WORD_SIZE = {"x86": 4, "arm": 4, "mips": 4, "ppc": 4, "riscv32": 4, "sparc": 4}


def stream_text(dump: Dump, streams: dict[int, Any], stream_bytes: Callable[[int], bytes],
                kind: int) -> bytes | None:
    """The raw bytes of a text stream (``linux_text`` / comment: ``stream_bytes(kind)``), or
    ``None``. The spec's ``linux_text`` is the whole stream (``size-eos``) and comments have no
    type of their own (the parser hands their bytes back), so the stream's bytes are what the
    generated parser would give (``tests/test_bulk_tables.py`` compares them on the corpus)."""
    entry = streams.get(kind)
    if entry is None:
        return None
    if entry.len_data > MAX_TEXT_STREAM:
        dump.diag("stream_too_large", f"text stream of {entry.len_data:#x} bytes not read",
                  structure=kind.name if isinstance(kind, ST) else str(kind), offset=entry.ofs_data)
        return None
    return stream_bytes(kind)


def linux_streams(dump: Dump, streams: dict[int, Any], record: Callable[..., Any],
                  stream_bytes: Callable[[int], bytes], cpu_arch: str) -> dict[str, str]:
    """Annotations and system facts from Breakpad's Linux streams (``stream_bytes(kind)``: a
    stream's bytes; ``record(kind, decode, parsed)``: the stream as one record, the reader's
    ``_record``); returns /proc/PID/status parsed."""
    system, notes = dump.system, dump.annotations
    raw = stream_text(dump, streams, stream_bytes, ST.linux_lsb_release)
    if raw is not None:
        notes["linux_lsb_release"] = text(raw, ANNOTATION_CAP)
        description = minidump_linux.distribution(notes["linux_lsb_release"])
        if description:
            system.os_version = description
    status: dict[str, str] = {}
    raw = stream_text(dump, streams, stream_bytes, ST.linux_proc_status)
    if raw is not None:
        notes["linux_proc_status"] = text(raw, ANNOTATION_CAP)
        status = minidump_linux.proc_status(notes["linux_proc_status"])
    raw = stream_text(dump, streams, stream_bytes, ST.linux_cmd_line)
    if raw is not None:
        notes["linux_cmdline"] = minidump_linux.cmdline(raw[:ANNOTATION_CAP])
    raw = stream_text(dump, streams, stream_bytes, ST.linux_cpu_info)
    if raw is not None:
        notes["linux_cpuinfo"] = text(raw, ANNOTATION_CAP)
        if system.cpu_vendor is None:
            system.cpu_vendor = minidump_linux.cpuinfo_first(notes["linux_cpuinfo"], "vendor_id")
        if system.cpu_description is None:
            system.cpu_description = (minidump_linux.cpuinfo_first(notes["linux_cpuinfo"], "model name")
                                      or minidump_linux.cpuinfo_first(notes["linux_cpuinfo"], "Hardware"))
    wide = _WORD_SIZE.get(cpu_arch, 8) == 8
    pairs = record(ST.linux_auxv, partial(auxv_rows, wide=wide), partial(auxv_rows_of, wide=wide))
    page_size = minidump_linux.auxv_value(pairs or [], minidump_linux.AT_PAGESZ)
    if page_size:
        system.page_size = page_size
    return status


def apply(dump: Dump, streams: dict[int, Any], body: Body, stream_bytes: Callable[[int], bytes]) -> None:
    """BreakpadInfo, AssertionInfo, Crashpad simple annotations and comments (``stream_bytes``:
    as for :func:`stream_text`)."""
    info = body(ST.breakpad_info) if ST.breakpad_info in streams else None
    if info is not None:
        if info.validity & 0x1:
            dump.source.details["dump_thread_id"] = info.dump_thread_id
        if info.validity & 0x2:
            dump.source.details["requesting_thread_id"] = info.requesting_thread_id
    assertion = body(ST.assertion_info) if ST.assertion_info in streams else None
    if assertion is not None:
        parts = [utf16(assertion.expression), utf16(assertion.function), utf16(assertion.file)]
        if any(parts):
            message = f"{parts[0]} in {parts[1]} at {parts[2]}:{assertion.line}"
            dump.annotations["assertion"] = message
            if dump.crash is not None and dump.crash.message is None:
                dump.crash.message = message
    crashpad = body(ST.crashpad_info) if ST.crashpad_info in streams else None
    if crashpad is not None:
        _crashpad_annotations(dump, crashpad)
    for kind, wide in ((ST.comment_a, False), (ST.comment_w, True)):
        raw = stream_text(dump, streams, stream_bytes, kind)
        if raw:
            comment = utf16(raw[:ANNOTATION_CAP]) if wide else text(raw.split(b"\0", 1)[0], ANNOTATION_CAP)
            if comment:
                dump.annotations["comment"] = comment


def _crashpad_annotations(dump: Dump, crashpad: Any) -> None:
    """Crashpad annotations: ``crashpad:<key>`` for the process-wide simple annotations, and
    ``crashpad:<module>:<key>`` for per-module ones (simple annotations, string annotation
    objects, and the list annotations joined as ``crashpad:<module>:list``). At most
    :data:`MAX_CRASHPAD_ANNOTATIONS` in all."""
    found: list[tuple[str, str]] = []
    where = "CrashpadInfoStream.SimpleAnnotations"
    if crashpad.simple_annotations.len_data:
        table = attempt(dump, where, crashpad.simple_annotations.ofs_data,
                        lambda: crashpad.simple_annotations_dict)
        if table is not None:
            found += attempt(dump, where, crashpad.simple_annotations.ofs_data,
                             lambda: [(f"crashpad:{key}", value) for key, value in _pairs(table)]) or []
    where = "CrashpadInfoStream.ModuleList"
    if crashpad.module_list.len_data:
        infos = attempt(dump, where, crashpad.module_list.ofs_data, lambda: crashpad.module_infos)
        for i, link in enumerate(infos.links[:MAX_CRASHPAD_ANNOTATIONS] if infos is not None else ()):
            if len(found) >= MAX_CRASHPAD_ANNOTATIONS:
                break
            index = link.minidump_module_list_index
            name = dump.modules[index].name if index < len(dump.modules) else f"module{index}"
            found += attempt(dump, f"{where}[{i}]", link.location.ofs_data,
                             partial(_module_annotations, link, name)) or []
    if len(found) > MAX_CRASHPAD_ANNOTATIONS:
        dump.diag("too_many_entries", f"{len(found)} Crashpad annotations or more; the first "
                  f"{MAX_CRASHPAD_ANNOTATIONS} are kept", structure="CrashpadInfoStream")
    for key, value in found[:MAX_CRASHPAD_ANNOTATIONS]:
        dump.annotations[key] = value


def _module_annotations(link: Any, module: str) -> list[tuple[str, str]]:
    info = link.info
    out = [(f"crashpad:{module}:{key}", value) for key, value in
           (_pairs(info.simple_annotations_dict) if info.simple_annotations_dict is not None else ())]
    if info.annotation_objects_list is not None:
        for obj in info.annotation_objects_list.objects[:MAX_CRASHPAD_ANNOTATIONS]:
            if obj.type == _ANNOTATION_STRING:
                key = f"crashpad:{module}:{text(obj.name.buffer)}"
                out.append((key, text(obj.value.data, ANNOTATION_CAP)))
    if info.list_annotations_list is not None:
        items = [text(child.value.buffer) for child in
                 info.list_annotations_list.children[:MAX_CRASHPAD_ANNOTATIONS]]
        if items:
            out.append((f"crashpad:{module}:list", text("\n".join(items).encode(), ANNOTATION_CAP)))
    return out


def _pairs(table: Any) -> list[tuple[str, str]]:
    """Key/value strings of a MinidumpSimpleStringDictionary, at most the cap."""
    return [(text(entry.key.buffer, ANNOTATION_CAP), text(entry.value.buffer, ANNOTATION_CAP))
            for entry in table.entries[:MAX_CRASHPAD_ANNOTATIONS]]
