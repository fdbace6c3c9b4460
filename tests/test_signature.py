"""Crash signatures (pipeline/signature.py): siggen's rules for user-mode stacks, our kernel
skip list for kernel dumps, ``module@0xOFFSET`` for unnamed frames."""
from __future__ import annotations

from pathlib import Path

import pytest

import dumpkit
from dumpkit.model import CrashInfo, Dump, Frame, InlineFrame, SourceFormat, SourceInfo, SystemInfo, Thread
from dumpkit.pipeline.document.signature import stack_signature
from dumpkit.unwind import unwind_dump
from tests.conftest import corpus_root


def _dump(frames: list[Frame], *, os: str = "linux", fmt: SourceFormat = "elf_core",
          crash: CrashInfo | None = None) -> Dump:
    thread = Thread(id=1, crashed=True, frames=frames)
    return Dump(source=SourceInfo(path="x", size=0, format=fmt), system=SystemInfo(os=os, cpu_arch="amd64"),
                threads=[thread], crash=crash or CrashInfo(kind="signal", code=11, code_space="linux_signal"))


def _f(module: str | None, offset: int, function: str | None = None) -> Frame:
    return Frame(pc=0x1000 + offset, trust="cfi", module=module, module_offset=offset, function=function)


def test_named_frames_go_through_siggen() -> None:
    frames = [_f("libc.so.6", 0x10, "raise"), _f("libc.so.6", 0x20, "abort"),
              _f("app", 0x30, "crash_now(char const*)"), _f("app", 0x40, "main")]
    # raise and abort are siggen prefix frames: kept, and the walk goes on to the culprit
    assert stack_signature(_dump(frames)) == "raise | abort | crash_now"


def test_unnamed_frames_use_module_and_offset() -> None:
    assert stack_signature(_dump([_f("app", 0x1f27)])) == "app@0x1f27"
    # Windows module names are lower-cased, as Socorro does
    windows = _dump([_f("CrashMe.EXE", 0xa6cd)], os="windows", fmt="minidump",
                    crash=CrashInfo(kind="exception", code=0xC0000005))
    assert stack_signature(windows) == "crashme.exe@0xa6cd"


def test_no_frames_no_signature() -> None:
    assert stack_signature(_dump([])) is None


def test_stack_overflow_prefix() -> None:
    dump = _dump([_f("app.exe", 0x10)], os="windows", fmt="minidump",
                 crash=CrashInfo(kind="exception", code=0xC00000FD))
    assert stack_signature(dump) == "stackoverflow | app.exe@0x10"


def test_kernel_skip_list() -> None:
    frames = [_f("ntoskrnl.exe", 0x100, "KeBugCheckEx"), _f("ntoskrnl.exe", 0x200, "KiPageFault"),
              _f("ntoskrnl.exe", 0x300), _f("mydriver.sys", 0x40), _f("ntoskrnl.exe", 0x500)]
    dump = _dump(frames, os="windows", fmt="windows_kernel_dump",
                 crash=CrashInfo(kind="bugcheck", code=0xD1, code_space="bugcheck"))
    assert stack_signature(dump) == "mydriver.sys@0x40"


def test_kernel_frames_with_symbols_read_module_bang_function() -> None:
    frames = [_f("ntoskrnl.exe", 0x100, "KeBugCheckEx"), _f("ntoskrnl.exe", 0x200, "KiPageFault"),
              _f("myfault.sys", 0x40, "MyfaultDispatch"), _f("ntoskrnl.exe", 0x500, "IofCallDriver")]
    dump = _dump(frames, os="windows", fmt="windows_kernel_dump",
                 crash=CrashInfo(kind="bugcheck", code=0xD1, code_space="bugcheck"))
    # the skip list still matches the function part of nt!KeBugCheckEx, nt!KiPageFault
    assert stack_signature(dump) == "myfault!MyfaultDispatch"
    # never worse without symbols: the same stack unnamed gives the driver and its offset
    for frame in frames:
        frame.function = None
    assert stack_signature(dump) == "myfault.sys@0x40"


def test_inline_frames_are_frames_for_siggen() -> None:
    """Socorro's siggen reads a frame's inline frames (innermost first) before the frame."""
    outer = _f("app", 0x30, "report_failure")
    outer.inlined = [InlineFrame("abort", "abort.c", 10)]
    assert stack_signature(_dump([outer, _f("app", 0x40, "main")])) == "abort | report_failure"
    outer.inlined = []
    assert stack_signature(_dump([outer, _f("app", 0x40, "main")])) == "report_failure"


def test_corpus_signatures_are_stable() -> None:
    root = corpus_root()
    if root is None:
        pytest.skip("shared corpus not found")
    path = Path(root, "mdmp", "breakpad_linux_divide_by_zero.dmp")
    signatures = []
    for _ in range(2):
        with dumpkit.open(path) as dump:
            unwind_dump(dump)
            signatures.append(stack_signature(dump))
    assert signatures == ["driver@0x1f27", "driver@0x1f27"]
    with dumpkit.open(Path(root, "mdmp", "breakpad_stack_exhaustion.dmp")) as dump:
        unwind_dump(dump)
        assert stack_signature(dump) == "stackoverflow | crashme.exe@0xa637"
