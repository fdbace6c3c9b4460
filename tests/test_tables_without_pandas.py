"""pyarrow asks, on its first array from Python values, whether pandas is installed, and
imports it if so; the batch answers "no" before (``tables._answer_pandas_probe``), so that no
batch process pays for pandas. What that must not change: the published bytes (tables
included) are those of a process where pandas was imported first, and pandas and pyarrow's
own conversions to it still work in that process afterwards."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.pipeline_run import REPO, snapshot
from tests.pipeline_samples import write_minidumps

pytest.importorskip("pandas", reason="pandas not installed (pip install -e .[test])")

pytestmark = pytest.mark.slow

#: ``dumpkit normalize`` in this process (one worker: every table is built here), then what
#: it says of pandas: loaded or not, and whether a table read back converts to a DataFrame
_RUN = """
import runpy, sys
mode, inputs, out = sys.argv[1:]
if mode == "pandas-first":
    import pandas
sys.argv = ["dumpkit", "normalize", inputs, "--out", out, "--workers", "1", "-q"]
try:
    runpy.run_module("dumpkit", run_name="__main__")
except SystemExit as exc:
    assert exc.code == 0, exc.code
print("pandas loaded:", "pandas" in sys.modules)
import pyarrow.parquet as pq
frame = pq.read_table(out + "/tables/dumps.parquet").to_pandas()
print("rows:", len(frame))
"""


def _normalize(mode: str, inputs: Path, out: Path) -> list[str]:
    done = subprocess.run([sys.executable, "-c", _RUN, mode, str(inputs), str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_tables_are_the_same_bytes_without_pandas_loaded(tmp_path: Path) -> None:
    inputs = tmp_path / "in"
    write_minidumps(inputs, 30)
    plain, first = tmp_path / "plain", tmp_path / "pandas-first"
    assert _normalize("plain", inputs, plain) == ["pandas loaded: False", "rows: 30"]
    assert _normalize("pandas-first", inputs, first) == ["pandas loaded: True", "rows: 30"]
    files = snapshot(plain)
    assert len([name for name in files if name.startswith("tables/")]) == 6
    assert files == snapshot(first)
