"""The four fuzzed families: which formats each one covers, and where its regression inputs live."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = ["FAMILIES", "REGRESSIONS", "Family"]

REGRESSIONS = Path(__file__).resolve().parent / "regressions"


@dataclass(frozen=True)
class Family:
    """One fuzz target: a name, the formats (``dumpkit.detect`` names) it feeds, its corpus folders."""

    name: str
    formats: frozenset[str]
    corpus_globs: tuple[str, ...]

    @property
    def regressions(self) -> Path:
        """Where this family's findings are kept, one file per input (replayed by tests/test_fuzz.py)."""
        return REGRESSIONS / self.name


FAMILIES = {f.name: f for f in (
    Family("minidump", frozenset({"minidump"}), ("mdmp/*", "mdmp_from_yaml/*")),
    Family("windows_kernel", frozenset({"windows_kernel_dump"}), ("windows_kernel/*",)),
    Family("elf", frozenset({"elf_core"}), ("elfcore/*", "vmcore/*", "vmcore_synthetic/*")),
    Family("kdump", frozenset({"kdump_compressed", "makedumpfile_flattened"}), ("vmcore_synthetic/*",)),
)}
