"""Run the fuzz targets with seeds and options: ``make fuzz`` and the short run in the tests.

    python -m tests.fuzz.run [--seconds 600 | --runs N] [--out DIR] [--artifacts DIR] [FAMILY[=SECONDS]...]

One family at a time (the machine's two cores are shared). For each family: seeds (the shared
corpus and the builders, tests/fuzz/seeds.py) go to ``OUT/<family>/seeds``; the inputs the
fuzzer finds interesting grow ``OUT/<family>/corpus`` across runs; findings (crash-*, timeout-*,
oom-*, slow-unit-* files) go to ``tests/fuzz/regressions/<family>/`` (or ``--artifacts DIR/<family>/``),
where tests/test_fuzz.py replays them. After a finding the family's run goes on for the rest
of its time, up to ``--max-findings`` findings. Prints one line per family: executions,
executions per second, corpus growth, findings. Exit status 1 when anything was found.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.families import FAMILIES, Family
from tests.fuzz.seeds import write_seeds

__all__ = ["Result", "fuzz_family", "main"]

REPO = Path(__file__).resolve().parents[2]
#: A case slower than this is a hang (the robustness contract is 1 s; this leaves room for a loaded machine).
TIMEOUT_SECONDS = 10
RSS_LIMIT_MB = 2048
MAX_LEN = 1 << 20
ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "slow-unit-", "leak-")


@dataclass
class Result:
    """What one family's fuzzing did."""

    family: str
    seeds: int = 0
    executions: int = 0
    seconds: float = 0.0
    new_units: int = 0
    findings: list[Path] = field(default_factory=list)
    logs: list[Path] = field(default_factory=list)

    def line(self) -> str:
        rate = self.executions / self.seconds if self.seconds else 0.0
        found = ", ".join(str(p.relative_to(REPO) if p.is_relative_to(REPO) else p) for p in self.findings)
        return (f"{self.family}: {self.executions} executions in {self.seconds:.0f} s ({rate:.0f}/s), "
                f"{self.seeds} seeds, {self.new_units} new corpus inputs, "
                f"{len(self.findings)} finding(s){': ' + found if found else ''}")


def _stat(log: str, name: str) -> int:
    match = re.search(rf"stat::{name}:\s+(\d+)", log)
    return int(match.group(1)) if match else 0


def _artifacts(folder: Path) -> set[Path]:
    return {p for p in folder.iterdir() if p.name.startswith(ARTIFACT_PREFIXES)} if folder.is_dir() else set()


def fuzz_family(family: Family, *, out: Path, artifacts: Path, seconds: int | None = None,
                runs: int | None = None, max_findings: int = 5, python: str = sys.executable) -> Result:
    """Fuzz one family for ``seconds`` (or ``runs`` inputs); findings land in ``artifacts``."""
    work = out / family.name
    seeds, corpus = work / "seeds", work / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    result = Result(family.name, seeds=write_seeds(family, seeds, MAX_LEN))
    start = time.monotonic()
    before = _artifacts(artifacts)
    attempt = 0
    while True:
        attempt += 1
        left = None if seconds is None else max(1, int(seconds - (time.monotonic() - start)))
        limit = [f"-max_total_time={left}"] if left is not None else [f"-runs={runs}"]
        log_path = work / f"fuzz-{attempt}.log"
        cmd = [python, "-m", f"tests.fuzz.fuzz_{family.name}", str(corpus), str(seeds), *limit,
               f"-timeout={TIMEOUT_SECONDS}", f"-rss_limit_mb={RSS_LIMIT_MB}", f"-max_len={MAX_LEN}",
               f"-artifact_prefix={artifacts}/", "-print_final_stats=1", "-print_pcs=0"]
        with open(log_path, "w") as log_file:
            proc = subprocess.run(cmd, cwd=REPO, stdout=log_file, stderr=subprocess.STDOUT, check=False)
        log = log_path.read_text(errors="replace")
        result.logs.append(log_path)
        result.executions += _stat(log, "number_of_executed_units")
        result.new_units += _stat(log, "new_units_added")
        new = sorted(_artifacts(artifacts) - before - set(result.findings))
        result.findings += new
        if proc.returncode != 0 and not new:
            raise RuntimeError(f"fuzz target {family.name} failed (exit {proc.returncode}) without a "
                               f"finding; see {log_path}:\n{log[-3000:]}")
        out_of_time = seconds is None or time.monotonic() - start >= seconds - 1
        if proc.returncode == 0 or out_of_time or len(result.findings) >= max_findings:
            break
    result.seconds = time.monotonic() - start
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("families", nargs="*", metavar="FAMILY[=SECONDS]",
                        help=f"which families (default all: {', '.join(FAMILIES)}), each with its own "
                             "fuzzing time if given")
    budget = parser.add_mutually_exclusive_group()
    budget.add_argument("--seconds", type=int, default=None, help="fuzzing time per family (default 600)")
    budget.add_argument("--runs", type=int, default=None, help="inputs per family instead of a time")
    parser.add_argument("--out", type=Path, default=REPO / "out" / "fuzz",
                        help="work folder (seeds, corpus, logs)")
    parser.add_argument("--artifacts", type=Path, default=None,
                        help="where findings go, one folder per family (default tests/fuzz/regressions)")
    parser.add_argument("--max-findings", type=int, default=5, help="stop a family after this many findings")
    args = parser.parse_args(argv)
    seconds = args.seconds if args.seconds is not None or args.runs is not None else 600
    plan: list[tuple[str, int | None]] = []
    for arg in args.families or list(FAMILIES):
        name, _, own = arg.partition("=")
        if name not in FAMILIES or (own and not own.isdigit()):
            parser.error(f"{arg}: expected FAMILY or FAMILY=SECONDS, FAMILY one of {', '.join(FAMILIES)}")
        plan.append((name, int(own) if own else seconds))
    found = False
    for name, family_seconds in plan:
        family = FAMILIES[name]
        artifacts = args.artifacts / name if args.artifacts else family.regressions
        result = fuzz_family(family, out=args.out, artifacts=artifacts, seconds=family_seconds,
                             runs=None if family_seconds else args.runs, max_findings=args.max_findings)
        print(result.line(), flush=True)
        found = found or bool(result.findings)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
