#!/usr/bin/env python3
"""Benchmark: reading symbol files with symbolic vs dumpkit's own readers, per kind.

    .venv/bin/python benchmarks/bench_symbols.py FILE... [--lookups N] [--dump-syms PATH]

Each FILE is an ELF (executable, library or separate debug file), a PE or a PDB. For every
file, in fresh subprocesses (so memory is the reader's alone):

* **names** — ELF: pyelftools ``.symtab`` (dumpkit.symbols.elf.ElfImage.symbol_at) vs
  symbolic's SymCache (names + lines + inlines); Breakpad ``.sym`` made by ``dump_syms
  --inlines`` from the file: dumpkit's parser (dumpkit.symbols.breakpad) vs symbolic.
* **CFI** — ELF: pyelftools FDE index (``.eh_frame``/``.debug_frame``) vs symbolic's
  CfiCache text parsed by dumpkit.symbols.breakpad (what the walker runs); ``.sym``: the
  STACK records come with the names above.

Printed per reader: load time (open + index, first lookup included), mean lookup time over
``--lookups`` addresses spread over the file's functions, and the process's peak RSS growth.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _rss_kib() -> int:
    """Peak resident memory of this process (``VmHWM``; ru_maxrss survives exec, so a child
    would start with its parent's peak)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _addresses(path: str, count: int) -> list[int]:
    """``count`` function-relative addresses spread over the file (symbolic's view of it)."""
    from symbolic.debuginfo import Archive

    obj = next(iter(Archive.open(path).iter_objects()))
    cache = obj.make_symcache()
    starts: list[int] = []
    probe = 0
    # walk the text by lookups: cheap enough for a benchmark set-up
    for probe in range(0, 1 << 26, max(1, (1 << 26) // (count * 64))):
        hit = cache.lookup(probe)
        if hit:
            starts.append(probe)
        if len(starts) >= count:
            break
    return starts


def _run(reader: str, path: str, addresses: list[int]) -> dict[str, float]:
    """One measurement in this process (called in a child)."""
    base_rss = _rss_kib()
    t0 = time.perf_counter()
    look: Callable[[int], object]
    if reader in ("pyelftools-names", "pyelftools-cfi"):
        from dumpkit.symbols.elf import open_elf

        opened, _ = open_elf(path)
        assert opened is not None
        image = opened
        if reader == "pyelftools-names":
            look = lambda rva: image.symbol_at(rva + image.link_base)  # noqa: E731
        else:
            look = lambda rva: image.fde_for(rva + image.link_base)  # noqa: E731
    elif reader == "symbolic-names":
        from symbolic.debuginfo import Archive

        cache = next(iter(Archive.open(path).iter_objects())).make_symcache()
        look = cache.lookup
    elif reader == "symbolic-cfi":
        from symbolic.cfi import CfiCache
        from symbolic.debuginfo import Archive

        from dumpkit.symbols.breakpad import parse_sym

        obj = next(iter(Archive.open(path).iter_objects()))
        records = parse_sym(CfiCache.from_object(obj).open_stream().read())
        look = records.cfi
    elif reader == "dumpkit-sym":
        from dumpkit.symbols.breakpad import parse_sym

        sym = parse_sym(Path(path).read_bytes())

        def sym_look(rva: int) -> object:
            func = sym.function(rva)
            return (func.name, func.line_at(rva)) if func else sym.public(rva)

        look = sym_look
    else:
        raise SystemExit(f"unknown reader {reader}")
    look(addresses[0] if addresses else 0)
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    for rva in addresses:
        look(rva)
    lookup = (time.perf_counter() - t1) / max(1, len(addresses))
    return {"load_ms": load * 1e3, "lookup_us": lookup * 1e6, "rss_mib": (_rss_kib() - base_rss) / 1024}


def _child(reader: str, path: str, addresses: list[int]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(addresses, fh)
    try:
        out = subprocess.run([sys.executable, __file__, "--child", reader, path, fh.name],
                             capture_output=True, text=True, check=True, timeout=1800)
    finally:
        os.unlink(fh.name)
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        reader, path, addr_file = sys.argv[2:5]
        print(json.dumps(_run(reader, path, json.loads(Path(addr_file).read_text()))))
        return 0
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+")
    parser.add_argument("--lookups", type=int, default=2000)
    parser.add_argument("--dump-syms", default=str(REPO / "tests" / ".cache" / "bin" / "dump_syms"))
    args = parser.parse_args()
    for path in args.files:
        size = os.path.getsize(path)
        addresses = _addresses(path, args.lookups)
        print(f"\n{path} ({size / 1e6:.1f} MB, {len(addresses)} lookups)")
        is_elf = Path(path).read_bytes()[:4] == b"\x7fELF"
        pairs: list[tuple[str, str | None, str]] = [
            ("names", "pyelftools-names", "symbolic-names"), ("cfi", "pyelftools-cfi", "symbolic-cfi")]
        if not is_elf:
            pairs = [("names", None, "symbolic-names"), ("cfi", None, "symbolic-cfi")]
        sym_path = None
        if os.path.exists(args.dump_syms):
            text = subprocess.run([args.dump_syms, "--inlines", path], capture_output=True, check=False,
                                  timeout=1800).stdout
            if text:
                fd, sym_path = tempfile.mkstemp(suffix=".sym")
                os.write(fd, text)
                os.close(fd)
                pairs.append((f".sym ({len(text) / 1e6:.1f} MB)", "dumpkit-sym", "symbolic-names"))
        for what, ours, theirs in pairs:
            target = sym_path if what.startswith(".sym") else path
            assert target is not None
            b = _child(theirs, target, addresses)
            line = (f"  {what:<18} symbolic: load {b['load_ms']:8.1f} ms  lookup {b['lookup_us']:7.1f} us"
                    f"  rss +{b['rss_mib']:6.1f} MiB")
            if ours:
                a = _child(ours, target, addresses)
                ratio = a["load_ms"] / max(b["load_ms"], 1e-3)
                line += (f" | {ours}: load {a['load_ms']:8.1f} ms  lookup {a['lookup_us']:7.1f} us"
                         f"  rss +{a['rss_mib']:6.1f} MiB | load ratio {ratio:.2f}x")
            print(line, flush=True)
        if sym_path:
            os.unlink(sym_path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
