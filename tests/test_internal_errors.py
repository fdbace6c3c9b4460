"""A bug in dumpkit is an ``internal_error``, never a parse diagnostic, and fails the tests.

* :func:`dumpkit.readers.kaitai.guard` turns only what bad input can raise into a
  :class:`DumpParseError`; a TypeError / AttributeError / KeyError goes through.
* ``document_for`` turns such an exception into an error document with code
  ``internal_error`` and flags its log record; ``tests/conftest.py`` fails any test during
  which such a record is logged (unless it is marked ``internal_error_expected``).
"""
from __future__ import annotations

import logging
import struct
from pathlib import Path

import pytest

from dumpkit.errors import INTERNAL_ERROR, INTERNAL_ERROR_LOG_FLAG, DumpParseError
from dumpkit.pipeline.document.normalize import document_for
from dumpkit.readers import kaitai
from tests.builders.minidump import MinidumpBuilder

CONFTEST = Path(__file__).resolve().parent / "conftest.py"


@pytest.mark.parametrize("exc", [TypeError("bug"), AttributeError("bug"), KeyError("bug")])
def test_guard_lets_a_reader_bug_through(exc: Exception) -> None:
    with pytest.raises(type(exc)), kaitai.guard("f.dmp", "SomeStream", 0x40):
        raise exc


@pytest.mark.parametrize("exc", [EOFError("requested 8 bytes"), struct.error("unpack"), ValueError("bad"),
                                 UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid")])
def test_guard_names_the_structure_of_bad_input(exc: Exception) -> None:
    with pytest.raises(DumpParseError) as info, kaitai.guard("f.dmp", "SomeStream", 0x40):
        raise exc
    assert (info.value.path, info.value.structure, info.value.offset) == ("f.dmp", "SomeStream", 0x40)


@pytest.mark.internal_error_expected
def test_a_reader_bug_becomes_an_internal_error_document(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "x.dmp"
    MinidumpBuilder().write(path)
    from dumpkit.readers import windows_minidump

    def broken(self: object) -> None:
        raise AttributeError("'NoneType' object has no attribute 'x'")

    monkeypatch.setattr(windows_minidump._Reader, "read", broken)
    with caplog.at_level(logging.ERROR):
        doc = document_for(str(path))
    assert doc["kind"] == "error" and doc["error"]["code"] == INTERNAL_ERROR
    assert "AttributeError" in doc["error"]["message"]
    assert any(getattr(r, INTERNAL_ERROR_LOG_FLAG, False) for r in caplog.records)


def test_the_suite_fails_a_test_that_reports_an_internal_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(CONFTEST.read_text())
    pytester.makepyfile(f"""
        import logging
        import pytest

        def _report():
            logging.getLogger("x").error("x: bug", extra={{{INTERNAL_ERROR_LOG_FLAG!r}: True}})

        def test_unmarked():
            _report()

        @pytest.mark.internal_error_expected
        def test_marked():
            _report()

        def test_plain_error_log():
            logging.getLogger("x").error("not a bug of ours")
    """)
    # in a subprocess: the flagged record must not reach this test's own handler
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*1 internal_error(s) reported, first: x: bug*"])
    assert "test_unmarked" in result.stdout.str()
