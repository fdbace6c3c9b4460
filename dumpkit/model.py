"""The one model every reader fills and every output reads: :class:`Dump`.

It knows no file format and no JSON. Readers (``dumpkit/readers``) build it from the
generated parsers; the normalizer (``pipeline/normalize.py``) turns it into the document
described by ``schemas/dump.schema.json``; the converters write minidumps from it.

Conventions:
* addresses and sizes are Python ints (the document renders them as hex strings);
* ``None`` means "not recorded in this dump", never a default value;
* names for humans (exception, signal, bugcheck names) are not stored here: the
  normalizer looks them up in ``pipeline/names.py``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from dumpkit.memory import AddressSpace

__all__ = [
    "FP_REGISTER",
    "MAX_DIAGNOSTICS_PER_CODE",
    "PC_REGISTER",
    "SP_REGISTER",
    "ByteOrder",
    "CrashInfo",
    "CrashKind",
    "Diagnostic",
    "Dump",
    "Frame",
    "FrameTrust",
    "InlineFrame",
    "MemoryRegion",
    "Module",
    "ProcessInfo",
    "ProductType",
    "Severity",
    "SourceFormat",
    "SourceInfo",
    "SystemInfo",
    "Thread",
]

# Closed sets: each Literal is checked against the enum of schemas/dump.schema.json by
# tests/test_closed_sets.py.
Severity = Literal["info", "warning", "error"]
CrashKind = Literal["exception", "signal", "bugcheck", "panic", "none"]
SourceFormat = Literal["minidump", "windows_kernel_dump", "elf_core", "kdump_compressed",
                       "makedumpfile_flattened"]
ByteOrder = Literal["little", "big"]
#: How a frame was found: the thread's context, unwind info, the frame-pointer chain, a stack scan.
FrameTrust = Literal["context", "cfi", "frame_pointer", "scan"]
#: Windows' product type (VER_NT_WORKSTATION / _DOMAIN_CONTROLLER / _SERVER).
ProductType = Literal["workstation", "domain_controller", "server"]

#: Register that holds the instruction pointer / stack pointer / frame pointer, per CPU.
PC_REGISTER = {"x86": "eip", "amd64": "rip", "arm": "pc", "arm64": "pc", "ppc": "srr0",
               "ppc64": "srr0", "mips": "pc", "mips64": "pc", "riscv64": "pc", "riscv32": "pc",
               "s390x": "psw_addr", "sparc": "pc", "sparc64": "pc", "loongarch64": "pc",
               "s390": "psw_addr", "m68k": "pc"}
SP_REGISTER = {"x86": "esp", "amd64": "rsp", "arm": "sp", "arm64": "sp", "ppc": "r1",
               "ppc64": "r1", "mips": "sp", "mips64": "sp", "riscv64": "sp", "riscv32": "sp",
               "s390x": "r15", "sparc": "sp", "sparc64": "sp", "loongarch64": "sp",
               "s390": "r15", "m68k": "sp"}
#: Diagnostics kept per code by :meth:`Dump.diag` (the rest are counted, not kept).
MAX_DIAGNOSTICS_PER_CODE = 50

FP_REGISTER = {"x86": "ebp", "amd64": "rbp", "arm": "r11", "arm64": "fp", "riscv64": "s0",
               "mips": "fp", "mips64": "fp", "ppc": "r1", "ppc64": "r1", "s390x": "r11"}


@dataclass(slots=True)
class Diagnostic:
    """A non-fatal problem found while reading (or a fact worth telling)."""

    code: str  # stable short id, e.g. "unknown_stream", "truncated_stream"
    message: str
    severity: Severity = "warning"
    structure: str | None = None  # e.g. "ModuleListStream[3].CvRecord"
    offset: int | None = None  # file offset where it was found


@dataclass(slots=True)
class SourceInfo:
    """Where the dump came from and what kind of file it is."""

    path: str
    size: int
    format: SourceFormat
    variant: str | None = None  # "normal", "full-memory", "complete", "kernel", "small", ...
    sha256: str | None = None  # filled by callers that hash (the pipeline); readers never read it all
    created: int | None = None  # seconds since the Unix epoch, from the dump itself
    container: list[str] = field(default_factory=list)  # outermost first, e.g. ["a.tar.gz", "x.zip"]
    byte_order: ByteOrder = "little"
    #: Notable format facts (stream list, header flags, ...), name -> short value.
    details: dict[str, str | int | bool] = field(default_factory=dict)


@dataclass(slots=True)
class SystemInfo:
    """The machine: operating system and CPU, as the dump records them."""

    os: str = "unknown"  # "windows", "linux", "macos", "ios", "android", ..., "unknown"
    os_version: str | None = None  # "10.0.19041" or a distribution string
    os_build: int | None = None
    os_detail: str | None = None  # service pack / uname string / build string
    kernel_release: str | None = None
    cpu_arch: str = "unknown"  # "x86", "amd64", "arm", "arm64", "ppc64", "mips", ...
    cpu_count: int | None = None
    cpu_vendor: str | None = None
    cpu_description: str | None = None  # family/model/stepping or midr, as recorded
    cpu_features: str | None = None
    page_size: int | None = None
    product_type: ProductType | None = None


@dataclass(slots=True)
class ProcessInfo:
    """The crashed process (user-mode dumps)."""

    pid: int | None = None
    ppid: int | None = None
    name: str | None = None
    command_line: str | None = None
    uid: int | None = None
    gid: int | None = None
    start_time: int | None = None  # Unix seconds
    user_time: float | None = None  # seconds
    kernel_time: float | None = None


@dataclass(slots=True)
class CrashInfo:
    """Why the dump was written. ``code`` is the raw number; names come from the normalizer."""

    kind: CrashKind
    code: int | None = None  # NTSTATUS, signal number, bugcheck code
    subcode: int | None = None  # si_code, Windows exception flags, Mach code
    address: int | None = None  # exception address / fault address
    parameters: list[int] = field(default_factory=list)
    thread_id: int | None = None
    sender_pid: int | None = None  # signals sent by another process
    message: str | None = None  # panic message, assertion text
    #: Which numbering ``code`` uses: "ntstatus", "linux_signal", "mach", "bugcheck", ...
    code_space: str = "ntstatus"


@dataclass(frozen=True, slots=True)
class InlineFrame:
    """A function the compiler inlined into a physical frame's code (from debug info)."""

    function: str | None
    source_file: str | None = None
    source_line: int | None = None


@dataclass(slots=True)
class Frame:
    """One stack frame found by the unwinder (``dumpkit/unwind``).

    ``function``/``source_*`` name the function whose machine code holds the address (the
    physical frame); ``inlined`` lists the functions inlined there, innermost first, each
    with its own source line, so the full logical stack at this frame reads
    ``inlined[0], inlined[1], ..., function``. ``source_line`` is then the line in
    ``function`` where the outermost inlined call sits.
    """

    pc: int  # instruction address: the context's pc, or a caller's return address
    trust: FrameTrust
    sp: int | None = None
    module: str | None = None  # module name (file name part)
    module_offset: int | None = None
    function: str | None = None  # with symbols only
    function_offset: int | None = None
    source_file: str | None = None
    source_line: int | None = None
    inlined: list[InlineFrame] = field(default_factory=list)


@dataclass(slots=True)
class Thread:
    """A thread (a CPU in a kernel dump): its registers when the dump was written, its stack, and
    the frames walked from them."""

    id: int
    registers: dict[str, int] = field(default_factory=dict)
    name: str | None = None
    crashed: bool = False
    stack_start: int | None = None  # lowest captured stack address
    stack_size: int | None = None
    teb: int | None = None
    suspend_count: int | None = None
    priority: int | None = None
    #: Where the registers came from: "thread_list", "exception", "prstatus", "header", ...
    context_source: str | None = None
    #: Stack frames, innermost first (filled by the unwinder, empty until then).
    frames: list[Frame] = field(default_factory=list)

    def register(self, name: str) -> int | None:
        return self.registers.get(name)


@dataclass(slots=True)
class Module:
    """An executable image mapped into the target (main program, library, driver)."""

    base: int
    size: int
    path: str
    version: str | None = None  # "major.minor.build.revision" from VS_FIXEDFILEINFO
    timestamp: int | None = None
    checksum: int | None = None
    code_id: str | None = None  # PE: TIMESTAMP+SIZEOFIMAGE; ELF: build-id hex
    debug_id: str | None = None  # PDB GUID+age (or Breakpad ELF id), upper-case hex
    debug_file: str | None = None  # PDB path or ELF soname
    build_id: str | None = None  # raw ELF GNU build-id, lower-case hex
    soname: str | None = None

    @property
    def name(self) -> str:
        """File name part of ``path`` (Windows or POSIX separators)."""
        return self.path.replace("\\", "/").rsplit("/", 1)[-1]

    def contains(self, address: int) -> bool:
        return self.base <= address < self.base + self.size


@dataclass(slots=True)
class MemoryRegion:
    """A region of the target's address space as the dump describes it (not its bytes)."""

    start: int
    size: int
    permissions: str | None = None  # "r-x", "rw-", ...
    state: str | None = None  # "commit", "reserve", "free"
    type: str | None = None  # "image", "mapped", "private"
    path: str | None = None


@dataclass(slots=True)
class Dump:
    """Everything dumpkit knows about one dump."""

    source: SourceInfo
    system: SystemInfo = field(default_factory=SystemInfo)
    process: ProcessInfo | None = None
    crash: CrashInfo | None = None
    threads: list[Thread] = field(default_factory=list)
    modules: list[Module] = field(default_factory=list)
    unloaded_modules: list[Module] = field(default_factory=list)
    regions: list[MemoryRegion] = field(default_factory=list)
    memory: AddressSpace | None = None
    diagnostics: list[Diagnostic] = field(default_factory=list)
    #: Small text facts from the dump (Linux /proc files, lsb-release, annotations), name -> text.
    annotations: dict[str, str] = field(default_factory=dict)
    #: code -> (diagnostics of that code so far, the "N more" summary once past the cap)
    _diag_counts: dict[str, tuple[int, Diagnostic | None]] = field(default_factory=dict, init=False,
                                                                   repr=False, compare=False)

    def diag(self, code: str, message: str, *, severity: Severity = "warning",
             structure: str | None = None, offset: int | None = None) -> None:
        """Record a diagnostic; the one cap per code (a fuzzed file can yield thousands).

        The first :data:`MAX_DIAGNOSTICS_PER_CODE` of a code are kept; the rest are counted
        in one info diagnostic of that code ("N more ... not shown").
        """
        count, summary = self._diag_counts.get(code, (0, None))
        count += 1
        if count <= MAX_DIAGNOSTICS_PER_CODE:
            self.diagnostics.append(Diagnostic(code, message, severity, structure, offset))
        else:
            text = f"{count - MAX_DIAGNOSTICS_PER_CODE} more {code!r} diagnostics not shown"
            if summary is None:
                summary = Diagnostic(code, text, "info")
                self.diagnostics.append(summary)
            summary.message = text
        self._diag_counts[code] = (count, summary)

    def module_at(self, address: int) -> Module | None:
        """The module containing ``address``; the innermost one (highest base) when spans
        nest, as ld.so's span around the vDSO does in some cores."""
        best = None
        for module in self.modules:
            if module.contains(address) and (best is None or module.base > best.base):
                best = module
        return best

    def thread(self, tid: int) -> Thread | None:
        for thread in self.threads:
            if thread.id == tid:
                return thread
        return None

    @property
    def crashing_thread(self) -> Thread | None:
        """The one rule for which thread crashed (every reader of the model asks here).

        The thread the crash record names (``crash.thread_id``, unless the crash kind is
        ``"none"``) comes first; else the thread a reader marked ``crashed``; else ``None``.
        """
        crash = self.crash
        if crash is not None and crash.kind != "none" and crash.thread_id is not None:
            named = self.thread(crash.thread_id)
            if named is not None:
                return named
        for thread in self.threads:
            if thread.crashed:
                return thread
        return None

    def close(self) -> None:
        if self.memory is not None:
            self.memory.close()

    def __enter__(self) -> Dump:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
