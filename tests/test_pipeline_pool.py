"""``dumpkit normalize --workers N`` makes the chunks in a pool of N processes that lives for the
whole batch (``pipeline/batch/pool.py``): one of them killed mid-batch (a crash in a native
library, the OOM killer) fails its chunk with a clear message in the log, never a hang; the
chunks left go to luigi's task processes, and the batch ends with the outputs of a run never
disturbed."""
from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.pipeline_run import run_normalize, snapshot, start_normalize
from tests.pipeline_samples import minidump_variant

pytestmark = pytest.mark.slow


def _pool_processes(out: Path) -> list[int]:
    """The pool's processes, as each names itself in the log once it is ready (they are
    children of the pool's fork server, not of the ``dumpkit`` process)."""
    try:
        log = (out / "work" / "luigi.log").read_text(encoding="utf-8")
    except OSError:
        return []
    return [int(pid) for pid in re.findall(r"pool process (\d+) warmed up", log)]


def _kill_mid_batch(tmp_path: Path, what: str, victim: Callable[[Path, int], int | None]
                    ) -> tuple[Path, Path, str, int]:
    """A 2-worker batch of 600 dumps in which ``victim(out, pid of dumpkit)`` (the process to
    kill, or None while there is none yet) is killed once 50 documents are made, and the same
    batch made by 1 worker: (its output, the reference, its stderr, its exit code). A hang
    would end at the timeout; the run must not end before the kill."""
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(600):
        (archive / f"c{i:03d}.dmp").write_bytes(minidump_variant(i))
    reference = tmp_path / "reference"
    assert run_normalize([archive], reference, "--workers", "1").returncode == 0
    out = tmp_path / "out"
    proc = start_normalize([archive], out, "--workers", "2")
    killed = None
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        made = len(os.listdir(out / "docs")) if (out / "docs").is_dir() else 0
        target = victim(out, proc.pid)
        if made >= 50 and target is not None:
            killed = target
            os.kill(target, signal.SIGKILL)
            break
        time.sleep(0.005)
    try:
        _, stderr = proc.communicate(timeout=180)  # a hang would end here
    except BaseException:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert killed is not None, f"the run ended before {what} could be killed: more dumps"
    assert "Traceback" not in stderr, stderr
    return out, reference, stderr, proc.returncode


def _one_of_two_pool_processes(out: Path, pid: int) -> int | None:
    """The first of the pool's processes once both are ready."""
    pool = _pool_processes(out)
    return pool[0] if len(pool) == 2 else None


def test_a_pool_process_killed_fails_its_chunk_and_the_batch_still_completes(tmp_path: Path) -> None:
    out, reference, stderr, returncode = _kill_mid_batch(tmp_path, "a pool process",
                                                         _one_of_two_pool_processes)
    log = (out / "work" / "luigi.log").read_text(encoding="utf-8")
    assert "a worker process of the pool died" in log
    assert returncode == 0, stderr  # the chunks left, that one too, made by luigi's processes
    assert snapshot(out) == snapshot(reference)
    assert os.listdir(out / "work" / "tmp") == []  # the killed process's temporary file is swept


def test_the_pool_makes_every_chunk_from_its_fork_server_and_publishes_what_one_worker_does(
        tmp_path: Path) -> None:
    archive = tmp_path / "archive"
    archive.mkdir()
    for i in range(120):
        (archive / f"c{i:03d}.dmp").write_bytes(minidump_variant(i))
    (archive / "notes.txt").write_text("not a dump\n")
    one, two = tmp_path / "one", tmp_path / "two"
    assert run_normalize([archive], one, "--workers", "1", "--chunk-size", "10").returncode == 1  # notes.txt
    result = run_normalize([archive], two, "--workers", "2", "--chunk-size", "10")
    assert result.returncode == 1, result.stderr
    assert result.stderr == ""
    log = (two / "work" / "luigi.log").read_text(encoding="utf-8")
    pool = set(_pool_processes(two))
    assert len(pool) == 2
    made_by = {int(pid) for pid in re.findall(r"chunk \d+: \d+ documents in .* pool process (\d+)", log)}
    assert len(re.findall(r"chunk \d+: \d+ documents in", log)) == 13  # 121 items by 10: every chunk
    assert made_by <= pool
    assert "fork server stopped" in log
    assert len(re.findall(r"side process (\d+) of the pool ready", log)) == 1  # it published
    assert "publishing the chunks as they end failed" not in log
    assert snapshot(two) == snapshot(one)


def _side_process(out: Path, pid: int) -> int | None:
    """The pool's side process (the publication), once it is ready."""
    try:
        log = (out / "work" / "luigi.log").read_text(encoding="utf-8")
    except OSError:
        return None
    found = re.findall(r"side process (\d+) of the pool ready", log)
    return int(found[0]) if found else None


def test_the_side_process_killed_mid_batch_leaves_the_publication_to_the_report(tmp_path: Path) -> None:
    out, reference, stderr, returncode = _kill_mid_batch(tmp_path, "the side process", _side_process)
    log = (out / "work" / "luigi.log").read_text(encoding="utf-8")
    assert "publishing the chunks as they end failed" in log
    assert returncode == 0, stderr  # the chunks were all made; BatchReport published from the start
    assert snapshot(out) == snapshot(reference)
    assert os.listdir(out / "work" / "tmp") == []


def _fork_server(pid: int) -> int | None:
    """The pool's fork server: the child of ``pid`` running multiprocessing's forkserver."""
    for task in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{task}/children", encoding="ascii") as fh:
                children = [int(p) for p in fh.read().split()]
        except OSError:
            continue
        for child in children:
            try:
                with open(f"/proc/{child}/cmdline", "rb") as fh:
                    if b"multiprocessing.forkserver" in fh.read():
                        return child
            except OSError:
                continue
    return None


def test_the_fork_server_killed_mid_batch_hands_the_chunks_left_to_luigi(tmp_path: Path) -> None:
    out, reference, stderr, returncode = _kill_mid_batch(tmp_path, "the fork server",
                                                         lambda out, pid: _fork_server(pid))
    assert "a worker process of the pool died" in (out / "work" / "luigi.log").read_text(encoding="utf-8")
    assert returncode == 0, stderr
    assert snapshot(out) == snapshot(reference)


def test_a_publication_that_fails_in_the_side_process_is_left_to_the_report(tmp_path: Path) -> None:
    """A step of the side process's publication that raises (here: the batch has no manifest)
    fails the ones after it, and the feed says to publish from the start; closing it then
    works, with nothing left behind."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from dumpkit.pipeline.batch.layout import Layout
    from dumpkit.pipeline.batch.pooled import SidePublication, _Feed

    layout = Layout(str(tmp_path))
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as side:
        feed = _Feed(lambda: SidePublication(side, layout, "batch", "run", 0), [])
        feed(0)  # starts the publication there and hands chunk 0 over: neither waits
        assert not feed.failed and feed.publication is not None and feed.publication.added == 1
        feed.sync()
        assert feed.failed
        feed.close()
        assert feed.publication is None
    assert not (tmp_path / "dumps.ndjson").exists()
