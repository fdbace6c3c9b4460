"""The signature generator dumpkit builds (``signature_tool.generator``: siggen's default
rules, the shutdown-hang rule sharing the stack rule, the signature lists read without siggen's
line-by-line compile check) answers exactly as a plain ``siggen.generator.SignatureGenerator()``:
the same lists and patterns, and the same signature, notes, debug log and extra facts on the
crashing stacks of the corpus dumps and on built inputs that reach every rule."""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from glom import glom
from siggen import rules, siglists_utils
from siggen.generator import SignatureGenerator
from siggen.rules import SignatureGenerationRule, SignatureRunWatchDog

import dumpkit
from dumpkit.errors import DumpkitError
from dumpkit.pipeline.document import signature, signature_tool
from dumpkit.unwind import unwind_dump
from tests.conftest import corpus_files, corpus_id

USER_DUMPS = [p for p in corpus_files("mdmp/*", "mdmp_from_yaml/*", "elfcore/*")
              if p.suffix not in (".bz2", ".gz", ".xz", ".zst")]  # compressed copies: the same stacks


@pytest.fixture(scope="module")
def generators() -> tuple[Any, Any]:
    """(dumpkit's generator, siggen's own), each built fresh for this module."""
    return signature_tool.generator(), SignatureGenerator()


def _same(generators: tuple[Any, Any], crash_data: dict[str, Any]) -> str:
    ours, plain = generators
    got = ours.generate(crash_data).to_dict()
    shortcut, rules.glom = rules.glom, glom  # siggen as it ships for the plain generator
    try:
        assert got == plain.generate(crash_data).to_dict()
    finally:
        rules.glom = shortcut
    return str(got["signature"])


def test_the_ruleset_is_siggens_with_one_stack_rule() -> None:
    ours = signature_tool.generator().pipeline
    plain = SignatureGenerator().pipeline
    assert [type(rule) for rule in ours] == [type(rule) for rule in plain]
    watchdog = next(rule for rule in ours if type(rule) is SignatureRunWatchDog)
    stack_rule = next(rule for rule in ours if type(rule) is SignatureGenerationRule)
    assert watchdog.signature_generation_rule is stack_rule
    # the watchdog carries what siggen's own __init__ gives it, nothing more or less
    plain_watchdog = next(rule for rule in plain if type(rule) is SignatureRunWatchDog)
    assert vars(watchdog).keys() == vars(plain_watchdog).keys()


SIGLISTS = ("irrelevant_signature_re", "prefix_signature_re", "signatures_with_line_numbers_re",
            "signature_sentinels", "trim_dll_signature_re")


@pytest.mark.parametrize("name", SIGLISTS)
def test_signature_lists_read_as_siggen_reads_them(name: str) -> None:
    # siggen's own loader compiles every line as it goes: the lists are valid and the same
    assert signature_tool.read_siglist(name) == siglists_utils.get_signature_list_content(name)


def test_the_stack_rule_holds_siggens_patterns() -> None:
    ours = next(r for r in signature_tool.generator().pipeline if type(r) is SignatureGenerationRule)
    plain = SignatureGenerationRule()
    assert rules.get_signature_list_content is siglists_utils.get_signature_list_content  # put back
    mine, theirs = vars(ours.c_signature_tool), vars(plain.c_signature_tool)
    assert mine.keys() == theirs.keys()
    for key, value in theirs.items():
        assert _same_value(mine[key], value), key
    assert isinstance(ours.c_signature_tool, signature_tool.PlainNameTool)


def _same_value(mine: Any, theirs: Any) -> bool:
    """Equal, or our ListPattern of the lines siggen compiled, without flags (compiled patterns
    compare by pattern text and flags)."""
    if isinstance(mine, signature_tool.ListPattern):
        return isinstance(theirs, re.Pattern) and (mine.source, theirs.flags) == (theirs.pattern, re.UNICODE)
    return bool(mine == theirs)


def test_the_kernel_tool_keeps_siggens_other_patterns() -> None:
    signature._kernel_signature([{"function": "KeBugCheckEx", "module": "ntoskrnl.exe", "inlines": []}])
    tool = signature._kernel_tool
    plain = rules.CSignatureTool()
    replaced = {"irrelevant_signature_re", "prefix_signature_re", "signature_sentinels"}
    assert vars(tool).keys() == vars(plain).keys()
    for key, value in vars(plain).items():
        if key not in replaced:
            assert _same_value(vars(tool)[key], value), key


@pytest.mark.parametrize("path", USER_DUMPS, ids=corpus_id)
def test_corpus_stacks(path: Path, generators: tuple[Any, Any]) -> None:
    try:
        with dumpkit.open(path) as dump:
            unwind_dump(dump)
            thread = dump.crashing_thread
            if thread is None or not thread.frames or signature._is_kernel(dump):
                pytest.skip("no user-mode crashing stack")
            crash_data = signature.siggen_input(dump)
    except DumpkitError as exc:
        pytest.skip(f"unreadable: {exc.code}")
    assert _same(generators, crash_data)
    # the same stack as thread 1 behind a watchdog thread 0, so the shutdown-hang rule runs
    hung = {**crash_data, "crashing_thread": 1,
            "threads": [crash_data["threads"][0],
                        {"frames": [{"function": "mozilla::(anonymous namespace)::RunWatchdog(void*)"}]}]}
    assert "shutdownhang | " in _same(generators, hung)


def _frames(*functions: str) -> list[dict[str, Any]]:
    return [{"function": f, "module": "xul.dll", "file": None, "line": None, "inlines": [],
             "module_offset": f"0x{16 * i:x}", "offset": f"0x{0x1000 + 16 * i:x}"}
            for i, f in enumerate(functions)]


WATCHDOG = _frames("NtWaitForAlertByThreadId", "mozilla::(anonymous namespace)::RunWatchdog(void*)",
                   "_PR_NativeRunThread")
MAIN = _frames("ZwWaitForAlertByThreadId", "RtlSleepConditionVariableSRW", "SleepConditionVariableSRW",
               "mozilla::detail::ConditionVariableImpl::wait(mozilla::detail::MutexImpl&)",
               "nsThread::ProcessNextEvent(bool, bool*)", "NS_ProcessNextEvent(nsIThread*, bool)")

#: crash data that reaches each of siggen's default rules, and what its signature must show
BUILT: dict[str, tuple[dict[str, Any], str]] = {
    "stack": ({"crashing_thread": 0, "os": "Windows NT", "reason": "EXCEPTION_ACCESS_VIOLATION_READ",
               "threads": [{"frames": MAIN}]}, "ZwWaitForAlertByThreadId"),
    "shutdown_hang": ({"crashing_thread": 1, "os": "Windows NT", "threads": [{"frames": MAIN},
                                                                            {"frames": WATCHDOG}]},
                      "shutdownhang | "),
    "stack_overflow": ({"crashing_thread": 0, "reason": "EXCEPTION_STACK_OVERFLOW",
                        "threads": [{"frames": MAIN}]}, "stackoverflow | "),
    "oom": ({"crashing_thread": 0, "oom_allocation_size": 1 << 20,
             "threads": [{"frames": _frames("mozalloc_handle_oom(unsigned int)", "moz_xmalloc")}]}, "OOM | "),
    "abort": ({"crashing_thread": 0, "abort_message": "[5392] ###!!! ABORT: unsafe destruction",
               "threads": [{"frames": MAIN}]}, "Abort | unsafe destruction"),
    "bad_hardware": ({"crashing_thread": 0, "threads": [{"frames": MAIN}],
                      "reason": "EXCEPTION_ACCESS_VIOLATION_READ / STATUS_DEVICE_DATA_ERROR"},
                     "bad hardware | "),
    "shutdown_timeout": ({"crashing_thread": 0, "async_shutdown_timeout":
                          '{"phase": "profile-before-change", "conditions": [{"name": "A"}, {"name": "B"}]}',
                          "threads": [{"frames": MAIN}]}, "AsyncShutdownTimeout | profile-before-change"),
    "ipc_channel_error": ({"crashing_thread": 0, "ipc_channel_error": "ShutDownKill",
                           "threads": [{"frames": MAIN}]}, "IPCError-content | ShutDownKill"),
    "ipc_message_name": ({"crashing_thread": 0, "ipc_message_name": "PContent::Msg_Foo",
                          "threads": [{"frames": MAIN}]}, "IPC_Message_Name=PContent::Msg_Foo"),
    "hang": ({"crashing_thread": 0, "hang": 1, "threads": [{"frames": MAIN}]}, "hang: 1 | "),
    "empty_with_stackwalker_error": ({"crashing_thread": 0, "mdsw_status_string": "ERROR_NO_MINIDUMP_HEADER",
                                      "threads": []}, "ERROR_NO_MINIDUMP_HEADER"),
    "java": ({"java_stack_trace": "java.lang.NullPointerException: msg\n\tat org.A.b(A.java:12)"},
             "java.lang.NullPointerException"),
    "truncated": ({"crashing_thread": 0, "threads": [{"frames": _frames(*["abort"] * 60, "main")}]},
                  "..."),
    "sentinel": ({"crashing_thread": 0, "threads": [{"frames": _frames(
        "KiFastSystemCallRet", "foo()", "_purecall", "bar()", "_sigtramp", "baz()")}]}, "_purecall | bar"),
    "first_sentinel_found": ({"crashing_thread": 0, "threads": [{"frames": _frames(
        "foo()", "_sigtramp", "bar()", "_purecall")}]}, "bar"),  # from _sigtramp (irrelevant): foo() cut
    "sentinel_with_a_condition": ({"crashing_thread": 0, "threads": [{"frames": _frames(
        "foo()", "mozilla::ipc::RPCChannel::Call(IPC::Message*, IPC::Message*)", "bar()")}]}, "foo"),
    "inline_frames": ({"crashing_thread": 0, "os": "Linux", "threads": [{"frames": [
        {**_frames("report_failure")[0], "inlines": [{"function": "abort", "file": "a.c", "line": 3}]},
        *_frames("main")]}]}, "abort | report_failure"),
}


@pytest.mark.parametrize("name", sorted(BUILT))
def test_built_inputs_reach_each_rule(name: str, generators: tuple[Any, Any]) -> None:
    crash_data, shows = BUILT[name]
    assert shows in _same(generators, crash_data)
