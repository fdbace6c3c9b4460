"""The ``dumpkit`` command line.

    dumpkit inspect FILE...       print the validated document of each dump
    dumpkit validate DOC.json...  check documents against the schemas
    dumpkit schema [--kind K]     print a JSON Schema
    dumpkit shrink IN -o OUT.dmp  write a small minidump of a big dump (converters/shrink_cli.py)
    dumpkit normalize ARCHIVE... --out DIR   a whole crash archive: documents, NDJSON, report
                                  (pipeline/batch.py, luigi tasks in pipeline/tasks.py)

Exit status: 0 success; 1 a dump was unreadable (its error document is printed) or a
document is invalid; 2 usage or environment error. Heavy imports (jsonschema, the
parsers) happen only in the commands that need them.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main"]

EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE = 0, 1, 2

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


def _dump_json(doc: Any, compact: bool) -> str:
    if compact:
        return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    return json.dumps(doc, indent=2, ensure_ascii=False)


def cmd_inspect(args: argparse.Namespace) -> int:
    from pipeline.normalize import document_for, file_sha256

    status = EXIT_OK
    store = None
    for option in ("symbols", "sysroot"):
        folder = getattr(args, option, None)
        if folder is not None and not os.path.isdir(folder):
            print(f"dumpkit inspect: --{option} {folder}: no such directory", file=sys.stderr)
            return EXIT_USAGE
    if args.symbols or args.sysroot:
        from dumpkit.unwind import SymbolStore

        store = SymbolStore(args.symbols, args.sysroot)
    for path in args.files:
        if not os.path.isfile(path):
            print(f"dumpkit inspect: {path}: no such file", file=sys.stderr)
            status = max(status, EXIT_USAGE)
            continue
        digest = file_sha256(path) if args.sha256 else None
        doc = document_for(path, sha256=digest, symbols=store)
        if args.text:
            from pipeline.text_view import render

            print(render(doc))
        else:
            print(_dump_json(doc, args.compact))
        if doc["kind"] == "error":
            err = doc["error"]
            print(f"dumpkit inspect: {path}: {err['message']} [{err['code']}]", file=sys.stderr)
            status = max(status, EXIT_UNREADABLE)
    return status


def cmd_validate(args: argparse.Namespace) -> int:
    from pipeline.validate import DocumentInvalid, validate

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
    from pipeline.validate import load_schema

    try:
        schema = load_schema(args.kind, args.schema_version)
    except KeyError as exc:
        print(f"dumpkit schema: {exc.args[0]}", file=sys.stderr)
        return EXIT_USAGE
    print(json.dumps(schema, indent=2))
    return EXIT_OK


def cmd_shrink(args: argparse.Namespace) -> int:
    from converters.shrink_cli import run

    return run(args)


def cmd_normalize(args: argparse.Namespace) -> int:
    from pipeline.batch import run

    return run(args)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; given the ``command`` about to run, other commands' options are left out.

    (``normalize``'s options live with the batch code, whose import ``inspect`` should not pay.)
    """
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
    p.add_argument("--symbols", metavar="DIR", default=None,
                   help="Breakpad symbols: DIR/NAME/DEBUG_ID/NAME.sym (function names, CFI)")
    p.add_argument("--sysroot", metavar="DIR", default=None,
                   help="the target's files under their absolute paths (ELF symbols, DWARF CFI)")
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

    from converters.shrink_cli import add_parser as add_shrink_parser  # argparse only: cheap

    add_shrink_parser(sub).set_defaults(func=cmd_shrink)

    p = sub.add_parser("normalize", help="normalize a whole crash archive (luigi batch, resumable)",
                       description="Find every dump in the inputs (directories and gz/bz2/xz/zst/zip/tar "
                                   "containers, nested), write one validated document per dump (or an "
                                   "error document), dumps.ndjson, report.json and report.html under "
                                   "DIR. Rerun the same command to resume. Exit 0 all read, 1 some "
                                   "files unreadable, 2 usage or environment error.")
    if command in (None, "normalize"):
        from pipeline.batch import add_arguments as add_normalize_arguments

        add_normalize_arguments(p)
    p.set_defaults(func=cmd_normalize)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args_in = sys.argv[1:] if argv is None else list(argv)
    command = next((a for a in args_in if not a.startswith("-")), None)
    parser = build_parser(command)
    try:
        args = parser.parse_args(args_in)
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
        return 130
