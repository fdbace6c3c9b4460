"""Cores the project makes itself: ``tests/fixtures/crasher.c`` built with gcc and cored by gdb.

Import the fixture into a test module (``from tests.elf_fixtures import crasher_cores``).
The session fixture compiles the crasher twice (``-g -O0`` with and without
``-fno-omit-frame-pointer``) and cores it once per way of dying (SIGSEGV, SIGABRT,
SIGFPE) with ``gdb -batch -ex run -ex "generate-core-file CORE" -ex kill``, under one
temporary directory per session. It skips (with the reason) only when gcc or gdb is
missing; the Makefile installs both.
"""
from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

__all__ = ["CRASHER_SOURCE", "HOW", "CrasherCore", "build_crasher", "crasher_cores", "make_core"]

CRASHER_SOURCE = Path(__file__).resolve().parent / "fixtures" / "crasher.c"
HOW = {"segv": 11, "abrt": 6, "fpe": 8}  # argv[1] -> the signal it dies of on Linux/x86-64


@dataclass(frozen=True)
class CrasherCore:
    exe: Path
    core: Path
    how: str
    frame_pointer: bool

    @property
    def signal(self) -> int:
        return HOW[self.how]


def tools_missing() -> str | None:
    """Why the self-made cores cannot be built here, or ``None``."""
    missing = [tool for tool in ("gcc", "gdb") if shutil.which(tool) is None]
    return f"{' and '.join(missing)} not installed (make test installs them)" if missing else None


def build_crasher(out: Path, *, frame_pointer: bool) -> Path:
    flags = ["-g", "-O0", "-pthread"] + (["-fno-omit-frame-pointer"] if frame_pointer else [])
    subprocess.run(["gcc", *flags, str(CRASHER_SOURCE), "-o", str(out)], check=True,
                   capture_output=True, timeout=120)
    return out


def make_core(exe: Path, core: Path, *args: str, timeout: float = 300) -> Path:
    """Run ``exe args`` under gdb until it stops on its signal and write the core to ``core``."""
    proc = subprocess.run(
        ["gdb", "-nx", "-batch", "-ex", "set pagination off", "-ex", "run",
         "-ex", f"generate-core-file {core}", "-ex", "kill", "--args", str(exe), *args],
        capture_output=True, text=True, timeout=timeout, check=False)
    if not core.is_file():  # e.g. ptrace not permitted: a failure, not a skip (CI must run these)
        raise RuntimeError(f"gdb wrote no core (exit {proc.returncode}):\n{proc.stdout[-1500:]}\n"
                           f"{proc.stderr[-1500:]}")
    return core


@pytest.fixture(scope="session")
def crasher_cores(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, bool], CrasherCore]:
    """(how, frame_pointer) -> the executable and its gdb core."""
    reason = tools_missing()
    if reason:
        pytest.skip(reason)
    root = tmp_path_factory.mktemp("elf_cores")
    out: dict[tuple[str, bool], CrasherCore] = {}
    for fp in (True, False):
        exe = build_crasher(root / f"crasher{'-fp' if fp else ''}", frame_pointer=fp)
        for how in HOW:
            core = make_core(exe, root / f"{exe.name}.{how}.core", how)
            out[(how, fp)] = CrasherCore(exe, core, how, fp)
    return out
