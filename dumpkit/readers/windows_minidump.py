"""Windows user-mode minidumps (MDMP), including Breakpad and Crashpad dumps -> :class:`Dump`.

Layouts come from ``ksy/windows_minidump.ksy`` (generated parser
``dumpkit.formats.windows_minidump``). Only the header and the stream directory must be
readable; every stream is read on its own and a malformed one becomes a diagnostic with its
part of the model left out. Memory bytes are never read here: the memory lists become a
:class:`~dumpkit.memory.SegmentSpace` that reads them on demand.

Helpers: :mod:`.minidump_system` (SystemInfo), :mod:`.minidump_context` (CPU contexts ->
registers), :mod:`.minidump_bulk` (lists decoded as rows), :mod:`.minidump_modules`
(module lists, code / debug ids), :mod:`.minidump_linux` (Breakpad's Linux streams),
:mod:`.minidump_extras` (Breakpad / Crashpad annotations, comments), :mod:`.minidump_memory`
(memory regions, stacks of full-memory dumps).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

from dumpkit.errors import DumpParseError
from dumpkit.formats.windows_minidump import WindowsMinidump
from dumpkit.memory import FileView, Segment, SegmentSpace
from dumpkit.model import Dump, ProcessInfo, SourceInfo, Thread
from dumpkit.readers import minidump_extras, minidump_linux
from dumpkit.readers.kaitai import parse
from dumpkit.readers.minidump_bulk import (
    directory_entries,
    memory64_rows,
    memory64_rows_of,
    memory_rows,
    memory_rows_of,
    module_rows,
    module_rows_of,
    module_string,
    thread_rows,
    thread_rows_of,
)
from dumpkit.readers.minidump_common import attempt, peek_u32, utf16
from dumpkit.readers.minidump_context import ContextError, ContextRef, read_registers
from dumpkit.readers.minidump_crash import context_of, crash_from_exception, exception_row, exception_row_of
from dumpkit.readers.minidump_memory import region_from_info, stacks_from_memory
from dumpkit.readers.minidump_modules import module_from_row, unloaded_from_entry
from dumpkit.readers.minidump_system import system_info, system_record, system_record_of

__all__ = ["STREAM_NAMES", "read"]

MD = WindowsMinidump
ST = MD.StreamTypes
T = TypeVar("T")

MAX_STREAMS = 4096  # Breakpad's processor refuses more than 128 by default; real dumps have < 40
MAX_STREAM_NAMES = 64  # in SourceInfo.details["streams"]
MAX_LIST_ENTRIES = 1 << 16  # threads, modules, unloaded modules, thread names
MAX_MEMORY_RANGES = 1 << 20
MAX_REGIONS = 1 << 20
_ADDRESS_LIMIT = 1 << 64

#: Microsoft / Breakpad names of the streams this reader uses, for diagnostics.
STREAM_NAMES = {
    ST.thread_list: "ThreadListStream", ST.thread_ex_list: "ThreadExListStream",
    ST.module_list: "ModuleListStream", ST.memory_list: "MemoryListStream",
    ST.memory64_list: "Memory64ListStream", ST.exception: "ExceptionStream",
    ST.system_info: "SystemInfoStream", ST.misc_info: "MiscInfoStream",
    ST.unloaded_module_list: "UnloadedModuleListStream", ST.memory_info_list: "MemoryInfoListStream",
    ST.thread_names: "ThreadNamesStream", ST.comment_a: "CommentStreamA", ST.comment_w: "CommentStreamW",
    ST.breakpad_info: "BreakpadInfoStream", ST.assertion_info: "AssertionInfoStream",
    ST.linux_cpu_info: "LinuxCpuInfo", ST.linux_proc_status: "LinuxProcStatus",
    ST.linux_lsb_release: "LinuxLsbRelease", ST.linux_cmd_line: "LinuxCmdLine",
    ST.linux_environ: "LinuxEnviron", ST.linux_auxv: "LinuxAuxv", ST.linux_maps: "LinuxMaps",
    ST.linux_dso_debug: "LinuxDsoDebug", ST.crashpad_info: "CrashpadInfoStream",
}
#: Directory entries that carry nothing (Breakpad rewrites streams it could not write as type 0).
_PLACEHOLDERS = {ST.unused, ST.reserved0, ST.reserved1, ST.last_reserved}
#: each known stream type -> (its name in ``details["streams"]``, its name in diagnostics), read
#: once (an enum member's ``name`` costs ~0.2 us a read)
_LABELS = {kind: (kind.name, STREAM_NAMES.get(kind, kind.name)) for kind in ST}


def read(path: str) -> Dump:
    """Read the minidump at ``path``. Raises :class:`DumpParseError` only for a bad header/directory."""
    view = FileView(path)
    try:
        dump = _Reader(view).read()
    except BaseException:
        view.close()
        raise
    if dump.memory is None:
        view.close()
    return dump


class _Reader:
    def __init__(self, view: FileView) -> None:
        self.view = view
        self.dump = Dump(source=SourceInfo(path=view.path, size=view.size, format="minidump"))
        self.streams: dict[int, Any] = {}
        self.os = "unknown"
        self.cpu_arch = "unknown"
        self.segments: list[Segment] = []
        self.rva0_stacks: list[Thread] = []
        self.root: Any = None

    # ------------------------------------------------------------------ driver
    def read(self) -> Dump:
        root = self.root = self._open()
        self._directory(root)
        self._system()
        self._process(self._linux())
        exception = self._crash()
        self._memory_lists()
        self._threads(exception)
        self._address_space()
        self._modules()
        self._regions()
        minidump_extras.apply(self.dump, self.streams, self._body, self._raw)
        return self.dump

    def _open(self) -> Any:
        if self.view.read_upto(0, 4) == b"PMDM":
            raise DumpParseError("big-endian minidumps are not supported", path=self.view.path,
                                 structure="MINIDUMP_HEADER", offset=0, code="unsupported")
        return parse(MD, self.view, "MINIDUMP_HEADER")

    def _directory(self, root: Any) -> None:
        header = root.header
        count, rva = header.num_streams, header.ofs_streams
        if count > MAX_STREAMS:
            raise DumpParseError(f"implausible stream directory of {count} entries (more than {MAX_STREAMS})",
                                 path=self.view.path, structure="MINIDUMP_DIRECTORY", offset=rva,
                                 code="invalid_value")
        if rva + count * 12 > self.view.size:
            raise DumpParseError(f"stream directory of {count} entries at {rva:#x} does not fit in the "
                                 f"file ({self.view.size:#x} bytes)", path=self.view.path,
                                 structure="MINIDUMP_DIRECTORY", offset=rva, code="truncated")
        entries = directory_entries(root, rva, count)  # inside the file: checked above
        names: dict[str, None] = {}  # ordered set
        for entry in entries:
            kind = entry.stream_type
            if kind in _PLACEHOLDERS:
                continue
            labels = _LABELS.get(kind)
            if labels is None:
                names[f"{kind:#x}"] = None
                self.dump.diag("unknown_stream", f"stream type {kind:#x} is not known; skipped",
                               severity="info", structure=f"{kind:#x}", offset=entry.ofs_data)
                continue
            label, structure = labels
            names[label] = None
            if entry.ofs_data + entry.len_data > self.view.size:
                self.dump.diag("truncated_stream", f"stream of {entry.len_data:#x} bytes at "
                               f"{entry.ofs_data:#x} runs past the end of the file",
                               structure=structure, offset=entry.ofs_data)
                continue
            if kind in self.streams:
                self.dump.diag("duplicate_stream", f"{structure} appears more than once; "
                               "the last one is used", structure=structure, offset=entry.ofs_data)
            self.streams[kind] = entry
        source = self.dump.source
        source.variant = "full-memory" if ST.memory64_list in self.streams else "normal"
        source.created = header.time_date_stamp or None
        source.details = {"flags": header.flags, "version": f"{header.version:#x}",
                          "streams": ",".join(list(names)[:MAX_STREAM_NAMES])}

    def _body(self, kind: int, count_at: int | None = None, cap: int = MAX_LIST_ENTRIES) -> Any | None:
        """The parsed body of stream ``kind``, or ``None``.

        With ``count_at``, the u32 list count at that stream offset is checked against ``cap``
        before the list is parsed (lists parsed eagerly by the spec).
        """
        entry = self.streams.get(kind)
        if entry is None:
            return None
        structure = STREAM_NAMES.get(kind, str(kind))
        if count_at is not None:
            count = peek_u32(self.view, entry.ofs_data + count_at)
            if count is not None and count > cap:
                self.dump.diag("too_many_entries", f"{count} entries (more than {cap}); stream skipped",
                               structure=structure, offset=entry.ofs_data)
                return None
        return attempt(self.dump, structure, entry.ofs_data, lambda: entry.body)

    def _raw(self, kind: int) -> bytes:
        """The bytes of stream ``kind`` (one the directory kept: it lies inside the file)."""
        entry = self.streams[kind]
        return self.view.read(entry.ofs_data, entry.len_data)

    def _too_many(self, kind: int, count: int, cap: int = MAX_LIST_ENTRIES) -> bool:
        """For lazily listed streams: ``True`` (and a diagnostic) when ``count`` exceeds ``cap``."""
        if count <= cap:
            return False
        self.dump.diag("too_many_entries", f"{count} entries (more than {cap}); stream skipped",
                       structure=STREAM_NAMES[kind], offset=self.streams[kind].ofs_data)
        return True

    def _try(self, kind: int, fn: Callable[[], T]) -> T | None:
        entry = self.streams[kind]
        return attempt(self.dump, STREAM_NAMES.get(kind, str(kind)), entry.ofs_data, fn)

    # ------------------------------------------------------------------ system, process, crash
    def _system(self) -> None:
        record = self._record(ST.system_info, system_record, system_record_of)
        if record is None:
            return
        system_info(self.dump.system, record, partial(module_string, self.root),
                    lambda read: self._try(ST.system_info, read))
        self.os, self.cpu_arch = self.dump.system.os, self.dump.system.cpu_arch

    def _linux(self) -> dict[str, str]:
        """Breakpad's Linux streams: annotations, distribution, page size; returns /proc/PID/status."""
        facts = minidump_extras.linux_streams(self.dump, self.streams, self._record, self._raw, self.cpu_arch)
        if ST.linux_environ in self.streams:
            self.dump.source.details["linux_environ"] = "present, not stored"
        return facts

    def _process(self, status: dict[str, str]) -> None:
        process = ProcessInfo()
        misc = self._body(ST.misc_info)
        if misc is not None:
            if misc.flags1 & 0x1:  # MISC1_PROCESS_ID
                process.pid = misc.process_id
            if misc.flags1 & 0x2:  # MISC1_PROCESS_TIMES
                process.start_time = misc.process_create_time or None
                process.user_time = float(misc.process_user_time)
                process.kernel_time = float(misc.process_kernel_time)
        minidump_linux.apply_proc_status(process, status)
        cmdline = self.dump.annotations.get("linux_cmdline")
        if cmdline:
            process.command_line = cmdline
        if any(getattr(process, name) is not None for name in process.__slots__):
            self.dump.process = process

    def _crash(self) -> ContextRef | None:
        """The Exception stream -> crash facts; returns the crashing thread's context location."""
        row = self._record(ST.exception, exception_row, exception_row_of)
        if row is None:
            return None
        self.dump.crash = crash_from_exception(row, self.os, self.cpu_arch)
        return ContextRef(*context_of(row), self.root)

    # ------------------------------------------------------------------ memory and threads
    def _memory_lists(self) -> None:
        truncated = 0
        rows = self._list(ST.memory_list, memory_rows, memory_rows_of, MAX_MEMORY_RANGES)
        for start, size, rva in rows or ():
            truncated += self._add_segment(start, size, rva)
        listed64 = self._list(ST.memory64_list, memory64_rows, memory64_rows_of, MAX_MEMORY_RANGES)
        if listed64 is not None:
            offset, rows = listed64
            for start, size in rows:
                truncated += self._add_segment(start, size, offset)
                offset += size
        if truncated:
            self.dump.diag("truncated_memory", f"{truncated} memory ranges extend past the end of the file",
                           structure="MemoryListStream" if listed64 is None else "Memory64ListStream")

    def _add_segment(self, start: int, size: int, file_offset: int) -> int:
        """Record a captured range; returns 1 when its bytes are (partly) missing from the file."""
        if size == 0 or start + size > _ADDRESS_LIMIT:
            return 0 if size == 0 else 1
        in_file = max(0, min(size, self.view.size - file_offset))
        self.segments.append(Segment(start, size, file_offset, in_file))
        return int(in_file < size)

    def _threads(self, exception: ContextRef | None) -> None:
        kind = ST.thread_list if ST.thread_list in self.streams else ST.thread_ex_list
        rows = self._list(kind, partial(thread_rows, is_ex=kind == ST.thread_ex_list), thread_rows_of)
        names = self._thread_names()
        crash = self.dump.crash
        crash_regs: dict[str, int] | None = None
        if exception is not None:
            crash_regs = self._registers(exception, "ExceptionStream.ThreadContext")
        threads: list[Thread] = []
        rva0_stacks: list[Thread] = []
        for i, row in enumerate(rows or ()):
            tid, suspend_count, _, priority, teb, stack_start, stack_size, stack_rva, ctx_size, ctx_rva = row
            thread = Thread(id=tid, name=names.get(tid), teb=teb or None, suspend_count=suspend_count,
                            priority=priority, stack_start=stack_start, stack_size=stack_size or None)
            if stack_rva and stack_size:
                self._add_segment(stack_start, stack_size, stack_rva)
            else:  # full-memory dumps: the stack is found through Memory64List
                rva0_stacks.append(thread)
            if crash is not None and tid == crash.thread_id:
                thread.crashed = True
                if crash_regs:
                    thread.registers, thread.context_source = crash_regs, "exception"
            if not thread.registers:
                regs = self._registers(ContextRef(ctx_size, ctx_rva, self.root),
                                       f"{STREAM_NAMES[kind]}[{i}].ThreadContext")
                if regs:
                    thread.registers, thread.context_source = regs, "thread_list"
            threads.append(thread)
        if crash is not None and crash.thread_id is not None and not any(t.crashed for t in threads):
            if threads or crash_regs:
                self.dump.diag("crash_thread_missing", f"crashing thread {crash.thread_id} is not in the "
                               "thread list; added from the exception stream", severity="info",
                               structure="ExceptionStream.ThreadId")
            threads.append(Thread(id=crash.thread_id, crashed=True, registers=crash_regs or {},
                                  context_source="exception" if crash_regs else None))
        threads.sort(key=lambda t: not t.crashed)  # stable: the crashing thread first
        self.dump.threads = threads
        self.rva0_stacks = rva0_stacks

    def _address_space(self) -> None:
        """Memory lists + thread stacks as one address space; locate stacks stored only in Memory64List."""
        if not (self.segments or ST.memory_list in self.streams or ST.memory64_list in self.streams):
            return
        space = SegmentSpace(self.view, self.segments, name="virtual")
        self.dump.memory = space
        if self.rva0_stacks:
            stacks_from_memory(self.rva0_stacks, space)

    def _registers(self, location: Any, structure: str) -> dict[str, int] | None:
        try:
            return read_registers(location, self.cpu_arch, self.view.size, self.view.path, structure)
        except ContextError as exc:
            self.dump.diag("bad_context", exc.message, structure=structure, offset=exc.offset)
            return None

    def _thread_names(self) -> dict[int, str]:
        body = self._body(ST.thread_names, count_at=0)
        names: dict[int, str] = {}
        for i, entry in enumerate(body.thread_names if body is not None else ()):
            rva = entry.ofs_thread_name
            if rva == 0:
                continue
            structure = f"ThreadNamesStream[{i}]"
            if rva + 4 > self.view.size:
                self.dump.diag("bad_stream", f"thread name RVA {rva:#x} is outside the file",
                               structure=structure, offset=rva)
                continue
            name = attempt(self.dump, structure, rva, partial(_string_at, entry, "thread_name")) or ""
            if name:
                names[entry.thread_id] = name
        return names

    # ------------------------------------------------------------------ modules, regions
    def _modules(self) -> None:
        size, dump = self.view.size, self.dump
        rows = self._module_rows()
        if rows is not None:
            dump.modules = self._try(ST.module_list, lambda: [
                module_from_row(row, i, self.os, self.root, dump) for i, row in enumerate(rows)
            ]) or []
        unloaded = self._body(ST.unloaded_module_list)
        if unloaded is not None and not self._too_many(ST.unloaded_module_list, unloaded.num_entries):
            dump.unloaded_modules = self._try(ST.unloaded_module_list, lambda: [
                unloaded_from_entry(entry, i, self.os, size, dump) for i, entry in enumerate(unloaded.entries)
            ]) or []

    def _module_rows(self) -> list[tuple[Any, ...]] | None:
        """ModuleList entries as rows (:func:`~dumpkit.readers.minidump_bulk.module_rows`)."""
        return self._list(ST.module_list, module_rows, module_rows_of)

    def _list(self, kind: int, decode: Callable[[bytes], T | None], parsed: Callable[[Any], T],
              cap: int = MAX_LIST_ENTRIES) -> T | None:
        """A list stream's entries as rows (:mod:`~dumpkit.readers.minidump_bulk`): ``decode`` of
        its bytes when the list is well formed, else ``parsed`` of the generated parser's body
        (whose errors, and a count above ``cap``, become diagnostics); ``None`` without one."""
        entry = self.streams.get(kind)
        if entry is None:
            return None
        count = peek_u32(self.view, entry.ofs_data)
        if count is not None and count <= cap:
            rows = decode(self._raw(kind))
            if rows is not None:
                return rows
        body = self._body(kind, count_at=0, cap=cap)
        return None if body is None else self._try(kind, lambda: parsed(body))

    def _record(self, kind: int, decode: Callable[[bytes], T | None], parsed: Callable[[Any], T]) -> T | None:
        """A stream read as one record (:mod:`~dumpkit.readers.minidump_bulk` and its kin):
        ``decode`` of its bytes, or, where that gives ``None`` (the stream does not hold the
        spec's record), ``parsed`` of the generated parser's body, whose errors become
        diagnostics; ``None`` without the stream."""
        if kind not in self.streams:
            return None
        record = decode(self._raw(kind))
        if record is None:
            body = self._body(kind)
            record = None if body is None else self._try(kind, lambda: parsed(body))
        return record

    def _regions(self) -> None:
        body = self._body(ST.memory_info_list)
        if body is not None:
            if self._too_many(ST.memory_info_list, body.num_entries, MAX_REGIONS):
                return
            self.dump.regions = self._try(ST.memory_info_list, lambda: [
                region_from_info(info) for info in body.entries]) or []
            return
        maps = minidump_extras.stream_text(self.dump, self.streams, self._raw, ST.linux_maps)
        if maps is not None:
            regions, bad = minidump_linux.maps_regions(maps.decode("utf-8", "replace"))
            self.dump.regions = regions
            if bad:
                self.dump.diag("bad_maps_line", f"{bad} lines of /proc/PID/maps could not be read",
                               structure="LinuxMaps", offset=self.streams[ST.linux_maps].ofs_data)



def _string_at(obj: Any, attribute: str) -> str:
    """The text of the MINIDUMP_STRING instance ``attribute`` of a parsed object."""
    return utf16(getattr(obj, attribute).buffer)
