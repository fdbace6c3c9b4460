"""``dumpkit normalize`` with symbol sources: documents name functions, signatures group by
function, other sources remake the documents without walking or hashing the inputs again, and an
identical rerun skips everything.

The inputs are gdb cores of a stripped ``tests/fixtures/crasher.c`` (segv, abrt, fpe); its
debug file, split with objcopy, sits in a build-id symbol dir (``.build-id/xx/rest.debug``).
"""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.elf_fixtures import HOW, build_crasher, make_core, tools_missing
from tests.pipeline_run import ndjson, run_normalize
from tests.symbol_servers import elf_build_id


@pytest.fixture(scope="module")
def stripped(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(folder of cores of the stripped crasher, symbol dir holding its debug file)."""
    reason = tools_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("symbolized_batch")
    exe = build_crasher(root / "crasher", frame_pointer=False)
    debug = root / "crasher.debug"
    subprocess.run(["objcopy", "--only-keep-debug", str(exe), str(debug)], check=True)
    subprocess.run(["objcopy", "--strip-all", str(exe)], check=True)
    cores = root / "cores"
    cores.mkdir()
    for how in HOW:
        make_core(exe, cores / f"crasher.{how}.core", how)
    build_id = elf_build_id(exe)
    syms = root / "syms"
    target = syms / ".build-id" / build_id[:2] / f"{build_id[2:]}.debug"
    target.parent.mkdir(parents=True)
    shutil.copy(debug, target)
    return cores, syms


def _signatures(out: Path) -> dict[str, str]:
    return {Path(d["source"]["path"]).name: d["crash"]["signature"]
            for d in ndjson(out) if d["kind"] == "dump"}


def test_symbol_sources_remake_documents_with_function_names(stripped: tuple[Path, Path],
                                                             tmp_path: Path) -> None:
    cores, syms = stripped
    out = tmp_path / "out"
    plain = run_normalize([cores], out, "--symbol-cache", str(tmp_path / "cache"))
    assert plain.returncode == 0, plain.stderr
    before = _signatures(out)
    assert all("crash_here" not in s for s in before.values()), before
    manifest = next((out / "work" / "batches").glob("*/manifest/manifest.json"))
    stamp = manifest.stat().st_mtime_ns

    named = run_normalize([cores], out, "--symbols", str(syms), "--symbol-cache", str(tmp_path / "cache"))
    assert named.returncode == 0, named.stderr
    assert ", 3 new documents" in named.stdout, named.stdout
    assert manifest.stat().st_mtime_ns == stamp  # the same manifest: nothing walked or hashed again
    after = _signatures(out)
    assert set(after) == set(before)
    assert all("crash_here" in s for s in after.values()), after
    for doc in ndjson(out):
        crashed = next(t for t in doc["threads"] if t["crashed"])
        top = crashed["frames"][0] if doc["crash"]["code_name"] != "SIGABRT" else None
        if top is not None:
            assert top["function"] == "crash_here" and top["source_file"].endswith("crasher.c")
            assert isinstance(top["source_line"], int)
        assert doc["crash"]["symbolicated_frames"]["with_function"] >= 2

    again = run_normalize([cores], out, "--symbols", str(syms), "--symbol-cache", str(tmp_path / "cache"))
    assert again.returncode == 0 and "nothing new to do" in again.stdout, again.stdout
    report = json.loads((out / "report.json").read_text())
    assert report["totals"]["dumps"] == 3
