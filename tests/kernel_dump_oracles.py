"""Outside readers of Windows kernel dumps, for agreement tests (docs/practices.md §10).

* kdmp-parser (PyPI ``kdmp-parser``, C++ parser with Python bindings): 64-bit headers,
  DumpType 1/2/5/6/8/9/0xA physical pages, x64 translation. It rejects triage dumps and
  32-bit headers. Its high-level ``KernelDumpParser`` wrapper fails on DumpType enum
  conversion in 0.7.4, so the raw ``_kdmp_parser`` class is used.
* volatility3 crash layers: 32- and 64-bit headers, DumpType 1 and 5 physical pages;
  ``IntelPAE`` / ``Intel32e`` for translation.
"""
from __future__ import annotations

import contextlib
import io
import os
from typing import Any

__all__ = ["kdmp_open", "vol_open", "vol_translator"]


def kdmp_open(path: str) -> Any | None:
    """A parsed kdmp-parser object, or None when it rejects the file (it prints to stdout)."""
    from kdmp_parser import _kdmp_parser as k

    parser = k.KernelDumpParser()
    with contextlib.redirect_stdout(io.StringIO()):
        ok = parser.Parse(os.fspath(path))
    return parser if ok else None


def vol_open(path: str, is64: bool) -> tuple[Any, Any]:
    """(context, crash layer) of volatility3 over ``path``."""
    from volatility3.framework import contexts
    from volatility3.framework.layers import crash, physical

    ctx = contexts.Context()
    ctx.config["file.location"] = "file://" + os.path.abspath(path)
    ctx.layers.add_layer(physical.FileLayer(ctx, "file", "file"))
    ctx.config["crash.base_layer"] = "file"
    cls = crash.WindowsCrashDump64Layer if is64 else crash.WindowsCrashDump32Layer
    layer = cls(ctx, "crash", "crash")
    ctx.layers.add_layer(layer)
    return ctx, layer


def vol_translator(ctx: Any, dtb: int, pae: bool) -> Any:
    """A volatility3 Intel translation layer over the crash layer."""
    from volatility3.framework.layers import intel

    ctx.config["virt.memory_layer"] = "crash"
    ctx.config["virt.page_map_offset"] = dtb
    cls = intel.IntelPAE if pae else intel.Intel32e
    return cls(ctx, "virt", "virt")
