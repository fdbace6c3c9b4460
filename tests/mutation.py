"""Robustness harness: truncated and byte-flipped dumps of every format through ``document_for``.

A test calls :func:`check_mutants` with a plan name (tests/mutation_plans.py: where each format
is cut and flipped, 50 truncations and 200 flips per file, fixed seeds) and its source files.
The mutants run in worker processes (``python -m tests.mutation JOB.json``); each worker warms
up on every source, then takes the costliest source no other worker has claimed yet.

The contract, for every mutant of every format:

* ``dumpkit.pipeline.document.normalize.document_for(path)`` (read + unwind + normalize + validate) returns a
  document that validates: a dump document or an error document, never ``internal_error``, and
  never raises; before the document is made, the worker also reads a little of the dump's
  memory (the head of its first captured ranges, up to 64 pages, the first bytes of three
  modules): a bad page may raise :class:`~dumpkit.errors.DumpkitError`, nothing else;
* within ``CASE_SECONDS`` (a per-case alarm turns a hang into a failure after ``ABORT_SECONDS``),
  under ``RLIMIT_AS`` = the worker's warm baseline + ``BUDGET_MB``;
* the mutant file is left unchanged (its size and times always; its bytes for files up to
  ``CONTENT_CHECK_MAX``), and so is the source file.

Mutants are made on one scratch copy per source: a flip patches one byte and puts it back;
truncations go from the longest to the shortest with ``os.truncate``. A worker prints one JSON
line per failure (the mutant kept under ``TMP/failures``), then one ``{"stats": ...}`` line.
"""
from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import time
import traceback
from collections import Counter
from pathlib import Path
from typing import Any

from tests.mutation_plans import Mutation, mutations

__all__ = ["BUDGET_MB", "CASE_SECONDS", "check_mutants", "source"]

REPO = Path(__file__).resolve().parent.parent
WORKERS = 2
BUDGET_MB = 200
CASE_SECONDS = 1.0
ABORT_SECONDS = 5.0  # the alarm: a case still running after this is a hang
WORKER_TIMEOUT = 1200
CONTENT_CHECK_MAX = 4 << 20  # mutants up to this size are compared byte for byte after each case
PROBE_PAGES = 64
PROBE_RANGES = 3  # the head of this many ranges is read even when the page budget is spent

Source = dict[str, str]  # {"name": ..., "path": ...}
Found = list[dict[str, Any]]


def source(name: str, path: Path | str) -> Source:
    return {"name": name, "path": str(path)}


# -- the driver (in the pytest process) -----------------------------------------------------------
def check_mutants(plan: str, label: str, sources: list[Source], tmp_path: Path, *, min_cases: int) -> None:
    """Run ``plan``'s mutants of ``sources``; fail the test on any broken case or a dead worker."""
    import pytest  # here, not at the top: the worker processes need neither pytest nor conftest

    from tests.conftest import SUMMARIES

    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    (tmp_path / "claims").mkdir()
    procs = []
    for i in range(min(WORKERS, len(sources))):
        job = {"plan": plan, "sources": sources, "tmp": str(tmp_path)}
        job_file = tmp_path / f"mutation-job-{i}.json"
        job_file.write_text(json.dumps(job))
        procs.append(subprocess.Popen([sys.executable, "-m", "tests.mutation", str(job_file)], cwd=REPO,
                                      env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    failures: Found = []
    stats: Found = []
    for proc in procs:
        try:
            out, err = proc.communicate(timeout=WORKER_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            pytest.fail(f"{plan} mutation worker did not finish in {WORKER_TIMEOUT} s; "
                        f"stderr tail:\n{err[-2000:]}")
        lines = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
        failures += [x for x in lines if "stats" not in x]
        stats += [x["stats"] for x in lines if "stats" in x]
        if proc.returncode != 0 or not any("stats" in x for x in lines):
            pytest.fail(f"{plan} mutation worker died (exit {proc.returncode}) after {len(failures)} "
                        f"failures; stderr tail:\n{err[-3000:]}")
    cases = sum(s["cases"] for s in stats)
    kinds: Counter[str] = Counter()
    for s in stats:
        kinds.update(s["kinds"])
    slow = max(stats, key=lambda s: s["slowest_seconds"])
    SUMMARIES.append(
        f"{plan} robustness ({label}): {cases} mutants of {len(sources)} files in {len(stats)} workers, "
        f"{max(s['seconds'] for s in stats):.1f} s wall; outcomes {dict(sorted(kinds.items()))}; "
        f"slowest case {slow['slowest_seconds'] * 1000:.1f} ms ({slow['slowest_case']}); "
        f"VM baseline {max(s['baseline_vm_mb'] for s in stats)} MB, limit +{BUDGET_MB} MB; "
        f"failures {len(failures)}")
    assert cases >= min_cases, f"{cases} mutants, expected at least {min_cases}"
    shown = "\n\n".join(f"{f['source']} {f['mutation']}: {f['problem']} ({f['seconds']} s), kept at "
                        f"{f['kept']}\n{f['detail']}" for f in failures[:10])
    assert not failures, f"{len(failures)} mutants failed; first ones:\n{shown}"


# -- the worker -----------------------------------------------------------------------------------
class CaseTimeout(BaseException):
    """Raised by the alarm: a BaseException, so that ``document_for`` cannot swallow it."""


class _LastError(logging.Handler):
    """Keeps the traceback ``document_for`` logs for an ``internal_error``."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.text: str | None = None

    def emit(self, record: logging.LogRecord) -> None:
        self.text = record.getMessage()
        if record.exc_info:
            self.text += "\n" + "".join(traceback.format_exception(*record.exc_info))


def _on_alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def _vm_size() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _probe(dump: Any) -> None:
    """Read what a consumer reads beyond the document: captured pages and module heads."""
    from dumpkit.errors import DumpkitError

    space = dump.memory
    if space is None:
        return
    page = dump.system.page_size or 4096
    budget = PROBE_PAGES
    for i, (start, length) in enumerate(space.ranges()):
        if i >= PROBE_RANGES and budget <= 0:
            break
        for at in range(start, start + length, page):
            if at > start and budget <= 0:
                break
            budget -= 1
            with contextlib.suppress(DumpkitError):
                space.read(at, min(page, start + length - at))
    for module in dump.modules[:3]:
        with contextlib.suppress(DumpkitError):
            space.read(module.base, 64)


def _install_probe() -> None:
    """Make ``document_for`` probe each dump's memory before it normalizes it."""
    import dumpkit.pipeline.document.normalize

    real = dumpkit.pipeline.document.normalize.normalize

    @functools.wraps(real)
    def normalize(dump: Any, **kwargs: Any) -> dict[str, Any]:
        _probe(dump)
        return real(dump, **kwargs)

    dumpkit.pipeline.document.normalize.normalize = normalize


def _signature(path: Path) -> tuple[int, int, int]:
    st = path.stat()
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns


class _Scratch:
    """One writable copy of a source that each mutation changes in place."""

    def __init__(self, src: Path, path: Path) -> None:
        shutil.copyfile(src, path)
        self.path = path
        small = path.stat().st_size <= CONTENT_CHECK_MAX
        self.expected: bytearray | None = bytearray(src.read_bytes()) if small else None

    def apply(self, m: Mutation) -> None:
        if m.mask is None:
            os.truncate(self.path, m.offset)
            if self.expected is not None:
                del self.expected[m.offset:]
            return
        with open(self.path, "r+b") as fh:
            fh.seek(m.offset)
            byte = fh.read(1)[0] ^ m.mask
            fh.seek(m.offset)
            fh.write(bytes([byte]))
        if self.expected is not None:
            self.expected[m.offset] = byte

    def undo(self, m: Mutation) -> None:
        if m.mask is not None:
            self.apply(m)  # XOR again

    def unchanged(self) -> bool:
        return self.expected is None or self.path.read_bytes() == self.expected


def _claim(path: Path) -> bool:
    """True for the one worker that creates ``path`` first."""
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return False
    return True


def _order(plan: list[Mutation]) -> list[Mutation]:
    """Flips first (each undone), then truncations from the longest to the shortest."""
    flips = [m for m in plan if m.mask is not None]
    return flips + sorted((m for m in plan if m.mask is None), key=lambda m: -m.offset)


def _case(path: Path, log: _LastError) -> tuple[str, str | None, str]:
    """One mutant through ``document_for``: (outcome kind, problem or None, detail)."""
    from dumpkit.pipeline.document.normalize import document_for
    from dumpkit.pipeline.document.validate import validate

    log.text = None
    signal.setitimer(signal.ITIMER_REAL, ABORT_SECONDS)
    try:
        doc = document_for(str(path))
        signal.setitimer(signal.ITIMER_REAL, 0)
        kind = doc["kind"] if doc.get("kind") != "error" else f"error:{doc['error']['code']}"
        validate(doc)
    except CaseTimeout:
        return "?", "hang", f"aborted after {ABORT_SECONDS} s"
    except BaseException as exc:  # every escape is the finding
        signal.setitimer(signal.ITIMER_REAL, 0)
        return "?", f"raised {type(exc).__name__}", traceback.format_exc()
    if kind == "error:internal_error":
        return kind, "internal_error", log.text or doc["error"]["message"]
    return kind, None, ""


class _Worker:
    """Runs the mutants of the sources it claims; prints failures and, at the end, its stats."""

    def __init__(self, plan: str, tmp: Path) -> None:
        self.plan, self.tmp = plan, tmp
        self.log = _LastError()
        logging.getLogger().addHandler(self.log)
        logging.getLogger().setLevel(logging.ERROR)
        self.kinds: Counter[str] = Counter()
        self.cases, self.slowest = 0, (0.0, "")

    def report(self, name: str, what: str, problem: str, detail: str, elapsed: float,
               blob: Path | None) -> None:
        """One failure line; the mutant ``blob`` is kept under ``TMP/failures``."""
        keep = None
        if blob is not None:
            label = what.replace("@", "_").replace("^", "_")
            keep = self.tmp / "failures" / f"{name.replace('/', '_')}.{label}"
            keep.parent.mkdir(exist_ok=True)
            shutil.copyfile(blob, keep)
        print(json.dumps({"source": name, "mutation": what, "problem": problem, "seconds": round(elapsed, 4),
                          "kept": str(keep), "detail": detail}), flush=True)

    def source(self, name: str, path: Path) -> None:
        before = _signature(path)
        scratch = _Scratch(path, self.tmp / f"mutant-{os.getpid()}")
        for m in _order(mutations(self.plan, name, path)):
            self.cases += 1
            scratch.apply(m)
            mutant = _signature(scratch.path)
            t0 = time.perf_counter()
            kind, problem, detail = _case(scratch.path, self.log)
            elapsed = time.perf_counter() - t0
            self.kinds[kind] += 1
            self.slowest = max(self.slowest, (elapsed, f"{name} {m.label}"))
            if problem is None and elapsed > CASE_SECONDS:
                problem, detail = "slow", f"{elapsed:.3f} s > {CASE_SECONDS} s"
            if problem is None and (_signature(scratch.path) != mutant or not scratch.unchanged()):
                problem, detail = "modified_input", "the mutant file changed while being read"
            if problem is not None:
                self.report(name, m.label, problem, detail, elapsed, scratch.path)
            if problem == "modified_input":
                scratch = _Scratch(path, scratch.path)  # a fresh copy; later cuts are all shorter
            else:
                scratch.undo(m)
        scratch.path.unlink()
        if _signature(path) != before:
            self.report(name, "none", "modified_input", "the source file changed", 0.0, None)


def main() -> int:
    job = json.loads(Path(sys.argv[1]).read_text())
    from dumpkit.pipeline.document.normalize import document_for

    _install_probe()
    worker = _Worker(job["plan"], Path(job["tmp"]))
    document_for(job["sources"][0]["path"])  # first-time imports, not counted in the costs below
    cost = {}
    for s in job["sources"]:  # warm: imports, schema validators, parser classes
        t0 = time.perf_counter()
        document_for(s["path"])
        cost[s["name"]] = time.perf_counter() - t0
    baseline = _vm_size()
    limit = baseline + BUDGET_MB * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (limit, resource.RLIM_INFINITY))
    signal.signal(signal.SIGALRM, _on_alarm)
    start = time.perf_counter()
    # the costliest sources first; each worker takes the next one no other worker has claimed
    for s in sorted(job["sources"], key=lambda s: -cost[s["name"]]):
        if _claim(worker.tmp / "claims" / s["name"].replace("/", "_")):
            worker.source(s["name"], Path(s["path"]))
    print(json.dumps({"stats": {"cases": worker.cases, "kinds": dict(worker.kinds),
                                "seconds": time.perf_counter() - start, "slowest_seconds": worker.slowest[0],
                                "slowest_case": worker.slowest[1], "baseline_vm_mb": baseline // (1 << 20),
                                "limit_vm_mb": limit // (1 << 20)}}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
