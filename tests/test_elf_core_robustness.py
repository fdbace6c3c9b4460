"""Garbage in, structured document out: truncated and byte-flipped ELF cores.

Every corpus ELF core (and the builder cores, which need no corpus) gives 50 truncations and
200 single-byte flips (fixed seed; tests/mutation_plans.py says where they land), run by the
robustness harness (tests/mutation.py) under its contract: ``normalize.document_for``
returns a document that validates (never ``internal_error``), never raises, within 1 s, under a
200 MB address space budget above the warm baseline, and leaves its input unchanged.

Left out: the corpus' synthetic 131070-segment PN_XNUM core (r2_core65k): opening it takes
~0.6 s on its own (0.1 s in the 131070 regions alone), so its mutants would measure the
machine rather than the reader; tests/test_elf_core.py opens it whole.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.builders.vmcore import lockless_log_vmcore
from tests.conftest import CORPUS_MISSING, corpus_id, corpus_root
from tests.mutation import check_mutants, source
from tests.test_elf_core import CORES
from tests.test_elf_core_units import LINES, _process_core

SLOW_BY_DESIGN = {"elfcore/r2_core65k"}


@pytest.mark.corpus
@pytest.mark.slow
def test_mutated_corpus_cores_give_valid_documents(tmp_path: Path) -> None:
    if corpus_root() is None:
        pytest.skip(CORPUS_MISSING)
    sources = [source(corpus_id(p), p) for p in CORES if corpus_id(p) not in SLOW_BY_DESIGN]
    check_mutants("elf", "corpus", sources, tmp_path, min_cases=len(sources) * 200)


def test_mutated_builder_cores_give_valid_documents(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    vmcore = tmp_path / "src" / "vmcore"
    vmcore.write_bytes(lockless_log_vmcore(LINES))
    sources = [source("builder/process", _process_core(tmp_path / "src")), source("builder/vmcore", vmcore)]
    check_mutants("elf", "builder", sources, tmp_path, min_cases=len(sources) * 200)
