"""The atheris entry point shared by the four targets (``tests/fuzz/fuzz_<family>.py``).

    python -m tests.fuzz.fuzz_minidump [libFuzzer options] [corpus folders]

Our code (``dumpkit``, ``pipeline``) and the Kaitai runtime are instrumented for coverage: every
module of ``dumpkit`` and ``pipeline`` is imported inside the instrumentation, so that readers
and helpers imported lazily at run time are covered too. Each input goes through
:func:`tests.fuzz.check.check_input`; anything it raises is a finding, which libFuzzer writes
to its ``-artifact_prefix`` (``make fuzz`` points that at ``tests/fuzz/regressions/<family>/``).
"""
from __future__ import annotations

import importlib
import logging
import os
import pkgutil
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path

from tests.fuzz.families import FAMILIES

__all__ = ["run"]

INSTRUMENTED = ["dumpkit", "kaitaistruct"]  # dumpkit.pipeline, .converters included


def _import_everything() -> None:
    """Import every module of our packages (so that instrumentation reaches lazy imports)."""
    for top in ("dumpkit",):
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{top}."):
            if info.name.endswith("__main__"):
                continue
            importlib.import_module(info.name)


def run(family_name: str, argv: Sequence[str]) -> None:
    """Fuzz ``family_name`` with the libFuzzer options and corpus folders in ``argv``; never returns."""
    import atheris

    family = FAMILIES[family_name]
    with atheris.instrument_imports(include=INSTRUMENTED):
        _import_everything()
        import kaitaistruct  # noqa: F401

        from tests.fuzz.check import check_input
    logging.disable(logging.CRITICAL)  # readers' warnings are not findings; exceptions are
    scratch_dir = Path(tempfile.mkdtemp(prefix=f"dumpkit-fuzz-{family_name}-",
                                        dir="/dev/shm" if os.path.isdir("/dev/shm") else None))
    scratch = scratch_dir / "input"

    def one_input(data: bytes) -> None:
        check_input(data, family, scratch)

    atheris.Setup(list(argv), one_input)
    try:
        atheris.Fuzz()
    finally:  # a clean end (-runs, -max_total_time) comes here; a crash exits at once
        shutil.rmtree(scratch_dir, ignore_errors=True)
