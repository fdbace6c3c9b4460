"""Crash signatures from the crashing thread's stack, the way crash-stats users know them.

User-mode dumps go through **siggen** (Socorro's signature generator, its sentinel /
irrelevant / prefix lists and rules: ``stackoverflow | ...`` for stack overflows, OOM and
abort prefixes). Frames are handed to it shaped like Socorro's processed crash::

    {"crashing_thread": 0, "os": "Windows NT" | ..., "reason": "EXCEPTION_ACCESS_VIOLATION",
     "threads": [{"frames": [{"function", "module", "file", "line", "module_offset", "offset"}]}]}

A frame without a function name stands in as ``module@0xOFFSET`` (module lower-cased on
Windows, as Socorro does), or ``@0xPC`` outside any module — which siggen's lists treat
as irrelevant. Named frames pass their name, and their inline frames as ``inlines``
(innermost first), which siggen reads as frames before the physical one, as Socorro does
with rust-minidump's output; so a symbolicated crash groups by function across builds, and
without symbols the signature is what it was.

Kernel dumps (Windows bugchecks, Linux panics) use siggen's frame normalisation with a
skip list of our own, :data:`KERNEL_IRRELEVANT`: the bugcheck and trap machinery
(``KeBugCheck*``, ``Ki*`` trap and dispatch frames, ``Kx*`` low-level handlers, exception
filters and dispatchers, ``panic``/``die``/fault handlers on Linux) and, when the kernel
image has no symbols, its unnamed frames, so the signature starts at the first frame
that says who crashed (usually a driver). Named Windows kernel frames read
``module!function`` (WinDbg's failure-bucket style: ``nt!KeBugCheckEx``,
``myfault!MyfaultDispatch``); the skip list matches the function part.

siggen is imported on first use only (it costs ~60 ms), and one generator is kept per
process (:func:`dumpkit.pipeline.document.signature_tool.generator`: siggen's default rules,
built once, with shortcuts checked against siggen). Signatures depend only on the dump's
content: stable across runs and machines.
"""
from __future__ import annotations

import re
from typing import Any

from dumpkit.model import Dump, Frame, Module

__all__ = ["KERNEL_IRRELEVANT", "VDSO_NAMES", "frame_label", "short_signature", "siggen_input",
           "stack_generator", "stack_signature", "symbolicated_frames"]

KERNEL_FORMATS = frozenset({"windows_kernel_dump", "linux_vmcore", "kdump_compressed",
                            "makedumpfile_flattened"})

#: Kernel frames that never say who crashed (regular expressions, matched at the start).
KERNEL_IRRELEVANT = (
    r"KeBugCheck", r"KiBugCheck", r"KeBugCheck2", r"KiBugCheckDispatch",
    r"Ki\w*Trap", r"Ki\w*Fault", r"Ki\w*Abort", r"KiPageFault", r"KiExceptionDispatch",
    r"KiDispatchException", r"KiRaiseException", r"KiSystemService", r"KiInterrupt",
    r"Kx\w*", r"RtlpBreakWithStatusInstruction", r"DbgBreakPoint", r"RtlDispatchException",
    r"RtlpExecuteHandlerForException", r"RtlRaiseStatus", r"ExRaiseStatus",
    r"_C_specific_handler", r"__C_specific_handler", r"[\w:]*\$filt\$", r"PspUnhandledException",
    r"PspSystemThreadStartup\$filt",
    # the kernel image itself, when it has no symbols
    r"(ntoskrnl|ntkrnlmp|ntkrnlpa|ntkrpamp|hal)\.(exe|dll)@0x",
    # Linux
    r"panic$", r"die$", r"__die", r"oops_", r"do_trap$", r"do_error_trap", r"exc_", r"asm_exc_",
    r"page_fault_oops", r"no_context$", r"__bad_area", r"bad_area", r"do_user_addr_fault",
    r"do_kern_addr_fault", r"kernelmode_fixup_or_oops", r"crash_kexec", r"__crash_kexec",
    r"sysrq_handle_crash", r"\w+\.ko@0x0$",
)

_generator: Any = None
_kernel_tool: Any = None


def frame_label(frame: Frame, windows: bool, bucket: bool = False) -> str | None:
    """The frame's function (``module!function`` with ``bucket``, WinDbg's failure-bucket
    style for kernel frames), or the stand-in for an unnamed frame: ``module@0xOFFSET`` or
    ``@0xPC``."""
    if frame.function:
        return _bucket_name(frame.module, frame.function) if bucket else frame.function
    if frame.module and frame.module_offset is not None:
        module = frame.module.lower() if windows else frame.module
        return f"{module}@0x{frame.module_offset:x}"
    return None


#: The kernel's system-call trampolines: a thread that was in a system call (i386 raise(),
#: any blocking call) has one at the top, and it says nothing of who crashed.
VDSO_NAMES = frozenset({"linux-vdso.so.1", "linux-gate.so.1", "[vdso]", "linux-vdso64.so.1",
                        "linux-vdso32.so.1"})


def _bucket_name(module: str | None, function: str) -> str:
    """``nt!KeBugCheckEx``, ``myfault!MyfaultDispatch``: the module's name without its
    extension (the NT kernel images as ``nt``), ``!``, the function."""
    if not module:
        return function
    stem = module.rsplit(".", 1)[0] if "." in module else module
    if stem.lower() in ("ntoskrnl", "ntkrnlmp", "ntkrnlpa", "ntkrpamp"):
        stem = "nt"
    return f"{stem}!{function}"


def symbolicated_frames(dump: Dump) -> dict[str, int] | None:
    """How many of the crashing thread's frames symbols named (``None`` without frames)."""
    thread = dump.crashing_thread
    if thread is None or not thread.frames:
        return None
    frames = thread.frames
    return {"frames": len(frames),
            "with_function": sum(1 for f in frames if f.function),
            "with_line": sum(1 for f in frames if f.source_line is not None),
            "inlined": sum(len(f.inlined) for f in frames)}


def _frames(dump: Dump, frames: list[Frame]) -> list[dict[str, Any]]:
    windows = dump.system.os == "windows"
    bucket = windows and _is_kernel(dump)
    out = []
    skip = 0
    while skip < len(frames) - 1 and frames[skip].module in VDSO_NAMES:
        skip += 1
    for frame in frames[skip:]:
        out.append({
            "function": frame_label(frame, windows, bucket),
            # siggen reads inline frames (innermost first) before their physical frame
            "inlines": [{"function": _bucket_name(frame.module, i.function) if bucket and i.function
                         else i.function, "file": i.source_file, "line": i.source_line}
                        for i in frame.inlined],
            "module": frame.module,
            "file": frame.source_file,
            "line": frame.source_line,
            "module_offset": None if frame.module_offset is None else hex(frame.module_offset),
            "offset": hex(frame.pc),
        })
    return out


def _reason(dump: Dump) -> str | None:
    crash = dump.crash
    if crash is None:
        return None
    from dumpkit.pipeline.document import names

    return names.crash_code_name(crash.code, crash.code_space, crash.parameters)


def _os_name(dump: Dump) -> str:
    return {"windows": "Windows NT", "linux": "Linux", "macos": "Mac OS X", "android": "Android",
            "ios": "iOS"}.get(dump.system.os, dump.system.os)


def _is_kernel(dump: Dump) -> bool:
    return dump.source.format in KERNEL_FORMATS or (
        dump.crash is not None and dump.crash.kind in ("bugcheck", "panic"))


def siggen_input(dump: Dump, frames: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What siggen's generator is given for a user-mode dump: its crash data, Socorro-shaped,
    with ``frames`` (default: the crashing thread's, as :func:`stack_signature` passes them)."""
    if frames is None:
        thread = dump.crashing_thread
        frames = _frames(dump, thread.frames) if thread is not None else []
    crash_data: dict[str, Any] = {"crashing_thread": 0, "os": _os_name(dump), "reason": _reason(dump),
                                  "threads": [{"frames": frames}]}
    if dump.crash is not None and dump.crash.message:
        crash_data["abort_message"] = dump.crash.message
    return crash_data


def stack_signature(dump: Dump) -> str | None:
    """``crash.signature``: Socorro's signature of the crashing thread's frames, or ``None``
    when it has no frames."""
    thread = dump.crashing_thread
    if thread is None or not thread.frames:
        return None
    frames = _frames(dump, thread.frames)
    if _is_kernel(dump):
        signature = _kernel_signature(frames)
    else:
        signature = stack_generator().generate(siggen_input(dump, frames)).signature
    if not signature or signature.startswith("EMPTY:"):
        return None
    return str(signature)


def stack_generator() -> Any:
    """The process's signature generator for user-mode stacks (siggen's, as
    :func:`dumpkit.pipeline.document.signature_tool.generator` builds it), built on first use."""
    global _generator
    if _generator is None:
        from dumpkit.pipeline.document.signature_tool import generator

        _generator = generator()
    return _generator


def _kernel_signature(frames: list[dict[str, Any]]) -> str:
    global _kernel_tool
    if _kernel_tool is None:
        from dumpkit.pipeline.document.signature_tool import kernel_tool

        tool = kernel_tool()
        # a named Windows kernel frame reads "module!function": the patterns match the function
        tool.irrelevant_signature_re = re.compile(
            r"(?:[^!@\s]+!)?(?:" + "|".join(f"(?:{p})" for p in KERNEL_IRRELEVANT) + ")")
        tool.prefix_signature_re = re.compile(r"(?!)")  # nothing is a prefix
        tool.signature_sentinels = []
        _kernel_tool = tool
    labels = _kernel_tool.create_frame_list({"frames": frames})
    signature, _, _ = _kernel_tool.generate(labels, 0)
    return str(signature)


def short_signature(code_name: str | None, module: Module | None, pc: int | None) -> str:
    """``crash.short_signature``: ``"<crash name> <module>+0x<offset>"``, stable across runs
    and ASLR slides; also ``crash.signature`` when the stack gives none."""
    name = code_name or "UNKNOWN"
    if module is not None and pc is not None:
        return f"{name} {module.name}+0x{pc - module.base:x}"
    if pc is not None:
        return f"{name} @0x{pc:x}"
    return name
