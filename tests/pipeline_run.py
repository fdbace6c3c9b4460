"""Helpers for the end-to-end tests of ``dumpkit normalize``: run it in a subprocess (its own
process group, so a kill reaches every worker process), and read its outputs back in a form
two runs can be compared in (timings cut out)."""
from __future__ import annotations

import json
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

__all__ = ["documents", "free_port", "ndjson", "normalize_cmd", "run_normalize", "snapshot",
           "start_normalize", "wait_for_port"]

_TIMINGS = re.compile(r"<!--timings-->.*?<!--/timings-->", re.S)


def normalize_cmd(inputs: list[Path], out: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "dumpkit", "normalize", *map(str, inputs), "--out", str(out), *args]


def _limit_memory(limit: int | None) -> Callable[[], None] | None:
    if limit is None:
        return None

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    return apply


def start_normalize(inputs: list[Path], out: Path, *args: str, env: dict[str, str] | None = None,
                    cwd: Path | None = None, rlimit_as: int | None = None) -> subprocess.Popen[str]:
    full_env = {k: v for k, v in os.environ.items() if k != "DUMPKIT_KILL_AT"}
    full_env.update(env or {})
    return subprocess.Popen(normalize_cmd(inputs, out, *args), cwd=cwd or REPO, env=full_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_limit_memory(rlimit_as))


def run_normalize(inputs: list[Path], out: Path, *args: str, env: dict[str, str] | None = None,
                  cwd: Path | None = None, rlimit_as: int | None = None,
                  timeout: float = 300) -> subprocess.CompletedProcess[str]:
    proc = start_normalize(inputs, out, *args, env=env, cwd=cwd, rlimit_as=rlimit_as)
    try:
        stdout, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate()
        raise AssertionError(f"dumpkit normalize timed out:\n{stderr[-2000:]}") from None
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def documents(out: Path) -> tuple[set[str], set[str]]:
    """Keys of the dump documents and of the error documents."""
    def keys(folder: Path) -> set[str]:
        return {p.name[:-5] for p in folder.glob("*.json")} if folder.is_dir() else set()

    return keys(out / "docs"), keys(out / "errors")


def ndjson(out: Path) -> list[dict[str, Any]]:
    with open(out / "dumps.ndjson", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def snapshot(out: Path, *, batch: bool = True) -> dict[str, bytes]:
    """Every output file (documents, reduced minidumps, NDJSON, tables, report, page) with the timings
    cut out (and the batch id, with ``batch=False``)."""
    files: dict[str, bytes] = {}
    for folder in ("docs", "errors", "minidumps"):
        for path in sorted((out / folder).glob("*")):
            files[f"{folder}/{path.name}"] = path.read_bytes()
    files["dumps.ndjson"] = (out / "dumps.ndjson").read_bytes()
    for path in sorted((out / "tables").glob("*.parquet")):  # deterministic writes: same bytes
        files[f"tables/{path.name}"] = path.read_bytes()
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    report.pop("timings")
    html = _TIMINGS.sub("", (out / "report.html").read_text(encoding="utf-8"))
    if not batch:
        html = html.replace(report.pop("batch"), "")
    files["report.json"] = json.dumps(report, indent=1, sort_keys=True).encode()
    files["report.html"] = html.encode()
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise AssertionError(f"nothing listens on 127.0.0.1:{port} after {timeout} s")
