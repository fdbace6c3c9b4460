"""The fuzz targets' findings stay fixed, and each target runs clean for a short while.

* Every input under ``tests/fuzz/regressions/<family>/`` (kept by ``make fuzz``, or by hand) is
  replayed through :func:`tests.fuzz.check.check_file`: a valid document or a clean error
  document, never ``internal_error``, never an exception, within the fuzzer's time limit.
* Each family's atheris target runs for a fixed number of inputs from its seeds (skipped, with
  the reason, when atheris is not installed: it ships wheels for x86-64 Linux only).
"""
from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import SUMMARIES
from tests.fuzz.check import check_file
from tests.fuzz.families import FAMILIES, REGRESSIONS
from tests.fuzz.run import TIMEOUT_SECONDS, fuzz_family

#: Inputs per family in the short run (the seeds count too: libFuzzer runs each once first).
SHORT_RUNS = 400

#: Regression inputs whose defect is known and fixed elsewhere: ``family/name`` -> reason.
#: strict: once the fix is merged the test XPASSes, fails, and the entry must go.
KNOWN: dict[str, str] = {}  # regression inputs whose fix has not landed yet: key -> why


def _regression_inputs() -> list[Any]:
    cases = []
    for family in FAMILIES.values():
        for path in sorted(family.regressions.glob("*")):
            if not path.is_file() or path.name.startswith(".") or path.suffix == ".md":
                continue
            key = f"{family.name}/{path.name}"
            marks = [pytest.mark.xfail(strict=True, reason=KNOWN[key])] if key in KNOWN else []
            cases.append(pytest.param(family.name, path, id=key, marks=marks))
    return cases


class _Hang(BaseException):
    """Raised by the alarm (a BaseException, so no reader's ``except Exception`` swallows it)."""


@contextmanager
def _time_limit(seconds: int) -> Iterator[None]:
    def on_alarm(signum: int, frame: Any) -> None:
        raise _Hang(f"still running after {seconds} s")

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


def test_regression_folders_exist() -> None:
    """Each family has its folder (``make fuzz`` writes findings there) and nothing else is there."""
    assert sorted(p.name for p in REGRESSIONS.iterdir() if p.is_dir()) == sorted(FAMILIES)
    for path in REGRESSIONS.glob("*/*"):
        assert path.is_file(), f"{path}: regression inputs are files"
    assert set(KNOWN) <= {f"{p.parent.name}/{p.name}" for p in REGRESSIONS.glob("*/*")}, "stale KNOWN entry"


@pytest.mark.parametrize(("family", "path"), _regression_inputs())
def test_regression_input_gives_a_clean_document(family: str, path: Path) -> None:
    try:
        with _time_limit(TIMEOUT_SECONDS):
            outcome = check_file(path, FAMILIES[family])
    except _Hang as exc:
        pytest.fail(f"{path.name}: {exc}")
    assert outcome != "other_format", f"{path.name} is not a {family} input: keep it under its family"


@pytest.mark.slow
@pytest.mark.parametrize("family", list(FAMILIES))
def test_short_fuzz_run(family: str, tmp_path: Path) -> None:
    try:
        import atheris  # noqa: F401
    except ImportError as exc:
        pytest.skip(f"atheris is not installed ({exc}); it has wheels for x86-64 Linux, "
                    "CPython 3.11-3.13: pip install atheris")
    result = fuzz_family(FAMILIES[family], out=tmp_path / "work", artifacts=tmp_path / "findings",
                         runs=SHORT_RUNS, max_findings=1)
    SUMMARIES.append(f"short fuzz run, {result.line()}")
    assert result.executions >= SHORT_RUNS * 0.9, result.line()
    kept = ", ".join(str(p) for p in result.findings)
    assert not result.findings, (f"{result.line()}\nkeep the input as tests/fuzz/regressions/{family}/<name> "
                                 f"and fix the reader: {kept}\nlog: {result.logs[-1]}")


def test_check_calls_internal_errors_and_invalid_documents_findings(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness itself: what it must not let through (a reader bug made to order)."""
    import tests.fuzz.check as check
    from dumpkit.errors import DumpParseError
    from tests.test_minidump_builder import windows_amd64

    path = windows_amd64().write(tmp_path / "w.dmp")
    family = FAMILIES["minidump"]
    assert check_file(path, family) == "document"
    assert check.check_input(b"MDMP" + bytes(8), family, tmp_path / "scratch").startswith("error:")
    assert check.check_input(b"\x7fELF" + bytes(60), family, tmp_path / "scratch") == "other_format"

    def internal(dump: Any) -> dict[str, Any]:
        raise DumpParseError("reader bug", code="internal_error")

    monkeypatch.setattr(check, "normalize", internal)
    with pytest.raises(check.Finding, match="internal_error"):
        check_file(path, family)
    monkeypatch.setattr(check, "normalize", lambda dump: {"kind": "dump", "schema_version": 2})
    with pytest.raises(check.Finding, match="fails its schema"):
        check_file(path, family)
