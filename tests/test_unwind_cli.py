"""``dumpkit inspect --text / --symbols / --sysroot`` (the unwinder's CLI surface)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from dumpkit.pipeline.cli import main
from tests.conftest import corpus_root


def _corpus_file(name: str) -> Path:
    root = corpus_root()
    if root is None:
        pytest.skip("shared corpus not found")
    return Path(root, "mdmp", name)


def test_text_view(capsys: pytest.CaptureFixture[str]) -> None:
    path = _corpus_file("breakpad_linux_divide_by_zero.dmp")
    assert main(["inspect", "--text", str(path)]) == 0
    out = capsys.readouterr().out
    assert "signature:" in out and "crashing thread" in out
    assert "driver + 0x1f27    (context" in out and "driver + 0x1fce    (frame_pointer" in out


def test_json_has_frames_and_symbols_option(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _corpus_file("breakpad_linux_divide_by_zero.dmp")
    assert main(["inspect", "--symbols", str(tmp_path), "--sysroot", str(tmp_path), str(path)]) == 0
    doc = json.loads(capsys.readouterr().out)
    frames = next(t for t in doc["threads"] if t["crashed"])["frames"]
    assert frames[0] == {**frames[0], "trust": "context", "module": "driver", "module_offset": "0x1f27"}


def test_missing_symbols_directory_is_a_usage_error(tmp_path: Path) -> None:
    assert main(["inspect", "--symbols", str(tmp_path / "nope"), str(tmp_path)]) == 2
