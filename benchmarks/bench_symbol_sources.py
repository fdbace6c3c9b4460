"""What a symbol lookup costs per module when nothing has to be fetched.

    .venv/bin/python benchmarks/bench_symbol_sources.py [--modules N] [--rounds R]

Builds N modules' files in a temporary cache and a temporary local symbol dir (a ``.sym`` and
a PDB each; the PDB is linked here with clang + lld-link, its id read by symbolic), then times
``SymbolFinder.find`` in microseconds per lookup, mean of R rounds:

| row | what is timed |
|---|---|
| `cache hit (new finder)` | a fresh finder (as a new worker process would have) answering from the cache |
| `remembered miss` | a fresh finder answering "not found" from a remembered miss |
| `memoized` | the same finder asked again (every dump after the first in a worker) |
| `local dir, verified` | a fresh finder over the local dir: the file's id is checked (symbolic for PDB) |
| `isfile floor` | ``os.path.isfile`` on the cached paths: the file-system floor, for the ratio |

The configured server is unreachable (a closed local port): rows show no network use.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dumpkit.model import Module
from dumpkit.symbols.config import SymbolConfig
from dumpkit.symbols.finder import SymbolFinder
from dumpkit.symbols.keys import key_for

SOURCE = "int mainCRTStartup(void) { return 7; }\n"


def _pdb(work: Path) -> tuple[Path, str]:
    (work / "w.c").write_text(SOURCE)
    for argv in (["clang", "--target=x86_64-pc-windows-msvc", "-g", "-gcodeview", "-c", "w.c", "-o", "w.obj"],
                 ["lld-link", "/debug", "/pdb:w.pdb", "/out:w.exe", "/entry:mainCRTStartup",
                  "/subsystem:console", "/nodefaultlib", "w.obj"]):
        subprocess.run(argv, cwd=work, check=True, capture_output=True)
    from symbolic.debuginfo import Archive

    obj = next(iter(Archive.open(str(work / "w.pdb")).iter_objects()))
    return work / "w.pdb", str(obj.debug_id).replace("-", "").upper()


def _timed(fn: object, rounds: int, count: int) -> float:
    best = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        best.append((time.perf_counter() - start) / count * 1e6)
    return sum(best) / len(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--modules", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-symsrc-"))
    try:
        pdb, pdb_id = _pdb(work)
        cache, local = work / "cache", work / "local"
        modules, missing = [], []
        for i in range(args.modules):
            name = f"m{i}.pdb"
            # the real PDB's id for the local dir (it is verified there); distinct ids in the cache
            mod = Module(base=0, size=1, path=f"C:\\m{i}.dll", debug_id=f"{i:032X}1", debug_file=name)
            modules.append(mod)
            missing.append(Module(base=0, size=1, path=f"C:\\x{i}.dll", debug_id=f"{i:032X}2",
                                  debug_file=f"x{i}.pdb"))
            for kind in ("breakpad", "pdb"):
                key = key_for(mod, kind)[0]
                assert key is not None
                dest = cache.joinpath(*key.cache_path())
                dest.parent.mkdir(parents=True, exist_ok=True)
                if kind == "pdb":
                    shutil.copyfile(pdb, dest)
                else:
                    dest.write_text(f"MODULE windows x86_64 {key.id} {name}\n")
        locals_ = []
        for i in range(args.modules):
            name = f"l{i}.pdb"
            mod = Module(base=0, size=1, path=f"C:\\l{i}.dll", debug_id=pdb_id, debug_file=name)
            locals_.append(mod)
            d = local / name / pdb_id
            d.mkdir(parents=True)
            shutil.copyfile(pdb, d / name)
            (d / f"l{i}.sym").write_text(f"MODULE windows x86_64 {pdb_id} {name}\n")
        cfg = SymbolConfig(servers=("http://127.0.0.1:9/",), debuginfod=(), cache_dir=str(cache), retries=0)
        warm = SymbolFinder(cfg)
        miss_cfg = SymbolConfig(servers=("http://127.0.0.1:9/",), debuginfod=(), cache_dir=str(cache),
                                retries=0, error_ttl=3600)
        for mod in missing:
            SymbolFinder(miss_cfg).cache.remember_miss(str(key_for(mod, "breakpad")[0]),
                                                       miss_cfg.remote_fingerprint(), 3600, "")
        local_cfg = SymbolConfig(dirs=(str(local),), debuginfod=(), cache_dir=str(cache))
        n = args.modules

        def hits() -> None:
            finder = SymbolFinder(cfg)
            for mod in modules:
                assert finder.find(mod, "breakpad").file is not None
                assert finder.find(mod, "pdb").file is not None

        def misses() -> None:
            finder = SymbolFinder(miss_cfg)
            for mod in missing:
                assert finder.find(mod, "breakpad").file is None

        def memo() -> None:
            for mod in modules:
                warm.find(mod, "breakpad")
                warm.find(mod, "pdb")

        def verified() -> None:
            finder = SymbolFinder(local_cfg)
            for mod in locals_:
                assert finder.find(mod, "breakpad").file is not None
                assert finder.find(mod, "pdb").file is not None

        keys = [key_for(mod, kind)[0] for mod in modules for kind in ("breakpad", "pdb")]
        paths = [os.path.join(str(cache), *key.cache_path()) for key in keys if key is not None]

        def floor() -> None:
            for p in paths:
                assert os.path.isfile(p)

        memo()
        rows = [("cache hit (new finder)", _timed(hits, args.rounds, 2 * n)),
                ("remembered miss", _timed(misses, args.rounds, n)),
                ("memoized", _timed(memo, args.rounds, 2 * n)),
                ("local dir, verified", _timed(verified, max(1, args.rounds // 4), 2 * n)),
                ("isfile floor", _timed(floor, args.rounds, 2 * n))]
        base = rows[-1][1]
        print(f"{n} modules, {args.rounds} rounds: microseconds per lookup (ratio to the isfile floor)")
        for label, us in rows:
            print(f"  {label:24s} {us:9.1f} us  {us / base:6.1f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
