"""Outside oracles for the unwinder: rust-minidump's ``minidump-stackwalk`` and ``dump_syms``.

Both are pinned (0.25.0 and 2.3.5) and installed by ``make oracles`` (``tools/fetch-stackwalk``)
into ``tests/.cache/bin``; ``DUMPKIT_STACKWALK`` / ``DUMPKIT_DUMP_SYMS`` may point elsewhere.
Tests skip with that instruction when they are absent.

How frames are compared (:func:`compare_frames`): rust-minidump's frames found from the
context, CFI or frame pointers, up to its first scanned frame, must match ours exactly
(module and module offset, index by index). From the first scanned frame on both sides
guess, so those frames only count towards an agreement rate, and a disagreement where
rust-minidump's candidate has captured code bytes without a call instruction before it is
counted as established to be rust-minidump's false positive (it does not check).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from dumpkit.model import Dump, Frame
from dumpkit.unwind.callsite import follows_call
from tests.conftest import REPO

__all__ = ["Agreement", "compare_frames", "dump_syms", "stackwalk", "stackwalk_json", "tool"]

_BIN = REPO / "tests" / ".cache" / "bin"
_MISSING = "{name} not found: run `make oracles` (tools/fetch-stackwalk) or set {env}"


def tool(name: str, env: str) -> Path | None:
    found = os.environ.get(env) or (str(_BIN / name) if (_BIN / name).exists() else shutil.which(name))
    return Path(found) if found else None


def stackwalk() -> Path:
    path = tool("minidump-stackwalk", "DUMPKIT_STACKWALK")
    if path is None:
        pytest.skip(_MISSING.format(name="minidump-stackwalk", env="DUMPKIT_STACKWALK"))
    return path


def dump_syms() -> Path:
    path = tool("dump_syms", "DUMPKIT_DUMP_SYMS")
    if path is None:
        pytest.skip(_MISSING.format(name="dump_syms", env="DUMPKIT_DUMP_SYMS"))
    return path


def stackwalk_json(dump: Path, symbols: Path | None = None) -> dict[str, Any] | None:
    """rust-minidump's JSON for ``dump`` (``None`` when it cannot read the file)."""
    cmd = [str(stackwalk()), "--json"]
    if symbols is not None:
        cmd += ["--symbols-path", str(symbols)]
    proc = subprocess.run([*cmd, str(dump)], capture_output=True, timeout=120, check=False)
    if proc.returncode != 0:
        return None
    doc: dict[str, Any] = json.loads(proc.stdout)
    return doc


@dataclass
class Agreement:
    trusted: int = 0  # rust frames before its first scan frame
    trusted_same: int = 0
    guessed: int = 0  # rust frames from its first scan frame on
    guessed_same: int = 0
    rust_false_positive: int = 0  # guessed frames established as rust-minidump's error
    mismatches: list[str] = field(default_factory=list)

    def add(self, other: Agreement) -> None:
        self.trusted += other.trusted
        self.trusted_same += other.trusted_same
        self.guessed += other.guessed
        self.guessed_same += other.guessed_same
        self.rust_false_positive += other.rust_false_positive
        self.mismatches += other.mismatches


def _same(ours: Frame | None, theirs: dict[str, Any]) -> bool:
    offset = int(theirs["module_offset"], 16) if theirs.get("module_offset") else None
    if ours is None:
        return False
    if theirs.get("module") is None:
        return ours.module is None and ours.pc == int(theirs["offset"], 16)
    return ours.module == theirs.get("module") and ours.module_offset == offset


def _key(frame: dict[str, Any]) -> tuple[str | None, int]:
    if frame.get("module_offset"):
        return frame.get("module"), int(frame["module_offset"], 16)
    return None, int(frame["offset"], 16)


def _our_key(frame: Frame) -> tuple[str | None, int]:
    if frame.module is not None and frame.module_offset is not None:
        return frame.module, frame.module_offset
    return None, frame.pc


def _common(ours: list[tuple[str | None, int]], theirs: list[tuple[str | None, int]]) -> set[int]:
    """Indices into ``theirs`` of a longest common subsequence with ``ours``."""
    n, m = len(ours), len(theirs)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if ours[i] == theirs[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    picked, i, j = set(), 0, 0
    while i < n and j < m:
        if ours[i] == theirs[j]:
            picked.add(j)
            i, j = i + 1, j + 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return picked


def compare_frames(dump: Dump, ours: list[Frame], theirs: list[dict[str, Any]], *,
                   check_functions: bool = False) -> Agreement:
    """Trusted prefix index by index; the rest as a longest common subsequence."""
    result = Agreement()
    split = len(theirs)
    for index, frame in enumerate(theirs):
        mine = ours[index] if index < len(ours) else None
        if frame.get("trust") == "scan":
            split = index
            break
        same = _same(mine, frame)
        if same and check_functions and frame.get("function"):
            same = mine is not None and mine.function == frame["function"]
        result.trusted += 1
        result.trusted_same += same
        if not same:
            got = mine and (mine.trust, mine.module, hex(mine.module_offset or 0), mine.function)
            result.mismatches.append(f"frame {index}: rust {frame.get('trust')} {frame.get('module')}"
                                     f"+{frame.get('module_offset')} {frame.get('function')}; ours {got}")
            split = index + 1  # later frames hang on this one: only rates from here on
            break
    rest = theirs[split:]
    common = _common([_our_key(f) for f in ours[split:]], [_key(f) for f in rest])
    result.guessed, result.guessed_same = len(rest), len(common)
    for j, frame in enumerate(rest):
        if j in common or frame.get("trust") != "scan":
            continue
        # rust-minidump accepts any in-module word; we require a call instruction before it.
        lookup = int(frame["offset"], 16)
        adjust = 4 if dump.system.cpu_arch == "arm64" else 1
        if follows_call(dump.memory, dump.system.cpu_arch, lookup + adjust) is False:
            result.rust_false_positive += 1
    return result
