"""Two workers share one real ``luigid`` and one output folder: each dump is processed once,
the outputs are complete and the same as a local run's."""
from __future__ import annotations

import io
import json
import shutil
import signal
import subprocess
import sys
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.pipeline_run import free_port, run_normalize, snapshot, start_normalize, wait_for_port
from tests.pipeline_samples import minidump_variant

pytestmark = pytest.mark.slow


@pytest.fixture()
def luigid(tmp_path: Path) -> Iterator[int]:
    """A central scheduler on 127.0.0.1 (random free port), its state and log in tmp_path."""
    luigid_bin = Path(sys.executable).with_name("luigid")
    if not luigid_bin.exists():
        found = shutil.which("luigid")
        if found is None:
            pytest.skip("luigid is not installed (it comes with the luigi package)")
        luigid_bin = Path(found)
    port = free_port()
    state = tmp_path / "luigid"
    state.mkdir()
    proc = subprocess.Popen([str(luigid_bin), "--address", "127.0.0.1", "--port", str(port),
                             "--state-path", str(state / "state.pickle"), "--logdir", str(state)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for_port(port)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_two_workers_share_one_luigid(luigid: int, tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(360):  # enough work that the second worker, starting later, finds some left
        (archive / f"c{i:03d}.dmp").write_bytes(minidump_variant(i))
    with tarfile.open(archive / "more.tar.gz", "w:gz") as tf:
        for i in range(350, 400):  # 10 duplicates of plain files
            data = minidump_variant(i)
            info = tarfile.TarInfo(f"more/c{i:03d}.dmp")
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
    (archive / "notes.txt").write_text("no dump here\n")
    out = tmp_path / "out"
    args = ("--scheduler-host", "127.0.0.1", "--scheduler-port", str(luigid), "--chunk-size", "2")
    workers = [start_normalize([archive], out, *args) for _ in range(2)]
    results = [w.communicate(timeout=300) for w in workers]
    for worker, (_, stderr) in zip(workers, results, strict=True):
        assert worker.returncode == 1, stderr  # notes.txt is unreadable: same status for both

    markers = [json.loads(p.read_text()) for p in (out / "work" / "batches").glob("*/runs/*/done/*.json")]
    processed = Counter(key for m in markers for key in m["processed"])
    assert processed and max(processed.values()) == 1, "a dump was processed twice"
    documents = {p.name[:-5] for f in ("docs", "errors") for p in (out / f).glob("*.json")}
    assert set(processed) == documents and len(documents) == 401
    by_worker = Counter(m["worker"] for m in markers)
    assert len(by_worker) == 2, f"one worker did everything: {by_worker}"
    assert sum(by_worker.values()) == len(markers) == 201

    local = tmp_path / "local"
    assert run_normalize([archive], local, "--chunk-size", "2").returncode == 1
    assert snapshot(out) == snapshot(local)
