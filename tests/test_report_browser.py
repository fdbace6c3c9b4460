"""``report.html`` in a real headless Chromium: the summary is there without script, the filter
box narrows the signatures, a signature opens its drill-down with its dumps (links to their
documents) and frames; hostile names stay text. Run on the corpus batch, on a batch of files
with hostile names, and on a 100,000-document synthetic batch (timed; see
``tests/synthetic_batch.py`` for how it is made). On failure a screenshot is kept (path printed).
"""
from __future__ import annotations

import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.builders.minidump import MinidumpBuilder, rsds
from tests.conftest import CORPUS_MISSING, SUMMARIES, corpus_root
from tests.pipeline_run import run_normalize
from tests.pipeline_samples import minidump_variant
from tests.report_browser import browser, screenshot_on_failure
from tests.synthetic_batch import HOSTILE, make_synthetic, publish_synthetic

pytestmark = pytest.mark.slow


def _by(name: str) -> Any:
    from selenium.webdriver.common.by import By

    return getattr(By, name)


def _open(driver: Any, out: Path) -> float:
    """Load the page from file://; seconds until it is loaded."""
    started = time.monotonic()
    driver.get((out / "report.html").as_uri())
    driver.find_element(_by("TAG_NAME"), "h1")
    return time.monotonic() - started


def _shown(driver: Any) -> list[str]:
    """Ids of the signatures the page shows (laid out: not hidden by the filter)."""
    ids: list[str] = driver.execute_script(
        "return Array.from(document.querySelectorAll('details.sig'))"
        ".filter(function(d){return d.offsetParent!==null;}).map(function(d){return d.id;});")
    return ids


def _drill_down(driver: Any, out: Path, report: dict[str, Any], rank: int, *,
                documents_exist: bool = True) -> None:
    """Filter for the signature at ``rank`` (1-based), open it, find its dumps and frames."""
    top = report["dumps"]["top_signatures"]
    sig = top[rank - 1]
    details = driver.find_elements(_by("CSS_SELECTOR"), "details.sig")
    assert len(details) == len(top)
    assert not any(d.get_attribute("open") for d in details)  # closed until asked
    box = driver.find_element(_by("ID"), "filter")
    assert box.is_displayed()  # the script showed it
    box.send_keys(sig["signature"])
    shown = _shown(driver)
    assert 1 <= len(shown) <= len(details)
    if len(top) > 1 and all(sig["signature"] not in other["signature"] for other in top if other is not sig):
        assert len(shown) < len(details), "the filter hid nothing"
    assert f"sig-{rank}" in shown
    target = driver.find_element(_by("ID"), f"sig-{rank}")
    assert target.find_element(_by("CSS_SELECTOR"), "code.signame").text == sig["signature"]
    target.find_element(_by("TAG_NAME"), "summary").click()
    assert target.get_attribute("open") is not None
    links = target.find_elements(_by("CSS_SELECTOR"), "a.doc")
    assert all(link.is_displayed() for link in links)
    hrefs = [link.get_attribute("href") for link in links]
    expected = [(out / d["document"]).as_uri() for d in sig["dumps"]]
    assert hrefs == expected and len(hrefs) == min(sig["count"], report["listed"]["dumps_per_signature"])
    if documents_exist:
        for d in sig["dumps"]:
            doc = json.loads((out / d["document"]).read_text(encoding="utf-8"))
            assert doc["crash"]["signature"] == sig["signature"]
    text = target.text
    for d in sig["dumps"][:3]:
        assert d["path"] in text.replace("\n", "")
    for frame in sig["frames"][:3]:
        assert (frame["function"] or frame["offset"]) in text
    target.find_element(_by("TAG_NAME"), "summary").click()  # closed again
    box.clear()
    box.send_keys(" ")  # an input event: whitespace matches everything
    assert len(_shown(driver)) == len(details)
    box.clear()


@pytest.fixture(scope="module")
def driver() -> Any:
    with browser() as drv:
        yield drv


def test_corpus_report_in_a_browser(driver: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    root = corpus_root()
    if root is None:
        pytest.skip(CORPUS_MISSING)
    out = tmp_path_factory.mktemp("corpus") / "out"
    result = run_normalize([root], out, "--workers", "2", timeout=900)
    assert result.returncode in (0, 1), result.stderr
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["dumps"]["top_signatures"], "the corpus has crash signatures"
    with screenshot_on_failure(driver, tmp_path_factory.getbasetemp() / "artifacts" / "corpus-report.png"):
        _open(driver, out)
        summary = driver.find_element(_by("TAG_NAME"), "body").text
        assert f"{report['totals']['dumps']:,}" in summary and "Top crash signatures" in summary
        _drill_down(driver, out, report, 1)
        _drill_down(driver, out, report, min(3, len(report["dumps"]["top_signatures"])))


def _hostile_dump(name: str) -> bytes:
    b = MinidumpBuilder(arch="amd64", os="windows", timestamp=0x60000000)
    b.system_info(major=10, minor=0, build=19041, csd="", cpu_count=8)
    b.module(0x140000000, 0x20000, rf"C:\{name}\{name}.exe",
             cv=rsds(uuid.UUID(int=7), 1, "x.pdb"), version=(1, 0, 0, 0))
    b.thread(0x100, regs={"rip": 0x140001010, "rsp": 0x10000800}, stack=(0x10000000, b"\0" * 0x400))
    b.exception(0x100, 0xC0000005, 0x140001010, [1, 0x10])
    return b.build()


def test_hostile_names_stay_text(driver: Any, tmp_path: Path) -> None:
    """File names and module names made of markup, quotes and non-UTF-8 bytes: shown as
    text, nothing run, nothing injected."""
    inputs = tmp_path / "in"
    inputs.mkdir()
    names = ['<img src=x onerror="document.title=1">', "<script>document.title=2</script>",
             "a'b\"c&amp;"]
    files = [f"{name.replace('/', '_')}.dmp" for name in names]  # "/" cannot be in a file name
    for i, (name, file) in enumerate(zip(names, files, strict=True)):
        (inputs / file).write_bytes(_hostile_dump(name))
        (inputs / f"plain{i}.dmp").write_bytes(minidump_variant(i))
    os.close(os.open(os.path.join(os.fsencode(inputs), b"caf\xe9-<ins>.dmp"), os.O_CREAT | os.O_WRONLY))
    out = tmp_path / "out"
    result = run_normalize([inputs], out)
    assert result.returncode == 1, result.stderr  # the empty file is unreadable
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    with screenshot_on_failure(driver, tmp_path / "hostile-report.png"):
        _open(driver, out)
        title = driver.title
        assert title.startswith("dumpkit report"), f"a hostile name ran script: title {title!r}"
        assert driver.find_elements(_by("TAG_NAME"), "img") == []
        assert len(driver.find_elements(_by("TAG_NAME"), "script")) == 1  # ours
        assert driver.find_elements(_by("TAG_NAME"), "ins") == []
        for d in driver.find_elements(_by("CSS_SELECTOR"), "details.sig"):
            d.find_element(_by("TAG_NAME"), "summary").click()
        text = driver.find_element(_by("TAG_NAME"), "body").text.replace("\n", "")
        for file in files:
            assert file in text
        assert "caf\ufffd-<ins>.dmp" in text
        hostile = [i for i, s in enumerate(report["dumps"]["top_signatures"], 1) if "<" in s["signature"]]
        assert hostile, [s["signature"] for s in report["dumps"]["top_signatures"]]
        for d in driver.find_elements(_by("CSS_SELECTOR"), "details.sig[open] > summary"):
            d.click()  # close them again
        _drill_down(driver, out, report, hostile[0])


def test_synthetic_100k_report_in_a_browser(driver: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    n = int(os.environ.get("DUMPKIT_SYNTHETIC_DOCS", "100000"))
    out = tmp_path_factory.mktemp("synthetic") / "out"
    started = time.monotonic()
    layout = make_synthetic(out, n)
    made = time.monotonic() - started
    started = time.monotonic()
    report = publish_synthetic(layout)
    published = time.monotonic() - started
    assert report["totals"]["documents"] == n
    assert report["tables"]["rows"]["dumps"] == n
    with open(out / "dumps.ndjson", "rb") as fh:
        assert sum(1 for _ in fh) == n
    with screenshot_on_failure(driver, tmp_path_factory.getbasetemp() / "artifacts" / "synthetic-report.png"):
        load_s = _open(driver, out)
        body = driver.find_element(_by("TAG_NAME"), "body").text
        top = report["dumps"]["top_signatures"]
        assert f"the top {len(top)} of {report['dumps']['signatures']:,}" in body
        started = time.monotonic()
        _drill_down(driver, out, report, 1, documents_exist=False)
        _drill_down(driver, out, report, 42, documents_exist=False)
        hostile = [i for i, s in enumerate(top, 1) if HOSTILE[0] in s["signature"]]
        assert hostile, "the synthetic batch holds hostile signatures among the top ones"
        _drill_down(driver, out, report, hostile[0], documents_exist=False)
        assert driver.title.startswith("dumpkit report")
        drill_s = time.monotonic() - started
    size = (out / "report.html").stat().st_size
    SUMMARIES.append(f"report.html of {n:,} synthetic documents ({size / 1e6:.1f} MB): made in {made:.1f} s, "
                     f"published in {published:.1f} s, loaded in Chromium in {load_s:.2f} s, "
                     f"three filter+drill-downs in {drill_s:.2f} s")


def test_the_page_without_script(tmp_path: Path) -> None:
    """JavaScript off: the summary and the signatures are there, a signature still opens its
    drill-down (``<details>``), and the filter box (which needs script) is not shown."""
    layout = make_synthetic(tmp_path / "out", 600)
    report = publish_synthetic(layout)
    out = tmp_path / "out"
    with browser(script=False) as plain, screenshot_on_failure(plain, tmp_path / "no-script.png"):
        _open(plain, out)
        body = plain.find_element(_by("TAG_NAME"), "body").text
        assert "Top crash signatures" in body and f"{report['totals']['dumps']:,}" in body
        assert not plain.find_element(_by("ID"), "filter").is_displayed()
        sig = report["dumps"]["top_signatures"][0]
        target = plain.find_element(_by("ID"), "sig-1")
        assert target.find_element(_by("CSS_SELECTOR"), "code.signame").text == sig["signature"]
        target.find_element(_by("TAG_NAME"), "summary").click()
        links = [a.get_attribute("href") for a in target.find_elements(_by("CSS_SELECTOR"), "a.doc")]
        assert links == [(out / d["document"]).as_uri() for d in sig["dumps"]]
