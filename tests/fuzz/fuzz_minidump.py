"""Fuzz target: Windows minidumps (MDMP, PMDM).

    python -m tests.fuzz.fuzz_minidump [libFuzzer options] [corpus folders]

``make fuzz`` runs it with seeds and options (tests/fuzz/run.py); tests/fuzz/target.py has the harness.
"""
from __future__ import annotations

import sys

from tests.fuzz.target import run

if __name__ == "__main__":
    run("minidump", sys.argv)
