"""``dumpkit inspect --text`` and the symbol options (``--symbols``, ``--symbol-server``, ``--debuginfod``,
``--symbol-cache``, ``--offline``, ``--sysroot``): the unwinder's CLI surface."""
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


def test_symbol_options_make_one_config(tmp_path: Path) -> None:
    from dumpkit.pipeline.cli import build_parser
    from dumpkit.pipeline.cli_options import symbol_config

    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    args = build_parser().parse_args(
        ["inspect", "--symbols", str(tmp_path / "a"), "--symbols", str(tmp_path / "b"),
         "--symbol-server", "https://one.example/sym", "--symbol-server", "http://two.example/",
         "--debuginfod", "https://debuginfod.example", "--symbol-cache", str(tmp_path / "cache"),
         "--offline", "--sysroot", str(tmp_path), "--symbol-timeout", "2.5",
         "--symbol-max-download", "1.5G", "x.dmp"])
    config = symbol_config(args)
    assert (config.timeout, config.max_download) == (2.5, 3 << 29)
    defaults = symbol_config(build_parser().parse_args(["inspect", "x.dmp"]))
    assert (defaults.timeout, defaults.max_download) == (10.0, 512 << 20)
    assert config.dirs == (str(tmp_path / "a"), str(tmp_path / "b"))
    assert config.servers == ("https://one.example/sym/", "http://two.example/")
    assert config.debuginfod == ("https://debuginfod.example/",)
    assert config.cache_dir == str(tmp_path / "cache")
    assert (config.offline, config.sysroot) == (True, str(tmp_path))


def test_debuginfod_defaults_to_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    from dumpkit.pipeline.cli import build_parser
    from dumpkit.pipeline.cli_options import symbol_config

    monkeypatch.setenv("DEBUGINFOD_URLS", "https://a.example https://b.example/x")
    config = symbol_config(build_parser().parse_args(["inspect", "x.dmp"]))
    assert config.debuginfod == ("https://a.example/", "https://b.example/x/")
    monkeypatch.setenv("DEBUGINFOD_URLS", "")
    assert symbol_config(build_parser().parse_args(["inspect", "x.dmp"])).debuginfod == ()


@pytest.mark.parametrize("options", [["--symbol-server", "ftp://x.example/"], ["--debuginfod", "not a url"],
                                     ["--symbol-server", "https://x.example/?q=1"],
                                     ["--sysroot", "/nonexistent"], ["--symbols", "/nonexistent"],
                                     ["--symbol-timeout", "0"], ["--symbol-timeout", "nan"]])
def test_bad_symbol_option_is_a_one_line_usage_error(options: list[str], tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    dump = tmp_path / "x.dmp"
    dump.write_bytes(b"MDMP")
    assert main(["inspect", *options, str(dump)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
    assert captured.err.startswith("dumpkit inspect: ")
