"""A run of ``dumpkit normalize`` killed with SIGKILL at any moment, then run again, ends with
the same outputs, byte for byte (timings aside), as a run never interrupted.

Kills come two ways: from inside, at named points (``DUMPKIT_KILL_AT``, see
``pipeline/faults.py``: the whole process group gets SIGKILL there), and from outside, by a
watcher that kills the process group once some documents have appeared.
"""
from __future__ import annotations

import gzip
import io
import os
import signal
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from tests.pipeline_run import run_normalize, snapshot, start_normalize
from tests.pipeline_samples import minidump_variant

pytestmark = pytest.mark.slow

KILLED = -signal.SIGKILL


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """250 dumps (240 distinct): a folder of plain and gzipped minidumps, a tar.gz, a zip, junk."""
    root = tmp_path_factory.mktemp("archive")
    plain = root / "plain"
    plain.mkdir()
    for i in range(120):
        data = minidump_variant(i)
        if i % 10 == 0:
            (plain / f"c{i:03d}.dmp.gz").write_bytes(gzip.compress(data, mtime=0))
        else:
            (plain / f"c{i:03d}.dmp").write_bytes(data)
    (plain / "README.txt").write_text("not a dump\n")
    (plain / "cut.dmp").write_bytes(minidump_variant(1)[:64])
    with tarfile.open(root / "more.tar.gz", "w:gz") as tf:
        for i in range(120, 200):
            data = minidump_variant(i)
            info = tarfile.TarInfo(f"more/c{i:03d}.dmp")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    with zipfile.ZipFile(root / "upload.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        for i in range(190, 240):  # 10 of them duplicate tar members
            zf.writestr(f"upload/c{i:03d}.dmp", minidump_variant(i))
    return root


@pytest.fixture(scope="module")
def reference(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("reference") / "out"
    result = run_normalize([archive], out, "--workers", "2")
    assert result.returncode == 1, result.stderr  # README.txt and cut.dmp are unreadable
    files = snapshot(out)
    assert len([k for k in files if k.startswith("docs/")]) == 240  # 10 more are duplicates
    return files


def _resumed(out: Path, archive: Path, workers: str = "1") -> dict[str, bytes]:
    result = run_normalize([archive], out, "--workers", workers)
    assert result.returncode == 1, result.stderr
    assert os.listdir(out / "work" / "tmp") == [], os.listdir(out / "work" / "tmp")  # swept
    return snapshot(out)


@pytest.mark.parametrize("point", ["spool:40", "document:1", "document:120", "document:231", "part:2",
                                   "publish:1", "table:3"])
def test_killed_at_a_point_then_resumed(point: str, archive: Path, reference: dict[str, bytes],
                                        tmp_path: Path) -> None:
    out = tmp_path / "out"
    killed = run_normalize([archive], out, "--workers", "1", env={"DUMPKIT_KILL_AT": point})
    assert killed.returncode == KILLED, f"not killed at {point}: {killed.stderr}"
    for folder in ("docs", "errors"):  # only whole documents are ever visible
        for path in (out / folder).glob("*") if (out / folder).is_dir() else []:
            assert path.name.endswith(".json") and path.read_bytes().endswith(b"}\n")
    assert _resumed(out, archive) == reference


def test_killed_twice_with_two_workers(archive: Path, reference: dict[str, bytes], tmp_path: Path) -> None:
    out = tmp_path / "out"
    for threshold in (20, 150):  # kill from outside once this many documents exist
        proc = start_normalize([archive], out, "--workers", "2")
        deadline = time.monotonic() + 120
        while proc.poll() is None and time.monotonic() < deadline:
            made = sum(len(os.listdir(out / f)) for f in ("docs", "errors") if (out / f).is_dir())
            if made >= threshold:
                os.killpg(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.005)
        proc.communicate()
        assert proc.returncode == KILLED, "the run ended before the kill: make the archive bigger"
    assert _resumed(out, archive, workers="2") == reference


def test_rerun_of_a_finished_batch_changes_nothing(archive: Path, reference: dict[str, bytes],
                                                   tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_normalize([archive], out).returncode == 1
    stamps = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file() and "work" not in p.parts}
    again = run_normalize([archive], out)
    assert again.returncode == 1 and "nothing new to do" in again.stdout
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert snapshot(out) == reference
