"""Garbage in, DumpkitError out: truncated and byte-flipped ELF cores.

Every corpus ELF core (and the builder cores, which need no corpus) gives 50 truncations
and 200 single-byte flips (fixed seed; tests/elf_mutation_worker.py says where they land).
Each mutant must open -- and normalize, when the pipeline is present -- or raise only
DumpkitError, within 1 s, under a 200 MB address-space budget above the warm baseline.

The mutants run in two worker processes under ``RLIMIT_AS`` with a per-case alarm, so a
hang or a memory blow-up fails this test with the file and the mutation named.

Left out: the corpus' synthetic 131070-segment PN_XNUM core (r2_core65k): opening it takes
~0.6 s on its own (0.1 s in the 131070 regions alone), so its mutants would measure the
machine rather than the reader; tests/test_elf_core.py opens it whole.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.builders.vmcore import lockless_log_vmcore
from tests.conftest import CORPUS_MISSING, REPO, SUMMARIES, corpus_id, corpus_root
from tests.test_elf_core import CORES
from tests.test_elf_core_units import LINES, _process_core

SEED = 0xE1F
WORKERS = 2
BUDGET_MB = 200
CASE_SECONDS = 1.0
ABORT_SECONDS = 5.0
SLOW_BY_DESIGN = {"elfcore/r2_core65k"}


def _run(sources: list[dict[str, str]], tmp_path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    ordered = sorted(sources, key=lambda s: -os.path.getsize(s["path"]))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    procs = []
    for i in range(WORKERS):
        job = {"sources": ordered[i::WORKERS], "tmp": str(tmp_path), "seed": SEED, "budget_mb": BUDGET_MB,
               "case_seconds": CASE_SECONDS, "abort_seconds": ABORT_SECONDS}
        job_file = tmp_path / f"elf-job-{i}.json"
        job_file.write_text(json.dumps(job))
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.elf_mutation_worker", str(job_file)],
                                      cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                      text=True))
    failures: list[dict[str, Any]] = []
    stats: list[dict[str, Any]] = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=1200)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"ELF mutation worker did not finish in 1200 s; stderr tail:\n{err[-2000:]}")
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        failures += [x for x in lines if "stats" not in x]
        stats += [x["stats"] for x in lines if "stats" in x]
        if proc.returncode != 0 or not any("stats" in x for x in lines):
            pytest.fail(f"ELF mutation worker died (exit {proc.returncode}); stderr tail:\n{err[-3000:]}")
    return failures, stats


def _check(label: str, sources: list[dict[str, str]], failures: list[dict[str, Any]],
           stats: list[dict[str, Any]]) -> None:
    cases = sum(s["cases"] for s in stats)
    kinds: dict[str, int] = {}
    for s in stats:
        for k, v in s["kinds"].items():
            kinds[k] = kinds.get(k, 0) + v
    slow = max(stats, key=lambda s: s["slowest_seconds"])
    SUMMARIES.append(
        f"ELF core robustness ({label}): {cases} mutants of {len(sources)} files, "
        f"{max(s['seconds'] for s in stats):.1f} s wall; outcomes {dict(sorted(kinds.items()))}; "
        f"slowest {slow['slowest_seconds'] * 1000:.1f} ms ({slow['slowest_case']}); failures {len(failures)}")
    assert cases >= len(sources) * 200
    shown = "\n\n".join(f"{f['source']} {f['mutation']}: {f['problem']} ({f['seconds']} s), kept at "
                        f"{f['kept']}\n{f['detail']}" for f in failures[:8])
    assert not failures, f"{len(failures)} mutants failed; first ones:\n{shown}"


@pytest.mark.corpus
@pytest.mark.slow
def test_mutated_corpus_cores_raise_only_dumpkit_errors(tmp_path: Path) -> None:
    if corpus_root() is None:
        pytest.skip(CORPUS_MISSING)
    sources = [{"name": corpus_id(p), "path": str(p)} for p in CORES if corpus_id(p) not in SLOW_BY_DESIGN]
    failures, stats = _run(sources, tmp_path)
    _check("corpus", sources, failures, stats)


def test_mutated_builder_cores_raise_only_dumpkit_errors(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    vmcore = tmp_path / "src" / "vmcore"
    vmcore.write_bytes(lockless_log_vmcore(LINES))
    sources = [{"name": "builder/process", "path": str(_process_core(tmp_path / "src"))},
               {"name": "builder/vmcore", "path": str(vmcore)}]
    failures, stats = _run(sources, tmp_path)
    _check("builder", sources, failures, stats)
