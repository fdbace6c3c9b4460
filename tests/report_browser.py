"""Drive ``report.html`` in a real headless Chromium (Debian's ``chromium`` and
``chromium-driver``, through Selenium): the page is opened from ``file://`` as a person would.

:func:`browser` starts one Chromium for a test module and always quits it; :func:`screenshot_on_failure`
keeps a PNG of the page when a check fails (its path is printed and put in the failure)."""
from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = ["browser", "screenshot_on_failure"]

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
#: flags that keep Chromium off the (closed) network and out of the user's profile
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1400,1000"]


@contextlib.contextmanager
def browser(*, script: bool = True) -> Iterator[Any]:
    """A Selenium driver of a headless Chromium with a new, empty profile (``script=False``:
    with JavaScript off); skips the test when Chromium, its driver or Selenium is missing
    (``make test`` installs them)."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if shutil.which(path) is None:
            pytest.skip(f"{path} not found: install Debian's chromium and chromium-driver (make deps)")
    webdriver = pytest.importorskip("selenium.webdriver",
                                    reason="selenium not installed (pip install -e .[test])")
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="dumpkit-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in [*FLAGS, f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    if not script:
        options.add_experimental_option("prefs", {"profile.managed_default_content_settings.javascript": 2})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@contextlib.contextmanager
def screenshot_on_failure(driver: Any, where: Path) -> Iterator[None]:
    """Save a screenshot of the page at ``where`` if the block fails, and say where it is."""
    try:
        yield
    except BaseException as exc:
        where.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(where))
        print(f"screenshot of the failing page: {where}")
        if isinstance(exc, AssertionError):
            raise AssertionError(f"{exc}\nscreenshot of the failing page: {where}") from exc
        raise
