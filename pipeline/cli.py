"""The ``dumpkit`` command line.

    dumpkit inspect FILE...       print the validated document of each dump
    dumpkit validate DOC.json...  check documents against the schemas
    dumpkit schema [--kind K]     print a JSON Schema
    dumpkit shrink IN -o OUT.dmp  write a small minidump of a big dump (dumpkit.converters)
    dumpkit normalize ARCHIVE... --out DIR   a whole crash archive: documents, NDJSON, report
                                  (pipeline/batch/run.py, luigi tasks in pipeline/batch/tasks.py)

This is the one module that knows both the pipeline and the converters, and the one place of
the exit codes; the options, their help and size parsing are in :mod:`.cli_options`. Exit
status: 0 success; 1 a dump was unreadable (its error document is printed), a document is
invalid or a shrink failed; 2 usage or environment error; 130 interrupted. Heavy imports
(jsonschema, the parsers, luigi) happen only in the commands that need them.
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import sys
from collections.abc import Sequence
from typing import Any, NoReturn

from dumpkit.pipeline import cli_options
from dumpkit.pipeline.cli_options import format_size, symbol_config

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_UNREADABLE", "EXIT_USAGE", "build_parser", "main",
           "roundtrip_differences"]

EXIT_OK = 0  # every dump read, every document valid
EXIT_UNREADABLE = 1  # some input unreadable (its error document says why), invalid, or not shrinkable
EXIT_USAGE = 2  # bad arguments or environment: missing files, no scheduler, a batch task failed
EXIT_INTERRUPTED = 130  # Ctrl-C: a batch resumes when run again


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
        config = symbol_config(args)
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
    from dumpkit.pipeline.inputs.limits import Limits

    try:
        symbols = symbol_config(args)
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


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The argument parser of every command (or of the command ``only``), bound to the
    commands here."""
    return cli_options.build_parser({"inspect": cmd_inspect, "validate": cmd_validate, "schema": cmd_schema,
                                     "shrink": cmd_shrink, "normalize": cmd_normalize}, only)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # the first word that is not an option names the command (the top level has only options
    # without values); a known one gets a parser of that command alone
    command = next((word for word in argv if not word.startswith("-")), None)
    parser = build_parser(command if command in cli_options.SUBPARSERS else None)
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


def run() -> NoReturn:
    """The ``dumpkit`` command and ``python -m dumpkit``: :func:`main`, then the process's exit.

    Before exiting, every object still alive goes to the collector's permanent generation
    (``gc.freeze``): the interpreter's last full collection then has nothing to walk, which
    was most of its teardown (~15 ms of a ~140 ms ``inspect``). Only garbage in reference
    cycles loses its finalizers by this, and dumpkit closes what it opens before ``main``
    returns."""
    code = main()
    gc.freeze()
    sys.exit(code)
