"""Fuzz target: Windows kernel crash dumps (PAGEDUMP, PAGEDU64).

    python -m tests.fuzz.fuzz_windows_kernel [libFuzzer options] [corpus folders]

``make fuzz`` runs it with seeds and options (tests/fuzz/run.py); tests/fuzz/target.py has the harness.
"""
from __future__ import annotations

import sys

from tests.fuzz.target import run

if __name__ == "__main__":
    run("windows_kernel", sys.argv)
