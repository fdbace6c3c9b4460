"""Rules the model owns: which thread crashed, and how many diagnostics of one code are kept."""
from __future__ import annotations

from dumpkit.model import MAX_DIAGNOSTICS_PER_CODE, CrashInfo, Dump, SourceInfo, Thread


def _dump(crash: CrashInfo | None, *flags: bool) -> Dump:
    threads = [Thread(id=10 + i, crashed=flag) for i, flag in enumerate(flags)]
    return Dump(source=SourceInfo(path="x", size=0, format="elf_core"), crash=crash, threads=threads)


def test_the_crash_records_thread_comes_first() -> None:
    dump = _dump(CrashInfo(kind="signal", code=11, thread_id=12), True, False, False)
    assert dump.crashing_thread is dump.threads[2]


def test_a_marked_thread_when_the_crash_names_none_or_an_absent_one() -> None:
    assert _dump(CrashInfo(kind="signal", thread_id=None), False, True).crashing_thread is not None
    assert _dump(CrashInfo(kind="signal", thread_id=99), False, True).crashing_thread.id == 11  # type: ignore[union-attr]
    assert _dump(None, False, True).crashing_thread.id == 11  # type: ignore[union-attr]


def test_a_snapshot_names_no_thread_unless_one_is_marked() -> None:
    assert _dump(CrashInfo(kind="none", thread_id=10), False, False).crashing_thread is None
    assert _dump(CrashInfo(kind="signal"), False, False).crashing_thread is None


def test_diagnostics_are_capped_per_code_with_one_summary() -> None:
    dump = _dump(None)
    for i in range(MAX_DIAGNOSTICS_PER_CODE + 7):
        dump.diag("bad_stream", f"stream {i}", offset=i)
    dump.diag("other", "kept")
    bad = [d for d in dump.diagnostics if d.code == "bad_stream"]
    assert len(bad) == MAX_DIAGNOSTICS_PER_CODE + 1
    assert [d.offset for d in bad[:MAX_DIAGNOSTICS_PER_CODE]] == list(range(MAX_DIAGNOSTICS_PER_CODE))
    summary = bad[-1]
    assert (summary.severity, summary.message) == ("info", "7 more 'bad_stream' diagnostics not shown")
    assert [d.message for d in dump.diagnostics if d.code == "other"] == ["kept"]
