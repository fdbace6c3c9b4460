"""The ``dumpkit`` command line's grammar: its sub-commands, their options and help, the one
size parser of every option, and the symbol options turned into a ``SymbolConfig``.

The commands themselves (and the exit codes) are in :mod:`dumpkit.pipeline.cli`, which hands
them to :func:`build_parser`. Only argparse is imported here.
"""
from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # symbols are imported only by the commands that walk stacks
    from dumpkit.symbols.config import SymbolConfig

__all__ = ["DESCRIPTION", "CommandParser", "DescriptionFormatter", "HelpFormatter", "build_parser",
           "format_size", "parse_size", "symbol_config", "terminal_columns"]

DESCRIPTION = """\
dumpkit turns crash dumps into validated JSON documents.

Reads Windows user-mode minidumps (MDMP), Windows kernel crash dumps (PAGEDUMP/PAGEDU64),
Linux ELF process cores and kernel vmcores. The format is detected from the file's
first bytes, not its name.

examples:
  dumpkit inspect crash.dmp             # pretty-printed document
  dumpkit inspect --compact *.dmp       # one JSON line per dump (NDJSON)
  dumpkit inspect --sha256 core.1234    # also hash the file (reads it whole)
  dumpkit inspect --text --symbols syms/ crash.dmp   # human summary, symbolized stack
  dumpkit validate out/*.json           # check documents against the schema
  dumpkit schema > dump.schema.json
  dumpkit shrink core.1234 -o small.dmp --max-size 1M --verify
"""


def terminal_columns() -> int:
    """``shutil.get_terminal_size().columns``: ``$COLUMNS``, else the width of the terminal on
    stdout, else 80."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns if columns > 0 else 80


class HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, the terminal measured by :func:`terminal_columns`: argparse
    builds a formatter for every argument added, and its own measure imports ``shutil`` (with
    ``bz2``, ``lzma`` and ``fnmatch``, ~2 ms a run) for that alone."""

    def __init__(self, prog: str, indent_increment: int = 2, max_help_position: int = 24,
                 width: int | None = None) -> None:
        super().__init__(prog, indent_increment, max_help_position,
                         terminal_columns() - 2 if width is None else width)


class DescriptionFormatter(HelpFormatter, argparse.RawDescriptionHelpFormatter):
    """:class:`HelpFormatter` keeping the description's own line breaks (the top-level help)."""


class CommandParser(argparse.ArgumentParser):
    """A sub-command's parser, laid out by :class:`HelpFormatter`."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", HelpFormatter)
        super().__init__(**kwargs)


_UNITS = {"": 1, "b": 1, "k": 1 << 10, "kb": 1 << 10, "kib": 1 << 10, "m": 1 << 20, "mb": 1 << 20,
          "mib": 1 << 20, "g": 1 << 30, "gb": 1 << 30, "gib": 1 << 30, "t": 1 << 40, "tb": 1 << 40,
          "tib": 1 << 40}


def parse_size(text: str) -> int:
    """``"1M"``, ``"512K"``, ``"1.5MiB"``, ``"64G"``, ``"4096"`` -> bytes (binary units, any
    case); the one size parser of every option. An argparse ``type``."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*", text)
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 1M, 512K, 64G, 65536)")
    value = int(float(match.group(1)) * _UNITS[unit])
    if value <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return value


def format_size(n: int) -> str:
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def _add_shrink_parser(sub: Any) -> argparse.ArgumentParser:
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


def _add_normalize_arguments(p: argparse.ArgumentParser) -> None:
    from dumpkit.pipeline.inputs.limits import Limits  # the batch's: not loaded by the other commands

    p.add_argument("inputs", nargs="+", metavar="ARCHIVE",
                   help="dump files, directories, or containers (gz, bz2, xz, zst, zip, tar.*), nested")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created; reruns resume)")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="parallel tasks on this machine")
    p.add_argument("--shrink", action="store_true",
                   help="also write a reduced minidump of each dump to DIR/minidumps/<sha256>.dmp")
    p.add_argument("--shrink-max-size", type=parse_size, default=1 << 20, metavar="SIZE",
                   help="largest reduced minidump, e.g. 1M (default), 512K")
    p.add_argument("--scheduler-host", metavar="H",
                   help="use the central luigid at H (workers on many machines share it and DIR)")
    p.add_argument("--scheduler-port", type=int, default=8082, metavar="P", help="luigid port (default 8082)")
    p.add_argument("--max-member-size", type=parse_size, default=Limits.max_member_size, metavar="SIZE",
                   help="largest archive member to expand, e.g. 64G (default)")
    p.add_argument("--max-ratio", type=int, default=Limits.max_ratio, metavar="N",
                   help=f"stop expanding an input past N times its size (default {Limits.max_ratio})")
    p.add_argument("--max-depth", type=int, default=Limits.max_depth, metavar="N",
                   help=f"containers inside containers (default {Limits.max_depth})")
    p.add_argument("--chunk-size", type=int, default=0, metavar="N",
                   help="dumps per task (default: automatic)")
    p.add_argument("--rescan", action="store_true",
                   help="walk and expand the inputs again even if this batch was discovered before")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line and no summary")


def _add_symbol_arguments(parser: argparse.ArgumentParser) -> None:
    """The symbol source options (``dumpkit.symbols``), shared by the commands that walk stacks;
    :func:`symbol_config` turns them into a ``SymbolConfig``."""
    group = parser.add_argument_group(
        "symbols", "where symbol files come from, tried in this order: --symbols dirs, --sysroot, the "
                   "cache, --symbol-server, --debuginfod (the last two not with --offline)")
    group.add_argument("--symbols", metavar="DIR", action="append", default=[],
                       help="a symbol dir (repeatable): Breakpad NAME/ID/NAME.sym, Microsoft symstore "
                            "NAME.pdb/GUIDAGE/NAME.pdb (and .pd_), build-id .build-id/xx/rest.debug")
    group.add_argument("--symbol-server", metavar="URL", action="append", default=[],
                       help="an HTTP(S) symbol server in Breakpad or Microsoft layout (repeatable)")
    group.add_argument("--debuginfod", metavar="URL", action="append", default=None,
                       help="a debuginfod server (repeatable; default: $DEBUGINFOD_URLS)")
    group.add_argument("--symbol-cache", metavar="DIR", default=None,
                       help="where fetched symbol files are kept (default: $XDG_CACHE_HOME/dumpkit/symbols)")
    group.add_argument("--offline", action="store_true",
                       help="no network: symbol dirs, the sysroot and the cache only")
    group.add_argument("--sysroot", metavar="DIR", default=None,
                       help="the target's files under their absolute paths (ELF symbols, DWARF CFI)")
    group.add_argument("--symbol-timeout", metavar="SECONDS", type=float, default=None,
                       help="a server that connects or sends nothing for this long is given up on "
                            "(default 10; each request is tried 3 times)")
    group.add_argument("--symbol-max-download", metavar="SIZE", type=parse_size, default=None,
                       help="largest symbol file fetched or expanded, e.g. 2G (default 512M)")


def symbol_config(args: argparse.Namespace) -> SymbolConfig:
    """The ``SymbolConfig`` of :func:`_add_symbol_arguments`' options; ``ValueError`` with a
    one-line message for a missing directory or a bad URL."""
    from dumpkit.symbols.config import SymbolConfig

    for option, folder in [*(("--symbols", d) for d in args.symbols), ("--sysroot", args.sysroot)]:
        if folder is not None and not os.path.isdir(folder):
            raise ValueError(f"{option} {folder}: no such directory")
    if args.symbol_cache is not None and os.path.exists(args.symbol_cache) \
            and not os.path.isdir(args.symbol_cache):
        raise ValueError(f"--symbol-cache {args.symbol_cache}: not a directory")
    if args.symbol_timeout is not None and not 0 < args.symbol_timeout < float("inf"):
        raise ValueError(f"--symbol-timeout {args.symbol_timeout:g}: not a positive number of seconds")
    return SymbolConfig.from_options(symbols=args.symbols, symbol_servers=args.symbol_server,
                                     debuginfod=args.debuginfod, symbol_cache=args.symbol_cache,
                                     offline=args.offline, sysroot=args.sysroot,
                                     timeout=args.symbol_timeout, max_download=args.symbol_max_download)


def _add_inspect_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "inspect", help="print the normalized, validated document of dumps",
        description="Read each dump and print its validated JSON document. An unreadable file "
                    "prints an error document and exits 1.")
    p.add_argument("files", nargs="+", metavar="FILE", help="dump files (any supported format)")
    p.add_argument("--compact", action="store_true", help="one line per document (NDJSON)")
    p.add_argument("--sha256", action="store_true",
                   help="fill source.sha256 (reads the whole file; off by default for big dumps)")
    _add_symbol_arguments(p)
    p.add_argument("--text", action="store_true",
                   help="a short human summary (crash, signature, crashing stack, modules)")
    return p


def _add_validate_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "validate", help="check JSON documents against the dumpkit schemas",
        description="Validate .json documents (or .ndjson files, one document a line) against the "
                    "schema their 'kind' names.")
    p.add_argument("documents", nargs="+", metavar="DOC", help=".json or .ndjson files")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    return p


def _add_schema_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser("schema", help="print a JSON Schema of dumpkit's documents")
    p.add_argument("--kind", choices=["dump", "error", "report"], default="dump",
                   help="which document kind (default: dump)")
    p.add_argument("--schema-version", type=int, default=None, metavar="N",
                   help="an older schema version (default: the current one)")
    return p


def _add_normalize_parser(sub: Any) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        "normalize", help="normalize a whole crash archive (luigi batch, resumable)",
        description="Find every dump in the inputs (directories and gz/bz2/xz/zst/zip/tar containers, "
                    "nested), write one validated document per dump (or an error document), "
                    "dumps.ndjson, report.json and report.html under DIR. Rerun the same command to "
                    "resume. Exit 0 all read, 1 some files unreadable, 2 usage or environment error.")
    _add_normalize_arguments(p)
    _add_symbol_arguments(p)
    return p


#: each command's sub-parser, in the order ``dumpkit --help`` lists them
SUBPARSERS: dict[str, Callable[[Any], argparse.ArgumentParser]] = {
    "inspect": _add_inspect_parser, "validate": _add_validate_parser, "schema": _add_schema_parser,
    "shrink": _add_shrink_parser, "normalize": _add_normalize_parser,
}


def build_parser(commands: Mapping[str, Callable[[argparse.Namespace], int]],
                 only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every command, each sub-command bound to ``commands[name]``
    (argparse only: building it imports nothing heavy). With ``only`` (a command's name), the
    parser has that sub-command alone: all a run of it parses, and argparse formats each
    argument as it is added (~2 ms for the other four)."""
    parser = argparse.ArgumentParser(prog="dumpkit", description=DESCRIPTION,
                                     formatter_class=DescriptionFormatter)
    from dumpkit import __version__

    parser.add_argument("--version", action="version", version=f"dumpkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=CommandParser)
    for name, add in SUBPARSERS.items():
        if only in (None, name):
            add(sub).set_defaults(func=commands[name])
    return parser
