"""Schemas, names and error documents: the parts of the contract that need no reader."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from dumpkit.model import CrashInfo, Dump, Module, SourceInfo, SystemInfo, Thread
from dumpkit.pipeline.document import names
from dumpkit.pipeline.document.normalize import document_for, error_document, normalize
from dumpkit.pipeline.document.signature import short_signature
from dumpkit.pipeline.document.validate import SCHEMA_FILES, DocumentInvalid, load_schema, validate

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize(("kind", "version"), sorted(SCHEMA_FILES))
def test_schemas_are_valid_2020_12_with_ids(kind: str, version: int) -> None:
    schema = load_schema(kind, version)
    Draft202012Validator.check_schema(schema)
    assert schema["$id"] == f"urn:dumpkit:schema:{kind}:{version}"
    assert schema["properties"]["schema_version"] == {"const": version}
    assert schema["additionalProperties"] is False


def _as_version_2(doc: dict[str, Any]) -> dict[str, Any]:
    """``doc`` as dumpkit wrote it before inline frames (schema v2)."""
    doc["schema_version"] = 2
    del doc["crash"]["symbolicated_frames"]
    for thread in doc["threads"]:
        for frame in thread["frames"]:
            del frame["inlined"]
    return doc


def test_version_2_documents_still_validate() -> None:
    """A document written before inline frames existed (schema v2) stays valid against v2,
    and v2 has no place for them."""
    doc = _as_version_2(normalize(_sample_dump()))
    validate(doc)
    doc["threads"][0]["frames"][0]["inlined"] = []
    with pytest.raises(DocumentInvalid):
        validate(doc)


def test_version_1_documents_still_validate() -> None:
    """A document written before frames existed (schema v1) stays valid against v1."""
    doc = _as_version_2(normalize(_sample_dump()))
    doc["schema_version"] = 1
    del doc["crash"]["short_signature"]
    for thread in doc["threads"]:
        del thread["frames"]
    validate(doc)
    thread = doc["threads"][0]
    thread["frames"] = []
    with pytest.raises(DocumentInvalid):
        validate(doc)  # v1 has no frames


def _sample_dump() -> Dump:
    dump = Dump(SourceInfo(path="x.dmp", size=100, format="minidump", variant="normal"),
                SystemInfo(os="windows", cpu_arch="amd64", cpu_count=4))
    dump.modules = [Module(base=0x7FF600000000, size=0x10000, path="C:\\app\\app.exe"),
                    Module(base=0x7FFA00000000, size=0x200000, path="C:\\Windows\\ntdll.dll")]
    dump.threads = [Thread(id=7, registers={"rip": 0x7FFA00001234, "rsp": 0x1000}, crashed=True)]
    dump.crash = CrashInfo(kind="exception", code=0xC0000005, address=0x7FFA00001234,
                           parameters=[1, 0x10], thread_id=7)
    return dump


def test_normalized_document_validates_and_names_the_crash() -> None:
    doc = normalize(_sample_dump())
    validate(doc)
    crash = doc["crash"]
    assert crash["code_name"] == "EXCEPTION_ACCESS_VIOLATION_WRITE"
    assert crash["module"] == "ntdll.dll"
    assert crash["module_offset"] == "0x1234"
    assert crash["short_signature"] == "EXCEPTION_ACCESS_VIOLATION_WRITE ntdll.dll+0x1234"
    assert crash["signature"] == "ntdll.dll@0x1234"  # siggen, from the one context frame
    assert crash["parameters"] == ["0x1", "0x10"]
    assert doc["threads"][0]["registers"]["rip"] == "0x7ffa00001234"
    assert doc["schema_version"] == 3
    frame0 = doc["threads"][0]["frames"][0]
    assert (frame0["trust"], frame0["pc"], frame0["module"]) == ("context", "0x7ffa00001234", "ntdll.dll")


def test_validation_rejects_unknown_keys_and_bad_hex() -> None:
    doc = normalize(_sample_dump())
    doc["surprise"] = 1
    with pytest.raises(DocumentInvalid):
        validate(doc)
    doc = normalize(_sample_dump())
    doc["modules"][0]["base"] = "0X7FF6"
    with pytest.raises(DocumentInvalid) as info:
        validate(doc)
    assert "modules" in str(info.value)


def test_signal_names_and_signature_use_the_thread_pc() -> None:
    dump = _sample_dump()
    dump.system = SystemInfo(os="linux", cpu_arch="amd64")
    dump.modules = [Module(base=0x400000, size=0x1000, path="/usr/bin/crasher")]
    dump.threads = [Thread(id=1, registers={"rip": 0x400123}, crashed=True)]
    dump.crash = CrashInfo(kind="signal", code=11, subcode=1, address=0x0, code_space="linux_signal")
    doc = normalize(dump)
    validate(doc)
    assert doc["crash"]["code_name"] == "SIGSEGV"
    assert doc["crash"]["subcode_name"] == "SEGV_MAPERR"
    assert doc["crash"]["short_signature"] == "SIGSEGV crasher+0x123"
    assert doc["crash"]["signature"] == "crasher@0x123"


@pytest.mark.parametrize(("code", "space", "params", "expected"), [
    (0xC0000409, "ntstatus", [7], "STATUS_STACK_BUFFER_OVERRUN"),
    (0xC0000005, "ntstatus", [8, 0], "EXCEPTION_ACCESS_VIOLATION_EXEC"),
    (0x12345678, "ntstatus", [], "0x12345678"),
    (6, "linux_signal", [], "SIGABRT"),
    (10, "linux_signal_mips", [], "SIGBUS"),
    (0xFFFFFFFF, "linux_signal", [], "DUMP_REQUESTED"),
    (1, "mach", [], "EXC_BAD_ACCESS"),
])
def test_crash_code_names(code: int, space: str, params: list[int], expected: str) -> None:
    assert names.crash_code_name(code, space, params) == expected


def test_subcode_names() -> None:
    assert names.crash_subcode_name(0xC0000409, None, "ntstatus", [7]) == "FAST_FAIL_FATAL_APP_EXIT"
    assert names.crash_subcode_name(8, 1, "linux_signal") == "FPE_INTDIV"
    assert names.crash_subcode_name(11, 0xFFFFFFFA, "linux_signal") == "SI_TKILL"
    assert names.crash_subcode_name(6, 0, "linux_signal") == "SI_USER"


def test_signature_without_module_uses_the_address() -> None:
    assert short_signature("SIGSEGV", None, 0) == "SIGSEGV @0x0"
    assert short_signature(None, None, None) == "UNKNOWN"


@pytest.mark.parametrize("content", [b"", b"hello world\n", b"MZ\x90\x00" + bytes(100)])
def test_unreadable_files_give_valid_error_documents(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "thing.bin"
    path.write_bytes(content)
    doc = document_for(str(path))
    validate(doc)
    assert doc["kind"] == "error"
    assert doc["error"]["code"] == "unknown_format"
    assert doc["source"]["size"] == len(content)


def test_error_document_shape() -> None:
    doc = error_document("a/b.dmp", "truncated", "stream directory past end of file",
                         structure="MINIDUMP_DIRECTORY", offset=0x20, size=10,
                         container=["x.tar.gz"])
    validate(doc)
    assert doc["error"]["offset"] == "0x20"


def _run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "dumpkit", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=60)


def test_cli_exit_codes(tmp_path: Path) -> None:
    junk = tmp_path / "junk.dmp"
    junk.write_bytes(b"not a dump")
    res = _run_cli("inspect", "--compact", str(junk))
    assert res.returncode == 1
    assert json.loads(res.stdout)["kind"] == "error"
    assert "not a dump format" in res.stderr
    assert _run_cli("inspect").returncode == 2
    assert _run_cli("frobnicate").returncode == 2
    assert _run_cli().returncode == 2
    help_text = _run_cli("--help")
    assert help_text.returncode == 0 and "inspect" in help_text.stdout


ARGVS = [["inspect", "a.dmp", "--compact", "--symbols", "/tmp/s"], ["validate", "-q", "d.json"],
         ["schema", "--kind", "error"], ["shrink", "in.dmp", "-o", "out.dmp", "--max-size", "2M"],
         ["normalize", "x", "--out", "o", "--workers", "2", "--offline"]]


@pytest.mark.parametrize("argv", ARGVS, ids=lambda argv: argv[0])
def test_a_commands_own_parser_reads_as_the_whole_one(argv: list[str]) -> None:
    from dumpkit.pipeline.cli import build_parser

    whole, own = build_parser(), build_parser(argv[0])
    assert vars(own.parse_args(argv)) == vars(whole.parse_args(argv))
    assert own.format_usage() == whole.format_usage()  # errors print the same usage line
    subparsers = [action for action in own._actions if isinstance(action, argparse._SubParsersAction)]
    assert list(subparsers[0].choices) == [argv[0]]  # the others were not built


@pytest.mark.parametrize("columns", [None, "57", "0", "wide"])
def test_help_is_laid_out_as_argparse_lays_it_out(columns: str | None,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from dumpkit.pipeline import cli_options
    from dumpkit.pipeline.cli import build_parser

    if columns is None:
        monkeypatch.delenv("COLUMNS", raising=False)
    else:
        monkeypatch.setenv("COLUMNS", columns)
    parser = build_parser()
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    pairs: list[tuple[argparse.ArgumentParser, type[argparse.HelpFormatter]]] = [
        (parser, argparse.RawDescriptionHelpFormatter)]
    pairs += [(command, argparse.HelpFormatter) for command in subparsers.choices.values()]
    for each, theirs in pairs:
        ours = each.format_help()
        assert each.formatter_class in (cli_options.HelpFormatter, cli_options.DescriptionFormatter)
        each.formatter_class = theirs
        assert ours == each.format_help()


def test_cli_validate_and_schema(tmp_path: Path) -> None:
    good = tmp_path / "good.json"
    good.write_text(json.dumps(normalize(_sample_dump())))
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"kind": "dump"}))
    assert _run_cli("validate", str(good)).returncode == 0
    res = _run_cli("validate", str(good), str(bad))
    assert res.returncode == 1 and "bad.json" in res.stderr
    schema = _run_cli("schema", "--kind", "error")
    assert schema.returncode == 0 and json.loads(schema.stdout)["$id"] == "urn:dumpkit:schema:error:1"
    old = _run_cli("schema", "--schema-version", "1")
    assert old.returncode == 0 and json.loads(old.stdout)["$id"] == "urn:dumpkit:schema:dump:1"
    assert _run_cli("schema", "--schema-version", "99").returncode == 2
