"""``dumpkit shrink IN -o OUT.dmp``: the command's arguments and its run (called from pipeline/cli.py).

Importing this module is cheap (argparse only); the readers and the writer are imported when
the command runs.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

__all__ = ["add_parser", "format_size", "parse_size", "run"]

EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2
_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30}


def parse_size(text: str) -> int:
    """"1M", "512K", "1.5MiB", "4096" -> bytes (binary units); argparse type."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 1M, 512K, 65536)")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def format_size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def add_parser(sub: Any) -> argparse.ArgumentParser:
    """Add the ``shrink`` sub-command to ``sub`` (an argparse subparsers object)."""
    p: argparse.ArgumentParser = sub.add_parser(
        "shrink", help="write a small minidump of a big dump (full-memory MDMP, ELF core, kernel dump)",
        description="Write a standard minidump (MDMP) holding what crash triage needs: system info, "
                    "threads with registers, modules with their build ids / PDB ids, the crash, "
                    "and memory for the crashing thread's stack first, then other stacks, code "
                    "around each instruction pointer and module headers, within --max-size. "
                    "Exit 0 ok, 1 unreadable or unsupported input or failed --verify, 2 usage.")
    p.add_argument("input", metavar="IN", help="dump to shrink")
    p.add_argument("-o", "--output", required=True, metavar="OUT.dmp", help="minidump to write")
    p.add_argument("--max-size", type=parse_size, default=1 << 20, metavar="N",
                   help="largest output file, e.g. 1M (default), 512K, 4M")
    p.add_argument("--no-stacks-of-other-threads", action="store_true",
                   help="keep only the crashing thread's stack")
    p.add_argument("--include-environ", action="store_true",
                   help="copy the process environment when the source has it (may hold secrets)")
    p.add_argument("--verify", action="store_true",
                   help="re-read OUT and check that it tells the same crash, threads and modules")
    return p


def run(args: argparse.Namespace) -> int:
    from dumpkit.converters.roundtrip import roundtrip_differences
    from dumpkit.converters.shrink import ShrinkError, ShrinkOptions, shrink
    from dumpkit.errors import DumpkitError

    if not os.path.isfile(args.input):
        print(f"dumpkit shrink: {args.input}: no such file", file=sys.stderr)
        return EXIT_USAGE
    options = ShrinkOptions(max_size=args.max_size, other_stacks=not args.no_stacks_of_other_threads,
                            include_environ=args.include_environ)
    try:
        report = shrink(args.input, args.output, options)
    except ShrinkError as exc:
        print(f"dumpkit shrink: {exc} [{exc.code}]", file=sys.stderr)
        return EXIT_USAGE if exc.code in ("budget_too_small", "same_file") else EXIT_UNREADABLE
    except DumpkitError as exc:
        print(f"dumpkit shrink: {exc} [{exc.code}]", file=sys.stderr)
        return EXIT_UNREADABLE
    except OSError as exc:
        print(f"dumpkit shrink: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    except Exception as exc:  # a bug of ours: one line, not a traceback (as `inspect` does)
        print(f"dumpkit shrink: {args.input}: internal error: {type(exc).__name__}: {exc} "
              "[internal_error]", file=sys.stderr)
        return EXIT_UNREADABLE
    out = report.output
    stack_bytes = sum(size for _, size in report.stacks.values())
    print(f"{args.input}: {report.input_format}, {format_size(report.input_size)} "
          f"({report.input_size} bytes)")
    print(f"{args.output}: minidump, {format_size(out.size)} ({out.size} bytes; max {args.max_size})")
    print(f"  threads: {report.threads}, with stack bytes: {len(report.stacks)} ({format_size(stack_bytes)})")
    print(f"  modules: {report.modules}")
    print(f"  memory: {out.memory_ranges} ranges, {format_size(out.memory_bytes)}"
          + "".join(f"; {kind} {format_size(n)}" for kind, n in report.kept.items()))
    print(f"  streams: {', '.join(out.streams)}")
    if report.truncated:
        print(f"  cut for room: {', '.join(report.truncated)}")
    if out.zero_filled:
        print(f"  warning: {out.zero_filled} bytes the source did not give were written as zeros")
    if args.verify:
        differences = roundtrip_differences(args.input, args.output)
        if differences:
            print("  verify: FAILED", file=sys.stderr)
            for line in differences:
                print(f"    {line}", file=sys.stderr)
            return EXIT_UNREADABLE
        print("  verify: same crash, threads, registers, modules and system as the input")
    return EXIT_OK
