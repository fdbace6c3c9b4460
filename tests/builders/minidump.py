"""A chainable builder of synthetic minidumps, written with :mod:`struct` from docs/formats.md §1.

    data = (MinidumpBuilder(arch="amd64", os="windows")
            .system_info(major=10, build=19041, csd="Service Pack 1")
            .thread(0x10, regs={"rip": 0x401000, "rsp": 0x7F00}, stack=(0x7000, b"\\0" * 0x1000))
            .module(0x400000, 0x2000, r"C:\\app.exe", cv=rsds(guid, 1, "app.pdb"), version=(1, 2, 3, 4))
            .exception(0x10, 0xC0000005, 0x401000, [1, 0])
            .memory(0x20000, b"abc")
            .build())

Shares nothing with ``ksy/`` or ``dumpkit/`` (docs/practices.md §9). The builder records what it was
told in plain attributes (``threads``, ``modules``, ...) so tests can compare readers with it.

Layout: header, directory, then referenced data (strings, contexts, CodeView records, memory
bytes), then the stream bodies, and last the Memory64List data, which must be contiguous.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from tests.builders.minidump_records import (
    ARCHES,
    context,
    elf_build_id,
    elf_debug_id,
    fixed_file_info,
    minidump_string,
    nb10,
    pdb70_debug_id,
    rsds,
)

__all__ = [
    "LINUX_STREAMS",
    "STREAM",
    "BException",
    "BModule",
    "BThread",
    "MinidumpBuilder",
    "elf_build_id",
    "elf_debug_id",
    "nb10",
    "pdb70_debug_id",
    "rsds",
]

#: MINIDUMP_STREAM_TYPE values the builder writes (§1.3)
STREAM = {
    "unused": 0, "thread_list": 3, "module_list": 4, "memory_list": 5, "exception": 6,
    "system_info": 7, "memory64_list": 9, "unloaded_module_list": 14, "misc_info": 15,
    "memory_info_list": 16, "thread_names": 24, "breakpad_info": 0x47670001,
}
#: Breakpad Linux raw-text/raw-bytes streams (§1.3), name -> stream type
LINUX_STREAMS = {
    "cpu_info": 0x47670003, "proc_status": 0x47670004, "lsb_release": 0x47670005,
    "cmd_line": 0x47670006, "environ": 0x47670007, "auxv": 0x47670008, "maps": 0x47670009,
    "dso_debug": 0x4767000A,
}
#: builder os name -> MINIDUMP_SYSTEM_INFO.PlatformId (§1.8)
PLATFORMS = {"windows": 2, "macos": 0x8101, "ios": 0x8102, "linux": 0x8201, "android": 0x8203}
#: MINIDUMP_MISC_INFO sizes by version (§1.9)
MISC_INFO_SIZES = {1: 24, 2: 44, 3: 232, 4: 832, 5: 1364}


@dataclass
class BThread:
    tid: int
    regs: dict[str, int]
    stack: tuple[int, bytes] | None = None
    suspend_count: int = 0
    priority_class: int = 0x20
    priority: int = 0
    teb: int = 0
    context_flags: int | None = None


@dataclass
class BModule:
    base: int
    size: int
    path: str
    cv: bytes | None = None
    version: tuple[int, int, int, int] | None = None
    timestamp: int = 0
    checksum: int = 0


@dataclass
class BException:
    tid: int
    code: int
    address: int
    params: list[int] = field(default_factory=list)
    flags: int = 0
    regs: dict[str, int] | None = None  # exception context; None: the thread's own registers


@dataclass
class _SystemInfo:
    major: int = 10
    minor: int = 0
    build: int = 19041
    csd: str | None = ""
    cpu_count: int = 4
    product_type: int = 1
    level: int = 6
    revision: int = 0x9E0A
    suite_mask: int = 0x100
    vendor: str = "GenuineIntel"


class _Image:
    """The growing file: ``put`` appends aligned bytes and returns their RVA."""

    def __init__(self, reserved: int) -> None:
        self.buf = bytearray(reserved)

    def put(self, data: bytes, align: int = 4) -> int:
        self.buf.extend(b"\0" * (-len(self.buf) % align))
        rva = len(self.buf)
        self.buf.extend(data)
        return rva


class MinidumpBuilder:
    """Collects threads, modules, memory ... and writes one little-endian minidump."""

    def __init__(self, arch: str = "amd64", os: str = "windows", *, timestamp: int = 0x5F000000,
                 flags: int = 0, version_high: int = 0, pad_lists: bool = False,
                 full_memory: bool = False) -> None:
        if arch not in ARCHES:
            raise ValueError(f"unknown arch {arch!r}")
        self.arch = arch
        self.os = os
        self.platform_id = PLATFORMS[os]
        self.timestamp = timestamp
        self.flags = flags
        self.version_high = version_high
        self.pad_lists = pad_lists  # 4 bytes after the u32 count of thread/module/memory lists (§1.17)
        self.sys: _SystemInfo | None = _SystemInfo()
        self.threads: list[BThread] = []
        self.modules: list[BModule] = []
        self.unloaded: list[BModule] = []
        self.exc: BException | None = None
        self.mem: list[tuple[int, bytes]] = []
        self.mem64: list[tuple[int, bytes]] = []
        self.mem_info: list[tuple[int, int, int, int, int]] = []
        self.misc: dict[str, int] | None = None
        self.names: dict[int, str] = {}
        self.bp_info: tuple[int, int] | None = None
        self.extra: list[tuple[int, bytes]] = []
        #: full-memory style: thread stacks live in the Memory64List, not in a MemoryList
        self.full_memory = full_memory
        if full_memory:
            self.flags |= 0x2  # MiniDumpWithFullMemory

    # ----------------------------------------------------------------- chainable setters
    def system_info(self, **fields: object) -> MinidumpBuilder:
        """Override SystemInfo fields (major, minor, build, csd, cpu_count, product_type, ...)."""
        assert self.sys is not None, "system info was removed"
        for name, value in fields.items():
            if not hasattr(self.sys, name):
                raise TypeError(f"system_info has no field {name!r}")
            setattr(self.sys, name, value)
        return self

    def without_system_info(self) -> MinidumpBuilder:
        self.sys = None
        return self

    def thread(self, tid: int, regs: dict[str, int] | None = None, stack: tuple[int, bytes] | None = None,
               **fields: int) -> MinidumpBuilder:
        self.threads.append(BThread(tid, dict(regs or {}), stack, **fields))
        return self

    def module(self, base: int, size: int, path: str, cv: bytes | None = None,
               version: tuple[int, int, int, int] | None = None, timestamp: int = 0,
               checksum: int = 0) -> MinidumpBuilder:
        self.modules.append(BModule(base, size, path, cv, version, timestamp, checksum))
        return self

    def unloaded_module(self, base: int, size: int, path: str, timestamp: int = 0,
                        checksum: int = 0) -> MinidumpBuilder:
        self.unloaded.append(BModule(base, size, path, None, None, timestamp, checksum))
        return self

    def exception(self, tid: int, code: int, address: int, params: list[int] | tuple[int, ...] = (),
                  flags: int = 0, regs: dict[str, int] | None = None) -> MinidumpBuilder:
        if len(params) > 15:
            raise ValueError("MINIDUMP_EXCEPTION holds at most 15 parameters")
        self.exc = BException(tid, code, address, list(params), flags, regs)
        return self

    def memory(self, address: int, data: bytes) -> MinidumpBuilder:
        """A MemoryListStream range (32-bit RVA to its own bytes)."""
        self.mem.append((address, bytes(data)))
        return self

    def memory64(self, address: int, data: bytes) -> MinidumpBuilder:
        """A Memory64ListStream range (bytes stored back to back from BaseRva)."""
        self.mem64.append((address, bytes(data)))
        return self

    def memory_info(self, base: int, size: int, state: int = 0x1000, protect: int = 0x04,
                    type_: int = 0x20000) -> MinidumpBuilder:
        """A MemoryInfoListStream entry (commit / read-write / private by default)."""
        self.mem_info.append((base, size, state, protect, type_))
        return self

    def misc_info(self, pid: int | None = None, create_time: int | None = None,
                  user_time: int = 0, kernel_time: int = 0, version: int = 1) -> MinidumpBuilder:
        self.misc = {"pid": -1 if pid is None else pid,
                     "create_time": -1 if create_time is None else create_time,
                     "user_time": user_time, "kernel_time": kernel_time, "version": version}
        return self

    def thread_names(self, names: dict[int, str]) -> MinidumpBuilder:
        self.names.update(names)
        return self

    def breakpad_info(self, dump_tid: int, requesting_tid: int) -> MinidumpBuilder:
        self.bp_info = (dump_tid, requesting_tid)
        return self

    def linux_stream(self, kind: str, data: bytes | str) -> MinidumpBuilder:
        """A Breakpad Linux stream (``cpu_info``, ``proc_status``, ``lsb_release``, ``cmd_line``,
        ``environ``, ``auxv``, ``maps``, ``dso_debug``) with raw ``data``."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        return self.stream(LINUX_STREAMS[kind], raw)

    def stream(self, stream_type: int, body: bytes) -> MinidumpBuilder:
        """Any stream, written verbatim (type 0 with b"" gives Breakpad's unused entries)."""
        self.extra.append((stream_type, bytes(body)))
        return self

    # ----------------------------------------------------------------- output
    def write(self, path: str | Path) -> Path:
        p = Path(path)
        p.write_bytes(self.build())
        return p

    def build(self) -> bytes:
        n = self._stream_count()
        img = _Image(0x20 + 12 * n)
        directory: list[tuple[int, int, int]] = []

        def emit(stream_type: int, body: bytes) -> None:
            rva = img.put(body, 8)
            directory.append((stream_type, len(body), rva))

        stack_rvas: dict[int, int] = {}
        mem64 = list(self.mem64)
        if self.full_memory:
            mem64 = [t.stack for t in self.threads if t.stack is not None] + mem64
        if mem64:  # list header then the contiguous data, right after the directory
            data_rvas = self._memory64(img, directory, mem64)
            if self.full_memory:
                stacked = [t for t in self.threads if t.stack is not None]
                stack_rvas = {id(t): rva for t, rva in zip(stacked, data_rvas, strict=False)}
        else:
            stack_rvas = {id(t): img.put(t.stack[1], 16) for t in self.threads if t.stack is not None}
        if self.threads:
            emit(STREAM["thread_list"], self._thread_list(img, stack_rvas))
        if self.modules:
            emit(STREAM["module_list"], self._module_list(img))
        if self.unloaded:
            emit(STREAM["unloaded_module_list"], self._unloaded_list(img))
        if self._has_memory_list():
            emit(STREAM["memory_list"], self._memory_list(img, stack_rvas))
        if self.exc is not None:
            emit(STREAM["exception"], self._exception(img))
        if self.sys is not None:
            emit(STREAM["system_info"], self._system_info(img))
        if self.misc is not None:
            emit(STREAM["misc_info"], self._misc_info())
        if self.mem_info:
            emit(STREAM["memory_info_list"], self._memory_info_list())
        if self.names:
            emit(STREAM["thread_names"], self._thread_names(img))
        if self.bp_info is not None:
            emit(STREAM["breakpad_info"], struct.pack("<III", 3, *self.bp_info))
        for stream_type, body in self.extra:
            if body:
                emit(stream_type, body)
            else:
                directory.append((stream_type, 0, 0))
        assert len(directory) == n, (len(directory), n)
        header = struct.pack("<4sIIIIIQ", b"MDMP", 0xA793 | (self.version_high << 16), n, 0x20, 0,
                             self.timestamp, self.flags)
        img.buf[0:0x20] = header
        for i, (stream_type, size, rva) in enumerate(directory):
            struct.pack_into("<III", img.buf, 0x20 + 12 * i, stream_type, size, rva)
        return bytes(img.buf)

    def _has_memory_list(self) -> bool:
        return bool(self.mem) or (not self.full_memory and any(t.stack is not None for t in self.threads))

    def _stream_count(self) -> int:
        has_mem64 = bool(self.mem64) or (self.full_memory and any(t.stack for t in self.threads))
        flags = [bool(self.threads), bool(self.modules), bool(self.unloaded), self._has_memory_list(),
                 self.exc is not None, self.sys is not None, self.misc is not None,
                 bool(self.mem_info), bool(self.names), self.bp_info is not None, has_mem64]
        return sum(flags) + len(self.extra)

    # ----------------------------------------------------------------- stream bodies
    def _count(self, n: int) -> bytes:
        return struct.pack("<I", n) + (b"\0" * 4 if self.pad_lists else b"")

    def _context_arch(self) -> str:
        return "arm64" if self.arch in ("arm64", "arm64_old") else self.arch

    def _thread_list(self, img: _Image, stack_rvas: dict[int, int]) -> bytes:
        out = [self._count(len(self.threads))]
        for t in self.threads:
            ctx = context(self._context_arch(), t.regs, t.context_flags)
            ctx_rva = img.put(ctx, 16)
            start, data = t.stack if t.stack is not None else (0, b"")
            stack_rva = stack_rvas.get(id(t), 0)
            out.append(struct.pack("<IIIIQQIIII", t.tid, t.suspend_count, t.priority_class, t.priority,
                                   t.teb, start, len(data), stack_rva, len(ctx), ctx_rva))
        return b"".join(out)

    def _module_list(self, img: _Image) -> bytes:
        out = [self._count(len(self.modules))]
        for m in self.modules:
            name_rva = img.put(minidump_string(m.path))
            cv_size, cv_rva = (len(m.cv), img.put(m.cv)) if m.cv else (0, 0)
            file_type = 1 if m.path.lower().endswith(".exe") else 2
            entry = (struct.pack("<QIIII", m.base, m.size, m.checksum, m.timestamp, name_rva)
                     + fixed_file_info(m.version, file_type)
                     + struct.pack("<IIIIQQ", cv_size, cv_rva, 0, 0, 0, 0))
            assert len(entry) == 108
            out.append(entry)
        return b"".join(out)

    def _unloaded_list(self, img: _Image) -> bytes:
        out = [struct.pack("<III", 12, 24, len(self.unloaded))]
        for m in self.unloaded:
            name_rva = img.put(minidump_string(m.path))
            out.append(struct.pack("<QIIII", m.base, m.size, m.checksum, m.timestamp, name_rva))
        return b"".join(out)

    def _memory_list(self, img: _Image, stack_rvas: dict[int, int]) -> bytes:
        ranges: list[tuple[int, int, int]] = []
        if not self.full_memory:
            for t in self.threads:
                if t.stack is not None:
                    ranges.append((t.stack[0], len(t.stack[1]), stack_rvas[id(t)]))
        for address, data in self.mem:
            ranges.append((address, len(data), img.put(data, 16)))
        return self._count(len(ranges)) + b"".join(struct.pack("<QII", *r) for r in ranges)

    def _exception(self, img: _Image) -> bytes:
        e = self.exc
        assert e is not None
        regs = e.regs
        if regs is None:
            owner = next((t for t in self.threads if t.tid == e.tid), None)
            regs = owner.regs if owner is not None else {}
        ctx = context(self._context_arch(), regs)
        ctx_rva = img.put(ctx, 16)
        info = list(e.params) + [0] * (15 - len(e.params))
        record = struct.pack("<IIQQII15Q", e.code, e.flags, 0, e.address, len(e.params), 0, *info)
        assert len(record) == 0x98
        return struct.pack("<II", e.tid, 0) + record + struct.pack("<II", len(ctx), ctx_rva)

    def _system_info(self, img: _Image) -> bytes:
        s = self.sys
        assert s is not None
        csd_rva = img.put(minidump_string(s.csd)) if s.csd is not None else 0
        if self.arch == "x86":
            vendor = s.vendor.encode("ascii").ljust(12, b"\0")[:12]
            cpu = vendor + struct.pack("<III", 0x000906EA, 0xBFEBFBFF, 0)
        else:
            cpu = struct.pack("<QQ", 0, 0) + bytes(8)
        body = struct.pack("<HHHBBIIIIIHH", ARCHES[self.arch], s.level, s.revision, s.cpu_count,
                           s.product_type, s.major, s.minor, s.build, self.platform_id, csd_rva,
                           s.suite_mask, 0) + cpu
        assert len(body) == 0x38
        return body

    def _misc_info(self) -> bytes:
        m = self.misc
        assert m is not None
        size = MISC_INFO_SIZES[m["version"]]
        flags = (0x1 if m["pid"] >= 0 else 0) | (0x2 if m["create_time"] >= 0 else 0)
        body = bytearray(size)
        struct.pack_into("<IIIIII", body, 0, size, flags, max(m["pid"], 0), max(m["create_time"], 0),
                         m["user_time"], m["kernel_time"])
        return bytes(body)

    def _memory_info_list(self) -> bytes:
        out = [struct.pack("<IIQ", 16, 48, len(self.mem_info))]
        for base, size, state, protect, type_ in self.mem_info:
            alloc_base = base if state != 0x10000 else 0
            out.append(struct.pack("<QQIIQIIII", base, alloc_base, protect, 0, size, state, protect,
                                   type_, 0))
        return b"".join(out)

    def _thread_names(self, img: _Image) -> bytes:
        out = [self._count(len(self.names))]
        for tid, name in self.names.items():
            out.append(struct.pack("<IQ", tid, img.put(minidump_string(name))))
        return b"".join(out)

    def _memory64(self, img: _Image, directory: list[tuple[int, int, int]],
                  ranges: list[tuple[int, bytes]]) -> list[int]:
        """Memory64ListStream: header + descriptors, then every range's bytes back to back."""
        n = len(ranges)
        header_size = 16 + 16 * n
        list_rva = img.put(bytes(header_size), 8)
        base_rva = len(img.buf)
        data_rvas = []
        for _, data in ranges:
            data_rvas.append(len(img.buf))
            img.buf.extend(data)
        body = struct.pack("<QQ", n, base_rva) + b"".join(
            struct.pack("<QQ", address, len(data)) for address, data in ranges)
        img.buf[list_rva:list_rva + header_size] = body
        directory.append((STREAM["memory64_list"], header_size, list_rva))
        return data_rvas
