"""The committed parsers in dumpkit/formats/ are exactly what the pinned compiler makes of ksy/."""
from __future__ import annotations

import filecmp
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COMPILE = ROOT / "tools" / "compile-ksy"


def _have_node() -> bool:
    return shutil.which("node") is not None and shutil.which("npm") is not None


def test_every_spec_has_a_committed_parser() -> None:
    specs = sorted(ROOT.glob("ksy/*.ksy"))
    assert specs, "no .ksy specs found"
    generated = {p.name for p in (ROOT / "dumpkit" / "formats").glob("*.py")}
    for spec in specs:
        # meta/id names the output module; our convention is id == file stem
        assert f"{spec.stem}.py" in generated, f"{spec.name} has no generated parser"


@pytest.mark.skipif(not _have_node(), reason="node/npm not installed (make test installs them)")
def test_generated_parsers_match_ksy(tmp_path: Path) -> None:
    out = tmp_path / "formats"
    proc = subprocess.run([sys.executable, str(COMPILE), "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    committed = ROOT / "dumpkit" / "formats"
    fresh = sorted(p.name for p in out.glob("*.py"))
    have = sorted(p.name for p in committed.glob("*.py"))
    assert fresh == have, f"generated files differ: fresh={fresh} committed={have}"
    _, mismatch, errors = filecmp.cmpfiles(out, committed, fresh, shallow=False)
    assert not mismatch and not errors, (
        f"dumpkit/formats is stale for {mismatch + errors}: run tools/compile-ksy and commit")


def test_generated_parsers_carry_do_not_edit_header() -> None:
    for path in (ROOT / "dumpkit" / "formats").glob("*.py"):
        if path.name == "__init__.py":
            continue
        assert "Do not edit" in path.read_text().splitlines()[1], path
