"""``dumpkit normalize --shrink``: a reduced minidump per dump, resumable like the documents."""
from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from dumpkit.pipeline.document.normalize import document_for
from tests.pipeline_run import run_normalize, snapshot
from tests.pipeline_samples import linux_core, minidump_variant

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shrink-archive")
    for i in range(10):
        (root / f"c{i}.dmp").write_bytes(minidump_variant(i))
    linux_core(root / "crasher.core")  # when gcc and gdb are there
    (root / "notes.txt").write_text("not a dump\n")
    return root


def test_shrink_writes_a_minidump_per_dump(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_normalize([archive], out, "--shrink", "--shrink-max-size", "64K", "--workers", "2")
    assert result.returncode == 1, result.stderr
    report = json.loads((out / "report.json").read_text())
    mini = report["minidumps"]
    assert mini["max_size"] == 64 << 10
    assert mini["written"] + sum(c["count"] for c in mini["skipped"]) == report["totals"]["dumps"]
    written = sorted((out / "minidumps").glob("*.dmp"))
    assert len(written) == mini["written"] >= 10
    assert sum(p.stat().st_size for p in written) == mini["bytes"]
    docs = {p.name[:-5] for p in (out / "docs").glob("*.json")}
    for path in written:
        assert path.name[:-4] in docs and path.stat().st_size <= 64 << 10
        doc = document_for(str(path))  # each one is a minidump dumpkit reads back
        assert doc["kind"] == "dump" and doc["source"]["format"] == "minidump"
    again = run_normalize([archive], out, "--shrink", "--shrink-max-size", "64K")
    assert again.returncode == 1 and "nothing new to do" in again.stdout
    plain = run_normalize([archive], out)  # the same folder without --shrink: no minidumps left
    assert plain.returncode == 1 and not list((out / "minidumps").glob("*"))
    assert json.loads((out / "report.json").read_text())["minidumps"] is None


@pytest.mark.parametrize("point", ["minidump:4", "document:6"])
def test_shrink_killed_then_resumed(point: str, archive: Path, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    assert run_normalize([archive], reference, "--shrink").returncode == 1
    out = tmp_path / "out"
    killed = run_normalize([archive], out, "--shrink", env={"DUMPKIT_KILL_AT": point})
    assert killed.returncode == -signal.SIGKILL
    assert run_normalize([archive], out, "--shrink").returncode == 1
    assert snapshot(out) == snapshot(reference)
    assert os.listdir(out / "work" / "tmp") == []
