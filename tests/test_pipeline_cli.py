"""``dumpkit normalize`` as a command: exit statuses, usage errors, the progress line on a
terminal (and silence off one), and the same batch run straight from ``luigi``."""
from __future__ import annotations

import os
import pty
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.pipeline_run import REPO, free_port, ndjson, normalize_cmd, run_normalize, snapshot
from tests.pipeline_samples import minidump_variant


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    folder.mkdir()
    for i in range(12):
        (folder / f"c{i}.dmp").write_bytes(minidump_variant(i))
    return folder


def test_all_read_exits_0_and_a_rerun_does_nothing(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = run_normalize([good], out)
    assert first.returncode == 0, first.stderr
    assert "12 dumps read, 0 unreadable" in first.stdout and first.stderr == ""
    second = run_normalize([good], out)
    assert second.returncode == 0 and "nothing new to do" in second.stdout


def test_an_unreadable_file_exits_1(good: Path, tmp_path: Path) -> None:
    (good / "junk.bin").write_bytes(b"\x00junk")
    result = run_normalize([good], tmp_path / "out", "-q")
    assert result.returncode == 1 and result.stdout == "" and result.stderr == ""


@pytest.mark.parametrize("args, message", [
    (["--shrink", "--shrink-max-size", "1K"], "--shrink-max-size must be at least 4K"),
    (["--max-member-size", "lots"], "not a size"),
    (["--workers", "0"], "must be at least 1"),
])
def test_usage_errors_exit_2(args: list[str], message: str, good: Path, tmp_path: Path) -> None:
    result = run_normalize([good], tmp_path / "out", *args)
    assert result.returncode == 2 and message in result.stderr


def test_missing_input_and_unwritable_output_exit_2(good: Path, tmp_path: Path) -> None:
    result = run_normalize([tmp_path / "nope.tar.gz"], tmp_path / "out")
    assert result.returncode == 2 and "no such file or directory" in result.stderr
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = run_normalize([good], blocker / "out")
    assert result.returncode == 2 and "cannot create the output folder" in result.stderr


def test_progress_line_on_a_terminal(good: Path, tmp_path: Path) -> None:
    leader, follower = pty.openpty()
    proc = subprocess.Popen(normalize_cmd([good], tmp_path / "out"), cwd=REPO, stdout=subprocess.PIPE,
                            stderr=follower, text=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            data = os.read(leader, 4096)
        except OSError:  # EIO: the other side is closed
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(leader)
    screen = b"".join(chunks).decode("utf-8", "replace")
    assert proc.returncode == 0
    assert "documents" in screen and "12/12" in screen and "docs/s" in screen
    assert "INFO" not in screen and "luigi" not in screen.lower()


def test_luigi_command_line_makes_the_same_batch(good: Path, tmp_path: Path) -> None:
    (good / "junk.bin").write_bytes(b"\x00junk")
    luigi_bin = Path(sys.executable).with_name("luigi")
    out = tmp_path / "via-luigi"
    done = subprocess.run([str(luigi_bin), "--module", "dumpkit.pipeline.batch.tasks", "NormalizeArchive",
                           "--inputs", f'["{good}"]', "--out", str(out), "--local-scheduler",
                           "--workers", "2"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr  # luigi exits 0 either way; the report tells
    assert "NormalizeArchive" in done.stderr
    mine = tmp_path / "via-dumpkit"
    assert run_normalize([good], mine).returncode == 1
    assert snapshot(out, batch=False) == snapshot(mine, batch=False)  # dumpkit adds a fingerprint


def test_inputs_changed_since_make_a_new_batch(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert run_normalize([good], out).returncode == 0
    (good / "c12.dmp").write_bytes(minidump_variant(12))
    (good / "c0.dmp").unlink()
    again = run_normalize([good], out)
    assert again.returncode == 0 and "12 dumps read" in again.stdout and ", 1 new documents" in again.stdout
    fresh = tmp_path / "fresh"
    assert run_normalize([good], fresh).returncode == 0
    assert snapshot(out) == snapshot(fresh)  # the document of c0.dmp is gone


def test_odd_names_and_an_output_folder_inside_the_input(good: Path) -> None:
    with open(os.fsencode(good) + b"/caf\xe9.dmp", "wb") as fh:  # not UTF-8
        fh.write(minidump_variant(40))
    out = good / "out"
    first = run_normalize([good], out)
    assert first.returncode == 0, first.stderr
    assert "13 dumps read" in first.stdout
    assert any(d["source"]["path"].endswith("caf\ufffd.dmp") for d in ndjson(out))
    again = run_normalize([good], out)  # the output folder changed, the inputs did not
    assert again.returncode == 0 and "13 dumps read" in again.stdout and "nothing new" in again.stdout


def test_a_failing_task_exits_2_and_names_it(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "docs").write_text("a file where the documents folder should be")
    result = run_normalize([good], out)
    assert result.returncode == 2
    assert "the batch did not complete" in result.stderr and "NormalizeChunk" in result.stderr
    assert str(out / "work" / "luigi.log") in result.stderr
    assert "Traceback" not in result.stderr


def _luigi_batch(inputs: Path, out: Path, made_by: str) -> None:
    luigi_bin = Path(sys.executable).with_name("luigi")
    done = subprocess.run([str(luigi_bin), "--module", "dumpkit.pipeline.batch.tasks", "NormalizeArchive",
                           "--inputs", f'["{inputs}"]', "--out", str(out), "--local-scheduler",
                           "--made-by", made_by], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


def test_documents_are_remade_when_what_makes_them_changes(good: Path, tmp_path: Path) -> None:
    """Another document fingerprint (code, schemas, options) remakes every document over the
    same manifest: the inputs are not walked or hashed again; the same fingerprint remakes none."""
    out = tmp_path / "out"
    _luigi_batch(good, out, "a" * 16)
    manifest = next((out / "work" / "batches").glob("*/manifest/manifest.json"))
    docs = sorted((out / "docs").glob("*.json"))
    assert len(docs) == 12
    stamps = {p: p.stat().st_mtime_ns for p in [manifest, *docs]}
    _luigi_batch(good, out, "a" * 16)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing made again
    _luigi_batch(good, out, "b" * 16)
    assert manifest.stat().st_mtime_ns == stamps[manifest]  # same manifest: no rediscovery
    assert all(p.stat().st_mtime_ns != stamps[p] for p in docs)  # every document made again
    assert [p.name for p in (out / "work" / "made").iterdir()] == ["b" * 16]  # old markers pruned
    assert len(list((out / "work" / "made" / ("b" * 16)).iterdir())) == 12


def test_no_scheduler_at_the_given_host_is_a_prompt_usage_error(good: Path, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    started = time.monotonic()
    result = run_normalize([good], tmp_path / "out", "--scheduler-host", "127.0.0.1",
                           "--scheduler-port", str(port), timeout=60)
    assert result.returncode == 2, result.stderr
    assert time.monotonic() - started < 30
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and f"http://127.0.0.1:{port}/" in lines[0] and "Traceback" not in result.stderr
