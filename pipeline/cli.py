"""The ``dumpkit`` command line.

    dumpkit inspect FILE...       print the validated document of each dump
    dumpkit validate DOC.json...  check documents against the schemas
    dumpkit schema [--kind K]     print a JSON Schema
    dumpkit shrink IN -o OUT.dmp  write a small minidump of a big dump (dumpkit.converters)
    dumpkit normalize ARCHIVE... --out DIR   a whole crash archive: documents, NDJSON, report
                                  (pipeline/batch/run.py, luigi tasks in pipeline/batch/tasks.py)

This is the one module that knows both the pipeline and the converters, the one place of the
exit codes and of size parsing. Exit status: 0 success; 1 a dump was unreadable (its error
document is printed), a document is invalid or a shrink failed; 2 usage or environment error;
130 interrupted. Heavy imports (jsonschema, the parsers, luigi) happen only in the commands
that need them.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from dumpkit.pipeline.inputs.limits import Limits

if TYPE_CHECKING:  # symbols are imported only by the commands that walk stacks
    from dumpkit.symbols.config import SymbolConfig

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNREADABLE", "EXIT_USAGE", "format_size", "main",
           "parse_size", "roundtrip_differences"]

EXIT_OK = 0  # every dump read, every document valid
EXIT_UNREADABLE = 1  # some input unreadable (its error document says why), invalid, or not shrinkable
EXIT_USAGE = 2  # bad arguments or environment: missing files, no scheduler, a batch task failed
EXIT_INTERRUPTED = 130  # Ctrl-C: a batch resumes when run again

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


def roundtrip_differences(in_path: str | os.PathLike[str], out_path: str | os.PathLike[str]) -> list[str]:
    """Normalize a shrunk minidump and its source and compare what triage needs
    (``dumpkit.converters.compare_documents``); ``[]`` when the round trip holds."""
    from dumpkit.converters import compare_documents
    from dumpkit.pipeline.document.normalize import document_for

    return compare_documents(document_for(os.fspath(in_path)), document_for(os.fspath(out_path)))


def _dump_json(doc: Any, compact: bool) -> str:
    if compact:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(doc, indent=2, ensure_ascii=False)


def cmd_inspect(args: argparse.Namespace) -> int:
    from dumpkit.pipeline.document.normalize import document_for, file_sha256

    status = EXIT_OK
    try:
        config = _symbol_config(args)
    except ValueError as exc:
        print(f"dumpkit inspect: {exc}", file=sys.stderr)
        return EXIT_USAGE
    store = None
    if config.enabled or args.offline or args.symbol_cache is not None:
        from dumpkit.symbols.store import SymbolStore

        store = SymbolStore.from_config(config)
    for path in args.files:
        if not os.path.isfile(path):
            print(f"dumpkit inspect: {path}: no such file", file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        digest = file_sha256(path) if args.sha256 else None
        doc = document_for(path, sha256=digest, symbols=store)
        if args.text:
            from dumpkit.pipeline.document.text_view import render

            print(render(doc))
        else:
            print(_dump_json(doc, args.compact))
        if doc["kind"] == "error":
            err = doc["error"]
            print(f"dumpkit inspect: {path}: {err['message']} [{err['code']}]", file=sys.stderr)
            status = max(status, EXIT_UNREADABLE)
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    from dumpkit.pipeline.document.validate import DocumentInvalid, validate

    status = EXIT_OK
    for path in args.documents:
        try:
            with open(path, encoding="utf-8") as fh:
                text = fh.read()
            if path.endswith(".ndjson"):
                docs = [json.loads(line) for line in text.splitlines() if line.strip()]
            else:
                docs = [json.loads(text)]
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}", file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            print(f"{path}: not JSON: {exc}", file=sys.stderr)
            status = max(status, EXIT_UNREADABLE)
            continue
        bad = 0
        for index, doc in enumerate(docs):
            try:
                validate(doc)
            except DocumentInvalid as exc:
                bad += 1
                where = f"{path}:{index + 1}" if len(docs) > 1 else path
                for line in exc.errors:
                    print(f"{where}: {line}", file=sys.stderr)
        if bad:
            status = max(status, EXIT_UNREADABLE)
        elif not args.quiet:
            print(f"{path}: valid ({len(docs)} document{'s' if len(docs) != 1 else ''})")
    return status


def cmd_schema(args: argparse.Namespace) -> int:
    from dumpkit.pipeline.document.validate import load_schema

    try:
        schema = load_schema(args.kind, args.schema_version)
    except KeyError as exc:
        print(f"dumpkit schema: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def cmd_shrink(args: argparse.Namespace) -> int:
    from dumpkit.converters import ShrinkError, ShrinkOptions, shrink_file
    from dumpkit.errors import DumpkitError

    if not os.path.isfile(args.input):
        print(f"dumpkit shrink: {args.input}: no such file", file=sys.stderr)
        return EXIT_USAGE
    options = ShrinkOptions(max_size=args.max_size, other_stacks=not args.no_stacks_of_other_threads,
                            include_environ=args.include_environ)
    try:
        report = shrink_file(args.input, args.output, options)
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


def cmd_normalize(args: argparse.Namespace) -> int:
    from dumpkit.pipeline.batch.run import BatchError, BatchOptions, run_batch

    try:
        symbols = _symbol_config(args)
    except ValueError as exc:
        print(f"dumpkit normalize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    options = BatchOptions(
        inputs=args.inputs, out=args.out, workers=args.workers,
        shrink_max_size=args.shrink_max_size if args.shrink else 0,
        scheduler_host=args.scheduler_host, scheduler_port=args.scheduler_port,
        limits=Limits(max_member_size=args.max_member_size, max_ratio=args.max_ratio,
                      max_depth=args.max_depth),
        chunk_size=args.chunk_size, rescan=args.rescan, quiet=args.quiet, symbols=symbols)
    try:
        totals = run_batch(options)
    except BatchError as exc:
        print(f"dumpkit normalize: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("dumpkit normalize: interrupted; run the same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_UNREADABLE if totals["errors"] else EXIT_OK


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
    :func:`_symbol_config` turns them into a ``SymbolConfig``."""
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


def _symbol_config(args: argparse.Namespace) -> SymbolConfig:
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


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every command (argparse only: building it imports nothing heavy)."""
    parser = argparse.ArgumentParser(prog="dumpkit", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    from dumpkit import __version__

    parser.add_argument("--version", action="version", version=f"dumpkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("inspect", help="print the normalized, validated document of dumps",
                       description="Read each dump and print its validated JSON document. An "
                                   "unreadable file prints an error document and exits 1.")
    p.add_argument("files", nargs="+", metavar="FILE", help="dump files (any supported format)")
    p.add_argument("--compact", action="store_true", help="one line per document (NDJSON)")
    p.add_argument("--sha256", action="store_true",
                   help="fill source.sha256 (reads the whole file; off by default for big dumps)")
    _add_symbol_arguments(p)
    p.add_argument("--text", action="store_true",
                   help="a short human summary (crash, signature, crashing stack, modules)")
    p.set_defaults(func=cmd_inspect)

    p = sub.add_parser("validate", help="check JSON documents against the dumpkit schemas",
                       description="Validate .json documents (or .ndjson files, one document a "
                                   "line) against the schema their 'kind' names.")
    p.add_argument("documents", nargs="+", metavar="DOC", help=".json or .ndjson files")
    p.add_argument("-q", "--quiet", action="store_true", help="print only problems")
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("schema", help="print a JSON Schema of dumpkit's documents")
    p.add_argument("--kind", choices=["dump", "error", "report"], default="dump",
                   help="which document kind (default: dump)")
    p.add_argument("--schema-version", type=int, default=None, metavar="N",
                   help="an older schema version (default: the current one)")
    p.set_defaults(func=cmd_schema)

    _add_shrink_parser(sub).set_defaults(func=cmd_shrink)

    p = sub.add_parser("normalize", help="normalize a whole crash archive (luigi batch, resumable)",
                       description="Find every dump in the inputs (directories and gz/bz2/xz/zst/zip/tar "
                                   "containers, nested), write one validated document per dump (or an "
                                   "error document), dumps.ndjson, report.json and report.html under "
                                   "DIR. Rerun the same command to resume. Exit 0 all read, 1 some "
                                   "files unreadable, 2 usage or environment error.")
    _add_normalize_arguments(p)
    _add_symbol_arguments(p)
    p.set_defaults(func=cmd_normalize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    if not getattr(args, "func", None):
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        result: int = args.func(args)
        return result
    except BrokenPipeError:
        return EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
