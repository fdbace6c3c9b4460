"""Shrink a big dump (full-memory minidump, ELF process core, Windows kernel dump) to a small minidump.

What memory goes in, in this order, until ``max_size`` (the whole output file) is reached:

1. the crashing thread's stack: from its stack pointer minus a red zone up to the end of the
   stack, capped at ``stack_cap`` (256 KiB);
2. the bytes around the crashing thread's instruction pointer and around the fault address
   (±``ip_window``): a few hundred bytes that say what was executing and what was touched;
3. the other threads' stacks, same rule (unless ``other_stacks=False``);
4. the bytes around every other thread's instruction pointer;
5. the first page of every module (its ELF / PE headers).

Every range is clipped to what the source captured (a part that raises NotCapturedError is
skipped, never invented), ranges are deduplicated and merged, and the budget counts the
metadata (streams, strings, contexts) and 16 bytes per memory descriptor, so the file is
never larger than ``max_size``. The last range that does not fit whole is cut, keeping its
low end (for a stack: the frames nearest the stack pointer).
"""
from __future__ import annotations

import os
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass, field

from dumpkit.converters.minidump_contexts import CONTEXT_ARCHES
from dumpkit.converters.minidump_writer import MinidumpWriter, WriteReport, WriterOptions
from dumpkit.errors import DumpkitError, NotCapturedError
from dumpkit.memory import AddressSpace
from dumpkit.model import PC_REGISTER, SP_REGISTER, Dump, Thread

__all__ = ["DEFAULT_MAX_SIZE", "ShrinkError", "ShrinkOptions", "ShrinkReport", "plan_memory",
           "shrink_dump", "shrink_file", "write_full_memory"]

DEFAULT_MAX_SIZE = 1 << 20
_PAGE = 0x1000
_DESCRIPTOR = 16
#: bytes below the stack pointer that leaf functions may use (SysV amd64 red zone: 128)
RED_ZONES = {"amd64": 128, "x86": 0, "arm64": 0, "arm": 0}
SHRINKABLE_FORMATS = ("minidump", "elf_core", "windows_kernel_dump")
#: streams left out, in this order, when the metadata alone would not fit the budget
OPTIONAL_STREAMS = ("LinuxMaps", "MemoryInfoList", "LinuxCpuInfo", "LinuxEnviron", "LinuxAuxv",
                    "UnloadedModuleList")
#: operating systems of ELF cores that shrink to a minidump: Linux and Android by their own
#: platform ids; the BSDs, which have none, as Breakpad writes other Unixes: PlatformId
#: MD_OS_UNIX with the Linux streams (/proc-style maps, status, command line)
ELF_CORE_OSES = ("linux", "android", "netbsd", "openbsd", "freebsd")


class ShrinkError(DumpkitError):
    """The source cannot be shrunk (unsupported kind or CPU) or the budget is too small."""

    code = "shrink_error"


@dataclass(slots=True)
class ShrinkOptions:
    """What ``shrink`` keeps and how much room it gives each part."""

    max_size: int = DEFAULT_MAX_SIZE
    stack_cap: int = 256 * 1024
    ip_window: int = 256
    other_stacks: bool = True
    include_environ: bool = False
    #: header TimeDateStamp (WriterOptions.timestamp): None = the source's creation time, else now
    timestamp: int | None = None


@dataclass(slots=True)
class ShrinkReport:
    """What a shrink kept (and what did not fit)."""

    input_path: str
    input_size: int
    input_format: str
    output: WriteReport
    threads: int = 0
    modules: int = 0
    #: thread id -> (start, size) of the stack bytes written
    stacks: dict[int, tuple[int, int]] = field(default_factory=dict)
    #: kind of memory -> bytes kept ("crash_stack", "crash_code", "stacks", "code", "module_headers")
    kept: dict[str, int] = field(default_factory=dict)
    #: kinds of memory that were cut or left out for lack of room
    truncated: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------- interval helpers
class _Captured:
    """Which parts of a range the source captured.

    A space that describes itself cheaply (``summary_space is space``: segment lists of
    minidumps and ELF cores) is intersected with its ``ranges()``; a translation layer (kernel
    virtual over physical) is probed: a read that fails at ``NotCapturedError.address`` kept
    the bytes before it, and the missing page is skipped.
    """

    def __init__(self, space: AddressSpace) -> None:
        self.space = space
        self.listed: list[tuple[int, int]] | None = None
        if space.summary_space is space:
            self.listed = sorted(space.ranges())
            self.starts = [s for s, _ in self.listed]

    def pieces(self, start: int, size: int) -> Iterator[tuple[int, int]]:
        """The captured parts of [start, start+size), ascending."""
        if size <= 0:
            return
        if self.listed is not None:
            yield from self._listed_pieces(start, start + size)
        else:
            yield from self._probed_pieces(start, start + size)

    def _listed_pieces(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        assert self.listed is not None
        i = max(0, bisect_right(self.starts, start) - 1)
        cursor = start
        while i < len(self.listed) and cursor < end:
            r_start, r_size = self.listed[i]
            lo, hi = max(cursor, r_start), min(end, r_start + r_size)
            if r_start >= end:
                break
            if hi > lo:
                yield lo, hi - lo
                cursor = hi
            i += 1

    def _probed_pieces(self, start: int, end: int) -> Iterator[tuple[int, int]]:
        cursor = start
        while cursor < end:
            try:
                self.space.read(cursor, end - cursor)
                yield cursor, end - cursor
                return
            except NotCapturedError as exc:
                failed = exc.address if cursor <= exc.address < end else cursor
            if failed > cursor:
                yield cursor, failed - cursor
            cursor = (failed // _PAGE + 1) * _PAGE


class _Selection:
    """Disjoint selected ranges, sorted; new ranges only fill what is not selected yet."""

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []

    def missing(self, start: int, end: int) -> list[tuple[int, int]]:
        gaps, cursor = [], start
        i = max(0, bisect_right(self.starts, start) - 1)
        while cursor < end and i < len(self.starts):
            s, e = self.starts[i], self.ends[i]
            if e <= cursor:
                i += 1
                continue
            if s >= end:
                break
            if s > cursor:
                gaps.append((cursor, s))
            cursor = max(cursor, e)
            i += 1
        if cursor < end:
            gaps.append((cursor, end))
        return gaps

    def add(self, start: int, end: int) -> None:
        i = bisect_right(self.starts, start)
        self.starts.insert(i, start)
        self.ends.insert(i, end)

    def merged(self) -> list[tuple[int, int]]:
        out: list[list[int]] = []
        for s, e in zip(self.starts, self.ends, strict=True):
            if out and s <= out[-1][1]:
                out[-1][1] = max(out[-1][1], e)
            else:
                out.append([s, e])
        return [(s, e - s) for s, e in out]


# ---------------------------------------------------------------------- policy
def _stack_range(dump: Dump, thread: Thread, options: ShrinkOptions) -> tuple[int, int] | None:
    """[low, high) of the stack to keep: stack pointer minus the red zone up to the stack's end."""
    arch = dump.system.cpu_arch
    sp = thread.registers.get(SP_REGISTER.get(arch, ""))
    if sp is None:
        return None
    low = max(0, sp - RED_ZONES.get(arch, 0))
    high = low + options.stack_cap
    if thread.stack_start is not None and thread.stack_size and \
            thread.stack_start <= sp < thread.stack_start + thread.stack_size:
        high = min(high, thread.stack_start + thread.stack_size)
    else:
        for region in dump.regions:
            if region.start <= sp < region.start + region.size:
                high = min(high, region.start + region.size)
                break
    return (low, high) if high > low else None


def _window(center: int | None, half: int) -> tuple[int, int] | None:
    if center is None or center < 0:
        return None
    return max(0, center - half), center + half


Candidate = tuple[str, tuple[int, int] | None, int | None]


def _stack_candidate(kind: str, dump: Dump, thread: Thread, options: ShrinkOptions) -> Candidate:
    """A stack range, anchored at the stack pointer: only the captured run holding it is kept."""
    sp = thread.registers.get(SP_REGISTER.get(dump.system.cpu_arch, ""))
    return kind, _stack_range(dump, thread, options), sp


def _candidates(dump: Dump, options: ShrinkOptions) -> list[Candidate]:
    """(kind, [start, end), anchor) in priority order."""
    pc_name = PC_REGISTER.get(dump.system.cpu_arch, "")
    crashed = dump.crashing_thread
    others = [t for t in dump.threads if t is not crashed]
    out: list[Candidate] = []
    if crashed is not None:
        out.append(_stack_candidate("crash_stack", dump, crashed, options))
        out.append(("crash_code", _window(crashed.registers.get(pc_name), options.ip_window), None))
    if dump.crash is not None and dump.crash.address:
        out.append(("crash_code", _window(dump.crash.address, options.ip_window), None))
    if options.other_stacks:
        out += [_stack_candidate("stacks", dump, t, options) for t in others]
    out += [("code", _window(t.registers.get(pc_name), options.ip_window), None) for t in others]
    out += [("module_headers", (m.base, m.base + min(_PAGE, m.size)), None) for m in dump.modules if m.size]
    return out


def _run_containing(pieces: list[tuple[int, int]], anchor: int) -> list[tuple[int, int]]:
    """The pieces of the contiguous run that holds ``anchor`` (``[]`` when it is not captured)."""
    run: list[tuple[int, int]] = []
    for start, size in pieces:
        if run and start != run[-1][0] + run[-1][1]:
            if any(s <= anchor < s + n for s, n in run):
                return run
            run = []
        run.append((start, size))
    return run if any(s <= anchor < s + n for s, n in run) else []


def plan_memory(dump: Dump, options: ShrinkOptions,
                budget: int) -> tuple[list[tuple[int, int]], dict[str, int], list[str]]:
    """Sorted, merged (start, size) ranges within ``budget`` bytes (16 per range counted), kept
    bytes per kind, and the kinds that were cut."""
    kept: dict[str, int] = {}
    truncated: list[str] = []
    space = dump.memory
    if space is None:
        return [], kept, truncated
    selection = _Selection()
    captured = _Captured(space)
    for kind, want, anchor in _candidates(dump, options):
        if want is None:
            continue
        if budget <= _DESCRIPTOR:
            if kind not in truncated:
                truncated.append(kind)
            continue
        start, end = want
        pieces = list(captured.pieces(start, end - start))
        if anchor is not None:
            pieces = _run_containing(pieces, anchor)
        for piece_start, piece_size in pieces:
            for gap_start, gap_end in selection.missing(piece_start, piece_start + piece_size):
                take = min(gap_end - gap_start, budget - _DESCRIPTOR)
                if take <= 0:
                    if kind not in truncated:
                        truncated.append(kind)
                    break
                if take < gap_end - gap_start and kind not in truncated:
                    truncated.append(kind)
                selection.add(gap_start, gap_start + take)
                budget -= take + _DESCRIPTOR
                kept[kind] = kept.get(kind, 0) + take
            if budget <= _DESCRIPTOR:
                break
    return selection.merged(), kept, truncated


def _stacks_in(dump: Dump, ranges: list[tuple[int, int]],
               options: ShrinkOptions) -> dict[int, tuple[int, int]]:
    """Thread id -> the part of its stack range held by the selected range that contains its
    stack pointer (or, failing that, the low end of its stack range)."""
    starts = [s for s, _ in ranges]
    sp_name = SP_REGISTER.get(dump.system.cpu_arch, "")
    out: dict[int, tuple[int, int]] = {}
    for thread in dump.threads:
        want = _stack_range(dump, thread, options)
        if want is None:
            continue
        low, high = want
        for probe in (thread.registers.get(sp_name, low), low):
            i = bisect_right(starts, probe) - 1
            if i >= 0 and probe < starts[i] + ranges[i][1]:
                start, end = max(low, starts[i]), min(high, starts[i] + ranges[i][1])
                if end > start:
                    out[thread.id] = (start, end - start)
                break
    return out


# ---------------------------------------------------------------------- entry points
def check_shrinkable(dump: Dump) -> None:
    """Raise :class:`ShrinkError` when ``dump`` cannot become a standard minidump."""
    fmt = dump.source.format
    if fmt not in SHRINKABLE_FORMATS:
        raise ShrinkError(f"{fmt} sources cannot be shrunk (supported: {', '.join(SHRINKABLE_FORMATS)})",
                          path=dump.source.path, code="unsupported_source")
    if fmt == "elf_core" and dump.system.os not in ELF_CORE_OSES:
        raise ShrinkError(f"{dump.system.os} cores cannot be shrunk: a minidump has no platform id "
                          f"for {dump.system.os} (supported: {', '.join(ELF_CORE_OSES)})",
                          path=dump.source.path, code="unsupported_os")
    if dump.system.cpu_arch not in CONTEXT_ARCHES:
        raise ShrinkError(f"CPU {dump.system.cpu_arch!r} has no standard minidump context "
                          f"(supported: {', '.join(sorted(CONTEXT_ARCHES))})",
                          path=dump.source.path, code="unsupported_cpu")


def shrink_dump(dump: Dump, out_path: str | os.PathLike[str],
                options: ShrinkOptions | None = None) -> ShrinkReport:
    """Write the reduced minidump of ``dump`` to ``out_path``."""
    options = options or ShrinkOptions()
    check_shrinkable(dump)
    writer = MinidumpWriter(dump, WriterOptions(include_environ=options.include_environ,
                                                timestamp=options.timestamp))
    fixed = writer.overhead(0)
    omitted: list[str] = []
    for optional in OPTIONAL_STREAMS:  # too big for the budget: leave out what triage can spare
        if fixed + _DESCRIPTOR <= options.max_size or optional not in writer.stream_names:
            continue
        omitted.append(optional)
        writer = MinidumpWriter(dump, WriterOptions(include_environ=options.include_environ,
                                                    timestamp=options.timestamp,
                                                    omit_streams=frozenset(omitted)))
        fixed = writer.overhead(0)
    if fixed + _DESCRIPTOR > options.max_size:
        raise ShrinkError(f"a maximum size of {options.max_size} bytes cannot hold even the dump's "
                          f"metadata ({fixed} bytes)", path=dump.source.path, code="budget_too_small")
    ranges, kept, truncated = plan_memory(dump, options, options.max_size - fixed)
    stacks = _stacks_in(dump, ranges, options)
    written = writer.write(out_path, ranges, stacks)
    return ShrinkReport(input_path=dump.source.path, input_size=dump.source.size,
                        input_format=dump.source.format, output=written, threads=len(dump.threads),
                        modules=len(dump.modules), stacks=stacks, kept=kept,
                        truncated=truncated + [f"stream {name}" for name in omitted])


def shrink_file(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str],
           options: ShrinkOptions | None = None) -> ShrinkReport:
    """Open the dump at ``in_path`` and shrink it into ``out_path`` (raises only DumpkitError)."""
    import dumpkit

    if os.path.abspath(in_path) == os.path.abspath(out_path):
        raise ShrinkError("the output would overwrite the input", path=os.fspath(in_path), code="same_file")
    with dumpkit.open(in_path) as dump:
        return shrink_dump(dump, out_path, options)


def write_full_memory(dump: Dump, out_path: str | os.PathLike[str]) -> WriteReport:
    """A full-memory minidump (Memory64List) of everything ``dump`` captured: the opposite of shrinking.

    Used to make big full-memory test inputs from ELF cores; thread stacks point into the memory.
    """
    check_shrinkable(dump)
    ranges: list[tuple[int, int]] = []
    if dump.memory is not None:
        for start, size in dump.memory.ranges():
            if ranges and start < ranges[-1][0] + ranges[-1][1]:
                continue  # ranges() is ascending and disjoint; be safe against overlap anyway
            ranges.append((start, size))
    options = ShrinkOptions(stack_cap=1 << 62)
    stacks = _stacks_in(dump, ranges, options)
    return MinidumpWriter(dump, WriterOptions(full_memory=True)).write(out_path, ranges, stacks)
