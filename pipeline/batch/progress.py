"""The live line of ``dumpkit normalize`` on a terminal: files discovered, then documents made
(count, rate, ETA), from the markers of documents appearing on disk."""
from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["Progress", "count_done"]


class Progress:
    """Live count / rate / ETA on stderr, from the markers of documents made appearing on disk
    (so it counts the work of every worker sharing the folder); nothing when stderr is not a
    terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.bar: Any = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._last = 0.0
        self._final: Callable[[], int] | None = None

    def discovering(self, files: int, nbytes: int) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(desc="discovering", unit=" files", file=sys.stderr, **_width())
        if now - self._last > 0.2:
            self.bar.n = files
            self.bar.set_postfix_str(f"{nbytes / 1e6:,.0f} MB read", refresh=False)
            self.bar.refresh()
            self._last = now

    def documents(self, folder: str, expected: set[str]) -> None:
        """Count the keys of ``expected`` appearing in ``folder`` (markers of documents made)."""
        self.close()
        if not self.enabled or not expected:
            return
        from tqdm import tqdm

        self._final = lambda: count_done(folder, expected)
        done = count_done(folder, expected)
        self.bar = tqdm(total=len(expected), initial=done, desc="documents", unit=" docs",
                        file=sys.stderr, smoothing=0.1, **_width())

        def poll() -> None:
            while not self._stop.wait(0.5):
                n = count_done(folder, expected)
                if n > self.bar.n:
                    self.bar.update(n - self.bar.n)

        self._thread = threading.Thread(target=poll, daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._stop.clear()
        if self.bar is not None:
            if self._final is not None:  # the last documents since the last poll
                n = self._final()
                if n > self.bar.n:
                    self.bar.update(n - self.bar.n)
            self.bar.close()
            self.bar = None
        self._final = None


def _width() -> dict[str, Any]:
    """Follow the terminal's size; one that reports none (0x0, e.g. a bare pty) gets 100x24
    (tqdm would otherwise hide the bar: it draws no line beyond a 0-row screen)."""
    try:
        size = os.get_terminal_size(sys.stderr.fileno())
    except (OSError, ValueError):
        size = os.terminal_size((0, 0))
    if size.columns > 0 and size.lines > 0:
        return {"dynamic_ncols": True}
    return {"ncols": size.columns or 100, "nrows": size.lines or 24}


def count_done(folder: str, expected: set[str]) -> int:
    """How many keys of ``expected`` name a file in ``folder``."""
    try:
        return len(expected.intersection(os.listdir(folder)))
    except OSError:
        return 0
