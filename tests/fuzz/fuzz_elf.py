"""Fuzz target: ELF cores: Linux process cores and kernel vmcores.

    python -m tests.fuzz.fuzz_elf [libFuzzer options] [corpus folders]

``make fuzz`` runs it with seeds and options (tests/fuzz/run.py); tests/fuzz/target.py has the harness.
"""
from __future__ import annotations

import sys

from tests.fuzz.target import run

if __name__ == "__main__":
    run("elf", sys.argv)
