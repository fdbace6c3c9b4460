"""dumpkit: read crash dumps (Windows minidumps and kernel dumps, Linux cores and vmcores).

    import dumpkit
    with dumpkit.open("crash.dmp") as dump:
        print(dump.crash, dump.threads[0].registers)

``open`` detects the format by magic and returns a :class:`dumpkit.model.Dump`.
"""
from __future__ import annotations

import importlib
import os

from dumpkit import gc_pause
from dumpkit.detect import FORMATS, detect
from dumpkit.errors import DumpkitError, UnknownFormatError
from dumpkit.model import Dump

__all__ = ["Dump", "DumpkitError", "__version__", "detect", "open"]
__version__ = "0.1.0"


def open(path: str | os.PathLike[str]) -> Dump:
    """Read the dump at ``path`` into the model. Raises only :class:`DumpkitError`."""
    fmt = detect(path)
    module_name = FORMATS[fmt]
    try:
        reader = importlib.import_module(f"dumpkit.readers.{module_name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"dumpkit.readers.{module_name}":
            raise
        raise UnknownFormatError(f"{fmt} files are recognised but not readable yet",
                                 path=os.fspath(path), structure="magic", offset=0,
                                 code="unsupported_format") from exc
    with gc_pause.paused():
        dump: Dump = reader.read(os.fspath(path))
    return dump
