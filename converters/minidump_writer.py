"""Write a minidump (MDMP, docs/formats.md §1) from the :class:`~dumpkit.model.Dump` model.

    writer = MinidumpWriter(dump)
    overhead = writer.overhead(len(ranges))          # bytes besides the memory itself
    report = writer.write("out.dmp", ranges, stacks)  # ranges: sorted, disjoint (start, size)

File layout, written front to back in one pass (no seeking, nothing buffered but the small
metadata):

* normal mode: header, directory, the memory bytes (copied in chunks from
  ``dump.memory`` straight into the file), then the metadata (strings, contexts, CodeView
  records, stream bodies); MemoryList descriptors and thread Stack descriptors point into
  the memory bytes;
* full-memory mode (``full_memory=True``): header, directory, metadata, then the
  Memory64List bytes last, so every 32-bit RVA of the metadata stays below 4 GiB however big
  the memory is.

The file is written to a temporary name in the target's directory and renamed into place,
so a reader never sees half a minidump.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import struct
import tempfile
import time
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import BinaryIO

from dumpkit.converters import minidump_streams as ms
from dumpkit.converters.minidump_contexts import LAYOUTS, build_context
from dumpkit.errors import NotCapturedError
from dumpkit.model import SP_REGISTER, Dump, MemoryRegion, Thread

__all__ = ["ANNOTATION_STREAMS", "LINUX_STREAM_OSES", "MinidumpWriter", "WriteReport", "WriterOptions"]

_HEADER_SIZE, _DIRENT_SIZE = 0x20, 12
_MINIDUMP_VERSION = 0xA793
_WITH_FULL_MEMORY = 0x2
_CHUNK = 1 << 20
_PAGE = 0x1000
#: Systems whose minidumps get the Breakpad Linux streams: Linux, Android, and the BSDs (which
#: Breakpad writes as MD_OS_UNIX with the same streams)
LINUX_STREAM_OSES = ("linux", "android", "netbsd", "openbsd", "freebsd")
_MAX_RVA32 = 0xFFFFFFFF

#: dump.annotations keys holding the raw text of a Breakpad Linux stream (a source minidump's
#: reader keeps them under these names); they are copied as they are.
ANNOTATION_STREAMS = {
    "LinuxCpuInfo": ("linux_cpuinfo", "cpuinfo", "/proc/cpuinfo"),
    "LinuxProcStatus": ("linux_proc_status", "proc_status", "/proc/self/status"),
    "LinuxLsbRelease": ("linux_lsb_release", "lsb_release", "/etc/lsb-release", "os_release"),
    "LinuxCmdLine": (),  # rebuilt from process.command_line: the reader's annotation has spaces for NULs
    "LinuxEnviron": ("linux_environ", "environ"),
    "LinuxAuxv": ("linux_auxv_hex", "auxv_hex"),
    "LinuxMaps": ("linux_maps", "maps", "/proc/self/maps"),
}


@dataclass(slots=True)
class WriterOptions:
    """What goes into the file besides the memory."""

    #: Breakpad's Linux streams (maps, proc status, cmdline, lsb-release, auxv); None = for Linux/Android
    linux_streams: bool | None = None
    #: the process environment (LinuxEnviron) when the source has it: off by default, it may hold secrets
    include_environ: bool = False
    #: Memory64List (one contiguous block at the end) instead of MemoryList
    full_memory: bool = False
    #: header TimeDateStamp; None = the source's creation time, else now
    timestamp: int | None = None
    #: optional streams to leave out (e.g. "LinuxMaps" of a core with 65535 mappings)
    omit_streams: frozenset[str] = frozenset()


@dataclass(slots=True)
class WriteReport:
    """What :meth:`MinidumpWriter.write` wrote."""

    path: str
    size: int
    streams: list[str] = field(default_factory=list)
    memory_ranges: int = 0
    memory_bytes: int = 0
    #: bytes of planned memory the source could not give (written as zeros)
    zero_filled: int = 0
    threads_with_stack: int = 0


def _umask_mode() -> int:
    """0666 less the umask: the mode a plain ``open`` gives a new file."""
    mask = os.umask(0o077)
    os.umask(mask)
    return 0o666 & ~mask


def _align(value: int, to: int) -> int:
    return (value + to - 1) // to * to


class _Blob:
    """The metadata area: records appended at increasing RVAs from ``base``."""

    def __init__(self, base: int) -> None:
        self.base = base
        self.data = bytearray()

    def add(self, record: bytes, align: int = 4) -> int:
        pad = _align(self.base + len(self.data), align) - (self.base + len(self.data))
        self.data += bytes(pad)
        rva = self.base + len(self.data)
        self.data += record
        return rva

    @property
    def end(self) -> int:
        return self.base + len(self.data)


class MinidumpWriter:
    """Lays out and writes one minidump for ``dump`` (see the module docstring)."""

    def __init__(self, dump: Dump, options: WriterOptions | None = None) -> None:
        self.dump = dump
        self.options = options or WriterOptions()
        linux = self.options.linux_streams
        self.linux = dump.system.os in LINUX_STREAM_OSES if linux is None else linux
        self.linux_payloads = self._linux_payloads()
        self.stream_names = self._stream_names()
        self._meta_size0: int | None = None

    # ------------------------------------------------------------------ planning
    def _linux_payloads(self) -> dict[str, bytes]:
        """Breakpad Linux stream name -> bytes, for the streams this dump can fill."""
        if not self.linux:
            return {}
        dump, ann = self.dump, self.dump.annotations
        out: dict[str, bytes] = {}
        for stream, keys in ANNOTATION_STREAMS.items():
            if stream == "LinuxEnviron" and not self.options.include_environ:
                continue
            text = next((ann[k] for k in keys if ann.get(k)), None)
            if text is None:
                continue
            if stream == "LinuxAuxv":
                try:
                    out[stream] = bytes.fromhex(text)
                except ValueError:
                    continue
            else:
                out[stream] = text.encode("utf-8", errors="replace")
        built = {"LinuxProcStatus": lambda: ms.linux_proc_status(dump.process),
                 "LinuxLsbRelease": lambda: ms.linux_lsb_release(dump.system),
                 "LinuxCmdLine": lambda: ms.linux_cmdline(dump.process),
                 "LinuxMaps": lambda: ms.linux_maps(dump)}
        for stream, make in built.items():
            if stream not in out:
                payload = make()
                if payload:
                    out[stream] = payload
        order = [name for name in ANNOTATION_STREAMS if name not in self.options.omit_streams]
        return {name: out[name] for name in order if name in out}

    def _stream_names(self) -> list[str]:
        names = ["ThreadList", "ModuleList", "Memory64List" if self.options.full_memory else "MemoryList"]
        if self._has_exception():
            names.append("Exception")
        names.append("SystemInfo")
        if ms.misc_info(self.dump.process) is not None:
            names.append("MiscInfo")
        if self.dump.unloaded_modules and "UnloadedModuleList" not in self.options.omit_streams:
            names.append("UnloadedModuleList")
        if self._wants_memory_info():
            names.append("MemoryInfoList")
        names += list(self.linux_payloads)
        return names

    def _wants_memory_info(self) -> bool:
        """Full-memory dumps describe every range (udmp-parser needs it); Windows sources keep
        their region list."""
        if "MemoryInfoList" in self.options.omit_streams:
            return False
        return self.options.full_memory or (self.dump.system.os == "windows" and bool(self.dump.regions))

    def _memory_regions(self, memory: list[tuple[int, int, int]]) -> list[MemoryRegion]:
        """The regions for MemoryInfoList: the source's (normal mode) or one per memory range,
        with the permissions of the source region that holds its start (full-memory mode)."""
        if not self.options.full_memory:
            return sorted(self.dump.regions, key=lambda r: r.start)
        regions = sorted(self.dump.regions, key=lambda r: r.start)
        starts = [r.start for r in regions]
        out = []
        for start, size, _ in memory:
            i = bisect_right(starts, start) - 1
            source = regions[i] if i >= 0 and start < regions[i].start + regions[i].size else None
            out.append(MemoryRegion(start, size, source.permissions if source else "rw-", "commit",
                                    source.type if source else None))
        return out

    def _has_exception(self) -> bool:
        """A Windows dump without an exception has no exception stream; a Linux one says
        DUMP_REQUESTED there, as Breakpad does (when it has a thread to name)."""
        crash = self.dump.crash
        if crash is None:
            return False
        return crash.kind != "none" or (self.dump.system.os != "windows" and bool(self.dump.threads))

    def _crash_thread(self) -> Thread | None:
        """The thread the exception stream names: the crashing thread (``Dump.crashing_thread``),
        else the first thread (a Linux DUMP_REQUESTED record names one, as Breakpad does)."""
        if self.dump.crash is None:
            return None
        return self.dump.crashing_thread or (self.dump.threads[0] if self.dump.threads else None)

    @property
    def _directory_end(self) -> int:
        return _HEADER_SIZE + _DIRENT_SIZE * len(self.stream_names)

    def overhead(self, memory_ranges: int) -> int:
        """File bytes besides the memory bytes themselves, for ``memory_ranges`` descriptors (upper bound)."""
        if self._meta_size0 is None:
            blob, _ = self._metadata(0, [], {}, 0)
            self._meta_size0 = len(blob.data)
        return _align(self._directory_end, 16) + 15 + self._meta_size0 + 16 * memory_ranges

    # ------------------------------------------------------------------ metadata
    def _metadata(self, base: int, memory: list[tuple[int, int, int]], stacks: Mapping[int, tuple[int, int]],
                  mem64_base: int) -> tuple[_Blob, dict[str, tuple[int, int]]]:
        """Every record but the memory bytes, laid out from RVA ``base``; and stream name -> (size, rva)."""
        dump, blob = self.dump, _Blob(base)
        streams: dict[str, tuple[int, int]] = {}
        arch, os_name = dump.system.cpu_arch, dump.system.os

        def put(name: str, body: bytes, align: int = 4) -> None:
            streams[name] = (len(body), blob.add(body, align))

        contexts: dict[int, tuple[int, int]] = {}
        if arch in LAYOUTS:
            for thread in dump.threads:
                if thread.registers:
                    ctx = build_context(arch, thread.registers)
                    contexts[thread.id] = (len(ctx), blob.add(ctx, 16))
        entries = []
        starts = [start for start, _, _ in memory]
        for thread in dump.threads:
            entries.append(ms.thread_entry(thread, self._stack_descriptor(thread, stacks, memory, starts),
                                           contexts.get(thread.id, (0, 0))))
        put("ThreadList", struct.pack("<I", len(entries)) + b"".join(entries))

        module_entries = []
        for module in dump.modules:
            name_rva = blob.add(ms.minidump_string(module.path))
            cv = ms.codeview_record(module)
            cv_loc = (len(cv), blob.add(cv)) if cv else (0, 0)
            module_entries.append(ms.module_entry(module, os_name, name_rva, cv_loc))
        put("ModuleList", struct.pack("<I", len(module_entries)) + b"".join(module_entries))

        if self.options.full_memory:
            put("Memory64List", ms.memory64_list([(s, n) for s, n, _ in memory], mem64_base), 8)
        else:
            put("MemoryList", ms.memory_list(memory))

        if "Exception" in self.stream_names and dump.crash is not None:
            crashed = self._crash_thread()
            tid = crashed.id if crashed is not None else (dump.crash.thread_id or 0)
            put("Exception", ms.exception_stream(dump.crash, tid, contexts.get(tid, (0, 0))), 8)

        csd_rva = blob.add(ms.minidump_string(ms.csd_text(dump.system)))
        put("SystemInfo", ms.system_info(dump.system, csd_rva))
        misc = ms.misc_info(dump.process)
        if misc is not None:
            put("MiscInfo", misc)
        if "UnloadedModuleList" in self.stream_names:
            rvas = [blob.add(ms.minidump_string(m.path)) for m in dump.unloaded_modules]
            put("UnloadedModuleList", ms.unloaded_module_list(dump.unloaded_modules, rvas))
        if "MemoryInfoList" in self.stream_names:
            put("MemoryInfoList", ms.memory_info_list(self._memory_regions(memory)), 8)
        for name, payload in self.linux_payloads.items():
            put(name, payload)
        return blob, streams

    def _stack_descriptor(self, thread: Thread, stacks: Mapping[int, tuple[int, int]],
                          memory: list[tuple[int, int, int]], starts: list[int]) -> tuple[int, int, int]:
        """(start, size, rva) of the thread's stack bytes inside the memory ranges."""
        want = stacks.get(thread.id)
        if want is not None and want[1] > 0:
            i = bisect_right(starts, want[0]) - 1
            if i >= 0:
                start, size, rva = memory[i]
                if want[0] + want[1] <= start + size:
                    rva_here = rva + want[0] - start
                    return want[0], want[1], rva_here if rva_here <= _MAX_RVA32 else 0
        sp = thread.registers.get(SP_REGISTER.get(self.dump.system.cpu_arch, ""), thread.stack_start or 0)
        return sp & 0xFFFFFFFFFFFFFFFF, 0, 0

    # ------------------------------------------------------------------ writing
    def write(self, path: str | os.PathLike[str], ranges: Sequence[tuple[int, int]],
              stacks: Mapping[int, tuple[int, int]] | None = None) -> WriteReport:
        """Write the minidump to ``path`` atomically.

        ``ranges``: sorted, disjoint (start, size) memory to copy from ``dump.memory``;
        ``stacks``: thread id -> (start, size) of its stack, inside one of ``ranges``.
        """
        ranges = [(s, n) for s, n in ranges if n > 0]
        for (s0, n0), (s1, _) in itertools.pairwise(ranges):
            if s1 < s0 + n0:
                raise ValueError(f"memory ranges overlap or are unsorted at {s1:#x}")
        if ranges and self.dump.memory is None:
            raise ValueError("memory ranges given but the dump has no memory")
        stacks = stacks or {}
        dir_end = _align(self._directory_end, 16)
        mem_total = sum(n for _, n in ranges)
        memory: list[tuple[int, int, int]] = []
        if self.options.full_memory:
            blob, streams = self._metadata(dir_end, [(s, n, 0) for s, n in ranges], stacks, 0)
            mem_base = _align(blob.end, 16)
            memory = self._assign_rvas(ranges, mem_base)
            blob, streams = self._metadata(dir_end, memory, stacks, mem_base)
        else:
            memory = self._assign_rvas(ranges, dir_end)
            if ranges and dir_end + mem_total > _MAX_RVA32:
                raise ValueError("MemoryList data must lie below 4 GiB: use full-memory mode")
            blob, streams = self._metadata(_align(dir_end + mem_total, 16), memory, stacks, 0)
        flags = _WITH_FULL_MEMORY if self.options.full_memory else 0
        header = self._header(flags) + b"".join(
            struct.pack("<III", ms.STREAM[name], *streams[name]) for name in self.stream_names)
        report = WriteReport(path=os.fspath(path), size=0, streams=list(self.stream_names),
                             memory_ranges=len(memory), memory_bytes=mem_total)
        report.threads_with_stack = sum(1 for t in self.dump.threads if stacks.get(t.id, (0, 0))[1] > 0)
        target = os.fspath(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(target)}.", suffix=".tmp",
                                   dir=os.path.dirname(os.path.abspath(target)))
        try:
            os.fchmod(fd, _umask_mode())  # mkstemp's 0600 would ignore the user's umask
            with os.fdopen(fd, "wb") as out:
                out.write(header)
                out.write(bytes(dir_end - len(header)))
                if self.options.full_memory:
                    out.write(blob.data)
                    out.write(bytes(memory[0][2] - blob.end) if memory else b"")
                    report.zero_filled = self._copy_memory(out, ranges)
                else:
                    report.zero_filled = self._copy_memory(out, ranges)
                    out.write(bytes(blob.base - (dir_end + mem_total)))
                    out.write(blob.data)
                out.flush()
                os.fsync(out.fileno())
                report.size = out.tell()
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        return report

    @staticmethod
    def _assign_rvas(ranges: Sequence[tuple[int, int]], base: int) -> list[tuple[int, int, int]]:
        out, rva = [], base
        for start, size in ranges:
            out.append((start, size, rva))
            rva += size
        return out

    def _header(self, flags: int) -> bytes:
        stamp = self.options.timestamp
        if stamp is None:
            stamp = self.dump.source.created if self.dump.source.created else int(time.time())
        return struct.pack("<IIIIIIQ", 0x504D444D, _MINIDUMP_VERSION, len(self.stream_names),
                           _HEADER_SIZE, 0, stamp & 0xFFFFFFFF, flags)

    def _copy_memory(self, out: BinaryIO, ranges: Sequence[tuple[int, int]]) -> int:
        """Copy ``ranges`` from the source memory in chunks; uncaptured pages become zeros."""
        space = self.dump.memory
        zeros = 0
        for start, size in ranges:
            done = 0
            while done < size:
                n = min(_CHUNK, size - done)
                assert space is not None
                try:
                    out.write(space.read(start + done, n))
                except NotCapturedError:
                    zeros += self._copy_pagewise(out, start + done, n)
                done += n
        return zeros

    def _copy_pagewise(self, out: BinaryIO, address: int, size: int) -> int:
        space = self.dump.memory
        assert space is not None
        zeros, end = 0, address + size
        while address < end:
            n = min(end, (address // _PAGE + 1) * _PAGE) - address
            try:
                out.write(space.read(address, n))
            except NotCapturedError:
                out.write(bytes(n))
                zeros += n
            address += n
        return zeros
